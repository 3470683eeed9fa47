/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_common.h
 * Small definitions every hugepool header shares: export marker, branch hints,
 * cache-line alignment, and the build-time limits from hp_config.h.
 */
#ifndef HP_COMMON_H
#define HP_COMMON_H

#include <hp_config.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of libhugepool's exported ABI (the library builds with
 * -fvisibility=hidden). */
#define HP_API __attribute__((visibility("default")))

#define HP_LIKELY(x) __builtin_expect(!!(x), 1)
#define HP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/** Aligns a struct member or variable to a cache line. */
#define HP_CACHE_ALIGNED __attribute__((aligned(HP_CACHE_LINE_SIZE)))

/** A compile-time check, in C11 and in C++ (where _Static_assert is spelled static_assert). */
#ifdef __cplusplus
#define HP_STATIC_ASSERT(e, msg) static_assert(e, msg)
#else
#define HP_STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#endif

/** Rounds x up to a multiple of the power of two a. */
#define HP_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))

/** Any NUMA node: for an allocation, the calling thread's node. */
#define HP_NODE_ANY (-1)

#ifdef __cplusplus
}
#endif
#endif
