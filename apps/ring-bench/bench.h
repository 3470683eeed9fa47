/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring-bench: what the harness (ring-bench.c) and each ring under test (hugepool here, DPDK in
 * ring-dpdk.c) share. Each ring gets the same measuring loops (loops.h, included once per ring
 * so that its enqueue/dequeue calls are inline there) behind this small table of functions.
 */
#ifndef RING_BENCH_H
#define RING_BENCH_H

#include <stdatomic.h>
#include <stdint.h>

#define BENCH_RING_SIZE 4096 /* slots, as DPDK's ring_perf_autotest uses */
#define BENCH_MAX_BULK 32

/* What one thread of a producer/consumer pair does. */
struct bench_pair {
	void *ring;
	unsigned bulk;
	uint64_t elements;	 /* each side moves this many */
	_Atomic int ready;	 /* threads that reached the start line */
	uint64_t t_start, t_end; /* ns, taken by the consumer */
};

struct bench_ring_ops {
	const char *name;
	/* make a ring of BENCH_RING_SIZE slots; single: SP/SC, else MP/MC. NULL on failure */
	void *(*create)(const char *name, int single);
	void (*destroy)(void *ring);
	/* one thread enqueues bulk then dequeues bulk, iters times; returns ns per element */
	double (*one_thread)(void *ring, unsigned bulk, uint64_t iters);
	/* the two halves of a pair; both return 0, or -1 if an operation misbehaved */
	int (*producer)(struct bench_pair *p);
	int (*consumer)(struct bench_pair *p);
};

uint64_t bench_now_ns(void);

/* Wait until both threads of the pair are here, so neither starts alone. */
void bench_pair_start(struct bench_pair *p);

extern const struct bench_ring_ops bench_hugepool_ops;
#ifdef HP_HAVE_DPDK
#include "bench_dpdk.h"
extern const struct bench_ring_ops bench_dpdk_ops;
#endif

#endif
