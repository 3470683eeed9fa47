/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA topology helpers for the allocators: the caller's node (on every HP_NODE_ANY allocation,
 * so it must be cheap: the CPU is read from the rseq area the kernel keeps current, then a
 * table gives its node; getcpu() is the fallback, and on some hypervisors it costs more than
 * the whole allocation) and the node count (computed once, then a relaxed load; the topology
 * does not change under a running process).
 */
#include <numa.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "eal_internal.h"
#include "rseq/rseq_internal.h"

static _Atomic int node_count; /* 0 = not computed yet */

/* The node of each possible CPU, built once on first use (a racing builder frees its copy). */
struct cpu_nodes {
	unsigned n;
	uint8_t node[];
};
static struct cpu_nodes *_Atomic cpu_nodes;
_Static_assert(HP_MAX_NUMA_NODES <= 256, "a node id fits in cpu_nodes' bytes");

unsigned eal_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned lo, hi = 0, max = 0;
	int c;

	if (f) {
		while (fscanf(f, "%u", &lo) == 1) {
			hi = lo;
			c = fgetc(f);
			if (c == '-' && fscanf(f, "%u", &hi) == 1)
				c = fgetc(f);
			max = hi + 1 > max ? hi + 1 : max;
			if (c != ',')
				break;
		}
		fclose(f);
	}
	if (!max) {
		long n = sysconf(_SC_NPROCESSORS_CONF);

		max = n > 0 ? (unsigned)n : 1;
	}
	return max;
}

static const struct cpu_nodes *cpu_nodes_get(void)
{
	struct cpu_nodes *t = atomic_load_explicit(&cpu_nodes, memory_order_acquire), *none = NULL;
	unsigned n;

	if (t)
		return t;
	n = eal_possible_cpus();
	t = malloc(sizeof(*t) + n);
	if (!t)
		return NULL;
	t->n = n;
	for (unsigned cpu = 0; cpu < n; cpu++) {
		int node = numa_available() < 0 ? 0 : numa_node_of_cpu((int)cpu);

		t->node[cpu] = (uint8_t)(node > 0 && node < HP_MAX_NUMA_NODES ? node : 0);
	}
	if (!atomic_compare_exchange_strong_explicit(&cpu_nodes, &none, t, memory_order_acq_rel,
						     memory_order_acquire)) {
		free(t);
		t = none;
	}
	return t;
}

int eal_current_node(void)
{
	unsigned cpu, node;
	int id = rseq_current_cpu();

	if (id >= 0) {
		const struct cpu_nodes *t = cpu_nodes_get();

		if (t && (unsigned)id < t->n)
			return t->node[id];
	}
	if (getcpu(&cpu, &node) != 0)
		return 0;
	return (int)node;
}

int eal_node_count(void)
{
	int n = atomic_load_explicit(&node_count, memory_order_relaxed);

	if (n)
		return n;
	n = numa_available() < 0 ? 1 : numa_max_node() + 1;
	if (n < 1)
		n = 1;
	atomic_store_explicit(&node_count, n, memory_order_relaxed);
	return n;
}

bool eal_node_exists(int node)
{
	return node >= 0 && node < HP_MAX_NUMA_NODES && node < eal_node_count();
}

int eal_node_resolve(int *node, const char *who)
{
	if (*node == HP_NODE_ANY)
		*node = eal_current_node();
	if (!eal_node_exists(*node))
		return hp_fail(-ENODEV,
			       "%s: node %d does not exist; this machine has nodes 0-%d (or pass "
			       "HP_NODE_ANY)",
			       who, *node, eal_node_count() - 1);
	return 0;
}
