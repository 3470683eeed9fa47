/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp-devbind: which kernel driver each PCI device has (network, DMA-capable and other devices,
 * with IOMMU group and NUMA node), and moving devices to vfio-pci or uio_pci_generic and back,
 * as dpdk-devbind.py does: driver_override, unbind, drivers_probe. A device whose interface is
 * up or carries a route is left alone without --force. Exit status: 0 when everything asked was
 * done, 1 when something was refused or failed, 2 for bad usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_opts.h"
#include "pci_scan.h"

static const char *prog = "hp-devbind";

/* ---- --status ---- */

static void print_dev_text(const struct pci_dev *d)
{
	char group[16] = "none", node[16] = "-";

	if (d->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", d->iommu_group);
	if (d->numa_node >= 0)
		snprintf(node, sizeof(node), "%d", d->numa_node);
	printf("  %-12s  %04x:%04x  %-16s  %-5s  %-*s", d->addr, d->vendor, d->device,
	       d->driver[0] ? d->driver : "none", group, d->n_ifs ? 4 : 0, node);
	for (unsigned i = 0; i < d->n_ifs; i++) {
		const struct pci_netif *n = &d->ifs[i];

		printf("%s%s (%s%s)", i ? ", " : "  ", n->name, n->up ? "up" : "down",
		       n->route ? ", route" : "");
	}
	putchar('\n');
}

static void print_text(const struct pci_dev *devs, int n)
{
	static const char *const titles[] = {[PCI_NETWORK] = "Network devices",
					     [PCI_DMA] =
						 "DMA-capable devices (a memory BAR, not a bridge)",
					     [PCI_OTHER] = "Other devices"};

	printf("IOMMU: %s\n",
	       pci_iommu_present()
		   ? "on (devices have IOMMU groups: vfio-pci works)"
		   : "none (no IOMMU groups: vfio-pci cannot be used; uio_pci_generic "
		     "with physical addresses can)");
	for (int k = PCI_NETWORK; k <= PCI_OTHER; k++) {
		int shown = 0;

		printf("\n%s\n  %-12s  %-9s  %-16s  %-5s  %s%s\n", titles[k], "address", "vend:dev",
		       "driver", "group", "node", k == PCI_NETWORK ? "  interfaces" : "");
		for (int i = 0; i < n; i++)
			if ((int)devs[i].kind == k) {
				print_dev_text(&devs[i]);
				shown++;
			}
		if (!shown)
			printf("  (none)\n");
	}
}

static void print_json(const struct pci_dev *devs, int n)
{
	printf("{\"iommu\":%s,\"devices\":[", pci_iommu_present() ? "true" : "false");
	for (int i = 0; i < n; i++) {
		const struct pci_dev *d = &devs[i];

		printf("%s{\"address\":\"%s\",\"vendor\":\"%04x\",\"device\":\"%04x\","
		       "\"class\":\"%06x\",\"kind\":\"%s\",",
		       i ? "," : "", d->addr, d->vendor, d->device, d->class,
		       pci_kind_name(d->kind));
		if (d->driver[0])
			printf("\"driver\":\"%s\",", d->driver);
		else
			printf("\"driver\":null,");
		if (d->iommu_group >= 0)
			printf("\"iommu_group\":%d,", d->iommu_group);
		else
			printf("\"iommu_group\":null,");
		if (d->numa_node >= 0)
			printf("\"numa_node\":%d,", d->numa_node);
		else
			printf("\"numa_node\":null,");
		printf("\"memory_bar\":%s,\"interfaces\":[", d->mem_bar ? "true" : "false");
		for (unsigned j = 0; j < d->n_ifs; j++)
			printf("%s{\"name\":\"%s\",\"up\":%s,\"route\":%s}", j ? "," : "",
			       d->ifs[j].name, d->ifs[j].up ? "true" : "false",
			       d->ifs[j].route ? "true" : "false");
		printf("]}");
	}
	printf("]}\n");
}

/* Every device, or only those of addrs (already canonical and known to exist). */
static int do_status(char addrs[][PCI_ADDR_LEN], int n_addrs, bool json)
{
	struct pci_dev *devs;
	int n;

	if (n_addrs) {
		devs = calloc((size_t)n_addrs, sizeof(*devs));
		if (!devs)
			return 1;
		for (n = 0; n < n_addrs; n++)
			pci_dev_read(addrs[n], &devs[n]);
	} else {
		n = pci_dev_list(&devs);
		if (n < 0) {
			fprintf(stderr, "%s: cannot read %s/devices: %s\n", prog, PCI_SYSFS,
				strerror(-n));
			return 1;
		}
	}
	if (json)
		print_json(devs, n);
	else
		print_text(devs, n);
	free(devs);
	return 0;
}

/* ---- --bind, --unbind ---- */

/* Writes s to the sysfs file path; 0, or -errno. */
static int sysfs_write(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(s, f) < 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	return err;
}

static int dev_write(const char *addr, const char *file, const char *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/%s", addr, file);
	return sysfs_write(path, s);
}

static bool driver_loaded(const char *drv)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/drivers/%s", drv);
	return access(path, F_OK) == 0;
}

/* modprobe DRV when its driver is not registered; 0, or -1 after saying what to do. */
static int load_driver(const char *drv)
{
	pid_t pid;
	int st = -1;

	if (driver_loaded(drv))
		return 0;
	pid = fork();
	if (pid == 0) {
		execlp("modprobe", "modprobe", drv, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (driver_loaded(drv))
		return 0;
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		fprintf(stderr,
			"%s: the %s driver is not loaded and modprobe could not be run; install "
			"kmod, or load the module yourself (insmod)\n",
			prog, drv);
	else
		fprintf(stderr,
			"%s: the %s driver is not loaded and 'modprobe %s' did not load it; this "
			"kernel may lack the module (its package of modules?)\n",
			prog, drv, drv);
	return -1;
}

static void say_in_use(const struct pci_dev *d, const char *what)
{
	const struct pci_netif *n = d->ifs;

	for (unsigned i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].up || d->ifs[i].route) {
			n = &d->ifs[i];
			break;
		}
	fprintf(stderr,
		"%s: %s is network interface %s, which is %s: refusing to %s it; bring it "
		"down first (ip link set %s down), or give --force\n",
		prog, d->addr, n->name,
		n->up && n->route ? "up and carries a route"
		: n->up		  ? "up"
				  : "carrying a route",
		what, n->name);
}

/* Says which other devices of d's IOMMU group keep VFIO from opening it. */
static void note_group(const struct pci_dev *d)
{
	struct pci_dev *devs;
	int n = pci_dev_list(&devs);

	for (int i = 0; i < n; i++) {
		const struct pci_dev *o = &devs[i];

		if (o->iommu_group != d->iommu_group || strcmp(o->addr, d->addr) == 0)
			continue;
		if (o->driver[0] && strcmp(o->driver, "vfio-pci") != 0 &&
		    strcmp(o->driver, "pcieport") != 0)
			printf("%s: note: IOMMU group %d also holds %s (driver %s): VFIO opens the "
			       "group only when that one is bound to vfio-pci too, or has no "
			       "driver\n",
			       prog, d->iommu_group, o->addr, o->driver);
	}
	free(devs);
}

/* Whether addr may go to drv (NULL: be unbound); 0, or -1 after saying why not. */
static int check_one(const char *addr, const char *drv, bool force)
{
	struct pci_dev d;

	pci_dev_read(addr, &d);
	if (drv && strcmp(d.driver, drv) == 0)
		return 0;
	if (!force && pci_dev_in_use(&d)) {
		say_in_use(&d, drv ? "bind" : "unbind");
		return -1;
	}
	if (drv && strcmp(drv, "vfio-pci") == 0 && d.iommu_group < 0) {
		fprintf(stderr,
			"%s: %s has no IOMMU group, so vfio-pci cannot take it: turn the IOMMU on "
			"(intel_iommu=on or amd_iommu=on on the kernel's command line), or use "
			"--bind=uio_pci_generic (physical addresses, --iova=pa)\n",
			prog, addr);
		return -1;
	}
	return 0;
}

static int bind_one(const char *addr, const char *drv)
{
	struct pci_dev d;
	char old[PCI_DRIVER_LEN];
	int err;

	pci_dev_read(addr, &d);
	if (strcmp(d.driver, drv) == 0) {
		printf("%s: %s is bound to %s already\n", prog, addr, drv);
		return 0;
	}
	snprintf(old, sizeof(old), "%s", d.driver);
	err = dev_write(addr, "driver_override", drv);
	if (err) {
		fprintf(stderr, "%s: %s: cannot write driver_override: %s\n", prog, addr,
			strerror(-err));
		return -1;
	}
	if (old[0] && (err = dev_write(addr, "driver/unbind", addr)) != 0) {
		fprintf(stderr, "%s: %s: cannot unbind it from %s: %s\n", prog, addr, old,
			strerror(-err));
		dev_write(addr, "driver_override", "\n");
		return -1;
	}
	/* a probe that fails shows as no driver below; the write's own status says less */
	sysfs_write(PCI_SYSFS "/drivers_probe", addr);
	pci_dev_read(addr, &d);
	if (strcmp(d.driver, drv) != 0) {
		dev_write(addr, "driver_override", "\n");
		sysfs_write(PCI_SYSFS "/drivers_probe", addr);
		pci_dev_read(addr, &d);
		fprintf(stderr,
			"%s: %s: the kernel did not bind it to %s (its log says why: dmesg); it is "
			"now %s%s\n",
			prog, addr, drv, d.driver[0] ? "bound to " : "without a driver", d.driver);
		return -1;
	}
	printf("%s: %s bound to %s (was %s)", prog, addr, drv, old[0] ? old : "no driver");
	if (strcmp(drv, "vfio-pci") == 0)
		printf("; its group: /dev/vfio/%d", d.iommu_group);
	putchar('\n');
	if (strcmp(drv, "vfio-pci") == 0)
		note_group(&d);
	return 0;
}

static int unbind_one(const char *addr)
{
	struct pci_dev d;
	int err;

	pci_dev_read(addr, &d);
	if (!d.driver[0]) {
		printf("%s: %s has no driver already\n", prog, addr);
		return 0;
	}
	err = dev_write(addr, "driver/unbind", addr);
	if (err) {
		fprintf(stderr, "%s: %s: cannot unbind it from %s: %s\n", prog, addr, d.driver,
			strerror(-err));
		return -1;
	}
	/* no override left: the next probe gives the device to the kernel's own driver */
	dev_write(addr, "driver_override", "\n");
	printf("%s: %s unbound from %s\n", prog, addr, d.driver);
	return 0;
}

/* ---- the command line ---- */

/* A driver's name as sysfs spells it: letters, digits, '_' and '-'. */
static bool driver_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PCI_DRIVER_LEN)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Canonical addresses of argv[first..argc-1] into addrs; their count, or -2 / -1 (said). */
static int take_addrs(int argc, char **argv, int first, char addrs[][PCI_ADDR_LEN])
{
	int n = 0;

	for (int i = first; i < argc; i++) {
		char path[PATH_MAX];

		if (pci_addr_parse(argv[i], addrs[n]) != 0) {
			fprintf(stderr,
				"%s: '%s' is not a PCI address; write DOMAIN:BUS:SLOT.FUNCTION "
				"(0000:00:04.0) or BUS:SLOT.FUNCTION (00:04.0), in hex\n",
				prog, argv[i]);
			return -2;
		}
		for (int j = 0; j < n; j++)
			if (strcmp(addrs[j], addrs[n]) == 0) {
				fprintf(stderr, "%s: %s is given twice\n", prog, addrs[n]);
				return -2;
			}
		snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", addrs[n]);
		if (access(path, F_OK) != 0) {
			fprintf(stderr,
				"%s: there is no PCI device %s on this machine (%s --status lists "
				"them)\n",
				prog, addrs[n], prog);
			return -1;
		}
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	bool status = false, json = false, unbind = false, force = false;
	const char *bind = NULL;
	char(*addrs)[PCI_ADDR_LEN];
	int arg, rc, n;
	const struct app_opt opts[] = {
	    {"status", 's', APP_FLAG, &status, NULL,
	     "the PCI devices: network, DMA-capable, other (the default);\n"
	     "with addresses: only those"},
	    {"json", 0, APP_FLAG, &json, NULL, "--status as one JSON object"},
	    {"bind", 'b', APP_STRING, &bind, "DRIVER",
	     "bind each ADDR to DRIVER (vfio-pci, uio_pci_generic, or a kernel\n"
	     "driver to give a device back), loading its module if needed (root)"},
	    {"unbind", 'u', APP_FLAG, &unbind, NULL, "unbind each ADDR from its driver (root)"},
	    {"force", 0, APP_FLAG, &force, NULL,
	     "also a device whose network interface is up or carries a route"},
	    {NULL}};
	const struct app_cli cli = {
	    .prog = "hp-devbind",
	    .synopsis =
		"[--status] [--json] [ADDR...]\n"
		"       hp-devbind --bind=vfio-pci|uio_pci_generic|DRIVER [--force] ADDR...\n"
		"       hp-devbind --unbind [--force] ADDR...",
	    .opts = opts,
	    .footer = "ADDR is a PCI address, 0000:00:04.0 or 00:04.0.\n",
	    .operands = &arg};

	rc = app_parse(&cli, argc, argv);
	if (rc != APP_RUN)
		return rc;
	if ((status || json) + !!bind + unbind > 1) {
		fprintf(stderr, "%s: give one of --status, --bind and --unbind\n", prog);
		return 2;
	}
	if (bind && !driver_name_ok(bind)) {
		fprintf(stderr,
			"%s: --bind '%s' is not a driver's name; write --bind=vfio-pci or "
			"--bind=uio_pci_generic\n",
			prog, bind);
		return 2;
	}
	if ((bind || unbind) && arg >= argc) {
		fprintf(stderr, "%s: --%s needs the PCI addresses of the devices (e.g. 00:04.0)\n",
			prog, bind ? "bind" : "unbind");
		return 2;
	}
	addrs = calloc((size_t)(argc - arg + 1), sizeof(*addrs));
	if (!addrs)
		return 1;
	n = take_addrs(argc, argv, arg, addrs);
	if (n < 0) {
		free(addrs);
		return n == -2 ? 2 : 1;
	}
	if (!bind && !unbind) {
		rc = do_status(addrs, n, json);
		free(addrs);
		return rc;
	}
	if (geteuid() != 0) {
		fprintf(stderr,
			"%s: --%s writes to %s, which needs root: run it as root (sudo %s ...)\n",
			prog, bind ? "bind" : "unbind", PCI_SYSFS, prog);
		free(addrs);
		return 1;
	}
	/* every device is checked before anything changes */
	rc = 0;
	for (int i = 0; i < n; i++)
		if (check_one(addrs[i], bind, force) < 0)
			rc = 1;
	if (rc == 0 && bind && load_driver(bind) < 0)
		rc = 1;
	for (int i = 0; rc == 0 && i < n; i++)
		if ((bind ? bind_one(addrs[i], bind) : unbind_one(addrs[i])) < 0)
			rc = 1;
	free(addrs);
	return rc;
}
