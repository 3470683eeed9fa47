/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool_core.h
 * @internal
 * Private layout of a mempool and of its caches (installed only because the inline get and put
 * of hp_mempool.h and the backends of hp_mempool_driver.h read it). Use the functions of
 * hp_mempool.h; a backend reads only the fields its header names.
 */
#ifndef HP_MEMPOOL_CORE_H
#define HP_MEMPOOL_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest pool name + 1. */
#define HP_MEMPOOL_NAMESIZE 24
/** Most memory chunks a pool's objects may come from. */
#define HP_MEMPOOL_MAX_CHUNKS 16

struct hp_mempool_ops;

/** Per-cache statistics (only with the build option mempool_stats). */
struct hp_mempool_stats {
	uint64_t gets;	    /**< successful get calls */
	uint64_t get_objs;  /**< objects they returned */
	uint64_t get_fails; /**< get calls that returned -ENOENT */
	uint64_t puts;	    /**< put calls */
	uint64_t put_objs;  /**< objects they stored */
	uint64_t backend;   /**< calls into the backend (refills, flushes, direct) */
	uint64_t bulk[7];   /**< get+put calls of n objects: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+ */
};

/**
 * @internal
 * Objects a cache of size objects holds at most: a put that would pass it flushes the colder
 * ones (lcore and user caches), and it is each per-CPU cache's limit.
 */
#define HP_MEMPOOL_CACHE_FLUSHTHRESH(size) (3 * (size) / 2)

/**
 * @internal
 * Slot 0's own part: where the pool's per-CPU caches are, for threads without an lcore id.
 * The per-CPU sequences (hp_mempool_rseq.h) read these fields by offset.
 */
struct hp_mempool_percpu_anchor {
	uintptr_t table; /**< each CPU's cache by cpu_id; 0 when there are none */
	uintptr_t ncpu;	 /**< entries of the table (possible CPUs) */
	intptr_t rseq;	 /**< offset of the rseq area from the thread pointer */
	uint64_t aborts; /**< sequences the kernel aborted (atomic) */
};

/**
 * @internal
 * A cache: a stack of objects, the hottest on top, written only by its owner. It is an lcore's
 * cache (slot lcore id + 1 of a pool), a user cache (hp_mempool_cache_create()), or slot 0 of a
 * pool: size 0, whose percpu part leads threads without an lcore id to the per-CPU caches.
 * objs holds size * 5 / 2 slots (see mempool_cache_bytes() in the library).
 * ABI: read inline by programs; see struct hp_mempool.
 */
struct hp_mempool_cache {
	/*
	 * unsigned long long, a type nothing else on the hot path has: a store to len cannot
	 * alias the pool's uintptr_t fields or the unsigned lcore id, so those stay in registers
	 * across a loop of gets and puts.
	 */
	unsigned long long len;		/**< objects in objs[0, len) */
	unsigned long long flushthresh; /**< a put that would pass this flushes the colder ones */
	unsigned long long size;	/**< size asked for; 0 for "no cache" */
	struct hp_mempool *mp;		/**< pool whose objects it holds (user caches: on use) */
	struct hp_mempool_cache *next;	/**< user caches attached to the same pool */
	int node;			/**< user caches: node given at create */
	/** slot 0 only (all 0 in other caches): the per-CPU caches */
	struct hp_mempool_percpu_anchor percpu;
#ifdef HP_MEMPOOL_STATS
	struct hp_mempool_stats stats; /**< counters (relaxed atomic adds) */
#endif
	HP_CACHE_ALIGNED void *objs[]; /**< the objects */
};

/** @internal Where a pool's objects are: one block of runtime memory. */
struct hp_mempool_chunk {
	char *va;	/**< start */
	size_t len;	/**< bytes */
	unsigned count; /**< objects carved from it */
};

/**
 * @internal
 * A pool. The first cache line is all the hot path reads. Backends read name, size, node and
 * own pool_data (see hp_mempool_driver.h).
 * ABI: the inline get and put of programs built against this header read cache_base,
 * cache_stride, ops and cache_size here, and every field of struct hp_mempool_cache up to objs.
 * Moving, resizing or removing any of them breaks those programs: it needs a new soname
 * (libhugepool.so.N+1). New fields go at the end (of struct hp_mempool; a cache's header may
 * grow only where objs stays after it, as the library sizes caches itself).
 */
struct hp_mempool {
	/** the cache slots, read through __hp_mempool_cache_slot() */
	uintptr_t cache_base;
	uintptr_t cache_stride;		  /**< bytes from one lcore cache to the next */
	const struct hp_mempool_ops *ops; /**< backend */
	void *pool_data;		  /**< backend's state */
	unsigned size;			  /**< objects in the pool */
	unsigned elt_size;		  /**< bytes of each object, as asked */
	unsigned cache_size;		  /**< per-lcore cache size */
	unsigned flags;			  /**< HP_MEMPOOL_F_* */
	int node;			  /**< NUMA node of the objects */
	unsigned header_size;		  /**< bytes before each object (8: its IOVA) */
	unsigned trailer_size;		  /**< bytes after each object (debug cookie) */
	unsigned obj_align;		  /**< alignment of each object's start */
	char name[HP_MEMPOOL_NAMESIZE];	  /**< unique name */
	struct hp_mempool_chunk chunks[HP_MEMPOOL_MAX_CHUNKS]; /**< where the objects are */
	unsigned n_chunks;				       /**< used entries of chunks */
	size_t len; /**< bytes of the block holding this struct and its caches */
	struct hp_mempool_cache *user_caches; /**< user caches attached (under mempool_lock) */
	struct hp_mempool *next;	      /**< registry of named pools */
	uint64_t debug_errors; /**< bad puts seen, see hp_mempool_debug_errors() (atomic) */
};

HP_STATIC_ASSERT(offsetof(struct hp_mempool, cache_size) + sizeof(unsigned) <= HP_CACHE_LINE_SIZE &&
		     offsetof(struct hp_mempool, ops) < HP_CACHE_LINE_SIZE,
		 "the first cache line of a pool holds all the inline get and put read");
HP_STATIC_ASSERT(offsetof(struct hp_mempool_cache, objs) % HP_CACHE_LINE_SIZE == 0,
		 "a cache's objects start on a line of their own");

/**
 * @internal
 * Cache slot i of mp: slot 0 for threads without an lcore id (size 0; its percpu part leads to
 * the per-CPU caches), slot lcore id + 1 for each lcore. i is unsigned so that
 * HP_LCORE_ANY + 1 wraps to slot 0 with no test on the hot path.
 */
static inline struct hp_mempool_cache *__hp_mempool_cache_slot(const struct hp_mempool *mp,
							       unsigned i)
{
	return (struct hp_mempool_cache *)(mp->cache_base + (uintptr_t)i * mp->cache_stride);
}

#ifdef __cplusplus
}
#endif
#endif
