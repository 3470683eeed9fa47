/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet-buffer pools: a mempool whose every object is laid out as header | private area |
 * buffer, with buf_addr and buf_iova written once at creation. The per-packet calls are
 * inline in hp_pktbuf.h; this file only creates pools.
 */
#include <errno.h>
#include <stddef.h>

#include <hp_pktbuf.h>
#include "eal/eal_internal.h"

struct layout {
	uint16_t priv_size;
	uint16_t data_room;
};

static void init_one(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	const struct layout *l = arg;
	struct hp_pktbuf *m = obj;
	size_t off = sizeof(*m) + l->priv_size;

	(void)idx;
	m->buf_addr = (char *)m + off;
	m->buf_iova = hp_mempool_virt2iova(m) + off;
	m->buf_len = l->data_room;
	m->priv_size = l->priv_size;
	m->pool = mp;
	m->port = 0;
	__hp_pktbuf_reset(m);
}

HP_API struct hp_mempool *hp_pktbuf_pool_create(const char *name, unsigned n, unsigned cache_size,
						uint16_t priv_size, uint16_t data_room, int node)
{
	struct layout l = {.priv_size = priv_size, .data_room = data_room};
	struct hp_mempool *mp;

	if (priv_size % 8)
		return hp_fail_ptr(
		    -EINVAL, "pktbuf pool %s: priv_size %u is not a multiple of 8; round it up",
		    name ? name : "(null)", priv_size);
	if (data_room == 0)
		return hp_fail_ptr(-EINVAL,
				   "pktbuf pool %s: data_room is 0; give the buffer size, e.g. %u",
				   name ? name : "(null)", 2048 + HP_PKTBUF_HEADROOM);
	mp =
	    hp_mempool_create(name, n, (unsigned)(sizeof(struct hp_pktbuf) + priv_size + data_room),
			      cache_size, node, 0);
	if (!mp)
		return NULL; /* hp_mempool_create said why */
	hp_mempool_obj_iter(mp, init_one, &l);
	return mp;
}
