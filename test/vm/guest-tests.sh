#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the VM suite's programs one after another in one guest and merges their TAP into one
# stream (cases renumbered, named "program: case"), so meson counts every case of every program.
# A program that prints no TAP counts as one case: ok on exit 0, SKIP on exit 77, else not ok.
# Usage: guest-tests.sh [--timeout SEC] --test NAME PROGRAM [ARG...] [--test NAME PROGRAM ...]
set -u
export CMOCKA_MESSAGE_OUTPUT=TAP

PER_TEST_TIMEOUT=600
N=0
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT

# run_one NAME PROGRAM ARGS...: prints the program's cases as TAP lines numbered from N+1.
run_one() {
	local name=$1 line cases=0 failed=0 rc ok rest
	shift
	timeout -k 5 "$PER_TEST_TIMEOUT" "$@" >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	while IFS= read -r line; do
		if [[ "$line" =~ ^(not\ )?ok\ [0-9]+(\ -)?\ ?(.*)$ ]]; then
			ok=${BASH_REMATCH[1]}
			rest=${BASH_REMATCH[3]}
			# cmocka 1.1 prints a skipped case as "not ok N # SKIP name": a skip is not a failure
			if [[ "$rest" =~ ^#\ [Ss][Kk][Ii][Pp] ]]; then
				ok=""
				rest="${rest#* SKIP}"
				rest="${rest# } # SKIP"
			fi
			[ -n "$ok" ] && failed=$((failed + 1))
			cases=$((cases + 1))
			N=$((N + 1))
			echo "${ok}ok $N - $name: $rest"
		elif [[ "$line" =~ ^1\.\.[0-9]+ ]]; then
			continue
		elif [[ "$line" =~ ^# ]]; then
			echo "$line"
		else
			echo "# $name: $line"
		fi
	done <"$OUT"
	if [ "$rc" = 77 ] && [ "$cases" = 0 ]; then
		N=$((N + 1))
		echo "ok $N - $name # SKIP $(tail -n 1 "$ERR")"
		return
	fi
	if [ "$rc" != 0 ] || [ "$cases" = 0 ]; then
		sed "s/^/# $name stderr: /" "$ERR" | tail -n 40
		if [ "$failed" = 0 ]; then
			N=$((N + 1))
			if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
				echo "not ok $N - $name: killed after $PER_TEST_TIMEOUT s"
			elif [ "$rc" = 0 ]; then
				echo "ok $N - $name"
			else
				echo "not ok $N - $name: exited with status $rc"
			fi
		fi
	fi
}

if [ "${1:-}" = --timeout ]; then
	PER_TEST_TIMEOUT=$2
	shift 2
fi
echo "# guest: kernel $(uname -r), NUMA nodes $(cat /sys/devices/system/node/online)," \
	"hugepages per node: $(cat /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages | tr '\n' ' ')"
while [ $# -gt 0 ]; do
	[ "$1" = --test ] || { echo "Bail out! guest-tests.sh: expected --test, got '$1'"; exit 1; }
	shift
	args=()
	while [ $# -gt 0 ] && [ "$1" != --test ]; do
		args+=("$1")
		shift
	done
	[ ${#args[@]} -ge 2 ] || { echo "Bail out! guest-tests.sh: --test needs NAME PROGRAM"; exit 1; }
	run_one "${args[@]}"
done
echo "1..$N"
