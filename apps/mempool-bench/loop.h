/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measuring loop of DPDK's mempool_perf_autotest, included by each pool under test after
 * defining POOL_T, POOL_GET(pool, objs, n) (0 on success) and POOL_PUT(pool, objs, n): take
 * `keep` objects in bulks of n_get, give them back in bulks of n_put, again and again; look at
 * the clock every 64 rounds. Rates use the thread's CPU time (other load on the machine counts
 * against neither pool); the run stops after j->ns of wall time.
 */
static void bench_loop(struct bench_job *j)
{
	void *tbl[BENCH_MAX_KEEP + 64] __attribute__((aligned(64))); /* as DPDK's test */
	POOL_T *mp = j->pool;
	const unsigned keep = j->keep, n_get = j->n_get, n_put = j->n_put;
	uint64_t t0, t, c0, rounds = 0, end;
	unsigned idx, r;

	bench_start_line(j);
	t0 = bench_now_ns();
	c0 = bench_cpu_ns();
	end = t0 + j->ns;
	do {
		for (r = 0; r < 64; r++) {
			for (idx = 0; idx < keep; idx += n_get)
				if (POOL_GET(mp, &tbl[idx], n_get) != 0) {
					j->failed = 1;
					return;
				}
			for (idx = 0; idx < keep; idx += n_put)
				POOL_PUT(mp, &tbl[idx], n_put);
		}
		rounds += 64;
		t = bench_now_ns();
	} while (t < end);
	j->elapsed = bench_cpu_ns() - c0;
	j->objs = rounds * keep;
}
