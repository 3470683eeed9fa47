/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tools' and benchmarks' clock and size formatting: static inline, libc only. The library
 * keeps its own (lib/util.h), which no program under apps/ includes.
 */
#ifndef HP_APP_UTIL_H
#define HP_APP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC: only differences mean anything. */
static inline uint64_t app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "2 MiB", "1 GiB", "4160 B": the largest binary unit that divides bytes exactly. Returns buf. */
static inline const char *app_size_str(char *buf, size_t len, unsigned long long bytes)
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

/* A size as hp-info's --reserve takes it ("1G", "512M", "64K"). Returns buf. */
static inline const char *app_size_arg(char *buf, size_t len, unsigned long long bytes)
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
