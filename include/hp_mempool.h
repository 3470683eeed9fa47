/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool.h
 * Mempools: fixed-size objects carved from hugepages on a NUMA node, handed out through a cache
 * per lcore (or a cache the caller owns) in front of a backend (ring_mp_mc, ring_sp_sc, stack,
 * ...). get/put are inline here. A cache is written only by the thread that owns it (its lcore,
 * or the owner of a user cache); backends are called once per bulk, never per object.
 */
#ifndef HP_MEMPOOL_H
#define HP_MEMPOOL_H

#include <stdint.h>
#include <stdio.h>
#include <hp_common.h>
#include <hp_eal.h>

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
/** Longest pool name + 1. */
#define HP_MEMPOOL_NAMESIZE 24
/** Longest backend (ops) name + 1. */
#define HP_MEMPOOL_OPS_NAMESIZE 32
/** Most memory chunks (memzones) a pool's objects may come from. */
#define HP_MEMPOOL_MAX_CHUNKS 16

struct hp_mempool;

/**
 * A backend: where objects rest when no cache holds them. Registered by name with
 * HP_MEMPOOL_REGISTER_OPS() from the driver's own file; the pool calls it once per bulk.
 */
struct hp_mempool_ops {
	/** unique name, 1 to HP_MEMPOOL_OPS_NAMESIZE - 1 characters */
	const char *name;
	/** set up room for mp->size objects in mp->pool_data; 0 or -errno through hp_fail() */
	int (*alloc)(struct hp_mempool *mp);
	/** give back what alloc took */
	void (*free)(struct hp_mempool *mp);
	/** store n objects; there is always room (a pool never holds more than mp->size) */
	void (*enqueue)(struct hp_mempool *mp, void *const *objs, unsigned n);
	/** take n objects, all or nothing: 0, or -ENOENT with nothing taken */
	int (*dequeue)(struct hp_mempool *mp, void **objs, unsigned n);
	/** objects stored now */
	unsigned (*count)(const struct hp_mempool *mp);
};

/**
 * Add a backend (called from a constructor by HP_MEMPOOL_REGISTER_OPS; not thread-safe).
 * @param ops the backend; must stay valid for the life of the process
 * @return 0, -EINVAL (missing function or bad name), -EEXIST (name taken), -ENOSPC (table full)
 */
HP_API int hp_mempool_ops_register(const struct hp_mempool_ops *ops);

/** Register a backend when the library (or program) holding it is loaded. */
#define HP_MEMPOOL_REGISTER_OPS(ops)                                                      \
	static void __attribute__((constructor)) hp_mempool_ops_ctor_##ops(void)        \
	{                                                                                 \
		hp_mempool_ops_register(&(ops));                                          \
	}

/** Per-cache statistics (only with the build option mempool_stats). */
struct hp_mempool_stats {
	uint64_t gets;        /**< successful get calls */
	uint64_t get_objs;    /**< objects they returned */
	uint64_t get_fails;   /**< get calls that returned -ENOENT */
	uint64_t puts;        /**< put calls */
	uint64_t put_objs;    /**< objects they stored */
	uint64_t backend;     /**< calls into the backend (refills, flushes, direct) */
	uint64_t bulk[7];     /**< get+put calls of n objects: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+ */
};

/**
 * A cache: a stack of objects, the hottest on top. Private fields, here only for the inline
 * get/put. Written only by its owner; objs holds size * 5 / 2 slots.
 */
struct hp_mempool_cache {
	/*
	 * unsigned long long, a type nothing else on the hot path has: a store to len cannot
	 * alias the pool's uintptr_t fields or the unsigned lcore id, so the compiler need not
	 * reload those after it (it still does after a call to the slow path in the same loop).
	 */
	unsigned long long len;         /**< objects in objs[0, len) */
	unsigned long long flushthresh; /**< a put that would pass this flushes the colder ones */
	unsigned long long size;        /**< size asked for; 0 for "no cache" */
	struct hp_mempool *mp;    /**< pool whose objects it holds (user caches attach on first use) */
	struct hp_mempool_cache *next; /**< user caches attached to the same pool */
	int node;                 /**< user caches: node given at create */
#ifdef HP_MEMPOOL_STATS
	struct hp_mempool_stats stats; /**< counters (relaxed atomic adds) */
#endif
	HP_CACHE_ALIGNED void *objs[]; /**< the objects */
};

/**
 * A pool. The fields are private; they are here only so that get/put can be inline.
 * The first cache line is all the hot path reads.
 */
struct hp_mempool {
	/** lcore caches: slot hp_lcore_id() + 1; slot 0 (no lcore id) always sends to the backend */
	uintptr_t cache_base;
	uintptr_t cache_stride;        /**< bytes from one lcore cache to the next */
	const struct hp_mempool_ops *ops; /**< backend */
	void *pool_data;               /**< backend's state */
	unsigned size;                 /**< objects in the pool */
	unsigned elt_size;             /**< bytes of each object, as asked */
	unsigned cache_size;           /**< per-lcore cache size */
	unsigned flags;                /**< HP_MEMPOOL_F_* */
	int node;                      /**< NUMA node of the objects */
	unsigned header_size;          /**< bytes before each object (8: its IOVA) */
	unsigned trailer_size;         /**< bytes after each object (debug cookie) */
	unsigned obj_align;            /**< alignment of each object's start */
	char name[HP_MEMPOOL_NAMESIZE]; /**< unique name */
	/** where the objects are */
	struct hp_mempool_chunk {
		char *va;                    /**< start */
		size_t len;                  /**< bytes */
		unsigned count;              /**< objects carved from it */
		const void *mz;              /**< the memzone */
	} chunks[HP_MEMPOOL_MAX_CHUNKS];
	unsigned n_chunks;             /**< used entries of chunks */
	const void *mz;                /**< the memzone holding this struct and the lcore caches */
	struct hp_mempool_cache *user_caches; /**< user caches attached (under the registry lock) */
	struct hp_mempool *next;       /**< registry of named pools */
	uint64_t debug_errors;         /**< debug build: bad puts seen (atomic) */
};

/* ---- Out-of-line parts of the hot path (private; called by the inline functions) --------- */

/** Private: get when the cache cannot serve n (refill, or straight from the backend). */
HP_API int hp_mempool_get_slow_(struct hp_mempool *mp, void **objs, unsigned n,
				struct hp_mempool_cache *c);
/** Private: put when the cache would pass its threshold (flush the colder part). */
HP_API void hp_mempool_put_slow_(struct hp_mempool *mp, void *const *objs, unsigned n,
				 struct hp_mempool_cache *c);
/** Private (debug build): check cookies of objects just taken and mark them in use. */
HP_API void hp_mempool_debug_got_(struct hp_mempool *mp, void **objs, unsigned n);
/** Private (debug build): check each object, report bad ones, put the good ones. */
HP_API void hp_mempool_debug_put_(struct hp_mempool *mp, void *const *objs, unsigned n,
				  struct hp_mempool_cache *c, int lcore);

#ifdef HP_MEMPOOL_STATS
static inline void hp_mempool_stat_(struct hp_mempool_cache *c, uint64_t *ctr, unsigned v)
{
	(void)c;
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}
#define HP_MEMPOOL_STAT_(c, field, v) hp_mempool_stat_((c), &(c)->stats.field, (v))
/* bulk-size histogram: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+ */
#define HP_MEMPOOL_STAT_BULK_(c, n)                                                          \
	hp_mempool_stat_((c),                                                                 \
			 &(c)->stats.bulk[(n) >= 64 ? 6 : (n) ? 31 - __builtin_clz(n) : 0], 1)
#else
#define HP_MEMPOOL_STAT_(c, field, v) ((void)0)
#define HP_MEMPOOL_STAT_BULK_(c, n) ((void)0)
#endif

/*
 * Private: copy one block of eight pointers. Loads and stores are of type void * (never memcpy,
 * never a vector type that may alias anything): the compiler then knows they cannot change the
 * cache length or the pool's fields, and keeps those in registers across a loop of gets and
 * puts. Where the target has AVX the vectorizer turns a block into two 32-byte moves.
 */
static inline void hp_mempool_copy8_(void **dst, void *const *src)
{
	void *a = src[0], *b = src[1], *c = src[2], *d = src[3];
	void *e = src[4], *f = src[5], *g = src[6], *h = src[7];

	dst[0] = a;
	dst[1] = b;
	dst[2] = c;
	dst[3] = d;
	dst[4] = e;
	dst[5] = f;
	dst[6] = g;
	dst[7] = h;
}

/** Private: copy n pointers, all inline (constant n, and the library's own slow paths). */
static inline void hp_mempool_copy_(void **dst, void *const *src, unsigned n)
{
	if (n == 1) { /* the commonest call: one load, one store, one predictable branch */
		dst[0] = src[0];
		return;
	}
	/* unrolled twice, not more: fully unrolled, the blocks of a constant bulk are no longer
	 * turned into vector moves */
#pragma GCC unroll 2
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		hp_mempool_copy8_(dst, src);
	if (!(n & 7)) /* bulks of 8, 16, 32...: no tail tests */
		return;
	if (n & 4) {
		void *a = src[0], *b = src[1], *c = src[2], *d = src[3];

		dst[0] = a;
		dst[1] = b;
		dst[2] = c;
		dst[3] = d;
		dst += 4;
		src += 4;
	}
	if (n & 2) {
		void *a = src[0], *b = src[1];

		dst[0] = a;
		dst[1] = b;
		dst += 2;
		src += 2;
	}
	if (n & 1)
		dst[0] = src[0];
}

/** Private: hp_mempool_copy_() out of line, for the hot path's odd run-time bulks. */
HP_API void hp_mempool_copy_out_(void **dst, void *const *src, unsigned n);

/*
 * Private: the hot path's copy. A constant n is copied inline, folded to its exact moves. A
 * run-time n (a loop whose bulk size is a variable) must not bring the whole generic copy
 * inline: its tail tests and registers would weigh on every get and put of the loop, the
 * single-object ones included, which spill and reload around them. So n == 1 and n < 8 stay
 * inline (short and cheap), whole blocks of eight stay inline (the block loop alone is small;
 * left rolled, as unrolling it adds a peeled block that costs more than it saves), and only a
 * bulk of 9 or more that is not a multiple of 8 calls out.
 */
static inline void hp_mempool_cache_copy_(void **dst, void *const *src, unsigned n)
{
	if (n == 1) { /* first, as in hp_mempool_copy_(): one test for the commonest call */
		dst[0] = src[0];
		return;
	}
	if (__builtin_constant_p(n) || n < 8)
		hp_mempool_copy_(dst, src, n);
	else if (!(n & 7))
		for (; n; n -= 8, dst += 8, src += 8)
			hp_mempool_copy8_(dst, src);
	else
		hp_mempool_copy_out_(dst, src, n);
}

/** Private: the calling thread's cache in mp (slot 0, which never serves, without an lcore id). */
static inline struct hp_mempool_cache *hp_mempool_lcore_cache_(const struct hp_mempool *mp)
{
	/* HP_LCORE_ANY + 1 wraps to 0: no bounds check on the hot path */
	return (struct hp_mempool_cache *)(mp->cache_base +
					   (uintptr_t)(hp_lcore_id() + 1u) * mp->cache_stride);
}

/** Private: get through cache c (never NULL). */
static inline int hp_mempool_cache_get_(struct hp_mempool *mp, void **objs, unsigned n,
					struct hp_mempool_cache *c)
{
	unsigned long long len = c->len;

	if (HP_LIKELY(n <= len)) {
		len -= n;
		hp_mempool_cache_copy_(objs, &c->objs[len], n);
		c->len = len; /* after the copy: see hp_mempool_cache_put_ */
		HP_MEMPOOL_STAT_(c, gets, 1);
		HP_MEMPOOL_STAT_(c, get_objs, n);
		HP_MEMPOOL_STAT_BULK_(c, n);
		return 0;
	}
#ifndef HP_MEMPOOL_STATS
	if (c->size == 0) /* a pool without caches, or a thread without an lcore id */
		return mp->ops->dequeue(mp, objs, n);
#endif
	return hp_mempool_get_slow_(mp, objs, n, c);
}

/** Private: put through cache c (never NULL). */
static inline void hp_mempool_cache_put_(struct hp_mempool *mp, void *const *objs, unsigned n,
					 struct hp_mempool_cache *c)
{
	unsigned long long len = c->len;

	if (HP_LIKELY(len + n <= c->flushthresh)) {
		hp_mempool_cache_copy_(&c->objs[len], objs, n);
		/*
		 * len is stored after the copy, never before: the compiler cannot always tell the
		 * copy's stores from len, and a store of len that comes last lets it carry len in a
		 * register to the next get or put of a loop instead of reloading it from memory.
		 */
		c->len = len + n;
		HP_MEMPOOL_STAT_(c, puts, 1);
		HP_MEMPOOL_STAT_(c, put_objs, n);
		HP_MEMPOOL_STAT_BULK_(c, n);
		return;
	}
#ifndef HP_MEMPOOL_STATS
	if (c->size == 0) { /* straight to the backend: one call, as DPDK makes */
		mp->ops->enqueue(mp, objs, n);
		return;
	}
#endif
	hp_mempool_put_slow_(mp, objs, n, c);
}

/* ---- Hot path ------------------------------------------------------------------------------ */

/**
 * Take n objects, all or nothing, through the calling lcore's cache (or the backend directly
 * for a thread without an lcore id).
 * @param mp the pool
 * @param objs filled with n object pointers
 * @param n how many
 * @return 0, or -ENOENT when fewer than n objects could be had (nothing taken)
 */
static inline int hp_mempool_get_bulk(struct hp_mempool *mp, void **objs, unsigned n)
{
#ifdef HP_MEMPOOL_DEBUG
	int rc = hp_mempool_cache_get_(mp, objs, n, hp_mempool_lcore_cache_(mp));

	if (rc == 0)
		hp_mempool_debug_got_(mp, objs, n);
	return rc;
#else
	return hp_mempool_cache_get_(mp, objs, n, hp_mempool_lcore_cache_(mp));
#endif
}

/**
 * Give n objects back through the calling lcore's cache.
 * @param mp the pool the objects came from
 * @param objs n object pointers
 * @param n how many
 */
static inline void hp_mempool_put_bulk(struct hp_mempool *mp, void *const *objs, unsigned n)
{
#ifdef HP_MEMPOOL_DEBUG
	hp_mempool_debug_put_(mp, objs, n, NULL, 1);
#else
	hp_mempool_cache_put_(mp, objs, n, hp_mempool_lcore_cache_(mp));
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
	int rc;

	if (HP_UNLIKELY(c == NULL || c->mp != mp))
		rc = hp_mempool_get_slow_(mp, objs, n, c);
	else
		rc = hp_mempool_cache_get_(mp, objs, n, c);
#ifdef HP_MEMPOOL_DEBUG
	if (rc == 0)
		hp_mempool_debug_got_(mp, objs, n);
#endif
	return rc;
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
	hp_mempool_debug_put_(mp, objs, n, c, 0);
#else
	if (HP_UNLIKELY(c == NULL || c->mp != mp))
		hp_mempool_put_slow_(mp, objs, n, c);
	else
		hp_mempool_cache_put_(mp, objs, n, c);
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
	return hp_mempool_lcore_cache_(mp);
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
 * @param mp the pool
 */
HP_API void hp_mempool_free(struct hp_mempool *mp);

/**
 * Objects available: in the backend and in every cache (lcore caches and attached user caches).
 * Exact when no other thread is using the pool, a snapshot otherwise.
 * @param mp the pool
 * @return the count
 */
HP_API unsigned hp_mempool_avail_count(const struct hp_mempool *mp);

/**
 * @param mp the pool
 * @return objects taken and not given back (size - avail_count)
 */
HP_API unsigned hp_mempool_in_use_count(const struct hp_mempool *mp);

/**
 * Call fn once for every object of the pool, in address order, whether free or in use.
 * @param mp the pool
 * @param fn callback; idx counts from 0
 * @param arg passed to fn
 * @return the number of objects visited
 */
HP_API int hp_mempool_obj_iter(struct hp_mempool *mp,
			       void (*fn)(struct hp_mempool *mp, void *arg, void *obj, unsigned idx),
			       void *arg);

/**
 * Check a pool's counts (and, in a debug build, every object's cookies and the number of
 * objects marked in use). Run it while no other thread uses the pool.
 * @param mp the pool
 * @return 0, or -EFAULT with hp_last_error() naming the first problem found
 */
HP_API int hp_mempool_audit(struct hp_mempool *mp);

/**
 * Write a description of the pool (sizes, backend, counts, caches, statistics) to f.
 * @param f stream
 * @param mp the pool
 */
HP_API void hp_mempool_dump(FILE *f, const struct hp_mempool *mp);

/**
 * Debug build: bad puts (double free, foreign pointer, overrun) seen so far.
 * @param mp the pool
 * @return the count (always 0 in a release build)
 */
HP_API uint64_t hp_mempool_debug_errors(const struct hp_mempool *mp);

/* ---- Caches owned by the caller ------------------------------------------------------------ */

/**
 * Create a cache for a thread without an lcore id (or any thread that wants its own).
 * @param size objects it keeps, 1 to HP_MEMPOOL_CACHE_MAX
 * @param node NUMA node for its memory, or HP_NODE_ANY for the caller's
 * @return the cache, or NULL with errno EINVAL (bad size) or ENOMEM
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

#ifdef __cplusplus
}
#endif
#endif
