/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_mem.h
 * Runtime memory: the hugepages reserved per NUMA node, their IOVAs and the contiguous
 * runs they form, discovery of the system's hugepage pools, and memory events.
 */
#ifndef HP_MEM_H
#define HP_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The IOVA of an address that has none. */
#define HP_BAD_IOVA ((uint64_t)-1)

/** IOVA mode in force. */
enum hp_iova_mode {
	HP_IOVA_PA = 1, /**< IOVA is the physical address (read from /proc/self/pagemap) */
	HP_IOVA_VA = 2, /**< IOVA equals the virtual address */
};

/** One hugepage (or one run of pages) of runtime memory. */
struct hp_memseg {
	void *va;	  /**< start address */
	uint64_t iova;	  /**< physical address in PA mode, == va in VA mode */
	size_t len;	  /**< bytes */
	size_t page_size; /**< bytes per page */
	int node;	  /**< NUMA node the pages really are on (verified) */
};

/** @return the IOVA mode in force (HP_IOVA_VA before hp_init()). */
HP_API enum hp_iova_mode hp_iova_mode(void);

/**
 * IOVA of an address inside runtime memory.
 * @param va any address inside a reserved page
 * @return the IOVA, or HP_BAD_IOVA when va is not runtime memory
 */
HP_API uint64_t hp_mem_virt2iova(const void *va);

/**
 * Physical address of any mapped address of this process, read from /proc/self/pagemap.
 * Needs CAP_SYS_ADMIN (the kernel hides frame numbers otherwise).
 * @param va address
 * @return the physical address, or HP_BAD_IOVA (page not present, or no right to see frames)
 */
HP_API uint64_t hp_mem_virt2phy(const void *va);

/**
 * @param va address inside runtime memory (or any mapped address)
 * @return the NUMA node of the page, or -EFAULT (not mapped), -EINVAL (NULL)
 */
HP_API int hp_mem_node_of(const void *va);

/**
 * Call fn once for each page of runtime memory, in address order. Stops when fn returns non-zero.
 * The layout is read without a lock: fn may call any public function. Under hp_mem_lock_read()
 * (to hold the layout still) fn must not allocate runtime memory: growing waits for the lock.
 * @param fn callback
 * @param arg passed to fn
 * @return 0 after visiting all, the first non-zero value fn returned, or -EINVAL (fn NULL)
 */
HP_API int hp_memseg_walk(int (*fn)(const struct hp_memseg *ms, void *arg), void *arg);

/**
 * Call fn once for each run of pages contiguous in both VA and IOVA (same node, same page size).
 * What fn may call: as for hp_memseg_walk().
 * @param fn callback; run->len is the run's length
 * @param arg passed to fn
 * @return 0 after visiting all, the first non-zero value fn returned, or -EINVAL (fn NULL)
 */
HP_API int hp_memseg_contig_walk(int (*fn)(const struct hp_memseg *run, void *arg), void *arg);

/**
 * Bytes of hugepages the runtime holds now: --socket-mem, hp_mem_grow(), and grown memory
 * still in use (pages that went back to the kernel are not counted).
 * @param node NUMA node, or HP_NODE_ANY for all
 * @return bytes of runtime memory held on node
 */
HP_API size_t hp_mem_reserved(int node);

/**
 * Reserve more memory on a node after init, held until hp_cleanup() like --socket-mem (memory
 * the allocator grows by itself goes back to the kernel when unused). Fires HP_MEM_EVENT_ALLOC.
 * @param node NUMA node (not HP_NODE_ANY)
 * @param len bytes; rounded up to whole pages
 * @return 0, -ENOMEM (the node's pool is short: hp_last_error() says what to reserve; or len is
 *         more than the node's memory, or than the build's max_memsegs allows; or it would
 *         pass --socket-limit), -ENODEV (no such node), -EINVAL (len 0 or before hp_init)
 */
HP_API int hp_mem_grow(int node, size_t len);

/**
 * Give back to the kernel now every free page grown beyond --socket-mem on node, those kept for
 * reuse (hp_init_opts.mem_keep_pages, --mem-keep) included. HP_MEM_EVENT_FREE fires before each
 * range goes. Pages of --socket-mem and hp_mem_grow() stay.
 * @param node NUMA node, or HP_NODE_ANY for all
 * @return bytes given back; 0 with errno EINVAL and hp_last_error() set when node does not exist
 *         or the runtime is not started
 */
HP_API size_t hp_mem_trim(int node);

/** @return the page size of runtime memory (4096 with --no-huge), 0 before hp_init(). */
HP_API size_t hp_mem_page_size(void);

/* ---- Memory events -------------------------------------------------------------------------- */

/** What happened to a range of runtime memory. */
enum hp_mem_event {
	HP_MEM_EVENT_ALLOC = 1, /**< range was added (reserved and resolved) */
	HP_MEM_EVENT_FREE = 2,	/**< range is about to be given back */
};

/** Memory event callback: va/len is one VA-contiguous range of one node. */
typedef void (*hp_mem_event_cb_t)(enum hp_mem_event ev, const void *va, size_t len, void *arg);

/**
 * Be told about memory added or removed from now on. Existing memory is not replayed; walk it
 * with hp_memseg_contig_walk() under hp_mem_lock_read() to do both without a gap.
 * @param name unique name of the subscriber (up to 31 characters)
 * @param cb callback, called with the memory lock held for writing: it must not allocate or free
 * runtime memory (memzones, pools, rings, heap blocks) nor call memzone functions (the zone
 * table's lock comes before the memory lock); looking pools and rings up is allowed (their
 * registries' locks are leaves)
 * @param arg passed to cb
 * @return 0, -EEXIST (name taken), -EINVAL, -ENOSPC (too many subscribers)
 */
HP_API int hp_mem_event_register(const char *name, hp_mem_event_cb_t cb, void *arg);

/**
 * Stop a memory event subscription.
 * @param name name given to hp_mem_event_register()
 * @return 0, -ENOENT (no subscriber of that name) or -EINVAL (name is NULL)
 */
HP_API int hp_mem_event_unregister(const char *name);

/** Hold the memory layout still (no grow, no release) while reading it. Nestable with other
 * readers. */
HP_API void hp_mem_lock_read(void);
/** Undo hp_mem_lock_read(). */
HP_API void hp_mem_unlock_read(void);

/* ---- Discovery (works without hp_init) ------------------------------------------------------- */

/** One hugepage pool of the system: one page size on one node. */
struct hp_hugepage_pool {
	size_t page_size; /**< bytes */
	int node;	  /**< NUMA node */
	unsigned total;	  /**< nr_hugepages */
	unsigned free;	  /**< free_hugepages */
	unsigned surplus; /**< surplus_hugepages */
};

/**
 * List the system's hugepage pools per node and page size, from /sys/devices/system/node.
 * @param pools array filled with up to max entries, sorted by page size then node
 * @param max size of pools
 * @return number of pools that exist (may exceed max), or -errno
 */
HP_API int hp_hugepage_pools(struct hp_hugepage_pool *pools, unsigned max);

/**
 * Set the number of hugepages of one size on one node (root only).
 * @param node NUMA node
 * @param page_size bytes (a size the kernel supports)
 * @param count pages wanted
 * @return the number of pages the kernel now has there (may be fewer than asked), or
 *         -EPERM (not root), -ENODEV (no such node), -EINVAL (unsupported page size)
 */
HP_API int hp_hugepage_set(int node, size_t page_size, unsigned count);

/** @return the system's default hugepage size in bytes, or 0 if it has none. */
HP_API size_t hp_hugepage_default_size(void);

/**
 * @param page_size bytes
 * @return the path of a hugetlbfs mount for that size, or NULL if none is mounted
 */
HP_API const char *hp_hugetlbfs_mount(size_t page_size);

/**
 * @return the IOVA mode hp_init() with --iova=auto would pick in this process: VA when an IOMMU
 *         is on (/sys/kernel/iommu_groups not empty) and VFIO is available, else PA when
 *         pagemap shows frame numbers (root), else VA.
 */
HP_API enum hp_iova_mode hp_iova_mode_probe(void);

/**
 * @return why the IOVA mode in force was picked (after hp_init()), or why --iova=auto would
 *         pick hp_iova_mode_probe()'s mode (before): a clause such as "no IOMMU: devices can
 *         only be given physical addresses (uio_pci_generic), and pagemap shows frame numbers".
 *         Before hp_init() the string is the calling thread's and changes at its next call.
 */
HP_API const char *hp_iova_mode_reason(void);

#ifdef __cplusplus
}
#endif
#endif
