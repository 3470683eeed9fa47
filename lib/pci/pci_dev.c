/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI devices for userspace drivers: open by address through vfio-pci (the device fd of its
 * group, which joins the process's container: pci_dma.c) or uio_pci_generic (sysfs config and
 * resourceN, /dev/uioN); BARs, config space, bus mastering, interrupts; close; the subsystem
 * that closes what is left at hp_cleanup. pci_lock guards the list of devices and groups and
 * every device's lazily made parts (BAR maps, interrupts); config and BAR reads and writes go
 * straight to the kernel without it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "eal/eal_internal.h"
#include "pci_internal.h"

#define DEV_MAGIC 0x48504349u /* "HPCI" */
#define SYSFS_PCI "/sys/bus/pci/devices"
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define IORESOURCE_IO 0x100
#define IORESOURCE_MEM 0x200

enum drv { DRV_VFIO, DRV_UIO };

struct pci_group {
	int no, fd;
	unsigned refs;
	struct pci_group *next;
};

struct bar {
	uint64_t len;
	uint64_t off; /* VFIO: the region's offset in the device fd */
	unsigned flags;
	void *map;
	int fd; /* uio: resourceN, opened when first used */
};

struct hp_pci_dev {
	uint32_t magic;
	enum drv drv;
	char addr[16];
	int node;
	uint16_t vendor, device;
	struct bar bar[HP_PCI_NUM_BARS];
	uint64_t cfg_off, cfg_size;
	int cfg_fd; /* VFIO: the device fd; uio: sysfs config */
	/* VFIO */
	int dev_fd;
	struct pci_group *group;
	int irq_index; /* VFIO_PCI_*_IRQ_INDEX in use, -1 none */
	unsigned n_irq;
	int *irq_fds;
	/* uio */
	int uio_fd;
	uint32_t uio_seen; /* interrupt count read last */
	struct hp_pci_dev *next;
};

static pthread_mutex_t pci_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hp_pci_dev *devs;
static struct pci_group *groups;

/* ---- sysfs ------------------------------------------------------------------------------------
 */

/* snprintf that may cut (paths here are short; a cut one names no file and fails to open). */
static void __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, n, f, ap);
	va_end(ap);
}

/* Basename of the symlink dir/name into out, or "" when there is none. */
static void link_name(const char *dir, const char *name, char *out, size_t n)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t r;
	const char *b;

	fmt(path, sizeof(path), "%s/%s", dir, name);
	r = readlink(path, target, sizeof(target) - 1);
	out[0] = 0;
	if (r <= 0)
		return;
	target[r] = 0;
	b = strrchr(target, '/');
	fmt(out, n, "%s", b ? b + 1 : target);
}

static long read_num(const char *dir, const char *name, int base)
{
	char path[PATH_MAX], buf[64] = "";
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] ? strtol(buf, NULL, base) : -1;
}

/* "DDDD:BB:DD.F" from "DDDD:BB:DD.F" or "BB:DD.F"; false when addr is not such an address. */
static bool parse_addr(const char *addr, char *out, size_t n)
{
	unsigned d = 0, b, s, f;
	int used = 0;

	if (strlen(addr) > 12)
		return false;
	if (sscanf(addr, "%4x:%2x:%2x.%1x%n", &d, &b, &s, &f, &used) == 4 &&
	    (size_t)used == strlen(addr) && used == 12)
		;
	else if (d = 0, sscanf(addr, "%2x:%2x.%1x%n", &b, &s, &f, &used) == 3 &&
			    (size_t)used == strlen(addr) && used == 7)
		;
	else
		return false;
	if (s > 0x1f || f > 7)
		return false;
	snprintf(out, n, "%04x:%02x:%02x.%x", d, b, s, f);
	return true;
}

static void read_bars(struct hp_pci_dev *dev, const char *dir)
{
	char path[PATH_MAX];
	unsigned long long start, end, flags;
	FILE *f;

	for (unsigned i = 0; i < HP_PCI_NUM_BARS; i++)
		dev->bar[i].fd = -1;
	fmt(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	for (unsigned i = 0; f && i < HP_PCI_NUM_BARS; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (!end || !(flags & (IORESOURCE_IO | IORESOURCE_MEM)))
			continue;
		dev->bar[i].len = end - start + 1;
		dev->bar[i].flags =
		    HP_PCI_BAR_PRESENT | (flags & IORESOURCE_IO ? HP_PCI_BAR_IO : HP_PCI_BAR_MMAP);
	}
	if (f)
		fclose(f);
}

/* The devices of group no bound to a driver other than vfio-pci, listed into out. */
static unsigned group_strangers(int no, char *out, size_t n)
{
	char dir[PATH_MAX], drv[64];
	struct dirent *e;
	unsigned count = 0;
	size_t used = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices", no);
	d = opendir(dir);
	out[0] = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fmt(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", e->d_name);
		link_name(dir, "driver", drv, sizeof(drv));
		*strrchr(dir, '/') = 0;
		if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pcieport"))
			continue;
		count++;
		if (used < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s (%s)",
						 count > 1 ? ", " : "", e->d_name, drv);
	}
	if (d)
		closedir(d);
	return count;
}

/* ---- groups (pci_lock held) ---------------------------------------------------------------------
 */

static int group_get(int no, const char *addr, struct pci_group **out)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	struct pci_group *g;
	char path[64], others[512];
	int rc;

	for (g = groups; g; g = g->next)
		if (g->no == no) {
			g->refs++;
			*out = g;
			return 0;
		}
	if (group_strangers(no, others, sizeof(others)))
		return hp_fail(-EINVAL,
			       "%s: its IOMMU group %d also holds %s, bound to other drivers; VFIO "
			       "needs every device of a group on vfio-pci: bind them too "
			       "(hp-devbind --bind=vfio-pci ADDR...)",
			       addr, no, others);
	g = calloc(1, sizeof(*g));
	if (!g)
		return hp_fail(-ENOMEM, "out of memory for a VFIO group");
	snprintf(path, sizeof(path), "/dev/vfio/%d", no);
	g->no = no;
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		rc = -errno;
		free(g);
		if (rc == -EBUSY)
			return hp_fail(-EBUSY,
				       "%s: VFIO group %d (%s) is open in another process; stop it "
				       "first (fuser %s)",
				       addr, no, path, path);
		return hp_fail(rc == -ENOENT ? -ENODEV : rc,
			       "%s: cannot open %s (%s); run as root, with the vfio-pci module "
			       "loaded",
			       addr, path, strerror(-rc));
	}
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		close(g->fd);
		free(g);
		return hp_fail(
		    -EINVAL,
		    "%s: VFIO group %d is not viable (a device of it is bound to "
		    "another driver); bind all of /sys/kernel/iommu_groups/%d/devices to "
		    "vfio-pci (hp-devbind --bind=vfio-pci ADDR...)",
		    addr, no, no);
	}
	rc = pci_dma_group_add(g->fd, no);
	if (rc) {
		close(g->fd);
		free(g);
		return rc;
	}
	g->refs = 1;
	g->next = groups;
	groups = g;
	*out = g;
	return 0;
}

static void group_put(struct pci_group *g)
{
	struct pci_group **pp;

	if (--g->refs)
		return;
	for (pp = &groups; *pp != g; pp = &(*pp)->next)
		;
	*pp = g->next;
	pci_dma_group_del(g->fd);
	close(g->fd);
	free(g);
}

/* ---- open ------------------------------------------------------------------------------------ */

static int open_vfio(struct hp_pci_dev *dev, const char *dir)
{
	struct vfio_region_info reg = {.argsz = sizeof(reg)};
	char grp[32];
	int rc;

	if (hp_iova_mode() != HP_IOVA_VA)
		return hp_fail(
		    -EINVAL,
		    "%s is bound to vfio-pci, which gives devices virtual addresses, but "
		    "the runtime runs with IOVA = PA; start with --iova=va (or auto), or "
		    "bind it to uio_pci_generic (hp-devbind --bind=uio_pci_generic %s)",
		    dev->addr, dev->addr);
	link_name(dir, "iommu_group", grp, sizeof(grp));
	if (!grp[0])
		return hp_fail(
		    -EINVAL,
		    "%s is bound to vfio-pci but has no IOMMU group: this kernel runs "
		    "without an IOMMU (boot with intel_iommu=on or amd_iommu=on); without "
		    "one, bind it to uio_pci_generic (hp-devbind --bind=uio_pci_generic "
		    "%s) and start with --iova=pa",
		    dev->addr, dev->addr);
	rc = group_get(atoi(grp), dev->addr, &dev->group);
	if (rc)
		return rc;
	dev->dev_fd = ioctl(dev->group->fd, VFIO_GROUP_GET_DEVICE_FD, dev->addr);
	if (dev->dev_fd < 0) {
		rc = -errno;
		group_put(dev->group);
		dev->group = NULL;
		return hp_fail(rc == -EBUSY ? -EBUSY : rc,
			       "%s: VFIO gives no device fd (%s); is it open in another process?",
			       dev->addr, strerror(-rc));
	}
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return hp_fail(-EIO, "%s: VFIO has no config region (%s)", dev->addr,
			       strerror(errno));
	dev->cfg_off = reg.offset;
	dev->cfg_size = reg.size;
	dev->cfg_fd = dev->dev_fd;
	for (unsigned i = 0; i < HP_PCI_NUM_BARS; i++) {
		struct vfio_region_info r = {.argsz = sizeof(r), .index = i};

		if (!(dev->bar[i].flags & HP_PCI_BAR_PRESENT))
			continue;
		if (ioctl(dev->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &r) || !r.size) {
			dev->bar[i].flags = 0;
			continue;
		}
		dev->bar[i].off = r.offset;
		dev->bar[i].len = r.size;
		if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
			dev->bar[i].flags &= ~HP_PCI_BAR_MMAP;
	}
	return 0;
}

static int open_uio(struct hp_pci_dev *dev, const char *dir)
{
	char path[PATH_MAX], sub[PATH_MAX], name[64] = "";
	struct dirent *e;
	struct stat sb;
	DIR *d;

	if (hp_iova_mode() != HP_IOVA_PA)
		return hp_fail(-EINVAL,
			       "%s is bound to uio_pci_generic, which gives devices physical "
			       "addresses, but the runtime runs with IOVA = VA; start with "
			       "--iova=pa (as root), or bind it to vfio-pci where an IOMMU exists "
			       "(hp-devbind --bind=vfio-pci %s)",
			       dev->addr, dev->addr);
	fmt(path, sizeof(path), "%s/config", dir);
	dev->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->cfg_fd < 0 || fstat(dev->cfg_fd, &sb))
		return hp_fail(errno == EACCES ? -EPERM : -errno,
			       "%s: cannot open %s (%s); run as root", dev->addr, path,
			       strerror(errno));
	dev->cfg_size = (uint64_t)sb.st_size;
	fmt(sub, sizeof(sub), "%s/uio", dir);
	d = opendir(sub);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "uio", 3))
			fmt(name, sizeof(name), "%s", e->d_name);
	if (d)
		closedir(d);
	if (!name[0])
		return hp_fail(-ENODEV, "%s: uio_pci_generic made no /dev/uioN (no %s/uio)",
			       dev->addr, dir);
	snprintf(path, sizeof(path), "/dev/%s", name);
	dev->uio_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (dev->uio_fd < 0)
		return hp_fail(-errno, "%s: cannot open %s (%s); run as root", dev->addr, path,
			       strerror(errno));
	if (flock(dev->uio_fd, LOCK_EX | LOCK_NB))
		return hp_fail(-EBUSY, "%s: %s is open in another process; stop it first",
			       dev->addr, path);
	return 0;
}

/* Drops the device's BAR mappings and closes its fds; makes no ioctl, so a forked child may too. */
static void dev_release(struct hp_pci_dev *dev)
{
	for (unsigned i = 0; i < HP_PCI_NUM_BARS; i++) {
		if (dev->bar[i].map)
			munmap(dev->bar[i].map, dev->bar[i].len);
		if (dev->bar[i].fd >= 0)
			close(dev->bar[i].fd);
	}
	for (unsigned i = 0; dev->irq_fds && i < dev->n_irq; i++)
		close(dev->irq_fds[i]);
	free(dev->irq_fds);
	if (dev->uio_fd >= 0)
		close(dev->uio_fd);
	if (dev->drv == DRV_UIO && dev->cfg_fd >= 0)
		close(dev->cfg_fd);
	if (dev->dev_fd >= 0)
		close(dev->dev_fd);
}

static void dev_free(struct hp_pci_dev *dev)
{
	if (dev->irq_fds) {
		struct vfio_irq_set off = {.argsz = sizeof(off),
					   .flags =
					       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
					   .index = (unsigned)dev->irq_index};

		ioctl(dev->dev_fd, VFIO_DEVICE_SET_IRQS, &off);
	}
	dev_release(dev);
	if (dev->group)
		group_put(dev->group);
	dev->magic = 0;
	free(dev);
}

HP_API int hp_pci_dev_open(const char *addr, struct hp_pci_dev **out)
{
	char full[16], dir[PATH_MAX], drv[64];
	struct hp_pci_dev *dev, *d;
	struct stat sb;
	int rc;

	if (!addr || !out)
		return hp_fail(-EINVAL, "hp_pci_dev_open: addr and dev must not be NULL");
	*out = NULL;
	if (!parse_addr(addr, full, sizeof(full)))
		return hp_fail(-EINVAL,
			       "hp_pci_dev_open: \"%.32s\" is not a PCI address; write it as "
			       "0000:00:04.0 (domain:bus:device.function, hexadecimal)",
			       addr);
	if (!hp_initialized())
		return hp_fail(-EINVAL, "hp_pci_dev_open(%s): %s", full, eal_no_runtime());
	snprintf(dir, sizeof(dir), SYSFS_PCI "/%s", full);
	if (stat(dir, &sb))
		return hp_fail(-ENODEV,
			       "hp_pci_dev_open: there is no PCI device %s; list the devices with "
			       "hp-devbind --status (or lspci -D)",
			       full);
	link_name(dir, "driver", drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci") && strcmp(drv, "uio_pci_generic"))
		return hp_fail(-EPERM,
			       "%s is bound to %s%s; a userspace driver needs vfio-pci (with an "
			       "IOMMU) or uio_pci_generic (without, and --iova=pa): hp-devbind "
			       "--bind=vfio-pci %s",
			       full, drv[0] ? "the kernel driver " : "no driver", drv[0] ? drv : "",
			       full);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return hp_fail(-ENOMEM, "out of memory for a device");
	snprintf(dev->addr, sizeof(dev->addr), "%s", full);
	dev->drv = strcmp(drv, "vfio-pci") ? DRV_UIO : DRV_VFIO;
	dev->cfg_fd = dev->dev_fd = dev->uio_fd = -1;
	dev->irq_index = -1;
	dev->node = (int)read_num(dir, "numa_node", 10);
	if (dev->node < 0)
		dev->node = 0;
	dev->vendor = (uint16_t)read_num(dir, "vendor", 16);
	dev->device = (uint16_t)read_num(dir, "device", 16);
	read_bars(dev, dir);
	pthread_mutex_lock(&pci_lock);
	for (d = devs; d && strcmp(d->addr, full); d = d->next)
		;
	if (d)
		rc = hp_fail(-EBUSY,
			     "hp_pci_dev_open: %s is open already in this process; close "
			     "it first or use the handle you have",
			     full);
	else
		rc = dev->drv == DRV_VFIO ? open_vfio(dev, dir) : open_uio(dev, dir);
	if (rc) {
		dev_free(dev);
	} else {
		dev->magic = DEV_MAGIC;
		dev->next = devs;
		devs = dev;
		*out = dev;
	}
	pthread_mutex_unlock(&pci_lock);
	return rc;
}

/* true when dev is an open device; caller holds pci_lock. */
static bool live_locked(const struct hp_pci_dev *dev)
{
	for (struct hp_pci_dev *d = devs; d; d = d->next)
		if (d == dev)
			return true;
	return false;
}

static void close_locked(struct hp_pci_dev *dev)
{
	struct hp_pci_dev **pp;
	uint16_t cmd;

	for (pp = &devs; *pp != dev; pp = &(*pp)->next)
		;
	*pp = dev->next;
	/* no more DMA before its memory may go */
	if (pread(dev->cfg_fd, &cmd, 2, (off_t)(dev->cfg_off + PCI_COMMAND)) == 2) {
		cmd &= (uint16_t)~PCI_COMMAND_MASTER;
		if (pwrite(dev->cfg_fd, &cmd, 2, (off_t)(dev->cfg_off + PCI_COMMAND)) != 2)
			HP_LOG_W("%s: bus mastering could not be turned off", dev->addr);
	}
	dev_free(dev);
}

HP_API int hp_pci_dev_close(struct hp_pci_dev *dev)
{
	int rc = 0;

	if (!dev)
		return hp_fail(-EINVAL, "hp_pci_dev_close: dev is NULL");
	pthread_mutex_lock(&pci_lock);
	if (live_locked(dev))
		close_locked(dev);
	else
		rc = hp_fail(-EINVAL, "hp_pci_dev_close(%p): not an open device (closed twice?)",
			     (void *)dev);
	pthread_mutex_unlock(&pci_lock);
	return rc;
}

void pci_dev_walk(int (*fn)(const struct hp_pci_dev *dev, void *arg), void *arg)
{
	pthread_mutex_lock(&pci_lock);
	for (struct hp_pci_dev *d = devs; d && !fn(d, arg); d = d->next)
		;
	pthread_mutex_unlock(&pci_lock);
}

void pci_dev_counts(unsigned *devices, unsigned *vfio_devices)
{
	pthread_mutex_lock(&pci_lock);
	for (struct hp_pci_dev *d = devs; d; d = d->next) {
		(*devices)++;
		*vfio_devices += d->drv == DRV_VFIO;
	}
	pthread_mutex_unlock(&pci_lock);
}

/* ---- checks ---------------------------------------------------------------------------------- */

static int dev_check(const struct hp_pci_dev *dev, const char *fn)
{
	if (!dev)
		return hp_fail(-EINVAL, "%s: dev is NULL; pass a device from hp_pci_dev_open()",
			       fn);
	if (dev->magic != DEV_MAGIC)
		return hp_fail(-EINVAL, "%s(%p): not an open device (closed already?)", fn,
			       (const void *)dev);
	return 0;
}

static int bar_check(struct hp_pci_dev *dev, const char *fn, unsigned bar, uint64_t off,
		     const void *buf, size_t len)
{
	int rc = dev_check(dev, fn);

	if (rc)
		return rc;
	if (bar >= HP_PCI_NUM_BARS)
		return hp_fail(-EINVAL, "%s(%s): BAR %u does not exist; BARs are 0 to 5", fn,
			       dev->addr, bar);
	if (!(dev->bar[bar].flags & HP_PCI_BAR_PRESENT))
		return hp_fail(-ENOENT, "%s(%s): the device has no BAR %u", fn, dev->addr, bar);
	if (!buf || !len)
		return hp_fail(-EINVAL, "%s(%s): give a buffer and a length", fn, dev->addr);
	if (off > dev->bar[bar].len || len > dev->bar[bar].len - off)
		return hp_fail(-EINVAL,
			       "%s(%s): bytes %#llx..%#llx lie past the end of BAR %u (%#llx "
			       "bytes)",
			       fn, dev->addr, (unsigned long long)off,
			       (unsigned long long)(off + len), bar,
			       (unsigned long long)dev->bar[bar].len);
	return 0;
}

/* ---- BARs -------------------------------------------------------------------------------------
 */

static int uio_bar_fd(struct hp_pci_dev *dev, unsigned bar)
{
	char path[PATH_MAX];

	if (dev->bar[bar].fd >= 0)
		return dev->bar[bar].fd;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%u", dev->addr, bar);
	dev->bar[bar].fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
	if (dev->bar[bar].fd < 0)
		return hp_fail(-errno, "%s: cannot open %s (%s)", dev->addr, path, strerror(errno));
	return dev->bar[bar].fd;
}

HP_API unsigned hp_pci_dev_bar_flags(struct hp_pci_dev *dev, unsigned bar, size_t *len)
{
	if (dev_check(dev, "hp_pci_dev_bar_flags") || bar >= HP_PCI_NUM_BARS)
		return 0;
	if (len)
		*len = dev->bar[bar].len;
	return dev->bar[bar].flags;
}

HP_API void *hp_pci_dev_bar(struct hp_pci_dev *dev, unsigned bar, size_t *len)
{
	char one;
	void *p;
	int rc = bar_check(dev, "hp_pci_dev_bar", bar, 0, &one, 1), fd;

	if (rc)
		return hp_fail_ptr(rc, "%s", hp_last_error());
	if (!(dev->bar[bar].flags & HP_PCI_BAR_MMAP))
		return hp_fail_ptr(-ENOTSUP,
				   "hp_pci_dev_bar(%s): BAR %u is %s and cannot be mapped; use "
				   "hp_pci_dev_bar_read/hp_pci_dev_bar_write",
				   dev->addr, bar,
				   dev->bar[bar].flags & HP_PCI_BAR_IO
				       ? "I/O ports"
				       : "not mappable by the driver");
	pthread_mutex_lock(&pci_lock);
	p = dev->bar[bar].map;
	if (!p) {
		fd = dev->drv == DRV_VFIO ? dev->dev_fd : uio_bar_fd(dev, bar);
		p = fd < 0 ? MAP_FAILED
			   : mmap(NULL, dev->bar[bar].len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				  (off_t)dev->bar[bar].off);
		if (p == MAP_FAILED) {
			p = NULL;
			hp_fail(-ENOTSUP,
				"hp_pci_dev_bar(%s): mapping BAR %u failed (%s); use "
				"hp_pci_dev_bar_read/hp_pci_dev_bar_write",
				dev->addr, bar, strerror(errno));
		}
		dev->bar[bar].map = p;
	}
	pthread_mutex_unlock(&pci_lock);
	if (p && len)
		*len = dev->bar[bar].len;
	return p;
}

/* One access of len (1, 2, 4) at p in BAR memory. */
static void mmio_copy(volatile void *dst, const volatile void *src, size_t len)
{
	switch (len) {
	case 1:
		*(volatile uint8_t *)dst = *(const volatile uint8_t *)src;
		break;
	case 2:
		*(volatile uint16_t *)dst = *(const volatile uint16_t *)src;
		break;
	case 4:
		*(volatile uint32_t *)dst = *(const volatile uint32_t *)src;
		break;
	default:
		for (size_t i = 0; i < len; i++)
			((volatile uint8_t *)dst)[i] = ((const volatile uint8_t *)src)[i];
	}
}

static int bar_rw(struct hp_pci_dev *dev, const char *fn, unsigned bar, uint64_t off, void *buf,
		  size_t len, bool write)
{
	int rc = bar_check(dev, fn, bar, off, buf, len), fd;
	ssize_t n = 0;

	if (rc)
		return rc;
	if (dev->drv == DRV_VFIO) {
		n = write ? pwrite(dev->dev_fd, buf, len, (off_t)(dev->bar[bar].off + off))
			  : pread(dev->dev_fd, buf, len, (off_t)(dev->bar[bar].off + off));
	} else if (dev->bar[bar].flags & HP_PCI_BAR_IO) {
		pthread_mutex_lock(&pci_lock);
		fd = uio_bar_fd(dev, bar);
		pthread_mutex_unlock(&pci_lock);
		if (fd < 0)
			return fd;
		/* the kernel does accesses of 1, 2 or 4 bytes only */
		size_t step = len == 2 || len == 4 ? len : 1;

		for (size_t i = 0; i < len && n >= 0; i += step)
			n = write ? pwrite(fd, (char *)buf + i, step, (off_t)(off + i))
				  : pread(fd, (char *)buf + i, step, (off_t)(off + i));
		n = n == (ssize_t)step ? (ssize_t)len : -1;
	} else {
		char *p = hp_pci_dev_bar(dev, bar, NULL);

		if (!p)
			return -errno;
		if (write)
			mmio_copy(p + off, buf, len);
		else
			mmio_copy(buf, p + off, len);
		n = (ssize_t)len;
	}
	if (n != (ssize_t)len)
		return hp_fail(-EIO, "%s(%s): BAR %u at %#llx, %zu bytes: %s", fn, dev->addr, bar,
			       (unsigned long long)off, len, n < 0 ? strerror(errno) : "short");
	return 0;
}

HP_API int hp_pci_dev_bar_read(struct hp_pci_dev *dev, unsigned bar, uint64_t off, void *buf,
			       size_t len)
{
	return bar_rw(dev, "hp_pci_dev_bar_read", bar, off, buf, len, false);
}

HP_API int hp_pci_dev_bar_write(struct hp_pci_dev *dev, unsigned bar, uint64_t off, const void *buf,
				size_t len)
{
	return bar_rw(dev, "hp_pci_dev_bar_write", bar, off, (void *)buf, len, true);
}

/* ---- config space -------------------------------------------------------------------------- */

static int cfg_rw(struct hp_pci_dev *dev, const char *fn, unsigned off, void *buf, size_t len,
		  bool write)
{
	int rc = dev_check(dev, fn);
	ssize_t n;

	if (rc)
		return rc;
	if (!buf || !len)
		return hp_fail(-EINVAL, "%s(%s): give a buffer and a length", fn, dev->addr);
	if (off > dev->cfg_size || len > dev->cfg_size - off)
		return hp_fail(-EINVAL,
			       "%s(%s): bytes %#x..%#zx lie past the end of config space (%#llx "
			       "bytes)",
			       fn, dev->addr, off, off + len, (unsigned long long)dev->cfg_size);
	n = write ? pwrite(dev->cfg_fd, buf, len, (off_t)(dev->cfg_off + off))
		  : pread(dev->cfg_fd, buf, len, (off_t)(dev->cfg_off + off));
	if (n != (ssize_t)len)
		return hp_fail(-EIO, "%s(%s): config space at %#x, %zu bytes: %s", fn, dev->addr,
			       off, len, n < 0 ? strerror(errno) : "short");
	return 0;
}

HP_API int hp_pci_dev_config_read(struct hp_pci_dev *dev, unsigned off, void *buf, size_t len)
{
	return cfg_rw(dev, "hp_pci_dev_config_read", off, buf, len, false);
}

HP_API int hp_pci_dev_config_write(struct hp_pci_dev *dev, unsigned off, const void *buf,
				   size_t len)
{
	return cfg_rw(dev, "hp_pci_dev_config_write", off, (void *)buf, len, true);
}

HP_API int hp_pci_dev_find_cap(struct hp_pci_dev *dev, uint8_t cap_id, int start)
{
	uint16_t status;
	uint8_t pos, hdr[2];
	int rc, hops = 0;

	if ((rc = cfg_rw(dev, "hp_pci_dev_find_cap", PCI_STATUS, &status, 2, false)))
		return rc;
	if (start < 0 || start > 0xff)
		return hp_fail(-EINVAL,
			       "hp_pci_dev_find_cap(%s): start %d is not 0 or the offset "
			       "of a capability",
			       dev->addr, start);
	if (!(status & PCI_STATUS_CAP_LIST))
		return -ENOENT;
	if (start) {
		if ((rc = cfg_rw(dev, "hp_pci_dev_find_cap", (unsigned)start + 1, &pos, 1, false)))
			return rc;
	} else if ((rc = cfg_rw(dev, "hp_pci_dev_find_cap", PCI_CAP_PTR, &pos, 1, false))) {
		return rc;
	}
	/* 48 hops at most: a looping list ends */
	for (pos &= 0xfc; pos >= 0x40 && hops < 48; hops++) {
		if ((rc = cfg_rw(dev, "hp_pci_dev_find_cap", pos, hdr, 2, false)))
			return rc;
		if (hdr[0] == cap_id)
			return pos;
		pos = hdr[1] & 0xfc;
	}
	return -ENOENT;
}

HP_API int hp_pci_dev_bus_master(struct hp_pci_dev *dev, bool on)
{
	uint16_t cmd;
	int rc = cfg_rw(dev, "hp_pci_dev_bus_master", PCI_COMMAND, &cmd, 2, false);

	if (rc)
		return rc;
	cmd = on ? (uint16_t)(cmd | PCI_COMMAND_MASTER) : (uint16_t)(cmd & ~PCI_COMMAND_MASTER);
	return cfg_rw(dev, "hp_pci_dev_bus_master", PCI_COMMAND, &cmd, 2, true);
}

/* ---- interrupts --------------------------------------------------------------------------- */

/*
 * uio_pci_generic masks INTx in the command register each time it fires (it has no irqcontrol):
 * clearing PCI_COMMAND_INTX_DISABLE lets it fire again.
 */
static int uio_intx_unmask(struct hp_pci_dev *dev)
{
	uint16_t cmd;
	int rc = cfg_rw(dev, "hp_pci_dev_irq_rearm", PCI_COMMAND, &cmd, 2, false);

	if (rc || !(cmd & PCI_COMMAND_INTX_DISABLE))
		return rc;
	cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
	return cfg_rw(dev, "hp_pci_dev_irq_rearm", PCI_COMMAND, &cmd, 2, true);
}

/* Enable every vector of the first kind the device has (MSI-X, MSI, INTx). pci_lock held. */
static int vfio_irq_enable(struct hp_pci_dev *dev)
{
	static const int order[] = {VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_PCI_INTX_IRQ_INDEX};
	struct vfio_irq_info info = {.argsz = sizeof(info)};
	struct vfio_irq_set *set;
	unsigned i, n = 0;
	int rc = 0;

	for (i = 0; i < 3 && !n; i++) {
		info.index = (unsigned)order[i];
		if (!ioctl(dev->dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &info))
			n = info.count;
	}
	if (!n)
		return hp_fail(-ENOTSUP, "hp_pci_dev_irq_fd(%s): the device has no interrupt",
			       dev->addr);
	dev->irq_fds = calloc(n, sizeof(int));
	set = calloc(1, sizeof(*set) + n * sizeof(int));
	if (!dev->irq_fds || !set) {
		free(set);
		free(dev->irq_fds);
		dev->irq_fds = NULL;
		return hp_fail(-ENOMEM, "out of memory for %u interrupt vectors", n);
	}
	for (i = 0; i < n && !rc; i++) {
		dev->irq_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		dev->n_irq++;
		if (dev->irq_fds[i] < 0)
			rc = hp_fail(-errno, "eventfd: %s", strerror(errno));
	}
	if (!rc) {
		set->argsz = (uint32_t)(sizeof(*set) + n * sizeof(int));
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = info.index;
		set->start = 0;
		set->count = n;
		memcpy(set->data, dev->irq_fds, n * sizeof(int));
		if (ioctl(dev->dev_fd, VFIO_DEVICE_SET_IRQS, set))
			rc = hp_fail(-EIO,
				     "hp_pci_dev_irq_fd(%s): enabling %u %s vectors failed: %s",
				     dev->addr, n,
				     info.index == VFIO_PCI_MSIX_IRQ_INDEX  ? "MSI-X"
				     : info.index == VFIO_PCI_MSI_IRQ_INDEX ? "MSI"
									    : "INTx",
				     strerror(errno));
	}
	free(set);
	if (rc) {
		for (i = 0; i < dev->n_irq; i++)
			if (dev->irq_fds[i] >= 0)
				close(dev->irq_fds[i]);
		free(dev->irq_fds);
		dev->irq_fds = NULL;
		dev->n_irq = 0;
		return rc;
	}
	dev->irq_index = (int)info.index;
	return 0;
}

HP_API int hp_pci_dev_irq_fd(struct hp_pci_dev *dev, unsigned vector)
{
	int rc = dev_check(dev, "hp_pci_dev_irq_fd");

	if (rc)
		return rc;
	if (dev->drv == DRV_UIO) {
		uint8_t pin = 0;

		if (vector)
			return hp_fail(
			    -EINVAL,
			    "hp_pci_dev_irq_fd(%s): uio_pci_generic has only INTx, vector 0",
			    dev->addr);
		rc = cfg_rw(dev, "hp_pci_dev_irq_fd", PCI_INTERRUPT_PIN, &pin, 1, false);
		if (!rc && !pin)
			rc = hp_fail(-ENOTSUP,
				     "hp_pci_dev_irq_fd(%s): the device has no interrupt pin",
				     dev->addr);
		if (!rc)
			rc = uio_intx_unmask(dev);
		return rc ? rc : dev->uio_fd;
	}
	pthread_mutex_lock(&pci_lock);
	if (!dev->irq_fds)
		rc = vfio_irq_enable(dev);
	if (!rc && vector >= dev->n_irq)
		rc = hp_fail(-EINVAL,
			     "hp_pci_dev_irq_fd(%s): vector %u; the device has %u (0 to %u)",
			     dev->addr, vector, dev->n_irq, dev->n_irq - 1);
	pthread_mutex_unlock(&pci_lock);
	return rc ? rc : dev->irq_fds[vector];
}

HP_API int hp_pci_dev_irq_rearm(struct hp_pci_dev *dev, unsigned vector)
{
	int rc = dev_check(dev, "hp_pci_dev_irq_rearm");
	uint64_t n64 = 0;
	uint32_t n32 = 0;
	int rc2;

	if (rc)
		return rc;
	if (dev->drv == DRV_UIO) {
		if (vector)
			return hp_fail(-EINVAL, "hp_pci_dev_irq_rearm(%s): uio has only vector 0",
				       dev->addr);
		if (read(dev->uio_fd, &n32, 4) == 4) {
			rc = (int)(n32 - dev->uio_seen);
			dev->uio_seen = n32;
		}
		rc2 = uio_intx_unmask(dev);
		return rc2 ? rc2 : rc;
	}
	if (!dev->irq_fds || vector >= dev->n_irq)
		return hp_fail(-EINVAL,
			       "hp_pci_dev_irq_rearm(%s): vector %u is not enabled; call "
			       "hp_pci_dev_irq_fd() first",
			       dev->addr, vector);
	if (read(dev->irq_fds[vector], &n64, 8) == 8)
		rc = (int)n64;
	if (dev->irq_index == VFIO_PCI_INTX_IRQ_INDEX) {
		struct vfio_irq_set un = {.argsz = sizeof(un),
					  .flags =
					      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
					  .index = VFIO_PCI_INTX_IRQ_INDEX,
					  .count = 1};

		if (ioctl(dev->dev_fd, VFIO_DEVICE_SET_IRQS, &un))
			return hp_fail(-EIO, "hp_pci_dev_irq_rearm(%s): unmask: %s", dev->addr,
				       strerror(errno));
	}
	return rc;
}

/* ---- about a device ------------------------------------------------------------------------- */

HP_API const char *hp_pci_dev_driver(const struct hp_pci_dev *dev)
{
	if (dev_check(dev, "hp_pci_dev_driver"))
		return NULL;
	return dev->drv == DRV_VFIO ? "vfio-pci" : "uio_pci_generic";
}

HP_API enum hp_iova_mode hp_pci_dev_iova_mode(const struct hp_pci_dev *dev)
{
	if (dev_check(dev, "hp_pci_dev_iova_mode"))
		return (enum hp_iova_mode)0;
	return dev->drv == DRV_VFIO ? HP_IOVA_VA : HP_IOVA_PA;
}

HP_API const char *hp_pci_dev_addr(const struct hp_pci_dev *dev)
{
	return dev_check(dev, "hp_pci_dev_addr") ? NULL : dev->addr;
}

HP_API int hp_pci_dev_numa_node(const struct hp_pci_dev *dev)
{
	int rc = dev_check(dev, "hp_pci_dev_numa_node");

	return rc ? rc : dev->node;
}

HP_API int hp_pci_dev_id(const struct hp_pci_dev *dev, uint16_t *vendor, uint16_t *device)
{
	int rc = dev_check(dev, "hp_pci_dev_id");

	if (rc)
		return rc;
	if (vendor)
		*vendor = dev->vendor;
	if (device)
		*device = dev->device;
	return 0;
}

/* ---- subsystem ---------------------------------------------------------------------------------
 */

/* hp_cleanup: close every device still open (the last closes the container), forget maps. */
static void pci_cleanup(void)
{
	pthread_mutex_lock(&pci_lock);
	while (devs) {
		HP_LOG_W("hp_cleanup: PCI device %s was still open; closed", devs->addr);
		close_locked(devs);
	}
	pthread_mutex_unlock(&pci_lock);
	pci_dma_forget_user();
}

EAL_SUBSYS_REGISTER(pci, EAL_SUBSYS_PCI, NULL, pci_cleanup)

/*
 * In a forked child the devices, groups and container are the parent's: their fds share the
 * parent's open files, so no ioctl may reach them (one would unset the parent's container or
 * its interrupts). Close the child's copies of the fds, drop its copies of the BAR mappings.
 */
static void pci_fork_child(void)
{
	pthread_mutex_init(&pci_lock, NULL);
	while (devs) {
		struct hp_pci_dev *dev = devs;

		devs = dev->next;
		dev_release(dev);
		free(dev);
	}
	while (groups) {
		struct pci_group *g = groups;

		groups = g->next;
		close(g->fd);
		free(g);
	}
	pci_dma_fork_child();
}
EAL_FORK_CHILD(pci_fork_child)
