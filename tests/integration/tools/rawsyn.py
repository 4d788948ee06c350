#!/usr/bin/env python3
"""Writes crafted TCP SYNs straight onto an interface (AF_PACKET), the way root in the child
can bypass its routing table: for the --net=builtin loopback-filter tests.

  rawsyn.py IFACE DST_IP PORT [COUNT]   COUNT SYNs (default 3, 0.3 s apart) from the
                                        interface's address and MAC to DST_IP:PORT, sent to
                                        the gateway's MAC (52:55:0a:00:02:02)
"""
import fcntl
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def iface_addr(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("256s", name.encode()[:15])
    ip = fcntl.ioctl(s.fileno(), 0x8915, req)[20:24]  # SIOCGIFADDR
    mac = fcntl.ioctl(s.fileno(), 0x8927, req)[18:24]  # SIOCGIFHWADDR
    return ip, mac


def main():
    iface, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    src, mac = iface_addr(iface)
    dst_b = socket.inet_aton(dst)
    sport = 40000 + int(time.time()) % 20000
    tcp = struct.pack("!HHIIBBHHH", sport, port, 1, 0, 0x50, 0x02, 65535, 0, 0)
    pseudo = src + dst_b + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst_b)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    frame = bytes.fromhex("52550a000202") + mac + b"\x08\x00" + ip + tcp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(count):
        s.send(frame)
        time.sleep(0.3)
    print("sent")


if __name__ == "__main__":
    main()
