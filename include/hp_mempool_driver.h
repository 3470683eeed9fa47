/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mempool_driver.h
 * Writing a mempool backend: where a pool's objects rest when no cache holds them. A backend is
 * a struct hp_mempool_ops registered by name with HP_MEMPOOL_REGISTER_OPS() in its own file
 * (in the library, in a shared object or in a program); hp_mempool_create_ops() picks it by
 * name. This header, hp_mempool.h and the other public headers are all a backend needs.
 *
 * What a backend may read of struct hp_mempool: name, size (objects in the pool), node (NUMA
 * node of the objects) and pool_data (its own, set in alloc); nothing else.
 * What it may call: the public API, and the __hp_mempool_drv_* functions below for its memory,
 * its errors and its log lines.
 */
#ifndef HP_MEMPOOL_DRIVER_H
#define HP_MEMPOOL_DRIVER_H

#include <stddef.h>
#include <hp_common.h>
#include <hp_eal.h>
#include <hp_mempool_core.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest backend (ops) name + 1. */
#define HP_MEMPOOL_OPS_NAMESIZE 32

/**
 * A backend. The pool calls it once per bulk, never per object, from any thread (unless the
 * pool was created with HP_MEMPOOL_F_SP_PUT / HP_MEMPOOL_F_SC_GET and the backend relies on
 * them): enqueue, dequeue and count must be thread-safe against each other.
 */
struct hp_mempool_ops {
	/** unique name, 1 to HP_MEMPOOL_OPS_NAMESIZE - 1 characters */
	const char *name;
	/** set up room for mp->size objects in mp->pool_data; 0, or -errno with the sentence
	 *  set through __hp_mempool_drv_fail() (or by the call that failed) */
	int (*alloc)(struct hp_mempool *mp);
	/** give back what alloc took (called once, also after a failed create) */
	void (*free)(struct hp_mempool *mp);
	/** store n objects, all or nothing: 0, or -ENOBUFS when they do not all fit (nothing
	 *  stored). A pool never holds more than mp->size objects, so a failure means objects
	 *  were put twice; the pool logs and counts it. */
	int (*enqueue)(struct hp_mempool *mp, void *const *objs, unsigned n);
	/** take n objects, all or nothing: 0, or -ENOENT with nothing taken */
	int (*dequeue)(struct hp_mempool *mp, void **objs, unsigned n);
	/** objects stored now (a snapshot while other threads work) */
	unsigned (*count)(const struct hp_mempool *mp);
};

/**
 * Add a backend. Called from a constructor by HP_MEMPOOL_REGISTER_OPS(); not thread-safe.
 * @param ops the backend; must stay valid for the life of the process
 * @return 0, -EINVAL (NULL ops, a missing function or a bad name), -EEXIST (name taken),
 *         -ENOSPC (the table of backends is full)
 */
HP_API int hp_mempool_ops_register(const struct hp_mempool_ops *ops);

/** Register the backend ops (a struct hp_mempool_ops variable) when its file is loaded. */
#define HP_MEMPOOL_REGISTER_OPS(ops)                                                               \
	static void __attribute__((constructor)) hp_mempool_ops_ctor_##ops(void)                   \
	{                                                                                          \
		hp_mempool_ops_register(&(ops));                                                   \
	}

/**
 * @internal
 * Runtime (hugepage) memory for a backend's state, on the pool's node, cache-line aligned.
 * @param mp the pool
 * @param len bytes
 * @return the memory (not zeroed), or NULL with errno and hp_last_error() set
 */
HP_API void *__hp_mempool_drv_alloc(const struct hp_mempool *mp, size_t len);

/**
 * @internal
 * Give back memory from __hp_mempool_drv_alloc(). NULL is ignored.
 * @param p the memory
 * @param len the length it was allocated with
 */
HP_API void __hp_mempool_drv_free(void *p, size_t len);

/**
 * @internal
 * Fail with a sentence: errno becomes -err and hp_last_error() the formatted sentence, which
 * says what went wrong and what to do.
 * @param err a negative errno
 * @param fmt printf format
 * @return err, so that a backend can `return __hp_mempool_drv_fail(-ENOMEM, "...")`
 */
HP_API int __hp_mempool_drv_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * @internal
 * Write a log line through the runtime's log (level, handler).
 * @param level HP_LOG_*
 * @param fmt printf format (no trailing newline needed)
 */
HP_API void __hp_mempool_drv_log(enum hp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
