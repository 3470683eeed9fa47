/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mem subsystem's start and stop, and growth: the configuration fixed at hp_init() (page
 * size, IOVA mode, where pages come from, --socket-limit), the --socket-mem reservations,
 * hp_mem_grow(), the allocator's growth, pages of grown lists going back to the kernel and
 * coming again, and giving everything back at hp_cleanup(). grow_lock serialises every writer of
 * the memseg table (start, grow, give back, refill, cleanup); cfg is written under it while
 * !ready and only read once ready.
 * grow_lock: lock level 5, doc/architecture.md.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "mem_reserve.h"

static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_cfg cfg;
static _Atomic bool ready;
static _Atomic enum hp_iova_mode iova_mode = HP_IOVA_VA;
static _Atomic size_t page_size;

HP_API enum hp_iova_mode hp_iova_mode(void)
{
	return atomic_load_explicit(&iova_mode, memory_order_relaxed);
}

HP_API size_t hp_mem_page_size(void)
{
	return atomic_load_explicit(&page_size, memory_order_relaxed);
}

HP_API int hp_mem_grow(int node, size_t len)
{
	int rc;

	if (node == HP_NODE_ANY)
		return hp_fail(-EINVAL, "hp_mem_grow: name a node (HP_NODE_ANY is not one)");
	if (len == 0)
		return hp_fail(-EINVAL, "hp_mem_grow: len is 0; ask for at least one page");
	pthread_mutex_lock(&grow_lock);
	if (!atomic_load(&ready))
		rc = hp_fail(-EINVAL, "hp_mem_grow: %s", eal_no_runtime());
	else
		rc = mem_list_add(&cfg, node, len, false);
	pthread_mutex_unlock(&grow_lock);
	return rc;
}

int mem_grow_dynamic(int node, size_t len)
{
	int rc;

	pthread_mutex_lock(&grow_lock);
	if (!atomic_load(&ready))
		rc = hp_fail(-EINVAL, "%s", eal_no_runtime());
	else
		rc = mem_list_add(&cfg, node, len, true);
	pthread_mutex_unlock(&grow_lock);
	return rc;
}

/* ---- Pages of grown lists going back to the kernel and coming again ---------------------- */

void mem_give_back(void *va, size_t len)
{
	struct mem_list *l;
	unsigned first, n, i;

	pthread_mutex_lock(&grow_lock);
	l = (struct mem_list *)mem_list_of(va);
	if (!l || !l->dynamic || ((uintptr_t)va - (uintptr_t)l->base) % l->page_size ||
	    len % l->page_size) {
		pthread_mutex_unlock(&grow_lock);
		HP_LOG_E("giving back %zu bytes at %p: not whole pages of a grown list; kept", len,
			 va);
		return;
	}
	first = (unsigned)(((uintptr_t)va - (uintptr_t)l->base) / l->page_size);
	n = (unsigned)(len / l->page_size);
	mem_lock_write();
	mem_event_fire(HP_MEM_EVENT_FREE, va, len);
	mem_punch_pages(l, first, n);
	for (i = 0; i < n; i++)
		l->pages[first + i].iova = HP_BAD_IOVA;
	atomic_fetch_sub_explicit(&l->n_present, n, memory_order_relaxed);
	mem_list_count_runs(l);
	mem_unlock_write();
	pthread_mutex_unlock(&grow_lock);
	HP_LOG_D("node %d: %u pages at %p went back to the kernel", l->node, n, va);
}

/* First run of at least n absent pages in l: its index, or -1. */
static long absent_run(const struct mem_list *l, unsigned n)
{
	unsigned i, run = 0;

	for (i = 0; i < l->n_pages; i++) {
		run = l->pages[i].iova == HP_BAD_IOVA ? run + 1 : 0;
		if (run == n)
			return (long)(i + 1 - n);
	}
	return -1;
}

/* Fill pages [first, first + n) of l again and publish them; caller holds grow_lock. */
static int refill_run(struct mem_list *l, unsigned first, unsigned n)
{
	uint64_t *iova = malloc(n * sizeof(*iova));
	void *va = (char *)l->base + (size_t)first * l->page_size;
	int rc;

	if (!iova)
		return hp_fail(-ENOMEM, "out of memory faulting %u pages in again", n);
	rc = mem_fill_pages(&cfg, l, first, n, iova);
	if (!rc) {
		mem_lock_write();
		for (unsigned j = 0; j < n; j++)
			l->pages[first + j].iova = iova[j];
		atomic_fetch_add_explicit(&l->n_present, n, memory_order_relaxed);
		mem_list_count_runs(l);
		mem_event_fire(HP_MEM_EVENT_ALLOC, va, (size_t)n * l->page_size);
		mem_unlock_write();
	}
	free(iova);
	return rc;
}

int mem_refill(int node, size_t len)
{
	unsigned i, nl;
	int rc = -ENOMEM;

	pthread_mutex_lock(&grow_lock);
	nl = atomic_load_explicit(&mem_nlists, memory_order_acquire);
	for (i = 0; i < nl && rc == -ENOMEM; i++) {
		struct mem_list *l = mem_lists[i];
		unsigned n;
		long first;

		if (l->node != node || !l->dynamic)
			continue;
		n = (unsigned)(HP_ALIGN_UP(len, l->page_size) / l->page_size);
		first = absent_run(l, n);
		if (first < 0)
			continue;
		rc = mem_check_limit(&cfg, node, (size_t)n * l->page_size);
		if (rc)
			break;
		rc = refill_run(l, (unsigned)first, n);
	}
	pthread_mutex_unlock(&grow_lock);
	return rc;
}

/* ---- Subsystem ------------------------------------------------------------------------------ */

static bool have_page_size(size_t size)
{
	struct hp_hugepage_pool pools[64];
	int i, n = hp_hugepage_pools(pools, 64);

	for (i = 0; i < n && i < 64; i++)
		if (pools[i].page_size == size)
			return true;
	return false;
}

static int pick_page_size(const struct hp_init_opts *o)
{
	size_t ps;

	if (o->no_huge) {
		cfg.page_size = (size_t)sysconf(_SC_PAGESIZE);
		return 0;
	}
	ps = o->huge_size ? o->huge_size : hp_hugepage_default_size();
	if (!ps)
		return hp_fail(-ENOMEM, "this system has no hugepages; reserve some with: hp-info "
					"--reserve 0:1G, or run with --no-huge");
	if (!have_page_size(ps))
		return hp_fail(-EINVAL,
			       "--huge-size: the kernel has no pool of %zu KiB pages; see the "
			       "sizes it has with: hp-info",
			       ps >> 10);
	cfg.page_size = ps;
	return 0;
}

static char iova_why[256]; /* why the mode in force (under grow_lock) */

HP_API const char *hp_iova_mode_reason(void)
{
	static __thread char probe[256];

	if (atomic_load(&ready))
		return iova_why;
	mem_iova_auto(probe, sizeof(probe));
	return probe;
}

static int pick_iova_mode(const struct hp_init_opts *o)
{
	if (o->no_huge && o->iova == HP_IOVA_OPT_PA)
		return hp_fail(-EINVAL,
			       "--iova=pa needs hugepages: 4 KiB pages of --no-huge may move; "
			       "drop --no-huge or use --iova=va");
	if (o->no_huge || o->iova == HP_IOVA_OPT_VA) {
		cfg.mode = HP_IOVA_VA;
		snprintf(iova_why, sizeof(iova_why), "%s",
			 o->no_huge ? "--no-huge: 4 KiB pages may move" : "asked with --iova=va");
		return 0;
	}
	if (o->iova == HP_IOVA_OPT_PA) {
		cfg.mode = mem_pagemap_readable() ? HP_IOVA_PA : HP_IOVA_VA;
		snprintf(iova_why, sizeof(iova_why), "asked with --iova=pa");
	} else {
		cfg.mode = mem_iova_auto(iova_why, sizeof(iova_why));
	}
	if (o->iova == HP_IOVA_OPT_PA && cfg.mode != HP_IOVA_PA)
		return hp_fail(-EPERM,
			       "--iova=pa: /proc/self/pagemap hides physical addresses from "
			       "this process; run as root (CAP_SYS_ADMIN) or use --iova=va");
	return 0;
}

static int mem_start(const struct hp_init_opts *o)
{
	unsigned i;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.no_huge = o->no_huge;
	rc = pick_page_size(o);
	if (!rc)
		rc = pick_iova_mode(o);
	if (rc)
		return rc;
	if (o->huge_dir && !o->no_huge) {
		snprintf(cfg.huge_dir, sizeof(cfg.huge_dir), "%s", o->huge_dir);
		/* now, not at the first grow, which may never come */
		rc = mem_huge_dir_check(&cfg);
		if (rc)
			return rc;
	}
	snprintf(cfg.prefix, sizeof(cfg.prefix), "%s",
		 o->file_prefix ? o->file_prefix : "hugepool");
	for (i = 0; i < o->n_socket_limit && i < HP_MAX_NUMA_NODES; i++)
		cfg.limit[i] = (size_t)o->socket_limit_mb[i] << 20;
	for (i = 0; i < o->n_socket_mem && i < HP_MAX_NUMA_NODES; i++) {
		if (!o->socket_mem_mb[i])
			continue;
		rc = mem_list_add(&cfg, (int)i, (size_t)o->socket_mem_mb[i] << 20, false);
		if (rc) {
			mem_lists_release();
			return rc;
		}
	}
	atomic_store(&page_size, cfg.page_size);
	atomic_store(&iova_mode, cfg.mode);
	atomic_store(&ready, true);
	return 0;
}

static int mem_init(const struct hp_init_opts *o)
{
	static const struct hp_init_opts defaults;
	int rc;

	pthread_mutex_lock(&grow_lock);
	rc = mem_start(o ? o : &defaults);
	pthread_mutex_unlock(&grow_lock);
	return rc;
}

static void mem_cleanup(void)
{
	pthread_mutex_lock(&grow_lock);
	atomic_store(&ready, false);
	mem_lists_release();
	atomic_store(&page_size, 0);
	atomic_store(&iova_mode, HP_IOVA_VA);
	pthread_mutex_unlock(&grow_lock);
}

EAL_SUBSYS_REGISTER(mem, EAL_SUBSYS_MEM, mem_init, mem_cleanup)

/* In a forked child: forget the parent's lists (closing the child's copies of their fds). */
static void mem_fork_child(void)
{
	grow_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	atomic_store(&ready, false);
	memset(&cfg, 0, sizeof(cfg));
	atomic_store(&page_size, 0);
	atomic_store(&iova_mode, HP_IOVA_VA);
	mem_lists_forget();
}
EAL_FORK_CHILD(mem_fork_child)
