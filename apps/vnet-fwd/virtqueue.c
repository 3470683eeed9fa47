/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split virtqueue of virtqueue.h: ring memory, posting buffers and taking back used ones.
 * Ordering (virtio 1.x, 2.7.13): descriptors and ring entries are written before avail->idx is
 * stored with release; used->idx is read with acquire before its entries and the data are read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "virtqueue.h"

#define VQ_ALIGN 4096

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vq_init(struct vq *q, const char *name, uint16_t index, uint16_t size, int node)
{
	size_t desc_len = sizeof(struct vring_desc) * size;
	size_t avail_len = sizeof(struct vring_avail) + sizeof(uint16_t) * (size + 1u);
	size_t used_off = align_up(desc_len + avail_len, VQ_ALIGN);
	size_t used_len = sizeof(struct vring_used) + sizeof(struct vring_used_elem) * size + 2;
	char *base;
	unsigned i;

	memset(q, 0, sizeof(*q));
	q->mz = hp_memzone_reserve(name, used_off + align_up(used_len, VQ_ALIGN), node,
				   HP_MZ_IOVA_CONTIG, VQ_ALIGN);
	if (!q->mz)
		return -errno;
	q->free_ids = hp_zmalloc(sizeof(*q->free_ids) * size, 0, node);
	q->bufs = hp_zmalloc(sizeof(*q->bufs) * size, 0, node);
	if (!q->free_ids || !q->bufs) {
		vq_free(q);
		return -ENOMEM;
	}
	base = q->mz->va;
	memset(base, 0, q->mz->len);
	q->size = size;
	q->index = index;
	q->desc = (struct vring_desc *)base;
	q->avail = (struct vring_avail *)(base + desc_len);
	q->used = (struct vring_used *)(base + used_off);
	q->desc_iova = q->mz->iova;
	q->avail_iova = q->mz->iova + desc_len;
	q->used_iova = q->mz->iova + used_off;
	/* polled: the device must never raise an interrupt for this queue */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	for (i = 0; i < size; i++)
		q->free_ids[i] = (uint16_t)(size - 1 - i);
	q->n_free = size;
	return 0;
}

void vq_free(struct vq *q)
{
	unsigned i;

	if (q->bufs)
		for (i = 0; i < q->size; i++)
			if (q->bufs[i])
				hp_pktbuf_free(q->bufs[i]);
	hp_free(q->bufs);
	hp_free(q->free_ids);
	if (q->mz)
		hp_memzone_free(q->mz);
	memset(q, 0, sizeof(*q));
}

/* One descriptor for m, into the next available slot (not yet published). */
static void post_one(struct vq *q, struct hp_pktbuf *m, uint64_t iova, uint32_t len, uint16_t flags)
{
	uint16_t id = q->free_ids[--q->n_free];

	q->bufs[id] = m;
	q->desc[id].addr = iova;
	q->desc[id].len = len;
	q->desc[id].flags = flags;
	q->desc[id].next = 0;
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
}

/* Publish the slots filled since the last call: the device may read them after this store. */
static void publish(struct vq *q)
{
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

/* Post up to n buffers, each in one descriptor that starts with the virtio-net header. */
static unsigned post(struct vq *q, struct hp_pktbuf **bufs, unsigned n, bool rx)
{
	unsigned i;

	if (n > q->n_free)
		n = q->n_free;
	for (i = 0; i < n; i++) {
		struct hp_pktbuf *m = bufs[i];
		char *hdr = (char *)hp_pktbuf_mtod(m) - VQ_NET_HDR_LEN;
		uint32_t len;

		/* the header sits in the headroom: rx, the device writes it in front of the frame
		 * and may fill the rest of the buffer; tx, a zero one (no offloads) goes out */
		if (rx) {
			len = (uint32_t)(m->buf_len - m->data_off + VQ_NET_HDR_LEN);
		} else {
			memset(hdr, 0, VQ_NET_HDR_LEN);
			len = (uint32_t)m->data_len + VQ_NET_HDR_LEN;
		}
		post_one(q, m, hp_pktbuf_data_iova(m) - VQ_NET_HDR_LEN, len,
			 rx ? VRING_DESC_F_WRITE : 0);
	}
	if (n)
		publish(q);
	return n;
}

unsigned vq_post_rx(struct vq *q, struct hp_pktbuf **bufs, unsigned n)
{
	return post(q, bufs, n, true);
}

unsigned vq_post_tx(struct vq *q, struct hp_pktbuf **bufs, unsigned n)
{
	return post(q, bufs, n, false);
}

unsigned vq_reclaim(struct vq *q, struct hp_pktbuf **bufs, uint32_t *len, unsigned n)
{
	uint16_t used = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	unsigned i;

	if ((uint16_t)(used - q->used_idx) < n)
		n = (uint16_t)(used - q->used_idx);
	for (i = 0; i < n; i++) {
		const struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
		/* an id the device made up must not index outside the table */
		uint16_t id = (uint16_t)(e->id & (q->size - 1u));

		bufs[i] = q->bufs[id];
		len[i] = e->len;
		q->bufs[id] = NULL;
		q->free_ids[q->n_free++] = id;
		q->used_idx++;
	}
	return n;
}

void vq_kick(struct vq *q)
{
	/*
	 * avail->idx must be visible before the device's flag is read (2.7.13.4): a seq_cst store
	 * (of the value already published) then a seq_cst load are never reordered.
	 */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->used->flags, __ATOMIC_SEQ_CST) & VRING_USED_F_NO_NOTIFY))
		*q->notify = q->index;
}
