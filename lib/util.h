/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to libhugepool (lib/ and the tests that read its internals; never apps/): small
 * helpers with no state and no dependency but libc, the monotonic clock and sizes in sentences.
 * Static inline, so every folder of the library shares one definition and no symbol is exported.
 * The tools have their own in apps/common/app_util.h.
 */
#ifndef HP_UTIL_H
#define HP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC: only differences mean anything. */
static inline uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * "2 MiB", "1 GiB", "4160 B": the largest binary unit that divides bytes exactly, so a size in
 * a sentence is never rounded. Returns buf.
 */
static inline const char *util_size_str(char *buf, size_t len, unsigned long long bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", bytes, units[u]);
	return buf;
}

/*
 * A size as a command-line argument takes it ("1G", "512M", "64K"): the largest of G, M, K that
 * divides bytes exactly. Returns buf.
 */
static inline const char *util_size_arg(char *buf, size_t len, unsigned long long bytes)
{
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, len, "%lluG", bytes >> 30);
	else if (bytes % (1ULL << 20) == 0)
		snprintf(buf, len, "%lluM", bytes >> 20);
	else
		snprintf(buf, len, "%lluK", bytes >> 10);
	return buf;
}

#endif
