/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/rdma on a real device (the VM lane has rxe0): MRs of the map's PD, access flags the
 * device refuses, fork safety, an RDMA WRITE/READ loopback between mempool objects, and keys of
 * another context. Every case skips without a device.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "hp_test.h"
#include "rdma_test.h"
#include "mem/mem_internal.h"
#include "rdma/rdma_internal.h"

#define OBJ_SIZE 2048u

/* ---- with a device ---------------------------------------------------------------------- */

#define NEED_DEVICE()                                                                              \
	do {                                                                                       \
		if (!rdma_test_pd)                                                                 \
			hp_test_skip(NO_DEV);                                                      \
	} while (0)

static void test_device_map_registers_real_mrs_of_its_pd(void **state)
{
	struct hp_rdma_map *m;
	struct ibv_mr *mr;

	(void)state;
	NEED_DEVICE();
	m = hp_rdma_map_create(rdma_test_pd, ACCESS);
	assert_non_null(m);
	mr = hp_rdma_mr_of(m, mem_lists[0]->base, 64);
	assert_non_null(mr);
	assert_ptr_equal(mr->pd, rdma_test_pd);
	assert_ptr_equal(mr->context, rdma_test_ctx);
	rdma_test_check_covers_every_memseg(m);
	hp_rdma_map_destroy(m);
}

static void test_device_refuses_access_flags_it_lacks_with_a_sentence(void **state)
{
	struct ibv_device_attr_ex attr;
	struct hp_rdma_map *m;

	(void)state;
	NEED_DEVICE();
	memset(&attr, 0, sizeof(attr));
	if (!ibv_query_device_ex(rdma_test_ctx, NULL, &attr) &&
	    (attr.odp_caps.general_caps & IBV_ODP_SUPPORT))
		hp_test_skip("%s supports on-demand paging: no flag to refuse",
			     ibv_get_device_name(rdma_test_ctx->device));
	errno = 0;
	m = hp_rdma_map_create(rdma_test_pd, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND);
	assert_null(m);
	assert_int_not_equal(errno, 0);
	assert_non_null(strstr(hp_last_error(), "access flags"));
	hp_test_note("%s", hp_last_error());
}

static void test_fork_init_after_registration_is_refused_unless_unneeded(void **state)
{
	struct hp_rdma_map *m;
	int rc;

	(void)state;
	NEED_DEVICE();
	m = hp_rdma_map_create(rdma_test_pd, ACCESS);
	assert_non_null(m);
	rc = hp_rdma_fork_init();
	if (ibv_is_fork_initialized() == IBV_FORK_UNNEEDED)
		assert_int_equal(rc, 0);
	else
		assert_int_equal(rc, -EBUSY);
	hp_rdma_map_destroy(m);
}

/* ---- RDMA traffic: two RC QPs of one device connected to each other ----------------------- */

struct loop {
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
};

/* A GID to address ourselves with: the IPv4-mapped one (RoCEv2) if there is one, else index 0. */
static int pick_gid(union ibv_gid *gid)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	union ibv_gid g;
	int i;

	for (i = 0; i < 16; i++)
		if (!ibv_query_gid(rdma_test_ctx, 1, i, &g) && !memcmp(g.raw, v4, sizeof(v4))) {
			*gid = g;
			return i;
		}
	assert_int_equal(ibv_query_gid(rdma_test_ctx, 1, 0, gid), 0);
	return 0;
}

static void qp_connect(struct ibv_qp *qp, uint32_t dest, int gidx, const union ibv_gid *gid,
		       enum ibv_mtu mtu)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = ACCESS;
	assert_int_equal(
	    ibv_modify_qp(qp, &a,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS),
	    0);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = dest;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *gid;
	a.ah_attr.grh.sgid_index = (uint8_t)gidx;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = 1;
	assert_int_equal(ibv_modify_qp(qp, &a,
				       IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
					   IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
					   IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER),
			 0);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	assert_int_equal(ibv_modify_qp(qp, &a,
				       IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
					   IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
					   IBV_QP_MAX_QP_RD_ATOMIC),
			 0);
}

static void loop_open(struct loop *l)
{
	struct ibv_qp_init_attr ia;
	struct ibv_port_attr port;
	union ibv_gid gid;
	int i, gidx = pick_gid(&gid);

	assert_int_equal(ibv_query_port(rdma_test_ctx, 1, &port), 0);
	l->cq = ibv_create_cq(rdma_test_ctx, 64, NULL, NULL, 0);
	assert_non_null(l->cq);
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = ia.recv_cq = l->cq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = 16;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 4;
	for (i = 0; i < 2; i++) {
		l->qp[i] = ibv_create_qp(rdma_test_pd, &ia);
		assert_non_null(l->qp[i]);
	}
	for (i = 0; i < 2; i++)
		qp_connect(l->qp[i], l->qp[!i]->qp_num, gidx, &gid, port.active_mtu);
}

static void loop_close(struct loop *l)
{
	ibv_destroy_qp(l->qp[0]);
	ibv_destroy_qp(l->qp[1]);
	ibv_destroy_cq(l->cq);
}

/* Post wr on qp 0 and wait (10 s at most: the VM lane is emulated) for its completion. */
static enum ibv_wc_status post_wait(struct loop *l, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad = NULL;
	struct ibv_wc wc;
	long spins;

	wr->send_flags = IBV_SEND_SIGNALED;
	wr->wr_id = 42;
	if (ibv_post_send(l->qp[0], wr, &bad))
		return IBV_WC_GENERAL_ERR;
	for (spins = 0; spins < 100000000L; spins++) {
		int n = ibv_poll_cq(l->cq, 1, &wc);

		assert_true(n >= 0);
		if (n) {
			assert_int_equal(wc.wr_id, 42);
			return wc.status;
		}
		if (spins > 1000)
			usleep(100);
	}
	fail_msg("no completion in time");
	return IBV_WC_GENERAL_ERR;
}

static void fill(void *p, size_t len, unsigned seed)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static struct ibv_sge sge_of(const struct hp_rdma_map *m, void *p, uint32_t len)
{
	struct ibv_sge s = {(uintptr_t)p, len, 0};

	assert_int_equal(hp_rdma_lkey(m, p, len, &s.lkey), 0);
	return s;
}

static void rdma_op(struct loop *l, const struct hp_rdma_map *m, enum ibv_wr_opcode op,
		    struct ibv_sge *sg, int nsge, void *remote, size_t len)
{
	struct ibv_send_wr wr;

	memset(&wr, 0, sizeof(wr));
	wr.opcode = op;
	wr.sg_list = sg;
	wr.num_sge = nsge;
	wr.wr.rdma.remote_addr = (uintptr_t)remote;
	assert_int_equal(hp_rdma_rkey(m, remote, len, &wr.wr.rdma.rkey), 0);
	assert_int_equal(post_wait(l, &wr), IBV_WC_SUCCESS);
}

static void test_rdma_write_and_read_loop_back_between_pool_objects(void **state)
{
	struct hp_mempool *mp;
	struct hp_rdma_map *m;
	const struct hp_memzone *mz;
	struct ibv_sge sg[4];
	struct loop l;
	void *o[8];
	char *z;
	int i;

	(void)state;
	NEED_DEVICE();
	mp = hp_mempool_create("rdma_loop", 64, OBJ_SIZE, 0, 0, 0);
	mz = hp_memzone_reserve("rdma_loop_z", 4 * OBJ_SIZE, 0, 0, 0);
	assert_non_null(mp);
	assert_non_null(mz);
	z = mz->va;
	m = hp_rdma_map_create(rdma_test_pd, ACCESS);
	assert_non_null(m);
	assert_int_equal(hp_mempool_get_bulk(mp, o, 8), 0);
	loop_open(&l);

	/* WRITE object 0 into object 1 */
	fill(o[0], OBJ_SIZE, 1);
	memset(o[1], 0, OBJ_SIZE);
	sg[0] = sge_of(m, o[0], OBJ_SIZE);
	rdma_op(&l, m, IBV_WR_RDMA_WRITE, sg, 1, o[1], OBJ_SIZE);
	assert_memory_equal(o[0], o[1], OBJ_SIZE);

	/* READ object 2 into object 3 */
	fill(o[2], OBJ_SIZE, 2);
	memset(o[3], 0, OBJ_SIZE);
	sg[0] = sge_of(m, o[3], OBJ_SIZE);
	rdma_op(&l, m, IBV_WR_RDMA_READ, sg, 1, o[2], OBJ_SIZE);
	assert_memory_equal(o[2], o[3], OBJ_SIZE);

	/* WRITE objects 4..7 gathered (4 SGEs) into a zone reserved before the map */
	memset(z, 0, 4 * OBJ_SIZE);
	for (i = 0; i < 4; i++) {
		fill(o[4 + i], OBJ_SIZE, 10 + i);
		sg[i] = sge_of(m, o[4 + i], OBJ_SIZE);
	}
	rdma_op(&l, m, IBV_WR_RDMA_WRITE, sg, 4, z, 4 * OBJ_SIZE);
	for (i = 0; i < 4; i++)
		assert_memory_equal(z + i * OBJ_SIZE, o[4 + i], OBJ_SIZE);

	/* READ the zone back, scattered (4 SGEs) over objects 0..3 */
	for (i = 0; i < 4; i++) {
		memset(o[i], 0, OBJ_SIZE);
		sg[i] = sge_of(m, o[i], OBJ_SIZE);
	}
	rdma_op(&l, m, IBV_WR_RDMA_READ, sg, 4, z, 4 * OBJ_SIZE);
	for (i = 0; i < 4; i++)
		assert_memory_equal(o[i], o[4 + i], OBJ_SIZE);

	loop_close(&l);
	hp_mempool_put_bulk(mp, o, 8);
	hp_rdma_map_destroy(m);
	hp_memzone_free(mz);
	hp_mempool_free(mp);
}

/* A map built on the PD of a second context: the QPs of the first cannot use its keys. */
static void test_keys_of_a_pd_of_another_context_are_refused_by_the_device(void **state)
{
	struct ibv_context *ctx2;
	struct ibv_pd *pd2;
	struct hp_rdma_map *mine, *other;
	struct ibv_send_wr wr;
	struct ibv_sge sg;
	struct loop l;
	char *va;

	(void)state;
	NEED_DEVICE();
	ctx2 = hp_rdma_device_open(ibv_get_device_name(rdma_test_ctx->device));
	assert_non_null(ctx2);
	pd2 = ibv_alloc_pd(ctx2);
	assert_non_null(pd2);
	mine = hp_rdma_map_create(rdma_test_pd, ACCESS);
	other = hp_rdma_map_create(pd2, ACCESS);
	assert_non_null(mine);
	assert_non_null(other);
	va = mem_lists[0]->base;
	assert_ptr_equal(hp_rdma_mr_of(other, va, 64)->context, ctx2);
	loop_open(&l);
	sg = sge_of(other, va, 64);
	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.sg_list = &sg;
	wr.num_sge = 1;
	wr.wr.rdma.remote_addr = (uintptr_t)(va + 4096);
	assert_int_equal(hp_rdma_rkey(mine, va + 4096, 64, &wr.wr.rdma.rkey), 0);
	assert_int_not_equal(post_wait(&l, &wr), IBV_WC_SUCCESS);
	loop_close(&l);
	hp_rdma_map_destroy(other);
	hp_rdma_map_destroy(mine);
	ibv_dealloc_pd(pd2);
	ibv_close_device(ctx2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_device_map_registers_real_mrs_of_its_pd),
	    cmocka_unit_test(test_device_refuses_access_flags_it_lacks_with_a_sentence),
	    cmocka_unit_test(test_fork_init_after_registration_is_refused_unless_unneeded),
	    cmocka_unit_test(test_rdma_write_and_read_loop_back_between_pool_objects),
	    cmocka_unit_test(test_keys_of_a_pd_of_another_context_are_refused_by_the_device),
	};

	return cmocka_run_group_tests(tests, rdma_test_setup, rdma_test_teardown);
}
