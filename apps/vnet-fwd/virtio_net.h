/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A poll-mode driver for a modern virtio-net PCI device (virtio 1.x, split virtqueues) on
 * hugepool's lib/pci: one rx and one tx queue, frames in packet buffers of a pktbuf pool that
 * the device reads and writes directly (the virtio-net header sits in the buffer's headroom),
 * no interrupts, no offloads. One thread drives a device; x86 (little-endian) only.
 */
#ifndef VNET_VIRTIO_NET_H
#define VNET_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <hugepool.h>
#include <hp_pci.h>

#include "virtqueue.h"

#define VNET_QUEUE_MAX 1024 /* descriptors per queue at most (less if the device offers less) */
#define VNET_BURST_MAX 256  /* frames one rx or reclaim call returns at most */
#define VNET_FRAME_MAX 1514 /* no MRG_RXBUF: one buffer holds a whole frame, MTU 1500 */
/* pktbuf data room a device's pool needs: headroom (header inside) and a whole frame */
#define VNET_DATA_ROOM (HP_PKTBUF_HEADROOM + 2048)

struct vnet_dev {
	char addr[16]; /* PCI address, "0000:00:03.0" */
	struct hp_pci_dev *pci;
	volatile uint8_t *common; /* struct virtio_pci_common_cfg (virtio 4.1.4.3) */
	volatile uint8_t *device; /* struct virtio_net_config */
	volatile uint8_t *notify; /* notification area */
	uint32_t notify_mult;	  /* notify_off_multiplier */
	uint64_t features;	  /* negotiated */
	uint8_t mac[6];
	bool has_mac;
	bool started;	    /* DRIVER_OK was set */
	uint64_t rx_errors; /* used rx buffers with a length that cannot be a frame (dropped) */
	struct vq rxq, txq;
	struct hp_mempool *pool; /* rx buffers come from here */
	char err[320];		 /* why the last call failed: a sentence for the user */
};

/*
 * Checks through sysfs, before anything is opened, that addr is a virtio-net device bound to
 * vfio-pci or uio_pci_generic; writes the canonical address to canon[16]. 0, or -errno with the
 * reason in err.
 */
int vnet_probe(const char *addr, char canon[16], char *err, size_t err_len);

/*
 * Opens the device, resets it and negotiates the features (the device is then in FEATURES_OK,
 * not started). 0, or -errno with the reason in d->err (the device is closed again).
 */
int vnet_open(struct vnet_dev *d, const char *addr);
/*
 * Sets up both queues (at most max_queue descriptors each) on the device's NUMA node, fills rx
 * from pool and starts the device (DRIVER_OK). 0, or -errno with the reason in d->err (then
 * vnet_stop() gives back what was taken).
 */
int vnet_start(struct vnet_dev *d, struct hp_mempool *pool, unsigned max_queue);
/* Resets the device (it stops all DMA), then gives back queues, buffers and the device. */
void vnet_stop(struct vnet_dev *d);

/* Frames the device received, up to n (at most VNET_BURST_MAX); each pktbuf holds the frame at its
 * data. */
unsigned vnet_rx_burst(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n);
/* Post every empty rx descriptor with a buffer from the pool; false when the pool ran dry. */
bool vnet_rx_refill(struct vnet_dev *d);
/* Send up to n frames (as many as tx descriptors are free); the driver owns those sent. */
unsigned vnet_tx_burst(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n);
/* Take back up to n (at most VNET_BURST_MAX) frames the device has sent (the caller frees them);
 * their bytes in *bytes. */
unsigned vnet_tx_reclaim(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n, uint64_t *bytes);
/* Free tx descriptors. */
static inline unsigned vnet_tx_room(const struct vnet_dev *d)
{
	return d->txq.n_free;
}
/* True once the device asks to be reset (DEVICE_NEEDS_RESET: it met an error it cannot go on from).
 */
bool vnet_broken(const struct vnet_dev *d);

#endif
