/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mempool-bench's hugepool side: two pools (per-lcore cache of BENCH_CACHE, and none), and
 * threads pinned one per CPU, each with its own lcore id (hp_thread_register), or without one
 * (then they use the per-CPU caches).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <hugepool.h>

#include "bench.h"

#define POOL_T struct hp_mempool
#define POOL_GET(mp, objs, n) hp_mempool_get_bulk(mp, objs, n)
#define POOL_PUT(mp, objs, n) hp_mempool_put_bulk(mp, objs, n)
/* empty the caller's cache: its lcore's, or (without an lcore id) the per-CPU ones */
#define POOL_FLUSH(mp)                                                                             \
	(hp_lcore_id() == HP_LCORE_ANY ? (void)hp_mempool_percpu_flush(mp)                         \
				       : hp_mempool_cache_flush(hp_mempool_default_cache(mp)))
#include "loop.h"

static struct hp_mempool *pools[2];

/* At exit, whichever way main returns: the pools and the runtime go back (socket, pages). */
static void hugepool_fini(void)
{
	for (int i = 0; i < 2; i++)
		if (pools[i])
			hp_mempool_free(pools[i]);
	hp_cleanup();
}

int bench_hugepool_init(int no_huge)
{
	char *argv[] = {"mempool-bench", no_huge ? "--no-huge" : "--socket-mem=64",
			"--log-level=error", NULL};

	if (hp_init(3, argv) < 0) {
		fprintf(stderr, "mempool-bench: hp_init: %s\n", hp_last_error());
		return -1;
	}
	atexit(hugepool_fini);
	return 0;
}

static void *hp_pool(int cached)
{
	struct hp_mempool *mp = hp_mempool_create(cached ? "bench.c" : "bench.nc", BENCH_POOL_SIZE,
						  BENCH_ELT_SIZE, cached ? BENCH_CACHE : 0, 0, 0);

	if (!mp)
		fprintf(stderr, "mempool-bench: %s\n", hp_last_error());
	pools[cached ? 1 : 0] = mp;
	return mp;
}

static void *worker(void *arg)
{
	struct bench_job *j = arg;

	if (!j->unregistered && hp_thread_register() < 0) {
		j->failed = 1;
		bench_start_line(j); /* do not leave the others waiting */
		return NULL;
	}
	bench_loop(j);
	if (!j->unregistered)
		hp_thread_unregister();
	return NULL;
}

static int hp_run(struct bench_job *jobs, unsigned threads)
{
	return bench_run_pinned(jobs, threads, worker);
}

const struct bench_pool_ops bench_hugepool_ops = {
    .name = "hugepool",
    .pool = hp_pool,
    .run = hp_run,
};
