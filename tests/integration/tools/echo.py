#!/usr/bin/env python3
"""Echo server and bounded clients for the port-forwarding tests (loopback only).

  echo.py serve PORT [READYFILE [HOST]]
                                  TCP and UDP echo on [::]:PORT (dual-stack) or HOST:PORT;
                                  a TCP client that sends "peer\\n" first gets its own
                                  address back instead. Writes READYFILE when listening.
  echo.py tcp HOST PORT TEXT      one TCP round trip; prints the answer
  echo.py chat HOST PORT TEXT     one TCP round trip that waits for the answer line before
                                  closing (no half-close: old pasta loses data sent just
                                  before one)
  echo.py udp HOST PORT TEXT      one UDP round trip (retried, 5 s at most)
  echo.py burst HOST PORT N       N connections open at once, each echoes its own line;
                                  prints "ok N" or fails
  echo.py hold HOST PORT          connects, prints "connected", waits for EOF, prints "eof"
"""
import resource
import selectors
import socket
import sys
import time

DEADLINE = 60  # no mode runs longer than this


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(port, ready, host="::"):
    raise_nofile()
    sel = selectors.DefaultSelector()
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if host == "::":
        tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.bind((host, port))
    tcp.listen(4096)
    tcp.setblocking(False)
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    if host == "::":
        udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    udp.bind((host, port))
    udp.setblocking(False)
    sel.register(tcp, selectors.EVENT_READ, "accept")
    sel.register(udp, selectors.EVENT_READ, "udp")
    if ready:
        with open(ready, "w") as f:
            f.write("ready\n")
    first = {}
    while True:
        for key, _ in sel.select():
            if key.data == "accept":
                try:
                    c, addr = tcp.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                first[c] = addr
                sel.register(c, selectors.EVENT_READ, "conn")
            elif key.data == "udp":
                try:
                    data, addr = udp.recvfrom(65536)
                    udp.sendto(data, addr)
                except BlockingIOError:
                    pass
            else:
                c = key.fileobj
                try:
                    data = c.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                addr = first.pop(c, None)
                if not data:
                    sel.unregister(c)
                    c.close()
                    continue
                if addr is not None and data == b"peer\n":
                    host = addr[0]
                    if host.startswith("::ffff:"):
                        host = host[7:]
                    data = (host + "\n").encode()
                try:
                    c.setblocking(True)
                    c.sendall(data)
                    c.setblocking(False)
                except OSError:
                    sel.unregister(c)
                    c.close()


def tcp_once(host, port, text):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall((text + "\n").encode())
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    sys.stdout.write(out.decode())


def chat_once(host, port, text):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall((text + "\n").encode())
        out = b""
        while not out.endswith(b"\n"):
            b = s.recv(65536)
            if not b:
                break
            out += b
    sys.stdout.write(out.decode())


def udp_once(host, port, text):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for _ in range(10):
            s.sendto(text.encode(), (host, port))
            try:
                data, _ = s.recvfrom(65536)
                print(data.decode())
                return
            except socket.timeout:
                continue
    sys.exit("no UDP answer")


def burst(host, port, n):
    raise_nofile()
    end = time.monotonic() + DEADLINE
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = n
    while pending:
        if time.monotonic() > end:
            sys.exit("burst: timed out with %d connections unanswered" % pending)
        for key, ev in sel.select(timeout=1):
            s, i = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sys.exit("burst: connection %d failed: %s" % (i, err))
                msg = ("line %d\n" % i).encode()
                s.send(msg)
                want[i] = msg
                sel.modify(s, selectors.EVENT_READ, i)
            else:
                data = s.recv(65536)
                if data != want[i]:
                    sys.exit("burst: connection %d got %r" % (i, data))
                sel.unregister(s)
                s.close()
                pending -= 1
    print("ok", n)


def hold(host, port):
    with socket.create_connection((host, port), timeout=DEADLINE) as s:
        print("connected", flush=True)
        data = s.recv(1)
        print("eof" if not data else "data")


def main():
    mode = sys.argv[1]
    if mode == "serve":
        serve(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None,
              sys.argv[4] if len(sys.argv) > 4 else "::")
    elif mode == "tcp":
        tcp_once(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "chat":
        chat_once(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "udp":
        udp_once(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "burst":
        burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "hold":
        hold(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
