/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registries of named objects in runtime memory (mempools, rings). An object is live (on
 * reg->live, newest first) until freed; then its address goes into reg->freed[] for the next
 * EAL_REGISTRY_QUARANTINE frees, and its owner gives its memory back, at once or, while a walk is
 * under way, when the last walk ends (meanwhile it waits on reg->dying). Owners never place a
 * new object at a quarantined address (eal_registry_quarantined()), so a second free of a stale
 * pointer is told apart from a free of a newer object, and no memory is held for it.
 * reg->lock guards all of it and is a leaf: nothing is called while it is held, so walk
 * callbacks and the owner's retire run with no lock of the registry held.
 */
#include <stdlib.h>
#include <string.h>

#include "eal_internal.h"

int eal_name_check(const char *kind, const char *name, size_t size)
{
	size_t n = name ? strnlen(name, size) : 0;

	if (n == 0)
		return hp_fail(-EINVAL, "%s name is empty; give 1 to %d characters", kind,
			       (int)size - 1);
	if (n == size)
		return hp_fail(-EINVAL, "%s name '%.*s...' is too long; use at most %d characters",
			       kind, (int)size - 1, name, (int)size - 1);
	return 0;
}

static void **link_of(const struct eal_registry *reg, void *obj)
{
	return (void **)((char *)obj + reg->next_off);
}

static const char *name_of(const struct eal_registry *reg, void *obj)
{
	return (const char *)obj + reg->name_off;
}

/* Take obj off *list; false if it is not there. Caller holds reg->lock. */
static bool unlink_locked(struct eal_registry *reg, void **list, void *obj)
{
	for (void **pp = list; *pp; pp = link_of(reg, *pp))
		if (*pp == obj) {
			*pp = *link_of(reg, obj);
			return true;
		}
	return false;
}

static bool on_list(const struct eal_registry *reg, void *list, const void *obj)
{
	for (; list; list = *link_of(reg, list))
		if (list == obj)
			return true;
	return false;
}

static void push_locked(struct eal_registry *reg, void **list, void *obj)
{
	*link_of(reg, obj) = *list;
	*list = obj;
}

void *eal_registry_find(struct eal_registry *reg, const char *name)
{
	void *obj;

	pthread_mutex_lock(&reg->lock);
	for (obj = reg->live; obj && strcmp(name_of(reg, obj), name); obj = *link_of(reg, obj))
		;
	pthread_mutex_unlock(&reg->lock);
	return obj;
}

int eal_registry_add(struct eal_registry *reg, void *obj)
{
	void *o;

	pthread_mutex_lock(&reg->lock);
	for (o = reg->live; o && strcmp(name_of(reg, o), name_of(reg, obj)); o = *link_of(reg, o))
		;
	if (!o)
		push_locked(reg, &reg->live, obj);
	pthread_mutex_unlock(&reg->lock);
	return o ? -EEXIST : 0;
}

/* Remember a freed object's address for the next EAL_REGISTRY_QUARANTINE frees. */
static void quarantine_locked(struct eal_registry *reg, void *obj)
{
	reg->freed[reg->freed_next] = obj;
	reg->freed_next = (reg->freed_next + 1) % EAL_REGISTRY_QUARANTINE;
}

bool eal_registry_quarantined(struct eal_registry *reg, const void *addr)
{
	bool found = false;

	pthread_mutex_lock(&reg->lock);
	for (unsigned i = 0; i < EAL_REGISTRY_QUARANTINE && !found; i++)
		found = reg->freed[i] == addr;
	pthread_mutex_unlock(&reg->lock);
	return found;
}

void *eal_registry_alloc(struct eal_registry *reg, size_t len, int node)
{
	void *held[EAL_REGISTRY_QUARANTINE], *p;
	unsigned n = 0;

	/* the allocator hands a freed block out again first: keep those aside until one is not */
	while ((p = reg->alloc(len, HP_CACHE_LINE_SIZE, node, 0)) && n < EAL_REGISTRY_QUARANTINE &&
	       eal_registry_quarantined(reg, p))
		held[n++] = p;
	while (n)
		reg->release(held[--n], len);
	return p;
}

int eal_registry_free(struct eal_registry *reg, void *obj)
{
	bool listed, freed = false, retire = false;

	pthread_mutex_lock(&reg->lock);
	listed = unlink_locked(reg, &reg->live, obj);
	if (listed) {
		quarantine_locked(reg, obj);
		retire = !reg->walkers; /* else the last walk to end retires it */
		if (!retire)
			push_locked(reg, &reg->dying, obj);
	} else {
		freed = on_list(reg, reg->dying, obj);
		for (unsigned i = 0; i < EAL_REGISTRY_QUARANTINE && !freed; i++)
			freed = reg->freed[i] == obj;
	}
	pthread_mutex_unlock(&reg->lock);
	if (retire)
		reg->retire(obj);
	if (listed)
		return 0;
	if (!freed)
		return -ENOENT;
	hp_fail(-EINVAL, "hp_%s_free(%p): this %s was freed already; free each %s once", reg->kind,
		obj, reg->kind, reg->kind);
	HP_LOG_E("%s", hp_last_error());
	return -EINVAL;
}

/* Called with reg->lock held, returns with it dropped: end a walk, retiring what waited for it. */
static void walk_end_locked(struct eal_registry *reg)
{
	void *obj;

	if (--reg->walkers == 0)
		while ((obj = reg->dying)) {
			reg->dying = *link_of(reg, obj);
			pthread_mutex_unlock(&reg->lock);
			reg->retire(obj);
			pthread_mutex_lock(&reg->lock);
			if (reg->walkers)
				break; /* a new walk started: it retires the rest when it ends */
		}
	pthread_mutex_unlock(&reg->lock);
}

int eal_registry_walk(struct eal_registry *reg, int (*fn)(void *obj, void *arg), void *arg)
{
	void **snap, *obj;
	unsigned n = 0, i;
	int rc = 0;

	pthread_mutex_lock(&reg->lock);
	for (obj = reg->live; obj; obj = *link_of(reg, obj))
		n++;
	snap = malloc((n ? n : 1) * sizeof(*snap));
	if (!snap) {
		pthread_mutex_unlock(&reg->lock);
		return hp_fail(-ENOMEM, "hp_%s_walk: out of memory for %u pointers", reg->kind, n);
	}
	for (i = n, obj = reg->live; obj; obj = *link_of(reg, obj))
		snap[--i] = obj; /* oldest first */
	reg->walkers++;
	for (i = 0; i < n && !rc; i++) {
		/* freed since the snapshot: not visited (its memory waits for the walk to end) */
		if (!on_list(reg, reg->live, snap[i]))
			continue;
		pthread_mutex_unlock(&reg->lock);
		rc = fn(snap[i], arg);
		pthread_mutex_lock(&reg->lock);
	}
	walk_end_locked(reg);
	free(snap);
	return rc;
}

void eal_registry_clear(struct eal_registry *reg)
{
	void *obj;

	pthread_mutex_lock(&reg->lock);
	while ((obj = reg->live) || (obj = reg->dying)) {
		*(obj == reg->live ? &reg->live : &reg->dying) = *link_of(reg, obj);
		pthread_mutex_unlock(&reg->lock);
		reg->retire(obj);
		pthread_mutex_lock(&reg->lock);
	}
	memset(reg->freed, 0, sizeof(reg->freed));
	reg->freed_next = 0;
	pthread_mutex_unlock(&reg->lock);
}

void eal_registry_forget(struct eal_registry *reg)
{
	reg->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	reg->live = reg->dying = NULL;
	memset(reg->freed, 0, sizeof(reg->freed));
	reg->freed_next = reg->walkers = 0;
}
