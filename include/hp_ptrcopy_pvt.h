/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_ptrcopy_pvt.h
 * @internal
 * Private to the inline paths of hp_ring.h and hp_mempool.h (installed only because they need
 * it): the one routine that copies arrays of object pointers. Do not call it directly.
 */
#ifndef HP_PTRCOPY_PVT_H
#define HP_PTRCOPY_PVT_H

#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @internal
 * __hp_ptrcopy() out of line: the same copy, for run-time counts of 9 or more that are not a
 * multiple of 8.
 * @param dst room for n pointers, not overlapping src
 * @param src n pointers
 * @param n how many
 */
HP_API void __hp_ptrcopy_long(void **dst, void *const *src, unsigned n);

/**
 * @internal
 * One block of eight pointers for __hp_ptrcopy(): all eight are loaded before any is stored,
 * which lets the compiler move a block with two 32-byte vector moves where the target has them.
 */
static inline void __hp_ptrcopy8(void **dst, void *const *src)
{
	void *a = src[0], *b = src[1], *c = src[2], *d = src[3];
	void *e = src[4], *f = src[5], *g = src[6], *h = src[7];

	dst[0] = a;
	dst[1] = b;
	dst[2] = c;
	dst[3] = d;
	dst[4] = e;
	dst[5] = f;
	dst[6] = g;
	dst[7] = h;
}

/**
 * @internal
 * Copy n pointers from src to dst; the ranges must not overlap. This is the one pointer-array
 * copy of the ring and the mempool. What it guarantees about the code it leaves behind:
 *  - n == 1 is one load and one store behind one test;
 *  - a constant n is copied inline, as its exact moves (blocks of eight at most two to an
 *    iteration, so that each block stays a pair of vector moves);
 *  - a run-time n below 8, or a multiple of 8, is copied inline without a call (multiples of 8
 *    in a loop of whole blocks, with no tail tests);
 *  - any other run-time n calls __hp_ptrcopy_long(), so that a caller's loop carries no tail
 *    code for sizes it rarely sees.
 * Loads and stores are of type void * (never memcpy, never a vector type that may alias
 * anything), so the compiler knows they do not change the caller's counters and keeps those in
 * registers.
 * @param dst room for n pointers
 * @param src n pointers
 * @param n how many (0 copies nothing)
 */
static inline void __hp_ptrcopy(void **dst, void *const *src, unsigned n)
{
	if (n == 1) {
		dst[0] = src[0];
		return;
	}
	if (!__builtin_constant_p(n) && n >= 8) {
		if (n & 7) {
			__hp_ptrcopy_long(dst, src, n);
			return;
		}
		for (; n; n -= 8, dst += 8, src += 8)
			__hp_ptrcopy8(dst, src);
		return;
	}
#pragma GCC unroll 2
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		__hp_ptrcopy8(dst, src);
	if (n & 4) {
		void *a = src[0], *b = src[1], *c = src[2], *d = src[3];

		dst[0] = a;
		dst[1] = b;
		dst[2] = c;
		dst[3] = d;
		dst += 4;
		src += 4;
	}
	if (n & 2) {
		void *a = src[0], *b = src[1];

		dst[0] = a;
		dst[1] = b;
		dst += 2;
		src += 2;
	}
	if (n & 1)
		dst[0] = src[0];
}

#ifdef __cplusplus
}
#endif
#endif
