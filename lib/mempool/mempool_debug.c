/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Debug-build checks on every get and put (HP_MEMPOOL_DEBUG): an object being put must lie in
 * the pool's memory, carry the "in use" head cookie and an intact tail cookie; otherwise the
 * put is refused, logged with the pool's name and the object's address, and counted. A get or
 * put of a pool that the thread is already inside (a signal handler that interrupted it, which
 * would spin forever on the ring it interrupted) is refused and logged: `busy` is the pool of
 * the innermost get or put under way in the thread. In a release build these functions are
 * never called by the inline paths; they just pass through.
 */
#include <stdatomic.h>

#include "mempool_internal.h"

/* Put n objects the way the release build does (in one call, which keeps the bulk semantics). */
static void put_as_release(struct hp_mempool *mp, void *const *objs, unsigned n,
			   struct hp_mempool_cache *c, int lcore)
{
	if (!n)
		return;
	if (lcore)
		__hp_mempool_default_put(mp, objs, n);
	else if (c && c->mp == mp)
		__hp_mempool_cache_put(mp, objs, n, c);
	else
		__hp_mempool_put_slow(mp, objs, n, c);
}

/* Get n objects the way the release build does. */
static int get_as_release(struct hp_mempool *mp, void **objs, unsigned n,
			  struct hp_mempool_cache *c, int lcore)
{
	if (lcore)
		return __hp_mempool_default_get(mp, objs, n);
	if (c && c->mp == mp)
		return __hp_mempool_cache_get(mp, objs, n, c);
	return __hp_mempool_get_slow(mp, objs, n, c);
}

#ifdef HP_MEMPOOL_DEBUG
static __thread struct hp_mempool *volatile busy;

/* Enter a get or put of mp: the pool it was in before, or mp itself for a re-entry (logged). */
static struct hp_mempool *enter(struct hp_mempool *mp, const char *what)
{
	struct hp_mempool *outer = busy;

	if (outer == mp) {
		__atomic_fetch_add(&mp->debug_errors, 1, __ATOMIC_RELAXED);
		HP_LOG_E(
		    "mempool '%s': %s from inside a get or put of the same pool in this thread "
		    "(a signal handler?): refused, it would wait forever on the call it "
		    "interrupted; no mempool call is async-signal-safe (doc/mempool.md)",
		    mp->name, what);
		return mp;
	}
	busy = mp;
	atomic_signal_fence(memory_order_seq_cst); /* set before the backend is touched */
	return outer;
}

static void leave(struct hp_mempool *outer)
{
	atomic_signal_fence(memory_order_seq_cst);
	busy = outer;
}

static void report(struct hp_mempool *mp, void *obj, const char *what)
{
	__atomic_fetch_add(&mp->debug_errors, 1, __ATOMIC_RELAXED);
	HP_LOG_E("mempool '%s': %s: object %p; fix the caller (the put was refused)", mp->name,
		 what, obj);
}

/* true if obj may go back into mp; reports why not otherwise */
static bool check_put(struct hp_mempool *mp, void *obj)
{
	uint64_t head;

	if (!mempool_owns(mp, obj)) {
		report(mp, obj, "not an object of this pool (foreign pointer)");
		return false;
	}
	head = *mempool_cookie_head(obj);
	if (head == MP_COOKIE_FREE) {
		report(mp, obj, "double free");
		return false;
	}
	if (head != MP_COOKIE_USED) {
		report(mp, obj, "not an object of this pool, or its header was overwritten");
		return false;
	}
	if (*mempool_cookie_tail(mp, obj) != MP_COOKIE_TAIL) {
		report(mp, obj, "overrun: bytes after the object were overwritten");
		return false;
	}
	*mempool_cookie_head(obj) = MP_COOKIE_FREE;
	return true;
}

HP_API void __hp_mempool_debug_got(struct hp_mempool *mp, void **objs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (*mempool_cookie_head(objs[i]) != MP_COOKIE_FREE) {
			__atomic_fetch_add(&mp->debug_errors, 1, __ATOMIC_RELAXED);
			HP_LOG_E("mempool '%s': object %p handed out while not free (cookie %#lx): "
				 "it was put twice or its header was overwritten",
				 mp->name, objs[i], (unsigned long)*mempool_cookie_head(objs[i]));
		}
		*mempool_cookie_head(objs[i]) = MP_COOKIE_USED;
	}
}

HP_API int __hp_mempool_debug_get(struct hp_mempool *mp, void **objs, unsigned n,
				  struct hp_mempool_cache *c, int lcore)
{
	struct hp_mempool *outer = enter(mp, "get");
	int rc;

	if (outer == mp)
		return -EDEADLK;
	rc = get_as_release(mp, objs, n, c, lcore);
	leave(outer);
	if (rc == 0)
		__hp_mempool_debug_got(mp, objs, n);
	return rc;
}

HP_API void __hp_mempool_debug_put(struct hp_mempool *mp, void *const *objs, unsigned n,
				   struct hp_mempool_cache *c, int lcore)
{
	struct hp_mempool *outer = enter(mp, "put");
	unsigned i;

	if (outer == mp)
		return;
	/* the good prefix goes back in one call; after a refused object, the rest one by one */
	for (i = 0; i < n && check_put(mp, objs[i]); i++)
		;
	put_as_release(mp, objs, i, c, lcore);
	for (i++; i < n; i++)
		if (check_put(mp, objs[i]))
			put_as_release(mp, &objs[i], 1, c, lcore);
	leave(outer);
}
#else
HP_API void __hp_mempool_debug_got(struct hp_mempool *mp, void **objs, unsigned n)
{
	(void)mp;
	(void)objs;
	(void)n;
}

HP_API int __hp_mempool_debug_get(struct hp_mempool *mp, void **objs, unsigned n,
				  struct hp_mempool_cache *c, int lcore)
{
	return get_as_release(mp, objs, n, c, lcore);
}

HP_API void __hp_mempool_debug_put(struct hp_mempool *mp, void *const *objs, unsigned n,
				   struct hp_mempool_cache *c, int lcore)
{
	put_as_release(mp, objs, n, c, lcore);
}
#endif
