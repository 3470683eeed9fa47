/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fork(): a child starts with no runtime. Every mapping of runtime memory is MADV_DONTFORK, so
 * the child has none of the parent's pages (a stray access faults in the child). In the child,
 * right after fork, each library forgets the parent's runtime through its EAL_FORK_CHILD hook:
 * state and locks back to their initial values, the child's copies of inherited fds closed;
 * nothing is unmapped, unlinked, punched or released, so the parent keeps all it had. Calls
 * then fail with eal_no_runtime()'s sentence, naming the parent, until the child calls hp_init().
 * runtime_pid is written under init.c's init_lock and read by the child handler, which runs
 * alone in the child.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "eal_internal.h"

static struct eal_fork_hook *hooks;
static _Atomic pid_t runtime_pid; /* the process whose runtime is starting or running, or 0 */
static pid_t forked_from;	  /* the parent whose runtime this child left behind, or 0 */

void eal_fork_hook_register(struct eal_fork_hook *h)
{
	h->next = hooks;
	hooks = h;
}

static void fork_child(void)
{
	pid_t parent = atomic_load_explicit(&runtime_pid, memory_order_relaxed);

	if (parent)
		forked_from = parent;
	atomic_store_explicit(&runtime_pid, 0, memory_order_relaxed);
	for (struct eal_fork_hook *h = hooks; h; h = h->next)
		h->fn();
}

static void __attribute__((constructor)) fork_register(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

void eal_fork_runtime(bool starting)
{
	atomic_store_explicit(&runtime_pid, starting ? getpid() : 0, memory_order_relaxed);
	if (starting)
		forked_from = 0;
}

pid_t eal_forked_from(void)
{
	return forked_from;
}

const char *eal_no_runtime(void)
{
	static __thread char why[256];

	if (!forked_from)
		return "the runtime is not started; call hp_init() first";
	snprintf(why, sizeof(why),
		 "this process (pid %d) is a fork of pid %d, whose runtime is not mapped here; "
		 "call hp_init() with a --file-prefix of its own to start one",
		 (int)getpid(), (int)forked_from);
	return why;
}

int eal_need_runtime(const char *who)
{
	return hp_initialized() ? 0 : hp_fail(-EINVAL, "%s: %s", who, eal_no_runtime());
}
