/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem: reservation per node, page placement, IOVAs against pagemap read here, contiguous
 * runs, errors that leave nothing behind, --no-huge, --huge-dir, 1 GiB pages, hp_mem_grow and
 * its event, and kill -9 during init and during use. Every check compares the library with the
 * kernel's own counters (sysfs, /proc/meminfo, pagemap, get_mempolicy), never with itself.
 */
#include <fcntl.h>
#include <dirent.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test.h"
#include "mem/mem_internal.h"

#define MB (1UL << 20)
#define GB (1UL << 30)

static size_t hpsz(void)
{
	return hp_test_default_page_size();
}

/* true when node 0 has mb MiB of free default-size hugepages */
static bool have_huge(unsigned mb)
{
	size_t ps = hpsz();

	return ps && (uint64_t)hp_test_free_hugepages(0, ps) * ps >= (uint64_t)mb * MB;
}

/*
 * Skips unless node 0 has need_mb MiB of free hugepages; else mounts a hugetlbfs (mount_opts as
 * hp_test_mount_hugetlbfs() takes them) and writes "--huge-dir=DIR --socket-mem=socket_mb" to
 * opts. Returns DIR.
 */
static const char *huge_dir_opts(char *opts, size_t len, unsigned need_mb, const char *mount_opts,
				 unsigned socket_mb)
{
	const char *dir;

	if (!have_huge(need_mb))
		hp_test_skip("needs %u MiB of free hugepages on node 0", need_mb);
	dir = hp_test_mount_hugetlbfs(0, mount_opts);
	snprintf(opts, len, "--huge-dir=%s --socket-mem=%u", dir, socket_mb);
	return dir;
}

/* Hugepages this process maps now, in KiB (HugetlbPages of /proc/self/status): unlike the
 * machine-wide counters it does not move when other processes use hugepages meanwhile. */
static long pid_held_kb(pid_t pid)
{
	char line[256];
	long kb = -1;
	FILE *f;

	snprintf(line, sizeof(line), "/proc/%d/status", (int)pid);
	f = fopen(line, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugetlbPages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long held_kb(void)
{
	return pid_held_kb(getpid());
}

/* Open descriptors of this process that are hugepool memfds. */
static unsigned hugepool_fds(void)
{
	char path[300], target[256];
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	ssize_t len;

	assert_non_null(d);
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strstr(target, "memfd:hugepool") != NULL;
		}
	}
	closedir(d);
	return n;
}

/* Every test starts and ends with the runtime stopped and no hook set. */
static int stop_runtime(void **state)
{
	(void)state;
	hp_test_mem_hooks(0);
	hp_mem_event_unregister("test");
	hp_cleanup();
	return hp_test_unmount_hugetlbfs();
}

static void init_ok(const char *opts)
{
	int rc = hp_test_init_str(opts);

	if (rc < 0)
		fail_msg("hp_init(%s) failed: %d: %s", opts, rc, hp_last_error());
}

/* ---- placement and IOVA --------------------------------------------------------------------- */

struct page_check {
	int node;
	bool pa;
	unsigned pages, wrong_node, wrong_iova;
	size_t bytes;
};

static int check_page(const struct hp_memseg *ms, void *arg)
{
	struct page_check *c = arg;
	int node = -1;

	c->pages++;
	c->bytes += ms->len;
	if (get_mempolicy(&node, NULL, 0, ms->va, MPOL_F_NODE | MPOL_F_ADDR) != 0 ||
	    node != c->node || ms->node != c->node)
		c->wrong_node++;
	if (c->pa ? ms->iova != hp_test_pagemap_pfn(ms->va) * 4096
		  : ms->iova != (uint64_t)(uintptr_t)ms->va)
		c->wrong_iova++;
	if (hp_mem_virt2iova((char *)ms->va + 100) != ms->iova + 100)
		c->wrong_iova++;
	return 0;
}

static void test_every_page_is_on_its_node_with_the_iova_pagemap_gives(void **state)
{
	struct page_check c = {.node = 0};
	bool huge = hp_test_init(64, "--socket-mem=64");

	(void)state;
	c.pa = hp_iova_mode() == HP_IOVA_PA;
	if (huge && !c.pa && hp_test_can_read_pfn())
		fail_msg("frames are readable here but --iova=auto chose VA");
	assert_int_equal(hp_memseg_walk(check_page, &c), 0);
	assert_int_equal(c.bytes, 64 * MB);
	assert_int_equal(hp_mem_reserved(0), 64 * MB);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 64 * MB);
	assert_int_equal(c.pages, 64 * MB / hp_mem_page_size());
	assert_int_equal(c.wrong_node, 0);
	assert_int_equal(c.wrong_iova, 0);
	hp_cleanup();
	if (!c.pa)
		hp_test_skip("IOVA checked as VA only: %s", huge
								? "pagemap hides frame numbers here"
								: "no hugepages (--no-huge)");
}

struct run_check {
	const struct mem_list *prev_list;
	char *next_va;
	unsigned runs, broken, pages;
	size_t bytes;
};

static int check_run(const struct hp_memseg *run, void *arg)
{
	struct run_check *rc = arg;
	size_t off;

	rc->runs++;
	rc->bytes += run->len;
	for (off = 0; off < run->len; off += run->page_size) {
		const char *va = (const char *)run->va + off;

		rc->pages++;
		if (hp_mem_virt2iova(va) != run->iova + off)
			rc->broken++;
		if (hp_iova_mode() == HP_IOVA_PA &&
		    hp_test_pagemap_pfn(va) * 4096 != run->iova + off)
			rc->broken++;
	}
	/* runs are maximal: the next page of the same list must break IOVA contiguity */
	if (mem_list_of(run->va) == mem_list_of((char *)run->va + run->len) &&
	    hp_mem_virt2iova((char *)run->va + run->len) == run->iova + run->len)
		rc->broken++;
	return 0;
}

static void test_contig_runs_are_contiguous_in_va_and_iova_and_cover_every_page(void **state)
{
	struct run_check rc = {0};
	unsigned i, n, runs = 0;

	(void)state;
	hp_test_init(256, "--socket-mem=256");
	assert_int_equal(hp_memseg_contig_walk(check_run, &rc), 0);
	n = atomic_load(&mem_nlists);
	for (i = 0; i < n; i++)
		runs += mem_lists[i]->n_runs;
	hp_test_note("%u runs over %u pages", rc.runs, rc.pages);
	assert_int_equal(rc.bytes, 256 * MB);
	assert_int_equal(rc.pages, 256 * MB / hp_mem_page_size());
	assert_int_equal(rc.broken, 0);
	assert_int_equal(rc.runs, runs);
	assert_true(mem_range_iova_contig(mem_lists[0]->base, hp_mem_page_size()));
	hp_cleanup();
}

/* ---- errors leave nothing behind ------------------------------------------------------------ */

static void expect_failure(const char *opts, int err, const char *words)
{
	int rc = hp_test_init_str(opts);

	if (rc >= 0)
		hp_cleanup();
	assert_int_equal(rc, err);
	if (!strstr(hp_last_error(), words))
		fail_msg("hp_init(%s): sentence '%s' does not say '%s'", opts, hp_last_error(),
			 words);
	assert_int_equal(held_kb(), 0);
	assert_int_equal(hugepool_fds(), 0);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
	assert_int_equal(atomic_load(&mem_nlists), 0);
}

static void test_nonexistent_node_fails_with_enodev_and_reserves_nothing(void **state)
{
	char opts[64];

	(void)state;
	if (!have_huge(4))
		hp_test_skip("needs 4 MiB of free hugepages on node 0");
	snprintf(opts, sizeof(opts), "--socket-mem=0,%d", 64);
	if (numa_max_node() >= 1)
		hp_test_skip(
		    "this machine has a node 1: the nonexistent-node case needs a 1-node machine");
	expect_failure("--socket-mem=4,4", -ENODEV, "node 1");
	expect_failure(opts, -ENODEV, "node 1 does not exist");
}

#define EXPECT_ENODEV(call)                                                                        \
	do {                                                                                       \
		errno = 0;                                                                         \
		assert_null(call);                                                                 \
		assert_int_equal(errno, ENODEV);                                                   \
		assert_non_null(strstr(hp_last_error(), "does not exist"));                        \
	} while (0)

/* One errno for a node that does not exist, in every call that takes a node. */
static void test_a_node_that_does_not_exist_is_enodev_in_every_call(void **state)
{
	int nodes = numa_available() < 0 ? 1 : numa_max_node() + 1;
	int bad[] = {nodes, nodes + 7, 1000, -5};

	(void)state;
	init_ok("--no-huge");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = bad[i];

		assert_int_equal(hp_mem_grow(n, 4096), -ENODEV);
		assert_int_equal(hp_hugepage_set(n, 2 * MB, 0), -ENODEV);
		EXPECT_ENODEV(hp_memzone_reserve("no_node", 4096, n, 0, 0));
		EXPECT_ENODEV(hp_malloc(64, 0, n));
		EXPECT_ENODEV(hp_ring_create("no_node", 64, n, 0));
		EXPECT_ENODEV(hp_mempool_create("no_node", 64, 64, 0, n, 0));
		EXPECT_ENODEV(hp_mempool_cache_create(32, n));
		EXPECT_ENODEV(hp_pktbuf_pool_create("no_node", 64, 0, 0, 2048, n));
	}
}

static void test_more_than_the_node_has_fails_with_enomem_and_a_command(void **state)
{
	char opts[64];
	size_t ps = hpsz();
	unsigned free_mb;

	(void)state;
	if (!ps)
		hp_test_skip("no hugepages on this machine");
	free_mb = (unsigned)(hp_test_free_hugepages(0, ps) * (ps / MB));
	snprintf(opts, sizeof(opts), "--socket-mem=%u", free_mb + 64);
	expect_failure(opts, -ENOMEM, "hp-info --reserve 0:");
}

static void test_zero_size_grow_fails_with_einval(void **state)
{
	(void)state;
	hp_test_init(4, "%s", "");
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
	assert_int_equal(hp_mem_grow(0, 0), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "len is 0"));
	assert_int_equal(hp_mem_grow(HP_NODE_ANY, 4 * MB), -EINVAL);
	assert_int_equal(hp_mem_grow(7, 4 * MB), -ENODEV);
	assert_non_null(strstr(hp_last_error(), "node 7"));
	assert_int_equal(held_kb(), 0);
	hp_cleanup();
	assert_int_equal(hp_mem_grow(0, 4 * MB), -EINVAL);
}

static void test_cleanup_gives_every_page_back(void **state)
{
	(void)state;
	if (!have_huge(160))
		hp_test_skip("needs 160 MiB of free hugepages on node 0");
	init_ok("--socket-mem=128");
	assert_int_equal(held_kb(), 128 * 1024);
	assert_int_equal(hp_mem_grow(0, 32 * MB), 0);
	assert_int_equal(held_kb(), 160 * 1024);
	assert_int_equal(hugepool_fds(), 2);
	assert_int_equal(hp_cleanup(), 0);
	assert_int_equal(held_kb(), 0);
	assert_int_equal(hugepool_fds(), 0);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
	assert_int_equal(hp_mem_page_size(), 0);
	assert_int_equal(hp_cleanup(), 0);
}

/* ---- modes ---------------------------------------------------------------------------------- */

static void test_no_huge_works_without_any_hugepage(void **state)
{
	struct page_check c = {.node = 0};
	char *p;

	(void)state;
	init_ok("--no-huge --socket-mem=16");
	assert_int_equal(hp_mem_page_size(), 4096);
	assert_int_equal(hp_iova_mode(), HP_IOVA_VA);
	assert_int_equal(hp_mem_reserved(0), 16 * MB);
	assert_int_equal(held_kb(), 0);
	assert_int_equal(hp_memseg_walk(check_page, &c), 0);
	assert_int_equal(c.pages, 16 * MB / 4096);
	assert_int_equal(c.wrong_node + c.wrong_iova, 0);
	p = mem_lists[0]->base;
	memset(p, 0xa5, 16 * MB);
	assert_int_equal(mem_lists[0]->n_runs, 1);
	assert_int_equal(hp_mem_grow(0, 8192), 0);
	assert_int_equal(hp_mem_reserved(0), 16 * MB + 8192);
	hp_cleanup();
	expect_failure("--no-huge --iova=pa --socket-mem=4", -EINVAL, "--iova=pa");
}

static void test_huge_dir_leaves_no_file_on_the_mount(void **state)
{
	const char *dir;
	char opts[128];

	(void)state;
	dir = huge_dir_opts(opts, sizeof(opts), 16, NULL, 16);
	init_ok(opts);
	assert_int_equal(hp_mem_reserved(0), 16 * MB);
	assert_true(mem_lists[0]->fd >= 0);
	assert_true(!hp_test_dir_entries(dir));
	hp_cleanup();
	assert_true(!hp_test_dir_entries(dir));
	assert_int_equal(held_kb(), 0);
	expect_failure("--huge-dir=/tmp --socket-mem=4", -EINVAL, "not a hugetlbfs mount");
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

static void test_one_gib_pages_work_where_the_pool_has_them(void **state)
{
	struct page_check c = {.node = 0};
	unsigned before = hp_test_free_hugepages(0, GB);

	(void)state;
	if (before < 1)
		hp_test_skip(
		    "node 0 has no free 1 GiB page (/sys/kernel/mm/hugepages/hugepages-1048576kB)");
	init_ok("--huge-size=1G --socket-mem=1024");
	c.pa = hp_iova_mode() == HP_IOVA_PA;
	assert_int_equal(hp_mem_page_size(), GB);
	assert_int_equal(held_kb(), 1024 * 1024);
	assert_int_equal(hp_memseg_walk(check_page, &c), 0);
	assert_int_equal(c.pages, 1);
	assert_int_equal(c.wrong_node + c.wrong_iova, 0);
	hp_cleanup();
	assert_int_equal(held_kb(), 0);
}

/* ---- grow and events ------------------------------------------------------------------------ */

struct ev_log {
	unsigned alloc, freed;
	const void *va, *first_freed;
	size_t len;
	bool found_during_cb;
};

static void on_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	struct ev_log *l = arg;

	if (ev == HP_MEM_EVENT_ALLOC) {
		l->alloc++;
		l->va = va;
		l->len = len;
		l->found_during_cb = mem_list_of(va) != NULL;
	} else {
		if (!l->freed++)
			l->first_freed = va;
		l->found_during_cb &= mem_list_of(va) != NULL;
	}
}

static void test_grow_adds_a_list_and_fires_the_event(void **state)
{
	struct ev_log log = {0};
	unsigned lists;

	(void)state;
	hp_test_init(64, "--socket-mem=16");
	lists = atomic_load(&mem_nlists);
	assert_int_equal(hp_mem_event_register("test", on_event, &log), 0);
	assert_int_equal(hp_mem_event_register("test", on_event, &log), -EEXIST);
	assert_int_equal(hp_mem_grow(0, 3 * hp_mem_page_size() - 1), 0);
	assert_int_equal(atomic_load(&mem_nlists), lists + 1);
	assert_int_equal(log.alloc, 1);
	assert_true(log.found_during_cb);
	assert_int_equal(log.len, 3 * hp_mem_page_size());
	assert_ptr_equal(mem_list_of(log.va), mem_lists[lists]);
	assert_int_equal(hp_mem_reserved(0), 16 * MB + 3 * hp_mem_page_size());
	assert_int_equal(hp_mem_node_of(log.va), 0);
	hp_cleanup();
	assert_int_equal(log.freed, lists + 1);
	assert_ptr_equal(log.first_freed, log.va); /* newest first, while still published */
	assert_true(log.found_during_cb);
	assert_int_equal(hp_mem_event_unregister("test"), 0);
	assert_int_equal(hp_mem_event_unregister("test"), -ENOENT);
	assert_int_equal(hp_mem_event_unregister(NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "name is NULL"));
}

static void test_virt2phy_reads_a_stack_address(void **state)
{
	volatile int on_stack = 42;
	uint64_t pfn = hp_test_pagemap_pfn((const void *)&on_stack);
	uint64_t pa = hp_mem_virt2phy((const void *)&on_stack);

	(void)state;
	if (!hp_test_can_read_pfn()) {
		assert_int_equal(pa, HP_BAD_IOVA);
		hp_test_skip("pagemap hides frame numbers from this process");
	}
	assert_int_equal(pa, pfn * 4096 + ((uintptr_t)&on_stack & 4095));
	assert_int_equal(hp_mem_virt2iova((const void *)&on_stack), HP_BAD_IOVA);
	assert_in_range(hp_mem_node_of((const void *)&on_stack), 0, numa_max_node());
	assert_int_equal(hp_mem_node_of(NULL), -EINVAL);
}

/* Drop CAP_SYS_ADMIN from this process's effective set: pagemap then hides frame numbers. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

static void test_iova_pa_without_frames_is_eperm_and_auto_falls_back_to_va(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	if (!have_huge(4))
		hp_test_skip("needs 4 MiB of free hugepages on node 0");
	if (!hp_test_can_read_pfn())
		hp_test_skip("frames are hidden already: PA mode cannot be checked against them");
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* exit codes say which step broke: 1 capset, 2 pa accepted, 3 no sentence, 4 auto
		 */
		if (drop_sys_admin() != 0 || hp_test_can_read_pfn())
			_exit(1);
		if (hp_test_init_str("--iova=pa --socket-mem=4") != -EPERM)
			_exit(2);
		if (!strstr(hp_last_error(), "--iova=va"))
			_exit(3);
		if (hp_test_init_str("--socket-mem=4") < 0 || hp_iova_mode() != HP_IOVA_VA ||
		    hp_mem_virt2iova(mem_lists[0]->base) != (uintptr_t)mem_lists[0]->base)
			_exit(4);
		hp_cleanup();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- population paths and an empty pool ----------------------------------------------------- */

/*
 * Pages that hold anything but zeroes: what the kernel hands out, whichever way it was faulted.
 * The first two words of a page are left out: the buddy allocator keeps the links of a free
 * block there, and after init a free block starts at the list's first page.
 */
static int count_dirty_page(const struct hp_memseg *ms, void *arg)
{
	const uint64_t *w = ms->va;
	size_t i;

	for (i = 2; i < ms->len / sizeof(*w); i++)
		if (w[i]) {
			(*(unsigned *)arg)++;
			break;
		}
	return 0;
}

/*
 * Populating with the method the hooks in *state force gives every page on node 0, its IOVA, all
 * zeroes.
 */
static void populating_gives_the_same_pages(void **state)
{
	unsigned hooks = *(unsigned *)*state;
	struct page_check c = {.node = 0};
	unsigned dirty = 0;

	if (!have_huge(64))
		hp_test_skip("needs 64 MiB of free hugepages on node 0");
	hp_test_mem_hooks(hooks);
	init_ok("--socket-mem=64");
	hp_test_mem_hooks(0);
	c.pa = hp_iova_mode() == HP_IOVA_PA;
	assert_int_equal(hp_memseg_walk(check_page, &c), 0);
	assert_int_equal(c.pages, 64 * MB / hpsz());
	assert_int_equal(c.wrong_node + c.wrong_iova, 0);
	assert_int_equal(hp_memseg_walk(count_dirty_page, &dirty), 0);
	assert_int_equal(dirty, 0);
	hp_cleanup();
}

/*
 * An empty pool at fault time (no up-front check, no mmap reservation) is -ENOMEM, not SIGBUS,
 * whichever way the hooks in *state populate.
 */
static void short_pool_at_fault_time(void **state)
{
	unsigned hooks = *(unsigned *)*state;
	char opts[64];
	unsigned before = hp_test_dry_pool_opts(opts, sizeof(opts));

	hp_test_dry_pool_fails_enomem(opts, hooks, before);
	assert_int_equal(held_kb(), 0);
	assert_int_equal(hugepool_fds(), 0);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
}

/* ---- kill -9 -------------------------------------------------------------------------------- */

/*
 * A child starts the runtime with opts and stops (SIGSTOP) during init (hooks) or after it;
 * the parent checks the child holds pages, kills it with SIGKILL and checks every page and
 * the mount table came back. dir, if given, must stay empty throughout.
 */
static void kill_child(const char *opts, long mb, unsigned hooks, const char *dir)
{
	struct hp_test_leak_check c;
	int st;
	pid_t pid;

	if (hooks && !hp_test_have_hooks())
		hp_test_skip(HP_TEST_NO_HOOKS);
	hp_test_leak_check_start(&c);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		hp_test_mem_hooks(hooks);
		if (hp_test_init_str(opts) < 0) {
			fprintf(stderr, "child: hp_init(%s): %s\n", opts, hp_last_error());
			_exit(2);
		}
		raise(SIGSTOP);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	if (!WIFSTOPPED(st)) {
		fail_msg("child did not stop (status 0x%x)", st);
	}
	/* stopped halfway through populating: some pages faulted in; after init: all */
	if (hooks & MEM_HOOK_STOP)
		assert_in_range(pid_held_kb(pid), 1, mb * 1024);
	else
		assert_int_equal(pid_held_kb(pid), mb * 1024);
	if (dir)
		assert_true(!hp_test_dir_entries(dir));
	hp_test_kill_and_check(pid, &c, dir);
}

static void test_kill_during_init_leaks_nothing(void **state)
{
	(void)state;
	if (!have_huge(1024))
		hp_test_skip("needs 1 GiB of free hugepages on node 0");
	kill_child("--socket-mem=1024", 1024, MEM_HOOK_STOP, NULL);
}

static void test_kill_during_use_leaks_nothing(void **state)
{
	(void)state;
	if (!have_huge(1024))
		hp_test_skip("needs 1 GiB of free hugepages on node 0");
	kill_child("--socket-mem=1024", 1024, 0, NULL);
}

static void test_kill_during_init_on_huge_dir_leaves_no_file(void **state)
{
	const char *dir;
	char opts[128];

	(void)state;
	dir = huge_dir_opts(opts, sizeof(opts), 256, NULL, 256);
	kill_child(opts, 256, MEM_HOOK_STOP, dir);
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

/* ---- what an error names ------------------------------------------------------------------ */

static void test_huge_dir_is_checked_at_init_even_without_socket_mem(void **state)
{
	const char *dir;
	char opts[128];

	(void)state;
	if (!hpsz())
		hp_test_skip("no hugepages on this machine");
	expect_failure("--huge-dir=/etc", -EINVAL, "not a hugetlbfs mount");
	expect_failure("--huge-dir=/nonexistent-hp-dir", -EINVAL, "/nonexistent-hp-dir");
	/* a file: never advised to mount hugetlbfs on it */
	expect_failure("--huge-dir=/etc/passwd", -ENOTDIR, "/etc/passwd is not a directory");
	assert_null(strstr(hp_last_error(), "mount -t hugetlbfs nodev /etc/passwd"));
	dir = hp_test_mount_hugetlbfs(MS_RDONLY, NULL);
	snprintf(opts, sizeof(opts), "--huge-dir=%s", dir);
	expect_failure(opts, -EPERM, "may not create files");
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

static void test_a_mount_size_limit_is_named_when_it_is_what_falls_short(void **state)
{
	const char *dir;
	char opts[160];

	(void)state;
	dir = huge_dir_opts(opts, sizeof(opts), 16, "size=4M", 8);
	expect_failure(opts, -ENOMEM, "size=");
	assert_null(strstr(hp_last_error(), "hp-info --reserve"));
	snprintf(opts, sizeof(opts), "--huge-dir=%s --socket-mem=4", dir);
	init_ok(opts);
	assert_int_equal(hp_mem_grow(0, 2 * MB), -ENOMEM);
	assert_non_null(strstr(hp_last_error(), "size="));
	hp_cleanup();
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

/* What the machine has is checked before the build's memseg limit, and sizes never wrap. */
static void test_too_large_a_request_names_what_the_machine_has(void **state)
{
	static const size_t sizes[] = {1ULL << 40, SIZE_MAX, SIZE_MAX - 4096, 1ULL << 62};
	unsigned i;

	(void)state;
	if (!hpsz())
		hp_test_skip("no hugepages on this machine");
	expect_failure("--socket-mem=2000000", -ENOMEM, "node 0");
	assert_null(strstr(hp_last_error(), "max_memsegs"));
	init_ok("");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(hp_mem_grow(0, sizes[i]), -ENOMEM);
		if (strstr(hp_last_error(), "max_memsegs") || strstr(hp_last_error(), " 0 bytes"))
			fail_msg("hp_mem_grow(0, %zu): '%s'", sizes[i], hp_last_error());
	}
	assert_int_equal(held_kb(), 0);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
}

static void test_hugepage_set_names_a_size_below_a_kib_in_bytes(void **state)
{
	(void)state;
	assert_int_equal(hp_hugepage_set(0, 3, 0), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "3 bytes"));
	assert_int_equal(hp_hugepage_set(0, 3 << 10, 0), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "3 kB"));
}

static char logged[8192];

static void keep_line(enum hp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%d %s\n", level, msg);
}

static void test_start_up_logs_nothing_that_reads_like_an_error(void **state)
{
	static const char *const words[] = {"no ", "not ", "cannot", "fail", "error", "named"};
	unsigned i;

	(void)state;
	logged[0] = '\0';
	hp_log_set_handler(keep_line, NULL);
	hp_test_init(8, "--socket-mem=8 --log-level=debug");
	hp_cleanup();
	hp_log_set_handler(NULL, NULL);
	hp_log_set_level(HP_LOG_WARNING);
	assert_true(logged[0] != '\0'); /* the reservation itself is logged */
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(logged, words[i]))
			fail_msg("start-up logged '%s':\n%s", words[i], logged);
}

static void test_memseg_walks_with_a_null_callback_fail_with_einval(void **state)
{
	(void)state;
	hp_test_init(4, "--socket-mem=4");
	assert_true(hp_mem_reserved(0) > 0); /* the walks have something to visit */
	assert_int_equal(hp_memseg_walk(NULL, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "callback is NULL"));
	assert_int_equal(hp_memseg_contig_walk(NULL, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "callback is NULL"));
}

/* Discovery reads sysfs and /proc itself: libhugetlbfs and its HUGETLB_* variables stay out. */
static void test_libhugetlbfs_is_not_loaded_and_mounts_come_from_proc(void **state)
{
	char *maps = hp_test_read_file("/proc/self/maps");
	const char *m;

	(void)state;
	if (strstr(maps, "libhugetlbfs"))
		fail_msg("libhugetlbfs is mapped in this process");
	free(maps);
	if (!hpsz())
		hp_test_skip("no hugepages on this machine");
	hp_test_mount_hugetlbfs(0, NULL); /* after start-up: a table read once at load misses it */
	m = hp_hugetlbfs_mount(hpsz());
	assert_non_null(m);
	maps = hp_test_read_file("/proc/mounts");
	assert_non_null(strstr(maps, m));
	free(maps);
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

/* A case that runs fn with the hooks (MEM_HOOK_*) as its state. */
/* clang-format off */
#define WITH_HOOKS(test, fn, hooks) \
	{.name = #test, .test_func = fn, .teardown_func = stop_runtime, \
	 .initial_state = &(unsigned){hooks}}
/* clang-format on */

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_every_page_is_on_its_node_with_the_iova_pagemap_gives,
				      stop_runtime),
	    cmocka_unit_test_teardown(
		test_contig_runs_are_contiguous_in_va_and_iova_and_cover_every_page, stop_runtime),
	    cmocka_unit_test_teardown(test_nonexistent_node_fails_with_enodev_and_reserves_nothing,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_a_node_that_does_not_exist_is_enodev_in_every_call,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_more_than_the_node_has_fails_with_enomem_and_a_command,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_zero_size_grow_fails_with_einval, stop_runtime),
	    cmocka_unit_test_teardown(test_cleanup_gives_every_page_back, stop_runtime),
	    cmocka_unit_test_teardown(test_no_huge_works_without_any_hugepage, stop_runtime),
	    cmocka_unit_test_teardown(test_huge_dir_leaves_no_file_on_the_mount, stop_runtime),
	    cmocka_unit_test_teardown(test_one_gib_pages_work_where_the_pool_has_them,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_grow_adds_a_list_and_fires_the_event, stop_runtime),
	    cmocka_unit_test_teardown(test_virt2phy_reads_a_stack_address, stop_runtime),
	    cmocka_unit_test_teardown(
		test_iova_pa_without_frames_is_eperm_and_auto_falls_back_to_va, stop_runtime),
	    WITH_HOOKS(test_populating_by_touch_gives_the_same_pages,
		       populating_gives_the_same_pages, MEM_HOOK_TOUCH),
	    WITH_HOOKS(test_populating_by_madvise_gives_the_same_pages,
		       populating_gives_the_same_pages, MEM_HOOK_MADVISE),
	    WITH_HOOKS(test_short_pool_at_fault_time_is_enomem_with_madvise,
		       short_pool_at_fault_time, MEM_HOOK_MADVISE),
	    WITH_HOOKS(test_short_pool_at_fault_time_is_enomem_under_the_sigbus_guard,
		       short_pool_at_fault_time, MEM_HOOK_TOUCH),
	    cmocka_unit_test_teardown(test_kill_during_init_leaks_nothing, stop_runtime),
	    cmocka_unit_test_teardown(test_kill_during_use_leaks_nothing, stop_runtime),
	    cmocka_unit_test_teardown(test_kill_during_init_on_huge_dir_leaves_no_file,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_huge_dir_is_checked_at_init_even_without_socket_mem,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_a_mount_size_limit_is_named_when_it_is_what_falls_short,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_too_large_a_request_names_what_the_machine_has,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_hugepage_set_names_a_size_below_a_kib_in_bytes,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_start_up_logs_nothing_that_reads_like_an_error,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_libhugetlbfs_is_not_loaded_and_mounts_come_from_proc,
				      stop_runtime),
	    cmocka_unit_test_teardown(test_memseg_walks_with_a_null_callback_fail_with_einval,
				      stop_runtime),
	};

	if (argc > 1) /* run only the tests whose names match argv[1] (a glob) */
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
