/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net device bring-up and the burst calls of virtio_net.h: the modern capabilities in
 * PCI config space (virtio 1.x, 4.1.4), the status handshake and feature negotiation (3.1.1),
 * the queues' registers, and rx refill / tx reclaim on top of virtqueue.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "virtio_net.h"

/* Vendor-specific capability of a virtio PCI device (virtio 4.1.4) and its cfg_type values. */
#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

struct virtio_pci_cap {
	uint8_t cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2];
	uint32_t offset, length;
};

/* struct virtio_pci_common_cfg: byte offsets of its fields */
enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX = 0x10,
	CC_NUMQ = 0x12,
	CC_STATUS = 0x14,
	CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a,
	CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e,
	CC_Q_DESCLO = 0x20,
	CC_Q_AVAILLO = 0x28,
	CC_Q_USEDLO = 0x30,
};

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* device status bits (virtio 2.1) */
#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define S_FAILED 128

/* feature bits */
#define F_NET_MAC (1ull << 5)
#define F_VERSION_1 (1ull << 32)
#define F_ACCESS_PLATFORM (1ull << 33)

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_NET_MODERN 0x1041       /* 0x1040 + device type 1 */
#define VIRTIO_NET_TRANSITIONAL 0x1000 /* with subsystem device 1 */

static int say(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

#define FAIL(d, rc, ...) say((d)->err, sizeof((d)->err), rc, __VA_ARGS__)

static int read_sysfs_hex(const char *addr, const char *file, unsigned *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

int vnet_probe(const char *addr, char canon[16], char *err, size_t err_len)
{
	unsigned dom, bus, dev, fn, vendor = 0, device = 0, subsys = 0;
	char path[128], link[PATH_MAX], extra;
	const char *drv;
	ssize_t n;

	if (sscanf(addr, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &extra) == 4)
		;
	else if (sscanf(addr, "%x:%x.%x%c", &bus, &dev, &fn, &extra) == 3)
		dom = 0;
	else
		return say(err, err_len, -EINVAL,
			   "'%s' is not a PCI address; give DOMAIN:BUS:DEVICE.FUNCTION, e.g. "
			   "0000:00:03.0 (see: hp-devbind --status)",
			   addr);
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return say(err, err_len, -EINVAL,
			   "'%s' is not a PCI address (bus, device or "
			   "function out of range)",
			   addr);
	snprintf(canon, 16, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	if (read_sysfs_hex(canon, "vendor", &vendor) || read_sysfs_hex(canon, "device", &device))
		return say(err, err_len, -ENODEV,
			   "there is no PCI device %s on this machine (see: hp-devbind --status)",
			   canon);
	read_sysfs_hex(canon, "subsystem_device", &subsys);
	if (vendor != VIRTIO_VENDOR ||
	    (device != VIRTIO_NET_MODERN && !(device == VIRTIO_NET_TRANSITIONAL && subsys == 1)))
		return say(
		    err, err_len, -ENODEV,
		    "%s is not a virtio-net device (it is %04x:%04x; virtio-net is 1af4:1041, "
		    "or 1af4:1000 with subsystem 1); give the address of a virtio network "
		    "device (see: hp-devbind --status)",
		    canon, vendor, device);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", canon);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		drv = NULL;
	else {
		link[n] = 0;
		drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	}
	if (!drv || (strcmp(drv, "vfio-pci") && strcmp(drv, "uio_pci_generic")))
		return say(
		    err, err_len, -EBUSY,
		    "%s is bound to %s; a userspace driver needs it bound to vfio-pci (or to "
		    "uio_pci_generic without an IOMMU, with --iova=pa): hp-devbind "
		    "--bind=vfio-pci %s",
		    canon, drv ? drv : "no driver", canon);
	return 0;
}

static uint8_t rd8(const struct vnet_dev *d, unsigned off)
{
	return d->common[off];
}

static uint16_t rd16(const struct vnet_dev *d, unsigned off)
{
	return *(volatile uint16_t *)(d->common + off);
}

static uint32_t rd32(const struct vnet_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->common + off);
}

static void wr8(struct vnet_dev *d, unsigned off, uint8_t v)
{
	d->common[off] = v;
}

static void wr16(struct vnet_dev *d, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(d->common + off) = v;
}

static void wr32(struct vnet_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->common + off) = v;
}

/* 64-bit registers of the common config are written as two 32-bit halves (virtio 4.1.3.1) */
static void wr64(struct vnet_dev *d, unsigned off, uint64_t v)
{
	wr32(d, off, (uint32_t)v);
	wr32(d, off + 4, (uint32_t)(v >> 32));
}

/* Where a capability's structure is: its BAR mapped, plus the offset; NULL with d->err. */
static volatile uint8_t *cap_region(struct vnet_dev *d, const struct virtio_pci_cap *c, size_t need)
{
	size_t len = 0;
	uint8_t *bar = c->bar <= 5 ? hp_pci_dev_bar(d->pci, c->bar, &len) : NULL;

	if (!bar)
		FAIL(d, 0, "%s: BAR %u of a virtio capability cannot be mapped: %s", d->addr,
		     c->bar, c->bar <= 5 ? hp_last_error() : "there is no such BAR");
	else if ((uint64_t)c->offset + need > len || c->length < need)
		FAIL(d, 0, "%s: a virtio capability (type %u) lies outside BAR %u", d->addr,
		     c->cfg_type, c->bar);
	else
		return bar + c->offset;
	return NULL;
}

/* Finds the virtio structures among the vendor-specific capabilities (virtio 4.1.4). */
static int find_caps(struct vnet_dev *d)
{
	struct virtio_pci_cap c;
	int pos = 0;

	while ((pos = hp_pci_dev_find_cap(d->pci, PCI_CAP_ID_VNDR, pos)) > 0) {
		if (hp_pci_dev_config_read(d->pci, (unsigned)pos, &c, sizeof(c)) < 0 ||
		    c.cap_len < sizeof(c))
			continue;
		if (c.cfg_type == VIRTIO_PCI_CAP_COMMON_CFG && !d->common)
			d->common = cap_region(d, &c, 0x38);
		else if (c.cfg_type == VIRTIO_PCI_CAP_DEVICE_CFG && !d->device)
			d->device = cap_region(d, &c, 6);
		else if (c.cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG && !d->notify &&
			 c.cap_len >= sizeof(c) + 4 &&
			 hp_pci_dev_config_read(d->pci, (unsigned)pos + sizeof(c), &d->notify_mult,
						4) == 0)
			d->notify = cap_region(d, &c, 2);
	}
	if (!d->common || !d->notify)
		return FAIL(d, -ENODEV,
			    "%s has no virtio 1.0 (modern) common or notify structure: it is a "
			    "legacy-only device; vnet-fwd drives modern virtio-net (qemu: "
			    "virtio-net-pci,disable-legacy=on)",
			    d->addr);
	return 0;
}

static void set_status(struct vnet_dev *d, uint8_t bits)
{
	wr8(d, CC_STATUS, (uint8_t)(rd8(d, CC_STATUS) | bits));
}

/* Writing 0 resets; the device is reset once it reads back 0 (virtio 4.1.4.3.2). */
static int reset(struct vnet_dev *d)
{
	unsigned i;

	wr8(d, CC_STATUS, 0);
	for (i = 0; i < 100000; i++) {
		if (rd8(d, CC_STATUS) == 0)
			return 0;
		usleep(10);
	}
	return FAIL(d, -EIO, "%s: the device did not finish its reset within a second", d->addr);
}

static int negotiate(struct vnet_dev *d)
{
	bool pa = hp_pci_dev_iova_mode(d->pci) == HP_IOVA_PA;
	uint64_t offered, want;

	wr32(d, CC_DFSELECT, 0);
	offered = rd32(d, CC_DF);
	wr32(d, CC_DFSELECT, 1);
	offered |= (uint64_t)rd32(d, CC_DF) << 32;
	if (!(offered & F_VERSION_1))
		return FAIL(d, -ENOTSUP,
			    "%s does not offer VIRTIO_F_VERSION_1 (features 0x%llx): it is not a "
			    "virtio 1.0 device; vnet-fwd drives modern devices only",
			    d->addr, (unsigned long long)offered);
	/*
	 * Without ACCESS_PLATFORM the device bypasses the IOMMU and takes physical addresses:
	 * usable only where the runtime hands out physical addresses (uio, --iova=pa).
	 */
	if (!(offered & F_ACCESS_PLATFORM) && !pa)
		return FAIL(d, -ENOTSUP,
			    "%s does not offer VIRTIO_F_ACCESS_PLATFORM (features 0x%llx): its DMA "
			    "bypasses the IOMMU, so IOVA = VA cannot work; give the device "
			    "iommu_platform=on (qemu), or bind it to uio_pci_generic and run with "
			    "--iova=pa",
			    d->addr, (unsigned long long)offered);
	want = F_VERSION_1 | (offered & (F_ACCESS_PLATFORM | F_NET_MAC));
	wr32(d, CC_GFSELECT, 0);
	wr32(d, CC_GF, (uint32_t)want);
	wr32(d, CC_GFSELECT, 1);
	wr32(d, CC_GF, (uint32_t)(want >> 32));
	set_status(d, S_FEATURES_OK);
	if (!(rd8(d, CC_STATUS) & S_FEATURES_OK))
		return FAIL(
		    d, -ENOTSUP,
		    "%s refused the features 0x%llx (FEATURES_OK did not stay set); it needs "
		    "a feature vnet-fwd does not drive",
		    d->addr, (unsigned long long)want);
	d->features = want;
	if (want & F_NET_MAC) {
		unsigned i;

		for (i = 0; i < 6; i++)
			d->mac[i] = d->device ? d->device[i] : 0;
		d->has_mac = d->device != NULL;
	}
	return 0;
}

static int setup_queue(struct vnet_dev *d, struct vq *q, uint16_t index, unsigned max, int node)
{
	char name[32];
	uint16_t size;
	int rc;

	wr16(d, CC_Q_SELECT, index);
	size = rd16(d, CC_Q_SIZE);
	if (!size)
		return FAIL(d, -ENODEV, "%s: queue %u does not exist", d->addr, index);
	while (size > max) /* split queue sizes are powers of two; halve down to the cap */
		size /= 2;
	snprintf(name, sizeof(name), "vnet.%s.%s", d->addr, index ? "tx" : "rx");
	rc = vq_init(q, name, index, size, node);
	if (rc < 0)
		return FAIL(d, rc, "%s: queue %u: %s", d->addr, index, hp_last_error());
	q->notify = (volatile uint16_t *)(d->notify + (size_t)rd16(d, CC_Q_NOFF) * d->notify_mult);
	wr16(d, CC_Q_SIZE, size);
	wr16(d, CC_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	wr64(d, CC_Q_DESCLO, q->desc_iova);
	wr64(d, CC_Q_AVAILLO, q->avail_iova);
	wr64(d, CC_Q_USEDLO, q->used_iova);
	wr16(d, CC_Q_ENABLE, 1);
	return 0;
}

int vnet_open(struct vnet_dev *d, const char *addr)
{
	int rc;

	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	rc = hp_pci_dev_open(addr, &d->pci);
	if (rc < 0)
		return FAIL(d, rc, "%s: %s", addr, hp_last_error());
	rc = find_caps(d);
	if (!rc)
		rc = reset(d);
	if (!rc) {
		set_status(d, S_ACKNOWLEDGE | S_DRIVER);
		rc = negotiate(d);
	}
	if (rc < 0) {
		if (d->common)
			set_status(d, S_FAILED);
		vnet_stop(d);
	}
	return rc;
}

int vnet_start(struct vnet_dev *d, struct hp_mempool *pool, unsigned max_queue)
{
	int node = hp_pci_dev_numa_node(d->pci), rc;

	d->pool = pool;
	wr16(d, CC_MSIX, VIRTIO_MSI_NO_VECTOR);
	if (rd16(d, CC_NUMQ) < 2)
		return FAIL(d, -ENODEV, "%s has %u queues; virtio-net has at least rx and tx",
			    d->addr, rd16(d, CC_NUMQ));
	rc = setup_queue(d, &d->rxq, 0, max_queue, node);
	if (!rc)
		rc = setup_queue(d, &d->txq, 1, max_queue, node);
	if (rc < 0)
		return rc;
	rc = hp_pci_dev_bus_master(d->pci, true);
	if (rc < 0)
		return FAIL(d, rc, "%s: bus mastering: %s", d->addr, hp_last_error());
	if (!vnet_rx_refill(d))
		return FAIL(d, -ENOMEM, "%s: the pool has no buffers for the rx queue (%u)",
			    d->addr, d->rxq.size);
	set_status(d, S_DRIVER_OK);
	d->started = true;
	if (rd8(d, CC_STATUS) & (S_NEEDS_RESET | S_FAILED))
		return FAIL(d, -EIO, "%s: the device failed when started (status 0x%x)", d->addr,
			    rd8(d, CC_STATUS));
	vq_kick(&d->rxq); /* buffers were posted before DRIVER_OK: tell the device now */
	return 0;
}

void vnet_stop(struct vnet_dev *d)
{
	/* after the reset the device touches no ring and no buffer: then they may go back */
	if (d->common)
		reset(d);
	if (d->pci) {
		hp_pci_dev_bus_master(d->pci, false);
		hp_pci_dev_close(d->pci);
	}
	vq_free(&d->rxq);
	vq_free(&d->txq);
	d->pci = NULL;
	d->common = d->device = d->notify = NULL;
}

unsigned vnet_rx_burst(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n)
{
	uint32_t len[VNET_BURST_MAX];
	unsigned got, i, ok = 0;

	got = vq_reclaim(&d->rxq, bufs, len, n < VNET_BURST_MAX ? n : VNET_BURST_MAX);

	for (i = 0; i < got; i++) {
		struct hp_pktbuf *m = bufs[i];

		if (len[i] <= VQ_NET_HDR_LEN || len[i] - VQ_NET_HDR_LEN > hp_pktbuf_tailroom(m)) {
			hp_pktbuf_free(m); /* no sane frame to forward */
			d->rx_errors++;
			continue;
		}
		m->data_len = (uint16_t)(len[i] - VQ_NET_HDR_LEN);
		m->pkt_len = m->data_len;
		bufs[ok++] = m;
	}
	return ok;
}

bool vnet_rx_refill(struct vnet_dev *d)
{
	struct hp_pktbuf *bufs[64];
	unsigned n;
	bool posted = false, dry = false;

	while (d->rxq.n_free) {
		n = d->rxq.n_free < 64 ? d->rxq.n_free : 64;
		if (hp_pktbuf_alloc_bulk(d->pool, bufs, n) < 0) {
			dry = true;
			break;
		}
		vq_post_rx(&d->rxq, bufs, n);
		posted = true;
	}
	if (posted && d->started)
		vq_kick(&d->rxq);
	return !dry;
}

unsigned vnet_tx_burst(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n)
{
	n = vq_post_tx(&d->txq, bufs, n);
	if (n)
		vq_kick(&d->txq);
	return n;
}

unsigned vnet_tx_reclaim(struct vnet_dev *d, struct hp_pktbuf **bufs, unsigned n, uint64_t *bytes)
{
	uint32_t len[VNET_BURST_MAX];
	unsigned got, i;

	got = vq_reclaim(&d->txq, bufs, len, n < VNET_BURST_MAX ? n : VNET_BURST_MAX);

	*bytes = 0;
	for (i = 0; i < got; i++)
		*bytes += bufs[i]->data_len;
	return got;
}

bool vnet_broken(const struct vnet_dev *d)
{
	return d->common && (rd8(d, CC_STATUS) & S_NEEDS_RESET);
}
