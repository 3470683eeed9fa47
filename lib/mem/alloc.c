/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The allocator of memseg ranges under memzones, the heap and mempool backends: per node, a sorted
 * array of free ranges [start, end), address-ordered, coalesced on release, never spanning two
 * memseg lists
 * ("arenas"), so every block lies in one list. alloc_lock guards arenas and ranges.
 * Lock order: memory lock (hp_mem_lock_read / the write lock held by event callbacks) ->
 * alloc_lock. hp_mem_grow() is called with neither held; its ALLOC event adds the new list here.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "mem_internal.h"

#define MIN_ALIGN HP_CACHE_LINE_SIZE
#define GROW_MIN ((size_t)8 << 20) /* grow in chunks of at least this, to spare memseg lists */
#define GROW_TRIES 3

struct arena {
	uintptr_t start, end;
	int node;
};

struct range {
	uintptr_t start, end;
	unsigned arena; /* index into arenas[] */
};

struct node_free {
	struct range *r; /* sorted by start, disjoint */
	unsigned n, cap;
	unsigned long allocs; /* blocks handed out and not released */
};

static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena arenas[MEM_MAX_LISTS];
static unsigned n_arenas;
static struct node_free nodes[HP_MAX_NUMA_NODES];
static atomic_bool ready;

/* ---- free ranges (caller holds alloc_lock) ---------------------------------------------- */

/* Index of the first range of nf whose start is above va. */
static unsigned range_upper(const struct node_free *nf, uintptr_t va)
{
	unsigned lo = 0, hi = nf->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (nf->r[mid].start <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int range_insert(struct node_free *nf, unsigned at, uintptr_t start, uintptr_t end,
			unsigned arena)
{
	if (nf->n == nf->cap) {
		unsigned cap = nf->cap ? nf->cap * 2 : 64;
		struct range *r = realloc(nf->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		nf->r = r;
		nf->cap = cap;
	}
	memmove(&nf->r[at + 1], &nf->r[at], (nf->n - at) * sizeof(*nf->r));
	nf->r[at] = (struct range){start, end, arena};
	nf->n++;
	return 0;
}

static void range_remove(struct node_free *nf, unsigned at)
{
	memmove(&nf->r[at], &nf->r[at + 1], (nf->n - at - 1) * sizeof(*nf->r));
	nf->n--;
}

/* The arena holding [va, va + len), or -1. */
static int arena_of(uintptr_t va, size_t len)
{
	for (unsigned i = 0; i < n_arenas; i++)
		if (va >= arenas[i].start && va + len <= arenas[i].end && va + len > va)
			return (int)i;
	return -1;
}

/* Put [va, va + len) of arena a back, merging with neighbours of the same arena. */
static int range_free(int node, unsigned a, uintptr_t va, size_t len)
{
	struct node_free *nf = &nodes[node];
	unsigned i = range_upper(nf, va);
	struct range *prev = i ? &nf->r[i - 1] : NULL, *next = i < nf->n ? &nf->r[i] : NULL;
	uintptr_t end = va + len;

	if ((prev && prev->end > va) || (next && next->start < end))
		return -EEXIST;
	if (prev && prev->end == va && prev->arena == a) {
		prev->end = end;
		if (next && next->start == end && next->arena == a) {
			prev->end = next->end;
			range_remove(nf, i);
		}
		return 0;
	}
	if (next && next->start == end && next->arena == a) {
		next->start = va;
		return 0;
	}
	return range_insert(nf, i, va, end, a);
}

/* Take [p, p + len) out of range i (which holds it). */
static int range_carve(struct node_free *nf, unsigned i, uintptr_t p, size_t len)
{
	struct range *r = &nf->r[i];
	uintptr_t end = p + len;

	if (p == r->start && end == r->end) {
		range_remove(nf, i);
	} else if (p == r->start) {
		r->start = end;
	} else if (end == r->end) {
		r->end = p;
	} else {
		uintptr_t old_end = r->end;

		if (range_insert(nf, i + 1, end, old_end, r->arena) < 0)
			return -ENOMEM;
		nf->r[i].end = p;
	}
	return 0;
}

/* ---- fitting ---------------------------------------------------------------------------- */

/*
 * First aligned p in [s, e) with [p, p + len) contiguous in IOVA, or 0; *best gets the longest
 * IOVA-contiguous piece of [s, e). Walks the list's pages once: runs break where IOVA jumps.
 */
static uintptr_t fit_contig(uintptr_t s, uintptr_t e, size_t len, size_t align, size_t *best)
{
	const struct mem_list *l = mem_list_of((const void *)s);
	uintptr_t base, rs;
	unsigned i;

	if (!l)
		return 0;
	base = (uintptr_t)l->base;
	i = (unsigned)((s - base) / l->page_size);
	rs = s;
	for (; i < l->n_pages && (uintptr_t)l->pages[i].va < e; i++) {
		uintptr_t pend = (uintptr_t)l->pages[i].va + l->page_size;
		uintptr_t re = pend < e ? pend : e;
		uintptr_t p = HP_ALIGN_UP(rs, align);

		if (i + 1 < l->n_pages && (uintptr_t)l->pages[i + 1].va < e &&
		    l->pages[i + 1].iova == l->pages[i].iova + l->page_size)
			continue; /* the run goes on */
		if (re - rs > *best)
			*best = re - rs;
		if (p >= rs && p + len <= re && mem_range_iova_contig((void *)p, len))
			return p;
		rs = re;
	}
	return 0;
}

/* Find and take a block on node; 0 if nothing fits. *best: largest usable free run seen. */
static uintptr_t take(int node, size_t len, size_t align, unsigned flags, size_t *best)
{
	struct node_free *nf = &nodes[node];

	*best = 0;
	for (unsigned i = 0; i < nf->n; i++) {
		uintptr_t s = nf->r[i].start, e = nf->r[i].end, p;

		if (flags & MEM_RANGE_IOVA_CONTIG) {
			p = fit_contig(s, e, len, align, best);
		} else {
			if (e - s > *best)
				*best = e - s;
			p = HP_ALIGN_UP(s, align);
			if (p < s || p + len > e || p + len < p)
				p = 0;
		}
		if (p && range_carve(nf, i, p, len) == 0) {
			nf->allocs++;
			return p;
		}
	}
	return 0;
}

/* ---- memory events ---------------------------------------------------------------------- */

static void arena_add(const void *va, size_t len, int node)
{
	uintptr_t s = (uintptr_t)va;

	if (node < 0 || node >= HP_MAX_NUMA_NODES) {
		HP_LOG_E("allocator: memory at %p is on node %d, beyond HP_MAX_NUMA_NODES (%d); "
			 "rebuild with a larger max_numa_nodes",
			 va, node, HP_MAX_NUMA_NODES);
		return;
	}
	for (unsigned i = 0; i < n_arenas; i++)
		if (arenas[i].start == s)
			return; /* seen already (event and init walk may both report it) */
	if (n_arenas == MEM_MAX_LISTS) {
		HP_LOG_E("allocator: more than %d memseg lists; %zu bytes at %p stay unused",
			 MEM_MAX_LISTS, len, va);
		return;
	}
	arenas[n_arenas] = (struct arena){s, s + len, node};
	if (range_free(node, n_arenas, s, len) < 0) {
		HP_LOG_E("allocator: out of process memory to track %zu bytes at %p", len, va);
		return;
	}
	n_arenas++;
}

/* Forget an arena and every free range in it (its blocks must be gone already). */
static void arena_drop(const void *va)
{
	int a = arena_of((uintptr_t)va, 1);
	struct node_free *nf;

	if (a < 0)
		return;
	nf = &nodes[arenas[a].node];
	for (unsigned i = nf->n; i-- > 0;)
		if (nf->r[i].arena == (unsigned)a)
			range_remove(nf, i);
	/* the last arena moves into the hole: renumber its ranges */
	n_arenas--;
	if ((unsigned)a != n_arenas) {
		arenas[a] = arenas[n_arenas];
		nf = &nodes[arenas[a].node];
		for (unsigned i = 0; i < nf->n; i++)
			if (nf->r[i].arena == n_arenas)
				nf->r[i].arena = (unsigned)a;
	}
}

static void on_mem_event(enum hp_mem_event ev, const void *va, size_t len, void *arg)
{
	/* the list is published before the event fires, so it can be looked up already */
	const struct mem_list *l = mem_list_of(va);

	(void)arg;
	pthread_mutex_lock(&alloc_lock);
	if (ev == HP_MEM_EVENT_ALLOC)
		arena_add(va, len, l ? l->node : hp_mem_node_of(va));
	else if (ev == HP_MEM_EVENT_FREE)
		arena_drop(va);
	pthread_mutex_unlock(&alloc_lock);
}

/* ---- public (library-internal) entry points ----------------------------------------------- */

/* "12 MiB", "3 GiB", "4160 bytes": sizes in sentences, exact where a unit does not divide. */
static const char *human(char *buf, size_t n, size_t v)
{
	static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	while (u < 4 && v >= 1024 && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	snprintf(buf, n, "%zu %s", v, unit[u]);
	return buf;
}

static void grow_sentence(char *buf, size_t n, int node, size_t len, size_t align, unsigned flags,
			  size_t best, const char *why)
{
	const char *contig = flags & MEM_RANGE_IOVA_CONTIG ? "IOVA-contiguous " : "";
	char l[32], a[32], b[32];

	snprintf(
	    buf, n,
	    "node %d: no free %srun of %s (align %s); the largest free %srun there is %s, and "
	    "growing failed (%s); reserve more hugepages on node %d (hp-info --reserve %d:SIZE) "
	    "or start with a larger --socket-mem",
	    node, contig, human(l, sizeof(l), len), human(a, sizeof(a), align), contig,
	    human(b, sizeof(b), best), why, node, node);
}

static uintptr_t take_locked(int node, size_t len, size_t align, unsigned flags, size_t *best)
{
	uintptr_t p;

	hp_mem_lock_read(); /* lists stay put and published while we look at IOVAs */
	pthread_mutex_lock(&alloc_lock);
	p = take(node, len, align, flags, best);
	pthread_mutex_unlock(&alloc_lock);
	hp_mem_unlock_read();
	return p;
}

/* Grow node by at least want bytes: a chunk of GROW_MIN when possible, else exactly want. */
static int grow(int node, size_t want)
{
	if (want < GROW_MIN && hp_mem_grow(node, GROW_MIN) == 0)
		return 0;
	return hp_mem_grow(node, want);
}

void *mem_range_alloc(size_t len, size_t align, int node, unsigned flags)
{
	size_t best = 0, want, psz = hp_mem_page_size();
	char why[256] = "not tried", msg[640];
	uintptr_t p;

	if (!atomic_load_explicit(&ready, memory_order_acquire))
		return hp_fail_ptr(-EINVAL, "runtime memory is not set up; call hp_init() first");
	if (node < 0 || node >= HP_MAX_NUMA_NODES || node >= eal_node_count())
		return hp_fail_ptr(-ENODEV, "node %d does not exist: this machine has nodes 0-%d",
				   node, eal_node_count() - 1);
	if (align < MIN_ALIGN)
		align = MIN_ALIGN;
	if (len == 0 || (align & (align - 1)) || len > SIZE_MAX / 4 || align > SIZE_MAX / 4)
		return hp_fail_ptr(-EINVAL,
				   "mem_range_alloc: length %zu / align %zu not allowed; ask "
				   "for 1 byte or more, aligned to a power of two",
				   len, align);
	len = HP_ALIGN_UP(len, MIN_ALIGN);
	/* room to align inside a fresh list, which starts on a page boundary */
	want = len + (align > psz ? align : 0);
	for (int tries = 0; tries <= GROW_TRIES; tries++) {
		p = take_locked(node, len, align, flags, &best);
		if (p)
			return (void *)p;
		if (tries == GROW_TRIES || (tries && (flags & MEM_RANGE_IOVA_CONTIG)))
			break; /* more pages would not make a contiguous run more likely */
		if (grow(node, want) < 0) {
			snprintf(why, sizeof(why), "%s", hp_last_error());
			break;
		}
		snprintf(why, sizeof(why), "the new pages hold no such run");
	}
	grow_sentence(msg, sizeof(msg), node, len, align, flags, best, why);
	return hp_fail_ptr(-ENOMEM, "%s", msg);
}

void mem_range_release(void *va, size_t len)
{
	uintptr_t s = (uintptr_t)va;
	int a, rc = -EINVAL;

	if (!va || !len)
		return;
	len = HP_ALIGN_UP(len, MIN_ALIGN);
	pthread_mutex_lock(&alloc_lock);
	a = arena_of(s, len);
	if (a >= 0 && !(s & (MIN_ALIGN - 1)))
		rc = range_free(arenas[a].node, (unsigned)a, s, len);
	if (rc == 0 && nodes[arenas[a].node].allocs)
		nodes[arenas[a].node].allocs--;
	pthread_mutex_unlock(&alloc_lock);
	if (rc == -EEXIST)
		HP_LOG_E("released %zu bytes at %p twice (part of it is free already); ignored",
			 len, va);
	else if (rc == -ENOMEM)
		HP_LOG_E("released %zu bytes at %p, but the process is out of memory to track it; "
			 "those bytes stay unused until hp_cleanup()",
			 len, va);
	else if (rc < 0)
		HP_LOG_E("released %zu bytes at %p, which is not runtime memory handed out by "
			 "mem_range_alloc; ignored",
			 len, va);
}

/* ---- subsystem -------------------------------------------------------------------------- */

static void alloc_reset(void)
{
	pthread_mutex_lock(&alloc_lock);
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		free(nodes[i].r);
		nodes[i] = (struct node_free){0};
	}
	n_arenas = 0;
	pthread_mutex_unlock(&alloc_lock);
}

static void alloc_cleanup(void)
{
	atomic_store_explicit(&ready, false, memory_order_release);
	hp_mem_event_unregister("mem_range_alloc");
	alloc_reset();
}

/*
 * Subscribe first, then walk the lists already there (--socket-mem) under the read lock:
 * a list added in between is reported twice, and arena_add() ignores the second report.
 */
static int alloc_init(const struct hp_init_opts *opts)
{
	unsigned n;
	int rc;

	(void)opts;
	alloc_reset();
	hp_mem_event_unregister("mem_range_alloc"); /* left over from a failed init, if any */
	rc = hp_mem_event_register("mem_range_alloc", on_mem_event, NULL);
	if (rc < 0)
		return rc;
	hp_mem_lock_read();
	n = atomic_load_explicit(&mem_nlists, memory_order_acquire);
	pthread_mutex_lock(&alloc_lock);
	for (unsigned i = 0; i < n; i++)
		arena_add(mem_lists[i]->base, mem_lists[i]->len, mem_lists[i]->node);
	pthread_mutex_unlock(&alloc_lock);
	hp_mem_unlock_read();
	atomic_store_explicit(&ready, true, memory_order_release);
	return 0;
}

static struct eal_subsys alloc_subsys = {
    .name = "alloc",
    .order = 20,
    .init = alloc_init,
    .cleanup = alloc_cleanup,
};
EAL_SUBSYS_REGISTER(alloc_subsys)

void mem_alloc_stats(int node, struct mem_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (node < 0 || node >= HP_MAX_NUMA_NODES)
		return;
	pthread_mutex_lock(&alloc_lock);
	for (unsigned i = 0; i < n_arenas; i++)
		if (arenas[i].node == node)
			st->total += arenas[i].end - arenas[i].start;
	for (unsigned i = 0; i < nodes[node].n; i++) {
		size_t len = nodes[node].r[i].end - nodes[node].r[i].start;

		st->free += len;
		if (len > st->largest_free)
			st->largest_free = len;
	}
	st->free_ranges = nodes[node].n;
	st->allocs = nodes[node].allocs;
	pthread_mutex_unlock(&alloc_lock);
}
