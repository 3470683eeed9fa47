/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-CPU caches for threads without an lcore id (doc/percpu-cache.md). Each pool with a cache
 * has one per possible CPU, after its lcore caches in the pool's memzone behind a table of their
 * addresses (slot 0 points at it); the inline get/put reach the calling CPU's cache through one
 * restartable sequence (lib/rseq/arch/x86_64/hp_mempool_rseq.h), which the kernel aborts and
 * restarts if the thread is preempted, migrated or signalled before its single committing store.
 * This file decides once whether they are on, and holds the slow half: refill and flush in bulk
 * from and to the backend, and the drain.
 *
 * A drain (counting needs none) fences instead of locking out the users: it sets every cache's
 * limit to 0, so sequences that start afterwards miss and take the slow path, then calls
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ), which returns once every sequence that
 * read the old limit has committed or will abort. Then it owns len and objs until it restores
 * the limit (release; the sequences read limit before len). Drains are serialised by
 * drain_lock (lock level 4, doc/architecture.md).
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mempool_internal.h"
#include "rseq/rseq_internal.h"

_Static_assert(offsetof(struct mempool_percpu, limit) == 8 &&
		   offsetof(struct mempool_percpu, objs) == 64,
	       "arch/x86_64/hp_mempool_rseq.h knows this layout");

static ptrdiff_t rseq_off;
static unsigned ncpu; /* possible CPUs: every cpu_id the kernel reports is below it */

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static bool enabled;
static char why[200];
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_BUILD 1
#endif
#endif

static long membarrier(int cmd, unsigned flags)
{
	return syscall(__NR_membarrier, cmd, flags, 0);
}

/* Sets why; returns true when every piece is here. */
static bool check(void)
{
#ifdef TSAN_BUILD
	snprintf(why, sizeof(why),
		 "off: ThreadSanitizer build (TSan cannot follow restartable "
		 "sequences); threads without an lcore id use the backend directly");
	return false;
#else
	const char *missing = rseq_unusable();
	long cmds;

	if (!HP_MEMPOOL_RSEQ_ARCH[0])
		missing = "no restartable sequences for this architecture";
	if (missing) {
		snprintf(why, sizeof(why),
			 "off: %s; threads without an lcore id use the backend directly", missing);
		return false;
	}
	cmds = membarrier(MEMBARRIER_CMD_QUERY, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) ||
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0) < 0) {
		snprintf(why, sizeof(why),
			 "off: the kernel lacks membarrier's RSEQ fence (Linux "
			 "5.10 or later has it); threads without an lcore id use the backend "
			 "directly");
		return false;
	}
	rseq_off = rseq_area_offset();
	ncpu = eal_possible_cpus();
	snprintf(why, sizeof(why),
		 "on: %s restartable sequences on glibc's rseq area (%u bytes), "
		 "membarrier RSEQ fence, %u possible CPUs",
		 HP_MEMPOOL_RSEQ_ARCH, rseq_area_size(), ncpu);
	return true;
#endif
}

static void detect(void)
{
	enabled = check();
	HP_LOG_I("mempool per-CPU caches %s", why);
}

void mempool_percpu_detect(void)
{
	pthread_once(&detect_once, detect);
}

HP_API bool hp_mempool_percpu_enabled(const char **reason)
{
	mempool_percpu_detect();
	if (reason)
		*reason = why;
	return enabled;
}

/* Bytes from one per-CPU cache to the next: header line + limit slots. */
static size_t stride_of(unsigned cache_size)
{
	return HP_ALIGN_UP(sizeof(struct mempool_percpu) +
			       HP_MEMPOOL_CACHE_FLUSHTHRESH((size_t)cache_size) * sizeof(void *),
			   HP_CACHE_LINE_SIZE);
}

/* Bytes of the table of cache addresses in front of the caches. */
static size_t table_bytes(void)
{
	return HP_ALIGN_UP(ncpu * sizeof(uintptr_t), HP_CACHE_LINE_SIZE);
}

size_t mempool_percpu_bytes(unsigned cache_size)
{
	mempool_percpu_detect();
	return enabled && cache_size ? table_bytes() + ncpu * stride_of(cache_size) : 0;
}

/* Slot 0's anchor of mp's per-CPU caches. */
static struct hp_mempool_percpu_anchor *anchor(const struct hp_mempool *mp)
{
	return &__hp_mempool_cache_slot(mp, 0)->percpu;
}

static struct mempool_percpu *cpu_cache(const struct hp_mempool *mp, unsigned cpu)
{
	return (struct mempool_percpu *)((const uintptr_t *)anchor(mp)->table)[cpu];
}

/*
 * The table, then one cache per possible CPU: the sequences find theirs with one load by
 * cpu_id (an index and a multiplication cost more on every call).
 */
void mempool_percpu_setup(struct hp_mempool *mp, void *mem)
{
	struct hp_mempool_cache *s = __hp_mempool_cache_slot(mp, 0);
	uintptr_t *table = mem;
	size_t stride = stride_of(mp->cache_size);
	unsigned cpu;

	if (!mempool_percpu_bytes(mp->cache_size))
		return;
	for (cpu = 0; cpu < ncpu; cpu++) {
		struct mempool_percpu *pc =
		    (struct mempool_percpu *)((char *)mem + table_bytes() + cpu * stride);

		pc->len = 0;
		pc->limit = HP_MEMPOOL_CACHE_FLUSHTHRESH(mp->cache_size);
		table[cpu] = (uintptr_t)pc;
	}
	s->percpu.ncpu = ncpu;
	s->percpu.rseq = rseq_off;
	s->percpu.table = (uintptr_t)table;
}

unsigned mempool_percpu_count(const struct hp_mempool *mp)
{
	uint64_t n = 0;
	unsigned cpu;

	if (!anchor(mp)->table)
		return 0;
	for (cpu = 0; cpu < ncpu; cpu++)
		n += __atomic_load_n(&cpu_cache(mp, cpu)->len, __ATOMIC_RELAXED);
	return n > mp->size ? mp->size : (unsigned)n;
}

/* Make every sequence on mp's caches miss, and wait out those under way. drain_lock held. */
static void stop_all(struct hp_mempool *mp)
{
	unsigned cpu;

	for (cpu = 0; cpu < ncpu; cpu++)
		__atomic_store_n(&cpu_cache(mp, cpu)->limit, 0, __ATOMIC_RELAXED);
	/*
	 * The kernel orders the stores above before the barrier it runs on every other CPU (a
	 * full barrier on entry); registered in check(), the call cannot fail afterwards.
	 */
	membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0);
}

static void start_all(struct hp_mempool *mp)
{
	unsigned cpu;

	for (cpu = 0; cpu < ncpu; cpu++)
		__atomic_store_n(&cpu_cache(mp, cpu)->limit,
				 HP_MEMPOOL_CACHE_FLUSHTHRESH((uint64_t)mp->cache_size),
				 __ATOMIC_RELEASE);
}

unsigned mempool_percpu_drain(struct hp_mempool *mp)
{
	unsigned cpu, moved = 0;

	if (!anchor(mp)->table)
		return 0;
	pthread_mutex_lock(&drain_lock);
	stop_all(mp);
	for (cpu = 0; cpu < ncpu; cpu++) {
		struct mempool_percpu *pc = cpu_cache(mp, cpu);
		unsigned len = (unsigned)pc->len;

		if (len)
			mempool_backend_put(mp, pc->objs, len);
		pc->len = 0;
		moved += len;
	}
	start_all(mp);
	pthread_mutex_unlock(&drain_lock);
	__HP_MEMPOOL_STAT(__hp_mempool_cache_slot(mp, 0), backend, moved ? 1 : 0);
	return moved;
}

HP_API int hp_mempool_percpu_flush(struct hp_mempool *mp)
{
	if (!mp)
		return hp_fail(-EINVAL, "hp_mempool_percpu_flush: pool is NULL; pass a pool");
	return (int)mempool_percpu_drain(mp);
}

int mempool_percpu_dequeue(struct hp_mempool *mp, void **objs, unsigned n)
{
	if (mp->ops->dequeue(mp, objs, n) == 0)
		return 0;
	/* a drain costs an IPI per CPU: only when the per-CPU caches hold what is missing */
	if (mp->ops->count(mp) + mempool_percpu_count(mp) < n || !mempool_percpu_drain(mp))
		return -ENOENT;
	return mp->ops->dequeue(mp, objs, n) == 0 ? 0 : -ENOENT;
}

/*
 * The calling CPU's cache had fewer than n objects (or is being drained): take n plus half a
 * cache from the backend in one call, hand out n and leave the rest in the cache of the CPU
 * the thread is on now (to the backend again if that one cannot take them).
 */
HP_API int __hp_mempool_percpu_get_slow(struct hp_mempool *mp, void **objs, unsigned n)
{
	struct hp_mempool_cache *s = __hp_mempool_cache_slot(mp, 0);
	void *buf[HP_MEMPOOL_CACHE_MAX + HP_MEMPOOL_CACHE_MAX / 2]; /* n, then half a cache */
	unsigned half = mp->cache_size / 2;

	if (!n)
		return 0;
	if (n > mp->cache_size || mp->ops->dequeue(mp, buf, n + half) < 0)
		return mempool_direct_get(mp, objs, n, s);
	__hp_ptrcopy(objs, &buf[half], n);
	if (half && !__hp_mempool_rseq_push(s, buf, half))
		mempool_backend_put(mp, buf, half);
	__HP_MEMPOOL_STAT(s, backend, 1);
	__HP_MEMPOOL_STAT(s, gets, 1);
	__HP_MEMPOOL_STAT(s, get_objs, n);
	__HP_MEMPOOL_STAT_BULK(s, n);
	return 0;
}

/*
 * The calling CPU's cache could not take n (or is being drained): take up to a cache's size
 * from its top, so that it keeps at most half a cache, put the n there, and send what was
 * taken (and the n, if they still do not fit) to the backend in one call.
 */
HP_API void __hp_mempool_percpu_put_slow(struct hp_mempool *mp, void *const *objs, unsigned n)
{
	struct hp_mempool_cache *s = __hp_mempool_cache_slot(mp, 0);
	void *buf[HP_MEMPOOL_CACHE_MAX * 2];
	unsigned k;

	if (!n)
		return;
	__HP_MEMPOOL_STAT(s, backend, 1);
	__HP_MEMPOOL_STAT(s, puts, 1);
	__HP_MEMPOOL_STAT(s, put_objs, n);
	__HP_MEMPOOL_STAT_BULK(s, n);
	if (n > mp->cache_size) {
		mempool_backend_put(mp, objs, n);
		return;
	}
	k = (unsigned)__hp_mempool_rseq_pop_upto(s, buf, mp->cache_size);
	if (!__hp_mempool_rseq_push(s, objs, n)) {
		__hp_ptrcopy(&buf[k], objs, n);
		k += n;
	}
	if (k)
		mempool_backend_put(mp, buf, k);
}

int mempool_percpu_audit(struct hp_mempool *mp, uint64_t *held)
{
	unsigned cpu, i;
	int rc = 0;

	if (!anchor(mp)->table)
		return 0;
	pthread_mutex_lock(&drain_lock);
	stop_all(mp);
	for (cpu = 0; cpu < ncpu && !rc; cpu++) {
		struct mempool_percpu *pc = cpu_cache(mp, cpu);

		if (pc->len > HP_MEMPOOL_CACHE_FLUSHTHRESH((uint64_t)mp->cache_size)) {
			rc = hp_fail(-EFAULT,
				     "mempool '%s': CPU %u's cache holds %lu objects, above "
				     "its limit %u: memory corrupted?",
				     mp->name, cpu, (unsigned long)pc->len,
				     HP_MEMPOOL_CACHE_FLUSHTHRESH(mp->cache_size));
			break;
		}
		for (i = 0; i < pc->len && !rc; i++) {
			if (!mempool_owns(mp, pc->objs[i]))
				rc = hp_fail(-EFAULT,
					     "mempool '%s': CPU %u's cache holds %p, which is "
					     "not an object of the pool",
					     mp->name, cpu, pc->objs[i]);
#ifdef HP_MEMPOOL_DEBUG
			else if (*mempool_cookie_head(pc->objs[i]) != MP_COOKIE_FREE)
				rc = hp_fail(-EFAULT,
					     "mempool '%s': CPU %u's cache holds %p, which is "
					     "marked in use: it was put while still used",
					     mp->name, cpu, pc->objs[i]);
#endif
		}
		*held += pc->len;
	}
	start_all(mp);
	pthread_mutex_unlock(&drain_lock);
	return rc;
}

void mempool_percpu_dump(FILE *f, const struct hp_mempool *mp)
{
	unsigned cpu;

	mempool_percpu_detect();
	fprintf(f, "  per-CPU caches (threads without an lcore id): %s\n",
		anchor(mp)->table ? why
		: enabled	  ? "none: the pool has no cache"
				  : why);
	if (!anchor(mp)->table)
		return;
	fprintf(f, "  sequences restarted after an abort: %lu\n",
		(unsigned long)__atomic_load_n(&anchor(mp)->aborts, __ATOMIC_RELAXED));
	for (cpu = 0; cpu < ncpu; cpu++) {
		uint64_t len = __atomic_load_n(&cpu_cache(mp, cpu)->len, __ATOMIC_RELAXED);

		if (len)
			fprintf(f, "  CPU %u cache: %lu objects\n", cpu, (unsigned long)len);
	}
}

void mempool_percpu_fork_child(void)
{
	drain_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
