/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_pktbuf.h
 * Packet buffers: a header in front of each buffer of a mempool, with the buffer's IOVA, the
 * data window (headroom, length), a reference count and a chain of segments. Alloc, free and
 * the data-window calls are inline: they sit on a packet program's per-packet path.
 *
 * Layout of one pool object: struct hp_pktbuf | priv_size bytes | data_room bytes (the buffer).
 * A buffer with refcnt 1 belongs to one owner, who may change it without atomics; refcnt > 1
 * means shared, and only hp_pktbuf_refcnt_update()/hp_pktbuf_free() touch the count (atomic).
 */
#ifndef HP_PKTBUF_H
#define HP_PKTBUF_H

#include <errno.h>
#include <stdint.h>
#include <hp_common.h>
#include <hp_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes kept free in front of the data of a fresh buffer (for headers pushed later). */
#define HP_PKTBUF_HEADROOM 128

/**
 * Header in front of each buffer: one cache line.
 * ABI: the inline calls of this header read and write these fields in programs built against
 * it. Moving, resizing or removing a field needs a new soname (libhugepool.so.N+1); new fields
 * are appended, within the line.
 */
struct hp_pktbuf {
	void *buf_addr;		 /**< start of the buffer (after the header and private area) */
	uint64_t buf_iova;	 /**< IOVA of buf_addr */
	uint16_t data_off;	 /**< data starts at buf_addr + data_off */
	uint16_t refcnt;	 /**< references; the buffer goes back to its pool at 0 */
	uint16_t port;		 /**< input port, free for the application */
	uint32_t pkt_len;	 /**< bytes of the whole chain (meaningful in the first segment) */
	uint16_t data_len;	 /**< bytes of data in this segment */
	uint16_t buf_len;	 /**< bytes of the buffer */
	struct hp_mempool *pool; /**< pool the buffer came from */
	struct hp_pktbuf *next;	 /**< next segment of the chain, or NULL */
	uint16_t nb_segs;	 /**< segments in the chain (meaningful in the first segment) */
	uint16_t priv_size;	 /**< bytes of the private area between header and buffer */
} HP_CACHE_ALIGNED;

HP_STATIC_ASSERT(sizeof(struct hp_pktbuf) == HP_CACHE_LINE_SIZE,
		 "a packet buffer's header is one cache line");

/**
 * Create a pool of packet buffers (a mempool whose objects are pktbufs).
 * @param name unique pool name
 * @param n number of buffers
 * @param cache_size per-lcore cache (0 .. HP_MEMPOOL_CACHE_MAX)
 * @param priv_size bytes of application area after each header (multiple of 8)
 * @param data_room bytes of buffer, headroom included (e.g. 2048 + HP_PKTBUF_HEADROOM)
 * @param node NUMA node, or HP_NODE_ANY
 * @return the pool, or NULL with errno EINVAL (priv_size not a multiple of 8, data_room 0),
 *         and every error of hp_mempool_create()
 */
HP_API struct hp_mempool *hp_pktbuf_pool_create(const char *name, unsigned n, unsigned cache_size,
						uint16_t priv_size, uint16_t data_room, int node);

/** @internal Put a buffer into its fresh state (one segment, empty, headroom, refcnt 1). */
static inline void __hp_pktbuf_reset(struct hp_pktbuf *m)
{
	m->data_off = m->buf_len < HP_PKTBUF_HEADROOM ? m->buf_len : HP_PKTBUF_HEADROOM;
	m->refcnt = 1;
	m->pkt_len = 0;
	m->data_len = 0;
	m->next = NULL;
	m->nb_segs = 1;
}

/**
 * Take one buffer, reset: empty, HP_PKTBUF_HEADROOM of headroom, refcnt 1.
 * @param pool a pool from hp_pktbuf_pool_create()
 * @return the buffer, or NULL when the pool is empty
 */
static inline struct hp_pktbuf *hp_pktbuf_alloc(struct hp_mempool *pool)
{
	void *obj;

	if (HP_UNLIKELY(hp_mempool_get(pool, &obj) < 0))
		return NULL;
	__hp_pktbuf_reset((struct hp_pktbuf *)obj);
	return (struct hp_pktbuf *)obj;
}

/**
 * Take n buffers, all or nothing, each reset as by hp_pktbuf_alloc().
 * @return 0, or -ENOENT with nothing taken
 */
static inline int hp_pktbuf_alloc_bulk(struct hp_mempool *pool, struct hp_pktbuf **bufs, unsigned n)
{
	unsigned i;

	if (HP_UNLIKELY(hp_mempool_get_bulk(pool, (void **)bufs, n) < 0))
		return -ENOENT;
	for (i = 0; i < n; i++)
		__hp_pktbuf_reset(bufs[i]);
	return 0;
}

/**
 * Add v to a buffer's reference count (v may be negative).
 * @return the new count
 */
static inline uint16_t hp_pktbuf_refcnt_update(struct hp_pktbuf *m, int16_t v)
{
	return (uint16_t)(__atomic_add_fetch(&m->refcnt, (uint16_t)v, __ATOMIC_ACQ_REL));
}

/**
 * Drop one reference on every segment of a chain; each segment whose count reaches zero goes
 * back to its pool. NULL does nothing.
 * @param m first segment
 */
static inline void hp_pktbuf_free(struct hp_pktbuf *m)
{
	while (m) {
		struct hp_pktbuf *next = m->next;

		/* the sole owner needs no atomic; a shared buffer is counted down atomically */
		if (HP_LIKELY(m->refcnt == 1) || hp_pktbuf_refcnt_update(m, -1) == 0) {
			m->next = NULL;
			hp_mempool_put(m->pool, m);
		}
		m = next;
	}
}

/** @return the start of the segment's data. */
static inline void *hp_pktbuf_mtod(const struct hp_pktbuf *m)
{
	return (char *)m->buf_addr + m->data_off;
}

/** @return the IOVA of the segment's data (for a DMA descriptor). */
static inline uint64_t hp_pktbuf_data_iova(const struct hp_pktbuf *m)
{
	return m->buf_iova + m->data_off;
}

/** @return bytes free in front of the data. */
static inline uint16_t hp_pktbuf_headroom(const struct hp_pktbuf *m)
{
	return m->data_off;
}

/** @return bytes free after the data of this segment. */
static inline uint16_t hp_pktbuf_tailroom(const struct hp_pktbuf *m)
{
	return (uint16_t)(m->buf_len - m->data_off - m->data_len);
}

/** @return the last segment of a chain. */
static inline struct hp_pktbuf *hp_pktbuf_last(struct hp_pktbuf *m)
{
	while (m->next)
		m = m->next;
	return m;
}

/**
 * Grow the data at its end, in the last segment of the chain.
 * @param m first segment
 * @param len bytes
 * @return where the new bytes start, or NULL when the last segment lacks tailroom (nothing changed)
 */
static inline char *hp_pktbuf_append(struct hp_pktbuf *m, uint16_t len)
{
	struct hp_pktbuf *last = hp_pktbuf_last(m);
	char *tail;

	if (HP_UNLIKELY(len > hp_pktbuf_tailroom(last)))
		return NULL;
	tail = (char *)hp_pktbuf_mtod(last) + last->data_len;
	last->data_len = (uint16_t)(last->data_len + len);
	m->pkt_len += len;
	return tail;
}

/**
 * Grow the data at its front (into the headroom of the first segment).
 * @param m first segment
 * @param len bytes
 * @return the new start of data, or NULL when the headroom is too small (nothing changed)
 */
static inline char *hp_pktbuf_prepend(struct hp_pktbuf *m, uint16_t len)
{
	if (HP_UNLIKELY(len > m->data_off))
		return NULL;
	m->data_off = (uint16_t)(m->data_off - len);
	m->data_len = (uint16_t)(m->data_len + len);
	m->pkt_len += len;
	return (char *)hp_pktbuf_mtod(m);
}

/**
 * Remove bytes from the front of the data of the first segment.
 * @return the new start of data, or NULL when the segment holds fewer than len bytes
 */
static inline char *hp_pktbuf_adj(struct hp_pktbuf *m, uint16_t len)
{
	if (HP_UNLIKELY(len > m->data_len))
		return NULL;
	m->data_off = (uint16_t)(m->data_off + len);
	m->data_len = (uint16_t)(m->data_len - len);
	m->pkt_len -= len;
	return (char *)hp_pktbuf_mtod(m);
}

/**
 * Append chain tail to chain head (head takes over tail's reference).
 * @return 0, or -EOVERFLOW when the chain would pass 65535 segments (nothing changed)
 */
static inline int hp_pktbuf_chain(struct hp_pktbuf *head, struct hp_pktbuf *tail)
{
	if (HP_UNLIKELY((unsigned)head->nb_segs + tail->nb_segs > UINT16_MAX))
		return -EOVERFLOW;
	hp_pktbuf_last(head)->next = tail;
	head->nb_segs = (uint16_t)(head->nb_segs + tail->nb_segs);
	head->pkt_len += tail->pkt_len;
	return 0;
}

/** @return the private area of a buffer (priv_size bytes after the header). */
static inline void *hp_pktbuf_priv(struct hp_pktbuf *m)
{
	return m + 1;
}

#ifdef __cplusplus
}
#endif
#endif
