/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * init-bench: how long hp_init() takes to reserve, verify and resolve --socket-mem of several
 * sizes on node 0, and (built with HP_HAVE_DPDK) how long DPDK's rte_eal_init() takes with
 * --in-memory -m of the same sizes, and the kernel's floor: a hugetlb memfd of the same size
 * faulted in by as many threads as hugepool uses, the same way, with no library around it.
 * Every measurement runs in a fresh process (this program re-executed with --child), so
 * first-time costs count; the clock runs only around the call. The engines take turns, run by
 * run, so a slow spell of the machine falls on all of them. The child reports "ok NS" or
 * "error SENTENCE" on a pipe; the parent keeps the statistics.
 */
#include <errno.h>
#include <inttypes.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memfd.h>

#include <hugepool.h>
#include "app_opts.h"
#include "app_util.h"
#ifdef HP_HAVE_DPDK
#include <rte_eal.h>
#include "bench_dpdk.h"
#endif

#define MAX_SIZES 8
#define MAX_RUNS 101
#define FLOOR_THREADS_MAX 4 /* hugepool's cap on populating threads per node */

enum engine { ENG_HP, ENG_FLOOR, ENG_DPDK, ENG_N };
static const char *const engine_names[ENG_N] = {"hugepool", "floor", "dpdk"};

/* How the floor faults pages in: by default as hugepool does (POPULATE_BY_TOUCH, reserve.c) */
enum method { M_MADVISE, M_TOUCH };
static const char *const method_names[] = {"madvise", "touch"};
static enum method floor_method = M_MADVISE;

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
	t0 = app_now_ns();
	rc = hp_init(3, argv);
	t1 = app_now_ns();
	if (rc < 0) {
		fprintf(out, "error %s\n", hp_last_error());
		return 1;
	}
	hp_cleanup();
	fprintf(out, "ok %" PRIu64 "\n", t1 - t0);
	return 0;
}

/* min(CPUs of node 0, FLOOR_THREADS_MAX, pages): the count hugepool populates node 0 with. */
static unsigned floor_threads(unsigned n_pages)
{
	unsigned n = 1;

	if (numa_available() >= 0) {
		struct bitmask *m = numa_allocate_cpumask();

		if (m && numa_node_to_cpus(0, m) == 0)
			n = numa_bitmask_weight(m);
		if (m)
			numa_free_cpumask(m);
	} else {
		n = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	}
	if (n > FLOOR_THREADS_MAX)
		n = FLOOR_THREADS_MAX;
	if (n > n_pages)
		n = n_pages;
	return n ? n : 1;
}

struct floor_job {
	char *va;
	size_t len, page_size;
	enum method how;
	int err;
	pthread_t tid;
};

static void *floor_worker(void *arg)
{
	struct floor_job *j = arg;

	if (numa_available() >= 0)
		numa_run_on_node(0);
	if (j->how == M_TOUCH) {
		for (size_t off = 0; off < j->len; off += j->page_size)
			*(volatile char *)(j->va + off) = 0;
	} else if (madvise(j->va, j->len, MADV_POPULATE_WRITE) != 0) {
		j->err = errno;
	}
	return NULL;
}

/*
 * The kernel's floor: memfd, size, map, bind to node 0, and fault every page in from the same
 * number of threads as hugepool, each pinned to node 0; this thread takes the last slice.
 */
static int child_floor(unsigned mb, enum method how, FILE *out)
{
	size_t ps = hp_hugepage_default_size(), len = (size_t)mb << 20;
	unsigned long mask = 1;
	struct floor_job jobs[FLOOR_THREADS_MAX];
	unsigned n_pages, nt, per, i, first = 0;
	uint64_t t0, t1;
	char *va;
	int fd, err = 0;

	len = (len + ps - 1) / ps * ps;
	n_pages = (unsigned)(len / ps);
	nt = floor_threads(n_pages);
	per = n_pages / nt;
	t0 = app_now_ns();
	fd = memfd_create("init-bench-floor", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		fprintf(out, "error hugetlb memfd of %u MiB: %s\n", mb, strerror(errno));
		return 1;
	}
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED) {
		fprintf(out, "error mmap of %u MiB of hugepages: %s\n", mb, strerror(errno));
		return 1;
	}
	if (numa_available() >= 0 && mbind(va, len, MPOL_BIND, &mask, 64, 0) != 0) {
		fprintf(out, "error mbind to node 0: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < nt; i++) {
		unsigned cnt = i == nt - 1 ? n_pages - first : per;

		jobs[i] = (struct floor_job){.va = va + (size_t)first * ps,
					     .len = (size_t)cnt * ps,
					     .page_size = ps,
					     .how = how};
		first += cnt;
	}
	for (i = 0; i + 1 < nt; i++)
		if (pthread_create(&jobs[i].tid, NULL, floor_worker, &jobs[i]) != 0) {
			fprintf(out, "error cannot start a thread\n");
			return 1;
		}
	floor_worker(&jobs[nt - 1]);
	for (i = 0; i + 1 < nt; i++)
		pthread_join(jobs[i].tid, NULL);
	t1 = app_now_ns();
	for (i = 0; i < nt; i++)
		if (jobs[i].err)
			err = jobs[i].err;
	if (err) {
		fprintf(out, "error madvise(MADV_POPULATE_WRITE): %s\n", strerror(err));
		return 1;
	}
	munmap(va, len);
	close(fd);
	fprintf(out, "ok %" PRIu64 "\n", t1 - t0);
	return 0;
}

#ifdef HP_HAVE_DPDK
static int child_dpdk(unsigned mb, FILE *out)
{
	uint64_t t0, t1;
	int rc;

	t0 = app_now_ns();
	rc = bench_dpdk_start("init-bench", mb, 0, "0");
	t1 = app_now_ns();
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
	else if (strcmp(engine, "floor-madvise") == 0)
		rc = child_floor(mb, M_MADVISE, out);
	else if (strcmp(engine, "floor-touch") == 0)
		rc = child_floor(mb, M_TOUCH, out);
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
	char mbs[16], fds[16], name[32], line[600] = "";
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
	if (e == ENG_FLOOR)
		snprintf(name, sizeof(name), "floor-%s", method_names[floor_method]);
	else
		snprintf(name, sizeof(name), "%s", engine_names[e]);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* DPDK logs to stdout: keep the table clean */
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl("/proc/self/exe", "init-bench", "--child", name, mbs, fds, (char *)NULL);
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

/* Median, minimum and maximum of the st->ok times in v. */
static void summarise(uint64_t *v, struct stats *st)
{
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
	uint64_t v[ENG_N][MAX_RUNS];
	char err[600];

	if (free_mb < r->size_mb) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "needs %u MiB of free %zu KiB pages on node 0, has %lu MiB; reserve with: "
			 "hp-info --reserve 0:%uM",
			 r->size_mb, page_size >> 10, free_mb, r->size_mb + 64);
		return;
	}
	r->have[ENG_HP] = r->have[ENG_FLOOR] = true;
	r->have[ENG_DPDK] = dpdk;
	memset(r->s, 0, sizeof(r->s));
	/* the engines take turns, starting one further each run */
	for (unsigned i = 0; i < runs; i++)
		for (unsigned k = 0; k < ENG_N; k++) {
			enum engine e = (enum engine)((i + k) % ENG_N);
			struct stats *st = &r->s[e];
			uint64_t ns;

			if (!r->have[e])
				continue;
			ns = measure(e, r->size_mb, err, sizeof(err));
			if (ns)
				v[e][st->ok++] = ns;
			else if (!st->error[0])
				snprintf(st->error, sizeof(st->error), "%s", err);
		}
	for (int e = 0; e < ENG_N; e++)
		summarise(v[e], &r->s[e]);
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

/* num's median over den's, or 0 when either was not measured */
static double ratio_of(const struct row *r, enum engine num, enum engine den)
{
	if (!r->have[num] || !r->have[den] || !r->s[num].ok || !r->s[den].ok)
		return 0;
	return r->s[num].median_ms / r->s[den].median_ms;
}

static double ratio(const struct row *r)
{
	return ratio_of(r, ENG_DPDK, ENG_HP);
}

static double floor_ratio(const struct row *r)
{
	return ratio_of(r, ENG_HP, ENG_FLOOR);
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
	       "each in a fresh process, engines taking turns; times in ms (median, min, max)\n",
	       ps >> 10, runs);
	printf("floor: a hugetlb memfd of SIZE bound to node 0, faulted in by %u threads with %s, "
	       "no library\n",
	       floor_threads(UINT32_MAX),
	       floor_method == M_TOUCH ? "one store per page" : "madvise(MADV_POPULATE_WRITE)");
	if (dpdk)
		printf("DPDK: rte_eal_init --in-memory -m SIZE --no-pci --no-telemetry -l 0\n");
	printf("\n%8s %8s %8s %8s %9s %8s %8s %9s", "size MiB", "hp med", "min", "max", "floor med",
	       "min", "max", "hp/floor");
	if (dpdk)
		printf(" %8s %8s %8s %8s", "dpdk med", "min", "max", "dpdk/hp");
	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%8u", r->size_mb);
		if (r->skipped[0]) {
			printf("  skipped: %s\n", r->skipped);
			continue;
		}
		print_stats_cell(r, ENG_HP);
		printf(" ");
		print_stats_cell(r, ENG_FLOOR);
		if (floor_ratio(r) > 0)
			printf(" %8.2fx", floor_ratio(r));
		else
			printf(" %9s", "-");
		if (dpdk) {
			print_stats_cell(r, ENG_DPDK);
			if (ratio(r) > 0)
				printf(" %7.2fx", ratio(r));
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
	if (r1g && floor_ratio(r1g) > 0)
		printf("1 GiB: hugepool takes %.2fx the kernel's floor\n", floor_ratio(r1g));
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
	       "\"floor_threads\":%u,\"floor_method\":\"%s\",\"results\":[",
	       ps, runs, dpdk ? "true" : "false", floor_threads(UINT32_MAX),
	       method_names[floor_method]);
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
		if (floor_ratio(r) > 0)
			printf(",\"ratio_hp_over_floor\":%.3f", floor_ratio(r));
		printf("}");
	}
	printf("],\"fixed_cost_ms\":");
	if (r16)
		printf("%.3f", r16->s[ENG_HP].median_ms);
	else
		printf("null");
	printf("}\n");
}

/* The sizes of --sizes, for parse_sizes(). */
struct size_list {
	struct row *rows;
	unsigned n;
};

static int parse_sizes(const char *arg, void *target)
{
	struct size_list *l = target;
	const char *p = arg;
	char *end;

	l->n = 0;
	while (*p && l->n < MAX_SIZES) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v == 0 || v > (1u << 20) || (*end && *end != ','))
			return -1;
		memset(&l->rows[l->n], 0, sizeof(l->rows[0]));
		l->rows[l->n++].size_mb = (unsigned)v;
		p = *end ? end + 1 : end;
	}
	return *p || l->n == 0 ? -1 : 0;
}

static int parse_method(const char *arg, void *target)
{
	enum method *m = target;

	if (strcmp(arg, "madvise") == 0)
		*m = M_MADVISE;
	else if (strcmp(arg, "touch") == 0)
		*m = M_TOUCH;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct row rows[MAX_SIZES];
	struct size_list sizes = {.rows = rows};
	unsigned runs = 7;
	bool json = false, no_dpdk = false, dpdk = false;
	const struct app_opt opts[] = {
	    {"runs", 0, APP_UINT, &runs, "N",
	     "runs per size and runtime (default 7, at most " APP_STR(MAX_RUNS) ")", 1, MAX_RUNS,
	     "give 1 to " APP_STR(MAX_RUNS)},
	    {"sizes", 0, APP_CALL, &sizes, "LIST", "MiB to reserve on node 0 (default 16,256,1024)",
	     .hint = "give up to " APP_STR(MAX_SIZES) " sizes in MiB, e.g. --sizes 16,256,1024",
	     .call = parse_sizes},
	    {"floor-method", 0, APP_CALL, &floor_method, "madvise|touch",
	     "how the floor faults pages in (default: as hugepool does)",
	     .hint = "give madvise or touch", .call = parse_method},
	    {"no-dpdk", 0, APP_FLAG, &no_dpdk, NULL, "leave DPDK's rte_eal_init out"},
	    {"json", 0, APP_FLAG, &json, NULL, "one JSON object instead of the table"},
	    {NULL}};
	const struct app_cli cli = {.prog = "init-bench", .opts = opts};
	size_t ps;
	int rc;

#ifdef HP_HAVE_DPDK
	dpdk = true;
#endif
	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], (unsigned)strtoul(argv[3], NULL, 10), atoi(argv[4]));
	parse_sizes("16,256,1024", &sizes);
	rc = app_parse(&cli, argc, argv);
	if (rc != APP_RUN)
		return rc;
	dpdk = dpdk && !no_dpdk;
	ps = hp_hugepage_default_size();
	if (!ps) {
		fprintf(stderr, "init-bench: this kernel has no hugepages (no Hugepagesize in "
				"/proc/meminfo)\n");
		return 1;
	}
	for (unsigned i = 0; i < sizes.n; i++)
		run_size(&rows[i], runs, ps, dpdk);
	if (json)
		print_json(rows, sizes.n, runs, ps, dpdk);
	else
		print_table(rows, sizes.n, runs, ps, dpdk);
	return 0;
}
