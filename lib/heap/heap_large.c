/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc's large or over-aligned blocks: straight from mem_range_alloc() with no header (a
 * block of 2^k units takes 2^k units), each recorded in a table (struct big). A stripe lock
 * guards that stripe's records only; nothing but libc's calloc/free runs under it (lock
 * level 13, doc/architecture.md).
 */
#include <pthread.h>
#include <stdlib.h>

#include "heap_block.h"

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
bool heap_big_find(uintptr_t ptr, struct big *rec, bool take)
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
void heap_big_set_size(uintptr_t ptr, size_t size)
{
	struct big_stripe *t = big_stripe_of(ptr);
	struct big *s;

	pthread_mutex_lock(&t->lock);
	s = t->cap ? big_slot(t->slot, t->cap, ptr) : NULL;
	if (s && s->ptr == ptr)
		s->size = size;
	pthread_mutex_unlock(&t->lock);
}

/*
 * A large block: whole units, placed so that the pointer (the block's start) is aligned; a
 * large alignment is met by placement, so it costs no memory.
 */
void *heap_large_get(size_t size, size_t align, int node)
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

/* The blocks' memory goes away with the allocator's state at cleanup: drop the records. */
void heap_large_reset(void)
{
	for (int i = 0; i < BIG_STRIPES; i++) {
		pthread_mutex_lock(&big_tab[i].lock);
		free(big_tab[i].slot);
		big_tab[i].slot = NULL;
		big_tab[i].cap = big_tab[i].n = 0;
		pthread_mutex_unlock(&big_tab[i].lock);
	}
}

void heap_large_fork_child(void)
{
	for (int i = 0; i < BIG_STRIPES; i++)
		big_tab[i].lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
