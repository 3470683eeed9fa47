/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The clock and size formatters of hp_util.h: one implementation for the library's messages, the
 * tools and applications. libc and hp_fail_ptr() only, so they work with or without a runtime.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <hp_util.h>

#include "eal_internal.h"

HP_API uint64_t hp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

HP_API const char *hp_size_str(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	if (!buf || !len)
		return hp_fail_ptr(-EINVAL,
				   "hp_size_str: buf is NULL or len is 0; pass a buffer of "
				   "24 bytes or more");
	while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

HP_API const char *hp_size_arg(char *buf, size_t len, uint64_t bytes)
{
	if (!buf || !len)
		return hp_fail_ptr(-EINVAL,
				   "hp_size_arg: buf is NULL or len is 0; pass a buffer of "
				   "24 bytes or more");
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, len, "%" PRIu64 "G", bytes >> 30);
	else if (bytes % (1ULL << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "M", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 "K", bytes >> 10);
	return buf;
}
