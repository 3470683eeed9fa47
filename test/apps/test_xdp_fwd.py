#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# xdp-fwd as a user runs it, between two network namespaces it builds and always removes:
#   netns A: a0 10.99.0.1/24 <-> P0 (root ns) [xdp-fwd --port P0 --port P1] P1 <-> netns B: b0 10.99.0.2/24
# Checks A cannot reach B without the forwarder, then ping and a 64 MiB TCP stream (sha256)
# through it in both layouts, exit 0 on SIGINT with every hugepage free again, none left after
# kill -9, and the sentences and exit codes of bad command lines. Its ports as other programs
# leave them: a restart after kill -9 takes over the program left behind; SIGTERM, SIGHUP and a
# closed output pipe (no death by SIGPIPE) leave no program; a port another xdp-fwd holds is
# retried, refused with a sentence and left working; dpdk-testpmd's af_xdp PMD and xdp-fwd take
# turns on the same ports. Names carry the pid, so runs never clash.
# Usage: test_xdp_fwd.py XDP_FWD; prints TAP; exits 77 with the reason when it cannot run.
# (Also its own helper: test_xdp_fwd.py --send HOST PORT MIB | --recv PORT, run inside a netns.)
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from tap import hugepages_free  # noqa: E402 - test/tools/tap.py

STREAM_MIB = 64
PORT = 5201


def sender(host, port, mib):
    """Send mib MiB of seeded pseudo-random bytes; print their sha256."""
    rnd = random.Random(mib)
    h = hashlib.sha256()
    with socket.create_connection((host, port), timeout=30) as s:
        for _ in range(mib):
            block = rnd.randbytes(1 << 20)
            h.update(block)
            s.sendall(block)
    print(h.hexdigest())


def receiver(port):
    """Accept one connection, read to its end; print the byte count and sha256."""
    with socket.socket() as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(1)
        ls.settimeout(30)
        print("listening", flush=True)
        c, _ = ls.accept()
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
        print(n, h.hexdigest())


if len(sys.argv) > 1 and sys.argv[1] == "--send":
    sender(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    sys.exit(0)
if len(sys.argv) > 1 and sys.argv[1] == "--recv":
    receiver(int(sys.argv[2]))
    sys.exit(0)

FWD = os.path.abspath(sys.argv[1])
PID = os.getpid()
NS_A, NS_B = f"hpxf{PID}a", f"hpxf{PID}b"
P0, P1 = f"xf{PID}p0", f"xf{PID}p1"
results = []
procs = []


def skip_all(why):
    print(f"1..0 # SKIP {why}")
    print(why, file=sys.stderr)
    sys.exit(77)


def sh(*cmd, check=True, timeout=60):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def in_ns(ns, *cmd, **kw):
    return sh("ip", "netns", "exec", ns, *cmd, **kw)


def expect_hugepages_back(want, seconds=15):
    """Waits until HugePages_Free is back (the kernel releases a UMEM in a work item); raises
    unless it is exactly want."""
    end = time.monotonic() + seconds
    while True:
        got = hugepages_free()
        if got >= want or time.monotonic() > end:
            break
        time.sleep(0.1)
    if got != want:
        raise AssertionError(f"HugePages_Free {got}, was {want} before xdp-fwd")


def topology_up():
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", P0, "type", "veth", "peer", "name", "a0", "netns", NS_A)
    sh("ip", "link", "add", P1, "type", "veth", "peer", "name", "b0", "netns", NS_B)
    for ns, dev, addr in ((NS_A, "a0", "10.99.0.1/24"), (NS_B, "b0", "10.99.0.2/24")):
        in_ns(ns, "ip", "addr", "add", addr, "dev", dev)
        in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")
        # a veth sender leaves checksums to offload; frames forwarded as they are need them
        in_ns(ns, "ethtool", "-K", dev, "tx", "off")
    sh("ip", "link", "set", P0, "up")
    sh("ip", "link", "set", P1, "up")


def topology_down():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for dev in (P0, P1):  # gone with their peers; removed here if a namespace never came up
        subprocess.run(["ip", "link", "del", dev], capture_output=True)


def start_fwd(*extra, stdout=subprocess.PIPE):
    p = subprocess.Popen([FWD, "--port", P0, "--port", P1, *extra], stdout=stdout,
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    # ready when it names the pairing on stderr; bounded
    line, seen = "", []
    end = time.monotonic() + 30
    while "<->" not in line and time.monotonic() < end and p.poll() is None:
        line = p.stderr.readline()
        seen.append(line)
    if "<->" not in line:
        p.kill()
        out, err = p.communicate()
        raise RuntimeError("xdp-fwd did not start: " + "".join(seen) + err)
    p.start_lines = "".join(seen)
    return p


def programs_left():
    """The ports that have an XDP program attached."""
    return [dev for dev in (P0, P1) if "prog/xdp" in sh("ip", "-d", "link", "show", dev).stdout]


def expect_no_program():
    left = programs_left()
    if left:
        raise AssertionError(f"an XDP program is still attached to {', '.join(left)}")


def expect_takeover(who):
    """After who was killed with -9 on the ports: its program is there, xdp-fwd says it took it
    over, forwards, and leaves no program at exit."""
    if programs_left() != [P0, P1]:
        raise AssertionError(f"{who}'s kill -9 left no program: nothing to take over was tested")
    fwd = start_fwd("--stats", "0")
    if "leftover" not in fwd.start_lines:
        fwd.kill()
        raise AssertionError(f"no word of {who}'s leftover program: " + fwd.start_lines)
    expect_ping()
    stop_fwd(fwd)
    expect_no_program()


def expect_ping():
    r = in_ns(NS_A, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.99.0.2", check=False)
    if r.returncode:
        raise AssertionError("no ping through the forwarder: " + r.stdout + r.stderr)


def stop_fwd(p, sig=signal.SIGINT, want=0):
    """Stop with sig, expect exit status want; returns stderr."""
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    if p.returncode != want:
        raise AssertionError(f"exit {p.returncode} after {sig.name}, wanted {want}: {err}")
    return err


def case(name):
    def wrap(fn):
        try:
            fn()
            results.append((True, name, ""))
        except Exception as e:  # noqa: BLE001 - every failure is reported as the case's
            results.append((False, name, str(e)))
        return fn
    return wrap


def expect_refusal(args, code, words):
    r = sh(FWD, *args, check=False)
    msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if r.returncode != code:
        raise AssertionError(f"exit {r.returncode}, wanted {code}: {r.stderr.strip()}")
    for w in words:
        if w not in msg:
            raise AssertionError(f"'{w}' not in the sentence: {msg!r}")


def check_bad_command_lines():
    @case("no port at all is refused with exit 2 and a sentence")
    def _():
        expect_refusal([], 2, ["two"])

    @case("one port only is refused with exit 2 and a sentence")
    def _():
        expect_refusal(["--port", P0], 2, ["one port only", "two"])

    @case("the same port twice is refused with exit 2 and a sentence")
    def _():
        expect_refusal(["--port", P0, "--port", P0], 2, [P0, "twice"])

    @case("an interface that does not exist is refused with exit 2 and a sentence")
    def _():
        expect_refusal(["--port", P0, "--port", "nosuch0"], 2, ["nosuch0", "no network interface"])

    @case("three ports (no pairing) are refused with exit 2")
    def _():
        expect_refusal(["--port", P0, "--port", P1, "--port", "lo"], 2, ["even"])

    @case("more workers than ports are refused with exit 2")
    def _():
        expect_refusal(["--port", P0, "--port", P1, "--workers", "3"], 2, ["workers"])

    @case("an unknown layout, and workers with the rtc layout, are refused with exit 2")
    def _():
        expect_refusal(["--port", P0, "--port", P1, "--layout", "ring"], 2, ["rtc, pipeline"])
        expect_refusal(["--port", P0, "--port", P1, "--layout", "rtc", "--workers", "2"], 2,
                       ["--workers", "pipeline"])

    @case("a user without root is told to run it as root, exit 1, and no hugepage is taken")
    def _():
        # the tree may be unreadable to nobody (e.g. under /root, mode 0700): copy the program
        # and the library it links to a directory nobody can read
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            shutil.copy(FWD, d)
            libdir = os.path.dirname(os.path.dirname(os.path.dirname(FWD)))  # the build dir
            for f in os.listdir(libdir):
                if f.startswith("libhugepool.so") and os.path.isfile(os.path.join(libdir, f)):
                    shutil.copy(os.path.join(libdir, f), d)
            before = hugepages_free()
            r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "env", f"LD_LIBRARY_PATH={d}", os.path.join(d, "xdp-fwd"),
                                "--port", P0, "--port", P1],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 1 or "root" not in r.stderr:
                raise AssertionError(f"exit {r.returncode}: {r.stderr.strip()}")
            if hugepages_free() != before:
                raise AssertionError("hugepages were taken before the rights were checked")


def check_forwarding(free_before):
    @case("without the forwarder, A cannot reach B")
    def _():
        r = in_ns(NS_A, "ping", "-c", "1", "-W", "1", "10.99.0.2", check=False)
        if r.returncode == 0:
            raise AssertionError("ping passed with nothing between the two ports")

    try:
        fwd = start_fwd("--stats", "1", "--json")
    except RuntimeError as e:
        results.append((False, "xdp-fwd starts on the two ports", str(e)))
        return

    @case("through xdp-fwd, ping from A gets B's replies")
    def _():
        r = in_ns(NS_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.99.0.2", check=False)
        if r.returncode:
            raise AssertionError(r.stdout + r.stderr)

    @case(f"through xdp-fwd, a {STREAM_MIB} MiB TCP stream from A arrives byte-exact in B")
    def _():
        me = os.path.abspath(__file__)
        recv = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, me, "--recv",
                                 str(PORT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        procs.append(recv)
        if recv.stdout.readline().strip() != "listening":
            raise AssertionError("receiver did not start: " + recv.stderr.read())
        t = time.monotonic()
        s = in_ns(NS_A, sys.executable, me, "--send", "10.99.0.2", str(PORT), str(STREAM_MIB),
                  timeout=120)
        out, err = recv.communicate(timeout=120)
        secs = time.monotonic() - t
        got = out.split()
        if len(got) != 2 or int(got[0]) != STREAM_MIB << 20 or got[1] != s.stdout.strip():
            raise AssertionError(f"sent {STREAM_MIB} MiB sha256 {s.stdout.strip()}, "
                                 f"received {out.strip()} {err.strip()}")
        print(f"# {STREAM_MIB} MiB in {secs:.1f} s through xdp-fwd", flush=True)

    @case("SIGINT stops xdp-fwd with exit 0 and JSON totals that count the traffic")
    def _():
        fwd.send_signal(signal.SIGINT)
        out, err = fwd.communicate(timeout=30)
        if fwd.returncode != 0:
            raise AssertionError(f"exit {fwd.returncode}: {err}")
        final = [json.loads(x) for x in out.splitlines() if '"final": true' in x]
        if len(final) != 1:
            raise AssertionError(f"no final JSON line in: {out[-500:]}")
        ports = {p["port"]: p for p in final[0]["ports"]}
        # the stream is >= 64 MiB one way; every frame received on one port left by the other,
        # or was counted where it was dropped: at a's ring to the worker or at b's tx ring
        if ports[P0]["rx_bytes"] < STREAM_MIB << 20:
            raise AssertionError(f"{P0} received only {ports[P0]['rx_bytes']} bytes")
        for a, b in ((P0, P1), (P1, P0)):
            lost = (ports[a]["rx_packets"] - ports[b]["tx_packets"] -
                    ports[a]["worker_ring_full"] - ports[b]["tx_ring_full"])
            if lost < 0 or lost > 2 * 2048 + 64:  # at most what sat in rings at the stop
                raise AssertionError(f"{a} rx {ports[a]['rx_packets']} vs {b} tx "
                                     f"{ports[b]['tx_packets']}: {final[0]}")
        print(f"# mode {final[0]['mode']}; {P0} rx {ports[P0]['rx_packets']} frames", flush=True)

    @case("after exit, every hugepage is free again and no XDP program is left on the ports")
    def _():
        expect_hugepages_back(free_before)
        expect_no_program()

    @case("the pipeline layout forwards too and says so (--layout pipeline --workers 2)")
    def _():
        p = start_fwd("--layout", "pipeline", "--workers", "2", "--stats", "0")
        if "pipeline layout" not in p.start_lines:
            p.kill()
            raise AssertionError(p.start_lines)
        expect_ping()
        stop_fwd(p)
        expect_no_program()


def check_kill9(free_before):
    @case("kill -9 while forwarding leaves no hugepage behind")
    def _():
        fwd = start_fwd("--stats", "0")
        in_ns(NS_A, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.99.0.2", check=False)
        if hugepages_free() >= free_before:
            raise AssertionError("xdp-fwd holds no hugepage while running")
        fwd.kill()
        fwd.wait(timeout=30)
        expect_hugepages_back(free_before)

    @case("after kill -9, a restart on the same ports takes over the program left behind, "
          "forwards, and leaves no program at exit")
    def _():
        fwd = start_fwd("--stats", "0")
        fwd.kill()
        fwd.wait(timeout=30)
        expect_takeover("xdp-fwd")
        # and a clean run after that one still leaves nothing
        stop_fwd(start_fwd("--stats", "0"))
        expect_no_program()
        expect_hugepages_back(free_before)


def check_exits(free_before):
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        @case(f"{sig.name} stops xdp-fwd with exit 0 and leaves no program on the ports")
        def _():
            stop_fwd(start_fwd("--stats", "0"), sig)
            expect_no_program()

    @case("statistics into a closed pipe: no death by SIGPIPE; exit 1 with a sentence, "
          "no program left")
    def _():
        r, w = os.pipe()
        fwd = start_fwd("--stats", "1", "--json", stdout=w)
        os.close(w)
        with os.fdopen(r) as rd:
            json.loads(rd.readline())  # the reader takes one line and goes (| head -1)
        try:
            _, err = fwd.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            fwd.kill()
            raise AssertionError("xdp-fwd still runs 20 s after its output pipe closed")
        if fwd.returncode != 1 or "cannot write" not in err:
            raise AssertionError(f"exit {fwd.returncode}: {err}")
        expect_no_program()
        expect_hugepages_back(free_before)

    @case("totals into a closed pipe at SIGINT: exit 1 with a sentence, no program left")
    def _():
        r, w = os.pipe()
        fwd = start_fwd("--stats", "0", stdout=w)
        os.close(w)
        os.close(r)
        err = stop_fwd(fwd, signal.SIGINT, want=1)
        if "cannot write the totals" not in err:
            raise AssertionError(err)
        expect_no_program()

    @case("a port another xdp-fwd holds is tried again for a while, then refused with a "
          "sentence (exit 1); the first keeps forwarding and its program")
    def _():
        first = start_fwd("--stats", "0")
        t = time.monotonic()
        r = sh(FWD, f"--file-prefix=hpxf{PID}", "--", "--port", P0, "--port", P1, "--stats", "0",
               check=False, timeout=60)
        secs = time.monotonic() - t
        try:
            if r.returncode != 1 or "trying again" not in r.stderr or \
                    "still busy" not in r.stderr or secs < 4:
                raise AssertionError(f"exit {r.returncode} after {secs:.1f} s: {r.stderr}")
            if programs_left() != [P0, P1]:
                raise AssertionError("the refused run took the first one's program away")
            expect_ping()
        finally:
            stop_fwd(first)
        expect_no_program()


def testpmd_run(pktsend, mac_b, sig=signal.SIGINT):
    """dpdk-testpmd (af_xdp PMD, io forwarding) on P0 and P1 while frames are sent through it;
    stopped with sig. Returns the frames B received, or raises with its log."""
    log = tempfile.TemporaryFile(mode="w+")
    tp = subprocess.Popen(["dpdk-testpmd", "-l", "0-1", "--no-pci", "--in-memory", "-m", "256",
                           f"--file-prefix=hpxf{PID}", "--log-level=notice",
                           f"--vdev=net_af_xdp0,iface={P0}", f"--vdev=net_af_xdp1,iface={P1}",
                           "--", "--forward-mode=io", "-a", "--stats-period", "3600"],
                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    procs.append(tp)
    end = time.monotonic() + 30
    while time.monotonic() < end and tp.poll() is None:
        log.seek(0)
        if "forwards packets" in log.read() and len(programs_left()) == 2:
            break
        time.sleep(0.1)
    log.seek(0)
    text = log.read()
    if tp.poll() is not None or "forwards packets" not in text:
        tp.kill()
        tp.wait()
        raise RuntimeError(text[-1500:])
    rx = lambda: int(in_ns(NS_B, "cat", "/sys/class/net/b0/statistics/rx_packets").stdout)
    before = rx()
    in_ns(NS_A, pktsend, "a0", mac_b, "60", "1")
    got = rx() - before
    tp.send_signal(sig)
    tp.wait(timeout=30)
    return got


def check_testpmd(free_before):
    pktsend = os.path.join(os.path.dirname(FWD), "pktsend")
    if not shutil.which("dpdk-testpmd"):
        print("# dpdk-testpmd is not installed (Debian: dpdk): the turns with testpmd are "
              "not tested", flush=True)
        results.append((True, "dpdk-testpmd and xdp-fwd in turns # SKIP no dpdk-testpmd", ""))
        return
    mac_b = in_ns(NS_B, "cat", "/sys/class/net/b0/address").stdout.strip()
    try:
        testpmd_run(pktsend, mac_b)
    except RuntimeError as e:
        print(f"# dpdk-testpmd cannot run here: {e.splitlines()[-1] if str(e) else ''}",
              flush=True)
        results.append((True, "dpdk-testpmd and xdp-fwd in turns # SKIP dpdk-testpmd "
                        "cannot run here", ""))
        return

    @case("dpdk-testpmd's af_xdp PMD and xdp-fwd take turns on the same ports, 4 times: "
          "each xdp-fwd starts at once after testpmd, forwards and leaves no program")
    def _():
        for turn in range(4):
            got = testpmd_run(pktsend, mac_b)
            if not got:
                raise AssertionError(f"turn {turn}: nothing passed through testpmd")
            fwd = start_fwd("--stats", "0")
            expect_ping()
            stop_fwd(fwd)
            expect_no_program()
            if "busy" in fwd.start_lines:
                print(f"# turn {turn}: xdp-fwd waited for a busy queue", flush=True)
        expect_hugepages_back(free_before)

    @case("after dpdk-testpmd was killed with -9 (its program stays on the ports), xdp-fwd "
          "takes the ports over, forwards, and leaves no program")
    def _():
        testpmd_run(pktsend, mac_b, signal.SIGKILL)
        expect_takeover("testpmd")


def main():
    if os.geteuid() != 0:
        skip_all("needs root (network namespaces, AF_XDP)")
    if not os.path.exists(FWD):
        skip_all(f"{FWD} was not built (libxdp-dev and libbpf-dev missing?)")
    for tool in ("ip", "ping", "ethtool", "setpriv"):
        if not shutil.which(tool):
            skip_all(f"{tool} is not installed (./dev.sh deps installs it)")
    try:
        socket.socket(44, socket.SOCK_RAW, 0).close()  # AF_XDP
    except OSError as e:
        skip_all(f"this kernel gives no AF_XDP socket: {e}")
    if hugepages_free() < 64:
        skip_all(f"only {hugepages_free()} free hugepages; xdp-fwd needs ~20 (./dev.sh hugepages)")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))  # runs the finally below
    try:
        try:
            topology_up()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            topology_down()
            skip_all(f"cannot build the namespaces and veths: {e}")
        check_bad_command_lines()
        free_before = hugepages_free()
        check_forwarding(free_before)
        check_kill9(free_before)
        check_exits(free_before)
        check_testpmd(free_before)
    finally:
        topology_down()
    print(f"1..{len(results)}")
    for i, (ok, name, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        for line in why.splitlines():
            print(f"# {line}")
    sys.exit(0 if all(ok for ok, _, _ in results) else 1)


main()
