/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A registration path that needs no device, built only with -Dtest_hooks=true: MRs are calloc'd
 * with invented keys, so the unit test and rdma-xfer --lookup-bench exercise the same page table
 * and memory-event handling as a real map on a machine without RDMA hardware.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <infiniband/verbs.h>

#include "rdma_internal.h"

static _Atomic uint32_t fake_key = 1;

static struct ibv_mr *fake_reg(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr = calloc(1, sizeof(*mr));

	(void)access;
	if (!mr)
		return NULL;
	mr->pd = pd;
	mr->addr = addr;
	mr->length = len;
	mr->lkey = atomic_fetch_add_explicit(&fake_key, 1, memory_order_relaxed);
	mr->rkey = mr->lkey | 0x80000000u;
	return mr;
}

static int fake_dereg(struct ibv_mr *mr)
{
	free(mr);
	return 0;
}

const struct rdma_reg_ops rdma_fake_ops = {"fake (no device)", fake_reg, fake_dereg};
