/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool backend "stack": a lock-free LIFO (last object in is the first out, still warm in
 * some cache). Two Treiber stacks of nodes (node = next index + object): `used` holds objects,
 * `spare` holds empty nodes. A head is one 64-bit word {tag:32, index:32}; every successful
 * CAS bumps the tag, so a head that was popped and pushed back in between (ABA) fails the
 * CAS. All head CASes are acq_rel and pair with each other: a thread that loads a head with
 * acquire sees every node's next and obj written before the pushes that built the chain.
 * Counters (avail, spare_n) are reserved before a pop, so a pop never runs dry: each list
 * always holds at least as many nodes as its counter says.
 * Limit: ABA needs 2^32 successful CASes on one head while one thread sits between its load
 * and its CAS.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <hp_mempool.h>
#include <hp_mempool_driver.h>

#define NIL 0xffffffffu

struct node {
	_Atomic uint32_t next; /* read by walkers of stale chains too: atomic, relaxed */
	void *obj;	       /* written by the node's owner before the push that publishes it */
};

struct lifo {
	_Atomic uint64_t head;	/* tag << 32 | index of the top node */
	_Atomic uint64_t count; /* nodes that may be reserved for popping */
} HP_CACHE_ALIGNED;

struct stack {
	struct lifo used;
	struct lifo spare;
	size_t bytes;
	struct node nodes[] HP_CACHE_ALIGNED;
};

static bool reserve(struct lifo *l, unsigned n)
{
	uint64_t c = atomic_load_explicit(&l->count, memory_order_relaxed);

	do {
		if (c < n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&l->count, &c, c - n, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/* Detach the top n (> 0) nodes; the caller reserved them. Returns the first index. */
static uint32_t pop_chain(struct stack *s, struct lifo *l, unsigned n)
{
	uint64_t old = atomic_load_explicit(&l->head, memory_order_acquire), new;
	uint32_t first, cur;
	unsigned i;

	for (;;) {
		first = cur = (uint32_t)old;
		for (i = 1; i < n && cur != NIL; i++)
			cur = atomic_load_explicit(&s->nodes[cur].next, memory_order_relaxed);
		if (cur == NIL) { /* read a chain that changed under us: start again */
			old = atomic_load_explicit(&l->head, memory_order_acquire);
			continue;
		}
		new = ((old >> 32) + 1) << 32 |
		      atomic_load_explicit(&s->nodes[cur].next, memory_order_relaxed);
		/* pairs with the acq_rel CASes of pushes and pops on this head */
		if (atomic_compare_exchange_weak_explicit(&l->head, &old, new, memory_order_acq_rel,
							  memory_order_acquire))
			return first;
	}
}

/* Put the chain first..last (linked through next) on top, and count it. */
static void push_chain(struct stack *s, struct lifo *l, uint32_t first, uint32_t last, unsigned n)
{
	uint64_t old = atomic_load_explicit(&l->head, memory_order_relaxed), new;

	do {
		atomic_store_explicit(&s->nodes[last].next, (uint32_t)old, memory_order_relaxed);
		new = ((old >> 32) + 1) << 32 | first;
	} while (!atomic_compare_exchange_weak_explicit(&l->head, &old, new, memory_order_acq_rel,
							memory_order_relaxed));
	/* after the push: a reservation never outruns the nodes really there */
	atomic_fetch_add_explicit(&l->count, n, memory_order_release);
}

static int stack_alloc(struct hp_mempool *mp)
{
	size_t bytes = sizeof(struct stack) + (size_t)mp->size * sizeof(struct node);
	struct stack *s = __hp_mempool_drv_alloc(mp, bytes);
	unsigned i;

	if (!s)
		return -errno;
	s->bytes = bytes;
	for (i = 0; i < mp->size; i++) {
		atomic_init(&s->nodes[i].next, i + 1 < mp->size ? i + 1 : NIL);
		s->nodes[i].obj = NULL;
	}
	atomic_init(&s->used.head, NIL);
	atomic_init(&s->used.count, 0);
	atomic_init(&s->spare.head, 0);
	atomic_init(&s->spare.count, mp->size);
	mp->pool_data = s;
	return 0;
}

static void stack_free(struct hp_mempool *mp)
{
	struct stack *s = mp->pool_data;

	if (s)
		__hp_mempool_drv_free(s, s->bytes);
	mp->pool_data = NULL;
}

/*
 * Moves n nodes from `from` to `to`, storing in[] into them (a put) or loading them into out[]
 * (a get); the other pointer is NULL. False, with nothing moved, when `from` holds fewer than n.
 */
static bool move_nodes(struct stack *s, struct lifo *from, struct lifo *to, void *const *in,
		       void **out, unsigned n)
{
	uint32_t first, cur, last = NIL;

	if (!reserve(from, n))
		return false;
	first = cur = pop_chain(s, from, n);
	for (unsigned i = 0; i < n; i++) {
		if (in)
			s->nodes[cur].obj = in[i];
		else
			out[i] = s->nodes[cur].obj;
		last = cur;
		cur = atomic_load_explicit(&s->nodes[cur].next, memory_order_relaxed);
	}
	push_chain(s, to, first, last, n);
	return true;
}

static int stack_enqueue(struct hp_mempool *mp, void *const *objs, unsigned n)
{
	struct stack *s = mp->pool_data;

	if (n && !move_nodes(s, &s->spare, &s->used, objs, NULL, n))
		return -ENOBUFS; /* more than the pool's objects: the pool reports it */
	return 0;
}

static int stack_dequeue(struct hp_mempool *mp, void **objs, unsigned n)
{
	struct stack *s = mp->pool_data;

	if (n && !move_nodes(s, &s->used, &s->spare, NULL, objs, n))
		return -ENOENT;
	return 0;
}

static unsigned stack_count(const struct hp_mempool *mp)
{
	struct stack *s = mp->pool_data;

	return (unsigned)atomic_load_explicit(&s->used.count, memory_order_relaxed);
}

static const struct hp_mempool_ops stack_ops = {
    .name = "stack",
    .alloc = stack_alloc,
    .free = stack_free,
    .enqueue = stack_enqueue,
    .dequeue = stack_dequeue,
    .count = stack_count,
};
HP_MEMPOOL_REGISTER_OPS(stack_ops)
