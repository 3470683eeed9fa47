/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/eal's internal interface: what the other folders of libhugepool (lib/NAME,
 * drivers/mempool/NAME) may use from eal. Never installed. The headers private to lib/eal
 * itself are eal_init.h and eal_options.h.
 *
 * Errors: every failure path returns through hp_fail()/hp_fail_ptr(), which set errno and the
 * thread's hp_last_error() sentence together, so no error is reported without its sentence.
 * Subsystems (mem, memzone, heap, ...) register init/cleanup hooks from a constructor;
 * hp_init runs them in ascending order, hp_cleanup (and a failed hp_init) in descending order.
 */
#ifndef HP_EAL_INTERNAL_H
#define HP_EAL_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
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
const struct hp_init_opts *eal_opts(void);

/** @return the NUMA node of the CPU the calling thread runs on now (0 without libnuma support). */
int eal_current_node(void);

/** @return the number of NUMA nodes the system has (highest node id + 1). */
int eal_node_count(void);

/** @return true when node is a node id this system and this build have (0 to count - 1). */
bool eal_node_exists(int node);

/** A subsystem's start and stop, run by hp_init()/hp_cleanup() in order. */
struct eal_subsys {
	const char *name;
	int order; /* lower starts first: mem 10, memzone 20, heap 30, mempool 40, rdma 50 */
	int (*init)(const struct hp_init_opts *opts); /* 0 or -errno set through hp_fail() */
	void (*cleanup)(void);			      /* must tolerate a failed or absent init */
	struct eal_subsys *next;
};

/** Add a subsystem; call from a constructor (EAL_SUBSYS_REGISTER). */
void eal_subsys_register(struct eal_subsys *s);

#define EAL_SUBSYS_REGISTER(var)                                                                   \
	static void __attribute__((constructor)) eal_subsys_ctor_##var(void)                       \
	{                                                                                          \
		eal_subsys_register(&(var));                                                       \
	}

#endif
