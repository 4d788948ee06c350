#!/usr/bin/env python3
"""A hostile stand-in for slirp4netns' API socket, as the command inside can put one in its
place (14-slirp4netns.bats). Every wait is bounded (60 s in all).

  fakes4nn.py huge-id PATH   answers add_hostfwd with an id no int holds (1e300)
  fakes4nn.py dribble PATH   answers with a valid reply, one byte every 0.8 s

Writes "listening" on stdout once PATH accepts connections.
"""
import os
import socket
import sys
import time

mode, path = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
srv.settimeout(60)
print("listening", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    c.settimeout(5)
    try:
        c.recv(65536)
        if mode == "huge-id":
            c.sendall(b'{"return": {"id": 1e300}}\n')
        else:
            for b in b'{"return": {"id": 5}}\n':
                c.sendall(bytes([b]))
                time.sleep(0.8)
    except OSError:
        pass
    c.close()
