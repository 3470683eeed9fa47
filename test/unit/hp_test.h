/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the unit tests: choose hugepages or --no-huge from what the machine has
 * (and say which on the TAP stream), and read the machine's state independently of the library
 * (sysfs counters, pagemap) so tests compare the library against the kernel, not against itself.
 */
#ifndef HP_TEST_H
#define HP_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>
#include <hugepool.h>

/* A TAP comment line (cmocka's TAP output is on stdout). */
#define hp_test_note(...)                                                                          \
	do {                                                                                       \
		printf("# " __VA_ARGS__);                                                          \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

/* Skip the running test case, saying why. */
#define hp_test_skip(...)                                                                          \
	do {                                                                                       \
		hp_test_note("SKIP: " __VA_ARGS__);                                                \
		skip();                                                                            \
	} while (0)

/* Why a test that needs the library's test hooks cannot run in this build. */
#define HP_TEST_NO_HOOKS "this build has no test hooks; configure it with -Dtest_hooks=true"

/* true when the library was built with -Dtest_hooks=true (memory hooks, fake RDMA path). */
bool hp_test_have_hooks(void);

/* Set lib/mem's test hooks (MEM_HOOK_*; 0: none); skips the running test if the build has none. */
void hp_test_mem_hooks(unsigned hooks);

/* Free pages of a size on a node, from sysfs (0 if the pool does not exist). */
unsigned hp_test_free_hugepages(int node, size_t page_size);

/* The system's default hugepage size in bytes (from /proc/meminfo), 0 if none. */
size_t hp_test_default_page_size(void);

/* HugePages_Free of the default size from /proc/meminfo. */
long hp_test_meminfo_free(void);

/* Frame number of a mapped address from /proc/self/pagemap, read here; 0 if hidden or absent. */
uint64_t hp_test_pagemap_pfn(const void *va);

/* true when this process may read frame numbers (root with CAP_SYS_ADMIN). */
bool hp_test_can_read_pfn(void);

/*
 * Start the runtime with the options in fmt (printf-style, blank-separated). When the machine
 * has fewer than need_mb MiB of free default-size hugepages on node 0, adds --no-huge instead and
 * says so. Fails the test if hp_init fails. Returns true when running on hugepages.
 */
bool hp_test_init(unsigned need_mb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* true after hp_test_init chose hugepages. */
bool hp_test_huge(void);

/* Split a blank-separated option string into argv (argv[0] = "test") and call hp_init. */
int hp_test_init_str(const char *opts);

/* The whole of a (small, /proc or /sys) file, malloc'd; fails the test if it cannot be read. */
char *hp_test_read_file(const char *path);

/* Entries of a directory other than . and .. (0 if it cannot be opened). */
unsigned hp_test_dir_entries(const char *path);

/*
 * HugePages_Free once back to at least want, waiting up to 10 s. The counter is machine-wide:
 * another process may hold pages a moment, or free some meanwhile (hence "at least"); a leak
 * of ours never comes back. With nothing else running (CI runs suites one at a time) it is "==".
 */
long hp_test_free_back_to(long want);

/*
 * hp_init with opts that ask more 1 GiB pages than the pool has free (before_free: its free
 * count before), with nothing to stop it before the faults (hooks, plus no up-front check and
 * no mmap reservation): the pool runs dry at fault time. Returns hp_init's result, having
 * cleaned up if it succeeded; skips the test if the pool grew meanwhile (another process).
 */
int hp_test_init_on_dry_pool(const char *opts, unsigned hooks, unsigned before_free);

/* A cmocka group teardown: unregister the thread (if it was) and hp_cleanup(). */
int hp_test_teardown(void **state);

/* How long each stress case runs: HP_STRESS_SECONDS, 3 when unset. */
double hp_test_stress_seconds(void);

/*
 * Mount a fresh hugetlbfs of the default page size on a new directory under /tmp and return its
 * path; skips the test without root or when the mount fails. flags (MS_RDONLY...) and opts
 * ("size=4M", or NULL) go to mount(2). One at a time: hp_test_unmount_hugetlbfs() undoes it.
 */
const char *hp_test_mount_hugetlbfs(unsigned long flags, const char *opts);

/*
 * Unmount the hugetlbfs of hp_test_mount_hugetlbfs() and remove its directory. 0 when nothing
 * is mounted (any more), else -errno of umount (EBUSY: a file on it is still open), in which
 * case the mount stays for a later call. Call it from the case's teardown too, so that a failed
 * case leaves no mount behind.
 */
int hp_test_unmount_hugetlbfs(void);

/*
 * Run fn(arg) with a watchdog: when it has not returned within seconds (threads deadlocked), the
 * process prints what hung and exits 1, so that the test fails instead of hanging. (Not in a
 * child: a child would share the runtime's hugepages, and the allocator's free lists in them.)
 */
void hp_test_bounded(void (*fn)(void *arg), void *arg, int seconds, const char *what);

/* A lock-order race: memzone walks whose callback uses another registry, beside its creates. */
struct hp_test_walk_race {
	const char *zone;	       /* reserved for the race, so that every walk calls walk_fn */
	unsigned rounds;	       /* creates by the other thread, and walks by the caller's */
	void (*create_and_free)(void); /* one round of the other thread */
	int (*walk_fn)(const struct hp_memzone *mz, void *arg);
	void *walk_arg;
	const char *what; /* what hung, for hp_test_bounded() */
};

/* Run the race under hp_test_bounded() (60 s), so that a deadlock fails the test. */
void hp_test_walk_race(const struct hp_test_walk_race *race);

/* A cmocka teardown: hp_test_unmount_hugetlbfs(). */
int hp_test_hugetlbfs_teardown(void **state);

/* What a child killed with SIGKILL must give back: free hugepages and the mount table. */
struct hp_test_leak_check {
	long free;    /* HugePages_Free before */
	char *mounts; /* /proc/mounts before */
};

/* Note the machine's state before starting a child. */
void hp_test_leak_check_start(struct hp_test_leak_check *c);

/*
 * SIGKILL the child and reap it (it must die of that signal), then fail the test unless every
 * hugepage came back, the mount table is as before and dir (if not NULL) is empty.
 */
void hp_test_kill_and_check(pid_t child, struct hp_test_leak_check *c, const char *dir);

/*
 * Options that ask one 1 GiB page more than node 0's pool has free; skips the test when the
 * pool has no free page. @return the pool's free count before.
 */
unsigned hp_test_dry_pool_opts(char *opts, size_t len);

/*
 * One hp_test_init_on_dry_pool() that must fail -ENOMEM, with a sentence that says the pages ran
 * out when faulting them in and names the 1 GiB size, and leave the pool's free count at before.
 */
void hp_test_dry_pool_fails_enomem(const char *opts, unsigned hooks, unsigned before);

/* The last error line logged between hp_test_log_begin() and hp_test_log_end() ("" if none). */
extern char hp_test_logged[1024];

/* Clear hp_test_logged and route the library's error lines into it. */
void hp_test_log_begin(void);

/* Give the library's log back to its default handler. */
void hp_test_log_end(void);

/* How hp_test_stale_pointer_is_refused() makes, frees and uses one kind of object. */
struct hp_test_stale {
	const char *kind; /* the "not a <kind>" of a pointer to no object at all */
	const char *names[2];
	void *(*create)(const char *name); /* same size every time */
	int (*free)(void *obj);
	void (*use)(void *obj, const char *name); /* asserts a live object is found and works */
};

/*
 * Free an object, make a second of the same size (the allocator hands the first one's memory out
 * again first), and check that freeing the stale first pointer, or junk (memory that is no
 * object), fails -EINVAL saying so and leaves the second one working; then free the second twice.
 */
void hp_test_stale_pointer_is_refused(const struct hp_test_stale *t, void *junk);

#endif
