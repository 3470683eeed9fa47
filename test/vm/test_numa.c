/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Behaviour on two NUMA nodes, run inside the VM lane's guest (test/vm/run.sh): reservation on
 * both nodes in one init, placement of every page, memzones, heap blocks and mempools per node,
 * and the ENOMEM of a node whose hugepage pool is empty or short, leaving nothing behind. Where
 * memory lands is checked against the kernel (move_pages, sysfs), never against the library.
 * Skips on a machine with fewer than two nodes. Tests that empty a node's pool restore it.
 */
#include <dirent.h>
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

#define MB (1UL << 20)
#define NODES 2

/* nr_hugepages of each node before a test changed it; -1: unchanged. */
static long saved_pool[NODES] = {-1, -1};

/* The node the kernel has the page of va on, or -errno (move_pages with no target nodes). */
static int kernel_node_of(const void *va)
{
	void *page = (void *)va;
	int status = -ENOENT;

	if (move_pages(0, 1, &page, NULL, &status, 0) != 0)
		return -errno;
	return status;
}

static size_t psz(void)
{
	return hp_test_default_page_size();
}

static unsigned free_pages(int node)
{
	return hp_test_free_hugepages(node, psz());
}

static char *pool_path(int node, char *buf, size_t len)
{
	snprintf(buf, len, "/sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages",
		 node, psz() >> 10);
	return buf;
}

static long read_pool(int node)
{
	char p[160];
	long v = -1;
	FILE *f = fopen(pool_path(node, p, sizeof(p)), "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool write_pool(int node, long n)
{
	char p[160];
	FILE *f = fopen(pool_path(node, p, sizeof(p)), "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", n) > 0;
	ok = (fclose(f) == 0) && ok;
	return ok && read_pool(node) == n;
}

/* Set a node's pool to n pages for this test; teardown puts the old size back. */
static void set_pool(int node, long n)
{
	char p[160];
	long old = read_pool(node);

	if (old < 0 || access(pool_path(node, p, sizeof(p)), W_OK) != 0)
		hp_test_skip("cannot change node %d's hugepage pool (needs root and sysfs)", node);
	if (saved_pool[node] < 0)
		saved_pool[node] = old;
	if (!write_pool(node, n))
		fail_msg("node %d: could not set nr_hugepages to %ld", node, n);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Skip unless the machine has two nodes with mb0 and mb1 MiB of free default-size hugepages. */
static void need(unsigned mb0, unsigned mb1)
{
	unsigned mb[NODES] = {mb0, mb1};

	if (numa_available() < 0 || numa_num_configured_nodes() < NODES)
		hp_test_skip("this machine has one NUMA node; run it in the two-node guest: "
			     "test/vm/run.sh -- test/vm/test_numa");
	if (!psz())
		hp_test_skip("this kernel has no hugepages");
	for (int n = 0; n < NODES; n++)
		if ((uint64_t)free_pages(n) * psz() < (uint64_t)mb[n] * MB)
			hp_test_skip("node %d has %u free hugepages, the test needs %u MiB", n,
				     free_pages(n), mb[n]);
}

static void init_ok(const char *opts)
{
	int rc = hp_test_init_str(opts);

	if (rc < 0)
		fail_msg("hp_init(%s) failed: %d: %s", opts, rc, hp_last_error());
}

static int teardown(void **state)
{
	(void)state;
	hp_cleanup();
	for (int n = 0; n < NODES; n++)
		if (saved_pool[n] >= 0) {
			write_pool(n, saved_pool[n]);
			saved_pool[n] = -1;
		}
	return 0;
}

/* ---- placement of reserved pages ------------------------------------------------------------ */

struct placement {
	size_t bytes[NODES];
	unsigned pages, wrong_kernel, wrong_node_of;
	const void *first_wrong;
};

static int check_page(const struct hp_memseg *ms, void *arg)
{
	struct placement *p = arg;
	const char *va = ms->va;
	int k = kernel_node_of(va);

	p->pages++;
	if (ms->node >= 0 && ms->node < NODES)
		p->bytes[ms->node] += ms->len;
	if (k != ms->node) {
		p->wrong_kernel++;
		p->first_wrong = p->first_wrong ? p->first_wrong : va;
	}
	/* the library's lookup must agree at the start, the middle and the last byte */
	if (hp_mem_node_of(va) != k || hp_mem_node_of(va + ms->len / 2) != k ||
	    hp_mem_node_of(va + ms->len - 1) != k)
		p->wrong_node_of++;
	return 0;
}

static void check_placement(unsigned mb0, unsigned mb1)
{
	struct placement p = {0};

	assert_int_equal(hp_memseg_walk(check_page, &p), 0);
	if (p.wrong_kernel)
		fail_msg("%u of %u pages are not on the node the memseg says (first at %p)",
			 p.wrong_kernel, p.pages, p.first_wrong);
	assert_int_equal(p.wrong_node_of, 0);
	assert_true(p.bytes[0] >= (size_t)mb0 * MB);
	assert_true(p.bytes[1] >= (size_t)mb1 * MB);
	assert_int_equal(hp_mem_reserved(0), p.bytes[0]);
	assert_int_equal(hp_mem_reserved(1), p.bytes[1]);
}

static void test_both_nodes_reserved_in_one_init_hold_every_page_on_its_node(void **state)
{
	unsigned before[NODES] = {0};

	(void)state;
	need(64, 64);
	for (int n = 0; n < NODES; n++)
		before[n] = free_pages(n);
	init_ok("--socket-mem=64,64");
	check_placement(64, 64);
	/* the kernel counts the pages taken from each node's own pool */
	for (int n = 0; n < NODES; n++)
		assert_int_equal(before[n] - free_pages(n), hp_mem_reserved(n) / psz());
}

static void test_socket_mem_zero_on_node0_takes_pages_from_node1_only(void **state)
{
	unsigned before0;

	(void)state;
	need(0, 64);
	before0 = free_pages(0);
	init_ok("--socket-mem=0,64");
	check_placement(0, 64);
	assert_int_equal(hp_mem_reserved(0), 0);
	assert_int_equal(free_pages(0), before0);
}

/* ---- allocations per node ------------------------------------------------------------------- */

/* Fails unless every page of [va, va + len) is on node, as the kernel sees it. */
static void assert_on_node(const void *va, size_t len, int node)
{
	const char *p = va;

	for (size_t off = 0; off < len; off += 4096)
		if (kernel_node_of(p + off) != node)
			fail_msg("byte %zu of a %zu-byte block is on node %d, not %d", off, len,
				 kernel_node_of(p + off), node);
	assert_int_equal(kernel_node_of(p + len - 1), node);
	assert_int_equal(hp_mem_node_of(p + len - 1), node);
}

static void test_malloc_on_node1_is_served_from_node1_memory(void **state)
{
	size_t len = 3 * MB + 100;
	char *p;

	(void)state;
	need(16, 16);
	init_ok("--socket-mem=16,16");
	p = hp_malloc(len, 0, 1);
	assert_non_null(p);
	memset(p, 0xa5, len);
	assert_on_node(p, len, 1);
	hp_free(p);
	p = hp_zmalloc(len, 4096, 0);
	assert_non_null(p);
	assert_on_node(p, len, 0);
	hp_free(p);
}

/*
 * HP_NODE_ANY is the node of the CPU the thread runs on, read again after every move: pinned to
 * each CPU in turn, small blocks (a thread's cache per node) and large ones land on that CPU's
 * node, and a block freed on one node's CPU is never handed out on the other's.
 */
static void test_node_any_follows_the_thread_from_cpu_to_cpu(void **state)
{
	cpu_set_t all, one;
	int seen[2] = {0, 0};
	void *last[2] = {NULL, NULL};

	(void)state;
	need(16, 16);
	init_ok("--socket-mem=16,16");
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int round = 0; round < 2; round++)
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			int node = numa_node_of_cpu(cpu);
			char *small, *large;

			if (!CPU_ISSET(cpu, &all) || node < 0 || node > 1)
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
			small = hp_malloc(100, 0, HP_NODE_ANY);
			large = hp_malloc(MB, 0, HP_NODE_ANY);
			assert_non_null(small);
			assert_non_null(large);
			assert_int_equal(hp_mem_node_of(small), node);
			assert_int_equal(hp_mem_node_of(large), node);
			assert_on_node(small, 100, node);
			hp_free(large);
			hp_free(last[node]); /* goes to this thread's cache of that node */
			last[node] = small;
			seen[node]++;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	hp_free(last[0]);
	hp_free(last[1]);
	if (!seen[0] || !seen[1])
		fail_msg("this guest's CPUs cover nodes %s%s only", seen[0] ? "0" : "",
			 seen[1] ? "1" : "");
}

static void test_malloc_on_a_node_without_memory_up_front_grows_that_node(void **state)
{
	char *p;

	(void)state;
	need(16, 16);
	init_ok("--socket-mem=16,0");
	assert_int_equal(hp_mem_reserved(1), 0);
	p = hp_malloc(4 * MB, 0, 1);
	if (!p)
		fail_msg("hp_malloc on node 1: %s", hp_last_error());
	assert_on_node(p, 4 * MB, 1);
	assert_true(hp_mem_reserved(1) >= 4 * MB);
	hp_free(p);
}

static void test_memory_grown_on_node1_lands_there_and_goes_back_to_its_pool(void **state)
{
	const struct hp_memzone *mz;
	unsigned before0, before1;
	size_t held;
	void *va;

	(void)state;
	need(16, 32);
	init_ok("--socket-mem=16,0");
	before0 = free_pages(0);
	before1 = free_pages(1);
	mz = hp_memzone_reserve("vm_grow1", 24 * MB, 1, 0, 0);
	if (!mz)
		fail_msg("memzone on node 1: %s", hp_last_error());
	memset(mz->va, 0x3c, mz->len);
	assert_on_node(mz->va, mz->len, 1);
	assert_int_equal(free_pages(0), before0);
	assert_true(free_pages(1) <= before1 - 12);
	va = mz->va;
	assert_int_equal(hp_memzone_free(mz), 0);
	/* but for node 1's budget of free pages, which the trim of node 1 gives back */
	held = hp_mem_reserved(1);
	assert_true(held <= HP_MEM_KEEP_DEFAULT * psz());
	assert_int_equal(free_pages(1), before1 - held / psz());
	assert_int_equal(hp_mem_trim(1), held);
	/* the grown pages are node 1's again; node 0's --socket-mem stays */
	assert_int_equal(free_pages(1), before1);
	assert_int_equal(hp_mem_reserved(1), 0);
	assert_int_equal(hp_mem_reserved(0), 16 * MB);
	assert_int_equal(hp_mem_virt2iova(va), HP_BAD_IOVA);
	/* and they come back on node 1 when needed */
	mz = hp_memzone_reserve("vm_grow1b", 24 * MB, 1, 0, 0);
	if (!mz)
		fail_msg("memzone on node 1 again: %s", hp_last_error());
	memset(mz->va, 0x3d, mz->len);
	assert_on_node(mz->va, mz->len, 1);
	assert_int_equal(hp_memzone_free(mz), 0);
	held = hp_mem_reserved(1);
	assert_int_equal(hp_mem_trim(HP_NODE_ANY), held);
	assert_int_equal(free_pages(1), before1);
}

static void test_memzone_on_each_node_is_on_that_node(void **state)
{
	const struct hp_memzone *mz[NODES];
	char name[32];

	(void)state;
	need(16, 16);
	init_ok("--socket-mem=16,16");
	for (int n = 0; n < NODES; n++) {
		snprintf(name, sizeof(name), "vm_zone_%d", n);
		mz[n] = hp_memzone_reserve(name, 4 * MB, n, HP_MZ_IOVA_CONTIG, 0);
		if (!mz[n])
			fail_msg("memzone on node %d: %s", n, hp_last_error());
		assert_int_equal(mz[n]->node, n);
		memset(mz[n]->va, n + 1, mz[n]->len);
		assert_on_node(mz[n]->va, mz[n]->len, n);
	}
	for (int n = 0; n < NODES; n++)
		assert_int_equal(hp_memzone_free(mz[n]), 0);
}

struct obj_check {
	int node;
	unsigned seen, wrong;
};

static void check_obj(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct obj_check *c = arg;

	(void)mp;
	(void)idx;
	c->seen++;
	if (kernel_node_of(obj) != c->node || kernel_node_of((char *)obj + 2047) != c->node)
		c->wrong++;
}

static void test_mempool_on_each_node_keeps_its_objects_on_that_node(void **state)
{
	struct hp_mempool *mp[NODES];
	char name[32];
	void *objs[64];

	(void)state;
	need(32, 32);
	init_ok("--socket-mem=32,32");
	for (int n = 0; n < NODES; n++) {
		struct obj_check c = {.node = n};

		snprintf(name, sizeof(name), "vm_pool_%d", n);
		mp[n] = hp_mempool_create(name, 4096, 2048, 0, n, 0);
		if (!mp[n])
			fail_msg("mempool on node %d: %s", n, hp_last_error());
		assert_int_equal(hp_mempool_obj_iter(mp[n], check_obj, &c), 4096);
		assert_int_equal(c.seen, 4096);
		assert_int_equal(c.wrong, 0);
		assert_int_equal(hp_mempool_get_bulk(mp[n], objs, 64), 0);
		for (int i = 0; i < 64; i++)
			assert_int_equal(kernel_node_of(objs[i]), n);
		hp_mempool_put_bulk(mp[n], objs, 64);
		assert_int_equal(hp_mempool_avail_count(mp[n]), 4096);
	}
	for (int n = 0; n < NODES; n++)
		hp_mempool_free(mp[n]);
}

/* ---- a node without free hugepages ---------------------------------------------------------- */

struct counts {
	unsigned free[NODES];
	int fds;
};

static struct counts snapshot(void)
{
	struct counts c = {.fds = open_fds()};

	for (int n = 0; n < NODES; n++)
		c.free[n] = free_pages(n);
	return c;
}

static void assert_same(struct counts a, struct counts b)
{
	for (int n = 0; n < NODES; n++)
		if (a.free[n] != b.free[n])
			fail_msg("node %d: %u free hugepages before, %u after: pages leaked", n,
				 a.free[n], b.free[n]);
	assert_int_equal(a.fds, b.fds);
}

static void assert_enomem_names_node1(int rc)
{
	assert_int_equal(rc, -ENOMEM);
	if (!strstr(hp_last_error(), "node 1"))
		fail_msg("the error does not name node 1: \"%s\"", hp_last_error());
}

static void test_init_on_a_node_with_no_free_hugepages_fails_enomem_and_leaks_nothing(void **state)
{
	struct counts before;

	(void)state;
	need(16, 0);
	set_pool(1, 0);
	before = snapshot();
	assert_enomem_names_node1(hp_test_init_str("--socket-mem=16,64"));
	assert_false(hp_initialized());
	assert_same(before, snapshot());
	/* a failed init leaves nothing behind: the same process can start again */
	init_ok("--socket-mem=16,0");
	assert_int_equal(hp_mem_reserved(1), 0);
}

static void test_init_on_a_short_node_fails_enomem_and_leaks_nothing(void **state)
{
	struct counts before;

	(void)state;
	need(16, 0);
	set_pool(1, 8); /* 16 MiB of 2 MiB pages where 64 MiB are asked */
	before = snapshot();
	assert_enomem_names_node1(hp_test_init_str("--socket-mem=16,64"));
	assert_false(hp_initialized());
	assert_same(before, snapshot());
}

static void test_growing_an_empty_node_after_init_fails_enomem_and_leaks_nothing(void **state)
{
	struct counts before;

	(void)state;
	need(16, 0);
	set_pool(1, 0);
	init_ok("--socket-mem=16,0");
	before = snapshot();
	assert_null(hp_memzone_reserve("vm_zone_empty", 4 * MB, 1, 0, 0));
	assert_enomem_names_node1(-errno);
	assert_null(hp_malloc(4 * MB, 0, 1));
	assert_enomem_names_node1(-errno);
	assert_enomem_names_node1(hp_mem_grow(1, 4 * MB));
	assert_int_equal(hp_mem_reserved(1), 0);
	assert_same(before, snapshot());
	/* node 0 still serves */
	assert_non_null(hp_memzone_reserve("vm_zone_node0", 4 * MB, 0, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(
		test_both_nodes_reserved_in_one_init_hold_every_page_on_its_node, teardown),
	    cmocka_unit_test_teardown(test_socket_mem_zero_on_node0_takes_pages_from_node1_only,
				      teardown),
	    cmocka_unit_test_teardown(test_malloc_on_node1_is_served_from_node1_memory, teardown),
	    cmocka_unit_test_teardown(test_node_any_follows_the_thread_from_cpu_to_cpu, teardown),
	    cmocka_unit_test_teardown(test_malloc_on_a_node_without_memory_up_front_grows_that_node,
				      teardown),
	    cmocka_unit_test_teardown(
		test_memory_grown_on_node1_lands_there_and_goes_back_to_its_pool, teardown),
	    cmocka_unit_test_teardown(test_memzone_on_each_node_is_on_that_node, teardown),
	    cmocka_unit_test_teardown(test_mempool_on_each_node_keeps_its_objects_on_that_node,
				      teardown),
	    cmocka_unit_test_teardown(
		test_init_on_a_node_with_no_free_hugepages_fails_enomem_and_leaks_nothing,
		teardown),
	    cmocka_unit_test_teardown(test_init_on_a_short_node_fails_enomem_and_leaks_nothing,
				      teardown),
	    cmocka_unit_test_teardown(
		test_growing_an_empty_node_after_init_fails_enomem_and_leaks_nothing, teardown),
	};

	return cmocka_run_group_tests_name("numa", tests, NULL, NULL);
}
