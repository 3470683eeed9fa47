/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_memzone.h
 * Memzones: named, aligned reservations of runtime memory on a node, optionally contiguous
 * in IOVA space. Rings and mempools take their memory from the same allocator but are no
 * memzones: their names never collide with memzone names.
 */
#ifndef HP_MEMZONE_H
#define HP_MEMZONE_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The zone must be contiguous in IOVA space. */
#define HP_MZ_IOVA_CONTIG 0x1
/**
 * Size of a memzone name with its terminating NUL (the size of hp_memzone.name): a name has
 * 1 to HP_MEMZONE_NAMESIZE - 1 characters.
 */
#define HP_MEMZONE_NAMESIZE 32

/** A named reservation. */
struct hp_memzone {
	char name[HP_MEMZONE_NAMESIZE]; /**< unique name */
	void *va;			/**< start */
	uint64_t iova;			/**< IOVA of va */
	size_t len;			/**< bytes */
	int node;			/**< NUMA node */
	unsigned flags;			/**< HP_MZ_* given at reserve */
};

/**
 * Reserve a named zone. Takes free runtime memory on the node, and reserves more hugepages
 * there (hp_mem_grow()) if none is free.
 * @param name unique name, 1 to HP_MEMZONE_NAMESIZE - 1 characters
 * @param len bytes, > 0
 * @param node NUMA node, or HP_NODE_ANY for the caller's node
 * @param flags 0 or HP_MZ_IOVA_CONTIG
 * @param align power of two, or 0 for a cache line
 * @return the zone, or NULL with errno EINVAL (bad argument, or before hp_init()), EEXIST (name
 *         taken), ENOMEM (no run long enough and no more pages on the node, or len/align more
 *         than any node can hold: "too large" is ENOMEM, as for hp_malloc()), ENODEV (no such
 *         node), ENOSPC (all zones of the table in use)
 */
HP_API const struct hp_memzone *hp_memzone_reserve(const char *name, size_t len, int node,
						   unsigned flags, size_t align);

/**
 * Find a zone by name.
 * @param name zone name
 * @return the zone, or NULL with errno ENOENT (no such zone), EINVAL (name is NULL)
 */
HP_API const struct hp_memzone *hp_memzone_lookup(const char *name);

/**
 * Give a zone back.
 * @param mz a zone from hp_memzone_reserve()
 * @return 0, -EINVAL (NULL or not a live zone)
 */
HP_API int hp_memzone_free(const struct hp_memzone *mz);

/**
 * Call fn for every zone, holding the zone table's lock, which comes before every other lock of
 * the library: fn may call any public function (look up, reserve and free zones: the lock is
 * recursive; create, free, look up and walk pools and rings; use the heap), from any thread,
 * while other threads do the same. Other threads' zone calls wait for the walk.
 * @param fn callback; a non-zero return stops the walk
 * @param arg passed to fn
 * @return 0, or the first non-zero value fn returned, or -EINVAL (fn is NULL)
 */
HP_API int hp_memzone_walk(int (*fn)(const struct hp_memzone *mz, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
