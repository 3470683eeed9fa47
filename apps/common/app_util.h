/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tools' clock and size formatters under the names their older callers use. The one
 * implementation is public, in hp_util.h; new code calls hp_* directly.
 */
#ifndef HP_APP_UTIL_H
#define HP_APP_UTIL_H

/* the libc headers the old header gave its callers */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <hp_util.h>

#define app_now_ns hp_now_ns
#define app_size_str hp_size_str
#define app_size_arg hp_size_arg

#endif
