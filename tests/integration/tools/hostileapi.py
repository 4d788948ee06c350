#!/usr/bin/env python3
"""A hostile REST API server on a unix socket (12-rootlessctl.bats): every string it sends
carries terminal control sequences. Serves until killed, 60 s at most.

  hostileapi.py SOCK    writes "listening" on stdout once SOCK accepts connections
"""
import json
import sys

from pkt import serve_unix

EVIL = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\n\u009b1;1H"


def answer(c):
    req = c.recv(65536).decode(errors="replace")
    if req.startswith("GET /v1/info"):
        status, body = "200 OK", {"apiVersion": "1.1.1" + EVIL, "version": EVIL,
                                  "stateDir": EVIL, "childPID": 1,
                                  "networkDriver": {"driver": EVIL, "dns": [EVIL]}}
    elif req.startswith("GET /v1/ports"):
        status, body = "200 OK", [{"id": 1, "spec": {"proto": "tcp" + EVIL,
                                                    "parentIP": EVIL, "parentPort": 1,
                                                    "childPort": 2}}]
    else:
        status, body = "500 Internal Server Error", {"message": "no" + EVIL}
    data = json.dumps(body).encode()
    c.sendall(("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n" % (status, len(data))).encode() + data)


serve_unix(sys.argv[1], answer)
