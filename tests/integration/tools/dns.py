#!/usr/bin/env python3
"""A minimal DNS resolver and client for the DNS tests (loopback only, no real names).

  dns.py serve ADDR PORT READYFILE   answers A queries for NAME (below) with 192.0.2.53,
                                     NXDOMAIN for anything else, over UDP and TCP; writes
                                     READYFILE when up; ends after 120 s
  dns.py query SERVER NAME           one A query (retried, 5 s at most); prints the address
  dns.py query-tcp SERVER NAME       the same over TCP; prints "tcp ADDRESS"
"""
import socket
import struct
import sys
import threading
import time

from pkt import recv_exact

NAME = "rootlesskit-test.invalid"
ANSWER = "192.0.2.53"  # TEST-NET-1: documentation only, never contacted


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1


def answer(q):
    qid, = struct.unpack("!H", q[:2])
    name, off = decode_name(q, 12)
    question = q[12:off + 4]
    qtype, = struct.unpack("!H", q[off:off + 2])
    if name.lower() == NAME and qtype == 1:
        hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ANSWER)
        return hdr + question + rr
    return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question


def serve_tcp(t, end):
    while time.monotonic() < end:
        try:
            c, _ = t.accept()
        except socket.timeout:
            continue
        with c:
            c.settimeout(5)
            try:
                n, = struct.unpack("!H", recv_exact(c, 2))
                q = recv_exact(c, n)
                if len(q) >= 12:
                    r = answer(q)
                    c.sendall(struct.pack("!H", len(r)) + r)
            except (EOFError, OSError):
                pass


def serve(addr, port, ready):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(1)
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(8)
    t.settimeout(1)
    end = time.monotonic() + 120
    threading.Thread(target=serve_tcp, args=(t, end), daemon=True).start()
    with open(ready, "w") as f:
        f.write("ready\n")
    while time.monotonic() < end:
        try:
            q, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        if len(q) < 12:
            continue
        s.sendto(answer(q), peer)


def query(server, name):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", 1, 1)
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for _ in range(10):
            s.sendto(q, (server, 53))
            try:
                r, _ = s.recvfrom(512)
            except socket.timeout:
                continue
            rcode = r[3] & 0xF
            ancount, = struct.unpack("!H", r[6:8])
            if rcode or not ancount:
                sys.exit("no answer (rcode %d)" % rcode)
            _, off = decode_name(r, 12)
            off += 4  # question type and class
            off += 2  # compressed name of the answer
            rtype, _, _, rdlen = struct.unpack("!HHIH", r[off:off + 10])
            if rtype != 1 or rdlen != 4:
                sys.exit("unexpected answer")
            print(socket.inet_ntoa(r[off + 10:off + 14]))
            return
    sys.exit("no DNS answer from %s" % server)


def query_tcp(server, name):
    q = struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", 1, 1)
    with socket.create_connection((server, 53), timeout=5) as c:
        c.sendall(struct.pack("!H", len(q)) + q)
        n, = struct.unpack("!H", recv_exact(c, 2))
        r = recv_exact(c, n)
    rcode = r[3] & 0xF
    ancount, = struct.unpack("!H", r[6:8])
    if rcode or not ancount or r[:2] != q[:2]:
        sys.exit("no TCP answer (rcode %d)" % rcode)
    print("tcp " + socket.inet_ntoa(r[-4:]))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "query":
        query(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "query-tcp":
        query_tcp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
