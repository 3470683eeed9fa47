/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The buddy allocator of lib/mem on its own, over a mapping of this test's: random sequences of
 * allocations (sizes, alignments, a fit that refuses places) and frees against a shadow bitmap,
 * with every invariant checked after each step (lists, alignment, maximal merging, counts), no
 * two blocks overlapping, and everything merging back to the starting blocks at the end.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hp_test.h"
#include "heap/buddy.h"

#define UNITS 4096 /* 16 MiB */
#define LEN ((size_t)UNITS * BUDDY_UNIT)

static void *map_area(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void test_an_area_is_one_block_per_power_of_two_and_one_run(void **state)
{
	/* 3 MiB + 12 KiB: one order-9 block, one order-8, one order-1, one order-0 */
	size_t units = 512 + 256 + 3, counts[BUDDY_ORDERS] = {0};
	void *area = map_area(units * BUDDY_UNIT);
	struct buddy b;

	(void)state;
	assert_int_equal(buddy_init(&b, area, units * BUDDY_UNIT), 0);
	assert_int_equal(b.free_units, 0);
	buddy_free(&b, (uintptr_t)area, units * BUDDY_UNIT);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.free_units, units);
	buddy_stats(&b, counts, BUDDY_ORDERS);
	assert_int_equal(counts[9], 1);
	assert_int_equal(counts[8], 1);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[2] + counts[3] + counts[10], 0);
	/* no block holds all of it, but the run of adjacent blocks does */
	assert_int_equal(buddy_alloc(&b, units * BUDDY_UNIT, 0, NULL, NULL), (uintptr_t)area);
	assert_int_equal(b.free_units, 0);
	buddy_free(&b, (uintptr_t)area, units * BUDDY_UNIT);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.free_units, units);
	buddy_fini(&b);
	munmap(area, units * BUDDY_UNIT);
}

static void test_an_allocation_takes_exactly_its_units(void **state)
{
	void *area = map_area(LEN);
	struct buddy b;
	uintptr_t p, q;

	(void)state;
	assert_int_equal(buddy_init(&b, area, LEN), 0);
	buddy_free(&b, (uintptr_t)area, LEN);
	/* 300 units round to a 512-unit block, and the 212 units past them are free again */
	p = buddy_alloc(&b, 300 * BUDDY_UNIT, 0, NULL, NULL);
	assert_true(p != 0);
	assert_int_equal(b.free_units, UNITS - 300);
	assert_int_equal(buddy_check(&b), 0);
	/* one byte is one unit */
	q = buddy_alloc(&b, 1, 0, NULL, NULL);
	assert_true(q != 0);
	assert_int_equal(b.free_units, UNITS - 301);
	buddy_free(&b, p, 300 * BUDDY_UNIT);
	buddy_free(&b, q, 1);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.free_units, UNITS);
	assert_int_equal(b.n_free[12], 1); /* merged back to one 16 MiB block */
	buddy_fini(&b);
	munmap(area, LEN);
}

static void test_a_large_alignment_costs_no_more_than_the_size(void **state)
{
	void *area = map_area(LEN + ((size_t)8 << 20));
	uintptr_t base = ((uintptr_t)area + ((8 << 20) - 1)) & ~(uintptr_t)((8 << 20) - 1);
	struct buddy b;
	uintptr_t p;

	(void)state;
	assert_int_equal(buddy_init(&b, (void *)base, LEN), 0);
	buddy_free(&b, base, LEN);
	p = buddy_alloc(&b, 100, (size_t)4 << 20, NULL, NULL);
	assert_true(p != 0);
	assert_int_equal(p & (((size_t)4 << 20) - 1), 0);
	assert_int_equal(b.free_units, UNITS - 1);
	/* more than the area's size: nothing */
	assert_int_equal(buddy_alloc(&b, LEN + 1, 0, NULL, NULL), 0);
	buddy_free(&b, p, 100);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.free_units, UNITS);
	buddy_fini(&b);
	munmap(area, LEN + ((size_t)8 << 20));
}

/* A fit that refuses any place whose first unit is even: the allocator must look further. */
static uintptr_t fit_odd(uintptr_t start, uintptr_t end, size_t len, size_t align, void *arg)
{
	uintptr_t base = *(uintptr_t *)arg, p;

	for (p = start; p + len <= end; p += align)
		if (((p - base) / BUDDY_UNIT) & 1)
			return p;
	return 0;
}

static void test_a_fit_that_refuses_places_is_asked_until_one_fits(void **state)
{
	void *area = map_area(LEN);
	uintptr_t base = (uintptr_t)area, p;
	struct buddy b;

	(void)state;
	assert_int_equal(buddy_init(&b, area, LEN), 0);
	buddy_free(&b, base, LEN);
	p = buddy_alloc(&b, 2 * BUDDY_UNIT, 0, fit_odd, &base);
	assert_true(p != 0);
	assert_int_equal(((p - base) / BUDDY_UNIT) & 1, 1);
	assert_int_equal(buddy_check(&b), 0);
	buddy_free(&b, p, 2 * BUDDY_UNIT);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.n_free[12], 1);
	buddy_fini(&b);
	munmap(area, LEN);
}

static void test_large_free_blocks_can_be_taken_out_and_added_back(void **state)
{
	void *area = map_area(LEN);
	uintptr_t p, va;
	struct buddy b;
	size_t len, taken = 0;

	(void)state;
	assert_int_equal(buddy_init(&b, area, LEN), 0);
	buddy_free(&b, (uintptr_t)area, LEN);
	p = buddy_alloc(&b, 3 * BUDDY_UNIT, 0, NULL, NULL);
	/* with 3 units used, every 2 MiB (order 9) region but the first is free whole */
	while (buddy_take_large(&b, 9, &va, &len)) {
		assert_int_equal((va - (uintptr_t)area) % (512 * BUDDY_UNIT), 0);
		taken += len / BUDDY_UNIT;
	}
	assert_int_equal(taken, UNITS - 512);
	assert_int_equal(b.free_units, 512 - 3);
	assert_int_equal(buddy_check(&b), 0);
	/* add them back: all merges again once p is freed */
	buddy_free(&b, (uintptr_t)area + 512 * BUDDY_UNIT, LEN - 512 * BUDDY_UNIT);
	buddy_free(&b, p, 3 * BUDDY_UNIT);
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.n_free[12], 1);
	buddy_fini(&b);
	munmap(area, LEN);
}

/* Whether any free block on the lists holds units at an aligned place, looked up directly. */
static bool some_block_holds(const struct buddy *b, size_t units, size_t align)
{
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		for (const struct buddy_link *l = b->free[k].next; l != &b->free[k]; l = l->next) {
			uintptr_t end = (uintptr_t)l + (((size_t)1 << k) << BUDDY_UNIT_SHIFT);
			uintptr_t p = ((uintptr_t)l + align - 1) & ~(uintptr_t)(align - 1);

			if (p + units * BUDDY_UNIT <= end)
				return true;
		}
	return false;
}

struct live {
	uintptr_t p;
	size_t units;
};

static void test_random_sequences_match_a_shadow_model(void **state)
{
	void *area = map_area(LEN);
	uintptr_t base = (uintptr_t)area;
	unsigned char *shadow = calloc(UNITS, 1); /* 1 = allocated */
	struct live live[256];
	unsigned n_live = 0, step, seed = 12345;
	size_t used = 0;
	struct buddy b;

	(void)state;
	assert_non_null(shadow);
	assert_int_equal(buddy_init(&b, area, LEN), 0);
	buddy_free(&b, base, LEN);
	for (step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		if (n_live < 256 && (n_live == 0 || (seed >> 16) % 3 != 0)) {
			size_t units =
			    1 + ((seed >> 8) % 4 == 0 ? (seed >> 12) % 600 : (seed >> 12) % 9);
			size_t align = (size_t)BUDDY_UNIT << ((seed >> 20) % 6);
			uintptr_t p =
			    buddy_alloc(&b, units * BUDDY_UNIT - (seed & 7), align, NULL, NULL);

			if (!p) {
				/* refused: no free block may hold it */
				assert_false(some_block_holds(&b, units, align));
				continue;
			}
			assert_int_equal(p & (align - 1), 0);
			assert_true(p >= base && p + units * BUDDY_UNIT <= base + LEN);
			for (size_t u = (p - base) / BUDDY_UNIT, i = 0; i < units; i++) {
				assert_int_equal(shadow[u + i], 0); /* no overlap */
				shadow[u + i] = 1;
			}
			memset((void *)p, 0xa5,
			       units * BUDDY_UNIT); /* the caller owns every byte */
			live[n_live++] = (struct live){p, units};
			used += units;
		} else {
			unsigned i = (seed >> 4) % n_live;

			for (size_t u = (live[i].p - base) / BUDDY_UNIT, j = 0; j < live[i].units;
			     j++)
				shadow[u + j] = 0;
			buddy_free(&b, live[i].p, live[i].units * BUDDY_UNIT);
			used -= live[i].units;
			live[i] = live[--n_live];
		}
		assert_int_equal(b.free_units, UNITS - used);
		if (step % 64 == 0 || n_live == 0)
			assert_int_equal(buddy_check(&b), 0);
	}
	while (n_live) {
		n_live--;
		buddy_free(&b, live[n_live].p, live[n_live].units * BUDDY_UNIT);
	}
	assert_int_equal(buddy_check(&b), 0);
	assert_int_equal(b.free_units, UNITS);
	assert_int_equal(b.n_free[12], 1);
	buddy_fini(&b);
	free(shadow);
	munmap(area, LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_an_area_is_one_block_per_power_of_two_and_one_run),
	    cmocka_unit_test(test_an_allocation_takes_exactly_its_units),
	    cmocka_unit_test(test_a_large_alignment_costs_no_more_than_the_size),
	    cmocka_unit_test(test_a_fit_that_refuses_places_is_asked_until_one_fits),
	    cmocka_unit_test(test_large_free_blocks_can_be_taken_out_and_added_back),
	    cmocka_unit_test(test_random_sequences_match_a_shadow_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
