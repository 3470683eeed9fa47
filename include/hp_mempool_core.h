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
 * A cache: a stack of objects, the hottest on top, written only by its owner. objs holds
 * size * 5 / 2 slots (see mempool_cache_bytes() in the library).
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
	/* slot 0 only (threads without an lcore id): where the pool's per-CPU caches are */
	uintptr_t percpu_table; /**< each CPU's cache by cpu_id; 0 when there are none */
	uintptr_t percpu_ncpu;	/**< entries of the table (possible CPUs) */
	intptr_t percpu_rseq;	/**< offset of the rseq area from the thread pointer */
	uint64_t percpu_aborts; /**< sequences the kernel aborted (atomic) */
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
 */
struct hp_mempool {
	/** lcore caches: slot hp_lcore_id() + 1; slot 0 (no lcore id) points at the per-CPU ones
	 */
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

#ifdef __cplusplus
}
#endif
#endif
