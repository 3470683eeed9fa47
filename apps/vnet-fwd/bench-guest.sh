#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The guest's side of apps/vnet-fwd/bench.sh: binds the two virtio-net devices to vfio-pci, runs
# vnet-fwd while the host (test/apps/vnet_fwd_host.py --bench) pushes frames through it, with a
# system-wide profile (perf, cpu-clock) when perf is there; then xdp-fwd's own benchmark
# between two network namespaces of the same guest, for the same time.
# Usage: bench-guest.sh BUILD-DIR SECONDS
set -u
build=$1
secs=$2
shared=${HP_VM_SHARED:?run by test/vm/run.sh}
IFS=, read -r -a addrs <<<"${HP_VM_VNET:-}"
out=$(mktemp -d)
"$build/apps/hp-devbind/hp-devbind" --bind=vfio-pci "${addrs[0]}" "${addrs[1]}" >&2 || exit 1
"$build/apps/vnet-fwd/vnet-fwd" --dev "${addrs[0]}" --dev "${addrs[1]}" --stats 0 >"$out/fwd" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q '<->' "$out/fwd" 2>/dev/null && break; sleep 0.1; done
perf=""
if command -v perf >/dev/null && perf record -e cpu-clock -a -g -o "$out/perf.data" -- true >/dev/null 2>&1; then
	perf record -e cpu-clock -a -g -o "$out/perf.data" >/dev/null 2>&1 &
	perf=$!
fi
echo ready >"$shared/ready-1"
for _ in $(seq 1200); do [ -s "$shared/done-1" ] && break; sleep 1; done # seldom: a process start is dear under TCG
[ -n "$perf" ] && kill -INT "$perf" && wait "$perf"
kill -INT "$pid"
wait "$pid"
echo "== vnet-fwd (host -> device 0 -> vnet-fwd -> device 1 -> host), frames/s"
cat "$shared/done-1"
cat "$out/fwd"
if [ -n "$perf" ]; then
	echo "== profile of the guest during the vnet-fwd run (cpu-clock, all CPUs)"
	perf report -i "$out/perf.data" -g none --sort comm,dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
	perf report -i "$out/perf.data" -g none --comm vnet-fwd --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
fi
# xdp-fwd: A (a0) -> p0 [xdp-fwd] p1 -> B (b0), pktsend in A (raw socket, sendmmsg); the rate
# is what b0 received over the sending time, as in apps/xdp-fwd/bench.sh (no bridge here: the
# lane's guest has no bridge module).
echo "== xdp-fwd between two namespaces in the same guest, frames/s (sent, received in B)"
ip netns add vbA && ip netns add vbB
ip link add vbp0 type veth peer name a0 netns vbA
ip link add vbp1 type veth peer name b0 netns vbB
ip -n vbA link set a0 up && ip -n vbB link set b0 up && ip link set vbp0 up && ip link set vbp1 up
mac_b=$(ip -n vbB -o link show b0 | sed 's/.*link\/ether \([0-9a-f:]*\).*/\1/')
"$build/apps/xdp-fwd/xdp-fwd" --port vbp0 --port vbp1 --stats 0 >"$out/xdp" 2>&1 &
xpid=$!
for _ in $(seq 100); do ip link show vbp0 | grep -q xdp && break; sleep 0.1; done
for size in 60 1514; do
	before=$(ip netns exec vbB cat /sys/class/net/b0/statistics/rx_packets)
	sent=$(ip netns exec vbA "$build/apps/xdp-fwd/pktsend" a0 "$mac_b" "$size" "$secs")
	after=$(ip netns exec vbB cat /sys/class/net/b0/statistics/rx_packets)
	echo "xdp-fwd $size $((sent / secs)) $(((after - before) / secs))"
done
kill -INT "$xpid"
wait "$xpid"
cat "$out/xdp"
ip netns del vbA
ip netns del vbB
