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

/* Where dpdk-telemetry.py looks for the directories of the prefixes. */
const char *rundir_base(void);

/*
 * Own prefix's directory: create it (and <runtime dir>/dpdk), sweep the directories of dead
 * programs when no other program is starting, take the prefix's lock for the program's life.
 * @return 0; -EBUSY when a live program owns the prefix; -errno (sentence set through hp_fail())
 */
int rundir_claim(const char *prefix);

/* @return true while the prefix's lock is held. */
bool rundir_held(void);

/* Drop the lock; with owner, remove the lock file and the directory if empty. */
void rundir_release(bool owner);

/* The pid in the hello of the program that serves sun: -1 when nothing listens, 0 unknown. */
int rundir_live_pid(const struct sockaddr_un *sun);

#endif
