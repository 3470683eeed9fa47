/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * init-bench: how long hp_init() takes to reserve, verify and resolve --socket-mem of several
 * sizes on node 0, and (built with HP_HAVE_DPDK) how long DPDK's rte_eal_init() takes with
 * --in-memory -m of the same sizes. Every measurement runs in a fresh process (this program
 * re-executed with --child), so first-time costs count; the clock runs only around the call.
 * The child reports "ok NS" or "error SENTENCE" on a pipe; the parent keeps the statistics.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hugepool.h>
#include "eal/eal_util.h"
#ifdef HP_HAVE_DPDK
#include <rte_eal.h>
#include "bench_dpdk.h"
#endif

#define MAX_SIZES 8
#define MAX_RUNS 101

enum engine { ENG_HP, ENG_DPDK, ENG_N };
static const char *const engine_names[ENG_N] = {"hugepool", "dpdk"};

struct stats {
	double median_ms, min_ms, max_ms;
	unsigned ok;
	char error[640]; /* first failure */
};

struct row {
	unsigned size_mb;
	char skipped[256]; /* why the size was not measured; "" if it was */
	struct stats s[ENG_N];
	bool have[ENG_N];
};

/* ---- child: one measurement --------------------------------------------------------------- */

static int child_hp(unsigned mb, FILE *out)
{
	char mem[64], *argv[] = {"init-bench", mem, "--log-level=error", NULL};
	uint64_t t0, t1;
	int rc;

	snprintf(mem, sizeof(mem), "--socket-mem=%u", mb);
	t0 = eal_now_ns();
	rc = hp_init(3, argv);
	t1 = eal_now_ns();
	if (rc < 0) {
		fprintf(out, "error %s\n", hp_last_error());
		return 1;
	}
	hp_cleanup();
	fprintf(out, "ok %" PRIu64 "\n", t1 - t0);
	return 0;
}

#ifdef HP_HAVE_DPDK
static int child_dpdk(unsigned mb, FILE *out)
{
	uint64_t t0, t1;
	int rc;

	t0 = eal_now_ns();
	rc = bench_dpdk_start("init-bench", mb, 0, "0");
	t1 = eal_now_ns();
	if (rc < 0) {
		fprintf(out, "error rte_eal_init failed: %s\n", strerror(-rc));
		return 1;
	}
	rte_eal_cleanup();
	fprintf(out, "ok %" PRIu64 "\n", t1 - t0);
	return 0;
}
#endif

static int child_main(const char *engine, unsigned mb, int fd)
{
	FILE *out = fdopen(fd, "w");
	int rc = 1;

	if (!out)
		return 1;
	if (strcmp(engine, "hugepool") == 0)
		rc = child_hp(mb, out);
#ifdef HP_HAVE_DPDK
	else if (strcmp(engine, "dpdk") == 0)
		rc = child_dpdk(mb, out);
#endif
	else
		fprintf(out, "error unknown engine %s\n", engine);
	fclose(out);
	return rc;
}

/* ---- parent ---------------------------------------------------------------------------- */

/* Runs one measurement in a fresh process: returns ns, or 0 with the reason in err. */
static uint64_t measure(enum engine e, unsigned mb, char *err, size_t errlen)
{
	char mbs[16], fds[16], line[600] = "";
	int p[2], status;
	uint64_t ns = 0;
	FILE *in;
	pid_t pid;

	if (pipe(p) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return 0;
	}
	snprintf(mbs, sizeof(mbs), "%u", mb);
	snprintf(fds, sizeof(fds), "%d", p[1]);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* DPDK logs to stdout: keep the table clean */
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl("/proc/self/exe", "init-bench", "--child", engine_names[e], mbs, fds,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	if (in && !fgets(line, sizeof(line), in))
		line[0] = '\0';
	if (in)
		fclose(in);
	else
		close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		snprintf(err, errlen, "cannot start a child process: %s", strerror(errno));
		return 0;
	}
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "ok %" SCNu64, &ns) == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return ns ? ns : 1;
	if (strncmp(line, "error ", 6) == 0)
		snprintf(err, errlen, "%s", line + 6);
	else
		snprintf(err, errlen, "child process %s (status %d) without a result",
			 WIFSIGNALED(status) ? "killed by a signal" : "exited", status);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void run_engine(enum engine e, unsigned mb, unsigned runs, struct stats *st)
{
	uint64_t v[MAX_RUNS];
	char err[600];

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < runs; i++) {
		uint64_t ns = measure(e, mb, err, sizeof(err));

		if (ns)
			v[st->ok++] = ns;
		else if (!st->error[0])
			snprintf(st->error, sizeof(st->error), "%s", err);
	}
	if (st->ok == 0)
		return;
	qsort(v, st->ok, sizeof(v[0]), cmp_u64);
	st->min_ms = v[0] / 1e6;
	st->max_ms = v[st->ok - 1] / 1e6;
	st->median_ms =
	    st->ok % 2 ? v[st->ok / 2] / 1e6 : (v[st->ok / 2 - 1] + v[st->ok / 2]) / 2e6;
}

/* Free default-size hugepages on node 0, from sysfs. */
static unsigned long node0_free_mb(size_t page_size)
{
	struct hp_hugepage_pool pools[64];
	int n = hp_hugepage_pools(pools, 64);

	for (int i = 0; i < n && i < 64; i++)
		if (pools[i].node == 0 && pools[i].page_size == page_size)
			return (unsigned long)(((unsigned long long)pools[i].free * page_size) >>
					       20);
	return 0;
}

static void run_size(struct row *r, unsigned runs, size_t page_size, bool dpdk)
{
	unsigned long free_mb = node0_free_mb(page_size);

	if (free_mb < r->size_mb) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "needs %u MiB of free %zu KiB pages on node 0, has %lu MiB; reserve with: "
			 "hp-info --reserve 0:%uM",
			 r->size_mb, page_size >> 10, free_mb, r->size_mb + 64);
		return;
	}
	run_engine(ENG_HP, r->size_mb, runs, &r->s[ENG_HP]);
	r->have[ENG_HP] = true;
	if (dpdk) {
		run_engine(ENG_DPDK, r->size_mb, runs, &r->s[ENG_DPDK]);
		r->have[ENG_DPDK] = true;
	}
}

static void print_stats_cell(const struct row *r, enum engine e)
{
	const struct stats *s = &r->s[e];

	if (!r->have[e])
		printf(" %26s", "-");
	else if (s->ok == 0)
		printf(" %26s", "failed");
	else
		printf(" %8.2f %8.2f %8.2f", s->median_ms, s->min_ms, s->max_ms);
}

static double ratio(const struct row *r)
{
	if (!r->have[ENG_DPDK] || !r->s[ENG_DPDK].ok || !r->s[ENG_HP].ok)
		return 0;
	return r->s[ENG_DPDK].median_ms / r->s[ENG_HP].median_ms;
}

static const struct row *find_row(const struct row *rows, unsigned n, unsigned mb)
{
	for (unsigned i = 0; i < n; i++)
		if (rows[i].size_mb == mb && !rows[i].skipped[0] && rows[i].s[ENG_HP].ok)
			return &rows[i];
	return NULL;
}

static void print_table(const struct row *rows, unsigned n, unsigned runs, size_t ps, bool dpdk)
{
	const struct row *r16 = find_row(rows, n, 16), *r1g = find_row(rows, n, 1024);

	printf("init-bench: hp_init --socket-mem=SIZE on node 0, %zu KiB pages, %u runs per size, "
	       "each in a fresh process; times in ms (median, min, max)\n",
	       ps >> 10, runs);
	if (dpdk)
		printf("DPDK: rte_eal_init --in-memory -m SIZE --no-pci --no-telemetry -l 0\n");
	printf("\n%8s %8s %8s %8s", "size MiB", "hp med", "min", "max");
	if (dpdk)
		printf(" %8s %8s %8s %11s", "dpdk med", "min", "max", "dpdk/hp");
	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%8u", r->size_mb);
		if (r->skipped[0]) {
			printf("  skipped: %s\n", r->skipped);
			continue;
		}
		print_stats_cell(r, ENG_HP);
		if (dpdk) {
			print_stats_cell(r, ENG_DPDK);
			if (ratio(r) > 0)
				printf(" %10.2fx", ratio(r));
		}
		printf("\n");
		for (int e = 0; e < ENG_N; e++)
			if (r->have[e] && r->s[e].error[0])
				printf("         %s: %u of %u runs failed: %s\n", engine_names[e],
				       runs - r->s[e].ok, runs, r->s[e].error);
	}
	printf("\n");
	if (r16)
		printf("fixed cost (16 MiB): %.2f ms\n", r16->s[ENG_HP].median_ms);
	if (r1g && ratio(r1g) > 0)
		printf("1 GiB: DPDK takes %.2fx hugepool's time\n", ratio(r1g));
}

static void json_stats(const char *key, const struct stats *s)
{
	printf(",\"%s\":{\"ok\":%u,\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f}", key, s->ok,
	       s->median_ms, s->min_ms, s->max_ms);
}

static void print_json(const struct row *rows, unsigned n, unsigned runs, size_t ps, bool dpdk)
{
	const struct row *r16 = find_row(rows, n, 16);

	printf("{\"bench\":\"init\",\"node\":0,\"page_size\":%zu,\"runs\":%u,\"dpdk\":%s,"
	       "\"results\":[",
	       ps, runs, dpdk ? "true" : "false");
	for (unsigned i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%s{\"size_mb\":%u", i ? "," : "", r->size_mb);
		if (r->skipped[0]) {
			/* the reason holds no quote or backslash: it is built here from numbers */
			printf(",\"skipped\":\"%s\"}", r->skipped);
			continue;
		}
		for (int e = 0; e < ENG_N; e++)
			if (r->have[e])
				json_stats(engine_names[e], &r->s[e]);
		if (ratio(r) > 0)
			printf(",\"ratio_dpdk_over_hp\":%.3f", ratio(r));
		printf("}");
	}
	printf("],\"fixed_cost_ms\":");
	if (r16)
		printf("%.3f", r16->s[ENG_HP].median_ms);
	else
		printf("null");
	printf("}\n");
}

static int parse_sizes(const char *arg, struct row *rows, unsigned *n)
{
	const char *p = arg;
	char *end;

	*n = 0;
	while (*p && *n < MAX_SIZES) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v == 0 || v > (1u << 20) || (*end && *end != ','))
			return -1;
		memset(&rows[*n], 0, sizeof(rows[0]));
		rows[(*n)++].size_mb = (unsigned)v;
		p = *end ? end + 1 : end;
	}
	return *p || *n == 0 ? -1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: init-bench [--runs N] [--sizes MB,MB,...] [--no-dpdk] [--json]\n"
		"  --runs N      runs per size and runtime (default 7, at most %d)\n"
		"  --sizes LIST  MiB to reserve on node 0 (default 16,256,1024)\n"
		"  --no-dpdk     leave DPDK's rte_eal_init out\n"
		"  --json        one JSON object instead of the table\n",
		MAX_RUNS);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"runs", required_argument, NULL, 'r'}, {"sizes", required_argument, NULL, 's'},
	    {"no-dpdk", no_argument, NULL, 'n'},    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	struct row rows[MAX_SIZES];
	unsigned n = 0, runs = 7;
	bool json = false, dpdk = false;
	size_t ps;
	int c;

#ifdef HP_HAVE_DPDK
	dpdk = true;
#endif
	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], (unsigned)strtoul(argv[3], NULL, 10), atoi(argv[4]));
	parse_sizes("16,256,1024", rows, &n);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			if (runs == 0 || runs > MAX_RUNS) {
				fprintf(stderr, "init-bench: --runs takes 1 to %d\n", MAX_RUNS);
				return 2;
			}
			break;
		case 's':
			if (parse_sizes(optarg, rows, &n) < 0) {
				fprintf(stderr,
					"init-bench: --sizes takes up to %d sizes in MiB, e.g. "
					"--sizes 16,256,1024\n",
					MAX_SIZES);
				return 2;
			}
			break;
		case 'n':
			dpdk = false;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ps = hp_hugepage_default_size();
	if (!ps) {
		fprintf(stderr, "init-bench: this kernel has no hugepages (no Hugepagesize in "
				"/proc/meminfo)\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		run_size(&rows[i], runs, ps, dpdk);
	if (json)
		print_json(rows, n, runs, ps, dpdk);
	else
		print_table(rows, n, runs, ps, dpdk);
	return 0;
}
