#!/bin/sh
# Run a libFuzzer target for a bounded time on a fresh, writable copy of its seed corpus.
# Usage: run-fuzz.sh FUZZER SEED_DIR WORK_DIR [libFuzzer options]. Fails on any crash or leak.
# HP_FUZZ_SECONDS (default 20) bounds the run.
set -eu
fuzzer=$1 seeds=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
exec "$fuzzer" -max_total_time="${HP_FUZZ_SECONDS:-20}" -runs=200000 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$work/corpus"
