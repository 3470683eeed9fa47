/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_util.h
 * Small helpers the library, its tools and applications share: the monotonic clock and sizes
 * written for people (in a sentence) and for command lines. No state, and no runtime needed:
 * they work before hp_init() and after hp_cleanup().
 */
#ifndef HP_UTIL_H
#define HP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Nanoseconds on CLOCK_MONOTONIC (a function, so that this header needs no POSIX feature macro).
 * @return the time now; only differences between two calls mean anything.
 */
HP_API uint64_t hp_now_ns(void);

/**
 * Writes a size for a sentence: "2 MiB", "1 GiB", "4160 B", in the largest binary unit (up to
 * TiB) that divides bytes exactly, so the size is never rounded.
 * @param buf where to write; 24 bytes hold any size (longer output is truncated, as snprintf).
 * @param len size of buf, at least 1.
 * @param bytes the size.
 * @return buf, or NULL with errno EINVAL (buf is NULL or len is 0).
 */
HP_API const char *hp_size_str(char *buf, size_t len, uint64_t bytes);

/**
 * Writes a size as the command-line options take it: "1G", "512M", "64K", with the largest of
 * G, M, K that divides bytes exactly (K, truncated, when none does).
 * @param buf where to write; 24 bytes hold any size (longer output is truncated, as snprintf).
 * @param len size of buf, at least 1.
 * @param bytes the size.
 * @return buf, or NULL with errno EINVAL (buf is NULL or len is 0).
 */
HP_API const char *hp_size_arg(char *buf, size_t len, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif
