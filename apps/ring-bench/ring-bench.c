/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring-bench: ns per element of hugepool's ring, SP/SC and MP/MC, bulk 1/8/32, one thread doing
 * enqueue+dequeue and a producer/consumer pair on two CPUs. Built with HP_HAVE_DPDK, the same
 * loops time DPDK's rte_ring in the same run, interleaved, and the ratio hugepool/DPDK is printed.
 * Each row's time is split into many short turns, the two rings taking turns, and each figure
 * is a ring's best turn: on a shared machine a slow spell then costs both rings a few turns
 * rather than one of them its only measurement. Nothing here is asserted: it only prints.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hugepool.h>
#include "app_opts.h"
#include "bench.h"

#define LOOP(name) hp_##name
#define RING_T struct hp_ring
#define ENQ_BULK(r, objs, n) hp_ring_enqueue_bulk(r, objs, n, NULL)
#define DEQ_BULK(r, objs, n) hp_ring_dequeue_bulk(r, objs, n, NULL)
#include "loops.h"

#define N_ENGINES 2

static void *hp_create(const char *name, int single)
{
	return hp_ring_create(name, BENCH_RING_SIZE, HP_NODE_ANY,
			      single ? HP_RING_SP_ENQ | HP_RING_SC_DEQ : 0);
}

static void hp_destroy(void *ring)
{
	hp_ring_free(ring);
}

const struct bench_ring_ops bench_hugepool_ops = {
    .name = "hugepool",
    .create = hp_create,
    .destroy = hp_destroy,
    .one_thread = hp_one_thread,
    .producer = hp_producer,
    .consumer = hp_consumer,
};

uint64_t bench_now_ns(void)
{
	return hp_now_ns();
}

void bench_pair_start(struct bench_pair *p)
{
	atomic_fetch_add(&p->ready, 1);
	while (atomic_load(&p->ready) < 2)
		;
}

struct row {
	int single;
	unsigned threads, bulk;
	double ns[N_ENGINES]; /* best of the turns; 0 when not run, -1 when it failed */
};

static struct {
	bool json;
	double seconds;	   /* per row and ring, split into `repeat` turns */
	unsigned repeat;   /* turns per row and ring */
	uint64_t elements; /* per turn, if given: overrides seconds */
	int cpu[2];	   /* CPUs for the threads; cpu[1] < 0 when there is only one */
} cfg = {.seconds = 0.3, .repeat = 30, .cpu = {0, -1}};

static const struct bench_ring_ops *engines[N_ENGINES];

/* The first two CPUs this process may run on (taken before DPDK pins the main thread). */
static void pick_cpus(void)
{
	cpu_set_t set;
	int found = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &set))
			cfg.cpu[found++] = c;
}

struct job {
	const struct bench_ring_ops *ops;
	struct bench_pair *pair;
	void *ring;
	unsigned bulk;
	uint64_t iters;
	int cpu, role; /* role 0: one thread, 1: producer, 2: consumer */
	double ns;
	int rc;
};

static void *job_main(void *arg)
{
	struct job *j = arg;

	if (j->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(j->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (j->role == 0) {
		j->ns = j->ops->one_thread(j->ring, j->bulk, j->iters);
		j->rc = j->ns < 0 ? -1 : 0;
	} else {
		j->rc = (j->role == 1 ? j->ops->producer : j->ops->consumer)(j->pair);
	}
	return NULL;
}

/* One measurement: elements through a fresh ring; ns per element, or -1. */
static double measure(const struct bench_ring_ops *ops, const struct row *row, uint64_t elements)
{
	struct bench_pair pair = {.bulk = row->bulk, .elements = elements};
	struct job jobs[2];
	pthread_t th[2];
	double ns = -1;
	unsigned nj = row->threads;

	pair.ring = ops->create(row->single ? "rb_spsc" : "rb_mpmc", row->single);
	if (!pair.ring) {
		fprintf(stderr, "ring-bench: %s: cannot create a ring\n", ops->name);
		return -1;
	}
	for (unsigned i = 0; i < nj; i++) {
		jobs[i] = (struct job){.ops = ops,
				       .pair = &pair,
				       .ring = pair.ring,
				       .bulk = row->bulk,
				       .iters = elements / row->bulk,
				       .cpu = cfg.cpu[i],
				       .role = nj == 1 ? 0 : (int)i + 1};
		if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0) {
			nj = i;
			break;
		}
	}
	for (unsigned i = 0; i < nj; i++)
		pthread_join(th[i], NULL);
	if (nj == row->threads && jobs[0].rc == 0 && (nj == 1 || jobs[1].rc == 0))
		ns = nj == 1 ? jobs[0].ns : (double)(pair.t_end - pair.t_start) / (double)elements;
	ops->destroy(pair.ring);
	return ns;
}

/* Elements for one turn: from --iterations, or enough for seconds / repeat at this speed. */
static uint64_t elements_for(const struct row *row)
{
	uint64_t n;
	double ns;

	if (cfg.elements)
		n = cfg.elements;
	else {
		ns = measure(engines[0], row, 1u << 16);
		if (ns <= 0)
			ns = 10;
		n = (uint64_t)(cfg.seconds / cfg.repeat * 1e9 / ns);
	}
	n -= n % row->bulk;
	return n < row->bulk ? row->bulk : n;
}

static void run_row(struct row *row)
{
	uint64_t elements = elements_for(row);

	for (unsigned rep = 0; rep < cfg.repeat; rep++)
		for (int e = 0; e < N_ENGINES; e++) {
			double ns;

			if (!engines[e])
				continue;
			ns = measure(engines[e], row, elements);
			if (ns < 0)
				row->ns[e] = -1;
			else if (row->ns[e] >= 0 && (row->ns[e] == 0 || ns < row->ns[e]))
				row->ns[e] = ns;
		}
}

static const char *mode_name(int single)
{
	return single ? "SP/SC" : "MP/MC";
}

static void print_table(const struct row *rows, unsigned n)
{
	printf("ring-bench: ns per element (enqueue + dequeue), best of %u turns, ring of %d "
	       "slots\n",
	       cfg.repeat, BENCH_RING_SIZE);
	printf("pair threads on CPUs %d and %d%s\n", cfg.cpu[0], cfg.cpu[1],
	       cfg.cpu[1] < 0 ? " (only one CPU: the pair shares it)" : "");
#ifdef HP_HAVE_DPDK
	if (engines[1])
		printf("%s rte_ring in the same run; ratio = hugepool / DPDK (below 1: faster)\n",
		       bench_dpdk_version());
#endif
	printf("%-6s %7s %5s %10s", "mode", "threads", "bulk", "hugepool");
	if (engines[1])
		printf(" %10s %7s", "dpdk", "ratio");
	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%-6s %7u %5u %10.2f", mode_name(r->single), r->threads, r->bulk, r->ns[0]);
		if (engines[1])
			printf(" %10.2f %7.2f", r->ns[1], r->ns[1] > 0 ? r->ns[0] / r->ns[1] : 0);
		printf("\n");
	}
}

static void print_json(const struct row *rows, unsigned n)
{
	printf("{\"bench\":\"ring\",\"unit\":\"ns_per_element\",\"ring_size\":%d,\"repeats\":%u,"
	       "\"cpus\":[%d,%d],\"dpdk\":",
	       BENCH_RING_SIZE, cfg.repeat, cfg.cpu[0], cfg.cpu[1]);
#ifdef HP_HAVE_DPDK
	if (engines[1])
		printf("\"%s\"", bench_dpdk_version());
	else
#endif
		printf("null");
	printf(",\"results\":[");
	for (unsigned i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%s{\"mode\":\"%s\",\"threads\":%u,\"bulk\":%u,\"hugepool_ns\":%.4f",
		       i ? "," : "", r->single ? "spsc" : "mpmc", r->threads, r->bulk, r->ns[0]);
		if (engines[1])
			printf(",\"dpdk_ns\":%.4f,\"ratio\":%.4f", r->ns[1],
			       r->ns[1] > 0 ? r->ns[0] / r->ns[1] : 0);
		printf("}");
	}
	printf("]}\n");
}

#ifdef HP_HAVE_DPDK
/* Whether hugepool was told --no-huge (argv or HUGEPOOL_OPTS): then DPDK runs without too. */
static int asked_no_huge(char **argv, int argc)
{
	const char *env = getenv("HUGEPOOL_OPTS");

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--no-huge") == 0)
			return 1;
	return env && strstr(env, "--no-huge") != NULL;
}
#endif

int main(int argc, char **argv)
{
	static const unsigned bulks[] = {1, 8, 32};
	struct row rows[12];
	unsigned n = 0;
	bool no_dpdk = false;
	int split, used, rc, hp_argc = 1;
	char **hp_argv = argv;
	const struct app_opt opts[] = {
	    {"json", 0, APP_FLAG, &cfg.json, NULL, "one JSON object instead of the table"},
	    {"seconds", 0, APP_DOUBLE, &cfg.seconds, "S", "time per row and ring (default 0.3)", 0,
	     HUGE_VAL, "give seconds, above 0"},
	    {"repeat", 0, APP_UINT, &cfg.repeat, "R",
	     "split it into R turns, the rings alternating; keep the best\n(default 30, 1 to 1000)",
	     1, 1000, "give 1 to 1000"},
	    {"iterations", 0, APP_U64, &cfg.elements, "N", "elements per turn instead of --seconds",
	     1, (double)UINT64_MAX, "give a whole number of elements, 1 or more"},
	    {"no-dpdk", 0, APP_FLAG, &no_dpdk, NULL, "do not run DPDK's rte_ring beside ours"},
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "ring-bench",
	    .synopsis = "[--json] [--seconds S] [--repeat R] [--iterations N] [--no-dpdk] "
			"[-- hugepool options]",
	    .opts = opts,
	    .footer =
		"  -- ...          options for hp_init, e.g. -- --no-huge (HUGEPOOL_OPTS too)\n"};

	/* ring-bench's own options come first; what follows "--" is for hp_init */
	for (split = 1; split < argc && strcmp(argv[split], "--") != 0; split++)
		;
	rc = app_parse(&cli, split, argv);
	if (rc != APP_RUN)
		return rc;
	/* what follows "--" is for hp_init, behind the program name */
	if (split < argc) {
		argv[split] = argv[0];
		hp_argc = argc - split;
		hp_argv = argv + split;
	}
	hp_log_set_level(HP_LOG_ERR);
	used = hp_init(hp_argc, hp_argv);
	if (used < 0) {
		fprintf(stderr, "ring-bench: hp_init: %s\n", hp_last_error());
		return 1;
	}
	pick_cpus();
	engines[0] = &bench_hugepool_ops;
#ifdef HP_HAVE_DPDK
	if (!no_dpdk && bench_dpdk_init("ring-bench", 64, asked_no_huge(hp_argv, hp_argc)) == 0)
		engines[1] = &bench_dpdk_ops;
#endif
	for (int single = 1; single >= 0; single--)
		for (unsigned threads = 1; threads <= 2; threads++)
			for (unsigned b = 0; b < 3; b++) {
				rows[n] = (struct row){
				    .single = single, .threads = threads, .bulk = bulks[b]};
				run_row(&rows[n++]);
			}
	if (cfg.json)
		print_json(rows, n);
	else
		print_table(rows, n);
	hp_cleanup();
	return 0;
}
