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
  echo.py reuse HOST PORT N SIZE  N connections one after the other, all from one local
                                  port: each sends SIZE bytes and "bye\\n" (the server echoes
                                  it and closes first) and reads the echo to EOF; prints
                                  "reused N" or fails
  echo.py hold HOST PORT          connects, prints "connected", waits for EOF, prints "eof"
  echo.py idle HOST PORT N SECONDS
                                  N connections that send nothing, held SECONDS; prints
                                  "idle N" once all are connected
  echo.py udpsources HOST PORT FIRST N
                                  one datagram from each of the local ports FIRST..FIRST+N-1,
                                  paced; prints "sent N"
  echo.py dnsflood HOST SECONDS   DNS queries to HOST:53, 200 a second; prints "flooded"
  echo.py unixidle PATH N SECONDS N idle connections to the unix socket PATH, held SECONDS;
                                  prints "idle N" (or how many were made) once done
"""
import resource
import selectors
import socket
import sys
import threading
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
                    if data.endswith(b"bye\n"):
                        raise OSError("closing first")
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


def reuse(host, port, n, size):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    local = 0
    for i in range(n):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", local))
        local = s.getsockname()[1]
        s.settimeout(10)
        try:
            s.connect((host, port))
        except OSError as e:
            sys.exit("connection %d from port %d: %s" % (i + 1, local, e))
        want = b"x" * size + b"bye\n"
        got = [0, None]

        def read_all(sock=s, got=got):
            try:
                while True:
                    b = sock.recv(1 << 20)
                    if not b:
                        return
                    got[0] += len(b)
            except OSError as e:
                got[1] = e

        reader = threading.Thread(target=read_all)
        reader.start()  # the echo comes back while the rest is sent
        s.sendall(want)
        reader.join(DEADLINE)
        s.close()
        if got[1] is not None:
            sys.exit("connection %d from port %d: %s" % (i + 1, local, got[1]))
        got = got[0]
        if got != len(want):
            sys.exit("connection %d: %d bytes back, want %d" % (i + 1, got, len(want)))
        time.sleep(0.002)  # a newer timestamp for the host's own TIME_WAIT
    print("reused %d" % n)


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


def idle(host, port, n, seconds):
    raise_nofile()
    socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
    print("idle", len(socks), flush=True)
    time.sleep(min(seconds, DEADLINE))


def udp_sources(host, port, first, n):
    for p in range(first, first + n):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", p))
            s.sendto(b"x", (host, port))
        # about 10 000 a second: what a tap's queue holds, so that none is lost on the way
        if p % 50 == 0:
            time.sleep(0.005)
    print("sent", n)


# a query for test.invalid (RFC 6761: never a real name)
QUERY = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x07invalid\x00\x00\x01\x00\x01"


def dns_flood(host, seconds):
    end = time.monotonic() + min(seconds, DEADLINE)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        i = 0
        while time.monotonic() < end:
            s.sendto(i.to_bytes(2, "big") + QUERY[2:], (host, 53))
            i = (i + 1) & 0xFFFF
            time.sleep(0.005)
    print("flooded")


def unix_idle(path, n, seconds):
    raise_nofile()
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(path)
        except OSError:
            s.close()
            break
        socks.append(s)
    print("idle", len(socks), flush=True)
    time.sleep(min(seconds, DEADLINE))


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
    elif mode == "reuse":
        reuse(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "idle":
        idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "udpsources":
        udp_sources(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "dnsflood":
        dns_flood(sys.argv[2], float(sys.argv[3]))
    elif mode == "unixidle":
        unix_idle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
