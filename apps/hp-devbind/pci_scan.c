/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-devbind's reading of sysfs and the routing tables (see pci_scan.h). Everything is read at
 * the moment of the call: a device can change driver, and an interface go up, between two calls.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pci_scan.h"

#define IORESOURCE_MEM 0x200 /* a "resource" line's flags: a memory range */
#define PCI_BARS 6
#define PCI_CLASS_NETWORK 0x02
#define PCI_CLASS_BRIDGE 0x06

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int pci_addr_parse(const char *s, char out[PCI_ADDR_LEN])
{
	unsigned dom = 0, bus, slot, fn;
	size_t len = s ? strlen(s) : 0;

	if (len == 12) {
		if (!hex_run(s, 4) || s[4] != ':')
			return -1;
		dom = (unsigned)strtoul(s, NULL, 16);
		s += 5;
		len -= 5;
	}
	/* BB:SS.F */
	if (len != 7 || !hex_run(s, 2) || s[2] != ':' || !hex_run(s + 3, 2) || s[5] != '.' ||
	    s[6] < '0' || s[6] > '7')
		return -1;
	bus = (unsigned)strtoul(s, NULL, 16);
	slot = (unsigned)strtoul(s + 3, NULL, 16);
	fn = (unsigned)(s[6] - '0');
	if (slot > 0x1f)
		return -1;
	snprintf(out, PCI_ADDR_LEN, "%04x:%02x:%02x.%u", dom, bus, slot, fn);
	return 0;
}

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static unsigned read_hex(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return 0;
	return read_str(path, buf, sizeof(buf)) == 0 ? (unsigned)strtoul(buf, NULL, 16) : 0;
}

static int read_int(const char *dir, const char *name, int fallback)
{
	char path[PATH_MAX], buf[32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return fallback;
	return read_str(path, buf, sizeof(buf)) == 0 ? atoi(buf) : fallback;
}

/* The last part of the link dir/name ("" when there is no such link). */
static void link_base(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *base;

	buf[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	if (snprintf(buf, len, "%s", base ? base + 1 : target) >= (int)len)
		buf[0] = '\0';
}

static bool has_mem_bar(const char *dir)
{
	char path[PATH_MAX], line[128];
	unsigned long long start, end, flags;
	bool mem = false;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/resource", dir) >= (int)sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	for (int i = 0; i < PCI_BARS && fgets(line, sizeof(line), f); i++)
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 &&
		    (flags & IORESOURCE_MEM) && end > start)
			mem = true;
	fclose(f);
	return mem;
}

/* An IPv6 route through a device counts unless it is link-local (fe80::/10) or multicast. */
static bool ipv6_route_counts(const char *dest)
{
	if (strncmp(dest, "ff", 2) == 0)
		return false;
	return !(strncmp(dest, "fe", 2) == 0 && strchr("89ab", dest[2]) && dest[2]);
}

static bool has_route(const char *ifname)
{
	char line[512], dev[64], dest[64];
	bool found = false;
	FILE *f;

	f = fopen("/proc/net/route", "r");
	if (f) {
		/* the first line is the header; each route: Iface Destination Gateway ... */
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s", dev) == 1 && strcmp(dev, ifname) == 0)
				found = true;
		fclose(f);
	}
	f = fopen("/proc/net/ipv6_route", "r");
	if (f) {
		/* dest plen src plen next-hop metric refcnt use flags device */
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %*s %*s %*s %*s %*s %*s %*s %*s %63s", dest, dev) ==
				2 &&
			    strcmp(dev, ifname) == 0 && ipv6_route_counts(dest))
				found = true;
		fclose(f);
	}
	return found;
}

static void add_netif(struct pci_dev *d, const char *name)
{
	char path[PATH_MAX], buf[32];
	struct pci_netif *n;

	if (d->n_ifs == PCI_MAX_IFS)
		return;
	n = &d->ifs[d->n_ifs++];
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", name);
	n->up = read_str(path, buf, sizeof(buf)) == 0 && (strtoul(buf, NULL, 16) & IFF_UP);
	n->route = has_route(name);
}

/* Interfaces of the device itself (DEV/net/NAME) or of its virtio child (DEV/virtioN/net/NAME). */
static void read_netifs(const char *dir, struct pci_dev *d)
{
	static const char *const patterns[] = {"%s/net/*", "%s/*/net/*"};
	char pattern[PATH_MAX];
	glob_t g;

	for (unsigned p = 0; p < 2; p++) {
		snprintf(pattern, sizeof(pattern), patterns[p], dir);
		if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_netif(d, strrchr(g.gl_pathv[i], '/') + 1);
		globfree(&g);
	}
}

int pci_dev_read(const char *addr, struct pci_dev *d)
{
	char dir[PATH_MAX], buf[32];

	memset(d, 0, sizeof(*d));
	snprintf(dir, sizeof(dir), PCI_SYSFS "/devices/%s", addr);
	if (access(dir, F_OK) != 0)
		return -ENODEV;
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	d->vendor = read_hex(dir, "vendor");
	d->device = read_hex(dir, "device");
	d->class = read_hex(dir, "class");
	link_base(dir, "driver", d->driver, sizeof(d->driver));
	link_base(dir, "iommu_group", buf, sizeof(buf));
	d->iommu_group = buf[0] ? atoi(buf) : -1;
	d->numa_node = read_int(dir, "numa_node", -1);
	d->mem_bar = has_mem_bar(dir);
	read_netifs(dir, d);
	if (d->class >> 16 == PCI_CLASS_NETWORK || d->n_ifs)
		d->kind = PCI_NETWORK;
	else if (d->class >> 16 != PCI_CLASS_BRIDGE && d->mem_bar)
		d->kind = PCI_DMA;
	else
		d->kind = PCI_OTHER;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	return strcmp(((const struct pci_dev *)a)->addr, ((const struct pci_dev *)b)->addr);
}

int pci_dev_list(struct pci_dev **out)
{
	DIR *dir = opendir(PCI_SYSFS "/devices");
	struct pci_dev *devs = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char addr[PCI_ADDR_LEN];

	*out = NULL;
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (pci_addr_parse(e->d_name, addr) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(devs, cap * sizeof(*devs));
			if (!grown) {
				free(devs);
				closedir(dir);
				return -ENOMEM;
			}
			devs = grown;
		}
		if (pci_dev_read(addr, &devs[n]) == 0)
			n++;
	}
	closedir(dir);
	if (n)
		qsort(devs, n, sizeof(*devs), by_addr);
	*out = devs;
	return (int)n;
}

bool pci_dev_in_use(const struct pci_dev *d)
{
	for (unsigned i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].up || d->ifs[i].route)
			return true;
	return false;
}

bool pci_iommu_present(void)
{
	DIR *dir = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;
	bool any = false;

	if (!dir)
		return false;
	while (!any && (e = readdir(dir)))
		any = e->d_name[0] != '.';
	closedir(dir);
	return any;
}

const char *pci_kind_name(enum pci_kind k)
{
	switch (k) {
	case PCI_NETWORK:
		return "network";
	case PCI_DMA:
		return "dma";
	default:
		return "other";
	}
}
