/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A binary buddy allocator over one memseg list, private to lib/heap.
 *
 * The list is cut into units of BUDDY_UNIT bytes. A block is 2^order units whose offset from the
 * list's base is a multiple of its own size; a block and its buddy (offset XOR size) merge when
 * both are free, so a free block is always as large as it can be: a whole free region of 2^k
 * units that is so aligned is one block of order >= k. Free blocks are kept per order in doubly
 * linked lists whose links live in the free memory itself; state[] holds one byte per unit,
 * non-zero only at the head of a free block. An allocation takes exactly the units it asks for
 * (the rest of the block it was cut from is freed again), so a 300 MiB zone holds 300 MiB.
 * Units that are not in the allocator at all (never added, or taken out to go back to the
 * kernel) are simply never on a list. Not thread-safe: the caller serialises.
 */
#ifndef HP_HEAP_BUDDY_H
#define HP_HEAP_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUDDY_UNIT_SHIFT 12
#define BUDDY_UNIT ((size_t)1 << BUDDY_UNIT_SHIFT)
#define BUDDY_ORDERS 40 /* 2^39 units of 4 KiB: far above any list */

struct buddy_link {
	struct buddy_link *next, *prev;
};

struct buddy {
	uintptr_t base;
	size_t n_units;
	unsigned max_order; /* largest order that fits in n_units */
	uint8_t *state;	    /* per unit: BUDDY_FREE | order at a free block's head, else 0 */
	struct buddy_link free[BUDDY_ORDERS]; /* list heads (circular) */
	size_t n_free[BUDDY_ORDERS];	      /* blocks on each list */
	size_t free_units;
};

/*
 * Where in a free block [start, end) an allocation of len bytes may go: the chosen start, or 0
 * when none fits. A NULL fit takes the first address aligned to align.
 */
typedef uintptr_t (*buddy_fit_fn)(uintptr_t start, uintptr_t end, size_t len, size_t align,
				  void *arg);

/* An empty allocator over [base, base + len): nothing is free until buddy_free() adds it. */
int buddy_init(struct buddy *b, void *base, size_t len);
void buddy_fini(struct buddy *b);

/*
 * Take len bytes (rounded up to units) aligned to align (a power of two; below a unit means a
 * unit) at a place fit accepts: from the smallest free block that holds it, else from a run of
 * adjacent free blocks. @return the address, or 0 when no free run holds it.
 */
uintptr_t buddy_alloc(struct buddy *b, size_t len, size_t align, buddy_fit_fn fit, void *arg);

/* Give back [va, va + len) (units), merging with free buddies. Also adds memory to it. */
void buddy_free(struct buddy *b, uintptr_t va, size_t len);

/* Whether the unit holding va lies in a free block (a second free of it would be a bug). */
bool buddy_is_free(const struct buddy *b, uintptr_t va);

/*
 * Take one free block of order >= min_order out of the allocator, largest first, so that its
 * memory can go back to the kernel. @return true with *va and *len set, false when none.
 */
bool buddy_take_large(struct buddy *b, unsigned min_order, uintptr_t *va, size_t *len);

/* Free blocks per order into counts[0 .. n) (orders above n - 1 are added to the last). */
void buddy_stats(const struct buddy *b, size_t *counts, unsigned n);

/*
 * Check every invariant (lists and state agree, blocks aligned, in range, disjoint and maximal,
 * counts right). @return 0, or a negative line number of the first broken one (for tests).
 */
int buddy_check(const struct buddy *b);

#endif
