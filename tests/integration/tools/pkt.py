"""Packet building shared by the tests' network tools (rawsyn.py, fakevpnkit.py, dns.py),
and the UNIX socket server of the hostile peers (fakes4nn.py, hostileapi.py)."""
import os
import socket
import struct
import time

GW_MAC = bytes.fromhex("52550a000202")  # libslirp's MAC for 10.0.2.2


def checksum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, frag=0, total=None):
    """An IPv4 header (TTL 64, its checksum set) and payload; total overrides the length."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), ident, frag, 64,
                      proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def eth(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def recv_exact(conn, n):
    """n bytes from a stream socket; EOFError if it ends first."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve_unix(path, handle, seconds=60):
    """Listens on the UNIX socket path (replacing what is there), prints "listening", and
    calls handle(conn) for each connection (5 s timeouts; OSError ends it) until seconds
    have passed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    srv.settimeout(seconds)
    print("listening", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            break
        c.settimeout(5)
        try:
            handle(c)
        except OSError:
            pass
        c.close()
