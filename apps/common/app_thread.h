/* SPDX-License-Identifier: BSD-3-Clause */
/* The benchmarks' worker threads: each starts already pinned to its CPU. */
#ifndef HP_APP_THREAD_H
#define HP_APP_THREAD_H

#include <pthread.h>
#include <sched.h>

/* pthread_create() of fn(arg) on CPU cpu alone (set before it runs); 0 or its error number. */
static inline int app_thread_start_on(pthread_t *t, unsigned cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int rc;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

#endif
