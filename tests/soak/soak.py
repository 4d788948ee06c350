#!/usr/bin/env python3
"""Soak test: one rootlesskit instance per port driver, worked for SECONDS in all.

For each variant (the builtin port driver over --net=slirp4netns, and the builtin and
netstack port drivers over --net=builtin) it repeats a cycle: publish 100 ports with
rootlessctl, check that `rootlessctl list-ports` and the listening sockets (ss) agree,
make an echo connection through each, open connections from the namespace to a host
server (10.0.2.2), unpublish them all and check that nothing listens any more. After the
last cycle, the descriptors, threads and memory of rootlesskit, its child and the engine
must come back to what they were after the first cycle (descriptors and threads exactly,
memory within 4 MiB). slirp4netns, not ours, is shown but not judged. Traffic goes to 127.0.0.1
and to the namespace only. Prints a line per variant; exits 1 on any failure.

  soak.py run SECONDS ROOTLESSKIT ROOTLESSCTL
  soak.py serve PORT READYFILE     (the command inside: a threaded TCP echo server)
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PORTS = 100
# SOAK_PORT_BASE moves every port it uses (another run, or the test suite, may be using
# these)
PORT_BASE = int(os.environ.get("SOAK_PORT_BASE", "20000"))
BASE = {"slirp4netns/builtin": PORT_BASE, "builtin/builtin": PORT_BASE + 200,
        "builtin/netstack": PORT_BASE + 400}
HOST_ECHO = PORT_BASE - 10
SETTLE_S = 40  # how long the processes get to return to their baseline
RSS_SLACK_KB = 4096


def serve(port, ready):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(256)

    def echo(c):
        with c:
            c.settimeout(10)
            try:
                while True:
                    d = c.recv(4096)
                    if not d:
                        return
                    c.sendall(d)
            except OSError:
                return

    open(ready, "w").write("ready\n")
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def host_echo(stop):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", HOST_ECHO))
    s.listen(64)
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        with c:
            c.settimeout(5)
            try:
                c.sendall(c.recv(4096))
            except OSError:
                pass
    s.close()


def echo_once(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.settimeout(5)
        c.sendall(b"soak\n")
        got = b""
        while len(got) < 5:
            d = c.recv(64)
            if not d:
                break
            got += d
        return got == b"soak\n"


def metrics(pid):
    """(descriptors, threads, RSS in KiB) of a live process. The descriptors of one that is
    not dumpable (the socket maker: the command must not reach them, so neither can the
    user) are not ours to list: None, and only its threads and RSS are compared."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except PermissionError:
        fds = None
    threads = rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return fds, threads, rss


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    return {int(p): c for p, c in (l.split(None, 1) for l in out.splitlines())}


def listening(lo, hi):
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True).stdout
    ports = set()
    for line in out.splitlines():
        local = line.split()[3]
        port = int(local.rsplit(":", 1)[1])
        if lo <= port < hi:
            ports.add(port)
    return ports


class Variant:
    def __init__(self, name, rk, ctl, work):
        self.name = name
        net, pd = name.split("/")
        self.base = BASE[name]
        self.ctl = ctl
        self.state = os.path.join(work, name.replace("/", "-"))
        ready = self.state + ".ready"
        self.proc = subprocess.Popen(
            [rk, f"--state-dir={self.state}", f"--net={net}", f"--port-driver={pd}",
             sys.executable, os.path.abspath(__file__), "serve", "8080", ready],
            stdout=subprocess.DEVNULL, stderr=open(self.state + ".log", "w"))
        end = time.monotonic() + 20
        while not os.path.exists(ready):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise RuntimeError(f"{name}: rootlesskit did not start: " + self.log())
            time.sleep(0.05)
        self.child_pid = int(open(os.path.join(self.state, "child_pid")).read())
        self.cycles = self.conns = self.failures = 0
        self.errors = []

    def log(self):
        try:
            return open(self.state + ".log").read()
        except OSError:
            return ""

    def pids(self):
        """rootlesskit, then its children (the child, and the engine or slirp4netns)."""
        kids = children(self.proc.pid)
        return {"rootlesskit": self.proc.pid,
                **{f"{c}[{p}]": p for p, c in kids.items()}}

    def rootlessctl(self, *args):
        r = subprocess.run([self.ctl, f"--socket={self.state}/api.sock", *args],
                           capture_output=True, text=True, timeout=30)
        if r.returncode:
            raise RuntimeError(f"rootlessctl {args[0]}: {r.stderr.strip()}")
        return r.stdout

    def fail(self, what):
        self.failures += 1
        if len(self.errors) < 5:
            self.errors.append(what)

    def cycle(self):
        lo, hi = self.base, self.base + PORTS
        specs = [f"127.0.0.1:{p}:8080/tcp" for p in range(lo, hi)]
        ids = self.rootlessctl("add-ports", *specs).split()
        listed = self.rootlessctl("list-ports").splitlines()[1:]
        if len(ids) != PORTS or len(listed) != PORTS:
            self.fail(f"{len(ids)} ids, {len(listed)} listed, {PORTS} added")
        if self.name.endswith("/builtin") or self.name.endswith("/netstack"):
            got = listening(lo, hi)
            if got != set(range(lo, hi)):
                self.fail(f"listening: {len(got)} of {PORTS}")
        for p in range(lo, hi):
            self.conns += 1
            try:
                if not echo_once(p):
                    self.fail(f"echo through {p}: wrong answer")
            except OSError as e:
                self.fail(f"echo through {p}: {e}")
        out = subprocess.run(
            ["nsenter", "-U", "-n", "-t", str(self.child_pid), "--preserve-credentials",
             sys.executable, "-c",
             "import socket\n"
             "for i in range(5):\n"
             f"    c = socket.create_connection(('10.0.2.2', {HOST_ECHO}), timeout=5)\n"
             "    c.sendall(b'x'); assert c.recv(1) == b'x'; c.close()\n"
             "print('out ok')"], capture_output=True, text=True, timeout=30)
        if out.stdout.strip() != "out ok":
            self.fail("outbound: " + (out.stderr.strip().splitlines() or ["?"])[-1])
        self.conns += 5
        self.rootlessctl("remove-ports", *ids)
        if self.rootlessctl("list-ports").splitlines()[1:]:
            self.fail("ports still listed after remove-ports")
        got = listening(lo, hi)
        if got:
            self.fail(f"{len(got)} ports still listening after remove-ports")
        self.cycles += 1

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def steady(v):
    """The metrics once descriptors and threads hold still for a second (the port driver tops its socket pools
    up on a timer after a burst: a reading taken during that refill is no baseline), after
    10 s at most."""
    end = time.monotonic() + 10
    last = None
    while True:
        time.sleep(1)
        now = {n: metrics(p) for n, p in v.pids().items()}
        held = {n: m[:2] for n, m in now.items()}  # descriptors and threads
        if held == last or time.monotonic() > end:
            return now
        last = held


def settle(v, baseline):
    """Waits for every process to come back to its baseline; returns the last metrics."""
    end = time.monotonic() + SETTLE_S
    while True:
        now = {n: metrics(p) for n, p in v.pids().items() if n in baseline}
        ok = all(now[n][0] == baseline[n][0] and now[n][1] == baseline[n][1] and
                 now[n][2] <= baseline[n][2] + RSS_SLACK_KB
                 for n in now if not n.startswith("slirp4netns")) and \
            len(now) == len(baseline)
        if ok or time.monotonic() > end:
            return ok, now
        time.sleep(0.5)


def run(seconds, rk, ctl):
    variants = ["builtin/builtin", "builtin/netstack"]
    if subprocess.run(["sh", "-c", "command -v slirp4netns"], capture_output=True).returncode == 0:
        variants.insert(0, "slirp4netns/builtin")
    else:
        print("soak: slirp4netns is not installed: its variant is left out")
    stop = threading.Event()
    server = threading.Thread(target=host_echo, args=(stop,), daemon=True)
    server.start()
    failed = False
    with tempfile.TemporaryDirectory(prefix="rk-soak.") as work:
        for name in variants:
            v = Variant(name, rk, ctl, work)
            try:
                v.cycle()  # the first cycle warms the pools and the allocator up
                baseline = steady(v)
                end = time.monotonic() + seconds / len(variants)
                while time.monotonic() < end:
                    v.cycle()
                ok, final = settle(v, baseline)
                alive = v.proc.poll() is None
            except Exception as e:  # noqa: BLE001 (any failure of the run is the result)
                ok, final, alive = False, {}, v.proc.poll() is None
                v.fail(str(e))
            v.stop()
            good = ok and alive and v.failures == 0
            failed |= not good
            print(f"soak {name}: {'ok' if good else 'FAILED'}: {v.cycles} cycles, "
                  f"{v.conns} connections, {v.failures} failures")
            for n in sorted(final):
                b, f = baseline[n], final[n]
                print(f"  {n}: fds {b[0]} -> {f[0]}, threads {b[1]} -> {f[1]}, "
                      f"RSS {b[2]} -> {f[2]} KiB")
            for e in v.errors:
                print("  error:", e)
            if not alive:
                print("  rootlesskit ended early:", v.log().strip()[-500:])
    stop.set()
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(run(float(sys.argv[2]), sys.argv[3], sys.argv[4]))
