/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commands about the runtime, with DPDK's names and fields where DPDK has the same thing
 * (/mempool/..., /eal/memzone_..., /eal/heap_..., /ring/...) and hugepool's own under /hugepool/.
 * Each command copies what it needs inside a walk callback (the walk keeps the object's memory
 * meanwhile, even if another thread frees it) and writes the reply after the walk. Counts are
 * snapshots read without stopping anybody: caches and rings move while they are read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hp_mem.h>
#include <hp_heap.h>
#include <hp_mempool.h>
#include <hp_memzone.h>
#include <hp_ring.h>

#include "eal/eal_internal.h"
#include "mem/mem_internal.h"
#include "mempool/mempool_internal.h"
#include "memzone/memzone_internal.h"
#ifdef HP_HAVE_RDMA
#include "rdma/rdma_internal.h"
#endif
#include "telemetry_internal.h"

/* A decimal id in params: 0, or a sentence through hp_telemetry_error(). */
static int parse_id(const char *cmd, const char *params, const char *what, const char *list,
		    unsigned max, unsigned *id, struct hp_telemetry_out *out)
{
	char *end;
	unsigned long v;

	if (!params || params[0] < '0' || params[0] > '9')
		return hp_telemetry_error(out, "%s needs %s from %s, e.g. %s,0 (got '%.40s')", cmd,
					  what, list, cmd, params ? params : "");
	v = strtoul(params, &end, 10);
	if (*end || v >= max)
		return hp_telemetry_error(out, "%s: '%.40s' is not %s; %s lists them", cmd, params,
					  what, list);
	*id = (unsigned)v;
	return 0;
}

static int need_name(const char *cmd, const char *params, const char *what, const char *list,
		     struct hp_telemetry_out *out)
{
	if (params && params[0])
		return 0;
	return hp_telemetry_error(out, "%s needs %s name from %s, e.g. %s,NAME", cmd, what, list,
				  cmd);
}

/* ---- mempools -------------------------------------------------------------------------- */

struct names {
	unsigned n, max;
	char (*v)[HP_MEMPOOL_NAMESIZE > HP_RING_NAMESIZE ? HP_MEMPOOL_NAMESIZE : HP_RING_NAMESIZE];
};

/* Room for one more element of size elt in *v (n used of *max): doubles, from first. */
static int room_for_one(void **v, unsigned n, unsigned *max, size_t elt, unsigned first)
{
	unsigned m;
	void *bigger;

	if (n < *max)
		return 0;
	m = *max ? *max * 2 : first;
	bigger = realloc(*v, m * elt);
	if (!bigger)
		return -ENOMEM;
	*v = bigger;
	*max = m;
	return 0;
}

static int names_add(struct names *l, const char *name)
{
	if (room_for_one((void **)&l->v, l->n, &l->max, sizeof(*l->v), 64))
		return -ENOMEM;
	snprintf(l->v[l->n++], sizeof(*l->v), "%s", name);
	return 0;
}

static int write_names(struct names *l, int rc, struct hp_telemetry_out *out)
{
	if (rc == 0) {
		hp_telemetry_open_array(out, NULL);
		for (unsigned i = 0; i < l->n; i++)
			hp_telemetry_str(out, NULL, l->v[i]);
		hp_telemetry_close(out);
	}
	free(l->v);
	return rc;
}

static int pool_name_cb(struct hp_mempool *mp, void *arg)
{
	return names_add(arg, mp->name);
}

static int mempool_list(const char *cmd, const char *params, struct hp_telemetry_out *out,
			void *arg)
{
	struct names l = {0};

	(void)cmd, (void)params, (void)arg;
	return write_names(&l, hp_mempool_walk(pool_name_cb, &l), out);
}

struct cache_snap {
	unsigned lcore;
	unsigned len;
#ifdef HP_MEMPOOL_STATS
	struct hp_mempool_stats st;
#endif
};

struct pool_snap {
	const char *want;
	bool found;
	char name[HP_MEMPOOL_NAMESIZE];
	char ops[HP_MEMPOOL_OPS_NAMESIZE];
	char mz_name[HP_MEMZONE_NAMESIZE];
	uint64_t pool_id, debug_errors;
	unsigned size, cache_size, elt_size, header_size, trailer_size, flags, populated, n_chunks;
	unsigned avail, common, total_cache, user_caches, user_cache_count;
	int node, mz_node;
	size_t mz_len, mz_page;
	unsigned mz_flags, n_caches;
	struct cache_snap caches[HP_MAX_LCORES];
};

static int pool_info_cb(struct hp_mempool *mp, void *arg)
{
	struct pool_snap *s = arg;
	const struct hp_mempool_cache *c;
	unsigned i;

	if (strcmp(mp->name, s->want))
		return 0;
	s->found = true;
	snprintf(s->name, sizeof(s->name), "%s", mp->name);
	snprintf(s->ops, sizeof(s->ops), "%s", mp->ops->name);
	s->pool_id = (uintptr_t)mp->pool_data;
	s->size = mp->size;
	s->cache_size = mp->cache_size;
	s->elt_size = mp->elt_size;
	s->header_size = mp->header_size;
	s->trailer_size = mp->trailer_size;
	s->flags = mp->flags;
	s->node = mp->node;
	s->n_chunks = mp->n_chunks;
	for (i = 0; i < mp->n_chunks; i++)
		s->populated += mp->chunks[i].count;
	s->avail = hp_mempool_avail_count(mp);
	s->common = mp->ops->count(mp);
	for (i = 0; mp->cache_size && i < HP_MAX_LCORES; i++) {
		c = __hp_mempool_cache_slot(mp, i + 1);
		struct cache_snap cs = {
		    .lcore = i, .len = (unsigned)__atomic_load_n(&c->len, __ATOMIC_RELAXED)};
#ifdef HP_MEMPOOL_STATS
		cs.st = c->stats; /* relaxed counters: a snapshot, each counter whole */
		if (!cs.len && !cs.st.gets && !cs.st.puts)
			continue;
#else
		if (!cs.len)
			continue;
#endif
		s->total_cache += cs.len;
		s->caches[s->n_caches++] = cs;
	}
	s->user_cache_count = mempool_user_cache_count(mp, &s->user_caches);
	s->total_cache += s->user_cache_count;
	/* no memzone behind a pool: DPDK's mz_ fields describe the block of its struct and caches
	 */
	snprintf(s->mz_name, sizeof(s->mz_name), "%s", mp->name);
	s->mz_len = mp->len;
	s->mz_node = mp->node;
	s->mz_page = hp_mem_page_size();
	s->debug_errors = hp_mempool_debug_errors(mp);
	return 1;
}

static void write_cache(struct hp_telemetry_out *out, const struct cache_snap *c)
{
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "lcore", c->lcore);
	hp_telemetry_uint(out, "len", c->len);
#ifdef HP_MEMPOOL_STATS
	hp_telemetry_uint(out, "gets", c->st.gets);
	hp_telemetry_uint(out, "get_objs", c->st.get_objs);
	hp_telemetry_uint(out, "get_fails", c->st.get_fails);
	hp_telemetry_uint(out, "puts", c->st.puts);
	hp_telemetry_uint(out, "put_objs", c->st.put_objs);
	hp_telemetry_uint(out, "backend_calls", c->st.backend);
#endif
	hp_telemetry_close(out);
}

static int mempool_info(const char *cmd, const char *params, struct hp_telemetry_out *out,
			void *arg)
{
	struct pool_snap *s;
	int rc;

	(void)arg;
	rc = need_name(cmd, params, "a pool", "/mempool/list", out);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->want = params;
	rc = hp_mempool_walk(pool_info_cb, s);
	if (rc < 0 || !s->found) {
		free(s);
		return rc < 0 ? rc
			      : hp_telemetry_error(out,
						   "no mempool named '%.40s'; /mempool/list "
						   "lists them",
						   params);
	}
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "name", s->name);
	hp_telemetry_uint(out, "pool_id", s->pool_id);
	hp_telemetry_uint(out, "flags", s->flags);
	hp_telemetry_int(out, "socket_id", s->node);
	hp_telemetry_uint(out, "size", s->size);
	hp_telemetry_uint(out, "cache_size", s->cache_size);
	hp_telemetry_uint(out, "elt_size", s->elt_size);
	hp_telemetry_uint(out, "header_size", s->header_size);
	hp_telemetry_uint(out, "trailer_size", s->trailer_size);
	hp_telemetry_uint(out, "private_data_size", 0);
	hp_telemetry_uint(out, "populated_size", s->populated);
	hp_telemetry_uint(out, "total_cache_count", s->total_cache);
	hp_telemetry_uint(out, "common_pool_count", s->common);
	hp_telemetry_str(out, "mz_name", s->mz_name);
	hp_telemetry_uint(out, "mz_len", s->mz_len);
	hp_telemetry_uint(out, "mz_hugepage_sz", s->mz_page);
	hp_telemetry_int(out, "mz_socket_id", s->mz_node);
	hp_telemetry_uint(out, "mz_flags", s->mz_flags);
	hp_telemetry_uint(out, "avail_count", s->avail);
	hp_telemetry_uint(out, "in_use_count", s->size - s->avail);
	hp_telemetry_str(out, "ops_name", s->ops);
	hp_telemetry_uint(out, "chunks", s->n_chunks);
	hp_telemetry_uint(out, "user_caches", s->user_caches);
	hp_telemetry_uint(out, "user_cache_count", s->user_cache_count);
	hp_telemetry_uint(out, "debug_errors", s->debug_errors);
	hp_telemetry_open_array(out, "caches");
	for (unsigned i = 0; i < s->n_caches; i++)
		write_cache(out, &s->caches[i]);
	hp_telemetry_close(out);
	hp_telemetry_close(out);
	free(s);
	return 0;
}

/* ---- rings ------------------------------------------------------------------------------- */

static int ring_name_cb(struct hp_ring *r, void *arg)
{
	return names_add(arg, r->name);
}

static int ring_list(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct names l = {0};

	(void)cmd, (void)params, (void)arg;
	return write_names(&l, hp_ring_walk(ring_name_cb, &l), out);
}

struct ring_snap {
	const char *want;
	bool found;
	char name[HP_RING_NAMESIZE], mz_name[HP_MEMZONE_NAMESIZE];
	unsigned flags, size, mask, capacity, count, free, mz_flags;
	int mz_node;
	size_t mz_len;
};

static int ring_info_cb(struct hp_ring *r, void *arg)
{
	struct ring_snap *s = arg;

	if (strcmp(r->name, s->want))
		return 0;
	s->found = true;
	snprintf(s->name, sizeof(s->name), "%s", r->name);
	/* no memzone behind a ring: DPDK's mz_ fields describe the ring's own block */
	snprintf(s->mz_name, sizeof(s->mz_name), "%s", r->name);
	s->flags = r->flags;
	s->size = r->size;
	s->mask = r->mask;
	s->capacity = r->capacity;
	s->count = hp_ring_count(r);
	s->free = s->capacity - s->count;
	s->mz_len = (size_t)hp_ring_get_memsize(r->flags & HP_RING_EXACT_SZ ? r->capacity : r->size,
						r->flags);
	s->mz_node = r->node;
	return 1;
}

static int ring_info(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct ring_snap s = {.want = params};
	int rc;

	(void)arg;
	rc = need_name(cmd, params, "a ring", "/ring/list", out);
	if (rc)
		return rc;
	rc = hp_ring_walk(ring_info_cb, &s);
	if (rc < 0)
		return rc;
	if (!s.found)
		return hp_telemetry_error(out, "no ring named '%.40s'; /ring/list lists them",
					  params);
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "name", s.name);
	hp_telemetry_int(out, "socket", s.mz_node);
	hp_telemetry_uint(out, "flags", s.flags);
	hp_telemetry_str(out, "producer_type", s.flags & HP_RING_SP_ENQ ? "SP" : "MP");
	hp_telemetry_str(out, "consumer_type", s.flags & HP_RING_SC_DEQ ? "SC" : "MC");
	hp_telemetry_uint(out, "size", s.size);
	hp_telemetry_uint(out, "mask", s.mask);
	hp_telemetry_uint(out, "capacity", s.capacity);
	hp_telemetry_uint(out, "used_count", s.count);
	hp_telemetry_uint(out, "free_count", s.free);
	hp_telemetry_str(out, "mz_name", s.mz_name);
	hp_telemetry_uint(out, "mz_len", s.mz_len);
	hp_telemetry_uint(out, "mz_hugepage_sz", hp_mem_page_size());
	hp_telemetry_int(out, "mz_socket_id", s.mz_node);
	hp_telemetry_uint(out, "mz_flags", s.mz_flags);
	return hp_telemetry_close(out);
}

/* ---- memzones ---------------------------------------------------------------------------- */

struct ids {
	unsigned n;
	int v[2048];
};

static int zone_id_cb(const struct hp_memzone *mz, void *arg)
{
	struct ids *l = arg;

	if (l->n < sizeof(l->v) / sizeof(l->v[0]))
		l->v[l->n++] = memzone_index(mz);
	return 0;
}

static int memzone_list(const char *cmd, const char *params, struct hp_telemetry_out *out,
			void *arg)
{
	struct ids *l = calloc(1, sizeof(*l));
	int rc;

	(void)cmd, (void)params, (void)arg;
	if (!l)
		return -ENOMEM;
	rc = hp_memzone_walk(zone_id_cb, l);
	if (rc == 0) {
		hp_telemetry_open_array(out, NULL);
		for (unsigned i = 0; i < l->n; i++)
			hp_telemetry_int(out, NULL, l->v[i]);
		hp_telemetry_close(out);
	}
	free(l);
	return rc;
}

struct zone_snap {
	int want;
	bool found;
	struct hp_memzone mz;
};

static int zone_info_cb(const struct hp_memzone *mz, void *arg)
{
	struct zone_snap *s = arg;

	if (memzone_index(mz) != s->want)
		return 0;
	s->mz = *mz;
	s->found = true;
	return 1;
}

static int memzone_info(const char *cmd, const char *params, struct hp_telemetry_out *out,
			void *arg)
{
	struct zone_snap s = {0};
	size_t page = hp_mem_page_size();
	uintptr_t base, end;
	char addr[32];
	unsigned id = 0;
	int rc;

	(void)arg;
	rc = parse_id(cmd, params, "a zone id", "/eal/memzone_list", 1u << 30, &id, out);
	if (rc)
		return rc;
	s.want = (int)id;
	rc = hp_memzone_walk(zone_info_cb, &s);
	if (rc < 0)
		return rc;
	if (!s.found)
		return hp_telemetry_error(out, "no zone has id %u; /eal/memzone_list lists them",
					  id);
	base = (uintptr_t)s.mz.va & ~(uintptr_t)(page - 1);
	end = HP_ALIGN_UP((uintptr_t)s.mz.va + s.mz.len, (uintptr_t)page);
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "Zone", id);
	hp_telemetry_str(out, "Name", s.mz.name);
	hp_telemetry_uint(out, "Length", s.mz.len);
	snprintf(addr, sizeof(addr), "%p", s.mz.va);
	hp_telemetry_str(out, "Address", addr);
	hp_telemetry_int(out, "Socket", s.mz.node);
	hp_telemetry_uint(out, "Flags", s.mz.flags);
	hp_telemetry_uint(out, "Hugepage_size", page);
	snprintf(addr, sizeof(addr), "%p", (void *)base);
	hp_telemetry_str(out, "Hugepage_base", addr);
	hp_telemetry_uint(out, "Hugepage_used", (end - base) / page);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, s.mz.iova);
	hp_telemetry_str(out, "IOVA", addr);
	return hp_telemetry_close(out);
}

/* ---- heaps (one per node: the allocator under zones and hp_malloc) ------------------------ */

static int heap_list(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct hp_heap_stats st;

	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_array(out, NULL);
	for (int node = 0; node < HP_MAX_NUMA_NODES; node++)
		if (hp_heap_stats(node, &st) == 0 && st.total)
			hp_telemetry_int(out, NULL, node);
	return hp_telemetry_close(out);
}

static int heap_info(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct hp_heap_stats st = {0};
	size_t largest = 0, n_free = 0;
	char name[24];
	unsigned id = 0;
	int rc;

	(void)arg;
	rc = parse_id(cmd, params, "a heap id (a NUMA node)", "/eal/heap_list", HP_MAX_NUMA_NODES,
		      &id, out);
	if (rc)
		return rc;
	hp_heap_stats((int)id, &st); /* a node the machine lacks reads as empty */
	for (unsigned k = 0; k < HP_HEAP_ORDERS; k++) {
		n_free += st.free_blocks[k];
		if (st.free_blocks[k])
			largest = (size_t)HP_HEAP_BLOCK_UNIT << k;
	}
	snprintf(name, sizeof(name), "socket_%u", id);
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "Heap_id", id);
	hp_telemetry_str(out, "Name", name);
	hp_telemetry_uint(out, "Heap_size", st.total);
	hp_telemetry_uint(out, "Free_size", st.free);
	hp_telemetry_uint(out, "Alloc_size", st.allocated);
	hp_telemetry_uint(out, "Greatest_free_size", largest);
	hp_telemetry_uint(out, "Alloc_count", st.n_allocated);
	hp_telemetry_uint(out, "Free_count", n_free);
	hp_telemetry_uint(out, "Reserved", hp_mem_reserved((int)id));
	hp_telemetry_open_array(out, "Free_blocks_per_order");
	for (unsigned k = 0; k < HP_HEAP_ORDERS; k++)
		hp_telemetry_uint(out, NULL, st.free_blocks[k]);
	hp_telemetry_close(out);
	return hp_telemetry_close(out);
}

/* ---- hugepool's own: memory per node, lcores ---------------------------------------------- */

struct node_mem {
	unsigned pages, runs;
	size_t largest_run;
};

static int page_cb(const struct hp_memseg *ms, void *arg)
{
	struct node_mem *m = arg;

	if (ms->node >= 0 && ms->node < HP_MAX_NUMA_NODES)
		m[ms->node].pages++;
	return 0;
}

static int run_cb(const struct hp_memseg *run, void *arg)
{
	struct node_mem *m = arg;

	if (run->node >= 0 && run->node < HP_MAX_NUMA_NODES) {
		m[run->node].runs++;
		if (run->len > m[run->node].largest_run)
			m[run->node].largest_run = run->len;
	}
	return 0;
}

static int memory(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct node_mem m[HP_MAX_NUMA_NODES] = {{0}};
	size_t page = hp_mem_page_size();

	(void)cmd, (void)params, (void)arg;
	hp_mem_lock_read(); /* the layout holds still between the two walks */
	hp_memseg_walk(page_cb, m);
	hp_memseg_contig_walk(run_cb, m);
	hp_mem_unlock_read();
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "iova_mode", hp_iova_mode() == HP_IOVA_PA ? "pa" : "va");
	hp_telemetry_uint(out, "page_size", page);
	hp_telemetry_uint(out, "reserved", hp_mem_reserved(HP_NODE_ANY));
	hp_telemetry_open_array(out, "nodes");
	for (int node = 0; node < HP_MAX_NUMA_NODES; node++) {
		size_t reserved = hp_mem_reserved(node);

		if (!reserved && !m[node].pages)
			continue;
		hp_telemetry_open_obj(out, NULL);
		hp_telemetry_int(out, "node", node);
		hp_telemetry_uint(out, "pages", m[node].pages);
		hp_telemetry_uint(out, "page_size", page);
		hp_telemetry_uint(out, "reserved", reserved);
		hp_telemetry_uint(out, "contig_runs", m[node].runs);
		hp_telemetry_uint(out, "largest_run", m[node].largest_run);
		hp_telemetry_close(out);
	}
	hp_telemetry_close(out);
	return hp_telemetry_close(out);
}

static int lcores(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "count", hp_lcore_count());
	hp_telemetry_uint(out, "max_lcores", HP_MAX_LCORES);
	hp_telemetry_open_array(out, "lcores");
	for (unsigned id = 0; id < HP_MAX_LCORES; id++) {
		int cpu = hp_lcore_cpu(id);

		if (cpu == -EINVAL) /* not in use */
			continue;
		hp_telemetry_open_obj(out, NULL);
		hp_telemetry_uint(out, "lcore", id);
		hp_telemetry_int(out, "cpu", cpu >= 0 ? cpu : -1); /* -1: no CPU of its own */
		hp_telemetry_close(out);
	}
	hp_telemetry_close(out);
	return hp_telemetry_close(out);
}

/* ---- RDMA maps (lib/rdma, where the build has it) ------------------------------------------ */

#ifdef HP_HAVE_RDMA
struct rdma_snap {
	unsigned n, max;
	struct rdma_map_info *v;
};

static int rdma_map_cb(const struct rdma_map_info *m, void *arg)
{
	struct rdma_snap *s = arg;

	if (room_for_one((void **)&s->v, s->n, &s->max, sizeof(*s->v), 4))
		return -ENOMEM;
	s->v[s->n++] = *m;
	return 0;
}

static int rdma(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct rdma_snap s = {0};
	char addr[32];
	int rc;

	(void)cmd, (void)params, (void)arg;
	rc = rdma_map_walk(rdma_map_cb, &s);
	if (rc < 0) {
		free(s.v);
		return rc;
	}
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "maps", s.n);
	hp_telemetry_open_array(out, "list");
	for (unsigned i = 0; i < s.n; i++) {
		const struct rdma_map_info *m = &s.v[i];

		hp_telemetry_open_obj(out, NULL);
		hp_telemetry_str(out, "device", m->device);
		hp_telemetry_int(out, "access", m->access);
		hp_telemetry_uint(out, "mrs", m->st.n_mrs);
		hp_telemetry_uint(out, "user_mrs", m->st.n_user);
		hp_telemetry_uint(out, "bytes", m->st.bytes);
		hp_telemetry_uint(out, "failed", m->st.n_failed);
		hp_telemetry_uint(out, "reg_ns", m->st.reg_ns);
		hp_telemetry_open_array(out, "mr_list");
		for (unsigned j = 0; j < m->n_mrs; j++) {
			hp_telemetry_open_obj(out, NULL);
			snprintf(addr, sizeof(addr), "0x%" PRIxPTR, m->mrs[j].start);
			hp_telemetry_str(out, "start", addr);
			hp_telemetry_uint(out, "len", m->mrs[j].end - m->mrs[j].start);
			hp_telemetry_uint(out, "lkey", m->mrs[j].lkey);
			hp_telemetry_uint(out, "rkey", m->mrs[j].rkey);
			hp_telemetry_bool(out, "user", m->mrs[j].user);
			hp_telemetry_close(out);
		}
		hp_telemetry_close(out);
		hp_telemetry_close(out);
	}
	hp_telemetry_close(out);
	free(s.v);
	return hp_telemetry_close(out);
}
#else
static int rdma(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)params, (void)arg;
	return hp_telemetry_error(out, "%s: this build has no lib/rdma (libibverbs was not found)",
				  cmd);
}
#endif

void telemetry_cmds_register(void)
{
	static const struct {
		const char *name;
		hp_telemetry_cb_t fn;
		const char *help;
	} list[] = {
	    {"/mempool/list", mempool_list,
	     "Returns list of available mempool. Takes no "
	     "parameters"},
	    {"/mempool/info", mempool_info, "Returns mempool info. Parameters: pool_name"},
	    {"/ring/list", ring_list, "Returns list of available rings. Takes no parameters"},
	    {"/ring/info", ring_info, "Returns ring info. Parameters: ring_name"},
	    {"/eal/memzone_list", memzone_list,
	     "Returns list of memzone ids. Takes no "
	     "parameters"},
	    {"/eal/memzone_info", memzone_info, "Returns memzone info. Parameters: int mz_id"},
	    {"/eal/heap_list", heap_list,
	     "Returns list of heap ids (NUMA nodes). Takes no "
	     "parameters"},
	    {"/eal/heap_info", heap_info, "Returns malloc heap stats. Parameters: int heap_id"},
	    {"/hugepool/memory", memory,
	     "Returns hugepages per node: pages, page size, bytes "
	     "reserved, IOVA mode, contiguous runs. No parameters"},
	    {"/hugepool/rdma", rdma,
	     "Returns the RDMA maps: device, MRs, bytes registered, "
	     "each MR's range and keys. Takes no parameters"},
	    {"/hugepool/lcores", lcores,
	     "Returns the lcore ids in use and their CPUs (-1: a "
	     "registered thread). Takes no parameters"},
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		hp_telemetry_register_cmd(list[i].name, list[i].fn, list[i].help, NULL);
}
