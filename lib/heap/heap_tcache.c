/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc's small blocks as a thread sees them: each thread keeps a few free blocks per class
 * and node (struct tcache), taken and given back without a lock; refills and drains go to the
 * slabs (heap_slab.c) under their node's lock. The cache is the thread's own: no lock guards it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "heap_block.h"

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
	bool live = atomic_load_explicit(&heap_ready, memory_order_acquire) &&
		    t->gen == atomic_load_explicit(&heap_gen, memory_order_acquire);

	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		struct tcache_node *c = t->node[i];

		for (unsigned k = 0; c && k < N_CLS; k++) {
			if (live)
				heap_slab_put_bulk(c->blk[k], c->n[k]);
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

/* Give the calling thread's blocks back to the slabs (hp_heap_cache_flush). */
void heap_tcache_flush(void)
{
	if (tc)
		tc_drain(tc);
}

/* At cleanup: every thread's cache is of an earlier hp_init from now on. */
void heap_tcache_retire(void)
{
	atomic_fetch_add_explicit(&heap_gen, 1, memory_order_acq_rel);
}

/* ---- small blocks ------------------------------------------------------------------------- */

static unsigned cls_of(size_t block)
{
	unsigned c = 0;

	while (cls_size[c] < block)
		c++;
	return c;
}

void *heap_small_get(size_t size, int node)
{
	unsigned cls = cls_of(size + MIN_ALIGN);
	struct tcache_node *c = tcache_of(node);
	char *b, *ptr;
	struct hdr *h;

	if (c) {
		if (!c->n[cls] &&
		    !(c->n[cls] = heap_slab_get_bulk(node, cls, c->blk[cls], TC_MOVE)))
			return NULL;
		b = c->blk[cls][--c->n[cls]];
	} else if (!heap_slab_get_bulk(node, cls, (void **)&b, 1)) {
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

/* Give back a live small block; dynamic: it lies in grown memory (never kept by a thread). */
void heap_small_put(void *ptr, bool dynamic)
{
	void *b = (char *)ptr - MIN_ALIGN;
	struct hdr *h = hdr_of(ptr);
	struct tcache_node *c;
	unsigned cls = h->cls;

	h->magic = HDR_FREE;
	if (dynamic || !(c = tcache_of(h->node))) {
		heap_slab_put_bulk(&b, 1);
		return;
	}
	if (c->n[cls] == TC_MAX) { /* the oldest go back */
		heap_slab_put_bulk(c->blk[cls], TC_MOVE);
		memmove(c->blk[cls], c->blk[cls] + TC_MOVE, (TC_MAX - TC_MOVE) * sizeof(void *));
		c->n[cls] -= TC_MOVE;
	}
	c->blk[cls][c->n[cls]++] = b;
}
