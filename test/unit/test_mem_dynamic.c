/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory that grows and goes back: pages grown beyond --socket-mem return to the kernel as soon
 * as nothing uses them, but for a budget of free pages per node (--mem-keep) that hp_mem_trim()
 * gives back too, and come again when needed; --socket-mem pages stay; --socket-limit caps
 * growth. Checked from outside the library: HugePages_Free in /proc/meminfo and the page tables
 * in /proc/self/pagemap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "hp_test.h"
#include "heap/heap_internal.h"

#define MB ((size_t)1 << 20)

/* Every case needs hugepages to see pages come and go in /proc/meminfo. */
static void init_or_skip(unsigned need_mb, const char *opts)
{
	char buf[256];

	if (hp_test_meminfo_free() * (long)(hp_test_default_page_size() / MB) < (long)need_mb)
		hp_test_skip("needs %u MiB of free 2 MiB hugepages (./dev.sh hugepages)", need_mb);
	snprintf(buf, sizeof(buf), "%s", opts);
	if (hp_test_init_str(buf) < 0)
		fail_msg("hp_init(%s): %s", opts, hp_last_error());
}

/* Pages of [va, va + len) this process has in its page tables, from pagemap. */
static unsigned present_pages(const void *va, size_t len)
{
	size_t psz = hp_test_default_page_size();
	unsigned n = 0;

	for (size_t off = 0; off < len; off += psz)
		n += hp_test_pagemap_pfn((const char *)va + off) != 0;
	return n;
}

static void test_a_grown_zone_freed_gives_its_pages_back(void **state)
{
	const struct hp_memzone *mz;
	long before;
	void *va;

	(void)state;
	init_or_skip(320, "");
	before = hp_test_meminfo_free();
	mz = hp_memzone_reserve("z300", 300 * MB, 0, 0, 0);
	if (!mz)
		fail_msg("reserve: %s", hp_last_error());
	memset(mz->va, 1, mz->len);
	assert_true(hp_test_meminfo_free() <= before - 150);
	assert_true(hp_mem_reserved(0) >= 300 * MB);
	va = mz->va;
	if (hp_test_can_read_pfn())
		assert_int_equal(present_pages(va, 300 * MB), 150);
	assert_int_equal(hp_memzone_free(mz), 0);
	assert_int_equal(hp_mem_page_size(), 2 * MB); /* init_or_skip asked for 2 MiB pages */
	/* all but the budget went back at once; the trim gives back the budget */
	assert_int_equal(hp_test_meminfo_free(), before - HP_MEM_KEEP_DEFAULT);
	assert_int_equal(hp_mem_reserved(0), HP_MEM_KEEP_DEFAULT * 2 * MB);
	assert_int_equal(hp_mem_trim(0), HP_MEM_KEEP_DEFAULT * 2 * MB);
	assert_int_equal(hp_test_meminfo_free(), before);
	assert_int_equal(hp_mem_reserved(0), 0);
	if (hp_test_can_read_pfn())
		assert_int_equal(present_pages(va, 300 * MB), 0);
	assert_int_equal(hp_mem_virt2iova(va), HP_BAD_IOVA);
	assert_int_equal(hp_mem_trim(HP_NODE_ANY), 0); /* nothing left to give */
}

static void test_freed_pages_come_back_when_needed_with_their_iova(void **state)
{
	const struct hp_memzone *a, *b;
	long before;
	char *va;

	(void)state;
	init_or_skip(80, "--mem-keep=0");
	before = hp_test_meminfo_free();
	a = hp_memzone_reserve("a", 64 * MB, 0, 0, 0);
	if (!a)
		fail_msg("reserve: %s", hp_last_error());
	va = a->va;
	assert_int_equal(hp_memzone_free(a), 0);
	assert_int_equal(hp_test_free_back_to(before), before);
	/* the same list takes its pages again: same addresses, new frames, usable */
	b = hp_memzone_reserve("b", 64 * MB, 0, 0, 0);
	if (!b)
		fail_msg("reserve again: %s", hp_last_error());
	assert_ptr_equal(b->va, va);
	memset(b->va, 2, b->len);
	assert_true(hp_test_meminfo_free() <= before - 32);
	for (size_t off = 0; off < b->len; off += 2 * MB) {
		uint64_t iova = hp_mem_virt2iova((char *)b->va + off);

		assert_true(iova != HP_BAD_IOVA);
		if (hp_iova_mode() == HP_IOVA_PA)
			assert_true(iova == hp_mem_virt2phy((char *)b->va + off));
	}
	assert_int_equal(hp_memzone_free(b), 0);
	assert_int_equal(hp_test_free_back_to(before), before);
}

static void test_a_large_malloc_freed_gives_its_pages_back(void **state)
{
	size_t held;
	long before;
	void *p;

	(void)state;
	init_or_skip(220, "");
	before = hp_test_meminfo_free();
	p = hp_malloc(200 * MB, 0, 0);
	if (!p)
		fail_msg("hp_malloc: %s", hp_last_error());
	memset(p, 3, 200 * MB);
	assert_true(hp_test_meminfo_free() <= before - 100);
	hp_free(p);
	held = hp_mem_reserved(0);
	assert_true(held > 0 && held <= HP_MEM_KEEP_DEFAULT * hp_mem_page_size());
	assert_int_equal(hp_test_meminfo_free(), before - (long)(held / hp_mem_page_size()));
	assert_int_equal(hp_mem_trim(HP_NODE_ANY), held);
	assert_int_equal(hp_test_meminfo_free(), before);
	assert_int_equal(hp_mem_reserved(0), 0);
}

static void test_a_freed_mempool_gives_its_pages_back(void **state)
{
	struct hp_mempool *mp;
	long before;

	(void)state;
	init_or_skip(260, "--mem-keep=0");
	before = hp_test_meminfo_free();
	mp = hp_mempool_create("dyn", 100000, 2048, 0, 0, 0);
	if (!mp)
		fail_msg("create: %s", hp_last_error());
	assert_true(hp_test_meminfo_free() <= before - 100);
	hp_mempool_free(mp);
	assert_int_equal(hp_test_free_back_to(before), before);
	assert_int_equal(hp_mem_reserved(0), 0);
}

static void test_a_churn_of_zones_ends_with_nothing_held(void **state)
{
	const struct hp_memzone *mz[24] = {0};
	unsigned seed = 7;
	long before;
	char name[32];

	(void)state;
	init_or_skip(200, "--mem-keep=0");
	before = hp_test_meminfo_free();
	for (unsigned step = 0; step < 400; step++) {
		unsigned i;

		seed = seed * 1103515245u + 12345u;
		i = (seed >> 16) % 24;
		if (mz[i]) {
			assert_int_equal(hp_memzone_free(mz[i]), 0);
			mz[i] = NULL;
		} else {
			size_t len = ((seed >> 8) % 2048 + 1) * 4096; /* 4 KiB .. 8 MiB */

			snprintf(name, sizeof(name), "churn%u", i);
			mz[i] = hp_memzone_reserve(name, len, 0, 0, 0);
			if (!mz[i])
				fail_msg("reserve %zu: %s", len, hp_last_error());
			memset(mz[i]->va, (int)i, len);
		}
		assert_int_equal(mem_alloc_check(), 0);
	}
	for (unsigned i = 0; i < 24; i++)
		if (mz[i])
			assert_int_equal(hp_memzone_free(mz[i]), 0);
	assert_int_equal(hp_test_free_back_to(before), before);
	assert_int_equal(hp_mem_reserved(0), 0);
}

static void test_socket_mem_pages_stay_for_the_whole_run(void **state)
{
	const struct hp_memzone *mz;
	long after_init;

	(void)state;
	init_or_skip(100, "--socket-mem=64");
	after_init = hp_test_meminfo_free();
	mz = hp_memzone_reserve("in", 32 * MB, 0, 0, 0);
	if (!mz)
		fail_msg("reserve: %s", hp_last_error());
	assert_int_equal(hp_test_meminfo_free(), after_init); /* no growth: it fits */
	assert_int_equal(hp_memzone_free(mz), 0);
	assert_int_equal(hp_mem_reserved(0), 64 * MB);
	assert_int_equal(hp_test_meminfo_free(), after_init);
}

static void test_socket_limit_refuses_growth_and_holds_nothing(void **state)
{
	const struct hp_memzone *mz;
	size_t held;
	long before;

	(void)state;
	init_or_skip(200, "--socket-mem=16 --socket-limit=100");
	before = hp_test_meminfo_free();
	mz = hp_memzone_reserve("over", 120 * MB, 0, 0, 0);
	assert_null(mz);
	assert_int_equal(errno, ENOMEM);
	assert_non_null(strstr(hp_last_error(), "--socket-limit of 100 MiB"));
	assert_non_null(strstr(hp_last_error(), "node 0"));
	assert_int_equal(hp_test_free_back_to(before), before);
	assert_int_equal(hp_mem_reserved(0), 16 * MB);
	/* within the limit, growth works */
	mz = hp_memzone_reserve("under", 60 * MB, 0, 0, 0);
	if (!mz)
		fail_msg("reserve under the limit: %s", hp_last_error());
	assert_true(hp_mem_reserved(0) <= 100 * MB);
	assert_int_equal(hp_memzone_free(mz), 0);
	/* the budget's pages stay until trimmed; those of --socket-mem stay for good */
	held = hp_mem_reserved(0);
	assert_true(held > 16 * MB);
	assert_int_equal(hp_mem_trim(0), held - 16 * MB);
	assert_int_equal(hp_test_free_back_to(before), before);
	assert_int_equal(hp_mem_reserved(0), 16 * MB);
}

static void test_socket_mem_above_socket_limit_is_refused_at_init(void **state)
{
	char opts[] = "--socket-mem=64 --socket-limit=32";

	(void)state;
	assert_int_equal(hp_test_init_str(opts), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "--socket-limit"));
}

static void test_a_large_alignment_holds_no_more_than_a_few_pages(void **state)
{
	long before;
	void *p;

	(void)state;
	init_or_skip(200, "--mem-keep=0"); /* no budget: what stays is what the block holds */
	before = hp_test_meminfo_free();
	p = hp_malloc(100, 64 * MB, 0);
	if (!p)
		fail_msg("hp_malloc: %s", hp_last_error());
	assert_int_equal((uintptr_t)p & (64 * MB - 1), 0);
	assert_true(hp_test_meminfo_free() >= before - 2);
	hp_free(p);
	assert_int_equal(hp_test_free_back_to(before), before);
}

static void test_a_failed_contiguous_zone_holds_nothing(void **state)
{
	size_t psz = hp_test_default_page_size();
	long before;

	(void)state;
	init_or_skip(200, "");
	before = hp_test_meminfo_free();
	/* more than the machine has free: growth fails, and nothing it took stays */
	assert_null(
	    hp_memzone_reserve("huge", ((size_t)before + 8) * psz, 0, HP_MZ_IOVA_CONTIG, 0));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(hp_test_free_back_to(before), before);
	assert_int_equal(hp_mem_reserved(0), 0);
}

static size_t trimmed_event_bytes;

static void count_free_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)va, (void)arg;
	if (ev == HP_MEM_EVENT_FREE)
		trimmed_event_bytes += len;
}

static void test_free_pages_beyond_the_budget_go_back_at_once(void **state)
{
	size_t psz;
	long before;
	void *p;

	(void)state;
	init_or_skip(100, "--mem-keep=2");
	psz = hp_mem_page_size();
	before = hp_test_meminfo_free();
	p = hp_malloc(40 * MB, 0, 0);
	if (!p)
		fail_msg("hp_malloc: %s", hp_last_error());
	memset(p, 1, 40 * MB);
	assert_true(hp_test_meminfo_free() <= before - (long)(40 * MB / psz));
	hp_free(p);
	/* two pages stay for reuse, the rest went back before hp_free returned */
	assert_int_equal(hp_mem_reserved(0), 2 * psz);
	assert_int_equal(hp_test_meminfo_free(), before - 2);
	assert_int_equal(hp_mem_event_register("trim", count_free_event, NULL), 0);
	trimmed_event_bytes = 0;
	assert_int_equal(hp_mem_trim(0), 2 * psz);
	assert_int_equal(trimmed_event_bytes, 2 * psz); /* HP_MEM_EVENT_FREE fired first */
	assert_int_equal(hp_mem_event_unregister("trim"), 0);
	assert_int_equal(hp_test_meminfo_free(), before);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
}

static long faults_now(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_minflt + ru.ru_majflt;
}

/* Bursts of allocations freed again, at every size class: after one round, no page faults. */
static void test_a_steady_malloc_free_loop_faults_no_page(void **state)
{
	static const size_t sizes[] = {64, 1024, 65536, 1 << 20};
	void *b[16];
	long before = 0;

	(void)state;
	init_or_skip(100, "");
	for (unsigned round = 0; round < 201; round++) {
		if (round == 1)
			before = faults_now(); /* the first round grew the memory */
		for (unsigned s = 0; s < 4; s++) {
			for (unsigned i = 0; i < 16; i++) {
				b[i] = hp_malloc(sizes[s], 0, 0);
				if (!b[i])
					fail_msg("hp_malloc(%zu): %s", sizes[s], hp_last_error());
				*(volatile char *)b[i] = 1;
			}
			for (unsigned i = 0; i < 16; i++)
				hp_free(b[i]);
		}
	}
	assert_int_equal(faults_now() - before, 0);
	assert_true(hp_mem_reserved(0) > 0);
	assert_true(hp_mem_trim(HP_NODE_ANY) > 0);
	assert_int_equal(hp_mem_reserved(0), 0);
}

static void test_cleanup_gives_back_the_kept_pages(void **state)
{
	long before;
	void *p;

	(void)state;
	init_or_skip(60, "");
	before = hp_test_meminfo_free();
	p = hp_malloc(40 * MB, 0, 0);
	if (!p)
		fail_msg("hp_malloc: %s", hp_last_error());
	hp_free(p);
	assert_true(hp_mem_reserved(0) > 0); /* the budget's pages */
	assert_true(hp_test_meminfo_free() < before);
	assert_int_equal(hp_cleanup(), 0);
	assert_int_equal(hp_test_meminfo_free(), before);
}

static void test_trim_refuses_a_node_that_does_not_exist(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(hp_mem_trim(0), 0); /* before hp_init */
	assert_int_equal(errno, EINVAL);
	init_or_skip(20, "");
	errno = 0;
	assert_int_equal(hp_mem_trim(HP_MAX_NUMA_NODES + 3), 0);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "does not exist"));
	errno = 0;
	assert_int_equal(hp_mem_trim(-7), 0);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hp_mem_trim(HP_NODE_ANY), 0); /* nothing grown yet */
}

static void test_mem_keep_option_is_checked(void **state)
{
	struct hp_init_opts o = {.mem_keep_pages = -2};
	char *bad[] = {"t", "--mem-keep=x", NULL}, *none[] = {"t", "--mem-keep=0", NULL};

	(void)state;
	assert_int_equal(hp_init_opts(&o), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "mem_keep_pages"));
	assert_int_equal(hp_parse_args(2, bad, &o), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "--mem-keep"));
	assert_int_equal(hp_parse_args(2, none, &o), 2);
	assert_int_equal(o.mem_keep_pages, -1);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, hp_test_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_a_grown_zone_freed_gives_its_pages_back),
	    T(test_freed_pages_come_back_when_needed_with_their_iova),
	    T(test_a_large_malloc_freed_gives_its_pages_back),
	    T(test_a_freed_mempool_gives_its_pages_back),
	    T(test_a_churn_of_zones_ends_with_nothing_held),
	    T(test_socket_mem_pages_stay_for_the_whole_run),
	    T(test_socket_limit_refuses_growth_and_holds_nothing),
	    T(test_socket_mem_above_socket_limit_is_refused_at_init),
	    T(test_a_large_alignment_holds_no_more_than_a_few_pages),
	    T(test_a_failed_contiguous_zone_holds_nothing),
	    T(test_free_pages_beyond_the_budget_go_back_at_once),
	    T(test_a_steady_malloc_free_loop_faults_no_page),
	    T(test_cleanup_gives_back_the_kept_pages),
	    T(test_trim_refuses_a_node_that_does_not_exist),
	    T(test_mem_keep_option_is_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
