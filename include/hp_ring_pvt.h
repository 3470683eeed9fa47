/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_ring_pvt.h
 * Private to hp_ring.h (installed only because the inline hot path needs it): every atomic of
 * the ring, each with the access it pairs with. Producers own prod.head/prod.tail, consumers
 * own cons.head/cons.tail; a side moves its head to claim slots, copies, then publishes by
 * moving its tail with a release store that the other side's acquire load pairs with.
 * Indexes run freely over uint32_t; a slot is index & mask. Do not call these directly.
 */
/* Included alone, this brings hp_ring.h, which includes this file again after struct hp_ring. */
#include <hp_ring.h>

#ifndef HP_RING_PVT_H
#define HP_RING_PVT_H

/* The one architecture-specific line of the ring: tell the CPU we are spinning. */
static inline void hp_ring_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/*
 * Copy n pointers: four at a time, then the rest. Kept simple on purpose: for the small n of the
 * hot path, short straight code beats the compiler's vectorised loop with its set-up branches.
 */
static inline void hp_ring_copy_ptrs(void **dst, void *const *src, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < (n & ~3u); i += 4) {
		dst[i] = src[i];
		dst[i + 1] = src[i + 1];
		dst[i + 2] = src[i + 2];
		dst[i + 3] = src[i + 3];
	}
	switch (n & 3) {
	case 3:
		dst[i + 2] = src[i + 2];
		/* fallthrough */
	case 2:
		dst[i + 1] = src[i + 1];
		/* fallthrough */
	case 1:
		dst[i] = src[i];
		/* fallthrough */
	default:
		break;
	}
}

/* Fill the slots from index head on; past the end of the slots, go on at slot 0. */
static inline void hp_ring_copy_in(struct hp_ring *r, uint32_t head, void *const *objs, uint32_t n)
{
	uint32_t i = head & r->mask, k;

	if (n == 1) { /* the commonest call, without the set-up of the copy loop for any n */
		r->slots[i] = objs[0];
		return;
	}
	if (HP_LIKELY(i + n <= r->size)) {
		hp_ring_copy_ptrs(&r->slots[i], objs, n);
		return;
	}
	for (k = 0; i < r->size; k++, i++)
		r->slots[i] = objs[k];
	for (i = 0; k < n; k++, i++)
		r->slots[i] = objs[k];
}

static inline void hp_ring_copy_out(struct hp_ring *r, uint32_t head, void **objs, uint32_t n)
{
	uint32_t i = head & r->mask, k;

	if (n == 1) {
		objs[0] = r->slots[i];
		return;
	}
	if (HP_LIKELY(i + n <= r->size)) {
		hp_ring_copy_ptrs(objs, &r->slots[i], n);
		return;
	}
	for (k = 0; i < r->size; k++, i++)
		objs[k] = r->slots[i];
	for (i = 0; k < n; k++, i++)
		objs[k] = r->slots[i];
}

/* How many of n to take when avail are there: all or nothing (bulk) or as many as fit (burst). */
static inline uint32_t hp_ring_fit(uint32_t n, uint32_t avail, int burst)
{
	if (HP_LIKELY(n <= avail))
		return n;
	return burst ? avail : 0;
}

/*
 * What a single side may take from index h on: slots (base = capacity, producer) or objects
 * (base = 0, consumer). A single side keeps no head apart from its tail: nothing it claims is
 * visible to anyone before it publishes, so it saves the store (and, in a loop, the
 * store-to-load hop) of a head. It reads the other side's tail again only when its copy in
 * opp_tail (older, so it never overstates what is there) is short of n or the caller asks for
 * the exact figure (fresh). The copy lives on the side's own line: its store costs nothing
 * shared, while a read of the other tail on every call would pull that line away from the
 * other core each time.
 */
static inline uint32_t hp_ring_single_avail(struct hp_ring_headtail *own,
					    const struct hp_ring_headtail *other, uint32_t base,
					    uint32_t h, uint32_t n, int fresh)
{
	uint32_t avail = base + own->opp_tail - h;

	if (avail < n || fresh) {
		/* pairs with the other side's release store of its tail (hp_ring_publish): what
		 * it did to the slots up to there happens before what we do to them, here and in
		 * later calls that trust the copy */
		own->opp_tail = atomic_load_explicit(&other->tail, memory_order_acquire);
		avail = base + own->opp_tail - h;
	}
	return avail;
}

/*
 * Claim n slots to fill. Returns how many were claimed; *head is where they start,
 * *free_space the room left after.
 */
static inline uint32_t hp_ring_prod_claim(struct hp_ring *r, uint32_t n, int burst, int single,
					  uint32_t *head, unsigned *free_space)
{
	uint32_t h, ctail, room, want = n;

	if (single) {
		/* our head is our tail, and only we write it */
		h = atomic_load_explicit(&r->prod.tail, memory_order_relaxed);
		room = hp_ring_single_avail(&r->prod, &r->cons, r->capacity, h, n, !!free_space);
		n = hp_ring_fit(n, room, burst);
	} else {
		/* acquire pairs with the CAS below in the producer that wrote this head: the
		 * cons.tail it saw happens before the one we load, so room cannot wrap */
		h = atomic_load_explicit(&r->prod.head, memory_order_acquire);
		do {
			/* pairs with the consumers' release store of cons.tail (hp_ring_publish) */
			ctail = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
			room = r->capacity + ctail - h;
			n = hp_ring_fit(want, room, burst);
			if (!n)
				break;
			/* release pairs with the acquire head loads of the next producers (acquire
			 * on success only because C11 wants it at least as strong as on failure) */
		} while (!atomic_compare_exchange_weak_explicit(&r->prod.head, &h, h + n,
								memory_order_acq_rel,
								memory_order_acquire));
	}
	*head = h;
	if (free_space)
		*free_space = room - n;
	return n;
}

/* Claim n filled slots; the mirror of hp_ring_prod_claim (prod.tail plays cons.tail's part). */
static inline uint32_t hp_ring_cons_claim(struct hp_ring *r, uint32_t n, int burst, int single,
					  uint32_t *head, unsigned *available)
{
	uint32_t h, ptail, ready, want = n;

	if (single) {
		/* our head is our tail, and only we write it */
		h = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
		ready = hp_ring_single_avail(&r->cons, &r->prod, 0, h, n, !!available);
		n = hp_ring_fit(n, ready, burst);
	} else {
		/* acquire pairs with the CAS below in the consumer that wrote this head: the
		 * prod.tail it saw happens before the one we load, so ready cannot wrap */
		h = atomic_load_explicit(&r->cons.head, memory_order_acquire);
		do {
			/* pairs with the producers' release store of prod.tail (hp_ring_publish) */
			ptail = atomic_load_explicit(&r->prod.tail, memory_order_acquire);
			ready = ptail - h;
			n = hp_ring_fit(want, ready, burst);
			if (!n)
				break;
			/* release pairs with the acquire head loads of the next consumers (acquire
			 * on success only because C11 wants it at least as strong as on failure) */
		} while (!atomic_compare_exchange_weak_explicit(&r->cons.head, &h, h + n,
								memory_order_acq_rel,
								memory_order_acquire));
	}
	*head = h;
	if (available)
		*available = ready - n;
	return n;
}

/*
 * Move a side's tail from head to head + n once the slots are copied. With several threads on
 * the side, earlier claimers publish first: wait until the tail reaches our head.
 */
static inline void hp_ring_publish(struct hp_ring_headtail *ht, uint32_t head, uint32_t n,
				   int single)
{
	if (!single) {
		/* acquire pairs with the release store below in the thread that claimed just
		 * before us, so its copies happen before our release and the other side sees them */
		while (atomic_load_explicit(&ht->tail, memory_order_acquire) != head)
			hp_ring_pause();
	}
	/* release pairs with the other side's acquire load of this tail in its claim: our
	 * slot writes (producers) or slot reads (consumers) happen before it moves on */
	atomic_store_explicit(&ht->tail, head + n, memory_order_release);
}

static inline unsigned hp_ring_do_enqueue(struct hp_ring *r, void *const *objs, unsigned n,
					  int burst, unsigned *free_space)
{
	uint32_t head;
	int single = r->prod.single;

	n = hp_ring_prod_claim(r, n, burst, single, &head, free_space);
	if (HP_UNLIKELY(!n))
		return 0;
	hp_ring_copy_in(r, head, objs, n);
	hp_ring_publish(&r->prod, head, n, single);
	return n;
}

static inline unsigned hp_ring_do_dequeue(struct hp_ring *r, void **objs, unsigned n, int burst,
					  unsigned *available)
{
	uint32_t head;
	int single = r->cons.single;

	n = hp_ring_cons_claim(r, n, burst, single, &head, available);
	if (HP_UNLIKELY(!n))
		return 0;
	hp_ring_copy_out(r, head, objs, n);
	hp_ring_publish(&r->cons, head, n, single);
	return n;
}

#endif
