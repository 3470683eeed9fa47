/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measuring loops, included once per ring under test so that both rings are timed by the
 * same code with their enqueue/dequeue inline. Before including, define:
 *   LOOP(name)            a prefix for the functions made here
 *   RING_T                the ring type
 *   ENQ_BULK(r, objs, n)  enqueue all of n or none; returns n or 0
 *   DEQ_BULK(r, objs, n)  dequeue all of n or none; returns n or 0
 */
#include "bench.h"

static void LOOP(fill)(void **objs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
}

/* Enqueue bulk, dequeue bulk, iters times, in one thread; ns per element or -1. */
static __attribute__((noinline)) double LOOP(one_thread)(void *ring, unsigned bulk, uint64_t iters)
{
	RING_T *r = ring;
	void *objs[BENCH_MAX_BULK], *out[BENCH_MAX_BULK];
	uint64_t t0, t1, bad = 0;

	LOOP(fill)(objs, bulk);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < iters; i++) {
		bad += ENQ_BULK(r, objs, bulk) != bulk;
		bad += DEQ_BULK(r, out, bulk) != bulk;
	}
	t1 = bench_now_ns();
	if (bad || out[bulk - 1] != objs[bulk - 1])
		return -1;
	return (double)(t1 - t0) / ((double)iters * bulk);
}

static __attribute__((noinline)) int LOOP(producer)(struct bench_pair *p)
{
	RING_T *r = p->ring;
	unsigned bulk = p->bulk;
	void *objs[BENCH_MAX_BULK];

	LOOP(fill)(objs, bulk);
	bench_pair_start(p);
	for (uint64_t sent = 0; sent < p->elements;)
		sent += ENQ_BULK(r, objs, bulk);
	return 0;
}

static __attribute__((noinline)) int LOOP(consumer)(struct bench_pair *p)
{
	RING_T *r = p->ring;
	unsigned bulk = p->bulk;
	void *out[BENCH_MAX_BULK];
	uint64_t got = 0, sum = 0;

	bench_pair_start(p);
	p->t_start = bench_now_ns();
	while (got < p->elements) {
		unsigned n = DEQ_BULK(r, out, bulk);

		got += n;
		if (n)
			sum += (uintptr_t)out[0];
	}
	p->t_end = bench_now_ns();
	/* every bulk starts with value 1 */
	return sum == p->elements / bulk ? 0 : -1;
}
