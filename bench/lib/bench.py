"""bench/lib/bench.py: what every pipechat benchmark shares: building the
binaries and the load generator, a stack in a scratch folder (started with
scripts/run --detach, stopped with scripts/stop), signed-in users, the CPU
time of each service, PSS, the broker's commit histogram (from
/api/metrics), and the table of medians and ratios.

Not for: load generation (bench/loadgen/, in C) or correctness (tests/).
"""

import atexit
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PIPECHAT_BUILD") or CHECKOUT / "build-bench")
LOADGEN = BUILD / "loadgen" / "loadgen"
WSECHO = BUILD / "loadgen" / "wsecho"
TICK = os.sysconf("SC_CLK_TCK")
AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def say(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def install_tools():
    """Installs what only the benchmarks use (PIPECHAT_BENCH_PACKAGES in
    scripts/lib/deps.sh: wrk), when missing."""
    subprocess.run(["bash", "-c", '. "$1/scripts/lib/common.sh" && . "$1/scripts/lib/deps.sh" '
                    '&& deps_install "$PIPECHAT_BENCH_PACKAGES"', "bash", str(CHECKOUT)],
                   check=True)


def build():
    """Installs the benchmarks' own tools, builds the three programs (unless
    PIPECHAT_SKIP_BUILD=1) and the load generator into BUILD."""
    install_tools()
    if os.environ.get("PIPECHAT_SKIP_BUILD") != "1":
        say("building in %s" % BUILD)
        subprocess.run(["cmake", "-S", str(CHECKOUT), "-B", str(BUILD),
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", str(BUILD), "-j2", "--target",
                        "pipechat-broker", "pipechat-api", "pipechat-ws"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["make", "-s", "-C", str(CHECKOUT / "bench" / "loadgen"),
                    "OUT=%s" % (BUILD / "loadgen")], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    """Waits until something accepts on 127.0.0.1:port."""
    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


# Limits raised for every benchmark (printed with the results): one user
# stands for many sockets and senders instead of thousands of fake users.
RAISED = {
    "PIPECHAT_SEND_RATE": "1000000",
    "PIPECHAT_SEND_BURST": "1000000",
    "PIPECHAT_MAX_SOCKETS_PER_USER": "1000000",
    "PIPECHAT_MAX_ROOMS_PER_SOCKET": "1000",
    "PIPECHAT_LOG_LEVEL": "warn",
}


class Stack:
    """A pipechat stack in /tmp/pcb-XXXXXX (state in var/)."""

    def __init__(self, settings=None):
        self.scratch = Path(tempfile.mkdtemp(prefix="pcb-", dir="/tmp"))
        os.chmod(self.scratch, 0o755)
        self.var = self.scratch / "var"
        self.port = free_port()
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.origin = self.base_url
        self.ws_url = "ws://127.0.0.1:%d/ws" % self.port
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPECHAT_")}
        env.update(RAISED)
        env.update({
            "PIPECHAT_VAR": str(self.var), "PIPECHAT_PORT": str(self.port),
            "PIPECHAT_SKIP_BUILD": "1", "PIPECHAT_BUILD": str(BUILD),
            "PIPECHAT_TRUSTED_PROXIES": "127.0.0.1",
            # A token of this run only, so the benchmark can read the
            # broker's commit histogram (Stack.commits).
            "PIPECHAT_METRICS_TOKEN": uuid.uuid4().hex + uuid.uuid4().hex,
        })
        for k in ("PIPECHAT_WEB", "PIPECHAT_WS_SCHED"):  # what a benchmark may vary
            if os.environ.get(k):
                env[k] = os.environ[k]
        env.update(settings or {})
        self.env = env
        self.started = False

    def script(self, name, *args, timeout=180):
        out = self.scratch / ("%s.out" % name)
        with open(out, "w+") as f:
            p = subprocess.run([str(CHECKOUT / "scripts" / name)] + list(args),
                               env=self.env, stdin=subprocess.DEVNULL, stdout=f,
                               stderr=subprocess.STDOUT, timeout=timeout)
            f.seek(0)
            text = f.read()
        if p.returncode != 0:
            raise RuntimeError("scripts/%s failed (%s):\n%s" % (name, self.var, text[-3000:]))
        return text

    def start(self):
        say("starting a stack in %s on port %d (%s)" % (
            self.var, self.port, self.env.get("PIPECHAT_WEB", "lighttpd")))
        self.started = True
        self.script("run", "--detach")
        return self

    def stop(self):
        if self.started:
            try:
                self.script("stop", timeout=60)
            except Exception as e:  # keep the folder to look at
                say("stop failed: %s" % e)
                return
            self.started = False
            subprocess.run(["rm", "-rf", str(self.scratch)])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def pid(self, name):
        try:
            return int((self.var / "run" / ("%s.pid" % name)).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # The broker's histograms a benchmark reads (broker/README.md, "Metrics").
    COMMIT = "pipechat_broker_commit_duration_seconds"    # BEGIN to COMMIT returned
    QUEUED = "pipechat_broker_send_queued_seconds"        # a send's wait for its transaction
    RETURNED = "pipechat_broker_send_returned_seconds"    # its answer's way to the main thread

    def histograms(self):
        """The broker's histograms so far, from GET /api/metrics: {name:
        {"count", "sum" (seconds), "buckets": [(le seconds, cumulative
        count)]}} for COMMIT, QUEUED and RETURNED."""
        r = requests.get(self.base_url + "/api/metrics", timeout=10, headers={
            "Authorization": "Bearer " + self.env["PIPECHAT_METRICS_TOKEN"]})
        r.raise_for_status()
        out = {n: {"count": 0.0, "sum": 0.0, "buckets": []}
               for n in (self.COMMIT, self.QUEUED, self.RETURNED)}
        for line in r.text.splitlines():
            m = re.match(r"(\w+)_(bucket|sum|count)\{([^}]*)\} (\S+)$", line)
            if not m or m.group(1) not in out:
                continue
            h = out[m.group(1)]
            if m.group(2) == "bucket":
                le = re.search(r'le="([^"]+)"', m.group(3))
                h["buckets"].append((float(le.group(1)), float(m.group(4))))
            else:
                h[m.group(2)] = float(m.group(4))
        return out

    def service_env(self):
        """The services' settings as `scripts/svc env` prints them (shell
        quoted export lines): {name: value}."""
        out = subprocess.run([str(CHECKOUT / "scripts" / "svc"), "env"], env=self.env,
                             capture_output=True, text=True, check=True).stdout
        return dict(shlex.split(line)[1].split("=", 1) for line in out.splitlines()
                    if line.startswith("export "))

    def commits(self):
        """The COMMIT histogram so far (histograms)."""
        return self.histograms()[self.COMMIT]

    def ws_pids(self):
        """Pids of every websocketd of the stack (ws, ws2, ...: scripts/run
        starts one per 4,000 of PIPECHAT_MAX_WORKERS)."""
        out = []
        for f in sorted((self.var / "run").glob("ws*.pid"),
                        key=lambda f: int(f.stem[2:] or 1)):
            try:
                out.append(int(f.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def psql(self, sql):
        p = subprocess.run([str(CHECKOUT / "scripts" / "svc"), "psql", "-X", "-q", "-At",
                            "-v", "ON_ERROR_STOP=1", "-c", sql], env=self.env,
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("psql: %s%s" % (p.stdout, p.stderr))
        return p.stdout

    def postmaster_pid(self):
        for f in self.var.rglob("postmaster.pid"):
            try:
                return int(f.read_text().split()[0])
            except (OSError, ValueError):
                pass
        runtime = self.var / "runtime"
        if runtime.exists():
            for f in runtime.resolve().rglob("postmaster.pid"):
                return int(f.read_text().split()[0])
        return None

    def service_pids(self):
        """{service: leader pid}; db is the postmaster; every websocketd by
        its service name (ws, ws2, ...: cpu_snapshot adds them up as ws)."""
        out = {n: self.pid(n) for n in ("web", "api", "broker")}
        out.update(("ws%d" % (i + 1) if i else "ws", p) for i, p in enumerate(self.ws_pids()))
        out["db"] = self.postmaster_pid()
        return out

    def user(self, prefix="b"):
        """Registers and signs in a user; returns (session, cookie header, id)."""
        s = requests.Session()
        s.headers["X-Forwarded-For"] = "10.%d.%d.%d" % tuple(os.urandom(3))
        s.headers["Origin"] = self.origin
        name = "%s%s" % (prefix, uuid.uuid4().hex[:12])
        pw = "bench-password-" + uuid.uuid4().hex
        r = s.post(self.base_url + "/api/register",
                   json={"username": name, "email": name + "@example.com", "password": pw})
        r.raise_for_status()
        r = s.post(self.base_url + "/api/login", json={"username": name, "password": pw})
        r.raise_for_status()
        tok = s.cookies.get("access_token")
        return s, "access_token=%s" % tok, r.json()["id"]

    def room(self, session, name=None):
        r = session.post(self.base_url + "/api/rooms",
                         json={"name": name or "bench-" + uuid.uuid4().hex[:10], "kind": "public"})
        r.raise_for_status()
        return r.json()["id"]


# -- processes: CPU and memory ------------------------------------------------

def _stat(pid):
    try:
        raw = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()
    # fields after the name: state=0 ppid=1 pgrp=2 session=3 ... utime=11 stime=12 cutime=13 cstime=14
    return {"ppid": int(rest[1]), "pgrp": int(rest[2]), "cpu": int(rest[11]) + int(rest[12]),
            "ccpu": int(rest[13]) + int(rest[14])}


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                out[int(d)] = st
    return out


def service_procs(name, lp, procs):
    """The live pids of service name whose leader is lp: every process in
    the leader's process group (scripts/run starts each service as one, all
    in one session: scripts/lib/stack.sh), or the postmaster and its
    children for db."""
    if not lp or lp not in procs:
        return []
    return [pid for pid, st in procs.items()
            if (name == "db" and (pid == lp or st["ppid"] == lp)) or
            (name != "db" and st["pgrp"] == procs[lp]["pgrp"])]


def cpu_snapshot(leaders):
    """{name: CPU seconds} of each service (service_procs); exited, reaped
    children count through the leader's cutime. ws2, ws3, ... (more
    websocketd) count as ws."""
    procs = all_procs()
    out = {}
    for name, lp in leaders.items():
        pids = service_procs(name, lp, procs)
        if not pids:
            continue
        ticks = procs[lp]["ccpu"] + sum(procs[p]["cpu"] for p in pids)
        key = "ws" if re.fullmatch(r"ws[0-9]+", name) else name
        out[key] = out.get(key, 0) + ticks / TICK
    return out


def cpu_delta(a, b, secs):
    """{name: percent of one core} between two snapshots."""
    return {k: 100.0 * (b.get(k, 0) - a.get(k, 0)) / secs for k in b}


def pss_kib(pid):
    try:
        for line in Path("/proc/%d/smaps_rollup" % pid).read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    return [p for p, st in all_procs().items() if st["ppid"] == pid]


def threads(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


def thread_headroom():
    """Threads that may still be created before kernel.pid_max."""
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    used = sum(threads(p) for p in all_procs())
    return pid_max - used


# -- load generator -------------------------------------------------------------

def parse_kv(line):
    return {k: _num(v) for k, v in re.findall(r"(\w+)=(\S+)", line)}


def _num(v):
    try:
        return float(v) if "." in v else int(v)
    except ValueError:
        return v


def loadgen(mode, url, *, cookie=None, origin=None, n=1, senders=1, rate=100,
            duration=5, ready=None, room=0, expect_acks=False, k=100, timeout=120,
            rooms=None, say=None, window=1):
    """Runs the load generator to completion; returns the RESULT dict.
    rooms: connection i in rooms[i % len(rooms)] (--rooms); say: what each
    connection sends at its 101 (--say); window: sends each sender keeps in
    flight in ack mode (-w)."""
    cmd = [str(LOADGEN), mode, "-u", url, "-n", str(n), "-s", str(senders),
           "-w", str(window), "-r", str(rate), "-d", str(duration), "-k", str(k),
           "-R", str(room), "-T", str(timeout)]
    if cookie:
        cmd += ["-c", cookie]
    if origin:
        cmd += ["-o", origin]
    if ready:
        cmd += ["--ready", ready]
    if rooms:
        cmd += ["--rooms", ",".join(str(r) for r in rooms)]
    if say:
        cmd += ["--say", say]
    if expect_acks:
        cmd.append("--expect-acks")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + duration + 60)
    if p.stderr.strip():
        say("loadgen: " + p.stderr.strip().replace("\n", "\n  ")[:1500])
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return parse_kv(line)
    raise RuntimeError("loadgen gave no RESULT: %s %s" % (shlex.join(cmd), p.stdout + p.stderr))


def brokerload(st, cookie, rooms, secs):
    """Closed-loop senders straight to the stack's broker, one per room
    (bench/loadgen/brokerload: the workers' own link code, no web server,
    websocketd or worker), run as the broker's user (it checks the peer's
    uid, and its folder, 0700, is that user's); returns the RESULT dict."""
    broker_dir = st.service_env()["PIPECHAT_BROKER_DIR"]
    owner = os.stat(broker_dir)
    cmd = [str(LOADGEN.parent / "brokerload"), "--dir", broker_dir,
           "--token", cookie.split("=", 1)[1], "--rooms", ",".join(str(r) for r in rooms),
           "--secs", str(secs)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60,
                       user=owner.st_uid, group=owner.st_gid, extra_groups=[])
    if p.stderr.strip():
        say("brokerload: " + p.stderr.strip()[:1500])
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return parse_kv(line)
    raise RuntimeError("brokerload gave no RESULT: %s" % (p.stdout + p.stderr))


def hist_stats(a, b):
    """What a histogram of Stack.histograms() counted between two scrapes:
    {"n", "mean_ms", "p50_ms", "p99_ms"} (quantiles linear within a
    bucket, as Prometheus' histogram_quantile), or {"n": 0}."""
    n = b["count"] - a["count"]
    if n <= 0:
        return {"n": 0}
    before = dict(a["buckets"])
    cum = [(le, c - before.get(le, 0.0)) for le, c in b["buckets"]]

    def quantile(q):
        want, lo, below = q * n, 0.0, 0.0
        for le, c in cum:
            if c >= want:
                if le == float("inf"):
                    return lo * 1000
                return (lo + (le - lo) * (want - below) / max(c - below, 1e-9)) * 1000
            lo, below = le, c
        return None

    return {"n": n, "mean_ms": (b["sum"] - a["sum"]) / n * 1000,
            "p50_ms": quantile(0.5), "p99_ms": quantile(0.99)}


def commit_stats(a, b):
    """What the broker's commits between two Stack.commits() did: their
    number, mean, p50 and p99 in milliseconds (hist_stats)."""
    h = hist_stats(a, b)
    if not h["n"]:
        return {"commits": 0}
    return {"commits": h["n"], "commit_mean_ms": h["mean_ms"],
            "commit_p50_ms": h["p50_ms"], "commit_p99_ms": h["p99_ms"]}


# -- output ------------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1):
        return "%d" % v
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def table(title, header, rows):
    """Prints a plain-text table (rows: lists of values)."""
    cells = [[str(h) for h in header]] + [[fmt(v) for v in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print("\n== %s" % title)
    for j, r in enumerate(cells):
        print("  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r)))
        if j == 0:
            print("  ".join("-" * x for x in w))
    sys.stdout.flush()


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def autogroup():
    """kernel.sched_autogroup_enabled: "1", "0", or None (no such knob)."""
    try:
        return AUTOGROUP.read_text().strip()
    except OSError:
        return None


def sysctl_for_run(knob, value, flag, prog, wanted=lambda old: True):
    """As root, the kernel setting at knob (a /proc/sys path) set to value
    for this run when wanted(its old value), and put back at exit (SIGTERM,
    bench/run-all's timeout, unwinds like Ctrl-C); says so. Not root while
    a change is wanted: exits, naming flag."""
    name = "kernel." + knob.name
    try:
        old = knob.read_text().strip()
    except OSError:
        return
    if old == str(value) or not wanted(old):
        return
    if os.geteuid() != 0:
        sys.exit("%s: %s needs root" % (prog, flag))

    def put_back():
        knob.write_text(old)
        print("%s put back to %s" % (name, old))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    atexit.register(put_back)
    knob.write_text(str(value))
    print("%s set from %s to %s for this run (%s); it is put back at the end"
          % (name, old, value, flag))


def parse_args(ap):
    """ap.parse_args() with --no-autogroup, which every benchmark takes:
    kernel.sched_autogroup_enabled=0 for this run (sysctl_for_run). With the
    knob on, each session is a scheduling group: scripts/run's services are
    one (they share a session), the load generator another (docs/deploy.md,
    "Scheduler")."""
    ap.add_argument("--no-autogroup", action="store_true",
                    help="as root: kernel.sched_autogroup_enabled=0 for the run (put back after)")
    a = ap.parse_args()
    if a.no_autogroup:
        sysctl_for_run(AUTOGROUP, 0, "--no-autogroup", ap.prog)
    return a


def ws_sched():
    """The stack's PIPECHAT_WS_SCHED (scripts/lib/stack.sh: batch unless the
    environment says other)."""
    return os.environ.get("PIPECHAT_WS_SCHED", "batch")


def websocketd(*args):
    """The command line of a reference websocketd with ARGS, started as the
    stack starts its own (scripts/lib/ws-sched, under ws_sched), so that a
    reference differs from pipechat's websocketd only in the program it
    runs."""
    return [str(CHECKOUT / "scripts" / "lib" / "ws-sched"), ws_sched(), "websocketd", *args]


def print_settings(extra=""):
    print("settings raised for the benchmark: %s%s" % (
        " ".join("%s=%s" % kv for kv in RAISED.items() if kv[0] != "PIPECHAT_LOG_LEVEL"), extra))
    print("machine: %d cores, load average %s (figures from a shared, busy machine are noisy)" % (
        os.cpu_count(), " ".join(Path("/proc/loadavg").read_text().split()[:3])))
    print("websocketd, its workers and the references' websocketd: PIPECHAT_WS_SCHED=%s"
          " (docs/deploy.md, \"Scheduling policy\")" % ws_sched())
    ag = autogroup()
    if ag is not None:
        print("scheduler: kernel.sched_autogroup_enabled=%s%s" % (
            ag, " (the stack is one scheduling group, the load generator another; "
                "--no-autogroup turns it off for a run)" if ag == "1" else ""))


def budget_deadline(seconds):
    return time.monotonic() + seconds
