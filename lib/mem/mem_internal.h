/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem's internal interface: what the other folders of libhugepool (memzones, the heap,
 * mempools and their backends, RDMA maps) may use from lib/mem. Never installed. The header
 * private to lib/mem itself is mem_reserve.h.
 *
 * Runtime memory is a table of memseg lists. A list is one VA range of pages of one size on
 * one node, reserved together (a node's --socket-mem at init, one hp_mem_grow(), or one growth
 * of the allocator). Lists are append-only between hp_init() and hp_cleanup(): a list, once
 * published (release store of mem_nlists), never moves, so lookups (virt2iova, node_of,
 * contiguity) scan the table without a lock. Adding a list takes the memory write lock,
 * publishes it and fires HP_MEM_EVENT_ALLOC with that lock still held (so a callback can
 * already look the new range up); hp_cleanup fires HP_MEM_EVENT_FREE for every list, newest
 * first, then unmaps.
 *
 * A list the allocator grew ("dynamic") gives whole free pages back to the kernel and takes
 * them again later, in place: under the write lock, HP_MEM_EVENT_FREE fires for the range, its
 * pages are punched out of the file and made PROT_NONE, and their iova becomes HP_BAD_IOVA
 * (absent); refilling faults them in again and fires HP_MEM_EVENT_ALLOC. The VA range, the
 * list and its entry in the table stay, so lock-free readers never see a list go away.
 *
 * The memory lock (hp_mem_lock_*) and the event lock: lock levels 7 and 8, doc/architecture.md.
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
	unsigned n_runs;	    /* VA+IOVA-contiguous runs in this list */
	struct hp_memseg *pages;    /* n_pages entries in address order; len == page_size */
	unsigned *file_page;	    /* file page behind each entry (pages may be remapped by PA) */
	int fd;			    /* memfd or unlinked hugetlbfs file, -1 for --no-huge */
	bool dynamic;		    /* grown by the allocator: free pages go back to the kernel */
	_Atomic unsigned n_present; /* pages held now; an absent one has iova HP_BAD_IOVA */
};

/* The table: entries [0, nlists) are valid; read nlists with acquire. */
extern struct mem_list *mem_lists[MEM_MAX_LISTS];
extern _Atomic unsigned mem_nlists;

/* The list that holds va, or NULL. No lock needed. */
const struct mem_list *mem_list_of(const void *va);

/* true when the page of l holding va is present (not given back to the kernel). No lock needed. */
static inline bool mem_page_present(const struct mem_list *l, const void *va)
{
	return l->pages[((uintptr_t)va - (uintptr_t)l->base) / l->page_size].iova != HP_BAD_IOVA;
}

/* true if [va, va + len) lies in one list and is contiguous in IOVA. No lock needed. */
bool mem_range_iova_contig(const void *va, size_t len);

/*
 * Frame number of the page holding va, from an open /proc/self/pagemap (one 64-bit entry per
 * 4 KiB page: bit 63 present, bits 0-54 the frame); 0 when absent or hidden (no CAP_SYS_ADMIN).
 */
uint64_t mem_pagemap_pfn(int fd, const void *va);

/*
 * The mode --iova=auto picks: VA when an IOMMU is on and VFIO is available, else PA when pagemap
 * shows frame numbers, else VA; why (a clause) goes to why[n].
 */
enum hp_iova_mode mem_iova_auto(char *why, size_t n);

/* true when /proc/self/pagemap shows this process frame numbers (root). */
bool mem_pagemap_readable(void);

/* Writers of the layout (grow, cleanup). Readers use hp_mem_lock_read() from hp_mem.h. */
void mem_lock_write(void);
void mem_unlock_write(void);

/*
 * Grow node by a dynamic list of len bytes (whole pages), within --socket-limit.
 * @return 0 or -errno through hp_fail().
 */
int mem_grow_dynamic(int node, size_t len);

/*
 * Fault in again a run of at least len bytes of pages that a dynamic list of node gave back,
 * firing HP_MEM_EVENT_ALLOC for it. @return 0, or -ENOMEM when no such run exists or it cannot
 * be filled (through hp_fail()).
 */
int mem_refill(int node, size_t len);

/*
 * Give [va, va + len) (whole pages of a dynamic list, unused) back to the kernel: fires
 * HP_MEM_EVENT_FREE first. Called with no lock held.
 */
void mem_give_back(void *va, size_t len);

/* Fire an event to every subscriber; caller holds the write lock. */
void mem_event_fire(enum hp_mem_event ev, const void *va, size_t len);

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
/* populate with MADV_POPULATE_WRITE whatever the default */
#define MEM_HOOK_MADVISE 0x10
#ifdef HP_TEST_HOOKS
extern unsigned mem_test_hooks;
#else
#define mem_test_hooks 0u
#endif

#endif
