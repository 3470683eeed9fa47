/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/eal (included by the .c files of lib/eal and the fuzz target only): the option
 * syntax checks shared by the parser (options.c), hp_init_opts() (init.c) and the lcore table
 * (lcore.c). options.c depends only on log.c and libc, so the fuzz target (test/fuzz) can build it
 * alone.
 */
#ifndef HP_EAL_OPTIONS_H
#define HP_EAL_OPTIONS_H

#include <stdbool.h>
#include <hp_eal.h>

/* The longest HUGEPOOL_OPTS that is read (characters, without the terminating NUL). */
#define EAL_ENV_OPTS_MAX 1023

/* The highest CPU number an --lcores list may name, plus one. */
#define EAL_MAX_CPUS 1024

/*
 * Parse an --lcores list ("0-3,8") into cpus[] in the order listed (at most HP_MAX_LCORES).
 * Each CPU must exist and be online, and appear once.
 * @return the number of CPUs, or -EINVAL through hp_fail() naming the bad part.
 */
int eal_opts_parse_lcores(const char *list, int cpus[HP_MAX_LCORES]);

/*
 * Check every field of a struct given to hp_init_opts() with the same rules as the parser.
 * @return 0, or -EINVAL through hp_fail() naming the field and its accepted forms.
 */
int eal_opts_check(const struct hp_init_opts *opts);

#endif
