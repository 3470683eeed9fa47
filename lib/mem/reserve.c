/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reserving one memseg list on one node: memfd (or an unlinked hugetlbfs file, or anonymous
 * 4 KiB memory), mapped, bound to the node before any fault, populated from several threads,
 * and every page's node verified. Nothing here is shared: the list is private to the calling
 * thread until memseg.c publishes it. The SIGBUS guard is process-wide while installed, but
 * reservations are serialised by memseg.c, so only one guard is ever installed at a time.
 */
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/memfd.h>

#include "eal/eal_internal.h"
#include "util.h"
#include "mem_reserve.h"

#define POPULATE_THREADS_MAX 4
/*
 * How pages are faulted in by default: madvise(MADV_POPULATE_WRITE) (false) or one store per
 * page under the SIGBUS guard (true); both measured side by side in doc/memory.md. A build
 * with -DPOPULATE_BY_TOUCH=true/false times the other way.
 */
#ifndef POPULATE_BY_TOUCH
#define POPULATE_BY_TOUCH false
#endif

#ifdef HP_TEST_HOOKS
unsigned mem_test_hooks;
#endif

/* " --size 1G" when the page size is not the default one, else "". */
static const char *size_opt(char *buf, size_t len, size_t page_size)
{
	char s[24];

	buf[0] = '\0';
	if (page_size != hp_hugepage_default_size())
		snprintf(buf, len, " --size %s", util_size_arg(s, sizeof(s), page_size));
	return buf;
}

static bool numa_ok(void)
{
	return numa_available() >= 0;
}

static int check_node(int node)
{
	if (node < 0)
		return hp_fail(-ENODEV,
			       "node %d does not exist; nodes are numbered from 0 (see: hp-info)",
			       node);
	if (!numa_ok()) {
		if (node == 0)
			return 0;
		return hp_fail(
		    -ENODEV, "node %d does not exist: this kernel has no NUMA, only node 0", node);
	}
	if (node > numa_max_node())
		return hp_fail(-ENODEV,
			       "node %d does not exist: this machine has nodes 0-%d (see: hp-info)",
			       node, numa_max_node());
	if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node))
		return hp_fail(-ENODEV,
			       "node %d has no memory this process may use (memoryless node, or "
			       "excluded by its cpuset); pick another node (see: hp-info)",
			       node);
	return 0;
}

/* Free and total pages of the node's pool of this page size, from sysfs (0 when absent). */
static void node_pool(size_t page_size, int node, unsigned *free_pages, unsigned *total)
{
	struct hp_hugepage_pool pools[64];
	int i, n = hp_hugepage_pools(pools, 64);

	*free_pages = *total = 0;
	for (i = 0; i < n && i < 64; i++)
		if (pools[i].node == node && pools[i].page_size == page_size) {
			*free_pages = pools[i].free;
			*total = pools[i].total;
		}
}

/*
 * A --huge-dir mount with a size= limit holds at most that many pages, whatever the pool has:
 * -ENOMEM naming the mount when n_pages do not fit in what is left of it, else 0.
 */
static int mount_short(const struct mem_cfg *cfg, int node, size_t n_pages)
{
	char a[32], l[32], f[32];
	struct statfs sfs;

	if (!cfg->huge_dir[0] || statfs(cfg->huge_dir, &sfs) != 0 || sfs.f_blocks == 0 ||
	    n_pages <= sfs.f_bavail)
		return 0; /* f_blocks is 0 on a mount without size= */
	return hp_fail(-ENOMEM,
		       "node %d: asked %s, but the hugetlbfs mount --huge-dir=%s is limited to %s "
		       "(its size= option) and has %s left; remount it with a larger size= "
		       "(mount -o remount,size=SIZE %s) or ask less",
		       node, util_size_str(a, sizeof(a), n_pages * cfg->page_size), cfg->huge_dir,
		       util_size_str(l, sizeof(l), (size_t)sfs.f_blocks * cfg->page_size),
		       util_size_str(f, sizeof(f), (size_t)sfs.f_bavail * cfg->page_size),
		       cfg->huge_dir);
}

/* -ENOMEM with the sentence users need: what was asked, what is free, what to run. */
static int fail_short(const struct mem_cfg *cfg, int node, size_t n_pages, const char *when)
{
	char a[32], f[32], p[32], c[32], o[32];
	unsigned free_pages, total;
	size_t more;
	int rc = mount_short(cfg, node, n_pages);

	if (rc)
		return rc;
	node_pool(cfg->page_size, node, &free_pages, &total);
	more = n_pages > free_pages ? n_pages - free_pages : n_pages;
	return hp_fail(-ENOMEM,
		       "node %d: asked %s, only %s of %s pages free%s; reserve more with: "
		       "hp-info --reserve %d:%s%s",
		       node, util_size_str(a, sizeof(a), (size_t)n_pages * cfg->page_size),
		       util_size_str(f, sizeof(f), (size_t)free_pages * cfg->page_size),
		       util_size_str(p, sizeof(p), cfg->page_size), when, node,
		       util_size_arg(c, sizeof(c), (size_t)(total + more) * cfg->page_size),
		       size_opt(o, sizeof(o), cfg->page_size));
}

/* Fail early, before touching anything, when sysfs already says the node's pool is short. */
static int precheck_free(const struct mem_cfg *cfg, int node, size_t n_pages)
{
	unsigned free_pages, total;

	if (cfg->no_huge || (mem_test_hooks & MEM_HOOK_NO_PRECHECK))
		return 0;
	node_pool(cfg->page_size, node, &free_pages, &total);
	if (free_pages >= n_pages)
		return mount_short(cfg, node, n_pages);
	return fail_short(cfg, node, n_pages, "");
}

static int page_shift(size_t page_size)
{
	return __builtin_ctzl(page_size);
}

int mem_huge_dir_check(const struct mem_cfg *cfg)
{
	struct statfs sfs;
	struct stat st;

	/* statfs() of a file answers for the file system it is on: a file is no mount point */
	if (stat(cfg->huge_dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return hp_fail(-ENOTDIR,
			       "--huge-dir=%s is not a directory; give the directory where "
			       "hugetlbfs is mounted (hp-info lists the mounts), or leave "
			       "--huge-dir out to use memfd",
			       cfg->huge_dir);
	if (statfs(cfg->huge_dir, &sfs) != 0)
		return hp_fail(-EINVAL,
			       "--huge-dir=%s: %s; give a hugetlbfs mount (mount -t hugetlbfs "
			       "nodev DIR)",
			       cfg->huge_dir, strerror(errno));
	if (sfs.f_type != HUGETLBFS_MAGIC)
		return hp_fail(-EINVAL,
			       "--huge-dir=%s is not a hugetlbfs mount; mount one with: "
			       "mount -t hugetlbfs nodev %s",
			       cfg->huge_dir, cfg->huge_dir);
	if ((size_t)sfs.f_bsize != cfg->page_size)
		return hp_fail(-EINVAL,
			       "--huge-dir=%s has %ld KiB pages, not %zu KiB; mount it with "
			       "-o pagesize=%zuK or change --huge-size",
			       cfg->huge_dir, (long)sfs.f_bsize >> 10, cfg->page_size >> 10,
			       cfg->page_size >> 10);
	if (access(cfg->huge_dir, W_OK | X_OK) != 0)
		return hp_fail(-EPERM,
			       "--huge-dir=%s: this process may not create files there (%s); "
			       "check the mount's owner and mode (mount -o uid=,gid=,mode=)",
			       cfg->huge_dir, strerror(errno));
	return 0;
}

/* An unlinked file on the hugetlbfs mount: O_TMPFILE never has a name, so kill -9 leaks nothing. */
static int open_dir_file(const struct mem_cfg *cfg, int node)
{
	char path[PATH_MAX + 96];
	int fd, rc = mem_huge_dir_check(cfg);

	if (rc)
		return rc;
	fd = open(cfg->huge_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* old kernel without O_TMPFILE on hugetlbfs: a name for an instant, unlinked at once */
	snprintf(path, sizeof(path), "%s/%s-node%d-XXXXXX", cfg->huge_dir, cfg->prefix, node);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return hp_fail(errno == EACCES ? -EPERM : -EINVAL,
			       "--huge-dir=%s: cannot create a file: "
			       "%s; check the mount's permissions",
			       cfg->huge_dir, strerror(errno));
	unlink(path);
	return fd;
}

static int open_backing(const struct mem_cfg *cfg, int node, size_t len)
{
	char name[96];
	int fd, err;

	if (cfg->huge_dir[0]) {
		fd = open_dir_file(cfg, node);
	} else {
		snprintf(name, sizeof(name), "%s-node%d", cfg->prefix, node);
		fd = memfd_create(name,
				  MFD_CLOEXEC | MFD_HUGETLB |
				      ((unsigned)page_shift(cfg->page_size) << MFD_HUGE_SHIFT));
		if (fd < 0)
			return hp_fail(
			    errno == EINVAL ? -EINVAL : -ENOMEM,
			    "memfd_create of %zu KiB hugepages failed: %s; check the page size "
			    "with: hp-info",
			    cfg->page_size >> 10, strerror(errno));
	}
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)len) != 0) {
		err = errno;
		close(fd);
		return hp_fail(-ENOMEM, "node %d: sizing the hugepage file to %zu bytes failed: %s",
			       node, len, strerror(err));
	}
	return fd;
}

/* Bind [va, va + len) to node before anything faults in it. */
static int bind_node(void *va, size_t len, int node)
{
	unsigned long mask[(HP_MAX_NUMA_NODES + 63) / 64 + 1] = {0};

	if (!numa_ok())
		return 0;
	if (node >= (int)(sizeof(mask) * 8))
		return hp_fail(-ENODEV,
			       "node %d is beyond the nodes this build tracks; rebuild with "
			       "-Dmax_numa_nodes=%d",
			       node, node + 1);
	mask[node / 64] = 1UL << (node % 64);
	if (mbind(va, len, MPOL_BIND, mask, sizeof(mask) * 8, 0) != 0)
		return hp_fail(-ENOMEM,
			       "node %d: mbind failed: %s; check the process's cpuset "
			       "(cat /proc/self/status | grep Mems)",
			       node, strerror(errno));
	return 0;
}

/* ---- Population: madvise(MADV_POPULATE_WRITE), or touching under a SIGBUS guard ------------ */

/* volatile: the stores around the touch loop must not be merged or moved across it */
static __thread sigjmp_buf *volatile guard_jmp;
static struct sigaction guard_old;

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (guard_jmp)
		siglongjmp(*guard_jmp, 1);
	/* not a populating thread: put the old action back; the faulting access repeats under it */
	sigaction(sig, &guard_old, NULL);
}

static int guard_install(void)
{
	struct sigaction sa = {.sa_sigaction = guard_handler, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &guard_old) != 0)
		return hp_fail(-EINVAL, "cannot install the SIGBUS guard: %s", strerror(errno));
	return 0;
}

static void guard_remove(void)
{
	sigaction(SIGBUS, &guard_old, NULL);
}

/* Touch one byte of every page; a SIGBUS (pool empty at fault time) becomes -ENOMEM. */
static int touch_range(char *va, size_t len, size_t page_size)
{
	sigjmp_buf jb;
	volatile size_t off = 0;

	if (sigsetjmp(jb, 1)) {
		guard_jmp = NULL;
		return -ENOMEM;
	}
	guard_jmp = &jb;
	for (; off < len; off += page_size)
		*(volatile char *)(va + off) = 0;
	guard_jmp = NULL;
	return 0;
}

static int populate_range(char *va, size_t len, size_t page_size, bool touch)
{
	while (!touch) {
		if (madvise(va, len, MADV_POPULATE_WRITE) == 0)
			return 0;
		if (errno == EINVAL)
			break; /* kernel before 5.14: no MADV_POPULATE_WRITE */
		if (errno != EINTR)
			return -ENOMEM; /* ENOMEM, or EFAULT where a fault would have raised SIGBUS
					 */
	}
	return touch_range(va, len, page_size);
}

struct pop_job {
	char *va;
	size_t len, page_size;
	int node;
	bool touch;
	int err;
	pthread_t tid;
};

static void *pop_worker(void *arg)
{
	struct pop_job *j = arg;

	/* zero the pages from a CPU of their node; placement itself is fixed by the mbind */
	if (numa_ok())
		numa_run_on_node(j->node);
	j->err = populate_range(j->va, j->len, j->page_size, j->touch);
	return NULL;
}

static unsigned node_cpus(int node)
{
	struct bitmask *m;
	unsigned n;

	if (!numa_ok())
		return (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	m = numa_allocate_cpumask();
	if (!m)
		return 1;
	n = numa_node_to_cpus(node, m) == 0 ? numa_bitmask_weight(m) : 1;
	numa_free_cpumask(m);
	return n ? n : 1;
}

/* The default method, unless a test forces one (MEM_HOOK_TOUCH, MEM_HOOK_MADVISE). */
static bool populate_by_touch(void)
{
	if (mem_test_hooks & MEM_HOOK_TOUCH)
		return true;
	if (mem_test_hooks & MEM_HOOK_MADVISE)
		return false;
	return POPULATE_BY_TOUCH;
}

/* Split the range over min(node's CPUs, 4, pages) threads; this thread takes the last slice. */
static int populate(char *va, size_t page_size, int node, unsigned n_pages)
{
	struct pop_job jobs[POPULATE_THREADS_MAX];
	bool touch = populate_by_touch();
	unsigned nt = node_cpus(node), i, started = 0, per, first = 0;
	int err = 0;

	if (nt > POPULATE_THREADS_MAX)
		nt = POPULATE_THREADS_MAX;
	if (nt > n_pages)
		nt = n_pages;
	per = n_pages / nt;
	err = guard_install();
	if (err)
		return err;
	for (i = 0; i < nt; i++) {
		unsigned cnt = i == nt - 1 ? n_pages - first : per;

		jobs[i] = (struct pop_job){.va = va + (size_t)first * page_size,
					   .len = (size_t)cnt * page_size,
					   .page_size = page_size,
					   .node = node,
					   .touch = touch};
		first += cnt;
	}
	for (i = 0; i + 1 < nt; i++) {
		if (pthread_create(&jobs[i].tid, NULL, pop_worker, &jobs[i]) != 0)
			break;
		started++;
	}
	/* slices whose thread did not start are done here */
	for (i = started; i < nt; i++) {
		jobs[i].err = populate_range(jobs[i].va, jobs[i].len, page_size, touch);
#ifdef HP_TEST_HOOKS
		if (mem_test_hooks & MEM_HOOK_STOP)
			raise(SIGSTOP);
#endif
	}
	for (i = 0; i < started; i++)
		pthread_join(jobs[i].tid, NULL);
	guard_remove();
	for (i = 0; i < nt; i++)
		if (jobs[i].err)
			err = jobs[i].err;
	return err;
}

/* ---- Verification --------------------------------------------------------------------------- */

/* Every page must be on node: a page elsewhere is an error, never a silent success. */
static int verify_pages(const struct mem_list *l, unsigned first, unsigned n_pages)
{
	void **addr = malloc(n_pages * sizeof(*addr));
	int *status = malloc(n_pages * sizeof(*status));
	unsigned i, bad = 0;
	int where = -1, rc = 0;

	if (!addr || !status) {
		rc = hp_fail(-ENOMEM, "out of memory verifying %u pages", n_pages);
		goto out;
	}
	for (i = 0; i < n_pages; i++)
		addr[i] = (char *)l->base + (size_t)(first + i) * l->page_size;
	if (move_pages(0, n_pages, addr, NULL, status, 0) != 0) {
		rc = hp_fail(-ENOMEM, "node %d: cannot check where the pages are (move_pages: %s)",
			     l->node, strerror(errno));
		goto out;
	}
	for (i = 0; i < n_pages; i++)
		if (status[i] != l->node) {
			if (!bad++)
				where = status[i];
		}
	if (bad)
		rc = hp_fail(-ENOMEM,
			     "node %d: %u of %u pages landed elsewhere (first: %s %d); the "
			     "node's pool is short or the cpuset forbids it: check with hp-info",
			     l->node, bad, n_pages, where < 0 ? "error" : "node",
			     where < 0 ? -where : where);
out:
	free(addr);
	free(status);
	return rc;
}

/* ---- One list ------------------------------------------------------------------------------- */

static int map_list(const struct mem_cfg *cfg, struct mem_list *l)
{
	int flags = MAP_SHARED;

	if (cfg->no_huge) {
		l->base =
		    mmap(NULL, l->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		l->fd = open_backing(cfg, l->node, l->len);
		if (l->fd < 0)
			return l->fd;
		if (mem_test_hooks & MEM_HOOK_NORESERVE)
			flags |= MAP_NORESERVE;
		l->base = mmap(NULL, l->len, PROT_READ | PROT_WRITE, flags, l->fd, 0);
	}
	if (l->base == MAP_FAILED) {
		l->base = NULL;
		if (cfg->no_huge)
			return hp_fail(-ENOMEM,
				       "node %d: mapping %zu bytes of ordinary memory failed: %s",
				       l->node, l->len, strerror(errno));
		/* the kernel reserves the whole file at mmap: too few free pages system-wide */
		return fail_short(cfg, l->node, l->n_pages, " (mmap could not reserve them)");
	}
	return 0;
}

void mem_list_destroy(struct mem_list *l)
{
	if (!l)
		return;
	if (l->base)
		munmap(l->base, l->len);
	if (l->fd >= 0)
		close(l->fd);
	free(l->pages);
	free(l->file_page);
	free(l);
}

static struct mem_list *list_new(const struct mem_cfg *cfg, int node, size_t len)
{
	struct mem_list *l = calloc(1, sizeof(*l));

	if (!l)
		return hp_fail_ptr(-ENOMEM, "out of memory for a memseg list");
	l->fd = -1;
	l->node = node;
	l->page_size = cfg->page_size;
	l->n_pages = (unsigned)(len / cfg->page_size);
	l->len = len;
	l->pages = calloc(l->n_pages, sizeof(*l->pages));
	l->file_page = calloc(l->n_pages, sizeof(*l->file_page));
	if (!l->pages || !l->file_page) {
		free(l->pages);
		free(l->file_page);
		free(l);
		return hp_fail_ptr(-ENOMEM, "out of memory for %u memsegs",
				   (unsigned)(len / cfg->page_size));
	}
	return l;
}

/*
 * The size checks, in the order that names the real limit first: nothing asked, more than the
 * node has at all, more than its pool has free (sysfs, or a --huge-dir mount's size=), and
 * only then the build's memseg limit.
 */
static int check_size(const struct mem_cfg *cfg, int node, size_t len)
{
	size_t n = len / cfg->page_size + (len % cfg->page_size != 0);
	long long node_bytes = numa_ok()
				   ? numa_node_size64(node, NULL)
				   : (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	char a[32], m[32];
	int rc;

	if (len == 0)
		return hp_fail(-EINVAL,
			       "node %d: asked to reserve 0 bytes; ask for at least one page "
			       "(%zu KiB)",
			       node, cfg->page_size >> 10);
	if (node_bytes > 0 && len > (unsigned long long)node_bytes)
		return hp_fail(
		    -ENOMEM, "node %d: asked %s, more than the node's whole memory (%s); ask less",
		    node, util_size_str(a, sizeof(a), len),
		    util_size_str(m, sizeof(m), (size_t)node_bytes));
	rc = precheck_free(cfg, node, n);
	if (rc)
		return rc;
	if (n > UINT_MAX || n + mem_total_pages() > HP_MAX_MEMSEGS)
		return hp_fail(
		    -ENOMEM,
		    "node %d: %zu more pages would pass the build's limit of %d "
		    "memsegs; use bigger pages (--huge-size) or rebuild with -Dmax_memsegs=N",
		    node, n, HP_MAX_MEMSEGS);
	return 0;
}

/* Milliseconds since *t, which becomes now. */
static double lap(uint64_t *t)
{
	uint64_t now = util_now_ns();
	double ms = (double)(now - *t) / 1e6;

	*t = now;
	return ms;
}

int mem_reserve(const struct mem_cfg *cfg, int node, size_t len, struct mem_list **out)
{
	struct mem_list *l;
	uint64_t t;
	double ms[4] = {0};
	int rc;

	rc = check_node(node);
	if (!rc)
		rc = check_size(cfg, node, len);
	if (rc)
		return rc;
	len = HP_ALIGN_UP(len, cfg->page_size); /* cannot wrap: len fits in the node's memory */
	l = list_new(cfg, node, len);
	if (!l)
		return -errno;
	t = util_now_ns();
	rc = map_list(cfg, l);
	if (!rc)
		rc = bind_node(l->base, l->len, node);
	ms[0] = lap(&t);
	if (!rc) {
		rc = populate(l->base, l->page_size, node, l->n_pages);
		ms[1] = lap(&t);
		if (rc == -ENOMEM) {
			/* give the pages back first, so the sentence shows what is really free */
			mem_list_destroy(l);
			if (cfg->no_huge)
				return hp_fail(rc,
					       "node %d: out of memory faulting in %zu bytes; free "
					       "memory or ask less",
					       node, len);
			return fail_short(cfg, node, len / cfg->page_size,
					  " when faulting them in");
		}
	}
	if (!rc && numa_ok())
		rc = verify_pages(l, 0, l->n_pages);
	ms[2] = lap(&t);
	if (!rc)
		rc = mem_resolve_iova(cfg, l);
	ms[3] = lap(&t);
	/* a forked child gets none of it, not even the range (lib/eal/fork.c) */
	if (!rc && madvise(l->base, l->len, MADV_DONTFORK))
		rc = hp_fail(-errno, "node %d: madvise(MADV_DONTFORK) of %zu bytes failed: %s",
			     node, l->len, strerror(errno));
	if (rc) {
		mem_list_destroy(l);
		return rc;
	}
	HP_LOG_D("node %d: map %.1f ms, populate %.1f ms, verify %.1f ms, iova %.1f ms", node,
		 ms[0], ms[1], ms[2], ms[3]);
	*out = l;
	return 0;
}

/* ---- Pages of a published list going back to the kernel and coming again ------------------- */

void mem_punch_pages(struct mem_list *l, unsigned first, unsigned n)
{
	char *va = (char *)l->base + (size_t)first * l->page_size;
	size_t len = (size_t)n * l->page_size;
	unsigned i, m;

	/* a stray access to pages that went back faults instead of taking a page again */
	mprotect(va, len, PROT_NONE);
	if (l->fd < 0) {
		madvise(va, len, MADV_DONTNEED);
		return;
	}
	for (i = 0; i < n; i += m) {
		unsigned fp = l->file_page[first + i];

		for (m = 1; i + m < n && l->file_page[first + i + m] == fp + m; m++)
			;
		if (fallocate(l->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)fp * (off_t)l->page_size, (off_t)m * (off_t)l->page_size))
			HP_LOG_W("node %d: punching %u pages out of the backing file failed: %s; "
				 "they stay held until hp_cleanup()",
				 l->node, m, strerror(errno));
	}
}

int mem_fill_pages(const struct mem_cfg *cfg, struct mem_list *l, unsigned first, unsigned n,
		   uint64_t *iova)
{
	char *va = (char *)l->base + (size_t)first * l->page_size;
	int rc;

	if (mprotect(va, (size_t)n * l->page_size, PROT_READ | PROT_WRITE))
		return hp_fail(-ENOMEM, "node %d: cannot map pages again: %s", l->node,
			       strerror(errno));
	/* the mbind of the whole list still holds for these pages */
	rc = populate(va, l->page_size, l->node, n);
	if (rc == -ENOMEM)
		rc = fail_short(cfg, l->node, n, " when faulting them in again");
	if (!rc && numa_ok())
		rc = verify_pages(l, first, n);
	if (!rc)
		rc = mem_resolve_pages(cfg, l, first, n, iova);
	if (rc)
		mem_punch_pages(l, first, n);
	return rc;
}
