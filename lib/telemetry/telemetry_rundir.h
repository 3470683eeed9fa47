/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/telemetry: the runtime directory of a file prefix, <runtime dir>/dpdk/PREFIX
 * (telemetry_rundir.c), which the socket server (telemetry.c) binds its socket in.
 */
#ifndef HP_TELEMETRY_RUNDIR_H
#define HP_TELEMETRY_RUNDIR_H

#include <stdbool.h>
#include <sys/un.h>

#define TELEMETRY_SOCKET_NAME "dpdk_telemetry.v2"

/* Instances of the default prefix: dpdk_telemetry.v2, then dpdk_telemetry.v2:1 to :63. */
#define RUNDIR_INSTANCES 64

/* Where dpdk-telemetry.py looks for the directories of the prefixes. */
const char *rundir_base(void);

/*
 * The directory of this user's prefixes: <runtime dir>/dpdk where it is absent, this user's or
 * root's and writable; else <runtime dir>/dpdk-UID (another user made dpdk first in a shared
 * /tmp). @return 0, -ENAMETOOLONG
 */
int rundir_top(char *buf, size_t len);

/*
 * Own an instance of a prefix: create its directory (and the top one), sweep what dead programs
 * left when no other program is starting, take the lock of the first instance from first to
 * last - 1 that no live program holds, for the program's life. Where another user owns
 * <runtime dir>/dpdk, the same in <runtime dir>/dpdk-UID, with a warning saying where.
 * @param instance set to the instance taken
 * @param dir set to the prefix's directory
 * @return 0; 1 when neither directory can be this user's (a warning says so: the program runs
 *         without a socket); -EBUSY when live programs hold every instance; -errno (sentence set
 *         through hp_fail())
 */
int rundir_claim(const char *prefix, unsigned first, unsigned last, unsigned *instance, char *dir,
		 size_t len);

/* @return true while the prefix's lock is held. */
bool rundir_held(void);

/* Drop the lock; with owner, remove the lock file and the directory if empty. */
void rundir_release(bool owner);

/* The pid in the hello of the program that serves sun: -1 when nothing listens, 0 unknown. */
int rundir_live_pid(const struct sockaddr_un *sun);

#endif
