/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_ring.h
 * Lock-free ring of pointers: fixed size, FIFO, multi-producer/multi-consumer by default,
 * single-producer and/or single-consumer when created so. A ring of count slots holds
 * count - 1 objects, or exactly count with HP_RING_EXACT_SZ. Named rings live in runtime memory
 * on a NUMA node, found by name in a registry of rings only (no memzone). Enqueue and dequeue are
 * inline here; the ring's layout is in hp_ring_core.h and its memory ordering in hp_ring_pvt.h,
 * both private.
 */
#ifndef HP_RING_H
#define HP_RING_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <hp_common.h>
#include <hp_memzone.h>
#include <hp_ring_pvt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Only one thread at a time enqueues (chosen at create; otherwise any number may). */
#define HP_RING_SP_ENQ 0x1
/** Only one thread at a time dequeues (chosen at create; otherwise any number may). */
#define HP_RING_SC_DEQ 0x2
/** count need not be a power of two, and the ring holds exactly count objects. */
#define HP_RING_EXACT_SZ 0x4
/** Largest count a ring may have. */
#define HP_RING_SZ_MASK 0x7fffffffU
/* HP_RING_NAMESIZE (longest name + 1) and struct hp_ring come from hp_ring_core.h. */

/**
 * Bytes that a ring of count slots takes (for hp_ring_init() in your own memory).
 * @param count slots: a power of two, or any number up to HP_RING_SZ_MASK with HP_RING_EXACT_SZ
 * @param flags HP_RING_* flags the ring will be initialised with
 * @return bytes (a multiple of the cache line), or -EINVAL (count 0, too large, or not a power
 *         of two without HP_RING_EXACT_SZ; unknown flag)
 */
HP_API ssize_t hp_ring_get_memsize(unsigned count, unsigned flags);

/**
 * Initialise a ring in memory the caller owns (not thread-safe; nobody may use r meanwhile).
 * Such a ring is not found by hp_ring_lookup(); free its memory yourself.
 * @param r hp_ring_get_memsize(count, flags) bytes, aligned to HP_CACHE_LINE_SIZE
 * @param name 1 to HP_RING_NAMESIZE - 1 characters, for messages and dumps
 * @param count slots (see hp_ring_get_memsize())
 * @param flags 0 or an OR of HP_RING_SP_ENQ, HP_RING_SC_DEQ, HP_RING_EXACT_SZ
 * @return 0, or -EINVAL (NULL or misaligned r, bad name, count or flags)
 */
HP_API int hp_ring_init(struct hp_ring *r, const char *name, unsigned count, unsigned flags);

/**
 * Create a named ring in runtime memory on a NUMA node. It takes no memzone: memzone names never
 * collide with ring names.
 * @param name 1 to HP_RING_NAMESIZE - 1 characters, unique among rings
 * @param count slots: a power of two (holds count - 1), or with HP_RING_EXACT_SZ any number
 *        up to HP_RING_SZ_MASK (holds exactly count)
 * @param node NUMA node, or HP_NODE_ANY for the caller's node
 * @param flags 0 or an OR of HP_RING_SP_ENQ, HP_RING_SC_DEQ, HP_RING_EXACT_SZ
 * @return the ring, or NULL with errno EINVAL (bad name, count or flags), EEXIST (a ring of
 *         that name exists), ENOMEM (no room on the node), ENODEV (no such node)
 */
HP_API struct hp_ring *hp_ring_create(const char *name, unsigned count, int node, unsigned flags);

/**
 * Find a ring made by hp_ring_create().
 * @param name ring name
 * @return the ring, or NULL with errno ENOENT (no such ring) or EINVAL (name NULL or too long)
 */
HP_API struct hp_ring *hp_ring_lookup(const char *name);

/**
 * Destroy a ring made by hp_ring_create() and give its memory back. Nobody may use it
 * afterwards. NULL, and rings from hp_ring_init() (whose memory is the caller's), are ignored.
 * A ring freed already, or a pointer that is no ring, is refused with a sentence and an error
 * log line, and nothing is freed: the addresses of the last 64 rings freed are remembered, and
 * no new ring starts at one of them meanwhile (no memory is held for it) (beyond that, a stale
 * pointer is refused as "not a ring" unless a new ring took its address). A ring freed while a
 * hp_ring_walk() is under way keeps its memory until the walk ends. (Returns int where DPDK's
 * rte_ring_free returns void: callers that ignore it compile unchanged.)
 * @param r the ring
 * @return 0 (freed, r NULL, or a ring of hp_ring_init()), or -EINVAL (freed already, or not a
 *         ring)
 */
HP_API int hp_ring_free(struct hp_ring *r);

/**
 * Write a one-line summary of the ring (name, size, capacity, heads, tails, count) to f.
 * @param f stream
 * @param r the ring
 * @return 0, or -EINVAL (f or r NULL)
 */
HP_API int hp_ring_dump(FILE *f, const struct hp_ring *r);

/**
 * Enqueue all of n objects, or none.
 * @param r the ring
 * @param objs n pointers
 * @param n how many
 * @param free_space if not NULL, set to the room left after the call
 * @return n, or 0 when fewer than n slots were free (nothing enqueued)
 */
static inline unsigned hp_ring_enqueue_bulk(struct hp_ring *r, void *const *objs, unsigned n,
					    unsigned *free_space)
{
	return __hp_ring_do_enqueue(r, objs, n, 0, free_space);
}

/**
 * Dequeue all of n objects, or none.
 * @param r the ring
 * @param objs room for n pointers
 * @param n how many
 * @param available if not NULL, set to the objects left after the call
 * @return n, or 0 when fewer than n objects were there (nothing dequeued)
 */
static inline unsigned hp_ring_dequeue_bulk(struct hp_ring *r, void **objs, unsigned n,
					    unsigned *available)
{
	return __hp_ring_do_dequeue(r, objs, n, 0, available);
}

/**
 * Enqueue as many of n objects as fit, in order from objs[0].
 * @param r the ring
 * @param objs n pointers
 * @param n how many at most
 * @param free_space if not NULL, set to the room left after the call
 * @return how many were enqueued, 0..n
 */
static inline unsigned hp_ring_enqueue_burst(struct hp_ring *r, void *const *objs, unsigned n,
					     unsigned *free_space)
{
	return __hp_ring_do_enqueue(r, objs, n, 1, free_space);
}

/**
 * Dequeue as many objects as there are, up to n.
 * @param r the ring
 * @param objs room for n pointers
 * @param n how many at most
 * @param available if not NULL, set to the objects left after the call
 * @return how many were dequeued, 0..n
 */
static inline unsigned hp_ring_dequeue_burst(struct hp_ring *r, void **objs, unsigned n,
					     unsigned *available)
{
	return __hp_ring_do_dequeue(r, objs, n, 1, available);
}

/**
 * Enqueue one object.
 * @param r the ring
 * @param obj the pointer
 * @return 0, or -ENOBUFS when the ring is full
 */
static inline int hp_ring_enqueue(struct hp_ring *r, void *obj)
{
	return hp_ring_enqueue_bulk(r, &obj, 1, NULL) ? 0 : -ENOBUFS;
}

/**
 * Dequeue one object.
 * @param r the ring
 * @param obj set to the pointer
 * @return 0, or -ENOENT when the ring is empty
 */
static inline int hp_ring_dequeue(struct hp_ring *r, void **obj)
{
	return hp_ring_dequeue_bulk(r, obj, 1, NULL) ? 0 : -ENOENT;
}

/**
 * Objects in the ring now (a snapshot when other threads are at work).
 * @param r the ring
 * @return 0..capacity
 */
static inline unsigned hp_ring_count(const struct hp_ring *r)
{
	/* acquire pairs with the consumers' release of cons.tail: the prod.tail they had seen
	 * happens before our load of it, so pt is never behind ct */
	uint32_t ct = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	/* relaxed: a snapshot; no slot is read on the strength of it */
	uint32_t pt = __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED);
	uint32_t n = pt - ct;

	return n > r->capacity ? r->capacity : n;
}

/**
 * Free slots now (a snapshot when other threads are at work).
 * @param r the ring
 * @return 0..capacity
 */
static inline unsigned hp_ring_free_count(const struct hp_ring *r)
{
	return r->capacity - hp_ring_count(r);
}

/**
 * @param r the ring
 * @return the most objects the ring holds at once
 */
static inline unsigned hp_ring_capacity(const struct hp_ring *r)
{
	return r->capacity;
}

/**
 * @param r the ring
 * @return 1 if the ring holds nothing now, else 0
 */
static inline int hp_ring_empty(const struct hp_ring *r)
{
	return hp_ring_count(r) == 0;
}

/**
 * @param r the ring
 * @return 1 if the ring has no free slot now, else 0
 */
static inline int hp_ring_full(const struct hp_ring *r)
{
	return hp_ring_free_count(r) == 0;
}

/**
 * Call fn for every ring made by hp_ring_create() (rings from hp_ring_init() are not listed),
 * oldest first. fn runs with no lock of the library held, so it may call any public function
 * (create, look up, free and walk rings, pools and memzones), from any thread, while other
 * threads do the same. A ring freed during the walk is not visited afterwards (its memory waits
 * for the walk to end, so the ring fn was given stays readable until fn returns), one created
 * is not visited.
 * @param fn callback; a non-zero return stops the walk
 * @param arg passed to fn
 * @return 0, or the first non-zero value fn returned, or -EINVAL (fn is NULL)
 */
HP_API int hp_ring_walk(int (*fn)(struct hp_ring *r, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
