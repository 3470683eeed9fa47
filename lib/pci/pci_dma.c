/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process's VFIO container (type1v2, IOVA = VA) and its DMA maps, which follow runtime
 * memory: made with the first vfio group, it maps every present page of runtime memory and every
 * hp_dma_map range, then follows the memory events. ALLOC fires under the memory write lock and
 * allocation takes the read lock, so a page is mapped before anything can be allocated from it;
 * FREE fires before the pages are punched, so a page is unmapped before it goes back.
 * Granularity: type1v2 cannot unmap part of a map, so pages of grown lists (which go back one
 * by one) get one map each, and lists held until hp_cleanup one map per contiguous run.
 * dma_lock guards everything here; the container fd changes only under pci_lock and dma_lock.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "eal/eal_internal.h"
#include "mem/mem_internal.h"
#include "pci_internal.h"

#define EV_NAME "pci_dma"

struct dma_map {
	uintptr_t va;
	size_t len;
	bool user;   /* from hp_dma_map */
	bool mapped; /* in the container now */
};

static pthread_mutex_t dma_lock = PTHREAD_MUTEX_INITIALIZER;
static int container = -1;
static unsigned n_groups;
static struct dma_map *maps;
static unsigned n_maps, cap_maps;
static unsigned long n_failed;

/* ---- VFIO calls ------------------------------------------------------------------------------ */

static long param_of(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The sentence of a failed VFIO_IOMMU_MAP_DMA, naming the limit hit. */
static int map_error(int err, uintptr_t va, size_t len)
{
	struct rlimit rl = {0};

	switch (err) {
	case ENOSPC:
		return hp_fail(-ENOSPC,
			       "VFIO refused a DMA map of %zu KiB at %#lx: the container holds "
			       "vfio_iommu_type1's dma_entry_limit of %ld maps; raise it (echo N > "
			       "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit) or unmap "
			       "hp_dma_map ranges",
			       len >> 10, (unsigned long)va,
			       param_of("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"));
	case ENOMEM:
	case EPERM:
		getrlimit(RLIMIT_MEMLOCK, &rl);
		return hp_fail(
		    -ENOMEM,
		    "VFIO could not pin %zu KiB at %#lx for DMA: the locked-memory limit "
		    "(RLIMIT_MEMLOCK %llu KiB) is reached; raise it (ulimit -l unlimited, or "
		    "LimitMEMLOCK=infinity in a systemd unit)",
		    len >> 10, (unsigned long)va,
		    rl.rlim_cur == RLIM_INFINITY ? 0ULL : (unsigned long long)rl.rlim_cur >> 10);
	case EEXIST:
		return hp_fail(-EEXIST,
			       "VFIO refused a DMA map of %zu KiB at %#lx: it overlaps a map the "
			       "container holds already",
			       len >> 10, (unsigned long)va);
	default:
		return hp_fail(
		    -err,
		    "VFIO refused a DMA map of %zu KiB at %#lx (IOVA = VA): %s; an IOMMU "
		    "narrower than 48 bits cannot take such addresses (a qemu guest needs "
		    "-device intel-iommu,aw-bits=48); see dmesg",
		    len >> 10, (unsigned long)va, strerror(err));
	}
}

static int vfio_map(uintptr_t va, size_t len)
{
	struct vfio_iommu_type1_dma_map m = {
	    .argsz = sizeof(m),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = va,
	    .iova = va,
	    .size = len,
	};

	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &m))
		return map_error(errno, va, len);
	return 0;
}

static void vfio_unmap(uintptr_t va, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .iova = va, .size = len};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) || u.size != len)
		HP_LOG_E("VFIO: unmapping %zu KiB at %#lx failed (%s, %llu bytes unmapped)",
			 len >> 10, (unsigned long)va, strerror(errno), (unsigned long long)u.size);
}

/* ---- the map records (dma_lock held) ----------------------------------------------------------
 */

static int rec_add(uintptr_t va, size_t len, bool user)
{
	int rc = 0;

	if (n_maps == cap_maps) {
		unsigned cap = cap_maps ? 2 * cap_maps : 64;
		struct dma_map *m = realloc(maps, cap * sizeof(*m));

		if (!m)
			return hp_fail(-ENOMEM,
				       "out of memory for DMA map records; free some memory");
		maps = m;
		cap_maps = cap;
	}
	if (container >= 0)
		rc = vfio_map(va, len);
	if (rc)
		return rc;
	maps[n_maps++] = (struct dma_map){va, len, user, container >= 0};
	return 0;
}

static void rec_del(unsigned i)
{
	if (maps[i].mapped && container >= 0)
		vfio_unmap(maps[i].va, maps[i].len);
	maps[i] = maps[--n_maps];
}

/* Pages of lists the allocator grew go back to the kernel one by one: one map per page. */
static size_t map_unit(const void *va)
{
	const struct mem_list *l = mem_list_of(va);

	return l && l->dynamic ? l->page_size : 0;
}

/* Map a range of runtime memory: per page where pages go back one by one, else as one. */
static int runtime_add(uintptr_t va, size_t len)
{
	size_t unit = map_unit((const void *)va);
	int rc = 0;

	if (!unit)
		return rec_add(va, len, false);
	for (uintptr_t p = va; p < va + len && !rc; p += unit)
		rc = rec_add(p, unit, false);
	return rc;
}

/* Unmap runtime maps inside [va, va + len); a map that reaches outside is cut, mapped again. */
static void runtime_del(uintptr_t va, size_t len)
{
	uintptr_t end = va + len;

	for (unsigned i = 0; i < n_maps;) {
		struct dma_map m = maps[i];

		if (m.user || m.va + m.len <= va || m.va >= end) {
			i++;
			continue;
		}
		rec_del(i); /* the last record moved to i: look at i again */
		if (m.va < va || m.va + m.len > end)
			HP_LOG_W("VFIO: a DMA map of %zu KiB at %#lx is cut by memory going back; "
				 "what stays is mapped again",
				 m.len >> 10, (unsigned long)m.va);
		if (m.va < va && rec_add(m.va, va - m.va, false))
			n_failed++;
		if (m.va + m.len > end && rec_add(end, m.va + m.len - end, false))
			n_failed++;
	}
}

static void on_mem_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&dma_lock);
	if (container >= 0 && ev == HP_MEM_EVENT_ALLOC && runtime_add((uintptr_t)va, len)) {
		n_failed++;
		HP_LOG_E("new memory %p (+%zu KiB) is not reachable by DMA: %s", va, len >> 10,
			 hp_last_error());
	} else if (container >= 0 && ev == HP_MEM_EVENT_FREE) {
		runtime_del((uintptr_t)va, len);
	}
	pthread_mutex_unlock(&dma_lock);
}

static int walk_map(const struct hp_memseg *run, void *arg)
{
	(void)arg;
	return runtime_add((uintptr_t)run->va, run->len);
}

/* ---- the container ------------------------------------------------------------------------ */

/* No container any more: runtime records go, hp_dma_map ranges wait for the next. @return its fd */
static int container_forget(void)
{
	int fd;

	pthread_mutex_lock(&dma_lock);
	for (unsigned i = 0; i < n_maps;)
		if (maps[i].user)
			maps[i++].mapped = false;
		else
			maps[i] = maps[--n_maps];
	fd = container;
	container = -1;
	pthread_mutex_unlock(&dma_lock);
	return fd;
}

static int container_open(int group_fd, int group_no)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC), rc;

	if (fd < 0)
		return hp_fail(-errno,
			       "cannot open /dev/vfio/vfio (%s); load the vfio modules "
			       "(modprobe vfio-pci) and run as root",
			       strerror(errno));
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		close(fd);
		return hp_fail(-ENOTSUP, "this kernel's VFIO lacks the type1v2 IOMMU; load "
					 "vfio_iommu_type1");
	}
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &fd)) {
		rc = -errno;
		close(fd);
		return hp_fail(rc, "VFIO group %d cannot join a container: %s", group_no,
			       strerror(-rc));
	}
	if (ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		rc = -errno;
		ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(fd);
		return hp_fail(rc,
			       "VFIO_SET_IOMMU (type1v2) failed for group %d: %s; an IOMMU without "
			       "interrupt remapping is refused (a qemu guest must not use "
			       "intremap=off)",
			       group_no, strerror(-rc));
	}
	/* map what exists and subscribe under one read lock: nothing comes or goes between */
	hp_mem_lock_read();
	pthread_mutex_lock(&dma_lock);
	container = fd;
	rc = 0;
	for (unsigned i = 0; i < n_maps && !rc; i++)
		if ((rc = vfio_map(maps[i].va, maps[i].len)) == 0)
			maps[i].mapped = true;
	if (!rc)
		rc = hp_memseg_contig_walk(walk_map, NULL);
	pthread_mutex_unlock(&dma_lock);
	if (!rc)
		rc = hp_mem_event_register(EV_NAME, on_mem_event, NULL);
	hp_mem_unlock_read();
	if (rc) {
		char why[512];

		snprintf(why, sizeof(why), "%s", hp_last_error());
		container_forget();
		ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(fd); /* the kernel drops every map */
		return hp_fail(rc, "%s", why);
	}
	return 0;
}

int pci_dma_group_add(int group_fd, int group_no)
{
	int rc;

	if (container < 0) {
		rc = container_open(group_fd, group_no);
		if (rc)
			return rc;
	} else if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container)) {
		rc = -errno;
		return hp_fail(rc, "VFIO group %d cannot join the process's container: %s",
			       group_no, strerror(-rc));
	}
	n_groups++;
	return 0;
}

void pci_dma_group_del(int group_fd)
{
	int fd;

	if (n_groups > 1) {
		n_groups--;
		ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
		return;
	}
	n_groups = 0;
	hp_mem_event_unregister(EV_NAME);
	fd = container_forget();
	/* the last group leaving drops every map of the container */
	ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
	close(fd);
}

void pci_dma_forget_user(void)
{
	pthread_mutex_lock(&dma_lock);
	free(maps);
	maps = NULL;
	n_maps = cap_maps = 0;
	n_failed = 0;
	pthread_mutex_unlock(&dma_lock);
}

/* A forked child: the container is the parent's; close the child's copy of its fd, forget maps. */
void pci_dma_fork_child(void)
{
	pthread_mutex_init(&dma_lock, NULL);
	if (container >= 0)
		close(container);
	container = -1;
	n_groups = 0;
	free(maps);
	maps = NULL;
	n_maps = cap_maps = 0;
	n_failed = 0;
}

/* ---- hp_dma_map ------------------------------------------------------------------------------ */

struct overlap {
	uintptr_t va, end;
	const struct hp_memseg *hit;
	struct hp_memseg run;
};

static int find_overlap(const struct hp_memseg *run, void *arg)
{
	struct overlap *o = arg;
	uintptr_t s = (uintptr_t)run->va;

	if (s < o->end && s + run->len > o->va) {
		o->run = *run;
		return 1;
	}
	return 0;
}

static int range_check(const char *fn, void *va, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!va || !len)
		return hp_fail(-EINVAL, "%s(%p, %zu): give a start address and a length", fn, va,
			       len);
	if ((uintptr_t)va % pg || len % pg)
		return hp_fail(-EINVAL,
			       "%s(%p, %zu): the range must be whole pages: start and length "
			       "multiples of %zu",
			       fn, va, len, pg);
	if ((uintptr_t)va + len < (uintptr_t)va)
		return hp_fail(-EINVAL, "%s(%p, %zu): the range wraps around the address space", fn,
			       va, len);
	return 0;
}

HP_API int hp_dma_map(void *va, size_t len)
{
	uintptr_t s = (uintptr_t)va, e = s + len;
	struct overlap o = {.va = s, .end = e};
	int rc = range_check("hp_dma_map", va, len);

	if (rc)
		return rc;
	if (hp_memseg_contig_walk(find_overlap, &o) == 1)
		return hp_fail(-EINVAL,
			       "hp_dma_map(%p, %zu): the range overlaps runtime memory (%p, %zu "
			       "KiB), which devices reach already; map only memory from outside "
			       "the runtime",
			       va, len, o.run.va, o.run.len >> 10);
	pthread_mutex_lock(&dma_lock);
	for (unsigned i = 0; i < n_maps && !rc; i++)
		if (maps[i].user && maps[i].va < e && maps[i].va + maps[i].len > s)
			rc =
			    hp_fail(-EINVAL,
				    "hp_dma_map(%p, %zu): the range overlaps %#lx (+%zu) mapped "
				    "before; unmap that first or map a range that does not overlap",
				    va, len, (unsigned long)maps[i].va, maps[i].len);
	if (!rc)
		rc = rec_add(s, len, true);
	pthread_mutex_unlock(&dma_lock);
	return rc;
}

HP_API int hp_dma_unmap(void *va, size_t len)
{
	uintptr_t s = (uintptr_t)va;
	int rc = range_check("hp_dma_unmap", va, len);

	if (rc)
		return rc;
	pthread_mutex_lock(&dma_lock);
	rc = -ENOENT;
	for (unsigned i = 0; i < n_maps && rc; i++)
		if (maps[i].user && maps[i].va == s && maps[i].len == len) {
			rec_del(i);
			rc = 0;
		}
	pthread_mutex_unlock(&dma_lock);
	if (rc)
		return hp_fail(-EINVAL,
			       "hp_dma_unmap(%p, %zu): no hp_dma_map of exactly that range; unmap "
			       "each range as it was mapped",
			       va, len);
	return 0;
}

HP_API int hp_dma_stats(struct hp_dma_stats *st)
{
	if (!st)
		return hp_fail(-EINVAL, "hp_dma_stats: st is NULL; pass a struct to fill");
	memset(st, 0, sizeof(*st));
	pci_dev_counts(&st->devices, &st->vfio_devices);
	pthread_mutex_lock(&dma_lock);
	st->container = container >= 0;
	for (unsigned i = 0; i < n_maps; i++) {
		st->user_maps += maps[i].user;
		if (maps[i].mapped) {
			st->maps++;
			st->bytes += maps[i].len;
		}
	}
	st->failed = n_failed;
	pthread_mutex_unlock(&dma_lock);
	return 0;
}
