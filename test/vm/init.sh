#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the VM lane's initramfs (busybox sh): loads the modules in /modules/order, mounts the
# run folder (9p tag "job", writable) at /job and reads this guest's JOB/boot (written by run.sh:
# guest.sh's path, the run folder's path, then "TAG PATH" per shared tree), mounts the host's /
# (9p tag "host", read-only) at /host with tmpfs over /tmp and /run, then each shared tree and
# the run folder at their own paths inside it, and chroots into the host's userland to run
# guest.sh. Kernel argument: hp_name=NAME (this guest's job folder in the run folder).
# Always ends in poweroff.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

say() { echo "hp-vm-init: $*" >/dev/console; }
die() {
	say "$*"
	[ -n "$NAME" ] && [ -d "/job/$NAME" ] && echo "guest setup: $*" >"/job/$NAME/setup-error"
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
	hp_name=*) NAME=${arg#hp_name=} ;;
	esac
done
[ -n "$NAME" ] || die "kernel argument hp_name= is required"

o=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /job
mount -t 9p -o "$o" job /job || die "cannot mount the run folder over 9p (9p modules:$failed)"
[ -f "/job/$NAME/boot" ] || die "no $NAME/boot in the run folder"
{ read -r GUEST; read -r RUN; } <"/job/$NAME/boot"
mount -t 9p -o "$o,ro" host /host || die "cannot mount the host's / over 9p"
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
# Shared trees (parents first), then the run folder: all at the paths they have on the host.
tail -n +3 "/job/$NAME/boot" | while read -r tag path; do
	mkdir -p "/host$path" 2>/dev/null
	mount -t 9p -o "$o,ro" "$tag" "/host$path" || die "cannot mount $path (9p tag $tag)"
done
mkdir -p "/host$RUN" 2>/dev/null
mount -o bind /job "/host$RUN" || die "cannot mount the run folder at $RUN"

chroot /host /bin/bash "$GUEST" "$RUN/$NAME" </dev/console >/dev/console 2>&1
sync
poweroff -f
