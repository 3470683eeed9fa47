/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two lib/rdma test programs share: the runtime and the first RDMA device (if any)
 * opened once per program, and the check that a map covers every page of runtime memory.
 * test_rdma.c checks maps without a device (through the fake registration path) or with one;
 * test_rdma_device.c has the cases only a device can show.
 */
#ifndef HP_RDMA_TEST_H
#define HP_RDMA_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include <infiniband/verbs.h>

#include "hp_test.h"

#define NO_DEV "no RDMA device (the VM lane has rxe0)"
#define ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE)

/* The first device and a PD on it, or NULL when the machine has none. */
extern struct ibv_context *rdma_test_ctx;
extern struct ibv_pd *rdma_test_pd;

/* cmocka group setup: the runtime (--socket-mem=16) and the device; teardown undoes both. */
int rdma_test_setup(void **state);
int rdma_test_teardown(void **state);

/* true if [va, va + len) lies inside mr. */
bool rdma_test_mr_holds(const struct ibv_mr *mr, const void *va, size_t len);

/* Every page is inside an MR of map, and there are no more MRs than contiguous runs. */
void rdma_test_check_covers_every_memseg(const struct hp_rdma_map *map);

#endif
