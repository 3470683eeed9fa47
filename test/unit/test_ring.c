/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring tests: single-thread semantics on rings in test-owned memory (full, empty, wrap-around,
 * bulk against burst, out-params, counts, every SP/MP x SC/MC mix), named rings and their registry
 * (create, lookup, free, stale pointers, names beside memzone names, bad arguments), a memzone
 * walk's callback using rings while another thread creates them, and threads that must move
 * every value exactly once.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define VAL(i) ((void *)(uintptr_t)(i))
#define NUM(p) ((uintptr_t)(p))

static const unsigned all_modes[] = {
    0,
    HP_RING_SP_ENQ | HP_RING_SC_DEQ,
    HP_RING_SP_ENQ,
    HP_RING_SC_DEQ,
};

/* A ring in test-owned memory; free() it. */
static struct hp_ring *ring_new(unsigned count, unsigned flags)
{
	ssize_t len = hp_ring_get_memsize(count, flags);
	struct hp_ring *r;

	assert_true(len > 0);
	r = aligned_alloc(HP_CACHE_LINE_SIZE, (size_t)len);
	assert_non_null(r);
	assert_int_equal(hp_ring_init(r, "test", count, flags), 0);
	return r;
}

/* Cheap deterministic random numbers, so a failure repeats. */
static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static void test_memsize_and_init_refuse_bad_counts_flags_and_names(void **state)
{
	struct hp_ring *r = ring_new(8, 0);
	char longname[HP_RING_NAMESIZE + 1];

	(void)state;
	assert_int_equal(hp_ring_get_memsize(0, 0), -EINVAL);
	assert_int_equal(hp_ring_get_memsize(0, HP_RING_EXACT_SZ), -EINVAL);
	assert_int_equal(hp_ring_get_memsize(1000, 0), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "power of two"));
	assert_int_equal(hp_ring_get_memsize(1, 0), -EINVAL);
	assert_int_equal(hp_ring_get_memsize(HP_RING_SZ_MASK + 1U, 0), -EINVAL);
	assert_int_equal(hp_ring_get_memsize(HP_RING_SZ_MASK + 1U, HP_RING_EXACT_SZ), -EINVAL);
	assert_int_equal(hp_ring_get_memsize(8, 0x80), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "0x80"));
	assert_true(hp_ring_get_memsize(1000, HP_RING_EXACT_SZ) >=
		    (ssize_t)(sizeof(struct hp_ring) + 1000 * sizeof(void *)));
	assert_int_equal(hp_ring_get_memsize(1024, 0) % HP_CACHE_LINE_SIZE, 0);

	memset(longname, 'x', HP_RING_NAMESIZE);
	longname[HP_RING_NAMESIZE] = '\0';
	errno = 0;
	assert_int_equal(hp_ring_init(r, longname, 8, 0), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hp_ring_init(r, "", 8, 0), -EINVAL);
	assert_int_equal(hp_ring_init(r, NULL, 8, 0), -EINVAL);
	assert_int_equal(hp_ring_init(NULL, "x", 8, 0), -EINVAL);
	assert_int_equal(hp_ring_init((struct hp_ring *)((char *)r + 8), "x", 8, 0), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "aligned"));
	assert_int_equal(hp_ring_init(r, "x", 6, 0), -EINVAL);
	longname[HP_RING_NAMESIZE - 1] = '\0';
	assert_int_equal(hp_ring_init(r, longname, 8, 0), 0);
	assert_string_equal(r->name, longname);
	free(r);
}

static void test_empty_ring_gives_nothing(void **state)
{
	void *objs[4] = {0};
	unsigned avail = 99;

	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(16, all_modes[m]);

		assert_int_equal(hp_ring_count(r), 0);
		assert_int_equal(hp_ring_free_count(r), 15);
		assert_true(hp_ring_empty(r));
		assert_false(hp_ring_full(r));
		assert_int_equal(hp_ring_dequeue_bulk(r, objs, 1, &avail), 0);
		assert_int_equal(avail, 0);
		assert_int_equal(hp_ring_dequeue_burst(r, objs, 4, &avail), 0);
		assert_int_equal(hp_ring_dequeue(r, objs), -ENOENT);
		assert_int_equal(hp_ring_count(r), 0);
		free(r);
	}
}

static void test_ring_of_count_slots_holds_count_minus_one(void **state)
{
	void *out[16];
	unsigned space = 99;

	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(8, all_modes[m]);

		assert_int_equal(hp_ring_capacity(r), 7);
		for (uintptr_t i = 1; i <= 7; i++)
			assert_int_equal(hp_ring_enqueue(r, VAL(i)), 0);
		assert_true(hp_ring_full(r));
		assert_int_equal(hp_ring_free_count(r), 0);
		assert_int_equal(hp_ring_enqueue(r, VAL(8)), -ENOBUFS);
		assert_int_equal(hp_ring_enqueue_burst(r, out, 1, &space), 0);
		assert_int_equal(space, 0);
		assert_int_equal(hp_ring_count(r), 7);
		assert_int_equal(hp_ring_dequeue_burst(r, out, 16, NULL), 7);
		for (uintptr_t i = 0; i < 7; i++)
			assert_int_equal(NUM(out[i]), i + 1);
		assert_true(hp_ring_empty(r));
		free(r);
	}
}

static void test_exact_size_ring_holds_exactly_count(void **state)
{
	static void *in[2000], *out[2000];
	unsigned space = 99;

	(void)state;
	for (uintptr_t i = 0; i < 2000; i++)
		in[i] = VAL(i + 1);
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(1000, all_modes[m] | HP_RING_EXACT_SZ);
		struct hp_ring *p = ring_new(8, all_modes[m] | HP_RING_EXACT_SZ);

		assert_int_equal(hp_ring_capacity(r), 1000);
		assert_int_equal(hp_ring_enqueue_burst(r, in, 2000, &space), 1000);
		assert_int_equal(space, 0);
		assert_true(hp_ring_full(r));
		assert_int_equal(hp_ring_dequeue_bulk(r, out, 1000, NULL), 1000);
		assert_memory_equal(out, in, 1000 * sizeof(void *));

		/* a power of two with EXACT_SZ holds all of it, not one less */
		assert_int_equal(hp_ring_enqueue_bulk(p, in, 8, &space), 8);
		assert_int_equal(space, 0);
		assert_int_equal(hp_ring_enqueue(p, in[8]), -ENOBUFS);
		assert_int_equal(hp_ring_count(p), 8);
		free(p);
		free(r);
	}
}

static void test_bulk_takes_all_or_nothing_and_burst_takes_what_fits(void **state)
{
	void *in[16], *out[16];
	unsigned space, avail;

	(void)state;
	for (uintptr_t i = 0; i < 16; i++)
		in[i] = VAL(i + 100);
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(16, all_modes[m]);

		assert_int_equal(hp_ring_enqueue_bulk(r, in, 10, &space), 10);
		assert_int_equal(space, 5);
		assert_int_equal(hp_ring_enqueue_bulk(r, in + 10, 6, &space), 0);
		assert_int_equal(space, 5);
		assert_int_equal(hp_ring_count(r), 10);
		assert_int_equal(hp_ring_enqueue_burst(r, in + 10, 6, &space), 5);
		assert_int_equal(space, 0);
		assert_int_equal(hp_ring_enqueue_bulk(r, in, 0, &space), 0);
		assert_int_equal(hp_ring_count(r), 15);

		assert_int_equal(hp_ring_dequeue_bulk(r, out, 16, &avail), 0);
		assert_int_equal(avail, 15);
		assert_int_equal(hp_ring_count(r), 15);
		assert_int_equal(hp_ring_dequeue_bulk(r, out, 4, &avail), 4);
		assert_int_equal(avail, 11);
		assert_int_equal(hp_ring_dequeue_burst(r, out + 4, 16, &avail), 11);
		assert_int_equal(avail, 0);
		assert_memory_equal(out, in, 15 * sizeof(void *));
		assert_int_equal(hp_ring_dequeue_burst(r, out, 16, &avail), 0);
		free(r);
	}
}

static void test_out_params_and_counts_follow_every_call(void **state)
{
	void *buf[64];
	uint64_t seed = 7;

	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(64, all_modes[m]);
		unsigned expect = 0, got, space, avail;

		for (int step = 0; step < 2000; step++) {
			unsigned n = rnd(&seed) % 40;

			if (rnd(&seed) & 1) {
				got = hp_ring_enqueue_burst(r, buf, n, &space);
				assert_int_equal(got, n < 63 - expect ? n : 63 - expect);
				expect += got;
				assert_int_equal(space, 63 - expect);
			} else {
				got = hp_ring_dequeue_bulk(r, buf, n, &avail);
				assert_int_equal(got, n <= expect ? n : 0);
				expect -= got;
				assert_int_equal(avail, expect);
			}
			assert_int_equal(hp_ring_count(r), expect);
			assert_int_equal(hp_ring_free_count(r), 63 - expect);
		}
		free(r);
	}
}

/* Many cycles of random sizes, so that indexes wrap over the slots again and again. */
static void wrap_cycles(unsigned count, unsigned flags)
{
	struct hp_ring *r = ring_new(count, flags);
	unsigned cap = hp_ring_capacity(r);
	uintptr_t next_in = 1, next_out = 1;
	void *buf[128];
	uint64_t seed = count + flags;

	for (int cycle = 0; cycle < 20000; cycle++) {
		unsigned n = 1 + rnd(&seed) % (cap < 128 ? cap : 128), got;

		for (unsigned i = 0; i < n; i++)
			buf[i] = VAL(next_in + i);
		got = (cycle & 1) ? hp_ring_enqueue_burst(r, buf, n, NULL)
				  : hp_ring_enqueue_bulk(r, buf, n, NULL);
		next_in += got;
		n = 1 + rnd(&seed) % (cap < 128 ? cap : 128);
		got = (cycle & 2) ? hp_ring_dequeue_burst(r, buf, n, NULL)
				  : hp_ring_dequeue_bulk(r, buf, n, NULL);
		for (unsigned i = 0; i < got; i++)
			assert_int_equal(NUM(buf[i]), next_out + i);
		next_out += got;
		assert_int_equal(hp_ring_count(r), next_in - next_out);
	}
	/* every index went round the slots many times */
	assert_true(next_in > 50 * (uintptr_t)count);
	free(r);
}

static void test_wrap_around_keeps_fifo_order_over_many_cycles(void **state)
{
	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		wrap_cycles(32, all_modes[m]);
		wrap_cycles(37, all_modes[m] | HP_RING_EXACT_SZ);
	}
}

static void test_indexes_wrap_past_uint32_max(void **state)
{
	void *in[8], *out[8];

	(void)state;
	for (uintptr_t i = 0; i < 8; i++)
		in[i] = VAL(i + 1);
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(8, all_modes[m]);
		uint32_t start = UINT32_MAX - 3;

		/* as if 2^32 - 4 objects had gone through already */
		__atomic_store_n(&r->prod.head, start, __ATOMIC_SEQ_CST);
		__atomic_store_n(&r->prod.tail, start, __ATOMIC_SEQ_CST);
		__atomic_store_n(&r->cons.head, start, __ATOMIC_SEQ_CST);
		__atomic_store_n(&r->cons.tail, start, __ATOMIC_SEQ_CST);
		r->prod.opp_tail = start;
		r->cons.opp_tail = start;
		for (int round = 0; round < 4; round++) {
			assert_int_equal(hp_ring_enqueue_bulk(r, in, 7, NULL), 7);
			assert_int_equal(hp_ring_count(r), 7);
			assert_int_equal(hp_ring_enqueue(r, in[0]), -ENOBUFS);
			assert_int_equal(hp_ring_dequeue_bulk(r, out, 7, NULL), 7);
			assert_memory_equal(out, in, 7 * sizeof(void *));
		}
		free(r);
	}
}

/* ---- named rings ---- */

static void test_create_lookup_and_free_a_named_ring(void **state)
{
	struct hp_ring *r, *l;
	void *obj = NULL;

	(void)state;
	r = hp_ring_create("rt_named", 1024, 0, 0);
	assert_non_null(r);
	assert_int_equal(hp_ring_capacity(r), 1023);
	assert_int_equal(hp_mem_node_of(r), 0);
	l = hp_ring_lookup("rt_named");
	assert_ptr_equal(l, r);
	assert_int_equal(hp_ring_enqueue(r, VAL(42)), 0);
	assert_int_equal(hp_ring_dequeue(l, &obj), 0);
	assert_int_equal(NUM(obj), 42);
	hp_ring_free(r);
	errno = 0;
	assert_null(hp_ring_lookup("rt_named"));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(hp_last_error(), "rt_named"));
	/* the name is free again */
	r = hp_ring_create("rt_named", 64, HP_NODE_ANY, HP_RING_SP_ENQ | HP_RING_SC_DEQ);
	assert_non_null(r);
	hp_ring_free(r);
}

static void test_create_refuses_a_name_twice(void **state)
{
	struct hp_ring *a, *b;

	(void)state;
	a = hp_ring_create("rt_dup", 64, HP_NODE_ANY, 0);
	assert_non_null(a);
	errno = 0;
	b = hp_ring_create("rt_dup", 128, HP_NODE_ANY, 0);
	assert_null(b);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(hp_last_error(), "rt_dup"));
	assert_ptr_equal(hp_ring_lookup("rt_dup"), a);
	assert_int_equal(hp_ring_enqueue(a, VAL(1)), 0);
	hp_ring_free(a);
}

static void test_create_refuses_bad_counts_flags_and_names(void **state)
{
	char name[HP_RING_NAMESIZE + 1];
	struct hp_ring *r;

	(void)state;
	errno = 0;
	assert_null(hp_ring_create("rt_bad", 0, HP_NODE_ANY, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(hp_ring_create("rt_bad", 1000, HP_NODE_ANY, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "HP_RING_EXACT_SZ"));
	errno = 0;
	assert_null(hp_ring_create("rt_bad", HP_RING_SZ_MASK + 1U, HP_NODE_ANY, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(hp_ring_create("rt_bad", 64, HP_NODE_ANY, 0x100));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(hp_ring_create(NULL, 64, HP_NODE_ANY, 0));
	assert_int_equal(errno, EINVAL);
	memset(name, 'n', HP_RING_NAMESIZE);
	name[HP_RING_NAMESIZE] = '\0';
	errno = 0;
	assert_null(hp_ring_create(name, 64, HP_NODE_ANY, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(hp_ring_lookup("rt_bad"));

	/* the longest name fits, and a count that is no power of two is fine with EXACT_SZ */
	name[HP_RING_NAMESIZE - 1] = '\0';
	r = hp_ring_create(name, 1000, HP_NODE_ANY, HP_RING_EXACT_SZ);
	assert_non_null(r);
	assert_int_equal(hp_ring_capacity(r), 1000);
	assert_ptr_equal(hp_ring_lookup(name), r);
	hp_ring_free(r);
}

static void test_free_ignores_null_and_rings_in_caller_memory(void **state)
{
	struct hp_ring *r = ring_new(8, 0);

	(void)state;
	hp_ring_free(NULL);
	assert_int_equal(hp_ring_enqueue(r, VAL(5)), 0);
	hp_ring_free(r);
	assert_int_equal(hp_ring_count(r), 1);
	assert_null(hp_ring_lookup("test"));
	free(r);
}

/* The dump shows each side's head and tail, in every mode (a single side's head is its tail). */
static void test_dump_shows_heads_tails_and_count_in_every_mode(void **state)
{
	static const char *const names[] = {"multi", "single"};
	void *in[5] = {VAL(1), VAL(2), VAL(3), VAL(4), VAL(5)}, *out[2];

	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		struct hp_ring *r = ring_new(8, all_modes[m]);
		char buf[256] = "", want[256];
		FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

		assert_non_null(f);
		assert_int_equal(hp_ring_enqueue_bulk(r, in, 5, NULL), 5);
		assert_int_equal(hp_ring_dequeue_bulk(r, out, 2, NULL), 2);
		hp_ring_dump(f, r);
		fclose(f);
		snprintf(want, sizeof(want),
			 "ring test: size 8 capacity 7 flags 0x%x prod %s 5/5 cons %s 2/2 "
			 "count 3\n",
			 all_modes[m], names[!!(all_modes[m] & HP_RING_SP_ENQ)],
			 names[!!(all_modes[m] & HP_RING_SC_DEQ)]);
		assert_string_equal(buf, want);
		free(r);
	}
}

/* ---- threads ---- */

#define PER_PRODUCER 300000u

struct mt {
	struct hp_ring *r;
	unsigned producers, consumers;
	pthread_barrier_t start;
	_Atomic unsigned long taken;	/* values dequeued so far, all consumers */
	_Atomic unsigned long long sum; /* of values dequeued */
	_Atomic unsigned char *seen;	/* one per value: times dequeued */
	_Atomic unsigned order_errors;	/* a consumer saw a producer's values out of order */
	_Atomic unsigned next_producer; /* ids 0..producers-1, given as the producers start */
	_Atomic unsigned next_consumer;
};

static void *producer(void *arg)
{
	struct mt *t = arg;
	unsigned id = atomic_fetch_add(&t->next_producer, 1);
	uint64_t seed = id + 1;
	uintptr_t base = (uintptr_t)id * PER_PRODUCER, i = 0;
	void *buf[32];

	pthread_barrier_wait(&t->start);
	while (i < PER_PRODUCER) {
		unsigned n = 1 + rnd(&seed) % 32, done;

		if (n > PER_PRODUCER - i)
			n = PER_PRODUCER - i;
		for (unsigned k = 0; k < n; k++)
			buf[k] = VAL(base + i + k + 1);
		done = (n & 1) ? hp_ring_enqueue_burst(t->r, buf, n, NULL)
			       : hp_ring_enqueue_bulk(t->r, buf, n, NULL);
		i += done;
		if (!done)
			sched_yield(); /* full: let a consumer run on this 2-core machine */
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct mt *t = arg;
	unsigned long total = (unsigned long)t->producers * PER_PRODUCER;
	uintptr_t last[8] = {0};
	uint64_t seed = 99 + atomic_fetch_add(&t->next_consumer, 1);
	unsigned long long sum = 0;
	void *buf[32];

	pthread_barrier_wait(&t->start);
	while (atomic_load(&t->taken) < total) {
		unsigned n = 1 + rnd(&seed) % 32, got;

		got = (n & 1) ? hp_ring_dequeue_burst(t->r, buf, n, NULL)
			      : hp_ring_dequeue_bulk(t->r, buf, n, NULL);
		if (!got) {
			sched_yield(); /* empty: let a producer run */
			continue;
		}
		for (unsigned k = 0; k < got; k++) {
			uintptr_t v = NUM(buf[k]), p = (v - 1) / PER_PRODUCER;

			if (v == 0 || p >= t->producers || v <= last[p]) {
				atomic_fetch_add(&t->order_errors, 1);
				continue;
			}
			last[p] = v;
			sum += v;
			atomic_fetch_add_explicit(&t->seen[v - 1], 1, memory_order_relaxed);
		}
		atomic_fetch_add(&t->taken, got);
	}
	atomic_fetch_add(&t->sum, sum);
	return NULL;
}

static void move_every_value_once(unsigned flags, unsigned producers, unsigned consumers,
				  unsigned count)
{
	unsigned long total = (unsigned long)producers * PER_PRODUCER;
	struct mt t = {.producers = producers, .consumers = consumers};
	pthread_t th[8];
	unsigned nth = producers + consumers;

	t.r = ring_new(count, flags);
	t.seen = calloc(total, 1);
	assert_non_null(t.seen);
	pthread_barrier_init(&t.start, NULL, nth);
	for (unsigned i = 0; i < nth; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, i < producers ? producer : consumer, &t), 0);
	for (unsigned i = 0; i < nth; i++)
		pthread_join(th[i], NULL);

	assert_int_equal(atomic_load(&t.order_errors), 0);
	assert_int_equal(atomic_load(&t.taken), total);
	assert_true(atomic_load(&t.sum) == (unsigned long long)total * (total + 1) / 2);
	for (unsigned long v = 0; v < total; v++)
		if (atomic_load_explicit(&t.seen[v], memory_order_relaxed) != 1)
			fail_msg("value %lu was dequeued %u times", v + 1, (unsigned)t.seen[v]);
	assert_true(hp_ring_empty(t.r));
	pthread_barrier_destroy(&t.start);
	free((void *)t.seen);
	free(t.r);
}

static void test_two_producers_two_consumers_move_every_value_once(void **state)
{
	(void)state;
	move_every_value_once(0, 2, 2, 512);
}

static void test_exact_size_mpmc_ring_moves_every_value_once(void **state)
{
	(void)state;
	move_every_value_once(HP_RING_EXACT_SZ, 2, 2, 100);
}

static void test_single_producer_single_consumer_move_every_value_once(void **state)
{
	(void)state;
	move_every_value_once(HP_RING_SP_ENQ | HP_RING_SC_DEQ, 1, 1, 256);
}

static void test_single_producer_and_two_consumers_move_every_value_once(void **state)
{
	(void)state;
	move_every_value_once(HP_RING_SP_ENQ, 1, 2, 128);
}

/* Several producers, one consumer: with a single consumer, each producer's order must hold. */
static void test_three_producers_one_consumer_keep_each_producers_order(void **state)
{
	(void)state;
	move_every_value_once(HP_RING_SC_DEQ, 3, 1, 64);
}

static void test_exact_size_mpsc_ring_keeps_each_producers_order(void **state)
{
	(void)state;
	move_every_value_once(HP_RING_SC_DEQ | HP_RING_EXACT_SZ, 3, 1, 37);
}

static void *stale_create(const char *name)
{
	return hp_ring_create(name, 64, 0, 0);
}

static int stale_free(void *r)
{
	return hp_ring_free(r);
}

static void stale_use(void *r, const char *name)
{
	assert_ptr_equal(hp_ring_lookup(name), r);
	assert_int_equal(hp_ring_enqueue(r, VAL(1)), 0);
	assert_int_equal(hp_ring_count(r), 1);
}

static const struct hp_test_stale stale_ring = {
    .kind = "ring",
    .names = {"rt_stale1", "rt_stale2"},
    .create = stale_create,
    .free = stale_free,
    .use = stale_use,
};

static void test_a_stale_ring_pointer_is_refused_and_frees_no_other_ring(void **state)
{
	char junk[sizeof(struct hp_ring)] HP_CACHE_ALIGNED = {0};

	(void)state;
	hp_test_stale_pointer_is_refused(&stale_ring, junk);
}

static void test_dump_of_a_null_ring_or_stream_fails_with_einval(void **state)
{
	struct hp_ring *r = ring_new(8, 0);

	(void)state;
	assert_int_equal(hp_ring_dump(stdout, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "the ring is NULL"));
	assert_int_equal(hp_ring_dump(NULL, r), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "the stream is NULL"));
	free(r);
}

/* Rings have a registry of their own: a memzone's name never makes a ring exist, nor blocks one. */
static void test_ring_names_never_meet_memzone_names(void **state)
{
	const struct hp_memzone *mz = hp_memzone_reserve("RG_beta", 4096, 0, 0, 0), *mz2;
	struct hp_ring *r;

	(void)state;
	assert_non_null(mz);
	errno = 0;
	assert_null(hp_ring_lookup("beta"));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(hp_last_error(), "no ring named"));
	r = hp_ring_create("beta", 64, 0, 0);
	if (!r)
		fail_msg("ring 'beta' beside zone 'RG_beta': %s", hp_last_error());
	assert_ptr_equal(hp_ring_lookup("beta"), r);
	errno = 0;
	assert_null(hp_ring_create("beta", 64, 0, 0));
	assert_int_equal(errno, EEXIST);
	mz2 = hp_memzone_reserve("beta", 4096, 0, 0, 0); /* a zone may have a ring's name */
	assert_non_null(mz2);
	assert_int_equal(hp_ring_free(r), 0);
	assert_int_equal(hp_memzone_free(mz), 0);
	assert_int_equal(hp_memzone_free(mz2), 0);
}

/* ---- a memzone walk's callback uses rings while another thread creates and frees them ----- */

#define RACE_ROUNDS 2000

static int count_ring(struct hp_ring *r, void *arg)
{
	(void)r;
	++*(unsigned *)arg;
	return 0;
}

/* Under the zone lock: look up, create, walk and free rings. */
static int rings_in_zone_walk(const struct hp_memzone *mz, void *arg)
{
	unsigned n = 0;
	struct hp_ring *r;

	(void)mz, (void)arg;
	hp_ring_lookup("rt_race");
	r = hp_ring_create("rt_in_walk", 16, 0, 0);
	hp_ring_walk(count_ring, &n);
	assert_non_null(r);
	assert_int_equal(hp_ring_free(r), 0);
	assert_true(n > 0);
	return 0;
}

static void create_and_free_ring(void)
{
	struct hp_ring *r = hp_ring_create("rt_race", 16, 0, 0);

	if (r)
		hp_ring_free(r);
}

static void test_a_memzone_walk_callback_may_use_rings_while_rings_are_created(void **state)
{
	(void)state;
	hp_test_walk_race(
	    &(struct hp_test_walk_race){.zone = "rt_race_zone",
					.rounds = RACE_ROUNDS,
					.create_and_free = create_and_free_ring,
					.walk_fn = rings_in_zone_walk,
					.what = "memzone walks using rings beside ring creates"});
}

static int group_setup(void **state)
{
	(void)state;
	hp_test_init(16, "--log-level=warning");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memsize_and_init_refuse_bad_counts_flags_and_names),
	    cmocka_unit_test(test_empty_ring_gives_nothing),
	    cmocka_unit_test(test_ring_of_count_slots_holds_count_minus_one),
	    cmocka_unit_test(test_exact_size_ring_holds_exactly_count),
	    cmocka_unit_test(test_bulk_takes_all_or_nothing_and_burst_takes_what_fits),
	    cmocka_unit_test(test_out_params_and_counts_follow_every_call),
	    cmocka_unit_test(test_wrap_around_keeps_fifo_order_over_many_cycles),
	    cmocka_unit_test(test_indexes_wrap_past_uint32_max),
	    cmocka_unit_test(test_create_lookup_and_free_a_named_ring),
	    cmocka_unit_test(test_create_refuses_a_name_twice),
	    cmocka_unit_test(test_create_refuses_bad_counts_flags_and_names),
	    cmocka_unit_test(test_free_ignores_null_and_rings_in_caller_memory),
	    cmocka_unit_test(test_dump_shows_heads_tails_and_count_in_every_mode),
	    cmocka_unit_test(test_a_stale_ring_pointer_is_refused_and_frees_no_other_ring),
	    cmocka_unit_test(test_dump_of_a_null_ring_or_stream_fails_with_einval),
	    cmocka_unit_test(test_ring_names_never_meet_memzone_names),
	    cmocka_unit_test(test_a_memzone_walk_callback_may_use_rings_while_rings_are_created),
	    cmocka_unit_test(test_two_producers_two_consumers_move_every_value_once),
	    cmocka_unit_test(test_exact_size_mpmc_ring_moves_every_value_once),
	    cmocka_unit_test(test_single_producer_single_consumer_move_every_value_once),
	    cmocka_unit_test(test_single_producer_and_two_consumers_move_every_value_once),
	    cmocka_unit_test(test_three_producers_one_consumer_keep_each_producers_order),
	    cmocka_unit_test(test_exact_size_mpsc_ring_keeps_each_producers_order),
	};

	return cmocka_run_group_tests_name("ring", tests, group_setup, hp_test_teardown);
}
