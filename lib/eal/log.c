/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Errors and logging. hp_last_error() is a per-thread buffer written only by hp_fail*();
 * the log level and handler are process-wide, read with relaxed atomics on every log call.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "eal_internal.h"
#include "eal_init.h"

static __thread char last_error[512];
static _Atomic int log_level = HP_LOG_WARNING;
static _Atomic(hp_log_handler_t) log_handler;
static void *_Atomic log_arg;

static const char *const level_names[] = {"", "error", "warning", "info", "debug"};

HP_API const char *hp_last_error(void)
{
	return last_error;
}

static void vlog(enum hp_log_level level, const char *fmt, va_list ap)
{
	char line[640];
	hp_log_handler_t fn;

	if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fn = atomic_load_explicit(&log_handler, memory_order_acquire);
	if (fn)
		fn(level, line, atomic_load_explicit(&log_arg, memory_order_relaxed));
	else
		fprintf(stderr, "hugepool: %s: %s\n", level_names[level], line);
}

void hp_log(enum hp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static void vfail(int err, const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	/* failures are the caller's to report; they only show in the log at debug level */
	vlog(HP_LOG_DEBUG, fmt, copy);
	va_end(copy);
	errno = err < 0 ? -err : err;
}

int hp_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, fmt, ap);
	va_end(ap);
	return err;
}

void *hp_fail_ptr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, fmt, ap);
	va_end(ap);
	return NULL;
}

HP_API void hp_log_set_level(enum hp_log_level level)
{
	if (level < HP_LOG_ERR)
		level = HP_LOG_ERR;
	if (level > HP_LOG_DEBUG)
		level = HP_LOG_DEBUG;
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

HP_API enum hp_log_level hp_log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

HP_API void hp_log_set_handler(hp_log_handler_t fn, void *arg)
{
	atomic_store_explicit(&log_arg, arg, memory_order_relaxed);
	atomic_store_explicit(&log_handler, fn, memory_order_release);
}

int eal_error_restore(int err, const char *msg)
{
	snprintf(last_error, sizeof(last_error), "%s", msg);
	if (err)
		errno = err < 0 ? -err : err;
	return err;
}
