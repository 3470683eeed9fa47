# SPDX-License-Identifier: BSD-3-Clause
# The host's end of the VM lane's virtio-net devices: qemu's socket netdev over TCP carries each
# Ethernet frame as a 4-byte big-endian length followed by the frame. Connect to a port of
# HP_VM_VNET_PORTS, then send_frame()/recv_frame(). Also the test frames both ends agree on.
import socket
import struct
import time

# A local experimental EtherType: no stack in the guest answers or sends it.
ETHERTYPE_TEST = 0x88B5
HOST_MAC = bytes.fromhex("020000000001")


def connect(port, timeout=60.0):
    """A socket connected to the qemu netdev listening on 127.0.0.1:PORT, retried until qemu
    listens (a loaded host can take seconds to start it) or TIMEOUT seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_frame(sock, frame):
    sock.sendall(struct.pack(">I", len(frame)) + frame)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("qemu closed the netdev socket (the guest ended?)")
        buf += chunk
    return buf


def recv_frame(sock):
    """The next frame from the guest; raises socket.timeout or EOFError."""
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    return _recv_exact(sock, n)


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def test_frame(dst, src, tag, size):
    """A frame of SIZE bytes (header included) of EtherType ETHERTYPE_TEST whose payload starts
    with TAG and then counts bytes, so a frame changed anywhere shows."""
    head = dst + src + struct.pack(">H", ETHERTYPE_TEST) + tag
    return head + bytes((i * 7 + len(tag)) & 0xFF for i in range(size - len(head)))
