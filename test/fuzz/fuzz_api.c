/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the public API: each input is a program of one-byte operations (and
 * their argument bytes) over a few slots of pools, rings, memzones and heap blocks: create,
 * lookup, free, get, put, enqueue, dequeue, walk, with names from a small set (so they
 * collide), random sizes and flags, NULL, and handles that were freed already (pools and rings
 * within their last 64 frees, memzones whose slot is free). After every input everything is freed,
 * and the runtime must hold what it held before (zones, pools). Every failure must come with errno
 * and a sentence. The runtime is started once, on hugepages when node 0 has 64 MiB free, else with
 * --no-huge.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hugepool.h>

#define SLOTS 4
#define MAX_BULK 64

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_api: check failed: %s (last error: %s)\n", #cond,    \
				hp_last_error());                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A failed call: negative errno, errno set, a sentence. */
#define CHECK_FAILED(rc)                                                                           \
	do {                                                                                       \
		CHECK((rc) < 0 && errno == -(rc));                                                 \
		CHECK(hp_last_error()[0] != '\0');                                                 \
	} while (0)

struct input {
	const uint8_t *p, *end;
};

static unsigned take(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static unsigned take16(struct input *in)
{
	return take(in) | take(in) << 8;
}

/* Names collide on purpose: a few short ones, and the prefixes the library uses inside. */
static const char *name_of(unsigned b)
{
	static const char *const names[] = {
	    "a", "b", "a.0", "RG_a", "mp.a", "", "0123456789012345678901234567890123456789"};

	return names[b % (sizeof(names) / sizeof(names[0]))];
}

struct pool {
	struct hp_mempool *mp;
	unsigned n;
	void *held[MAX_BULK];
	unsigned nheld;
};

struct state {
	struct pool pools[SLOTS];
	struct hp_mempool *stale_pool; /* freed, fewer than 64 pool frees ago */
	struct hp_ring *stale_ring;    /* freed, fewer than 64 ring frees ago */
	unsigned pool_frees, ring_frees;
	struct hp_ring *rings[SLOTS];
	unsigned ring_count[SLOTS];
	const struct hp_memzone *zones[SLOTS], *stale_zone;
	void *blocks[SLOTS], *stale_block;
};

static int count_zone(const struct hp_memzone *mz, void *arg)
{
	CHECK(mz->len > 0 && mz->name[0]);
	++*(unsigned *)arg;
	return 0;
}

static int find_zone(const struct hp_memzone *mz, void *arg)
{
	return mz == arg;
}

static unsigned zones_now(void)
{
	unsigned n = 0;

	CHECK(hp_memzone_walk(count_zone, &n) == 0);
	return n;
}

static int count_seg(const struct hp_memseg *ms, void *arg)
{
	CHECK(ms->len > 0);
	++*(unsigned *)arg;
	return 0;
}

static void count_obj(struct hp_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp, (void)obj;
	CHECK(idx == *(unsigned *)arg);
	++*(unsigned *)arg;
}

static void pool_create(struct state *s, struct input *in)
{
	unsigned i = take(in) % SLOTS, n = 1 + take16(in) % 1024, size = 1 + take16(in) % 4096;
	unsigned cache = take(in) % 80, flags = take(in) & 0x1f;
	const char *name = name_of(take(in));
	struct hp_mempool *mp;

	if (s->pools[i].mp)
		return;
	errno = 0;
	mp = hp_mempool_create(name, n, size, cache, HP_NODE_ANY, flags);
	if (!mp) {
		CHECK_FAILED(-errno);
		return;
	}
	CHECK(hp_mempool_lookup(name) == mp);
	CHECK(hp_mempool_avail_count(mp) == n && hp_mempool_in_use_count(mp) == 0);
	s->pools[i] = (struct pool){.mp = mp, .n = n};
}

static void pool_free(struct state *s, unsigned i)
{
	struct pool *p = &s->pools[i];

	if (!p->mp)
		return;
	if (p->nheld)
		hp_mempool_put_bulk(p->mp, p->held, p->nheld);
	CHECK(hp_mempool_free(p->mp) == 0);
	if (!s->stale_pool || ++s->pool_frees == 64) {
		s->stale_pool = p->mp;
		s->pool_frees = 0;
	}
	*p = (struct pool){0};
}

static void pool_get_put(struct state *s, struct input *in)
{
	struct pool *p = &s->pools[take(in) % SLOTS];
	unsigned n = take(in) % (MAX_BULK + 1), before;

	if (!p->mp)
		return;
	before = hp_mempool_avail_count(p->mp);
	if (take(in) & 1) { /* put back some of what is held */
		n = n > p->nheld ? p->nheld : n;
		hp_mempool_put_bulk(p->mp, p->held + p->nheld - n, n);
		p->nheld -= n;
		CHECK(hp_mempool_avail_count(p->mp) == before + n);
		return;
	}
	if (n > MAX_BULK - p->nheld)
		n = MAX_BULK - p->nheld;
	if (hp_mempool_get_bulk(p->mp, p->held + p->nheld, n) == 0) {
		for (unsigned k = 0; k < n; k++)
			memset(p->held[p->nheld + k], 0x5a, 1);
		p->nheld += n;
		CHECK(hp_mempool_avail_count(p->mp) == before - n);
	} else {
		CHECK(before < n); /* all or nothing: only when too few are left */
		CHECK(hp_mempool_avail_count(p->mp) == before);
	}
	CHECK(hp_mempool_avail_count(p->mp) + hp_mempool_in_use_count(p->mp) == p->n);
}

static void ring_op(struct state *s, struct input *in)
{
	unsigned i = take(in) % SLOTS, op = take(in) % 4, n = take(in) % (MAX_BULK + 1);
	void *objs[MAX_BULK];
	struct hp_ring *r = s->rings[i];
	const char *name = name_of(take(in));

	if (op == 0 && !r) {
		unsigned count = 1u << (take(in) % 12), flags = take(in) & 0x7;

		errno = 0;
		r = hp_ring_create(name, count, HP_NODE_ANY, flags);
		if (!r) {
			CHECK_FAILED(-errno);
			return;
		}
		CHECK(hp_ring_lookup(name) == r && hp_ring_empty(r));
		s->rings[i] = r;
		s->ring_count[i] = 0;
	} else if (op == 1 && r) {
		for (unsigned k = 0; k < n; k++)
			objs[k] = (void *)(uintptr_t)(k + 1);
		n = hp_ring_enqueue_burst(r, objs, n, NULL);
		s->ring_count[i] += n;
		CHECK(hp_ring_count(r) == s->ring_count[i]);
	} else if (op == 2 && r) {
		n = hp_ring_dequeue_burst(r, objs, n, NULL);
		CHECK(n <= s->ring_count[i]);
		s->ring_count[i] -= n;
		CHECK(hp_ring_count(r) == s->ring_count[i]);
	} else if (op == 3 && r) {
		CHECK(hp_ring_free(r) == 0);
		if (!s->stale_ring || ++s->ring_frees == 64) {
			s->stale_ring = r;
			s->ring_frees = 0;
		}
		s->rings[i] = NULL;
	} else if (!hp_ring_lookup(name)) {
		CHECK(errno == ENOENT || errno == EINVAL);
	}
}

static void zone_op(struct state *s, struct input *in)
{
	unsigned i = take(in) % SLOTS, op = take(in) % 3;
	size_t len = (size_t)take16(in) << (take(in) % 12);
	size_t align = take(in) & 1 ? (size_t)1 << (take(in) % 24) : 0;
	const char *name = name_of(take(in));
	int rc;

	if (op == 0 && !s->zones[i]) {
		errno = 0;
		s->zones[i] = hp_memzone_reserve(name, len, HP_NODE_ANY, take(in) & 1, align);
		if (!s->zones[i])
			CHECK_FAILED(-errno);
		else
			CHECK(hp_memzone_lookup(name) == s->zones[i]);
	} else if (op == 1 && s->zones[i]) {
		CHECK(hp_memzone_free(s->zones[i]) == 0);
		s->stale_zone = s->zones[i];
		s->zones[i] = NULL;
	} else if (op == 2 && s->stale_zone) {
		/* freed already: an error, unless the slot holds a zone again (maybe a pool's) */
		if (hp_memzone_walk(find_zone, (void *)s->stale_zone))
			return;
		rc = hp_memzone_free(s->stale_zone);
		CHECK_FAILED(rc);
	}
}

static void heap_op(struct state *s, struct input *in)
{
	unsigned i = take(in) % SLOTS, op = take(in) % 3;
	size_t size = (size_t)take16(in) << (take(in) % 8);
	size_t align = take(in) & 1 ? (size_t)1 << (take(in) % 16) : 0;

	if (op == 0 && !s->blocks[i]) {
		errno = 0;
		s->blocks[i] = hp_malloc(size, align, HP_NODE_ANY);
		if (!s->blocks[i])
			CHECK(errno != 0 && hp_last_error()[0]);
		else if (size)
			memset(s->blocks[i], 0xa5, size);
	} else if (op == 1 && s->blocks[i]) {
		hp_free(s->blocks[i]);
		s->stale_block = s->blocks[i];
		s->blocks[i] = NULL;
	}
}

/* Calls with NULL or nonsense arguments fail, they never crash. */
static void misuse(struct state *s, struct input *in)
{
	unsigned n = 0;

	switch (take(in) % 8) {
	case 6: /* freed already: never another live pool or ring (the library holds the address) */
		if (s->stale_pool)
			CHECK_FAILED(hp_mempool_free(s->stale_pool));
		break;
	case 7:
		if (s->stale_ring)
			CHECK_FAILED(hp_ring_free(s->stale_ring));
		break;
	case 0:
		CHECK(!hp_mempool_lookup(NULL) && errno == EINVAL);
		break;
	case 1:
		CHECK(!hp_ring_lookup(NULL) && errno == EINVAL);
		break;
	case 2:
		CHECK(!hp_memzone_lookup(NULL) && errno == EINVAL);
		break;
	case 3:
		CHECK_FAILED(hp_memzone_free(NULL));
		break;
	case 4:
		CHECK_FAILED(hp_memzone_walk(NULL, NULL));
		break;
	default:
		CHECK(hp_memseg_walk(count_seg, &n) == 0 && n > 0);
		CHECK_FAILED(hp_memseg_walk(NULL, NULL));
		CHECK_FAILED(hp_memseg_contig_walk(NULL, NULL));
		CHECK_FAILED(hp_mempool_walk(NULL, NULL));
		CHECK_FAILED(hp_ring_walk(NULL, NULL));
		CHECK(hp_mempool_avail_count(NULL) == 0 && errno == EINVAL);
		CHECK(hp_mempool_in_use_count(NULL) == 0 && errno == EINVAL);
		CHECK(hp_mempool_debug_errors(NULL) == 0 && errno == EINVAL);
		CHECK_FAILED(hp_mempool_audit(NULL));
		CHECK_FAILED(hp_mempool_dump(stderr, NULL));
		CHECK_FAILED(hp_ring_dump(stderr, NULL));
		CHECK_FAILED(hp_ring_dump(NULL, s->rings[0]));
		break;
	}
}

static void walk_pools(struct state *s)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		unsigned n = 0;

		if (!s->pools[i].mp)
			continue;
		CHECK(hp_mempool_obj_iter(s->pools[i].mp, count_obj, &n) == (int)s->pools[i].n);
		CHECK(n == s->pools[i].n);
		CHECK(hp_mempool_audit(s->pools[i].mp) == 0);
	}
}

static void pool_free_op(struct state *s, struct input *in)
{
	pool_free(s, take(in) % SLOTS);
}

static void walk_op(struct state *s, struct input *in)
{
	unsigned segs = 0;

	(void)in;
	walk_pools(s);
	CHECK(hp_memseg_contig_walk(count_seg, &segs) == 0);
}

/*
 * What an input byte runs: the entry at its value modulo the table's length. Gets and puts, most
 * of a program's calls, have two entries.
 */
typedef void op_fn(struct state *s, struct input *in);
static op_fn *const ops[] = {
    [0] = pool_create, [1] = pool_free_op, [2] = pool_get_put, [3] = pool_get_put, [4] = ring_op,
    [5] = zone_op,     [6] = heap_op,	   [7] = misuse,       [8] = walk_op,
};

static unsigned zones_at_start;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *huge[] = {"fuzz_api", "--socket-mem=32", NULL};
	char *nohuge[] = {"fuzz_api", "--no-huge", "--socket-mem=32", NULL};
	struct hp_hugepage_pool pools[64];
	size_t ps = hp_hugepage_default_size();
	int i, n = hp_hugepage_pools(pools, 64);
	unsigned long free_mb = 0;

	(void)argc, (void)argv;
	for (i = 0; i < n && i < 64; i++)
		if (pools[i].node == 0 && pools[i].page_size == ps)
			free_mb = (unsigned long)pools[i].free * (ps >> 20);
	if (hp_init(free_mb >= 64 ? 2 : 3, free_mb >= 64 ? huge : nohuge) < 0) {
		fprintf(stderr, "fuzz_api: hp_init failed: %s\n", hp_last_error());
		abort();
	}
	CHECK(hp_thread_register() == 0);
	zones_at_start = zones_now();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, data + size};
	struct state s = {0};
	unsigned i;

	while (in.p < in.end)
		ops[take(&in) % (sizeof(ops) / sizeof(ops[0]))](&s, &in);
	for (i = 0; i < SLOTS; i++) {
		pool_free(&s, i);
		if (s.rings[i])
			hp_ring_free(s.rings[i]);
		if (s.zones[i])
			CHECK(hp_memzone_free(s.zones[i]) == 0);
		hp_free(s.blocks[i]);
	}
	CHECK(zones_now() == zones_at_start); /* nothing outlives what made it */
	return 0;
}
