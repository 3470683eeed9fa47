/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc: every block has a 32-byte header just before the pointer handed out (magic, node,
 * size class, size, where its memory came from). Blocks up to SLAB_MAX_BLOCK bytes come from
 * per-node 64 KiB slabs of one size class; bigger or more aligned blocks come straight from
 * mem_range_alloc(). Per node, heap_lock[node] guards its slab lists and every slab of the node;
 * it is dropped around mem_range_alloc/mem_range_release (lock order: heap -> memory -> allocator).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "mem/mem_internal.h"
#include <hp_heap.h>

#define HDR_LIVE 0x68704c56u   /* "hpLV" */
#define HDR_FREE 0x68704672u   /* "hpFr" */
#define SLAB_MAGIC 0x68705362u /* "hpSb" */
#define CLS_LARGE 0xffffu
#define MIN_ALIGN ((size_t)HP_CACHE_LINE_SIZE)
#define SLAB_SIZE ((size_t)64 << 10)

struct hdr {
	uint32_t magic;
	uint16_t node;
	uint16_t cls; /* size class, or CLS_LARGE */
	size_t size;  /* bytes the caller asked for */
	void *base;   /* the slab (small) or start of the mem_range_alloc'ed block (large) */
	size_t len;   /* large: bytes given back to mem_range_release(base, len) */
};

/* A slab: this header in its first cache line, then blocks of one class (each: pad, hdr, data). */
struct slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t node;
	struct slab *prev, *next; /* in the node's list for cls: slabs with a free block */
	void *free;		  /* free blocks linked through their first word */
	unsigned n_free, n_total;
};

/* Block sizes, each a multiple of a cache line: the first line of a block holds its header. */
static const size_t cls_size[] = {128,	192,  256,  384,  512,	768, 1024,
				  1536, 2048, 3072, 4096, 6144, 8192};
#define N_CLS (sizeof(cls_size) / sizeof(cls_size[0]))
#define SLAB_MAX_BLOCK 8192

struct node_heap {
	struct slab *partial[N_CLS]; /* slabs with at least one free block */
};

static pthread_mutex_t heap_lock[HP_MAX_NUMA_NODES] = {[0 ... HP_MAX_NUMA_NODES - 1] =
							   PTHREAD_MUTEX_INITIALIZER};
static struct node_heap heaps[HP_MAX_NUMA_NODES];
static atomic_bool ready;

_Static_assert(sizeof(struct hdr) <= MIN_ALIGN / 2, "header fits before a cache-aligned pointer");
_Static_assert(sizeof(struct slab) <= MIN_ALIGN, "slab header fits in one cache line");

static inline struct hdr *hdr_of(void *ptr)
{
	return (struct hdr *)ptr - 1;
}

static unsigned cls_of(size_t block)
{
	unsigned c = 0;

	while (cls_size[c] < block)
		c++;
	return c;
}

/* ---- slabs (caller holds heap_lock[node]) ------------------------------------------------ */

static void slab_link(struct slab **head, struct slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void slab_unlink(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void slab_format(struct slab *s, unsigned cls, int node)
{
	size_t bsz = cls_size[cls];
	char *b = (char *)s + MIN_ALIGN;

	*s = (struct slab){.magic = SLAB_MAGIC, .cls = (uint16_t)cls, .node = (uint16_t)node};
	for (; b + bsz <= (char *)s + SLAB_SIZE; b += bsz) {
		*(void **)b = s->free;
		s->free = b;
		s->n_total++;
	}
	s->n_free = s->n_total;
}

/* A free block of class cls on node, or NULL (error set). */
static void *slab_get(int node, unsigned cls)
{
	struct slab **head = &heaps[node].partial[cls];
	struct slab *s;
	void *b;

	pthread_mutex_lock(&heap_lock[node]);
	while (!*head) {
		pthread_mutex_unlock(&heap_lock[node]);
		s = mem_range_alloc(SLAB_SIZE, SLAB_SIZE, node, 0);
		if (!s)
			return NULL;
		pthread_mutex_lock(&heap_lock[node]);
		slab_format(s, cls, node);
		slab_link(head, s);
	}
	s = *head;
	b = s->free;
	s->free = *(void **)b;
	if (--s->n_free == 0)
		slab_unlink(head, s);
	pthread_mutex_unlock(&heap_lock[node]);
	return b;
}

/* Give block b back to slab s; an emptied slab goes back to the allocator (see below). */
static void slab_put(struct slab *s, void *b)
{
	int node = s->node;
	struct slab **head = &heaps[node].partial[s->cls];
	bool release = false;

	pthread_mutex_lock(&heap_lock[node]);
	*(void **)b = s->free;
	s->free = b;
	if (s->n_free++ == 0)
		slab_link(head, s);
	/*
	 * An emptied slab stays while it is the last of its class (to spare a refill), except in
	 * grown memory, whose pages must go back to the kernel once nothing uses them.
	 */
	if (s->n_free == s->n_total && (s->prev || s->next || mem_list_of(s)->dynamic)) {
		slab_unlink(head, s);
		s->magic = 0;
		release = true;
	}
	pthread_mutex_unlock(&heap_lock[node]);
	if (release)
		mem_range_release(s, SLAB_SIZE);
}

/* ---- blocks ----------------------------------------------------------------------------- */

static int check_node(int *node)
{
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail(-EINVAL, "the heap is not set up; call hp_init() first");
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

/*
 * A large block: the pointer is lead bytes into the block (its alignment, at most one
 * allocation unit) with the header in the cache line before it; a larger alignment is met by
 * where the block is placed (skew), so it costs no memory.
 */
static void *large_get(size_t size, size_t align, int node)
{
	size_t lead = align < MEM_RANGE_UNIT ? align : MEM_RANGE_UNIT;
	size_t len = HP_ALIGN_UP(size, MIN_ALIGN) + lead;
	char *base = mem_range_alloc_skew(len, align, lead % align, node, 0), *ptr;
	struct hdr *h;

	if (!base)
		return NULL;
	ptr = base + lead;
	h = hdr_of(ptr);
	*h = (struct hdr){.magic = HDR_LIVE,
			  .node = (uint16_t)node,
			  .cls = CLS_LARGE,
			  .size = size,
			  .base = base,
			  .len = len};
	return ptr;
}

static void *small_get(size_t size, int node)
{
	unsigned cls = cls_of(size + MIN_ALIGN);
	char *b = slab_get(node, cls), *ptr;
	struct hdr *h;

	if (!b)
		return NULL;
	ptr = b + MIN_ALIGN;
	h = hdr_of(ptr);
	*h = (struct hdr){.magic = HDR_LIVE,
			  .node = (uint16_t)node,
			  .cls = (uint16_t)cls,
			  .size = size,
			  .base = (void *)((uintptr_t)b & ~(SLAB_SIZE - 1))};
	return ptr;
}

static void *alloc_block(size_t size, size_t align, int node)
{
	if (align == MIN_ALIGN && size <= SLAB_MAX_BLOCK - MIN_ALIGN)
		return small_get(size, node);
	return large_get(size, align, node);
}

/* Bytes the block at ptr can hold. */
static size_t capacity(const struct hdr *h)
{
	if (h->cls == CLS_LARGE)
		return (size_t)((const char *)h->base + h->len - (const char *)(h + 1));
	return cls_size[h->cls] - MIN_ALIGN;
}

/*
 * The header of a live block, or NULL after logging why ptr is not one. Checks that the header
 * lies in runtime memory before reading it, so a foreign pointer cannot crash us.
 */
static struct hdr *live_hdr(void *ptr, const char *who)
{
	struct hdr *h = hdr_of(ptr);
	const struct mem_list *l = mem_list_of(ptr);

	if (!l || mem_list_of(h) != l || ((uintptr_t)ptr & (MIN_ALIGN - 1))) {
		HP_LOG_E("%s(%p): not a block from hp_malloc (not in runtime memory); ignored", who,
			 ptr);
		return NULL;
	}
	if (h->magic == HDR_FREE) {
		HP_LOG_E("%s(%p): block is free already (double free?); ignored", who, ptr);
		return NULL;
	}
	if (h->magic != HDR_LIVE || h->node >= HP_MAX_NUMA_NODES ||
	    (h->cls != CLS_LARGE && h->cls >= N_CLS)) {
		HP_LOG_E("%s(%p): not a block from hp_malloc (bad header; overrun?); ignored", who,
			 ptr);
		return NULL;
	}
	return h;
}

static void free_block(void *ptr, struct hdr *h)
{
	h->magic = HDR_FREE;
	if (h->cls == CLS_LARGE)
		mem_range_release(h->base, h->len);
	else
		slab_put(h->base, (char *)ptr - MIN_ALIGN);
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
	struct hdr *h;

	if (!ptr || !atomic_load_explicit(&ready, memory_order_acquire))
		return;
	h = live_hdr(ptr, "hp_free");
	if (h)
		free_block(ptr, h);
}

HP_API void *hp_realloc(void *ptr, size_t size, size_t align, int node)
{
	struct hdr *h;
	void *n;

	if (!ptr)
		return hp_malloc(size, align, node);
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail_ptr(-EINVAL, "the heap is not set up; call hp_init() first");
	h = live_hdr(ptr, "hp_realloc");
	if (!h)
		return hp_fail_ptr(-EINVAL,
				   "hp_realloc: %p is not a live block from hp_malloc; "
				   "pass a block hp_malloc returned and that was not freed",
				   ptr);
	if (size == 0) {
		free_block(ptr, h);
		return NULL;
	}
	if (node == HP_NODE_ANY)
		node = h->node;
	if (check_node(&node) < 0 || check_size(size, &align) < 0)
		return NULL;
	if (size <= capacity(h) && node == h->node && !((uintptr_t)ptr & (align - 1))) {
		h->size = size;
		return ptr;
	}
	n = alloc_block(size, align, node);
	if (!n)
		return NULL;
	memcpy(n, ptr, size < h->size ? size : h->size);
	free_block(ptr, h);
	return n;
}

HP_API int hp_heap_stats(int node, struct hp_heap_stats *st)
{
	if (!st)
		return hp_fail(-EINVAL, "hp_heap_stats: st is NULL; pass a struct to fill in");
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail(-EINVAL, "the heap is not set up; call hp_init() first");
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
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail(-EINVAL, "the heap is not set up; call hp_init() first");
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

/* The memory under every slab goes away with the allocator's state at cleanup: just forget. */
static void heap_reset(void)
{
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		pthread_mutex_lock(&heap_lock[i]);
		memset(&heaps[i], 0, sizeof(heaps[i]));
		pthread_mutex_unlock(&heap_lock[i]);
	}
}

static int heap_init(const struct hp_init_opts *opts)
{
	(void)opts;
	heap_reset();
	atomic_store_explicit(&ready, true, memory_order_release);
	return 0;
}

static void heap_cleanup(void)
{
	atomic_store_explicit(&ready, false, memory_order_release);
	heap_reset();
}

static struct eal_subsys heap_subsys = {
    .name = "heap",
    .order = 30,
    .init = heap_init,
    .cleanup = heap_cleanup,
};
EAL_SUBSYS_REGISTER(heap_subsys)
