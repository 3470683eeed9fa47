/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The buddy allocator of one memseg list (see buddy.h for the invariants). Offsets are in units
 * from the list's base; a block of order k at unit u has its buddy at u ^ 2^k.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

#define BUDDY_FREE 0x80u
#define ORDER_MASK 0x7fu

static struct buddy_link *link_at(const struct buddy *b, size_t u)
{
	return (struct buddy_link *)(b->base + (u << BUDDY_UNIT_SHIFT));
}

static size_t unit_of(const struct buddy *b, const struct buddy_link *l)
{
	return ((uintptr_t)l - b->base) >> BUDDY_UNIT_SHIFT;
}

static void list_push(struct buddy *b, size_t u, unsigned k)
{
	struct buddy_link *head = &b->free[k], *l = link_at(b, u);

	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
	b->state[u] = (uint8_t)(BUDDY_FREE | k);
	b->n_free[k]++;
	b->free_units += (size_t)1 << k;
}

static void list_del(struct buddy *b, size_t u, unsigned k)
{
	struct buddy_link *l = link_at(b, u);

	l->prev->next = l->next;
	l->next->prev = l->prev;
	b->state[u] = 0;
	b->n_free[k]--;
	b->free_units -= (size_t)1 << k;
}

static bool is_free_head(const struct buddy *b, size_t u, unsigned k)
{
	return u < b->n_units && b->state[u] == (BUDDY_FREE | k);
}

int buddy_init(struct buddy *b, void *base, size_t len)
{
	unsigned k;

	memset(b, 0, sizeof(*b));
	b->base = (uintptr_t)base;
	b->n_units = len >> BUDDY_UNIT_SHIFT;
	if (!b->n_units)
		return -EINVAL;
	while (b->max_order + 1 < BUDDY_ORDERS && ((size_t)1 << (b->max_order + 1)) <= b->n_units)
		b->max_order++;
	b->state = calloc(b->n_units, 1);
	if (!b->state)
		return -ENOMEM;
	for (k = 0; k < BUDDY_ORDERS; k++)
		b->free[k].next = b->free[k].prev = &b->free[k];
	return 0;
}

void buddy_fini(struct buddy *b)
{
	free(b->state);
	memset(b, 0, sizeof(*b));
}

/* Free one block, merging upwards while its buddy is a free block of the same order. */
static void free_block(struct buddy *b, size_t u, unsigned k)
{
	while (k < b->max_order) {
		size_t buddy = u ^ ((size_t)1 << k);

		if (!is_free_head(b, buddy, k) || buddy + ((size_t)1 << k) > b->n_units)
			break;
		list_del(b, buddy, k);
		u &= ~((size_t)1 << k);
		k++;
	}
	list_push(b, u, k);
}

/* Free units [u, u + n): cut into the largest aligned blocks, each merged as far as it goes. */
static void free_units(struct buddy *b, size_t u, size_t n)
{
	while (n) {
		unsigned k = 0;

		while (k < b->max_order && !(u & ((size_t)1 << k)) && ((size_t)2 << k) <= n)
			k++;
		free_block(b, u, k);
		u += (size_t)1 << k;
		n -= (size_t)1 << k;
	}
}

void buddy_free(struct buddy *b, uintptr_t va, size_t len)
{
	size_t u = (va - b->base) >> BUDDY_UNIT_SHIFT;
	size_t n = (len + BUDDY_UNIT - 1) >> BUDDY_UNIT_SHIFT;

	free_units(b, u, n);
}

bool buddy_is_free(const struct buddy *b, uintptr_t va)
{
	size_t u = (va - b->base) >> BUDDY_UNIT_SHIFT;
	unsigned k;

	if (va < b->base || u >= b->n_units)
		return false;
	/* a free block holding u starts at u with its low k bits cleared, for some order k */
	for (k = 0; k <= b->max_order; k++) {
		size_t head = u & ~(((size_t)1 << k) - 1);

		if ((b->state[head] & BUDDY_FREE) && (b->state[head] & ORDER_MASK) >= k)
			return true;
	}
	return false;
}

static uintptr_t fit_aligned(uintptr_t start, uintptr_t end, size_t len, size_t align, void *arg)
{
	uintptr_t p = (start + align - 1) & ~(uintptr_t)(align - 1);

	(void)arg;
	return p >= start && p <= end && end - p >= len ? p : 0;
}

/* Smallest order whose block holds n units. */
static unsigned order_for(size_t n)
{
	unsigned k = 0;

	while (((size_t)1 << k) < n)
		k++;
	return k;
}

/* Take [p_unit, p_unit + n) out of the free units [u, end): every block there leaves its list. */
static void carve(struct buddy *b, size_t u, size_t end, size_t p_unit, size_t n)
{
	size_t v = u;

	while (v < end) {
		unsigned k = b->state[v] & ORDER_MASK;

		list_del(b, v, k);
		v += (size_t)1 << k;
	}
	if (p_unit > u)
		free_units(b, u, p_unit - u);
	if (p_unit + n < end)
		free_units(b, p_unit + n, end - (p_unit + n));
}

/*
 * A request no single block holds may still fit in a run of adjacent free blocks that are not
 * buddies of each other (a list of 68 MiB is a 64 MiB block and a 4 MiB one): scan for runs.
 */
static uintptr_t alloc_from_runs(struct buddy *b, size_t n, size_t align, buddy_fit_fn fit,
				 void *arg)
{
	size_t u = 0;

	while (u < b->n_units) {
		size_t start = u;
		uintptr_t p;

		while (u < b->n_units && (b->state[u] & BUDDY_FREE))
			u += (size_t)1 << (b->state[u] & ORDER_MASK);
		if (u - start >= n) {
			uintptr_t s = b->base + (start << BUDDY_UNIT_SHIFT);

			p = fit(s, b->base + (u << BUDDY_UNIT_SHIFT), n << BUDDY_UNIT_SHIFT, align,
				arg);
			if (p) {
				carve(b, start, u, (p - b->base) >> BUDDY_UNIT_SHIFT, n);
				return p;
			}
		}
		if (u == start)
			u++;
	}
	return 0;
}

uintptr_t buddy_alloc(struct buddy *b, size_t len, size_t align, buddy_fit_fn fit, void *arg)
{
	size_t n = (len + BUDDY_UNIT - 1) >> BUDDY_UNIT_SHIFT;
	unsigned k;

	if (!n || n > b->free_units)
		return 0;
	if (align < BUDDY_UNIT)
		align = BUDDY_UNIT;
	if (!fit)
		fit = fit_aligned;
	for (k = order_for(n); k <= b->max_order; k++) {
		struct buddy_link *l;

		for (l = b->free[k].next; l != &b->free[k]; l = l->next) {
			size_t u = unit_of(b, l), size = (size_t)1 << k;
			uintptr_t start = (uintptr_t)l, p;

			p = fit(start, start + (size << BUDDY_UNIT_SHIFT), n << BUDDY_UNIT_SHIFT,
				align, arg);
			if (p) {
				carve(b, u, u + size, (p - b->base) >> BUDDY_UNIT_SHIFT, n);
				return p;
			}
		}
	}
	return alloc_from_runs(b, n, align, fit, arg);
}

bool buddy_take_large(struct buddy *b, unsigned min_order, uintptr_t *va, size_t *len)
{
	unsigned k;

	for (k = b->max_order + 1; k-- > min_order;) {
		if (b->n_free[k]) {
			size_t u = unit_of(b, b->free[k].next);

			list_del(b, u, k);
			*va = b->base + (u << BUDDY_UNIT_SHIFT);
			*len = ((size_t)1 << k) << BUDDY_UNIT_SHIFT;
			return true;
		}
	}
	return false;
}

void buddy_stats(const struct buddy *b, size_t *counts, unsigned n)
{
	unsigned k;

	if (!n)
		return;
	for (k = 0; k <= b->max_order; k++)
		counts[k < n ? k : n - 1] += b->n_free[k];
}

int buddy_check(const struct buddy *b)
{
	size_t free_total = 0, heads = 0, u;
	unsigned k;

	for (k = 0; k < BUDDY_ORDERS; k++) {
		const struct buddy_link *l;
		size_t count = 0;

		for (l = b->free[k].next; l != &b->free[k]; l = l->next) {
			size_t unit = unit_of(b, l), size = (size_t)1 << k;

			if ((uintptr_t)l < b->base || unit + size > b->n_units || k > b->max_order)
				return -__LINE__; /* outside the list */
			if (unit & (size - 1))
				return -__LINE__; /* not aligned to its size */
			if (b->state[unit] != (BUDDY_FREE | k))
				return -__LINE__; /* state disagrees with the list */
			if (l->next->prev != l)
				return -__LINE__; /* broken links */
			if (k < b->max_order && is_free_head(b, unit ^ size, k) &&
			    (unit ^ size) + size <= b->n_units)
				return -__LINE__; /* two free buddies not merged */
			count++;
			free_total += size;
		}
		if (count != b->n_free[k])
			return -__LINE__;
	}
	if (free_total != b->free_units)
		return -__LINE__;
	/* every head is on a list (counted above) and no two free blocks overlap */
	for (u = 0; u < b->n_units; u++) {
		if (!b->state[u])
			continue;
		if (!(b->state[u] & BUDDY_FREE))
			return -__LINE__;
		k = b->state[u] & ORDER_MASK;
		for (size_t i = 1; i < ((size_t)1 << k) && u + i < b->n_units; i++)
			if (b->state[u + i])
				return -__LINE__; /* a head inside a free block */
		heads++;
	}
	for (k = 0, u = 0; k < BUDDY_ORDERS; k++)
		u += b->n_free[k];
	return heads == u ? 0 : -__LINE__;
}
