/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/heap's internal interface: the allocator of runtime memory (alloc.c, one buddy allocator
 * per memseg list, buddy.h) that memzones, hp_malloc, rings and mempool backends take their
 * memory from. Never installed; buddy.h and heap_block.h are private to lib/heap. Its names
 * keep the mem_range_ prefix: they hand out ranges of lib/mem's memseg lists.
 *
 * Lock order: the memory lock (hp_mem_lock_read, or the write side an event holds) before the
 * allocator's own lock. Callers hold neither: a call may grow the node (hp_mem_grow) or give
 * whole free pages of grown lists back to the kernel.
 */
#ifndef HP_HEAP_INTERNAL_H
#define HP_HEAP_INTERNAL_H

#include <stddef.h>

/*
 * Take len bytes aligned to align on node from the node's lists; grow the node when nothing
 * fits. flags: MEM_RANGE_IOVA_CONTIG or 0. node: a real node (callers resolve HP_NODE_ANY).
 * Returns NULL through hp_fail_ptr() on failure.
 */
#define MEM_RANGE_IOVA_CONTIG 0x1 /* the block must be contiguous in IOVA space */
void *mem_range_alloc(size_t len, size_t align, int node, unsigned flags);
void mem_range_release(void *va, size_t len);

/*
 * Free blocks of node per order into counts[0 .. n) (larger orders added to the last), the
 * bytes free in them, and the blocks handed out and not released (zones, heap slabs and large
 * blocks, pool backends). Caller has checked node.
 */
void mem_alloc_stats(int node, size_t *counts, unsigned n, size_t *free_bytes,
		     unsigned long *allocs);

/*
 * Check the allocator (tests): every buddy's invariants, free blocks only on pages held, no two
 * arenas over the same memory. @return 0, or a negative code of the first broken one.
 */
int mem_alloc_check(void);

/* Blocks are whole numbers of this many bytes, aligned to it at least. */
#define MEM_RANGE_UNIT ((size_t)4096)

/* As mem_range_alloc(), placing the block where p + skew (skew < align) is aligned to align. */
void *mem_range_alloc_skew(size_t len, size_t align, size_t skew, int node, unsigned flags);

#endif
