/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether the thread's rseq area is usable, and where it is (rseq_internal.h). The offsets
 * into the area that the per-CPU sequences of arch/ use are checked here, against glibc's
 * struct rseq.
 */
#include "rseq/rseq_internal.h"

#ifdef HP_HAVE_GLIBC_RSEQ
_Static_assert(offsetof(struct rseq, cpu_id) == 4 && offsetof(struct rseq, rseq_cs) == 8,
	       "arch/x86_64/hp_mempool_rseq.h reads cpu_id at 4 and stores rseq_cs at 8");
#endif

const char *rseq_unusable(void)
{
#ifndef HP_HAVE_GLIBC_RSEQ
	return "glibc older than 2.35 (no <sys/rseq.h>)";
#else
	if (__rseq_size < 8)
		return "glibc did not register rseq (GLIBC_TUNABLES=glibc.pthread.rseq=0, or a "
		       "kernel without rseq)";
	if (rseq_current_cpu() < 0)
		return "rseq is registered but reports no CPU";
	return NULL;
#endif
}

ptrdiff_t rseq_area_offset(void)
{
#ifdef HP_HAVE_GLIBC_RSEQ
	return __rseq_offset;
#else
	return 0;
#endif
}

unsigned rseq_area_size(void)
{
#ifdef HP_HAVE_GLIBC_RSEQ
	return __rseq_size;
#else
	return 0;
#endif
}
