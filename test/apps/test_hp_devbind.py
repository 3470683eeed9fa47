#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# hp-devbind as a user runs it. On any machine (read-only): --status --json against
# /sys/bus/pci read here, the table, short addresses, and bad input (a sentence, exit 2 for bad
# usage, 1 for a missing device or a user who is not root). With --vm, in a guest of the VM lane
# (run.sh --edu --vnet N, with or without --iommu): the edu device to vfio-pci (its /dev/vfio
# group appears) or, without an IOMMU, to uio_pci_generic (its /dev/uioN appears) and back;
# vfio-pci refused where there is no IOMMU group; a driver that does not take the device or does
# not exist leaves it as it was; a virtio-net device whose interface is up is refused without
# --force, taken with it, and given back to virtio-pci.
# Usage: test_hp_devbind.py HP_DEVBIND [--vm]; prints TAP.
import glob
import json
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import tap  # noqa: E402 - test/tools/tap.py
from tap import Skip  # noqa: E402

DEVBIND = os.path.abspath(sys.argv[1])
VM = "--vm" in sys.argv[2:]
PCI = "/sys/bus/pci/devices"
NOBODY = 65534
cases = []


def case(fn):
    cases.append(fn)
    return fn


def run(*args, user=None):
    pre = None
    if user is not None:
        def pre():
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)
    return subprocess.run([DEVBIND, *args], capture_output=True, text=True, timeout=120,
                          preexec_fn=pre)


def expect(p, rc, words=()):
    if p.returncode != rc:
        raise AssertionError(f"exit {p.returncode}, expected {rc}; stdout: {p.stdout.strip()!r}"
                             f"; stderr: {p.stderr.strip()!r}")
    for w in words:
        if w not in p.stderr + p.stdout:
            raise AssertionError(f"output lacks {w!r}: {p.stderr.strip()!r}")


def read(path):
    with open(path) as f:
        return f.read().strip()


def link(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else None


def status_json(*args):
    p = run("--status", "--json", *args)
    expect(p, 0)
    return json.loads(p.stdout)


def sysfs_netifs(addr):
    d = f"{PCI}/{addr}"
    return sorted(os.path.basename(n) for n in glob.glob(d + "/net/*") + glob.glob(d + "/*/net/*"))


def driver_of(addr):
    return link(f"{PCI}/{addr}/driver")


# ---- on any machine ----

@case
def status_json_matches_sysfs():
    doc = status_json()
    got = {d["address"]: d for d in doc["devices"]}
    want = sorted(os.listdir(PCI))
    if sorted(got) != want or len(got) != len(doc["devices"]):
        raise AssertionError(f"devices {sorted(got)}, sysfs has {want}")
    for a, d in got.items():
        s = f"{PCI}/{a}"
        cls = int(read(s + "/class"), 16)
        ids = (d["vendor"], d["device"], d["class"])
        if ids != (read(s + "/vendor")[2:], read(s + "/device")[2:], f"{cls:06x}"):
            raise AssertionError(f"{a}: ids {ids}")
        if d["driver"] != driver_of(a):
            raise AssertionError(f"{a}: driver {d['driver']}, sysfs {driver_of(a)}")
        group = link(s + "/iommu_group")
        if d["iommu_group"] != (int(group) if group else None):
            raise AssertionError(f"{a}: iommu_group {d['iommu_group']}, sysfs {group}")
        node = int(read(s + "/numa_node")) if os.path.exists(s + "/numa_node") else -1
        if d["numa_node"] != (node if node >= 0 else None):
            raise AssertionError(f"{a}: numa_node {d['numa_node']}, sysfs {node}")
        names = sorted(i["name"] for i in d["interfaces"])
        if names != sysfs_netifs(a):
            raise AssertionError(f"{a}: interfaces {names}, sysfs {sysfs_netifs(a)}")
        kind = ("network" if cls >> 16 == 2 or names else
                "other" if cls >> 16 == 6 or not d["memory_bar"] else "dma")
        if d["kind"] != kind:
            raise AssertionError(f"{a}: kind {d['kind']}, expected {kind}")
        for i in d["interfaces"]:
            flags = int(read(f"/sys/class/net/{i['name']}/flags"), 16)
            if i["up"] != bool(flags & 1):
                raise AssertionError(f"{a}: {i['name']} up={i['up']}, flags {flags:#x}")
    if doc["iommu"] != bool(os.listdir("/sys/kernel/iommu_groups")):
        raise AssertionError(f"iommu {doc['iommu']}")


@case
def status_table_lists_each_device_in_its_section():
    p = run()
    expect(p, 0)
    doc = status_json()
    section = None
    seen = {}
    for line in p.stdout.splitlines():
        for title, kind in (("Network devices", "network"), ("DMA-capable", "dma"),
                            ("Other devices", "other")):
            if line.startswith(title):
                section = kind
        words = line.split()
        if words and words[0].count(":") == 2:
            seen[words[0]] = (section, words[1], words[2])
    want = {d["address"]: (d["kind"], f"{d['vendor']}:{d['device']}", d["driver"] or "none")
            for d in doc["devices"]}
    if seen != want:
        raise AssertionError(f"table {seen}, JSON {want}")


@case
def status_of_short_addresses():
    doc = status_json()
    if not doc["devices"]:
        raise Skip("this machine has no PCI devices")
    a = doc["devices"][-1]["address"]
    if not a.startswith("0000:"):
        raise Skip(f"{a} is not in domain 0000")
    got = status_json(a[5:].upper())
    if [d["address"] for d in got["devices"]] != [a]:
        raise AssertionError(f"--status {a[5:].upper()}: {got}")


@case
def bad_addresses_exit_2():
    for bad in ("00:33.0", "zz:00.0", "0000:00:04", "1:2:3.4", "00:04.8", "00000:00:04.0", ""):
        expect(run("--status", bad), 2, ["is not a PCI address"])
        expect(run("--bind=vfio-pci", bad), 2, ["is not a PCI address"])


@case
def missing_device_exits_1():
    absent = next(f"0000:{b:02x}:1f.7" for b in range(0xff, 0, -1)
                  if not os.path.exists(f"{PCI}/0000:{b:02x}:1f.7"))
    expect(run("--status", absent), 1, ["there is no PCI device " + absent])
    expect(run("--unbind", absent), 1, ["there is no PCI device"])


@case
def bad_usage_exits_2():
    a = sorted(os.listdir(PCI))[0]
    expect(run("--bind=vfio-pci"), 2, ["needs the PCI addresses"])
    expect(run("--unbind"), 2, ["needs the PCI addresses"])
    expect(run("--bind=vfio-pci", "--unbind", a), 2, ["give one of"])
    expect(run("--json", "--unbind", a), 2, ["give one of"])
    expect(run("--bind=vfio pci", a), 2, ["not a driver's name"])
    expect(run("--bind=", a), 2, ["not a driver's name"])
    expect(run("--status", a, a[5:]), 2, ["given twice"])
    expect(run("--frobnicate"), 2, ["unknown option --frobnicate"])


@case
def not_root_exits_1_and_changes_nothing():
    if os.getuid() != 0:
        p = run("--unbind", sorted(os.listdir(PCI))[0])
        expect(p, 1, ["needs root"])
        return
    st = os.stat(DEVBIND)
    if not st.st_mode & stat.S_IXOTH:
        raise Skip(f"{DEVBIND} cannot be run by another user (mode {st.st_mode:o})")
    before = status_json()
    try:
        p = run("--bind=vfio-pci", before["devices"][0]["address"], user=NOBODY)
    except PermissionError as e:
        raise Skip(f"nobody cannot run {DEVBIND}: {e}")
    if p.returncode == 126 or "Permission denied" in p.stderr and "needs root" not in p.stderr:
        raise Skip(f"nobody cannot run {DEVBIND}: {p.stderr.strip()}")
    expect(p, 1, ["needs root"])
    expect(run("--json", user=NOBODY), 0)
    if status_json() != before:
        raise AssertionError("the devices changed")


# ---- in a guest of the VM lane ----

def vm_env():
    edu = os.environ.get("HP_VM_EDU", "")
    vnets = [a for a in os.environ.get("HP_VM_VNET", "").split(",") if a]
    ifs = os.environ.get("HP_VM_VNET_IFS", "").split(",")
    if not edu or not vnets:
        raise Skip("needs a guest of run.sh --edu --vnet N (HP_VM_EDU, HP_VM_VNET)")
    return edu, vnets, ifs, os.environ.get("HP_VM_IOMMU") == "1"


def wait_for(pred, what, seconds=30):
    end = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"{what} within {seconds} s")
        time.sleep(0.1)


def vm_case(fn):
    if VM:
        cases.append(fn)
    return fn


@vm_case
def edu_to_vfio_pci_and_back():
    edu, _, _, iommu = vm_env()
    if not iommu:
        expect(run("--bind=vfio-pci", edu), 1, ["has no IOMMU group", "uio_pci_generic"])
        if driver_of(edu) is not None:
            raise AssertionError(f"{edu} got driver {driver_of(edu)}")
        return
    group = link(f"{PCI}/{edu}/iommu_group")
    p = run("--bind=vfio-pci", edu[5:])  # the short form
    expect(p, 0, [f"/dev/vfio/{group}"])
    if driver_of(edu) != "vfio-pci":
        raise AssertionError(f"driver {driver_of(edu)}")
    wait_for(lambda: os.path.exists(f"/dev/vfio/{group}"), f"/dev/vfio/{group} appears")
    if not stat.S_ISCHR(os.stat(f"/dev/vfio/{group}").st_mode):
        raise AssertionError(f"/dev/vfio/{group} is not a character device")
    doc = status_json(edu)["devices"][0]
    if (doc["driver"], doc["kind"], doc["iommu_group"]) != ("vfio-pci", "dma", int(group)):
        raise AssertionError(f"--status: {doc}")
    expect(run("--bind=vfio-pci", edu), 0, ["already"])
    expect(run("--unbind", edu), 0, ["unbound from vfio-pci"])
    if driver_of(edu) is not None or read(f"{PCI}/{edu}/driver_override") != "(null)":
        raise AssertionError(f"after --unbind: driver {driver_of(edu)}, override "
                             f"{read(f'{PCI}/{edu}/driver_override')}")
    wait_for(lambda: not os.path.exists(f"/dev/vfio/{group}"), f"/dev/vfio/{group} goes")


@vm_case
def edu_to_uio_pci_generic_and_back():
    edu, _, _, iommu = vm_env()
    if iommu:
        raise Skip("uio_pci_generic is for the boot without --iommu (device-pa-guest)")
    p = run("--bind=uio_pci_generic", edu)
    expect(p, 0, ["bound to uio_pci_generic"])
    if driver_of(edu) != "uio_pci_generic":
        raise AssertionError(f"driver {driver_of(edu)}")
    uio = glob.glob(f"{PCI}/{edu}/uio/uio*")
    if len(uio) != 1:
        raise AssertionError(f"uio entries: {uio}")
    dev = "/dev/" + os.path.basename(uio[0])
    wait_for(lambda: os.path.exists(dev), f"{dev} appears")
    expect(run("--unbind", edu), 0)
    if driver_of(edu) is not None:
        raise AssertionError(f"driver {driver_of(edu)} after --unbind")


@vm_case
def interface_up_is_refused_without_force():
    _, vnets, ifs, iommu = vm_env()
    a, name = vnets[0], ifs[0]
    if not name:
        raise AssertionError(f"{a} has no interface (HP_VM_VNET_IFS={ifs})")
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    try:
        for args in (("--unbind", a), ("--bind=vfio-pci", a), ("--bind=uio_pci_generic", a)):
            expect(run(*args), 1, [name, "is up", "--force"])
            if driver_of(a) != "virtio-pci":
                raise AssertionError(f"{' '.join(args)} refused, yet driver is {driver_of(a)}")
        target = "vfio-pci" if iommu else "uio_pci_generic"
        expect(run("--force", f"--bind={target}", a), 0, [f"bound to {target} (was virtio-pci)"])
        if driver_of(a) != target or sysfs_netifs(a):
            raise AssertionError(f"driver {driver_of(a)}, interfaces {sysfs_netifs(a)}")
        expect(run("--bind=virtio-pci", a), 0, [f"bound to virtio-pci (was {target})"])
        wait_for(lambda: len(sysfs_netifs(a)) == 1, f"{a} gets a network interface again")
        doc = status_json(a)["devices"][0]
        if doc["driver"] != "virtio-pci" or doc["kind"] != "network":
            raise AssertionError(f"--status after binding back: {doc}")
    finally:
        subprocess.run(["ip", "link", "set", name, "down"], check=False)


@vm_case
def a_driver_that_refuses_or_is_missing():
    edu, _, _, _ = vm_env()
    # virtio-pci probes only virtio devices: the override is cleared, edu is left as it was
    expect(run("--bind=virtio-pci", edu), 1, ["did not bind it to virtio-pci", "dmesg"])
    override = read(f"{PCI}/{edu}/driver_override")
    if driver_of(edu) is not None or override != "(null)":
        raise AssertionError(f"after the refusal: driver {driver_of(edu)}, override {override}")
    expect(run("--bind=hp_no_such_driver", edu), 1, ["hp_no_such_driver driver is not loaded"])
    if driver_of(edu) is not None:
        raise AssertionError(f"driver {driver_of(edu)}")


@vm_case
def several_devices_at_once():
    _, vnets, _, iommu = vm_env()
    if len(vnets) < 2:
        raise Skip("needs two virtio-net devices (--vnet 2)")
    target = "vfio-pci" if iommu else "uio_pci_generic"
    expect(run(f"--bind={target}", *vnets), 0)
    if [driver_of(a) for a in vnets] != [target] * len(vnets):
        raise AssertionError(f"drivers {[driver_of(a) for a in vnets]}")
    expect(run("--bind=virtio-pci", *vnets), 0)
    if [driver_of(a) for a in vnets] != ["virtio-pci"] * len(vnets):
        raise AssertionError(f"drivers after binding back {[driver_of(a) for a in vnets]}")


if __name__ == "__main__":
    sys.exit(tap.run(cases))
