/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_mempool_walk and hp_ring_walk: every object once, oldest pool first, the early stop, a
 * callback that calls the API (counts, create, free) without deadlocking or following a freed
 * pool, an object freed in a walk kept whole until the walk ends, rings from hp_ring_init() left
 * out, and a walk racing another thread's creates, frees and second frees.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define MB 64

static int setup(void **state)
{
	(void)state;
	hp_test_init(MB, "--socket-mem=%d --no-telemetry", MB);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hp_cleanup();
	return 0;
}

struct seen {
	char names[16][HP_MEMPOOL_NAMESIZE];
	unsigned n, stop_at;
	unsigned avail_sum;
};

static int pool_cb(struct hp_mempool *mp, void *arg)
{
	struct seen *s = arg;

	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", mp->name);
	s->avail_sum += hp_mempool_avail_count(mp); /* takes the registry lock again */
	return s->n == s->stop_at ? 42 : 0;
}

static void test_mempool_walk(void **state)
{
	struct hp_mempool *mp[3];
	struct seen s = {0};
	char name[16];

	(void)state;
	assert_int_equal(hp_mempool_walk(NULL, NULL), -EINVAL);
	assert_int_equal(hp_mempool_walk(pool_cb, &s), 0);
	assert_int_equal(s.n, 0);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "walk%d", i);
		mp[i] = hp_mempool_create(name, 100 * (i + 1), 64, 0, 0, 0);
		assert_non_null(mp[i]);
	}
	assert_int_equal(hp_mempool_walk(pool_cb, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "walk0"); /* oldest first */
	assert_string_equal(s.names[1], "walk1");
	assert_string_equal(s.names[2], "walk2");
	assert_int_equal(s.avail_sum, 600);
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(hp_mempool_walk(pool_cb, &s), 42);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 3; i++)
		hp_mempool_free(mp[i]);
}

/* Frees the pool it is given and the next one, and creates another: nothing freed is visited. */
static int churn_cb(struct hp_mempool *mp, void *arg)
{
	struct seen *s = arg;
	struct hp_mempool *next;

	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", mp->name);
	if (strcmp(mp->name, "churn0"))
		return 0;
	next = hp_mempool_lookup("churn1");
	assert_non_null(next);
	hp_mempool_free(next);
	hp_mempool_free(mp);
	assert_non_null(hp_mempool_create("churn_new", 10, 64, 0, 0, 0));
	return 0;
}

static void test_mempool_walk_callback_frees_and_creates(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_non_null(hp_mempool_create("churn0", 10, 64, 0, 0, 0));
	assert_non_null(hp_mempool_create("churn1", 10, 64, 0, 0, 0));
	assert_non_null(hp_mempool_create("churn2", 10, 64, 0, 0, 0));
	assert_int_equal(hp_mempool_walk(churn_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "churn0");
	assert_string_equal(s.names[1], "churn2"); /* churn1 freed, churn_new too new */
	assert_null(hp_mempool_lookup("churn0"));
	hp_mempool_free(hp_mempool_lookup("churn2"));
	hp_mempool_free(hp_mempool_lookup("churn_new"));
}

struct ring_seen {
	unsigned n, count_sum;
	bool saw_private;
};

static int ring_cb(struct hp_ring *r, void *arg)
{
	struct ring_seen *s = arg;

	s->n++;
	s->count_sum += hp_ring_count(r);
	if (!strcmp(r->name, "private"))
		s->saw_private = true;
	if (!strcmp(r->name, "ring_b")) { /* rings may be freed and created from the callback */
		hp_ring_free(r);
		assert_non_null(hp_ring_create("ring_c", 64, 0, 0));
	}
	return 0;
}

static int ring_stop_cb(struct hp_ring *r, void *arg)
{
	(void)r;
	return ++*(unsigned *)arg == 1 ? -7 : 0;
}

static void test_ring_walk(void **state)
{
	struct ring_seen s = {0};
	struct hp_ring *a, *b, *priv;
	unsigned calls = 0;
	ssize_t len = hp_ring_get_memsize(64, 0);

	(void)state;
	assert_int_equal(hp_ring_walk(NULL, NULL), -EINVAL);
	a = hp_ring_create("ring_a", 64, 0, 0);
	b = hp_ring_create("ring_b", 64, 0, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(hp_memzone_reserve("RG_not_a_ring", 4096, 0, 0, 0));
	priv = aligned_alloc(HP_CACHE_LINE_SIZE, (size_t)len);
	assert_int_equal(hp_ring_init(priv, "private", 64, 0), 0);
	assert_int_equal(hp_ring_enqueue(a, &s), 0);
	assert_int_equal(hp_ring_enqueue(a, &s), 0);
	assert_int_equal(hp_ring_walk(ring_cb, &s), 0);
	assert_false(s.saw_private);
	assert_int_equal(s.count_sum, 2);
	assert_true(s.n == 2 || s.n == 3); /* ring_c may land in a slot the walk has yet to see */
	assert_null(hp_ring_lookup("ring_b"));
	assert_non_null(hp_ring_lookup("ring_c"));
	assert_int_equal(hp_ring_walk(ring_stop_cb, &calls), -7);
	assert_int_equal(calls, 1);
	hp_ring_free(a);
	hp_ring_free(hp_ring_lookup("ring_c"));
	free(priv);
}

static atomic_bool stop;
static atomic_uint bad_frees; /* second frees that were not refused with -EINVAL */

static void *creator(void *arg)
{
	char name[16];

	(void)arg;
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		struct hp_mempool *mp;
		struct hp_ring *r;

		snprintf(name, sizeof(name), "race%u", i % 4);
		mp = hp_mempool_create(name, 32, 64, 0, 0, 0);
		r = hp_ring_create(name, 64, 0, 0);
		hp_mempool_free(mp);
		hp_ring_free(r);
		/* freed while walks may hold it: a second free is still told apart */
		if (mp && hp_mempool_free(mp) != -EINVAL)
			atomic_fetch_add(&bad_frees, 1);
		if (r && hp_ring_free(r) != -EINVAL)
			atomic_fetch_add(&bad_frees, 1);
	}
	return NULL;
}

static int count_pool(struct hp_mempool *mp, void *arg)
{
	*(unsigned *)arg += hp_mempool_avail_count(mp) == mp->size;
	return 0;
}

static int count_ring(struct hp_ring *r, void *arg)
{
	*(unsigned *)arg += hp_ring_count(r) == 0;
	return 0;
}

static void test_walks_race_creates(void **state)
{
	pthread_t t;
	unsigned pools = 0, rings = 0;

	(void)state;
	atomic_store(&stop, false);
	atomic_store(&bad_frees, 0);
	assert_int_equal(pthread_create(&t, NULL, creator, NULL), 0);
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(hp_mempool_walk(count_pool, &pools), 0);
		assert_int_equal(hp_ring_walk(count_ring, &rings), 0);
	}
	atomic_store(&stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&bad_frees), 0);
	hp_test_note("walks saw %u pools and %u rings while another thread made and freed them",
		     pools, rings);
}

/* Free the pool or ring being visited, then make one of the same size: it must land elsewhere. */
struct kept {
	void *freed, *made;
	int second_free;
};

static int free_visited_pool(struct hp_mempool *mp, void *arg)
{
	struct kept *k = arg;

	if (hp_mempool_free(mp) != 0)
		return -1;
	k->freed = mp;
	k->made = hp_mempool_create("kept1", 32, 64, 0, 0, 0);
	k->second_free = hp_mempool_free(mp);
	/* its memory waits for the walk: still whole while the callback runs */
	return strcmp(mp->name, "kept0") || hp_mempool_avail_count(mp) != 32;
}

static int free_visited_ring(struct hp_ring *r, void *arg)
{
	struct kept *k = arg;

	if (hp_ring_free(r) != 0)
		return -1;
	k->freed = r;
	k->made = hp_ring_create("kept1", 64, 0, 0);
	k->second_free = hp_ring_free(r);
	return strcmp(r->name, "kept0") != 0;
}

static void test_an_object_freed_in_a_walk_keeps_its_memory_until_the_walk_ends(void **state)
{
	struct kept k = {0};

	(void)state;
	assert_non_null(hp_mempool_create("kept0", 32, 64, 0, 0, 0));
	assert_int_equal(hp_mempool_walk(free_visited_pool, &k), 0);
	assert_non_null(k.made);
	assert_ptr_not_equal(k.made, k.freed);
	assert_int_equal(k.second_free, -EINVAL);
	assert_int_equal(hp_mempool_free(k.freed), -EINVAL); /* after the walk: quarantined */
	assert_int_equal(hp_mempool_free(k.made), 0);

	k = (struct kept){0};
	assert_non_null(hp_ring_create("kept0", 64, 0, 0));
	assert_int_equal(hp_ring_walk(free_visited_ring, &k), 0);
	assert_non_null(k.made);
	assert_ptr_not_equal(k.made, k.freed);
	assert_int_equal(k.second_free, -EINVAL);
	assert_int_equal(hp_ring_free(k.freed), -EINVAL);
	assert_int_equal(hp_ring_free(k.made), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mempool_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mempool_walk_callback_frees_and_creates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ring_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walks_race_creates, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_an_object_freed_in_a_walk_keeps_its_memory_until_the_walk_ends, setup,
		teardown),
	};

	return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
