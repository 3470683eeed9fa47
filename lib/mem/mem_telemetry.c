/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem's telemetry command, /hugepool/memory: hugepages per node, the page size, bytes
 * reserved, the IOVA mode and the runs of contiguous pages.
 */
#include <hp_mem.h>
#include <hp_telemetry.h>

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

HP_TELEMETRY_CMD(memory, "/hugepool/memory",
		 "Returns hugepages per node: pages, page size, bytes reserved, "
		 "IOVA mode, contiguous runs. No parameters")
