/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool stress: cores x 4 threads hammer one pool for HP_STRESS_SECONDS (default 3) with
 * random bulk sizes; a third use their lcore's cache, a third a cache of their own, a third
 * none. Every object carries its index; an atomic owner table catches an object handed to two
 * threads at once or put while not held. At the end every object must be back exactly once:
 * counts, hp_mempool_audit, and one bulk get of the whole pool marking a seen-bitmap.
 * Run under ASan+UBSan and TSan builds too (see doc/mempool.md).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

#define N_OBJS 8192
#define MAX_BULK 48
#define MAX_HELD 256

enum kind { LCORE_CACHE, USER_CACHE, NO_CACHE };

struct shared {
	struct hp_mempool *mp;
	void *by_idx[N_OBJS];		/* the object with each index */
	_Atomic unsigned owner[N_OBJS]; /* 0 = in the pool, else thread id + 1 */
	_Atomic unsigned errors;
	_Atomic int go;
	uint64_t deadline_ns;
};

struct worker {
	struct shared *s;
	unsigned id;
	enum kind kind;
	uint64_t gets, fails;
};

/* object layout used here: [0] its index, [1] the thread holding it */
struct obj {
	unsigned idx;
	unsigned holder;
};

static void take(struct worker *w, void *p)
{
	struct obj *o = p;
	unsigned free_mark = 0;

	if (o->idx >= N_OBJS || w->s->by_idx[o->idx] != p ||
	    !atomic_compare_exchange_strong(&w->s->owner[o->idx], &free_mark, w->id + 1)) {
		atomic_fetch_add(&w->s->errors, 1);
		return;
	}
	o->holder = w->id;
}

static void give(struct worker *w, void *p)
{
	struct obj *o = p;
	unsigned mine = w->id + 1;

	if (o->holder != w->id || !atomic_compare_exchange_strong(&w->s->owner[o->idx], &mine, 0))
		atomic_fetch_add(&w->s->errors, 1);
}

static int get(struct worker *w, struct hp_mempool_cache *c, void **objs, unsigned n)
{
	switch (w->kind) {
	case LCORE_CACHE:
		return hp_mempool_get_bulk(w->s->mp, objs, n);
	case USER_CACHE:
		return hp_mempool_generic_get(w->s->mp, objs, n, c);
	default:
		return hp_mempool_generic_get(w->s->mp, objs, n, NULL);
	}
}

static void put(struct worker *w, struct hp_mempool_cache *c, void **objs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		give(w, objs[i]);
	switch (w->kind) {
	case LCORE_CACHE:
		hp_mempool_put_bulk(w->s->mp, objs, n);
		break;
	case USER_CACHE:
		hp_mempool_generic_put(w->s->mp, objs, n, c);
		break;
	default:
		hp_mempool_generic_put(w->s->mp, objs, n, NULL);
		break;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct hp_mempool_cache *c = NULL;
	void *held[MAX_HELD + MAX_BULK];
	unsigned n_held = 0, seed = w->id * 7919u + 1, i;

	if (w->kind == LCORE_CACHE && hp_thread_register() < 0)
		w->kind = NO_CACHE; /* more threads than lcore ids: still useful */
	if (w->kind == USER_CACHE)
		c = hp_mempool_cache_create(1 + rand_r(&seed) % 128, HP_NODE_ANY);
	while (!atomic_load(&w->s->go))
		;
	while (eal_now_ns() < w->s->deadline_ns) {
		unsigned n = 1 + (unsigned)rand_r(&seed) % MAX_BULK;

		if (n_held + n <= MAX_HELD && rand_r(&seed) % 3) {
			if (get(w, c, &held[n_held], n) == 0) {
				for (i = 0; i < n; i++)
					take(w, held[n_held + i]);
				n_held += n;
				w->gets++;
			} else {
				w->fails++;
			}
		} else if (n_held) {
			n = n > n_held ? n_held : n;
			n_held -= n;
			put(w, c, &held[n_held], n);
		}
	}
	put(w, c, held, n_held);
	if (c)
		hp_mempool_cache_free(c);
	if (w->kind == LCORE_CACHE) {
		hp_mempool_cache_flush(hp_mempool_default_cache(w->s->mp));
		hp_thread_unregister();
	}
	return NULL;
}

static void number(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct shared *s = arg;
	struct obj *o = obj;

	(void)mp;
	o->idx = idx;
	o->holder = ~0u;
	s->by_idx[idx] = obj;
}

static void stress_one_pool(const char *ops, unsigned cache)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n_threads = (unsigned)(cores > 0 ? cores : 2) * 4, i;
	double seconds = hp_test_stress_seconds();
	struct shared *s = calloc(1, sizeof(*s));
	struct worker *w = calloc(n_threads, sizeof(*w));
	pthread_t *t = calloc(n_threads, sizeof(*t));
	static unsigned char seen[N_OBJS];
	static void *all[N_OBJS + 1];
	uint64_t gets = 0, fails = 0;

	s->mp = hp_mempool_create_ops("stress", N_OBJS, sizeof(struct obj) + 40, cache, 0, 0, ops);
	assert_non_null(s->mp);
	assert_int_equal(hp_mempool_obj_iter(s->mp, number, s), N_OBJS);
	s->deadline_ns = eal_now_ns() + (uint64_t)(seconds * 1e9);
	for (i = 0; i < n_threads; i++) {
		w[i] = (struct worker){.s = s, .id = i, .kind = (enum kind)(i % 3)};
		assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
	}
	atomic_store(&s->go, 1);
	for (i = 0; i < n_threads; i++) {
		pthread_join(t[i], NULL);
		gets += w[i].gets;
		fails += w[i].fails;
	}
	hp_test_note("%s, cache %u: %u threads, %.1f s, %lu bulk gets, %lu short", ops, cache,
		     n_threads, seconds, (unsigned long)gets, (unsigned long)fails);
	assert_int_equal(atomic_load(&s->errors), 0);
	assert_true(gets > 0);
	assert_int_equal(hp_mempool_avail_count(s->mp), N_OBJS);
	assert_int_equal(hp_mempool_in_use_count(s->mp), 0);
	assert_int_equal(hp_mempool_audit(s->mp), 0);
	/* every object back exactly once: the whole pool in one bulk, each index seen once */
	memset(seen, 0, sizeof(seen));
	assert_int_equal(hp_mempool_generic_get(s->mp, all, N_OBJS, NULL), 0);
	for (i = 0; i < N_OBJS; i++) {
		struct obj *o = all[i];

		assert_true(o->idx < N_OBJS);
		assert_ptr_equal(s->by_idx[o->idx], o);
		assert_int_equal(seen[o->idx]++, 0);
	}
	assert_int_equal(hp_mempool_generic_get(s->mp, &all[N_OBJS], 1, NULL), -ENOENT);
	hp_mempool_generic_put(s->mp, all, N_OBJS, NULL);
	assert_int_equal(hp_mempool_audit(s->mp), 0);
	hp_mempool_free(s->mp);
	free(t);
	free(w);
	free(s);
}

static void test_ring_pool_gives_every_object_back_once(void **state)
{
	(void)state;
	stress_one_pool("ring_mp_mc", 64);
}

static void test_stack_pool_gives_every_object_back_once(void **state)
{
	(void)state;
	stress_one_pool("stack", 32);
}

static void test_ring_pool_with_full_caches_gives_every_object_back_once(void **state)
{
	(void)state;
	stress_one_pool("ring_mp_mc", HP_MEMPOOL_CACHE_MAX);
}

static int group_setup(void **state)
{
	(void)state;
	hp_test_init(64, "--socket-mem=64 --log-level=warning");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_pool_gives_every_object_back_once),
	    cmocka_unit_test(test_stack_pool_gives_every_object_back_once),
	    cmocka_unit_test(test_ring_pool_with_full_caches_gives_every_object_back_once),
	};

	return cmocka_run_group_tests_name("mempool_stress", tests, group_setup, hp_test_teardown);
}
