/* SPDX-License-Identifier: BSD-3-Clause */
/* The benchmarks' shared DPDK start-up: see bench_dpdk.h. */
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_version.h>

#include "bench_dpdk.h"

int bench_dpdk_init(const char *prog, unsigned mem_mb, int no_huge)
{
	char mem[16];
	char *argv[] = {(char *)prog, "--in-memory", "--no-pci", "--no-telemetry", "-l", "0-1",
			"-m", mem, "--log-level=error", no_huge ? "--no-huge" : NULL, NULL};

	snprintf(mem, sizeof(mem), "%u", mem_mb);
	if (rte_eal_init(no_huge ? 10 : 9, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed (%s); going on without DPDK\n", prog,
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

const char *bench_dpdk_version(void)
{
	return rte_version();
}
