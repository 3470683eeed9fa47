#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# xdp-fwd for ./dev.sh demo: builds two network namespaces joined only through xdp-fwd,
#   netns A: a0 10.99.0.1 <-> P0 [xdp-fwd --port P0 --port P1] P1 <-> netns B: b0 10.99.0.2
# pings B from A and sends 16 MiB over TCP, stops xdp-fwd with SIGINT (its totals), and removes
# the namespaces whatever happens. Where AF_XDP or the tools are missing it says so, exits 0.
# Usage (root): demo.sh XDP-FWD TRANSFER-HELPER (test/apps/test_xdp_fwd.py: --send/--recv)
set -u
fwd=$1
helper=$2
id=$$
A=hpdm${id}a B=hpdm${id}b P0=dm${id}p0 P1=dm${id}p1
pid=
say() { echo "xdp-fwd demo: $*"; }
[[ -x $fwd ]] || { say "xdp-fwd was not built (needs libxdp-dev, libbpf-dev): skipped"; exit 0; }
for t in ip ping ethtool python3; do
	command -v "$t" >/dev/null || { say "$t is missing (./dev.sh deps): skipped"; exit 0; }
done
if ! python3 -c 'import socket; socket.socket(44, socket.SOCK_RAW).close()' 2>/dev/null; then
	say "this kernel gives no AF_XDP socket: skipped"
	exit 0
fi
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip link del "$P0" 2>/dev/null
	ip link del "$P1" 2>/dev/null
	return 0
}
trap cleanup EXIT
up() {
	ip netns add "$A" && ip netns add "$B" &&
		ip link add "$P0" type veth peer name a0 netns "$A" &&
		ip link add "$P1" type veth peer name b0 netns "$B" &&
		ip -n "$A" addr add 10.99.0.1/24 dev a0 && ip -n "$B" addr add 10.99.0.2/24 dev b0 &&
		ip -n "$A" link set a0 up && ip -n "$B" link set b0 up &&
		ip link set "$P0" up && ip link set "$P1" up &&
		# frames are forwarded as they are: the senders must fill in their checksums
		ip netns exec "$A" ethtool -K a0 tx off >/dev/null &&
		ip netns exec "$B" ethtool -K b0 tx off >/dev/null
}
up || { say "cannot build the namespaces: skipped"; exit 0; }
say "netns $A (a0 10.99.0.1) <-> $P0 [xdp-fwd] $P1 <-> netns $B (b0 10.99.0.2)"
if ip netns exec "$A" ping -c 1 -W 1 10.99.0.2 >/dev/null; then
	say "A reaches B without the forwarder: the topology is wrong"
	exit 1
fi
say "without xdp-fwd, A cannot reach B"
"$fwd" --port "$P0" --port "$P1" --stats 2 &
pid=$!
for _ in $(seq 100); do ip link show "$P0" | grep -q xdp && break; sleep 0.1; done
ip netns exec "$A" ping -c 3 -i 0.3 10.99.0.2
ip netns exec "$B" python3 "$helper" --recv 5201 >/tmp/hpdm$id.out &
recv=$!
for _ in $(seq 100); do grep -q listening /tmp/hpdm$id.out && break; sleep 0.1; done
sum=$(ip netns exec "$A" python3 "$helper" --send 10.99.0.2 5201 16)
wait "$recv"
read -r bytes got < <(tail -n 1 /tmp/hpdm$id.out)
rm -f /tmp/hpdm$id.out
[[ $got == "$sum" ]] && say "16 MiB over TCP from A to B: $bytes bytes, sha256 matches" ||
	say "16 MiB over TCP from A to B: the sha256 differs"
sleep 2
kill -INT "$pid"
wait "$pid"
say "xdp-fwd exited with status $?"
pid=
