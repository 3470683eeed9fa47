/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_ring_core.h
 * @internal
 * Private layout of a ring (installed only because the inline enqueue and dequeue of
 * hp_ring.h read it). Use the functions of hp_ring.h; never touch these fields.
 */
#ifndef HP_RING_CORE_H
#define HP_RING_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>
#include <hp_memzone.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest ring name + 1. */
#define HP_RING_NAMESIZE (HP_MEMZONE_NAMESIZE - 3)

/** @internal Value of hp_ring::magic while a ring is live. */
#define HP_RING_MAGIC 0x52494e47U

/**
 * @internal
 * One side of the ring (producers or consumers).
 * The head and what only this side reads share a line; the tail, which the other side polls,
 * has a line of its own, so that polling it never takes away the line this side claims on. An
 * empty line follows each, so that the adjacent-line prefetcher, which fetches lines in pairs,
 * never pairs a hot line with another hot line.
 * head and tail are read and written only through the compiler's __atomic builtins, which C and
 * C++ share (C++ before C++23 has no _Atomic), so the header compiles in both.
 */
struct hp_ring_headtail {
	/** next index this side claims (CAS when several threads; unused by a single thread,
	 *  whose head is its tail) */
	uint32_t head;
	uint32_t single;   /**< 1: one thread at a time on this side; set at init */
	uint32_t opp_tail; /**< single side only: a recent copy of the other side's tail */
	HP_CACHE_ALIGNED char pad0[HP_CACHE_LINE_SIZE]; /**< keeps the prefetcher off tail */
	/** everything before it is finished by this side */
	HP_CACHE_ALIGNED uint32_t tail;
	HP_CACHE_ALIGNED char pad1[HP_CACHE_LINE_SIZE]; /**< keeps the prefetcher off the next */
};

/**
 * @internal
 * A ring: the fields are private, here only so that enqueue and dequeue can be inline.
 * Indexes run freely over uint32_t; slot of index i is i & mask.
 * ABI: the inline enqueue and dequeue of programs built against this header read mask,
 * capacity, prod, cons and slots at these offsets, and struct hp_ring_headtail whole. Moving,
 * resizing or removing any of them needs a new soname (libhugepool.so.N+1); a new field goes
 * before prod only if the offsets of prod, cons and slots stay (as the padding allows), else
 * nowhere without that bump.
 */
struct hp_ring {
	char name[HP_RING_NAMESIZE]; /**< name given at create/init */
	uint32_t magic;		     /**< HP_RING_MAGIC while the ring is live */
	unsigned flags;		     /**< HP_RING_* given at create/init */
	uint32_t size;		     /**< slots, a power of two */
	uint32_t mask;		     /**< size - 1 */
	uint32_t capacity;	     /**< most objects held at once */
	int node;		     /**< NUMA node of a named ring, -1 after hp_ring_init() */
	struct hp_ring *next;	     /**< registry of named rings (hp_ring_create()) */
	/** producers' side (head and tail each on a line of its own) */
	HP_CACHE_ALIGNED struct hp_ring_headtail prod;
	/** consumers' side (head and tail each on a line of its own) */
	HP_CACHE_ALIGNED struct hp_ring_headtail cons;
	/** the slots */
	HP_CACHE_ALIGNED void *slots[];
};

HP_STATIC_ASSERT(offsetof(struct hp_ring_headtail, tail) % HP_CACHE_LINE_SIZE == 0 &&
		     offsetof(struct hp_ring_headtail, tail) >= 2 * HP_CACHE_LINE_SIZE &&
		     sizeof(struct hp_ring_headtail) == 4 * HP_CACHE_LINE_SIZE,
		 "head and tail each on a line of their own, an empty line after each");
HP_STATIC_ASSERT(offsetof(struct hp_ring, prod) % HP_CACHE_LINE_SIZE == 0 &&
		     offsetof(struct hp_ring, cons) % HP_CACHE_LINE_SIZE == 0,
		 "each side of a ring starts a line");

#ifdef __cplusplus
}
#endif
#endif
