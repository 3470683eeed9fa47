/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mempool-bench's DPDK side: rte_eal_init for the comparison, two rte_mempools of the same size
 * (cache BENCH_CACHE, and none), and the same loop on lcores 0 and 1 (main + one worker), or on
 * threads pinned to CPUs 0 and 1 that are not EAL threads (no lcore id, so no cache).
 */
#include <stdio.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "bench.h"

#define POOL_T struct rte_mempool
#define POOL_GET(mp, objs, n) rte_mempool_get_bulk(mp, objs, n)
#define POOL_PUT(mp, objs, n) rte_mempool_put_bulk(mp, objs, n)
#define POOL_FLUSH(mp)                                                                             \
	do {                                                                                       \
		struct rte_mempool_cache *c_ = rte_mempool_default_cache(mp, rte_lcore_id());      \
                                                                                                   \
		if (c_)                                                                            \
			rte_mempool_cache_flush(c_, mp);                                           \
	} while (0)
#include "loop.h"

static void *dpdk_pool(int cached)
{
	struct rte_mempool *mp = rte_mempool_create(
	    cached ? "bench_c" : "bench_nc", BENCH_POOL_SIZE, BENCH_ELT_SIZE,
	    cached ? BENCH_CACHE : 0, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);

	if (!mp)
		fprintf(stderr, "mempool-bench: rte_mempool_create: %s\n", rte_strerror(rte_errno));
	return mp;
}

static int job_main(void *arg)
{
	bench_loop(arg);
	return 0;
}

static void *job_thread(void *arg)
{
	bench_loop(arg);
	return NULL;
}

static int dpdk_run(struct bench_job *jobs, unsigned threads)
{
	unsigned i;
	int rc = 0;

	if (jobs[0].unregistered)
		return bench_run_pinned(jobs, threads, job_thread); /* not EAL threads: no cache */
	for (i = 1; i < threads; i++)
		if (rte_eal_remote_launch(job_main, &jobs[i], rte_get_next_lcore(i - 1, 1, 0)) < 0)
			return -1;
	bench_loop(&jobs[0]);
	rte_eal_mp_wait_lcore();
	for (i = 0; i < threads; i++)
		rc |= jobs[i].failed ? -1 : 0;
	return rc;
}

const struct bench_pool_ops bench_dpdk_ops = {
    .name = "dpdk",
    .pool = dpdk_pool,
    .run = dpdk_run,
};
