#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The host's side of test/apps/vnet_fwd_guest.sh (run by test/vm/run.sh --host-cmd): connects to
# the sockets of the guest's two virtio-net devices (HP_VM_VNET_PORTS), and for each run K the
# guest announces (HP_VM_SHARED/ready-K) sends frames of mixed sizes (60 to 1514 bytes, all at
# once: far more than an rx queue holds) into both devices at the same time, and checks that
# exactly those frames, byte for byte and in order, come out of the other device. Writes the
# verdict to HP_VM_SHARED/done-K ("ok ..." or why not).
# --bench SECONDS (apps/vnet-fwd/bench.sh): one run; for 60- and 1514-byte frames, sends into
# device 0 as fast as the socket takes them for SECONDS and counts what comes out of device 1;
# done-1 gets one line "bench SIZE SENT-PER-S RECEIVED-PER-S" per size.
# Usage: vnet_fwd_host.py [FRAMES-RUN-1 [FRAMES-OTHER-RUNS]] | --bench SECONDS
import os
import random
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import vnet_wire  # noqa: E402

RUNS = 3
MAGIC = b"vnet-fwd"


def frames(run, direction, n, seed):
    """n frames for one direction of one run: sizes 60..1514 (both ends included), each
    carrying the run, the direction and its number, then bytes that change with all three."""
    rng = random.Random(seed)
    dst = bytes.fromhex("02000000000%d" % (2 - direction))
    src = bytes.fromhex("02000000000%d" % (1 + direction))
    out = []
    for i in range(n):
        size = 60 if i == 0 else 1514 if i == 1 else rng.randint(60, 1514)
        head = dst + src + struct.pack(">H", vnet_wire.ETHERTYPE_TEST) + MAGIC + \
            struct.pack(">BBI", run, direction, i)
        body = bytes((j * 13 + i + run) & 0xFF for j in range(size - len(head)))
        out.append(head + body)
    return out


def ours(frame, run):
    return len(frame) >= 28 and frame[14:22] == MAGIC and frame[22] == run


def wait_file(path, limit):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    time.sleep(0.05)  # the writer's line is complete
    return True


def one_run(socks, run, n, shared):
    sent = [frames(run, d, n, run * 2 + d) for d in (0, 1)]
    got = [[], []]
    errors = []

    def sender(d):
        try:
            for f in sent[d]:
                vnet_wire.send_frame(socks[d], f)
        except OSError as e:
            errors.append(f"sending into device {d}: {e}")

    def receiver(d):
        # frames sent into device d come out of device 1 - d
        s = socks[1 - d]
        s.settimeout(300)
        try:
            while len(got[d]) < n:
                f = vnet_wire.recv_frame(s)
                if ours(f, run):
                    got[d].append(f)
        except (socket.timeout, EOFError, OSError) as e:
            errors.append(f"device {1 - d}: {len(got[d])} of {n} frames came out: {e}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=fn, args=(d,)) for fn in (sender, receiver) for d in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    for d in (0, 1):
        if got[d] != sent[d] and not errors:
            bad = next((i for i, (a, b) in enumerate(zip(got[d], sent[d])) if a != b), None)
            errors.append(f"direction {d}: frame {bad} differs ({len(got[d][bad])} bytes "
                          f"came, {len(sent[d][bad])} sent)" if bad is not None else
                          f"direction {d}: {len(got[d])} frames, {n} sent")
    nbytes = sum(len(f) for f in sent[0] + sent[1])
    if errors:
        verdict = "not ok: " + "; ".join(errors)
    else:
        verdict = (f"ok {n} frames each way at once (60..1514 B, {nbytes} B in all) came out of "
                   f"the other device byte-exact and in order, in {dt:.1f} s "
                   f"({2 * n / dt:.0f} frames/s)")
    with open(os.path.join(shared, f"done-{run}"), "w") as f:
        f.write(verdict + "\n")
    print(f"vnet_fwd_host: run {run}: {verdict}")
    return not errors


def bench(socks, secs, shared):
    lines = []
    for size in (60, 1514):
        frame = frames(1, 0, 2, 0)[0 if size == 60 else 1]  # frames 0 and 1: 60 and 1514 B
        batch = (struct.pack(">I", size) + frame) * 64
        got = [0]
        stop = [False]

        def receiver():
            s = socks[1]
            s.settimeout(0.5)
            while True:
                try:
                    vnet_wire.recv_frame(s)
                    got[0] += 1
                except socket.timeout:
                    if stop[0]:
                        return
                except (EOFError, OSError):
                    return

        t = threading.Thread(target=receiver)
        t.start()
        sent = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < secs:
            socks[0].sendall(batch)
            sent += 64
        dt = time.monotonic() - t0
        stop[0] = True
        t.join()  # ends 0.5 s after the last frame came out
        lines.append(f"bench {size} {sent / dt:.0f} {got[0] / dt:.0f}")
        print(f"vnet_fwd_host: {size} B: sent {sent / dt:.0f}/s, received {got[0] / dt:.0f}/s "
              f"({got[0]} of {sent})")
    with open(os.path.join(shared, "done-1"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


def main():
    ports = [p for p in os.environ.get("HP_VM_VNET_PORTS", "").split(",") if p]
    shared = os.environ.get("HP_VM_SHARED", "")
    if len(ports) < 2 or not shared:
        print("vnet_fwd_host: HP_VM_VNET_PORTS (two ports) and HP_VM_SHARED are set by run.sh")
        return 2
    socks = [vnet_wire.connect(p) for p in ports[:2]]
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        if not wait_file(os.path.join(shared, "ready-1"), 900):
            print("vnet_fwd_host: the guest never announced the benchmark")
            return 1
        return bench(socks, float(sys.argv[2]), shared)
    first = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    other = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rc = 0
    for run in range(1, RUNS + 1):
        ready = os.path.join(shared, f"ready-{run}")
        if not wait_file(ready, 900):
            print(f"vnet_fwd_host: the guest never announced run {run}")
            return 1
        with open(ready) as f:
            if f.read().strip() != "ready":
                print(f"vnet_fwd_host: run {run}: vnet-fwd did not start in the guest")
                with open(os.path.join(shared, f"done-{run}"), "w") as f:
                    f.write("not ok: vnet-fwd did not start\n")
                rc = 1
                continue
        if not one_run(socks, run, first if run == 1 else other, shared):
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
