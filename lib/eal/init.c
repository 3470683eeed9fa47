/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime start and stop: the subsystem registry, hp_init(), hp_cleanup() and the copy of the
 * options in force. init_lock (lock level 1, doc/architecture.md) serialises start and stop and
 * guards `subsystems`, `opts` and `strings`; `running` is also read without the lock
 * (hp_initialized), so it is atomic and set with release only after every subsystem started. While
 * the init (or cleanup) thread runs the subsystems' hooks, hp_initialized() is true in that thread
 * only (in_hooks), so a subsystem may use the public calls of those started before it; other
 * threads see false until success.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal_internal.h"
#include "eal_options.h"
#include "eal_init.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static struct eal_subsys *subsystems; /* sorted by ascending order */
static struct hp_init_opts opts;      /* in force; zero when not running */
static char *strings[3];	      /* the copies opts points to: huge_dir, lcores, file_prefix */
static _Atomic bool running;
static __thread bool in_hooks;

void eal_subsys_register(struct eal_subsys *s)
{
	struct eal_subsys **p;

	pthread_mutex_lock(&init_lock);
	for (p = &subsystems; *p && (*p)->order <= s->order; p = &(*p)->next)
		;
	s->next = *p;
	*p = s;
	pthread_mutex_unlock(&init_lock);
}

/* Cleanup of s and every subsystem after it up to (not including) end, last first. */
static void cleanup_range(struct eal_subsys *s, struct eal_subsys *end)
{
	if (s == end)
		return;
	cleanup_range(s->next, end);
	if (s->cleanup)
		s->cleanup();
}

static void free_opts(void)
{
	unsigned i;

	for (i = 0; i < 3; i++) {
		free(strings[i]);
		strings[i] = NULL;
	}
	memset(&opts, 0, sizeof(opts));
}

/* opts = *o with its strings copied; -ENOMEM through hp_fail() when a copy fails. */
static int copy_opts(const struct hp_init_opts *o)
{
	const char *src[3] = {o->huge_dir, o->lcores, o->file_prefix};
	unsigned i;

	opts = *o;
	for (i = 0; i < 3; i++)
		if (src[i] && !(strings[i] = strdup(src[i]))) {
			free_opts();
			return hp_fail(-ENOMEM, "hp_init: out of memory copying the options");
		}
	opts.huge_dir = strings[0];
	opts.lcores = strings[1];
	opts.file_prefix = strings[2];
	return 0;
}

/*
 * Start every subsystem in order. When one fails, the ones before it (and it: cleanup must
 * tolerate a failed init) are stopped in reverse, and its sentence is kept.
 */
static int start_subsystems(void)
{
	char why[512];
	struct eal_subsys *s;
	int rc;

	for (s = subsystems; s; s = s->next) {
		if (!s->init)
			continue;
		eal_error_restore(0, "");
		rc = s->init(&opts);
		if (rc >= 0)
			continue;
		if (!hp_last_error()[0])
			hp_fail(rc,
				"hp_init: subsystem %s failed with error %d without saying why "
				"(a bug: please report it)",
				s->name, rc);
		snprintf(why, sizeof(why), "%s", hp_last_error());
		cleanup_range(subsystems, s->next);
		return eal_error_restore(rc, why);
	}
	return 0;
}

HP_API int hp_init_opts(const struct hp_init_opts *o)
{
	static const struct hp_init_opts defaults;
	int rc;

	if (!o)
		o = &defaults;
	if (in_hooks) /* from a subsystem's hook: init_lock is ours already */
		return hp_fail(-EBUSY, "hp_init: called from a subsystem's start or stop hook; "
				       "a hook must not start the runtime");
	pthread_mutex_lock(&init_lock);
	if (atomic_load_explicit(&running, memory_order_relaxed))
		rc = hp_fail(-EBUSY, "hp_init: the runtime is already started; call hp_cleanup() "
				     "before starting it again");
	else
		rc = eal_opts_check(o);
	if (!rc)
		rc = copy_opts(o);
	if (!rc) {
		eal_fork_runtime(true);
		if (opts.log_level)
			hp_log_set_level(opts.log_level);
		rc = eal_lcore_start(&opts);
		in_hooks = true;
		if (!rc)
			rc = start_subsystems();
		in_hooks = false;
		if (rc) {
			eal_lcore_stop();
			free_opts();
			eal_fork_runtime(false);
		}
	}
	if (!rc)
		atomic_store_explicit(&running, true, memory_order_release);
	pthread_mutex_unlock(&init_lock);
	return rc;
}

HP_API int hp_init(int argc, char **argv)
{
	struct hp_init_opts o;
	int n, rc;

	n = hp_parse_args(argc, argv, &o);
	if (n < 0)
		return n;
	rc = hp_init_opts(&o);
	return rc < 0 ? rc : n;
}

HP_API int hp_cleanup(void)
{
	if (in_hooks) /* from a subsystem's hook: the runtime is starting or stopping already */
		return 0;
	pthread_mutex_lock(&init_lock);
	if (atomic_load_explicit(&running, memory_order_relaxed)) {
		atomic_store_explicit(&running, false, memory_order_release);
		in_hooks = true;
		cleanup_range(subsystems, NULL);
		in_hooks = false;
		eal_lcore_stop();
		free_opts();
		eal_fork_runtime(false);
	}
	pthread_mutex_unlock(&init_lock);
	return 0;
}

HP_API bool hp_initialized(void)
{
	return atomic_load_explicit(&running, memory_order_acquire) || in_hooks;
}

const struct hp_init_opts *eal_opts(void)
{
	return &opts;
}

/* In a forked child: no runtime, and init_lock free whoever held it in the parent. */
static void init_fork_child(void)
{
	init_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	atomic_store_explicit(&running, false, memory_order_relaxed);
	in_hooks = false;
	free_opts();
}
EAL_FORK_CHILD(init_fork_child)
