/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-devbind's view of the PCI devices: what sysfs (/sys/bus/pci/devices) and the network stack
 * (/sys/class/net, /proc/net/route, /proc/net/ipv6_route) say of each, read afresh on every call
 * and never written here. The writes (driver_override, unbind, drivers_probe) are in
 * hp-devbind.c.
 */
#ifndef HP_DEVBIND_PCI_SCAN_H
#define HP_DEVBIND_PCI_SCAN_H

#include <net/if.h>
#include <stdbool.h>

#define PCI_SYSFS "/sys/bus/pci"
#define PCI_ADDR_LEN 13 /* "0000:00:04.0" and its NUL */
#define PCI_MAX_IFS 8
#define PCI_DRIVER_LEN 64

enum pci_kind {
	PCI_NETWORK, /* class 02 (network controller), or a device that has a network interface */
	PCI_DMA,     /* any other device with a memory BAR that is not a bridge (class 06) */
	PCI_OTHER,   /* bridges, and devices with only I/O-port BARs or none */
};

struct pci_netif {
	char name[IF_NAMESIZE];
	bool up;    /* IFF_UP */
	bool route; /* an IPv4 route, or an IPv6 one that is not link-local or multicast */
};

struct pci_dev {
	char addr[PCI_ADDR_LEN];
	unsigned vendor, device, class;
	char driver[PCI_DRIVER_LEN]; /* "" when no driver is bound */
	int iommu_group;	     /* -1: none */
	int numa_node;		     /* -1: the kernel knows none */
	bool mem_bar;
	enum pci_kind kind;
	struct pci_netif ifs[PCI_MAX_IFS];
	unsigned n_ifs;
};

/*
 * "0000:00:04.0" or "00:04.0" (hex, any case) into its canonical form in out; 0, or -1 when s is
 * not a PCI address (slot above 1f, function above 7, other lengths or characters).
 */
int pci_addr_parse(const char *s, char out[PCI_ADDR_LEN]);

/* Reads the device at canonical address addr; 0, or -ENODEV when sysfs has no such device. */
int pci_dev_read(const char *addr, struct pci_dev *d);

/*
 * Every PCI device, sorted by address, into a new array (free() it); the count, or a negative
 * errno when /sys/bus/pci/devices cannot be read.
 */
int pci_dev_list(struct pci_dev **out);

/* True when one of d's interfaces is up or carries a route. */
bool pci_dev_in_use(const struct pci_dev *d);

/* Whether the kernel has IOMMU groups at all (an IOMMU is on). */
bool pci_iommu_present(void);

const char *pci_kind_name(enum pci_kind k);

#endif
