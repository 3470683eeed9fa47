/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/mempool: object layout, debug cookies, cache sizing, the backend registry and
 * the pool registry lock. The registry lock (mempool_lock) guards the list of pools and each
 * pool's list of attached user caches; nothing on the get/put fast path takes it.
 */
#ifndef HP_MEMPOOL_INTERNAL_H
#define HP_MEMPOOL_INTERNAL_H

#include <pthread.h>
#include <hp_mempool.h>
#include <hp_mempool_driver.h>

#include "eal/eal_internal.h"

/* Debug cookies: header (before the IOVA) says free or in use; the trailer must never change. */
#define MP_COOKIE_FREE 0xf4eef4eef4eef4eeULL
#define MP_COOKIE_USED 0xbadbadbadbadbad0ULL
#define MP_COOKIE_TAIL 0x7a117a117a117a11ULL

/* Objects go to and from the backend in batches of this many when the pool is set up. */
#define MP_BATCH 256

extern pthread_mutex_t mempool_lock;

/* Bytes an object takes in memory, header and trailer included, before alignment of the next. */
static inline size_t mempool_obj_span(const struct hp_mempool *mp)
{
	return mp->header_size + HP_ALIGN_UP((size_t)mp->elt_size, 8) + mp->trailer_size;
}

/* The header word before the IOVA (debug builds only). */
static inline uint64_t *mempool_cookie_head(void *obj)
{
	return (uint64_t *)((char *)obj - 16);
}

static inline uint64_t *mempool_cookie_tail(const struct hp_mempool *mp, void *obj)
{
	return (uint64_t *)((char *)obj + HP_ALIGN_UP((size_t)mp->elt_size, 8));
}

/* Bytes of a cache of size objects: its header and size * 5 / 2 slots, in whole lines. */
size_t mempool_cache_bytes(unsigned size);

/* Start cache c empty, holding up to size objects (0: no cache) for mp (NULL: not attached). */
void mempool_cache_init(struct hp_mempool_cache *c, unsigned size, struct hp_mempool *mp, int node);

/* Call fn for every object of chunk ch, in address order (the carving rule lives here only). */
unsigned mempool_chunk_walk(struct hp_mempool *mp, const struct hp_mempool_chunk *ch, unsigned max,
			    void (*fn)(struct hp_mempool *mp, void *obj, void *arg), void *arg);

/* true if obj lies inside one of mp's chunks. */
bool mempool_owns(const struct hp_mempool *mp, const void *obj);

/* Look up a backend by name (NULL if none). */
const struct hp_mempool_ops *mempool_ops_find(const char *name);

/* Store n objects in mp's backend; what it refuses is logged and counted, never silent. */
void mempool_backend_put(struct hp_mempool *mp, void *const *objs, unsigned n);

/* Detach every user cache from mp (pool going away); caller holds mempool_lock. */
void mempool_detach_user_caches(struct hp_mempool *mp);

#endif
