#!/usr/bin/env python3
"""A hostile stand-in for slirp4netns' API socket, as the command inside can put one in its
place (14-slirp4netns.bats). Every wait is bounded (60 s in all).

  fakes4nn.py huge-id PATH   answers add_hostfwd with an id no int holds (1e300)
  fakes4nn.py dribble PATH   answers with a valid reply, one byte every 0.8 s

Writes "listening" on stdout once PATH accepts connections.
"""
import sys
import time

from pkt import serve_unix


def answer(c):
    c.recv(65536)
    if sys.argv[1] == "huge-id":
        c.sendall(b'{"return": {"id": 1e300}}\n')
        return
    for b in b'{"return": {"id": 5}}\n':
        c.sendall(bytes([b]))
        time.sleep(0.8)


serve_unix(sys.argv[2], answer)
