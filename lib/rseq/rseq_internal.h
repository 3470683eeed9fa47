/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which CPU the calling thread is on, and whether its rseq area can carry restartable
 * sequences: glibc (2.35 and later) registers one area per thread, and only this module reads
 * it. The per-architecture sequences of the mempool's per-CPU caches are beside it, in
 * arch/NAME/hp_mempool_rseq.h (installed: they are inline in programs).
 */
#ifndef HP_RSEQ_INTERNAL_H
#define HP_RSEQ_INTERNAL_H

#include <stddef.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define HP_HAVE_GLIBC_RSEQ 1
#endif

/**
 * @return the CPU the calling thread runs on now, from its rseq area (the kernel keeps it
 * current); negative where there is none (glibc older than 2.35, or no registration)
 */
static inline int rseq_current_cpu(void)
{
#ifdef HP_HAVE_GLIBC_RSEQ
	if (__rseq_size >= 8)
		return (int)((const volatile struct rseq *)((char *)__builtin_thread_pointer() +
							    __rseq_offset))
		    ->cpu_id;
#endif
	return -1;
}

/**
 * Whether restartable sequences can run on the calling thread's rseq area: glibc has
 * <sys/rseq.h>, registered the area, and the area reports a CPU.
 * @return NULL when they can, else what is missing (a clause, e.g. "glibc did not register
 * rseq (...)")
 */
const char *rseq_unusable(void);

/** @return the offset of the rseq area from the thread pointer (when rseq_unusable() is NULL) */
ptrdiff_t rseq_area_offset(void);

/** @return the bytes of the rseq area glibc registered (0 when it did not) */
unsigned rseq_area_size(void);

#endif
