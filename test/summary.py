#!/usr/bin/env python3
"""Count test cases across meson test logs and print 'N passed, N failed, N skipped'.

meson's own summary counts test programs; our unit and vm programs speak TAP, one line per
case, so this reads every testlog.json given and counts each TAP case. A program that crashed
or timed out counts as one more failure, and so do TAP cases it planned but never reported.
Usage: summary.py LOG.json [LOG.json ...]   (exit 1 when anything failed)
"""
import json
import re
import sys

TAP_LINE = re.compile(r'^(not ok|ok)\b(.*)$')
TAP_PLAN = re.compile(r'^1\.\.(\d+)')


def count_tap(out):
    passed = failed = skipped = 0
    planned = None
    for line in out.splitlines():
        line = line.strip()
        m = TAP_PLAN.match(line)
        if m and planned is None:
            planned = int(m.group(1))
            continue
        m = TAP_LINE.match(line)
        if not m:
            continue
        directive = m.group(2).upper()
        if '# SKIP' in directive:
            skipped += 1
        elif m.group(1) == 'ok' or '# TODO' in directive:
            passed += 1
        else:
            failed += 1
    seen = passed + failed + skipped
    missing = planned - seen if planned is not None and planned > seen else 0
    return passed, failed + missing, skipped, seen


def main(paths):
    total = [0, 0, 0]
    failures = []
    for path in paths:
        try:
            lines = open(path).read().splitlines()
        except OSError as e:
            print(f'summary: cannot read {path}: {e}', file=sys.stderr)
            total[1] += 1
            continue
        for raw in lines:
            t = json.loads(raw)
            result = t.get('result')
            p, f, s, seen = count_tap(t.get('stdout') or '')
            if seen == 0 and f == 0:
                # not TAP (or TAP that printed nothing): the program's result is one case
                p, f, s = {'OK': (1, 0, 0), 'SKIP': (0, 0, 1), 'EXPECTEDFAIL': (1, 0, 0)}.get(result, (0, 1, 0))
            elif result not in ('OK', 'SKIP', 'EXPECTEDFAIL') and f == 0:
                f = 1  # crashed, timed out or exited non-zero after its last case
            if f:
                failures.append(f"{t['name']} ({result})")
            total[0] += p
            total[1] += f
            total[2] += s
    if failures:
        print('failed: ' + ', '.join(failures))
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
