#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Checks, as TAP, that a guest booted with run.sh's device options has what they promise: the
# edu device and each virtio-net device at its address (HP_VM_EDU, HP_VM_VNET), virtio_net
# driving the virtio-net devices, an IOMMU group of its own for each with --iommu (none
# without), the vfio-pci and uio_pci_generic drivers and /dev/vfio/vfio; and, with
# test/vm/vnet_host.py on the host (run.sh --host-cmd), one frame each way through every
# virtio-net device, byte-exact.
# Usage: check_devices.py [--no-frames]
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tools")]
import tap  # noqa: E402 - test/tools/tap.py
import vnet_wire  # noqa: E402

PCI = "/sys/bus/pci/devices"
results = []


def case(name, ok, why=""):
    results.append((name, ok, why if not ok else ""))


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link_name(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else None


def env_list(name):
    return [x for x in os.environ.get(name, "").split(",")]


def check_device(addr, what, vendor, device, driver):
    d = f"{PCI}/{addr}"
    ids = (read(d + "/vendor"), read(d + "/device"))
    case(f"{what} at {addr} is {vendor}:{device}", ids == ("0x" + vendor, "0x" + device),
         f"{d}: vendor:device {ids}")
    if driver is not None:
        got = link_name(d + "/driver")
        case(f"{what} at {addr} is driven by {driver}", got == driver, f"driver: {got}")
    group = link_name(d + "/iommu_group")
    if os.environ.get("HP_VM_IOMMU") == "1":
        members = os.listdir(f"/sys/kernel/iommu_groups/{group}/devices") if group else []
        case(f"{what} at {addr} is alone in its IOMMU group", members == [addr],
             f"group {group}: {members}")
    else:
        case(f"{what} at {addr} has no IOMMU group (no --iommu)", group is None,
             f"group {group}")


def check_frames(vnets, ifs, macs):
    shared = os.environ.get("HP_VM_SHARED", "")
    socks = []
    for i, name in enumerate(ifs):
        subprocess.run(["ip", "link", "set", name, "up"], check=False)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((name, 0))
        s.settimeout(300)
        socks.append(s)
    with open(os.path.join(shared, "guest-ready"), "w") as f:
        f.write("ready\n")
    for i, s in enumerate(socks):
        mac = vnet_wire.mac_bytes(macs[i])
        want = vnet_wire.test_frame(mac, vnet_wire.HOST_MAC, b"host->guest %d" % i, 60 + 400 * i)
        got = None
        try:
            while got != want:
                got, addr = s.recvfrom(65536)
                if got[12:14] != want[12:14]:
                    continue
                break
        except socket.timeout:
            pass
        case(f"a frame sent by the host into {vnets[i]} arrives on {ifs[i]} byte-exact",
             got == want, f"received {len(got) if got else 'nothing'} ({len(want)} sent)")
        s.send(vnet_wire.test_frame(vnet_wire.HOST_MAC, mac, b"guest->host %d" % i, 1514))
    for i in range(len(socks)):
        flag = os.path.join(shared, f"host-got-{i}")
        deadline = time.monotonic() + 120
        while not os.path.exists(flag) and time.monotonic() < deadline:
            time.sleep(0.2)
        case(f"a frame sent out of {ifs[i]} reaches the host byte-exact", os.path.exists(flag),
             "the host never confirmed it (see the host command's output)")
    for s in socks:
        s.close()
    for name in ifs:
        subprocess.run(["ip", "link", "set", name, "down"], check=False)


def main():
    edu = os.environ.get("HP_VM_EDU", "")
    vnets = [a for a in env_list("HP_VM_VNET") if a]
    ifs = env_list("HP_VM_VNET_IFS")[:len(vnets)]
    macs = env_list("HP_VM_VNET_MACS")[:len(vnets)]
    if not edu and not vnets:
        print("1..0 # SKIP no --edu or --vnet devices in this guest (run.sh device options)")
        return 0
    if edu:
        check_device(edu, "edu", "1234", "11e8", None)
    for i, a in enumerate(vnets):
        check_device(a, "virtio-net", "1af4", "1041", "virtio-pci")
        name = ifs[i] if i < len(ifs) else ""
        mac = read(f"/sys/class/net/{name}/address") if name else None
        case(f"virtio_net made interface {name or '?'} for {a} with MAC {macs[i]}",
             mac == macs[i], f"address of '{name}': {mac}")
    case("/dev/vfio/vfio exists (vfio loaded)", os.path.exists("/dev/vfio/vfio"))
    for drv in ("vfio-pci", "uio_pci_generic"):
        case(f"the {drv} driver is registered", os.path.isdir(f"/sys/bus/pci/drivers/{drv}"))
    if vnets and "--no-frames" not in sys.argv[1:] and all(ifs):
        check_frames(vnets, ifs, macs)
    return tap.report(results)


if __name__ == "__main__":
    sys.exit(main())
