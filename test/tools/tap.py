# SPDX-License-Identifier: BSD-3-Clause
# The TAP runner of the tools' test scripts (test_tools.py, test_telemetry.py, test_benches.py):
# each case is a function; it passes by returning, fails by raising, and is skipped (with a
# reason) by raising Skip; or a script collects (name, ok, why) results and report()s them. Also what the test scripts (these and test/apps/*) share of the
# machine: runtime_dir(), hugepages_free().
import os
import sys


class Skip(Exception):
    pass


def runtime_dir():
    """Where DPDK's EAL, dpdk-telemetry.py and hugepool put a prefix's directory."""
    d = os.environ.get("RUNTIME_DIRECTORY")
    if not d:
        d = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(d, "dpdk")


def hugepages_free():
    """HugePages_Free of the default hugepage size, from /proc/meminfo (0 when absent)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def run(cases):
    """Runs the cases in order, prints TAP; returns the exit status (1 when any failed)."""
    print(f"1..{len(cases)}", flush=True)
    failed = 0
    for i, fn in enumerate(cases, 1):
        try:
            fn()
            print(f"ok {i} - {fn.__name__}")
        except Skip as e:
            print(f"ok {i} - {fn.__name__} # SKIP {e}")
        except Exception as e:  # noqa: BLE001 - an assertion or a tool that would not run
            failed += 1
            print(f"not ok {i} - {fn.__name__}")
            for line in f"{type(e).__name__}: {e}".splitlines():
                print(f"# {line}")
        sys.stdout.flush()
    return 1 if failed else 0


def report(results):
    """Prints (name, ok, why) results as TAP, each why as a comment above its line; returns the
    exit status (1 when any failed)."""
    for i, (name, ok, why) in enumerate(results, 1):
        if why:
            print(f"# {why}")
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    print(f"1..{len(results)}")
    return 0 if all(ok for _, ok, _ in results) else 1
