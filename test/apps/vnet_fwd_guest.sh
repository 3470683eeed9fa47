#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vnet-fwd in a VM-lane guest with two virtio-net devices (run.sh --vnet 2), as TAP. With
# test/apps/vnet_fwd_host.py on the host (run.sh --host-cmd), which sends frames into both
# devices and checks what comes out of the other one. Steps (K is the run, 1 to 3): vnet-fwd
# starts, the guest writes HP_VM_SHARED/ready-K, the host sends and checks and writes done-K
# (its verdict), then the run is stopped: SIGINT (run 1), kill -9 (run 2, started at once after
# run 1), SIGTERM (run 3, after the kill). Before the devices are moved: the refusals.
# vfio: --iova=auto (VA with the IOMMU); uio: --iova=pa. features (an IOMMU, devices without
# iommu_platform; no host harness): vfio-pci refuses to run them, saying why.
# Usage: vnet_fwd_guest.sh VNET-FWD vfio|uio|features [HP-DEVBIND]
set -u
FWD=$1
MODE=$2
DEVBIND=${3:-}
N=0
FAILED=0
SHARED=${HP_VM_SHARED:?run by test/vm/run.sh}
IFS=, read -r -a ADDRS <<<"${HP_VM_VNET:-}"
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)); FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
}
check() { # check NAME COND-STATUS [DIAG...]
	local name=$1 st=$2
	shift 2
	if [ "$st" = 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}
bail() { echo "Bail out! $*"; exit 1; }
free_pages() { awk '/^HugePages_Free:/ {print $2}' /proc/meminfo; }

[ ${#ADDRS[@]} -ge 2 ] || bail "the guest has no two virtio-net devices (run.sh --vnet 2)"
[ -x "$FWD" ] || bail "$FWD is not built"
A=${ADDRS[0]} B=${ADDRS[1]}
case "$MODE" in
vfio|features) DRV=vfio-pci HPOPT=() ;;
uio) DRV=uio_pci_generic HPOPT=(--iova=pa --) ;;
*) bail "mode $MODE: give vfio, uio or features" ;;
esac

# refused: the devices are still the kernel's (virtio-pci)
refused() { # refused NAME WANT-TEXT ARGS...: exit 2 (bad usage), WANT-TEXT on stderr
	refused_with 2 "$@"
}
refused_with() { # refused_with STATUS NAME WANT-TEXT ARGS...
	local st=$1 name=$2 want=$3 rc
	shift 3
	"$FWD" "$@" >"$LOG/out" 2>"$LOG/err"
	rc=$?
	grep -qF -- "$want" "$LOG/err" && [ "$rc" = "$st" ]
	check "$name" $? "exit $rc, stderr: $(head -c 400 "$LOG/err")"
}
refused "a device bound to the kernel's driver is refused, naming hp-devbind" \
	"hp-devbind --bind=vfio-pci $A" --dev "$A" --dev "$B"
refused "an address that is not a virtio-net device is refused" \
	"is not a virtio-net device" --dev 0000:00:00.0 --dev "$B"
refused "an address with no device is refused" \
	"there is no PCI device 0000:00:1f.7" --dev 0000:00:1f.7 --dev "$B"

# move both devices to DRV
if [ -n "$DEVBIND" ] && [ -x "$DEVBIND" ]; then
	"$DEVBIND" --bind="$DRV" "$A" "$B" >"$LOG/bind" 2>&1
else
	modprobe "$DRV" 2>/dev/null
	for d in "$A" "$B"; do
		echo "$DRV" >"/sys/bus/pci/devices/$d/driver_override"
		[ -e "/sys/bus/pci/devices/$d/driver" ] && echo "$d" >"/sys/bus/pci/devices/$d/driver/unbind"
		echo "$d" >/sys/bus/pci/drivers_probe
	done 2>"$LOG/bind"
fi
for d in "$A" "$B"; do
	got=$(basename "$(readlink "/sys/bus/pci/devices/$d/driver")" 2>/dev/null)
	[ "$got" = "$DRV" ] || bail "$d is bound to '${got:-nothing}', not $DRV: $(cat "$LOG/bind")"
done
ok "both devices bound to $DRV ($([ -n "$DEVBIND" ] && [ -x "$DEVBIND" ] && echo hp-devbind || echo driver_override))"

refused "the same device twice is refused" "is given twice" --dev "$A" --dev "${A#0000:}"

FREE0=$(free_pages)
if [ "$MODE" = features ]; then
	refused_with 1 "a device without VIRTIO_F_ACCESS_PLATFORM is refused under VFIO, saying why" \
		"does not offer VIRTIO_F_ACCESS_PLATFORM" --dev "$A" --dev "$B"
	echo "# $(cat "$LOG/err")"
	for i in $(seq 50); do [ "$(free_pages)" = "$FREE0" ] && break; sleep 0.1; done
	[ "$(free_pages)" = "$FREE0" ]
	check "after the refusal every hugepage is free ($FREE0)" $? "HugePages_Free $(free_pages)"
	echo "1..$N"
	[ "$FAILED" = 0 ]
	exit
fi
PID=""
start_run() { # start_run K: vnet-fwd in the background until it forwards, then ready-K
	local k=$1 i
	# run 3 prints statistics every second as well (JSON lines with "final": false)
	"$FWD" "${HPOPT[@]}" --dev "$A" --dev "$B" --stats $((k == 3)) --json >"$LOG/out$k" 2>"$LOG/err$k" &
	PID=$!
	for i in $(seq 600); do
		grep -q "<->" "$LOG/err$k" 2>/dev/null && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '<->' "$LOG/err$k"; then
		not_ok "run $k: vnet-fwd forwards between $A and $B" "$(cat "$LOG/err$k")"
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		echo "failed" >"$SHARED/ready-$k"
		return 1
	fi
	ok "run $k: vnet-fwd forwards between $A and $B ($(grep -m1 'descriptors' "$LOG/err$k" | sed 's/^vnet-fwd: //'))"
	echo "ready" >"$SHARED/ready-$k"
}
wait_host() { # wait_host K: the host's verdict on run K
	local k=$1 i
	for i in $(seq 6000); do
		[ -s "$SHARED/done-$k" ] && break
		sleep 0.1
	done
	[ -s "$SHARED/done-$k" ] || { not_ok "run $k: the host checked the frames" "no done-$k within 600 s"; return 1; }
	if head -n1 "$SHARED/done-$k" | grep -q '^ok'; then
		ok "run $k: $(head -n1 "$SHARED/done-$k" | sed 's/^ok //')"
	else
		not_ok "run $k: the frames the host sent came out of the other device, byte-exact, in order" "$(cat "$SHARED/done-$k")"
	fi
}
stop_sig() { # stop_sig K SIG: the signal, exit 0, the JSON totals, every hugepage back
	local k=$1 sig=$2 rc i
	kill -"$sig" "$PID"
	wait "$PID"
	rc=$?
	check "run $k: SIG$sig: exit 0" "$rc" "exit $rc: $(tail -n 5 "$LOG/err$k")"
	python3 - "$LOG/out$k" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().strip().splitlines()]
t = lines[-1]
print("# %d JSON lines, the last final" % len(lines))
ok = t["final"] and not any(l["final"] for l in lines[:-1]) and all(p["dropped"] == 0 for p in t["ports"]) and \
     t["ports"][0]["rx_packets"] == t["ports"][1]["tx_packets"] and \
     t["ports"][1]["rx_packets"] == t["ports"][0]["tx_packets"] and \
     all(p["rx_packets"] > 0 for p in t["ports"])
print("# totals: " + ", ".join("%s rx %d tx %d dropped %d held back %d" % (p["port"], p["rx_packets"], p["tx_packets"], p["dropped"], p["ring_full"]) for p in t["ports"]))
sys.exit(0 if ok else 1)
PY
	check "run $k: the JSON totals count every frame once each way and no drop" $? "$(tail -n 1 "$LOG/out$k")"
	for i in $(seq 50); do [ "$(free_pages)" = "$FREE0" ] && break; sleep 0.1; done
	[ "$(free_pages)" = "$FREE0" ]
	check "run $k: every hugepage free again ($FREE0)" $? "HugePages_Free $(free_pages), was $FREE0"
}

start_run 1 && { wait_host 1; stop_sig 1 INT; }
start_run 2 && {
	wait_host 2
	kill -9 "$PID"
	wait "$PID" 2>/dev/null
	for i in $(seq 50); do [ "$(free_pages)" = "$FREE0" ] && break; sleep 0.1; done
	[ "$(free_pages)" = "$FREE0" ]
	check "run 2 (opened at once after run 1): kill -9 leaves every hugepage free" $? "HugePages_Free $(free_pages), was $FREE0"
}
start_run 3 && { wait_host 3; stop_sig 3 TERM; }
echo "1..$N"
[ "$FAILED" = 0 ]
