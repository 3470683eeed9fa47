/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem under faults, for HP_STRESS_SECONDS (default 3) per case: children start the runtime
 * (memfd, and files on a hugetlbfs mount) and are killed with SIGKILL at random moments during
 * init or use; afterwards HugePages_Free, the mount table and the mount's directory are as
 * before. And a pool that runs dry at fault time (1 GiB pages, asking more than the pool has,
 * with the up-front check and the mmap reservation switched off) is -ENOMEM, never a SIGBUS,
 * both through madvise and under the SIGBUS guard, again and again.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"
#include "mem/mem_internal.h"

#define GB (1UL << 30)

static double seconds(void)
{
	const char *env = getenv("HP_STRESS_SECONDS");

	return env ? atof(env) : 3;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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
	long before = hp_test_meminfo_free();
	char *mounts = hp_test_read_file("/proc/mounts"), *after;
	pid_t pid;
	int st;

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
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
		fail_msg("child ended with status 0x%x before the kill (init failed?)", st);
	assert_true(hp_test_free_back_to(before) >= before);
	after = hp_test_read_file("/proc/mounts");
	assert_string_equal(after, mounts);
	if (dir)
		assert_int_equal(hp_test_dir_entries(dir), 0);
	free(after);
	free(mounts);
}

static unsigned kill_loop(const char *opts, const char *dir)
{
	double end = now() + seconds();
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
	char dir[] = "/tmp/hp-stress-hugetlbfs-XXXXXX", opts[128];
	size_t ps = hp_test_default_page_size();

	(void)state;
	if (geteuid() != 0)
		hp_test_skip("mounting hugetlbfs needs root");
	if (!ps || (uint64_t)hp_test_free_hugepages(0, ps) * ps < 256UL << 20)
		hp_test_skip("needs 256 MiB of free hugepages on node 0");
	assert_non_null(mkdtemp(dir));
	if (mount("nodev", dir, "hugetlbfs", 0, NULL) != 0) {
		rmdir(dir);
		hp_test_skip("mount -t hugetlbfs failed: %s", strerror(errno));
	}
	snprintf(opts, sizeof(opts), "--huge-dir=%s --socket-mem=256", dir);
	hp_test_note("%u kills", kill_loop(opts, dir));
	assert_int_equal(umount(dir), 0);
	rmdir(dir);
}

/* Ask one page more than the 1 GiB pool has, with nothing to stop it before the faults. */
static void dry_pool(unsigned hooks)
{
	unsigned before = hp_test_free_hugepages(0, GB), n = 0;
	double end = now() + seconds();
	char opts[64];
	int rc;

	if (before < 1)
		hp_test_skip("needs a 1 GiB hugepage pool with a free page");
	snprintf(opts, sizeof(opts), "--huge-size=1G --socket-mem=%u", (before + 1) * 1024);
	do {
		rc = hp_test_init_on_dry_pool(opts, hooks, before);
		assert_int_equal(rc, -ENOMEM);
		assert_non_null(strstr(hp_last_error(), "when faulting them in"));
		assert_int_equal(hp_test_free_hugepages(0, GB), before);
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
	    cmocka_unit_test(test_kill_at_random_points_on_huge_dir_leaves_no_file),
	    cmocka_unit_test(test_dry_pool_is_enomem_through_madvise),
	    cmocka_unit_test(test_dry_pool_is_enomem_under_the_sigbus_guard),
	};

	srand((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
