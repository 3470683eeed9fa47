#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# xdp-fwd's benchmark (doc/xdp-fwd.md): frames per second from netns A to netns B through
# xdp-fwd, and through a kernel bridge between the same veths as the reference, interleaved in
# one run. A sender in A (pktsend: raw socket, sendmmsg, no qdisc) sends UDP frames of each size
# for SECONDS; the rate is what b0 in B received (its rx_packets), over the sending time.
# Usage (root; hold /work-wide test lock if you share the machine): bench.sh BUILD-DIR [SECONDS] [ROUNDS]
set -euo pipefail
build=$(cd "$1" && pwd)
secs=${2:-3}
rounds=${3:-3}
fwd=$build/apps/xdp-fwd/xdp-fwd
send=$build/apps/xdp-fwd/pktsend
id=$$
A=hpxb${id}a B=hpxb${id}b P0=xb${id}p0 P1=xb${id}p1 BR=xb${id}br
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	ip link del "$BR" 2>/dev/null || true
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

via_bridge() {
	ip link add "$BR" type bridge
	ip link set "$P0" master "$BR"
	ip link set "$P1" master "$BR"
	ip link set "$BR" up
	measure "$1"
	ip link del "$BR"
}

via_fwd() {
	"$fwd" --port "$P0" --port "$P1" --stats 0 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do ip link show "$P0" | grep -q xdp && break; sleep 0.1; done
	measure "$1"
	kill -INT "$pid"
	wait "$pid"
	pid=
}

printf '%-6s %-9s %14s %14s\n' size path "sent pps" "received pps"
for r in $(seq "$rounds"); do
	for size in 64 1500; do
		# 64 B on the wire is 60 B + FCS: the sender gives 60
		s=$size
		((s == 64)) && s=60
		((s == 1500)) && s=1514
		read -r sent got < <(via_bridge "$s")
		printf '%-6s %-9s %14s %14s\n' "$size" bridge "$sent" "$got"
		read -r sent got < <(via_fwd "$s")
		printf '%-6s %-9s %14s %14s\n' "$size" xdp-fwd "$sent" "$got"
	done
done
