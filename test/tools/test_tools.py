#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Tests of the tools (hp-info, hp-demo) as a user runs them: every number hp-info prints is
# checked against sysfs, /proc/meminfo, /proc/mounts and pagemap read here, independently of the
# library. The cases that change the machine (hp-info --reserve and --clear on the 1 GiB pool)
# run only with --system (suite "system"): the pool is only grown and set back, except --clear,
# which runs only when the kernel has just shown it can hand out another 1 GiB page.
# Usage: test_tools.py [--system] HP_INFO [HP_DEMO]; prints TAP.
import ctypes
import json
import mmap
import os
import re
import shutil
import struct
import stat
import subprocess
import sys
import tempfile

import tap  # test/tools/tap.py, beside this script
from tap import Skip

SYSTEM = "--system" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "--system"]
HP_INFO = ARGS[0]
HP_DEMO = ARGS[1] if len(ARGS) > 1 else None
NODE_DIR = "/sys/devices/system/node"
GIB = 1 << 30

results = []


def case(fn):
    """A case that only reads the machine (suite "unit")."""
    if not SYSTEM:
        results.append(fn)
    return fn


def system_case(fn):
    """A case that changes the machine's hugepage pools and sets them back (suite "system")."""
    if SYSTEM:
        results.append(fn)
    return fn


NOBODY = 65534


def readable_by_others(path):
    """True when a user who is neither owner nor in the group can read path (every directory
    above it searchable by others, the file readable by others)."""
    path = os.path.realpath(path)
    if not os.stat(path).st_mode & stat.S_IROTH:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


def loaded_libraries(program):
    """Paths of the shared libraries the loader resolves for program (ldd)."""
    r = subprocess.run(["ldd", program], capture_output=True, text=True, timeout=60)
    return re.findall(r"=> (/.*) \(0x[0-9a-f]+\)$", r.stdout, re.M)  # paths may hold blanks


# (program, environment) that user 65534 can run: hp-info where it is, or a copy of it and of
# the libraries it loads from places that user cannot read (a tree under /root, mode 0700)
unprivileged_hp_info = None


def hp_info_for_nobody():
    global unprivileged_hp_info
    if unprivileged_hp_info is not None:
        return unprivileged_hp_info
    hidden = [p for p in [HP_INFO, *loaded_libraries(HP_INFO)] if not readable_by_others(p)]
    if not hidden:
        unprivileged_hp_info = (HP_INFO, None)
        return unprivileged_hp_info
    try:
        d = tempfile.mkdtemp(prefix="hp-tools-test-")
        os.chmod(d, 0o755)
        for p in hidden:
            dst = os.path.join(d, os.path.basename(p))
            shutil.copy2(p, dst)
            os.chmod(dst, 0o755)
    except OSError as e:
        raise Skip(f"user {NOBODY} cannot read {hidden[0]} and copying it to a readable "
                   f"place failed ({e}); the unprivileged cases need such a copy")
    env = dict(os.environ, LD_LIBRARY_PATH=d)
    unprivileged_hp_info = (os.path.join(d, os.path.basename(HP_INFO)), env)
    return unprivileged_hp_info


def run_unprivileged(*args):
    """Run hp-info where it cannot change anything, even if it wrongly accepted its input."""
    if os.geteuid() == 0 and shutil.which("setpriv"):
        return run(*args, user=NOBODY)
    return run(*args)


def run(*args, user=None):
    cmd, env = [HP_INFO, *args], None
    if user is not None:
        prog, env = hp_info_for_nobody()
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", prog, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def read_int(path):
    with open(path) as f:
        return int(f.read().strip())


def nodes():
    if not os.path.isdir(NODE_DIR):
        return [0]
    return sorted(int(d[4:]) for d in os.listdir(NODE_DIR) if re.fullmatch(r"node\d+", d))


def pool_dir(node, size):
    return f"{NODE_DIR}/node{node}/hugepages/hugepages-{size >> 10}kB"


def sysfs_pools():
    """{(node, page_size): (total, free, surplus)} read from sysfs."""
    pools = {}
    for n in nodes():
        base = f"{NODE_DIR}/node{n}/hugepages"
        if not os.path.isdir(base):
            continue
        for d in os.listdir(base):
            m = re.fullmatch(r"hugepages-(\d+)kB", d)
            if m:
                size = int(m.group(1)) << 10
                pools[(n, size)] = tuple(read_int(f"{base}/{d}/{k}_hugepages")
                                         for k in ("nr", "free", "surplus"))
    return pools


def meminfo_hugepagesize():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Hugepagesize:"):
                return int(line.split()[1]) << 10
    return 0


def pagemap_shows_frames():
    """True when this process reads a non-zero frame number for a page it touched."""
    page = mmap.PAGESIZE
    buf = ctypes.create_string_buffer(2 * page)
    addr = (ctypes.addressof(buf) + page - 1) & ~(page - 1)
    ctypes.memset(addr, 1, 1)
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(addr // page * 8)
        entry = struct.unpack("<Q", f.read(8))[0]
    return bool(entry >> 63) and (entry & ((1 << 55) - 1)) != 0


def hugetlbfs_mounts():
    """{page_size: [paths]} from /proc/mounts."""
    out = {}
    with open("/proc/mounts") as f:
        for line in f:
            dev, path, fstype, opts = line.split()[:4]
            if fstype != "hugetlbfs":
                continue
            m = re.search(r"pagesize=(\d+)([KMG])", opts)
            size = int(m.group(1)) << {"K": 10, "M": 20, "G": 30}[m.group(2)] if m else \
                meminfo_hugepagesize()
            out.setdefault(size, []).append(path)
    return out


def cpulist(node):
    path = f"{NODE_DIR}/node{node}/cpulist"
    return open(path).read().strip() if os.path.exists(path) else None


def gib_pool():
    size = GIB
    if not os.path.isdir(pool_dir(0, size)):
        raise Skip("this kernel has no 1 GiB hugepage pool on node 0")
    if os.geteuid() != 0:
        raise Skip("setting hugepage pools needs root")
    return size


def stderr_sentence(r, *words):
    assert r.returncode != 0, f"exit status 0, expected non-zero; stderr: {r.stderr!r}"
    assert r.stderr.strip(), "nothing on stderr"
    for w in words:
        assert w in r.stderr, f"stderr does not mention {w!r}: {r.stderr!r}"


@case
def test_json_numbers_match_sysfs():
    # other processes may take or give pages while hp-info runs: retry until sysfs held still
    for _ in range(20):
        before = sysfs_pools()
        r = run("--json")
        after = sysfs_pools()
        if before == after:
            break
    else:
        raise Skip("sysfs pool counters changed during every one of 20 runs (busy machine)")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    got = {(p["node"], p["page_size"]): (p["total"], p["free"], p["surplus"]) for p in j["pools"]}
    assert got == after, f"hp-info {got} != sysfs {after}"
    for p in j["pools"]:
        assert p["in_use"] == p["total"] - p["free"]
    keys = [(p["page_size"], p["node"]) for p in j["pools"]]
    assert keys == sorted(keys), "pools not sorted by page size then node"
    assert j["default_page_size"] == meminfo_hugepagesize()
    assert j["page_sizes"] == sorted({s for (_, s) in after})


def iommu_and_vfio():
    """True when an IOMMU is on and VFIO is loaded (--iova=auto then picks VA)."""
    groups = os.listdir("/sys/kernel/iommu_groups") if os.path.isdir("/sys/kernel/iommu_groups") else []
    return bool(groups) and (os.path.exists("/dev/vfio/vfio") or os.path.exists("/sys/module/vfio"))


@case
def test_json_iova_mode_matches_iommu_and_pagemap():
    j = json.loads(run("--json").stdout)
    want = "va" if iommu_and_vfio() else ("pa" if pagemap_shows_frames() else "va")
    assert j["iova_mode"] == want, f"iova_mode {j['iova_mode']}, want {want}: {j['iova_why']}"
    assert ("IOMMU is on" in j["iova_why"]) == (want == "va" and iommu_and_vfio())


@case
def test_json_mounts_match_proc_mounts():
    j = json.loads(run("--json").stdout)
    mounts = hugetlbfs_mounts()
    for m in j["mounts"]:
        if m["path"] is None:
            assert m["page_size"] not in mounts, f"{mounts} has a mount hp-info did not see"
        else:
            assert m["path"] in mounts.get(m["page_size"], []), f"{m} not in {mounts}"


@case
def test_json_nodes_match_sysfs():
    j = json.loads(run("--json").stdout)
    listed = [n["node"] for n in j["nodes"]]
    assert listed == nodes(), f"hp-info lists nodes {listed}, sysfs has {nodes()}"
    for n in j["nodes"]:
        want = cpulist(n["node"])
        if want is not None:
            assert n["cpus"] == want, f"node {n['node']}: cpus {n['cpus']} != sysfs {want}"


@case
def test_table_names_every_pool():
    r = run()
    assert r.returncode == 0, r.stderr
    for (node, size) in sysfs_pools():
        unit = f"{size >> 30} GiB" if size % GIB == 0 else f"{size >> 20} MiB"
        assert re.search(rf"^\s+{unit}\s+{node}\s", r.stdout, re.M), f"no row for {unit} node {node}"


@case
def test_help_exits_zero():
    r = run("--help")
    assert r.returncode == 0 and "--reserve" in r.stdout


@case
def test_unknown_option_fails_with_a_sentence():
    stderr_sentence(run_unprivileged("--frobnicate"), "--frobnicate")
    stderr_sentence(run_unprivileged("-x"), "-x")
    stderr_sentence(run_unprivileged("--reserve"), "--reserve")
    stderr_sentence(run_unprivileged("surplus-argument"), "surplus-argument")


@case
def test_bad_reserve_syntax_fails_and_changes_nothing():
    before = {k: v[0] for k, v in sysfs_pools().items()}
    for bad in ("0", "0:", ":1G", "x:1G", "0:1Q", "0:-5M", "0:1G,", ",0:1G", "0:1G,,1:1G", "0:1G,1", "-1:1G"):
        stderr_sentence(run_unprivileged("--reserve", bad), "write e.g.")
    stderr_sentence(run_unprivileged("--reserve", "0:1G", "--clear"), "not both")
    stderr_sentence(run_unprivileged("--size", "3M"), "3M")
    stderr_sentence(run_unprivileged("--size", "big"), "big")
    assert {k: v[0] for k, v in sysfs_pools().items()} == before


@case
def test_reserve_on_missing_node_fails_naming_it():
    missing = max(nodes()) + 7
    before = {k: v[0] for k, v in sysfs_pools().items()}
    stderr_sentence(run_unprivileged("--reserve", f"{missing}:1G"), f"node {missing}",
                    "does not exist")
    assert {k: v[0] for k, v in sysfs_pools().items()} == before


@case
def test_reserve_without_root_fails_saying_root():
    if os.geteuid() != 0:
        r = run("--reserve", "0:2M")
    elif shutil.which("setpriv"):
        r = run("--reserve", "0:2M", user=NOBODY)
    else:
        raise Skip("cannot drop root here (no setpriv)")
    stderr_sentence(r, "root")


# set by the 1 GiB reserve test: True when the kernel just gave one more 1 GiB page
gib_growable = None


@system_case
def test_reserve_sets_1g_pool_as_asked_then_back():
    global gib_growable
    size = gib_pool()
    orig = read_int(f"{pool_dir(0, size)}/nr_hugepages")
    try:
        r = run("--reserve", f"0:{orig + 1}G", "--size", "1G")
        now = read_int(f"{pool_dir(0, size)}/nr_hugepages")
        if now == orig + 1:
            gib_growable = True
            assert r.returncode == 0, r.stderr
        else:
            # the kernel could not find a free GiB: hp-info must say so, with the count it got
            gib_growable = False
            stderr_sentence(r, f"asked {orig + 1} pages", f"the kernel gave {now}")
    finally:
        r = run("--reserve", f"0:{orig}G", "--size", "1G")
    assert r.returncode == 0, r.stderr
    assert read_int(f"{pool_dir(0, size)}/nr_hugepages") == orig


@system_case
def test_clear_gives_back_free_1g_pages_and_keeps_used_ones():
    size = gib_pool()
    if not gib_growable:
        raise Skip("the kernel could not hand out one more 1 GiB page just now, so pages that "
                   "--clear gives back might not come back; not clearing the shared 1 GiB pool")
    d = pool_dir(0, size)
    orig = read_int(f"{d}/nr_hugepages")
    two_mb = {k: v[0] for k, v in sysfs_pools().items() if k[1] != size}
    held = None
    try:
        if read_int(f"{d}/free_hugepages") == 0:
            run("--reserve", f"0:{orig + 1}G", "--size", "1G")
        # hold one page in use: --clear must leave it in the pool
        held = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x40000 |
                         (30 << 26))
        held[0] = 1
        r = run("--clear", "--size", "1G")
        assert r.returncode == 0, r.stderr
        total, free = read_int(f"{d}/nr_hugepages"), read_int(f"{d}/free_hugepages")
        assert free == 0, f"{free} free 1 GiB pages left after --clear"
        assert total >= 1, "the page in use left the pool"
        assert {k: v[0] for k, v in sysfs_pools().items() if k[1] != size} == two_mb, \
            "--clear --size 1G changed another pool"
    finally:
        if held is not None:
            held.close()
        r = run("--reserve", f"0:{orig}G", "--size", "1G")
    assert read_int(f"{d}/nr_hugepages") == orig, r.stderr


@case
def test_demo_runs_and_names_node_0():
    if HP_DEMO is None:
        raise Skip("hp-demo is not built")
    r = subprocess.run([HP_DEMO], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\bnode 0\b", r.stdout), r.stdout
    assert "demo-node0" in r.stdout, r.stdout


def main():
    return tap.run(results)


def remove_copy():
    if unprivileged_hp_info and unprivileged_hp_info[1]:
        shutil.rmtree(os.path.dirname(unprivileged_hp_info[0]), ignore_errors=True)


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        remove_copy()
    sys.exit(rc)
