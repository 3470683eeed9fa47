#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Prepares the VM lane's guest assets from Debian packages only: Debian 12's own kernel
# (linux-image-6.1.0-*-amd64, unpacked, never installed), busybox-static, the modules the lane
# needs, and an initramfs with an /init that mounts the host's / over 9p and chroots into it.
# Cached in ASSETS_DIR (a build directory's vm-assets); a second run only checks a stamp.
# Usage: prepare.sh ASSETS_DIR      prints nothing on success; exit 77 when the lane cannot run.
set -euo pipefail

ASSETS=${1:?usage: prepare.sh ASSETS_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Modules in dependency order (no modules.dep ships in the package). crc32_generic before
# rdma_rxe ("failed to init crc32 algorithm"), configfs before rdma_cm (config_group_init).
# virtio_net takes the virtio-net devices at boot, as on a real machine; vfio-pci (with an
# IOMMU) and uio_pci_generic (without) are loaded for devices bound to them later.
MODULES="crypto/crc32_generic drivers/virtio/virtio_ring drivers/virtio/virtio
drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p
net/ipv4/udp_tunnel net/ipv6/ip6_udp_tunnel drivers/infiniband/core/ib_core
drivers/infiniband/core/ib_uverbs drivers/infiniband/sw/rxe/rdma_rxe drivers/net/veth
fs/configfs/configfs drivers/infiniband/core/ib_cm drivers/infiniband/core/iw_cm
drivers/infiniband/core/rdma_cm drivers/infiniband/core/rdma_ucm
net/core/failover drivers/net/net_failover drivers/net/virtio_net
virt/lib/irqbypass drivers/vfio/vfio drivers/vfio/vfio_iommu_type1 drivers/vfio/vfio_virqfd
drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci drivers/uio/uio drivers/uio/uio_pci_generic"

# Host packages: qemu and the initramfs tools, and the userland the guest borrows from the host
# over 9p (ip, rdma, ibv_devices, rping, python3 for the hp-info check).
HOST_PKGS="qemu-system-x86 busybox-static cpio rdma-core ibverbs-providers ibverbs-utils
rdmacm-utils iproute2 kmod python3"

skip() {
	echo "$*" >"$ASSETS/skip-reason"
	echo "vm lane skipped: $*" >&2
	exit 77
}

ensure_host_packages() {
	local want="" p
	for p in $HOST_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			want="$want $p"
	done
	[ -z "$want" ] && return 0
	echo "prepare: installing host packages:$want" >&2
	if ! { apt-get install -y --no-install-recommends $want >&2 ||
	       { apt-get update >&2 && apt-get install -y --no-install-recommends $want >&2; }; }; then
		[ -x /usr/bin/qemu-system-x86_64 ] ||
			skip "qemu-system-x86_64 is missing and apt-get could not install qemu-system-x86"
		echo "prepare: could not install:$want (the guest lacks these tools)" >&2
	fi
}

kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1
}

build_initramfs() {
	local kver=$1 root=$ASSETS/initramfs.d m
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,host,modules}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	for m in $MODULES; do
		cp "$ASSETS/kernel/lib/modules/$kver/kernel/$m.ko" "$root/modules/"
		echo "${m##*/}" >>"$root/modules/order"
	done
	install -m 0755 "$HERE/init.sh" "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$ASSETS/initramfs.gz.new"
	mv "$ASSETS/initramfs.gz.new" "$ASSETS/initramfs.gz"
	rm -rf "$root"
}

main() {
	local pkg stamp deb kver m

	mkdir -p "$ASSETS"
	exec 9>"$ASSETS/.lock"
	flock 9 # one preparation at a time; the others then find the stamp
	rm -f "$ASSETS/skip-reason"
	ensure_host_packages
	command -v apt-cache >/dev/null || skip "apt-cache is missing: the kernel comes from Debian's linux-image-amd64"
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		apt-get update >&2 || true
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ] && [ -f "$ASSETS/stamp" ] && [ -f "$ASSETS/vmlinuz" ]; then
		echo "prepare: apt knows no 6.1 kernel now; using the cached $(cut -d' ' -f1 "$ASSETS/stamp")" >&2
		return 0
	fi
	[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-amd64 package known to apt (linux-image-amd64 has no 6.1 dependency)"
	stamp="$pkg $(cat "$HERE/prepare.sh" "$HERE/init.sh" | md5sum | cut -d' ' -f1)"
	if [ -f "$ASSETS/stamp" ] && [ "$(cat "$ASSETS/stamp")" = "$stamp" ] &&
	   [ -f "$ASSETS/vmlinuz" ] && [ -f "$ASSETS/initramfs.gz" ]; then
		return 0
	fi
	echo "prepare: building guest assets for $pkg in $ASSETS" >&2
	rm -f "$ASSETS/stamp" "$ASSETS"/*.deb
	(cd "$ASSETS" && apt-get download "$pkg" >&2 2>/dev/null) ||
		(apt-get update >&2 && cd "$ASSETS" && apt-get download "$pkg" >&2 2>/dev/null) ||
		skip "apt-get download $pkg failed (no Debian mirror reachable?)"
	deb=$(ls "$ASSETS/${pkg}"_*.deb | head -n1)
	kver=${pkg#linux-image-}
	rm -rf "$ASSETS/kernel"
	mkdir -p "$ASSETS/kernel"
	local paths=("./boot/vmlinuz-$kver")
	for m in $MODULES; do
		paths+=("./lib/modules/$kver/kernel/$m.ko")
	done
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$ASSETS/kernel" "${paths[@]}"
	cp "$ASSETS/kernel/boot/vmlinuz-$kver" "$ASSETS/vmlinuz"
	build_initramfs "$kver"
	rm -rf "$deb" "$ASSETS/kernel"
	echo "$stamp" >"$ASSETS/stamp"
}

main
