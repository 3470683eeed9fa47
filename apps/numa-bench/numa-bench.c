/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * numa-bench: latency and bandwidth for every (CPU node, memory node) pair. For each memory
 * node m a buffer is reserved there from hugepool (a memzone, its node checked page by page
 * with hp_mem_node_of); for each CPU node c a thread pinned to a CPU of c measures it: latency
 * by chasing pointers around one random cycle through every cache line (each load depends on
 * the one before), read and write bandwidth by streaming through the whole buffer. Each figure
 * is the best of a few passes. --compare-4k measures a 4 KiB-page buffer beside a hugepage one.
 */
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <hugepool.h>
#include "app_opts.h"

#define LINE 64
#define PASSES 3
#define MAX_NODES 64

struct result {
	double latency_ns, read_gbps, write_gbps;
};

struct job {
	char *buf;
	size_t len;
	int cpu;
	int err; /* errno of pinning, 0 */
	struct result r;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One random cycle through every line (Sattolo's shuffle): line i holds the address of the
 * next. The order defeats the prefetchers, so each load waits for memory (or the TLB walk). */
static int build_chain(char *buf, size_t len)
{
	size_t n = len / LINE, i, j;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint32_t *next = malloc(n * sizeof(*next)), t;

	if (!next)
		return -1;
	for (i = 0; i < n; i++)
		next[i] = (uint32_t)i;
	for (i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		j = (size_t)(x % i);
		t = next[i], next[i] = next[j], next[j] = t;
	}
	for (i = 0; i < n; i++)
		*(char **)(buf + i * LINE) = buf + (size_t)next[i] * LINE;
	free(next);
	return 0;
}

static double chase(char *buf, size_t len)
{
	size_t steps = len / LINE, i;
	double best = 1e30, t;
	char **p = (char **)buf;
	int pass;

	if (steps < (1u << 20))
		steps = 1u << 20;
	for (pass = 0; pass < PASSES; pass++) {
		t = now_ns();
		for (i = 0; i < steps; i++)
			p = (char **)*p;
		t = (now_ns() - t) / (double)steps;
		if (t < best)
			best = t;
	}
	/* keep the chase: its end depends on every load */
	__asm__ volatile("" : : "r"(p));
	return best;
}

static double stream_read(const char *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)buf;
	size_t n = len / 8, i;
	double best = 1e30, t;
	int pass;

	for (pass = 0; pass < PASSES; pass++) {
		uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

		t = now_ns();
		for (i = 0; i < n; i += 4) {
			s0 += w[i];
			s1 += w[i + 1];
			s2 += w[i + 2];
			s3 += w[i + 3];
		}
		t = now_ns() - t;
		__asm__ volatile("" : : "r"(s0 + s1 + s2 + s3));
		if (t < best)
			best = t;
	}
	return (double)len / best;
}

static double stream_write(char *buf, size_t len)
{
	uint64_t *w = (uint64_t *)buf;
	size_t n = len / 8, i;
	double best = 1e30, t;
	int pass;

	for (pass = 0; pass < PASSES; pass++) {
		t = now_ns();
		for (i = 0; i < n; i++)
			w[i] = i + (uint64_t)pass;
		__asm__ volatile("" : : "r"(w) : "memory");
		t = now_ns() - t;
		if (t < best)
			best = t;
	}
	return (double)len / best;
}

/* Pinned to job->cpu: latency first (the chain is in the buffer), then read, then write
 * (which overwrites the chain, so the caller builds it again before the next latency run). */
static void *measure(void *arg)
{
	struct job *j = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || sched_getcpu() != j->cpu) {
		j->err = errno ? errno : EAGAIN;
		return NULL;
	}
	j->r.latency_ns = chase(j->buf, j->len);
	j->r.read_gbps = stream_read(j->buf, j->len);
	j->r.write_gbps = stream_write(j->buf, j->len);
	return NULL;
}

/* A thread that pins itself to j->cpu before it touches the buffer, then measures. */
static int run_pinned(struct job *j)
{
	pthread_t t;
	int rc;

	if (build_chain(j->buf, j->len))
		return -ENOMEM;
	rc = pthread_create(&t, NULL, measure, j);
	if (rc)
		return -rc;
	pthread_join(t, NULL);
	return -j->err;
}

/* The first CPU of a node that this process may run on, or -1. */
static int cpu_of_node(int node)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	cpu_set_t allowed;
	int cpu = -1;
	unsigned i;

	sched_getaffinity(0, sizeof(allowed), &allowed);
	if (!numa_node_to_cpus(node, cpus))
		for (i = 0; i < cpus->size && i < CPU_SETSIZE && cpu < 0; i++)
			if (numa_bitmask_isbitset(cpus, i) && CPU_ISSET(i, &allowed))
				cpu = (int)i;
	numa_free_cpumask(cpus);
	return cpu;
}

/* Every page of the buffer on the node asked for (hp_mem_node_of asks the kernel). */
static int check_node(const char *buf, size_t len, size_t page, int node)
{
	size_t off;
	int got;

	for (off = 0; off < len; off += page) {
		got = hp_mem_node_of(buf + off);
		if (got != node) {
			fprintf(stderr,
				"numa-bench: the page at offset %zu is on node %d, not %d\n", off,
				got, node);
			return -1;
		}
	}
	return 0;
}

/* The hypervisor's CPUID signature ("" on bare metal); TCG is qemu's emulator. */
static void hypervisor(char sig[13])
{
	sig[0] = 0;
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 31))) {
		__cpuid(0x40000000, a, b, c, d);
		memcpy(sig, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		sig[12] = 0;
		for (a = 12; a > 0 && (sig[a - 1] == ' ' || !sig[a - 1]); a--)
			sig[a - 1] = 0;
	}
#endif
}

struct opts {
	size_t size;
	bool json, compare_4k;
};

struct matrix {
	int cpu_nodes[MAX_NODES], mem_nodes[MAX_NODES], cpu[MAX_NODES];
	int n_cpu, n_mem;
	struct result r[MAX_NODES][MAX_NODES]; /* [cpu node index][memory node index] */
};

static int measure_pairs(const struct opts *o, struct matrix *mx)
{
	char name[32];
	int c, m;

	for (m = 0; m < mx->n_mem; m++) {
		const struct hp_memzone *mz;

		snprintf(name, sizeof(name), "numa-bench.%d", mx->mem_nodes[m]);
		mz = hp_memzone_reserve(name, o->size, mx->mem_nodes[m], 0, hp_mem_page_size());
		if (!mz) {
			fprintf(stderr, "numa-bench: %zu MiB on node %d: %s\n", o->size >> 20,
				mx->mem_nodes[m], hp_last_error());
			return -1;
		}
		if (check_node(mz->va, o->size, hp_mem_page_size(), mx->mem_nodes[m]))
			return -1;
		for (c = 0; c < mx->n_cpu; c++) {
			struct job j = {.buf = mz->va, .len = o->size, .cpu = mx->cpu[c]};
			int rc = run_pinned(&j);

			if (rc) {
				fprintf(stderr, "numa-bench: CPU %d: %s\n", j.cpu, strerror(-rc));
				return -1;
			}
			mx->r[c][m] = j.r;
		}
		hp_memzone_free(mz);
	}
	return 0;
}

/* A 4 KiB-page buffer (no transparent hugepages) and a hugepage one, on the node of one CPU. */
static int compare_4k(const struct opts *o, int node, int cpu, struct result *huge,
		      struct result *small)
{
	const struct hp_memzone *mz;
	struct job j = {.len = o->size, .cpu = cpu};
	char *p;
	int rc;

	mz = hp_memzone_reserve("numa-bench.huge", o->size, node, 0, hp_mem_page_size());
	if (!mz) {
		fprintf(stderr, "numa-bench: %s\n", hp_last_error());
		return -1;
	}
	j.buf = mz->va;
	rc = run_pinned(&j);
	*huge = j.r;
	hp_memzone_free(mz);
	p = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, o->size, MADV_NOHUGEPAGE);
	numa_tonode_memory(p, o->size, node);
	memset(p, 1, o->size);
	j.buf = p;
	if (!rc && !(rc = check_node(p, o->size, 4096, node)))
		rc = run_pinned(&j);
	*small = j.r;
	munmap(p, o->size);
	return rc ? -1 : 0;
}

static void print_matrix(const struct matrix *mx, const char *title, int which)
{
	int c, m;

	printf("%s\n%-9s", title, "cpu\\mem");
	for (m = 0; m < mx->n_mem; m++)
		printf(" %9d", mx->mem_nodes[m]);
	printf("\n");
	for (c = 0; c < mx->n_cpu; c++) {
		printf("%-9d", mx->cpu_nodes[c]);
		for (m = 0; m < mx->n_mem; m++) {
			const struct result *r = &mx->r[c][m];

			printf(" %9.2f", which == 0   ? r->latency_ns
					 : which == 1 ? r->read_gbps
						      : r->write_gbps);
		}
		printf("\n");
	}
}

static void print_result_json(const char *key, const struct result *r, const char *sep)
{
	printf("\"%s\": {\"latency_ns\": %.3f, \"read_gbps\": %.3f, \"write_gbps\": %.3f}%s", key,
	       r->latency_ns, r->read_gbps, r->write_gbps, sep);
}

static void report(const struct opts *o, const struct matrix *mx, const char *hv, bool emulated,
		   int cmp_node, const struct result *huge, const struct result *small)
{
	const char *note =
	    emulated ? "qemu TCG: these numbers are emulation, not the hardware's" : "";
	int c, m;

	if (o->json) {
		printf("{\"size_mib\": %zu, \"page_size\": %zu, \"hypervisor\": \"%s\", "
		       "\"emulated\": %s, \"note\": \"%s\", \"pairs\": [",
		       o->size >> 20, hp_mem_page_size(), hv, emulated ? "true" : "false", note);
		for (c = 0; c < mx->n_cpu; c++)
			for (m = 0; m < mx->n_mem; m++)
				printf("%s{\"cpu_node\": %d, \"mem_node\": %d, \"cpu\": %d, "
				       "\"latency_ns\": %.3f, \"read_gbps\": %.3f, "
				       "\"write_gbps\": %.3f}",
				       c || m ? ", " : "", mx->cpu_nodes[c], mx->mem_nodes[m],
				       mx->cpu[c], mx->r[c][m].latency_ns, mx->r[c][m].read_gbps,
				       mx->r[c][m].write_gbps);
		printf("]");
		if (o->compare_4k) {
			printf(", \"compare_4k\": {\"node\": %d, ", cmp_node);
			print_result_json("hugepages", huge, ", ");
			print_result_json("4k_pages", small, "}");
		}
		printf("}\n");
		return;
	}
	printf("numa-bench: %zu MiB buffer on %zu KiB pages; rows: the thread's CPU node, columns: "
	       "the memory's node\n",
	       o->size >> 20, hp_mem_page_size() >> 10);
	if (emulated)
		printf("note: %s\n", note);
	print_matrix(mx, "latency (ns per dependent load)", 0);
	print_matrix(mx, "read bandwidth (GB/s)", 1);
	print_matrix(mx, "write bandwidth (GB/s)", 2);
	if (o->compare_4k) {
		printf("node %d, %zu MiB: %10s %12s %12s\n", cmp_node, o->size >> 20, "latency ns",
		       "read GB/s", "write GB/s");
		printf("  %-20s %10.2f %12.2f %12.2f\n", "hugepages", huge->latency_ns,
		       huge->read_gbps, huge->write_gbps);
		printf("  %-20s %10.2f %12.2f %12.2f\n", "4 KiB pages", small->latency_ns,
		       small->read_gbps, small->write_gbps);
		printf("  %-20s %10.2f %12.2f %12.2f\n", "4 KiB / hugepages",
		       small->latency_ns / huge->latency_ns, small->read_gbps / huge->read_gbps,
		       small->write_gbps / huge->write_gbps);
	}
}

/* CPU nodes: nodes with a CPU this process may use; memory nodes: nodes with memory. */
static int find_nodes(struct matrix *mx)
{
	int n;

	if (numa_available() < 0) {
		mx->cpu_nodes[0] = mx->mem_nodes[0] = 0;
		mx->cpu[0] = sched_getcpu();
		mx->n_cpu = mx->n_mem = 1;
		return 0;
	}
	for (n = 0; n <= numa_max_node() && n < MAX_NODES; n++) {
		int cpu = cpu_of_node(n);

		if (cpu >= 0) {
			mx->cpu[mx->n_cpu] = cpu;
			mx->cpu_nodes[mx->n_cpu++] = n;
		}
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)n) &&
		    numa_node_size64(n, NULL) > 0)
			mx->mem_nodes[mx->n_mem++] = n;
	}
	return mx->n_cpu && mx->n_mem ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct matrix mx;
	struct result huge = {0}, small = {0};
	struct opts o = {0};
	struct hp_init_opts hp;
	unsigned size_mib = 64;
	char hv[13];
	int rc, cmp_node = 0;
	const struct app_opt opts[] = {
	    {"size", 0, APP_UINT, &size_mib, "MiB",
	     "buffer size, 2 or more (default 64; larger than the last-level cache)", 2, 1u << 20,
	     "give MiB, 2 or more (e.g. --size 256)"},
	    {"json", 0, APP_FLAG, &o.json, NULL, "one JSON object instead of the table"},
	    {"compare-4k", 0, APP_FLAG, &o.compare_4k, NULL,
	     "also a buffer of 4 KiB pages beside a hugepage one"},
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "numa-bench",
	    .synopsis = "[HUGEPOOL-OPTIONS --] [--size MiB] [--json] [--compare-4k]",
	    .opts = opts};

	rc = app_parse_hp(&cli, argc, argv, &hp);
	if (rc != APP_RUN)
		return rc;
	o.size = (size_t)size_mib << 20;
	rc = 0;
	if (hp_init_opts(&hp) < 0) {
		fprintf(stderr, "numa-bench: hp_init: %s\n", hp_last_error());
		return 1;
	}
	if (!rc && find_nodes(&mx)) {
		fprintf(stderr, "numa-bench: no NUMA node with both a usable CPU and memory\n");
		rc = 1;
	}
	if (!rc && measure_pairs(&o, &mx))
		rc = 1;
	if (!rc && o.compare_4k) {
		cmp_node = mx.cpu_nodes[0];
		if (compare_4k(&o, cmp_node, mx.cpu[0], &huge, &small))
			rc = 1;
	}
	if (!rc) {
		hypervisor(hv);
		report(&o, &mx, hv, !strcmp(hv, "TCGTCGTCGTCG"), cmp_node, &huge, &small);
	}
	hp_cleanup();
	return rc;
}
