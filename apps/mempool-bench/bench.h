/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mempool-bench: what the harness (mempool-bench.c) and each pool under test (hugepool in
 * mp-hugepool.c, DPDK in mp-dpdk.c) share. Both get the same loop (loop.h, included once per
 * pool so that get/put are inline there) and the same thread harness (bench_run_threads).
 */
#ifndef MEMPOOL_BENCH_H
#define MEMPOOL_BENCH_H

#include <stdatomic.h>
#include <stdint.h>

#define BENCH_ELT_SIZE 2048
#define BENCH_CACHE 512
#define BENCH_MAX_KEEP 512
#define BENCH_MAX_THREADS 2
/* objects in each pool: every thread's keep plus its cache at most (1.5 x) and a refill */
#define BENCH_POOL_SIZE (BENCH_MAX_THREADS * (BENCH_MAX_KEEP + BENCH_CACHE * 3))

/* One thread's run of the loop. */
struct bench_job {
	void *pool;
	unsigned keep, n_get, n_put;
	int constant;	    /* n_get == n_put, passed to the pool as a compile-time constant */
	uint64_t ns;	    /* how long to run */
	uint64_t objs;	    /* out: objects got and put back */
	uint64_t elapsed;   /* out: ns of this thread's CPU time */
	int failed;	    /* out: a get failed */
	_Atomic int *ready; /* threads at the start line */
	unsigned threads;
	int unregistered; /* threads without an lcore id (DPDK: not EAL threads) */
};

struct bench_pool_ops {
	const char *name;
	/* the pool with or without per-lcore caches, made once */
	void *(*pool)(int cached);
	/* run jobs[0..threads) at once, one per CPU; 0 or -1 */
	int (*run)(struct bench_job *jobs, unsigned threads);
};

uint64_t bench_now_ns(void);
/* CPU time of the calling thread, ns */
uint64_t bench_cpu_ns(void);
/* wait until all threads of a run are here */
void bench_start_line(struct bench_job *j);
/* Run fn(&jobs[i]) on a thread pinned to CPU i, i < threads, and join them: 0, or -1 (a get
 * failed, or a thread could not start) */
int bench_run_pinned(struct bench_job *jobs, unsigned threads, void *(*fn)(void *));
/* M objects per second per thread of `threads` copies of job proto (its pool) at once, or -1 */
double bench_rate(const struct bench_pool_ops *ops, const struct bench_job *proto,
		  unsigned threads);
/* Rows for threads without an lcore id (unregistered.c): run them, print them. 0 or -1. */
int bench_unregistered_run(void *hp_cached, void *dpdk_cached, int dpdk, double seconds,
			   unsigned repeat);
void bench_unregistered_print(int dpdk, int json);

extern const struct bench_pool_ops bench_hugepool_ops;
int bench_hugepool_init(int no_huge);
#ifdef HP_HAVE_DPDK
#include "bench_dpdk.h"
extern const struct bench_pool_ops bench_dpdk_ops;
#endif

#endif
