#!/usr/bin/env python3
"""One ICMP echo request through a raw socket (root in a namespace of ours), for the
engine's ICMP tests. Loopback and the tests' own namespaces only.

  icmpecho.py ADDR SIZE    sends an echo request with SIZE bytes of data to ADDR and
                           waits 3 s: prints "reply from ADDR: SIZE bytes" when the reply
                           carries the request's identifier, sequence number, data and a
                           good checksum, "no reply" otherwise (exit 1)
"""
import os
import socket
import struct
import sys
import time


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    addr, size = sys.argv[1], int(sys.argv[2])
    ident, seq = os.getpid() & 0xFFFF, 7
    data = bytes(i & 0xFF for i in range(size))
    head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    head = struct.pack("!BBHHH", 8, 0, checksum(head + data), ident, seq)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(head + data, (addr, 0))
    end = time.monotonic() + 3
    while time.monotonic() < end:
        s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            pkt, peer = s.recvfrom(70000)
        except socket.timeout:
            break
        msg = pkt[(pkt[0] & 15) * 4:]
        if len(msg) < 8 or peer[0] != addr:
            continue
        typ, code, _, rid, rseq = struct.unpack("!BBHHH", msg[:8])
        if typ == 0 and code == 0 and rid == ident and rseq == seq and msg[8:] == data \
                and checksum(msg) == 0:
            print("reply from %s: %d bytes" % (addr, size))
            return 0
    print("no reply")
    return 1


if __name__ == "__main__":
    sys.exit(main())
