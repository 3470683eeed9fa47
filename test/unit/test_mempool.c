/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool behaviour: get/put through lcore caches, user caches and none; counts that include
 * cached objects; bulk all-or-nothing; backends (ring SP/SC across two threads, stack LIFO);
 * object iteration; IOVAs against lib/mem and pagemap; bad arguments leaving nothing behind;
 * and, in a build with -Dmempool_debug=true, the reports of double free, foreign pointers and
 * overruns. One runtime for the whole group; the main thread has an lcore id.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"
#include "mem/mem_internal.h"

#define SOCKET_MB 64

static struct hp_mempool_cache *cache_of_lcore(struct hp_mempool *mp)
{
	return __hp_mempool_lcore_cache(mp);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void assert_distinct(void **objs, unsigned n)
{
	void **copy = malloc(n * sizeof(*copy));
	unsigned i;

	memcpy(copy, objs, n * sizeof(*copy));
	qsort(copy, n, sizeof(*copy), cmp_ptr);
	for (i = 1; i < n; i++)
		assert_ptr_not_equal(copy[i - 1], copy[i]);
	free(copy);
}

/* The end of a test: avail objects are back, the pool's checks pass, and it goes. */
static void free_whole(struct hp_mempool *mp, unsigned avail)
{
	assert_int_equal(hp_mempool_avail_count(mp), avail);
	assert_int_equal(hp_mempool_audit(mp), 0);
	hp_mempool_free(mp);
}

static int count_zone(const struct hp_memzone *mz, void *arg)
{
	(void)mz;
	++*(unsigned *)arg;
	return 0;
}

static unsigned zone_count(void)
{
	unsigned n = 0;

	hp_memzone_walk(count_zone, &n);
	return n;
}

static void test_get_put_through_the_lcore_cache(void **state)
{
	enum { N = 1000 };
	struct hp_mempool *mp = hp_mempool_create("t.basic", N, 100, 32, 0, 0);
	static void *objs[N + 1];
	unsigned i;

	(void)state;
	assert_non_null(mp);
	for (i = 0; i < N; i++) {
		assert_int_equal(hp_mempool_get(mp, &objs[i]), 0);
		memset(objs[i], (int)i, 100); /* every byte is the caller's */
	}
	assert_int_equal(hp_mempool_get(mp, &objs[N]), -ENOENT);
	assert_distinct(objs, N);
	assert_int_equal(hp_mempool_in_use_count(mp), N);
	assert_int_equal(hp_mempool_avail_count(mp), 0);
	for (i = 0; i < N; i++)
		hp_mempool_put(mp, objs[i]);
	assert_int_equal(hp_mempool_avail_count(mp), N);
	assert_int_equal(hp_mempool_in_use_count(mp), 0);
	assert_int_equal(hp_mempool_audit(mp), 0);
	hp_mempool_free(mp);
}

/*
 * Put a[0, n) and take n back: from the top of the cache, so the same objects in the same order.
 * Always inline: called with a constant n, it tests the inline copy specialised for that n.
 */
static inline __attribute__((always_inline)) void
put_then_get_gives_the_same_back(struct hp_mempool *mp, void **a, void **b, unsigned n,
				 unsigned slots)
{
	unsigned i;

	for (i = 0; i < slots; i++)
		b[i] = (void *)(uintptr_t)0x5a5a; /* the copy must not write past b[n - 1] */
	hp_mempool_put_bulk(mp, a, n);
	assert_int_equal(hp_mempool_get_bulk(mp, b, n), 0);
	for (i = 0; i < n; i++)
		assert_ptr_equal(b[i], a[i]);
	for (; i < slots; i++)
		assert_ptr_equal(b[i], (void *)(uintptr_t)0x5a5a);
}

/*
 * The hot path copies a constant bulk inline and a run-time one by size class (1, under 8,
 * whole blocks of 8, the rest out of line): every class, at every offset a block can end on,
 * moves exactly its n pointers.
 */
static void test_every_bulk_size_moves_exactly_its_objects(void **state)
{
	enum { SLOTS = 80 };
	struct hp_mempool *mp = hp_mempool_create("t.sizes", 1024, 64, 128, 0, 0);
	void *a[SLOTS], *b[SLOTS];
	volatile unsigned top = 72; /* a run-time bound: n below is not a constant */
	unsigned n;

	(void)state;
	assert_non_null(mp);
	for (n = 1; n <= top; n++) {
		assert_int_equal(hp_mempool_get_bulk(mp, a, n), 0);
		assert_distinct(a, n);
		put_then_get_gives_the_same_back(mp, a, b, n, SLOTS);
		hp_mempool_put_bulk(mp, b, n);
	}
	/* constant bulks, one of each shape of the inline copy (a[] holds the same 64 objects) */
	assert_int_equal(hp_mempool_get_bulk(mp, a, 64), 0);
	put_then_get_gives_the_same_back(mp, a, b, 1, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 3, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 4, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 7, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 8, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 13, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 32, SLOTS);
	put_then_get_gives_the_same_back(mp, a, b, 63, SLOTS);
	hp_mempool_put_bulk(mp, a, 64);
	free_whole(mp, 1024);
}

static void test_counts_include_objects_in_caches(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.counts", 512, 64, 64, 0, 0);
	void *objs[10];

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 10), 0);
	hp_mempool_put_bulk(mp, objs, 10);
	/* the refill left objects in this lcore's cache: the backend alone has fewer than 512 */
	assert_true(cache_of_lcore(mp)->len > 0);
	assert_int_equal(mp->ops->count(mp) + cache_of_lcore(mp)->len, 512);
	assert_int_equal(hp_mempool_avail_count(mp), 512);
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 5), 0);
	assert_int_equal(hp_mempool_in_use_count(mp), 5);
	hp_mempool_put_bulk(mp, objs, 5);
	assert_int_equal(hp_mempool_in_use_count(mp), 0);
	hp_mempool_free(mp);
}

static void test_cache_moves_objects_in_bulk_when_a_core_only_frees_or_only_allocates(void **state)
{
	enum { N = 2048, C = 64 };
	struct hp_mempool *mp = hp_mempool_create("t.flush", N, 32, C, 0, 0);
	struct hp_mempool_cache *c;
	static void *objs[N];
	unsigned i, backend_calls = 0, prev;

	(void)state;
	assert_non_null(mp);
	c = cache_of_lcore(mp);
	/* only allocating: the backend is met once per refill of C/2 + 1 objects */
	prev = mp->ops->count(mp);
	for (i = 0; i < N; i++) {
		assert_int_equal(hp_mempool_get(mp, &objs[i]), 0);
		if (mp->ops->count(mp) != prev) {
			backend_calls++;
			assert_true(prev - mp->ops->count(mp) >= C / 2 || mp->ops->count(mp) == 0);
			prev = mp->ops->count(mp);
		}
	}
	assert_true(backend_calls <= N / (C / 2) + 1);
	/* only freeing: the cache never passes 1.5 C; a flush moves at least C objects at once */
	backend_calls = 0;
	prev = mp->ops->count(mp);
	for (i = 0; i < N; i++) {
		hp_mempool_put(mp, objs[i]);
		assert_true(c->len <= HP_MEMPOOL_CACHE_FLUSHTHRESH(C));
		if (mp->ops->count(mp) != prev) {
			backend_calls++;
			assert_true(mp->ops->count(mp) - prev >= C);
			assert_int_equal(c->len, C / 2);
			prev = mp->ops->count(mp);
		}
	}
	assert_true(backend_calls >= 1 && backend_calls <= N / C + 1);
	free_whole(mp, N);
}

struct user_cache_arg {
	struct hp_mempool *mp;
	unsigned lcore;
	unsigned avail_with_cache, backend_with_cache, avail_after_free;
	int rc;
};

static void *user_cache_thread(void *p)
{
	struct user_cache_arg *a = p;
	struct hp_mempool_cache *c = hp_mempool_cache_create(32, HP_NODE_ANY);
	void *objs[40];

	a->lcore = hp_lcore_id();
	a->rc = c ? 0 : -errno;
	if (!c)
		return NULL;
	a->rc |= hp_mempool_generic_get(a->mp, objs, 40, c);
	hp_mempool_generic_put(a->mp, objs, 40, c);
	a->rc |= hp_mempool_generic_get(a->mp, objs, 3, c);
	hp_mempool_generic_put(a->mp, objs, 3, c);
	a->avail_with_cache = hp_mempool_avail_count(a->mp);
	a->backend_with_cache = a->mp->ops->count(a->mp);
	hp_mempool_cache_free(c);
	a->avail_after_free = hp_mempool_avail_count(a->mp);
	return NULL;
}

static void test_user_owned_cache_serves_a_thread_without_an_lcore_id(void **state)
{
	struct user_cache_arg a = {.mp = hp_mempool_create("t.ucache", 256, 48, 0, 0, 0)};
	pthread_t t;

	(void)state;
	assert_non_null(a.mp);
	assert_int_equal(pthread_create(&t, NULL, user_cache_thread, &a), 0);
	pthread_join(t, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.lcore, HP_LCORE_ANY);
	assert_int_equal(a.avail_with_cache, 256); /* objects in the user cache count */
	assert_true(a.backend_with_cache < 256);   /* ...and they really were in it */
	assert_int_equal(a.avail_after_free, 256);
	assert_int_equal(a.mp->ops->count(a.mp), 256); /* freeing the cache gave them back */
	assert_int_equal(hp_mempool_audit(a.mp), 0);
	hp_mempool_free(a.mp);
}

static void *no_lcore_thread(void *p)
{
	struct hp_mempool *mp = p;
	unsigned refill = hp_mempool_percpu_enabled(NULL) ? mp->cache_size / 2 : 0;
	void *objs[7];
	uintptr_t bad = 0;

	if (hp_mempool_get_bulk(mp, objs, 7) != 0)
		return (void *)1;
	/* per-CPU caches on: 7 and half a cache from the backend in one call; off: just the 7 */
	bad |= mp->ops->count(mp) != mp->size - 7 - refill;
	bad |= hp_mempool_avail_count(mp) != mp->size - 7;
	hp_mempool_put_bulk(mp, objs, 7);
	bad |= mp->ops->count(mp) != mp->size - (refill ? refill + 7 : 0);
	bad |= hp_mempool_avail_count(mp) != mp->size;
	/* what the CPU caches hold goes back when asked, from any thread */
	bad |= hp_mempool_percpu_flush(mp) != (int)(refill ? refill + 7 : 0);
	bad |= mp->ops->count(mp) != mp->size;
	return (void *)bad;
}

static void test_thread_without_an_lcore_id_uses_its_cpus_cache_or_the_backend(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.nolcore", 300, 8, 100, 0, 0);
	const char *why;
	pthread_t t;
	void *ret;

	(void)state;
	hp_mempool_percpu_enabled(&why);
	hp_test_note("per-CPU caches %s", why);
	assert_non_null(mp);
	assert_int_equal(pthread_create(&t, NULL, no_lcore_thread, mp), 0);
	pthread_join(t, &ret);
	assert_null(ret);
	assert_int_equal(hp_mempool_audit(mp), 0);
	hp_mempool_free(mp);
}

struct spsc {
	struct hp_mempool *mp;
	struct hp_ring *chan;
	unsigned rounds;
	_Atomic unsigned fails;
};

/* the only thread that gets: hands each object to the producer through a ring */
static void *consumer(void *p)
{
	struct spsc *s = p;
	unsigned i;
	void *o;

	for (i = 0; i < s->rounds; i++) {
		while (hp_mempool_get(s->mp, &o) != 0)
			;
		*(unsigned *)o = i;
		while (hp_ring_enqueue_bulk(s->chan, &o, 1, NULL) == 0)
			;
	}
	return NULL;
}

/* the only thread that puts */
static void *producer(void *p)
{
	struct spsc *s = p;
	unsigned i;
	void *o;

	for (i = 0; i < s->rounds; i++) {
		while (hp_ring_dequeue_bulk(s->chan, &o, 1, NULL) == 0)
			;
		if (*(unsigned *)o != i)
			s->fails++;
		hp_mempool_put(s->mp, o);
	}
	return NULL;
}

static void test_sp_sc_pool_serves_one_producer_and_one_consumer_thread(void **state)
{
	struct spsc s = {.rounds = 200000};
	pthread_t a, b;

	(void)state;
	s.mp = hp_mempool_create("t.spsc", 64, 16, 0, 0, HP_MEMPOOL_F_SP_PUT | HP_MEMPOOL_F_SC_GET);
	s.chan = hp_ring_create("t.spsc.chan", 128, 0, HP_RING_SP_ENQ | HP_RING_SC_DEQ);
	assert_non_null(s.mp);
	assert_non_null(s.chan);
	assert_string_equal(s.mp->ops->name, "ring_sp_sc");
	assert_int_equal(pthread_create(&a, NULL, consumer, &s), 0);
	assert_int_equal(pthread_create(&b, NULL, producer, &s), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(s.fails, 0);
	assert_int_equal(hp_mempool_avail_count(s.mp), 64);
	assert_int_equal(hp_mempool_audit(s.mp), 0);
	hp_ring_free(s.chan);
	hp_mempool_free(s.mp);
}

static void test_same_name_twice_fails_and_keeps_the_first(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.twice", 16, 8, 0, 0, 0);
	unsigned zones;

	(void)state;
	assert_non_null(mp);
	zones = zone_count();
	assert_null(hp_mempool_create("t.twice", 16, 8, 0, 0, 0));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(hp_last_error(), "t.twice"));
	assert_int_equal(zone_count(), zones);
	assert_ptr_equal(hp_mempool_lookup("t.twice"), mp);
	hp_mempool_free(mp);
	assert_null(hp_mempool_lookup("t.twice"));
	assert_int_equal(errno, ENOENT);
}

struct seen {
	void **objs;
	unsigned n, bad_idx;
};

static void collect(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct seen *s = arg;

	(void)mp;
	s->bad_idx += idx != s->n;
	s->objs[s->n++] = obj;
}

static void test_obj_iter_visits_every_object_once(void **state)
{
	enum { N = 3000 };
	struct hp_mempool *mp = hp_mempool_create("t.iter", N, 200, 16, 0, 0);
	static void *seen_objs[N], *got[N];
	struct seen s = {.objs = seen_objs};
	unsigned i;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_obj_iter(mp, collect, &s), N);
	assert_int_equal(s.n, N);
	assert_int_equal(s.bad_idx, 0);
	assert_distinct(seen_objs, N);
	/* the objects visited are exactly the ones the pool hands out */
	assert_int_equal(hp_mempool_get_bulk(mp, got, N), 0);
	qsort(got, N, sizeof(void *), cmp_ptr);
	qsort(seen_objs, N, sizeof(void *), cmp_ptr);
	for (i = 0; i < N; i++)
		assert_ptr_equal(got[i], seen_objs[i]);
	hp_mempool_put_bulk(mp, got, N);
	hp_mempool_free(mp);
}

struct chunks {
	char *va[HP_MEMPOOL_MAX_CHUNKS];
	size_t len[HP_MEMPOOL_MAX_CHUNKS];
	unsigned n, bad_idx, outside;
};

static void note_chunk(struct hp_mempool *mp, void *arg, void *va, size_t len, unsigned idx)
{
	struct chunks *c = arg;

	(void)mp;
	c->bad_idx += idx != c->n;
	c->va[c->n] = va;
	c->len[c->n++] = len;
}

/* each object of 2000 B and the IOVA word in front of it must lie inside one reported chunk */
static void check_inside(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct chunks *c = arg;
	char *start = (char *)obj - 8, *end = (char *)obj + 2000;
	unsigned i;

	(void)mp;
	(void)idx;
	for (i = 0; i < c->n; i++)
		if (start >= c->va[i] && end <= c->va[i] + c->len[i])
			return;
	c->outside++;
}

static void test_mem_iter_reports_chunks_that_hold_every_object(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.memiter", 3000, 2000, 16, 0, 0);
	struct chunks c = {0};
	int n;

	(void)state;
	assert_non_null(mp);
	n = hp_mempool_mem_iter(mp, note_chunk, &c);
	assert_true(n >= 1 && n <= HP_MEMPOOL_MAX_CHUNKS);
	assert_int_equal(c.n, (unsigned)n);
	assert_int_equal(c.bad_idx, 0);
	assert_int_equal(hp_mempool_obj_iter(mp, check_inside, &c), 3000);
	assert_int_equal(c.outside, 0);
	/* a chunk is runtime memory: the library knows its IOVA */
	assert_true(hp_mem_virt2iova(c.va[0]) != HP_BAD_IOVA);
	assert_int_equal(hp_mempool_mem_iter(NULL, note_chunk, &c), -EINVAL);
	assert_int_equal(hp_mempool_mem_iter(mp, NULL, &c), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "NULL"));
	hp_mempool_free(mp);
}

static void test_stack_backed_pool_is_lifo_and_conserves_objects(void **state)
{
	struct hp_mempool *mp = hp_mempool_create_ops("t.stack", 100, 24, 0, 0, 0, "stack");
	void *a, *b, *c, *all[100];

	(void)state;
	assert_non_null(mp);
	assert_string_equal(mp->ops->name, "stack");
	assert_int_equal(hp_mempool_get(mp, &a), 0);
	assert_int_equal(hp_mempool_get(mp, &b), 0);
	hp_mempool_put(mp, a);
	hp_mempool_put(mp, b);
	assert_int_equal(hp_mempool_get(mp, &c), 0);
	assert_ptr_equal(c, b); /* last in, first out */
	hp_mempool_put(mp, c);
	assert_int_equal(hp_mempool_get_bulk(mp, all, 100), 0);
	assert_distinct(all, 100);
	assert_int_equal(hp_mempool_get(mp, &c), -ENOENT);
	hp_mempool_put_bulk(mp, all, 100);
	free_whole(mp, 100);
}

static void test_bulk_get_takes_nothing_when_short(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.short", 100, 8, 16, 0, 0);
	void *objs[100], *more[60];
	uint64_t cached;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 60), 0);
	cached = cache_of_lcore(mp)->len;
	assert_int_equal(hp_mempool_get_bulk(mp, more, 60), -ENOENT);
	assert_int_equal(cache_of_lcore(mp)->len, cached); /* the cache gave nothing either */
	assert_int_equal(hp_mempool_avail_count(mp), 40);
	assert_int_equal(hp_mempool_get_bulk(mp, objs + 60, 40), 0);
	assert_int_equal(hp_mempool_avail_count(mp), 0);
	hp_mempool_put_bulk(mp, objs, 100);
	assert_int_equal(hp_mempool_avail_count(mp), 100);
	hp_mempool_free(mp);
}

static void test_bulk_above_the_cache_size_counts_the_objects_in_the_cache(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.drain", 100, 8, 16, 0, 0);
	void *objs[101];
	unsigned i;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 100), 0);
	for (i = 0; i < 10; i++) /* one by one: they stay in this core's cache */
		hp_mempool_put(mp, objs[i]);
	hp_mempool_put_bulk(mp, objs + 10, 90); /* more than the cache size: to the backend */
	assert_int_equal(cache_of_lcore(mp)->len, 10);
	assert_int_equal(hp_mempool_avail_count(mp), 100);
	/* one more than there is: nothing moves, from the cache or the backend */
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 101), -ENOENT);
	assert_int_equal(cache_of_lcore(mp)->len, 10);
	assert_int_equal(hp_mempool_avail_count(mp), 100);
	/* every object, 10 of them in the cache: one bulk gets them all */
	assert_int_equal(hp_mempool_get_bulk(mp, objs, 100), 0);
	assert_int_equal(cache_of_lcore(mp)->len, 0);
	assert_int_equal(hp_mempool_avail_count(mp), 0);
	assert_distinct(objs, 100);
	hp_mempool_put_bulk(mp, objs, 100);
	assert_int_equal(hp_mempool_avail_count(mp), 100);
	hp_mempool_free(mp);
}

struct iova_check {
	unsigned wrong, straddle, pagemap_wrong, checked;
	bool pa;
};

static void check_iova(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct iova_check *c = arg;
	uint64_t iova = hp_mempool_virt2iova(obj);

	(void)idx;
	c->wrong += iova != hp_mem_virt2iova(obj);
	c->straddle += !mem_range_iova_contig((char *)obj - 8, mp->elt_size + 8);
	if (c->pa) {
		/* independent of lib/mem: the kernel's frame number for the object's first byte */
		uint64_t pa = hp_test_pagemap_pfn(obj) * 4096 + ((uintptr_t)obj & 4095);

		c->pagemap_wrong += pa != iova;
		c->checked++;
	}
}

static void test_object_iova_matches_memory_and_no_object_straddles_a_break(void **state)
{
	/* 100 KB objects: about 20 per 2 MiB page, so many sit near page boundaries */
	struct hp_mempool *mp = hp_mempool_create("t.iova", 200, 100000, 0, 0, 0);
	struct iova_check c = {.pa = hp_iova_mode() == HP_IOVA_PA && hp_test_can_read_pfn()};

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_obj_iter(mp, check_iova, &c), 200);
	assert_int_equal(c.wrong, 0);
	assert_int_equal(c.straddle, 0);
	assert_int_equal(c.pagemap_wrong, 0);
	if (!c.pa)
		hp_test_note("IOVA mode VA: the pagemap cross-check was not run");
	hp_mempool_free(mp);
}

static void test_bad_arguments_fail_with_a_sentence_and_leave_nothing(void **state)
{
	unsigned zones = zone_count();
	size_t reserved = hp_mem_reserved(HP_NODE_ANY);

	(void)state;
#define BAD(call, err, word)                                                                       \
	do {                                                                                       \
		errno = 0;                                                                         \
		assert_null(call);                                                                 \
		assert_int_equal(errno, err);                                                      \
		assert_non_null(strstr(hp_last_error(), word));                                    \
	} while (0)
	BAD(hp_mempool_create("t.bad", 0, 8, 0, 0, 0), EINVAL, "0 objects");
	BAD(hp_mempool_create("t.bad", 10, 0, 0, 0, 0), EINVAL, "object size");
	BAD(hp_mempool_create("t.bad", 10000, 8, HP_MEMPOOL_CACHE_MAX + 1, 0, 0), EINVAL,
	    "HP_MEMPOOL_CACHE_MAX");
	BAD(hp_mempool_create("t.bad", 10, 8, 11, 0, 0), EINVAL, "larger than the pool");
	BAD(hp_mempool_create_ops("t.bad", 10, 8, 0, 0, 0, "no_such"), EINVAL, "no_such");
	BAD(hp_mempool_create("a_name_much_too_long_for_a_pool", 10, 8, 0, 0, 0), EINVAL,
	    "too long");
	BAD(hp_mempool_create("", 10, 8, 0, 0, 0), EINVAL, "empty");
	BAD(hp_mempool_create("t.bad", 10, 8, 0, 0, 0x100), EINVAL, "flags");
	BAD(hp_mempool_create("t.bad", 10, 8, 0, 63, 0), ENODEV, "t.bad");
	/* more memory than the node can ever give: ENOMEM, and what was taken is given back */
	BAD(hp_mempool_create("t.bad", 1u << 24, 65536, 0, 0, 0), ENOMEM, "t.bad");
	BAD(hp_mempool_cache_create(0, HP_NODE_ANY), EINVAL, "cache size");
	BAD(hp_mempool_cache_create(HP_MEMPOOL_CACHE_MAX + 1, HP_NODE_ANY), EINVAL, "cache size");
#undef BAD
	assert_int_equal(zone_count(), zones);
	assert_null(hp_mempool_lookup("t.bad"));
	(void)reserved;
}

static void test_user_cache_used_with_another_pool_gives_objects_back_first(void **state)
{
	struct hp_mempool *a = hp_mempool_create("t.swa", 64, 8, 0, 0, 0);
	struct hp_mempool *b = hp_mempool_create("t.swb", 64, 8, 0, 0, 0);
	struct hp_mempool_cache *c = hp_mempool_cache_create(16, 0);
	void *o[4];

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(hp_mempool_generic_get(a, o, 4, c), 0);
	hp_mempool_generic_put(a, o, 4, c);
	assert_true(a->ops->count(a) < 64);
	assert_int_equal(hp_mempool_generic_get(b, o, 4, c), 0);
	assert_int_equal(a->ops->count(a), 64); /* a's objects went home when c moved to b */
	hp_mempool_generic_put(b, o, 4, c);
	assert_int_equal(hp_mempool_avail_count(b), 64);
	hp_mempool_cache_free(c);
	assert_int_equal(b->ops->count(b), 64);
	hp_mempool_free(a);
	hp_mempool_free(b);
}

static void test_dump_names_the_pool_backend_and_counts(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.dump", 40, 8, 8, 0, 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	void *o;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &o), 0);
	hp_mempool_dump(f, mp);
	fclose(f);
	assert_non_null(strstr(buf, "t.dump"));
	assert_non_null(strstr(buf, "ring_mp_mc"));
	assert_non_null(strstr(buf, "in use 1"));
#ifdef HP_MEMPOOL_STATS
	/* the one get refilled the cache: one call, one object, one backend call, bulk size 1 */
	assert_non_null(strstr(buf, "gets 1 (1 objs) fails 0 puts 0 (0 objs) backend 1 bulk 1:1 "));
#endif
	free(buf);
	hp_mempool_put(mp, o);
	hp_mempool_free(mp);
}

/* Put o into mp and keep the error it logs, if any, in hp_test_logged. */
static void put_logged(struct hp_mempool *mp, void *o)
{
	hp_test_log_begin();
	hp_mempool_put(mp, o);
	hp_test_log_end();
}

/*
 * A backend that is asked to store more objects than the pool has refuses them all and says so,
 * and the pool reports the refusal (log line and count) instead of losing objects silently.
 */
static void backend_refusal_is_returned_logged_and_counted(const char *ops)
{
	struct hp_mempool *mp = hp_mempool_create_ops("t.refuse", 8, 64, 0, 0, 0, ops);
	void *o, *two[2];

	assert_non_null(mp);
	assert_string_equal(mp->ops->name, ops);
	assert_int_equal(hp_mempool_get(mp, &o), 0);
	/* o goes back behind the pool's back: the backend is full while the test still holds o */
	assert_int_equal(mp->ops->enqueue(mp, &o, 1), 0);
	assert_int_equal(mp->ops->count(mp), 8);
	two[0] = two[1] = o;
	assert_int_equal(mp->ops->enqueue(mp, two, 2), -ENOBUFS);
	assert_int_equal(mp->ops->count(mp), 8); /* all or nothing: nothing stored */
	assert_int_equal(hp_mempool_debug_errors(mp), 0);

	put_logged(mp, o); /* one object too many, through the pool */
	if (!strstr(hp_test_logged, "t.refuse") || !strstr(hp_test_logged, ops) ||
	    !strstr(hp_test_logged, "refused 1 "))
		fail_msg("expected the pool, backend '%s' and 'refused 1' in: %s", ops,
			 hp_test_logged);
	assert_int_equal(hp_mempool_debug_errors(mp), 1);
	assert_int_equal(hp_mempool_avail_count(mp), 8);
	hp_mempool_free(mp);
}

static void test_ring_backend_reports_objects_that_do_not_fit(void **state)
{
	(void)state;
	backend_refusal_is_returned_logged_and_counted("ring_mp_mc");
	backend_refusal_is_returned_logged_and_counted("ring_sp_sc");
}

static void test_stack_backend_reports_objects_that_do_not_fit(void **state)
{
	(void)state;
	backend_refusal_is_returned_logged_and_counted("stack");
}

#ifdef HP_MEMPOOL_DEBUG
/*
 * Putting obj into mp is refused: the error logged names the pool, the object's address and what
 * was wrong, and the pool counts one error.
 */
static void put_is_reported(struct hp_mempool *mp, const char *pool, void *obj, const char *what)
{
	char addr[32];

	put_logged(mp, obj);
	snprintf(addr, sizeof(addr), "%p", obj);
	if (!strstr(hp_test_logged, pool) || !strstr(hp_test_logged, addr) ||
	    !strstr(hp_test_logged, what))
		fail_msg("expected '%s', '%s' and '%s' in: %s", pool, addr, what, hp_test_logged);
	assert_int_equal(hp_mempool_debug_errors(mp), 1);
}

static void test_double_free_is_reported_with_pool_and_object(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.dfree", 32, 64, 4, 0, 0);
	void *o;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &o), 0);
	hp_mempool_put(mp, o);
	put_is_reported(mp, "t.dfree", o, "double free");
	free_whole(mp, 32); /* the second put was refused */
}

static void test_foreign_pointer_is_reported_with_pool_and_object(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.foreign", 32, 64, 4, 0, 0);
	struct hp_mempool *other = hp_mempool_create("t.other", 32, 64, 4, 0, 0);
	void *o;

	(void)state;
	assert_non_null(mp);
	assert_non_null(other);
	assert_int_equal(hp_mempool_get(other, &o), 0);
	put_is_reported(mp, "t.foreign", o, "not an object of this pool");
	assert_int_equal(hp_mempool_avail_count(mp), 32);
	hp_mempool_put(other, o);
	hp_mempool_free(other);
	hp_mempool_free(mp);
}

static void test_overrun_is_caught_by_put_and_by_audit(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.overrun", 8, 64, 0, 0, 0);
	void *o;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &o), 0);
	memset(o, 0xab, 64 + 4); /* four bytes too many */
	assert_int_equal(hp_mempool_audit(mp), -EFAULT);
	assert_non_null(strstr(hp_last_error(), "t.overrun"));
	put_is_reported(mp, "t.overrun", o, "overrun");
	hp_mempool_free(mp);
}

/* ---- a signal handler re-entering a get or put of the same pool (debug build) ------------ */

static struct hp_mempool *sig_mp;
static _Atomic unsigned long sig_refused, sig_served;
static _Atomic bool sig_stop;

/* Takes an object of the pool the interrupted thread may be taking from or putting to. */
static void get_in_handler(int sig)
{
	void *o;
	int rc = hp_mempool_get(sig_mp, &o);

	(void)sig;
	if (rc == -EDEADLK) {
		sig_refused++;
	} else if (rc == 0) {
		hp_mempool_put(sig_mp, o);
		sig_served++;
	}
}

static void *get_and_put_forever(void *arg)
{
	void *o[4];

	(void)arg;
	while (!atomic_load(&sig_stop))
		if (hp_mempool_get_bulk(sig_mp, o, 4) == 0)
			hp_mempool_put_bulk(sig_mp, o, 4);
	return NULL;
}

static void quiet(enum hp_log_level level, const char *msg, void *arg)
{
	(void)level, (void)msg, (void)arg;
}

/* Under hp_test_bounded(): without the check, a handler spins on the ring op it interrupted. */
static void signal_storm(void *arg)
{
	struct sigaction sa = {.sa_handler = get_in_handler, .sa_flags = SA_RESTART}, old;
	pthread_t t;

	(void)arg;
	sig_mp = hp_mempool_create_ops("t.signal", 256, 64, 0, 0, 0, "ring_mp_mc");
	assert_non_null(sig_mp);
	sig_refused = sig_served = 0;
	atomic_store(&sig_stop, false);
	hp_log_set_handler(quiet, NULL);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&t, NULL, get_and_put_forever, NULL), 0);
	for (int i = 0; i < 200000 && sig_refused < 1000; i++)
		pthread_kill(t, SIGUSR1);
	atomic_store(&sig_stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	sigaction(SIGUSR1, &old, NULL);
	hp_log_set_handler(NULL, NULL);
	hp_test_note("%lu handler gets refused as re-entries, %lu served", sig_refused, sig_served);
	assert_true(sig_refused > 0);
	assert_int_equal(hp_mempool_debug_errors(sig_mp), sig_refused);
	assert_int_equal(hp_mempool_avail_count(sig_mp), 256);
	assert_int_equal(hp_mempool_free(sig_mp), 0);
}
#endif

static void test_a_signal_handler_reentering_a_get_is_refused_not_hung(void **state)
{
	(void)state;
#ifdef HP_MEMPOOL_DEBUG
	hp_test_bounded(signal_storm, NULL, 60,
			"signal handlers getting from the pool they interrupted");
#else
	hp_test_skip("the re-entry check is compiled into the debug build only "
		     "(-Dmempool_debug=true); a release build hangs by design, as DPDK does");
#endif
}

/* ---- lock order: a memzone walk's callback may use pools while other threads create them -- */

#define RACE_ROUNDS 3000

static int lookup_in_walk(const struct hp_memzone *mz, void *arg)
{
	(void)mz;
	hp_mempool_lookup(arg); /* the pool registry's lock, from inside the memzone walk */
	return 0;
}

static void create_and_free_pool(void)
{
	struct hp_mempool *mp = hp_mempool_create("t.race", 16, 64, 0, 0, 0);

	if (mp)
		hp_mempool_free(mp);
}

static void test_a_memzone_walk_callback_may_use_pools_while_pools_are_created(void **state)
{
	(void)state;
	hp_test_walk_race(&(struct hp_test_walk_race){.zone = "t.race.zone",
						      .rounds = RACE_ROUNDS,
						      .create_and_free = create_and_free_pool,
						      .walk_fn = lookup_in_walk,
						      .walk_arg = "t.race",
						      .what = "memzone walks looking pools up"});
}

/* ---- stale pointers, NULL, names ---------------------------------------------------------- */

static void *stale_create(const char *name)
{
	return hp_mempool_create(name, 64, 64, 0, 0, 0);
}

static int stale_free(void *mp)
{
	return hp_mempool_free(mp);
}

static void stale_use(void *mp, const char *name)
{
	void *o;

	assert_ptr_equal(hp_mempool_lookup(name), mp);
	assert_int_equal(hp_mempool_get(mp, &o), 0);
	hp_mempool_put(mp, o);
	assert_int_equal(hp_mempool_audit(mp), 0);
}

static const struct hp_test_stale stale_pool = {
    .kind = "pool",
    .names = {"t.stale1", "t.stale2"},
    .create = stale_create,
    .free = stale_free,
    .use = stale_use,
};

static void test_a_stale_pool_pointer_is_refused_and_frees_no_other_pool(void **state)
{
	void *junk;

	(void)state;
	hp_test_stale_pointer_is_refused(&stale_pool, &junk);
}

static void test_calls_given_a_null_pool_fail_with_einval(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("t.null", 16, 8, 0, 0, 0);

	(void)state;
	assert_non_null(mp);
#define ZERO_EINVAL(call)                                                                          \
	do {                                                                                       \
		errno = 0;                                                                         \
		assert_int_equal(call, 0);                                                         \
		assert_int_equal(errno, EINVAL);                                                   \
		assert_non_null(strstr(hp_last_error(), "NULL"));                                  \
	} while (0)
	ZERO_EINVAL(hp_mempool_avail_count(NULL));
	ZERO_EINVAL(hp_mempool_in_use_count(NULL));
	ZERO_EINVAL(hp_mempool_debug_errors(NULL));
#undef ZERO_EINVAL
	assert_int_equal(hp_mempool_audit(NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "NULL"));
	assert_int_equal(hp_mempool_dump(stdout, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "the pool is NULL"));
	assert_int_equal(hp_mempool_dump(NULL, mp), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "the stream is NULL"));
	assert_int_equal(hp_mempool_free(NULL), 0);
	assert_int_equal(hp_mempool_free(mp), 0);
}

/* Pools take no memzone: no name of one kind blocks the other, nor a pool's hidden name. */
static void test_pool_names_never_meet_memzone_names(void **state)
{
	const char *const pairs[][2] = {{"gam", "gam.0"}, {"dlt.0", "dlt"}};
	const struct hp_memzone *mz;
	struct hp_mempool *a, *b;
	unsigned i;

	(void)state;
	for (i = 0; i < 2; i++) {
		a = hp_mempool_create(pairs[i][0], 16, 8, 0, 0, 0);
		b = hp_mempool_create(pairs[i][1], 16, 8, 0, 0, 0);
		if (!a || !b)
			fail_msg("pools '%s' and '%s': %s", pairs[i][0], pairs[i][1],
				 hp_last_error());
		assert_int_equal(hp_mempool_free(a), 0);
		assert_int_equal(hp_mempool_free(b), 0);
	}
	mz = hp_memzone_reserve("mp.alpha", 4096, 0, 0, 0);
	assert_non_null(mz);
	a = hp_mempool_create("alpha", 16, 8, 0, 0, 0);
	if (!a)
		fail_msg("pool 'alpha' beside zone 'mp.alpha': %s", hp_last_error());
	assert_ptr_equal(hp_mempool_lookup("alpha"), a);
	errno = 0;
	assert_null(hp_mempool_create("alpha", 16, 8, 0, 0, 0));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(hp_last_error(), "mempool 'alpha' exists"));
	/* and a zone may take any name a pool has */
	assert_int_equal(hp_memzone_free(mz), 0);
	mz = hp_memzone_reserve("alpha", 4096, 0, 0, 0);
	assert_non_null(mz);
	assert_int_equal(hp_mempool_free(a), 0);
	assert_int_equal(hp_memzone_free(mz), 0);
}

/* Pools take no slot of the memzone table (2048 zones, two a pool before): memory is the limit. */
static void test_more_pools_than_the_memzone_table_used_to_allow(void **state)
{
	enum { N = 1100 };
	struct hp_mempool **mp = calloc(N, sizeof(*mp));
	char name[HP_MEMPOOL_NAMESIZE];
	unsigned i;

	(void)state;
	assert_non_null(mp);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "t.many%u", i);
		mp[i] = hp_mempool_create(name, 1, 8, 0, 0, 0);
		if (!mp[i])
			fail_msg("pool %u of %d: %s", i, N, hp_last_error());
	}
	assert_ptr_equal(hp_mempool_lookup("t.many1099"), mp[N - 1]);
	for (i = 0; i < N; i++)
		assert_int_equal(hp_mempool_free(mp[i]), 0);
	free(mp);
}

static int group_setup(void **state)
{
	(void)state;
	hp_test_init(SOCKET_MB, "--socket-mem=%d --log-level=warning", SOCKET_MB);
	return hp_thread_register();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_put_through_the_lcore_cache),
	    cmocka_unit_test(test_every_bulk_size_moves_exactly_its_objects),
	    cmocka_unit_test(test_counts_include_objects_in_caches),
	    cmocka_unit_test(
		test_cache_moves_objects_in_bulk_when_a_core_only_frees_or_only_allocates),
	    cmocka_unit_test(test_user_owned_cache_serves_a_thread_without_an_lcore_id),
	    cmocka_unit_test(test_thread_without_an_lcore_id_uses_its_cpus_cache_or_the_backend),
	    cmocka_unit_test(test_sp_sc_pool_serves_one_producer_and_one_consumer_thread),
	    cmocka_unit_test(test_same_name_twice_fails_and_keeps_the_first),
	    cmocka_unit_test(test_obj_iter_visits_every_object_once),
	    cmocka_unit_test(test_mem_iter_reports_chunks_that_hold_every_object),
	    cmocka_unit_test(test_stack_backed_pool_is_lifo_and_conserves_objects),
	    cmocka_unit_test(test_bulk_get_takes_nothing_when_short),
	    cmocka_unit_test(test_bulk_above_the_cache_size_counts_the_objects_in_the_cache),
	    cmocka_unit_test(test_object_iova_matches_memory_and_no_object_straddles_a_break),
	    cmocka_unit_test(test_bad_arguments_fail_with_a_sentence_and_leave_nothing),
	    cmocka_unit_test(test_user_cache_used_with_another_pool_gives_objects_back_first),
	    cmocka_unit_test(test_dump_names_the_pool_backend_and_counts),
	    cmocka_unit_test(test_ring_backend_reports_objects_that_do_not_fit),
	    cmocka_unit_test(test_stack_backend_reports_objects_that_do_not_fit),
	    cmocka_unit_test(test_a_memzone_walk_callback_may_use_pools_while_pools_are_created),
	    cmocka_unit_test(test_a_stale_pool_pointer_is_refused_and_frees_no_other_pool),
	    cmocka_unit_test(test_calls_given_a_null_pool_fail_with_einval),
	    cmocka_unit_test(test_pool_names_never_meet_memzone_names),
	    cmocka_unit_test(test_more_pools_than_the_memzone_table_used_to_allow),
#ifdef HP_MEMPOOL_DEBUG
	    cmocka_unit_test(test_double_free_is_reported_with_pool_and_object),
	    cmocka_unit_test(test_foreign_pointer_is_reported_with_pool_and_object),
	    cmocka_unit_test(test_overrun_is_caught_by_put_and_by_audit),
#endif
	    cmocka_unit_test(test_a_signal_handler_reentering_a_get_is_refused_not_hung),
	};

	return cmocka_run_group_tests_name("mempool", tests, group_setup, hp_test_teardown);
}
