/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hp_malloc's small blocks: per-node 64 KiB slabs of one size class, each block a header and
 * data (heap_block.h). heap_lock[node] guards the node's slab lists and every slab of the node;
 * it is dropped around mem_range_alloc/mem_range_release (lock level 12, doc/architecture.md).
 */
#include <pthread.h>
#include <string.h>

#include "heap_block.h"
#include "mem/mem_internal.h"

#define SLAB_MAGIC 0x68705362u /* "hpSb" */

/* A slab: this header in its first cache line, then blocks of one class (each: pad, hdr, data). */
struct slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t node;
	struct slab *prev, *next; /* in the node's list for cls: slabs with a free block */
	void *free;		  /* free blocks linked through their first word */
	unsigned n_free, n_total;
	bool dynamic; /* in grown memory, whose pages go back to the kernel when unused */
};

struct node_heap {
	struct slab *partial[N_CLS]; /* slabs with at least one free block */
};

static pthread_mutex_t heap_lock[HP_MAX_NUMA_NODES] = {[0 ... HP_MAX_NUMA_NODES - 1] =
							   PTHREAD_MUTEX_INITIALIZER};
static struct node_heap heaps[HP_MAX_NUMA_NODES];

_Static_assert(sizeof(struct slab) <= MIN_ALIGN, "slab header fits in one cache line");

/* ---- slabs (caller holds heap_lock[node]) ------------------------------------------------ */

static void slab_link(struct slab **head, struct slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void slab_unlink(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void slab_format(struct slab *s, unsigned cls, int node)
{
	size_t bsz = cls_size[cls];
	char *b = (char *)s + MIN_ALIGN;

	*s = (struct slab){.magic = SLAB_MAGIC,
			   .cls = (uint16_t)cls,
			   .node = (uint16_t)node,
			   .dynamic = mem_list_of(s)->dynamic};
	for (; b + bsz <= (char *)s + SLAB_SIZE; b += bsz) {
		if (unit_aligned(b + MIN_ALIGN))
			continue; /* that pointer would read as a large block's */
		*(void **)b = s->free;
		s->free = b;
		s->n_total++;
	}
	s->n_free = s->n_total;
}

/* ---- taking and giving back blocks -------------------------------------------------------- */

/*
 * Up to n free blocks of class cls on node into out[]. More than one is taken only from slabs
 * in memory that stays (--socket-mem), so the blocks a thread keeps never hold pages that
 * should go back to the kernel. @return how many; 0 when none (error set).
 */
unsigned heap_slab_get_bulk(int node, unsigned cls, void **out, unsigned n)
{
	struct slab **head = &heaps[node].partial[cls];
	struct slab *s;
	unsigned i = 0;

	pthread_mutex_lock(&heap_lock[node]);
	while (i < n) {
		if (!*head) {
			if (i)
				break;
			pthread_mutex_unlock(&heap_lock[node]);
			s = mem_range_alloc(SLAB_SIZE, SLAB_SIZE, node, 0);
			if (!s)
				return 0;
			pthread_mutex_lock(&heap_lock[node]);
			slab_format(s, cls, node);
			slab_link(head, s);
			continue;
		}
		s = *head;
		if (i && s->dynamic)
			break;
		out[i] = s->free;
		s->free = *(void **)out[i++];
		if (--s->n_free == 0)
			slab_unlink(head, s);
		if (s->dynamic)
			break;
	}
	pthread_mutex_unlock(&heap_lock[node]);
	return i;
}

/*
 * Give n (at most TC_MAX) blocks of one node back to their slabs; an emptied slab goes back to
 * the allocator, except the last of its class in memory that stays (it spares a refill).
 */
void heap_slab_put_bulk(void *const *blk, unsigned n)
{
	struct slab *release[TC_MAX];
	unsigned n_release = 0;
	int node;

	if (!n)
		return;
	node = ((struct slab *)((uintptr_t)blk[0] & ~(SLAB_SIZE - 1)))->node;
	pthread_mutex_lock(&heap_lock[node]);
	for (unsigned i = 0; i < n; i++) {
		struct slab *s = (struct slab *)((uintptr_t)blk[i] & ~(SLAB_SIZE - 1));
		struct slab **head = &heaps[node].partial[s->cls];

		*(void **)blk[i] = s->free;
		s->free = blk[i];
		if (s->n_free++ == 0)
			slab_link(head, s);
		if (s->n_free == s->n_total && (s->prev || s->next || s->dynamic)) {
			slab_unlink(head, s);
			s->magic = 0;
			release[n_release++] = s;
		}
	}
	pthread_mutex_unlock(&heap_lock[node]);
	for (unsigned i = 0; i < n_release; i++)
		mem_range_release(release[i], SLAB_SIZE);
}

/* The memory under every slab goes away with the allocator's state at cleanup: just forget. */
void heap_slab_reset(void)
{
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++) {
		pthread_mutex_lock(&heap_lock[i]);
		memset(&heaps[i], 0, sizeof(heaps[i]));
		pthread_mutex_unlock(&heap_lock[i]);
	}
}

void heap_slab_fork_child(void)
{
	for (int i = 0; i < HP_MAX_NUMA_NODES; i++)
		heap_lock[i] = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
