#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs inside the guest, chrooted into the host's userland (started by init.sh): reserves
# hugepages per node, brings up the network and the rxe soft-RoCE device, then runs the
# command of JOB/job.env from its directory. Writes JOB/setup.log, JOB/stdout, JOB/stderr and
# JOB/status (the command's exit status) or JOB/setup-error (why the command never ran).
# Usage (by init.sh): guest.sh JOB
JOB=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

fail() {
	echo "guest setup: $*" >"$JOB/setup-error"
	exit 1
}
log() { echo "$*" >>"$JOB/setup.log"; }

# shellcheck source=/dev/null
. "$JOB/job.env" || fail "cannot read $JOB/job.env"

reserve_hugepages() {
	local i n got f
	for i in "${!HP_VM_HUGE[@]}"; do
		n=${HP_VM_HUGE[$i]}
		f=/sys/devices/system/node/node$i/hugepages/hugepages-2048kB/nr_hugepages
		[ -e "$f" ] || fail "node $i does not exist in the guest (see -numa in run.sh)"
		echo "$n" >"$f" 2>/dev/null
		got=$(cat "$f")
		[ "$got" = "$n" ] || fail "node $i: asked $n hugepages of 2 MiB, the kernel gave $got"
		log "node $i: $got hugepages of 2 MiB"
	done
	# 1 GiB pages come from the kernel command line, which falls back to another node silently
	for i in "${!HP_VM_GIB[@]}"; do
		got=$(cat /sys/devices/system/node/node$i/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null || echo 0)
		[ "$got" = "${HP_VM_GIB[$i]}" ] ||
			fail "node $i: asked ${HP_VM_GIB[$i]} hugepages of 1 GiB at boot, the kernel gave $got"
	done
}

wait_rxe_active() {
	local i
	for i in $(seq 100); do
		rdma link show rxe0/1 2>/dev/null | grep -q 'state ACTIVE' && return 0
		sleep 0.1
	done
	fail "rxe0 port 1 is not ACTIVE: $(rdma link show 2>&1)"
}

setup_network() {
	ip link set lo up
	if [ "$HP_VM_MODE" = single ]; then
		ip link add veth0 type veth peer name veth1 || fail "cannot create veth0/veth1"
		ip link set veth0 up && ip link set veth1 up
		ip addr add "$HP_VM_ADDR/24" dev veth0
		rdma link add rxe0 type rxe netdev veth0 || fail "rdma link add rxe0 on veth0 failed"
	else
		ip link set eth0 up || fail "no eth0 (virtio-net) in the guest"
		ip addr add "$HP_VM_ADDR/24" dev eth0
		rdma link add rxe0 type rxe netdev eth0 || fail "rdma link add rxe0 on eth0 failed"
	fi
	wait_rxe_active
	log "rxe0 on $( [ "$HP_VM_MODE" = single ] && echo veth0 || echo eth0 ) $HP_VM_ADDR: ACTIVE"
}

# HP_VM_VNET_IFS: the interface the kernel's virtio_net gave each device of HP_VM_VNET.
vnet_interfaces() {
	local a n ifs=() IFS=,
	for a in $HP_VM_VNET; do
		n=""
		for n in /sys/bus/pci/devices/"$a"/virtio*/net/*; do n=${n##*/}; break; done
		[ "$n" = "*" ] && n=""
		ifs+=("$n")
	done
	HP_VM_VNET_IFS="${ifs[*]}"
	[ "$HP_VM_IOMMU" = 1 ] || [ -n "$HP_VM_EDU$HP_VM_VNET" ] &&
		log "devices: iommu=$HP_VM_IOMMU edu=$HP_VM_EDU virtio-net=$HP_VM_VNET ifs=$HP_VM_VNET_IFS"
}

log "kernel $(uname -r), nodes online $(cat /sys/devices/system/node/online), cpus $(nproc)"
reserve_hugepages
setup_network
vnet_interfaces
HP_VM_HUGEPAGES=$(IFS=,; echo "${HP_VM_HUGE[*]}")
export HP_VM_MODE HP_VM_ADDR HP_VM_PEER HP_VM_SHARED HP_VM_HUGEPAGES
export HP_VM_IOMMU HP_VM_EDU HP_VM_VNET HP_VM_VNET_PORTS HP_VM_VNET_MACS HP_VM_VNET_IFS
cd "$HP_VM_CWD" || fail "cannot enter $HP_VM_CWD"
"${HP_VM_CMD[@]}" >"$JOB/stdout" 2>"$JOB/stderr" </dev/null
echo $? >"$JOB/status"
