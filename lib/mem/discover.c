/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery of the system's hugepages, usable without hp_init(): pools per node and page size
 * (sysfs), setting a pool's size, the default page size (/proc/meminfo), hugetlbfs mounts
 * (/proc/mounts, read on every call) and the IOVA mode a process would get. No library reads
 * these for us: libhugetlbfs would add HUGETLB_* environment variables read at load time. Nothing
 * here keeps state except the interned mount paths, which are only appended (under mount_lock,
 * lock level 16, doc/architecture.md) and never freed, so a returned path stays valid for the
 * process.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "mem_internal.h"

#define NODE_DIR "/sys/devices/system/node"
#define GLOBAL_HP_DIR "/sys/kernel/mm/hugepages"

/* Reads one unsigned decimal number from a sysfs file; -errno on failure. */
static int read_ulong(const char *path, unsigned long *val)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	*val = strtoul(buf, NULL, 10);
	return 0;
}

/* "hugepages-2048kB" -> 2 MiB in bytes; 0 if the name is not a pool directory. */
static size_t pool_dir_size(const char *name)
{
	char *end;
	unsigned long kb;

	if (strncmp(name, "hugepages-", 10) != 0)
		return 0;
	kb = strtoul(name + 10, &end, 10);
	if (strcmp(end, "kB") != 0)
		return 0;
	return (size_t)kb << 10;
}

/* "node12" -> 12; -1 if the name is not a node directory. */
static int node_dir_id(const char *name)
{
	char *end;
	long id;

	if (strncmp(name, "node", 4) != 0 || !isdigit((unsigned char)name[4]))
		return -1;
	id = strtol(name + 4, &end, 10);
	return *end == '\0' && id <= INT_MAX ? (int)id : -1;
}

/* Directory of the pools of one node: per-node sysfs, or the global one on a kernel without NUMA.
 */
static int node_hp_dir(int node, char *buf, size_t len)
{
	struct stat st;

	snprintf(buf, len, NODE_DIR "/node%d/hugepages", node);
	if (stat(buf, &st) == 0)
		return 0;
	if (node == 0 && stat(NODE_DIR, &st) != 0) {
		snprintf(buf, len, GLOBAL_HP_DIR);
		return 0;
	}
	return -ENODEV;
}

/* Every pool found, in a growing array. */
struct pool_list {
	struct hp_hugepage_pool *v;
	unsigned n, cap;
	bool oom;
};

static void add_pool(struct pool_list *pl, int node, const char *dir, const char *name)
{
	struct hp_hugepage_pool p = {.node = node, .page_size = pool_dir_size(name)};
	char path[PATH_MAX + 320];
	unsigned long v = 0;

	if (p.page_size == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s/nr_hugepages", dir, name);
	if (read_ulong(path, &v) == 0)
		p.total = (unsigned)v;
	snprintf(path, sizeof(path), "%s/%s/free_hugepages", dir, name);
	if (read_ulong(path, &v) == 0)
		p.free = (unsigned)v;
	snprintf(path, sizeof(path), "%s/%s/surplus_hugepages", dir, name);
	if (read_ulong(path, &v) == 0)
		p.surplus = (unsigned)v;
	if (pl->n == pl->cap) {
		unsigned cap = pl->cap ? 2 * pl->cap : 8;
		struct hp_hugepage_pool *nv = realloc(pl->v, cap * sizeof(*nv));

		if (!nv) {
			pl->oom = true;
			return;
		}
		pl->v = nv;
		pl->cap = cap;
	}
	pl->v[pl->n++] = p;
}

static void scan_node(struct pool_list *pl, int node)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (node_hp_dir(node, dir, sizeof(dir)) != 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL)
		add_pool(pl, node, dir, de->d_name);
	closedir(d);
}

static int pool_cmp(const void *a, const void *b)
{
	const struct hp_hugepage_pool *x = a, *y = b;

	if (x->page_size != y->page_size)
		return x->page_size < y->page_size ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

HP_API int hp_hugepage_pools(struct hp_hugepage_pool *pools, unsigned max)
{
	struct pool_list pl = {0};
	struct dirent *de;
	unsigned n;
	DIR *d;

	if (!pools && max > 0)
		return hp_fail(
		    -EINVAL, "hp_hugepage_pools: pools is NULL but max is %u; pass an array", max);
	d = opendir(NODE_DIR);
	if (!d) {
		/* a kernel built without NUMA: one set of pools, called node 0 */
		scan_node(&pl, 0);
	} else {
		while ((de = readdir(d)) != NULL)
			if (node_dir_id(de->d_name) >= 0)
				scan_node(&pl, node_dir_id(de->d_name));
		closedir(d);
	}
	if (pl.oom) {
		free(pl.v);
		return hp_fail(-ENOMEM, "out of memory while listing hugepage pools");
	}
	if (pl.n > 1)
		qsort(pl.v, pl.n, sizeof(*pl.v), pool_cmp);
	n = pl.n < max ? pl.n : max;
	if (n)
		memcpy(pools, pl.v, n * sizeof(*pools));
	free(pl.v);
	return (int)pl.n;
}

/* The kernel has a pool of that page size: a directory hugepages-<kB>kB in sysfs. */
static bool size_supported(size_t page_size)
{
	char path[PATH_MAX];
	struct stat st;

	if (page_size < 4096 || page_size & (page_size - 1))
		return false;
	snprintf(path, sizeof(path), GLOBAL_HP_DIR "/hugepages-%zukB", page_size >> 10);
	return stat(path, &st) == 0;
}

/* "2048 kB", or "3 bytes" for a size that is no whole number of KiB. */
static const char *size_words(char *buf, size_t len, size_t bytes)
{
	if (bytes && !(bytes & 1023))
		snprintf(buf, len, "%zu kB", bytes >> 10);
	else
		snprintf(buf, len, "%zu bytes", bytes);
	return buf;
}

HP_API int hp_hugepage_set(int node, size_t page_size, unsigned count)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], buf[32], sz[32];
	unsigned long now = 0;
	int fd, len, rc;

	if (node < 0 || node_hp_dir(node, dir, sizeof(dir)) != 0)
		return hp_fail(-ENODEV, "node %d does not exist; see the nodes with: hp-info",
			       node);
	if (!size_supported(page_size))
		return hp_fail(
		    -EINVAL,
		    "the kernel has no hugepages of %s; see the sizes it has with: hp-info",
		    size_words(sz, sizeof(sz), page_size));
	if (geteuid() != 0)
		return hp_fail(
		    -EPERM, "setting the hugepage pool of node %d needs root; run as root (sudo)",
		    node);
	snprintf(path, sizeof(path), "%s/hugepages-%zukB/nr_hugepages", dir, page_size >> 10);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_fail(errno == EACCES ? -EPERM : -errno, "cannot open %s: %s; run as root",
			       path, strerror(errno));
	len = snprintf(buf, sizeof(buf), "%u\n", count);
	/* the kernel may give fewer pages than asked and still accept the write */
	rc = (int)write(fd, buf, (size_t)len);
	if (rc < 0) {
		rc = errno;
		close(fd);
		return hp_fail(rc == EACCES ? -EPERM : -rc, "node %d: writing %u to %s failed: %s",
			       node, count, path, strerror(rc));
	}
	close(fd);
	rc = read_ulong(path, &now);
	if (rc < 0)
		return hp_fail(rc, "node %d: cannot read back %s: %s", node, path, strerror(-rc));
	return now > INT_MAX ? INT_MAX : (int)now;
}

HP_API size_t hp_hugepage_default_size(void)
{
	char line[256];
	size_t size = 0;
	unsigned long kb;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1) {
			size = (size_t)kb << 10;
			break;
		}
	}
	fclose(f);
	return size;
}

/* Mount paths handed out: appended under mount_lock, never freed nor changed. */
static pthread_mutex_t mount_lock = PTHREAD_MUTEX_INITIALIZER;
static char *interned[64];
static unsigned n_interned;

static const char *intern(const char *path)
{
	const char *ret = NULL;
	unsigned i;

	pthread_mutex_lock(&mount_lock);
	for (i = 0; i < n_interned && !ret; i++)
		if (strcmp(interned[i], path) == 0)
			ret = interned[i];
	if (!ret && n_interned < sizeof(interned) / sizeof(interned[0])) {
		interned[n_interned] = strdup(path);
		ret = interned[n_interned];
		if (ret)
			n_interned++;
	}
	pthread_mutex_unlock(&mount_lock);
	return ret;
}

/* Page size of a hugetlbfs mount from its options ("pagesize=1G" or "pagesize=1024M"). */
static size_t mount_page_size(const char *opts)
{
	const char *p = strstr(opts, "pagesize=");
	unsigned long long v;
	char *end;

	if (!p)
		return hp_hugepage_default_size();
	v = strtoull(p + 9, &end, 10);
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 30;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		break;
	case 'K':
	case 'k':
		v <<= 10;
		break;
	default:
		break;
	}
	return (size_t)v;
}

/* The first hugetlbfs mount of that page size listed in /proc/mounts. */
static const char *proc_mounts_find(size_t page_size)
{
	char line[PATH_MAX + 256], dev[256], dir[PATH_MAX], type[64], opts[256];
	const char *ret = NULL;
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return NULL;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s %255s", dev, dir, type, opts) != 4)
			continue;
		if (strcmp(type, "hugetlbfs") == 0 && mount_page_size(opts) == page_size &&
		    access(dir, R_OK | X_OK) == 0)
			ret = intern(dir);
	}
	fclose(f);
	return ret;
}

HP_API const char *hp_hugetlbfs_mount(size_t page_size)
{
	if (page_size == 0)
		return NULL;
	return proc_mounts_find(page_size);
}

/* Frame number of a touched page of this process, 0 when pagemap hides it. */
static uint64_t probe_pfn(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t pfn = 0;
	volatile char *page;
	int fd;

	page = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 0;
	page[0] = 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pfn = mem_pagemap_pfn(fd, (const void *)page);
		close(fd);
	}
	munmap((void *)page, (size_t)pg);
	return pfn;
}

HP_API enum hp_iova_mode hp_iova_mode_probe(void)
{
	return probe_pfn() != 0 ? HP_IOVA_PA : HP_IOVA_VA;
}
