/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool_rseq.h
 * @internal The portable fallback: no restartable sequences are written for this architecture,
 * so per-CPU caches stay off (HP_MEMPOOL_RSEQ_ARCH is empty) and threads without an lcore id
 * use the backend directly. These are never reached then; they take and put nothing, which
 * every caller handles.
 */
#ifndef HP_MEMPOOL_RSEQ_H
#define HP_MEMPOOL_RSEQ_H

#include <stdint.h>
#include <hp_mempool_core.h>

/** @internal Architecture of the sequences, "" where there are none. */
#define HP_MEMPOOL_RSEQ_ARCH ""

/** @internal See the x86-64 version: takes nothing here. */
static inline int __hp_mempool_rseq_pop(struct hp_mempool_cache *s, void **objs, uintptr_t n)
{
	(void)s;
	(void)objs;
	(void)n;
	return 0;
}

/** @internal See the x86-64 version: puts nothing here. */
static inline int __hp_mempool_rseq_push(struct hp_mempool_cache *s, void *const *objs, uintptr_t n)
{
	(void)s;
	(void)objs;
	(void)n;
	return 0;
}

/** @internal See the x86-64 version: takes nothing here. */
static inline uintptr_t __hp_mempool_rseq_pop_upto(struct hp_mempool_cache *s, void **objs,
						   uintptr_t max)
{
	(void)s;
	(void)objs;
	(void)max;
	return 0;
}

#endif
