/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The allocator of runtime memory under memzones, the heap and mempool backends: one buddy
 * allocator (buddy.h) per memseg list ("arena"), so every block lies in one list and is a whole
 * number of 4 KiB units, aligned as asked without costing its alignment in memory. alloc_lock
 * guards arenas and their buddies (lock level 9, doc/architecture.md). hp_mem_grow() is called
 * with neither the memory lock nor alloc_lock held; its ALLOC event adds the new list here.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "eal/eal_internal.h"
#include "util.h"
#include "heap_internal.h"
#include "mem/mem_internal.h"

_Static_assert(MEM_RANGE_UNIT == BUDDY_UNIT, "the allocator's unit is the buddy's");

#define GROW_TRIES 4

struct arena {
	uintptr_t start, end;
	int node;
	bool used;
	unsigned page_order; /* buddy order of one page of the list */
	bool dynamic;	     /* free whole pages go back to the kernel (mem_give_back) */
	struct buddy b;
};

static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena arenas[MEM_MAX_LISTS];
/* slots [0, n_arenas) were ever used: slots fill from the first and empty only at reset */
static unsigned n_arenas;
/* allocations of a node between growing and taking: no giving back meanwhile (give_back()) */
static atomic_uint growing[HP_MAX_NUMA_NODES];

/*
 * The request of a thread that is growing a node: the ALLOC event of the growth runs in that
 * thread, under alloc_lock, and takes the block from the new pages there, before any other
 * thread can see them.
 */
struct grow_req {
	size_t len, align, skew;
	unsigned flags;
	uintptr_t p;
};
static __thread struct grow_req *my_req;
/* blocks handed out and not released, per node (under alloc_lock) */
static unsigned long n_allocs[HP_MAX_NUMA_NODES];
static atomic_bool ready;
/* free grown pages kept per node instead of going back (hp_init_opts.mem_keep_pages) */
static atomic_uint keep_pages = HP_MEM_KEEP_DEFAULT;

/* The arena holding [va, va + len), or NULL. Caller holds alloc_lock. */
static struct arena *arena_of(uintptr_t va, size_t len)
{
	for (unsigned i = 0; i < n_arenas; i++)
		if (arenas[i].used && va >= arenas[i].start && va + len <= arenas[i].end &&
		    va + len > va)
			return &arenas[i];
	return NULL;
}

/* Bytes in the largest free block of node. Caller holds alloc_lock. */
static size_t largest_free(int node)
{
	size_t best = 0;

	for (unsigned i = 0; i < n_arenas; i++) {
		const struct buddy *b = &arenas[i].b;

		if (!arenas[i].used || arenas[i].node != node)
			continue;
		for (unsigned k = b->max_order + 1; k-- > 0;)
			if (b->n_free[k]) {
				if ((BUDDY_UNIT << k) > best)
					best = BUDDY_UNIT << k;
				break;
			}
	}
	return best;
}

/* ---- fitting ---------------------------------------------------------------------------- */

/* The first p >= s with p + skew aligned to align (a power of two); 0 on overflow. */
static uintptr_t align_skewed(uintptr_t s, size_t align, size_t skew)
{
	uintptr_t p = HP_ALIGN_UP(s + skew, align) - skew;

	return p >= s ? p : 0;
}

/*
 * First p in [s, e) with p + skew aligned and [p, p + len) contiguous in IOVA, or 0; *best gets
 * the longest IOVA-contiguous piece of [s, e). Walks the list's pages once: runs break where
 * IOVA jumps.
 */
static uintptr_t fit_contig(uintptr_t s, uintptr_t e, size_t len, size_t align, size_t skew,
			    size_t *best)
{
	const struct mem_list *l = mem_list_of((const void *)s);
	uintptr_t base, rs;
	unsigned i;

	if (!l)
		return 0;
	base = (uintptr_t)l->base;
	i = (unsigned)((s - base) / l->page_size);
	rs = s;
	for (; i < l->n_pages && (uintptr_t)l->pages[i].va < e; i++) {
		uintptr_t pend = (uintptr_t)l->pages[i].va + l->page_size;
		uintptr_t re = pend < e ? pend : e;
		uintptr_t p = align_skewed(rs, align, skew);

		if (i + 1 < l->n_pages && (uintptr_t)l->pages[i + 1].va < e &&
		    l->pages[i + 1].iova == l->pages[i].iova + l->page_size)
			continue; /* the run goes on */
		if (re - rs > *best)
			*best = re - rs;
		if (p && p + len <= re && mem_range_iova_contig((void *)p, len))
			return p;
		rs = re;
	}
	return 0;
}

struct fit_arg {
	size_t skew;
	unsigned flags;
	size_t best; /* longest IOVA-contiguous piece seen */
};

static uintptr_t fit(uintptr_t s, uintptr_t e, size_t len, size_t align, void *arg)
{
	struct fit_arg *fa = arg;
	uintptr_t p;

	if (fa->flags & MEM_RANGE_IOVA_CONTIG)
		return fit_contig(s, e, len, align, fa->skew, &fa->best);
	p = align_skewed(s, align, fa->skew);
	return p && p <= e && e - p >= len ? p : 0;
}

/* Find and take a block on node; 0 if nothing fits. *best: largest usable free run seen. */
static uintptr_t take(int node, size_t len, size_t align, size_t skew, unsigned flags, size_t *best)
{
	struct fit_arg fa = {.skew = skew, .flags = flags};

	for (unsigned i = 0; i < n_arenas; i++) {
		uintptr_t p;

		if (!arenas[i].used || arenas[i].node != node)
			continue;
		p = buddy_alloc(&arenas[i].b, len, align, fit, &fa);
		if (p)
			return p;
	}
	*best = flags & MEM_RANGE_IOVA_CONTIG ? fa.best : largest_free(node);
	return 0;
}

/* ---- memory events ---------------------------------------------------------------------- */

/* Serve this thread's pending growth request from arena a, if it has one. */
static void serve_grow_req(struct arena *a)
{
	struct fit_arg fa;

	if (!my_req || my_req->p)
		return;
	fa = (struct fit_arg){.skew = my_req->skew, .flags = my_req->flags};
	my_req->p = buddy_alloc(&a->b, my_req->len, my_req->align, fit, &fa);
	n_allocs[a->node] += my_req->p != 0;
}

static void arena_add(const void *va, size_t len, const struct mem_list *l)
{
	uintptr_t s = (uintptr_t)va;
	int node = l ? l->node : hp_mem_node_of(va);
	struct arena *a = arena_of(s, len), *slot = NULL;

	if (a) { /* pages coming back into a list that gave them away */
		buddy_free(&a->b, s, len);
		serve_grow_req(a);
		return;
	}
	if (l && (s != (uintptr_t)l->base || len != l->len)) {
		HP_LOG_E("allocator: %zu bytes at %p came back to a list it does not know; they "
			 "stay unused",
			 len, va);
		return;
	}
	if (node < 0 || node >= HP_MAX_NUMA_NODES) {
		HP_LOG_E("allocator: memory at %p is on node %d, beyond HP_MAX_NUMA_NODES (%d); "
			 "rebuild with a larger max_numa_nodes",
			 va, node, HP_MAX_NUMA_NODES);
		return;
	}
	for (unsigned i = 0; i < MEM_MAX_LISTS && !slot; i++)
		if (!arenas[i].used)
			slot = &arenas[i];
	if (!slot) {
		HP_LOG_E("allocator: more than %d memseg lists; %zu bytes at %p stay unused",
			 MEM_MAX_LISTS, len, va);
		return;
	}
	if (buddy_init(&slot->b, (void *)va, len) < 0) {
		HP_LOG_E("allocator: out of process memory to track %zu bytes at %p", len, va);
		return;
	}
	buddy_free(&slot->b, s, len);
	slot->start = s;
	slot->end = s + len;
	slot->node = node;
	slot->used = true;
	if ((unsigned)(slot - arenas) >= n_arenas)
		n_arenas = (unsigned)(slot - arenas) + 1;
	slot->dynamic = l && l->dynamic;
	slot->page_order = 0;
	while (l && (BUDDY_UNIT << slot->page_order) < l->page_size)
		slot->page_order++;
	serve_grow_req(slot);
}

static void on_mem_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	/* the list is published before the event fires, so it can be looked up already */
	const struct mem_list *l = mem_list_of(va);

	(void)arg;
	pthread_mutex_lock(&alloc_lock);
	/*
	 * Lists leave only at hp_cleanup, after this subscriber is gone (alloc_cleanup runs first);
	 * pages going back were taken out of the buddy before their FREE event.
	 */
	if (ev == HP_MEM_EVENT_ALLOC)
		arena_add(va, len, l);
	pthread_mutex_unlock(&alloc_lock);
}

/* ---- public (library-internal) entry points ----------------------------------------------- */

static void grow_sentence(char *buf, size_t n, int node, size_t len, size_t align, unsigned flags,
			  size_t best, const char *why)
{
	const char *contig = flags & MEM_RANGE_IOVA_CONTIG ? "IOVA-contiguous " : "";
	char l[32], a[32], b[32];

	snprintf(
	    buf, n,
	    "node %d: no free %srun of %s (align %s); the largest free %srun there is %s, and "
	    "growing failed (%s); reserve more hugepages on node %d (hp-info --reserve %d:SIZE) "
	    "or start with a larger --socket-mem",
	    node, contig, util_size_str(l, sizeof(l), len), util_size_str(a, sizeof(a), align),
	    contig, util_size_str(b, sizeof(b), best), why, node, node);
}

static uintptr_t take_locked(int node, size_t len, size_t align, size_t skew, unsigned flags,
			     size_t *best)
{
	uintptr_t p;

	hp_mem_lock_read(); /* lists stay put and published while we look at IOVAs */
	pthread_mutex_lock(&alloc_lock);
	p = take(node, len, align, skew, flags, best);
	n_allocs[node] += p != 0;
	pthread_mutex_unlock(&alloc_lock);
	hp_mem_unlock_read();
	return p;
}

/* Grow node by at least want bytes: pages a grown list gave back first, else a new list. */
static int grow(int node, size_t want)
{
	if (mem_refill(node, want) == 0)
		return 0;
	return mem_grow_dynamic(node, want);
}

/* Whole free pages in node's grown lists. Caller holds alloc_lock. */
static size_t free_grown_pages(int node)
{
	size_t n = 0;

	for (unsigned i = 0; i < n_arenas; i++) {
		const struct arena *a = &arenas[i];

		if (!a->used || !a->dynamic || a->node != node)
			continue;
		for (unsigned k = a->page_order; k <= a->b.max_order; k++)
			n += a->b.n_free[k] << (k - a->page_order);
	}
	return n;
}

/*
 * Take out of node's grown lists a run of whole free pages, at most max pages long, so that it
 * can go back to the kernel; the part of a larger free block beyond max stays free. Caller holds
 * alloc_lock. @return the run's length in bytes (0: none), its address in *va.
 */
static size_t take_pages(int node, size_t max, uintptr_t *va)
{
	for (unsigned i = 0; i < n_arenas; i++) {
		struct arena *a = &arenas[i];
		size_t len = 0, most = (BUDDY_UNIT << a->page_order) * max;

		if (!a->used || !a->dynamic || a->node != node ||
		    !buddy_take_large(&a->b, a->page_order, va, &len))
			continue;
		if (len > most) {
			buddy_free(&a->b, *va + most, len - most);
			len = most;
		}
		return len;
	}
	return 0;
}

/*
 * Give the whole free pages of node's grown lists beyond keep back to the kernel; returns the
 * bytes given back. The pages leave the buddy under alloc_lock, so no allocation can take them,
 * then go back with no lock held (mem_give_back takes the memory lock, which comes first).
 * While an allocation on the node is between growing and taking, nothing goes back (it would
 * take the pages just grown); the last such allocation to finish gives back instead, whether it
 * succeeded or not.
 */
static size_t give_back(int node, size_t keep)
{
	size_t total = 0;

	if (atomic_load_explicit(&growing[node], memory_order_acquire))
		return 0;
	for (;;) {
		uintptr_t va = 0;
		size_t len = 0, n;

		pthread_mutex_lock(&alloc_lock);
		n = free_grown_pages(node);
		if (n > keep)
			len = take_pages(node, n - keep, &va);
		pthread_mutex_unlock(&alloc_lock);
		if (!len)
			return total;
		mem_give_back((void *)va, len);
		total += len;
	}
}

static size_t keep_budget(void)
{
	return atomic_load_explicit(&keep_pages, memory_order_relaxed);
}

HP_API size_t hp_mem_trim(int node)
{
	size_t total = 0;

	if (!atomic_load_explicit(&ready, memory_order_acquire)) {
		hp_fail(-EINVAL, "hp_mem_trim: runtime memory is not set up; call hp_init() first");
		return 0;
	}
	if (node != HP_NODE_ANY && !eal_node_exists(node)) {
		hp_fail(-EINVAL,
			"hp_mem_trim: node %d does not exist: name a node 0-%d or HP_NODE_ANY",
			node, eal_node_count() - 1);
		return 0;
	}
	for (int n = 0; n < HP_MAX_NUMA_NODES; n++)
		if (node == HP_NODE_ANY || node == n)
			total += give_back(n, 0);
	return total;
}

void *mem_range_alloc_skew(size_t len, size_t align, size_t skew, int node, unsigned flags)
{
	size_t best = 0, want, psz = hp_mem_page_size();
	char why[256], msg[640];
	struct grow_req req;
	uintptr_t p;

	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail_ptr(-EINVAL, "runtime memory: %s", eal_no_runtime());
	if (!eal_node_exists(node))
		return hp_fail_ptr(-ENODEV, "node %d does not exist: this machine has nodes 0-%d",
				   node, eal_node_count() - 1);
	if (align < BUDDY_UNIT)
		align = BUDDY_UNIT;
	if (len == 0 || (align & (align - 1)) || skew >= align)
		return hp_fail_ptr(-EINVAL,
				   "asked %zu bytes aligned to %zu; ask for 1 byte or more, "
				   "aligned to a power of two",
				   len, align);
	/* too large is ENOMEM everywhere (as hp_malloc's), never EINVAL */
	if (len > SIZE_MAX / 4 || align > SIZE_MAX / 4)
		return hp_fail_ptr(-ENOMEM,
				   "node %d: asked %zu bytes aligned to %zu, more than any node "
				   "can hold; ask for less",
				   node, len, align);
	len = HP_ALIGN_UP(len, BUDDY_UNIT);
	p = take_locked(node, len, align, skew, flags, &best);
	if (p)
		return (void *)p;
	snprintf(why, sizeof(why), "not tried");
	/* room to place it inside a fresh list, which starts on a page boundary */
	want = len + (align > psz || skew ? align : 0);
	req = (struct grow_req){.len = len, .align = align, .skew = skew, .flags = flags};
	atomic_fetch_add_explicit(&growing[node], 1, memory_order_acq_rel);
	my_req = &req;
	for (int tries = 0; !req.p && tries < GROW_TRIES; tries++) {
		if (tries && (flags & MEM_RANGE_IOVA_CONTIG))
			break; /* more pages would not make a contiguous run more likely */
		if (grow(node, want) < 0) {
			snprintf(why, sizeof(why), "%s", hp_last_error());
			break;
		}
		snprintf(why, sizeof(why), "the new pages hold no such run");
	}
	my_req = NULL;
	/* what the growth added beyond this block, and releases skipped; all of it on failure */
	if (atomic_fetch_sub_explicit(&growing[node], 1, memory_order_acq_rel) == 1)
		give_back(node, req.p ? keep_budget() : 0);
	if (req.p)
		return (void *)req.p;
	if (!(flags & MEM_RANGE_IOVA_CONTIG)) { /* what growing left for the sentence */
		pthread_mutex_lock(&alloc_lock);
		best = largest_free(node);
		pthread_mutex_unlock(&alloc_lock);
	}
	grow_sentence(msg, sizeof(msg), node, len, align, flags, best, why);
	return hp_fail_ptr(-ENOMEM, "%s", msg);
}

void *mem_range_alloc(size_t len, size_t align, int node, unsigned flags)
{
	return mem_range_alloc_skew(len, align, 0, node, flags);
}

void mem_range_release(void *va, size_t len)
{
	uintptr_t s = (uintptr_t)va;
	struct arena *a;
	int rc = -EINVAL, node = 0;

	if (!va || !len)
		return;
	len = HP_ALIGN_UP(len, BUDDY_UNIT);
	pthread_mutex_lock(&alloc_lock);
	a = arena_of(s, len);
	if (a && !(s & (BUDDY_UNIT - 1))) {
		if (buddy_is_free(&a->b, s) || buddy_is_free(&a->b, s + len - 1)) {
			rc = -EEXIST;
		} else {
			buddy_free(&a->b, s, len);
			n_allocs[a->node]--;
			rc = a->dynamic ? 1 : 0;
			node = a->node;
		}
	}
	pthread_mutex_unlock(&alloc_lock);
	if (rc == 1)
		give_back(node, keep_budget());
	if (rc == -EEXIST)
		HP_LOG_E("released %zu bytes at %p twice (part of it is free already); ignored",
			 len, va);
	else if (rc < 0)
		HP_LOG_E("released %zu bytes at %p, which is not runtime memory handed out by "
			 "mem_range_alloc; ignored",
			 len, va);
}

/* 0 when every free block of a lies on pages the list holds, else -1. */
static int free_blocks_present(const struct arena *a)
{
	const struct mem_list *l = mem_list_of((void *)a->start);

	if (!l)
		return -1;
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		for (const struct buddy_link *b = a->b.free[k].next; b != &a->b.free[k];
		     b = b->next) {
			uintptr_t s = (uintptr_t)b, e = s + (BUDDY_UNIT << k);

			for (uintptr_t p = s; p < e; p = (p | (l->page_size - 1)) + 1)
				if (l->pages[(p - (uintptr_t)l->base) / l->page_size].iova ==
				    HP_BAD_IOVA)
					return -1;
		}
	return 0;
}

int mem_alloc_check(void)
{
	int rc = 0;

	hp_mem_lock_read();
	pthread_mutex_lock(&alloc_lock);
	for (unsigned i = 0; i < MEM_MAX_LISTS && !rc; i++) {
		if (!arenas[i].used)
			continue;
		rc = buddy_check(&arenas[i].b);
		if (!rc && free_blocks_present(&arenas[i]))
			rc = -1000; /* a free block on a page that went back */
		for (unsigned j = 0; j < i && !rc; j++)
			if (arenas[j].used && arenas[j].start < arenas[i].end &&
			    arenas[i].start < arenas[j].end)
				rc = -1001; /* two arenas over the same memory */
	}
	pthread_mutex_unlock(&alloc_lock);
	hp_mem_unlock_read();
	return rc;
}

void mem_alloc_stats(int node, size_t *counts, unsigned n, size_t *free_bytes,
		     unsigned long *allocs)
{
	*free_bytes = 0;
	pthread_mutex_lock(&alloc_lock);
	*allocs = n_allocs[node];
	for (unsigned i = 0; i < n_arenas; i++)
		if (arenas[i].used && arenas[i].node == node) {
			buddy_stats(&arenas[i].b, counts, n);
			*free_bytes += arenas[i].b.free_units * BUDDY_UNIT;
		}
	pthread_mutex_unlock(&alloc_lock);
}

/* ---- subsystem -------------------------------------------------------------------------- */

static void alloc_reset(void)
{
	pthread_mutex_lock(&alloc_lock);
	for (int i = 0; i < MEM_MAX_LISTS; i++)
		if (arenas[i].used) {
			buddy_fini(&arenas[i].b);
			arenas[i].used = false;
		}
	n_arenas = 0;
	memset(n_allocs, 0, sizeof(n_allocs));
	pthread_mutex_unlock(&alloc_lock);
}

static void alloc_cleanup(void)
{
	atomic_store_explicit(&ready, false, memory_order_release);
	hp_mem_event_unregister("mem_range_alloc");
	alloc_reset();
}

/*
 * Subscribe first, then walk the lists already there (--socket-mem) under the read lock:
 * a list added in between is reported twice, and arena_add() ignores the second report.
 */
static int alloc_init(const struct hp_init_opts *opts)
{
	unsigned n;
	int rc;

	atomic_store_explicit(&keep_pages,
			      !opts || !opts->mem_keep_pages ? HP_MEM_KEEP_DEFAULT
			      : opts->mem_keep_pages < 0     ? 0u
							     : (unsigned)opts->mem_keep_pages,
			      memory_order_relaxed);
	alloc_reset(); /* a failed init ran alloc_cleanup, so no subscription is left over */
	rc = hp_mem_event_register("mem_range_alloc", on_mem_event, NULL);
	if (rc < 0)
		return rc;
	hp_mem_lock_read();
	n = atomic_load_explicit(&mem_nlists, memory_order_acquire);
	pthread_mutex_lock(&alloc_lock);
	for (unsigned i = 0; i < n; i++)
		arena_add(mem_lists[i]->base, mem_lists[i]->len, mem_lists[i]);
	pthread_mutex_unlock(&alloc_lock);
	hp_mem_unlock_read();
	atomic_store_explicit(&ready, true, memory_order_release);
	return 0;
}

EAL_SUBSYS_REGISTER(alloc, EAL_SUBSYS_ALLOC, alloc_init, alloc_cleanup)

/* In a forked child: the arenas describe the parent's memory; their buddy maps are libc's. */
static void alloc_fork_child(void)
{
	alloc_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	atomic_store_explicit(&ready, false, memory_order_relaxed);
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++)
		atomic_store_explicit(&growing[i], 0, memory_order_relaxed);
	my_req = NULL;
	alloc_reset();
}
EAL_FORK_CHILD(alloc_fork_child)
