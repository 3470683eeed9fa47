#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The telemetry socket read by the tools people use: DPDK's dpdk-telemetry.py (Debian's
# dpdk-dev) and hp-info --live, against telemetry_target, a program that prints what the public
# API says of its pool (objects out, some in its lcore's cache), zones and ring. Also: replies
# to requests of bytes that are not UTF-8, kill -9 then a restart with the same prefix, a start
# removing what killed programs left, two live programs with one prefix, --no-telemetry.
# Usage: test_telemetry.py TELEMETRY_TARGET HP_INFO; prints TAP.
import json
import os
import pwd
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import tap  # test/tools/tap.py, beside this script
from tap import Skip, runtime_dir

TARGET, HP_INFO = sys.argv[1], sys.argv[2]
CLIENT = shutil.which("dpdk-telemetry.py")
PREFIX = f"hp_test_tools_{os.getpid()}"
results = []


def case(fn):
    results.append(fn)
    return fn


def sock_path(prefix):
    return os.path.join(runtime_dir(), prefix, "dpdk_telemetry.v2")


_user_copies = {}


def as_user(prog, user, env):
    """prog and env to run it as another user. The build tree may be one that user cannot read
    (a clone under /root, mode 0700), so such a user runs a copy of prog, with libhugepool
    beside it, from a directory every user can read."""
    if user is None:
        return prog, env
    if not _user_copies:
        d = tempfile.mkdtemp(prefix="hp_test_bin_")
        os.chmod(d, 0o755)
        _user_copies["dir"] = d
        ldd = subprocess.run(["ldd", TARGET], capture_output=True, text=True, check=True)
        for line in ldd.stdout.splitlines():
            if line.strip().startswith("libhugepool.so") and "=>" in line:
                name, path = line.split("=>")[0].strip(), line.split("=>")[1].split()[0]
                shutil.copy(path, os.path.join(d, name))
    d = _user_copies["dir"]
    if prog not in _user_copies:
        _user_copies[prog] = shutil.copy(prog, d)
    env = dict(os.environ if env is None else env)
    env["LD_LIBRARY_PATH"] = d + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH")
                                  else "")
    return _user_copies[prog], env


class Target:
    """telemetry_target running until stop(); .api is what it printed of itself."""

    def __init__(self, *opts, user=None, env=None):
        prog, env = as_user(TARGET, user, env)
        self.p = subprocess.Popen([prog, "--no-huge", "--socket-mem=64", *opts],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, user=user,
                                  group=user and pwd.getpwuid(user).pw_gid, env=env)
        line = self.p.stdout.readline()
        if not line:
            err = self.p.stderr.read()
            self.p.wait(timeout=30)
            raise RuntimeError(f"telemetry_target failed (exit {self.p.returncode}): {err}")
        self.api = json.loads(line)

    def stop(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        if rc != 0:
            raise AssertionError(f"telemetry_target exited {rc}: {self.p.stderr.read()}")

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=30)


def dpdk_telemetry(prefix, *cmds):
    """Run dpdk-telemetry.py -f prefix with cmds on stdin; one reply object per command."""
    if not CLIENT:
        raise Skip("dpdk-telemetry.py is not installed (Debian package dpdk-dev)")
    out = subprocess.run([CLIENT, "-f", prefix], input="\n".join(cmds) + "\n",
                         capture_output=True, text=True, timeout=60)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    assert len(lines) == len(cmds), f"{len(cmds)} commands, replies: {out.stdout!r} {out.stderr!r}"
    replies = []
    for cmd, line in zip(cmds, lines):
        obj = json.loads(line)
        key = cmd.split(",")[0]
        assert list(obj) == [key], f"reply to {cmd} is {line}"
        replies.append(obj[key])
    return replies


@case
def dpdk_client_reads_the_numbers_the_api_gives():
    t = Target(f"--file-prefix={PREFIX}")
    try:
        api = t.api
        assert api["socket"] == sock_path(PREFIX), (api["socket"], sock_path(PREFIX))
        st = os.stat(os.path.dirname(api["socket"]))
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
        assert stat.S_ISSOCK(os.stat(api["socket"]).st_mode)
        info, pools, pool, ring, zones, heaps, mem = dpdk_telemetry(
            PREFIX, "/info", "/mempool/list", "/mempool/info,tpool", "/ring/info,tring",
            "/eal/memzone_list", "/eal/heap_list", "/hugepool/memory")
        assert info["pid"] == api["pid"] == t.p.pid
        assert info["max_output_len"] == 16384
        assert pools == ["tpool"]
        p = api["pool"]
        assert pool["name"] == "tpool" and pool["size"] == p["size"]
        assert pool["cache_size"] == p["cache_size"]
        assert pool["avail_count"] == p["avail"], (pool, p)
        assert pool["in_use_count"] == p["in_use"] == 70
        assert pool["common_pool_count"] + pool["total_cache_count"] == p["avail"]
        assert pool["total_cache_count"] == 30  # the objects put back sit in the lcore cache
        r = api["ring"]
        assert ring["used_count"] == r["count"] == 77
        assert ring["capacity"] == r["capacity"] and ring["free_count"] == r["free"]
        want = {z["name"]: z for z in api["zones"]}
        got = {}
        for zid in zones:
            (z,) = dpdk_telemetry(PREFIX, f"/eal/memzone_info,{zid}")
            got[z["Name"]] = z
        for name, z in want.items():
            assert got[name]["Length"] == z["len"] and got[name]["Socket"] == z["node"], got
        assert heaps == [0]
        (heap,) = dpdk_telemetry(PREFIX, "/eal/heap_info,0")
        assert heap["Heap_size"] == api["reserved"]
        assert heap["Free_size"] + heap["Alloc_size"] == heap["Heap_size"]
        assert mem["reserved"] == api["reserved"] and mem["page_size"] == api["page_size"]
        assert sum(n["pages"] for n in mem["nodes"]) * api["page_size"] == api["reserved"]
    finally:
        t.stop()
    assert not os.path.exists(sock_path(PREFIX)), "hp_cleanup left the socket"
    assert not os.path.exists(os.path.dirname(sock_path(PREFIX))), "and its directory"


@case
def dpdk_client_lists_commands_and_gets_sentences():
    t = Target(f"--file-prefix={PREFIX}")
    try:
        cmds, bad, param = dpdk_telemetry(PREFIX, "/", "/no/such", "/mempool/info,nosuch")
        for c in ("/mempool/list", "/mempool/info", "/ring/list", "/eal/memzone_list",
                  "/eal/heap_info", "/hugepool/memory", "/hugepool/lcores", "/help"):
            assert c in cmds, cmds
        assert isinstance(bad, str) and "unknown command" in bad, bad
        assert isinstance(param, str) and "no mempool named 'nosuch'" in param, param
    finally:
        t.stop()


def ask_raw(path, requests):
    """Send each request (bytes) on one connection; the replies as bytes, the hello first."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(10)
        s.connect(path)
        replies = [s.recv(16384)]
        for req in requests:
            s.send(req)
            replies.append(s.recv(16384))
    return replies


@case
def replies_are_json_whatever_the_request_held():
    t = Target(f"--file-prefix={PREFIX}")
    try:
        rnd = random.Random(24)
        reqs = [b"/\xff\xfe", b"/help,\xff", b"/mempool/info,\xc3", b"/ring/info,\xed\xa0\x80",
                b"/\x01\x1b[2J\x7f", b"/" + b"a" * 59 + "\u00e9\u00e9".encode()]
        for i in range(1500):
            n = rnd.randint(1, 8 if i % 2 else 1000)
            req = bytes(rnd.randint(1, 255) for _ in range(n))
            reqs.append(b"/" + req[1:] if i % 3 == 0 else req)
        replies = ask_raw(t.api["socket"], reqs)
        for req, rep in zip([b"hello"] + reqs, replies):
            try:
                json.loads(rep.decode("utf-8", errors="strict"))
            except ValueError as e:
                raise AssertionError(f"reply to {req!r} is not JSON in UTF-8 ({e}): {rep!r}")
        first = json.loads(replies[1])
        assert first == {"/\ufffd\ufffd": "unknown command '/\ufffd\ufffd'; send / for the "
                         "list of commands"}, first
        if CLIENT:  # dpdk-telemetry.py reads such a reply too
            (bad,) = dpdk_telemetry(PREFIX, "/mempool/info,\u00ff\u00fe")
            assert "no mempool named" in bad, bad
    finally:
        t.stop()


@case
def kill_9_then_restart_with_the_same_prefix():
    t = Target(f"--file-prefix={PREFIX}")
    t.kill9()
    assert os.path.exists(sock_path(PREFIX)), "a killed program leaves its socket file"
    t2 = Target(f"--file-prefix={PREFIX}")
    try:
        (info,) = dpdk_telemetry(PREFIX, "/info")
        assert info["pid"] == t2.p.pid != t.p.pid
    finally:
        t2.stop()


@case
def a_start_removes_what_killed_programs_left():
    gone, live, other = PREFIX + "_gone", PREFIX + "_live", PREFIX + "_other"
    foreign = os.path.join(runtime_dir(), PREFIX + "_foreign")  # no hugepool.lock: not ours
    os.makedirs(foreign)
    open(os.path.join(foreign, "keep"), "w").close()
    t_live = Target(f"--file-prefix={live}")
    try:
        t = Target(f"--file-prefix={gone}")
        t.kill9()
        assert os.path.exists(sock_path(gone)), "a killed program leaves its socket file"
        t2 = Target(f"--file-prefix={other}")
        t2.stop()
        assert not os.path.exists(os.path.dirname(sock_path(gone))), \
            "the next start removes the killed program's directory"
        (info,) = dpdk_telemetry(live, "/info")  # a live program's socket is left alone
        assert info["pid"] == t_live.p.pid
        assert os.path.exists(os.path.join(foreign, "keep")), "a directory of another kind stays"
    finally:
        t_live.stop()
        shutil.rmtree(foreign)


@case
def two_live_programs_with_one_prefix():
    t = Target(f"--file-prefix={PREFIX}")
    try:
        p = subprocess.run([TARGET, "--no-huge", "--socket-mem=8", f"--file-prefix={PREFIX}"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
        assert "another running program uses the file prefix" in p.stderr, p.stderr
        assert PREFIX in p.stderr and "--file-prefix" in p.stderr, p.stderr
        (info,) = dpdk_telemetry(PREFIX, "/info")  # the first one still answers
        assert info["pid"] == t.p.pid
    finally:
        t.stop()


@case
def no_telemetry_leaves_no_socket():
    t = Target(f"--file-prefix={PREFIX}", "--no-telemetry")
    try:
        assert t.api["socket"] is None
        assert not os.path.exists(os.path.dirname(sock_path(PREFIX)))
    finally:
        t.stop()


@case
def hp_info_live():
    t = Target(f"--file-prefix={PREFIX}")
    try:
        out = subprocess.run([HP_INFO, "--live"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        rows = [l.split() for l in out.stdout.splitlines()[1:]]
        assert [PREFIX, str(t.p.pid), os.path.basename(TARGET), "hugepool"] in \
            [r[:4] for r in rows], out.stdout
        out = subprocess.run([HP_INFO, "--live", "--json"], capture_output=True, text=True,
                             timeout=60)
        progs = {p["prefix"]: p for p in json.loads(out.stdout)["programs"]}
        assert progs[PREFIX]["pid"] == t.p.pid and progs[PREFIX]["socket"] == sock_path(PREFIX)

        out = subprocess.run([HP_INFO, "--live", PREFIX, "--json"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        j = json.loads(out.stdout)
        assert j["pid"] == t.p.pid and j["prefix"] == PREFIX
        (pool,) = [p for p in j["pools"] if p["name"] == "tpool"]
        assert pool["avail_count"] == t.api["pool"]["avail"]
        assert pool["in_use_count"] == t.api["pool"]["in_use"]
        (ring,) = [r for r in j["rings"] if r["name"] == "tring"]
        assert ring["used_count"] == t.api["ring"]["count"]
        names = {z["Name"]: z["Length"] for z in j["zones"]}
        for z in t.api["zones"]:
            assert names[z["name"]] == z["len"]
        assert j["memory"]["reserved"] == t.api["reserved"]

        out = subprocess.run([HP_INFO, "--live", PREFIX], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        p = t.api["pool"]
        row = [l.split() for l in out.stdout.splitlines() if l.split()[:1] == ["tpool"]]
        assert row and row[0][2:5] == [str(p["size"]), str(p["avail"]), str(p["in_use"])], \
            out.stdout
        row = [l.split() for l in out.stdout.splitlines() if l.split()[:1] == ["tring"]]
        assert row and row[0][3] == str(t.api["ring"]["count"]), out.stdout
    finally:
        t.stop()
    out = subprocess.run([HP_INFO, "--live", PREFIX], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and "no running program answers" in out.stderr, out
    out = subprocess.run([HP_INFO, "--live", PREFIX, "extra"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2, out


def test_users():
    """Two users other than root: created here (and removed at the end) where missing."""
    if os.geteuid() != 0:
        raise Skip("needs root to run programs as two other users")
    uids = []
    for name in ("hp-test-tel-a", "hp-test-tel-b"):
        try:
            uids.append(pwd.getpwnam(name).pw_uid)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", name], check=True, capture_output=True)
            CREATED_USERS.append(name)
            uids.append(pwd.getpwnam(name).pw_uid)
    return uids


CREATED_USERS = []


def shared_runtime_dir():
    """A directory like /tmp (mode 1777) as every user's runtime directory, and its env."""
    shared = tempfile.mkdtemp(prefix="hp_test_shared_")
    os.chmod(shared, 0o1777)
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env["RUNTIME_DIRECTORY"] = shared
    return shared, env


def hp_info_live(*args, user=None, env=None):
    prog, env = as_user(HP_INFO, user, env)
    return subprocess.run([prog, "--live", *args], capture_output=True, text=True,
                          timeout=60, user=user, env=env)


@case
def a_shared_tmp_where_another_user_made_dpdk_first():
    a, b = test_users()
    for how in ("mkdir", "a program", "symlink"):
        shared, env = shared_runtime_dir()
        first = None
        try:
            dpdk = os.path.join(shared, "dpdk")
            if how == "mkdir":
                os.mkdir(dpdk, 0o755)
                os.chown(dpdk, a, -1)
            elif how == "symlink":
                os.symlink("/etc", dpdk)
            else:  # user a's program, with its own prefix, holds dpdk/
                first = Target(f"--file-prefix={PREFIX}_a", user=a, env=env)
                assert first.api["socket"] == os.path.join(dpdk, PREFIX + "_a",
                                                           "dpdk_telemetry.v2"), first.api
            for prefix in (None, PREFIX):  # the default prefix, and one of its own
                opts = [f"--file-prefix={prefix}"] if prefix else []
                t = Target(*opts, user=b, env=env)
                try:
                    mine = os.path.join(shared, f"dpdk-{b}", prefix or "hugepool")
                    assert t.api["socket"] == os.path.join(mine, "dpdk_telemetry.v2"), \
                        (how, t.api)
                    st = os.lstat(os.path.dirname(mine))
                    assert st.st_uid == b and stat.S_IMODE(st.st_mode) == 0o700, how
                    out = hp_info_live("--json", user=b, env=env)
                    progs = [p for p in json.loads(out.stdout)["programs"]
                             if p["pid"] == t.p.pid]
                    assert progs and progs[0]["socket"] == t.api["socket"], (how, out.stdout)
                    out = hp_info_live(prefix or "hugepool", user=b, env=env)
                    assert out.returncode == 0 and t.api["socket"] in out.stdout, (how, out)
                finally:
                    t.stop()
                log = t.p.stderr.read()
                assert "serves its socket in " + mine in log and dpdk in log, (how, log)
            assert how != "symlink" or os.path.islink(dpdk), "the planted link stays a link"
        finally:
            if first:
                first.stop()
            shutil.rmtree(shared)
    # user a holds dpdk-<b> as well (a directory, or a link): b's program still starts, with no
    # socket, and says so
    for how in ("mkdir", "symlink"):
        shared, env = shared_runtime_dir()
        try:
            os.mkdir(os.path.join(shared, "dpdk"), 0o755)
            os.chown(os.path.join(shared, "dpdk"), a, -1)
            mine = os.path.join(shared, f"dpdk-{b}")
            if how == "mkdir":
                os.mkdir(mine, 0o755)
                os.chown(mine, a, -1)
            else:
                os.symlink("/etc", mine)
            t = Target(f"--file-prefix={PREFIX}", user=b, env=env)
            t.stop()
            assert t.api["socket"] is None, t.api
            log = t.p.stderr.read()
            assert "runs without a telemetry socket" in log and mine in log, (how, log)
        finally:
            shutil.rmtree(shared)


@case
def programs_with_the_default_prefix_take_the_next_instance():
    shared, env = shared_runtime_dir()
    dpdk = os.path.join(shared, "dpdk", "hugepool")
    ts = []
    try:
        for i in range(3):
            ts.append(Target(env=env))
            want = "dpdk_telemetry.v2" + (f":{i}" if i else "")
            assert ts[i].api["socket"] == os.path.join(dpdk, want), ts[i].api
        for t in ts:  # each answers on its own socket
            (hello,) = ask_raw(t.api["socket"], [])
            assert json.loads(hello)["pid"] == t.p.pid
        out = hp_info_live("--json", env=env)
        progs = {p["pid"]: p for p in json.loads(out.stdout)["programs"]}
        for i, t in enumerate(ts):
            p = progs[t.p.pid]
            assert p["socket"] == t.api["socket"] and p["instance"] == i, out.stdout
            assert p["prefix"] == "hugepool", p
        out = hp_info_live(env=env)
        rows = [l.split() for l in out.stdout.splitlines()[1:]]
        assert [["hugepool", str(ts[0].p.pid)], ["hugepool:1", str(ts[1].p.pid)],
                ["hugepool:2", str(ts[2].p.pid)]] == sorted(r[:2] for r in rows), out.stdout
        out = hp_info_live("hugepool:2", "--json", env=env)
        assert out.returncode == 0 and json.loads(out.stdout)["pid"] == ts[2].p.pid, out
        if CLIENT:  # dpdk-telemetry.py -i 1
            o = subprocess.run([CLIENT, "-f", "hugepool", "-i", "1"], input="/info\n",
                               capture_output=True, text=True, timeout=60, env=env)
            assert f'"pid": {ts[1].p.pid}' in o.stdout, o
        # an explicit prefix that is taken is still refused
        p = subprocess.run([TARGET, "--no-huge", "--socket-mem=8", "--file-prefix=hugepool"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60, env=env)
        assert p.returncode == 1 and "another running program uses the file prefix" in \
            p.stderr, p
        # kill -9 of instance 1: the next program takes instance 1 again, in place of its socket
        ts[1].kill9()
        assert os.path.exists(os.path.join(dpdk, "dpdk_telemetry.v2:1"))
        ts[1] = Target(env=env)
        assert ts[1].api["socket"] == os.path.join(dpdk, "dpdk_telemetry.v2:1"), ts[1].api
        # kill -9 of instance 2 and 1: the next start sweeps 2's socket and lock, takes 1
        ts[2].kill9()
        ts[1].kill9()
        t = Target(env=env)
        ts[1:] = [t]
        assert t.api["socket"] == os.path.join(dpdk, "dpdk_telemetry.v2:1"), t.api
        assert sorted(os.listdir(dpdk)) == ["dpdk_telemetry.v2", "dpdk_telemetry.v2:1",
                                            "hugepool.lock", "hugepool.lock:1"], \
            os.listdir(dpdk)
        for t in reversed(ts):
            t.stop()
        ts = []
        assert not os.path.exists(dpdk), os.listdir(dpdk)
    finally:
        for t in ts:
            t.kill9()
        shutil.rmtree(shared)


@case
def hp_info_live_checks_its_prefix():
    for bad in ("../x", "/etc", "", "a" * 300, "a/b"):
        out = hp_info_live(bad)
        assert out.returncode == 2, (bad, out)
        assert "file prefix" in out.stderr and "1 to 31 letters" in out.stderr, (bad, out)
        assert "--no-telemetry" not in out.stderr, (bad, out)
    out = hp_info_live("hugepool:x")
    assert out.returncode == 2 and "instance" in out.stderr, out
    out = subprocess.run([HP_INFO, "--attach"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown option --attach" in out.stderr, out


@case
def a_directory_where_the_socket_goes():
    t = Target(f"--file-prefix={PREFIX}")
    path = t.api["socket"]
    t.stop()
    os.makedirs(path)
    try:
        p = subprocess.run([TARGET, "--no-huge", "--socket-mem=8", f"--file-prefix={PREFIX}"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 1, p
        assert "Address already in use" not in p.stderr, p.stderr
        assert f"{path} is a directory, not a socket" in p.stderr and "remove it" in p.stderr, \
            p.stderr
    finally:
        os.rmdir(path)
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def main():
    try:
        return tap.run(results)
    finally:
        for name in CREATED_USERS:
            subprocess.run(["userdel", name], capture_output=True)
        if _user_copies:
            shutil.rmtree(_user_copies["dir"])


if __name__ == "__main__":
    sys.exit(main())
