/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow half of the cache (the fast half is inline in hp_mempool.h), user-owned caches and
 * the sizing of every cache. A cache is a stack, hottest on top, written only by its owner:
 *  - a put that would pass flushthresh (1.5 x size) flushes the colder bottom to the backend in
 *    one call and keeps the size / 2 hottest objects;
 *  - a get that the cache cannot serve takes what is missing plus size / 2 from the backend in
 *    one call, and hands out the cache's own (hot) objects first.
 * So a core that only frees or only allocates meets the backend once per ~size/2 objects, and
 * one that does both stays between the marks without touching it. Attaching a user cache to a
 * pool takes mempool_lock (once per pool switch, never per object).
 */
#include <numa.h>
#include <stdlib.h>
#include <string.h>

#include "mempool_internal.h"

int mempool_direct_get(struct hp_mempool *mp, void **objs, unsigned n, struct hp_mempool_cache *s)
{
#ifdef HP_MEMPOOL_STATS
	int rc = mempool_percpu_dequeue(mp, objs, n);

	__HP_MEMPOOL_STAT(s, backend, 1);
	if (rc < 0) {
		__HP_MEMPOOL_STAT(s, get_fails, 1);
		return -ENOENT;
	}
	__HP_MEMPOOL_STAT(s, gets, 1);
	__HP_MEMPOOL_STAT(s, get_objs, n);
	__HP_MEMPOOL_STAT_BULK(s, n);
	return 0;
#else
	(void)s;
	return mempool_percpu_dequeue(mp, objs, n); /* per-CPU caches count: all or nothing */
#endif
}

static inline void direct_put(struct hp_mempool *mp, void *const *objs, unsigned n,
			      struct hp_mempool_cache *s)
{
	(void)s;
	mempool_backend_put(mp, objs, n);
	__HP_MEMPOOL_STAT(s, backend, 1);
	__HP_MEMPOOL_STAT(s, puts, 1);
	__HP_MEMPOOL_STAT(s, put_objs, n);
	__HP_MEMPOOL_STAT_BULK(s, n);
}

static void unlink_cache(struct hp_mempool *mp, struct hp_mempool_cache *c)
{
	struct hp_mempool_cache **pp;

	for (pp = &mp->user_caches; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = NULL;
}

/* Hand a user cache over to mp: its objects go back to their old pool first. */
static __attribute__((noinline, cold)) void attach(struct hp_mempool_cache *c,
						   struct hp_mempool *mp)
{
	pthread_mutex_lock(&mempool_lock);
	if (c->mp) {
		if (c->len)
			mempool_backend_put(c->mp, c->objs, (unsigned)c->len);
		unlink_cache(c->mp, c);
	}
	c->len = 0;
	c->mp = mp;
	c->next = mp->user_caches;
	mp->user_caches = c;
	pthread_mutex_unlock(&mempool_lock);
}

void mempool_detach_user_caches(struct hp_mempool *mp)
{
	while (mp->user_caches) {
		struct hp_mempool_cache *c = mp->user_caches;

		mp->user_caches = c->next;
		c->next = NULL;
		c->mp = NULL;
		c->len = 0;
	}
}

/* The cache c (of mp, size >= n) has fewer than n objects: refill it and serve n. */
static __attribute__((noinline)) int refill_get(struct hp_mempool *mp, void **objs, unsigned n,
						struct hp_mempool_cache *c)
{
	uint64_t len, need, fresh, rem, k;

	len = c->len;
	need = n - len;
	fresh = c->size / 2 + need;
	__HP_MEMPOOL_STAT(c, backend, 1);
	if (mp->ops->dequeue(mp, &c->objs[len], (unsigned)fresh) < 0) {
		/* the backend is short: take what it seems to have, at least what is missing */
		uint64_t there = mp->ops->count(mp);
		bool got = false;

		if (there > need && there < fresh)
			got = mp->ops->dequeue(mp, &c->objs[len], (unsigned)there) == 0;
		fresh = got ? there : need;
		if (!got && mp->ops->dequeue(mp, &c->objs[len], (unsigned)need) < 0) {
			__HP_MEMPOOL_STAT(c, get_fails, 1);
			return -ENOENT;
		}
	}
	/* the cache's own objects are hot: they go out first, then the top of the fresh ones */
	__hp_ptrcopy(objs, c->objs, (unsigned)len);
	__hp_ptrcopy(objs + len, &c->objs[len + fresh - need], (unsigned)need);
	/* fresh objects left: [len, len + rem); fill the hole [0, len) from their end */
	rem = fresh - need;
	k = len < rem ? len : rem;
	__hp_ptrcopy(c->objs, &c->objs[len + rem - k], (unsigned)k);
	c->len = rem;
	__HP_MEMPOOL_STAT(c, gets, 1);
	__HP_MEMPOOL_STAT(c, get_objs, n);
	__HP_MEMPOOL_STAT_BULK(c, n);
	return 0;
}

/*
 * A bulk larger than the cache c (of mp): the objects c holds count too, or a get of every
 * object of the pool would fail while some sit in a cache. The backend part is taken first, so
 * that a failure leaves c and the pool as they were.
 */
static __attribute__((noinline)) int drain_get(struct hp_mempool *mp, void **objs, unsigned n,
					       struct hp_mempool_cache *c)
{
	unsigned len = (unsigned)c->len; /* < n, as n > size >= len */

	__HP_MEMPOOL_STAT(c, backend, 1);
	if (mp->ops->dequeue(mp, objs + len, n - len) < 0) {
		__HP_MEMPOOL_STAT(c, get_fails, 1);
		return -ENOENT;
	}
	__hp_ptrcopy(objs, c->objs, len);
	c->len = 0;
	__HP_MEMPOOL_STAT(c, gets, 1);
	__HP_MEMPOOL_STAT(c, get_objs, n);
	__HP_MEMPOOL_STAT_BULK(c, n);
	return 0;
}

/* The cache c (of mp, size >= n) would pass its threshold: flush its colder part. */
static __attribute__((noinline)) void flush_put(struct hp_mempool *mp, void *const *objs,
						unsigned n, struct hp_mempool_cache *c)
{
	uint64_t len, total, keep, flush;

	/* len + n > flushthresh: keep the size / 2 hottest (the top), flush the rest at once */
	len = c->len;
	__hp_ptrcopy(&c->objs[len], objs, n);
	total = len + n;
	keep = c->size / 2;
	flush = total - keep;
	mempool_backend_put(mp, c->objs, (unsigned)flush);
	__hp_ptrcopy(c->objs, &c->objs[flush], (unsigned)keep); /* flush > size >= keep */
	c->len = keep;
	__HP_MEMPOOL_STAT(c, backend, 1);
	__HP_MEMPOOL_STAT(c, puts, 1);
	__HP_MEMPOOL_STAT(c, put_objs, n);
	__HP_MEMPOOL_STAT_BULK(c, n);
}

/*
 * Entered from the inline get when the cache could not serve: kept small so that the path
 * without a cache (no lcore id, cache size 0, bulk above the cache) is a few tests and a call
 * into the backend.
 */
HP_API int __hp_mempool_get_slow(struct hp_mempool *mp, void **objs, unsigned n,
				 struct hp_mempool_cache *c)
{
	if (HP_UNLIKELY(c && c->mp != mp)) {
		attach(c, mp);
		return __hp_mempool_cache_get(mp, objs, n, c);
	}
	if (c && c->size && n <= c->size)
		return refill_get(mp, objs, n, c);
	if (c && c->len)
		return drain_get(mp, objs, n, c);
	return mempool_direct_get(mp, objs, n, c ? c : __hp_mempool_cache_slot(mp, 0));
}

HP_API void __hp_mempool_put_slow(struct hp_mempool *mp, void *const *objs, unsigned n,
				  struct hp_mempool_cache *c)
{
	if (HP_UNLIKELY(c && c->mp != mp)) {
		attach(c, mp);
		__hp_mempool_cache_put(mp, objs, n, c);
		return;
	}
	if (c && c->size && n <= c->size)
		flush_put(mp, objs, n, c);
	else
		direct_put(mp, objs, n, c ? c : __hp_mempool_cache_slot(mp, 0));
}

/*
 * A cache of size objects has room for size * 5 / 2: up to flushthresh =
 * HP_MEMPOOL_CACHE_FLUSHTHRESH(size) held, plus a bulk of up to size being put (a larger bulk goes
 * to the backend directly).
 */
size_t mempool_cache_bytes(unsigned size)
{
	return HP_ALIGN_UP(sizeof(struct hp_mempool_cache) + (size_t)size * 5 / 2 * sizeof(void *),
			   HP_CACHE_LINE_SIZE);
}

void mempool_cache_init(struct hp_mempool_cache *c, unsigned size, struct hp_mempool *mp, int node)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->flushthresh = HP_MEMPOOL_CACHE_FLUSHTHRESH((unsigned long long)size);
	c->mp = mp;
	c->node = node;
}

HP_API struct hp_mempool_cache *hp_mempool_cache_create(unsigned size, int node)
{
	size_t bytes = mempool_cache_bytes(size);
	struct hp_mempool_cache *c;

	if (size == 0 || size > HP_MEMPOOL_CACHE_MAX)
		return hp_fail_ptr(-EINVAL,
				   "mempool cache size %u; use 1 to HP_MEMPOOL_CACHE_MAX "
				   "(%d)",
				   size, HP_MEMPOOL_CACHE_MAX);
	if (node != HP_NODE_ANY && !eal_node_exists(node))
		return hp_fail_ptr(-ENODEV,
				   "mempool cache: node %d does not exist; use 0-%d or "
				   "HP_NODE_ANY",
				   node, eal_node_count() - 1);
	/* HP_NODE_ANY: first touch by the caller places it on the caller's node */
	c = node == HP_NODE_ANY ? aligned_alloc(HP_CACHE_LINE_SIZE, bytes)
				: numa_alloc_onnode(bytes, node);
	if (!c)
		return hp_fail_ptr(-ENOMEM, "mempool cache: no memory for %zu bytes", bytes);
	mempool_cache_init(c, size, NULL, node);
	return c;
}

HP_API void hp_mempool_cache_flush(struct hp_mempool_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&mempool_lock);
	if (c->mp && c->len)
		mempool_backend_put(c->mp, c->objs, (unsigned)c->len);
	c->len = 0;
	pthread_mutex_unlock(&mempool_lock);
}

HP_API void hp_mempool_cache_free(struct hp_mempool_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&mempool_lock);
	if (c->mp) {
		if (c->len)
			mempool_backend_put(c->mp, c->objs, (unsigned)c->len);
		unlink_cache(c->mp, c);
	}
	pthread_mutex_unlock(&mempool_lock);
	if (c->node == HP_NODE_ANY)
		free(c);
	else
		numa_free(c, mempool_cache_bytes((unsigned)c->size));
}
