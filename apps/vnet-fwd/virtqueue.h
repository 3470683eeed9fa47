/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A split virtqueue (virtio 1.x, section 2.7) driven by polling: the descriptor table, the
 * available ring and the used ring live in one IOVA-contiguous memzone, every descriptor points
 * at one packet buffer (no chains, no indirect tables), and the device is asked for no
 * interrupts. One thread owns a queue; the device is the only other party.
 */
#ifndef VNET_VIRTQUEUE_H
#define VNET_VIRTQUEUE_H

#include <stdint.h>

#include <hugepool.h>

/* Bytes of struct virtio_net_hdr with VIRTIO_F_VERSION_1 (num_buffers always present). */
#define VQ_NET_HDR_LEN 12

#define VRING_DESC_F_WRITE 2	     /* the device writes this buffer (rx) */
#define VRING_AVAIL_F_NO_INTERRUPT 1 /* driver -> device: no interrupt on used buffers */
#define VRING_USED_F_NO_NOTIFY 1     /* device -> driver: no need to notify (it is polling) */

struct vring_desc {
	uint64_t addr; /* IOVA of the buffer */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;  /* head descriptor of the chain the device used */
	uint32_t len; /* bytes the device wrote into it */
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

struct vq {
	uint16_t size;		 /* descriptors: a power of two */
	uint16_t index;		 /* the queue's number in the device (rx 0, tx 1) */
	uint16_t avail_idx;	 /* driver's copy of avail->idx: the next slot to fill */
	uint16_t used_idx;	 /* the next used entry to read */
	uint16_t n_free;	 /* descriptors not given to the device */
	uint16_t *free_ids;	 /* stack of those descriptors' numbers */
	struct hp_pktbuf **bufs; /* by descriptor number: the buffer it points at */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	volatile uint16_t *notify; /* this queue's doorbell (set by the device code) */
	const struct hp_memzone *mz;
	uint64_t desc_iova, avail_iova, used_iova;
};

/* Rings and bookkeeping for size descriptors on node; 0, or -errno with hp_last_error(). */
int vq_init(struct vq *q, const char *name, uint16_t index, uint16_t size, int node);
/* Give back what vq_init() took and every buffer still posted (the device must be reset first). */
void vq_free(struct vq *q);

/*
 * Post up to n buffers, then publish them with one release store of avail->idx. rx: the device
 * writes the virtio-net header into the 12 bytes of headroom in front of the data and the frame
 * at the data. tx: the header is written (zero: no offloads) into the headroom in front of the
 * data. Returns how many were posted (bounded by the free descriptors); call vq_kick() after.
 */
unsigned vq_post_rx(struct vq *q, struct hp_pktbuf **bufs, unsigned n);
unsigned vq_post_tx(struct vq *q, struct hp_pktbuf **bufs, unsigned n);

/*
 * Take up to n buffers the device has used (read used->idx with acquire, then the entries);
 * each comes back with the bytes the device wrote in len[i] (tx: 0). Returns how many.
 */
unsigned vq_reclaim(struct vq *q, struct hp_pktbuf **bufs, uint32_t *len, unsigned n);

/* Ring the doorbell unless the device said it polls (used->flags), after a full barrier. */
void vq_kick(struct vq *q);

#endif
