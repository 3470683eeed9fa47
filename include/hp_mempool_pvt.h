/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool_pvt.h
 * @internal
 * Private to hp_mempool.h (installed only because the inline get and put need it): the cache
 * fast path, its statistics and the out-of-line calls it makes. Do not call these directly.
 *
 * A cache is a stack written only by the thread that owns it (its lcore, or the owner of a user
 * cache). A get the cache can serve, or a put that stays within flushthresh, touches only the
 * cache; anything else goes out of line to __hp_mempool_get_slow() / __hp_mempool_put_slow(),
 * which call the backend once per bulk. A thread without an lcore id goes to the calling CPU's
 * cache through slot 0 where the pool has per-CPU caches (hp_mempool_rseq.h,
 * __hp_mempool_percpu_get/put_slow() when it cannot serve), else to the backend, as does a
 * cache of size 0 (a pool without caches).
 */
#ifndef HP_MEMPOOL_PVT_H
#define HP_MEMPOOL_PVT_H

#include <stdint.h>
#include <hp_common.h>
#include <hp_eal.h>
#include <hp_mempool_core.h>
#include <hp_mempool_driver.h>
#include <hp_ptrcopy_pvt.h>
/* the per-CPU caches' sequences of this architecture (lib/rseq/arch/), or the fallback's */
#include <hp_mempool_rseq.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @internal
 * Get when cache c cannot serve n: attach a user cache to mp, refill c, or take from the
 * backend directly (c NULL or of size 0, or n above its size).
 * @return 0, or -ENOENT with nothing taken
 */
HP_API int __hp_mempool_get_slow(struct hp_mempool *mp, void **objs, unsigned n,
				 struct hp_mempool_cache *c);

/**
 * @internal
 * Put when cache c would pass its threshold: flush its colder part to the backend (or, for c
 * NULL or of size 0, or n above its size, put straight into the backend).
 */
HP_API void __hp_mempool_put_slow(struct hp_mempool *mp, void *const *objs, unsigned n,
				  struct hp_mempool_cache *c);

/**
 * @internal
 * The backend refused n objects (its enqueue returned err): log it and count the objects in
 * mp's bad puts (hp_mempool_debug_errors()).
 */
HP_API void __hp_mempool_put_refused(struct hp_mempool *mp, unsigned n, int err);

/**
 * @internal
 * Debug build (HP_MEMPOOL_DEBUG): check the cookies of n objects just taken and mark them in use.
 */
HP_API void __hp_mempool_debug_got(struct hp_mempool *mp, void **objs, unsigned n);

/**
 * @internal
 * Debug build: get n objects through the calling lcore's cache (lcore 1) or cache c (lcore 0),
 * then __hp_mempool_debug_got(). A get or put of mp that the calling thread is already inside
 * (a signal handler that interrupted it) is refused and logged instead of run.
 * @return 0, -ENOENT (nothing taken), or -EDEADLK for such a re-entry (nothing taken)
 */
HP_API int __hp_mempool_debug_get(struct hp_mempool *mp, void **objs, unsigned n,
				  struct hp_mempool_cache *c, int lcore);

/**
 * @internal
 * Debug build: check each object, report and refuse bad ones, put the good ones through the
 * calling lcore's cache (lcore 1) or cache c (lcore 0). A re-entry (see __hp_mempool_debug_get)
 * refuses all n objects and logs it.
 */
HP_API void __hp_mempool_debug_put(struct hp_mempool *mp, void *const *objs, unsigned n,
				   struct hp_mempool_cache *c, int lcore);

/**
 * @internal
 * Get when the calling CPU's cache could not serve n: refill it from the backend, or take from
 * the backend directly (draining the per-CPU caches if it is short).
 * @return 0, or -ENOENT with nothing taken
 */
HP_API int __hp_mempool_percpu_get_slow(struct hp_mempool *mp, void **objs, unsigned n);

/**
 * @internal
 * Put when the calling CPU's cache could not take n: flush part of it to the backend first.
 */
HP_API void __hp_mempool_percpu_put_slow(struct hp_mempool *mp, void *const *objs, unsigned n);

#ifdef HP_MEMPOOL_STATS
/** @internal Add v to a statistics counter of a cache. */
static inline void __hp_mempool_stat(uint64_t *ctr, unsigned v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}
/** @internal Count v in the field of cache c's statistics. */
#define __HP_MEMPOOL_STAT(c, field, v) __hp_mempool_stat(&(c)->stats.field, (v))
/** @internal Count a call of n objects in the bulk histogram: 1, 2-3, 4-7, ... 32-63, 64+. */
#define __HP_MEMPOOL_STAT_BULK(c, n)                                                               \
	__hp_mempool_stat(&(c)->stats.bulk[(n) >= 64 ? 6 : (n) ? 31 - __builtin_clz(n) : 0], 1)
#else
#define __HP_MEMPOOL_STAT(c, field, v) ((void)0)
#define __HP_MEMPOOL_STAT_BULK(c, n) ((void)0)
#endif

/**
 * @internal
 * The calling thread's cache in mp: slot hp_lcore_id() + 1, or slot 0 (size 0, never serves)
 * for a thread without an lcore id.
 */
static inline struct hp_mempool_cache *__hp_mempool_lcore_cache(const struct hp_mempool *mp)
{
	return __hp_mempool_cache_slot(mp, hp_lcore_id() + 1u);
}

/**
 * @internal
 * Get through the calling CPU's cache. s is slot 0 (or another cache of size 0, whose table
 * is 0): without a table, the backend directly.
 */
static inline int __hp_mempool_percpu_get(struct hp_mempool *mp, void **objs, unsigned n,
					  struct hp_mempool_cache *s)
{
	if (HP_LIKELY(s->percpu.table)) {
		if (HP_LIKELY(n && __hp_mempool_rseq_pop(s, objs, n))) {
			__HP_MEMPOOL_STAT(s, gets, 1);
			__HP_MEMPOOL_STAT(s, get_objs, n);
			__HP_MEMPOOL_STAT_BULK(s, n);
			return 0;
		}
		return __hp_mempool_percpu_get_slow(mp, objs, n);
	}
	if (HP_UNLIKELY(n == 0))
		return 0;
#ifndef HP_MEMPOOL_STATS
	return mp->ops->dequeue(mp, objs, n); /* no cache: one call into the backend */
#else
	return __hp_mempool_get_slow(mp, objs, n, s);
#endif
}

/** @internal Put through the calling CPU's cache; s as for the get. */
static inline void __hp_mempool_percpu_put(struct hp_mempool *mp, void *const *objs, unsigned n,
					   struct hp_mempool_cache *s)
{
	if (HP_LIKELY(s->percpu.table)) {
		if (HP_LIKELY(n && __hp_mempool_rseq_push(s, objs, n))) {
			__HP_MEMPOOL_STAT(s, puts, 1);
			__HP_MEMPOOL_STAT(s, put_objs, n);
			__HP_MEMPOOL_STAT_BULK(s, n);
			return;
		}
		__hp_mempool_percpu_put_slow(mp, objs, n);
		return;
	}
	if (HP_UNLIKELY(n == 0))
		return;
#ifndef HP_MEMPOOL_STATS
	int rc = mp->ops->enqueue(mp, objs, n); /* no cache: one call into the backend */

	if (HP_UNLIKELY(rc < 0))
		__hp_mempool_put_refused(mp, n, rc);
#else
	__hp_mempool_put_slow(mp, objs, n, s);
#endif
}

/**
 * @internal Get n objects through cache c (never NULL, attached to mp, not slot 0: slot 0 is
 * shared, and the callers send threads without an lcore id to __hp_mempool_percpu_get()).
 */
static inline int __hp_mempool_cache_get(struct hp_mempool *mp, void **objs, unsigned n,
					 struct hp_mempool_cache *c)
{
	unsigned long long len = c->len;

	if (HP_LIKELY(n <= len)) {
		len -= n;
		__hp_ptrcopy(objs, &c->objs[len], n);
		c->len = len; /* after the copy: see __hp_mempool_cache_put() */
		__HP_MEMPOOL_STAT(c, gets, 1);
		__HP_MEMPOOL_STAT(c, get_objs, n);
		__HP_MEMPOOL_STAT_BULK(c, n);
		return 0;
	}
	if (c->size == 0) /* a pool without caches */
		return __hp_mempool_percpu_get(mp, objs, n, c);
	return __hp_mempool_get_slow(mp, objs, n, c);
}

/** @internal Put n objects through cache c (never NULL, attached to mp, not slot 0). */
static inline void __hp_mempool_cache_put(struct hp_mempool *mp, void *const *objs, unsigned n,
					  struct hp_mempool_cache *c)
{
	unsigned long long len = c->len;

	if (HP_LIKELY(len + n <= c->flushthresh)) {
		__hp_ptrcopy(&c->objs[len], objs, n);
		/* len is stored after the copy, so that it can stay in a register from one get
		 * or put of a loop to the next */
		c->len = len + n;
		__HP_MEMPOOL_STAT(c, puts, 1);
		__HP_MEMPOOL_STAT(c, put_objs, n);
		__HP_MEMPOOL_STAT_BULK(c, n);
		return;
	}
	if (c->size == 0) {
		__hp_mempool_percpu_put(mp, objs, n, c);
		return;
	}
	__hp_mempool_put_slow(mp, objs, n, c);
}

/**
 * @internal Get n objects through the calling thread's cache: its lcore's, or (no lcore id)
 * its CPU's, through slot 0.
 */
static inline int __hp_mempool_default_get(struct hp_mempool *mp, void **objs, unsigned n)
{
	unsigned id = hp_lcore_id();

	if (id == HP_LCORE_ANY)
		return __hp_mempool_percpu_get(mp, objs, n, __hp_mempool_cache_slot(mp, 0));
	return __hp_mempool_cache_get(mp, objs, n, __hp_mempool_cache_slot(mp, id + 1u));
}

/** @internal Put n objects through the calling thread's cache, as for the get. */
static inline void __hp_mempool_default_put(struct hp_mempool *mp, void *const *objs, unsigned n)
{
	unsigned id = hp_lcore_id();

	if (id == HP_LCORE_ANY) {
		__hp_mempool_percpu_put(mp, objs, n, __hp_mempool_cache_slot(mp, 0));
		return;
	}
	__hp_mempool_cache_put(mp, objs, n, __hp_mempool_cache_slot(mp, id + 1u));
}

#ifdef __cplusplus
}
#endif
#endif
