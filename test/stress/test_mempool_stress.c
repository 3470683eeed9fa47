/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool stress: cores x 4 threads hammer one pool for HP_STRESS_SECONDS (default 3) with
 * random bulk sizes; a third use their lcore's cache, a third a cache of their own, a third
 * none. Every object carries its index; an atomic owner table catches an object handed to two
 * threads at once or put while not held. At the end every object must be back exactly once:
 * counts, hp_mempool_audit, and one bulk get of the whole pool marking a seen-bitmap.
 * The per-CPU cases run every thread without an lcore id (per-CPU caches), more threads than
 * CPUs, while another thread moves them between CPUs and signals them (both abort restartable
 * sequences). meson runs this program twice: as it is, and with rseq turned off by
 * GLIBC_TUNABLES (the fallback). Run under ASan+UBSan and TSan builds too (see doc/mempool.md).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hp_test.h"

#define N_OBJS 8192
#define MAX_BULK 48
#define MAX_HELD 256

enum kind { LCORE_CACHE, USER_CACHE, NO_CACHE, PER_CPU };

struct shared {
	struct hp_mempool *mp;
	void *by_idx[N_OBJS];		/* the object with each index */
	_Atomic unsigned owner[N_OBJS]; /* 0 = in the pool, else thread id + 1 */
	_Atomic unsigned errors;
	_Atomic int go;
	uint64_t deadline_ns;
};

struct worker {
	struct shared *s;
	unsigned id;
	enum kind kind;
	_Atomic pid_t tid;
	uint64_t gets, fails;
};

/* object layout used here: [0] its index, [1] the thread holding it */
struct obj {
	unsigned idx;
	unsigned holder;
};

static void take(struct worker *w, void *p)
{
	struct obj *o = p;
	unsigned free_mark = 0;

	if (o->idx >= N_OBJS || w->s->by_idx[o->idx] != p ||
	    !atomic_compare_exchange_strong(&w->s->owner[o->idx], &free_mark, w->id + 1)) {
		atomic_fetch_add(&w->s->errors, 1);
		return;
	}
	o->holder = w->id;
}

static void give(struct worker *w, void *p)
{
	struct obj *o = p;
	unsigned mine = w->id + 1;

	if (o->holder != w->id || !atomic_compare_exchange_strong(&w->s->owner[o->idx], &mine, 0))
		atomic_fetch_add(&w->s->errors, 1);
}

static int get(struct worker *w, struct hp_mempool_cache *c, void **objs, unsigned n)
{
	switch (w->kind) {
	case LCORE_CACHE: /* fall through: an unregistered thread's get is the same call */
	case PER_CPU:
		return hp_mempool_get_bulk(w->s->mp, objs, n);
	case USER_CACHE:
		return hp_mempool_generic_get(w->s->mp, objs, n, c);
	default:
		return hp_mempool_generic_get(w->s->mp, objs, n, NULL);
	}
}

static void put(struct worker *w, struct hp_mempool_cache *c, void **objs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		give(w, objs[i]);
	switch (w->kind) {
	case LCORE_CACHE: /* fall through */
	case PER_CPU:
		hp_mempool_put_bulk(w->s->mp, objs, n);
		break;
	case USER_CACHE:
		hp_mempool_generic_put(w->s->mp, objs, n, c);
		break;
	default:
		hp_mempool_generic_put(w->s->mp, objs, n, NULL);
		break;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct hp_mempool_cache *c = NULL;
	void *held[MAX_HELD + MAX_BULK];
	unsigned n_held = 0, seed = w->id * 7919u + 1, i;

	if (w->kind == LCORE_CACHE && hp_thread_register() < 0)
		w->kind = NO_CACHE; /* more threads than lcore ids: still useful */
	if (w->kind == USER_CACHE)
		c = hp_mempool_cache_create(1 + rand_r(&seed) % 128, HP_NODE_ANY);
	atomic_store(&w->tid, (pid_t)syscall(SYS_gettid));
	while (!atomic_load(&w->s->go))
		;
	while (hp_now_ns() < w->s->deadline_ns) {
		unsigned n = 1 + (unsigned)rand_r(&seed) % MAX_BULK;

		if (n_held + n <= MAX_HELD && rand_r(&seed) % 3) {
			if (get(w, c, &held[n_held], n) == 0) {
				for (i = 0; i < n; i++)
					take(w, held[n_held + i]);
				n_held += n;
				w->gets++;
			} else {
				w->fails++;
			}
		} else if (n_held) {
			n = n > n_held ? n_held : n;
			n_held -= n;
			put(w, c, &held[n_held], n);
		}
	}
	put(w, c, held, n_held);
	if (c)
		hp_mempool_cache_free(c);
	if (w->kind == LCORE_CACHE) {
		hp_mempool_cache_flush(hp_mempool_default_cache(w->s->mp));
		hp_thread_unregister();
	}
	return NULL;
}

static void number(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct shared *s = arg;
	struct obj *o = obj;

	(void)mp;
	o->idx = idx;
	o->holder = ~0u;
	s->by_idx[idx] = obj;
}

struct shape {
	const char *ops;
	unsigned cache;
	unsigned per_core; /* threads per online CPU */
	bool per_cpu;	   /* every thread without an lcore id (else the mix of kinds) */
	bool move;	   /* a thread moves the workers between CPUs and signals them */
	bool aborts;	   /* sequences must have been aborted (a backend that lets threads
			      spend most of their time in them, as the stack does) */
};

static void on_signal(int sig)
{
	(void)sig;
}

struct mover {
	struct worker *w;
	unsigned n_threads, n_cpus;
	uint64_t deadline_ns;
	uint64_t moves, signals;
};

/* Until the deadline: pin a random worker to a random CPU (or let it run anywhere), signal one. */
static void *move_workers(void *arg)
{
	struct mover *m = arg;
	unsigned seed = 12345;

	while (hp_now_ns() < m->deadline_ns) {
		struct worker *w = &m->w[(unsigned)rand_r(&seed) % m->n_threads];
		pid_t tid = atomic_load(&w->tid);
		unsigned cpu = (unsigned)rand_r(&seed) % (m->n_cpus + 1);
		cpu_set_t set;

		if (!tid)
			continue;
		CPU_ZERO(&set);
		for (unsigned i = 0; i < m->n_cpus; i++)
			if (cpu == m->n_cpus || i == cpu) /* n_cpus: all of them */
				CPU_SET(i, &set);
		m->moves += sched_setaffinity(tid, sizeof(set), &set) == 0;
		w = &m->w[(unsigned)rand_r(&seed) % m->n_threads];
		tid = atomic_load(&w->tid);
		if (tid && syscall(SYS_tgkill, getpid(), tid, SIGUSR1) == 0)
			m->signals++;
	}
	return NULL;
}

/* A number from the pool's dump: the line that matches fmt (a sscanf format ending in %lu). */
static unsigned long dumped(const struct hp_mempool *mp, const char *fmt)
{
	unsigned long v = 0;
	char *text = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	hp_mempool_dump(f, mp);
	fclose(f);
	for (line = strtok(text, "\n"); line && sscanf(line, fmt, &v) != 1;
	     line = strtok(NULL, "\n"))
		;
	assert_non_null(line);
	free(text);
	return v;
}

/* Says which mode of the per-CPU caches this run has; fails if it is not the one expected. */
static bool per_cpu_mode(void)
{
	const char *why, *tun = getenv("GLIBC_TUNABLES");
	bool on = hp_mempool_percpu_enabled(&why);

	hp_test_note("per-CPU caches %s", why);
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
	assert_int_equal(on, !(tun && strstr(tun, "glibc.pthread.rseq=0")));
#else
	(void)tun;
	assert_false(on);
#endif
	return on;
}

static void stress(const struct shape *sh)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n_cpus = (unsigned)(cores > 0 ? cores : 2);
	unsigned n_threads = n_cpus * sh->per_core, i;
	double seconds = hp_test_stress_seconds();
	struct shared *s = calloc(1, sizeof(*s));
	struct worker *w = calloc(n_threads, sizeof(*w));
	pthread_t *t = calloc(n_threads, sizeof(*t)), mt;
	struct mover m = {.w = w, .n_threads = n_threads, .n_cpus = n_cpus};
	struct sigaction sa = {.sa_handler = on_signal};
	static unsigned char seen[N_OBJS];
	static void *all[N_OBJS + 1];
	uint64_t gets = 0, fails = 0;
	unsigned long aborts;
	bool on = sh->per_cpu && per_cpu_mode();
	int flushed;

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	s->mp = hp_mempool_create_ops("stress", N_OBJS, sizeof(struct obj) + 40, sh->cache, 0, 0,
				      sh->ops);
	assert_non_null(s->mp);
	assert_int_equal(hp_mempool_obj_iter(s->mp, number, s), N_OBJS);
	for (i = 0; i < n_threads; i++) {
		w[i] = (struct worker){
		    .s = s, .id = i, .kind = sh->per_cpu ? PER_CPU : (enum kind)(i % 3)};
		assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
	}
	/* the run starts once every worker exists: starting many threads (under TSan, slowly)
	 * must not eat the time the workers and the mover are given */
	s->deadline_ns = hp_now_ns() + (uint64_t)(seconds * 1e9);
	m.deadline_ns = s->deadline_ns;
	if (sh->move)
		assert_int_equal(pthread_create(&mt, NULL, move_workers, &m), 0);
	atomic_store(&s->go, 1);
	for (i = 0; i < n_threads; i++) {
		pthread_join(t[i], NULL);
		gets += w[i].gets;
		fails += w[i].fails;
	}
	if (sh->move) {
		pthread_join(mt, NULL);
		hp_test_note("moved threads between %u CPUs %lu times, signalled them %lu times",
			     n_cpus, (unsigned long)m.moves, (unsigned long)m.signals);
		assert_true(m.moves > 0 && m.signals > 0);
	}
	if (on) { /* the abort path ran: threads were caught inside sequences and started over */
		aborts = dumped(s->mp, "  sequences restarted after an abort: %lu");
		hp_test_note("%lu sequences aborted by the kernel and restarted", aborts);
		assert_true(!sh->aborts || aborts > 0);
	}
	hp_test_note("%s, cache %u: %u threads%s, %.1f s, %lu bulk gets, %lu short", sh->ops,
		     sh->cache, n_threads, sh->per_cpu ? " without lcore ids" : "", seconds,
		     (unsigned long)gets, (unsigned long)fails);
	assert_int_equal(atomic_load(&s->errors), 0);
	assert_true(gets > 0);
	assert_int_equal(hp_mempool_avail_count(s->mp), N_OBJS);
	assert_int_equal(hp_mempool_in_use_count(s->mp), 0);
	assert_int_equal(hp_mempool_audit(s->mp), 0);
	if (sh->per_cpu) {
		/* what the threads left in the per-CPU caches goes back; nothing is lost on the way
		 */
		flushed = hp_mempool_percpu_flush(s->mp);
		assert_true(flushed >= 0);
		hp_test_note("%d objects were left in per-CPU caches", flushed);
		assert_int_equal(hp_mempool_avail_count(s->mp), N_OBJS);
	}
	/* every object back exactly once: the whole pool in one bulk, each index seen once */
	memset(seen, 0, sizeof(seen));
	assert_int_equal(hp_mempool_generic_get(s->mp, all, N_OBJS, NULL), 0);
	for (i = 0; i < N_OBJS; i++) {
		struct obj *o = all[i];

		assert_true(o->idx < N_OBJS);
		assert_ptr_equal(s->by_idx[o->idx], o);
		assert_int_equal(seen[o->idx]++, 0);
	}
	assert_int_equal(hp_mempool_generic_get(s->mp, &all[N_OBJS], 1, NULL), -ENOENT);
	hp_mempool_generic_put(s->mp, all, N_OBJS, NULL);
	assert_int_equal(hp_mempool_audit(s->mp), 0);
	hp_mempool_free(s->mp);
	free(t);
	free(w);
	free(s);
}

/* Every case is one shape of stress(), passed as the test's state. */
static void run_shape(void **state)
{
	stress(*state);
}

/* clang-format off */
#define SHAPE(test, ...) \
	{.name = #test, .test_func = run_shape, .initial_state = &(struct shape){__VA_ARGS__}}
/* clang-format on */

static int group_setup(void **state)
{
	(void)state;
	hp_test_init(64, "--socket-mem=64 --log-level=warning");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    SHAPE(test_ring_pool_gives_every_object_back_once, .ops = "ring_mp_mc", .cache = 64,
		  .per_core = 4),
	    SHAPE(test_stack_pool_gives_every_object_back_once, .ops = "stack", .cache = 32,
		  .per_core = 4),
	    SHAPE(test_ring_pool_with_full_caches_gives_every_object_back_once, .ops = "ring_mp_mc",
		  .cache = HP_MEMPOOL_CACHE_MAX, .per_core = 4),
	    SHAPE(test_unregistered_threads_moved_between_cpus_give_every_object_back_once,
		  .ops = "ring_mp_mc", .cache = 64, .per_core = 4, .per_cpu = true, .move = true),
	    SHAPE(test_unregistered_threads_with_full_caches_on_a_stack_give_every_object_back_once,
		  .ops = "stack", .cache = HP_MEMPOOL_CACHE_MAX, .per_core = 4, .per_cpu = true,
		  .move = true, .aborts = true),
	    /*
	     * Many more threads than cores, with a cache smaller than the largest bulk: threads are
	     * preempted often, inside sequences too, and every path (cache, refill, flush, direct)
	     * runs.
	     */
	    SHAPE(test_threads_preempted_in_sequences_lose_and_duplicate_nothing, .ops = "stack",
		  .cache = 32, .per_core = 32, .per_cpu = true, .move = true, .aborts = true),
	};

	return cmocka_run_group_tests_name("mempool_stress", tests, group_setup, hp_test_teardown);
}
