/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to libhugepool, shared by all its libraries and drivers (never installed).
 * Errors: every failure path returns through hp_fail()/hp_fail_ptr(), which set errno and the
 * thread's hp_last_error() sentence together, so no error is reported without its sentence.
 * Subsystems (mem, memzone, heap, ...) register init/cleanup hooks from a constructor;
 * hp_init runs them in ascending order, hp_cleanup (and a failed hp_init) in descending order.
 */
#ifndef HP_EAL_INTERNAL_H
#define HP_EAL_INTERNAL_H

#include <errno.h>
#include <hp_eal.h>

/**
 * Record a failure: err (negative errno) becomes errno (positive) and the formatted sentence
 * becomes hp_last_error(). The sentence says what went wrong and what to do.
 * @return err, so that a caller can `return hp_fail(-EINVAL, "...")`.
 */
int hp_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** As hp_fail(), for functions that return a pointer: returns NULL. */
void *hp_fail_ptr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Log a line at a level (no trailing newline needed). */
void hp_log(enum hp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HP_LOG_E(...) hp_log(HP_LOG_ERR, __VA_ARGS__)
#define HP_LOG_W(...) hp_log(HP_LOG_WARNING, __VA_ARGS__)
#define HP_LOG_I(...) hp_log(HP_LOG_INFO, __VA_ARGS__)
#define HP_LOG_D(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)

/** Options in force since the running hp_init() started (a copy; strings owned by eal). */
const struct hp_init_opts *hp_eal_opts(void);

/** @return the NUMA node of the CPU the calling thread runs on now (0 without libnuma support). */
int hp_current_node(void);

/** @return the number of NUMA nodes the system has (highest node id + 1). */
int hp_node_count(void);

/** A subsystem's start and stop, run by hp_init()/hp_cleanup() in order. */
struct hp_subsys {
	const char *name;
	int order; /* lower starts first: mem 10, memzone 20, heap 30, mempool 40, rdma 50 */
	int (*init)(const struct hp_init_opts *opts); /* 0 or -errno set through hp_fail() */
	void (*cleanup)(void);                         /* must tolerate a failed or absent init */
	struct hp_subsys *next;
};

/** Add a subsystem; call from a constructor (HP_SUBSYS_REGISTER). */
void hp_subsys_register(struct hp_subsys *s);

#define HP_SUBSYS_REGISTER(var)                                                       \
	static void __attribute__((constructor)) hp_subsys_ctor_##var(void)          \
	{                                                                             \
		hp_subsys_register(&(var));                                           \
	}

#endif
