/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring set-up: sizing, initialisation in caller memory, and named rings in memzones (the zone
 * is "RG_" + name, so the memzone table is the ring registry and its lock is ours). Enqueue and
 * dequeue are inline in hp_ring.h; nothing here touches a ring that threads are using, except
 * hp_ring_free, after which nobody may use the ring.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hp_ring.h>
#include "eal/eal_internal.h"

#define RING_MZ_PREFIX "RG_"
#define RING_FLAGS (HP_RING_SP_ENQ | HP_RING_SC_DEQ | HP_RING_EXACT_SZ)

/*
 * Held (recursive) by hp_ring_walk and while hp_ring_create/hp_ring_free write a ring's header,
 * so that a walk never reads a ring half made or half freed. Lock order: walk_lock before the
 * memzone lock. Lookups and enqueue/dequeue never take it.
 */
static pthread_mutex_t walk_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

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
	r->magic = HP_RING_MAGIC;
	return 0;
}

static void zone_name(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, RING_MZ_PREFIX "%s", name);
}

HP_API struct hp_ring *hp_ring_create(const char *name, unsigned count, int node, unsigned flags)
{
	char mzname[HP_MEMZONE_NAMESIZE], why[256];
	const struct hp_memzone *mz;
	struct hp_ring *r;
	ssize_t len;
	int rc;

	rc = check_name(name);
	if (rc < 0)
		return NULL;
	len = hp_ring_get_memsize(count, flags);
	if (len < 0)
		return NULL;
	zone_name(mzname, sizeof(mzname), name);
	pthread_mutex_lock(&walk_lock);
	mz = hp_memzone_reserve(mzname, (size_t)len, node, 0, HP_CACHE_LINE_SIZE);
	if (!mz) {
		rc = -errno;
		pthread_mutex_unlock(&walk_lock);
		snprintf(why, sizeof(why), "%s", hp_last_error());
		if (rc == -EEXIST)
			return hp_fail_ptr(rc,
					   "ring \"%s\" exists already; pick another name or "
					   "hp_ring_lookup() it",
					   name);
		return hp_fail_ptr(rc, "ring \"%s\" (%zd bytes on node %d): %s", name, len, node,
				   why);
	}
	r = mz->va;
	hp_ring_init(r, name, count, flags); /* arguments checked above */
	r->mz = mz;
	pthread_mutex_unlock(&walk_lock);
	HP_LOG_D("ring %s: %u slots, holds %u, node %d, flags 0x%x", name, r->size, r->capacity,
		 mz->node, flags);
	return r;
}

HP_API struct hp_ring *hp_ring_lookup(const char *name)
{
	char mzname[HP_MEMZONE_NAMESIZE];
	const struct hp_memzone *mz;
	struct hp_ring *r;

	if (check_name(name) < 0)
		return NULL;
	zone_name(mzname, sizeof(mzname), name);
	mz = hp_memzone_lookup(mzname);
	if (!mz)
		return hp_fail_ptr(-ENOENT, "no ring named \"%s\"; create it with hp_ring_create()",
				   name);
	r = mz->va;
	if (r->magic != HP_RING_MAGIC || r->mz != mz)
		return hp_fail_ptr(-ENOENT,
				   "ring \"%s\" is being created or freed; retry the lookup", name);
	return r;
}

HP_API void hp_ring_free(struct hp_ring *r)
{
	const struct hp_memzone *mz;

	if (!r)
		return;
	mz = r->mz;
	if (!mz) {
		HP_LOG_D("hp_ring_free(%s): ring is in caller memory; nothing to free", r->name);
		return;
	}
	pthread_mutex_lock(&walk_lock);
	r->magic = 0;
	r->mz = NULL;
	if (hp_memzone_free(mz) < 0)
		HP_LOG_W("hp_ring_free(%s): %s", r->name, hp_last_error());
	pthread_mutex_unlock(&walk_lock);
}

/* A side's head; a single thread's side keeps none apart from its tail. */
static uint32_t side_head(const struct hp_ring_headtail *ht)
{
	return __atomic_load_n(ht->single ? &ht->tail : &ht->head, __ATOMIC_RELAXED);
}

HP_API void hp_ring_dump(FILE *f, const struct hp_ring *r)
{
	fprintf(f,
		"ring %s: size %" PRIu32 " capacity %" PRIu32 " flags 0x%x prod %s %" PRIu32
		"/%" PRIu32 " cons %s %" PRIu32 "/%" PRIu32 " count %u\n",
		r->name, r->size, r->capacity, r->flags, r->prod.single ? "single" : "multi",
		side_head(&r->prod), __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED),
		r->cons.single ? "single" : "multi", side_head(&r->cons),
		__atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED), hp_ring_count(r));
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

static int walk_zone(const struct hp_memzone *mz, void *arg)
{
	const struct walk_arg *w = arg;
	struct hp_ring *r = mz->va;

	if (strncmp(mz->name, RING_MZ_PREFIX, strlen(RING_MZ_PREFIX)))
		return 0;
	/* a ring being created has no magic or no mz yet; one being freed has lost both */
	if (r->magic != HP_RING_MAGIC || r->mz != mz)
		return 0;
	return w->fn(r, w->arg);
}

HP_API int hp_ring_walk(int (*fn)(struct hp_ring *r, void *arg), void *arg)
{
	struct walk_arg w = {fn, arg};
	int rc;

	if (!fn)
		return hp_fail(-EINVAL, "hp_ring_walk: callback is NULL; pass a function");
	pthread_mutex_lock(&walk_lock);
	rc = hp_memzone_walk(walk_zone, &w);
	pthread_mutex_unlock(&walk_lock);
	return rc;
}
