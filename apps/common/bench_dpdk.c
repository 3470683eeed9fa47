/* SPDX-License-Identifier: BSD-3-Clause */
/* The benchmarks' shared DPDK start-up: see bench_dpdk.h. */
#include <errno.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_version.h>

#include "bench_dpdk.h"

int bench_dpdk_start(const char *prog, unsigned mem_mb, int no_huge, const char *lcores)
{
	char mem[16];
	char *argv[] = {(char *)prog,
			"--in-memory",
			"--no-pci",
			"--no-telemetry",
			"-l",
			(char *)lcores,
			"-m",
			mem,
			"--log-level=error",
			no_huge ? "--no-huge" : NULL,
			NULL};

	snprintf(mem, sizeof(mem), "%u", mem_mb);
	if (rte_eal_init(no_huge ? 10 : 9, argv) < 0)
		return rte_errno > 0 ? -rte_errno : -EINVAL;
	return 0;
}

int bench_dpdk_init(const char *prog, unsigned mem_mb, int no_huge)
{
	int rc = bench_dpdk_start(prog, mem_mb, no_huge, "0-1");

	if (rc < 0) {
		fprintf(stderr, "%s: rte_eal_init failed (%s); going on without DPDK\n", prog,
			rte_strerror(-rc));
		return -1;
	}
	return 0;
}

const char *bench_dpdk_version(void)
{
	return rte_version();
}
