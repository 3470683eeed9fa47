/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memzones' telemetry commands, /eal/memzone_list and /eal/memzone_info, with DPDK's names
 * and fields: a zone's id is its index in the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <hp_mem.h>
#include <hp_memzone.h>
#include <hp_telemetry.h>

#include "memzone_internal.h"

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
	rc = hp_telemetry_param_id(out, cmd, params, "a zone id", "/eal/memzone_list", 1u << 30,
				   &id);
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

HP_TELEMETRY_CMD(memzone_list, "/eal/memzone_list",
		 "Returns list of memzone ids. Takes no parameters")
HP_TELEMETRY_CMD(memzone_info, "/eal/memzone_info", "Returns memzone info. Parameters: int mz_id")
