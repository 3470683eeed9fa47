#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Does a telemetry client slow the data path? Runs mempool-bench --quick --json several times,
# alternating runs with nobody connected and runs with a client that asks, every INTERVAL ms,
# /mempool/list and /mempool/info of every pool (what a dashboard polling the program does).
# Prints, per cell, the median of each side and their ratio. Hold the test lock while it runs.
# Usage: telemetry_bench.py MEMPOOL_BENCH [--rounds N] [--interval MS] [-- bench options]
import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("bench")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--interval", type=float, default=10.0, help="ms between polls")
ap.add_argument("rest", nargs="*", help="more mempool-bench options (after --)")
args = ap.parse_args()

run_dir = os.environ.get("RUNTIME_DIRECTORY") or (
    "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
PATH = os.path.join(run_dir, "dpdk", "hugepool", "dpdk_telemetry.v2")


def poller(stop, counts):
    """Connects whenever the bench serves its socket; polls every args.interval ms."""
    while not stop.is_set():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(PATH)
            s.recv(1024)
            while not stop.is_set():
                s.send(b"/mempool/list")
                names = json.loads(s.recv(16384))["/mempool/list"]
                for n in names:
                    s.send(f"/mempool/info,{n}".encode())
                    s.recv(16384)
                counts["polls"] += 1
                time.sleep(args.interval / 1000)
        except (OSError, ValueError):
            time.sleep(0.001)  # not started yet, or gone between two runs
        finally:
            s.close()


def run(polled):
    stop, counts = threading.Event(), {"polls": 0}
    t = threading.Thread(target=poller, args=(stop, counts))
    if polled:
        t.start()
    out = subprocess.run([args.bench, "--quick", "--no-dpdk", "--json", *args.rest],
                         capture_output=True, text=True, check=True)
    if polled:
        stop.set()
        t.join()
    cells = json.loads(out.stdout)["cells"]
    return {(c["threads"], c["get"], c["constant"]): c["hugepool"] for c in cells}, counts


results = {False: [], True: []}
polls = 0
for r in range(args.rounds):
    for polled in (False, True) if r % 2 == 0 else (True, False):
        cells, counts = run(polled)
        results[polled].append(cells)
        polls += counts["polls"]
print(f"# mempool-bench --quick, {args.rounds} runs each side, interleaved; "
      f"client: /mempool/list + /mempool/info of each pool every {args.interval:g} ms "
      f"({polls} polls answered); medians, M objects/s per thread")
print(f"{'threads':>7} {'bulk':>4} {'const':>5} {'no client':>10} {'polled':>10} {'ratio':>6}")
for key in results[False][0]:
    a = statistics.median(c[key] for c in results[False])
    b = statistics.median(c[key] for c in results[True])
    print(f"{key[0]:>7} {key[1]:>4} {'yes' if key[2] else 'no':>5} {a:>10.1f} {b:>10.1f} "
          f"{b / a:>6.2f}")
