#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The benchmarks still run, as a user runs them: each with a short time and --json exits 0,
# prints one JSON object whose figures are positive numbers (hugepool's, and DPDK's where it
# ran), gives every hugepage back and leaves no telemetry directory. Speed is not judged here.
# Usage: test_benches.py MEMPOOL_BENCH RING_BENCH HEAP_BENCH INIT_BENCH; prints TAP.
import json
import os
import subprocess
import sys

import tap  # test/tools/tap.py, beside this script
from tap import Skip, hugepages_free

MEMPOOL, RING, HEAP, INIT = sys.argv[1:5]
cases = []


def case(fn):
    cases.append(fn)
    return fn


def run_json(*cmd, need_pages=64):
    """Run a bench; check its exit, that it gave the pages back and removed its directory."""
    if hugepages_free() * 2 < need_pages:
        raise Skip(f"needs {need_pages} MiB of free 2 MiB hugepages (dev.sh hugepages)")
    before = hugepages_free()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"{cmd[0]} exited {p.returncode}: {p.stderr[-2000:]}"
    assert hugepages_free() == before, f"{cmd[0]} kept {before - hugepages_free()} hugepages"
    left = os.path.join(tap.runtime_dir(), "hugepool")  # the benchmarks' prefix
    assert not os.path.exists(left), f"{cmd[0]} left {left}"
    return json.loads(p.stdout)


def short_run(bench, name, rows, *opts):
    """Run a bench for 0.02 s twice with --json; check its name and that rows lists something."""
    j = run_json(bench, *opts, "--seconds", "0.02", "--repeat", "2", "--json")
    assert j["bench"] == name and j[rows], j
    return j


def positive(x, what):
    assert isinstance(x, (int, float)) and x > 0, f"{what} is {x!r}"


@case
def mempool_bench_json():
    j = short_run(MEMPOOL, "mempool", "cells", "--quick")
    for c in j["summary"]:
        positive(c["hp_mops"], f"hugepool at bulk {c['bulk']}")
        if j["dpdk"]:
            positive(c["ratio"], f"the ratio at bulk {c['bulk']}")
    assert j["unregistered"]["rows"], "no rows for threads without an lcore id"


@case
def ring_bench_json():
    j = short_run(RING, "ring", "results")
    for r in j["results"]:
        positive(r["hugepool_ns"], f"{r['mode']} bulk {r['bulk']}")


@case
def heap_bench_json():
    j = short_run(HEAP, "heap", "cells")
    for c in j["cells"]:
        positive(c["hugepool"], f"size {c['size']}")
        if j["dpdk"]:
            positive(c["dpdk"], f"DPDK at size {c['size']}")


@case
def init_bench_json():
    j = run_json(INIT, "--runs", "1", "--sizes", "16", "--json")
    (r,) = j["results"]
    assert r["size_mb"] == 16 and r["hugepool"]["ok"] == 1, r
    positive(r["hugepool"]["median_ms"], "hugepool's start")
    positive(r["floor"]["median_ms"], "the kernel's floor")


@case
def a_bad_option_exits_2_naming_it():
    for b in (MEMPOOL, RING, HEAP, INIT):
        p = subprocess.run([b, "--no-such-option"], capture_output=True, text=True, timeout=60)
        name = os.path.basename(b)
        assert p.returncode == 2, f"{name}: exit {p.returncode}"
        assert "--no-such-option" in p.stderr and f"{name} --help" in p.stderr, p.stderr


sys.exit(tap.run(cases))
