/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/eal (included by the .c files of lib/eal only): what init.c needs from the lcore
 * table (lcore.c) and from the error buffer (log.c). Callers hold init.c's init_lock, so start and
 * stop never run concurrently. Other folders use eal_internal.h.
 */
#ifndef HP_EAL_INIT_H
#define HP_EAL_INIT_H

#include <hp_eal.h>

/*
 * Reserve the ids of the --lcores CPUs, give the calling thread id 0 and pin it to the first
 * listed CPU (unpinned without --lcores). @return 0 or -errno through hp_fail().
 */
int eal_lcore_start(const struct hp_init_opts *opts);

/*
 * Release every id: each registered thread's hp_lcore_id() reads HP_LCORE_ANY afterwards.
 * Restores the init thread's CPU affinity when called from that thread.
 */
void eal_lcore_stop(void);

/* Put a saved sentence back as hp_last_error() (without logging it again); returns err. */
int eal_error_restore(int err, const char *msg);

#endif
