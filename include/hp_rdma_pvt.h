/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_rdma_pvt.h
 * @internal Private machinery of hp_rdma.h (include that instead): the layout of a map that
 * the inline lookups read, and their out-of-line failure path. Not part of the API: these
 * names and layouts may change in any release.
 */
#ifndef HP_RDMA_PVT_H
#define HP_RDMA_PVT_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ibv_mr;
struct hp_rdma_map;

/*
 * The layout the inline lookups of hp_rdma.h read. A map starts with a two-level
 * page table: l1[addr >> 30] is a table of 2^18 entries (one per 4 KiB page of that GiB), each
 * NULL or the record of the MR holding the page. Entries and tables are published by the map's
 * writers with release stores; the acquire loads here pair with them. No lock, no search.
 */
#define __HP_RDMA_PAGE_SHIFT 12
#define __HP_RDMA_L2_SHIFT 30
#define __HP_RDMA_VA_BITS 48

/** @internal One registered range as the lookups see it. */
struct __hp_rdma_rec {
	uintptr_t end; /* one past the last byte of the MR */
	uint32_t lkey;
	uint32_t rkey;
	struct ibv_mr *mr;
};

/**
 * @internal The first field of every struct hp_rdma_map: its page table.
 * ABI: the inline lookups of programs built against this header read l1 at offset 0 of a map
 * and struct __hp_rdma_rec whole, and walk the table with the shifts above. Changing any of
 * them needs a new soname (libhugepool.so.N+1); a record gains fields only at its end.
 */
struct __hp_rdma_map_head {
	struct __hp_rdma_rec ***l1; /* [2^18] -> [2^18] -> record */
};

/**
 * @internal The record for [addr, addr + len), or NULL.
 */
static inline const struct __hp_rdma_rec *__hp_rdma_rec_find(const struct hp_rdma_map *map,
							     const void *addr, size_t len)
{
	const struct __hp_rdma_map_head *h = (const struct __hp_rdma_map_head *)map;
	uintptr_t a = (uintptr_t)addr;
	struct __hp_rdma_rec **l2;
	const struct __hp_rdma_rec *r;

	if (HP_UNLIKELY(a >> __HP_RDMA_VA_BITS))
		return NULL;
	l2 = __atomic_load_n(&h->l1[a >> __HP_RDMA_L2_SHIFT], __ATOMIC_ACQUIRE);
	if (HP_UNLIKELY(!l2))
		return NULL;
	r = __atomic_load_n(
	    &l2[(a >> __HP_RDMA_PAGE_SHIFT) &
		(((uintptr_t)1 << (__HP_RDMA_L2_SHIFT - __HP_RDMA_PAGE_SHIFT)) - 1)],
	    __ATOMIC_ACQUIRE);
	/* the page of a is in r's MR, so a < r->end: the subtraction cannot wrap */
	if (HP_UNLIKELY(!r || len > r->end - a))
		return NULL;
	return r;
}

/**
 * @internal Out of line: the failure of hp_rdma_lkey()/hp_rdma_rkey(), with its sentence.
 * key is only tested for NULL; it is not const because gcc takes a const pointer to the
 * caller's still unset key for a read (-Wmaybe-uninitialized in the caller's code).
 */
HP_API int __hp_rdma_miss(const struct hp_rdma_map *map, const void *addr, size_t len, void *key);

#ifdef __cplusplus
}
#endif
#endif
