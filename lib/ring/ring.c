/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring set-up: sizing, initialisation in caller memory, and named rings in runtime memory with
 * a registry of their own (lib/eal/registry.c: a freed ring keeps its struct for a while, so a
 * stale pointer is refused, never taken for a newer ring). Rings take no memzone: their names
 * never meet memzone names, and nothing here takes the memzone lock. Locks: the registry's (a
 * leaf), then the allocator's. Enqueue and dequeue are inline in hp_ring.h; nothing here touches
 * a ring that threads are using, except hp_ring_free, after which nobody may use the ring.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hp_ring.h>
#include "eal/eal_internal.h"
#include "heap/heap_internal.h"

#define RING_FLAGS (HP_RING_SP_ENQ | HP_RING_SC_DEQ | HP_RING_EXACT_SZ)

static void retire(void *obj);
static struct eal_registry rings = EAL_REGISTRY_INIT("ring", struct hp_ring, name, next, retire,
						     mem_range_alloc, mem_range_release);

static int is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

static uint32_t pow2_above(uint32_t x)
{
	uint32_t p = 1;

	while (p <= x)
		p <<= 1;
	return p;
}

/* Slots for count: count itself, or with EXACT_SZ the power of two above it (one spare slot). */
static int ring_size(unsigned count, unsigned flags, uint32_t *size)
{
	if (flags & ~RING_FLAGS)
		return hp_fail(-EINVAL,
			       "ring flags 0x%x: unknown bits 0x%x; use HP_RING_SP_ENQ, "
			       "HP_RING_SC_DEQ and HP_RING_EXACT_SZ only",
			       flags, flags & ~RING_FLAGS);
	if (count == 0 || count > HP_RING_SZ_MASK)
		return hp_fail(-EINVAL, "ring count %u: must be 1 to %u", count, HP_RING_SZ_MASK);
	if (flags & HP_RING_EXACT_SZ) {
		*size = pow2_above(count); /* at most 2^31, as count <= HP_RING_SZ_MASK */
		return 0;
	}
	if (!is_pow2(count) || count < 2)
		return hp_fail(-EINVAL,
			       "ring count %u: must be a power of two of at least 2 (it holds "
			       "count - 1), or pass HP_RING_EXACT_SZ to hold exactly %u",
			       count, count);
	*size = count;
	return 0;
}

static int check_name(const char *name)
{
	size_t len;

	if (!name)
		return hp_fail(-EINVAL, "ring name is NULL; give a name of 1 to %d characters",
			       HP_RING_NAMESIZE - 1);
	len = strnlen(name, HP_RING_NAMESIZE);
	if (len == 0 || len >= HP_RING_NAMESIZE)
		return hp_fail(-EINVAL, "ring name \"%.*s%s\": must be 1 to %d characters",
			       HP_RING_NAMESIZE - 1, name, len ? "..." : "", HP_RING_NAMESIZE - 1);
	return 0;
}

HP_API ssize_t hp_ring_get_memsize(unsigned count, unsigned flags)
{
	uint32_t size = 0;
	int rc = ring_size(count, flags, &size);

	if (rc < 0)
		return rc;
	return HP_ALIGN_UP(sizeof(struct hp_ring) + (size_t)size * sizeof(void *),
			   (size_t)HP_CACHE_LINE_SIZE);
}

HP_API int hp_ring_init(struct hp_ring *r, const char *name, unsigned count, unsigned flags)
{
	uint32_t size = 0;
	int rc;

	if (!r)
		return hp_fail(-EINVAL,
			       "hp_ring_init: ring memory is NULL; pass "
			       "hp_ring_get_memsize() bytes aligned to %d",
			       HP_CACHE_LINE_SIZE);
	if ((uintptr_t)r % HP_CACHE_LINE_SIZE)
		return hp_fail(-EINVAL,
			       "hp_ring_init: ring memory %p is not aligned to %d bytes; "
			       "allocate it with that alignment",
			       (void *)r, HP_CACHE_LINE_SIZE);
	rc = check_name(name);
	if (rc < 0)
		return rc;
	rc = ring_size(count, flags, &size);
	if (rc < 0)
		return rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->flags = flags;
	r->size = size;
	r->mask = size - 1;
	r->capacity = (flags & HP_RING_EXACT_SZ) ? count : size - 1;
	r->prod.single = !!(flags & HP_RING_SP_ENQ);
	r->cons.single = !!(flags & HP_RING_SC_DEQ);
	r->prod.head = r->prod.tail = 0;
	r->cons.head = r->cons.tail = 0;
	r->node = -1;
	r->magic = HP_RING_MAGIC;
	return 0;
}

/* The registry's: a freed ring goes, once no walk can visit it. */
static void retire(void *obj)
{
	struct hp_ring *r = obj;

	r->magic = 0;
	mem_range_release(r, (size_t)hp_ring_get_memsize(
				 r->flags & HP_RING_EXACT_SZ ? r->capacity : r->size, r->flags));
}

static struct hp_ring *exists(const char *name)
{
	return hp_fail_ptr(
	    -EEXIST, "ring \"%s\" exists already; pick another name or hp_ring_lookup() it", name);
}

HP_API struct hp_ring *hp_ring_create(const char *name, unsigned count, int node, unsigned flags)
{
	char who[HP_RING_NAMESIZE + 16], why[256];
	struct hp_ring *r;
	ssize_t len;
	int rc;

	rc = check_name(name);
	if (rc < 0)
		return NULL;
	len = hp_ring_get_memsize(count, flags);
	if (len < 0)
		return NULL;
	if (eal_registry_find(&rings, name))
		return exists(name);
	snprintf(who, sizeof(who), "ring \"%s\"", name);
	if (eal_node_resolve(&node, who) < 0)
		return NULL;
	r = eal_registry_alloc(&rings, (size_t)len,
			       node); /* never where a freed ring was, lately */
	if (!r) {
		rc = -errno;
		snprintf(why, sizeof(why), "%s", hp_last_error());
		return hp_fail_ptr(rc, "ring \"%s\" (%zd bytes on node %d): %s", name, len, node,
				   why);
	}
	hp_ring_init(r, name, count, flags); /* arguments checked above */
	r->node = node;
	/* a create of the same name since the check above makes one of them lose */
	if (eal_registry_add(&rings, r) < 0) {
		mem_range_release(r, (size_t)len);
		return exists(name);
	}
	HP_LOG_D("ring %s: %u slots, holds %u, node %d, flags 0x%x", name, r->size, r->capacity,
		 node, flags);
	return r;
}

HP_API struct hp_ring *hp_ring_lookup(const char *name)
{
	struct hp_ring *r;

	if (check_name(name) < 0 || eal_need_runtime(__func__))
		return NULL;
	r = eal_registry_find(&rings, name);
	if (!r)
		return hp_fail_ptr(-ENOENT, "no ring named \"%s\"; create it with hp_ring_create()",
				   name);
	return r;
}

HP_API int hp_ring_free(struct hp_ring *r)
{
	int rc;

	if (!r)
		return 0;
	rc = eal_registry_free(&rings, r);
	if (rc != -ENOENT)
		return rc;
	/* never listed: a ring of hp_ring_init() is its caller's to free, anything else is wrong */
	if (r->magic == HP_RING_MAGIC && r->node < 0) {
		HP_LOG_D("hp_ring_free(%s): ring is in caller memory; nothing to free", r->name);
		return 0;
	}
	rc = hp_fail(-EINVAL, "hp_ring_free(%p): not a ring; pass what hp_ring_create() returned",
		     (void *)r);
	HP_LOG_E("%s", hp_last_error());
	return rc;
}

/* A side's head; a single thread's side keeps none apart from its tail. */
static uint32_t side_head(const struct hp_ring_headtail *ht)
{
	return __atomic_load_n(ht->single ? &ht->tail : &ht->head, __ATOMIC_RELAXED);
}

HP_API int hp_ring_dump(FILE *f, const struct hp_ring *r)
{
	if (!f || !r)
		return hp_fail(-EINVAL, "hp_ring_dump: %s is NULL; pass a stream and a ring",
			       f ? "the ring" : "the stream");
	fprintf(f,
		"ring %s: size %" PRIu32 " capacity %" PRIu32 " flags 0x%x prod %s %" PRIu32
		"/%" PRIu32 " cons %s %" PRIu32 "/%" PRIu32 " count %u\n",
		r->name, r->size, r->capacity, r->flags, r->prod.single ? "single" : "multi",
		side_head(&r->prod), __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED),
		r->cons.single ? "single" : "multi", side_head(&r->cons),
		__atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED), hp_ring_count(r));
	return 0;
}

/* The out-of-line half of the pointer copy shared by the ring and the mempool. */
HP_API void __hp_ptrcopy_long(void **dst, void *const *src, unsigned n)
{
#pragma GCC unroll 2
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		__hp_ptrcopy8(dst, src);
	__hp_ptrcopy(dst, src, n); /* n < 8: inline, no call back here */
}

struct walk_arg {
	int (*fn)(struct hp_ring *r, void *arg);
	void *arg;
};

static int visit(void *obj, void *arg)
{
	const struct walk_arg *w = arg;

	return w->fn(obj, w->arg);
}

/* Rings are visited with no lock held (see eal_registry_walk): fn may call anything. */
HP_API int hp_ring_walk(int (*fn)(struct hp_ring *r, void *arg), void *arg)
{
	struct walk_arg w = {fn, arg};

	if (!fn)
		return hp_fail(-EINVAL, "hp_ring_walk: callback is NULL; pass a function");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	return eal_registry_walk(&rings, visit, &w);
}

/* hp_cleanup: rings live in runtime memory, which is about to go. */
static void ring_cleanup(void)
{
	eal_registry_clear(&rings);
}

EAL_SUBSYS_REGISTER(ring, EAL_SUBSYS_RING, NULL, ring_cleanup)

/* In a forked child: the rings are the parent's, in memory the child does not have. */
static void ring_fork_child(void)
{
	eal_registry_forget(&rings);
}
EAL_FORK_CHILD(ring_fork_child)
