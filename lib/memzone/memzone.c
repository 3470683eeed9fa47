/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memzones: a fixed table of named reservations over mem_range_alloc(). mz_lock (recursive, so a
 * walk callback may look up, reserve or free) guards every slot's state and contents. A slot
 * being reserved is BUSY: its name is taken, but lookup and walk do not see it until it is LIVE;
 * memory is allocated with mz_lock dropped, so a slow grow does not stall lookups.
 * mz_lock is lock level 2 (doc/architecture.md): below it only init_lock, so a walk's callback
 * may call any public function but hp_init/hp_cleanup. Pools and rings take no memzone, and
 * memory event callbacks must not call memzone functions.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "heap/heap_internal.h"
#include "memzone_internal.h"
#include <hp_mem.h>
#include <hp_memzone.h>

#define MZ_MAX 2048

enum mz_state { MZ_FREE = 0, MZ_BUSY, MZ_LIVE };

static pthread_mutex_t mz_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct hp_memzone zones[MZ_MAX];
static enum mz_state state[MZ_MAX];
static atomic_bool ready;

/* Slot of a name (BUSY or LIVE), or -1. Caller holds mz_lock. */
static int find(const char *name)
{
	for (int i = 0; i < MZ_MAX; i++)
		if (state[i] != MZ_FREE && !strcmp(zones[i].name, name))
			return i;
	return -1;
}

static int check_args(const char *name, size_t len, int *node, unsigned flags, size_t *align)
{
	char who[HP_MEMZONE_NAMESIZE + 16];

	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail(-EINVAL, "memzone: %s", eal_no_runtime());
	if (eal_name_check("memzone", name, HP_MEMZONE_NAMESIZE))
		return -EINVAL;
	if (len == 0)
		return hp_fail(-EINVAL, "memzone '%s': length 0; ask for 1 byte or more", name);
	if (*align == 0)
		*align = HP_CACHE_LINE_SIZE;
	if (*align & (*align - 1))
		return hp_fail(-EINVAL,
			       "memzone '%s': align %zu is not a power of two; use a power "
			       "of two, or 0 for a cache line",
			       name, *align);
	if (flags & ~(unsigned)HP_MZ_IOVA_CONTIG)
		return hp_fail(-EINVAL,
			       "memzone '%s': unknown flags 0x%x; the only flag is "
			       "HP_MZ_IOVA_CONTIG",
			       name, flags & ~(unsigned)HP_MZ_IOVA_CONTIG);
	snprintf(who, sizeof(who), "memzone '%s'", name);
	return eal_node_resolve(node, who);
}

/* Take a slot for name, marked BUSY; or -errno. */
static int claim(const char *name)
{
	int slot = -1, rc;

	pthread_mutex_lock(&mz_lock);
	if (find(name) >= 0) {
		rc = hp_fail(-EEXIST,
			     "memzone '%s' exists already; pick another name, or look "
			     "it up with hp_memzone_lookup()",
			     name);
		goto out;
	}
	for (int i = 0; i < MZ_MAX && slot < 0; i++)
		if (state[i] == MZ_FREE)
			slot = i;
	if (slot < 0) {
		rc = hp_fail(-ENOSPC, "memzone '%s': all %d memzones are in use; free some first",
			     name, MZ_MAX);
		goto out;
	}
	memset(&zones[slot], 0, sizeof(zones[slot]));
	strcpy(zones[slot].name, name);
	state[slot] = MZ_BUSY;
	rc = slot;
out:
	pthread_mutex_unlock(&mz_lock);
	return rc;
}

HP_API const struct hp_memzone *hp_memzone_reserve(const char *name, size_t len, int node,
						   unsigned flags, size_t align)
{
	struct hp_memzone *mz;
	void *va;
	int slot;

	if (check_args(name, len, &node, flags, &align) < 0)
		return NULL; /* errno and sentence set */
	slot = claim(name);
	if (slot < 0)
		return NULL;
	va = mem_range_alloc(len, align, node,
			     flags & HP_MZ_IOVA_CONTIG ? MEM_RANGE_IOVA_CONTIG : 0);
	pthread_mutex_lock(&mz_lock);
	mz = &zones[slot];
	if (!va) {
		state[slot] = MZ_FREE;
		pthread_mutex_unlock(&mz_lock);
		return NULL; /* mem_range_alloc's sentence names the node, size and what to do */
	}
	*mz = (struct hp_memzone){
	    .va = va, .iova = hp_mem_virt2iova(va), .len = len, .node = node, .flags = flags};
	strcpy(mz->name, name);
	state[slot] = MZ_LIVE;
	pthread_mutex_unlock(&mz_lock);
	return mz;
}

HP_API const struct hp_memzone *hp_memzone_lookup(const char *name)
{
	const struct hp_memzone *mz = NULL;
	int i;

	if (!name)
		return hp_fail_ptr(-EINVAL, "hp_memzone_lookup: name is NULL; pass a zone name");
	if (eal_need_runtime(__func__))
		return NULL;
	pthread_mutex_lock(&mz_lock);
	i = find(name);
	if (i >= 0 && state[i] == MZ_LIVE)
		mz = &zones[i];
	pthread_mutex_unlock(&mz_lock);
	if (!mz)
		return hp_fail_ptr(-ENOENT,
				   "no memzone named '%.*s'; reserve it first with "
				   "hp_memzone_reserve()",
				   HP_MEMZONE_NAMESIZE, name);
	return mz;
}

HP_API int hp_memzone_free(const struct hp_memzone *mz)
{
	uintptr_t off = (uintptr_t)mz - (uintptr_t)zones;
	size_t i = off / sizeof(zones[0]);
	void *va;
	size_t len;

	if (!mz || off >= sizeof(zones) || off % sizeof(zones[0]))
		return hp_fail(-EINVAL,
			       "hp_memzone_free: %p is not a memzone; pass what "
			       "hp_memzone_reserve() or hp_memzone_lookup() returned",
			       (void *)mz);
	if (eal_need_runtime(__func__))
		return -EINVAL;
	pthread_mutex_lock(&mz_lock);
	if (state[i] != MZ_LIVE) {
		pthread_mutex_unlock(&mz_lock);
		return hp_fail(-EINVAL, "hp_memzone_free: memzone %p is not in use (freed twice?)",
			       (void *)mz);
	}
	va = zones[i].va;
	len = zones[i].len;
	state[i] = MZ_FREE;
	memset(&zones[i], 0, sizeof(zones[i]));
	pthread_mutex_unlock(&mz_lock);
	mem_range_release(va, len);
	return 0;
}

HP_API int hp_memzone_walk(int (*fn)(const struct hp_memzone *mz, void *arg), void *arg)
{
	int rc = 0;

	if (!fn)
		return hp_fail(-EINVAL, "hp_memzone_walk: callback is NULL; pass a function");
	if (eal_need_runtime(__func__))
		return -EINVAL;
	pthread_mutex_lock(&mz_lock);
	for (int i = 0; i < MZ_MAX && !rc; i++)
		if (state[i] == MZ_LIVE)
			rc = fn(&zones[i], arg);
	pthread_mutex_unlock(&mz_lock);
	return rc;
}

/* Zones die with the memory under them: the allocator forgets everything at cleanup too. */
static void memzone_reset(void)
{
	pthread_mutex_lock(&mz_lock);
	memset(zones, 0, sizeof(zones));
	memset(state, 0, sizeof(state));
	pthread_mutex_unlock(&mz_lock);
}

static int memzone_init(const struct hp_init_opts *opts)
{
	(void)opts;
	memzone_reset();
	atomic_store_explicit(&ready, true, memory_order_release);
	return 0;
}

static void memzone_cleanup(void)
{
	atomic_store_explicit(&ready, false, memory_order_release);
	memzone_reset();
}

EAL_SUBSYS_REGISTER(memzone, EAL_SUBSYS_MEMZONE, memzone_init, memzone_cleanup)

int memzone_index(const struct hp_memzone *mz)
{
	return mz >= zones && mz < zones + MZ_MAX ? (int)(mz - zones) : -1;
}

/* In a forked child: the zones are the parent's, in memory the child does not have. */
static void memzone_fork_child(void)
{
	mz_lock = (pthread_mutex_t)PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	memset(zones, 0, sizeof(zones));
	memset(state, 0, sizeof(state));
	atomic_store(&ready, false);
}
EAL_FORK_CHILD(memzone_fork_child)
