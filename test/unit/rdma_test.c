/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by test_rdma.c and test_rdma_device.c: see rdma_test.h. */
#include <stdint.h>

#include <hugepool.h>

#include "rdma_test.h"

struct ibv_context *rdma_test_ctx;
struct ibv_pd *rdma_test_pd;

int rdma_test_setup(void **state)
{
	struct ibv_device **list;
	int n = 0;

	(void)state;
	hp_test_init(64, "--socket-mem=16");
	list = ibv_get_device_list(&n);
	if (list && n > 0) {
		rdma_test_ctx = ibv_open_device(list[0]);
		rdma_test_pd = rdma_test_ctx ? ibv_alloc_pd(rdma_test_ctx) : NULL;
	}
	if (list)
		ibv_free_device_list(list);
	if (rdma_test_pd)
		hp_test_note("maps register on %s", ibv_get_device_name(rdma_test_ctx->device));
	else
		hp_test_note("maps use the fake registration path (same table): " NO_DEV);
	return 0;
}

int rdma_test_teardown(void **state)
{
	(void)state;
	if (rdma_test_pd)
		ibv_dealloc_pd(rdma_test_pd);
	if (rdma_test_ctx)
		ibv_close_device(rdma_test_ctx);
	hp_cleanup();
	return 0;
}

bool rdma_test_mr_holds(const struct ibv_mr *mr, const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va, s = (uintptr_t)mr->addr;

	return a >= s && a + len <= s + mr->length;
}

struct cover {
	const struct hp_rdma_map *map;
	unsigned pages, runs;
};

static int check_page(const struct hp_memseg *ms, void *arg)
{
	struct cover *c = arg;
	struct ibv_mr *mr = hp_rdma_mr_of(c->map, ms->va, ms->len);

	assert_non_null(mr);
	assert_true(rdma_test_mr_holds(mr, ms->va, ms->len));
	c->pages++;
	return 0;
}

static int count_run(const struct hp_memseg *run, void *arg)
{
	(void)run;
	((struct cover *)arg)->runs++;
	return 0;
}

void rdma_test_check_covers_every_memseg(const struct hp_rdma_map *map)
{
	struct cover c = {map, 0, 0};
	struct hp_rdma_map_stats st;

	assert_int_equal(hp_memseg_walk(check_page, &c), 0);
	assert_int_equal(hp_memseg_contig_walk(count_run, &c), 0);
	assert_true(c.pages > 0);
	assert_int_equal(hp_rdma_map_stats(map, &st), 0);
	assert_true(st.n_mrs >= 1);
	assert_true(st.n_mrs <= c.runs);
	hp_test_note("%u pages in %u contiguous runs, %u MRs", c.pages, c.runs, st.n_mrs);
}
