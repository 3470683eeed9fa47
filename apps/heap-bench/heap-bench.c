/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heap-bench: nanoseconds per malloc + free pair for hugepool's hp_malloc/hp_free, glibc's
 * malloc/free and (built with HP_HAVE_DPDK) DPDK's rte_malloc/rte_free, for block sizes from
 * 64 B to 1 MiB, on one thread and on two at once. Every allocator gets the same loop: each
 * thread keeps a window of live blocks and, again and again, frees the oldest and allocates a
 * new one in its place (FIFO), writing the new block's first byte. The allocators take turns,
 * cell by cell, and each keeps its best turn: one run, compared within itself only. --burst=N
 * runs the other shape: allocate N blocks, then free them all. --dynamic starts hugepool without
 * --socket-mem, so its memory grows and goes back. Page faults taken inside the timed loops
 * (getrusage of the thread) are counted per cell and allocator.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <hugepool.h>
#include "app_opts.h"
#include "app_thread.h"
#ifdef HP_HAVE_DPDK
#include <rte_malloc.h>
#include "bench_dpdk.h"
#endif

#define MAX_THREADS 2
#define WINDOW 32 /* live blocks per thread */
#define MAX_BURST 1024
#define MEM_MB 512     /* hugepage memory each runtime starts with: no growth while timing */
#define CHECK_EVERY 64 /* pairs between looks at the clock */

static const size_t sizes[] = {64, 256, 1024, 4096, 65536, 1 << 20};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

enum alloc { A_HP, A_GLIBC, A_DPDK, A_N };
static const char *const alloc_names[A_N] = {"hugepool", "glibc", "dpdk"};

static void *hp_alloc(size_t n)
{
	return hp_malloc(n, 0, HP_NODE_ANY);
}

static void *glibc_alloc(size_t n)
{
	return malloc(n);
}

#ifdef HP_HAVE_DPDK
static void *dpdk_alloc(size_t n)
{
	return rte_malloc(NULL, n, 0);
}
#endif

struct alloc_ops {
	void *(*alloc)(size_t n);
	void (*free)(void *p);
};

static const struct alloc_ops ops[A_N] = {
    [A_HP] = {hp_alloc, hp_free},
    [A_GLIBC] = {glibc_alloc, free},
#ifdef HP_HAVE_DPDK
    [A_DPDK] = {dpdk_alloc, rte_free},
#endif
};

struct job {
	const struct alloc_ops *ops;
	size_t size;
	uint64_t ns;	    /* wall time of the turn */
	uint64_t pairs;	    /* out: malloc + free pairs done */
	uint64_t elapsed;   /* out: ns the pairs took */
	int failed;	    /* out: an allocation failed */
	_Atomic int *ready; /* threads at the start line */
	unsigned threads;
	unsigned burst;	 /* 0: FIFO window; else allocate burst blocks, then free them */
	uint64_t faults; /* out: minor + major page faults inside the timed loop */
};

static uint64_t thread_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

/* burst blocks allocated, then freed; returns the pairs done (fewer when one failed) */
static unsigned burst_round(struct job *j)
{
	void *b[MAX_BURST];
	unsigned i, n;

	for (n = 0; n < j->burst; n++) {
		b[n] = j->ops->alloc(j->size);
		if (!b[n]) {
			j->failed = 1;
			break;
		}
		*(volatile char *)b[n] = 1;
	}
	for (i = 0; i < n; i++)
		j->ops->free(b[i]);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The loop every allocator runs: fill the window, then free the oldest and replace it. */
static void *run_job(void *arg)
{
	struct job *j = arg;
	void *win[WINDOW] = {NULL};
	uint64_t t0, t = 0, end, pairs = 0;
	unsigned i, k = 0;

	for (i = 0; i < WINDOW; i++) {
		win[i] = j->ops->alloc(j->size);
		if (!win[i])
			j->failed = 1;
		else
			*(volatile char *)win[i] = 1;
	}
	if (j->burst)
		burst_round(j); /* warm-up: growth is not what the loop times */
	atomic_fetch_add(j->ready, 1);
	while (atomic_load(j->ready) < (int)j->threads)
		;
	j->faults = thread_faults();
	t0 = now_ns();
	end = t0 + j->ns;
	while (j->burst && !j->failed) {
		pairs += burst_round(j);
		t = now_ns();
		if (t >= end)
			break;
	}
	do {
		if (j->burst)
			break;
		for (i = 0; i < CHECK_EVERY && !j->failed; i++) {
			j->ops->free(win[k]);
			win[k] = j->ops->alloc(j->size);
			if (!win[k]) {
				j->failed = 1;
				break;
			}
			*(volatile char *)win[k] = 1;
			k = k + 1 == WINDOW ? 0 : k + 1;
		}
		pairs += i;
		t = now_ns();
	} while (t < end && !j->failed);
	j->faults = thread_faults() - j->faults;
	j->elapsed = t - t0;
	j->pairs = pairs;
	for (i = 0; i < WINDOW; i++)
		j->ops->free(win[i]); /* free(NULL) is a no-op for all three */
	return NULL;
}

/* One turn of threads at once (one per CPU): ns per pair, averaged over the threads; <0 if not */
static double turn(enum alloc a, size_t size, unsigned threads, uint64_t ns, unsigned burst,
		   uint64_t *faults)
{
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	_Atomic int ready = 0;
	unsigned i, started = 0;
	double sum = 0;
	int failed = 0;

	for (i = 0; i < threads; i++)
		jobs[i] = (struct job){.ops = &ops[a],
				       .size = size,
				       .ns = ns,
				       .ready = &ready,
				       .threads = threads,
				       .burst = burst};
	for (i = 0; i < threads; i++) {
		if (app_thread_start_on(&tid[i], i, run_job, &jobs[i]) != 0)
			break;
		started++;
	}
	if (started < threads) {
		/* let the started ones pass the start line and finish */
		atomic_fetch_add(&ready, (int)(threads - started));
		failed = 1;
	}
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		failed |= jobs[i].failed;
		*faults += jobs[i].faults;
		if (jobs[i].pairs)
			sum += (double)jobs[i].elapsed / (double)jobs[i].pairs;
	}
	return failed ? -1 : sum / threads;
}

struct cell {
	size_t size;
	unsigned threads;
	double ns[A_N];	      /* best turn, ns per pair; 0 = not run */
	uint64_t faults[A_N]; /* page faults in the timed loops of every turn */
};

static double ratio(const struct cell *c, enum alloc a)
{
	return c->ns[a] > 0 && c->ns[A_HP] > 0 ? c->ns[a] / c->ns[A_HP] : 0;
}

static void print_table(const struct cell *cells, unsigned n, const int *on)
{
	printf("%10s %7s %12s %9s %12s %9s", "size", "threads", "hugepool ns", "hp faults",
	       "glibc ns", "glibc/hp");
	if (on[A_DPDK])
		printf(" %12s %9s", "dpdk ns", "dpdk/hp");
	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%10zu %7u %12.1f %9llu %12.1f %8.2fx", c->size, c->threads, c->ns[A_HP],
		       (unsigned long long)c->faults[A_HP], c->ns[A_GLIBC], ratio(c, A_GLIBC));
		if (on[A_DPDK])
			printf(" %12.1f %8.2fx", c->ns[A_DPDK], ratio(c, A_DPDK));
		printf("\n");
	}
}

static void print_json(const struct cell *cells, unsigned n, const int *on, double seconds,
		       unsigned repeat, unsigned burst, bool dynamic)
{
	printf("{\"bench\": \"heap\", \"window\": %d, \"burst\": %u, \"dynamic\": %s, "
	       "\"seconds_per_cell\": %.3f, \"repeat\": %u, "
	       "\"unit\": \"ns per malloc+free pair per thread (best turn)\", \"dpdk\": %s, "
	       "\"cells\": [",
	       WINDOW, burst, dynamic ? "true" : "false", seconds, repeat,
	       on[A_DPDK] ? "true" : "false");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s{\"size\": %zu, \"threads\": %u, \"hugepool\": %.2f, "
		       "\"faults_hugepool\": %llu, \"glibc\": %.2f, \"faults_glibc\": %llu, "
		       "\"ratio_glibc_over_hp\": %.3f",
		       i ? ", " : "", c->size, c->threads, c->ns[A_HP],
		       (unsigned long long)c->faults[A_HP], c->ns[A_GLIBC],
		       (unsigned long long)c->faults[A_GLIBC], ratio(c, A_GLIBC));
		if (on[A_DPDK])
			printf(", \"dpdk\": %.2f, \"ratio_dpdk_over_hp\": %.3f", c->ns[A_DPDK],
			       ratio(c, A_DPDK));
		printf("}");
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	char mem[32], *hp_argv[] = {"heap-bench", "--log-level=error", mem, NULL};
	struct cell cells[N_SIZES * MAX_THREADS];
	int on[A_N] = {1, 1, 0};
	bool json = false, no_dpdk = false, dynamic = false;
	unsigned n = 0, repeat = 10, burst = 0;
	double seconds = 0.2;
	const struct app_opt opts[] = {
	    {"seconds", 's', APP_DOUBLE, &seconds, "S", "time per cell and allocator (default 0.2)",
	     0, 60, "give seconds, above 0 and at most 60"},
	    {"repeat", 'r', APP_UINT, &repeat, "R",
	     "split that time into R turns, keep the best (default 10, 1 to 1000)", 1, 1000,
	     "give 1 to 1000"},
	    {"no-dpdk", 'D', APP_FLAG, &no_dpdk, NULL,
	     "do not run DPDK's rte_malloc beside hugepool"},
	    {"burst", 'b', APP_UINT, &burst, "N",
	     "allocate N blocks, then free them all, again and again (default 0: the FIFO "
	     "window)",
	     0, MAX_BURST, "give 0 to 1024"},
	    {"dynamic", 'm', APP_FLAG, &dynamic, NULL,
	     "start hugepool without --socket-mem: its memory grows and goes back"},
	    {"json", 'j', APP_FLAG, &json, NULL, "one JSON object instead of the table"},
	    {NULL}};
	const struct app_cli cli = {.prog = "heap-bench", .opts = opts};
	int rc = app_parse(&cli, argc, argv);

	if (rc != APP_RUN)
		return rc;
	snprintf(mem, sizeof(mem), "--socket-mem=%d", MEM_MB);
	if (hp_init(dynamic ? 2 : 3, hp_argv) < 0) {
		fprintf(stderr, "heap-bench: hp_init: %s\n", hp_last_error());
		return 1;
	}
#ifdef HP_HAVE_DPDK
	if (!no_dpdk && bench_dpdk_init("heap-bench", MEM_MB, 0) == 0) {
		on[A_DPDK] = 1;
		if (!json)
			printf("# DPDK %s in the same run\n", bench_dpdk_version());
	}
#else
	(void)no_dpdk;
#endif
	if (!json)
		printf("# malloc + free pairs, %s, hugepool %s, %.2f s per cell and "
		       "allocator in %u turns (best kept); ns per pair per thread, page faults "
		       "in all timed loops (one run: compare within it only)\n",
		       burst ? "bursts: N allocated then N freed"
			     : "a window of 32 live blocks per thread freed oldest first",
		       dynamic ? "without --socket-mem (dynamic)" : mem, seconds, repeat);
	if (!json && burst)
		printf("# N = %u\n", burst);
	for (unsigned s = 0; s < N_SIZES; s++)
		for (unsigned t = 1; t <= MAX_THREADS; t++)
			cells[n++] = (struct cell){.size = sizes[s], .threads = t};
	for (unsigned i = 0; i < n; i++)
		for (unsigned r = 0; r < repeat; r++)
			for (unsigned k = 0; k < A_N; k++) {
				/* the allocators take turns, starting one further each round */
				enum alloc a = (enum alloc)((r + k) % A_N);
				double v;

				if (!on[a])
					continue;
				v = turn(a, cells[i].size, cells[i].threads,
					 (uint64_t)(seconds / repeat * 1e9), burst,
					 &cells[i].faults[a]);
				if (v < 0) {
					fprintf(stderr,
						"heap-bench: %s: an allocation of %zu bytes failed "
						"(%u threads)\n",
						alloc_names[a], cells[i].size, cells[i].threads);
					return 1;
				}
				if (cells[i].ns[a] == 0 || v < cells[i].ns[a])
					cells[i].ns[a] = v;
			}
	if (json)
		print_json(cells, n, on, seconds, repeat, burst, dynamic);
	else
		print_table(cells, n, on);
	hp_cleanup();
	return 0;
}
