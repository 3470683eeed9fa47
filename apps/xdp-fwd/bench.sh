#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# xdp-fwd's benchmark (doc/xdp-fwd.md): frames per second from netns A to netns B through xdp-fwd
# in each layout (rtc, pipeline), through DPDK's testpmd on its af_xdp PMD (io forwarding) on the
# same two veths, and through a kernel bridge between them, interleaved in one run (the order
# turns each round). A sender in A (pktsend: raw socket, sendmmsg, no qdisc) sends UDP frames of
# 64 and 1514 bytes for SECONDS; the rate is what b0 in B received (its rx_packets) over the
# sending time. Prints every measurement, then the medians and each path's ratio to testpmd (the
# median of the per-round ratios); --json prints the same as one JSON object instead.
# Usage (root; on a shared machine under its test lock):
#   bench.sh BUILD-DIR [SECONDS] [ROUNDS] [--json]
set -euo pipefail
json=0
args=()
for a in "$@"; do
	[[ $a == --json ]] && json=1 || args+=("$a")
done
build=$(cd "${args[0]}" && pwd)
secs=${args[1]:-3}
rounds=${args[2]:-3}
fwd=$build/apps/xdp-fwd/xdp-fwd
send=$build/apps/xdp-fwd/pktsend
testpmd=$(command -v dpdk-testpmd || true)
id=$$
A=hpxb${id}a B=hpxb${id}b P0=xb${id}p0 P1=xb${id}p1 BR=xb${id}br
log=$(mktemp)
pid=
say() { ((json)) && echo "$*" >&2 || echo "$*"; }
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	ip link del "$BR" 2>/dev/null || true
	rm -f "$log"
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add "$P0" type veth peer name a0 netns "$A"
ip link add "$P1" type veth peer name b0 netns "$B"
ip -n "$A" addr add 10.99.0.1/24 dev a0
ip -n "$B" addr add 10.99.0.2/24 dev b0
ip -n "$A" link set a0 up
ip -n "$B" link set b0 up
ip link set "$P0" up
ip link set "$P1" up
mac_b=$(ip -n "$B" -o link show b0 | sed 's/.*link\/ether \([0-9a-f:]*\).*/\1/')

rx_b() { ip netns exec "$B" cat /sys/class/net/b0/statistics/rx_packets; }

# measure SIZE: prints "sent-pps received-pps"
measure() {
	local before after sent
	before=$(rx_b)
	sent=$(ip netns exec "$A" "$send" a0 "$mac_b" "$1" "$secs")
	after=$(rx_b)
	echo "$((sent / secs)) $(((after - before) / secs))"
}

attached() { ip link show "$P0" | grep -q xdp && ip link show "$P1" | grep -q xdp; }

# SIGTERM (a background job of a script ignores SIGINT), bounded: a path that does not stop
# in 10 s is killed and said
stop() {
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# pid $pid did not stop within 10 s of SIGTERM: killed" >&2
		kill -KILL "$pid"
	fi
	wait "$pid" || true
	pid=
}

via_bridge() {
	ip link add "$BR" type bridge
	ip link set "$P0" master "$BR"
	ip link set "$P1" master "$BR"
	ip link set "$BR" up
	measure "$1"
	ip link del "$BR"
}

# measure SIZE through the path just started as $pid once its log shows WORDS (and both ports
# have a program), then stop it; a path that does not start is shown and counts 0
measure_started() { # SIZE WORDS
	for _ in $(seq 300); do grep -q "$2" "$log" && attached && break; sleep 0.1; done
	if ! grep -q "$2" "$log"; then
		tail -5 "$log" | sed 's/^/# /' >&2
		kill "$pid" 2>/dev/null || true
		wait "$pid" || true
		pid=
		echo "0 0"
		return
	fi
	measure "$1"
	stop
}

via_fwd() { # SIZE LAYOUT
	"$fwd" --file-prefix="hpxb$id" -- --port "$P0" --port "$P1" --layout "$2" --stats 0 \
		>/dev/null 2>"$log" &
	pid=$!
	measure_started "$1" '<->'
}

via_testpmd() {
	"$testpmd" -l 0-1 --no-pci --in-memory -m 256 --file-prefix "hpxb$id" --log-level=notice \
		--vdev "net_af_xdp0,iface=$P0" --vdev "net_af_xdp1,iface=$P1" -- \
		--forward-mode=io -a --stats-period 3600 </dev/null >"$log" 2>&1 &
	pid=$!
	measure_started "$1" 'forwards packets'
}

paths=(bridge rtc pipeline)
[[ -n $testpmd ]] && paths+=(testpmd) || say "# dpdk-testpmd is not installed: no testpmd column"
declare -A got
say "$(printf '%-5s %-6s %-9s %12s %14s' round size path "sent pps" "received pps")"
for r in $(seq "$rounds"); do
	for size in 64 1514; do
		# 64 B on the wire is 60 B + FCS: the sender gives 60
		s=$size
		((s == 64)) && s=60
		n=${#paths[@]}
		for k in $(seq 0 $((n - 1))); do
			path=${paths[$(((k + r) % n))]}
			# $(...) returns once the path has stopped, so paths never overlap
			case $path in
			bridge) out=$(via_bridge "$s") ;;
			testpmd) out=$(via_testpmd "$s") ;;
			*) out=$(via_fwd "$s" "$path") ;;
			esac
			read -r sent rx <<<"$out"
			got[$r,$size,$path]=$rx
			say "$(printf '%-5s %-6s %-9s %12s %14s' "$r" "$size" "$path" "$sent" "$rx")"
		done
	done
done

# medians, ranges and the ratio to testpmd (median of the per-round ratios)
{
	echo "$rounds ${paths[*]}"
	for key in "${!got[@]}"; do echo "$key ${got[$key]}"; done
} | python3 -c '
import json, statistics, sys
lines = sys.stdin.read().split("\n")
rounds, *paths = lines[0].split()
got = {}
for l in lines[1:]:
    if l:
        k, v = l.split()
        r, size, path = k.split(",")
        got[(int(r), int(size), path)] = int(v)
out = {"rounds": int(rounds), "seconds": float(sys.argv[1]), "unit": "frames/s received",
       "results": []}
for size in (64, 1514):
    for p in paths:
        vals = [got[(r, size, p)] for r in range(1, int(rounds) + 1)]
        row = {"size": size, "path": p, "median": statistics.median(vals), "min": min(vals),
               "max": max(vals)}
        if "testpmd" in paths:
            ratios = [got[(r, size, p)] / max(got[(r, size, "testpmd")], 1)
                      for r in range(1, int(rounds) + 1)]
            row["vs_testpmd"] = round(statistics.median(ratios), 2)
        out["results"].append(row)
if sys.argv[2] == "1":
    print(json.dumps(out))
    sys.exit(0)
print()
print("| frame | path | received frames/s, median (range) | / testpmd |")
print("|---|---|---|---|")
for row in out["results"]:
    size, path, ratio = row["size"], row["path"], row.get("vs_testpmd", "-")
    med, lo, hi = (round(row[x] / 1000) for x in ("median", "min", "max"))
    print(f"| {size} B | {path} | {med} k ({lo}-{hi} k) | {ratio} |")
' "$secs" "$json"
