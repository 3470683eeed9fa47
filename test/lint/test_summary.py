#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test/summary.py, the counter every lane's total comes from, against meson logs made up here:
# TAP cases, skips, planned cases never reported, a crash without TAP, a non-zero exit after
# passing cases, and the reasons it prints for each failure. Prints TAP.
import json
import os
import subprocess
import sys
import tempfile

SUMMARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "summary.py")
results = []


def run(*logs):
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, entries in enumerate(logs):
            paths.append(os.path.join(d, f"{i}.json"))
            with open(paths[-1], "w") as f:
                f.writelines(json.dumps(e) + "\n" for e in entries)
        r = subprocess.run([sys.executable, SUMMARY, *paths], capture_output=True, text=True)
    return r.returncode, r.stdout.splitlines()


def check(name, cond, got):
    results.append((bool(cond), name, "" if cond else f"got: {got}"))


rc, out = run([{"name": "a", "result": "OK", "stdout": "1..3\nok 1 - x\nok 2 # SKIP no\nok 3\n"}],
              [{"name": "b", "result": "OK", "stdout": "not TAP\n"}])
check("TAP cases count one each, a skip as skipped, a non-TAP program as one case",
      rc == 0 and out[-1] == "3 passed, 0 failed, 1 skipped", (rc, out))

rc, out = run([{"name": "t", "result": "ERROR",
                "stdout": "1..3\nok 1 - x\nnot ok 2 - y\n# because z\n# and w\nok 3 - v\n"}])
check("a failed case counts once and the run exits 1", rc == 1 and out[-1] == "2 passed, 1 failed, 0 skipped", (rc, out))
check("the failed case and its comment lines are printed before the count",
      "    not ok 2 - y" in out and "    # because z" in out and "    # and w" in out
      and "    ok 3 - v" not in out and out.index("    not ok 2 - y") < len(out) - 2, out)

rc, out = run([{"name": "p", "result": "FAIL", "stdout": "1..4\nok 1\n"}])
check("cases planned but never reported count as failed", out[-1] == "1 passed, 3 failed, 0 skipped", out)

rc, out = run([{"name": "c", "result": "FAIL", "stdout": "", "stderr": "start\nSegmentation fault\n"}])
check("a crash without TAP is one failure, shown with the end of its output",
      out[-1] == "0 passed, 1 failed, 0 skipped" and "    Segmentation fault" in out, out)

rc, out = run([{"name": "e", "result": "ERROR", "stdout": "1..1\nok 1\n"}])
check("exiting non-zero after every case passed is a failure", rc == 1 and out[-1].endswith("1 failed, 0 skipped"), out)

print(f"1..{len(results)}")
for i, (ok, name, why) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if why:
        print(f"# {why}")
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
