/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_heap.h
 * hp_malloc: general allocations from runtime (hugepage) memory on a chosen NUMA node.
 */
#ifndef HP_HEAP_H
#define HP_HEAP_H

#include <stddef.h>
#include <stdio.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Allocate from runtime memory on a node.
 * @param size bytes, > 0
 * @param align power of two, or 0 for a cache line
 * @param node NUMA node, or HP_NODE_ANY for the calling thread's node
 * @return the block, or NULL with errno EINVAL (size 0, bad align, before hp_init), ENOMEM, ENODEV
 */
HP_API void *hp_malloc(size_t size, size_t align, int node);

/**
 * As hp_malloc(), and the block is zeroed.
 * @param size bytes, > 0
 * @param align power of two, or 0 for a cache line
 * @param node NUMA node, or HP_NODE_ANY for the calling thread's node
 * @return the block, or NULL with errno EINVAL, ENOMEM, ENODEV (as hp_malloc())
 */
HP_API void *hp_zmalloc(size_t size, size_t align, int node);

/**
 * Resize a block, keeping its contents up to the smaller size; may move it.
 * @param ptr block, or NULL (then as hp_malloc)
 * @param size new size; 0 frees ptr and returns NULL
 * @param align power of two, or 0 for a cache line
 * @param node node for a moved block, or HP_NODE_ANY to stay on ptr's node
 * @return the block, or NULL with errno set (ptr is then untouched): EINVAL (ptr is not a live
 *         block, bad align), ENOMEM, ENODEV; NULL also after freeing ptr for size 0
 */
HP_API void *hp_realloc(void *ptr, size_t size, size_t align, int node);

/**
 * Free a block from hp_malloc/hp_zmalloc/hp_realloc. NULL does nothing. A pointer that is not a
 * live block (a double free, a foreign pointer) is reported with an error log line and ignored.
 * @param ptr block, or NULL
 */
HP_API void hp_free(void *ptr);

/**
 * Give back the free small blocks the calling thread keeps. Each thread keeps up to 32 freed
 * blocks per size class and node, to serve its next hp_malloc without a lock; they go back by
 * themselves when the thread exits. Call this before a thread sleeps for long, or before
 * hp_heap_stats() when only the memory in use should count as allocated.
 * @return 0, or -EINVAL before hp_init()
 */
HP_API int hp_heap_cache_flush(void);

/** Orders reported by hp_heap_stats(): blocks of HP_HEAP_BLOCK_UNIT << order bytes. */
#define HP_HEAP_ORDERS 20
/** The smallest block of the buddy allocator under memzones, the heap and mempools. */
#define HP_HEAP_BLOCK_UNIT 4096

/** What a node's runtime memory holds (hp_heap_stats()); a snapshot while others allocate. */
struct hp_heap_stats {
	size_t total; /**< bytes of runtime memory on the node (pages held: hp_mem_reserved()) */
	size_t free;  /**< bytes in free blocks, ready to hand out */
	size_t allocated; /**< bytes handed out: memzones, mempools, hp_malloc blocks and slabs */
	/**
	 * Free blocks of HP_HEAP_BLOCK_UNIT << i bytes, like /proc/buddyinfo; the last entry
	 * counts that size and every larger one. Many small blocks and no large ones is
	 * fragmentation: a large request then grows the node instead.
	 */
	size_t free_blocks[HP_HEAP_ORDERS];
	/** Blocks handed out and not given back: memzones, heap blocks and slabs, pool backends. */
	unsigned long n_allocated;
};

/**
 * Report a node's runtime memory: held, free, handed out, and free blocks per order.
 * @param node a NUMA node of this machine
 * @param st filled in
 * @return 0, or -EINVAL (st NULL, node out of range, or before hp_init())
 */
HP_API int hp_heap_stats(int node, struct hp_heap_stats *st);

/**
 * Print every node's hp_heap_stats() as a table: one line per node with total, free and
 * allocated MiB, then the free blocks per order.
 * @param f where to print (e.g. stderr)
 * @return 0, or -EINVAL (f NULL, or before hp_init())
 */
HP_API int hp_heap_dump(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
