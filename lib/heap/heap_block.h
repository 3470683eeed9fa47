/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/heap: what the files of hp_malloc share. A small block (slabs in heap_slab.c,
 * kept per thread in heap_tcache.c) carries a header just before its pointer; a large block
 * (heap_large.c) has none and is recorded in a table instead. No small block's pointer is
 * unit-aligned and every large block's is, so the pointer tells which kind it is.
 */
#ifndef HP_HEAP_BLOCK_H
#define HP_HEAP_BLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eal/eal_internal.h"
#include "heap_internal.h"

#define HDR_LIVE 0x68704c56u /* "hpLV" */
#define HDR_FREE 0x68704672u /* "hpFr" */
#define MIN_ALIGN ((size_t)HP_CACHE_LINE_SIZE)
#define SLAB_SIZE ((size_t)64 << 10)
#define SLAB_MAX_BLOCK 8192
#define TC_MAX 32  /* blocks a thread keeps per class and node */
#define TC_MOVE 16 /* blocks moved between a thread and the slabs at a time */

/* A small block's header; a large block is described by a struct big in the table instead. */
struct hdr {
	uint32_t magic;
	uint16_t node;
	uint16_t cls; /* size class */
	size_t size;  /* bytes the caller asked for */
	void *base;   /* the slab */
	size_t pad;
};

_Static_assert(sizeof(struct hdr) <= MIN_ALIGN / 2, "header fits before a cache-aligned pointer");

/* A live large block. */
struct big {
	uintptr_t ptr; /* 0: an empty slot */
	size_t len;    /* bytes taken from mem_range_alloc(), a whole number of units */
	size_t size;   /* bytes the caller asked for */
	int node;
};

/*
 * Block sizes, each a multiple of a cache line: the first line of a block holds its header. Each
 * file has the table itself, so that finding a class compiles to compares with constants.
 */
static const size_t cls_size[] = {128,	192,  256,  384,  512,	768, 1024,
				  1536, 2048, 3072, 4096, 6144, 8192};
#define N_CLS (sizeof(cls_size) / sizeof(cls_size[0]))

/* Set between the heap's init and cleanup (heap.c). */
extern atomic_bool heap_ready;

static inline struct hdr *hdr_of(void *ptr)
{
	return (struct hdr *)ptr - 1;
}

/* Whether p is unit-aligned: true of every large block's pointer and of no small block's. */
static inline bool unit_aligned(const void *p)
{
	return ((uintptr_t)p & (MEM_RANGE_UNIT - 1)) == 0;
}

/* heap_slab.c: up to n free blocks of class cls on node into out[]; n blocks of one node back. */
unsigned heap_slab_get_bulk(int node, unsigned cls, void **out, unsigned n);
void heap_slab_put_bulk(void *const *blk, unsigned n);
void heap_slab_reset(void);
/* In a forked child: every node's slab lock free again (its holder is not in the child). */
void heap_slab_fork_child(void);

/* heap_tcache.c: a small block of size bytes on node, through the thread's cache; and back. */
void *heap_small_get(size_t size, int node);
void heap_small_put(void *ptr, bool dynamic);
void heap_tcache_flush(void);
void heap_tcache_retire(void);

/* heap_large.c: a large block, its record found (with take, removed) or resized. */
void *heap_large_get(size_t size, size_t align, int node);
bool heap_big_find(uintptr_t ptr, struct big *rec, bool take);
void heap_big_set_size(uintptr_t ptr, size_t size);
void heap_large_reset(void);
/* In a forked child: every stripe's lock free again (its holder is not in the child). */
void heap_large_fork_child(void);

#endif
