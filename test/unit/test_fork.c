/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fork(): a child starts with no runtime. Whatever the child does (free, clean up, get and put,
 * touch the parent's memory), the parent's memory, heap and pools stay intact; calls in the
 * child fail with a sentence naming the parent, a stray access kills the child with SIGSEGV, and
 * the child may start a runtime of its own. Each case runs with a single-threaded parent and
 * with a parent whose other thread churns the heap and a pool while it forks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"

#define MB ((size_t)1 << 20)
#define BIG (8 * MB)
#define POOL_N 1024
#define CHILD_SECONDS 10
#define SIGNALLED 1000 /* a child's status: SIGNALLED + signal, or its exit code */
#define HUNG 2000      /* a child's status: killed after CHILD_SECONDS */

/* Without --socket-mem: every page is grown, so a child's free could punch the parent's. */
static int setup(void **state)
{
	(void)state;
	hp_test_init(64, "%s", "--log-level=error");
	return 0;
}

/* ---- a child, its words and its end --------------------------------------------------- */

static int say_fd = -1;

static void quiet(enum hp_log_level level, const char *msg, void *arg)
{
	(void)level, (void)msg, (void)arg;
}

/* In the child: send hp_last_error() (or a note) to the parent. */
static void say(const char *what)
{
	if (write(say_fd, what, strlen(what)) < 0)
		_exit(99);
	if (write(say_fd, "\n", 1) < 0)
		_exit(99);
}

/* Whether the last error names this process as a fork of parent. */
static bool says_fork_of(pid_t parent)
{
	char want[64];

	snprintf(want, sizeof(want), "is a fork of pid %d", (int)parent);
	say(hp_last_error());
	return strstr(hp_last_error(), want) && strstr(hp_last_error(), "hp_init()");
}

/*
 * Run fn(arg) in a forked child and return its status (exit code, SIGNALLED + signal, or HUNG
 * for a child still running after CHILD_SECONDS, then killed). What it says lands in said.
 */
static int in_child(int (*fn)(void *arg), void *arg, char *said, size_t len)
{
	struct timespec ms10 = {0, 10 * 1000 * 1000};
	int p[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		say_fd = p[1];
		hp_log_set_handler(quiet, NULL); /* the parent hears what the child says */
		signal(SIGSEGV, SIG_DFL);	 /* not cmocka's handler: the child dies of it */
		signal(SIGBUS, SIG_DFL);
		_exit(fn(arg));
	}
	close(p[1]);
	for (int i = 0; i < CHILD_SECONDS * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&ms10, NULL);
		if (i == CHILD_SECONDS * 100 - 1) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(p[0]);
			snprintf(said, len, "(hung for %d s: a lock held at fork?)", CHILD_SECONDS);
			return HUNG;
		}
	}
	while (got + 1 < len && (n = read(p[0], said + got, len - 1 - got)) > 0)
		got += (size_t)n;
	said[got] = '\0';
	close(p[0]);
	if (WIFSIGNALED(status))
		return SIGNALLED + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- a parent with another thread at work ---------------------------------------------- */

struct churn {
	pthread_t t;
	_Atomic bool stop;
	struct hp_mempool *mp;
	unsigned long rounds;
};

/* Small blocks in grown memory take the heap lock at each malloc and free. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	void *o[8];

	while (!atomic_load(&c->stop)) {
		void *p = hp_malloc(200, 0, 0);

		if (p)
			memset(p, 0x5a, 200);
		hp_free(p);
		if (hp_mempool_get_bulk(c->mp, o, 8) == 0)
			hp_mempool_put_bulk(c->mp, o, 8);
		c->rounds++;
	}
	return NULL;
}

static void churn_start(struct churn *c)
{
	c->mp = hp_mempool_create("fork.churn", 256, 64, 0, 0, 0);
	assert_non_null(c->mp);
	atomic_store(&c->stop, false);
	c->rounds = 0;
	assert_int_equal(pthread_create(&c->t, NULL, churn, c), 0);
	while (!c->rounds)
		sched_yield();
}

static void churn_stop(struct churn *c)
{
	atomic_store(&c->stop, true);
	assert_int_equal(pthread_join(c->t, NULL), 0);
	assert_int_equal(hp_mempool_audit(c->mp), 0);
	assert_int_equal(hp_mempool_avail_count(c->mp), 256);
	assert_int_equal(hp_mempool_free(c->mp), 0);
}

/*
 * Run fn(arg) in a child once, or when threaded 20 times beside threads churning the runtime,
 * stopping at the first child that does not end with 0: returns how the last one ended.
 */
static int in_children(bool threaded, int (*fn)(void *arg), void *arg, char *said, size_t len)
{
	struct churn c;
	int st = 0;

	if (threaded)
		churn_start(&c);
	for (int i = 0; i < (threaded ? 20 : 1) && !st; i++)
		st = in_child(fn, arg, said, len);
	if (threaded)
		churn_stop(&c);
	return st;
}

/* ---- 1: a child's hp_free of the parent's 8 MiB block ----------------------------------- */

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(i >> 12);
}

static bool intact(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		if (p[i] != (unsigned char)(i >> 12))
			return false;
	return true;
}

static int free_big_in_child(void *arg)
{
	pid_t parent = getppid();

	hp_free(arg); /* logged, ignored */
	hp_free((char *)arg + BIG / 2);
	errno = 0;
	if (hp_malloc(64, 0, 0) || errno != EINVAL)
		return 2;
	return says_fork_of(parent) ? 0 : 3;
}

static void free_of_the_parents_block(void **state)
{
	bool threaded = *(bool *)*state;
	unsigned char *p = hp_malloc(BIG, 0, 0);
	char said[1024];
	int st;

	assert_non_null(p);
	fill(p, BIG);
	st = in_children(threaded, free_big_in_child, p, said, sizeof(said));
	assert_true(intact(p, BIG));
	if (st)
		fail_msg("child ended with %d; it said: %s", st, said);
	hp_free(p);
}

/* ---- 2: a child's hp_cleanup ------------------------------------------------------------- */

static int cleanup_in_child(void *arg)
{
	(void)arg;
	if (hp_cleanup() || hp_cleanup())
		return 2;
	return hp_initialized() ? 3 : 0;
}

static void get_all_and_put_back(struct hp_mempool *mp)
{
	void **o = calloc(POOL_N, sizeof(*o));

	assert_non_null(o);
	assert_int_equal(hp_mempool_get_bulk(mp, o, POOL_N), 0);
	for (unsigned i = 0; i < POOL_N; i++)
		memset(o[i], (int)i, 64);
	hp_mempool_put_bulk(mp, o, POOL_N);
	free(o);
	assert_int_equal(hp_mempool_audit(mp), 0);
	assert_int_equal(hp_mempool_avail_count(mp), POOL_N);
}

static void cleanup_in_a_child(void **state)
{
	bool threaded = *(bool *)*state;
	struct hp_mempool *mp = hp_mempool_create("fork.pool", POOL_N, 64, 32, 0, 0);
	const char *sock = hp_telemetry_path();
	struct stat st;
	char said[256];
	int rc;

	assert_non_null(mp);
	get_all_and_put_back(mp);
	rc = in_children(threaded, cleanup_in_child, NULL, said, sizeof(said));
	get_all_and_put_back(mp);
	assert_ptr_equal(hp_mempool_lookup("fork.pool"), mp);
	if (sock) /* the child removed nothing of the parent's */
		assert_int_equal(stat(sock, &st), 0);
	if (rc)
		fail_msg("child ended with %d; it said: %s", rc, said);
	assert_int_equal(hp_mempool_free(mp), 0);
}

/* ---- 3: parent and child on one pool ----------------------------------------------------- */

/* The calls that check their pool fail with the sentence; the inline get faults. */
static int use_pool_in_child(void *arg)
{
	struct hp_mempool *mp = arg;
	pid_t parent = getppid();
	void *o;

	if (hp_mempool_lookup("fork.pool") || !says_fork_of(parent))
		return 2;
	if (hp_mempool_avail_count(mp) != 0 || !says_fork_of(parent))
		return 3;
	if (hp_mempool_audit(mp) != -EINVAL || !says_fork_of(parent))
		return 4;
	if (hp_mempool_free(mp) != -EINVAL || !says_fork_of(parent))
		return 5;
	if (hp_mempool_create("fork.other", 16, 64, 0, 0, 0) || !says_fork_of(parent))
		return 6;
	if (hp_memzone_reserve("fork.zone", 4096, 0, 0, 0) || !says_fork_of(parent))
		return 7;
	if (hp_ring_create("fork.ring", 16, 0, 0) || !says_fork_of(parent))
		return 8;
	say("getting");
	hp_mempool_get(mp, &o); /* the pool is not mapped here */
	return 9;
}

static void one_pool_in_parent_and_child(void **state)
{
	bool threaded = *(bool *)*state;
	struct hp_mempool *mp = hp_mempool_create("fork.pool", POOL_N, 64, 32, 0, 0);
	struct churn c;
	char said[2048];
	int st = SIGNALLED + SIGSEGV;

	assert_non_null(mp);
	if (threaded)
		churn_start(&c);
	for (int i = 0; i < (threaded ? 10 : 1) && st == SIGNALLED + SIGSEGV; i++) {
		st = in_child(use_pool_in_child, mp, said, sizeof(said));
		get_all_and_put_back(mp); /* each object handed out once: audit and count hold */
	}
	if (threaded)
		churn_stop(&c);
	if (st != SIGNALLED + SIGSEGV)
		fail_msg("child ended with %d, not SIGSEGV; it said: %s", st, said);
	assert_int_equal(hp_mempool_free(mp), 0);
}

/* ---- 4: locks held by the parent's other threads at fork --------------------------------- */

static int malloc_in_child(void *arg)
{
	pid_t parent = getppid();

	(void)arg;
	errno = 0;
	if (hp_malloc(200, 0, 0) || errno != EINVAL)
		return 2;
	if (!says_fork_of(parent))
		return 3;
	if (hp_mempool_lookup("fork.churn") || !says_fork_of(parent))
		return 4;
	return 0;
}

static void test_a_child_of_a_threaded_parent_fails_fast_in_hp_malloc(void **state)
{
	struct churn c;
	char said[1024];
	int i, st = 0;

	(void)state;
	churn_start(&c);
	for (i = 0; i < 200 && !st; i++)
		st = in_child(malloc_in_child, NULL, said, sizeof(said));
	churn_stop(&c);
	if (st)
		fail_msg("child %d ended with %d; it said: %s", i, st, said);
}

/* A walk's callback holds the memzone lock while another thread forks. */
struct held {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int state; /* 1: in the callback, 2: leave it */
};

static int hold_in_walk(const struct hp_memzone *mz, void *arg)
{
	struct held *h = arg;

	(void)mz;
	pthread_mutex_lock(&h->m);
	h->state = 1;
	pthread_cond_broadcast(&h->cv);
	while (h->state != 2)
		pthread_cond_wait(&h->cv, &h->m);
	pthread_mutex_unlock(&h->m);
	return 1;
}

static void *walk_and_hold(void *arg)
{
	hp_memzone_walk(hold_in_walk, arg);
	return NULL;
}

static int reserve_in_child(void *arg)
{
	pid_t parent = getppid();

	(void)arg;
	if (hp_memzone_reserve("fork.zone2", 4096, 0, 0, 0) || !says_fork_of(parent))
		return 2;
	if (hp_memzone_lookup("fork.zone") || !says_fork_of(parent))
		return 3;
	/* a runtime of its own takes every lock afresh */
	if (hp_test_init_str("--no-telemetry --no-huge --log-level=error") < 0) {
		say(hp_last_error());
		return 4;
	}
	if (!hp_memzone_reserve("fork.zone", 4096, 0, 0, 0) || !hp_malloc(200, 0, 0))
		return 5;
	return hp_cleanup();
}

static void test_a_child_forked_while_a_thread_holds_the_memzone_lock_fails_fast(void **state)
{
	struct held h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	const struct hp_memzone *mz = hp_memzone_reserve("fork.zone", 4096, 0, 0, 0);
	char said[1024];
	pthread_t t;
	int st;

	(void)state;
	assert_non_null(mz);
	assert_int_equal(pthread_create(&t, NULL, walk_and_hold, &h), 0);
	pthread_mutex_lock(&h.m);
	while (h.state != 1)
		pthread_cond_wait(&h.cv, &h.m);
	pthread_mutex_unlock(&h.m);
	st = in_child(reserve_in_child, NULL, said, sizeof(said));
	pthread_mutex_lock(&h.m);
	h.state = 2;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.m);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (st)
		fail_msg("child ended with %d; it said: %s", st, said);
	assert_ptr_equal(hp_memzone_lookup("fork.zone"), mz);
	assert_int_equal(hp_memzone_free(mz), 0);
}

/* ---- a stray access faults in the child ---------------------------------------------------- */

static int write_parents_memory(void *arg)
{
	memset(arg, 0xee, 4096);
	return 2;
}

static void test_a_child_that_touches_runtime_memory_dies_of_sigsegv(void **state)
{
	unsigned char *p = hp_malloc(BIG, 0, 0), *small = hp_malloc(100, 0, 0);
	char said[64];

	(void)state;
	assert_non_null(p);
	assert_non_null(small);
	fill(p, BIG);
	memset(small, 7, 100);
	assert_int_equal(in_child(write_parents_memory, p, said, sizeof(said)),
			 SIGNALLED + SIGSEGV);
	assert_int_equal(in_child(write_parents_memory, small - 64, said, sizeof(said)),
			 SIGNALLED + SIGSEGV);
	assert_true(intact(p, BIG));
	for (int i = 0; i < 100; i++)
		assert_int_equal(small[i], 7);
	hp_free(p);
	hp_free(small);
}

/* ---- system() and popen() -------------------------------------------------------------- */

/* Whether one of this process's fds is a hugepage memfd. */
static bool have_memfd(void)
{
	char path[64], link[256];
	ssize_t n;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', strstr(link, "memfd:")))
			return true;
	}
	return false;
}

static void test_system_and_popen_children_hold_no_runtime_fd(void **state)
{
	struct hp_mempool *mp = hp_mempool_create("fork.pool", POOL_N, 64, 32, 0, 0);
	char line[512], all[8192] = "";
	FILE *f;

	(void)state;
	assert_non_null(mp);
	if (hp_test_huge())
		assert_true(have_memfd()); /* else the check below proves nothing */
	/* the shell lists its own fds: what it inherited across exec */
	f = popen("for f in /proc/$$/fd/*; do echo \"$f $(readlink $f)\"; done", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		strncat(all, line, sizeof(all) - strlen(all) - 1);
	assert_int_equal(pclose(f), 0);
	assert_null(strstr(all, "memfd:"));
	assert_null(strstr(all, "socket:"));
	assert_null(strstr(all, "eventfd"));
	assert_null(strstr(all, "hugepool.lock"));
	assert_int_equal(system("exit 3") >> 8, 3);
	get_all_and_put_back(mp);
	assert_int_equal(hp_mempool_free(mp), 0);
}

/* ---- a child's own runtime ------------------------------------------------------------- */

static int own_runtime(void *arg)
{
	const char *opts = arg;
	struct hp_mempool *mp;
	void *o[16];

	if (hp_test_init_str(opts) < 0) {
		say(hp_last_error());
		return 2;
	}
	mp = hp_mempool_create("fork.pool", 64, 64, 8, 0, 0);
	if (!mp) {
		say(hp_last_error());
		return 3;
	}
	for (int i = 0; i < 100; i++) {
		if (hp_mempool_get_bulk(mp, o, 16))
			return 4;
		hp_mempool_put_bulk(mp, o, 16);
	}
	if (hp_mempool_audit(mp) || hp_mempool_avail_count(mp) != 64)
		return 5;
	if (hp_mempool_free(mp) || hp_cleanup())
		return 6;
	return 0;
}

static void own_runtime_in_child(const char *parent_opts, const char *child_opts)
{
	struct hp_mempool *mp;
	char said[1024];
	int st;

	hp_cleanup();
	if (hp_test_init_str(parent_opts) < 0)
		fail_msg("hp_init(%s): %s", parent_opts, hp_last_error());
	mp = hp_mempool_create("fork.pool", POOL_N, 64, 32, 0, 0);
	assert_non_null(mp);
	st = in_child(own_runtime, (void *)child_opts, said, sizeof(said));
	if (st)
		fail_msg("child with %s ended with %d; it said: %s", child_opts, st, said);
	get_all_and_put_back(mp);
	assert_int_equal(hp_mempool_free(mp), 0);
}

static void test_a_child_starts_a_runtime_of_its_own_with_its_own_prefix(void **state)
{
	char opts[128];

	(void)state;
	snprintf(opts, sizeof(opts), "--file-prefix=hp-fork-child-%d --log-level=error",
		 (int)getpid());
	own_runtime_in_child("--log-level=error", opts);
}

static void test_a_child_starts_a_runtime_of_its_own_with_the_default_options(void **state)
{
	char opts[128];

	(void)state;
	snprintf(opts, sizeof(opts), "--file-prefix=hp-fork-parent-%d --log-level=error",
		 (int)getpid());
	own_runtime_in_child(opts, "");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, hp_test_teardown)

/* A case that runs fn with a parent alone (false) or with threads churning (true) as its state. */
/* clang-format off */
#define THREADED(test, fn, threaded) \
	{.name = #test, .test_func = fn, .setup_func = setup, .teardown_func = hp_test_teardown, \
	 .initial_state = &(bool){threaded}}
/* clang-format on */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    THREADED(test_a_childs_free_of_an_8mib_block_leaves_the_parents_copy_intact,
		     free_of_the_parents_block, false),
	    THREADED(test_a_childs_free_leaves_a_threaded_parents_block_intact,
		     free_of_the_parents_block, true),
	    THREADED(test_a_childs_cleanup_leaves_the_parents_pool_working, cleanup_in_a_child,
		     false),
	    THREADED(test_a_childs_cleanup_leaves_a_threaded_parents_pool_working,
		     cleanup_in_a_child, true),
	    THREADED(test_a_child_using_the_parents_pool_fails_or_faults_and_the_pool_holds,
		     one_pool_in_parent_and_child, false),
	    THREADED(test_a_child_using_a_threaded_parents_pool_fails_or_faults,
		     one_pool_in_parent_and_child, true),
	    T(test_a_child_of_a_threaded_parent_fails_fast_in_hp_malloc),
	    T(test_a_child_forked_while_a_thread_holds_the_memzone_lock_fails_fast),
	    T(test_a_child_that_touches_runtime_memory_dies_of_sigsegv),
	    T(test_system_and_popen_children_hold_no_runtime_fd),
	    T(test_a_child_starts_a_runtime_of_its_own_with_its_own_prefix),
	    T(test_a_child_starts_a_runtime_of_its_own_with_the_default_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
