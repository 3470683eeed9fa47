/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/rdma's internal interface, private to lib/rdma (and to its test and benchmark, which link
 * the static library); no other folder of libhugepool uses it. Never installed.
 * The page table maps every 4 KiB page of registered memory to the record of its MR: a top level
 * indexed by address bits 30..47 points to second-level tables (one per 1 GiB) indexed by bits
 * 12..29. Writers (under the map's lock) publish second-level tables and entries with release
 * stores; lookups (inline in hp_rdma.h) read them with acquire loads and take no lock.
 */
#ifndef HP_RDMA_INTERNAL_H
#define HP_RDMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hp_rdma.h>

#define RDMA_PAGE_SHIFT __HP_RDMA_PAGE_SHIFT
#define RDMA_PAGE_SIZE ((uintptr_t)1 << RDMA_PAGE_SHIFT)
#define RDMA_L2_SHIFT __HP_RDMA_L2_SHIFT
#define RDMA_VA_BITS __HP_RDMA_VA_BITS
#define RDMA_L1_ENTRIES ((size_t)1 << (RDMA_VA_BITS - RDMA_L2_SHIFT))
#define RDMA_L2_ENTRIES ((size_t)1 << (RDMA_L2_SHIFT - RDMA_PAGE_SHIFT))

/* One registered range; pub (what lookups read: end, keys, MR) first, so entries point at it. */
struct rdma_mr_rec {
	struct __hp_rdma_rec pub;
	uintptr_t start; /* page-aligned start of what the table points here */
	bool user;	 /* from hp_rdma_map_register(), not runtime memory */
	void *user_addr; /* what the user passed (for unregister) */
	size_t user_len;
	struct rdma_mr_rec *next;
};

/* The page table is the public head of a map (hp_rdma.h): l1 is mmap'd, 2^18 entries. */
typedef struct __hp_rdma_map_head rdma_table_t;

int rdma_table_init(rdma_table_t *t);
void rdma_table_fini(rdma_table_t *t);
/* Point every page of [rec->start, rec->pub.end) at rec: 0 or -ENOMEM. Caller holds map lock. */
int rdma_table_set(rdma_table_t *t, struct rdma_mr_rec *rec);
/* Clear the pages of rec's range that point at rec. Caller holds the map lock. */
void rdma_table_clear(rdma_table_t *t, const struct rdma_mr_rec *rec);
/* true if any page of [start, end) points at some record. Caller holds the map lock. */
bool rdma_table_any(const rdma_table_t *t, uintptr_t start, uintptr_t end);

/*
 * How a map registers a range. The default calls ibv_reg_mr_iova2()/ibv_dereg_mr(); with
 * -Dtest_hooks=true, the unit test and rdma-xfer --lookup-bench may use a fake one (no device,
 * rdma_fake.c) that exercises the same table.
 * reg returns NULL with errno set; dereg returns 0 or a positive errno, as verbs do.
 */
struct rdma_reg_ops {
	const char *name;
	struct ibv_mr *(*reg)(struct ibv_pd *pd, void *addr, size_t len, int access);
	int (*dereg)(struct ibv_mr *mr);
};

#ifdef HP_TEST_HOOKS
/* A registration path that needs no device: MRs are calloc'd with invented keys. */
extern const struct rdma_reg_ops rdma_fake_ops;
#endif

/* hp_rdma_map_create() with a chosen registration path; pd may be NULL unless it is verbs. */
struct hp_rdma_map *rdma_map_create_ops(struct ibv_pd *pd, int access,
					const struct rdma_reg_ops *ops);

/* A VA range [start, end). */
struct rdma_range {
	uintptr_t start, end;
};

/* Sort ranges by start and merge those that touch, in place; returns how many remain. */
unsigned rdma_merge_ranges(struct rdma_range *r, unsigned n);

/* true once a real (verbs) registration happened in this process: too late for ibv_fork_init. */
bool rdma_verbs_registered(void);

/* A copy of one live map and of its MRs (telemetry's /hugepool/rdma). */
#define RDMA_INFO_MRS 64
struct rdma_map_info {
	char device[64];
	int access;
	struct hp_rdma_map_stats st;
	unsigned n_mrs; /* MRs copied into mrs (at most RDMA_INFO_MRS) */
	struct {
		uintptr_t start, end;
		uint32_t lkey, rkey;
		bool user;
	} mrs[RDMA_INFO_MRS];
};

/*
 * Call fn with a copy of every live map, oldest last, holding maps_lock (each map's lock only
 * while it is copied). fn must not call into lib/rdma. Returns 0 or fn's first non-zero value.
 */
int rdma_map_walk(int (*fn)(const struct rdma_map_info *m, void *arg), void *arg);

#endif
