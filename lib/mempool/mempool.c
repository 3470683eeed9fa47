/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool life cycle: create (check arguments, one block of runtime memory for the pool struct,
 * its lcore caches and its per-CPU caches, blocks for the objects, carve, fill the backend),
 * lookup, free, and the registry of named pools (lib/eal/registry.c: freed pools keep their
 * struct for a while, so a stale pointer is refused, never taken for a newer pool). Pools take
 * no memzone: their names never meet memzone names. Objects are carved so that none straddles
 * an IOVA break unless HP_MEMPOOL_F_NO_IOVA_CONTIG; the 8 bytes before each object hold its
 * IOVA. mempool_lock guards the user caches: lock level 3, doc/architecture.md (the registry's
 * lock: level 11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap/heap_internal.h"
#include "mem/mem_internal.h"
#include "mempool_internal.h"

/* recursive: a put refused under it is logged, and the program's log handler may use pools */
pthread_mutex_t mempool_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void retire(void *obj);
static struct eal_registry pools = EAL_REGISTRY_INIT("mempool", struct hp_mempool, name, next,
						     retire, mem_range_alloc, mem_range_release);

static int check_args(const char *name, unsigned n, unsigned elt_size, unsigned cache_size,
		      unsigned flags)
{
	unsigned known = HP_MEMPOOL_F_NO_IOVA_CONTIG | HP_MEMPOOL_F_SP_PUT | HP_MEMPOOL_F_SC_GET |
			 HP_MEMPOOL_F_NO_CACHE_ALIGN;

	if (!hp_initialized())
		return hp_fail(-EINVAL, "mempool: %s", eal_no_runtime());
	if (eal_name_check("mempool", name, HP_MEMPOOL_NAMESIZE))
		return -EINVAL;
	if (n == 0)
		return hp_fail(-EINVAL, "mempool '%s': 0 objects asked; ask for 1 or more", name);
	if (elt_size == 0 || elt_size > (1u << 30))
		return hp_fail(-EINVAL, "mempool '%s': object size %u; give 1 byte to 1 GiB", name,
			       elt_size);
	if (cache_size > HP_MEMPOOL_CACHE_MAX)
		return hp_fail(-EINVAL,
			       "mempool '%s': cache size %u is above HP_MEMPOOL_CACHE_MAX "
			       "(%d); use %d or less",
			       name, cache_size, HP_MEMPOOL_CACHE_MAX, HP_MEMPOOL_CACHE_MAX);
	if (cache_size > n)
		return hp_fail(-EINVAL,
			       "mempool '%s': cache size %u is larger than the pool (%u "
			       "objects); use a cache of at most n (n / 8 or less is usual)",
			       name, cache_size, n);
	if (flags & ~known)
		return hp_fail(-EINVAL, "mempool '%s': unknown flags 0x%x; use HP_MEMPOOL_F_*",
			       name, flags & ~known);
	return 0;
}

/* Repeat the failure of a lower layer under the pool's name, keeping its advice. */
static int fail_from(const char *name, const char *what)
{
	char why[400];
	int err = errno ? -errno : -ENOMEM;

	snprintf(why, sizeof(why), "%s", hp_last_error());
	return hp_fail(err, "mempool '%s': %s: %s", name, what, why);
}

static void init_caches(struct hp_mempool *mp)
{
	unsigned i;

	for (i = 0; i <= HP_MAX_LCORES; i++) {
		struct hp_mempool_cache *c = __hp_mempool_cache_slot(mp, i);

		/* slot 0 serves threads without an lcore id: size 0 sends them to the backend */
		mempool_cache_init(c, i ? mp->cache_size : 0, mp, mp->node);
	}
}

static void set_iova(struct hp_mempool *mp, void *obj, void *arg)
{
	uint64_t iova = hp_mem_virt2iova(obj);

	(void)arg;
	memcpy((char *)obj - 8, &iova, 8);
#ifdef HP_MEMPOOL_DEBUG
	*mempool_cookie_head(obj) = MP_COOKIE_FREE;
	*mempool_cookie_tail(mp, obj) = MP_COOKIE_TAIL;
#else
	(void)mp;
#endif
}

struct batch {
	void *objs[MP_BATCH];
	unsigned n;
};

static void batch_add(struct hp_mempool *mp, void *obj, void *arg)
{
	struct batch *b = arg;

	b->objs[b->n++] = obj;
	if (b->n == MP_BATCH) {
		mempool_backend_put(mp, b->objs, b->n);
		b->n = 0;
	}
}

/* Bytes to ask for `want` objects: their spans, plus one object lost at each page break. */
static size_t chunk_len(const struct hp_mempool *mp, unsigned want)
{
	size_t stride = HP_ALIGN_UP(mempool_obj_span(mp), mp->obj_align);
	size_t pg = hp_mem_page_size() ? hp_mem_page_size() : 4096;
	size_t len = (size_t)want * stride + mp->obj_align + mp->header_size;

	if (!(mp->flags & HP_MEMPOOL_F_NO_IOVA_CONTIG))
		len += (len / pg + 1) * (stride + mp->obj_align);
	return len;
}

/* Allocate blocks and carve mp->size objects from them. */
static int populate(struct hp_mempool *mp)
{
	unsigned placed = 0;

	while (placed < mp->size) {
		struct hp_mempool_chunk *ch = &mp->chunks[mp->n_chunks];
		size_t len = chunk_len(mp, mp->size - placed);
		unsigned got;

		if (mp->n_chunks == HP_MEMPOOL_MAX_CHUNKS)
			return hp_fail(-ENOMEM,
				       "mempool '%s': %u of %u objects fit in %d chunks; use "
				       "fewer or smaller objects, or HP_MEMPOOL_F_NO_IOVA_CONTIG",
				       mp->name, placed, mp->size, HP_MEMPOOL_MAX_CHUNKS);
		ch->va = mem_range_alloc(len, HP_CACHE_LINE_SIZE, mp->node, 0);
		if (!ch->va)
			return fail_from(mp->name, "no memory for the objects");
		ch->len = len;
		mp->n_chunks++;
		got = mempool_chunk_walk(mp, ch, mp->size - placed, set_iova, NULL);
		ch->count = got;
		placed += got;
		if (got == 0)
			return hp_fail(-ENOMEM,
				       "mempool '%s': an object of %zu bytes does not fit in "
				       "IOVA-contiguous memory; use HP_MEMPOOL_F_NO_IOVA_CONTIG or "
				       "smaller objects",
				       mp->name, mempool_obj_span(mp));
	}
	return 0;
}

static void fill_backend(struct hp_mempool *mp)
{
	struct batch b = {.n = 0};
	unsigned i;

	for (i = 0; i < mp->n_chunks; i++)
		mempool_chunk_walk(mp, &mp->chunks[i], mp->chunks[i].count, batch_add, &b);
	if (b.n)
		mempool_backend_put(mp, b.objs, b.n);
}

/* Give back the backend (if started), the objects, and the block of the struct and caches. */
static void destroy(struct hp_mempool *mp, bool backend)
{
	unsigned i;

	if (backend)
		mp->ops->free(mp);
	for (i = 0; i < mp->n_chunks; i++)
		mem_range_release(mp->chunks[i].va, mp->chunks[i].len);
	mem_range_release(mp, mp->len);
}

/* The registry's: a freed pool goes, once no walk can visit it. */
static void retire(void *obj)
{
	struct hp_mempool *mp = obj;

	pthread_mutex_lock(&mempool_lock);
	mempool_detach_user_caches(mp);
	mempool_percpu_drain(mp); /* the backend gets every object back before it goes */
	pthread_mutex_unlock(&mempool_lock);
	destroy(mp, true);
}

static struct hp_mempool *exists(const char *name)
{
	return hp_fail_ptr(-EEXIST,
			   "mempool '%s' exists already; pick another name or hp_mempool_free() "
			   "the old one",
			   name);
}

static const char *default_ops(unsigned flags)
{
	bool sp = flags & HP_MEMPOOL_F_SP_PUT, sc = flags & HP_MEMPOOL_F_SC_GET;

	return sp ? (sc ? "ring_sp_sc" : "ring_sp_mc") : (sc ? "ring_mp_sc" : "ring_mp_mc");
}

static struct hp_mempool *setup(const char *name, unsigned n, unsigned elt_size,
				unsigned cache_size, int node, unsigned flags,
				const struct hp_mempool_ops *ops)
{
	size_t stride = mempool_cache_bytes(cache_size);
	size_t head = HP_ALIGN_UP(sizeof(struct hp_mempool), HP_CACHE_LINE_SIZE);
	size_t len = head + (HP_MAX_LCORES + 1) * stride + mempool_percpu_bytes(cache_size);
	struct hp_mempool *mp;
	int rc;

	mp = eal_registry_alloc(&pools, len, node); /* never where a freed pool was, lately */
	if (!mp) {
		fail_from(name, "no memory for the pool and its caches");
		return NULL;
	}
	memset(mp, 0, head);
	snprintf(mp->name, sizeof(mp->name), "%s", name);
	mp->len = len;
	mp->size = n;
	mp->elt_size = elt_size;
	mp->cache_size = cache_size;
	mp->flags = flags;
	mp->node = node;
	mp->ops = ops;
	mp->cache_base = (uintptr_t)mp + head;
	mp->cache_stride = stride;
#ifdef HP_MEMPOOL_DEBUG
	mp->header_size = 16;
	mp->trailer_size = 8;
#else
	mp->header_size = 8;
#endif
	mp->obj_align = (flags & HP_MEMPOOL_F_NO_CACHE_ALIGN) ? 8 : HP_CACHE_LINE_SIZE;
	init_caches(mp);
	mempool_percpu_setup(mp, (char *)mp + head + (HP_MAX_LCORES + 1) * stride);

	rc = ops->alloc(mp);
	if (rc < 0) {
		fail_from(name, "the backend could not start");
		destroy(mp, false);
		return NULL;
	}
	if (populate(mp) < 0) {
		int err = errno;

		destroy(mp, true);
		errno = err;
		return NULL;
	}
	fill_backend(mp);
	return mp;
}

HP_API struct hp_mempool *hp_mempool_create_ops(const char *name, unsigned n, unsigned elt_size,
						unsigned cache_size, int node, unsigned flags,
						const char *ops_name)
{
	char who[HP_MEMPOOL_NAMESIZE + 16];
	const struct hp_mempool_ops *ops;
	struct hp_mempool *mp;

	if (check_args(name, n, elt_size, cache_size, flags) < 0)
		return NULL;
	if (!ops_name)
		ops_name = default_ops(flags);
	ops = mempool_ops_find(ops_name);
	if (!ops)
		return hp_fail_ptr(-EINVAL,
				   "mempool '%s': no backend named '%s'; use ring_mp_mc, "
				   "ring_sp_sc, ring_sp_mc, ring_mp_sc, stack or a registered one",
				   name, ops_name);
	if (eal_registry_find(&pools, name))
		return exists(name);
	snprintf(who, sizeof(who), "mempool '%s'", name);
	if (eal_node_resolve(&node, who) < 0)
		return NULL;
	/* set up with no lock held; a create of the same name meanwhile makes one of them lose */
	mp = setup(name, n, elt_size, cache_size, node, flags, ops);
	if (mp && eal_registry_add(&pools, mp) < 0) {
		destroy(mp, true);
		return exists(name);
	}
	return mp;
}

HP_API struct hp_mempool *hp_mempool_create(const char *name, unsigned n, unsigned elt_size,
					    unsigned cache_size, int node, unsigned flags)
{
	return hp_mempool_create_ops(name, n, elt_size, cache_size, node, flags, NULL);
}

HP_API struct hp_mempool *hp_mempool_lookup(const char *name)
{
	struct hp_mempool *mp;

	if (!name)
		return hp_fail_ptr(-EINVAL, "mempool lookup: name is NULL; pass a pool name");
	if (eal_need_runtime(__func__))
		return NULL;
	mp = eal_registry_find(&pools, name);
	if (!mp)
		return hp_fail_ptr(-ENOENT,
				   "no mempool named '%s'; create it with "
				   "hp_mempool_create() first",
				   name);
	return mp;
}

HP_API int hp_mempool_free(struct hp_mempool *mp)
{
	int rc;

	if (!mp)
		return 0;
	if (eal_need_runtime(__func__))
		return -EINVAL;
	rc = eal_registry_free(&pools, mp);
	if (rc != -ENOENT)
		return rc;
	rc = hp_fail(-EINVAL,
		     "hp_mempool_free(%p): not a pool; pass what hp_mempool_create() returned",
		     (void *)mp);
	HP_LOG_E("%s", hp_last_error());
	return rc;
}

/* hp_cleanup: pools live in runtime memory, which is about to go. */
static void mempool_cleanup(void)
{
	eal_registry_clear(&pools);
}

static int mempool_init(const struct hp_init_opts *opts)
{
	(void)opts;
	mempool_percpu_detect();
	return 0;
}

EAL_SUBSYS_REGISTER(mempool, EAL_SUBSYS_MEMPOOL, mempool_init, mempool_cleanup)

/* In a forked child: the pools are the parent's, in memory the child does not have. */
static void mempool_fork_child(void)
{
	mempool_lock = (pthread_mutex_t)PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	eal_registry_forget(&pools);
	mempool_percpu_fork_child();
}
EAL_FORK_CHILD(mempool_fork_child)

struct walk_arg {
	int (*fn)(struct hp_mempool *mp, void *arg);
	void *arg;
};

static int visit(void *obj, void *arg)
{
	const struct walk_arg *w = arg;

	return w->fn(obj, w->arg);
}

/* Pools are visited with no lock held (see eal_registry_walk): fn may call anything. */
HP_API int hp_mempool_walk(int (*fn)(struct hp_mempool *mp, void *arg), void *arg)
{
	struct walk_arg w = {fn, arg};

	if (!fn)
		return hp_fail(-EINVAL, "hp_mempool_walk: callback is NULL; pass a function");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	return eal_registry_walk(&pools, visit, &w);
}
