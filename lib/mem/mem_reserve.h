/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/mem (included by no other folder): how a memseg list is made (reserve.c) and
 * resolved (iova.c), added to and removed from the table (memseg.c) by start-up and growth
 * (init.c). A list is built complete, unpublished, by one thread; only memseg.c publishes it.
 */
#ifndef HP_MEM_RESERVE_H
#define HP_MEM_RESERVE_H

#include <limits.h>
#include <stdbool.h>
#include "mem_internal.h"

/* How memory is reserved, fixed from hp_init() to hp_cleanup(). */
struct mem_cfg {
	size_t page_size;		 /* bytes; 4096 with no_huge */
	bool no_huge;			 /* anonymous 4 KiB memory */
	enum hp_iova_mode mode;		 /* decided once at init */
	char huge_dir[PATH_MAX];	 /* hugetlbfs mount, "" for memfd */
	char prefix[64];		 /* names the memfds and files */
	size_t limit[HP_MAX_NUMA_NODES]; /* --socket-limit in bytes, 0 = none */
};

/*
 * Reserve len bytes (a whole number of pages) on node: map, bind, populate, verify the node of
 * every page, resolve IOVAs (remapping in PA order in PA mode). On success *out is a complete
 * list owned by the caller; on failure nothing stays mapped and the error is set (hp_fail).
 */
int mem_reserve(const struct mem_cfg *cfg, int node, size_t len, struct mem_list **out);

/*
 * The --huge-dir of cfg is usable: it exists, is a hugetlbfs mount of cfg's page size, and this
 * process may create files in it. @return 0, -EINVAL or -EPERM through hp_fail().
 */
int mem_huge_dir_check(const struct mem_cfg *cfg);

/* Unmap, close and free a list (published or not). */
void mem_list_destroy(struct mem_list *l);

/*
 * PA mode: read the frame of every page of l (mapped at l->base in file order), then remap the
 * file's pages in PA order so that IOVA-contiguous pages are VA-contiguous. Fills l->pages[].iova
 * and l->n_runs. VA mode: iova = va, one run.
 */
int mem_resolve_iova(const struct mem_cfg *cfg, struct mem_list *l);

/*
 * Reserve a list of len bytes on node and publish it (HP_MEM_EVENT_ALLOC fires under the write
 * lock); a dynamic list gives free pages back (mem_give_back). Callers are serialised (init.c's
 * grow_lock). @return 0 or -errno through hp_fail().
 */
int mem_list_add(const struct mem_cfg *cfg, int node, size_t len, bool dynamic);

/* In a forked child: forget every list (closing its fd, unmapping nothing) and reset the locks. */
void mem_lists_forget(void);

/* Give back every list, newest first, firing HP_MEM_EVENT_FREE before each goes. */
void mem_lists_release(void);

/* Fail (-ENOMEM, with the sentence) when holding len more bytes on node would pass --socket-limit.
 */
int mem_check_limit(const struct mem_cfg *cfg, int node, size_t len);

/* Recount l's IOVA-contiguous runs of present pages; caller holds the write lock. */
void mem_list_count_runs(struct mem_list *l);

/*
 * Pages [first, first + n) of a published list: fault them in on its node, verify where they
 * landed, resolve their IOVAs (mem_refill), or punch them out of the file and make them
 * PROT_NONE (mem_give_back). The caller holds the grow lock; only the entries' iova change,
 * under the write lock, after mem_fill_pages() returns.
 */
int mem_fill_pages(const struct mem_cfg *cfg, struct mem_list *l, unsigned first, unsigned n,
		   uint64_t *iova);
void mem_punch_pages(struct mem_list *l, unsigned first, unsigned n);

/* IOVA of each of n pages mapped from va (PA mode: pagemap; VA mode: the address). */
int mem_resolve_pages(const struct mem_cfg *cfg, const struct mem_list *l, unsigned first,
		      unsigned n, uint64_t *iova);

/* Number of pages currently in the table (all lists); for the HP_MAX_MEMSEGS limit. */
unsigned mem_total_pages(void);

#endif
