/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool.h
 * Mempools: fixed-size objects carved from hugepages on a NUMA node, handed out through a cache
 * per lcore (or a cache the caller owns) in front of a backend (ring_mp_mc, ring_sp_sc, stack,
 * ...). get/put are inline here. A cache is written only by the thread that owns it (its lcore,
 * or the owner of a user cache); backends are called once per bulk, never per object. A thread
 * without an lcore id gets a cache too: the per-CPU cache of the CPU it runs on, reached
 * through restartable sequences (doc/percpu-cache.md), where the system has them.
 * The layouts are private (hp_mempool_core.h), as is the inline machinery (hp_mempool_pvt.h);
 * backends are written against hp_mempool_driver.h.
 */
#ifndef HP_MEMPOOL_H
#define HP_MEMPOOL_H

#include <stdint.h>
#include <stdio.h>
#include <hp_common.h>
#include <hp_eal.h>
#include <hp_mempool_pvt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest cache size (objects) of a pool or of a user-owned cache. */
#define HP_MEMPOOL_CACHE_MAX 512
/** Objects may straddle pages that are not IOVA-contiguous. */
#define HP_MEMPOOL_F_NO_IOVA_CONTIG 0x1
/** Only one thread at a time puts objects (default backend becomes single-producer). */
#define HP_MEMPOOL_F_SP_PUT 0x2
/** Only one thread at a time gets objects (default backend becomes single-consumer). */
#define HP_MEMPOOL_F_SC_GET 0x4
/** Objects start at an 8-byte boundary instead of a cache line (packs small objects). */
#define HP_MEMPOOL_F_NO_CACHE_ALIGN 0x8
/* HP_MEMPOOL_NAMESIZE (longest pool name + 1) comes from hp_mempool_core.h. */

/* ---- Hot path ------------------------------------------------------------------------------ */

/**
 * Take n objects, all or nothing, through the calling lcore's cache; for a thread without an
 * lcore id, through the cache of the CPU it runs on (the backend directly where per-CPU caches
 * are off: see hp_mempool_percpu_enabled()).
 * @param mp the pool
 * @param objs filled with n object pointers
 * @param n how many
 * @return 0, or -ENOENT when fewer than n objects could be had (nothing taken)
 */
static inline int hp_mempool_get_bulk(struct hp_mempool *mp, void **objs, unsigned n)
{
#ifdef HP_MEMPOOL_DEBUG
	return __hp_mempool_debug_get(mp, objs, n, NULL, 1);
#else
	return __hp_mempool_default_get(mp, objs, n);
#endif
}

/**
 * Give n objects back through the calling lcore's cache (without an lcore id: the CPU's cache).
 * @param mp the pool the objects came from
 * @param objs n object pointers
 * @param n how many
 */
static inline void hp_mempool_put_bulk(struct hp_mempool *mp, void *const *objs, unsigned n)
{
#ifdef HP_MEMPOOL_DEBUG
	__hp_mempool_debug_put(mp, objs, n, NULL, 1);
#else
	__hp_mempool_default_put(mp, objs, n);
#endif
}

/**
 * Take one object.
 * @param mp the pool
 * @param obj set to the object
 * @return 0, or -ENOENT when the pool is empty
 */
static inline int hp_mempool_get(struct hp_mempool *mp, void **obj)
{
	return hp_mempool_get_bulk(mp, obj, 1);
}

/**
 * Give one object back.
 * @param mp the pool it came from
 * @param obj the object
 */
static inline void hp_mempool_put(struct hp_mempool *mp, void *obj)
{
	hp_mempool_put_bulk(mp, &obj, 1);
}

/**
 * Take n objects through a cache the caller owns (or none), all or nothing.
 * A cache holds objects of one pool at a time; using it with another pool first gives its
 * objects back to the first.
 * @param mp the pool
 * @param objs filled with n object pointers
 * @param n how many
 * @param c cache from hp_mempool_cache_create(), or NULL for the backend directly
 * @return 0, or -ENOENT (nothing taken)
 */
static inline int hp_mempool_generic_get(struct hp_mempool *mp, void **objs, unsigned n,
					 struct hp_mempool_cache *c)
{
#ifdef HP_MEMPOOL_DEBUG
	return __hp_mempool_debug_get(mp, objs, n, c, 0);
#else
	int rc;

	if (HP_UNLIKELY(c == NULL || c->mp != mp))
		rc = __hp_mempool_get_slow(mp, objs, n, c);
	else
		rc = __hp_mempool_cache_get(mp, objs, n, c);
	return rc;
#endif
}

/**
 * Give n objects back through a cache the caller owns (or none).
 * @param mp the pool the objects came from
 * @param objs n object pointers
 * @param n how many
 * @param c cache from hp_mempool_cache_create(), or NULL for the backend directly
 */
static inline void hp_mempool_generic_put(struct hp_mempool *mp, void *const *objs, unsigned n,
					  struct hp_mempool_cache *c)
{
#ifdef HP_MEMPOOL_DEBUG
	__hp_mempool_debug_put(mp, objs, n, c, 0);
#else
	if (HP_UNLIKELY(c == NULL || c->mp != mp))
		__hp_mempool_put_slow(mp, objs, n, c);
	else
		__hp_mempool_cache_put(mp, objs, n, c);
#endif
}

/**
 * IOVA of an object, read from the 8 bytes in front of it (no table walk, no pagemap read).
 * @param obj an object of any pool
 * @return its IOVA (HP_BAD_IOVA if its memory had none)
 */
static inline uint64_t hp_mempool_virt2iova(const void *obj)
{
	uint64_t iova;

	__builtin_memcpy(&iova, (const char *)obj - sizeof(iova), sizeof(iova));
	return iova;
}

/**
 * The calling thread's cache in a pool (to flush it, or to pass to hp_mempool_generic_get/put).
 * @param mp the pool
 * @return the cache of the calling lcore, or NULL for a thread without an lcore id or a pool
 *         without caches
 */
static inline struct hp_mempool_cache *hp_mempool_default_cache(struct hp_mempool *mp)
{
	if (hp_lcore_id() == HP_LCORE_ANY || mp->cache_size == 0)
		return NULL;
	return __hp_mempool_lcore_cache(mp);
}

/* ---- Pools --------------------------------------------------------------------------------- */

/**
 * Create a pool of n objects on a node, with the default backend (ring_mp_mc; ring_sp_sc,
 * ring_sp_mc or ring_mp_sc when HP_MEMPOOL_F_SP_PUT / HP_MEMPOOL_F_SC_GET are given).
 * @param name unique name, 1 to HP_MEMPOOL_NAMESIZE - 1 characters
 * @param n objects, > 0
 * @param elt_size bytes of each object, > 0
 * @param cache_size objects in each lcore's cache, 0 (no cache) to HP_MEMPOOL_CACHE_MAX and <= n
 * @param node NUMA node, or HP_NODE_ANY for the caller's
 * @param flags 0 or an OR of HP_MEMPOOL_F_*
 * @return the pool, or NULL with errno EINVAL (bad argument, or before hp_init()), EEXIST (name
 *         taken), ENOMEM (not enough memory on the node), ENODEV (no such node)
 */
HP_API struct hp_mempool *hp_mempool_create(const char *name, unsigned n, unsigned elt_size,
					    unsigned cache_size, int node, unsigned flags);

/**
 * Create a pool with a named backend (see hp_mempool_create()).
 * @param name unique name, 1 to HP_MEMPOOL_NAMESIZE - 1 characters
 * @param n objects, > 0
 * @param elt_size bytes of each object, > 0
 * @param cache_size objects in each lcore's cache, 0 to HP_MEMPOOL_CACHE_MAX and <= n
 * @param node NUMA node, or HP_NODE_ANY for the caller's
 * @param flags 0 or an OR of HP_MEMPOOL_F_*
 * @param ops_name "ring_mp_mc", "ring_sp_sc", "ring_sp_mc", "ring_mp_sc", "stack", or any
 *        registered backend; NULL for the default
 * @return the pool, or NULL with errno EINVAL (bad argument, unknown backend, before
 *         hp_init()), EEXIST, ENOMEM, ENODEV
 */
HP_API struct hp_mempool *hp_mempool_create_ops(const char *name, unsigned n, unsigned elt_size,
						unsigned cache_size, int node, unsigned flags,
						const char *ops_name);

/**
 * @param name pool name
 * @return the pool, or NULL with errno ENOENT (no such pool) or EINVAL (NULL name)
 */
HP_API struct hp_mempool *hp_mempool_lookup(const char *name);

/**
 * Destroy a pool and give its memory back (objects still out become invalid). NULL is ignored.
 * A pool freed already, or a pointer that is no pool, is refused with a sentence and an error
 * log line, and nothing is freed: the addresses of the last 64 pools freed are remembered, and
 * no new pool starts at one of them meanwhile (no memory is held for it) (beyond that, a stale
 * pointer is refused as "not a pool" unless a new pool took its address). A pool freed while a
 * hp_mempool_walk() is under way keeps its memory until the walk ends. (Returns int where DPDK's
 * rte_mempool_free returns void: callers that ignore it compile unchanged.)
 * @param mp the pool
 * @return 0 (freed, or mp NULL), or -EINVAL (freed already, or not a pool)
 */
HP_API int hp_mempool_free(struct hp_mempool *mp);

/**
 * Objects available: in the backend and in every cache (lcore caches, per-CPU caches and
 * attached user caches), each read once without stopping anyone. Exact when every get and put
 * on the pool returned before the call (in other threads: and is ordered before it, by a join,
 * a lock or an atomic). While other threads get and put, objects moving between a cache and
 * the backend during the call may be counted twice or not at all: the result is then within
 * the number of objects in flight of the true count, and never above the pool's size.
 * @param mp the pool
 * @return the count; 0 with errno EINVAL (and a sentence) when mp is NULL
 */
HP_API unsigned hp_mempool_avail_count(const struct hp_mempool *mp);

/**
 * @param mp the pool
 * @return objects taken and not given back (size - avail_count); 0 with errno EINVAL when mp
 *         is NULL
 */
HP_API unsigned hp_mempool_in_use_count(const struct hp_mempool *mp);

/**
 * Call fn once for every object of the pool, in address order, whether free or in use. No lock
 * is held: fn may call any public function, but must not free the pool.
 * @param mp the pool
 * @param fn callback; idx counts from 0
 * @param arg passed to fn
 * @return the number of objects visited, or -EINVAL (mp or fn NULL)
 */
HP_API int hp_mempool_obj_iter(struct hp_mempool *mp,
			       void (*fn)(struct hp_mempool *mp, void *arg, void *obj,
					  unsigned idx),
			       void *arg);

/**
 * Call fn once for every memory chunk the pool's objects are carved from, in address order of
 * the objects (DPDK: rte_mempool_mem_iter). Every object, with the header in front of it, lies
 * inside one chunk. A program that registers a pool's memory with a device (an AF_XDP UMEM, an
 * RDMA memory region) learns the ranges here. No lock is held: fn may call any public function,
 * but must not free the pool.
 * @param mp the pool
 * @param fn callback: va and len of the chunk; idx counts from 0
 * @param arg passed to fn
 * @return the number of chunks (1 to HP_MEMPOOL_MAX_CHUNKS), or -EINVAL (mp or fn NULL)
 */
HP_API int hp_mempool_mem_iter(struct hp_mempool *mp,
			       void (*fn)(struct hp_mempool *mp, void *arg, void *va, size_t len,
					  unsigned idx),
			       void *arg);

/**
 * Check a pool's counts (and, in a debug build, every object's cookies and the number of
 * objects marked in use). Run it while no other thread uses the pool.
 * @param mp the pool
 * @return 0, -EFAULT with hp_last_error() naming the first problem found, or -EINVAL (mp NULL)
 */
HP_API int hp_mempool_audit(struct hp_mempool *mp);

/**
 * Write a description of the pool (sizes, backend, counts, caches, statistics) to f.
 * @param f stream
 * @param mp the pool
 * @return 0, or -EINVAL (f or mp NULL)
 */
HP_API int hp_mempool_dump(FILE *f, const struct hp_mempool *mp);

/**
 * Bad puts seen so far, in objects: in every build, objects the backend refused because the pool
 * already held all its objects (an object put twice); in a debug build (-Dmempool_debug=true)
 * also the puts refused for a double free, a foreign pointer or an overrun. Each is logged too.
 * @param mp the pool
 * @return the count; 0 with errno EINVAL when mp is NULL
 */
HP_API uint64_t hp_mempool_debug_errors(const struct hp_mempool *mp);

/* ---- Per-CPU caches ------------------------------------------------------------------------ */

/**
 * Whether threads without an lcore id get a cache in this process: the per-CPU cache of the
 * CPU they run on, used through restartable sequences (doc/percpu-cache.md). Decided once, at
 * the first hp_init() (or at this call if it comes first): it needs x86-64, glibc's rseq
 * registration (off under GLIBC_TUNABLES=glibc.pthread.rseq=0) and membarrier's RSEQ fence,
 * and is off in ThreadSanitizer builds. Off, such threads use the backend directly.
 * @param why if not NULL, set to a sentence saying what was found or what is missing
 * @return true when per-CPU caches are on
 */
HP_API bool hp_mempool_percpu_enabled(const char **why);

/**
 * Give every per-CPU cache's objects of a pool back to its backend, while other threads keep
 * using the pool (each CPU's cache is fenced with membarrier, not stopped with a lock).
 * @param mp the pool
 * @return the number of objects moved, or -EINVAL (mp is NULL)
 */
HP_API int hp_mempool_percpu_flush(struct hp_mempool *mp);

/* ---- Caches owned by the caller ------------------------------------------------------------ */

/**
 * Create a cache for a thread without an lcore id (or any thread that wants its own).
 * @param size objects it keeps, 1 to HP_MEMPOOL_CACHE_MAX
 * @param node NUMA node for its memory, or HP_NODE_ANY for the caller's
 * @return the cache, or NULL with errno EINVAL (bad size), ENODEV (no such node) or ENOMEM
 */
HP_API struct hp_mempool_cache *hp_mempool_cache_create(unsigned size, int node);

/**
 * Give a cache's objects back to their pool: a user cache, or an lcore's own cache from
 * hp_mempool_default_cache() (only its lcore may flush it).
 * @param c the cache
 */
HP_API void hp_mempool_cache_flush(struct hp_mempool_cache *c);

/**
 * Flush a cache and free it. NULL is ignored.
 * @param c the cache
 */
HP_API void hp_mempool_cache_free(struct hp_mempool_cache *c);

/**
 * Call fn for every pool, oldest first (as DPDK's rte_mempool_walk). fn runs with no lock of the
 * library held, so it may call any public function (create, look up, free and walk pools, rings
 * and memzones), from any thread, while other threads do the same. A pool freed during the walk
 * is not visited afterwards (its memory waits for the walk to end, so the pool fn was given
 * stays readable until fn returns), one created is not visited.
 * @param fn callback; a non-zero return stops the walk
 * @param arg passed to fn
 * @return 0, or the first non-zero value fn returned, or -EINVAL (fn is NULL), -ENOMEM
 */
HP_API int hp_mempool_walk(int (*fn)(struct hp_mempool *mp, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
