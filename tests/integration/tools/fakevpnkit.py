#!/usr/bin/env python3
"""A stand-in for VPNKit in the tests (Debian has no VPNKit).

Speaks VPNKit's vmnet protocol on --ethernet PATH: the greeting, one VIF registration
(MTU from --mtu, a fixed MAC), then length-prefixed Ethernet frames. Behind the VIF it is a
tiny gateway at 192.168.65.1 that answers just enough to prove frames cross both ways:
DHCPDISCOVER (offers 192.168.65.3), ARP for the gateway, ICMP echo, and UDP echo on port 7.
With FAKEVPNKIT_LOG set, it appends its argv and what it saw to that file.
"""
import os
import socket
import struct
import sys

from pkt import checksum, eth, ipv4, recv_exact

VIF_MAC = bytes.fromhex("02500000000a")
GW_MAC = bytes.fromhex("02500000000f")
GW_IP = socket.inet_aton("192.168.65.1")
OFFER_IP = socket.inet_aton("192.168.65.3")


def log(text):
    path = os.environ.get("FAKEVPNKIT_LOG")
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")


def dhcp_offer(request):
    xid = request[4:8]
    chaddr = request[28:44]
    bootp = bytearray(240)
    bootp[0:4] = b"\x02\x01\x06\x00"
    bootp[4:8] = xid
    bootp[10] = 0x80
    bootp[16:20] = OFFER_IP
    bootp[28:44] = chaddr
    bootp[236:240] = b"\x63\x82\x53\x63"
    opts = b"\x35\x01\x02" + b"\x36\x04" + GW_IP + b"\x01\x04\xff\xff\xff\x00" + b"\xff"
    payload = bytes(bootp) + opts
    udp = struct.pack("!HHHH", 67, 68, 8 + len(payload), 0) + payload
    return eth(b"\xff" * 6, GW_MAC, 0x0800, ipv4(GW_IP, b"\xff" * 4, 17, udp))


def answer(frame):
    """The reply to one frame from the VIF, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    src_mac = frame[6:12]
    if ethertype == 0x0806 and len(frame) >= 42:
        arp = frame[14:42]
        if struct.unpack("!H", arp[6:8])[0] == 1 and arp[24:28] == GW_IP:
            reply = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + GW_MAC + GW_IP + arp[8:14] + arp[14:18]
            log("arp")
            return eth(src_mac, GW_MAC, 0x0806, reply)
        return None
    if ethertype != 0x0800 or len(frame) < 34:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    proto, src, dst = ip[9], ip[12:16], ip[16:20]
    body = ip[ihl:total]
    if proto == 17 and len(body) >= 8:
        sport, dport = struct.unpack("!HH", body[:4])
        if sport == 68 and dport == 67:
            log("dhcp-discover")
            return dhcp_offer(body[8:])
        if dst == GW_IP and dport == 7:
            data = body[8:]
            log("udp-echo " + data.decode(errors="replace"))
            udp = struct.pack("!HHHH", 7, sport, 8 + len(data), 0) + data
            return eth(src_mac, GW_MAC, 0x0800, ipv4(GW_IP, src, 17, udp))
    if proto == 1 and dst == GW_IP and len(body) >= 8 and body[0] == 8:
        icmp = b"\x00\x00\x00\x00" + body[4:]
        icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
        log("icmp-echo")
        return eth(src_mac, GW_MAC, 0x0800, ipv4(GW_IP, src, 1, icmp))
    return None


def main():
    args = sys.argv[1:]
    log("argv " + " ".join(args))
    path = args[args.index("--ethernet") + 1]
    mtu = int(args[args.index("--mtu") + 1])
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    conn, _ = srv.accept()
    hello = recv_exact(conn, 49)
    if hello[:5] != b"VMN3T":
        log("bad greeting")
        return 1
    conn.sendall(b"VMN3T" + struct.pack("<I", 22) + b"0" * 40)
    req = recv_exact(conn, 41)
    log("vif " + req[1:37].decode())
    conn.sendall(b"\x01" + struct.pack("<HH", mtu, mtu + 50) + VIF_MAC + b"\0" * 247)
    # a bounded life: the test's instance is short
    for _ in range(100000):
        try:
            (n,) = struct.unpack("<H", recv_exact(conn, 2))
            frame = recv_exact(conn, n)
        except EOFError:
            return 0
        reply = answer(frame)
        if reply:
            conn.sendall(struct.pack("<H", len(reply)) + reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
