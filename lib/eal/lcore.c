/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore table: which thread holds which lcore id. All of it is written under `lock` (lock level
 * 14, doc/architecture.md); a thread's own __hp_lcore_id_tls is written by that thread
 * (register/unregister) or, under `lock`, by eal_lcore_stop() through the pointer kept in its slot
 * (so a stale id never survives hp_cleanup). A slot's pointer is cleared, under `lock`, before its
 * thread's TLS goes away: the pthread key destructor unregisters every exiting thread.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "eal_internal.h"
#include "eal_options.h"
#include "eal_init.h"

struct slot {
	unsigned *tls; /* __hp_lcore_id_tls of the thread holding this id; NULL = free */
	int cpu; /* CPU listed in --lcores for this id, -1 if the id is not for a listed CPU */
};

HP_API __thread unsigned __hp_lcore_id_tls = HP_LCORE_ANY;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[HP_MAX_LCORES];
static unsigned n_listed; /* ids [0, n_listed) belong to the --lcores CPUs */
static unsigned n_used;
static bool active; /* between eal_lcore_start and eal_lcore_stop */
static pthread_t init_thread;
static cpu_set_t init_affinity;
static bool init_pinned;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused)
{
	(void)unused;
	hp_thread_unregister();
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, on_thread_exit);
}

/* Give id to the calling thread; lock held. */
static void take(unsigned id)
{
	slots[id].tls = &__hp_lcore_id_tls;
	n_used++;
	__hp_lcore_id_tls = id;
	pthread_setspecific(exit_key, &__hp_lcore_id_tls);
}

/* The CPU the calling thread is pinned to, or -1 when it may run on several. */
static int pinned_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) || CPU_COUNT(&set) != 1)
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

/* The id for the calling thread: its listed CPU's, else the lowest unreserved free one. */
static int pick_id(void)
{
	int cpu = n_listed ? pinned_cpu() : -1;
	unsigned i;

	for (i = 0; cpu >= 0 && i < n_listed; i++)
		if (slots[i].cpu == cpu && !slots[i].tls)
			return (int)i;
	for (i = n_listed; i < HP_MAX_LCORES; i++)
		if (!slots[i].tls)
			return (int)i;
	return -1;
}

HP_API int hp_thread_register(void)
{
	int id, rc = 0;

	pthread_once(&exit_key_once, make_exit_key);
	pthread_mutex_lock(&lock);
	if (!active)
		rc = hp_fail(-EINVAL, "hp_thread_register: %s", eal_no_runtime());
	else if (__hp_lcore_id_tls != HP_LCORE_ANY)
		rc = 0;
	else if ((id = pick_id()) < 0)
		rc = hp_fail(-ENOSPC,
			     "hp_thread_register: all %u lcore ids are taken (%u kept for "
			     "--lcores CPUs); unregister idle threads, or rebuild with a larger "
			     "-Dmax_lcores",
			     HP_MAX_LCORES, n_listed);
	else
		take((unsigned)id);
	pthread_mutex_unlock(&lock);
	return rc;
}

HP_API void hp_thread_unregister(void)
{
	unsigned id = __hp_lcore_id_tls;

	if (id == HP_LCORE_ANY)
		return;
	pthread_mutex_lock(&lock);
	if (id < HP_MAX_LCORES && slots[id].tls == &__hp_lcore_id_tls) {
		slots[id].tls = NULL;
		n_used--;
	}
	__hp_lcore_id_tls = HP_LCORE_ANY;
	pthread_mutex_unlock(&lock);
	pthread_setspecific(exit_key, NULL);
}

HP_API unsigned hp_lcore_count(void)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = n_used;
	pthread_mutex_unlock(&lock);
	return n;
}

HP_API int hp_lcore_cpu(unsigned lcore)
{
	int rc;

	pthread_mutex_lock(&lock);
	if (lcore >= HP_MAX_LCORES || !slots[lcore].tls)
		rc = hp_fail(-EINVAL,
			     "hp_lcore_cpu: lcore %u is not in use; ids in use are those "
			     "hp_lcore_id() returns in registered threads",
			     lcore);
	else if (slots[lcore].cpu < 0)
		rc = hp_fail(-ENOENT,
			     "hp_lcore_cpu: lcore %u has no CPU of its own (a registered thread, "
			     "or the init thread without --lcores): it may run on any CPU",
			     lcore);
	else
		rc = slots[lcore].cpu;
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Pin the calling (init) thread to cpu, remembering its affinity for eal_lcore_stop(). */
static int pin_init_thread(int cpu)
{
	cpu_set_t set;
	int err;

	init_thread = pthread_self();
	if (pthread_getaffinity_np(init_thread, sizeof(init_affinity), &init_affinity))
		CPU_ZERO(&init_affinity);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(init_thread, sizeof(set), &set);
	if (err)
		return hp_fail(-err,
			       "--lcores: cannot pin the init thread to CPU %d (%s); the "
			       "process may not run there (see taskset -p %d, cgroup cpusets)",
			       cpu, strerror(err), (int)getpid());
	init_pinned = true;
	return 0;
}

int eal_lcore_start(const struct hp_init_opts *opts)
{
	int cpus[HP_MAX_LCORES], n = 0, i, rc = 0;

	if (opts->lcores) {
		n = eal_opts_parse_lcores(opts->lcores, cpus);
		if (n < 0)
			return n;
	}
	pthread_once(&exit_key_once, make_exit_key);
	pthread_mutex_lock(&lock);
	for (i = 0; i < HP_MAX_LCORES; i++)
		slots[i] = (struct slot){NULL, i < n ? cpus[i] : -1};
	n_listed = (unsigned)n;
	n_used = 0;
	init_pinned = false;
	if (n)
		rc = pin_init_thread(cpus[0]);
	if (!rc) {
		__hp_lcore_id_tls = HP_LCORE_ANY; /* a stale id from an earlier runtime */
		take(0);
		active = true;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void eal_lcore_stop(void)
{
	unsigned i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < HP_MAX_LCORES; i++) {
		if (slots[i].tls)
			__atomic_store_n(slots[i].tls, HP_LCORE_ANY, __ATOMIC_RELAXED);
		slots[i] = (struct slot){NULL, -1};
	}
	n_used = 0;
	n_listed = 0;
	active = false;
	if (init_pinned && pthread_equal(init_thread, pthread_self()) && CPU_COUNT(&init_affinity))
		pthread_setaffinity_np(init_thread, sizeof(init_affinity), &init_affinity);
	init_pinned = false;
	pthread_mutex_unlock(&lock);
}

/* In a forked child: no id is held (the threads that held them are not in the child). */
static void lcore_fork_child(void)
{
	lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (unsigned i = 0; i < HP_MAX_LCORES; i++)
		slots[i] = (struct slot){NULL, -1};
	n_used = n_listed = 0;
	active = init_pinned = false;
	__hp_lcore_id_tls = HP_LCORE_ANY;
}
EAL_FORK_CHILD(lcore_fork_child)
