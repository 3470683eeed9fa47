/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/rdma maps. Without a device a map is built through the fake registration path (same
 * table, same event handling, MRs invented; -Dtest_hooks=true), which covers the lookup logic.
 * With a device (the VM lane has rxe0) the same checks run on real MRs. What only a device can
 * show is in test_rdma_device.c.
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
#define N_OBJS 1024u

/* The fake registration path (lib/rdma/rdma_fake.c) is built only with -Dtest_hooks=true. */
static const struct rdma_reg_ops *fake_ops(void)
{
#ifdef HP_TEST_HOOKS
	return &rdma_fake_ops;
#else
	hp_test_skip("%s, and " NO_DEV, HP_TEST_NO_HOOKS);
	return NULL;
#endif
}

/* hp_rdma_map_create() on the device when there is one, else through the fake path. */
static struct hp_rdma_map *create_map(int access)
{
	return rdma_test_pd ? hp_rdma_map_create(rdma_test_pd, access)
			    : rdma_map_create_ops(NULL, access, fake_ops());
}

/* A map on the device when there is one, else through the fake path; *real says which. */
static struct hp_rdma_map *any_map(bool *real)
{
	struct hp_rdma_map *m;

	*real = rdma_test_pd != NULL;
	m = create_map(ACCESS);
	assert_non_null(m);
	return m;
}

/* ---- without a device ------------------------------------------------------------------- */

static void test_device_open_without_device_says_what_to_do(void **state)
{
	struct ibv_context *c;

	(void)state;
	if (rdma_test_ctx)
		hp_test_skip("this machine has an RDMA device; the no-device error cannot show");
	c = hp_rdma_device_open(NULL);
	assert_null(c);
	assert_int_equal(errno, ENODEV);
	assert_non_null(strstr(hp_last_error(), "rdma link add rxe0"));
}

static void test_create_with_null_pd_fails_with_einval(void **state)
{
	(void)state;
	errno = 0;
	assert_null(hp_rdma_map_create(NULL, ACCESS));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "ibv_alloc_pd"));
}

static void test_remote_write_without_local_write_is_refused(void **state)
{
	(void)state;
	errno = 0;
	assert_null(create_map(IBV_ACCESS_REMOTE_WRITE));
	assert_int_equal(errno, EINVAL);
	assert_null(create_map(IBV_ACCESS_ZERO_BASED));
	assert_int_equal(errno, EINVAL);
}

static void test_map_covers_every_memseg(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);

	(void)state;
	rdma_test_check_covers_every_memseg(m);
	hp_rdma_map_destroy(m);
}

static void test_touching_ranges_merge_into_one_mr_and_others_stay_apart(void **state)
{
	struct rdma_range r[] = {
	    {0x600000, 0x800000}, {0x200000, 0x400000}, {0x400000, 0x600000}, {0xa00000, 0xc00000}};

	(void)state;
	assert_int_equal(rdma_merge_ranges(r, 4), 2);
	assert_int_equal(r[0].start, 0x200000);
	assert_int_equal(r[0].end, 0x800000);
	assert_int_equal(r[1].start, 0xa00000);
	assert_int_equal(r[1].end, 0xc00000);
	assert_int_equal(rdma_merge_ranges(r, 0), 0);
}

struct objs {
	const struct hp_rdma_map *map;
	unsigned n;
};

static void check_obj(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct objs *o = arg;
	struct ibv_mr *mr = hp_rdma_mr_of(o->map, obj, OBJ_SIZE);
	uint32_t lkey = 0, rkey = 0;

	(void)mp;
	(void)idx;
	assert_non_null(mr);
	assert_true(rdma_test_mr_holds(mr, obj, OBJ_SIZE));
	assert_int_equal(hp_rdma_lkey(o->map, obj, OBJ_SIZE, &lkey), 0);
	assert_int_equal(hp_rdma_rkey(o->map, obj, OBJ_SIZE, &rkey), 0);
	assert_int_equal(lkey, mr->lkey);
	assert_int_equal(rkey, mr->rkey);
	o->n++;
}

static void test_every_pool_object_maps_to_the_mr_that_holds_it(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("rdma_objs", N_OBJS, OBJ_SIZE, 0, 0, 0);
	bool real;
	struct hp_rdma_map *m;
	struct objs o;

	(void)state;
	assert_non_null(mp);
	m = any_map(&real);
	o = (struct objs){m, 0};
	hp_mempool_obj_iter(mp, check_obj, &o);
	assert_int_equal(o.n, N_OBJS);
	hp_rdma_map_destroy(m);
	hp_mempool_free(mp);
}

static void test_memory_added_after_the_map_is_registered(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	struct hp_rdma_map_stats before, after;
	const struct hp_memzone *mz;
	size_t big = hp_mem_reserved(HP_NODE_ANY) + hp_mem_page_size();

	(void)state;
	assert_int_equal(hp_rdma_map_stats(m, &before), 0);
	/* larger than all memory there is: the zone can only come from new pages (hp_mem_grow) */
	mz = hp_memzone_reserve("rdma_late", big, 0, 0, 0);
	if (!mz) {
		hp_rdma_map_destroy(m);
		hp_test_skip("cannot grow node 0 by %zu bytes: %s", big, hp_last_error());
	}
	assert_int_equal(hp_rdma_map_stats(m, &after), 0);
	assert_true(after.n_mrs > before.n_mrs);
	assert_int_equal(after.n_failed, 0);
	assert_non_null(hp_rdma_mr_of(m, mz->va, mz->len));
	rdma_test_check_covers_every_memseg(m);
	hp_rdma_map_destroy(m);
	assert_int_equal(hp_memzone_free(mz), 0);
}

static void test_pages_that_go_back_are_deregistered_and_registered_when_they_return(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	const struct hp_memzone *mz;
	size_t big = hp_mem_reserved(HP_NODE_ANY) + hp_mem_page_size();
	uint32_t key;
	void *va;

	(void)state;
	mz = hp_memzone_reserve("rdma_back", big, 0, 0, 0);
	if (!mz) {
		hp_rdma_map_destroy(m);
		hp_test_skip("cannot grow node 0 by %zu bytes: %s", big, hp_last_error());
	}
	va = mz->va;
	assert_int_equal(hp_rdma_lkey(m, va, 64, &key), 0);
	/* the grown pages go back to the kernel: their MR goes first */
	assert_int_equal(hp_memzone_free(mz), 0);
	assert_int_equal(hp_mem_virt2iova(va), HP_BAD_IOVA);
	assert_int_equal(hp_rdma_lkey(m, va, 64, &key), -ENOENT);
	assert_null(hp_rdma_mr_of(m, va, 64));
	rdma_test_check_covers_every_memseg(m);
	/* memory grows again (those pages, or a new list where the kernel's pool is fragmented),
	 * and it is registered as it arrives */
	mz = hp_memzone_reserve("rdma_back2", big, 0, 0, 0);
	if (!mz)
		fail_msg("growing again: %s", hp_last_error());
	assert_int_equal(hp_rdma_lkey(m, mz->va, 64, &key), 0);
	assert_non_null(hp_rdma_mr_of(m, mz->va, mz->len));
	rdma_test_check_covers_every_memseg(m);
	hp_test_note("%s map", real ? "device" : "test");
	hp_rdma_map_destroy(m);
	assert_int_equal(hp_memzone_free(mz), 0);
}

/* Two 4 KiB pages, each registered on its own: a range across the boundary is in neither. */
static void test_range_straddling_two_mrs_is_not_found(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	char *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t key;
	struct ibv_mr *a, *b;

	(void)state;
	assert_true(buf != MAP_FAILED);
	memset(buf, 0, 8192);
	assert_int_equal(hp_rdma_map_register(m, buf, 4096), 0);
	assert_int_equal(hp_rdma_map_register(m, buf + 4096, 4096), 0);
	a = hp_rdma_mr_of(m, buf + 4000, 96);
	b = hp_rdma_mr_of(m, buf + 4096, 96);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_null(hp_rdma_mr_of(m, buf + 4000, 200));
	assert_int_equal(hp_rdma_lkey(m, buf + 4000, 200, &key), -ENOENT);
	assert_non_null(strstr(hp_last_error(), "not inside one MR"));
	assert_int_equal(hp_rdma_map_unregister(m, buf, 4096), 0);
	assert_int_equal(hp_rdma_map_unregister(m, buf + 4096, 4096), 0);
	hp_rdma_map_destroy(m);
	munmap(buf, 8192);
}

static void test_range_running_off_the_end_of_runtime_memory_is_not_found(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	const struct mem_list *l = mem_lists[0];
	struct ibv_mr *mr;
	char *end;

	(void)state;
	assert_non_null(l);
	mr = hp_rdma_mr_of(m, l->base, 1);
	assert_non_null(mr);
	end = (char *)mr->addr + mr->length;
	assert_non_null(hp_rdma_mr_of(m, end - 64, 64));
	assert_null(hp_rdma_mr_of(m, end - 64, 65));
	hp_rdma_map_destroy(m);
}

static void test_outside_buffer_of_any_alignment_is_registered_and_unregistered(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	char *page =
	    mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf = page + 4096 + 1001;
	uint32_t lkey, rkey;
	struct hp_rdma_map_stats st;

	(void)state;
	assert_true(page != MAP_FAILED);
	memset(page, 1, 3 * 4096);
	assert_int_equal(hp_rdma_lkey(m, buf, 100, &lkey), -ENOENT);
	assert_int_equal(hp_rdma_map_register(m, buf, 100), 0);
	assert_int_equal(hp_rdma_lkey(m, buf, 100, &lkey), 0);
	assert_int_equal(hp_rdma_rkey(m, buf, 100, &rkey), 0);
	assert_int_equal(lkey, hp_rdma_mr_of(m, buf, 100)->lkey);
	/* the rounded page is registered, the pages around it are not */
	assert_non_null(hp_rdma_mr_of(m, page + 4096, 4096));
	assert_null(hp_rdma_mr_of(m, page + 4095, 1));
	assert_null(hp_rdma_mr_of(m, page + 8192, 1));
	assert_int_equal(hp_rdma_map_stats(m, &st), 0);
	assert_int_equal(st.n_user, 1);
	/* the same page again, and runtime memory, are refused */
	assert_int_equal(hp_rdma_map_register(m, buf + 200, 10), -EEXIST);
	assert_int_equal(hp_rdma_map_register(m, mem_lists[0]->base, 64), -EEXIST);
	assert_int_equal(hp_rdma_map_unregister(m, buf, 100), 0);
	assert_null(hp_rdma_mr_of(m, buf, 100));
	assert_int_equal(hp_rdma_map_unregister(m, buf, 100), -ENOENT);
	assert_int_equal(hp_rdma_map_register(m, NULL, 100), -EINVAL);
	assert_int_equal(hp_rdma_map_register(m, buf, 0), -EINVAL);
	hp_rdma_map_destroy(m);
	munmap(page, 3 * 4096);
}

static void test_addresses_outside_every_mr_give_null(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	int on_stack = 0;
	uint32_t key;

	(void)state;
	assert_null(hp_rdma_mr_of(m, &on_stack, sizeof(on_stack)));
	assert_null(hp_rdma_mr_of(m, NULL, 1));
	assert_null(hp_rdma_mr_of(m, (void *)(1ull << 50), 1));
	assert_null(hp_rdma_mr_of(m, (void *)UINTPTR_MAX, 1));
	assert_int_equal(hp_rdma_lkey(NULL, &on_stack, 4, &key), -EINVAL);
	assert_int_equal(hp_rdma_rkey(m, mem_lists[0]->base, 4, NULL), -EINVAL);
	hp_rdma_map_destroy(m);
}

static void test_several_maps_keep_their_own_keys(void **state)
{
	bool real;
	struct hp_rdma_map *a = any_map(&real), *b = any_map(&real);
	void *va = mem_lists[0]->base;
	uint32_t ka, kb;

	(void)state;
	assert_int_equal(hp_rdma_lkey(a, va, 64, &ka), 0);
	assert_int_equal(hp_rdma_lkey(b, va, 64, &kb), 0);
	assert_int_not_equal(ka, kb);
	hp_rdma_map_destroy(a);
	/* b is untouched by a's destroy */
	assert_int_equal(hp_rdma_lkey(b, va, 64, &ka), 0);
	assert_int_equal(ka, kb);
	hp_rdma_map_destroy(b);
}

struct log_capture {
	unsigned warnings;
	char last[256];
};

static void capture_warnings(enum hp_log_level level, const char *msg, void *arg)
{
	struct log_capture *c = arg;

	if (level == HP_LOG_WARNING) {
		c->warnings++;
		snprintf(c->last, sizeof(c->last), "%s", msg);
	}
}

/* NULL and the first destroy are silent; the second does nothing but warn, naming the map. */
static void test_destroy_of_null_or_twice_does_nothing_but_warn(void **state)
{
	enum hp_log_level level = hp_log_get_level();
	struct log_capture cap = {0};
	unsigned after_null, after_first;
	char addr[32];
	bool real;
	struct hp_rdma_map *m = any_map(&real);

	(void)state;
	snprintf(addr, sizeof(addr), "%p", (void *)m);
	hp_log_set_level(HP_LOG_WARNING);
	hp_log_set_handler(capture_warnings, &cap);
	hp_rdma_map_destroy(NULL);
	after_null = cap.warnings;
	hp_rdma_map_destroy(m);
	after_first = cap.warnings;
	/* m is not on the live list any more: destroy does not read it again */
	hp_rdma_map_destroy(m);
	hp_log_set_handler(NULL, NULL);
	hp_log_set_level(level);
	assert_int_equal(after_null, 0);
	assert_int_equal(after_first, 0);
	assert_int_equal(cap.warnings, 1);
	if (!strstr(cap.last, addr) || !strstr(cap.last, "destroyed twice") ||
	    !strstr(cap.last, "ignored"))
		fail_msg("warning: %s", cap.last);
	m = any_map(&real);
	rdma_test_check_covers_every_memseg(m);
	hp_rdma_map_destroy(m);
}

static int reg_calls;

/* The probe page registers, every range after it fails as a device out of pinnable memory. */
static struct ibv_mr *failing_reg(struct ibv_pd *p, void *addr, size_t len, int access)
{
	if (reg_calls++ == 0)
		return fake_ops()->reg(p, addr, len, access);
	errno = ENOMEM;
	return NULL;
}

static void test_failed_registration_names_size_errno_and_what_to_do(void **state)
{
	const struct rdma_reg_ops failing = {"failing", failing_reg, fake_ops()->dereg};

	(void)state;
	reg_calls = 0;
	errno = 0;
	assert_null(rdma_map_create_ops(NULL, ACCESS, &failing));
	assert_int_equal(errno, ENOMEM);
	assert_true(reg_calls >= 2);
	hp_test_note("%s", hp_last_error());
	assert_non_null(strstr(hp_last_error(), "ibv_reg_mr of"));
	assert_non_null(strstr(hp_last_error(), " bytes ("));
	assert_non_null(strstr(hp_last_error(), "Cannot allocate memory"));
	assert_non_null(strstr(hp_last_error(), "ulimit -l"));
}

struct reader {
	const struct hp_rdma_map *map;
	char *va;
	size_t len;
	_Atomic bool stop;
	_Atomic unsigned long passes; /* whole passes over the range */
	unsigned long bad, lookups;
};

/* Looks up every page of a runtime range again and again: each must always be found, whole. */
static void *read_loop(void *arg)
{
	struct reader *r = arg;
	size_t off;

	while (!atomic_load(&r->stop)) {
		for (off = 0; off < r->len; off += 4096, r->lookups++) {
			struct ibv_mr *mr = hp_rdma_mr_of(r->map, r->va + off, 64);

			if (!mr || !rdma_test_mr_holds(mr, r->va + off, 64))
				r->bad++;
		}
		atomic_fetch_add(&r->passes, 1);
	}
	return NULL;
}

static void change_the_map(struct hp_rdma_map *m, char *buf)
{
	int j;

	for (j = 0; j < 64; j++)
		assert_int_equal(hp_rdma_map_register(m, buf + j * 4096, 4096), 0);
	for (j = 0; j < 64; j++)
		assert_int_equal(hp_rdma_map_unregister(m, buf + j * 4096, 4096), 0);
}

static void test_lookups_stay_right_while_the_map_changes(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	struct reader r = {m, mem_lists[0]->base, mem_lists[0]->len, false, 0, 0, 0};
	char *buf =
	    mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t;
	unsigned long first;
	int i, rounds = real ? 10 : 200; /* real registrations are slow in the emulated VM */

	(void)state;
	assert_true(buf != MAP_FAILED);
	assert_int_equal(pthread_create(&t, NULL, read_loop, &r), 0);
	/* the reader is running before the map changes, and ends two whole passes after */
	while (atomic_load(&r.passes) == 0)
		sched_yield();
	first = atomic_load(&r.passes);
	for (i = 0; i < rounds; i++)
		change_the_map(m, buf);
	assert_int_equal(hp_mem_grow(0, hp_mem_page_size()), 0);
	while (atomic_load(&r.passes) < first + 2)
		change_the_map(m, buf), i++;
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	hp_test_note("%lu lookups during %d registrations and a grow", r.lookups, i * 128);
	assert_int_equal(r.bad, 0);
	assert_true(r.lookups > 0);
	hp_rdma_map_destroy(m);
	munmap(buf, 64 * 4096);
}

/* Runs last: hp_cleanup takes the runtime MRs from a live map, leaving outside buffers; no map
 * can be made without a runtime. */
static void test_map_alive_at_cleanup_keeps_only_outside_buffers(void **state)
{
	bool real;
	struct hp_rdma_map *m = any_map(&real);
	static char buf[100];
	void *runtime = mem_lists[0]->base;
	struct hp_rdma_map_stats st;

	(void)state;
	assert_int_equal(hp_rdma_map_register(m, buf, sizeof(buf)), 0);
	assert_non_null(hp_rdma_mr_of(m, runtime, 64));
	hp_cleanup();
	assert_null(hp_rdma_mr_of(m, runtime, 64));
	assert_non_null(hp_rdma_mr_of(m, buf, sizeof(buf)));
	assert_int_equal(hp_rdma_map_stats(m, &st), 0);
	assert_int_equal(st.n_mrs, 1);
	assert_int_equal(st.n_user, 1);
	assert_int_equal(hp_rdma_map_unregister(m, buf, sizeof(buf)), 0);
	hp_rdma_map_destroy(m);
	/* and no new map without a runtime */
	errno = 0;
	assert_null(create_map(ACCESS));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_init"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_device_open_without_device_says_what_to_do),
	    cmocka_unit_test(test_create_with_null_pd_fails_with_einval),
	    cmocka_unit_test(test_remote_write_without_local_write_is_refused),
	    cmocka_unit_test(test_map_covers_every_memseg),
	    cmocka_unit_test(test_touching_ranges_merge_into_one_mr_and_others_stay_apart),
	    cmocka_unit_test(test_every_pool_object_maps_to_the_mr_that_holds_it),
	    cmocka_unit_test(test_memory_added_after_the_map_is_registered),
	    cmocka_unit_test(
		test_pages_that_go_back_are_deregistered_and_registered_when_they_return),
	    cmocka_unit_test(test_range_straddling_two_mrs_is_not_found),
	    cmocka_unit_test(test_range_running_off_the_end_of_runtime_memory_is_not_found),
	    cmocka_unit_test(test_outside_buffer_of_any_alignment_is_registered_and_unregistered),
	    cmocka_unit_test(test_addresses_outside_every_mr_give_null),
	    cmocka_unit_test(test_several_maps_keep_their_own_keys),
	    cmocka_unit_test(test_destroy_of_null_or_twice_does_nothing_but_warn),
	    cmocka_unit_test(test_lookups_stay_right_while_the_map_changes),
	    cmocka_unit_test(test_failed_registration_names_size_errno_and_what_to_do),
	    cmocka_unit_test(test_map_alive_at_cleanup_keeps_only_outside_buffers),
	};

	return cmocka_run_group_tests(tests, rdma_test_setup, rdma_test_teardown);
}
