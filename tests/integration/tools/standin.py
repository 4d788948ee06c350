#!/usr/bin/python3
# A stand-in helper: appends "NAME ARGS: FDS" (its open descriptors) to $RK_FDLOG, then
# runs the real helper named by $RK_REAL_<NAME>, if any, or exits 1.
import os, sys
def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
fds = [str(fd) for fd in range(1024) if is_open(fd)]
name = os.path.basename(sys.argv[0])
with open(os.environ["RK_FDLOG"], "a") as log:
    log.write("%s %s: %s\n" % (name, " ".join(sys.argv[1:2]), " ".join(fds)))
real = os.environ.get("RK_REAL_" + name.replace("-", "_"))
if real:
    os.execv(real, [real] + sys.argv[1:])
sys.exit(1)
