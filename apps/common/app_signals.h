/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarders' main thread: the stopping signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are
 * blocked in every thread and taken by sigtimedwait() here, with statistics printed every few
 * seconds meanwhile and the totals at the end; an output that cannot be written stops it too.
 */
#ifndef HP_APP_SIGNALS_H
#define HP_APP_SIGNALS_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app_util.h"

/* Blocks the stopping signals in the calling thread (threads it starts later inherit that) and
 * ignores SIGPIPE (a closed output is seen as a write error instead); fills *sigs. */
static inline void app_block_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Waits for a signal of sigs, calling print(arg, seconds, false) every stats_s seconds (never
 * with 0), then print(arg, seconds, true) once. print returns false when it could not write.
 * Returns 0, or 1 after saying on stderr that the output failed.
 */
static inline int app_run_until_signal(const char *prog, const sigset_t *sigs, unsigned stats_s,
				       bool (*print)(void *arg, double t, bool final), void *arg)
{
	uint64_t start = app_now_ns(), next = start + stats_s * 1000000000ull;
	struct timespec ts = {.tv_sec = stats_s ? stats_s : 3600};
	int sig;

	for (;;) {
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig > 0)
			break;
		if (stats_s && app_now_ns() >= next) {
			if (!print(arg, (app_now_ns() - start) / 1e9, false)) {
				fprintf(stderr, "%s: cannot write the statistics (%s): stopping\n",
					prog, strerror(errno));
				return 1;
			}
			next += stats_s * 1000000000ull;
		}
	}
	fprintf(stderr, "%s: %s: stopping\n", prog, strsignal(sig));
	if (!print(arg, (app_now_ns() - start) / 1e9, true)) {
		fprintf(stderr, "%s: cannot write the totals: %s\n", prog, strerror(errno));
		return 1;
	}
	return 0;
}

#endif
