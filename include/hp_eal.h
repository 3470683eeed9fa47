/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_eal.h
 * Runtime start-up and shutdown, options, errors, logging, lcores and thread registration.
 *
 * hp_init() discovers hugepages and NUMA nodes, reserves the memory asked for with
 * --socket-mem on each node, verifies where every page landed and resolves its IOVA.
 * hp_cleanup() gives everything back. Nothing outlives the process either: memory is
 * backed by memfd (or hugetlbfs files unlinked before use), so even a kill -9 leaks
 * no hugepage and no file.
 */
#ifndef HP_EAL_H
#define HP_EAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <hp_common.h>
#include <hp_eal_pvt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** IOVA mode asked for at init (see hp_iova_mode() in hp_mem.h for the mode in force). */
enum hp_iova_opt {
	HP_IOVA_OPT_AUTO = 0, /**< PA where pagemap gives frame numbers, else VA */
	HP_IOVA_OPT_PA = 1,   /**< physical addresses; hp_init fails if they cannot be read */
	HP_IOVA_OPT_VA = 2,   /**< IOVA = virtual address */
};

/** Log levels, most severe first. */
enum hp_log_level {
	HP_LOG_ERR = 1,
	HP_LOG_WARNING = 2,
	HP_LOG_INFO = 3,
	HP_LOG_DEBUG = 4,
};

/** Free grown pages kept per node by default (hp_init_opts.mem_keep_pages, --mem-keep). */
#define HP_MEM_KEEP_DEFAULT 8

/**
 * Options of hp_init_opts(): one field for each command-line option of hp_init().
 * Zero-initialise the struct and set what you need; zero means "the default".
 */
struct hp_init_opts {
	/** MiB to reserve up front on NUMA node i (--socket-mem); 0 = nothing up front there. */
	unsigned socket_mem_mb[HP_MAX_NUMA_NODES];
	/** Number of entries of socket_mem_mb that were given. */
	unsigned n_socket_mem;
	/** Page size in bytes (--huge-size); 0 = the system's default hugepage size. */
	size_t huge_size;
	/** hugetlbfs mount to put files on (--huge-dir); NULL = memfd_create(MFD_HUGETLB). */
	const char *huge_dir;
	/** Ordinary 4 KiB anonymous memory, IOVA mode VA (--no-huge). */
	bool no_huge;
	/** IOVA mode (--iova). */
	enum hp_iova_opt iova;
	/** CPUs that get an lcore id at init, e.g. "0-3,8" (--lcores); NULL = none. */
	const char *lcores;
	/** Name of this runtime instance (--file-prefix): its memfds and files carry it.
	 *  NULL = "hugepool". */
	const char *file_prefix;
	/** Log level (--log-level); 0 = warning. */
	enum hp_log_level log_level;
	/**
	 * Most MiB the runtime may hold on NUMA node i (--socket-limit), --socket-mem included;
	 * 0 = no limit. Growth past it fails with ENOMEM.
	 */
	unsigned socket_limit_mb[HP_MAX_NUMA_NODES];
	/** Number of entries of socket_limit_mb that were given. */
	unsigned n_socket_limit;
	/** No telemetry socket (--no-telemetry); see hp_telemetry.h. */
	bool no_telemetry;
	/**
	 * Free pages grown beyond --socket-mem that each node keeps rather than giving back to
	 * the kernel at once (--mem-keep), so that a malloc/free loop faults no page; more go back
	 * at once, hp_mem_trim() gives back these too. 0 = HP_MEM_KEEP_DEFAULT, -1 = none (every
	 * free grown page goes back at once; --mem-keep=0).
	 */
	int mem_keep_pages;
};

/**
 * Start the runtime from command-line options.
 *
 * Options are taken from the front of argv (argv[0] is the program name and is
 * skipped) up to the first argument that does not start with '-', or up to "--",
 * which is consumed. An argument before that which starts with '-' but is not a
 * hugepool option is an error (-EINVAL), so put the program's own options after
 * "--": `prog --socket-mem=512 -- --my-flag`. The environment variable
 * HUGEPOOL_OPTS, split on blanks, is read first; argv adds to it and wins where
 * both set the same option.
 *
 * HUGEPOOL_OPTS is read with secure_getenv(): a setuid, setgid or setcap program ignores it.
 *
 * fork(): a child starts with no runtime (none of the parent's memory is mapped in it; its calls
 * fail with a sentence naming the parent) and may call hp_init() for a runtime of its own, with
 * a --file-prefix of its own while the parent's runtime runs under the same one. See doc/eal.md.
 *
 * @param argc number of entries in argv
 * @param argv program arguments; not modified
 * @return the number of argv entries consumed (counting argv[0] and "--"), or
 *         -EINVAL (unknown or malformed option; a --huge-dir that is missing or not a hugetlbfs
 *         mount of the page size), -ENOTDIR (a --huge-dir that is a file), -ENOMEM (not enough
 *         hugepages on a node, or a --huge-dir mount whose size= limit is too small), -ENODEV
 *         (a node that does not exist), -EPERM (IOVA PA asked without the right to read frame
 *         numbers; a --huge-dir the process may not create files in), -ENOSPC (every memory
 *         event subscriber slot is taken), -EBUSY (already initialised, or another running
 *         program uses the same explicit --file-prefix: its telemetry socket is live; programs
 *         with the default prefix take instances of it), -EEXIST (something that is not a
 *         socket where the socket goes), or the errno of creating the telemetry directory or
 *         socket (-EACCES, -EPERM, -ENAMETOOLONG...; --no-telemetry starts without them; a
 *         runtime directory another user made first is not one: this user's own is used).
 *         On failure nothing stays reserved.
 */
HP_API int hp_init(int argc, char **argv);

/**
 * Start the runtime from a struct (see hp_init() for what happens). The struct and its strings
 * are copied, so the caller may free them on return. HUGEPOOL_OPTS is not read here.
 * @param opts options, checked with the same rules as the command line (and an entry of
 *             socket_mem_mb at or beyond n_socket_mem must be 0); NULL means all defaults
 * @return 0, or the same negative errno values as hp_init()
 */
HP_API int hp_init_opts(const struct hp_init_opts *opts);

/**
 * Parse options into a struct without starting anything. HUGEPOOL_OPTS is parsed first and argv
 * wins, as in hp_init(). See doc/eal.md for every option and its accepted forms.
 * @param argc number of entries in argv
 * @param argv program arguments (argv[0] skipped); strings are referenced, not copied. Strings
 *             that came from HUGEPOOL_OPTS point into a per-thread copy, valid until the same
 *             thread parses again.
 * @param opts filled in; zeroed first; unspecified after a failure
 * @return number of entries consumed (counting argv[0] and "--"; 0 when argc is 0), or
 *         -EINVAL with hp_last_error() naming the option, the bad value and the accepted forms
 */
HP_API int hp_parse_args(int argc, char **argv, struct hp_init_opts *opts);

/**
 * Stop the runtime: release every hugepage, mapping and file. Safe to call twice,
 * and without hp_init(). Pools, rings and zones must not be used afterwards.
 * Every lcore id is released: each registered thread's hp_lcore_id() reads HP_LCORE_ANY
 * afterwards, and must call hp_thread_register() again after a new hp_init().
 * In a forked child that has not started its own runtime, it touches nothing of the parent's
 * (no page, file or socket) and returns 0.
 * @return 0
 */
HP_API int hp_cleanup(void);

/** @return true between a successful hp_init() and hp_cleanup(). */
HP_API bool hp_initialized(void);

/**
 * The sentence describing the last failure in the calling thread: what went wrong and what
 * to do about it. Never NULL; "" if nothing failed yet.
 */
HP_API const char *hp_last_error(void);

/**
 * Set the least severe level that is logged.
 * @param level one of enum hp_log_level
 */
HP_API void hp_log_set_level(enum hp_log_level level);

/** @return the current log level. */
HP_API enum hp_log_level hp_log_get_level(void);

/** A log handler: receives the level and the formatted line (without a trailing newline). */
typedef void (*hp_log_handler_t)(enum hp_log_level level, const char *msg, void *arg);

/**
 * Send log lines to fn instead of stderr.
 * @param fn handler, or NULL to go back to stderr
 * @param arg passed to fn
 */
HP_API void hp_log_set_handler(hp_log_handler_t fn, void *arg);

/** The lcore id of a thread that has none. */
#define HP_LCORE_ANY ((unsigned)-1)

/**
 * Give the calling thread an lcore id (the lowest free one). Any thread may register,
 * whoever started it; per-lcore mempool caches then serve it. With --lcores, ids 0..n-1 are
 * kept for the n listed CPUs: a thread pinned to exactly one listed CPU whose id is free gets
 * that id, any other thread the lowest id not kept for a listed CPU. A thread that exits
 * without hp_thread_unregister() gives its id back automatically.
 * @return 0 (also when the thread already has one), -ENOSPC when all HP_MAX_LCORES ids are taken,
 *         -EINVAL before hp_init()
 */
HP_API int hp_thread_register(void);

/** Give the calling thread's lcore id back. Does nothing for a thread without one. */
HP_API void hp_thread_unregister(void);

/** @return the calling thread's lcore id, or HP_LCORE_ANY. Inline: it sits on every cache hit. */
static inline unsigned hp_lcore_id(void)
{
	return __hp_lcore_id_tls;
}

/** @return the number of lcore ids handed out now. */
HP_API unsigned hp_lcore_count(void);

/**
 * The CPU an lcore id was given for at init (--lcores). Every answer is unambiguous: a CPU
 * number is never negative, and every negative value is an errno.
 * @param lcore an lcore id
 * @return the CPU (>= 0), -ENOENT for an id in use that has no CPU of its own (a registered
 *         thread, or the init thread without --lcores: it may run on any CPU), or -EINVAL for
 *         an id not in use
 */
HP_API int hp_lcore_cpu(unsigned lcore);

#ifdef __cplusplus
}
#endif
#endif
