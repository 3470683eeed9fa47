/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the benchmarks share on their DPDK side (built only where libdpdk is found, with
 * HP_HAVE_DPDK): starting DPDK's EAL the same way in each, for a comparison in the same run.
 */
#ifndef HP_BENCH_DPDK_H
#define HP_BENCH_DPDK_H

/*
 * rte_eal_init with --in-memory --no-pci --no-telemetry on lcores 0-1 and mem_mb MiB (4 KiB
 * pages with no_huge). 0, or -1 after saying why on stderr: the run then goes on without DPDK.
 */
int bench_dpdk_init(const char *prog, unsigned mem_mb, int no_huge);

/*
 * rte_eal_init with --in-memory --no-pci --no-telemetry on the lcores listed (e.g. "0") and
 * mem_mb MiB, quietly. 0, or a negative errno (rte_errno) for the caller to report.
 */
int bench_dpdk_start(const char *prog, unsigned mem_mb, int no_huge, const char *lcores);

/* DPDK's version string, for the table's header. */
const char *bench_dpdk_version(void);

#endif
