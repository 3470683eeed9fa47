/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The page table of an RDMA map: address -> MR record in two loads (layout in hp_rdma.h).
 * Only the map's writer (holding the map lock) stores; entries are stored with release, pairing
 * with the acquire loads of __hp_rdma_rec_find(), so a reader that sees an entry sees the record it
 * points to, filled in. Second-level tables are published with a release store (same pairing)
 * and freed only by rdma_table_fini() (map destroy, when no reader may run).
 */
#include <errno.h>
#include <sys/mman.h>

#include "rdma_internal.h"

typedef struct __hp_rdma_rec *entry_t;

static void *map_zeroed(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_DONTFORK); /* a forked child has no maps (lib/eal/fork.c) */
	return p;
}

int rdma_table_init(rdma_table_t *t)
{
	t->l1 = map_zeroed(RDMA_L1_ENTRIES * sizeof(*t->l1));
	return t->l1 ? 0 : -ENOMEM;
}

void rdma_table_fini(rdma_table_t *t)
{
	size_t i;

	if (!t->l1)
		return;
	for (i = 0; i < RDMA_L1_ENTRIES; i++)
		if (t->l1[i])
			munmap(t->l1[i], RDMA_L2_ENTRIES * sizeof(entry_t));
	munmap(t->l1, RDMA_L1_ENTRIES * sizeof(*t->l1));
	t->l1 = NULL;
}

/* The second-level table for addr, created (and published) if create is set. */
static entry_t *l2_of(const rdma_table_t *t, uintptr_t addr, bool create)
{
	size_t i = addr >> RDMA_L2_SHIFT;
	entry_t *l2 = __atomic_load_n(&t->l1[i], __ATOMIC_RELAXED);

	if (l2 || !create)
		return l2;
	l2 = map_zeroed(RDMA_L2_ENTRIES * sizeof(*l2));
	if (l2) /* pairs with the acquire load in __hp_rdma_rec_find() */
		__atomic_store_n(&t->l1[i], l2, __ATOMIC_RELEASE);
	return l2;
}

static inline size_t l2_index(uintptr_t addr)
{
	return (addr >> RDMA_PAGE_SHIFT) & (RDMA_L2_ENTRIES - 1);
}

/* Store v into the entries of [start, end) whose value is old (any value if match is false). */
static int fill(const rdma_table_t *t, uintptr_t start, uintptr_t end, entry_t v,
		const struct __hp_rdma_rec *old, bool match)
{
	uintptr_t a = start;

	while (a < end) {
		uintptr_t chunk_end = ((a >> RDMA_L2_SHIFT) + 1) << RDMA_L2_SHIFT;
		entry_t *l2 = l2_of(t, a, v != NULL);
		size_t i, n;

		if (chunk_end > end)
			chunk_end = end;
		if (!l2) {
			if (v)
				return -ENOMEM;
			a = chunk_end;
			continue;
		}
		n = l2_index(chunk_end - 1) + 1;
		for (i = l2_index(a); i < n; i++)
			if (!match || __atomic_load_n(&l2[i], __ATOMIC_RELAXED) == old)
				/* release: the record's fields before the entry (pairs with the
				 * acquire load in __hp_rdma_rec_find(); a plain store on x86) */
				__atomic_store_n(&l2[i], v, __ATOMIC_RELEASE);
		a = chunk_end;
	}
	return 0;
}

int rdma_table_set(rdma_table_t *t, struct rdma_mr_rec *rec)
{
	int rc;

	if ((rec->pub.end - 1) >> RDMA_VA_BITS)
		return -EINVAL;
	rc = fill(t, rec->start, rec->pub.end, &rec->pub, NULL, false);
	if (rc)
		rdma_table_clear(t, rec);
	return rc;
}

void rdma_table_clear(rdma_table_t *t, const struct rdma_mr_rec *rec)
{
	fill(t, rec->start, rec->pub.end, NULL, &rec->pub, true);
}

bool rdma_table_any(const rdma_table_t *t, uintptr_t start, uintptr_t end)
{
	uintptr_t a;

	for (a = start & ~(RDMA_PAGE_SIZE - 1); a < end; a += RDMA_PAGE_SIZE) {
		entry_t *l2;

		if (a >> RDMA_VA_BITS)
			return false;
		l2 = l2_of(t, a, false);
		if (!l2) {
			/* skip to the last page of this GiB; the loop steps to the next one */
			a = (((a >> RDMA_L2_SHIFT) + 1) << RDMA_L2_SHIFT) - RDMA_PAGE_SIZE;
			continue;
		}
		if (__atomic_load_n(&l2[l2_index(a)], __ATOMIC_RELAXED))
			return true;
	}
	return false;
}
