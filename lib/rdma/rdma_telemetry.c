/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/rdma's telemetry command, /hugepool/rdma: each map's device, MRs and bytes registered,
 * each MR's range and keys. Built without libibverbs too: the command then says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <hp_telemetry.h>

#ifdef HP_HAVE_RDMA
#include "rdma_internal.h"

struct rdma_snap {
	unsigned n, max;
	struct rdma_map_info *v;
};

static int rdma_map_cb(const struct rdma_map_info *m, void *arg)
{
	struct rdma_snap *s = arg;
	struct rdma_map_info *bigger;

	if (s->n == s->max) {
		bigger = realloc(s->v, (s->max ? s->max * 2 : 4) * sizeof(*s->v));
		if (!bigger)
			return -ENOMEM;
		s->v = bigger;
		s->max = s->max ? s->max * 2 : 4;
	}
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

HP_TELEMETRY_CMD(rdma, "/hugepool/rdma",
		 "Returns the RDMA maps: device, MRs, bytes registered, each MR's "
		 "range and keys. Takes no parameters")
