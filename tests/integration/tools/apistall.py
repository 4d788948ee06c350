#!/usr/bin/env python3
"""Slow and stalled clients of the API socket (11-api.bats). Every wait is bounded.

trickle SOCK N: sends a request one byte a second, N bytes at most; prints
    "closed after K bytes" when the server ends the connection first, else "open after N bytes".
sequential SOCK N: N requests one after another, each on a new connection, as fast as they
    go; prints how many were answered "200".
flood SOCK N: opens N connections at once, each with half a request line, and prints
    "closed at once: C" (those the server ended within half a second), then the status of a
    GET /v1/info through a new connection ("info 200"), then, after waiting up to 15 s,
    "still open: K" (stalled connections the server has not ended).
"""
import select
import socket
import sys
import time

REQUEST = b"GET /v1/info HTTP/1.1\r\nHost: rootlesskit\r\n\r\n"


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def ended(s):
    """True when the server has closed s (EOF or reset is readable)."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except OSError:
        return True


def trickle(path, n):
    s = connect(path)
    for i in range(n):
        if ended(s):
            print(f"closed after {i} bytes")
            return
        try:
            s.send(REQUEST[i % len(REQUEST):i % len(REQUEST) + 1] if i < len(REQUEST) - 4 else b"X")
        except OSError:
            print(f"closed after {i} bytes")
            return
        time.sleep(1)
    print("closed after %d bytes" % n if ended(s) else f"open after {n} bytes")


def flood(path, n):
    stalled = []
    for _ in range(n):
        s = connect(path)
        s.send(b"GET /v1/in")
        stalled.append(s)
    time.sleep(0.5)
    print("closed at once:", sum(1 for s in stalled if ended(s)))
    # a second later the stalled ones may give way to a client with a whole request
    time.sleep(1)
    c = connect(path)
    c.send(REQUEST)
    answer = c.recv(4096).split(b"\r\n")[0].decode(errors="replace")
    print("info", answer.split(" ")[1] if answer.startswith("HTTP/1.1 ") else repr(answer))
    c.close()
    deadline = time.monotonic() + 15
    open_ = [s for s in stalled if not ended(s)]
    while open_ and time.monotonic() < deadline:
        time.sleep(0.2)
        open_ = [s for s in open_ if not ended(s)]
    print("still open:", len(open_))


def sequential(path, n):
    ok = 0
    for _ in range(n):
        c = connect(path)
        c.send(REQUEST)
        try:
            if c.recv(4096).startswith(b"HTTP/1.1 200 "):
                ok += 1
        except OSError:
            pass
        c.close()
    print("answered", ok)


if __name__ == "__main__":
    {"trickle": trickle, "flood": flood, "sequential": sequential}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
