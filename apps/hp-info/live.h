/* SPDX-License-Identifier: BSD-3-Clause */
/* hp-info --live (live.c): the running programs, or what one of them holds. */
#ifndef HP_INFO_LIVE_H
#define HP_INFO_LIVE_H

#include <stdbool.h>

/* Without prefix: list the running programs; with one: its memory, zones, pools and rings.
 * Returns the exit status: 0, or 1 when the program does not answer. */
int live_main(const char *prefix, bool json);

#endif
