/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mempools' telemetry commands, /mempool/list and /mempool/info, with DPDK's names and
 * fields. Each copies what it needs inside a walk callback (the walk keeps a pool's memory
 * meanwhile, even if another thread frees it). Counts are snapshots read without stopping
 * anybody: caches move while they are read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hp_mem.h>
#include <hp_mempool.h>
#include <hp_memzone.h>
#include <hp_telemetry.h>

#include "mempool_internal.h"

/* Written inside the walk: the walk keeps the pool's name in place while the callback runs. */
static int pool_name_cb(struct hp_mempool *mp, void *out)
{
	hp_telemetry_str(out, NULL, mp->name);
	return 0;
}

static int mempool_list(const char *cmd, const char *params, struct hp_telemetry_out *out,
			void *arg)
{
	int rc;

	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_array(out, NULL);
	rc = hp_mempool_walk(pool_name_cb, out);
	return rc ? rc : hp_telemetry_close(out);
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
	rc = hp_telemetry_param_name(out, cmd, params, "a pool name", "/mempool/list");
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

HP_TELEMETRY_CMD(mempool_list, "/mempool/list",
		 "Returns list of available mempool. Takes no parameters")
HP_TELEMETRY_CMD(mempool_info, "/mempool/info", "Returns mempool info. Parameters: pool_name")
