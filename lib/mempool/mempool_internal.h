/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/mempool (and telemetry's pool counts): object layout, debug cookies, cache
 * sizing, the backend registry and mempool_lock, which guards each pool's list of attached user
 * caches; nothing on the get/put fast path takes it. The registry of pools has its own lock.
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

/* Objects in mp's attached user caches (and, if caches, how many caches), under mempool_lock. */
unsigned mempool_user_cache_count(const struct hp_mempool *mp, unsigned *caches);

/* Detach every user cache from mp (pool going away); caller holds mempool_lock. */
void mempool_detach_user_caches(struct hp_mempool *mp);

/*
 * A per-CPU cache (mempool_percpu.c). Its layout is known to the restartable sequences in
 * arch/x86_64/hp_mempool_rseq.h: len at 0, limit at 8, objs at 64. len and objs change only in a
 * sequence on that CPU, or in a drain while limit is 0 (which makes every sequence miss).
 */
struct mempool_percpu {
	uint64_t len;	/* objects in objs[0, len) */
	uint64_t limit; /* most objects it may hold (1.5 x the cache size); 0 while drained */
	uint64_t pad[6];
	void *objs[];
};

/* Decide once whether per-CPU caches are on (hp_init and hp_mempool_percpu_enabled). */
void mempool_percpu_detect(void);
/* In a forked child: the drain lock free (the detection still holds: same kernel). */
void mempool_percpu_fork_child(void);
/* Bytes of per-CPU caches a pool with this cache size needs (0 when off or no cache). */
size_t mempool_percpu_bytes(unsigned cache_size);
/* Set up mp's per-CPU caches in mem (mempool_percpu_bytes() of it) and point slot 0 at them. */
void mempool_percpu_setup(struct hp_mempool *mp, void *mem);
/* Objects in mp's per-CPU caches now (relaxed reads, no fence). */
unsigned mempool_percpu_count(const struct hp_mempool *mp);
/* Move every per-CPU cache's objects to the backend; returns how many. */
unsigned mempool_percpu_drain(struct hp_mempool *mp);
/* Get n straight from the backend (per-CPU caches drained if it is short), counted in s. */
int mempool_direct_get(struct hp_mempool *mp, void **objs, unsigned n, struct hp_mempool_cache *s);
/* Dequeue n from the backend; if it is short, drain the per-CPU caches and try once more. */
int mempool_percpu_dequeue(struct hp_mempool *mp, void **objs, unsigned n);
/* Audit the per-CPU caches (held: objects they hold, added); 0 or -EFAULT through hp_fail. */
int mempool_percpu_audit(struct hp_mempool *mp, uint64_t *held);
/* The dump's per-CPU lines. */
void mempool_percpu_dump(FILE *f, const struct hp_mempool *mp);

#endif
