#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The host's side of the device guest's frame check (run by run.sh --host-cmd): connects to each
# virtio-net device's socket (HP_VM_VNET_PORTS), waits until the guest has its interfaces up
# (HP_VM_SHARED/guest-ready), sends one test frame into each device, and checks that the frame
# the guest sends back out of the same device arrives byte-exact; writes HP_VM_SHARED/host-got-N
# for each device whose frame arrived, so the guest can report it.
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnet_wire  # noqa: E402


def main():
    ports = [p for p in os.environ.get("HP_VM_VNET_PORTS", "").split(",") if p]
    macs = [m for m in os.environ.get("HP_VM_VNET_MACS", "").split(",") if m]
    shared = os.environ.get("HP_VM_SHARED", "")
    if not ports or len(macs) != len(ports) or not shared:
        print("vnet_host: HP_VM_VNET_PORTS, HP_VM_VNET_MACS and HP_VM_SHARED are set by run.sh")
        return 2
    socks = [vnet_wire.connect(p) for p in ports]
    deadline = time.monotonic() + 600
    while not os.path.exists(os.path.join(shared, "guest-ready")):
        if time.monotonic() > deadline:
            print("vnet_host: the guest never wrote guest-ready")
            return 1
        time.sleep(0.2)
    for i, s in enumerate(socks):
        frame = vnet_wire.test_frame(vnet_wire.mac_bytes(macs[i]), vnet_wire.HOST_MAC,
                                     b"host->guest %d" % i, 60 + 400 * i)
        vnet_wire.send_frame(s, frame)
    rc = 0
    for i, s in enumerate(socks):
        want = vnet_wire.test_frame(vnet_wire.HOST_MAC, vnet_wire.mac_bytes(macs[i]),
                                    b"guest->host %d" % i, 1514)
        s.settimeout(300)
        try:
            while True:
                got = vnet_wire.recv_frame(s)
                if got[12:14] == want[12:14]:
                    break
        except (socket.timeout, EOFError) as e:
            print(f"vnet_host: device {i} (port {ports[i]}): no test frame from the guest: {e}")
            rc = 1
            continue
        if got != want:
            print(f"vnet_host: device {i}: the guest's frame differs ({len(got)} bytes, "
                  f"{len(want)} expected)")
            rc = 1
            continue
        print(f"vnet_host: device {i} (port {ports[i]}): frame from the guest byte-exact")
        with open(os.path.join(shared, f"host-got-{i}"), "w") as f:
            f.write("ok\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
