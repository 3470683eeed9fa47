/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem under faults, for HP_STRESS_SECONDS (default 3) per case: children start the runtime
 * (memfd, and files on a hugetlbfs mount) and are killed with SIGKILL at random moments during
 * init or use; afterwards HugePages_Free, the mount table and the mount's directory are as
 * before. And a pool that runs dry at fault time (1 GiB pages, asking more than the pool has,
 * with the up-front check and the mmap reservation switched off) is -ENOMEM, never a SIGBUS,
 * both through madvise and under the SIGBUS guard, again and again. And threads allocating and
 * freeing blocks of 64 bytes to 6 MiB while grown memory comes and goes back to the kernel:
 * every block keeps its bytes, and in the end nothing is held.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"
#include "heap/heap_internal.h"
#include "mem/mem_internal.h"

/* Seconds on the monotonic clock. */
static double now(void)
{
	return (double)hp_now_ns() / 1e9;
}

/* Use the memory: write to every page, again and again, until killed. */
static int scribble(const struct hp_memseg *ms, void *arg)
{
	(void)arg;
	memset(ms->va, 0x5a, 64);
	return 0;
}

/* One child: init with opts, then use the memory; killed after delay_us. */
static void kill_once(const char *opts, unsigned delay_us, const char *dir)
{
	struct hp_test_leak_check c;
	pid_t pid;

	hp_test_leak_check_start(&c);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (hp_test_init_str(opts) < 0)
			_exit(2);
		for (;;)
			hp_memseg_walk(scribble, NULL);
	}
	usleep(delay_us);
	hp_test_kill_and_check(pid, &c, dir);
}

static unsigned kill_loop(const char *opts, const char *dir)
{
	double end = now() + hp_test_stress_seconds();
	unsigned n = 0;

	do {
		/* 0-150 ms: before, during and after populating 256 MiB */
		kill_once(opts, (unsigned)(rand() % 150000), dir);
		n++;
	} while (now() < end);
	return n;
}

static void test_kill_at_random_points_leaks_nothing(void **state)
{
	size_t ps = hp_test_default_page_size();

	(void)state;
	if (!ps || (uint64_t)hp_test_free_hugepages(0, ps) * ps < 256UL << 20)
		hp_test_skip("needs 256 MiB of free hugepages on node 0");
	hp_test_note("%u kills", kill_loop("--socket-mem=256", NULL));
}

static void test_kill_at_random_points_on_huge_dir_leaves_no_file(void **state)
{
	size_t ps = hp_test_default_page_size();
	const char *dir;
	char opts[128];

	(void)state;
	if (!ps || (uint64_t)hp_test_free_hugepages(0, ps) * ps < 256UL << 20)
		hp_test_skip("needs 256 MiB of free hugepages on node 0");
	dir = hp_test_mount_hugetlbfs(0, NULL);
	snprintf(opts, sizeof(opts), "--huge-dir=%s --socket-mem=256", dir);
	hp_test_note("%u kills", kill_loop(opts, dir));
	assert_int_equal(hp_test_unmount_hugetlbfs(), 0);
}

/* Ask one page more than the 1 GiB pool has, with nothing to stop it before the faults. */
static void dry_pool(unsigned hooks)
{
	char opts[64];
	unsigned before = hp_test_dry_pool_opts(opts, sizeof(opts)), n = 0;
	double end = now() + hp_test_stress_seconds();

	do {
		hp_test_dry_pool_fails_enomem(opts, hooks, before);
		n++;
	} while (now() < end);
	hp_test_note("%u dry-pool inits, each -ENOMEM", n);
}

static void test_dry_pool_is_enomem_through_madvise(void **state)
{
	(void)state;
	dry_pool(0);
}

static void test_dry_pool_is_enomem_under_the_sigbus_guard(void **state)
{
	(void)state;
	dry_pool(MEM_HOOK_TOUCH);
}

#define CHURN_THREADS 4
#define CHURN_LIVE 32

struct churn {
	double until;
	unsigned id, rounds;
	int failed; /* 1: a block changed under its owner, 2: an allocation failed, 3: check */
	char why[256];
};

static void *grow_shrink_churn(void *arg)
{
	struct churn *c = arg;
	unsigned seed = c->id * 7919 + 1;
	unsigned char *p[CHURN_LIVE] = {0}, tag[CHURN_LIVE];
	size_t n[CHURN_LIVE];

	while (!c->failed && now() < c->until) {
		unsigned k = rand_r(&seed) % CHURN_LIVE;

		if (p[k]) {
			if (p[k][0] != tag[k] || p[k][n[k] - 1] != tag[k] ||
			    p[k][n[k] / 2] != tag[k])
				c->failed = 1;
			hp_free(p[k]);
			p[k] = NULL;
			continue;
		}
		n[k] = rand_r(&seed) % 4 ? (size_t)(64 + rand_r(&seed) % 16384)
					 : (size_t)(1 + rand_r(&seed) % 6) << 20;
		p[k] = hp_malloc(n[k], rand_r(&seed) % 8 ? 0 : 4096, 0);
		if (!p[k]) {
			snprintf(c->why, sizeof(c->why), "%s", hp_last_error());
			c->failed = 2;
			break;
		}
		tag[k] = (unsigned char)(c->id * 64 + c->rounds++);
		if (c->rounds % 256 == 0 && mem_alloc_check() != 0)
			c->failed = 3;
		memset(p[k], tag[k], n[k]);
	}
	for (unsigned k = 0; k < CHURN_LIVE; k++)
		hp_free(p[k]);
	return NULL;
}

static void test_threads_allocate_while_memory_grows_and_goes_back(void **state)
{
	struct churn c[CHURN_THREADS];
	pthread_t t[CHURN_THREADS];
	long before = hp_test_meminfo_free();
	unsigned rounds = 0;
	char opts[] = "--mem-keep=1"; /* pages still go back all the time, past a kept one */
	size_t held;

	(void)state;
	if (before < 4 * CHURN_THREADS * CHURN_LIVE / 2)
		hp_test_skip("needs %d free 2 MiB hugepages", 4 * CHURN_THREADS * CHURN_LIVE / 2);
	assert_int_equal(hp_test_init_str(opts), 2);
	for (unsigned i = 0; i < CHURN_THREADS; i++) {
		c[i] = (struct churn){.until = now() + hp_test_stress_seconds(), .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, grow_shrink_churn, &c[i]), 0);
	}
	for (unsigned i = 0; i < CHURN_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (c[i].failed == 2)
			fail_msg("thread %u: hp_malloc failed: %s", i, c[i].why);
		if (c[i].failed == 3)
			fail_msg("thread %u: the allocator's invariants broke (%d)", i,
				 mem_alloc_check());
		if (c[i].failed)
			fail_msg("thread %u: a block's bytes changed under it", i);
		rounds += c[i].rounds;
	}
	hp_test_note("%u threads, %.1f s, %u blocks", CHURN_THREADS, hp_test_stress_seconds(),
		     rounds);
	assert_int_equal(mem_alloc_check(), 0);
	held = hp_mem_reserved(HP_NODE_ANY);
	assert_true(held <= hp_mem_page_size());
	assert_int_equal(hp_mem_trim(HP_NODE_ANY), held);
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), 0);
	assert_int_equal(hp_test_free_back_to(before), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_threads_allocate_while_memory_grows_and_goes_back,
				      hp_test_teardown),
	    cmocka_unit_test(test_kill_at_random_points_leaks_nothing),
	    cmocka_unit_test_teardown(test_kill_at_random_points_on_huge_dir_leaves_no_file,
				      hp_test_hugetlbfs_teardown),
	    cmocka_unit_test(test_dry_pool_is_enomem_through_madvise),
	    cmocka_unit_test(test_dry_pool_is_enomem_under_the_sigbus_guard),
	};

	srand((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
