/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_pci.h
 * PCI devices whose DMA reaches runtime memory, for userspace drivers: open a device bound to
 * vfio-pci (an IOMMU; IOVA = VA; runtime memory is DMA-mapped before it can be allocated and
 * unmapped before it goes back to the kernel) or to uio_pci_generic (no IOMMU; IOVA = PA, needs
 * --iova=pa or auto resolving to PA); its BARs, config space, bus mastering and interrupts; DMA
 * maps of memory from outside the runtime. The IOVA of runtime memory is hp_mem_virt2iova().
 * See doc/pci.md.
 */
#ifndef HP_PCI_H
#define HP_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>
#include <hp_mem.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An open PCI device (opaque). */
struct hp_pci_dev;

/** Number of BARs of a PCI function (0 to 5). */
#define HP_PCI_NUM_BARS 6

/** hp_pci_dev_bar_flags(): the BAR exists. */
#define HP_PCI_BAR_PRESENT 0x1
/** hp_pci_dev_bar_flags(): an I/O-port BAR (use hp_pci_dev_bar_read/write, it cannot be mapped). */
#define HP_PCI_BAR_IO 0x2
/** hp_pci_dev_bar_flags(): hp_pci_dev_bar() can map it. */
#define HP_PCI_BAR_MMAP 0x4

/**
 * Open a PCI device for a userspace driver. A device bound to vfio-pci joins the process's
 * VFIO container (made at the first open, type1v2, every page of runtime memory mapped with
 * IOVA = VA); one bound to uio_pci_generic is used with physical addresses.
 * @param addr PCI address, "0000:00:04.0" or "00:04.0" (domain 0)
 * @param dev out: the device
 * @return 0, or -ENODEV (no such device), -EPERM (bound to another driver, or no right to
 *         open it), -EINVAL (bad address, runtime not started, or a mode that cannot work: a
 *         uio device in VA mode, a vfio group with devices bound to other drivers, no IOMMU
 *         group), -EBUSY (open already in this process or by another one), -ENOMEM/-ENOSPC
 *         (mapping runtime memory hit a VFIO limit); hp_last_error() says what to do
 */
HP_API int hp_pci_dev_open(const char *addr, struct hp_pci_dev **dev);

/**
 * Close a device: interrupts off, bus mastering off, BARs unmapped; the last device closes the
 * VFIO container (every DMA map goes with it).
 * @param dev from hp_pci_dev_open()
 * @return 0, or -EINVAL (NULL, or not an open device)
 */
HP_API int hp_pci_dev_close(struct hp_pci_dev *dev);

/**
 * Map a memory BAR into the process (mapped once, kept until close).
 * @param dev device
 * @param bar 0 to 5
 * @param len out (may be NULL): the BAR's length in bytes
 * @return the BAR's first byte, or NULL with errno: EINVAL (bad argument), ENOENT (no such BAR),
 *         ENOTSUP (an I/O-port BAR, or one the driver does not let map: use hp_pci_dev_bar_read)
 */
HP_API void *hp_pci_dev_bar(struct hp_pci_dev *dev, unsigned bar, size_t *len);

/**
 * @param dev device
 * @param bar 0 to 5
 * @param len out (may be NULL): the BAR's length in bytes
 * @return HP_PCI_BAR_* flags of the BAR (0: no such BAR, or a bad argument)
 */
HP_API unsigned hp_pci_dev_bar_flags(struct hp_pci_dev *dev, unsigned bar, size_t *len);

/**
 * Read from a BAR (I/O port or memory) through the kernel, in accesses of len bytes when len is
 * 1, 2 or 4 (a register), else byte by byte for I/O BARs and as one copy for memory BARs.
 * @param dev device
 * @param bar 0 to 5
 * @param off offset in the BAR
 * @param buf where the bytes go
 * @param len bytes; off + len must lie inside the BAR
 * @return 0 or -EINVAL, -ENOENT (no such BAR), -EIO
 */
HP_API int hp_pci_dev_bar_read(struct hp_pci_dev *dev, unsigned bar, uint64_t off, void *buf,
			       size_t len);

/**
 * Write to a BAR (I/O port or memory) through the kernel; accesses as hp_pci_dev_bar_read().
 * @param dev device
 * @param bar 0 to 5
 * @param off offset in the BAR
 * @param buf the bytes to write
 * @param len bytes; off + len must lie inside the BAR
 * @return 0 or -EINVAL, -ENOENT (no such BAR), -EIO
 */
HP_API int hp_pci_dev_bar_write(struct hp_pci_dev *dev, unsigned bar, uint64_t off, const void *buf,
				size_t len);

/**
 * Read config space.
 * @param dev device
 * @param off offset (below 4096)
 * @param buf where the bytes go
 * @param len bytes; off + len at most the config space's size (256 or 4096)
 * @return 0 or -EINVAL, -EIO
 */
HP_API int hp_pci_dev_config_read(struct hp_pci_dev *dev, unsigned off, void *buf, size_t len);

/**
 * Write config space. The kernel filters some fields (VFIO virtualises the BARs and the
 * MSI/MSI-X capabilities).
 * @param dev device
 * @param off offset (below 4096)
 * @param buf the bytes to write
 * @param len bytes; off + len at most the config space's size (256 or 4096)
 * @return 0 or -EINVAL, -EIO
 */
HP_API int hp_pci_dev_config_write(struct hp_pci_dev *dev, unsigned off, const void *buf,
				   size_t len);

/**
 * Find a capability in config space.
 * @param dev device
 * @param cap_id capability id (e.g. 0x09 vendor-specific, 0x11 MSI-X)
 * @param start 0 for the first one, or the offset of the previous one found to find the next
 * @return its offset in config space, or -ENOENT (none more), -EINVAL, -EIO
 */
HP_API int hp_pci_dev_find_cap(struct hp_pci_dev *dev, uint8_t cap_id, int start);

/**
 * Let the device master the bus (DMA) or not: bit 2 of the command register.
 * @param dev device
 * @param on true to allow DMA
 * @return 0 or -EINVAL, -EIO
 */
HP_API int hp_pci_dev_bus_master(struct hp_pci_dev *dev, bool on);

/**
 * Enable an interrupt and return a file descriptor that polls readable when it fires. VFIO:
 * MSI-X if the device has it, else MSI, else INTx (vector 0); the first call enables every
 * vector of that kind, each with its own eventfd. uio: INTx (vector 0), the /dev/uioN fd.
 * Consume a signal and re-arm with hp_pci_dev_irq_rearm() (do not read the fd yourself).
 * @param dev device
 * @param vector vector number (below the device's count)
 * @return the fd (owned by the device; closed by hp_pci_dev_close), or -EINVAL, -ENOTSUP
 *         (the device has no interrupt), -EIO
 */
HP_API int hp_pci_dev_irq_fd(struct hp_pci_dev *dev, unsigned vector);

/**
 * Consume what the interrupt's fd signalled (without blocking) and let it fire again: INTx is
 * masked by the kernel each time it fires (VFIO: unmask; uio: clear INTx-disable in the
 * command register).
 * @param dev device
 * @param vector as given to hp_pci_dev_irq_fd()
 * @return the number of interrupts seen since the last call (0: none), or -EINVAL, -EIO
 */
HP_API int hp_pci_dev_irq_rearm(struct hp_pci_dev *dev, unsigned vector);

/**
 * @param dev device
 * @return "vfio-pci" or "uio_pci_generic" (NULL for NULL)
 */
HP_API const char *hp_pci_dev_driver(const struct hp_pci_dev *dev);

/**
 * @param dev device
 * @return the IOVA mode the device is used with: HP_IOVA_VA (vfio-pci) or HP_IOVA_PA (uio)
 *         (0 for NULL)
 */
HP_API enum hp_iova_mode hp_pci_dev_iova_mode(const struct hp_pci_dev *dev);

/**
 * @param dev device
 * @return the device's full address "DDDD:BB:DD.F" (NULL for NULL)
 */
HP_API const char *hp_pci_dev_addr(const struct hp_pci_dev *dev);

/**
 * @param dev device
 * @return the NUMA node the device is attached to (0 where the system does not say), or -EINVAL
 */
HP_API int hp_pci_dev_numa_node(const struct hp_pci_dev *dev);

/**
 * @param dev device
 * @param vendor out (may be NULL): vendor id
 * @param device out (may be NULL): device id
 * @return 0 or -EINVAL
 */
HP_API int hp_pci_dev_id(const struct hp_pci_dev *dev, uint16_t *vendor, uint16_t *device);

/**
 * Make memory from outside the runtime reachable by DMA of every open device, and of devices
 * opened later, at IOVA = va (VFIO). In PA mode nothing is mapped (the range's IOVA is its
 * physical address: keep it pinned, e.g. hugepages). Like DPDK's rte_vfio_container_dma_map.
 * @param va page-aligned start, not runtime memory
 * @param len bytes, a whole number of pages
 * @return 0, or -EINVAL (NULL, unaligned, len 0, overlaps runtime memory or another map),
 *         -ENOSPC (VFIO's dma_entry_limit), -ENOMEM (the memlock limit: ulimit -l), -EFAULT
 */
HP_API int hp_dma_map(void *va, size_t len);

/**
 * Undo hp_dma_map() of exactly that range; the devices can no longer reach it.
 * @param va start given to hp_dma_map()
 * @param len length given to hp_dma_map()
 * @return 0, or -EINVAL (NULL, or not a range given to hp_dma_map)
 */
HP_API int hp_dma_unmap(void *va, size_t len);

/** Counters of the DMA maps (hp_dma_stats). */
struct hp_dma_stats {
	unsigned devices;      /**< devices open */
	unsigned vfio_devices; /**< of them through vfio-pci */
	unsigned maps;	       /**< VFIO maps in the container now (runtime and hp_dma_map) */
	size_t bytes;	       /**< bytes they cover */
	unsigned user_maps;    /**< ranges given to hp_dma_map and not unmapped */
	unsigned long failed;  /**< maps that failed while following memory events */
	bool container;	       /**< a VFIO container is open */
};

/**
 * @param st out: counters now
 * @return 0 or -EINVAL (NULL)
 */
HP_API int hp_dma_stats(struct hp_dma_stats *st);

#ifdef __cplusplus
}
#endif
#endif
