# SPDX-License-Identifier: BSD-3-Clause
# The TAP runner of the tools' test scripts (test_tools.py, test_telemetry.py): each case is a
# function; it passes by returning, fails by raising, and is skipped (with a reason) by raising
# Skip.
import sys


class Skip(Exception):
    pass


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
