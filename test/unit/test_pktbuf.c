/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet buffers: layout and IOVA of each buffer, the data window, reference counts, chains. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define N_BUFS 256
#define ROOM (2048 + HP_PKTBUF_HEADROOM)

static struct hp_mempool *pool;

/* One buffer, or the test stops here (cmocka's fail is not known to return never). */
static struct hp_pktbuf *take(void)
{
	struct hp_pktbuf *m = hp_pktbuf_alloc(pool);

	if (!m) {
		fail_msg("hp_pktbuf_alloc: pool empty");
		abort();
	}
	return m;
}

static int setup(void **state)
{
	(void)state;
	hp_test_init(64, "--socket-mem=64");
	pool = hp_pktbuf_pool_create("pkt", N_BUFS, 32, 16, ROOM, 0);
	if (!pool)
		fail_msg("hp_pktbuf_pool_create: %s", hp_last_error());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hp_mempool_free(pool);
	hp_cleanup();
	return 0;
}

static void test_fresh_buffer_is_empty_with_headroom(void **state)
{
	struct hp_pktbuf *m = take();

	(void)state;
	assert_non_null(m);
	assert_int_equal(m->refcnt, 1);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(hp_pktbuf_headroom(m), HP_PKTBUF_HEADROOM);
	assert_int_equal(hp_pktbuf_tailroom(m), ROOM - HP_PKTBUF_HEADROOM);
	assert_ptr_equal(m->pool, pool);
	assert_ptr_equal(hp_pktbuf_priv(m), (char *)m + sizeof(*m));
	assert_ptr_equal(m->buf_addr, (char *)m + sizeof(*m) + 16);
	hp_pktbuf_free(m);
}

static int check_iova(const struct hp_pktbuf *m)
{
	/* the whole buffer must be addressable from buf_iova: check its first and last byte */
	const char *last = (const char *)m->buf_addr + m->buf_len - 1;

	return m->buf_iova == hp_mem_virt2iova(m->buf_addr) &&
	       hp_mem_virt2iova(last) == m->buf_iova + m->buf_len - 1;
}

static void test_every_buffer_knows_its_iova(void **state)
{
	struct hp_pktbuf *bufs[N_BUFS];
	unsigned i;

	(void)state;
	assert_int_equal(hp_pktbuf_alloc_bulk(pool, bufs, N_BUFS), 0);
	for (i = 0; i < N_BUFS; i++) {
		assert_true(check_iova(bufs[i]));
		assert_int_equal(hp_pktbuf_data_iova(bufs[i]),
				 hp_mem_virt2iova(hp_pktbuf_mtod(bufs[i])));
	}
	assert_int_equal(hp_pktbuf_alloc_bulk(pool, bufs + N_BUFS - 1, 1), -ENOENT);
	for (i = 0; i < N_BUFS; i++)
		hp_pktbuf_free(bufs[i]);
	assert_int_equal(hp_mempool_avail_count(pool), N_BUFS);
}

static void test_append_prepend_and_adj_move_the_window(void **state)
{
	struct hp_pktbuf *m = take();
	char *p;

	(void)state;
	p = hp_pktbuf_append(m, 100);
	assert_ptr_equal(p, hp_pktbuf_mtod(m));
	memset(p, 'a', 100);
	p = hp_pktbuf_prepend(m, 14);
	assert_non_null(p);
	assert_int_equal(m->data_len, 114);
	assert_int_equal(m->pkt_len, 114);
	assert_int_equal(hp_pktbuf_headroom(m), HP_PKTBUF_HEADROOM - 14);
	assert_int_equal(((char *)hp_pktbuf_mtod(m))[14], 'a');
	assert_null(hp_pktbuf_prepend(m, HP_PKTBUF_HEADROOM)); /* too much: nothing changes */
	assert_int_equal(m->data_len, 114);
	assert_null(hp_pktbuf_append(m, ROOM));
	assert_int_equal(m->pkt_len, 114);
	p = hp_pktbuf_adj(m, 14);
	assert_int_equal(*p, 'a');
	assert_int_equal(m->pkt_len, 100);
	assert_null(hp_pktbuf_adj(m, 101));
	hp_pktbuf_free(m);
}

static void test_shared_buffer_returns_at_last_reference(void **state)
{
	unsigned before = hp_mempool_avail_count(pool);
	struct hp_pktbuf *m = take();

	(void)state;
	assert_int_equal(hp_pktbuf_refcnt_update(m, 2), 3);
	hp_pktbuf_free(m);
	hp_pktbuf_free(m);
	assert_int_equal(hp_mempool_avail_count(pool), before - 1);
	hp_pktbuf_free(m);
	assert_int_equal(hp_mempool_avail_count(pool), before);
}

static void test_freeing_a_chain_returns_every_segment(void **state)
{
	unsigned before = hp_mempool_avail_count(pool);
	struct hp_pktbuf *a = take(), *b = take();
	struct hp_pktbuf *c = take();

	(void)state;
	hp_pktbuf_append(a, 10);
	hp_pktbuf_append(b, 20);
	hp_pktbuf_append(c, 30);
	assert_int_equal(hp_pktbuf_chain(a, b), 0);
	assert_int_equal(hp_pktbuf_chain(a, c), 0);
	assert_int_equal(a->nb_segs, 3);
	assert_int_equal(a->pkt_len, 60);
	assert_ptr_equal(hp_pktbuf_last(a), c);
	/* appending to a chain grows its last segment */
	assert_ptr_equal(hp_pktbuf_append(a, 5), (char *)hp_pktbuf_mtod(c) + 30);
	assert_int_equal(c->data_len, 35);
	assert_int_equal(a->pkt_len, 65);
	assert_int_equal(hp_mempool_avail_count(pool), before - 3);
	hp_pktbuf_free(a);
	assert_int_equal(hp_mempool_avail_count(pool), before);
}

static void test_bad_pool_arguments_say_why(void **state)
{
	(void)state;
	assert_null(hp_pktbuf_pool_create("odd", 64, 0, 7, ROOM, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "multiple of 8"));
	assert_null(hp_pktbuf_pool_create("noroom", 64, 0, 0, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(hp_pktbuf_pool_create("pkt", 64, 0, 0, ROOM, 0)); /* name taken */
	assert_int_equal(errno, EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_buffer_is_empty_with_headroom),
	    cmocka_unit_test(test_every_buffer_knows_its_iova),
	    cmocka_unit_test(test_append_prepend_and_adj_move_the_window),
	    cmocka_unit_test(test_shared_buffer_returns_at_last_reference),
	    cmocka_unit_test(test_freeing_a_chain_returns_every_segment),
	    cmocka_unit_test(test_bad_pool_arguments_say_why),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
