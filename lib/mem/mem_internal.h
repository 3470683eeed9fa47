/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem's internal interface: what the other folders of libhugepool (memzones, the heap,
 * mempools and their backends, RDMA maps) may use from lib/mem. Never installed. The header
 * private to lib/mem itself is mem_reserve.h.
 *
 * Runtime memory is a table of memseg lists. A list is one VA range of pages of one size on
 * one node, reserved together (a node's --socket-mem at init, or one hp_mem_grow()). Lists are
 * append-only between hp_init() and hp_cleanup(): a list, once published (release store of
 * mem_nlists), never moves or changes, so lookups (virt2iova, node_of, contiguity) scan the
 * table without a lock. Adding a list takes the memory write lock, publishes it and fires
 * HP_MEM_EVENT_ALLOC with that lock still held (so a callback can already look the new range
 * up); hp_cleanup fires HP_MEM_EVENT_FREE for every list, newest first, then unmaps.
 *
 * Lock order: memory lock (hp_mem_lock_*) before any lock of a subscriber (allocator, RDMA map).
 * A subscriber's callback must not call back into anything that takes the memory lock.
 */
#ifndef HP_MEM_INTERNAL_H
#define HP_MEM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <hp_mem.h>

#define MEM_MAX_LISTS 256

struct mem_list {
	void *base; /* first page */
	size_t len; /* n_pages * page_size */
	size_t page_size;
	int node;
	unsigned n_pages;
	unsigned n_runs;	 /* VA+IOVA-contiguous runs in this list */
	struct hp_memseg *pages; /* n_pages entries in address order; len == page_size */
	int fd;			 /* memfd or unlinked hugetlbfs file, -1 for --no-huge */
};

/* The table: entries [0, nlists) are valid; read nlists with acquire. */
extern struct mem_list *mem_lists[MEM_MAX_LISTS];
extern _Atomic unsigned mem_nlists;

/* The list that holds va, or NULL. No lock needed. */
const struct mem_list *mem_list_of(const void *va);

/* true if [va, va + len) lies in one list and is contiguous in IOVA. No lock needed. */
bool mem_range_iova_contig(const void *va, size_t len);

/* Writers of the layout (grow, cleanup). Readers use hp_mem_lock_read() from hp_mem.h. */
void mem_lock_write(void);
void mem_unlock_write(void);

/* Fire an event to every subscriber; caller holds the write lock. */
void mem_event_fire(enum hp_mem_event ev, const void *va, size_t len);

/*
 * The allocator of memseg ranges shared by memzones, the heap and mempool backends
 * (lib/mem/alloc.c): first fit over each node's free ranges, address-ordered and coalesced;
 * grows the node (hp_mem_grow) when nothing fits. flags: MEM_RANGE_IOVA_CONTIG or 0. node: a
 * real node (callers resolve HP_NODE_ANY). Returns NULL through hp_fail_ptr() on failure.
 */
#define MEM_RANGE_IOVA_CONTIG 0x1 /* the block must be contiguous in IOVA space */
void *mem_range_alloc(size_t len, size_t align, int node, unsigned flags);
void mem_range_release(void *va, size_t len);

/* What the allocator holds on one node (telemetry's /eal/heap_info). */
struct mem_alloc_stats {
	size_t total;	      /* bytes of the node's memory the allocator manages */
	size_t free;	      /* bytes free */
	size_t largest_free;  /* longest free range */
	unsigned free_ranges; /* free ranges */
	unsigned long allocs; /* blocks handed out (zones, heap slabs and large blocks) */
};

/* Read a node's counters under the allocator's lock (all zero for a node it does not have). */
void mem_alloc_stats(int node, struct mem_alloc_stats *st);

/*
 * Test hooks, compiled in only with -Dtest_hooks=true (test/unit/test_mem.c, test/stress): 0 in
 * normal use. Set before hp_init() or hp_mem_grow() in the thread that calls it; read only on the
 * reservation path. Without the option mem_test_hooks is the constant 0 and every hook folds away.
 */
/* skip the up-front free-page check (sysfs) */
#define MEM_HOOK_NO_PRECHECK 0x1
/* map with MAP_NORESERVE, so a short pool shows at fault time */
#define MEM_HOOK_NORESERVE 0x2
/* populate by touching under the SIGBUS guard, not madvise */
#define MEM_HOOK_TOUCH 0x4
/* raise(SIGSTOP) halfway through populating (kill tests) */
#define MEM_HOOK_STOP 0x8
#ifdef HP_TEST_HOOKS
extern unsigned mem_test_hooks;
#else
#define mem_test_hooks 0u
#endif

#endif
