/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool_rseq.h
 * @internal The per-CPU caches' restartable sequences on x86-64, inline in the caller (included
 * by hp_mempool_pvt.h; see doc/percpu-cache.md). Each stores its descriptor in the thread's rseq
 * area, then reads cpu_id, finds that CPU's cache in slot 0's table, checks it, copies the
 * pointers and commits with one store of the new length, its last instruction. The kernel
 * resumes a thread that was preempted, migrated or signalled before that store at the abort
 * handler, which counts the abort in slot 0 and starts over. Labels are numeric and local to
 * each asm statement, and each copy emits its own descriptor, so the compiler may inline or
 * duplicate these freely.
 * A per-CPU cache: len at 0, limit at 8 (0 while a drain holds it; read before len), objs at 64.
 * Slot 0 (the cache of threads without an lcore id) says where they are: s below.
 */
#ifndef HP_MEMPOOL_RSEQ_H
#define HP_MEMPOOL_RSEQ_H

#include <stddef.h>
#include <stdint.h>
#include <hp_mempool_core.h>

/** @internal Architecture of the sequences, "" where there are none. */
#define HP_MEMPOOL_RSEQ_ARCH "x86-64"

// clang-format off
/**
 * @internal The operands every sequence reads from slot 0 s (see struct hp_mempool_cache). The
 * sequences load its fields themselves: as register operands they would cost a loop of gets
 * and puts more registers than the loads cost.
 */
#define HP_RSEQ_SLOT0_OPERANDS(s)                                                                  \
	[s] "r"(s), [otab] "i"(offsetof(struct hp_mempool_cache, percpu.table)),                   \
	    [oncpu] "i"(offsetof(struct hp_mempool_cache, percpu.ncpu)),                           \
	    [orseq] "i"(offsetof(struct hp_mempool_cache, percpu.rseq)),                           \
	    [oaborts] "i"(offsetof(struct hp_mempool_cache, percpu.aborts))

/**
 * @internal The descriptor (label 3: start 1, end 2, abort 4) and, out of the hot path, the
 * abort handler behind glibc's signature for x86 (0x53053053, as an ud1 operand).
 */
#define HP_RSEQ_ASM_TABLE                                                                          \
	".pushsection __rseq_cs, \"aw\"\n\t"                                                       \
	".balign 32\n"                                                                             \
	"3:\t.long 0, 0\n\t"                                                                       \
	".quad 1f, 2f - 1f, 4f\n\t"                                                                \
	".popsection\n\t"                                                                          \
	".pushsection __rseq_failure, \"ax\"\n\t"                                                  \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                               \
	".long 0x53053053\n"                                                                       \
	"4:\tlock incq %c[oaborts](%[s])\n\t"                                                      \
	"jmp 0f\n\t"                                                                               \
	".popsection\n"

/**
 * @internal Point rseq_cs at the descriptor; inside the sequence, find the calling CPU's cache
 * (%[c]) and load its limit (%[t], 0 while a drain holds it) before its len (the drain's
 * release store of the limit then orders its len = 0 before our read). A CPU past the table
 * (cpu_id of a thread whose registration failed) goes to \p miss.
 */
#define HP_RSEQ_ASM_ENTER(miss)                                                                    \
	"0:\tmovq %c[orseq](%[s]), %[t]\n\t"                                                       \
	"leaq 3b(%%rip), %[c]\n\t"                                                                 \
	"movq %[c], %%fs:8(%[t])\n"                                                                \
	"1:\tmovl %%fs:4(%[t]), %k[c]\n\t"                                                         \
	"cmpq %c[oncpu](%[s]), %[c]\n\t"                                                           \
	"jae " miss "\n\t"                                                                         \
	"movq %c[otab](%[s]), %[t]\n\t"                                                            \
	"movq (%[t],%[c],8), %[c]\n\t"                                                             \
	"movq 8(%[c]), %[t]\n\t"

/*
 * The copy of %[i] pointers (>= 1; counted down to 0) from (src) to (dst), from the end:
 * HP_RSEQ_ASM_COPY_LOW moves one if the count is odd and two if its next bit is set (and ends
 * at 13 when nothing is left), HP_RSEQ_ASM_COPY4 moves the rest, a multiple of 4, and is all
 * that a count known to be a multiple of 4 needs. %[x] and two vector registers are clobbered.
 */
#define HP_RSEQ_ASM_COPY_LOW(src, dst)                                                             \
	"testb $1, %b[i]\n\t"                                                                      \
	"jz 11f\n\t"                                                                               \
	"decq %[i]\n\t"                                                                            \
	"movq (" src ",%[i],8), %[x]\n\t"                                                          \
	"movq %[x], (" dst ",%[i],8)\n\t"                                                          \
	"jz 13f\n"                                                                                 \
	"11:\ttestb $2, %b[i]\n\t"                                                                 \
	"jz 12f\n\t"                                                                               \
	"subq $2, %[i]\n\t"                                                                       \
	HP_RSEQ_MOVU "(" src ",%[i],8), %%xmm0\n\t"                                               \
	HP_RSEQ_MOVU "%%xmm0, (" dst ",%[i],8)\n\t"                                               \
	"jz 13f\n"
#ifdef __AVX__
/* VEX-encoded, as the compiler's own code is, so no SSE/AVX transition is paid */
#define HP_RSEQ_MOVU "vmovups "
/** @internal Four if the count's bit 2 is set, then eight a turn in two 32-byte moves. */
#define HP_RSEQ_ASM_COPY4(src, dst)                                                                \
	"12:\ttestb $4, %b[i]\n\t"                                                                 \
	"jz 14f\n\t"                                                                               \
	"subq $4, %[i]\n\t"                                                                        \
	"vmovups (" src ",%[i],8), %%ymm0\n\t"                                                     \
	"vmovups %%ymm0, (" dst ",%[i],8)\n\t"                                                     \
	"jz 13f\n"                                                                                 \
	"14:\tsubq $8, %[i]\n\t"                                                                   \
	"vmovups (" src ",%[i],8), %%ymm0\n\t"                                                     \
	"vmovups 32(" src ",%[i],8), %%ymm1\n\t"                                                   \
	"vmovups %%ymm0, (" dst ",%[i],8)\n\t"                                                     \
	"vmovups %%ymm1, 32(" dst ",%[i],8)\n\t"                                                   \
	"jnz 14b\n"                                                                                \
	"13:\t"
/**
 * @internal The vector registers the copy clobbers. Naming ymm makes the compiler clear their
 * upper halves (vzeroupper) before it calls or returns to SSE code.
 */
#define HP_RSEQ_COPY_CLOBBERS "ymm0", "ymm1"
#else
#define HP_RSEQ_MOVU "movups "
/** @internal Four a turn in two 16-byte moves. */
#define HP_RSEQ_ASM_COPY4(src, dst)                                                                \
	"12:\tsubq $4, %[i]\n\t"                                                                   \
	"movups (" src ",%[i],8), %%xmm0\n\t"                                                      \
	"movups 16(" src ",%[i],8), %%xmm1\n\t"                                                    \
	"movups %%xmm0, (" dst ",%[i],8)\n\t"                                                      \
	"movups %%xmm1, 16(" dst ",%[i],8)\n\t"                                                    \
	"jnz 12b\n"                                                                                \
	"13:\t"
/** @internal The vector registers the copy clobbers. */
#define HP_RSEQ_COPY_CLOBBERS "xmm0", "xmm1"
#endif
/** @internal Copy any count (>= 1). */
#define HP_RSEQ_ASM_COPY(src, dst) HP_RSEQ_ASM_COPY_LOW(src, dst) HP_RSEQ_ASM_COPY4(src, dst)

/** @internal The bulk pop of __hp_mempool_rseq_pop(), with copy, a HP_RSEQ_ASM_COPY*. */
#define HP_RSEQ_POP_BULK(copy)                                                                     \
	__asm__ volatile goto(                                                                     \
	    HP_RSEQ_ASM_TABLE                                                                      \
	    HP_RSEQ_ASM_ENTER("%l[miss]")                                                          \
	    "movq (%[c]), %[len]\n\t"                                                              \
	    "subq %[n], %[len]\n\t"                                                                \
	    "cmpq %[t], %[len]\n\t"                                                                \
	    "jae %l[miss]\n\t"                                                                     \
	    "leaq 64(%[c],%[len],8), %[t]\n\t"                                                     \
	    "movq %[n], %[i]\n\t"                                                                  \
	    copy("%[t]", "%[objs]")                                                                \
	    "movq %[len], (%[c])\n"                                                                \
	    "2:\n"                                                                                 \
	    : [c] "=&r"(c), [t] "=&r"(t), [len] "=&r"(len), [i] "=&r"(i), [x] "=&r"(x),            \
	      "+m"(*(void *(*)[n])objs)                                                            \
	    : HP_RSEQ_SLOT0_OPERANDS(s), [objs] "r"(objs), [n] "r"(n)                              \
	    : "cc", HP_RSEQ_COPY_CLOBBERS                                                          \
	    : miss)

/** @internal The bulk push of __hp_mempool_rseq_push(), as for the pop. */
#define HP_RSEQ_PUSH_BULK(copy)                                                                    \
	__asm__ volatile goto(                                                                     \
	    HP_RSEQ_ASM_TABLE                                                                      \
	    HP_RSEQ_ASM_ENTER("%l[miss]")                                                          \
	    "movq (%[c]), %[len]\n\t"                                                              \
	    "leaq (%[len],%[n]), %[i]\n\t"                                                         \
	    "cmpq %[t], %[i]\n\t"                                                                  \
	    "ja %l[miss]\n\t"                                                                      \
	    "leaq 64(%[c],%[len],8), %[t]\n\t"                                                     \
	    "movq %[i], %[len]\n\t"                                                                \
	    "movq %[n], %[i]\n\t"                                                                  \
	    copy("%[objs]", "%[t]")                                                                \
	    "movq %[len], (%[c])\n"                                                                \
	    "2:\n"                                                                                 \
	    : [c] "=&r"(c), [t] "=&r"(t), [len] "=&r"(len), [i] "=&r"(i), [x] "=&r"(x)             \
	    : HP_RSEQ_SLOT0_OPERANDS(s), [objs] "r"(objs), [n] "r"(n),                             \
	      "m"(*(void *const(*)[n])objs)                                                        \
	    : "cc", HP_RSEQ_COPY_CLOBBERS                                                          \
	    : miss)
// clang-format on

/**
 * @internal Take n objects (n >= 1) from the top of the calling CPU's cache, all or nothing.
 * len - n below the limit says both that len >= n (else it wraps) and that no drain holds the
 * cache (limit 0), since len never passes the limit.
 * @param s slot 0 of the pool's lcore caches, with per-CPU caches (percpu.table not 0)
 * @return 1 if taken, 0 if that cache had fewer or is being drained
 */
static inline int __hp_mempool_rseq_pop(struct hp_mempool_cache *s, void **objs, uintptr_t n)
{
	uintptr_t c, t, len, i, x;

	if (__builtin_constant_p(n) && n == 1) {
		// clang-format off
		__asm__ volatile goto(
		    HP_RSEQ_ASM_TABLE
		    HP_RSEQ_ASM_ENTER("%l[miss]")
		    "movq (%[c]), %[len]\n\t"
		    "subq $1, %[len]\n\t"
		    "cmpq %[t], %[len]\n\t"
		    "jae %l[miss]\n\t"
		    "movq 64(%[c],%[len],8), %[t]\n\t"
		    "movq %[t], (%[objs])\n\t"
		    "movq %[len], (%[c])\n"
		    "2:\n"
		    : [c] "=&r"(c), [t] "=&r"(t), [len] "=&r"(len), "=m"(*(void *(*)[1])objs)
		    : HP_RSEQ_SLOT0_OPERANDS(s), [objs] "r"(objs)
		    : "cc"
		    : miss);
		// clang-format on
		return 1;
	}
	if (__builtin_constant_p(n % 4) && n % 4 == 0)
		HP_RSEQ_POP_BULK(HP_RSEQ_ASM_COPY4);
	else
		HP_RSEQ_POP_BULK(HP_RSEQ_ASM_COPY);
	return 1;
miss:
	return 0;
}

/**
 * @internal Put n objects (n >= 1) on top of the calling CPU's cache, all or nothing (a limit
 * of 0, a drain, refuses any n).
 * @param s slot 0 of the pool's lcore caches, with per-CPU caches (percpu.table not 0)
 * @return 1 if put, 0 if they do not fit under its limit or it is being drained
 */
static inline int __hp_mempool_rseq_push(struct hp_mempool_cache *s, void *const *objs, uintptr_t n)
{
	uintptr_t c, t, len, i, x;

	if (__builtin_constant_p(n) && n == 1) {
		// clang-format off
		__asm__ volatile goto(
		    HP_RSEQ_ASM_TABLE
		    HP_RSEQ_ASM_ENTER("%l[miss]")
		    "movq (%[c]), %[len]\n\t"
		    "cmpq %[t], %[len]\n\t"
		    "jae %l[miss]\n\t"
		    "movq (%[objs]), %[t]\n\t"
		    "movq %[t], 64(%[c],%[len],8)\n\t"
		    "addq $1, %[len]\n\t"
		    "movq %[len], (%[c])\n"
		    "2:\n"
		    : [c] "=&r"(c), [t] "=&r"(t), [len] "=&r"(len)
		    : HP_RSEQ_SLOT0_OPERANDS(s), [objs] "r"(objs), "m"(*(void *const(*)[1])objs)
		    : "cc"
		    : miss);
		// clang-format on
		return 1;
	}
	if (__builtin_constant_p(n % 4) && n % 4 == 0)
		HP_RSEQ_PUSH_BULK(HP_RSEQ_ASM_COPY4);
	else
		HP_RSEQ_PUSH_BULK(HP_RSEQ_ASM_COPY);
	return 1;
miss:
	return 0;
}

/**
 * @internal Take up to max objects (max >= 1) from the top of the calling CPU's cache (the
 * library's flush, not the hot path).
 * @param s slot 0 of the pool's lcore caches, with per-CPU caches
 * @return how many were taken (0 if it is empty or being drained)
 */
static inline uintptr_t __hp_mempool_rseq_pop_upto(struct hp_mempool_cache *s, void **objs,
						   uintptr_t max)
{
	uintptr_t c, t, len, i, x, k;

	// clang-format off
	__asm__ volatile(
	    HP_RSEQ_ASM_TABLE
	    HP_RSEQ_ASM_ENTER("5f")
	    "testq %[t], %[t]\n\t"
	    "jz 5f\n\t"
	    "movq (%[c]), %[len]\n\t"
	    "movq %[max], %[k]\n\t"
	    "cmpq %[len], %[k]\n\t"
	    "cmovaq %[len], %[k]\n\t"
	    "testq %[k], %[k]\n\t"
	    "jz 6f\n\t"
	    "subq %[k], %[len]\n\t"
	    "leaq 64(%[c],%[len],8), %[t]\n\t"
	    "movq %[k], %[i]\n\t"
	    HP_RSEQ_ASM_COPY("%[t]", "%[objs]")
	    "movq %[len], (%[c])\n"
	    "2:\tjmp 6f\n"
	    "5:\txorl %k[k], %k[k]\n"
	    "6:\n"
	    : [c] "=&r"(c), [t] "=&r"(t), [len] "=&r"(len), [i] "=&r"(i), [x] "=&r"(x), [k] "=&r"(k)
	    : HP_RSEQ_SLOT0_OPERANDS(s), [objs] "r"(objs), [max] "r"(max)
	    : "cc", HP_RSEQ_COPY_CLOBBERS, "memory");
	// clang-format on
	return k;
}

#endif
