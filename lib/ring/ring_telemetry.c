/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rings' telemetry commands, /ring/list and /ring/info, with DPDK's names and fields. Each
 * reads a ring inside a walk callback (the walk keeps its memory meanwhile, even if another
 * thread frees it). Counts are snapshots: the ring moves while it is read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hp_mem.h>
#include <hp_memzone.h>
#include <hp_ring.h>
#include <hp_telemetry.h>

/* Written inside the walk: the walk keeps the ring's name in place while the callback runs. */
static int ring_name_cb(struct hp_ring *r, void *out)
{
	hp_telemetry_str(out, NULL, r->name);
	return 0;
}

static int ring_list(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	int rc;

	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_array(out, NULL);
	rc = hp_ring_walk(ring_name_cb, out);
	return rc ? rc : hp_telemetry_close(out);
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
	rc = hp_telemetry_param_name(out, cmd, params, "a ring name", "/ring/list");
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

HP_TELEMETRY_CMD(ring_list, "/ring/list", "Returns list of available rings. Takes no parameters")
HP_TELEMETRY_CMD(ring_info, "/ring/info", "Returns ring info. Parameters: ring_name")
