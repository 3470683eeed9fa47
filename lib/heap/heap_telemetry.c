/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The heaps' telemetry commands, /eal/heap_list and /eal/heap_info, with DPDK's names and
 * fields: one heap per NUMA node, read through hp_heap_stats().
 */
#include <stdio.h>

#include <hp_heap.h>
#include <hp_mem.h>
#include <hp_telemetry.h>

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
	rc = hp_telemetry_param_id(out, cmd, params, "a heap id (a NUMA node)", "/eal/heap_list",
				   HP_MAX_NUMA_NODES, &id);
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

HP_TELEMETRY_CMD(heap_list, "/eal/heap_list",
		 "Returns list of heap ids (NUMA nodes). Takes no parameters")
HP_TELEMETRY_CMD(heap_info, "/eal/heap_info", "Returns malloc heap stats. Parameters: int heap_id")
