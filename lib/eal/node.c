/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA topology helpers for the allocators: the caller's node (on every HP_NODE_ANY allocation,
 * so it must be cheap: getcpu() is a vDSO call) and the node count (computed once, then a
 * relaxed load; the topology does not change under a running process).
 */
#include <numa.h>
#include <sched.h>
#include <stdatomic.h>

#include "eal_internal.h"

static _Atomic int node_count; /* 0 = not computed yet */

int eal_current_node(void)
{
	unsigned cpu, node;

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
