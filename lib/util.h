/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to libhugepool: the clock and size formatters under the names the library's older
 * callers use. The one implementation is public, in hp_util.h; new code calls hp_* directly.
 */
#ifndef HP_LIB_UTIL_H
#define HP_LIB_UTIL_H

/* the libc headers the old header gave its callers */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <hp_util.h>

#define util_now_ns hp_now_ns
#define util_size_str hp_size_str
#define util_size_arg hp_size_arg

#endif
