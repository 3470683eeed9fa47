/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci's telemetry command, /hugepool/pci: the open devices (address, driver, IOVA mode,
 * node) and the DMA maps' counters (hp_dma_stats).
 */
#include <stdlib.h>

#include <hp_telemetry.h>

#include "pci_internal.h"

static int dev_cb(const struct hp_pci_dev *dev, void *arg)
{
	struct hp_telemetry_out *out = arg;

	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "addr", hp_pci_dev_addr(dev));
	hp_telemetry_str(out, "driver", hp_pci_dev_driver(dev));
	hp_telemetry_str(out, "iova", hp_pci_dev_iova_mode(dev) == HP_IOVA_PA ? "pa" : "va");
	hp_telemetry_int(out, "node", hp_pci_dev_numa_node(dev));
	return hp_telemetry_close(out) < 0;
}

static int pci(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct hp_dma_stats st;

	(void)cmd, (void)params, (void)arg;
	hp_dma_stats(&st);
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "devices", st.devices);
	hp_telemetry_bool(out, "container", st.container);
	hp_telemetry_uint(out, "maps", st.maps);
	hp_telemetry_uint(out, "bytes", st.bytes);
	hp_telemetry_uint(out, "user_maps", st.user_maps);
	hp_telemetry_uint(out, "failed", st.failed);
	hp_telemetry_open_array(out, "list");
	pci_dev_walk(dev_cb, out);
	hp_telemetry_close(out);
	return hp_telemetry_close(out);
}

HP_TELEMETRY_CMD(pci, "/hugepool/pci",
		 "Returns the open PCI devices (address, driver, IOVA mode, node) and the DMA "
		 "maps' counters. Takes no parameters")
