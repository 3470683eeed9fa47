/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_heap.h
 * hp_malloc: general allocations from runtime (hugepage) memory on a chosen NUMA node.
 */
#ifndef HP_HEAP_H
#define HP_HEAP_H

#include <stddef.h>
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

#ifdef __cplusplus
}
#endif
#endif
