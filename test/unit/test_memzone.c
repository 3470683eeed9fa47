/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memzones: naming, argument checks, alignment, IOVA contiguity (checked against the kernel's
 * pagemap when frame numbers are readable), growth of a node, reuse, walks, and name races.
 * Each case starts its own runtime (hp_test_init) and stops it (hp_cleanup).
 */
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

#define SOCKET_MB 64

/* Bytes of hugetlb memory this process has mapped (HugetlbPages in /proc/self/status): unlike
 * the system's free count, no other process on the machine moves it. */
static size_t my_hugetlb_bytes(void)
{
	char line[256];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugetlbPages: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static int setup(void **state)
{
	(void)state;
	hp_test_init(SOCKET_MB, "--socket-mem=%d", SOCKET_MB);
	return 0;
}

static void test_reserved_zone_is_found_by_name_and_gone_after_free(void **state)
{
	const struct hp_memzone *mz, *found;

	(void)state;
	mz = hp_memzone_reserve("first", 1 << 20, 0, 0, 0);
	assert_non_null(mz);
	assert_string_equal(mz->name, "first");
	assert_int_equal(mz->len, 1 << 20);
	assert_int_equal(mz->node, 0);
	assert_int_equal((uintptr_t)mz->va % 64, 0);
	assert_true(mz->iova == hp_mem_virt2iova(mz->va));
	assert_true(mz->iova != HP_BAD_IOVA);
	memset(mz->va, 0xa5, mz->len); /* the whole zone is mapped and writable */
	found = hp_memzone_lookup("first");
	assert_ptr_equal(found, mz);
	assert_int_equal(hp_memzone_free(mz), 0);
	errno = 0;
	assert_null(hp_memzone_lookup("first"));
	assert_int_equal(errno, ENOENT);
	assert_true(strlen(hp_last_error()) > 0);
	assert_int_equal(hp_memzone_free(mz), -EINVAL); /* freed twice */
}

static void test_same_name_twice_fails_eexist(void **state)
{
	const struct hp_memzone *mz;

	(void)state;
	mz = hp_memzone_reserve("twice", 4096, HP_NODE_ANY, 0, 0);
	assert_non_null(mz);
	errno = 0;
	assert_null(hp_memzone_reserve("twice", 4096, HP_NODE_ANY, 0, 0));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(hp_last_error(), "twice"));
	assert_int_equal(hp_memzone_free(mz), 0);
	mz = hp_memzone_reserve("twice", 4096, HP_NODE_ANY, 0, 0); /* free gives the name back */
	assert_non_null(mz);
}

static void expect_einval(const char *name, size_t len, unsigned flags, size_t align)
{
	errno = 0;
	assert_null(hp_memzone_reserve(name, len, 0, flags, align));
	assert_int_equal(errno, EINVAL);
	assert_true(strlen(hp_last_error()) > 0);
}

static void test_bad_name_length_or_align_fails_einval(void **state)
{
	char longname[HP_MEMZONE_NAMESIZE + 1];
	const struct hp_memzone *mz;

	(void)state;
	memset(longname, 'x', HP_MEMZONE_NAMESIZE);
	longname[HP_MEMZONE_NAMESIZE] = '\0';
	expect_einval(longname, 4096, 0, 0);
	expect_einval("", 4096, 0, 0);
	expect_einval(NULL, 4096, 0, 0);
	expect_einval("zero", 0, 0, 0);
	expect_einval("align3", 4096, 0, 3);
	expect_einval("align48", 4096, 0, 48);
	expect_einval("flags", 4096, 0x80, 0);
	/* the longest allowed name works */
	longname[HP_MEMZONE_NAMESIZE - 1] = '\0';
	mz = hp_memzone_reserve(longname, 4096, 0, 0, 0);
	assert_non_null(mz);
	assert_string_equal(mz->name, longname);
	assert_ptr_equal(hp_memzone_lookup(longname), mz);
}

/* HP_MEMZONE_NAMESIZE counts the NUL: names of NAMESIZE - 1 characters fit, NAMESIZE do not. */
static void test_namesize_counts_the_terminating_nul(void **state)
{
	char name[HP_MEMZONE_NAMESIZE + 1], msg[64];
	const struct hp_memzone *mz;

	(void)state;
	assert_int_equal(sizeof(mz->name), HP_MEMZONE_NAMESIZE);
	memset(name, 'n', HP_MEMZONE_NAMESIZE);
	name[HP_MEMZONE_NAMESIZE] = '\0';
	errno = 0;
	assert_null(hp_memzone_reserve(name, 4096, 0, 0, 0));
	assert_int_equal(errno, EINVAL);
	snprintf(msg, sizeof(msg), "at most %d characters", HP_MEMZONE_NAMESIZE - 1);
	assert_non_null(strstr(hp_last_error(), msg));
	name[HP_MEMZONE_NAMESIZE - 1] = '\0';
	mz = hp_memzone_reserve(name, 4096, 0, 0, 0);
	assert_non_null(mz);
	assert_int_equal(strlen(mz->name), HP_MEMZONE_NAMESIZE - 1);
	assert_int_equal(mz->name[HP_MEMZONE_NAMESIZE - 1], '\0');
	assert_int_equal(hp_memzone_free(mz), 0);
}

/* "Too large" is ENOMEM, as for hp_malloc, with a sentence that names no internal function. */
static void test_too_large_a_zone_fails_enomem_like_hp_malloc(void **state)
{
	const struct {
		size_t len, align;
	} big[] = {{SIZE_MAX, 0}, {1ULL << 62, 0}, {4096, 1ULL << 63}};

	(void)state;
	for (unsigned i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		errno = 0;
		assert_null(hp_memzone_reserve("huge", big[i].len, 0, 0, big[i].align));
		assert_int_equal(errno, ENOMEM);
		if (strstr(hp_last_error(), "mem_range_alloc") ||
		    !strstr(hp_last_error(), "ask for less"))
			fail_msg("len %zu align %zu: '%s'", big[i].len, big[i].align,
				 hp_last_error());
	}
	errno = 0;
	assert_null(hp_malloc(SIZE_MAX, 0, 0));
	assert_int_equal(errno, ENOMEM);
	assert_null(hp_memzone_lookup("huge"));
}

static void test_nonexistent_node_fails_enodev(void **state)
{
	int nodes = numa_available() < 0 ? 1 : numa_max_node() + 1;
	int bad[] = {nodes, nodes + 7, 1000, -5};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(hp_memzone_reserve("nonode", 4096, bad[i], 0, 0));
		assert_int_equal(errno, ENODEV);
		assert_non_null(strstr(hp_last_error(), "does not exist"));
	}
	assert_null(hp_memzone_lookup("nonode"));
}

static void test_zones_honour_alignment_from_64_bytes_to_1_gib(void **state)
{
	size_t psz = hp_mem_page_size(), max_align = (size_t)1 << 30;
	const struct hp_memzone *mz;
	char name[32];

	(void)state;
	/* a 1 GiB-aligned zone may need a fresh 1 GiB of pages; only where the node has them */
	if (!hp_test_huge()) {
		max_align = (size_t)32 << 20;
		hp_test_note("--no-huge: aligns up to 32 MiB only, to spare anonymous memory");
	} else if ((uint64_t)hp_test_free_hugepages(0, psz) * psz <
		   ((size_t)1 << 30) + (64 << 20)) {
		max_align = (size_t)256 << 20;
		hp_test_note("node 0 has under 1 GiB of free hugepages: aligns up to 256 MiB only");
	}
	for (size_t align = 64; align <= max_align; align *= 4) {
		for (unsigned i = 0; i < 3; i++) {
			size_t len = (size_t[]){100, 18100, 3 << 20}[i];

			snprintf(name, sizeof(name), "al%zu-%zu", align, len);
			mz = hp_memzone_reserve(name, len, 0, 0, align);
			assert_non_null(mz);
			assert_int_equal((uintptr_t)mz->va % align, 0);
			assert_int_equal(mz->len, len);
			memset(mz->va, 1, len);
			assert_int_equal(hp_memzone_free(mz), 0);
		}
	}
}

static int longest_run(const struct hp_memseg *run, void *arg)
{
	size_t *best = arg;

	if (run->node == 0 && run->len > *best)
		*best = run->len;
	return 0;
}

/* Every page of a zone has IOVA zone->iova + offset, by the library and by pagemap. */
static void check_contig(const struct hp_memzone *mz, bool pagemap)
{
	size_t psz = hp_mem_page_size();
	uintptr_t va = (uintptr_t)mz->va;

	for (size_t off = 0; off < mz->len; off = HP_ALIGN_UP(va + off + 1, psz) - va) {
		const char *p = (const char *)mz->va + off;

		assert_true(hp_mem_virt2iova(p) == mz->iova + off);
		if (pagemap) {
			uint64_t pfn = hp_test_pagemap_pfn(p);

			assert_true(pfn != 0);
			assert_true(pfn * 4096 + ((uintptr_t)p & 4095) == mz->iova + off);
		}
	}
	assert_true(hp_mem_virt2iova((const char *)mz->va + mz->len - 1) == mz->iova + mz->len - 1);
}

static void test_iova_contig_zones_are_contiguous_page_by_page(void **state)
{
	bool pagemap = hp_iova_mode() == HP_IOVA_PA && hp_test_can_read_pfn();
	size_t psz = hp_mem_page_size(), run = 0, len, before;
	const struct hp_memzone *mz;

	(void)state;
	if (!pagemap)
		hp_test_note("IOVA mode %s%s: pagemap cross-check off, library IOVAs checked only",
			     hp_iova_mode() == HP_IOVA_PA ? "PA" : "VA",
			     hp_test_can_read_pfn() ? "" : ", frame numbers hidden");
	hp_memseg_contig_walk(longest_run, &run);
	assert_true(run >= psz);
	if (run < 2 * psz)
		hp_test_note(
		    "the longest IOVA run on node 0 is one page now: no zone crosses a page");
	/* the longest run reserved up front (at most 64 MiB) is found without growing */
	len = run > ((size_t)64 << 20) ? (size_t)64 << 20 : run;
	before = hp_mem_reserved(0);
	mz = hp_memzone_reserve("contig", len - 100, 0, HP_MZ_IOVA_CONTIG, psz);
	if (!mz)
		fail_msg("zone of the longest run, %zu bytes: %s", len - 100, hp_last_error());
	assert_int_equal(mz->flags, HP_MZ_IOVA_CONTIG);
	assert_int_equal(hp_mem_reserved(0), before);
	check_contig(mz, pagemap);
	/* a small one, anywhere */
	mz = hp_memzone_reserve("contig-small", psz / 2 + 64, 0, HP_MZ_IOVA_CONTIG, 0);
	assert_non_null(mz);
	check_contig(mz, pagemap);
}

static void test_zones_within_socket_mem_use_it_without_growing(void **state)
{
	size_t before = hp_mem_reserved(0);
	const struct hp_memzone *a, *b;

	(void)state;
	/* --socket-mem reached the allocator: half of it fits twice over without a grow */
	a = hp_memzone_reserve("half1", before / 4, 0, 0, 0);
	b = hp_memzone_reserve("half2", before / 4, 0, 0, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(hp_mem_reserved(0), before);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), before);
}

static void test_zone_bigger_than_reserved_up_front_grows_the_node(void **state)
{
	size_t before = hp_mem_reserved(0), mine = my_hugetlb_bytes();
	const struct hp_memzone *mz;

	(void)state;
	assert_true(before >= (size_t)SOCKET_MB << 20);
	mz = hp_memzone_reserve("big", before + (4 << 20), 0, 0, 0);
	if (!mz)
		fail_msg("growing zone: %s", hp_last_error());
	assert_true(hp_mem_reserved(0) >= before + (4 << 20));
	assert_int_equal(hp_mem_node_of(mz->va), 0);
	assert_int_equal(hp_mem_node_of((char *)mz->va + mz->len - 1), 0);
	memset(mz->va, 7, mz->len);
	if (hp_test_huge()) /* the kernel agrees: this process maps that many more hugepages */
		assert_true(my_hugetlb_bytes() >= mine + (hp_mem_reserved(0) - before));
}

static size_t impossible_len(void)
{
	size_t psz = hp_mem_page_size();
	long pages = sysconf(_SC_PHYS_PAGES);

	if (hp_test_huge())
		return hp_mem_reserved(
			   HP_NODE_ANY) + /* twice what the pool has free: others may free */
		       ((size_t)hp_test_free_hugepages(0, psz) + 1) * psz * 2;
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE) * 2; /* twice the RAM */
}

static void test_contig_zone_longer_than_any_run_fails_enomem_leaving_nothing(void **state)
{
	size_t before = hp_mem_reserved(0), mine = my_hugetlb_bytes();
	size_t len = impossible_len();

	(void)state;
	errno = 0;
	assert_null(hp_memzone_reserve("huge", len, 0, HP_MZ_IOVA_CONTIG, 0));
	assert_int_equal(errno, ENOMEM);
	hp_test_note("error: %s", hp_last_error());
	assert_non_null(strstr(hp_last_error(), "node 0"));
	assert_non_null(strstr(hp_last_error(), "IOVA-contiguous"));
	assert_int_equal(hp_mem_reserved(0), before);
	assert_int_equal(my_hugetlb_bytes(), mine);
	assert_null(hp_memzone_lookup("huge"));
	assert_int_equal(errno, ENOENT);
	/* the same without the flag: still too much for the node */
	assert_null(hp_memzone_reserve("huge", len, 0, 0, 0));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(hp_mem_reserved(0), before);
	assert_int_equal(my_hugetlb_bytes(), mine);
}

static void test_free_then_reserve_reuses_the_space(void **state)
{
	const struct hp_memzone *mz;
	size_t reserved;
	void *first;

	(void)state;
	mz = hp_memzone_reserve("reuse", 8 << 20, 0, 0, 0);
	assert_non_null(mz);
	first = mz->va;
	reserved = hp_mem_reserved(0);
	assert_int_equal(hp_memzone_free(mz), 0);
	for (int i = 0; i < 200; i++) {
		mz = hp_memzone_reserve("reuse", 8 << 20, 0, 0, 0);
		assert_non_null(mz);
		assert_ptr_equal(mz->va, first); /* first fit finds the same hole */
		assert_int_equal(hp_memzone_free(mz), 0);
	}
	assert_int_equal(hp_mem_reserved(0), reserved);
}

#define MANY 600

struct seen {
	unsigned count[MANY];
	unsigned others;
};

static int count_zone(const struct hp_memzone *mz, void *arg)
{
	struct seen *s = arg;
	unsigned i;

	if (sscanf(mz->name, "many%u", &i) == 1 && i < MANY)
		s->count[i]++;
	else
		s->others++;
	return 0;
}

static int cmp_zone(const void *a, const void *b)
{
	const struct hp_memzone *x = *(const struct hp_memzone *const *)a;
	const struct hp_memzone *y = *(const struct hp_memzone *const *)b;

	return (uintptr_t)x->va < (uintptr_t)y->va ? -1 : (uintptr_t)x->va > (uintptr_t)y->va;
}

static void test_many_zones_are_each_walked_once_and_never_overlap(void **state)
{
	static const struct hp_memzone *mz[MANY], *sorted[MANY];
	static struct seen seen;
	char name[32];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	for (unsigned i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many%u", i);
		mz[i] = hp_memzone_reserve(name, 64 + (i % 17) * 1000, 0, 0, 64 << (i % 5));
		assert_non_null(mz[i]);
		memset(mz[i]->va, (int)i, mz[i]->len);
	}
	assert_int_equal(hp_memzone_walk(count_zone, &seen), 0);
	for (unsigned i = 0; i < MANY; i++)
		assert_int_equal(seen.count[i], 1);
	memcpy(sorted, mz, sizeof(mz));
	qsort(sorted, MANY, sizeof(sorted[0]), cmp_zone);
	for (unsigned i = 1; i < MANY; i++)
		assert_true((uintptr_t)sorted[i - 1]->va + sorted[i - 1]->len <=
			    (uintptr_t)sorted[i]->va);
	for (unsigned i = 0; i < MANY; i++) { /* nobody wrote over anybody */
		const unsigned char *p = mz[i]->va;

		for (size_t b = 0; b < mz[i]->len; b++)
			if (p[b] != (unsigned char)i)
				fail_msg("zone %u byte %zu changed", i, b);
		assert_int_equal(hp_memzone_free(mz[i]), 0);
	}
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(hp_memzone_walk(count_zone, &seen), 0);
	for (unsigned i = 0; i < MANY; i++)
		assert_int_equal(seen.count[i], 0);
}

static int stop_at_second(const struct hp_memzone *mz, void *arg)
{
	int *n = arg;

	(void)mz;
	return ++*n == 2 ? 42 : 0;
}

static void test_walk_stops_at_the_first_nonzero_return(void **state)
{
	int n = 0;

	(void)state;
	assert_non_null(hp_memzone_reserve("w1", 64, 0, 0, 0));
	assert_non_null(hp_memzone_reserve("w2", 64, 0, 0, 0));
	assert_non_null(hp_memzone_reserve("w3", 64, 0, 0, 0));
	assert_int_equal(hp_memzone_walk(stop_at_second, &n), 42);
	assert_int_equal(n, 2);
}

#define RACE_NAMES 200
#define RACE_THREADS 4

static _Atomic unsigned race_wins[RACE_NAMES];

static void *race(void *arg)
{
	char name[32];

	(void)arg;
	for (unsigned i = 0; i < RACE_NAMES; i++) {
		snprintf(name, sizeof(name), "race%u", i);
		if (hp_memzone_reserve(name, 256 + i, 0, 0, 0))
			race_wins[i]++;
		else if (errno != EEXIST)
			return (void *)1;
	}
	return NULL;
}

static void test_threads_racing_for_a_name_get_it_exactly_once(void **state)
{
	pthread_t t[RACE_THREADS];
	void *ret;

	(void)state;
	for (unsigned i = 0; i < RACE_NAMES; i++)
		race_wins[i] = 0;
	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, NULL), 0);
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	for (unsigned i = 0; i < RACE_NAMES; i++)
		assert_int_equal(race_wins[i], 1);
}

static void test_reserve_before_init_fails_einval(void **state)
{
	(void)state;
	hp_cleanup();
	errno = 0;
	assert_null(hp_memzone_reserve("early", 64, 0, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_init"));
}

static void test_zones_are_forgotten_after_cleanup_and_reinit(void **state)
{
	(void)state;
	assert_non_null(hp_memzone_reserve("survivor", 4096, 0, 0, 0));
	hp_cleanup();
	hp_test_init(SOCKET_MB, "--socket-mem=%d", SOCKET_MB);
	assert_null(hp_memzone_lookup("survivor"));
	assert_non_null(hp_memzone_reserve("survivor", 4096, 0, 0, 0));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, hp_test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_reserved_zone_is_found_by_name_and_gone_after_free),
	    T(test_same_name_twice_fails_eexist),
	    T(test_bad_name_length_or_align_fails_einval),
	    T(test_namesize_counts_the_terminating_nul),
	    T(test_nonexistent_node_fails_enodev),
	    T(test_too_large_a_zone_fails_enomem_like_hp_malloc),
	    T(test_zones_honour_alignment_from_64_bytes_to_1_gib),
	    T(test_iova_contig_zones_are_contiguous_page_by_page),
	    T(test_zones_within_socket_mem_use_it_without_growing),
	    T(test_zone_bigger_than_reserved_up_front_grows_the_node),
	    T(test_contig_zone_longer_than_any_run_fails_enomem_leaving_nothing),
	    T(test_free_then_reserve_reuses_the_space),
	    T(test_many_zones_are_each_walked_once_and_never_overlap),
	    T(test_walk_stops_at_the_first_nonzero_return),
	    T(test_threads_racing_for_a_name_get_it_exactly_once),
	    T(test_reserve_before_init_fails_einval),
	    T(test_zones_are_forgotten_after_cleanup_and_reinit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
