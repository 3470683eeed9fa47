/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci's private interface between the devices (pci_dev.c) and the VFIO container with its
 * DMA maps (pci_dma.c). Lock order: pci_lock (pci_dev.c: devices and groups) before the memory
 * lock (hp_mem_lock_read; the event callback runs under its write lock) before dma_lock.
 */
#ifndef HP_PCI_INTERNAL_H
#define HP_PCI_INTERNAL_H

#include <stdbool.h>
#include <hp_pci.h>

/*
 * Put a VFIO group into the process's container, making the container (type1v2) and mapping all
 * runtime memory and hp_dma_map ranges in it when this is the first group. Caller holds pci_lock.
 * @return 0 or -errno through hp_fail()
 */
int pci_dma_group_add(int group_fd, int group_no);

/* Take a group out of the container; the last one closes the container. Caller holds pci_lock. */
void pci_dma_group_del(int group_fd);

/* Forget every hp_dma_map range (hp_cleanup, after every device is closed). */
void pci_dma_forget_user(void);

/** In a forked child: forget the parent's container and maps; no ioctl reaches them. */
void pci_dma_fork_child(void);

/* Device counts for hp_dma_stats(); pci_dev.c keeps them under pci_lock. */
void pci_dev_counts(unsigned *devices, unsigned *vfio_devices);

/* Call fn for each open device under pci_lock (fn must not open or close devices). */
void pci_dev_walk(int (*fn)(const struct hp_pci_dev *dev, void *arg), void *arg);

#endif
