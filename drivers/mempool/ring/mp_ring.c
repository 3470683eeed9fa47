/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool backends over an hp_ring placed in runtime memory on the pool's node: ring_mp_mc
 * (the default), ring_sp_sc, ring_sp_mc, ring_mp_sc. The ring holds exactly mp->size objects
 * (HP_RING_EXACT_SZ), so an enqueue finds room unless objects were put twice; then it stores
 * nothing and says so. The ring's own atomics do all ordering.
 */
#include <errno.h>
#include <stdio.h>

#include <hp_mempool.h>
#include <hp_mempool_driver.h>
#include <hp_ring.h>

static int ring_alloc(struct hp_mempool *mp, unsigned flags)
{
	ssize_t len = hp_ring_get_memsize(mp->size, flags | HP_RING_EXACT_SZ);
	struct hp_ring *r;
	char name[HP_RING_NAMESIZE];

	if (len < 0)
		return __hp_mempool_drv_fail((int)len,
					     "mempool '%s': a ring of %u objects is not possible; "
					     "use fewer objects",
					     mp->name, mp->size);
	r = __hp_mempool_drv_alloc(mp, (size_t)len);
	if (!r)
		return -errno;
	snprintf(name, sizeof(name), "mp.%s", mp->name);
	if (hp_ring_init(r, name, mp->size, flags | HP_RING_EXACT_SZ) < 0) {
		__hp_mempool_drv_free(r, (size_t)len);
		return -errno;
	}
	mp->pool_data = r;
	return 0;
}

static void ring_free(struct hp_mempool *mp)
{
	struct hp_ring *r = mp->pool_data;

	if (r)
		__hp_mempool_drv_free(r, (size_t)hp_ring_get_memsize(mp->size, r->flags));
	mp->pool_data = NULL;
}

static int ring_enqueue(struct hp_mempool *mp, void *const *objs, unsigned n)
{
	return hp_ring_enqueue_bulk(mp->pool_data, objs, n, NULL) || !n ? 0 : -ENOBUFS;
}

static int ring_dequeue(struct hp_mempool *mp, void **objs, unsigned n)
{
	return hp_ring_dequeue_bulk(mp->pool_data, objs, n, NULL) ? 0 : -ENOENT;
}

static unsigned ring_count(const struct hp_mempool *mp)
{
	return hp_ring_count(mp->pool_data);
}

#define RING_OPS(var, str, flags)                                                                  \
	static int var##_alloc(struct hp_mempool *mp)                                              \
	{                                                                                          \
		return ring_alloc(mp, flags);                                                      \
	}                                                                                          \
	static const struct hp_mempool_ops var = {                                                 \
	    .name = str,                                                                           \
	    .alloc = var##_alloc,                                                                  \
	    .free = ring_free,                                                                     \
	    .enqueue = ring_enqueue,                                                               \
	    .dequeue = ring_dequeue,                                                               \
	    .count = ring_count,                                                                   \
	};                                                                                         \
	HP_MEMPOOL_REGISTER_OPS(var)

RING_OPS(ring_mp_mc, "ring_mp_mc", 0)
RING_OPS(ring_sp_sc, "ring_sp_sc", HP_RING_SP_ENQ | HP_RING_SC_DEQ)
RING_OPS(ring_sp_mc, "ring_sp_mc", HP_RING_SP_ENQ)
RING_OPS(ring_mp_sc, "ring_mp_sc", HP_RING_SC_DEQ)
