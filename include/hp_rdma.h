/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_rdma.h
 * RDMA maps: all runtime memory registered with one protection domain in a few memory regions
 * (one per VA-contiguous range, not one per object or page), kept up to date as memory is added
 * or removed, and an O(1) lock-free lookup from any address to its MR, lkey and rkey.
 *
 * Needs libibverbs (rdma-core); built only when it is found (HP_HAVE_RDMA in hp_config.h).
 * See doc/rdma.md for how to register pools, find keys, connect, and try it on soft-RoCE.
 */
#ifndef HP_RDMA_H
#define HP_RDMA_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>
#include <hp_rdma_pvt.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ibv_context;
struct ibv_pd;
struct ibv_mr;

/** A set of MRs of one PD covering runtime memory (and registered outside buffers). */
struct hp_rdma_map;

/**
 * Register all runtime memory with a protection domain, and from now on memory added later
 * (hp_mem_grow(), e.g. a memzone reserved after this call) and outside buffers given to
 * hp_rdma_map_register(). Memory given back is deregistered. Several maps may exist at once
 * (several PDs, or one PD with different access flags). Call after hp_init(); destroy the map
 * before hp_cleanup() (a map still alive then loses its runtime MRs, with a warning).
 *
 * Hugepages are registered without RDMAV_HUGEPAGES_SAFE: every range handed to the device is a
 * whole number of the runtime's pages. Fork safety is opt-in: hp_rdma_fork_init().
 *
 * @param pd protection domain (ibv_alloc_pd()); the map does not own it
 * @param access IBV_ACCESS_* flags for every MR of the map, e.g.
 *        IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE
 * @return the map, or NULL with errno EINVAL (pd NULL, before hp_init(), unknown flags, or
 *         remote write/atomic without local write), EPERM/EOPNOTSUPP/EINVAL (the device refused the
 * access flags), ENOMEM (no memory for the map, or the device could not pin/register a range: the
 *         sentence gives the range, its size and the errno), ENOSPC (too many maps subscribed
 *         to memory events), or any errno ibv_reg_mr() gave
 */
HP_API struct hp_rdma_map *hp_rdma_map_create(struct ibv_pd *pd, int access);

/**
 * Deregister every MR the map registered and stop following memory events. NULL does nothing.
 * Destroying a map twice is detected while the pointer has not been reused (live maps are kept
 * in a list and the map carries a magic number that destroy checks and clears): the second call
 * logs a warning and does nothing. Nothing may look up the map during or after destroy.
 * @param map map from hp_rdma_map_create(), or NULL
 */
HP_API void hp_rdma_map_destroy(struct hp_rdma_map *map);

/**
 * The MR that holds all of [addr, addr + len). Inline and lock-free: two table loads and a
 * bounds check.
 * @param map map (not NULL)
 * @param addr start of the range
 * @param len bytes (0 is taken as 1)
 * @return the MR, or NULL (errno not set, for speed) when the range is not inside one MR of the
 *         map, including a range that straddles two MRs
 */
static inline struct ibv_mr *hp_rdma_mr_of(const struct hp_rdma_map *map, const void *addr,
					   size_t len)
{
	const struct __hp_rdma_rec *r = __hp_rdma_rec_find(map, addr, len);

	return r ? r->mr : NULL;
}

/**
 * Local key for a range, to put in an ibv_sge. Inline, as hp_rdma_mr_of().
 * @param map map
 * @param addr start of the range
 * @param len bytes
 * @param lkey set to the key on success
 * @return 0, or -ENOENT when the range is not inside one MR (sentence in hp_last_error()),
 *         -EINVAL (map or lkey NULL)
 */
static inline int hp_rdma_lkey(const struct hp_rdma_map *map, const void *addr, size_t len,
			       uint32_t *lkey)
{
	const struct __hp_rdma_rec *r = map && lkey ? __hp_rdma_rec_find(map, addr, len) : NULL;

	if (HP_UNLIKELY(!r))
		return __hp_rdma_miss(map, addr, len, lkey);
	*lkey = r->lkey;
	return 0;
}

/**
 * Remote key for a range, to give to a peer for RDMA READ/WRITE (it uses the address as is).
 * Inline, as hp_rdma_mr_of().
 * @param map map
 * @param addr start of the range
 * @param len bytes
 * @param rkey set to the key on success
 * @return 0, or -ENOENT when the range is not inside one MR (sentence in hp_last_error()),
 *         -EINVAL (map or rkey NULL)
 */
static inline int hp_rdma_rkey(const struct hp_rdma_map *map, const void *addr, size_t len,
			       uint32_t *rkey)
{
	const struct __hp_rdma_rec *r = map && rkey ? __hp_rdma_rec_find(map, addr, len) : NULL;

	if (HP_UNLIKELY(!r))
		return __hp_rdma_miss(map, addr, len, rkey);
	*rkey = r->rkey;
	return 0;
}

/**
 * Register memory from outside the runtime (a buffer of the user) in the map, with the map's
 * access flags. Any alignment: the range is rounded out to whole 4 KiB pages and those are
 * registered, so it must not share a page with another MR of the map.
 * @param map map
 * @param addr start of the buffer
 * @param len bytes, > 0
 * @return 0, -EINVAL (map or addr NULL, len 0), -EEXIST (a page of the range is already in an
 *         MR of the map), -ENOMEM, or the errno of ibv_reg_mr() (negative), with its sentence
 */
HP_API int hp_rdma_map_register(struct hp_rdma_map *map, void *addr, size_t len);

/**
 * Deregister a buffer given to hp_rdma_map_register() (the same addr and len). Other threads
 * must not look up that range during the call.
 * @param map map
 * @param addr as given to hp_rdma_map_register()
 * @param len as given to hp_rdma_map_register()
 * @return 0, -EINVAL (map NULL), -ENOENT (no such registration), or the errno of
 *         ibv_dereg_mr() (negative)
 */
HP_API int hp_rdma_map_unregister(struct hp_rdma_map *map, void *addr, size_t len);

/** Counters of a map. */
struct hp_rdma_map_stats {
	unsigned n_mrs;	   /**< MRs registered now (runtime memory and outside buffers) */
	unsigned n_user;   /**< of which outside buffers */
	size_t bytes;	   /**< bytes registered now */
	unsigned n_failed; /**< registrations that failed in a memory event (memory left out) */
	uint64_t reg_ns;   /**< time spent registering runtime memory in hp_rdma_map_create() */
};

/**
 * Read a map's counters.
 * @param map map
 * @param st filled in
 * @return 0, -EINVAL (NULL argument)
 */
HP_API int hp_rdma_map_stats(const struct hp_rdma_map *map, struct hp_rdma_map_stats *st);

/**
 * Open an RDMA device by name, or the first one, with a sentence saying what to do when there
 * is none (load rdma_rxe and add a soft-RoCE device).
 * @param name device name (e.g. "rxe0", "mlx5_0"), or NULL for the first device
 * @return the context (close with ibv_close_device()), or NULL with errno ENODEV (no RDMA
 *         device, or none of that name), or the errno of ibv_open_device()
 */
HP_API struct ibv_context *hp_rdma_device_open(const char *name);

/**
 * Opt in to fork safety: calls ibv_fork_init(), which must run before the first registration
 * of the process (any map, any library). Registered ranges are then madvise(MADV_DONTFORK): a
 * child does not see them at all. Not needed on kernels that copy pinned pages at fork
 * (ibv_is_fork_initialized() gives IBV_FORK_UNNEEDED; then this returns 0 and does nothing).
 * @return 0, -EBUSY (a map already registered memory in this process), or the errno of
 *         ibv_fork_init() (negative)
 */
HP_API int hp_rdma_fork_init(void);

#ifdef __cplusplus
}
#endif
#endif
