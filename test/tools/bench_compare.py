#!/usr/bin/env python3
"""Before/after speed of the inline hot paths: mempool-bench and ring-bench from two builds.

Runs each benchmark from the base build and the changed build in alternating rounds (base,
change, base, change, ...), pinned to one CPU, and prints for every cell the speed of the
change relative to the base (above 1: faster), the median over the rounds and its spread
(min-max). DPDK's figures, the same code in both builds, are compared the same way: their
spread is what the machine and the code layout alone move. Where DPDK ran, a third column
divides each run's hugepool figure by that run's DPDK figure first, which takes out the drift of
the machine between runs. A cell is marked when its median is more than --slower (5%) slower,
and, where DPDK ran, its DPDK-relative median too. Never a test: it reports, it does not pass
or fail on speed.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys

MEMPOOL = "apps/mempool-bench/mempool-bench"
RING = "apps/ring-bench/ring-bench"


def run(build, prog, args, cpu, lock):
    """One benchmark run; its --json object. Under flock LOCK when one is given."""
    cmd = ["taskset", "-c", str(cpu), os.path.join(build, prog), "--json"] + args
    if lock:
        cmd = ["flock", lock] + cmd
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def mempool_cells(doc):
    """Cell name -> (hugepool Mo/s, DPDK Mo/s or None); higher is faster."""
    cells = {}
    for c in doc["cells"]:
        name = "mempool cache %d thr %d keep %d bulk %d/%d %s" % (
            c["cache"], c["threads"], c["keep"], c["get"], c["put"],
            "const" if c["constant"] else "var")
        cells[name] = (c["hugepool"], c.get("dpdk"))
    for r in doc.get("unregistered", {}).get("rows", []):
        name = "unregistered thr %d bulk %d %s" % (
            r["threads"], r["bulk"], "const" if r["constant"] else "var")
        cells[name + " percpu"] = (r["hp_percpu"], r.get("dpdk_no_cache"))
        cells[name + " lcore"] = (r["hp_lcore"], r.get("dpdk_lcore"))
    return cells


def ring_cells(doc):
    """Row name -> (elements per ns of hugepool, of DPDK or None); higher is faster."""
    cells = {}
    for r in doc["results"]:
        name = "ring %s thr %d bulk %d" % (r["mode"], r["threads"], r["bulk"])
        dpdk = r.get("dpdk_ns")
        cells[name] = (1.0 / r["hugepool_ns"] if r["hugepool_ns"] > 0 else 0.0,
                       1.0 / dpdk if dpdk else None)
    return cells


def band(ratios):
    """median [min-max], or - when there is nothing to compare"""
    if not ratios:
        return "-"
    return "%.3f [%.2f-%.2f]" % (statistics.median(ratios), min(ratios), max(ratios))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="build directory of the base revision")
    ap.add_argument("change", help="build directory of the change")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per side (default 5)")
    ap.add_argument("--cpu", type=int, default=int(os.environ.get("HP_BENCH_CPU", "1")),
                    help="the CPU both sides run on (default 1, or HP_BENCH_CPU)")
    ap.add_argument("--lock", default=os.environ.get("HP_BENCH_LOCK"),
                    help="run each benchmark under flock LOCK (default HP_BENCH_LOCK)")
    ap.add_argument("--slower", type=float, default=0.05,
                    help="mark cells whose median is this much slower (default 0.05)")
    ap.add_argument("--mempool-args", default="--quick --seconds 0.2 --repeat 20")
    ap.add_argument("--ring-args", default="--seconds 0.1 --repeat 10")
    a = ap.parse_args()

    benches = [(MEMPOOL, a.mempool_args.split(), mempool_cells),
               (RING, a.ring_args.split(), ring_cells)]
    # speeds[cell] = {"base": [(hp, dpdk)...], "change": [...]}, rounds in order
    speeds = {}
    done = 0
    # SIGTERM (or ^C) stops after the rounds finished so far and prints them
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for rnd in range(a.rounds):
            got = {}
            for side, build in (("base", a.base), ("change", a.change)):
                for prog, args, cells in benches:
                    got.setdefault(side, {}).update(cells(run(build, prog, args, a.cpu, a.lock)))
            for side, cells in got.items():
                for name, v in cells.items():
                    speeds.setdefault(name, {"base": [], "change": []})[side].append(v)
            done += 1
            print("round %d of %d done" % (done, a.rounds), file=sys.stderr)
    except KeyboardInterrupt:
        print("stopped after %d of %d rounds" % (done, a.rounds), file=sys.stderr)

    print("change/base speed per cell (above 1: the change is faster), median of %d rounds "
          "[min-max of the round-by-round ratios]; DPDK's code is the same in both builds: "
          "its column is the noise" % done)
    print("%-48s %-20s %-20s %-20s" % ("cell", "hugepool", "dpdk (control)", "hugepool/dpdk"))
    marked = 0
    for name, s in speeds.items():
        pairs = list(zip(s["base"], s["change"]))
        hp = [c[0] / b[0] for b, c in pairs if b[0] > 0]
        dp = [c[1] / b[1] for b, c in pairs if b[1] and c[1]]
        if not hp:
            continue
        rel = [(c[0] / c[1]) / (b[0] / b[1]) for b, c in pairs if b[0] > 0 and b[1] and c[1]]
        slow = statistics.median(hp) < 1.0 - a.slower
        if rel:
            slow = slow and statistics.median(rel) < 1.0 - a.slower
        marked += slow
        print("%-48s %-20s %-20s %-20s%s" % (name, band(hp), band(dp), band(rel),
                                             "  SLOWER" if slow else ""))
    print("%d cell(s) more than %d%% slower" % (marked, round(a.slower * 100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
