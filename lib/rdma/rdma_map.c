/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RDMA maps: register runtime memory once, one MR per VA-contiguous range, follow memory events,
 * and look up address -> MR without a lock (rdma_table.c). Writers of a map (create, the memory
 * event callback, register/unregister, destroy) hold map->lock (lock level 10, doc/architecture.md;
 * the event callback runs under the memory lock written). Live maps are on a list (maps_lock, lock
 * level 6) so that destroy can tell a live map from a stale pointer.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

#include <hp_util.h>

#include "eal/eal_internal.h"
#include "mem/mem_internal.h"
#include "rdma_internal.h"

#define MAP_MAGIC 0x48505244u /* "HPRD" */

struct hp_rdma_map {
	rdma_table_t table; /* first: the only field the inline lookups read (hp_rdma.h) */
	uint32_t magic;
	struct ibv_pd *pd;
	int access;
	const struct rdma_reg_ops *ops;
	pthread_mutex_t lock;
	struct rdma_mr_rec *recs;
	bool subscribed;
	char ev_name[32];
	struct hp_rdma_map_stats st;
	struct hp_rdma_map *next_live;
};
_Static_assert(offsetof(struct hp_rdma_map, table) == 0,
	       "the inline lookups (hp_rdma_pvt.h) read the page table at the start of a map");

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hp_rdma_map *live_maps;
static _Atomic unsigned map_seq;
static _Atomic bool verbs_registered; /* ibv_fork_init() is too late once this is set */

/* ---- registration paths ---------------------------------------------------------------- */

static struct ibv_mr *verbs_reg(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	atomic_store_explicit(&verbs_registered, true, memory_order_relaxed);
	/* iova = va: peers use our virtual addresses, whatever the IOVA mode of the runtime */
	return ibv_reg_mr_iova2(pd, addr, len, (uintptr_t)addr, (unsigned)access);
}

static int verbs_dereg(struct ibv_mr *mr)
{
	return ibv_dereg_mr(mr);
}

static const struct rdma_reg_ops verbs_ops = {"verbs", verbs_reg, verbs_dereg};

/* ---- records ------------------------------------------------------------------------------ */

static const char *dev_name(const struct hp_rdma_map *map)
{
	if (map->pd && map->pd->context && map->pd->context->device)
		return ibv_get_device_name(map->pd->context->device);
	return map->ops->name;
}

static const char *reg_hint(int err)
{
	switch (err) {
	case ENOMEM:
	case EAGAIN:
		return "the device could not pin it: raise the locked-memory limit (ulimit -l "
		       "unlimited) or register less";
	case EINVAL:
	case EOPNOTSUPP:
	case EPERM:
	case EACCES:
		return "the device refuses these access flags: see ibv_devinfo -v for what it "
		       "supports";
	default:
		return "see dmesg for the driver's reason";
	}
}

/* Register [start, end) (page-aligned) and point its pages at a new record. */
static int rec_add(struct hp_rdma_map *map, uintptr_t start, uintptr_t end,
		   struct rdma_mr_rec **out)
{
	struct rdma_mr_rec *rec = calloc(1, sizeof(*rec));
	int err;

	if (!rec)
		return hp_fail(-ENOMEM, "no memory for an MR record; free some memory and retry");
	rec->pub.mr = map->ops->reg(map->pd, (void *)start, end - start, map->access);
	if (!rec->pub.mr) {
		err = errno ? errno : EINVAL;
		free(rec);
		return hp_fail(-err,
			       "%s: ibv_reg_mr of %zu bytes (%zu MiB) at %#lx with access %#x "
			       "failed: %s; %s",
			       dev_name(map), (size_t)(end - start), (size_t)(end - start) >> 20,
			       (unsigned long)start, map->access, strerror(err), reg_hint(err));
	}
	rec->start = start;
	rec->pub.end = end;
	rec->pub.lkey = rec->pub.mr->lkey;
	rec->pub.rkey = rec->pub.mr->rkey;
	if (rdma_table_set(&map->table, rec)) {
		map->ops->dereg(rec->pub.mr);
		free(rec);
		return hp_fail(-ENOMEM,
			       "no memory for the lookup table of %#lx..%#lx; free some "
			       "memory and retry",
			       (unsigned long)start, (unsigned long)end);
	}
	rec->next = map->recs;
	map->recs = rec;
	map->st.n_mrs++;
	map->st.bytes += end - start;
	if (out)
		*out = rec;
	return 0;
}

/* Unpoint the record's pages, deregister it, unlink it from *link and free it. */
static int rec_del(struct hp_rdma_map *map, struct rdma_mr_rec **link)
{
	struct rdma_mr_rec *rec = *link;
	int rc;

	rdma_table_clear(&map->table, rec);
	*link = rec->next;
	map->st.n_mrs--;
	map->st.n_user -= rec->user;
	map->st.bytes -= rec->pub.end - rec->start;
	rc = map->ops->dereg(rec->pub.mr); /* a positive errno, as rdma-core gives */
	free(rec);
	return rc;
}

/* ---- memory events ----------------------------------------------------------------------- */

static void event_alloc(struct hp_rdma_map *map, uintptr_t start, uintptr_t end)
{
	if (rec_add(map, start, end, NULL)) {
		map->st.n_failed++;
		HP_LOG_E("RDMA map %s: new memory %#lx..%#lx is not registered: %s", map->ev_name,
			 (unsigned long)start, (unsigned long)end, hp_last_error());
	}
}

/* Deregister runtime MRs overlapping [start, end); register again what lies outside it. */
static void event_free(struct hp_rdma_map *map, uintptr_t start, uintptr_t end)
{
	struct rdma_mr_rec **link = &map->recs;

	while (*link) {
		struct rdma_mr_rec *r = *link;
		uintptr_t rs = r->start, re = r->pub.end;

		if (r->user || re <= start || rs >= end) {
			link = &r->next;
			continue;
		}
		if (rec_del(map, link))
			HP_LOG_W("RDMA map %s: ibv_dereg_mr of %#lx..%#lx failed", map->ev_name,
				 (unsigned long)rs, (unsigned long)re);
		/* new records go to the list head: if link is the head they are seen next and
		 * skipped (they lie outside the freed range), else they are behind link */
		if (rs < start)
			event_alloc(map, rs, start);
		if (re > end)
			event_alloc(map, end, re);
	}
}

static void on_mem_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	struct hp_rdma_map *map = arg;
	uintptr_t start = (uintptr_t)va & ~(RDMA_PAGE_SIZE - 1);
	uintptr_t end = HP_ALIGN_UP((uintptr_t)va + len, RDMA_PAGE_SIZE);

	pthread_mutex_lock(&map->lock);
	if (ev == HP_MEM_EVENT_ALLOC)
		event_alloc(map, start, end);
	else if (ev == HP_MEM_EVENT_FREE)
		event_free(map, start, end);
	pthread_mutex_unlock(&map->lock);
}

/* ---- create / destroy --------------------------------------------------------------------- */

static int range_cmp(const void *a, const void *b)
{
	const struct rdma_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

unsigned rdma_merge_ranges(struct rdma_range *r, unsigned n)
{
	unsigned i, m = 0;

	qsort(r, n, sizeof(r[0]), range_cmp);
	for (i = 0; i < n; i++) {
		if (m && r[m - 1].end == r[i].start)
			r[m - 1].end = r[i].end;
		else
			r[m++] = r[i];
	}
	return m;
}

/*
 * Register the runtime's memory: each stretch of present pages of a list (pages a grown list gave
 * back are not mapped), VA-adjacent stretches merged into one MR. Caller holds the mem lock.
 */
static int register_runtime(struct hp_rdma_map *map)
{
	unsigned i, j, n = atomic_load_explicit(&mem_nlists, memory_order_acquire), m = 0;
	unsigned cap = MEM_MAX_LISTS;
	struct rdma_range *r = malloc(cap * sizeof(*r));
	int rc = 0;

	if (!r)
		return hp_fail(-ENOMEM, "no memory to list the runtime's ranges; free some memory");
	for (i = 0; i < n && !rc; i++) {
		const struct mem_list *l = mem_lists[i];

		for (j = 0; l && j < l->n_pages; j++) {
			uintptr_t va = (uintptr_t)l->pages[j].va;

			if (l->pages[j].iova == HP_BAD_IOVA)
				continue;
			if (m && r[m - 1].end == va) {
				r[m - 1].end += l->page_size;
				continue;
			}
			if (m == cap) {
				struct rdma_range *bigger = realloc(r, 2 * cap * sizeof(*r));

				if (!bigger) {
					rc = hp_fail(-ENOMEM, "no memory to list the runtime's "
							      "ranges; free some memory");
					break;
				}
				r = bigger;
				cap *= 2;
			}
			r[m++] = (struct rdma_range){va, va + l->page_size};
		}
	}
	if (!rc)
		m = rdma_merge_ranges(r, m);
	for (i = 0; i < m && !rc; i++)
		rc = rec_add(map, r[i].start & ~(RDMA_PAGE_SIZE - 1), r[i].end, NULL);
	free(r);
	return rc;
}

static int check_access(int access)
{
	int known = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
		    IBV_ACCESS_REMOTE_ATOMIC | IBV_ACCESS_MW_BIND | IBV_ACCESS_ON_DEMAND |
		    IBV_ACCESS_HUGETLB | IBV_ACCESS_OPTIONAL_RANGE;

	if (access & ~known)
		return hp_fail(-EINVAL,
			       "RDMA map: unknown access flags %#x (IBV_ACCESS_ZERO_BASED "
			       "is not supported: peers get virtual addresses); pass IBV_ACCESS_* "
			       "flags only",
			       access & ~known);
	if ((access & (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)) &&
	    !(access & IBV_ACCESS_LOCAL_WRITE))
		return hp_fail(-EINVAL,
			       "RDMA map: access %#x asks remote write or atomic without "
			       "IBV_ACCESS_LOCAL_WRITE, which verbs require; add it",
			       access);
	return 0;
}

/* Register one page of ordinary memory with the flags, so refused flags fail here, clearly. */
static int probe_access(struct hp_rdma_map *map)
{
	void *buf = NULL;
	struct ibv_mr *mr;
	int err;

	if (posix_memalign(&buf, RDMA_PAGE_SIZE, RDMA_PAGE_SIZE))
		return hp_fail(-ENOMEM, "no memory for a probe page; free some memory and retry");
	mr = map->ops->reg(map->pd, buf, RDMA_PAGE_SIZE, map->access);
	err = mr ? 0 : (errno ? errno : EINVAL);
	if (mr)
		map->ops->dereg(mr);
	free(buf);
	if (err)
		return hp_fail(-err, "%s refused to register memory with access flags %#x: %s; %s",
			       dev_name(map), map->access, strerror(err), reg_hint(err));
	return 0;
}

static void free_map(struct hp_rdma_map *map)
{
	pthread_mutex_lock(&map->lock);
	while (map->recs)
		if (rec_del(map, &map->recs))
			HP_LOG_W("RDMA map %s: ibv_dereg_mr failed", map->ev_name);
	pthread_mutex_unlock(&map->lock);
	rdma_table_fini(&map->table);
	pthread_mutex_destroy(&map->lock);
	map->magic = 0;
	free(map);
}

/* Walk and subscribe under one read lock: no memory can come or go between the two. */
static int attach_runtime(struct hp_rdma_map *map)
{
	uint64_t t0 = hp_now_ns();
	int rc;

	hp_mem_lock_read();
	pthread_mutex_lock(&map->lock);
	rc = register_runtime(map);
	pthread_mutex_unlock(&map->lock);
	if (!rc) {
		rc = hp_mem_event_register(map->ev_name, on_mem_event, map);
		if (rc)
			rc = hp_fail(rc,
				     "RDMA map: cannot follow memory events (%s); destroy maps "
				     "no longer used",
				     strerror(-rc));
	}
	map->subscribed = !rc;
	hp_mem_unlock_read();
	map->st.reg_ns = hp_now_ns() - t0;
	return rc;
}

struct hp_rdma_map *rdma_map_create_ops(struct ibv_pd *pd, int access,
					const struct rdma_reg_ops *ops)
{
	struct hp_rdma_map *map;
	int rc;

	if (!pd && ops == &verbs_ops)
		return hp_fail_ptr(-EINVAL,
				   "RDMA map: the protection domain is NULL; open a device "
				   "(hp_rdma_device_open) and allocate one with ibv_alloc_pd");
	if (!hp_initialized())
		return hp_fail_ptr(-EINVAL, "RDMA map: %s (before hp_rdma_map_create())",
				   eal_no_runtime());
	if (check_access(access))
		return NULL;
	map = calloc(1, sizeof(*map));
	if (!map || rdma_table_init(&map->table)) {
		free(map);
		return hp_fail_ptr(-ENOMEM, "RDMA map: no memory for the map and its lookup table");
	}
	map->pd = pd;
	map->access = access;
	map->ops = ops;
	pthread_mutex_init(&map->lock, NULL);
	snprintf(map->ev_name, sizeof(map->ev_name), "rdma-map-%u",
		 atomic_fetch_add_explicit(&map_seq, 1, memory_order_relaxed));
	rc = probe_access(map);
	if (!rc)
		rc = attach_runtime(map);
	if (rc) {
		free_map(map);
		errno = -rc;
		return NULL;
	}
	map->magic = MAP_MAGIC;
	pthread_mutex_lock(&maps_lock);
	map->next_live = live_maps;
	live_maps = map;
	pthread_mutex_unlock(&maps_lock);
	return map;
}

HP_API struct hp_rdma_map *hp_rdma_map_create(struct ibv_pd *pd, int access)
{
	return rdma_map_create_ops(pd, access, &verbs_ops);
}

/* Stop following memory events; afterwards no callback runs or will run for this map. */
static void unsubscribe(struct hp_rdma_map *map)
{
	if (!map->subscribed)
		return;
	hp_mem_event_unregister(map->ev_name);
	/* callbacks run under the memory write lock: once we get the read lock, none is running */
	hp_mem_lock_read();
	hp_mem_unlock_read();
	map->subscribed = false;
}

HP_API void hp_rdma_map_destroy(struct hp_rdma_map *map)
{
	struct hp_rdma_map **p;
	bool live = false;

	if (!map)
		return;
	pthread_mutex_lock(&maps_lock);
	for (p = &live_maps; *p; p = &(*p)->next_live)
		if (*p == map) {
			/* only a listed map is dereferenced: a stale pointer is never read */
			live = map->magic == MAP_MAGIC;
			*p = map->next_live;
			break;
		}
	pthread_mutex_unlock(&maps_lock);
	if (!live) {
		HP_LOG_W("hp_rdma_map_destroy(%p): not a live RDMA map (destroyed twice?); ignored",
			 (void *)map);
		return;
	}
	unsubscribe(map);
	free_map(map);
}

/* ---- lookup misses (the lookups are inline in hp_rdma.h) ---------------------------------- */

HP_API int __hp_rdma_miss(const struct hp_rdma_map *map, const void *addr, size_t len, void *key)
{
	if (!map || !key)
		return hp_fail(-EINVAL, "hp_rdma_lkey/rkey: map %p and key %p must not be NULL",
			       (const void *)map, key);
	return hp_fail(-ENOENT,
		       "%p + %zu bytes is not inside one MR of RDMA map %s: keep a "
		       "buffer within one object or zone, or register outside memory with "
		       "hp_rdma_map_register()",
		       addr, len, map->ev_name);
}

/* ---- outside memory ----------------------------------------------------------------------- */

HP_API int hp_rdma_map_register(struct hp_rdma_map *map, void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr & ~(RDMA_PAGE_SIZE - 1);
	uintptr_t end = HP_ALIGN_UP((uintptr_t)addr + len, RDMA_PAGE_SIZE);
	struct rdma_mr_rec *rec;
	int rc;

	if (!map || !addr || !len)
		return hp_fail(-EINVAL,
			       "hp_rdma_map_register: map %p, addr %p, len %zu: none may "
			       "be NULL or 0",
			       (void *)map, addr, len);
	if (end <= start || (end - 1) >> RDMA_VA_BITS)
		return hp_fail(-EINVAL,
			       "hp_rdma_map_register: %p + %zu is not a user address "
			       "range",
			       addr, len);
	pthread_mutex_lock(&map->lock);
	if (rdma_table_any(&map->table, start, end)) {
		pthread_mutex_unlock(&map->lock);
		return hp_fail(-EEXIST,
			       "hp_rdma_map_register: a 4 KiB page of %p + %zu is already "
			       "in an MR of map %s (runtime memory is registered already; an "
			       "outside buffer must not share a page with another)",
			       addr, len, map->ev_name);
	}
	rc = rec_add(map, start, end, &rec);
	if (!rc) {
		rec->user = true;
		rec->user_addr = addr;
		rec->user_len = len;
		map->st.n_user++;
	}
	pthread_mutex_unlock(&map->lock);
	return rc;
}

HP_API int hp_rdma_map_unregister(struct hp_rdma_map *map, void *addr, size_t len)
{
	struct rdma_mr_rec **link;
	int rc = -ENOENT;

	if (!map)
		return hp_fail(-EINVAL, "hp_rdma_map_unregister: map is NULL");
	pthread_mutex_lock(&map->lock);
	for (link = &map->recs; *link; link = &(*link)->next) {
		if ((*link)->user && (*link)->user_addr == addr && (*link)->user_len == len) {
			rc = -rec_del(map, link);
			break;
		}
	}
	pthread_mutex_unlock(&map->lock);
	if (rc == -ENOENT)
		return hp_fail(rc,
			       "hp_rdma_map_unregister: %p + %zu was not registered with "
			       "hp_rdma_map_register() in map %s (pass the same addr and len)",
			       addr, len, map->ev_name);
	if (rc)
		return hp_fail(rc,
			       "hp_rdma_map_unregister: ibv_dereg_mr failed: %s (the MR is "
			       "forgotten by the map anyway)",
			       strerror(-rc));
	return 0;
}

HP_API int hp_rdma_map_stats(const struct hp_rdma_map *map, struct hp_rdma_map_stats *st)
{
	if (!map || !st)
		return hp_fail(-EINVAL, "hp_rdma_map_stats: map and st must not be NULL");
	pthread_mutex_lock((pthread_mutex_t *)&map->lock);
	*st = map->st;
	pthread_mutex_unlock((pthread_mutex_t *)&map->lock);
	return 0;
}

bool rdma_verbs_registered(void)
{
	return atomic_load_explicit(&verbs_registered, memory_order_relaxed);
}

/* ---- hp_cleanup --------------------------------------------------------------------------- */

/* Maps still alive lose their runtime MRs before the memory goes; outside buffers stay. */
static void rdma_cleanup(void)
{
	struct hp_rdma_map *map;

	pthread_mutex_lock(&maps_lock);
	for (map = live_maps; map; map = map->next_live) {
		struct rdma_mr_rec **link = &map->recs;

		HP_LOG_W("RDMA map %s is alive at hp_cleanup: its runtime MRs are deregistered; "
			 "destroy maps before hp_cleanup",
			 map->ev_name);
		unsubscribe(map);
		pthread_mutex_lock(&map->lock);
		while (*link) {
			if ((*link)->user)
				link = &(*link)->next;
			else
				rec_del(map, link);
		}
		pthread_mutex_unlock(&map->lock);
	}
	pthread_mutex_unlock(&maps_lock);
}

static int rdma_init(const struct hp_init_opts *opts)
{
	(void)opts;
	return 0;
}

EAL_SUBSYS_REGISTER(rdma, EAL_SUBSYS_RDMA, rdma_init, rdma_cleanup)

/* In a forked child: the maps register the parent's memory; the child's MRs are not its own. */
static void rdma_fork_child(void)
{
	maps_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	live_maps = NULL;
}
EAL_FORK_CHILD(rdma_fork_child)

int rdma_map_walk(int (*fn)(const struct rdma_map_info *m, void *arg), void *arg)
{
	struct rdma_map_info *info = malloc(sizeof(*info));
	struct hp_rdma_map *map;
	int rc = 0;

	if (!info)
		return -ENOMEM;
	pthread_mutex_lock(&maps_lock);
	for (map = live_maps; map && !rc; map = map->next_live) {
		const struct rdma_mr_rec *r;

		memset(info, 0, sizeof(*info));
		pthread_mutex_lock(&map->lock);
		snprintf(info->device, sizeof(info->device), "%s", dev_name(map));
		info->access = map->access;
		info->st = map->st;
		for (r = map->recs; r && info->n_mrs < RDMA_INFO_MRS; r = r->next) {
			info->mrs[info->n_mrs].start = r->start;
			info->mrs[info->n_mrs].end = r->pub.end;
			info->mrs[info->n_mrs].lkey = r->pub.lkey;
			info->mrs[info->n_mrs].rkey = r->pub.rkey;
			info->mrs[info->n_mrs].user = r->user;
			info->n_mrs++;
		}
		pthread_mutex_unlock(&map->lock);
		rc = fn(info, arg);
	}
	pthread_mutex_unlock(&maps_lock);
	free(info);
	return rc;
}
