/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mempool-bench's rows for threads without an lcore id: hugepool's per-CPU caches against
 * DPDK's path for such threads (no cache: the backend on every call) and DPDK's lcore cache,
 * with hugepool's own lcore cache beside them. Keep 128, get = put, the cached pools, one and
 * two threads pinned to CPUs 0 and 1; the four are interleaved turn by turn, best turn kept.
 */
#include <stdio.h>

#include <hugepool.h>

#include "bench.h"

enum { HP_PERCPU, HP_LCORE, DPDK_NONE, DPDK_LCORE, N_WAYS };

struct row {
	unsigned threads, bulk;
	int constant;
	double v[N_WAYS]; /* M objects per second per thread; 0 = not run */
};

static const unsigned row_bulks[] = {1, 4, 32};
static struct row rows[2 * 3 * BENCH_MAX_THREADS];
static unsigned n_rows;

static double div0(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static int turn(struct row *r, int way, void *pool, double seconds)
{
	struct bench_job proto = {.pool = pool,
				  .keep = 128,
				  .n_get = r->bulk,
				  .n_put = r->bulk,
				  .constant = r->constant,
				  .ns = (uint64_t)(seconds * 1e9),
				  .unregistered = way == HP_PERCPU || way == DPDK_NONE};
	const struct bench_pool_ops *ops = &bench_hugepool_ops;
	double v;

#ifdef HP_HAVE_DPDK
	if (way == DPDK_NONE || way == DPDK_LCORE)
		ops = &bench_dpdk_ops;
#endif
	v = bench_rate(ops, &proto, r->threads);
	if (v < 0)
		return -1;
	r->v[way] = v > r->v[way] ? v : r->v[way];
	return 0;
}

int bench_unregistered_run(void *hp_cached, void *dpdk_cached, int dpdk, double seconds,
			   unsigned repeat)
{
	unsigned b, t, i, k;
	int constant, way;

	n_rows = 0;
	for (constant = 0; constant < 2; constant++)
		for (b = 0; b < 3; b++)
			for (t = 1; t <= BENCH_MAX_THREADS; t++)
				rows[n_rows++] = (struct row){
				    .threads = t, .bulk = row_bulks[b], .constant = constant};
	/* rows that differ only in their thread count share each round, as the main table's */
	for (i = 0; i < n_rows; i += BENCH_MAX_THREADS)
		for (k = 0; k < repeat; k++)
			for (t = 0; t < BENCH_MAX_THREADS; t++)
				for (way = 0; way < N_WAYS; way++) {
					int on_dpdk = way == DPDK_NONE || way == DPDK_LCORE;

					if (on_dpdk && !dpdk)
						continue;
					if (turn(&rows[i + t], way,
						 on_dpdk ? dpdk_cached : hp_cached,
						 seconds / repeat) < 0)
						return -1;
				}
	return 0;
}

void bench_unregistered_print(int dpdk, int json)
{
	const char *why;
	bool on = hp_mempool_percpu_enabled(&why);
	unsigned i;

	if (json) {
		printf("\"unregistered\": {\"percpu\": %s, \"rows\": [", on ? "true" : "false");
		for (i = 0; i < n_rows; i++) {
			const struct row *r = &rows[i];

			printf("%s{\"threads\": %u, \"bulk\": %u, \"constant\": %s, "
			       "\"hp_percpu\": %.2f, \"hp_lcore\": %.2f",
			       i ? ", " : "", r->threads, r->bulk, r->constant ? "true" : "false",
			       r->v[HP_PERCPU], r->v[HP_LCORE]);
			if (dpdk)
				printf(", \"dpdk_no_cache\": %.2f, \"dpdk_lcore\": %.2f, "
				       "\"vs_dpdk_no_cache\": %.3f, \"vs_dpdk_lcore\": %.3f",
				       r->v[DPDK_NONE], r->v[DPDK_LCORE],
				       div0(r->v[HP_PERCPU], r->v[DPDK_NONE]),
				       div0(r->v[HP_PERCPU], r->v[DPDK_LCORE]));
			printf("}");
		}
		printf("]}");
		return;
	}
	printf("\n# threads without an lcore id (keep 128, get = put, cache 512), M objects/s per "
	       "thread; per-CPU caches %s\n",
	       why);
	printf("%-7s %-4s %-5s %10s %10s", "threads", "bulk", "const", "hp-percpu", "hp-lcore");
	if (dpdk)
		printf(" %11s %11s %11s %11s", "dpdk-none", "dpdk-lcore", "vs-none", "vs-lcore");
	printf(" %9s\n", "vs-hp-lc");
	for (i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];

		printf("%-7u %-4u %-5s %10.1f %10.1f", r->threads, r->bulk,
		       r->constant ? "yes" : "no", r->v[HP_PERCPU], r->v[HP_LCORE]);
		if (dpdk)
			printf(" %11.1f %11.1f %10.2fx %10.2fx", r->v[DPDK_NONE], r->v[DPDK_LCORE],
			       div0(r->v[HP_PERCPU], r->v[DPDK_NONE]),
			       div0(r->v[HP_PERCPU], r->v[DPDK_LCORE]));
		printf(" %8.2fx\n", div0(r->v[HP_PERCPU], r->v[HP_LCORE]));
	}
}
