#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Checks, as TAP, that the guest is what the VM lane promises (two NUMA nodes, per-node hugepage
# pools, a verbs device with an ACTIVE port) and that `hp-info --json` reports the same nodes and
# per-node pool counts as the kernel's sysfs, read here independently.
# Usage: check_guest.py HP_INFO_PROGRAM
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import tap  # noqa: E402 - test/tools/tap.py

NODE_DIR = "/sys/devices/system/node"
results = []


def case(name, ok, why=""):
    results.append((name, ok, why))


def sysfs_int(path):
    with open(path) as f:
        return int(f.read().strip())


def sysfs_nodes():
    return sorted(int(m.group(1)) for d in glob.glob(NODE_DIR + "/node*")
                  if (m := re.fullmatch(r".*/node(\d+)", d)))


def sysfs_pools():
    """{(node, page_size): (total, free, surplus)} from sysfs."""
    pools = {}
    for d in glob.glob(NODE_DIR + "/node*/hugepages/hugepages-*kB"):
        m = re.fullmatch(r".*/node(\d+)/hugepages/hugepages-(\d+)kB", d)
        key = (int(m.group(1)), int(m.group(2)) * 1024)
        pools[key] = tuple(sysfs_int(f"{d}/{f}")
                           for f in ("nr_hugepages", "free_hugepages", "surplus_hugepages"))
    return pools


def check_lane():
    nodes = sysfs_nodes()
    case("the guest has two NUMA nodes", nodes == [0, 1], f"sysfs lists nodes {nodes}")
    two_mb = [sysfs_pools().get((n, 2 << 20), (0, 0, 0))[0] for n in nodes]
    asked = [int(x) for x in os.environ.get("HP_VM_HUGEPAGES", "").split(",") if x]
    case("each node's pool of 2 MiB pages has what run.sh --huge asked", two_mb == asked,
         f"nr_hugepages per node: {two_mb}, asked: {asked or 'unknown (not in the guest?)'}")
    try:
        info = subprocess.run(["ibv_devinfo", "-d", "rxe0"], capture_output=True, text=True,
                              timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        info = str(e)
    case("rxe0 is a verbs device with an ACTIVE port", "PORT_ACTIVE" in info,
         "ibv_devinfo -d rxe0: " + (info.strip().splitlines() or ["no output"])[-1])


def check_hp_info(prog):
    if not os.access(prog, os.X_OK):
        case("hp-info --json runs", False, f"{prog} is not built")
        return
    p = subprocess.run([prog, "--json"], capture_output=True, text=True, timeout=120)
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        case("hp-info --json prints one JSON object", False,
             f"exit {p.returncode}: {e}; stderr: {p.stderr.strip()}")
        return
    case("hp-info --json prints one JSON object", p.returncode == 0, f"exit {p.returncode}")
    nodes = sorted(n["node"] for n in doc.get("nodes", []))
    case("hp-info --json shows two nodes", nodes == sysfs_nodes() == [0, 1],
         f"hp-info: {nodes}, sysfs: {sysfs_nodes()}")
    want = sysfs_pools()
    got = {(p["node"], p["page_size"]): (p["total"], p["free"], p["surplus"])
           for p in doc.get("pools", [])}
    case("hp-info --json pools per node match sysfs (total, free, surplus)", got == want,
         f"hp-info: {sorted(got.items())}, sysfs: {sorted(want.items())}")
    case("hp-info --json counts pages in use per node",
         all(p["in_use"] == p["total"] - p["free"] for p in doc.get("pools", [])))


def main():
    check_lane()
    check_hp_info(sys.argv[1] if len(sys.argv) > 1 else "apps/hp-info/hp-info")
    return tap.report(results)


if __name__ == "__main__":
    sys.exit(main())
