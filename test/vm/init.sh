#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the VM lane's initramfs (busybox sh): loads the modules in /modules/order, mounts the
# host's / (9p tag "host", read-only) at /host and the run folder (9p tag "job", writable, the
# parent of this guest's job folder) at its own path inside it, then chroots into the host's
# userland to run guest.sh. Kernel arguments: hp_guest=PATH (guest.sh) hp_job=PATH (this guest's
# job folder). Always ends in poweroff.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

say() { echo "hp-vm-init: $*" >/dev/console; }
die() {
	say "$*"
	[ -n "$JOB" ] && [ -d "/host$JOB" ] && echo "guest setup: $*" >"/host$JOB/setup-error"
	sync
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Two passes: a module whose dependency sits later in the list loads the second time.
failed=$(cat /modules/order)
for pass in 1 2; do
	again=""
	for m in $failed; do
		insmod "/modules/$m.ko" 2>/dev/null || again="$again $m"
	done
	failed=$again
done
[ -n "$failed" ] && say "modules that did not load:$failed"

for arg in $(cat /proc/cmdline); do
	case "$arg" in
	hp_guest=*) GUEST=${arg#hp_guest=} ;;
	hp_job=*) JOB=${arg#hp_job=} ;;
	esac
done
[ -n "$GUEST" ] && [ -n "$JOB" ] || die "kernel arguments hp_guest= and hp_job= are required"

o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$o,ro" host /host || die "cannot mount the host's / over 9p (9p modules:$failed)"
mount -t 9p -o "$o" job "/host${JOB%/*}" || die "cannot mount the run folder ${JOB%/*} over 9p"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm /host/dev/hugepages
mount -t devpts devpts /host/dev/pts
mount -t tmpfs shm /host/dev/shm
mount -t hugetlbfs hugetlbfs /host/dev/hugepages
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
[ -d /host/sys/kernel/config ] && mount -t configfs configfs /host/sys/kernel/config

chroot /host /bin/bash "$GUEST" "$JOB" </dev/console >/dev/console 2>&1
sync
poweroff -f
