"""Two brokers and two web nodes on one machine against one PostgreSQL
(contract section 7; docs/scaling.md), for tests/integration/test_sharding.py.

Node A is an ordinary Stack (scripts/run: PostgreSQL, API, websocketd,
lighttpd) started with PIPECHAT_BROKERS naming two brokers on tls+tcp://
loopback ports and the certificates of scripts/make-certs. The rest is
started here, as the service user, with the stack's database and secret:
broker shard 0 (in place of the stack's own, on the stack's ipc folder, so
that it alone gets broker.pem while node A's API and workers present
client.pem, as on a real machine: docs/scaling.md), broker shard 1 (its own
ipc folder, the second tls+tcp:// address), and node B: its own API
(spawn-fcgi), websocketd and lighttpd on other ports. Every process started
here is stopped by its pid in stop().

How each node's programs reach the brokers, as on two machines:
  node A (the machine of broker 0): its workers over ipc:// to broker 0 and
      tls+tcp:// to broker 1 (PIPECHAT_WS_BROKERS); its API over tls+tcp://
      to both;
  node B (a web node with no broker): workers and API over tls+tcp:// to
      both (PIPECHAT_BROKERS), with client.pem, inside the workers' sandbox
      in tcp mode (common/sandbox.h).

A Node has what pclib's clients need of a stack (base_url, ws_url, origin,
port, trusted_proxies), so make_client / make_user work against node B.
"""

import os
import pwd
import grp
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .stack import CHECKOUT, Stack, StackError, free_port


def _free_pair():
    """A port P with P and P + 1 free (a tcp broker's workers and API)."""
    for _ in range(50):
        p = free_port()
        if p < 65000 and _port_free(p + 1):
            return p
    raise StackError("no two consecutive free ports")


def _port_free(port):
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _listening(port):
    import socket
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Node:
    """Where clients reach one web node."""

    def __init__(self, port, trusted_proxies):
        self.port = port
        self.base_url = "http://127.0.0.1:%d" % port
        self.ws_url = "ws://127.0.0.1:%d/ws" % port
        self.origin = self.base_url
        self.trusted_proxies = trusted_proxies


class Cluster:
    """stack (node A, broker 0), node_a, node_b (Nodes), brokers (the two
    addresses), certs (the folder). start() / stop() / restart_broker(i) /
    broker_cmd(shard) (argv and env of a broker for that shard)."""

    def __init__(self):
        self.procs = {}
        self.ports = [_free_pair(), _free_pair()]
        self.brokers = ",".join("tls+tcp://127.0.0.1:%d" % p for p in self.ports)
        self.stack = None

    # -- helpers --------------------------------------------------------

    def _user(self):
        if os.getuid() != 0:
            return None
        pw = pwd.getpwnam("pipechat")
        return pw.pw_uid, pw.pw_gid, grp.getgrgid(pw.pw_gid).gr_name

    def _drop(self):
        u = self._user()
        if u is None:
            return []
        return ["setpriv", "--reuid=%d" % u[0], "--regid=%d" % u[1],
                "--init-groups", "--"]

    def _base_env(self):
        paths = self.stack.paths()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": str(self.here)}
        text = (self.stack.var / "run" / "settings.env").read_text()
        for line in text.splitlines():
            if line.startswith("PIPECHAT_") and "=" in line:
                k, _, v = line.partition("=")
                import shlex
                parts = shlex.split(v)
                env[k] = parts[0] if parts else ""
        for k in ("PIPECHAT_DB", "PIPECHAT_SECRET_FILE"):
            env[k] = paths[k]
        if paths.get("PC_SANITIZE") == "1":
            env["ASAN_OPTIONS"] = "detect_leaks=1:log_path=%s/asan" % self.here
            env["UBSAN_OPTIONS"] = "print_stacktrace=1:log_path=%s/ubsan" % self.here
        return env

    def _bin(self, name):
        rel = {"broker": "broker/pipechat-broker", "api": "fcgi-api/pipechat-api",
               "ws": "ws-worker/pipechat-ws"}[name]
        return os.path.join(self.stack.env["PIPECHAT_BUILD"], rel)

    def _spawn(self, name, argv, env):
        log = open(self.here / ("%s.log" % name), "ab")
        p = subprocess.Popen(self._drop() + argv, env=env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd="/")
        log.close()
        self.procs[name] = p
        return p

    def log(self, name):
        try:
            return (self.here / ("%s.log" % name)).read_text(errors="replace")
        except OSError:
            return ""

    def broker_cmd(self, shard):
        """argv and env of a broker for shard (its own ipc folder; shard 0
        uses the stack's, where node A's workers find it), with the broker's
        certificate."""
        env = self._base_env()
        d = self.here / ("b%d" % shard)
        sock = self.stack.var / "sock" / "broker" if shard == 0 else d / "sock"
        env.update({"PIPECHAT_BROKER_DIR": str(sock),
                    "PIPECHAT_BROKER_SHARD": str(shard),
                    "PIPECHAT_TLS_CERT_FILE": str(self.certs / "broker.pem")})
        env.pop("PIPECHAT_WS_BROKERS", None)
        return [self._bin("broker")], env, d

    # -- lifetime -------------------------------------------------------

    def start(self):
        self.here = None
        # node A: the ordinary stack, broker shard 0
        self.stack = Stack({
            "PIPECHAT_BROKERS": self.brokers,
            "PIPECHAT_BROKER_SHARD": "0",
            # made below, before the services start (scripts/run reads
            # them only when starting)
            "PIPECHAT_TLS_CA_FILE": "@CA@",
            "PIPECHAT_TLS_CERT_FILE": "@CERT@",
        })
        self.here = self.stack.scratch / "cl"
        self.here.mkdir(mode=0o755)
        # Node A's workers: broker 0 of their own machine over ipc://, broker
        # 1 over tls+tcp:// (as on another machine); its API over TLS to both.
        self.ws_brokers = "ipc://%s,tls+tcp://127.0.0.1:%d" % (
            self.stack.var / "sock" / "broker", self.ports[1])
        self.stack.env["PIPECHAT_WS_BROKERS"] = self.ws_brokers
        self.certs = self.here / "certs"
        subprocess.run([str(CHECKOUT / "scripts" / "make-certs"), str(self.certs)],
                       check=True, capture_output=True, timeout=60)
        u = self._user()
        for f in [self.certs] + list(self.certs.iterdir()):
            if u is not None:
                os.chown(f, u[0], u[1])
        # APIs and workers present client.pem (clientAuth only); brokers
        # broker.pem (broker_cmd).
        ca, cert = str(self.certs / "ca.pem"), str(self.certs / "client.pem")
        self.stack.settings["PIPECHAT_TLS_CA_FILE"] = ca
        self.stack.settings["PIPECHAT_TLS_CERT_FILE"] = cert
        self.stack.env["PIPECHAT_TLS_CA_FILE"] = ca
        self.stack.env["PIPECHAT_TLS_CERT_FILE"] = cert
        if u is not None:
            os.chown(self.here, u[0], u[1])
        self.stack.start()
        assert self.stack.paths()["PIPECHAT_BROKER_DIR"] == \
            str(self.stack.var / "sock" / "broker"), self.stack.paths()
        self.node_a = Node(self.stack.port, self.stack.trusted_proxies)
        # Broker 0 again, with broker.pem: the stack's started with the one
        # certificate every program of its settings file shares.
        self.stack.svc("stop", "broker")
        self.start_broker(0)
        self.start_broker(1)
        self._start_node_b()
        return self

    def start_broker(self, shard, wait=True):
        argv, env, d = self.broker_cmd(shard)
        d.mkdir(exist_ok=True)
        u = self._user()
        if u is not None:
            os.chown(d, u[0], u[1])
        p = self._spawn("broker%d" % shard, argv, env)
        if wait:
            deadline = time.monotonic() + 30
            while not _listening(self.ports[shard]):
                if p.poll() is not None or time.monotonic() > deadline:
                    raise StackError("broker %d did not start:\n%s"
                                     % (shard, self.log("broker%d" % shard)))
                time.sleep(0.1)
        return p

    def _start_node_b(self):
        paths = self.stack.paths()
        port, ws_port = free_port(), free_port()
        sock = self.here / "api.sock"
        env = self._base_env()
        env.update({"PIPECHAT_PORT": str(port),
                    "PIPECHAT_ORIGINS": "http://127.0.0.1:%d" % port,
                    # node B's own ipc folder: its brokers are tls+tcp://
                    "PIPECHAT_BROKER_DIR": str(self.here / "nb")})
        # no broker on node B's machine: workers dial PIPECHAT_BROKERS
        env.pop("PIPECHAT_WS_BROKERS", None)
        self._spawn("api_b", ["spawn-fcgi", "-n", "-s", str(sock), "-M", "0600",
                              "--", self._bin("api")], env)
        wenv = {k: v for k, v in env.items()
                if k not in ("PIPECHAT_DB", "PIPECHAT_SECRET_FILE",
                             "PIPECHAT_METRICS_TOKEN")}
        passenv = ",".join(k for k in wenv if k != "HOME")
        self._spawn("ws_b", ["websocketd", "--address=127.0.0.1", "--port=%d" % ws_port,
                             "--passenv=%s" % passenv, self._bin("ws")], wenv)
        # Node B is lighttpd whatever node A runs: behind nginx, node A's
        # configuration folder is nginx's, so take the checkout's (or its
        # copy) for lighttpd.
        conf_dir = paths["PC_WEB_CONF_DIR"]
        if paths.get("PC_WEB") == "nginx":
            conf_dir = str(CHECKOUT / "deploy" / "lighttpd")
            copy = Path(paths["PC_DATA"]) / "etc" / "lighttpd"
            if copy.is_dir():
                conf_dir = str(copy)
        lenv = {"PATH": env["PATH"], "PIPECHAT_PORT": str(port),
                "PIPECHAT_BIND": "127.0.0.1", "PIPECHAT_WWW": paths["PC_WWW"],
                "PIPECHAT_API_SOCKET": str(sock), "PIPECHAT_WS_PORT": str(ws_port),
                "PIPECHAT_LIGHTTPD_DIR": conf_dir}
        self._spawn("web_b", ["lighttpd", "-D", "-f",
                              os.path.join(conf_dir, "pipechat.conf")],
                    lenv)
        deadline = time.monotonic() + 30
        while not (_listening(port) and _listening(ws_port) and sock.exists()):
            for name in ("api_b", "ws_b", "web_b"):
                if self.procs[name].poll() is not None:
                    raise StackError("%s exited:\n%s" % (name, self.log(name)))
            if time.monotonic() > deadline:
                raise StackError("node B did not come up")
            time.sleep(0.1)
        self.node_b = Node(port, self.stack.trusted_proxies)

    def stop_proc(self, name, sig=signal.SIGTERM, timeout=10):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)

    def worker_cmd(self, node, user, sandbox="on", extra=None):
        """argv and env of a pipechat-ws started by hand as websocketd on
        node ("a" or "b") would start it for user (stdin/stdout are the
        socket)."""
        env = self._base_env()
        for k in ("PIPECHAT_DB", "PIPECHAT_SECRET_FILE", "PIPECHAT_METRICS_TOKEN"):
            env.pop(k, None)
        n = self.node_a if node == "a" else self.node_b
        env.update({"PIPECHAT_PORT": str(n.port), "PIPECHAT_ORIGINS": n.origin,
                    "PIPECHAT_SANDBOX": sandbox, "HTTP_COOKIE": user.cookie_header,
                    "HTTP_ORIGIN": n.origin, "REMOTE_ADDR": "127.0.0.1",
                    "QUERY_STRING": ""})
        if node == "a":
            env["PIPECHAT_BROKER_DIR"] = str(self.stack.var / "sock" / "broker")
            env["PIPECHAT_WS_BROKERS"] = self.ws_brokers
        else:
            env["PIPECHAT_BROKER_DIR"] = str(self.here / "nb")
            env.pop("PIPECHAT_WS_BROKERS", None)
        env.update(extra or {})
        return self._drop() + [self._bin("ws")], env

    def worker_pids(self, name):
        """Worker pids of websocketd name ("ws_b"), or of node A's
        websocketd processes ("ws": ws, ws2, ...)."""
        pids = self.stack.ws_pids() if name == "ws" else [self.procs[name].pid]
        kids = []
        # websocketd is a Go program: any of its threads may be the parent
        for pid in pids:
            for task in Path("/proc/%s/task" % pid).glob("*"):
                try:
                    kids += (task / "children").read_text().split()
                except OSError:
                    pass
        return sorted(set(int(k) for k in kids))

    def stop(self):
        for name in ("web_b", "ws_b", "api_b", "broker1", "broker0"):
            self.stop_proc(name)
        for name in list(self.procs):
            self.stop_proc(name)
        if self.stack is not None:
            return self.stack.stop()
        return None

    def remove(self):
        if self.stack is not None:
            shutil.rmtree(self.stack.scratch, ignore_errors=True)
