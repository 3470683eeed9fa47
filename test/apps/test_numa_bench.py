#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# numa-bench as a user runs it: its JSON matrix holds one entry per (CPU node, memory node) pair
# of this machine, with the nodes read here from sysfs, and figures that are measurements (finite,
# above zero); --compare-4k adds both buffers; a bad --size gets a sentence and exit 2. Never
# asserts speed. With --nodes N the machine must have N nodes (the VM lane: 2, so four pairs),
# and with --emulated the output must say its numbers are emulation (qemu TCG).
# Usage: test_numa_bench.py NUMA_BENCH [--nodes N] [--emulated]; prints TAP.
import glob
import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from tap import hugepages_free  # noqa: E402 - test/tools/tap.py

BENCH = sys.argv[1]
WANT_NODES = int(sys.argv[sys.argv.index("--nodes") + 1]) if "--nodes" in sys.argv else None
EMULATED = "--emulated" in sys.argv
results = []


def case(name, ok, why=""):
    results.append((name, ok, why))


def sysfs_nodes():
    """(nodes with CPUs, nodes with memory), from sysfs."""
    cpu, mem = [], []
    for d in glob.glob("/sys/devices/system/node/node*"):
        m = re.fullmatch(r".*/node(\d+)", d)
        if not m:
            continue
        n = int(m.group(1))
        if glob.glob(d + "/cpu[0-9]*"):
            cpu.append(n)
        with open(d + "/meminfo") as f:
            if int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) > 0:
                mem.append(n)
    return sorted(cpu) or [0], sorted(mem) or [0]


def run(*args):
    pre = [] if os.geteuid() == 0 and hugepages_free() >= 16 else ["--no-huge", "--"]
    return subprocess.run([BENCH, *pre, *args], capture_output=True, text=True, timeout=900)


def measured(r):
    return all(math.isfinite(r[k]) and r[k] > 0 for k in ("latency_ns", "read_gbps", "write_gbps"))


def main():
    cpu_nodes, mem_nodes = sysfs_nodes()
    r = run("--json", "--size", "8")
    case("numa-bench --json exits 0", r.returncode == 0, r.stderr.strip())
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {"pairs": []}
    pairs = sorted((p["cpu_node"], p["mem_node"]) for p in out["pairs"])
    want = sorted((c, m) for c in cpu_nodes for m in mem_nodes)
    case(f"the matrix has one entry per (CPU node, memory node) pair: {want}", pairs == want,
         f"got {pairs}")
    if WANT_NODES is not None:
        case(f"the machine has {WANT_NODES} nodes, so {WANT_NODES ** 2} pairs",
             len(pairs) == WANT_NODES ** 2 and len(set(mem_nodes)) == WANT_NODES, f"got {pairs}")
    case("every pair's figures are measurements (finite, above zero)",
         out["pairs"] and all(measured(p) for p in out["pairs"]), r.stdout.strip())
    if EMULATED:
        case("the output says the numbers are emulation",
             out.get("emulated") is True and "emulation" in out.get("note", ""), r.stdout.strip())
        t = run("--size", "8")
        case("the table says so too", "emulation" in t.stdout, t.stdout)
    else:
        case("the JSON says whether the numbers are emulation",
             isinstance(out.get("emulated"), bool), r.stdout.strip())
        c = run("--json", "--size", "8", "--compare-4k")
        cmp = json.loads(c.stdout).get("compare_4k", {}) if c.returncode == 0 else {}
        case("--compare-4k measures a hugepage and a 4 KiB-page buffer on one node",
             c.returncode == 0 and measured(cmp.get("hugepages", {"latency_ns": 0}))
             and measured(cmp.get("4k_pages", {"latency_ns": 0})), c.stderr + c.stdout)
        b = run("--size", "x")
        case("a bad --size gets exit 2 and a sentence naming it",
             b.returncode == 2 and "--size x" in b.stderr, b.stderr)
    print(f"1..{len(results)}")
    for i, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            for line in str(why).splitlines()[-20:]:
                print(f"# {line}")
    return 0 if all(ok for _, ok, _ in results) else 1


sys.exit(main())
