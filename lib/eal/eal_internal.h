/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/eal's internal interface: what the other folders of libhugepool (lib/NAME,
 * drivers/mempool/NAME) may use from eal. Never installed. The headers private to lib/eal
 * itself are eal_init.h and eal_options.h.
 *
 * Errors: every failure path returns through hp_fail()/hp_fail_ptr(), which set errno and the
 * thread's hp_last_error() sentence together, so no error is reported without its sentence.
 * Subsystems (mem, memzone, heap, ...) register init/cleanup hooks from a constructor;
 * hp_init runs them in ascending order, hp_cleanup (and a failed hp_init) in descending order.
 */
#ifndef HP_EAL_INTERNAL_H
#define HP_EAL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#include <hp_eal.h>

/**
 * Record a failure: err (negative errno) becomes errno (positive) and the formatted sentence
 * becomes hp_last_error(). The sentence says what went wrong and what to do.
 * @return err, so that a caller can `return hp_fail(-EINVAL, "...")`.
 */
int hp_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** As hp_fail(), for functions that return a pointer: returns NULL. */
void *hp_fail_ptr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Log a line at a level (no trailing newline needed). */
void hp_log(enum hp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HP_LOG_E(...) hp_log(HP_LOG_ERR, __VA_ARGS__)
#define HP_LOG_W(...) hp_log(HP_LOG_WARNING, __VA_ARGS__)
#define HP_LOG_I(...) hp_log(HP_LOG_INFO, __VA_ARGS__)
#define HP_LOG_D(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)

/**
 * Check a file prefix by the rules of --file-prefix (1 to 31 letters, digits, '_' or '-'), so it
 * names one directory inside the runtime directory.
 * @return 0, or -EINVAL through hp_fail() with a sentence naming the rule
 */
int eal_file_prefix_check(const char *prefix);

/** Options in force since the running hp_init() started (a copy; strings owned by eal). */
const struct hp_init_opts *eal_opts(void);

/**
 * @return the NUMA node of the CPU the calling thread runs on now (0 without libnuma support):
 * a load from glibc's rseq area and a table, or getcpu() where rseq is not registered.
 */
int eal_current_node(void);

/** @return the highest possible CPU + 1: every cpu_id the kernel can report is below it. */
unsigned eal_possible_cpus(void);

/** @return the number of NUMA nodes the system has (highest node id + 1). */
int eal_node_count(void);

/** @return true when node is a node id this system and this build have (0 to count - 1). */
bool eal_node_exists(int node);

/**
 * Check a node for an allocation, HP_NODE_ANY becoming the caller's node.
 * @param node in: a node or HP_NODE_ANY; out: the node
 * @param who what is being allocated, for the sentence (e.g. "ring \"rx\"")
 * @return 0, or -ENODEV through hp_fail()
 */
int eal_node_resolve(int *node, const char *who);

/** Freed objects of a registry whose address no new object takes (see registry.c). */
#define EAL_REGISTRY_QUARANTINE 64

/**
 * A registry of named objects in runtime memory (mempools, rings), linked through a pointer
 * field of the object; registry.c tells the life of an object and its lock. The owner, built
 * above the allocator, gives the registry its memory calls: eal calls nothing above it.
 */
struct eal_registry {
	const char *kind; /* "mempool", "ring": names the calls (hp_<kind>_free) in sentences */
	size_t name_off;  /* offset of the object's NUL-terminated name */
	size_t next_off;  /* offset of the object's link (void *) */
	void (*retire)(void *obj); /* give back everything of a freed object */
	/* runtime memory: a block of len bytes aligned to align on node (NULL, sentence set) */
	void *(*alloc)(size_t len, size_t align, int node, unsigned flags);
	void (*release)(void *va, size_t len); /* give back a block of alloc() */
	pthread_mutex_t lock;		       /* lock level 11, doc/architecture.md */
	void *live, *dying;
	void *freed[EAL_REGISTRY_QUARANTINE];
	unsigned freed_next, walkers;
};

#define EAL_REGISTRY_INIT(kind_, type, name_field, next_field, retire_, alloc_, release_)          \
	{                                                                                          \
		.kind = (kind_), .name_off = offsetof(type, name_field),                           \
		.next_off = offsetof(type, next_field), .retire = (retire_), .alloc = (alloc_),    \
		.release = (release_), .lock = PTHREAD_MUTEX_INITIALIZER                           \
	}

/** @return true when addr is a freed object's, where no new object may start yet. */
bool eal_registry_quarantined(struct eal_registry *reg, const void *addr);
/**
 * Allocate len bytes of runtime memory on node (a real node), cache-line aligned, for a new
 * object, through reg->alloc: never at a quarantined address. @return the block, or NULL (sentence
 * set).
 */
void *eal_registry_alloc(struct eal_registry *reg, size_t len, int node);
/**
 * Check a name for an object of kind ("mempool", "memzone") held in size bytes, NUL included.
 * @return 0, or -EINVAL through hp_fail() for a NULL, empty or too long name
 */
int eal_name_check(const char *kind, const char *name, size_t size);
/** @return the live object called name, or NULL. */
void *eal_registry_find(struct eal_registry *reg, const char *name);
/** List obj (its name set): 0, or -EEXIST (a live object has its name; nothing is set). */
int eal_registry_add(struct eal_registry *reg, void *obj);
/**
 * Free a live object: off the list, given back now or when the last walk under way ends.
 * @return 0; -EINVAL for an object freed already (sentence set and logged); -ENOENT for a
 *         pointer the registry never had or has forgotten (nothing set: the caller tells why)
 */
int eal_registry_free(struct eal_registry *reg, void *obj);
/**
 * Call fn for each object live when the walk starts and still live when its turn comes, oldest
 * first, with no lock held: fn may call anything. Objects freed meanwhile keep their memory
 * until the walk ends.
 * @return 0, the first non-zero value of fn, or -ENOMEM (sentence set)
 */
int eal_registry_walk(struct eal_registry *reg, int (*fn)(void *obj, void *arg), void *arg);
/** hp_cleanup(): give back every object and forget the quarantine. */
void eal_registry_clear(struct eal_registry *reg);
/** In a forked child: forget every object (its memory is the parent's) and reset the lock. */
void eal_registry_forget(struct eal_registry *reg);

/** Where a subsystem starts: hp_init() starts them in this order, hp_cleanup() stops them last
 * first. */
enum eal_subsys_order {
	EAL_SUBSYS_MEM,	      /* hugepages, the memseg table (lib/mem) */
	EAL_SUBSYS_ALLOC,     /* the allocator of runtime memory over the memsegs */
	EAL_SUBSYS_MEMZONE,   /* named zones over the allocator */
	EAL_SUBSYS_HEAP,      /* hp_malloc over the allocator */
	EAL_SUBSYS_RING,      /* rings in runtime memory */
	EAL_SUBSYS_MEMPOOL,   /* pools, on rings and the allocator */
	EAL_SUBSYS_RDMA,      /* MRs over runtime memory, told of its growth */
	EAL_SUBSYS_PCI,	      /* devices and their DMA maps, told of memory's growth */
	EAL_SUBSYS_TELEMETRY, /* last to start, first to stop: its commands read every other */
};

/** A subsystem's start and stop, run by hp_init()/hp_cleanup() in order. */
struct eal_subsys {
	const char *name;
	enum eal_subsys_order order;
	/* 0 or -errno set through hp_fail(); NULL: nothing to start */
	int (*init)(const struct hp_init_opts *opts);
	void (*cleanup)(void); /* must tolerate a failed or absent init */
	struct eal_subsys *next;
};

/** Add a subsystem; called from the constructor EAL_SUBSYS_REGISTER() writes. */
void eal_subsys_register(struct eal_subsys *s);

/**
 * Register subsystem name (an identifier; its name in sentences too) at its place in
 * enum eal_subsys_order, with its hooks (init may be NULL), from a constructor.
 */
#define EAL_SUBSYS_REGISTER(name_, order_, init_, cleanup_)                                        \
	static struct eal_subsys eal_subsys_##name_ = {                                            \
	    .name = #name_, .order = (order_), .init = (init_), .cleanup = (cleanup_)};            \
	static void __attribute__((constructor)) eal_subsys_ctor_##name_(void)                     \
	{                                                                                          \
		eal_subsys_register(&eal_subsys_##name_);                                          \
	}

/* A library's forgetting of the parent's runtime, run in a forked child (fork.c). */
struct eal_fork_hook {
	void (*fn)(void); /* state and locks to initial values; never unmap, unlink or release */
	struct eal_fork_hook *next;
};

/** Add a hook; call from a constructor (EAL_FORK_CHILD). */
void eal_fork_hook_register(struct eal_fork_hook *h);

#define EAL_FORK_CHILD(fn_)                                                                        \
	static struct eal_fork_hook eal_fork_hook_##fn_ = {.fn = (fn_)};                           \
	static void __attribute__((constructor)) eal_fork_ctor_##fn_(void)                         \
	{                                                                                          \
		eal_fork_hook_register(&eal_fork_hook_##fn_);                                      \
	}

/** hp_init() starts (true) or the runtime stopped (false): a fork in between leaves it behind. */
void eal_fork_runtime(bool starting);

/** @return the pid whose runtime this forked child left behind (0: not such a child). */
pid_t eal_forked_from(void);

/**
 * Why there is no runtime to use, for a sentence: not started, or (in a forked child that has
 * not called hp_init()) a fork of pid N and what to do. A thread-local string.
 */
const char *eal_no_runtime(void);

/** @return 0 when the runtime runs, else -EINVAL through hp_fail(): "<who>: eal_no_runtime()". */
int eal_need_runtime(const char *who);

#endif
