#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Boots Debian's 6.1 kernel under qemu with two NUMA nodes (1 GiB and one CPU each, plus any 1 GiB pages), per-node
# hugepages and an rxe soft-RoCE device, runs a command there from the current directory (the
# host's / is the guest's read-only userland over 9p; the source tree, the current directory and
# the run folder are shared again at their own paths, so they show even where the guest mounts a
# tmpfs, as over /tmp and /run) and returns its output and exit status.
# --two-host boots two such guests joined by a virtual wire, each running its own command.
# Device options give the single guest an emulated IOMMU, qemu's edu DMA device and virtio-net
# devices whose backends are TCP sockets a command on the host connects to (--host-cmd).
# Exit: the command's status; 1 when the guest failed or timed out; 77 when qemu cannot start.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<'EOF'
usage: run.sh [options] -- CMD [ARG...]
       run.sh [options] --two-host --cmd-a 'SHELL CMD' --cmd-b 'SHELL CMD'
Runs CMD in a qemu guest with two NUMA nodes and soft-RoCE (rxe0), in the current directory.
options:
  --huge N0,N1     2 MiB hugepages to reserve on node 0 and node 1 (default 128,128; 0 allowed)
  --gib N0,N1      1 GiB hugepages the kernel reserves at boot on node 0 and node 1 (default
                   0,0); such a node gets 3 GiB more memory than it has pages
  --timeout SEC    kill the guest(s) after SEC seconds and fail (default 600)
  --assets DIR     where the kernel and initramfs are cached (default: BUILD/vm-assets)
  --keep           keep the run folder (console logs, outputs) and print its path
  --kernel-args ARGS   more arguments for the guest kernel's command line (e.g. iommu=pt)
  --two-host       two guests on one wire: A is 10.78.0.1, B is 10.78.0.2, each with rxe0 on eth0
  --cmd-a CMD, --cmd-b CMD   shell commands (bash -c) for guest A and guest B
In the guest, commands see HP_VM_MODE (single|a|b), HP_VM_ADDR (own IPv4 of rxe0),
HP_VM_PEER (the other guest's address; empty in single mode), HP_VM_SHARED (a folder both
guests can write) and HP_VM_HUGEPAGES (N0,N1 as asked).
  --tap            the command prints TAP: a skipped lane prints "1..0 # SKIP reason" and exits
                   0, a guest that never ran the command prints "Bail out! reason"
Devices (single guest only; each at a fixed PCI address, set up before any other device):
  --iommu          an emulated Intel IOMMU (intel-iommu,aw-bits=48) and intel_iommu=on: every
                   device has an IOMMU group and vfio-pci works
  --edu            qemu's edu DMA device (dma_mask=0xffffffffffffffff) at 0000:00:04.0
  --vnet N         N modern virtio-net devices (disable-legacy=on,iommu_platform=on) at
                   0000:00:05.0, 0000:00:06.0, ..., MACs 52:54:00:00:10:01, :02, ...; each
                   backend is a qemu socket netdev listening on 127.0.0.1 (TCP; every frame is
                   a 4-byte big-endian length, then the frame's bytes)
  --virtio-net-socket PORT   one more such device, its backend listening on PORT (repeatable)
  --vnet-port-base P   the --vnet devices listen on P, P+1, ... (default: free ports)
  --vnet-no-iommu-platform   the virtio-net devices without iommu_platform: they ignore the
                   IOMMU and take physical addresses
  --host-cmd CMD   a shell command (bash -c) run on the host once the guest's sockets listen,
                   with HP_VM_VNET_PORTS, HP_VM_VNET_MACS and HP_VM_SHARED set; its output goes
                   to stderr, and a failure fails the run; killed when the guest ends
The guest's kernel drivers load for these devices (virtio_net takes the virtio-net devices;
vfio, vfio-pci, uio and uio_pci_generic are loaded and bind nothing by themselves). Commands see
HP_VM_IOMMU (1 or 0), HP_VM_EDU (its address, or empty), HP_VM_VNET (addresses, comma-separated),
HP_VM_VNET_PORTS (host ports, same order), HP_VM_VNET_MACS and HP_VM_VNET_IFS (the interface
the kernel gave each device at boot, or empty).
Environment: HP_VM_ACCEL=kvm uses KVM (default tcg), HP_VM_ASSETS=DIR (see --assets).
EOF
	exit 2
}

HUGE=128,128
GIB=0,0
TIMEOUT=600
ASSETS=${HP_VM_ASSETS:-}
KEEP=0
TAP=0
TWO=0
CMD_A=""
CMD_B=""
IOMMU=0
EDU=0
VNET_PORTS=()      # one entry per virtio-net device: a port, or "auto"
VNET_BASE=""
VNET_PLATFORM=1
HOST_CMD=""
EXTRA_ARGS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--huge) HUGE=$2; shift 2 ;;
	--gib) GIB=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--assets) ASSETS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--kernel-args) EXTRA_ARGS=$2; shift 2 ;;
	--tap) TAP=1; shift ;;
	--two-host) TWO=1; shift ;;
	--cmd-a) CMD_A=$2; shift 2 ;;
	--cmd-b) CMD_B=$2; shift 2 ;;
	--iommu) IOMMU=1; shift ;;
	--edu) EDU=1; shift ;;
	--vnet)
		[[ "$2" =~ ^[0-9]+$ ]] || { echo "run.sh: --vnet wants a number of devices" >&2; exit 2; }
		for ((i = 0; i < $2; i++)); do VNET_PORTS+=(auto); done
		shift 2 ;;
	--virtio-net-socket)
		[[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] && [ "$2" -lt 65536 ] ||
			{ echo "run.sh: --virtio-net-socket wants a TCP port" >&2; exit 2; }
		VNET_PORTS+=("$2"); shift 2 ;;
	--vnet-port-base)
		[[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] && [ "$2" -lt 65500 ] ||
			{ echo "run.sh: --vnet-port-base wants a TCP port" >&2; exit 2; }
		VNET_BASE=$2; shift 2 ;;
	--vnet-no-iommu-platform) VNET_PLATFORM=0; shift ;;
	--host-cmd) HOST_CMD=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) break ;;
	esac
done
if [ "$TWO" = 1 ]; then
	[ -n "$CMD_A" ] && [ -n "$CMD_B" ] || usage
	[ "$IOMMU$EDU${#VNET_PORTS[@]}" = 000 ] && [ -z "$HOST_CMD" ] ||
		{ echo "run.sh: --iommu, --edu, --vnet and --host-cmd are for a single guest, not --two-host" >&2; exit 2; }
else
	[ $# -gt 0 ] || usage
fi
[[ "$HUGE" =~ ^[0-9]+,[0-9]+$ ]] || { echo "run.sh: --huge wants N0,N1 (pages of 2 MiB per node)" >&2; exit 2; }
[[ "$GIB" =~ ^[0-4],[0-4]$ ]] || { echo "run.sh: --gib wants N0,N1 (pages of 1 GiB per node, 0 to 4)" >&2; exit 2; }
# Node sizes in GiB: 1 for the kernel, the programs and the 2 MiB pages. The kernel takes 1 GiB
# pages at boot from free 1 GiB-aligned ranges of the node; the first ones hold the kernel, the
# initramfs and the node's own data (node 0 has 2 GiB below the PCI hole), so a node with such
# pages gets 3 GiB more than it has pages. nokaslr keeps the kernel image at the bottom.
gib_node_mem() { [ "$1" = 0 ] && echo 1 || echo $((3 + $1)); }
MEM0=$(gib_node_mem "${GIB%,*}") MEM1=$(gib_node_mem "${GIB#*,}")
BOOT_ARGS=""
[ "$GIB" = 0,0 ] || BOOT_ARGS="nokaslr hugepagesz=1G hugepages=0:${GIB%,*},1:${GIB#*,}"
BOOT_ARGS="$BOOT_ARGS $EXTRA_ARGS"
[ ${#VNET_PORTS[@]} -le 8 ] || { echo "run.sh: at most 8 virtio-net devices (slots 05 to 0c)" >&2; exit 2; }

# The cache lives in a build directory: the current one, the one holding the command, or ./build.
build_dir_of() {
	local d
	d=$(cd "$(dirname "$1")" 2>/dev/null && pwd) || return 1
	while [ "$d" != / ]; do
		[ -d "$d/meson-private" ] && { echo "$d"; return 0; }
		d=$(dirname "$d")
	done
	return 1
}
if [ -z "$ASSETS" ]; then
	if [ -d meson-private ]; then ASSETS=$PWD/vm-assets
	elif [ $# -gt 0 ] && b=$(build_dir_of "$1"); then ASSETS=$b/vm-assets
	elif [ -d build/meson-private ]; then ASSETS=$PWD/build/vm-assets
	else ASSETS=${XDG_CACHE_HOME:-$HOME/.cache}/hugepool-vm
	fi
fi
case "$PWD/" in /proc/*|/sys/*|/dev/*)
	echo "run.sh: the guest mounts its own $PWD; run from a directory outside /proc, /sys, /dev" >&2
	exit 2 ;;
esac
# skip REASON: the lane cannot run here at all (exit 77, or a TAP skip with --tap).
skip() {
	echo "vm lane skipped: $*" >&2
	[ "$TAP" = 1 ] && { echo "1..0 # SKIP $*"; exit 0; }
	exit 77
}
"$HERE/prepare.sh" "$ASSETS"
rc=$?
[ "$rc" = 77 ] && skip "$(cat "$ASSETS/skip-reason" 2>/dev/null)"
[ "$rc" = 0 ] || exit "$rc"
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not found"

# TCG by default: a /dev/kvm may exist where nested KVM does not work (seen here: qemu aborts).
ACCEL=${HP_VM_ACCEL:-tcg}
if [ "$ACCEL" = kvm ]; then ACCEL_ARGS=(-accel kvm -cpu host); else ACCEL_ARGS=(-accel tcg,thread=multi -cpu max); fi

mkdir -p "$ASSETS/runs"
RUN=$(mktemp -d "$ASSETS/runs/run.XXXXXX") || exit 1
cleanup() {
	local p
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null; done
	if [ "$KEEP" = 1 ]; then echo "run.sh: run folder kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RUN/shared"

# write_job NAME MODE ADDR PEER CMD...: the guest's job folder and its job.env.
write_job() {
	local name=$1 mode=$2 addr=$3 peer=$4
	shift 4
	mkdir -p "$RUN/$name"
	{
		echo "HP_VM_MODE=$mode"
		echo "HP_VM_ADDR=$addr"
		echo "HP_VM_PEER=$peer"
		echo "HP_VM_SHARED=$(printf '%q' "$RUN/shared")"
		echo "HP_VM_CWD=$(printf '%q' "$PWD")"
		echo "HP_VM_HUGE=(${HUGE/,/ })"
		echo "HP_VM_GIB=(${GIB/,/ })"
		echo "HP_VM_IOMMU=$IOMMU"
		echo "HP_VM_EDU=$EDU_ADDR"
		echo "HP_VM_VNET=$(IFS=,; echo "${VNET_ADDRS[*]}")"
		echo "HP_VM_VNET_PORTS=$(IFS=,; echo "${VNET_PORTS[*]}")"
		echo "HP_VM_VNET_MACS=$(IFS=,; echo "${VNET_MACS[*]}")"
		printf 'HP_VM_CMD=('
		printf '%q ' "$@"
		echo ')'
	} >"$RUN/$name/job.env"
}

# Trees the guest sees again at their own paths over 9p (the guest's tmpfs over /tmp and /run
# would hide them): the source tree and the current directory read-only, the run folder
# writable. A tree inside another one listed is left out; parents are mounted first.
SRC=$(cd "$HERE/../.." && pwd)
SHARES=()
add_share() { # add_share PATH
	local s
	[ "$1" = / ] && return
	for s in "${SHARES[@]}"; do
		case "$1/" in "$s"/*) return ;; esac
	done
	SHARES+=("$1")
}
for d in "$SRC" "$PWD"; do add_share "$d"; done
VIRTFS=()
for i in "${!SHARES[@]}"; do
	# qemu options are comma-separated: a comma in a path is written twice
	VIRTFS+=(-virtfs "local,path=${SHARES[$i]//,/,,},mount_tag=tree$i,security_model=none,readonly=on,multidevs=remap")
done

# write_boot NAME: what init.sh reads from the run folder before anything else is mounted (the
# kernel command line cannot carry paths with blanks): guest.sh, the run folder, then one
# "TAG PATH" line per shared tree.
write_boot() {
	local i
	{
		echo "$HERE/guest.sh"
		echo "$RUN"
		for i in "${!SHARES[@]}"; do
			echo "tree$i ${SHARES[$i]}"
		done
	} >"$RUN/$1/boot"
}

# start_guest NAME [QEMU ARGS...]: boots one guest in the background; its pid goes to PIDS.
start_guest() {
	local name=$1
	shift
	write_boot "$name"
	# The caller's devices come first: their fixed PCI slots are then free, and the 9p devices
	# (no address given) take the slots left.
	timeout -k 10 "$TIMEOUT" "$QEMU" "${ACCEL_ARGS[@]}" -machine q35 -nographic -no-reboot "$@" \
		-smp 2 -m $((MEM0 + MEM1))G \
		-object memory-backend-ram,size=${MEM0}G,id=m0 \
		-object memory-backend-ram,size=${MEM1}G,id=m1 \
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
		-kernel "$ASSETS/vmlinuz" -initrd "$ASSETS/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1 hp_name=$name $BOOT_ARGS" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=${RUN//,/,,},mount_tag=job,security_model=none" "${VIRTFS[@]}" \
		-serial "file:$RUN/$name/console.log" -monitor none \
		>"$RUN/$name/qemu.log" 2>&1 </dev/null &
	PIDS="${PIDS:-} $!"
	eval "PID_$name=$!"
}

# finish NAME LABEL: waits for the guest, prints its outputs; returns the command's status.
finish() {
	local name=$1 label=$2 pid rc st dir=$RUN/$1
	pid=$(eval echo "\$PID_$name")
	wait "$pid"
	rc=$?
	if [ -f "$dir/stdout" ]; then
		[ -n "$label" ] && echo "----- $label stdout -----"
		cat "$dir/stdout"
	fi
	if [ -s "$dir/stderr" ]; then
		[ -n "$label" ] && echo "----- $label stderr -----" >&2
		cat "$dir/stderr" >&2
	fi
	if [ -f "$dir/status" ]; then
		st=$(cat "$dir/status")
		[ -n "$label" ] && echo "----- $label exit status $st -----" >&2
		return "$st"
	fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "run.sh: ${label:-guest} did not finish within $TIMEOUT s (--timeout); killed." >&2
	elif [ -f "$dir/setup-error" ]; then
		cat "$dir/setup-error" >&2
	else
		echo "run.sh: ${label:-guest} ended without a status (qemu exit $rc)" >&2
	fi
	echo "----- last lines of ${label:-the guest}'s console and qemu log -----" >&2
	tail -n 25 "$dir/console.log" "$dir/qemu.log" >&2 2>/dev/null
	[ "$TAP" = 1 ] && echo "Bail out! ${label:-the guest} never ran the command (see stderr)"
	return 1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# device_args: DEV_ARGS (qemu options) for --iommu, --edu and the virtio-net devices, whose
# ports ("auto" ones chosen now), addresses and MACs end up in VNET_PORTS, VNET_ADDRS, VNET_MACS.
EDU_ADDR=""
VNET_ADDRS=()
VNET_MACS=()
DEV_ARGS=()
device_args() {
	local i port slot mac platform=""
	# intel-iommu before every other PCI device; aw-bits=48 so that IOVA = any user address
	[ "$IOMMU" = 1 ] && DEV_ARGS+=(-device "intel-iommu,aw-bits=48")
	if [ "$EDU" = 1 ]; then
		# edu masks DMA to 28 bits unless told otherwise
		DEV_ARGS+=(-device "edu,dma_mask=0xffffffffffffffff,addr=04.0")
		EDU_ADDR=0000:00:04.0
	fi
	[ "$VNET_PLATFORM" = 1 ] && platform=,iommu_platform=on
	for i in "${!VNET_PORTS[@]}"; do
		port=${VNET_PORTS[$i]}
		if [ "$port" = auto ]; then
			if [ -n "$VNET_BASE" ]; then port=$((VNET_BASE + i)); else port=$(free_port) || return 1; fi
			VNET_PORTS[$i]=$port
		fi
		slot=$(printf '%02x' $((5 + i)))
		mac=$(printf '52:54:00:00:10:%02x' $((1 + i)))
		VNET_ADDRS+=("0000:00:$slot.0")
		VNET_MACS+=("$mac")
		DEV_ARGS+=(-netdev "socket,id=vn$i,listen=127.0.0.1:$port"
		           -device "virtio-net-pci,netdev=vn$i,disable-legacy=on$platform,addr=$slot.0,mac=$mac")
	done
}

# wait_listen PORT...: until qemu listens on each port (never probe one by connecting: qemu's
# socket netdev takes one peer).
wait_listen() {
	local p
	for p in "$@"; do
		for _ in $(seq 100); do
			ss -ltn 2>/dev/null | grep -q "127.0.0.1:$p " && break
			sleep 0.1
		done
	done
}

T0=$(date +%s)
if [ "$TWO" = 0 ]; then
	device_args || exit 1
	[ "$IOMMU" = 1 ] && BOOT_ARGS="$BOOT_ARGS intel_iommu=on"
	write_job a single 10.77.0.1 "" "$@"
	start_guest a "${DEV_ARGS[@]}" -nic none
	HOST_PID=""
	if [ -n "$HOST_CMD" ]; then
		wait_listen "${VNET_PORTS[@]}"
		HP_VM_VNET_PORTS=$(IFS=,; echo "${VNET_PORTS[*]}") HP_VM_VNET_MACS=$(IFS=,; echo "${VNET_MACS[*]}") \
			HP_VM_SHARED=$RUN/shared bash -c "$HOST_CMD" >"$RUN/host.log" 2>&1 </dev/null &
		HOST_PID=$!
		PIDS="$PIDS $HOST_PID"
	fi
	finish a ""
	rc=$?
	if [ -n "$HOST_PID" ]; then
		# the host command had the guest's whole life; one that still runs now has failed
		kill -0 "$HOST_PID" 2>/dev/null && sleep 2
		kill "$HOST_PID" 2>/dev/null
		wait "$HOST_PID"
		hrc=$?
		echo "----- host command (exit status $hrc) -----" >&2
		cat "$RUN/host.log" >&2
		if [ "$hrc" != 0 ]; then
			[ "$TAP" = 1 ] && echo "Bail out! the host command (--host-cmd) failed with status $hrc"
			[ "$rc" = 0 ] && rc=1
		fi
	fi
else
	PORT=$(free_port) || exit 1
	write_job a a 10.78.0.1 10.78.0.2 bash -c "$CMD_A"
	write_job b b 10.78.0.2 10.78.0.1 bash -c "$CMD_B"
	start_guest a -netdev "socket,id=n0,listen=127.0.0.1:$PORT" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01
	wait_listen "$PORT" # B connects to A's listening socket
	start_guest b -netdev "socket,id=n0,connect=127.0.0.1:$PORT" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02
	finish a "guest A (10.78.0.1)"
	rc_a=$?
	finish b "guest B (10.78.0.2)"
	rc_b=$?
	rc=$rc_a
	[ "$rc" = 0 ] && rc=$rc_b
fi
echo "run.sh: $([ "$TWO" = 1 ] && echo two guests || echo guest) ran for $(( $(date +%s) - T0 )) s ($ACCEL)" >&2
exit "$rc"
