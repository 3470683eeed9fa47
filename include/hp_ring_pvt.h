/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_ring_pvt.h
 * @internal
 * Private to hp_ring.h (installed only because the inline hot path needs it): every atomic of
 * the ring, each with the access it pairs with. Producers own prod.head/prod.tail, consumers
 * own cons.head/cons.tail; a side moves its head to claim slots, copies, then publishes by
 * moving its tail with a release store that the other side's acquire load pairs with.
 * Indexes run freely over uint32_t; a slot is index & mask. Do not call these directly.
 */
#ifndef HP_RING_PVT_H
#define HP_RING_PVT_H

#include <stdint.h>
#include <hp_common.h>
#include <hp_ptrcopy_pvt.h>
#include <hp_ring_core.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @internal Which side of the ring a head move is for. */
enum __hp_ring_side {
	__HP_RING_PROD, /**< producers: claim free slots */
	__HP_RING_CONS, /**< consumers: claim filled slots */
};

/** @internal Tell the CPU we are spinning (the one architecture-specific line of the ring). */
static inline void __hp_ring_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/** @internal Fill n slots from index head on; past the last slot, go on at slot 0. */
static inline void __hp_ring_copy_in(struct hp_ring *r, uint32_t head, void *const *objs,
				     uint32_t n)
{
	uint32_t i = head & r->mask, room;

	if (n == 1) { /* the commonest call: no test of the wrap */
		r->slots[i] = objs[0];
		return;
	}
	room = r->size - i;
	if (HP_LIKELY(n <= room)) {
		__hp_ptrcopy(&r->slots[i], objs, n);
		return;
	}
	__hp_ptrcopy(&r->slots[i], objs, room);
	__hp_ptrcopy(&r->slots[0], objs + room, n - room);
}

/** @internal Read n slots from index head on; past the last slot, go on at slot 0. */
static inline void __hp_ring_copy_out(struct hp_ring *r, uint32_t head, void **objs, uint32_t n)
{
	uint32_t i = head & r->mask, room;

	if (n == 1) {
		objs[0] = r->slots[i];
		return;
	}
	room = r->size - i;
	if (HP_LIKELY(n <= room)) {
		__hp_ptrcopy(objs, &r->slots[i], n);
		return;
	}
	__hp_ptrcopy(objs, &r->slots[i], room);
	__hp_ptrcopy(objs + room, &r->slots[0], n - room);
}

/**
 * @internal
 * How many of n to take when avail are there: all or nothing (bulk) or as many as fit (burst).
 */
static inline uint32_t __hp_ring_fit(uint32_t n, uint32_t avail, int burst)
{
	if (HP_LIKELY(n <= avail))
		return n;
	return burst ? avail : 0;
}

/**
 * @internal
 * Move one side's head over n entries (free slots for the producers, filled slots for the
 * consumers): the one claim of the ring, for both sides.
 *
 * What the side may take from its head h is base + (the other side's tail) - h, with base the
 * capacity for producers and 0 for consumers.
 *
 * A single side (one thread at a time) keeps no head apart from its tail: nothing it claims is
 * visible to anyone before it publishes, so it saves the store of a head. It keeps a copy of the
 * other side's tail in its own line (opp_tail; older than the real one, so it never overstates
 * what it may take) and reads the real tail again only when the copy is short of n, or when
 * reread asks for it. Several threads on a side claim with a CAS on the head and always read
 * the other side's tail.
 *
 * @param r the ring
 * @param side __HP_RING_PROD or __HP_RING_CONS (a constant: the call folds to one side)
 * @param single the side's hp_ring_headtail::single, read once by the caller
 * @param n entries wanted
 * @param burst 0: all of n or nothing; 1: as many as there are, up to n
 * @param reread 1: a single side reads the other side's tail even when its copy shows enough
 *        (the caller reports the exact room or count left); 0: the copy is trusted
 * @param head set to the first index claimed
 * @param entries set to what the side could take before this claim
 * @return entries claimed: n, 0, or (burst) anything between
 */
static inline uint32_t __hp_ring_move_head(struct hp_ring *r, enum __hp_ring_side side, int single,
					   uint32_t n, int burst, int reread, uint32_t *head,
					   uint32_t *entries)
{
	struct hp_ring_headtail *own = side == __HP_RING_PROD ? &r->prod : &r->cons;
	struct hp_ring_headtail *other = side == __HP_RING_PROD ? &r->cons : &r->prod;
	uint32_t base = side == __HP_RING_PROD ? r->capacity : 0;
	uint32_t h, avail, want = n;

	if (single) {
		/* relaxed: our head is our tail, and only we write it */
		h = __atomic_load_n(&own->tail, __ATOMIC_RELAXED);
		avail = base + own->opp_tail - h;
		if (avail < n || reread) {
			/* pairs with the other side's release store of its tail
			 * (__hp_ring_publish): what it did to the slots up to there happens before
			 * what we do to them, here and in later calls that trust the copy */
			own->opp_tail = __atomic_load_n(&other->tail, __ATOMIC_ACQUIRE);
			avail = base + own->opp_tail - h;
		}
		n = __hp_ring_fit(n, avail, burst);
	} else {
		/* acquire pairs with the CAS below in the thread of this side that wrote this head:
		 * the other side's tail it saw happens before the one we load, so avail cannot
		 * wrap */
		h = __atomic_load_n(&own->head, __ATOMIC_ACQUIRE);
		do {
			/* pairs with the other side's release store of its tail (publish) */
			avail = base + __atomic_load_n(&other->tail, __ATOMIC_ACQUIRE) - h;
			n = __hp_ring_fit(want, avail, burst);
			if (!n)
				break;
			/* release pairs with the acquire head loads of this side's next claimers
			 * (acquire on success only because C11 wants it at least as strong as on
			 * failure) */
		} while (!__atomic_compare_exchange_n(&own->head, &h, h + n, 1, __ATOMIC_ACQ_REL,
						      __ATOMIC_ACQUIRE));
	}
	*head = h;
	*entries = avail;
	return n;
}

/**
 * @internal
 * Move a side's tail from head to head + n once its slots are copied. With several threads on
 * the side, earlier claimers publish first: wait until the tail reaches our head.
 */
static inline void __hp_ring_publish(struct hp_ring_headtail *ht, int single, uint32_t head,
				     uint32_t n)
{
	if (!single) {
		/* acquire pairs with the release store below in the thread that claimed just
		 * before us: its copies happen before our release, so the other side sees them */
		while (__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != head)
			__hp_ring_pause();
	}
	/* release pairs with the other side's acquire load of this tail in its head move: our
	 * slot writes (producers) or slot reads (consumers) happen before it moves on */
	__atomic_store_n(&ht->tail, head + n, __ATOMIC_RELEASE);
}

/** @internal Enqueue: claim, copy in, publish. */
static inline unsigned __hp_ring_do_enqueue(struct hp_ring *r, void *const *objs, unsigned n,
					    int burst, unsigned *free_space)
{
	uint32_t head, room;
	int single = r->prod.single;

	n = __hp_ring_move_head(r, __HP_RING_PROD, single, n, burst, free_space != NULL, &head,
				&room);
	if (free_space)
		*free_space = room - n;
	if (HP_UNLIKELY(!n))
		return 0;
	__hp_ring_copy_in(r, head, objs, n);
	__hp_ring_publish(&r->prod, single, head, n);
	return n;
}

/** @internal Dequeue: claim, copy out, publish. */
static inline unsigned __hp_ring_do_dequeue(struct hp_ring *r, void **objs, unsigned n, int burst,
					    unsigned *available)
{
	uint32_t head, ready;
	int single = r->cons.single;

	n = __hp_ring_move_head(r, __HP_RING_CONS, single, n, burst, available != NULL, &head,
				&ready);
	if (available)
		*available = ready - n;
	if (HP_UNLIKELY(!n))
		return 0;
	__hp_ring_copy_out(r, head, objs, n);
	__hp_ring_publish(&r->cons, single, head, n);
	return n;
}

#ifdef __cplusplus
}
#endif
#endif
