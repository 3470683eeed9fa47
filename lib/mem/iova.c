/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVAs: frame numbers from /proc/self/pagemap, and the remap that puts a list's pages in
 * physical order so that IOVA-contiguous pages are VA-contiguous (fewer, longer runs for DMA
 * and RDMA). Works on a list not yet published, so nothing here needs a lock.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "mem_reserve.h"

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_SHIFT 12 /* pagemap has one entry per 4 KiB page, whatever the mapping's page size */

uint64_t mem_pagemap_pfn(int fd, const void *va)
{
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)va >> PM_SHIFT) * (off_t)sizeof(e);

	if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		return 0;
	return e & PM_PRESENT ? e & PM_PFN_MASK : 0;
}

/* Physical address of va from an open pagemap, HP_BAD_IOVA when absent or hidden. */
static uint64_t pagemap_pa(int fd, const void *va)
{
	uint64_t pfn = mem_pagemap_pfn(fd, va);

	if (!pfn)
		return HP_BAD_IOVA;
	return (pfn << PM_SHIFT) | ((uintptr_t)va & ((1u << PM_SHIFT) - 1));
}

HP_API uint64_t hp_mem_virt2phy(const void *va)
{
	uint64_t pa;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return HP_BAD_IOVA;
	pa = pagemap_pa(fd, va);
	close(fd);
	return pa;
}

struct frame {
	uint64_t pa;
	unsigned idx; /* page index in the file */
};

static int frame_cmp(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;

	return (x->pa > y->pa) - (x->pa < y->pa);
}

/* Read the frame of every page of l, mapped in file order at l->base. */
static int read_frames(struct mem_list *l, struct frame *fr)
{
	unsigned i;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hp_fail(-EPERM, "cannot open /proc/self/pagemap (%s); use --iova=va",
			       strerror(errno));
	for (i = 0; i < l->n_pages; i++) {
		fr[i].idx = i;
		fr[i].pa = pagemap_pa(fd, (char *)l->base + (size_t)i * l->page_size);
		if (fr[i].pa == HP_BAD_IOVA) {
			close(fd);
			return hp_fail(
			    -EPERM,
			    "node %d: pagemap shows no frame for page %u of a "
			    "populated list; IOVA PA needs CAP_SYS_ADMIN, else use --iova=va",
			    l->node, i);
		}
	}
	close(fd);
	return 0;
}

/* An empty, page-aligned VA range of len bytes (PROT_NONE placeholder), or NULL. */
static char *reserve_va(size_t len, size_t align)
{
	char *p =
	    mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)HP_ALIGN_UP((uintptr_t)p, align);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + align > a)
		munmap(a + len, (size_t)(p + align - a));
	return a;
}

/*
 * Map the file's pages in the order of fr[] (sorted by PA) into a fresh range, one mmap per
 * stretch of consecutive file pages, then drop the old mapping. Mapping over an empty
 * placeholder is cheaper than MAP_FIXED over the populated range (nothing to tear down per call).
 */
static int remap_sorted(struct mem_list *l, const struct frame *fr)
{
	char *to = reserve_va(l->len, l->page_size);
	unsigned k = 0, m;

	if (!to)
		return hp_fail(-ENOMEM,
			       "node %d: no room for %zu bytes of address space to remap the "
			       "pages in physical order; try --iova=va",
			       l->node, l->len);
	while (k < l->n_pages) {
		for (m = 1; k + m < l->n_pages && fr[k + m].idx == fr[k].idx + m; m++)
			;
		/* the pages stay in the file, already zeroed: nothing is allocated here */
		if (mmap(to + (size_t)k * l->page_size, (size_t)m * l->page_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, l->fd,
			 (off_t)fr[k].idx * (off_t)l->page_size) == MAP_FAILED) {
			munmap(to, l->len);
			return hp_fail(-ENOMEM,
				       "node %d: remapping pages in physical order failed: %s; "
				       "try --iova=va",
				       l->node, strerror(errno));
		}
		k += m;
	}
	munmap(l->base, l->len);
	l->base = to;
	/*
	 * Fill the new page tables in one call (nothing is allocated or zeroed);
	 * MAP_POPULATE on each mmap above costs several times more.
	 */
	if (madvise(l->base, l->len, MADV_POPULATE_WRITE) != 0 && errno != EINVAL)
		return hp_fail(-ENOMEM,
			       "node %d: mapping the remapped pages failed: %s; try --iova=va",
			       l->node, strerror(errno));
	return 0;
}

static void fill_pages(struct mem_list *l, const struct frame *fr)
{
	unsigned i;

	l->n_runs = l->n_pages ? 1 : 0;
	for (i = 0; i < l->n_pages; i++) {
		struct hp_memseg *ms = &l->pages[i];

		ms->va = (char *)l->base + (size_t)i * l->page_size;
		ms->iova = fr ? fr[i].pa : (uint64_t)(uintptr_t)ms->va;
		ms->len = l->page_size;
		ms->page_size = l->page_size;
		ms->node = l->node;
		l->file_page[i] = fr ? fr[i].idx : i;
		if (i && ms->iova != l->pages[i - 1].iova + l->page_size)
			l->n_runs++;
	}
	atomic_store_explicit(&l->n_present, l->n_pages, memory_order_relaxed);
}

int mem_resolve_pages(const struct mem_cfg *cfg, const struct mem_list *l, unsigned first,
		      unsigned n, uint64_t *iova)
{
	int fd, rc = 0;

	if (cfg->mode != HP_IOVA_PA) {
		for (unsigned i = 0; i < n; i++)
			iova[i] =
			    (uint64_t)(uintptr_t)l->base + (uint64_t)(first + i) * l->page_size;
		return 0;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_fail(-EPERM, "cannot open /proc/self/pagemap (%s); use --iova=va",
			       strerror(errno));
	for (unsigned i = 0; i < n && !rc; i++) {
		iova[i] = pagemap_pa(fd, (char *)l->base + (size_t)(first + i) * l->page_size);
		if (iova[i] == HP_BAD_IOVA)
			rc = hp_fail(-EPERM,
				     "node %d: pagemap shows no frame for a page faulted in again; "
				     "IOVA PA needs CAP_SYS_ADMIN, else use --iova=va",
				     l->node);
	}
	close(fd);
	return rc;
}

int mem_resolve_iova(const struct mem_cfg *cfg, struct mem_list *l)
{
	struct frame *fr;
	unsigned i;
	bool sorted = true;
	int rc;

	if (cfg->mode != HP_IOVA_PA) {
		fill_pages(l, NULL);
		return 0;
	}
	fr = malloc(l->n_pages * sizeof(*fr));
	if (!fr)
		return hp_fail(-ENOMEM, "out of memory resolving %u IOVAs", l->n_pages);
	rc = read_frames(l, fr);
	if (!rc) {
		qsort(fr, l->n_pages, sizeof(*fr), frame_cmp);
		for (i = 0; i < l->n_pages && sorted; i++)
			sorted = fr[i].idx == i;
		if (!sorted)
			rc = remap_sorted(l, fr);
	}
	if (!rc)
		fill_pages(l, fr);
	free(fr);
	return rc;
}
