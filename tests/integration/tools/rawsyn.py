#!/usr/bin/env python3
"""Writes crafted TCP SYNs straight onto an interface (AF_PACKET), the way root in the child
can bypass its routing table: for the --net=builtin loopback-filter tests.

  rawsyn.py IFACE DST_IP PORT [COUNT]   COUNT SYNs (default 3, 0.3 s apart) from the
                                        interface's address and MAC to DST_IP:PORT, sent to
                                        the gateway's MAC (52:55:0a:00:02:02)
  rawsyn.py flood IFACE DST_IP FIRST N  N SYNs at once, to ports FIRST..FIRST+N-1
  rawsyn.py fragflood IFACE DST_IP N    N first fragments of UDP datagrams that never end
"""
import fcntl
import socket
import struct
import sys
import time

from pkt import GW_MAC, checksum, eth, ipv4


def iface_addr(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("256s", name.encode()[:15])
    ip = fcntl.ioctl(s.fileno(), 0x8915, req)[20:24]  # SIOCGIFADDR
    mac = fcntl.ioctl(s.fileno(), 0x8927, req)[18:24]  # SIOCGIFHWADDR
    return ip, mac


def syn_frame(src, mac, dst_b, sport, port):
    tcp = struct.pack("!HHIIBBHHH", sport, port, 1, 0, 0x50, 0x02, 65535, 0, 0)
    pseudo = src + dst_b + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    return eth(GW_MAC, mac, 0x0800, ipv4(src, dst_b, 6, tcp, ident=1))


def frag_frame(src, mac, dst_b, ident):
    # 1400 of 3000 bytes: unbounded buffering of 10 000 of these would be 14 MB
    udp = struct.pack("!HHHH", 40000, 9, 3000, 0) + b"F" * 1392
    return eth(GW_MAC, mac, 0x0800, ipv4(src, dst_b, 17, udp, ident=ident, frag=0x2000))


def flood(mode):
    iface, dst = sys.argv[2], sys.argv[3]
    src, mac = iface_addr(iface)
    dst_b = socket.inet_aton(dst)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if mode == "flood":
        first, n = int(sys.argv[4]), int(sys.argv[5])
        frames = [syn_frame(src, mac, dst_b, 30000 + i % 20000, first + i) for i in range(n)]
    else:
        n = int(sys.argv[4])
        frames = [frag_frame(src, mac, dst_b, i % 65536) for i in range(n)]
    for i, f in enumerate(frames):
        while True:
            try:
                s.send(f)
                break
            except BlockingIOError:
                time.sleep(0.001)
        if i % 500 == 499:
            time.sleep(0.01)  # the tap queue is 1000 frames
    print("sent", n)


def main():
    if sys.argv[1] in ("flood", "fragflood"):
        flood(sys.argv[1])
        return
    iface, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    src, mac = iface_addr(iface)
    dst_b = socket.inet_aton(dst)
    frame = syn_frame(src, mac, dst_b, 40000 + int(time.time()) % 20000, port)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(count):
        s.send(frame)
        time.sleep(0.3)
    print("sent")


if __name__ == "__main__":
    main()
