/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measuring loop of DPDK's mempool_perf_autotest, included by each pool under test after
 * defining POOL_T, POOL_GET(pool, objs, n) (0 on success), POOL_PUT(pool, objs, n) and
 * POOL_FLUSH(pool) (empty the calling lcore's cache): take `keep` objects in bulks of n_get,
 * give them back in bulks of n_put, again and again; look at the clock every 64 rounds. Rates
 * use the thread's CPU time (other load on the machine counts against neither pool); the run
 * stops after j->ns of wall time.
 *
 * Every turn starts with the thread's cache empty, as in a program that has just started: what
 * an earlier cell left there (how many objects, so where the top of the cache sits against a
 * 32-byte boundary) would otherwise shape this cell's figure. doc/benchmarks.md shows the cost of
 * a cache top off that boundary, which a program mixing odd bulk sizes sees.
 */
static inline __attribute__((always_inline)) void
bench_loop_n(struct bench_job *j, const unsigned n_get, const unsigned n_put)
{
	void *tbl[BENCH_MAX_KEEP + 64] __attribute__((aligned(64))); /* as DPDK's test */
	POOL_T *mp = j->pool;
	const unsigned keep = j->keep;
	uint64_t t0, t, c0, rounds = 0, end;
	unsigned idx, r;

	POOL_FLUSH(mp);
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

/*
 * With j->constant (get and put bulks equal, as DPDK's test replays them), the bulk size is a
 * compile-time constant in the loop, as it is in a program that gets and puts bursts of a fixed
 * size: the inline get and put are specialised for it. Each variant is a function of its own,
 * so that none shapes the code of another.
 */
static __attribute__((noinline)) void bench_loop_var(struct bench_job *j)
{
	bench_loop_n(j, j->n_get, j->n_put);
}

static __attribute__((noinline)) void bench_loop_1(struct bench_job *j)
{
	bench_loop_n(j, 1, 1);
}

static __attribute__((noinline)) void bench_loop_4(struct bench_job *j)
{
	bench_loop_n(j, 4, 4);
}

static __attribute__((noinline)) void bench_loop_32(struct bench_job *j)
{
	bench_loop_n(j, 32, 32);
}

static void bench_loop(struct bench_job *j)
{
	switch (j->constant && j->n_get == j->n_put ? j->n_get : 0) {
	case 1:
		bench_loop_1(j);
		break;
	case 4:
		bench_loop_4(j);
		break;
	case 32:
		bench_loop_32(j);
		break;
	default:
		bench_loop_var(j);
		break;
	}
}
