#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# vnet-fwd's command line on any machine (suite "unit"): the refusals it makes before touching a
# device or a hugepage, each a sentence and exit 2, and --help. Forwarding itself needs
# virtio-net devices given to vfio-pci or uio: the VM lane (vnet_fwd_guest.sh) tests that.
# Usage: test_vnet_fwd.py VNET-FWD; prints TAP.
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from tap import Skip, run  # noqa: E402 - test/tools/tap.py

FWD = sys.argv[1]
PCI = "/sys/bus/pci/devices"


def fwd(*args):
    p = subprocess.run([FWD, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def refused(args, text):
    rc, out, err = fwd(*args)
    assert rc == 2, f"exit {rc}, stderr: {err!r}"
    assert text in err, f"{text!r} not in stderr {err!r}"
    assert err.count("\n") == 1, f"one sentence wanted: {err!r}"


def help_lists_every_option():
    rc, out, _ = fwd("--help")
    assert rc == 0, f"exit {rc}"
    for opt in ("--dev", "--burst", "--stats", "--json"):
        assert opt in out, f"{opt} not in --help: {out!r}"


def no_device():
    refused([], "no device: frames received on one device go out of the other")


def not_a_pci_address():
    refused(["--dev", "eth0", "--dev", "eth1"], "'eth0' is not a PCI address")


def no_such_device():
    refused(["--dev", "0000:7f:1f.7"], "there is no PCI device 0000:7f:1f.7 on this machine")


def not_virtio_net():
    for addr in sorted(os.listdir(PCI)) if os.path.isdir(PCI) else []:
        with open(f"{PCI}/{addr}/vendor") as f, open(f"{PCI}/{addr}/device") as g:
            if (f.read().strip(), g.read().strip()) not in (("0x1af4", "0x1041"),
                                                            ("0x1af4", "0x1000")):
                refused(["--dev", addr], f"{addr} is not a virtio-net device")
                return
    raise Skip("no PCI device here that is not virtio-net")


def bad_burst():
    refused(["--burst", "0"], "--burst")


if __name__ == "__main__":
    sys.exit(run([help_lists_every_option, no_device, not_a_pci_address, no_such_device,
                  not_virtio_net, bad_burst]))
