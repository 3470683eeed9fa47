/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem under faults, for HP_STRESS_SECONDS (default 3) per case: children start the runtime
 * (memfd, and files on a hugetlbfs mount) and are killed with SIGKILL at random moments during
 * init or use; afterwards HugePages_Free, the mount table and the mount's directory are as
 * before. And a pool that runs dry at fault time (1 GiB pages, asking more than the pool has,
 * with the up-front check and the mmap reservation switched off) is -ENOMEM, never a SIGBUS,
 * both through madvise and under the SIGBUS guard, again and again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"
#include "mem/mem_internal.h"

/* Seconds on the monotonic clock. */
static double now(void)
{
	return (double)eal_now_ns() / 1e9;
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
	dir = hp_test_mount_hugetlbfs();
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_at_random_points_leaks_nothing),
	    cmocka_unit_test_teardown(test_kill_at_random_points_on_huge_dir_leaves_no_file,
				      hp_test_hugetlbfs_teardown),
	    cmocka_unit_test(test_dry_pool_is_enomem_through_madvise),
	    cmocka_unit_test(test_dry_pool_is_enomem_under_the_sigbus_guard),
	};

	srand((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
