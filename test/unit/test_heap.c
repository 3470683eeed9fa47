/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc and friends: sizes and aligns, contents across realloc, zeroing, node placement,
 * argument errors, double and foreign frees (logged, not fatal), memory reuse, and several
 * threads allocating and freeing at once with a pattern check that catches any overlap.
 */
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"
#include "heap/heap_internal.h"
#include "mem/mem_internal.h"

#define SOCKET_MB 64

static int setup(void **state)
{
	(void)state;
	hp_test_init(SOCKET_MB, "--socket-mem=%d", SOCKET_MB);
	return 0;
}

static void fill(void *p, size_t n, unsigned seed)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(seed * 31 + i * 7);
}

static bool intact(const void *p, size_t n, unsigned seed)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)(seed * 31 + i * 7))
			return false;
	return true;
}

struct blk {
	void *p;
	size_t n;
};

static int cmp_blk(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct blk *)a)->p,
		  y = (uintptr_t)((const struct blk *)b)->p;

	return x < y ? -1 : x > y;
}

static void test_blocks_of_many_sizes_and_aligns_hold_their_bytes(void **state)
{
	static const size_t sizes[] = {1,    7,	   63,	 64,	65,    100,    500,    1000,
				       4000, 8000, 8129, 10000, 65536, 300000, 3 << 20};
	static const size_t aligns[] = {0, 64, 128, 4096, 1 << 16, 2 << 20};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) * sizeof(aligns) / sizeof(aligns[0]) * 3 };
	static struct blk b[N];
	unsigned k = 0;

	(void)state;
	for (unsigned r = 0; r < 3; r++)
		for (unsigned a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
			for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++, k++) {
				b[k].n = sizes[s];
				b[k].p = hp_malloc(sizes[s], aligns[a], 0);
				if (!b[k].p)
					fail_msg("hp_malloc(%zu, %zu): %s", sizes[s], aligns[a],
						 hp_last_error());
				assert_int_equal((uintptr_t)b[k].p % (aligns[a] ? aligns[a] : 64),
						 0);
				fill(b[k].p, b[k].n, k);
			}
	for (k = 0; k < N; k++)
		assert_true(intact(b[k].p, b[k].n, k));
	qsort(b, N, sizeof(b[0]), cmp_blk);
	for (k = 1; k < N; k++)
		assert_true((uintptr_t)b[k - 1].p + b[k - 1].n <= (uintptr_t)b[k].p);
	for (k = 0; k < N; k++)
		hp_free(b[k].p);
}

static void test_realloc_keeps_contents_while_growing_and_shrinking(void **state)
{
	static const size_t steps[] = {10, 100, 5000, 9000, 100000, 4 << 20, 3000, 50, 1};
	size_t prev = 0;
	char *p = NULL;

	(void)state;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *q = hp_realloc(p, steps[i], 0, 0);

		if (!q)
			fail_msg("hp_realloc to %zu: %s", steps[i], hp_last_error());
		if (prev)
			assert_true(intact(q, prev < steps[i] ? prev : steps[i], 99));
		fill(q, steps[i], 99);
		p = q;
		prev = steps[i];
	}
	/* a stricter align moves the block and keeps the bytes */
	p = hp_realloc(p, 1, 1 << 20, HP_NODE_ANY);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (1 << 20), 0);
	assert_true(intact(p, 1, 99));
	errno = 0;
	assert_null(hp_realloc(p, 0, 0, 0)); /* size 0 frees */
}

static void test_realloc_that_fails_leaves_the_block_untouched(void **state)
{
	char *p = hp_malloc(1000, 0, 0);

	(void)state;
	assert_non_null(p);
	fill(p, 1000, 5);
	errno = 0;
	assert_null(hp_realloc(p, (size_t)1 << 50, 0, 0));
	assert_int_equal(errno, ENOMEM);
	assert_true(strlen(hp_last_error()) > 0);
	assert_true(intact(p, 1000, 5));
	hp_free(p);
}

static void test_zmalloc_returns_zeroed_memory_even_when_reused(void **state)
{
	static const size_t sizes[] = {1, 100, 4000, 20000, 1 << 20};

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = hp_malloc(sizes[i], 0, 0), *z;

		assert_non_null(p);
		memset(p, 0xff, sizes[i]);
		hp_free(p);
		z = hp_zmalloc(sizes[i], 0, 0);
		assert_non_null(z);
		for (size_t b = 0; b < sizes[i]; b++)
			if (z[b])
				fail_msg("byte %zu of a %zu-byte zmalloc block is %u", b, sizes[i],
					 z[b]);
		hp_free(z);
	}
}

static void test_blocks_asked_on_node_0_are_on_node_0(void **state)
{
	static const size_t sizes[] = {8, 3000, 70000, 5 << 20};

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = hp_malloc(sizes[i], 0, 0);

		assert_non_null(p);
		assert_int_equal(hp_mem_node_of(p), 0);
		assert_int_equal(hp_mem_node_of(p + sizes[i] - 1), 0);
		assert_true(hp_mem_virt2iova(p) != HP_BAD_IOVA);
		hp_free(p);
	}
}

static void test_bad_size_align_or_node_fail_with_a_sentence(void **state)
{
	int nodes = numa_available() < 0 ? 1 : numa_max_node() + 1;

	(void)state;
	errno = 0;
	assert_null(hp_malloc(0, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "size 0"));
	errno = 0;
	assert_null(hp_malloc(10, 3, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "power of two"));
	errno = 0;
	assert_null(hp_zmalloc(10, 96, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(hp_malloc(10, 0, nodes));
	assert_int_equal(errno, ENODEV);
	assert_non_null(strstr(hp_last_error(), "does not exist"));
	errno = 0;
	assert_null(hp_malloc(10, 0, -7));
	assert_int_equal(errno, ENODEV);
}

static _Atomic unsigned errors_logged;

static void count_errors(enum hp_log_level level, const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (level == HP_LOG_ERR)
		errors_logged++;
}

static char last_logged[512];

static void keep_last(enum hp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == HP_LOG_ERR)
		snprintf(last_logged, sizeof(last_logged), "%s", msg);
}

/* The sentence of a pointer into a block says so, not that it is outside runtime memory. */
static void assert_inside_a_block(const char *who)
{
	if (!strstr(last_logged, who) || strstr(last_logged, "not in runtime memory") ||
	    !strstr(last_logged, "not the start of a block") ||
	    !strstr(last_logged, "into a block"))
		fail_msg("%s: sentence '%s'", who, last_logged);
	last_logged[0] = '\0';
}

static void test_a_pointer_into_a_block_is_named_so(void **state)
{
	char *p = hp_malloc(200, 0, 0), *big = hp_malloc(4 << 20, 0, 0);
	int on_stack = 0;

	(void)state;
	assert_non_null(p);
	assert_non_null(big);
	hp_log_set_handler(keep_last, NULL);
	hp_free(p + 1);
	assert_inside_a_block("hp_free");
	hp_free(big + 8);
	assert_inside_a_block("hp_free");
	errno = 0;
	assert_null(hp_realloc(p + 16, 300, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_inside_a_block("hp_realloc");
	hp_free(&on_stack); /* outside runtime memory: that sentence stays */
	assert_non_null(strstr(last_logged, "not in runtime memory"));
	hp_log_set_handler(NULL, NULL);
	/* both blocks are still live and whole */
	memset(p, 1, 200);
	memset(big, 2, 4 << 20);
	hp_free(p);
	hp_free(big);
}

static void test_double_and_foreign_frees_are_logged_and_ignored(void **state)
{
	char *small = hp_malloc(100, 0, 0), *large = hp_malloc(1 << 20, 0, 0), *keep;
	int on_stack = 0;
	void *libc = malloc(64);

	(void)state;
	assert_non_null(small);
	assert_non_null(large);
	hp_log_set_handler(count_errors, NULL);
	errors_logged = 0;
	hp_free(NULL); /* nothing to say */
	assert_int_equal(errors_logged, 0);
	hp_free(small);
	hp_free(large);
	assert_int_equal(errors_logged, 0);
	hp_free(small);
	assert_int_equal(errors_logged, 1);
	hp_free(large);
	assert_int_equal(errors_logged, 2);
	hp_free(&on_stack);
	assert_int_equal(errors_logged, 3);
	hp_free(libc);
	assert_int_equal(errors_logged, 4);
	errno = 0;
	assert_null(hp_realloc(libc, 10, 0, 0));
	assert_int_equal(errno, EINVAL);
	hp_log_set_handler(NULL, NULL);
	free(libc);
	/* the heap still works, and the small block is handed out once only */
	keep = hp_malloc(100, 0, 0);
	assert_non_null(keep);
	assert_ptr_not_equal(hp_malloc(100, 0, 0), keep);
}

/* The page index of va in its list, which must hold it. */
static const struct hp_memseg *page_of(const void *va)
{
	const struct mem_list *l = mem_list_of(va);

	assert_non_null(l);
	return &l->pages[((uintptr_t)va - (uintptr_t)l->base) / l->page_size];
}

/*
 * Without --socket-mem every page is grown: a small block's slab goes back to the kernel (its
 * page PROT_NONE) once freed and trimmed, and freeing it again, or reallocating it, must be
 * logged and ignored there too, not read a header that is no longer mapped.
 */
static void test_double_free_in_grown_memory_is_logged_and_ignored(void **state)
{
	char *p, *keep;

	(void)state;
	hp_cleanup();
	hp_test_init(16, "%s", "--log-level=error");
	p = hp_malloc(200, 0, 0);
	assert_non_null(p);
	assert_true(mem_list_of(p)->dynamic);
	hp_free(p);
	hp_mem_trim(0); /* the budget keeps free grown pages: give them back now */
	assert_int_equal(page_of(p - 64)->iova, HP_BAD_IOVA); /* the header's page is gone */
	hp_log_set_handler(count_errors, NULL);
	errors_logged = 0;
	hp_free(p);
	assert_int_equal(errors_logged, 1);
	errno = 0;
	assert_null(hp_realloc(p, 300, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(errors_logged, 2);
	hp_log_set_handler(NULL, NULL);
	keep = hp_malloc(200, 0, 0);
	assert_non_null(keep);
	memset(keep, 1, 200);
	hp_free(keep);
}

/*
 * A large block takes whole 4 KiB units and nothing more (no header unit), a pointer into it at
 * a unit boundary is refused, and hundreds of them freed in a shuffled order, each freed twice,
 * merge back to the free total the heap started with. Small blocks never sit at a unit boundary.
 */
static void test_large_blocks_take_whole_units_and_only_their_start_frees_them(void **state)
{
	enum { N = 600 };
	static char *big[N];
	struct hp_heap_stats before, during;
	unsigned seed = 5;
	char *p, *q;

	(void)state;
	assert_int_equal(hp_heap_stats(0, &before), 0);
	p = hp_malloc(1 << 20, 0, 0);
	assert_non_null(p);
	assert_int_equal(hp_heap_stats(0, &during), 0);
	assert_int_equal(during.allocated - before.allocated, 1 << 20);
	q = hp_malloc((1 << 20) + 1, 4096, 0);
	assert_non_null(q);
	assert_int_equal(hp_heap_stats(0, &during), 0);
	assert_int_equal(during.allocated - before.allocated, (2 << 20) + 4096);
	fill(p, 1 << 20, 1);
	hp_log_set_handler(count_errors, NULL);
	errors_logged = 0;
	hp_free(p + 4096);
	assert_int_equal(errors_logged, 1);
	errno = 0;
	assert_null(hp_realloc(p + 4096, 10, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_true(intact(p, 1 << 20, 1)); /* still live, still p's */
	hp_free(q);
	hp_free(p);
	assert_int_equal(errors_logged, 2);
	for (int i = 0; i < N; i++) {
		big[i] = hp_malloc(16384 + (size_t)(i % 7) * 1000, 0, 0);
		assert_non_null(big[i]);
		assert_int_equal((uintptr_t)big[i] % 4096, 0);
		*big[i] = (char)i;
	}
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(rand_r(&seed) % (unsigned)(i + 1));
		char *t = big[i];

		big[i] = big[j];
		big[j] = t;
	}
	errors_logged = 0;
	for (int i = 0; i < N; i++)
		hp_free(big[i]);
	assert_int_equal(errors_logged, 0);
	for (int i = 0; i < N; i++)
		hp_free(big[i]);
	assert_int_equal(errors_logged, N);
	hp_log_set_handler(NULL, NULL);
	assert_int_equal(hp_heap_stats(0, &during), 0);
	assert_int_equal(during.free, before.free);
	for (int i = 0; i < 3000; i++) {
		big[i % N] = hp_malloc(1 + (size_t)i % 2000, 0, 0);
		assert_non_null(big[i % N]);
		assert_int_not_equal((uintptr_t)big[i % N] % 4096, 0);
		if (i % N == N - 1)
			for (int k = 0; k < N; k++)
				hp_free(big[k]);
	}
}

/* Allocates N small blocks, then frees them so that the last 32 freed span two slabs. */
enum { TC_BLOCKS = 2000 };
static void *alloc_and_free_spread(void *arg)
{
	static void *b[TC_BLOCKS];

	(void)arg;
	for (int i = 0; i < TC_BLOCKS; i++)
		if (!(b[i] = hp_malloc(100, 0, 0)))
			return (void *)1;
	for (int i = 16; i < TC_BLOCKS - 16; i++)
		hp_free(b[i]);
	for (int i = 0; i < 16; i++) {
		hp_free(b[i]);
		hp_free(b[TC_BLOCKS - 1 - i]);
	}
	return NULL;
}

/*
 * Freed small blocks a thread keeps go back when it exits (and on hp_heap_cache_flush), so the
 * slabs they held empty and go back too; a cache filled before hp_cleanup is never used after
 * the next hp_init.
 */
static void test_thread_caches_go_back_at_exit_and_never_outlive_the_runtime(void **state)
{
	struct hp_heap_stats start, end;
	pthread_t t;
	void *ret, *stale[40], *fresh[40];
	char *big;

	(void)state;
	hp_free(hp_malloc(100, 0, 0)); /* the slab its class keeps */
	assert_int_equal(hp_heap_cache_flush(), 0);
	assert_int_equal(hp_heap_stats(0, &start), 0);
	assert_int_equal(pthread_create(&t, NULL, alloc_and_free_spread, NULL), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(hp_heap_stats(0, &end), 0);
	assert_int_equal(end.free, start.free);
	/* the same in this thread, by hand */
	assert_null(alloc_and_free_spread(NULL));
	assert_int_equal(hp_heap_stats(0, &end), 0);
	assert_true(end.free < start.free);
	assert_int_equal(hp_heap_cache_flush(), 0);
	assert_int_equal(hp_heap_stats(0, &end), 0);
	assert_int_equal(end.free, start.free);
	/* blocks cached, then the runtime goes and comes back */
	for (int i = 0; i < 40; i++)
		assert_non_null(stale[i] = hp_malloc(200, 0, 0));
	for (int i = 0; i < 40; i++)
		hp_free(stale[i]);
	hp_cleanup();
	assert_int_equal(hp_heap_cache_flush(), -EINVAL);
	hp_test_init(SOCKET_MB, "--socket-mem=%d", SOCKET_MB);
	for (int i = 0; i < 40; i++)
		assert_non_null(fresh[i] = hp_malloc(200, 0, 0));
	big = hp_malloc((SOCKET_MB - 2) << 20, 0, 0); /* all but the new slab, if any */
	assert_non_null(big);
	for (int i = 0; i < 40; i++)
		if ((char *)fresh[i] >= big && (char *)fresh[i] < big + ((SOCKET_MB - 2) << 20))
			fail_msg("block %p lies in the large block %p: a stale cache was used",
				 fresh[i], (void *)big);
	for (int i = 0; i < 40; i++)
		hp_free(fresh[i]);
	hp_free(big);
}

static void test_freed_memory_is_reused_without_growing(void **state)
{
	size_t reserved;
	void *p;

	(void)state;
	p = hp_malloc(16 << 20, 0, 0);
	assert_non_null(p);
	hp_free(p);
	for (int i = 0; i < 8; i++) /* warm the slabs of a few classes */
		hp_free(hp_malloc(100u << i, 0, 0));
	reserved = hp_mem_reserved(HP_NODE_ANY);
	for (int i = 0; i < 500; i++) {
		void *a = hp_malloc(16 << 20, 0, 0), *b = hp_malloc(1 + i * 13, 0, 0);

		assert_non_null(a);
		assert_non_null(b);
		hp_free(a);
		hp_free(b);
	}
	assert_int_equal(hp_mem_reserved(HP_NODE_ANY), reserved);
}

#define THREADS 4
#define LIVE 64
#define ROUNDS 20000

static void *churn(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, seed = id + 1;
	struct blk live[LIVE] = {0};
	unsigned tag[LIVE] = {0};
	uintptr_t bad = 0;

	for (unsigned r = 0; r < ROUNDS && !bad; r++) {
		unsigned k = rand_r(&seed) % LIVE;
		size_t n = (rand_r(&seed) % 8 == 0) ? 1 + rand_r(&seed) % 200000
						    : 1 + rand_r(&seed) % 3000;

		if (live[k].p) {
			if (!intact(live[k].p, live[k].n, tag[k]))
				bad = 1;
			hp_free(live[k].p);
		}
		live[k].p = hp_malloc(n, (rand_r(&seed) % 4 == 0) ? 256 : 0, HP_NODE_ANY);
		if (!live[k].p)
			return (void *)2;
		live[k].n = n;
		tag[k] = id * ROUNDS + r;
		fill(live[k].p, n, tag[k]);
	}
	for (unsigned k = 0; k < LIVE; k++)
		if (live[k].p) {
			if (!intact(live[k].p, live[k].n, tag[k]))
				bad = 1;
			hp_free(live[k].p);
		}
	return (void *)bad;
}

static void test_threads_malloc_and_free_concurrently_without_overlap(void **state)
{
	pthread_t t[THREADS];
	void *ret;

	(void)state;
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		if (ret == (void *)2)
			fail_msg("thread %d: hp_malloc failed", i);
		if (ret)
			fail_msg("thread %d: a block's bytes changed under it (overlap)", i);
	}
}

/* Sum of the free blocks' bytes per order; equals st->free while no block is 2 GiB or more. */
static size_t blocks_bytes(const struct hp_heap_stats *st)
{
	size_t sum = 0;

	for (unsigned k = 0; k < HP_HEAP_ORDERS; k++)
		sum += st->free_blocks[k] * ((size_t)HP_HEAP_BLOCK_UNIT << k);
	return sum;
}

static void test_stats_follow_allocations_and_count_blocks_per_order(void **state)
{
	struct hp_heap_stats before, during, after;
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	void *p;

	(void)state;
	assert_int_equal(hp_heap_stats(0, &before), 0);
	assert_int_equal(before.total, hp_mem_reserved(0));
	assert_int_equal(before.free + before.allocated, before.total);
	assert_int_equal(blocks_bytes(&before), before.free);
	p = hp_malloc(1 << 20, 0, 0);
	assert_non_null(p);
	assert_int_equal(hp_heap_stats(0, &during), 0);
	assert_true(during.allocated >= before.allocated + (1 << 20));
	assert_int_equal(blocks_bytes(&during), during.free);
	hp_free(p);
	assert_int_equal(hp_heap_stats(0, &after), 0);
	assert_int_equal(after.free, before.free); /* merged back whole */
	assert_memory_equal(after.free_blocks, before.free_blocks, sizeof(before.free_blocks));
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	assert_int_equal(hp_heap_dump(f), 0);
	fclose(f);
	assert_non_null(strstr(text, "free blocks"));
	assert_non_null(strstr(text, "\n   0 "));
	free(text);
	assert_int_equal(hp_heap_stats(0, NULL), -EINVAL);
	assert_int_equal(hp_heap_stats(-1, &after), -EINVAL);
	assert_int_equal(hp_heap_stats(HP_MAX_NUMA_NODES, &after), -EINVAL);
	assert_int_equal(hp_heap_dump(NULL), -EINVAL);
}

/*
 * Random malloc/realloc/free against a shadow of every live block (size, alignment, contents):
 * no overlap, alignment kept, realloc keeps contents, and at the end every byte merges back to
 * the free total and blocks per order the heap started with.
 */
static void test_random_sequences_keep_contents_and_merge_back(void **state)
{
	struct {
		char *p;
		size_t n, align;
		unsigned tag;
	} live[96] = {0};
	struct hp_heap_stats start, end;
	unsigned seed = 99;

	(void)state;
	/* a block of every slab class first: the one empty slab each class keeps counts in start */
	for (size_t n = 1; n < 8192; n += 64)
		hp_free(hp_malloc(n, 0, 0));
	assert_int_equal(hp_heap_cache_flush(), 0);
	assert_int_equal(hp_heap_stats(0, &start), 0);
	for (unsigned step = 0; step < 6000; step++) {
		unsigned k = rand_r(&seed) % 96, op = rand_r(&seed) % 3;
		size_t n =
		    rand_r(&seed) % 5 ? 1 + rand_r(&seed) % 9000 : 1 + rand_r(&seed) % 900000;
		size_t align = rand_r(&seed) % 4 ? 0 : (size_t)64 << (rand_r(&seed) % 10);

		if (live[k].p) {
			assert_true(intact(live[k].p, live[k].n, live[k].tag));
			if (op == 0) {
				char *q = hp_realloc(live[k].p, n, live[k].align, HP_NODE_ANY);

				assert_non_null(q);
				assert_true(intact(q, n < live[k].n ? n : live[k].n, live[k].tag));
				assert_int_equal(
				    (uintptr_t)q % (live[k].align ? live[k].align : 64), 0);
				live[k].p = q;
				live[k].n = n;
				fill(q, n, live[k].tag);
				continue;
			}
			hp_free(live[k].p);
			live[k].p = NULL;
			continue;
		}
		live[k].p = hp_malloc(n, align, 0);
		assert_non_null(live[k].p);
		assert_int_equal((uintptr_t)live[k].p % (align ? align : 64), 0);
		live[k].n = n;
		live[k].align = align;
		live[k].tag = step;
		fill(live[k].p, n, step);
		assert_int_equal(mem_alloc_check(), 0); /* buddy lists, counts and pages agree */
	}
	for (unsigned k = 0; k < 96; k++)
		if (live[k].p) {
			assert_true(intact(live[k].p, live[k].n, live[k].tag));
			hp_free(live[k].p);
		}
	assert_int_equal(hp_heap_cache_flush(), 0);
	assert_int_equal(hp_heap_stats(0, &end), 0);
	assert_int_equal(end.free, start.free);
	assert_int_equal(end.total, start.total);
}

static void test_malloc_before_init_fails_einval(void **state)
{
	(void)state;
	hp_cleanup();
	errno = 0;
	assert_null(hp_malloc(64, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(hp_last_error(), "hp_init"));
	hp_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, hp_test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_blocks_of_many_sizes_and_aligns_hold_their_bytes),
	    T(test_realloc_keeps_contents_while_growing_and_shrinking),
	    T(test_realloc_that_fails_leaves_the_block_untouched),
	    T(test_zmalloc_returns_zeroed_memory_even_when_reused),
	    T(test_blocks_asked_on_node_0_are_on_node_0),
	    T(test_bad_size_align_or_node_fail_with_a_sentence),
	    T(test_double_and_foreign_frees_are_logged_and_ignored),
	    T(test_double_free_in_grown_memory_is_logged_and_ignored),
	    T(test_a_pointer_into_a_block_is_named_so),
	    T(test_large_blocks_take_whole_units_and_only_their_start_frees_them),
	    T(test_thread_caches_go_back_at_exit_and_never_outlive_the_runtime),
	    T(test_freed_memory_is_reused_without_growing),
	    T(test_threads_malloc_and_free_concurrently_without_overlap),
	    T(test_stats_follow_allocations_and_count_blocks_per_order),
	    T(test_random_sequences_keep_contents_and_merge_back),
	    T(test_malloc_before_init_fails_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
