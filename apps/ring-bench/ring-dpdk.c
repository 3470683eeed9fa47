/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring-bench's DPDK side: rte_eal_init for the comparison, and DPDK's rte_ring timed by the same
 * loops (loops.h) as hugepool's. Built only where libdpdk is found (HP_HAVE_DPDK).
 */
#include <stdio.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "bench.h"

#define LOOP(name) dpdk_##name
#define RING_T struct rte_ring
#define ENQ_BULK(r, objs, n) rte_ring_enqueue_bulk(r, objs, n, NULL)
#define DEQ_BULK(r, objs, n) rte_ring_dequeue_bulk(r, objs, n, NULL)
#include "loops.h"

static void *dpdk_create(const char *name, int single)
{
	return rte_ring_create(name, BENCH_RING_SIZE, SOCKET_ID_ANY,
			       single ? RING_F_SP_ENQ | RING_F_SC_DEQ : 0);
}

static void dpdk_destroy(void *ring)
{
	rte_ring_free(ring);
}

const struct bench_ring_ops bench_dpdk_ops = {
    .name = "dpdk",
    .create = dpdk_create,
    .destroy = dpdk_destroy,
    .one_thread = dpdk_one_thread,
    .producer = dpdk_producer,
    .consumer = dpdk_consumer,
};
