#!/usr/bin/env python3
"""A download through a published port whose server exits right after sending (13-ports.bats).

  download.py serve PORT SIZE READYFILE  on 127.0.0.1:PORT: one client; reads its request
                                         until EOF (the client half-closes), sends SIZE
                                         bytes, and exits at once
  download.py fetch HOST PORT            sends a request, half-closes, reads slowly until
                                         EOF (60 s at most); prints "BYTES SHA256"
  download.py expect SIZE                prints what fetch prints for a whole download
"""
import hashlib
import socket
import sys
import time

BLOCK = 65536


def blocks(size):
    """SIZE bytes of a fixed pattern that no block repeats (a lost block changes the sum)."""
    n = 0
    while n < size:
        b = hashlib.sha256(str(n).encode()).digest() * (BLOCK // 32)
        b = b[: min(BLOCK, size - n)]
        n += len(b)
        yield b


def serve(port, size, ready):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    open(ready, "w").write("ready\n")
    s.settimeout(30)
    c, _ = s.accept()
    c.settimeout(30)
    while c.recv(4096):
        pass
    for b in blocks(size):
        c.sendall(b)
    # exits with the data still on its way: rootlesskit must deliver it


def fetch(host, port):
    c = socket.create_connection((host, port), timeout=10)
    c.sendall(b"get")
    c.shutdown(socket.SHUT_WR)
    h, n = hashlib.sha256(), 0
    end = time.monotonic() + 60
    while time.monotonic() < end:
        d = c.recv(BLOCK)
        if not d:
            break
        h.update(d)
        n += len(d)
        time.sleep(0.002)  # slower than the server: the rest waits in buffers
    print(n, h.hexdigest())


def expect(size):
    h = hashlib.sha256()
    for b in blocks(size):
        h.update(b)
    print(size, h.hexdigest())


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif mode == "fetch":
        fetch(sys.argv[2], int(sys.argv[3]))
    else:
        expect(int(sys.argv[2]))
