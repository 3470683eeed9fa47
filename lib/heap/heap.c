/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc. Small blocks (up to SLAB_MAX_BLOCK bytes, cache-line aligned) come from per-node
 * 64 KiB slabs of one size class and carry a 32-byte header just before the pointer (magic,
 * node, size class, size, slab). Large or more aligned blocks come straight from
 * mem_range_alloc() with no header: a block of 2^k units takes 2^k units. Their pointer is
 * unit-aligned and recorded in a table (struct big), and no small block's pointer is
 * unit-aligned, so the pointer's low bits tell which kind a free is for.
 *
 * Each thread keeps a few free small blocks per class (struct tcache), used without a lock.
 *
 * Locks: heap_lock[node] guards the node's slab lists and every slab of the node; it is dropped
 * around mem_range_alloc/mem_range_release (order: heap -> memory -> allocator). A big-table
 * stripe lock guards that stripe's records only; nothing but libc's calloc/free runs under it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "mem/mem_internal.h"
#include <hp_heap.h>

#define HDR_LIVE 0x68704c56u   /* "hpLV" */
#define HDR_FREE 0x68704672u   /* "hpFr" */
#define SLAB_MAGIC 0x68705362u /* "hpSb" */
#define MIN_ALIGN ((size_t)HP_CACHE_LINE_SIZE)
#define SLAB_SIZE ((size_t)64 << 10)

/* A small block's header; a large block is described by a struct big in big_tab instead. */
struct hdr {
	uint32_t magic;
	uint16_t node;
	uint16_t cls; /* size class */
	size_t size;  /* bytes the caller asked for */
	void *base;   /* the slab */
	size_t pad;
};

/* A slab: this header in its first cache line, then blocks of one class (each: pad, hdr, data). */
struct slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t node;
	struct slab *prev, *next; /* in the node's list for cls: slabs with a free block */
	void *free;		  /* free blocks linked through their first word */
	unsigned n_free, n_total;
	bool dynamic; /* in grown memory, whose pages go back to the kernel when unused */
};

/* Whether p is unit-aligned: true of every large block's pointer and of no small block's. */
static inline bool unit_aligned(const void *p)
{
	return ((uintptr_t)p & (MEM_RANGE_UNIT - 1)) == 0;
}

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

	*s = (struct slab){.magic = SLAB_MAGIC,
			   .cls = (uint16_t)cls,
			   .node = (uint16_t)node,
			   .dynamic = mem_list_of(s)->dynamic};
	for (; b + bsz <= (char *)s + SLAB_SIZE; b += bsz) {
		if (unit_aligned(b + MIN_ALIGN))
			continue; /* that pointer would read as a large block's */
		*(void **)b = s->free;
		s->free = b;
		s->n_total++;
	}
	s->n_free = s->n_total;
}

/*
 * Up to n free blocks of class cls on node into out[]. More than one is taken only from slabs
 * in memory that stays (--socket-mem), so the blocks a thread keeps never hold pages that
 * should go back to the kernel. @return how many; 0 when none (error set).
 */
static unsigned slab_get_bulk(int node, unsigned cls, void **out, unsigned n)
{
	struct slab **head = &heaps[node].partial[cls];
	struct slab *s;
	unsigned i = 0;

	pthread_mutex_lock(&heap_lock[node]);
	while (i < n) {
		if (!*head) {
			if (i)
				break;
			pthread_mutex_unlock(&heap_lock[node]);
			s = mem_range_alloc(SLAB_SIZE, SLAB_SIZE, node, 0);
			if (!s)
				return 0;
			pthread_mutex_lock(&heap_lock[node]);
			slab_format(s, cls, node);
			slab_link(head, s);
			continue;
		}
		s = *head;
		if (i && s->dynamic)
			break;
		out[i] = s->free;
		s->free = *(void **)out[i++];
		if (--s->n_free == 0)
			slab_unlink(head, s);
		if (s->dynamic)
			break;
	}
	pthread_mutex_unlock(&heap_lock[node]);
	return i;
}

#define TC_MAX 32  /* blocks a thread keeps per class and node */
#define TC_MOVE 16 /* blocks moved between a thread and the slabs at a time */

/*
 * Give n (at most TC_MAX) blocks of one node back to their slabs; an emptied slab goes back to
 * the allocator, except the last of its class in memory that stays (it spares a refill).
 */
static void slab_put_bulk(void *const *blk, unsigned n)
{
	struct slab *release[TC_MAX];
	unsigned n_release = 0;
	int node;

	if (!n)
		return;
	node = ((struct slab *)((uintptr_t)blk[0] & ~(SLAB_SIZE - 1)))->node;
	pthread_mutex_lock(&heap_lock[node]);
	for (unsigned i = 0; i < n; i++) {
		struct slab *s = (struct slab *)((uintptr_t)blk[i] & ~(SLAB_SIZE - 1));
		struct slab **head = &heaps[node].partial[s->cls];

		*(void **)blk[i] = s->free;
		s->free = blk[i];
		if (s->n_free++ == 0)
			slab_link(head, s);
		if (s->n_free == s->n_total && (s->prev || s->next || s->dynamic)) {
			slab_unlink(head, s);
			s->magic = 0;
			release[n_release++] = s;
		}
	}
	pthread_mutex_unlock(&heap_lock[node]);
	for (unsigned i = 0; i < n_release; i++)
		mem_range_release(release[i], SLAB_SIZE);
}

/* ---- thread caches ------------------------------------------------------------------------ */

/*
 * Each thread keeps up to TC_MAX free small blocks per class and node, taken and given back
 * without a lock; it refills from and drains to the slabs TC_MOVE blocks under one lock. Blocks
 * of grown memory are never kept. A cache filled before the last hp_cleanup (an older gen) is
 * forgotten, not drained: its memory is gone. A thread's blocks go back to the slabs when it
 * exits (tc_key's destructor).
 */
struct tcache_node {
	unsigned n[N_CLS];
	void *blk[N_CLS][TC_MAX]; /* block starts, their headers marked free; the newest last */
};

struct tcache {
	unsigned gen;
	struct tcache_node *node[HP_MAX_NUMA_NODES];
};

static __thread struct tcache *tc;
static pthread_key_t tc_key;
static bool tc_key_made;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;
static atomic_uint heap_gen; /* one more at each hp_cleanup */

/* Give t's blocks back to the slabs, unless they are of an earlier hp_init (then forget them). */
static void tc_drain(struct tcache *t)
{
	bool live = atomic_load_explicit(&ready, memory_order_acquire) &&
		    t->gen == atomic_load_explicit(&heap_gen, memory_order_acquire);

	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		struct tcache_node *c = t->node[i];

		for (unsigned k = 0; c && k < N_CLS; k++) {
			if (live)
				slab_put_bulk(c->blk[k], c->n[k]);
			c->n[k] = 0;
		}
	}
}

static void tc_exit(void *arg)
{
	struct tcache *t = arg;

	tc = NULL;
	tc_drain(t);
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++)
		free(t->node[i]);
	free(t);
}

static void tc_make_key(void)
{
	tc_key_made = pthread_key_create(&tc_key, tc_exit) == 0;
}

/* The calling thread's cache for node, made on first use; NULL when it cannot be (no cache). */
static struct tcache_node *tcache_slow(int node)
{
	unsigned gen = atomic_load_explicit(&heap_gen, memory_order_acquire);
	struct tcache *t = tc;

	if (!t) {
		pthread_once(&tc_once, tc_make_key);
		if (!tc_key_made || !(t = calloc(1, sizeof(*t))))
			return NULL;
		if (pthread_setspecific(tc_key, t) != 0) {
			free(t);
			return NULL;
		}
		t->gen = gen;
		tc = t;
	}
	if (t->gen != gen) {
		for (int i = 0; i < HP_MAX_NUMA_NODES; i++)
			if (t->node[i])
				memset(t->node[i]->n, 0, sizeof(t->node[i]->n));
		t->gen = gen;
	}
	if (!t->node[node])
		t->node[node] = calloc(1, sizeof(*t->node[node]));
	return t->node[node];
}

static inline struct tcache_node *tcache_of(int node)
{
	struct tcache *t = tc;

	if (t && t->node[node] && t->gen == atomic_load_explicit(&heap_gen, memory_order_relaxed))
		return t->node[node];
	return tcache_slow(node);
}

/* A library unloaded while threads live must not leave them a destructor to call. */
__attribute__((destructor)) static void tc_unload(void)
{
	if (tc_key_made)
		pthread_key_delete(tc_key);
}

/* ---- blocks ----------------------------------------------------------------------------- */

static int check_node(int *node)
{
	if (!atomic_load_explicit(&ready, memory_order_acquire))
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

/* ---- large blocks: their records ---------------------------------------------------------- */

/* A live large block. */
struct big {
	uintptr_t ptr; /* 0: an empty slot */
	size_t len;    /* bytes taken from mem_range_alloc(), a whole number of units */
	size_t size;   /* bytes the caller asked for */
	int node;
};

/*
 * The records, in BIG_STRIPES tables picked by the pointer's hash, so that frees on different
 * threads seldom meet on one lock. Each is open-addressed (linear probing, at most half full).
 */
#define BIG_STRIPES 16
static struct big_stripe {
	pthread_mutex_t lock;
	struct big *slot;
	size_t cap, n; /* cap: a power of two, or 0 before the first record */
} __attribute__((aligned(HP_CACHE_LINE_SIZE)))
big_tab[BIG_STRIPES] = {[0 ... BIG_STRIPES - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

static inline uint64_t big_hash(uintptr_t ptr)
{
	return (uint64_t)(ptr / MEM_RANGE_UNIT) * 0x9e3779b97f4a7c15ull;
}

static inline struct big_stripe *big_stripe_of(uintptr_t ptr)
{
	return &big_tab[big_hash(ptr) >> 60];
}

static inline size_t big_home(uintptr_t ptr, size_t cap)
{
	return (size_t)(big_hash(ptr) >> 24) & (cap - 1);
}

/* The slot holding ptr, or the empty slot where it would go (cap > 0, the table not full). */
static struct big *big_slot(struct big *slot, size_t cap, uintptr_t ptr)
{
	size_t i = big_home(ptr, cap);

	while (slot[i].ptr && slot[i].ptr != ptr)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* Record a block. @return 0, or -ENOMEM (error set) when the table cannot grow. */
static int big_add(const struct big *rec)
{
	struct big_stripe *t = big_stripe_of(rec->ptr);

	pthread_mutex_lock(&t->lock);
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct big *old = t->slot, *slot = calloc(cap, sizeof(*slot));

		if (!slot) {
			pthread_mutex_unlock(&t->lock);
			return hp_fail(-ENOMEM, "hp_malloc: out of process memory for the heap's "
						"block table; free some memory and retry");
		}
		t->slot = slot;
		for (size_t i = 0; i < t->cap; i++)
			if (old[i].ptr)
				*big_slot(slot, cap, old[i].ptr) = old[i];
		t->cap = cap;
		free(old);
	}
	*big_slot(t->slot, t->cap, rec->ptr) = *rec;
	t->n++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/*
 * Copy out the record of ptr into *rec; with take, also remove it (the block is then the
 * caller's to release). @return false when ptr is not a live large block.
 */
static bool big_find(uintptr_t ptr, struct big *rec, bool take)
{
	struct big_stripe *t = big_stripe_of(ptr);
	struct big *s;
	size_t i, j;

	pthread_mutex_lock(&t->lock);
	s = t->cap ? big_slot(t->slot, t->cap, ptr) : NULL;
	if (!s || !s->ptr) {
		pthread_mutex_unlock(&t->lock);
		return false;
	}
	*rec = *s;
	if (take) {
		/* backward-shift delete: move up every later record of the run that may sit here */
		i = (size_t)(s - t->slot);
		for (j = (i + 1) & (t->cap - 1); t->slot[j].ptr; j = (j + 1) & (t->cap - 1)) {
			size_t home = big_home(t->slot[j].ptr, t->cap);

			if (((j - home) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
				t->slot[i] = t->slot[j];
				i = j;
			}
		}
		t->slot[i].ptr = 0;
		t->n--;
	}
	pthread_mutex_unlock(&t->lock);
	return true;
}

/* A record's size after an in-place realloc. */
static void big_set_size(uintptr_t ptr, size_t size)
{
	struct big_stripe *t = big_stripe_of(ptr);
	struct big *s;

	pthread_mutex_lock(&t->lock);
	s = t->cap ? big_slot(t->slot, t->cap, ptr) : NULL;
	if (s && s->ptr == ptr)
		s->size = size;
	pthread_mutex_unlock(&t->lock);
}

/* ---- blocks ------------------------------------------------------------------------------ */

/*
 * A large block: whole units, placed so that the pointer (the block's start) is aligned; a
 * large alignment is met by placement, so it costs no memory.
 */
static void *large_get(size_t size, size_t align, int node)
{
	struct big rec = {.len = HP_ALIGN_UP(size, MEM_RANGE_UNIT), .size = size, .node = node};
	void *ptr = mem_range_alloc(rec.len, align, node, 0);

	if (!ptr)
		return NULL;
	rec.ptr = (uintptr_t)ptr;
	if (big_add(&rec) < 0) {
		mem_range_release(ptr, rec.len);
		return NULL;
	}
	return ptr;
}

static void *small_get(size_t size, int node)
{
	unsigned cls = cls_of(size + MIN_ALIGN);
	struct tcache_node *c = tcache_of(node);
	char *b, *ptr;
	struct hdr *h;

	if (c) {
		if (!c->n[cls] && !(c->n[cls] = slab_get_bulk(node, cls, c->blk[cls], TC_MOVE)))
			return NULL;
		b = c->blk[cls][--c->n[cls]];
	} else if (!slab_get_bulk(node, cls, (void **)&b, 1)) {
		return NULL;
	}
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

	/* a small block's header must lie in the same runtime memory before it is read */
	if (!l || ((uintptr_t)ptr & (MIN_ALIGN - 1)) ||
	    (!unit_aligned(ptr) && mem_list_of(h) != l)) {
		HP_LOG_E("%s(%p): not a block from hp_malloc (not in runtime memory); ignored", who,
			 ptr);
		return false;
	}
	if (!unit_aligned(ptr) && !mem_page_present(l, h)) {
		HP_LOG_E("%s(%p): block is in memory given back to the kernel (freed already: "
			 "double free?); ignored",
			 who, ptr);
		return false;
	}
	if (unit_aligned(ptr)) {
		if (!big_find((uintptr_t)ptr, &k->big, take)) {
			HP_LOG_E("%s(%p): not a live block from hp_malloc (freed already, or a "
				 "pointer into a block); ignored",
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
		HP_LOG_E("%s(%p): not a block from hp_malloc (bad header; overrun?); ignored", who,
			 ptr);
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
	void *b = (char *)ptr - MIN_ALIGN;
	struct tcache_node *c;
	unsigned cls = k->h->cls;

	k->h->magic = HDR_FREE;
	if (k->dynamic || !(c = tcache_of(k->node))) {
		slab_put_bulk(&b, 1);
		return;
	}
	if (c->n[cls] == TC_MAX) { /* the oldest go back */
		slab_put_bulk(c->blk[cls], TC_MOVE);
		memmove(c->blk[cls], c->blk[cls] + TC_MOVE, (TC_MAX - TC_MOVE) * sizeof(void *));
		c->n[cls] -= TC_MOVE;
	}
	c->blk[cls][c->n[cls]++] = b;
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
	if (!atomic_load_explicit(&ready, memory_order_acquire)) {
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
	if (!atomic_load_explicit(&ready, memory_order_acquire))
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
			big_set_size((uintptr_t)ptr, size);
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
	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail(-EINVAL, "heap: %s", eal_no_runtime());
	if (tc)
		tc_drain(tc);
	return 0;
}

HP_API int hp_heap_stats(int node, struct hp_heap_stats *st)
{
	if (!st)
		return hp_fail(-EINVAL, "hp_heap_stats: st is NULL; pass a struct to fill in");
	if (!atomic_load_explicit(&ready, memory_order_acquire))
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
	if (!atomic_load_explicit(&ready, memory_order_acquire))
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
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		pthread_mutex_lock(&heap_lock[i]);
		memset(&heaps[i], 0, sizeof(heaps[i]));
		pthread_mutex_unlock(&heap_lock[i]);
	}
	for (int i = 0; i < BIG_STRIPES; i++) {
		pthread_mutex_lock(&big_tab[i].lock);
		free(big_tab[i].slot);
		big_tab[i].slot = NULL;
		big_tab[i].cap = big_tab[i].n = 0;
		pthread_mutex_unlock(&big_tab[i].lock);
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
	atomic_fetch_add_explicit(&heap_gen, 1, memory_order_acq_rel);
	heap_reset();
}

static struct eal_subsys heap_subsys = {
    .name = "heap",
    .order = 30,
    .init = heap_init,
    .cleanup = heap_cleanup,
};
EAL_SUBSYS_REGISTER(heap_subsys)

/* In a forked child: the blocks are the parent's; the forking thread's cache is of another run. */
static void heap_fork_child(void)
{
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++)
		heap_lock[i] = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (int i = 0; i < BIG_STRIPES; i++)
		big_tab[i].lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	heap_cleanup();
}
EAL_FORK_CHILD(heap_fork_child)
