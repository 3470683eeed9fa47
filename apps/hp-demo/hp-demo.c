/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-demo: the README's demo. Starts the runtime with memory on every node that has free
 * hugepages (or --no-huge when none has, saying so), prints each contiguous run of pages with
 * its VA, IOVA, length, page size and node, reserves a memzone per node and walks them, then
 * cleans up and shows the free hugepage count back where it was. Options given on the command
 * line replace the chosen ones (e.g. hp-demo --socket-mem=128 --huge-size=1G).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hugepool.h>
#include "app_opts.h"

#define DEMO_MB 64
#define ZONE_LEN (1u << 20)
#define MAX_POOLS 256
#define MAX_ARGS 64

struct walk_state {
	unsigned runs, pages;
	int bad; /* runs or zones whose IOVA disagrees with the page table */
};

struct pools {
	struct hp_hugepage_pool v[MAX_POOLS];
	int n;
	int max_node;
};

/* The system's pools now, from sysfs (through the discovery calls). */
static void pools_read(struct pools *p)
{
	int n = hp_hugepage_pools(p->v, MAX_POOLS);

	p->n = n < 0 ? 0 : n < MAX_POOLS ? n : MAX_POOLS;
	p->max_node = 0;
	for (int i = 0; i < p->n; i++)
		if (p->v[i].node > p->max_node)
			p->max_node = p->v[i].node;
}

/* Free pages of one size on one node (node < 0: all nodes). */
static unsigned long pools_free(const struct pools *p, size_t page_size, int node)
{
	unsigned long sum = 0;

	for (int i = 0; i < p->n; i++)
		if (p->v[i].page_size == page_size && (node < 0 || p->v[i].node == node))
			sum += p->v[i].free;
	return sum;
}

/* Builds --socket-mem with DEMO_MB on each node that has that much free, or --no-huge. */
static void default_args(const struct pools *p, char *socket_mem, size_t len, size_t page_size)
{
	size_t off = (size_t)snprintf(socket_mem, len, "--socket-mem=");
	int any = 0;

	for (int node = 0; node <= p->max_node && off < len; node++) {
		unsigned long bytes = pools_free(p, page_size, node) * page_size;
		int mb = page_size && bytes >= ((size_t)DEMO_MB << 20) ? DEMO_MB : 0;

		any |= mb;
		off += (size_t)snprintf(socket_mem + off, len - off, "%s%d", node ? "," : "", mb);
	}
	if (!any) {
		printf(
		    "no node has %d MiB of free hugepages: running with --no-huge (4 KiB pages, "
		    "IOVA = VA)\n  to use hugepages, reserve some first: hp-info --reserve 0:%dM\n",
		    DEMO_MB, 4 * DEMO_MB);
		snprintf(socket_mem, len, "--no-huge");
	}
}

static int print_run(const struct hp_memseg *run, void *arg)
{
	struct walk_state *st = arg;
	unsigned pages = (unsigned)(run->len / run->page_size);

	printf("  %4d  %#16" PRIxPTR "  %#14" PRIx64 "  %8zu KiB  %6zu KiB  %5u\n", run->node,
	       (uintptr_t)run->va, run->iova, run->len >> 10, run->page_size >> 10, pages);
	if (hp_mem_virt2iova(run->va) != run->iova)
		st->bad++;
	st->runs++;
	st->pages += pages;
	return 0;
}

static int print_zone(const struct hp_memzone *mz, void *arg)
{
	struct walk_state *st = arg;

	printf("  %-12s  %#16" PRIxPTR "  %#14" PRIx64 "  %8zu KiB  %4d\n", mz->name,
	       (uintptr_t)mz->va, mz->iova, mz->len >> 10, mz->node);
	if (hp_mem_virt2iova(mz->va) != mz->iova || hp_mem_node_of(mz->va) != mz->node)
		st->bad++;
	return 0;
}

/* One IOVA-contiguous memzone per node that has memory; written to, so it is really there. */
static int reserve_zones(int max_node)
{
	char name[HP_MEMZONE_NAMESIZE];
	int made = 0;

	for (int node = 0; node <= max_node; node++) {
		const struct hp_memzone *mz;

		if (hp_mem_reserved(node) == 0)
			continue;
		snprintf(name, sizeof(name), "demo-node%d", node);
		mz = hp_memzone_reserve(name, ZONE_LEN, node, HP_MZ_IOVA_CONTIG, 0);
		if (!mz) {
			fprintf(stderr, "hp-demo: memzone %s: %s\n", name, hp_last_error());
			return -1;
		}
		memset(mz->va, 0xa5, mz->len);
		made++;
	}
	return made;
}

static void free_zones(int max_node)
{
	char name[HP_MEMZONE_NAMESIZE];

	for (int node = 0; node <= max_node; node++) {
		const struct hp_memzone *mz;

		snprintf(name, sizeof(name), "demo-node%d", node);
		mz = hp_memzone_lookup(name);
		if (mz)
			hp_memzone_free(mz);
	}
}

static int show_memory(int max_node)
{
	struct walk_state st = {0};
	char size[32];
	size_t ps = hp_mem_page_size();

	snprintf(size, sizeof(size), ps >= (1u << 20) ? "%zu MiB" : "%zu KiB",
		 ps >= (1u << 20) ? ps >> 20 : ps >> 10);
	printf("\nruntime memory: page size %s, IOVA mode %s\n", size,
	       hp_iova_mode() == HP_IOVA_PA ? "PA (physical addresses)"
					    : "VA (IOVA = virtual address)");
	for (int node = 0; node <= max_node; node++)
		if (hp_mem_reserved(node))
			printf("  node %d: %zu MiB reserved\n", node, hp_mem_reserved(node) >> 20);
	printf("\ncontiguous runs (VA and IOVA contiguous):\n");
	printf("  %4s  %16s  %14s  %12s  %10s  %5s\n", "node", "va", "iova", "length", "page",
	       "pages");
	hp_memseg_contig_walk(print_run, &st);
	printf("  %u pages in %u runs\n", st.pages, st.runs);
	if (reserve_zones(max_node) < 0)
		return -1;
	printf("\nmemzones (reserved with HP_MZ_IOVA_CONTIG, written, walked):\n");
	printf("  %-12s  %16s  %14s  %12s  %4s\n", "name", "va", "iova", "length", "node");
	hp_memzone_walk(print_zone, &st);
	free_zones(max_node);
	if (st.bad) {
		fprintf(stderr,
			"hp-demo: %d runs or zones have an IOVA or node that the page table "
			"does not confirm\n",
			st.bad);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char socket_mem[256], *args[MAX_ARGS] = {"hp-demo"};
	struct pools before, during, after;
	size_t ps;
	int n_args = 0, rc;
	const struct app_opt no_opts[] = {{NULL}};
	const struct app_cli cli = {
	    .prog = "hp-demo",
	    .synopsis = "[hugepool options, e.g. --socket-mem=128,128 --huge-size=1G]",
	    .opts = no_opts,
	    .footer =
		"Without options: " APP_STR(DEMO_MB) " MiB on each node that has them free, else "
						     "--no-huge.\n"};

	/* every other argument is a hugepool option */
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		app_usage(&cli, stdout);
		return 0;
	}
	pools_read(&before);
	if (argc > 1) {
		for (int i = 1; i < argc && i < MAX_ARGS - 1; i++)
			args[++n_args] = argv[i];
	} else {
		default_args(&before, socket_mem, sizeof(socket_mem), hp_hugepage_default_size());
		args[++n_args] = socket_mem;
	}
	printf("hp-demo: hp_init(");
	for (int i = 1; i <= n_args; i++)
		printf("%s%s", i > 1 ? " " : "", args[i]);
	printf(")\n");
	rc = hp_init(n_args + 1, args);
	if (rc < 0) {
		fprintf(stderr, "hp-demo: hp_init failed: %s\n", hp_last_error());
		return 1;
	}
	pools_read(&during);
	ps = hp_mem_page_size();
	rc = show_memory(before.max_node);
	hp_cleanup();
	pools_read(&after);
	if (ps > 4096) {
		unsigned long b = pools_free(&before, ps, -1), d = pools_free(&during, ps, -1);
		unsigned long a = pools_free(&after, ps, -1);

		printf(
		    "\nfree %zu %s hugepages (all nodes): %lu before hp_init, %lu while running, "
		    "%lu after hp_cleanup: %s\n",
		    ps >= (1u << 30) ? ps >> 30 : ps >> 20, ps >= (1u << 30) ? "GiB" : "MiB", b, d,
		    a,
		    a == b ? "all given back"
			   : "different (other processes use hugepages too, or pages leaked)");
	} else {
		printf("\nran on 4 KiB pages (--no-huge): no hugepage was used\n");
	}
	return rc < 0 ? 1 : 0;
}
