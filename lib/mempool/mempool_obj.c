/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Objects: the carving rule (mempool_chunk_walk, the only place that decides where objects sit),
 * iteration, counts, audit, dump, and the debug-build cookie checks. Object layout:
 *   release: [IOVA 8 B][object]                       (object start aligned, obj_align)
 *   debug:   [cookie 8 B][IOVA 8 B][object][tail cookie 8 B]
 * The head cookie says free or in use; it changes only in get/put of the thread that holds the
 * object. Counts read other threads' cache lengths without a lock: a snapshot.
 */
#include <string.h>

#include "heap/heap_internal.h"
#include "mem/mem_internal.h"
#include "mempool_internal.h"

unsigned mempool_chunk_walk(struct hp_mempool *mp, const struct hp_mempool_chunk *ch, unsigned max,
			    void (*fn)(struct hp_mempool *mp, void *obj, void *arg), void *arg)
{
	const struct mem_list *l = mem_list_of(ch->va);
	uintptr_t pg = l ? l->page_size : 4096;
	uintptr_t span = mempool_obj_span(mp), stride = HP_ALIGN_UP(span, (uintptr_t)mp->obj_align);
	uintptr_t end = (uintptr_t)ch->va + ch->len;
	uintptr_t obj = HP_ALIGN_UP((uintptr_t)ch->va + mp->header_size, (uintptr_t)mp->obj_align);
	bool contig = !(mp->flags & HP_MEMPOOL_F_NO_IOVA_CONTIG);
	unsigned count = 0;

	while (count < max) {
		uintptr_t start = obj - mp->header_size;

		if (start + span > end)
			break;
		/* an object inside one page is contiguous; one across pages must be checked */
		if (contig && start / pg != (start + span - 1) / pg &&
		    !mem_range_iova_contig((void *)start, span)) {
			obj = HP_ALIGN_UP(HP_ALIGN_UP(start + 1, pg) + mp->header_size,
					  (uintptr_t)mp->obj_align);
			continue;
		}
		fn(mp, (void *)obj, arg);
		count++;
		obj += stride;
	}
	return count;
}

bool mempool_owns(const struct hp_mempool *mp, const void *obj)
{
	unsigned i;

	for (i = 0; i < mp->n_chunks; i++)
		if ((const char *)obj >= mp->chunks[i].va &&
		    (const char *)obj < mp->chunks[i].va + mp->chunks[i].len)
			return true;
	return false;
}

struct iter_arg {
	void (*fn)(struct hp_mempool *mp, void *arg, void *obj, unsigned idx);
	void *arg;
	unsigned idx;
};

static void iter_one(struct hp_mempool *mp, void *obj, void *arg)
{
	struct iter_arg *it = arg;

	it->fn(mp, it->arg, obj, it->idx++);
}

HP_API int hp_mempool_obj_iter(struct hp_mempool *mp,
			       void (*fn)(struct hp_mempool *mp, void *arg, void *obj,
					  unsigned idx),
			       void *arg)
{
	struct iter_arg it = {.fn = fn, .arg = arg, .idx = 0};
	unsigned i;

	if (!mp || !fn)
		return hp_fail(-EINVAL, "hp_mempool_obj_iter: pool and callback must not be NULL");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	for (i = 0; i < mp->n_chunks; i++)
		mempool_chunk_walk(mp, &mp->chunks[i], mp->chunks[i].count, iter_one, &it);
	return (int)it.idx;
}

HP_API int hp_mempool_mem_iter(struct hp_mempool *mp,
			       void (*fn)(struct hp_mempool *mp, void *arg, void *va, size_t len,
					  unsigned idx),
			       void *arg)
{
	unsigned i;

	if (!mp || !fn)
		return hp_fail(-EINVAL, "hp_mempool_mem_iter: pool and callback must not be NULL");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	for (i = 0; i < mp->n_chunks; i++)
		fn(mp, arg, mp->chunks[i].va, mp->chunks[i].len, i);
	return (int)mp->n_chunks;
}

unsigned mempool_user_cache_count(const struct hp_mempool *mp, unsigned *caches)
{
	const struct hp_mempool_cache *c;
	unsigned n = 0, k = 0;

	pthread_mutex_lock(&mempool_lock);
	for (c = mp->user_caches; c; c = c->next, k++)
		n += (unsigned)__atomic_load_n(&c->len, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mempool_lock);
	if (caches)
		*caches = k;
	return n;
}

/* A NULL pool given to a call that returns a count: errno EINVAL, a sentence, and 0. */
static unsigned null_pool(const char *fn)
{
	hp_fail(-EINVAL, "%s: the pool is NULL; pass what hp_mempool_create() returned", fn);
	return 0;
}

HP_API unsigned hp_mempool_avail_count(const struct hp_mempool *mp)
{
	uint64_t n;
	unsigned i;

	if (!mp)
		return null_pool(__func__);
	if (eal_need_runtime(__func__))
		return 0;
	n = mp->ops->count(mp) + mempool_percpu_count(mp) + mempool_user_cache_count(mp, NULL);
	for (i = 1; i <= HP_MAX_LCORES; i++)
		n += __atomic_load_n(&__hp_mempool_cache_slot(mp, i)->len, __ATOMIC_RELAXED);
	return n > mp->size ? mp->size : (unsigned)n;
}

HP_API unsigned hp_mempool_in_use_count(const struct hp_mempool *mp)
{
	if (!mp)
		return null_pool(__func__);
	if (eal_need_runtime(__func__))
		return 0;
	return mp->size - hp_mempool_avail_count(mp);
}

HP_API uint64_t hp_mempool_debug_errors(const struct hp_mempool *mp)
{
	if (!mp)
		return null_pool(__func__);
	return __atomic_load_n(&mp->debug_errors, __ATOMIC_RELAXED);
}

#ifdef HP_MEMPOOL_DEBUG
struct audit_arg {
	unsigned used, bad;
	void *first_bad;
};

static void audit_one(struct hp_mempool *mp, void *obj, void *arg)
{
	struct audit_arg *a = arg;
	uint64_t head = *mempool_cookie_head(obj);

	if ((head != MP_COOKIE_FREE && head != MP_COOKIE_USED) ||
	    *mempool_cookie_tail(mp, obj) != MP_COOKIE_TAIL) {
		if (!a->bad++)
			a->first_bad = obj;
		return;
	}
	a->used += head == MP_COOKIE_USED;
}
#endif

HP_API int hp_mempool_audit(struct hp_mempool *mp)
{
	uint64_t held;
	unsigned i;

	if (!mp)
		return hp_fail(-EINVAL, "hp_mempool_audit: the pool is NULL; pass a pool");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	held = mp->ops->count(mp);

	for (i = 0; i <= HP_MAX_LCORES; i++) {
		const struct hp_mempool_cache *c = __hp_mempool_cache_slot(mp, i);

		if (c->len > c->flushthresh)
			return hp_fail(-EFAULT,
				       "mempool '%s': lcore %u's cache holds %lu objects, "
				       "above its threshold %lu: memory corrupted?",
				       mp->name, i - 1, (unsigned long)c->len,
				       (unsigned long)c->flushthresh);
		held += c->len;
	}
	if (mempool_percpu_audit(mp, &held) < 0)
		return -EFAULT;
	if (held > mp->size)
		return hp_fail(-EFAULT,
			       "mempool '%s': backend and caches hold %lu objects, the "
			       "pool has %u: an object was put twice",
			       mp->name, (unsigned long)held, mp->size);
#ifdef HP_MEMPOOL_DEBUG
	{
		struct audit_arg a = {0};
		unsigned avail = hp_mempool_avail_count(mp);

		for (i = 0; i < mp->n_chunks; i++)
			mempool_chunk_walk(mp, &mp->chunks[i], mp->chunks[i].count, audit_one, &a);
		if (a.bad)
			return hp_fail(-EFAULT,
				       "mempool '%s': %u objects with damaged cookies, the "
				       "first at %p: something wrote outside its object",
				       mp->name, a.bad, a.first_bad);
		if (a.used != mp->size - avail)
			return hp_fail(-EFAULT,
				       "mempool '%s': %u objects marked in use but %u are "
				       "missing from the pool: objects lost or put twice",
				       mp->name, a.used, mp->size - avail);
	}
#endif
	return 0;
}

#ifdef HP_MEMPOOL_STATS
static void dump_stats(FILE *f, const char *who, const struct hp_mempool_stats *s)
{
	if (!s->gets && !s->puts && !s->get_fails)
		return;
	fprintf(f,
		"  %-10s gets %lu (%lu objs) fails %lu puts %lu (%lu objs) backend %lu bulk "
		"1:%lu 2-3:%lu 4-7:%lu 8-15:%lu 16-31:%lu 32-63:%lu 64+:%lu\n",
		who, (unsigned long)s->gets, (unsigned long)s->get_objs,
		(unsigned long)s->get_fails, (unsigned long)s->puts, (unsigned long)s->put_objs,
		(unsigned long)s->backend, (unsigned long)s->bulk[0], (unsigned long)s->bulk[1],
		(unsigned long)s->bulk[2], (unsigned long)s->bulk[3], (unsigned long)s->bulk[4],
		(unsigned long)s->bulk[5], (unsigned long)s->bulk[6]);
}
#endif

HP_API int hp_mempool_dump(FILE *f, const struct hp_mempool *mp)
{
	unsigned i;

	if (!f || !mp)
		return hp_fail(-EINVAL, "hp_mempool_dump: %s is NULL; pass a stream and a pool",
			       f ? "the pool" : "the stream");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	fprintf(f,
		"mempool '%s': %u objects of %u B (header %u B, trailer %u B, align %u), node %d, "
		"backend %s, cache %u per lcore\n",
		mp->name, mp->size, mp->elt_size, mp->header_size, mp->trailer_size, mp->obj_align,
		mp->node, mp->ops->name, mp->cache_size);
	fprintf(f, "  avail %u (backend %u), in use %u, debug errors %lu, chunks %u\n",
		hp_mempool_avail_count(mp), mp->ops->count(mp), hp_mempool_in_use_count(mp),
		(unsigned long)hp_mempool_debug_errors(mp), mp->n_chunks);
	for (i = 1; i <= HP_MAX_LCORES; i++)
		if (__hp_mempool_cache_slot(mp, i)->len)
			fprintf(f, "  lcore %u cache: %lu objects\n", i - 1,
				(unsigned long)__hp_mempool_cache_slot(mp, i)->len);
	mempool_percpu_dump(f, mp);
#ifdef HP_MEMPOOL_STATS
	for (i = 0; i <= HP_MAX_LCORES; i++) {
		char who[24];

		snprintf(who, sizeof(who), i ? "lcore %u" : "no lcore", i - 1); /* per-CPU too */
		dump_stats(f, who, &__hp_mempool_cache_slot(mp, i)->stats);
	}
#endif
	return 0;
}
