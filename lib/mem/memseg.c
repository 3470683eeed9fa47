/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memseg table, its lookups and walks, the memory lock and the event registry. Writers
 * (start-up, hp_mem_grow, cleanup: init.c) are serialised by init.c's grow_lock and change the
 * layout only under the write side of mem_lock; the release store of mem_nlists pairs with
 * the acquire loads in every lock-free reader (list_of, walks, reserved). Event callbacks run
 * under mem_lock (write) and ev_lock: lock levels 7 and 8, doc/architecture.md.
 */
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "util.h"
#include "mem_reserve.h"

struct mem_list *mem_lists[MEM_MAX_LISTS];
_Atomic unsigned mem_nlists;

static pthread_rwlock_t mem_lock = PTHREAD_RWLOCK_INITIALIZER; /* glibc: readers may nest */

/* ---- Lock and events ------------------------------------------------------------------------ */

HP_API void hp_mem_lock_read(void)
{
	pthread_rwlock_rdlock(&mem_lock);
}

HP_API void hp_mem_unlock_read(void)
{
	pthread_rwlock_unlock(&mem_lock);
}

void mem_lock_write(void)
{
	pthread_rwlock_wrlock(&mem_lock);
}

void mem_unlock_write(void)
{
	pthread_rwlock_unlock(&mem_lock);
}

#define MAX_SUBSCRIBERS 32

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[32];
	hp_mem_event_cb_t cb;
	void *arg;
} subs[MAX_SUBSCRIBERS];

HP_API int hp_mem_event_register(const char *name, hp_mem_event_cb_t cb, void *arg)
{
	int i, slot = -1, rc = 0;

	if (!name || !name[0] || strlen(name) >= sizeof(subs[0].name) || !cb)
		return hp_fail(-EINVAL,
			       "hp_mem_event_register: give a name of 1-31 characters and a "
			       "callback");
	pthread_mutex_lock(&ev_lock);
	for (i = 0; i < MAX_SUBSCRIBERS; i++) {
		if (subs[i].cb && !strcmp(subs[i].name, name))
			rc =
			    hp_fail(-EEXIST,
				    "memory event subscriber '%s' exists; pick another name", name);
		if (!subs[i].cb && slot < 0)
			slot = i;
	}
	if (!rc && slot < 0)
		rc = hp_fail(-ENOSPC,
			     "all %d memory event subscriber slots are taken; unregister one",
			     MAX_SUBSCRIBERS);
	if (!rc) {
		snprintf(subs[slot].name, sizeof(subs[slot].name), "%s", name);
		subs[slot].arg = arg;
		subs[slot].cb = cb;
	}
	pthread_mutex_unlock(&ev_lock);
	return rc;
}

HP_API int hp_mem_event_unregister(const char *name)
{
	int i, rc = -ENOENT;

	if (!name)
		return hp_fail(-EINVAL,
			       "hp_mem_event_unregister: name is NULL; pass the name given "
			       "to hp_mem_event_register()");
	pthread_mutex_lock(&ev_lock);
	for (i = 0; i < MAX_SUBSCRIBERS; i++)
		if (subs[i].cb && !strcmp(subs[i].name, name)) {
			subs[i].cb = NULL;
			rc = 0;
		}
	pthread_mutex_unlock(&ev_lock);
	if (rc)
		return hp_fail(rc, "no memory event subscriber named '%s'", name);
	return 0;
}

void mem_event_fire(enum hp_mem_event ev, const void *va, size_t len)
{
	int i;

	pthread_mutex_lock(&ev_lock);
	for (i = 0; i < MAX_SUBSCRIBERS; i++)
		if (subs[i].cb)
			subs[i].cb(ev, va, len, subs[i].arg);
	pthread_mutex_unlock(&ev_lock);
}

/* ---- Lookups (lock-free) -------------------------------------------------------------------- */

static unsigned nlists(void)
{
	return atomic_load_explicit(&mem_nlists, memory_order_acquire);
}

const struct mem_list *mem_list_of(const void *va)
{
	unsigned i, n = nlists();
	const char *p = va;

	for (i = 0; i < n; i++) {
		const struct mem_list *l = mem_lists[i];

		if (p >= (const char *)l->base && p < (const char *)l->base + l->len)
			return l;
	}
	return NULL;
}

static unsigned page_index(const struct mem_list *l, const void *va)
{
	return (unsigned)(((const char *)va - (const char *)l->base) / l->page_size);
}

bool mem_range_iova_contig(const void *va, size_t len)
{
	const struct mem_list *l = mem_list_of(va);
	unsigned i, last;

	if (!l || len > l->len - (size_t)((const char *)va - (const char *)l->base))
		return false;
	last = page_index(l, (const char *)va + (len ? len - 1 : 0));
	for (i = page_index(l, va); i < last; i++)
		if (l->pages[i + 1].iova != l->pages[i].iova + l->page_size)
			return false;
	return true;
}

HP_API uint64_t hp_mem_virt2iova(const void *va)
{
	const struct mem_list *l = mem_list_of(va);
	const struct hp_memseg *ms;

	if (!l)
		return HP_BAD_IOVA;
	ms = &l->pages[page_index(l, va)];
	if (ms->iova == HP_BAD_IOVA)
		return HP_BAD_IOVA; /* the page went back to the kernel */
	return ms->iova + (uint64_t)((const char *)va - (const char *)ms->va);
}

HP_API int hp_mem_node_of(const void *va)
{
	const struct mem_list *l;
	int node = -1;

	if (!va)
		return hp_fail(-EINVAL, "hp_mem_node_of: the address is NULL");
	l = mem_list_of(va);
	if (l)
		return l->node;
	if (get_mempolicy(&node, NULL, 0, (void *)va, MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return hp_fail(-EFAULT, "hp_mem_node_of(%p): not a mapped address of this process",
			       va);
	return node;
}

HP_API size_t hp_mem_reserved(int node)
{
	unsigned i, n = nlists();
	size_t sum = 0;

	for (i = 0; i < n; i++)
		if (node == HP_NODE_ANY || mem_lists[i]->node == node)
			sum += (size_t)atomic_load_explicit(&mem_lists[i]->n_present,
							    memory_order_relaxed) *
			       mem_lists[i]->page_size;
	return sum;
}

unsigned mem_total_pages(void)
{
	unsigned i, n = nlists(), sum = 0;

	for (i = 0; i < n; i++)
		sum += mem_lists[i]->n_pages;
	return sum;
}

/* ---- Walks ---------------------------------------------------------------------------------- */

/* The published lists in address order (insertion sort: there are at most 256). */
static unsigned sorted_lists(const struct mem_list *out[MEM_MAX_LISTS])
{
	unsigned i, j, n = nlists();

	for (i = 0; i < n; i++) {
		const struct mem_list *l = mem_lists[i];

		for (j = i; j > 0 && (char *)out[j - 1]->base > (char *)l->base; j--)
			out[j] = out[j - 1];
		out[j] = l;
	}
	return n;
}

HP_API int hp_memseg_walk(int (*fn)(const struct hp_memseg *ms, void *arg), void *arg)
{
	const struct mem_list *ls[MEM_MAX_LISTS];
	unsigned i, j, n;
	int rc;

	if (!fn)
		return hp_fail(-EINVAL, "hp_memseg_walk: callback is NULL; pass a function");
	n = sorted_lists(ls);

	for (i = 0; i < n; i++)
		for (j = 0; j < ls[i]->n_pages; j++) {
			if (ls[i]->pages[j].iova == HP_BAD_IOVA)
				continue; /* went back to the kernel */
			rc = fn(&ls[i]->pages[j], arg);
			if (rc)
				return rc;
		}
	return 0;
}

HP_API int hp_memseg_contig_walk(int (*fn)(const struct hp_memseg *run, void *arg), void *arg)
{
	const struct mem_list *ls[MEM_MAX_LISTS];
	unsigned i, j, m, n;
	int rc;

	if (!fn)
		return hp_fail(-EINVAL, "hp_memseg_contig_walk: callback is NULL; pass a function");
	n = sorted_lists(ls);

	for (i = 0; i < n; i++) {
		const struct mem_list *l = ls[i];

		for (j = 0; j < l->n_pages; j += m) {
			struct hp_memseg run = l->pages[j];

			m = 1;
			if (run.iova == HP_BAD_IOVA)
				continue; /* went back to the kernel */
			for (; j + m < l->n_pages &&
			       l->pages[j + m].iova == run.iova + (uint64_t)m * l->page_size;
			     m++)
				;
			run.len = (size_t)m * l->page_size;
			rc = fn(&run, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- Adding lists --------------------------------------------------------------------------- */

int mem_check_limit(const struct mem_cfg *cfg, int node, size_t len)
{
	size_t held = hp_mem_reserved(node);

	if (node < 0 || node >= HP_MAX_NUMA_NODES || !cfg->limit[node] ||
	    held + len <= cfg->limit[node])
		return 0;
	return hp_fail(-ENOMEM,
		       "node %d: %zu MiB more would pass its --socket-limit of %zu MiB (%zu MiB "
		       "held now); free memory on the node or raise the limit",
		       node, HP_ALIGN_UP(len, (size_t)1 << 20) >> 20, cfg->limit[node] >> 20,
		       held >> 20);
}

void mem_list_count_runs(struct mem_list *l)
{
	unsigned i, runs = 0;

	for (i = 0; i < l->n_pages; i++)
		if (l->pages[i].iova != HP_BAD_IOVA &&
		    (!i || l->pages[i - 1].iova == HP_BAD_IOVA ||
		     l->pages[i].iova != l->pages[i - 1].iova + l->page_size))
			runs++;
	l->n_runs = runs;
}

int mem_list_add(const struct mem_cfg *cfg, int node, size_t len, bool dynamic)
{
	struct mem_list *l = NULL;
	uint64_t t0;
	unsigned n;
	int rc;

	if (nlists() >= MEM_MAX_LISTS)
		return hp_fail(-ENOMEM,
			       "node %d: all %d memseg lists are in use; reserve more up front "
			       "with --socket-mem, in fewer, bigger pieces",
			       node, MEM_MAX_LISTS);
	rc = mem_check_limit(cfg, node, HP_ALIGN_UP(len, cfg->page_size));
	if (rc)
		return rc;
	t0 = util_now_ns();
	rc = mem_reserve(cfg, node, len, &l);
	if (rc)
		return rc;
	l->dynamic = dynamic;
	mem_lock_write();
	n = atomic_load_explicit(&mem_nlists, memory_order_relaxed);
	mem_lists[n] = l;
	atomic_store_explicit(&mem_nlists, n + 1, memory_order_release);
	mem_event_fire(HP_MEM_EVENT_ALLOC, l->base, l->len);
	mem_unlock_write();
	HP_LOG_I(
	    "node %d: %u pages of %zu KiB at %p in %u IOVA-contiguous run%s (IOVA %s), %.1f ms",
	    node, l->n_pages, l->page_size >> 10, l->base, l->n_runs, l->n_runs == 1 ? "" : "s",
	    cfg->mode == HP_IOVA_PA ? "PA" : "VA", (double)(util_now_ns() - t0) / 1e6);
	return 0;
}

/* ---- Removing lists ---------------------------------------------------------------------- */

void mem_lists_release(void)
{
	unsigned i, n;

	mem_lock_write();
	n = atomic_load_explicit(&mem_nlists, memory_order_relaxed);
	for (i = n; i-- > 0;)
		mem_event_fire(HP_MEM_EVENT_FREE, mem_lists[i]->base, mem_lists[i]->len);
	atomic_store_explicit(&mem_nlists, 0, memory_order_release);
	for (i = n; i-- > 0;) {
		mem_list_destroy(mem_lists[i]);
		mem_lists[i] = NULL;
	}
	mem_unlock_write();
}

void mem_lists_forget(void)
{
	unsigned i, n = atomic_load_explicit(&mem_nlists, memory_order_relaxed);

	mem_lock = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER;
	ev_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	memset(subs, 0, sizeof(subs));
	atomic_store_explicit(&mem_nlists, 0, memory_order_relaxed);
	for (i = 0; i < n; i++) {
		mem_lists[i]->base = NULL; /* not mapped here (MADV_DONTFORK): nothing to unmap */
		mem_list_destroy(mem_lists[i]);
		mem_lists[i] = NULL;
	}
}
