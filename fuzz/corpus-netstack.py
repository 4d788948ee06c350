#!/usr/bin/env python3
"""Writes fuzz/corpus/netstack/: one seed per libslirp CVE class (reliability-notes §1.1)
in fuzz_netstack's record format. Run from the top of the tree after changing it."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration", "tools"))
from pkt import checksum as csum  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "netstack")
CHILD_MAC = bytes.fromhex("020000000001")
GW_MAC = bytes.fromhex("52550a000202")
CHILD, GW, DNS = bytes([10, 0, 2, 100]), bytes([10, 0, 2, 2]), bytes([10, 0, 2, 3])
CHILD6 = bytes.fromhex("fd000000000000000000000000000100")
GW6 = bytes.fromhex("fd000000000000000000000000000002")
DNS6 = bytes.fromhex("fd000000000000000000000000000003")
QUERY = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x07invalid\x00\x00\x01\x00\x01"


def eth(payload, etype=0x0800, dst=GW_MAC):
    return dst + CHILD_MAC + struct.pack("!H", etype) + payload


def ip4(proto, payload, dst=GW, frag=0, ident=1, total=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), ident, frag, 64, proto, 0, CHILD, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(dport, flags, seq=1, ack=0, urg=0, data=b"", dst=GW):
    h = struct.pack("!HHIIBBHHH", 40000, dport, seq, ack, 0x50, flags, 65535, 0, urg) + data
    pseudo = CHILD + dst + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(pseudo + h)) + h[18:]


def tcp_syn(dport, seq=0, dst=GW, src=CHILD):
    """A SYN with MSS 1460 and window scale 7, as a Linux child sends it."""
    opts = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 3, 3, 7])
    h = struct.pack("!HHIIBBHHH", 40001, dport, seq, 0, 0x70, 0x02, 64240, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(pseudo + h)) + h[18:]


def tcp_seg(dport, flags, seq, ack, data=b"", dst=GW, win=502):
    """A segment of the connection tcp_syn opened (the engine's ISN is 0 in the harness)."""
    h = struct.pack("!HHIIBBHHH", 40001, dport, seq, ack, 0x50, flags, win, 0, 0) + data
    pseudo = CHILD + dst + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(pseudo + h)) + h[18:]


def udp(dport, data, dst=GW):
    return struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data


def ip6(nh, payload, dst=GW6):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + CHILD6 + dst + payload


def frame(f):
    return b"\0" + struct.pack("<H", len(f)) + f


def vnet(f, csum_start=34, csum_offset=16, gso=0, gso_size=0):
    """A frame behind a virtio-net header (native byte order: little-endian), its checksum
    left partial by default."""
    return struct.pack("<BBHHHH", 1, gso, 54, gso_size, csum_start, csum_offset) + f


def sum16(b):
    """The folded one's complement sum of b (pkt's checksum is its complement)."""
    return ~csum(b) & 0xFFFF


def forge(f, at, want, free_at, fix):
    """The build before the frame-path fix completed a child's "checksum" after the filter:
    with csum_start at, offset 0, it wrote the sum of f[at:] there. Returns f with the
    word at free_at chosen so that this writes want, fix(final) making the rest valid."""
    f = bytearray(f)
    for w in range(2, 0x10000):
        f[free_at:free_at + 2] = struct.pack("!H", w)
        before = bytes(f[at:at + 2])
        f[at:at + 2] = struct.pack("!H", want)
        f = fix(f)
        f[at:at + 2] = before
        if (~sum16(bytes(f[at:])) & 0xFFFF) == want:
            return bytes(f)
    raise SystemExit("no word makes the sum")


def fix_ip4(f):
    f[24:26] = b"\0\0"
    f[24:26] = struct.pack("!H", ~sum16(bytes(f[14:34])) & 0xFFFF)
    return f


def fix_l4(at, v6):
    def fix(f):
        if not v6:
            f = fix_ip4(f)
        l4 = 54 if v6 else 34
        f[l4 + at:l4 + at + 2] = b"\0\0"
        src = bytes(f[22:54]) if v6 else bytes(f[26:34])
        proto = f[20] if v6 else f[23]
        s = sum16(src + struct.pack("!HH", proto, len(f) - l4) + bytes(f[l4:]))
        f[l4 + at:l4 + at + 2] = struct.pack("!H", ~s & 0xFFFF)
        return f
    return fix


def rewrite(f, at, want, free_at, fix):
    """A frame record: the forged frame behind a header asking for that write."""
    return frame(struct.pack("<BBHHHH", 1, 0, 0, 0, at, 0) + forge(f, at, want, free_at, fix))


def peer(sender, data):
    """A datagram from a host peer (record 4): sender bits 0-1 the address, 6 port 53,
    7 a family that does not fit the socket."""
    return b"\4" + bytes([sender]) + struct.pack("<H", len(data)) + data


def tick(ms):
    return b"\1" + struct.pack("<H", ms)


STEP = b"\2"

seeds = {
    # IPv4 reassembly (CVE-2019-14378, CVE-2019-15890, CVE-2020-1983): overlapping fragments
    "ip-fragments": b"\0" + frame(eth(ip4(17, udp(9, b"A" * 64)[:48], frag=0x2000, ident=7)))
    + frame(eth(ip4(17, b"B" * 40, frag=0x0004, ident=7))) + frame(eth(ip4(17, b"C" * 24, frag=0x0002, ident=7)))
    + STEP + tick(40000) + STEP,
    # found by this harness: libslirp 4.7's reassembly corrupts memory when the last
    # fragment comes first, or comes twice (the filter now lets fragments through in order
    # only)
    "ip-fragments-last-first": b"\0" + frame(eth(ip4(17, udp(9, b"A" * 64)[32:], frag=0x0004, ident=9, total=60)))
    + frame(eth(ip4(17, udp(9, b"A" * 64)[:32], frag=0x2000, ident=9, total=52))) + STEP,
    "ip-fragments-last-twice": b"\0" + frame(eth(ip4(17, udp(9, b"A" * 64)[:32], frag=0x2000, ident=10, total=52)))
    + frame(eth(ip4(17, udp(9, b"A" * 64)[32:], frag=0x0004, ident=10, total=60)))
    + frame(eth(ip4(17, udp(9, b"A" * 64)[32:], frag=0x0004, ident=10, total=60))) + STEP,
    # urgent data (CVE-2026-9539): a handshake then URG with a pointer past the data
    "tcp-urgent": b"\0" + frame(eth(ip4(6, tcp(80, 0x02)))) + STEP + tick(5)
    + frame(eth(ip4(6, tcp(80, 0x38, seq=2, urg=60000, data=b"xyz")))) + STEP,
    # ident emulation port (CVE-2019-6778, CVE-2019-9824; emulation is off)
    "tcp-ident": b"\0" + frame(eth(ip4(6, tcp(113, 0x02)))) + STEP,
    # IRC DCC emulation port (CVE-2020-7039, CVE-2020-8608)
    "tcp-irc": b"\0" + frame(eth(ip4(6, tcp(6667, 0x18, data=b"PRIVMSG x :\x01DCC SEND f 1 2 3\x01\n")))) + STEP,
    # ICMPv6 echo (CVE-2020-10756)
    "icmp6-echo": b"\0" + frame(eth(ip6(58, bytes([128, 0, 0, 0, 0, 1, 0, 1]) + b"ping" * 8), 0x86DD, bytes.fromhex("333300000002"))) + STEP,
    # NC-SI and short ARP (CVE-2020-29129, CVE-2020-29130)
    "ncsi-short": b"\0" + frame(eth(b"\x00\x01", 0x88F8)) + STEP,
    "arp-short": b"\0" + frame(eth(b"\x00\x01\x08\x00\x06\x04\x00\x01", 0x0806, b"\xff" * 6)) + STEP,
    # short UDP for bootp, udp, tftp; short udp6 (CVE-2021-3592..3595)
    "udp-short-bootp": b"\0" + frame(eth(ip4(17, struct.pack("!HHHH", 68, 67, 8, 0) + b"\x01"), dst=b"\xff" * 6)) + STEP,
    "udp-short-tftp": b"\0" + frame(eth(ip4(17, struct.pack("!HHHH", 40000, 69, 12, 0) + b"\x00\x01"))) + STEP,
    "udp-short": b"\0" + frame(eth(ip4(17, struct.pack("!HHHH", 40000, 9, 4, 0)))) + STEP,
    "udp6-short": b"\0" + frame(eth(ip6(17, struct.pack("!HHHH", 40000, 9, 2, 0)), 0x86DD)) + STEP,
    # DHCPv6 CLIENTID at a small MTU (CVE-2026-95508)
    "dhcpv6-clientid": b"\0" + frame(eth(ip6(17, udp(547, b"\x01\x00\x00\x01" + b"\x00\x01\x00\x40" + b"D" * 64),
                                             bytes.fromhex("ff020000000000000000000000010002")), 0x86DD, bytes.fromhex("333300010002"))) + STEP,
    # ICMP echo through the gateway (CVE-2026-115449)
    "icmp-echo": b"\0" + frame(eth(ip4(1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"p" * 32))) + STEP + tick(1000) + STEP,
    # a burst of datagrams (CVE-2026-120831)
    "udp-burst": b"\0" + b"".join(frame(eth(ip4(17, udp(9000 + i, b"x" * 100), ident=i))) for i in range(40)) + STEP + STEP,
    # DNS through 10.0.2.3
    "dns-query": b"\0" + frame(eth(ip4(17, udp(53, QUERY, DNS), DNS))) + STEP,
    # the engine's own forwarder (netstack/dns.c): over IPv6, repeated past the in-flight
    # bound, then expired
    "dns-query-v6": b"\0" + frame(eth(ip6(17, udp(53, QUERY, DNS6), DNS6), 0x86dd)) + STEP,
    "dns-flood": b"\0" + b"".join(frame(eth(ip4(17, udp(53, QUERY, DNS), DNS, ident=i))) for i in range(70))
    + STEP + tick(6000) + STEP,
    # the engine's TCP translation (netstack/tcpnat.c): a handshake, data in order, out of
    # order and repeated, a closed window, a FIN, time passing (retransmissions) and a
    # reset; and a SYN over IPv6 to an address outside the virtual network
    "tcpnat-session": b"\0" + frame(eth(ip4(6, tcp_syn(80)))) + STEP
    + frame(eth(ip4(6, tcp_seg(80, 0x10, 1, 1)))) + frame(eth(ip4(6, tcp_seg(80, 0x18, 1, 1, b"hello"))))
    + frame(eth(ip4(6, tcp_seg(80, 0x18, 11, 1, b"world")))) + frame(eth(ip4(6, tcp_seg(80, 0x18, 1, 1, b"hello"))))
    + frame(eth(ip4(6, tcp_seg(80, 0x10, 6, 1, win=0)))) + STEP + tick(300) + STEP
    + frame(eth(ip4(6, tcp_seg(80, 0x11, 6, 1)))) + STEP + tick(9000) + STEP
    + frame(eth(ip4(6, tcp_seg(80, 0x04, 7, 0)))) + STEP,
    "tcpnat-v6": b"\0" + frame(eth(ip6(6, tcp_syn(443, dst=bytes.fromhex("20010db8000000000000000000000001"), src=CHILD6),
                                        bytes.fromhex("20010db8000000000000000000000001")), 0x86DD)) + STEP + tick(1000) + STEP,
    # the same behind virtio-net headers (partial checksums, a 64 KiB segment from the
    # child, offsets outside the frame, urgent data under a partial checksum), and a UDP
    # datagram for libslirp whose checksum the engine completes
    "tcpnat-vnet": b"\4" + frame(vnet(eth(ip4(6, tcp_syn(80))))) + STEP
    + frame(vnet(eth(ip4(6, tcp_seg(80, 0x10, 1, 1))))) + frame(vnet(eth(ip4(6, tcp_seg(80, 0x18, 1, 1, b"z" * 60000))), gso=1, gso_size=1460))
    + frame(vnet(eth(ip4(6, tcp_seg(80, 0x18, 60001, 1, b"x"))), csum_start=65000, csum_offset=900))
    + frame(vnet(eth(ip4(6, tcp(80, 0x38, seq=2, urg=60000, data=b"xyz")))))
    + frame(vnet(eth(ip4(17, udp(9, b"u" * 32))), csum_offset=6)) + STEP + tick(300) + STEP,
    # the virtio-net header's checksum request aimed at a field the filter judged (found
    # in this edition: the engine wrote it after the filter): the IPv4 and IPv6
    # destinations turned into loopback (--disable-host-loopback: the oracle traps a
    # send there), the protocol byte (UDP to TCP with URG), the fragment word (two
    # whole datagrams into fragments), the TCP flags (ACK to SYN), the urgent pointer
    "vnet-rewrite-dst4": b"\5" + rewrite(eth(ip4(17, udp(9, b"to loopback.....", dst=bytes([10, 0, 0, 1])), dst=bytes([10, 0, 0, 1]))),
                                          30, 0x7F00, 56, fix_ip4) + STEP,
    "vnet-rewrite-dst6": b"\5" + rewrite(eth(ip6(17, udp(9, b"to ::1.........."), dst=bytes(15) + b"\2"), 0x86DD),
                                          52, 0x0001, 52, fix_l4(6, True)) + STEP,
    "vnet-rewrite-proto": b"\4" + rewrite(eth(ip4(17, tcp(80, 0x22, seq=0x00140000, urg=1))), 22, 0x4006, 18, fix_l4(16, False)) + STEP,
    "vnet-rewrite-frag": b"\4" + rewrite(eth(ip4(17, struct.pack("!HHHH", 40000, 9, 40, 0) + b"first fragment..", ident=5)), 20, 0x2000, 56, fix_ip4)
    + rewrite(eth(ip4(17, b"second fragment.", ident=5)), 20, 0x0003, 48, fix_ip4) + STEP,
    "vnet-rewrite-flags": b"\4" + rewrite(eth(ip4(6, tcp(80, 0x10, seq=1, ack=7))), 46, 0x5002, 44, fix_l4(16, False)) + STEP,
    "vnet-rewrite-urp": b"\6" + rewrite(eth(ip4(6, tcp(80, 0x18, seq=1, ack=7, data=b"oob!"))), 52, 0x0004, 56, fix_l4(16, False)) + STEP,
    # host peers answer: the UDP translation's way back (a datagram larger than the MTU
    # goes as fragments, over IPv4 and IPv6; a sender of the wrong family), a DNS answer
    "udpnat-answers": b"\0" + frame(eth(ip4(17, udp(9, b"ping")))) + STEP + peer(0, b"A" * 4000) + STEP
    + peer(0x82, b"x" * 10) + STEP + peer(2, b"") + STEP,
    "udpnat-v6": b"\4" + frame(vnet(eth(ip6(17, udp(9, b"ping")), 0x86DD), csum_start=54, csum_offset=6))
    + STEP + peer(1, b"B" * 3000) + STEP + peer(0, b"b" * 100) + STEP,
    "dns-answer": b"\0" + frame(eth(ip4(17, udp(53, QUERY, DNS), DNS))) + STEP
    + peer(0x40, QUERY[:2] + b"\x81\x80" + QUERY[4:] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x35") + STEP,
    # the loopback filter's cases, with --disable-host-loopback
    "loopback-syn": b"\1" + frame(eth(ip4(6, tcp(8080, 0x02, dst=bytes([127, 0, 0, 1])), dst=bytes([127, 0, 0, 1]))))
    + frame(eth(ip4(6, tcp(8080, 0x02, dst=bytes(4)), dst=bytes(4)))) + frame(eth(ip4(6, tcp(8080, 0x02)))) + STEP,
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), OUT))
