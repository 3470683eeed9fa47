/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helpers: see hp_test.h. Reads the kernel's view directly, never through the library. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test.h"
#include "mem/mem_internal.h"

static bool on_huge;

unsigned hp_test_free_hugepages(int node, size_t page_size)
{
	char path[160];
	unsigned v = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%zukB/free_hugepages", node,
		 page_size >> 10);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static long meminfo_field(const char *key)
{
	char line[256];
	long v = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

size_t hp_test_default_page_size(void)
{
	long kb = meminfo_field("Hugepagesize");

	return kb > 0 ? (size_t)kb << 10 : 0;
}

long hp_test_meminfo_free(void)
{
	return meminfo_field("HugePages_Free");
}

uint64_t hp_test_pagemap_pfn(const void *va)
{
	uint64_t e = 0;
	long psz = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)va / psz) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	if (!(e >> 63))
		return 0;
	return e & ((1ULL << 55) - 1);
}

bool hp_test_can_read_pfn(void)
{
	static volatile char probe = 1;

	probe = 2; /* make sure the page is present */
	return hp_test_pagemap_pfn((const void *)&probe) != 0;
}

int hp_test_init_str(const char *opts)
{
	char buf[1024], *argv[64], *save = NULL, *tok;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", opts ? opts : "");
	argv[argc++] = "test";
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 63;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return hp_init(argc, argv);
}

bool hp_test_init(unsigned need_mb, const char *fmt, ...)
{
	char opts[900], all[1024];
	size_t psz = hp_test_default_page_size();
	unsigned free_pages = psz ? hp_test_free_hugepages(0, psz) : 0;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(opts, sizeof(opts), fmt, ap);
	va_end(ap);
	on_huge = psz && (uint64_t)free_pages * psz >= ((uint64_t)need_mb << 20) && free_pages > 0;
	if (!on_huge)
		hp_test_note(
		    "running with --no-huge: node 0 has %u free hugepages, the test wants %u MiB",
		    free_pages, need_mb);
	snprintf(all, sizeof(all), "%s%s", on_huge ? "" : "--no-huge ", opts);
	rc = hp_test_init_str(all);
	if (rc < 0)
		fail_msg("hp_init(%s) failed: %d: %s", all, rc, hp_last_error());
	return on_huge;
}

bool hp_test_huge(void)
{
	return on_huge;
}

char *hp_test_read_file(const char *path)
{
	static char buf[65536];
	char *copy;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	copy = strdup(buf);
	assert_non_null(copy);
	return copy;
}

unsigned hp_test_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	unsigned n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

long hp_test_free_back_to(long want)
{
	long now = hp_test_meminfo_free();
	int i;

	for (i = 0; i < 1000 && now < want; i++) {
		usleep(10000);
		now = hp_test_meminfo_free();
	}
	return now;
}

int hp_test_teardown(void **state)
{
	(void)state;
	hp_thread_unregister(); /* nothing to undo when the thread never registered */
	hp_cleanup();
	return 0;
}

bool hp_test_have_hooks(void)
{
#ifdef HP_TEST_HOOKS
	return true;
#else
	return false;
#endif
}

void hp_test_mem_hooks(unsigned hooks)
{
#ifdef HP_TEST_HOOKS
	mem_test_hooks = hooks;
#else
	if (hooks)
		hp_test_skip(HP_TEST_NO_HOOKS);
#endif
}

int hp_test_init_on_dry_pool(const char *opts, unsigned hooks, unsigned before_free)
{
	int rc;

	hp_test_mem_hooks(hooks | MEM_HOOK_NO_PRECHECK | MEM_HOOK_NORESERVE);
	rc = hp_test_init_str(opts);
	hp_test_mem_hooks(0);
	if (rc >= 0) {
		hp_cleanup();
		if (hp_test_free_hugepages(0, 1UL << 30) > before_free)
			hp_test_skip("the 1 GiB pool grew during the test (another process gave "
				     "pages back)");
	}
	return rc;
}

double hp_test_stress_seconds(void)
{
	const char *env = getenv("HP_STRESS_SECONDS");

	return env ? atof(env) : 3;
}

static char mount_dir[64]; /* "" when nothing is mounted */

const char *hp_test_mount_hugetlbfs(unsigned long flags, const char *opts)
{
	assert_true(mount_dir[0] == '\0');
	if (geteuid() != 0)
		hp_test_skip("mounting hugetlbfs needs root");
	snprintf(mount_dir, sizeof(mount_dir), "/tmp/hp-test-hugetlbfs-XXXXXX");
	assert_non_null(mkdtemp(mount_dir));
	if (mount("nodev", mount_dir, "hugetlbfs", flags, opts) != 0) {
		int e = errno;

		rmdir(mount_dir);
		mount_dir[0] = '\0';
		hp_test_skip("mount -t hugetlbfs -o %s failed: %s", opts ? opts : "", strerror(e));
	}
	return mount_dir;
}

int hp_test_unmount_hugetlbfs(void)
{
	if (!mount_dir[0])
		return 0;
	if (umount(mount_dir) != 0)
		return -errno;
	rmdir(mount_dir);
	mount_dir[0] = '\0';
	return 0;
}

struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int seconds;
	const char *what;
};

static void *watch(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += w->seconds;
	pthread_mutex_lock(&w->lock);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
	if (!w->done) {
		/* the threads are stuck for good: say so and end the process, which fails the test
		 */
		fprintf(stderr, "deadlock: %s did not finish in %d s\n", w->what, w->seconds);
		_exit(1);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

void hp_test_bounded(void (*fn)(void *arg), void *arg, int seconds, const char *what)
{
	struct watchdog w = {.seconds = seconds, .what = what};
	pthread_condattr_t ca;
	pthread_t t;

	pthread_mutex_init(&w.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	assert_int_equal(pthread_create(&t, NULL, watch, &w), 0);
	fn(arg);
	pthread_mutex_lock(&w.lock);
	w.done = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_cond_destroy(&w.cond);
	pthread_condattr_destroy(&ca);
	pthread_mutex_destroy(&w.lock);
}

static void *walk_race_creator(void *arg)
{
	const struct hp_test_walk_race *race = arg;

	for (unsigned i = 0; i < race->rounds; i++)
		race->create_and_free();
	return NULL;
}

static void walk_race(void *arg)
{
	const struct hp_test_walk_race *race = arg;
	const struct hp_memzone *mz = hp_memzone_reserve(race->zone, 4096, 0, 0, 0);
	pthread_t t;

	assert_non_null(mz);
	assert_int_equal(pthread_create(&t, NULL, walk_race_creator, (void *)race), 0);
	for (unsigned i = 0; i < race->rounds; i++)
		hp_memzone_walk(race->walk_fn, race->walk_arg);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(hp_memzone_free(mz), 0);
}

void hp_test_walk_race(const struct hp_test_walk_race *race)
{
	hp_test_bounded(walk_race, (void *)race, 60, race->what);
}

int hp_test_hugetlbfs_teardown(void **state)
{
	(void)state;
	return hp_test_unmount_hugetlbfs();
}

void hp_test_leak_check_start(struct hp_test_leak_check *c)
{
	c->free = hp_test_meminfo_free();
	c->mounts = hp_test_read_file("/proc/mounts");
}

void hp_test_kill_and_check(pid_t child, struct hp_test_leak_check *c, const char *dir)
{
	char *after;
	int st;

	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
		fail_msg("child ended with status 0x%x before the kill (init failed?)", st);
	assert_true(hp_test_free_back_to(c->free) >= c->free);
	after = hp_test_read_file("/proc/mounts");
	assert_string_equal(after, c->mounts);
	if (dir)
		assert_int_equal(hp_test_dir_entries(dir), 0);
	free(after);
	free(c->mounts);
	c->mounts = NULL;
}

unsigned hp_test_dry_pool_opts(char *opts, size_t len)
{
	unsigned before = hp_test_free_hugepages(0, 1UL << 30);

	if (before < 1)
		hp_test_skip("needs a 1 GiB hugepage pool with a free page on node 0");
	snprintf(opts, len, "--huge-size=1G --socket-mem=%u", (before + 1) * 1024);
	return before;
}

void hp_test_dry_pool_fails_enomem(const char *opts, unsigned hooks, unsigned before)
{
	int rc = hp_test_init_on_dry_pool(opts, hooks, before);

	assert_int_equal(rc, -ENOMEM);
	if (!strstr(hp_last_error(), "when faulting them in") ||
	    !strstr(hp_last_error(), "--size 1G"))
		fail_msg("sentence: %s", hp_last_error());
	assert_int_equal(hp_test_free_hugepages(0, 1UL << 30), before);
}

char hp_test_logged[1024];

static void keep_error(enum hp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == HP_LOG_ERR)
		snprintf(hp_test_logged, sizeof(hp_test_logged), "%s", msg);
}

void hp_test_log_begin(void)
{
	hp_test_logged[0] = '\0';
	hp_log_set_handler(keep_error, NULL);
}

void hp_test_log_end(void)
{
	hp_log_set_handler(NULL, NULL);
}

static int free_logged(const struct hp_test_stale *t, void *obj)
{
	int rc;

	hp_test_log_begin();
	rc = t->free(obj);
	hp_test_log_end();
	return rc;
}

void hp_test_stale_pointer_is_refused(const struct hp_test_stale *t, void *junk)
{
	void *o1 = t->create(t->names[0]), *o2;
	char not_one[64];

	assert_non_null(o1);
	assert_int_equal(free_logged(t, o1), 0);
	assert_string_equal(hp_test_logged, "");
	o2 = t->create(t->names[1]);
	assert_non_null(o2);
	assert_ptr_not_equal(o2, o1);
	errno = 0;
	assert_int_equal(free_logged(t, o1), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "freed already"));
	assert_non_null(strstr(hp_test_logged, "freed already"));
	t->use(o2, t->names[1]);
	assert_int_equal(free_logged(t, junk), -EINVAL);
	snprintf(not_one, sizeof(not_one), "not a %s", t->kind);
	assert_non_null(strstr(hp_test_logged, not_one));
	assert_int_equal(t->free(o2), 0);
	assert_int_equal(free_logged(t, o2), -EINVAL);
	assert_non_null(strstr(hp_test_logged, "freed already"));
}
