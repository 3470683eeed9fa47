/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc's API: hp_malloc/hp_zmalloc/hp_free/hp_realloc, hp_heap_stats/hp_heap_dump and the
 * heap's subsystem. Small blocks (up to SLAB_MAX_BLOCK bytes, cache-line aligned) go through the
 * thread's cache (heap_tcache.c) to the slabs (heap_slab.c); large or more aligned ones are whole
 * allocator blocks (heap_large.c). This file takes no lock of its own.
 */
#include <stdio.h>
#include <string.h>

#include "buddy.h"
#include "heap_block.h"
#include "mem/mem_internal.h"
#include <hp_heap.h>

_Static_assert(HP_HEAP_BLOCK_UNIT == BUDDY_UNIT, "hp_heap_stats() reports buddy orders");

atomic_bool heap_ready;

/* ---- blocks ----------------------------------------------------------------------------- */

static int check_node(int *node)
{
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire))
		return hp_fail(-EINVAL, "heap: %s", eal_no_runtime());
	if (*node == HP_NODE_ANY)
		*node = eal_current_node();
	if (!eal_node_exists(*node))
		return hp_fail(-ENODEV,
			       "hp_malloc: node %d does not exist; this machine has nodes "
			       "0-%d (or pass HP_NODE_ANY)",
			       *node, eal_node_count() - 1);
	return 0;
}

static int check_size(size_t size, size_t *align)
{
	if (*align == 0)
		*align = MIN_ALIGN;
	if (*align & (*align - 1))
		return hp_fail(-EINVAL,
			       "hp_malloc: align %zu is not a power of two; use a power of "
			       "two, or 0 for a cache line",
			       *align);
	if (*align < MIN_ALIGN)
		*align = MIN_ALIGN;
	if (size == 0)
		return hp_fail(-EINVAL, "hp_malloc: size 0; ask for 1 byte or more");
	if (size > SIZE_MAX / 4 || *align > SIZE_MAX / 4)
		return hp_fail(-ENOMEM,
			       "hp_malloc: %zu bytes (align %zu) is more than any node "
			       "can hold; ask for less",
			       size, *align);
	return 0;
}

static void *alloc_block(size_t size, size_t align, int node)
{
	if (align == MIN_ALIGN && size <= SLAB_MAX_BLOCK - MIN_ALIGN)
		return heap_small_get(size, node);
	return heap_large_get(size, align, node);
}

/* What hp_free and hp_realloc need to know of a live block, small or large. */
struct blk {
	struct hdr *h; /* small: its header; NULL for a large block */
	struct big big;
	size_t size, capacity;
	int node;
	bool dynamic; /* small: in grown memory */
};

/*
 * Look ptr up (and, with take, remove a large block's record). @return false after logging why
 * ptr is not a live block. A small block's header is read only once ptr is known to lie in
 * runtime memory on a page still held, so neither a foreign pointer nor a block freed twice whose
 * page went back to the kernel can crash us.
 */
static bool live_block(void *ptr, const char *who, bool take, struct blk *k)
{
	const struct mem_list *l = mem_list_of(ptr);
	struct hdr *h = hdr_of(ptr);

	if (!l) {
		HP_LOG_E("%s(%p): not a block from hp_malloc (not in runtime memory); ignored", who,
			 ptr);
		return false;
	}
	/* a small block's header must lie in the same runtime memory before it is read */
	if (((uintptr_t)ptr & (MIN_ALIGN - 1)) || (!unit_aligned(ptr) && mem_list_of(h) != l)) {
		HP_LOG_E("%s(%p): a pointer inside runtime memory that is not the start of a block "
			 "(blocks start on %zu-byte boundaries): a pointer into a block? pass what "
			 "hp_malloc returned; ignored",
			 who, ptr, MIN_ALIGN);
		return false;
	}
	if (!unit_aligned(ptr) && !mem_page_present(l, h)) {
		HP_LOG_E("%s(%p): block is in memory given back to the kernel (freed already: "
			 "double free?); ignored",
			 who, ptr);
		return false;
	}
	if (unit_aligned(ptr)) {
		if (!heap_big_find((uintptr_t)ptr, &k->big, take)) {
			HP_LOG_E("%s(%p): not the start of a live block from hp_malloc (freed "
				 "already, or a pointer inside a block); ignored",
				 who, ptr);
			return false;
		}
		*k = (struct blk){.big = k->big,
				  .size = k->big.size,
				  .capacity = k->big.len,
				  .node = k->big.node};
		return true;
	}
	if (h->magic == HDR_FREE) {
		HP_LOG_E("%s(%p): block is free already (double free?); ignored", who, ptr);
		return false;
	}
	if (h->magic != HDR_LIVE || h->node >= HP_MAX_NUMA_NODES || h->cls >= N_CLS) {
		HP_LOG_E("%s(%p): not the start of a block from hp_malloc (no block header "
			 "before it: a pointer inside a block, or an overrun); ignored",
			 who, ptr);
		return false;
	}
	*k = (struct blk){.h = h,
			  .size = h->size,
			  .capacity = cls_size[h->cls] - MIN_ALIGN,
			  .node = h->node,
			  .dynamic = l->dynamic};
	return true;
}

/* Give back a block live_block() found (a large one with take, so its record is gone). */
static void free_block(void *ptr, const struct blk *k)
{
	if (!k->h) {
		mem_range_release(ptr, k->big.len);
		return;
	}
	heap_small_put(ptr, k->dynamic);
}

/* ---- API -------------------------------------------------------------------------------- */

HP_API void *hp_malloc(size_t size, size_t align, int node)
{
	if (check_node(&node) < 0 || check_size(size, &align) < 0)
		return NULL;
	return alloc_block(size, align, node);
}

HP_API void *hp_zmalloc(size_t size, size_t align, int node)
{
	void *p = hp_malloc(size, align, node);

	if (p)
		memset(p, 0, size);
	return p;
}

HP_API void hp_free(void *ptr)
{
	struct blk k;

	if (!ptr)
		return;
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire)) {
		if (eal_forked_from()) /* the parent's block: say so, touch nothing */
			HP_LOG_E("hp_free(%p): %s; ignored", ptr, eal_no_runtime());
		return;
	}
	if (live_block(ptr, "hp_free", true, &k))
		free_block(ptr, &k);
}

HP_API void *hp_realloc(void *ptr, size_t size, size_t align, int node)
{
	struct blk k;
	void *n;

	if (!ptr)
		return hp_malloc(size, align, node);
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire))
		return hp_fail_ptr(-EINVAL, "heap: %s", eal_no_runtime());
	if (!live_block(ptr, "hp_realloc", false, &k))
		return hp_fail_ptr(-EINVAL,
				   "hp_realloc: %p is not a live block from hp_malloc; "
				   "pass a block hp_malloc returned and that was not freed",
				   ptr);
	if (size == 0) {
		hp_free(ptr);
		return NULL;
	}
	if (node == HP_NODE_ANY)
		node = k.node;
	if (check_node(&node) < 0 || check_size(size, &align) < 0)
		return NULL;
	if (size <= k.capacity && node == k.node && !((uintptr_t)ptr & (align - 1))) {
		if (k.h)
			k.h->size = size;
		else
			heap_big_set_size((uintptr_t)ptr, size);
		return ptr;
	}
	n = alloc_block(size, align, node);
	if (!n)
		return NULL;
	memcpy(n, ptr, size < k.size ? size : k.size);
	hp_free(ptr);
	return n;
}

HP_API int hp_heap_cache_flush(void)
{
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire))
		return hp_fail(-EINVAL, "heap: %s", eal_no_runtime());
	heap_tcache_flush();
	return 0;
}

HP_API int hp_heap_stats(int node, struct hp_heap_stats *st)
{
	if (!st)
		return hp_fail(-EINVAL, "hp_heap_stats: st is NULL; pass a struct to fill in");
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire))
		return hp_fail(-EINVAL, "heap: %s", eal_no_runtime());
	if (node < 0 || node >= eal_node_count() || node >= HP_MAX_NUMA_NODES)
		return hp_fail(-EINVAL,
			       "hp_heap_stats: node %d does not exist; this machine has nodes 0-%d",
			       node, eal_node_count() - 1);
	memset(st, 0, sizeof(*st));
	mem_alloc_stats(node, st->free_blocks, HP_HEAP_ORDERS, &st->free, &st->n_allocated);
	st->total = hp_mem_reserved(node);
	st->allocated = st->total > st->free ? st->total - st->free : 0;
	return 0;
}

HP_API int hp_heap_dump(FILE *f)
{
	struct hp_heap_stats st;

	if (!f)
		return hp_fail(-EINVAL, "hp_heap_dump: f is NULL; pass a stream such as stderr");
	if (!atomic_load_explicit(&heap_ready, memory_order_acquire))
		return hp_fail(-EINVAL, "heap: %s", eal_no_runtime());
	fprintf(f,
		"node  total MiB  free MiB  allocated MiB  free blocks by size (4K 8K 16K ...)\n");
	for (int node = 0; node < eal_node_count() && node < HP_MAX_NUMA_NODES; node++) {
		if (hp_heap_stats(node, &st))
			return -errno;
		fprintf(f, "%4d %10zu %9zu %14zu  ", node, st.total >> 20, st.free >> 20,
			st.allocated >> 20);
		for (unsigned k = 0; k < HP_HEAP_ORDERS; k++)
			fprintf(f, "%zu%s", st.free_blocks[k], k + 1 < HP_HEAP_ORDERS ? " " : "\n");
	}
	return 0;
}

/* ---- subsystem -------------------------------------------------------------------------- */

/* The memory under every block goes away with the allocator's state at cleanup: just forget. */
static void heap_reset(void)
{
	heap_slab_reset();
	heap_large_reset();
}

static int heap_init(const struct hp_init_opts *opts)
{
	(void)opts;
	heap_reset();
	atomic_store_explicit(&heap_ready, true, memory_order_release);
	return 0;
}

static void heap_cleanup(void)
{
	atomic_store_explicit(&heap_ready, false, memory_order_release);
	heap_tcache_retire();
	heap_reset();
}

EAL_SUBSYS_REGISTER(heap, EAL_SUBSYS_HEAP, heap_init, heap_cleanup)

/* In a forked child: the blocks are the parent's; the forking thread's cache is of another run. */
static void heap_fork_child(void)
{
	heap_slab_fork_child();
	heap_large_fork_child();
	heap_cleanup();
}
EAL_FORK_CHILD(heap_fork_child)
