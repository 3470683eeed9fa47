/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-info: what hugepages this machine has (page sizes, per-node pools, hugetlbfs mounts, the
 * IOVA mode a process would get), as a table or one JSON object, and setting the per-node pools
 * (--reserve, --clear). Reads everything through the library's discovery calls, which work
 * without hp_init(). Exit status: 0 when everything asked was done, 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hugepool.h>
#include "app_util.h"

#include "app_opts.h"
#include "live.h"

#define MAX_POOLS 256
#define MAX_REQ 64

static const char *prog = "hp-info";

struct snapshot {
	struct hp_hugepage_pool pools[MAX_POOLS];
	unsigned n;
};

struct request {
	int node;
	unsigned long long bytes;
};

/* "2M", "1G", "512", "2048K", "0"; a bare number is MiB. Returns 0, or -1 on bad syntax. */
static int parse_size(const char *s, unsigned long long *bytes)
{
	unsigned long long v;
	unsigned shift = 20;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'B')
		end++;
	else if (end[0] == 'i' && end[1] == 'B')
		end += 2;
	if (*end != '\0' || v > (~0ULL >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}

static int snapshot_take(struct snapshot *s)
{
	int n = hp_hugepage_pools(s->pools, MAX_POOLS);

	if (n < 0) {
		fprintf(stderr, "%s: cannot list hugepage pools: %s\n", prog, hp_last_error());
		return -1;
	}
	s->n = n < MAX_POOLS ? (unsigned)n : MAX_POOLS;
	return 0;
}

static const struct hp_hugepage_pool *pool_find(const struct snapshot *s, int node, size_t size)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->pools[i].node == node && s->pools[i].page_size == size)
			return &s->pools[i];
	return NULL;
}

static bool size_known(const struct snapshot *s, size_t size)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->pools[i].page_size == size)
			return true;
	return false;
}

static bool node_known(const struct snapshot *s, int node)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->pools[i].node == node)
			return true;
	return false;
}

/* Distinct page sizes, ascending (pools are sorted by size). */
static unsigned page_sizes(const struct snapshot *s, size_t *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->n; i++)
		if ((n == 0 || out[n - 1] != s->pools[i].page_size) && n < max)
			out[n++] = s->pools[i].page_size;
	return n;
}

static void sizes_list(const struct snapshot *s, char *buf, size_t len)
{
	size_t sizes[16], off = 0;
	unsigned n = page_sizes(s, sizes, 16);
	char t[32];

	buf[0] = '\0';
	for (unsigned i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					app_size_str(t, sizeof(t), sizes[i]));
	if (n == 0)
		snprintf(buf, len, "none");
}

static void nodes_list(const struct snapshot *s, char *buf, size_t len)
{
	size_t off = 0;
	int last = -1;

	buf[0] = '\0';
	for (unsigned i = 0; i < s->n && off < len; i++) {
		if (s->pools[i].node <= last)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%d", off ? ", " : "",
					s->pools[i].node);
		last = s->pools[i].node;
	}
}

/* CPU list of a node as "0-3,8", from libnuma. */
static void node_cpus(int node, char *buf, size_t len)
{
	struct bitmask *bm;
	size_t off = 0;
	unsigned i, n;

	buf[0] = '\0';
	if (numa_available() < 0) {
		snprintf(buf, len, "0-%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
		return;
	}
	bm = numa_allocate_cpumask();
	if (!bm || numa_node_to_cpus(node, bm) < 0) {
		if (bm)
			numa_free_cpumask(bm);
		return;
	}
	n = bm->size;
	for (i = 0; i < n && off < len; i++) {
		unsigned j = i;

		if (!numa_bitmask_isbitset(bm, i))
			continue;
		while (j + 1 < n && numa_bitmask_isbitset(bm, j + 1))
			j++;
		if (j > i)
			off +=
			    (size_t)snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", i, j);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? "," : "", i);
		i = j;
	}
	numa_free_cpumask(bm);
}

static int max_node(void)
{
	return numa_available() < 0 ? 0 : numa_max_node();
}

static bool node_exists(int node)
{
	if (numa_available() < 0)
		return node == 0;
	return numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node);
}

/* false for a node number with no node; else its cpus and memory (0 and 0 when unknown) */
static bool node_read(int node, char *cpus, size_t len, long long *total, long long *avail)
{
	*avail = 0;
	*total = numa_available() < 0 ? 0 : numa_node_size64(node, avail);
	if (!node_exists(node))
		return false;
	if (*total <= 0)
		*total = *avail = 0;
	node_cpus(node, cpus, len);
	return true;
}

static void print_table(const struct snapshot *s)
{
	enum hp_iova_mode iova = hp_iova_mode_probe();
	size_t sizes[16], def = hp_hugepage_default_size();
	unsigned nsz = page_sizes(s, sizes, 16);
	char a[32], b[32], c[32], cpus[256];
	const char *why;

	printf("default hugepage size: %s\n", def ? app_size_str(a, sizeof(a), def) : "none");
	printf("IOVA mode a process would get (--iova=auto): %s (%s)\n",
	       iova == HP_IOVA_PA ? "PA" : "VA", hp_iova_mode_reason());
	hp_mempool_percpu_enabled(&why);
	printf("mempool caches for threads without an lcore id (per-CPU): %s\n", why);
	printf("\nhugepage pools per node:\n");
	printf("  %-9s %4s %8s %8s %8s %8s %12s %12s\n", "page size", "node", "total", "free",
	       "in use", "surplus", "total size", "free size");
	for (unsigned i = 0; i < s->n; i++) {
		const struct hp_hugepage_pool *p = &s->pools[i];

		printf("  %-9s %4d %8u %8u %8u %8u %12s %12s\n",
		       app_size_str(a, sizeof(a), p->page_size), p->node, p->total, p->free,
		       p->total - p->free, p->surplus,
		       app_size_str(b, sizeof(b), (unsigned long long)p->total * p->page_size),
		       app_size_str(c, sizeof(c), (unsigned long long)p->free * p->page_size));
	}
	if (s->n == 0)
		printf("  (none: this kernel has no hugepages)\n");
	printf("\nhugetlbfs mounts:\n");
	for (unsigned i = 0; i < nsz; i++) {
		const char *m = hp_hugetlbfs_mount(sizes[i]);

		printf("  %-9s %s\n", app_size_str(a, sizeof(a), sizes[i]),
		       m ? m
			 : "(none; not needed: hugepool uses memfd unless --huge-dir is given)");
	}
	printf("\nNUMA nodes:\n");
	for (int n = 0; n <= max_node(); n++) {
		long long tot, fr;

		if (!node_read(n, cpus, sizeof(cpus), &tot, &fr))
			continue;
		printf("  node %d: cpus %s", n, cpus[0] ? cpus : "none");
		if (tot > 0)
			printf(", memory %lld MiB, %lld MiB free", tot >> 20, fr >> 20);
		printf("\n");
	}
}

/* One JSON object; keys are documented in doc/tools.md and hp-info(1) and do not change. */
static void print_json(const struct snapshot *s)
{
	size_t sizes[16];
	unsigned nsz = page_sizes(s, sizes, 16);
	char cpus[256];
	bool first = true;
	const char *why;
	bool percpu = hp_mempool_percpu_enabled(&why);

	/* why is the library's own sentence: no quotes or backslashes to escape */
	printf("{\"default_page_size\":%zu,\"iova_mode\":\"%s\",\"iova_why\":\"%s\","
	       "\"percpu_caches\":{\"enabled\":%s,\"why\":\"%s\"},\"page_sizes\":[",
	       hp_hugepage_default_size(), hp_iova_mode_probe() == HP_IOVA_PA ? "pa" : "va",
	       hp_iova_mode_reason(), percpu ? "true" : "false", why);
	for (unsigned i = 0; i < nsz; i++)
		printf("%s%zu", i ? "," : "", sizes[i]);
	printf("],\"pools\":[");
	for (unsigned i = 0; i < s->n; i++) {
		const struct hp_hugepage_pool *p = &s->pools[i];

		printf("%s{\"node\":%d,\"page_size\":%zu,\"total\":%u,\"free\":%u,\"in_use\":%u,"
		       "\"surplus\":%u}",
		       i ? "," : "", p->node, p->page_size, p->total, p->free, p->total - p->free,
		       p->surplus);
	}
	printf("],\"mounts\":[");
	for (unsigned i = 0; i < nsz; i++) {
		const char *m = hp_hugetlbfs_mount(sizes[i]);

		/* mount paths come from /proc/mounts, which escapes blanks as \040: no quoting
		 * needed */
		printf("%s{\"page_size\":%zu,\"path\":", i ? "," : "", sizes[i]);
		printf(m ? "\"%s\"}" : "null}", m);
	}
	printf("],\"nodes\":[");
	for (int n = 0; n <= max_node(); n++) {
		long long tot, fr;

		if (!node_read(n, cpus, sizeof(cpus), &tot, &fr))
			continue;
		printf("%s{\"node\":%d,\"cpus\":\"%s\",\"mem_total\":%lld,\"mem_free\":%lld}",
		       first ? "" : ",", n, cpus, tot, fr);
		first = false;
	}
	printf("]}\n");
}

/* One "NODE:SIZE" entry (NUL-terminated); -1 on bad syntax. */
static int parse_request(char *tok, struct request *req)
{
	char *colon = strchr(tok, ':'), *end = NULL;
	long node;

	if (!colon || colon == tok || *tok < '0' || *tok > '9')
		return -1;
	errno = 0;
	node = strtol(tok, &end, 10);
	if (end != colon || node > INT_MAX || errno)
		return -1;
	req->node = (int)node;
	return parse_size(colon + 1, &req->bytes);
}

/* "0:1G,1:512M" into reqs; prints the reason and returns -1 on bad syntax (empty entries too). */
static int parse_reserve(const char *arg, struct request *reqs, unsigned *n)
{
	char *copy = strdup(arg), *tok, *next;
	int rc = 0;

	*n = 0;
	if (!copy)
		return -1;
	for (tok = copy; tok && rc == 0; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		if (*n == MAX_REQ) {
			fprintf(stderr, "%s: --reserve: more than %d entries\n", prog, MAX_REQ);
			rc = -1;
		} else if (*tok == '\0') {
			fprintf(stderr,
				"%s: --reserve '%s' has an empty entry; write e.g. "
				"--reserve 0:512M,1:512M\n",
				prog, arg);
			rc = -1;
		} else if (parse_request(tok, &reqs[*n]) < 0) {
			fprintf(
			    stderr,
			    "%s: --reserve: '%s' is not NODE:SIZE; write e.g. --reserve 0:1G or "
			    "--reserve 0:512M,1:512M (SIZE with K, M, G or T; a bare number is "
			    "MiB)\n",
			    prog, tok);
			rc = -1;
		} else {
			(*n)++;
		}
	}
	free(copy);
	return rc;
}

static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(
	    stderr,
	    "%s: %s writes /sys/devices/system/node/nodeN/hugepages/*/nr_hugepages and needs root; "
	    "run it with sudo\n",
	    prog, what);
	return -1;
}

/* Sets one pool and says how it went; returns 0 when the kernel has exactly count pages. */
static int set_pool(int node, size_t size, unsigned count, const struct hp_hugepage_pool *before)
{
	char a[32], b[32], c[32], k[32];
	int got = hp_hugepage_set(node, size, count);

	app_size_str(a, sizeof(a), size);
	if (got < 0) {
		fprintf(stderr, "%s: node %d, %s pages: %s\n", prog, node, a, hp_last_error());
		return -1;
	}
	if ((unsigned)got == count)
		return 0;
	app_size_str(b, sizeof(b), (unsigned long long)count * size);
	app_size_str(c, sizeof(c), (unsigned long long)got * size);
	if ((unsigned)got < count)
		fprintf(
		    stderr,
		    "%s: node %d: asked %u pages of %s (%s), the kernel gave %u (%s): the node is "
		    "short of free memory or it is too fragmented; free memory, or reserve at boot "
		    "(hugepagesz=%s hugepages=N on the kernel command line)\n",
		    prog, node, count, a, b, got, c, app_size_arg(k, sizeof(k), size));
	else
		fprintf(
		    stderr,
		    "%s: node %d: asked %u pages of %s (%s), the pool keeps %u: %u are in use and "
		    "return when their owner frees them\n",
		    prog, node, count, a, b, got, before ? before->total - before->free : 0);
	return -1;
}

static int do_reserve(const struct snapshot *s, const char *arg, size_t size)
{
	struct request reqs[MAX_REQ];
	unsigned n, i;
	char a[32], list[256];
	int rc = 0;

	if (parse_reserve(arg, reqs, &n) < 0)
		return 2;
	/* check everything before changing anything */
	for (i = 0; i < n; i++) {
		if (!node_known(s, reqs[i].node)) {
			nodes_list(s, list, sizeof(list));
			fprintf(
			    stderr,
			    "%s: node %d does not exist (or has no hugepage pools); this machine "
			    "has node%s %s\n",
			    prog, reqs[i].node, strchr(list, ',') ? "s" : "", list);
			return 1;
		}
		if (reqs[i].bytes % size)
			fprintf(stderr,
				"%s: node %d: %llu bytes is not a whole number of %s pages; "
				"rounding up\n",
				prog, reqs[i].node, reqs[i].bytes,
				app_size_str(a, sizeof(a), size));
		if ((reqs[i].bytes + size - 1) / size > UINT_MAX / 2) {
			fprintf(stderr, "%s: node %d: %llu bytes is too many pages\n", prog,
				reqs[i].node, reqs[i].bytes);
			return 2;
		}
	}
	if (need_root("--reserve") < 0)
		return 1;
	for (i = 0; i < n; i++) {
		unsigned count = (unsigned)((reqs[i].bytes + size - 1) / size);

		if (set_pool(reqs[i].node, size, count, pool_find(s, reqs[i].node, size)) < 0)
			rc = 1;
	}
	return rc;
}

/* Sets each pool (of one size, or all when size is 0) to the pages in use there. */
static int do_clear(const struct snapshot *s, size_t size)
{
	int rc = 0;

	if (need_root("--clear") < 0)
		return 1;
	for (unsigned i = 0; i < s->n; i++) {
		const struct hp_hugepage_pool *p = &s->pools[i];

		if (size && p->page_size != size)
			continue;
		if (p->free == 0)
			continue;
		/* pages taken between the snapshot and the write stay: the kernel keeps them */
		if (set_pool(p->node, p->page_size, p->total - p->free, p) < 0)
			rc = 1;
	}
	return rc;
}

static int check_size(const struct snapshot *s, const char *arg, size_t *size)
{
	unsigned long long v = 0;
	char list[256];

	*size = parse_size(arg, &v) == 0 ? (size_t)v : 0;
	if (*size && size_known(s, *size))
		return 0;
	sizes_list(s, list, sizeof(list));
	if (*size)
		fprintf(stderr, "%s: --size %s: the kernel has no pages of that size; it has: %s\n",
			prog, arg, list);
	else
		fprintf(stderr,
			"%s: --size '%s' is not a size; write e.g. --size 2M or --size 1G "
			"(this kernel has: %s)\n",
			prog, arg, list);
	return -1;
}

int main(int argc, char **argv)
{
	const char *reserve = NULL, *size_arg = NULL;
	bool json = false, clear = false, live = false;
	struct snapshot snap;
	size_t size = 0;
	int rc = 0, arg;
	const struct app_opt opts[] = {
	    {"json", 0, APP_FLAG, &json, NULL, "the same as one JSON object"},
	    {"reserve", 0, APP_STRING, &reserve, "0:1G,1:1G",
	     "set node 0's and node 1's pool to 1 GiB of pages (root)"},
	    {"size", 0, APP_STRING, &size_arg, "2M|1G",
	     "page size for --reserve/--clear (default: the system's default;\n"
	     "--clear without --size clears every size)"},
	    {"clear", 0, APP_FLAG, &clear, NULL,
	     "give every free hugepage back to the kernel (root)"},
	    {"live", 0, APP_FLAG, &live, NULL,
	     "the running hugepool programs (prefix, pid, program); with PREFIX:\n"
	     "what the program of that --file-prefix holds: memory per node,\n"
	     "zones, pools, rings (read from its telemetry socket)"},
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "hp-info",
	    .synopsis = "[--json] [--reserve NODE:SIZE[,NODE:SIZE...]] [--size 2M|1G] [--clear]\n"
			"       hp-info --live [PREFIX] [--json]\n"
			"  (no option: a table of page sizes, per-node pools, mounts, IOVA mode)",
	    .opts = opts,
	    .footer = "SIZE takes a suffix K, M, G or T (bytes); a bare number is MiB.\n",
	    .operands = &arg};

	rc = app_parse(&cli, argc, argv);
	if (rc != APP_RUN)
		return rc;
	rc = 0;
	if (live) {
		if (reserve || clear || size_arg) {
			fprintf(stderr, "%s: --live takes only a prefix and --json\n", prog);
			return 2;
		}
		if (arg + 1 < argc) {
			fprintf(stderr, "%s: --live takes one prefix, got '%s' too\n", prog,
				argv[arg + 1]);
			return 2;
		}
		return live_main(arg < argc ? argv[arg] : NULL, json);
	}
	if (arg < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; see %s --help\n", prog, argv[arg],
			prog);
		return 2;
	}
	if (reserve && clear) {
		fprintf(stderr, "%s: give --reserve or --clear, not both\n", prog);
		return 2;
	}
	if (snapshot_take(&snap) < 0)
		return 1;
	if (size_arg && check_size(&snap, size_arg, &size) < 0)
		return 2;
	if (reserve && !size) {
		size = hp_hugepage_default_size();
		if (!size) {
			fprintf(
			    stderr,
			    "%s: this kernel has no hugepages (no Hugepagesize in /proc/meminfo)\n",
			    prog);
			return 1;
		}
	}
	if (reserve)
		rc = do_reserve(&snap, reserve, size);
	else if (clear)
		rc = do_clear(&snap, size);
	if (rc == 2)
		return rc;
	if ((reserve || clear) && snapshot_take(&snap) < 0)
		return 1;
	if (json)
		print_json(&snap);
	else
		print_table(&snap);
	return rc;
}
