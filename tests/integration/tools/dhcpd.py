#!/usr/bin/env python3
"""A minimal DHCP server for the lxc-user-nic tests (inside a namespace of the test only).

  dhcpd.py IFACE SERVER_IP FIRST_IP LOG LEASE_SECONDS [CHANGE_AT]

Answers DISCOVER with an OFFER and REQUEST with an ACK for FIRST_IP (/24, router and DNS
SERVER_IP, the given lease), broadcast on IFACE. Once it has sent CHANGE_AT ACKs, it offers
the next address instead, to test a renewal that changes the address (counted in ACKs, not
DISCOVERs: a client that resends its first DISCOVER still gets the first address). Appends one line
per message to LOG. Ends after 120 s.
"""
import ipaddress
import socket
import struct
import sys
import time


def option(code, data):
    return bytes([code, len(data)]) + data


def main():
    iface, server, first, log, lease = sys.argv[1:6]
    change_at = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    server_b = socket.inet_aton(server)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 67))
    s.settimeout(1)
    acks = 0
    addr = first
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            msg, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(msg) < 240 or msg[0] != 1 or msg[236:240] != b"\x63\x82\x53\x63":
            continue
        kind, i = None, 240
        while i < len(msg) and msg[i] != 255:
            if msg[i] == 0:
                i += 1
                continue
            if i + 1 >= len(msg):
                break
            code, n = msg[i], msg[i + 1]
            if code == 53 and n == 1:
                kind = msg[i + 2]
            i += 2 + n
        if kind == 1:
            if change_at and acks >= change_at:
                addr = str(ipaddress.ip_address(first) + 1)
            answer = 2
        elif kind == 3:
            acks += 1
            answer = 5
        else:
            continue
        with open(log, "a") as f:
            f.write({2: "OFFER", 5: "ACK"}[answer] + " " + addr + "\n")
        reply = bytearray(240)
        reply[0:4] = b"\x02\x01\x06\x00"
        reply[4:8] = msg[4:8]
        reply[10:12] = msg[10:12]
        reply[16:20] = socket.inet_aton(addr)
        reply[20:24] = server_b
        reply[28:44] = msg[28:44]
        reply[236:240] = b"\x63\x82\x53\x63"
        opts = option(53, bytes([answer])) + option(54, server_b)
        opts += option(1, socket.inet_aton("255.255.255.0")) + option(3, server_b)
        opts += option(6, server_b) + option(51, struct.pack("!I", int(lease)))
        s.sendto(bytes(reply) + opts + b"\xff", ("255.255.255.255", 68))
    return 0


if __name__ == "__main__":
    sys.exit(main())
