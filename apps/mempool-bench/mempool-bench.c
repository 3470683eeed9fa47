/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mempool-bench: the matrix of DPDK's mempool_perf_autotest (cache on/off, get and put bulk
 * 1/4/32, 32/128/512 objects kept, 1 and 2 threads) on hugepool's mempool and, where libdpdk
 * is found, on rte_mempool in the same run; objects per second per thread, a table or --json.
 * Every figure is one run of --seconds on this machine: compare within a run only.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_opts.h"
#include "app_thread.h"
#include "bench.h"
#include "app_util.h"

static const unsigned bulks[] = {1, 4, 32};
static const unsigned keeps[] = {32, 128, 512};

struct cell {
	int cached;
	unsigned threads, keep, n_get, n_put;
	int constant; /* replayed with the bulk size a compile-time constant (DPDK's constant_n) */
	double hp, dpdk; /* M objects per second per thread; 0 = not run */
};

uint64_t bench_now_ns(void)
{
	return app_now_ns();
}

uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_start_line(struct bench_job *j)
{
	atomic_fetch_add(j->ready, 1);
	while (atomic_load(j->ready) < (int)j->threads)
		;
}

int bench_run_pinned(struct bench_job *jobs, unsigned threads, void *(*fn)(void *))
{
	pthread_t t[BENCH_MAX_THREADS];
	unsigned i;
	int rc = 0;

	for (i = 0; i < threads; i++)
		if (app_thread_start_on(&t[i], i, fn, &jobs[i]) != 0)
			return -1; /* the ones started wait at the start line for good: give up */
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		rc |= jobs[i].failed ? -1 : 0;
	}
	return rc;
}

double bench_rate(const struct bench_pool_ops *ops, const struct bench_job *proto, unsigned threads)
{
	struct bench_job jobs[BENCH_MAX_THREADS];
	_Atomic int ready = 0;
	double sum = 0;
	unsigned i;

	for (i = 0; i < threads; i++) {
		jobs[i] = *proto;
		jobs[i].ready = &ready;
		jobs[i].threads = threads;
	}
	if (ops->run(jobs, threads) < 0) {
		fprintf(stderr, "mempool-bench: %s: a get failed (keep %u)\n", ops->name,
			proto->keep);
		return -1;
	}
	for (i = 0; i < threads; i++)
		sum += (double)jobs[i].objs * 1e3 / (double)jobs[i].elapsed;
	return sum / threads;
}

/* M objects per second per thread for one cell, or -1 */
static double measure(const struct bench_pool_ops *ops, void *pool, const struct cell *c,
		      double seconds)
{
	struct bench_job proto = {.pool = pool,
				  .keep = c->keep,
				  .n_get = c->n_get,
				  .n_put = c->n_put,
				  .constant = c->constant,
				  .ns = (uint64_t)(seconds * 1e9)};

	return bench_rate(ops, &proto, c->threads);
}

static int same_but_threads(const struct cell *a, const struct cell *b)
{
	return a->cached == b->cached && a->keep == b->keep && a->n_get == b->n_get &&
	       a->n_put == b->n_put && a->constant == b->constant;
}

/* One turn of cell c on hugepool, then on DPDK; each keeps its best rate. 0 or -1. */
static int turn(struct cell *c, void *const *hp_pools, void *const *dpdk_pools, int dpdk,
		double seconds)
{
	double v = measure(&bench_hugepool_ops, hp_pools[c->cached], c, seconds);

	if (v < 0)
		return -1;
	c->hp = v > c->hp ? v : c->hp;
#ifdef HP_HAVE_DPDK
	if (dpdk) {
		v = measure(&bench_dpdk_ops, dpdk_pools[c->cached], c, seconds);
		if (v < 0)
			return -1;
		c->dpdk = v > c->dpdk ? v : c->dpdk;
	}
#else
	(void)dpdk_pools;
	(void)dpdk;
#endif
	return 0;
}

static double ratio(const struct cell *c)
{
	return c->dpdk > 0 ? c->hp / c->dpdk : 0;
}

/* Two threads' total rate against one thread's (rates are per thread), or 0 without both. */
static double scaling(double one, double two)
{
	return one > 0 ? 2 * two / one : 0;
}

static void print_table(const struct cell *cells, unsigned n, int dpdk)
{
	unsigned i;

	printf("%-6s %-7s %-5s %-4s %-4s %-5s %14s", "cache", "threads", "keep", "get", "put",
	       "const", "hugepool Mo/s");
	if (dpdk)
		printf(" %12s %7s", "dpdk Mo/s", "ratio");
	printf("\n");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%-6s %-7u %-5u %-4u %-4u %-5s %14.1f", c->cached ? "512" : "0", c->threads,
		       c->keep, c->n_get, c->n_put, c->constant ? "yes" : "no", c->hp);
		if (dpdk)
			printf(" %12.1f %6.2fx", c->dpdk, ratio(c));
		printf("\n");
	}
}

static const struct cell *find(const struct cell *cells, unsigned n, int cached, unsigned threads,
			       unsigned keep, unsigned bulk, int constant)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (cells[i].cached == cached && cells[i].threads == threads &&
		    cells[i].keep == keep && cells[i].n_get == bulk && cells[i].n_put == bulk &&
		    cells[i].constant == constant)
			return &cells[i];
	return NULL;
}

/*
 * The summary lines: cached one-thread ratios to DPDK at keep 128, and two threads against one;
 * for the bulk size known only at run time, and (DPDK's constant_n replay) at compile time.
 */
static void print_summary(const struct cell *cells, unsigned n, int dpdk, int json)
{
	unsigned b, k = 0;
	int constant;

	for (constant = 0; constant < 2; constant++)
		for (b = 0; b < 3; b++) {
			const struct cell *one = find(cells, n, 1, 1, 128, bulks[b], constant);
			const struct cell *two = find(cells, n, 1, 2, 128, bulks[b], constant);
			double scale = one && two ? scaling(one->hp, two->hp) : 0;
			/* DPDK's own scaling in the same run: what the machine allowed */
			double dscale = one && two ? scaling(one->dpdk, two->dpdk) : 0;
			const char *how = constant ? "constant" : "run-time";

			if (!one)
				continue;
			if (json)
				printf("%s{\"bulk\": %u, \"constant\": %s, \"hp_mops\": %.1f, "
				       "\"ratio\": %.3f, \"two_threads_vs_one\": %.3f, "
				       "\"dpdk_two_threads_vs_one\": %.3f}",
				       k++ ? ", " : "", bulks[b], constant ? "true" : "false",
				       one->hp, ratio(one), scale, dscale);
			else if (dpdk)
				printf("summary: cached, keep 128, %s bulk %2u: %.2fx DPDK; "
				       "2 threads = %.2fx 1 thread (DPDK's: %.2fx)\n",
				       how, bulks[b], ratio(one), scale, dscale);
			else
				printf(
				    "summary: cached, keep 128, %s bulk %2u: 2 threads = %.2fx 1 "
				    "thread\n",
				    how, bulks[b], scale);
		}
}

static void print_json(const struct cell *cells, unsigned n, double seconds, unsigned repeat,
		       int dpdk)
{
	unsigned i;

	printf("{\"bench\": \"mempool\", \"elt_size\": %d, \"seconds_per_cell\": %.3f, "
	       "\"repeat\": %u, \"unit\": \"M objects/s per thread (CPU time)\", \"dpdk\": %s, "
	       "\"cells\": [",
	       BENCH_ELT_SIZE, seconds, repeat, dpdk ? "true" : "false");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s{\"cache\": %d, \"threads\": %u, \"keep\": %u, \"get\": %u, \"put\": %u, "
		       "\"constant\": %s, \"hugepool\": %.2f",
		       i ? ", " : "", c->cached ? BENCH_CACHE : 0, c->threads, c->keep, c->n_get,
		       c->n_put, c->constant ? "true" : "false", c->hp);
		if (dpdk)
			printf(", \"dpdk\": %.2f, \"ratio\": %.3f", c->dpdk, ratio(c));
		printf("}");
	}
	printf("], \"summary\": [");
	print_summary(cells, n, dpdk, 1);
	printf("], ");
	bench_unregistered_print(dpdk, 1);
	printf("}\n");
}

static unsigned make_cells(struct cell *cells, int quick)
{
	unsigned n = 0, cached, threads, k, g, p;
	int constant;

	for (cached = 0; cached < 2; cached++)
		for (threads = 1; threads <= BENCH_MAX_THREADS; threads++)
			for (k = 0; k < 3; k++)
				for (g = 0; g < 3; g++)
					for (p = 0; p < 3; p++)
						/* as DPDK's test: get == put is replayed constant
						 */
						for (constant = 0; constant <= (g == p);
						     constant++) {
							if (quick &&
							    (!cached || keeps[k] != 128 || g != p))
								continue;
							cells[n++] =
							    (struct cell){.cached = (int)cached,
									  .threads = threads,
									  .keep = keeps[k],
									  .n_get = bulks[g],
									  .n_put = bulks[p],
									  .constant = constant};
						}
	return n;
}

int main(int argc, char **argv)
{
	static struct cell cells[2 * BENCH_MAX_THREADS * 36];
	void *hp_pools[2];
	void *dpdk_pools[2] = {NULL, NULL};
	double seconds = 0.1;
	bool json = false, no_dpdk = false, no_huge = false, quick = false;
	int dpdk = 0, rc;
	unsigned n, i, r, repeat = 50;
	const struct app_opt opts[] = {
	    {"seconds", 's', APP_DOUBLE, &seconds, "S", "time per cell and pool (default 0.1)", 0,
	     60, "give seconds, above 0 and at most 60"},
	    {"repeat", 'r', APP_UINT, &repeat, "R",
	     "split that time into R turns, keep the best (default 50, 1 to 1000)", 1, 1000,
	     "give 1 to 1000"},
	    {"quick", 'q', APP_FLAG, &quick, NULL,
	     "only the summary cells (cached, keep 128, get = put)"},
	    {"no-dpdk", 'D', APP_FLAG, &no_dpdk, NULL,
	     "do not run DPDK's rte_mempool beside hugepool"},
	    {"no-huge", 'H', APP_FLAG, &no_huge, NULL, "run both on ordinary 4 KiB pages"},
	    {"json", 'j', APP_FLAG, &json, NULL, "one JSON object instead of the table"},
	    {NULL}};
	const struct app_cli cli = {.prog = "mempool-bench", .opts = opts};

	rc = app_parse(&cli, argc, argv);
	if (rc != APP_RUN)
		return rc;
	if (bench_hugepool_init(no_huge) < 0)
		return 1;
	hp_pools[0] = bench_hugepool_ops.pool(0);
	hp_pools[1] = bench_hugepool_ops.pool(1);
	if (!hp_pools[0] || !hp_pools[1])
		return 1;
#ifdef HP_HAVE_DPDK
	if (!no_dpdk && bench_dpdk_init("mempool-bench", 256, no_huge) == 0) {
		dpdk_pools[0] = bench_dpdk_ops.pool(0);
		dpdk_pools[1] = bench_dpdk_ops.pool(1);
		dpdk = dpdk_pools[0] && dpdk_pools[1];
		if (dpdk && !json)
			printf("# DPDK %s in the same run\n", bench_dpdk_version());
	}
#else
	(void)no_dpdk;
#endif
	n = make_cells(cells, quick);
	if (!json)
		printf(
		    "# %d-byte objects, %.2f s per cell in %u turns (best kept), M objects got and "
		    "put per second of each thread's CPU time (one run: compare within it only)\n",
		    BENCH_ELT_SIZE, seconds, repeat);
	/*
	 * The cells that differ only in their thread count are measured together: in each of the
	 * repeat rounds every one of them runs a turn on hugepool and a turn on DPDK, and each
	 * keeps its best (least disturbed) turn. Both ratios of the summary (hugepool against
	 * DPDK, two threads against one) so compare figures taken in the same stretch of time, not
	 * seconds apart on a machine whose other guests come and go.
	 */
	for (i = 0; i < n; i++) {
		unsigned group[BENCH_MAX_THREADS], g, n_group = 0, k;

		if (cells[i].threads != 1)
			continue;
		for (k = 0; k < n; k++)
			if (same_but_threads(&cells[i], &cells[k]))
				group[n_group++] = k;
		for (r = 0; r < repeat; r++)
			for (g = 0; g < n_group; g++)
				if (turn(&cells[group[g]], hp_pools, dpdk_pools, dpdk,
					 seconds / repeat) < 0)
					return 1;
	}
	if (bench_unregistered_run(hp_pools[1], dpdk_pools[1], dpdk, seconds, repeat) < 0)
		return 1;
	if (json) {
		print_json(cells, n, seconds, repeat, dpdk);
	} else {
		print_table(cells, n, dpdk);
		print_summary(cells, n, dpdk, 0);
		bench_unregistered_print(dpdk, 0);
	}
	return 0;
}
