#!/usr/bin/env python3
"""Count test cases across meson test logs and print 'N passed, N failed, N skipped'.

meson's own summary counts test programs; our unit and vm programs speak TAP, one line per
case, so this reads every testlog.json given and counts each TAP case. A program that crashed
or timed out counts as one more failure, and so do TAP cases it planned but never reported.
Before the count it prints, for each failure, its failed cases with their comment lines (or the
end of its output), so the last lines of a run say why it failed.
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


def why_failed(t, lines=12):
    """The failed TAP cases of one test log with the '#' lines under each, else its last lines."""
    out, picked, keep = (t.get('stdout') or '').splitlines(), [], False
    for line in out:
        stripped = line.strip()
        if TAP_LINE.match(stripped):
            keep = stripped.startswith('not ok') and '# SKIP' not in stripped.upper()
        elif not stripped.startswith('#'):
            keep = False
        if keep:
            picked.append(stripped)
    if not picked:
        picked = [x for x in (out + (t.get('stderr') or '').splitlines()) if x.strip()][-lines:]
    return picked[:lines]


def main(paths):
    total = [0, 0, 0]
    failures, details = [], []
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
                details.append((failures[-1], why_failed(t)))
            total[0] += p
            total[1] += f
            total[2] += s
    for name, why in details:
        print(f'--- {name}')
        for line in why:
            print(f'    {line}')
    if failures:
        print('failed: ' + ', '.join(failures))
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
