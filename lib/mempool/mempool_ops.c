/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend registry (filled by constructors before main, read-only afterwards, so lookups
 * take no lock), the calls hp_mempool_driver.h offers backends, and the one place where a
 * backend's refusal to store objects is reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "heap/heap_internal.h"
#include "mem/mem_internal.h"
#include "mempool_internal.h"

#define MAX_OPS 16
static const struct hp_mempool_ops *ops_table[MAX_OPS];
static unsigned n_ops;

HP_API int hp_mempool_ops_register(const struct hp_mempool_ops *ops)
{
	size_t len;

	if (!ops || !ops->name || !ops->alloc || !ops->free || !ops->enqueue || !ops->dequeue ||
	    !ops->count)
		return hp_fail(-EINVAL, "mempool backend: a name and all six functions are needed");
	len = strnlen(ops->name, HP_MEMPOOL_OPS_NAMESIZE);
	if (len == 0 || len == HP_MEMPOOL_OPS_NAMESIZE)
		return hp_fail(-EINVAL, "mempool backend name must be 1 to %d characters",
			       HP_MEMPOOL_OPS_NAMESIZE - 1);
	if (mempool_ops_find(ops->name))
		return hp_fail(-EEXIST,
			       "mempool backend '%s' is registered already; pick another name",
			       ops->name);
	if (n_ops == MAX_OPS)
		return hp_fail(
		    -ENOSPC,
		    "mempool backend '%s': the table holds %d backends; raise MAX_OPS in "
		    "lib/mempool/mempool_ops.c",
		    ops->name, MAX_OPS);
	ops_table[n_ops++] = ops;
	return 0;
}

const struct hp_mempool_ops *mempool_ops_find(const char *name)
{
	unsigned i;

	for (i = 0; i < n_ops; i++)
		if (!strcmp(ops_table[i]->name, name))
			return ops_table[i];
	return NULL;
}

HP_API void __hp_mempool_put_refused(struct hp_mempool *mp, unsigned n, int err)
{
	__atomic_fetch_add(&mp->debug_errors, n, __ATOMIC_RELAXED);
	HP_LOG_E("mempool '%s': backend '%s' refused %u objects (%s): the pool already holds them "
		 "all, so some were put twice; they are dropped, fix the caller",
		 mp->name, mp->ops->name, n, strerror(-err));
}

void mempool_backend_put(struct hp_mempool *mp, void *const *objs, unsigned n)
{
	int rc = mp->ops->enqueue(mp, objs, n);

	if (HP_UNLIKELY(rc < 0))
		__hp_mempool_put_refused(mp, n, rc);
}

HP_API void *__hp_mempool_drv_alloc(const struct hp_mempool *mp, size_t len)
{
	return mem_range_alloc(len, HP_CACHE_LINE_SIZE, mp->node, 0);
}

HP_API void __hp_mempool_drv_free(void *p, size_t len)
{
	if (p)
		mem_range_release(p, len);
}

HP_API int __hp_mempool_drv_fail(int err, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return hp_fail(err, "%s", why);
}

HP_API void __hp_mempool_drv_log(enum hp_log_level level, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hp_log(level, "%s", line);
}
