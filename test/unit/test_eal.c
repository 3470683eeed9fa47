/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/eal: option parsing (argv, HUGEPOOL_OPTS, errors), hp_init/hp_cleanup life cycle and the
 * subsystem registry, lcore ids and thread registration, logging and per-thread errors.
 * Runs with --no-huge: nothing here needs hugepages. Threads wait on barriers, never on sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test.h"
#include "eal/eal_internal.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- a fake pair of subsystems that record what ran, to check order and failure handling */

static char trace[256];
static int fail_z;

static void note(const char *what)
{
	strncat(trace, what, sizeof(trace) - strlen(trace) - 1);
}

static int a_init(const struct hp_init_opts *o)
{
	(void)o;
	note("+a");
	return 0;
}

static void a_cleanup(void)
{
	note("-a");
	hp_fail(-EIO, "a's cleanup wrote this over the real error");
}

static int z_init(const struct hp_init_opts *o)
{
	(void)o;
	note("+z");
	if (!hp_initialized())
		note("!"); /* a hook must see the runtime as started in its own thread */
	if (hp_init_opts(NULL) != -EBUSY || hp_cleanup() != 0)
		note("?"); /* neither may deadlock or recurse from a hook */
	return fail_z ? hp_fail(-ENODEV, "z: fake node missing; the test asked for it") : 0;
}

static void z_cleanup(void)
{
	note("-z");
}

/* after every library's subsystem; z registered first, started second */
EAL_SUBSYS_REGISTER(test_z, EAL_SUBSYS_TELEMETRY + 2, z_init, z_cleanup)
EAL_SUBSYS_REGISTER(test_a, EAL_SUBSYS_TELEMETRY + 1, a_init, a_cleanup)

static int init_str(const char *opts)
{
	return hp_test_init_str(opts);
}

static int teardown(void **state)
{
	(void)state;
	hp_cleanup();
	hp_log_set_handler(NULL, NULL);
	hp_log_set_level(HP_LOG_WARNING);
	unsetenv("HUGEPOOL_OPTS");
	fail_z = 0;
	trace[0] = '\0';
	return 0;
}

/* ---- options */

/* Parse one argv (after a program name) and return the count. */
static int parse(struct hp_init_opts *o, int n, const char **args)
{
	const char *argv[16] = {"prog"};
	int i;

	for (i = 0; i < n; i++)
		argv[i + 1] = args[i];
	return hp_parse_args(n + 1, (char **)argv, o);
}

/* Parse "--name=value" and "--name value" and check both give the same struct. */
static void parse_both(const char *name, const char *value, struct hp_init_opts *o)
{
	char joined[256];
	const char *one[1] = {joined}, *two[2] = {name, value};
	struct hp_init_opts o2;

	snprintf(joined, sizeof(joined), "%s=%s", name, value);
	assert_int_equal(parse(o, 1, one), 2);
	assert_int_equal(parse(&o2, 2, two), 3);
	/* strings point into different argv entries: compare them as strings, the rest as bytes */
	if (o->huge_dir)
		assert_string_equal(o->huge_dir, o2.huge_dir);
	if (o->lcores)
		assert_string_equal(o->lcores, o2.lcores);
	if (o->file_prefix)
		assert_string_equal(o->file_prefix, o2.file_prefix);
	o2.huge_dir = o->huge_dir, o2.lcores = o->lcores, o2.file_prefix = o->file_prefix;
	assert_memory_equal(o, &o2, sizeof(o2));
}

static void test_every_option_is_accepted_in_both_forms(void **state)
{
	struct hp_init_opts o;
	const char *nohuge[1] = {"--no-huge"};
	char cpu[16];

	(void)state;
	parse_both("--socket-mem", "512,0,64", &o);
	assert_int_equal(o.n_socket_mem, 3);
	assert_int_equal(o.socket_mem_mb[0], 512);
	assert_int_equal(o.socket_mem_mb[1], 0);
	assert_int_equal(o.socket_mem_mb[2], 64);
	parse_both("--huge-size", "2M", &o);
	assert_int_equal(o.huge_size, 2u << 20);
	parse_both("--huge-size", "1G", &o);
	assert_int_equal(o.huge_size, 1u << 30);
	parse_both("--huge-size", "2048K", &o);
	assert_int_equal(o.huge_size, 2u << 20);
	parse_both("--huge-size", "1048576K", &o);
	assert_int_equal(o.huge_size, 1u << 30);
	parse_both("--huge-size", "1024M", &o);
	assert_int_equal(o.huge_size, 1u << 30);
	parse_both("--huge-size", "2048kB", &o);
	assert_int_equal(o.huge_size, 2u << 20);
	parse_both("--huge-dir", "/mnt/huge", &o);
	assert_string_equal(o.huge_dir, "/mnt/huge");
	parse_both("--iova", "pa", &o);
	assert_int_equal(o.iova, HP_IOVA_OPT_PA);
	parse_both("--iova", "va", &o);
	assert_int_equal(o.iova, HP_IOVA_OPT_VA);
	parse_both("--iova", "auto", &o);
	assert_int_equal(o.iova, HP_IOVA_OPT_AUTO);
	snprintf(cpu, sizeof(cpu), "%d", sched_getcpu());
	parse_both("--lcores", cpu, &o);
	assert_string_equal(o.lcores, cpu);
	parse_both("--file-prefix", "my_app-2", &o);
	assert_string_equal(o.file_prefix, "my_app-2");
	parse_both("--log-level", "debug", &o);
	assert_int_equal(o.log_level, HP_LOG_DEBUG);
	parse_both("--log-level", "error", &o);
	assert_int_equal(o.log_level, HP_LOG_ERR);
	parse_both("--log-level", "3", &o);
	assert_int_equal(o.log_level, HP_LOG_INFO);
	assert_int_equal(parse(&o, 1, nohuge), 2);
	assert_true(o.no_huge);
}

static void test_lcores_accepts_lists_and_ranges_of_online_cpus(void **state)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	char list[64];
	const char *args[1] = {list};
	struct hp_init_opts o;

	(void)state;
	if (n < 2)
		hp_test_skip("needs 2 online CPUs, this machine has %ld", n);
	snprintf(list, sizeof(list), "--lcores=1,0");
	assert_int_equal(parse(&o, 1, args), 2);
	snprintf(list, sizeof(list), "--lcores=0-%ld", n - 1);
	assert_int_equal(parse(&o, 1, args), 2);
	assert_string_equal(o.lcores, list + 9);
}

struct bad {
	const char *args[3];
	const char *names; /* must appear in hp_last_error() */
	const char *value; /* must appear too (NULL: none) */
};

static void test_each_malformed_or_unknown_option_fails_with_a_sentence_naming_it(void **state)
{
	static char offline[32], toolong[48], nine[16 + 2 * HP_MAX_NUMA_NODES];
	const struct bad bad[] = {
	    {{"--socket-mem=abc"}, "--socket-mem", "abc"},
	    {{"--socket-mem=1,,2"}, "--socket-mem", "1,,2"},
	    {{"--socket-mem="}, "--socket-mem", NULL},
	    {{"--socket-mem=-1"}, "--socket-mem", "-1"},
	    {{"--socket-mem=+5"}, "--socket-mem", "+5"},
	    {{"--socket-mem=64,"}, "--socket-mem", "64,"},
	    {{"--socket-mem=99999999999"}, "--socket-mem", "99999999999"},
	    {{"--socket-mem=64,999999999999"}, "entry 1 is above the largest value", "4294967295"},
	    {{nine}, "--socket-mem", "nodes"},
	    {{"--socket-mem"}, "--socket-mem", "needs a value"},
	    {{"--huge-size=2"}, "--huge-size", "'2'"},
	    {{"--huge-size=3M"}, "--huge-size", "3M"},
	    {{"--huge-size=0M"}, "--huge-size", "0M"},
	    {{"--huge-size=2X"}, "--huge-size", "2X"},
	    {{"--huge-size=M"}, "--huge-size", "'M'"},
	    {{"--huge-size=2MiBs"}, "--huge-size", "2MiBs"},
	    {{"--huge-size", "2 M"}, "--huge-size", "2 M"},
	    {{"--huge-size=99999999G"}, "--huge-size", "99999999G"},
	    {{"--huge-dir="}, "--huge-dir", NULL},
	    {{"--no-huge=yes"}, "--no-huge", "yes"},
	    {{"--iova=ba"}, "--iova", "ba"},
	    {{"--iova", "PAVA"}, "--iova", "PAVA"},
	    {{"--lcores=abc"}, "--lcores", "abc"},
	    {{"--lcores=3-1"}, "--lcores", "3-1"},
	    {{"--lcores=0,0"}, "--lcores", "twice"},
	    {{"--lcores=0-"}, "--lcores", "0-"},
	    {{"--lcores=99999"}, "--lcores", "99999"},
	    {{offline}, "--lcores", "offline"},
	    {{"--file-prefix=a/b"}, "--file-prefix", "a/b"},
	    {{"--file-prefix="}, "--file-prefix", NULL},
	    {{toolong}, "--file-prefix", "31"},
	    {{"--log-level=loud"}, "--log-level", "loud"},
	    {{"--log-level=5"}, "--log-level", "'5'"},
	    {{"--bogus"}, "--bogus", "--socket-mem"},
	    {{"--bogus=1"}, "--bogus=1", "--log-level"},
	    {{"-x"}, "'-x'", "--"},
	    {{"--no-huge", "--socket-mem=x"}, "--socket-mem", "'x'"},
	};
	struct hp_init_opts o;
	unsigned i;
	int n;

	(void)state;
	snprintf(offline, sizeof(offline), "--lcores=%ld", sysconf(_SC_NPROCESSORS_CONF) + 3);
	snprintf(toolong, sizeof(toolong), "--file-prefix=%s", "abcdefghijabcdefghijabcdefghij12");
	strcpy(nine, "--socket-mem=1");
	for (n = 0; n < HP_MAX_NUMA_NODES; n++) /* one entry more than the build allows */
		strcat(nine, ",1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (n = 0; n < 3 && bad[i].args[n]; n++)
			;
		errno = 0;
		if (parse(&o, n, (const char **)bad[i].args) != -EINVAL || errno != EINVAL)
			fail_msg("%s %s was accepted", bad[i].args[0], bad[i].args[1] ?: "");
		if (!strstr(hp_last_error(), bad[i].names))
			fail_msg("'%s' does not name %s", hp_last_error(), bad[i].names);
		if (bad[i].value && !strstr(hp_last_error(), bad[i].value))
			fail_msg("'%s' does not say %s", hp_last_error(), bad[i].value);
	}
	/* hp_init itself fails the same way, and leaves nothing started */
	assert_int_equal(init_str("--no-huge --iova=ba"), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "--iova"));
	assert_false(hp_initialized());
}

/* The unknown-option sentence lists every option there is, and nothing that is not one. */
static void test_unknown_option_lists_each_option_the_parser_knows(void **state)
{
	static const char *const every[] = {"--socket-mem",   "--socket-limit", "--huge-size",
					    "--huge-dir",     "--no-huge",	"--iova",
					    "--lcores",	      "--file-prefix",	"--log-level",
					    "--no-telemetry", "--mem-keep"};
	const char *bogus[1] = {"--bogus"};
	char list[512], *p, *name, *save = NULL;
	struct hp_init_opts o;
	unsigned i, n = 0;

	(void)state;
	assert_int_equal(parse(&o, 1, bogus), -EINVAL);
	p = strstr(hp_last_error(), "options are ");
	assert_non_null(p);
	snprintf(list, sizeof(list), "%s", p + strlen("options are "));
	p = strstr(list, " (");
	assert_non_null(p);
	*p = '\0';
	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++)
		if (!strstr(list, every[i]))
			fail_msg("'%s' does not list %s", list, every[i]);
	for (name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save), n++) {
		const char *one[1] = {name};

		if (parse(&o, 1, one) < 0 && strstr(hp_last_error(), "unknown option"))
			fail_msg("the sentence lists %s, which the parser does not know", name);
	}
	assert_int_equal(n, sizeof(every) / sizeof(every[0]));
}

static void test_hugepool_opts_merges_with_argv_and_argv_wins(void **state)
{
	const char *args[3] = {"--socket-mem=7", "--file-prefix", "fromargv"};
	struct hp_init_opts o;

	(void)state;
	setenv("HUGEPOOL_OPTS", "  --socket-mem=1,2\t--log-level debug --file-prefix=fromenv ", 1);
	assert_int_equal(parse(&o, 3, args), 4);
	assert_int_equal(o.n_socket_mem, 1);
	assert_int_equal(o.socket_mem_mb[0], 7);
	assert_int_equal(o.socket_mem_mb[1], 0);
	assert_int_equal(o.log_level, HP_LOG_DEBUG);
	assert_string_equal(o.file_prefix, "fromargv");
	/* the environment alone */
	assert_int_equal(parse(&o, 0, args), 1);
	assert_int_equal(o.socket_mem_mb[1], 2);
	assert_string_equal(o.file_prefix, "fromenv");
}

static void test_a_bad_hugepool_opts_is_named_as_coming_from_the_environment(void **state)
{
	struct hp_init_opts o;
	char big[1100];

	(void)state;
	setenv("HUGEPOOL_OPTS", "--iova=maybe", 1);
	assert_int_equal(parse(&o, 0, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "HUGEPOOL_OPTS"));
	assert_non_null(strstr(hp_last_error(), "maybe"));
	setenv("HUGEPOOL_OPTS", "--no-huge stray", 1);
	assert_int_equal(parse(&o, 0, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "stray"));
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("HUGEPOOL_OPTS", big, 1);
	assert_int_equal(parse(&o, 0, NULL), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "HUGEPOOL_OPTS"));
}

/* Child side: the exit status says whether hp_parse_args read HUGEPOOL_OPTS. */
#define SECURE_ENV_CHILD "--secure-env-child"
static int secure_env_child(void)
{
	struct hp_init_opts o;

	_exit(hp_parse_args(0, NULL, &o) == 0 && o.n_socket_mem == 0 ? 0 : 1); /* no LSan run */
}

/* Copy this test's program to dst (no shell: the tree's path may hold any character). */
static void copy_self(const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open("/proc/self/exe", O_RDONLY), out = open(dst, O_WRONLY | O_CREAT, 0700);

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void test_a_setuid_program_ignores_hugepool_opts(void **state)
{
	char dir[] = "/tmp/hp-test-setuid-XXXXXX", copy[64];
	int st;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		hp_test_skip("making a setuid copy of this test needs root");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(copy, sizeof(copy), "%s/t", dir);
	copy_self(copy);
	/* owned by nobody and setuid: run by root, the process has AT_SECURE set */
	assert_int_equal(chown(copy, 65534, 65534), 0);
	assert_int_equal(chmod(copy, 04755), 0);
	setenv("HUGEPOOL_OPTS", "--socket-mem=64", 1);
	pid = fork();
	if (pid == 0) {
		execl(copy, copy, SECURE_ENV_CHILD, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(copy);
	rmdir(dir);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		hp_test_skip("cannot run a setuid copy in /tmp (mounted nosuid?)");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_return_value_counts_consumed_args_and_stops_at_the_first_non_option(void **state)
{
	const char *stop[5] = {"--no-huge", "--iova", "va", "app-arg", "--log-level=debug"};
	const char *dash[3] = {"--no-huge", "--", "--app-option"};
	const char *lone[2] = {"-", "--no-huge"};
	char *prog[1] = {"prog"};
	struct hp_init_opts o;

	(void)state;
	assert_int_equal(parse(&o, 5, stop), 4);
	assert_int_equal(o.iova, HP_IOVA_OPT_VA);
	assert_int_equal(o.log_level, 0);
	assert_int_equal(parse(&o, 3, dash), 3);
	assert_int_equal(parse(&o, 2, lone), 1);
	assert_false(o.no_huge);
	assert_int_equal(hp_parse_args(1, prog, &o), 1);
	assert_int_equal(hp_parse_args(0, NULL, &o), 0);
	assert_int_equal(hp_parse_args(1, NULL, &o), -EINVAL);
	assert_int_equal(hp_parse_args(1, prog, NULL), -EINVAL);
	assert_int_equal(init_str("--no-huge -- --app-option x"), 3);
	assert_true(hp_initialized());
}

/* ---- life cycle */

static void test_init_copies_the_options_so_callers_may_free_theirs(void **state)
{
	struct hp_init_opts o = {
	    .no_huge = true, .iova = HP_IOVA_OPT_VA, .log_level = HP_LOG_WARNING};
	char *prefix = strdup("copied"), *lcores = malloc(16);

	(void)state;
	snprintf(lcores, 16, "%d", sched_getcpu());
	o.file_prefix = prefix;
	o.lcores = lcores;
	assert_int_equal(hp_init_opts(&o), 0);
	memset(prefix, 'x', strlen(prefix));
	memset(lcores, 'x', strlen(lcores));
	free(prefix);
	free(lcores);
	assert_string_equal(eal_opts()->file_prefix, "copied");
	assert_int_equal(hp_lcore_cpu(0), atoi(eal_opts()->lcores));
	assert_true(eal_opts()->no_huge);
	assert_int_equal(eal_opts()->iova, HP_IOVA_OPT_VA);
	assert_int_equal(hp_log_get_level(), HP_LOG_WARNING);
	assert_int_equal(hp_cleanup(), 0);
	assert_null(eal_opts()->file_prefix);
}

static void test_init_opts_rejects_an_inconsistent_struct(void **state)
{
	struct hp_init_opts o = {.no_huge = true};

	(void)state;
	o.socket_mem_mb[1] = 64; /* n_socket_mem says no entries */
	assert_int_equal(hp_init_opts(&o), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "n_socket_mem"));
	o.socket_mem_mb[1] = 0;
	o.file_prefix = "no spaces";
	assert_int_equal(hp_init_opts(&o), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "file_prefix"));
	o.file_prefix = NULL;
	o.huge_size = 3 << 20;
	assert_int_equal(hp_init_opts(&o), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "huge_size"));
	assert_false(hp_initialized());
}

static void test_double_init_fails_busy(void **state)
{
	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(init_str("--no-huge"), -EBUSY);
	assert_non_null(strstr(hp_last_error(), "hp_cleanup"));
	assert_int_equal(hp_init_opts(NULL), -EBUSY);
	assert_true(hp_initialized());
}

static void test_subsystems_start_in_order_and_stop_in_reverse(void **state)
{
	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	assert_string_equal(trace, "+a+z");
	assert_int_equal(hp_cleanup(), 0);
	assert_string_equal(trace, "+a+z-z-a");
}

static void test_init_after_a_failed_init_works(void **state)
{
	(void)state;
	fail_z = 1;
	assert_int_equal(init_str("--no-huge"), -ENODEV);
	/* z failed: z (it must tolerate a failed init) and a are stopped, in reverse */
	assert_string_equal(trace, "+a+z-z-a");
	/* the failing sentence survives a's cleanup writing another one */
	assert_non_null(strstr(hp_last_error(), "fake node missing"));
	assert_false(hp_initialized());
	assert_int_equal(hp_lcore_count(), 0);
	assert_int_equal(hp_lcore_id(), HP_LCORE_ANY);
	assert_int_equal(hp_thread_register(), -EINVAL);
	fail_z = 0;
	trace[0] = '\0';
	assert_int_equal(init_str("--no-huge"), 2);
	assert_string_equal(trace, "+a+z");
	assert_true(hp_initialized());
	assert_int_equal(hp_lcore_id(), 0);
}

static void test_cleanup_twice_and_without_init_returns_zero(void **state)
{
	(void)state;
	assert_int_equal(hp_cleanup(), 0);
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(hp_cleanup(), 0);
	assert_int_equal(hp_cleanup(), 0);
	assert_string_equal(trace, "+a+z-z-a");
	assert_false(hp_initialized());
}

/* ---- lcores and threads */

struct reg {
	pthread_barrier_t *registered, *release;
	int rc;
	unsigned id;
	unsigned id_after; /* hp_lcore_id() after release */
	int cpu;	   /* pin to this CPU first, or -1 */
};

static void *reg_thread(void *p)
{
	struct reg *r = p;
	cpu_set_t set;

	if (r->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	r->rc = hp_thread_register();
	r->id = hp_lcore_id();
	if (r->registered)
		pthread_barrier_wait(r->registered);
	if (r->release)
		pthread_barrier_wait(r->release);
	r->id_after = hp_lcore_id();
	return NULL; /* no unregister: the exit hook gives the id back */
}

/* Start n threads that register and wait; the caller waits on `registered`, then `release`. */
static struct reg *start_threads(pthread_t *t, unsigned n, pthread_barrier_t *b1,
				 pthread_barrier_t *b2)
{
	struct reg *r = calloc(n, sizeof(*r));
	unsigned i;

	assert_non_null(r);
	pthread_barrier_init(b1, NULL, n + 1);
	pthread_barrier_init(b2, NULL, n + 1);
	for (i = 0; i < n; i++) {
		r[i] = (struct reg){b1, b2, 0, 0, 0, -1};
		assert_int_equal(pthread_create(&t[i], NULL, reg_thread, &r[i]), 0);
	}
	return r;
}

static void join_threads(pthread_t *t, unsigned n, pthread_barrier_t *b1, pthread_barrier_t *b2)
{
	unsigned i;

	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(b1);
	pthread_barrier_destroy(b2);
}

static void test_threads_registering_concurrently_get_distinct_ids(void **state)
{
	enum { N = 16 };
	pthread_barrier_t b1, b2;
	pthread_t t[N];
	struct reg *r;
	unsigned i, j;

	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(hp_lcore_id(), 0);
	r = start_threads(t, N, &b1, &b2);
	pthread_barrier_wait(&b1);
	assert_int_equal(hp_lcore_count(), N + 1);
	pthread_barrier_wait(&b2);
	join_threads(t, N, &b1, &b2);
	for (i = 0; i < N; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_in_range(r[i].id, 1, HP_MAX_LCORES - 1);
		for (j = 0; j < i; j++)
			assert_int_not_equal(r[i].id, r[j].id);
	}
	assert_int_equal(hp_lcore_count(), 1);
	free(r);
}

static void test_an_exiting_threads_id_comes_back(void **state)
{
	struct reg r = {NULL, NULL, 0, 0, 0, -1}, r2 = r;
	pthread_t t;

	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(pthread_create(&t, NULL, reg_thread, &r), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.id, 1);
	assert_int_equal(hp_lcore_count(), 1);
	assert_int_equal(hp_lcore_cpu(1), -EINVAL);
	assert_int_equal(pthread_create(&t, NULL, reg_thread, &r2), 0);
	pthread_join(t, NULL);
	assert_int_equal(r2.id, 1);
}

static void test_register_fails_nospc_when_every_id_is_taken(void **state)
{
	enum { N = HP_MAX_LCORES };
	pthread_barrier_t b1, b2;
	pthread_t t[N];
	unsigned i, ok = 0, full = 0;
	struct reg *r;

	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	r = start_threads(t, N, &b1, &b2);
	pthread_barrier_wait(&b1);
	assert_int_equal(hp_lcore_count(), HP_MAX_LCORES);
	pthread_barrier_wait(&b2);
	join_threads(t, N, &b1, &b2);
	for (i = 0; i < N; i++) {
		ok += r[i].rc == 0 && r[i].id != HP_LCORE_ANY;
		full += r[i].rc == -ENOSPC && r[i].id == HP_LCORE_ANY;
	}
	assert_int_equal(ok, HP_MAX_LCORES - 1); /* the init thread holds id 0 */
	assert_int_equal(full, 1);
	assert_int_equal(hp_lcore_count(), 1);
	free(r);
}

static void test_register_is_idempotent_and_unregister_gives_the_id_back(void **state)
{
	(void)state;
	assert_int_equal(hp_thread_register(), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_init"));
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(hp_thread_register(), 0);
	assert_int_equal(hp_lcore_id(), 0);
	assert_int_equal(hp_lcore_count(), 1);
	assert_int_equal(hp_lcore_cpu(0), -ENOENT);
	hp_thread_unregister();
	assert_int_equal(hp_lcore_id(), HP_LCORE_ANY);
	assert_int_equal(hp_lcore_count(), 0);
	hp_thread_unregister();
	assert_int_equal(hp_thread_register(), 0);
	assert_int_equal(hp_lcore_id(), 0);
}

static void test_cleanup_takes_the_id_of_every_registered_thread(void **state)
{
	pthread_barrier_t b1, b2;
	pthread_t t[2];
	struct reg *r;

	(void)state;
	assert_int_equal(init_str("--no-huge"), 2);
	r = start_threads(t, 2, &b1, &b2);
	pthread_barrier_wait(&b1);
	assert_int_equal(hp_cleanup(), 0);
	assert_int_equal(hp_lcore_id(), HP_LCORE_ANY);
	assert_int_equal(init_str("--no-huge"), 2);
	pthread_barrier_wait(&b2);
	join_threads(t, 2, &b1, &b2);
	assert_int_not_equal(r[0].id, HP_LCORE_ANY);
	assert_int_equal(r[0].id_after, HP_LCORE_ANY);
	assert_int_equal(r[1].id_after, HP_LCORE_ANY);
	assert_int_equal(hp_lcore_count(), 1);
	free(r);
}

static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int c, n = 0;

	sched_getaffinity(0, sizeof(set), &set);
	for (c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/* A CPU is never negative and every negative answer is an errno (-1 would read as -EPERM). */
static void test_lcore_cpu_tells_a_cpu_from_no_cpu_and_from_an_unused_id(void **state)
{
	char opts[64];
	int cpu = -1;

	(void)state;
	assert_int_equal(allowed_cpus(&cpu, 1), 1);
	assert_int_equal(init_str("--no-huge"), 2);
	assert_int_equal(hp_thread_register(), 0);
	assert_int_equal(hp_lcore_cpu(hp_lcore_id()), -ENOENT);
	assert_non_null(strstr(hp_last_error(), "no CPU of its own"));
	assert_int_equal(hp_lcore_cpu(hp_lcore_id() + 1), -EINVAL);
	assert_int_equal(hp_lcore_cpu(HP_LCORE_ANY), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "not in use"));
	hp_thread_unregister();
	assert_int_equal(hp_cleanup(), 0);
	snprintf(opts, sizeof(opts), "--no-huge --lcores=%d", cpu);
	assert_int_equal(init_str(opts), 3);
	assert_int_equal(hp_lcore_cpu(0), cpu);
	assert_true(hp_lcore_cpu(0) >= 0);
}

static void test_lcores_pin_the_init_thread_and_keep_ids_for_listed_cpus(void **state)
{
	struct reg pinned = {NULL, NULL, 0, 0, 0, -1}, loose = pinned;
	cpu_set_t before, now;
	char opts[64];
	int cpus[2];
	pthread_t t;

	(void)state;
	if (allowed_cpus(cpus, 2) < 2)
		hp_test_skip("needs 2 CPUs this process may run on");
	sched_getaffinity(0, sizeof(before), &before);
	snprintf(opts, sizeof(opts), "--no-huge --lcores=%d,%d", cpus[1], cpus[0]);
	assert_int_equal(init_str(opts), 3);
	assert_int_equal(hp_lcore_id(), 0);
	assert_int_equal(hp_lcore_cpu(0), cpus[1]);
	sched_getaffinity(0, sizeof(now), &now);
	assert_int_equal(CPU_COUNT(&now), 1);
	assert_true(CPU_ISSET(cpus[1], &now));
	assert_int_equal(sched_getcpu(), cpus[1]);
	/* a thread pinned to the second listed CPU gets its id; an unpinned one the next */
	pinned.cpu = cpus[0];
	assert_int_equal(pthread_create(&t, NULL, reg_thread, &pinned), 0);
	pthread_join(t, NULL);
	assert_int_equal(pinned.id, 1);
	assert_int_equal(pthread_create(&t, NULL, reg_thread, &loose), 0);
	pthread_join(t, NULL);
	assert_int_equal(loose.id, 2);
	assert_int_equal(hp_cleanup(), 0);
	sched_getaffinity(0, sizeof(now), &now);
	assert_true(CPU_EQUAL(&before, &now));
}

static void test_current_node_matches_libnuma(void **state)
{
	int n = eal_node_count(), cpu, node;

	(void)state;
	assert_true(n >= 1);
	if (numa_available() < 0) {
		assert_int_equal(n, 1);
		hp_test_skip("libnuma says this kernel has no NUMA support");
	}
	assert_int_equal(n, numa_max_node() + 1);
	cpu = sched_getcpu();
	node = eal_current_node();
	if (sched_getcpu() != cpu)
		hp_test_skip("the thread moved between CPUs during the check");
	assert_int_equal(node, numa_node_of_cpu(cpu));
}

/* ---- logging and errors */

struct seen {
	int n[5];
	char last[128];
};

static void handler(enum hp_log_level level, const char *msg, void *arg)
{
	struct seen *s = arg;

	s->n[level]++;
	snprintf(s->last, sizeof(s->last), "%s", msg);
}

static void test_log_handler_receives_lines_at_the_set_level_and_not_below(void **state)
{
	static struct seen s; /* static: the handler stays set if an assertion fails */

	(void)state;
	hp_log_set_handler(handler, &s);
	hp_log_set_level(HP_LOG_WARNING);
	HP_LOG_E("e %d", 1);
	HP_LOG_W("w %d", 2);
	HP_LOG_I("i %d", 3);
	HP_LOG_D("d %d", 4);
	assert_int_equal(s.n[HP_LOG_ERR], 1);
	assert_int_equal(s.n[HP_LOG_WARNING], 1);
	assert_int_equal(s.n[HP_LOG_INFO] + s.n[HP_LOG_DEBUG], 0);
	assert_string_equal(s.last, "w 2");
	/* --log-level sets it too */
	assert_int_equal(init_str("--no-huge --log-level=debug"), 3);
	assert_int_equal(hp_log_get_level(), HP_LOG_DEBUG);
	memset(&s, 0, sizeof(s)); /* forget what the subsystems logged while starting */
	HP_LOG_D("d %d", 5);
	assert_int_equal(s.n[HP_LOG_DEBUG], 1);
	assert_string_equal(s.last, "d 5");
}

static void *fail_in_thread(void *p)
{
	hp_fail(-ENOENT, "thread's own failure");
	snprintf(p, 64, "%s", hp_last_error());
	return NULL;
}

static void test_last_error_is_per_thread(void **state)
{
	char theirs[64] = "";
	pthread_t t;

	(void)state;
	assert_int_equal(hp_fail(-EEXIST, "main's failure"), -EEXIST);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(pthread_create(&t, NULL, fail_in_thread, theirs), 0);
	pthread_join(t, NULL);
	assert_string_equal(theirs, "thread's own failure");
	assert_string_equal(hp_last_error(), "main's failure");
}

static void test_size_formatters_pick_the_largest_exact_unit_and_check_buf(void **state)
{
	const struct {
		uint64_t bytes;
		const char *str, *arg;
	} cases[] = {
	    {0, "0 B", "0M"},
	    {4160, "4160 B", "4K"},
	    {64 << 10, "64 KiB", "64K"},
	    {2 << 20, "2 MiB", "2M"},
	    {1536ULL << 20, "1536 MiB", "1536M"},
	    {1ULL << 30, "1 GiB", "1G"},
	    {3ULL << 40, "3 TiB", "3072G"},
	    {1ULL << 50, "1024 TiB", "1048576G"},
	};
	char buf[24];

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(hp_size_str(buf, sizeof(buf), cases[i].bytes), buf);
		assert_string_equal(buf, cases[i].str);
		assert_ptr_equal(hp_size_arg(buf, sizeof(buf), cases[i].bytes), buf);
		assert_string_equal(buf, cases[i].arg);
	}
	assert_string_equal(hp_size_str(buf, 4, 2 << 20), "2 M");
	errno = 0;
	assert_null(hp_size_str(NULL, 8, 1));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_size_str"));
	errno = 0;
	assert_null(hp_size_arg(buf, 0, 1));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_size_arg"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
	    T(test_every_option_is_accepted_in_both_forms),
	    T(test_lcores_accepts_lists_and_ranges_of_online_cpus),
	    T(test_each_malformed_or_unknown_option_fails_with_a_sentence_naming_it),
	    T(test_unknown_option_lists_each_option_the_parser_knows),
	    T(test_hugepool_opts_merges_with_argv_and_argv_wins),
	    T(test_a_bad_hugepool_opts_is_named_as_coming_from_the_environment),
	    T(test_a_setuid_program_ignores_hugepool_opts),
	    T(test_return_value_counts_consumed_args_and_stops_at_the_first_non_option),
	    T(test_init_copies_the_options_so_callers_may_free_theirs),
	    T(test_init_opts_rejects_an_inconsistent_struct),
	    T(test_double_init_fails_busy),
	    T(test_subsystems_start_in_order_and_stop_in_reverse),
	    T(test_init_after_a_failed_init_works),
	    T(test_cleanup_twice_and_without_init_returns_zero),
	    T(test_threads_registering_concurrently_get_distinct_ids),
	    T(test_an_exiting_threads_id_comes_back),
	    T(test_register_fails_nospc_when_every_id_is_taken),
	    T(test_register_is_idempotent_and_unregister_gives_the_id_back),
	    T(test_lcore_cpu_tells_a_cpu_from_no_cpu_and_from_an_unused_id),
	    T(test_cleanup_takes_the_id_of_every_registered_thread),
	    T(test_lcores_pin_the_init_thread_and_keep_ids_for_listed_cpus),
	    T(test_current_node_matches_libnuma),
	    T(test_log_handler_receives_lines_at_the_set_level_and_not_below),
	    T(test_last_error_is_per_thread),
	    T(test_size_formatters_pick_the_largest_exact_unit_and_check_buf),
#undef T
	};

	if (argc > 1 && !strcmp(argv[1], SECURE_ENV_CHILD))
		return secure_env_child();
	unsetenv("HUGEPOOL_OPTS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
