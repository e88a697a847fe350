"""A whole pipechat stack in a scratch folder, started and stopped by the
project's own scripts (scripts/run --detach, scripts/stop, scripts/svc).

Each Stack owns /tmp/pipechat-test-XXXXXX (short, so Unix socket paths stay
under 107 bytes; mode 0755 so the unprivileged service user can enter it;
$PIPECHAT_TEST_TMPDIR replaces /tmp, e.g. to keep runs apart) with
the state folder var/ inside, and a free TCP port on 127.0.0.1. It does not
build anything: it runs the binaries of $PIPECHAT_BUILD (default <checkout>/build).
"""

import glob
import os
import re
import random
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[3]

# PIPECHAT_* variables of the caller's environment that reach the stack; every
# other PIPECHAT_* one is dropped so a developer's shell cannot change what the
# tests see (e.g. PIPECHAT_ORIGINS or PIPECHAT_PORT).
PASS_THROUGH = ("PIPECHAT_BUILD", "PIPECHAT_WEB", "PIPECHAT_LOG_LEVEL")

# The "other settings" stack shared by the tests that need the contract's
# defaults for proxies (none trusted: X-Forwarded-* is ignored) plus a few
# non-default settings whose effect can be seen from outside. Every request to
# it comes from 127.0.0.1, so it allows only 20 registrations per hour in all:
# register sparingly there.
PLAIN_ENV = {
    "PIPECHAT_TRUSTED_PROXIES": "",
    "PIPECHAT_TOKEN_TTL": "600",
    "PIPECHAT_SEND_RATE": "7",
}

_rng = random.SystemRandom()
_used_addresses = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_address(v6=False):
    """A client address never handed out before in this test session:
    10.x.y.z, or 2001:db8::/32 (documentation range) with v6=True."""
    while True:
        if v6:
            a = "2001:db8:%x:%x::%x" % (_rng.randrange(1, 0xffff),
                                        _rng.randrange(1, 0xffff),
                                        _rng.randrange(1, 0xffff))
        else:
            a = "10.%d.%d.%d" % (_rng.randrange(256), _rng.randrange(256),
                                 _rng.randrange(1, 255))
        if a not in _used_addresses:
            _used_addresses.add(a)
            return a


_SAN_BENIGN = re.compile(r"^(==\d+==Unable to get registers from thread \d+\.)?$")


def _san_finding(path):
    """True when a sanitizer log holds anything but benign lines."""
    try:
        with open(path, errors="replace") as f:
            return any(not _SAN_BENIGN.match(line.rstrip("\n")) for line in f)
    except OSError:
        return True


def session_and_group(pid):
    """(session id, process group id) of pid, from /proc/PID/stat."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return int(fields[3]), int(fields[2])


def children(pid):
    """Pids whose parent is pid (read from /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d.name))
    return out


class StackError(Exception):
    """The stack could not be started (the message holds the logs)."""


class Stack:
    """One running pipechat. Attributes: port, base_url ("http://127.0.0.1:P"),
    ws_url ("ws://127.0.0.1:P/ws"), origin (an allowed Origin), scratch and var
    (Paths), env (the environment the scripts ran with), trusted_proxies."""

    def __init__(self, settings=None):
        settings = dict(settings or {})
        self.settings = settings
        parent = os.environ.get("PIPECHAT_TEST_TMPDIR") or "/tmp"
        self.scratch = Path(tempfile.mkdtemp(prefix="pipechat-test-", dir=parent))
        os.chmod(self.scratch, 0o755)
        self.var = self.scratch / "var"
        self.port = free_port()
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.ws_url = "ws://127.0.0.1:%d/ws" % self.port
        self.origin = self.base_url
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PIPECHAT_") or k in PASS_THROUGH}
        env.update({
            "PIPECHAT_VAR": str(self.var),
            "PIPECHAT_PORT": str(self.port),
            "PIPECHAT_SKIP_BUILD": "1",
            "PIPECHAT_BUILD": os.environ.get("PIPECHAT_BUILD") or str(CHECKOUT / "build"),
            "PIPECHAT_TRUSTED_PROXIES": "127.0.0.1",
        })
        for k, v in settings.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        self.env = env
        self.trusted_proxies = env.get("PIPECHAT_TRUSTED_PROXIES", "")
        self.running = False

    def __repr__(self):
        return "<Stack %s var=%s>" % (self.base_url, self.var)

    # -- running the project's scripts ------------------------------------

    def script(self, name, *args, timeout=60, check=True):
        """Runs scripts/<name> args with this stack's environment; returns the
        CompletedProcess (stdout and stderr together in .stdout, text).
        Output goes through a file, not a pipe, so daemons that inherit it
        cannot keep us waiting. Raises StackError when check and it fails."""
        cmd = [str(CHECKOUT / "scripts" / name)] + [str(a) for a in args]
        out_path = self.scratch / ("%s.out" % name)
        with open(out_path, "w+") as out:
            try:
                p = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   timeout=timeout, cwd=str(CHECKOUT))
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = None
            out.seek(0)
            text = out.read()
        result = subprocess.CompletedProcess(cmd, rc, text, None)
        if check and rc != 0:
            raise StackError("%s %s: %s\n%s" % (
                shlex.join(cmd), "timed out after %ss" % timeout if rc is None
                else "exit %d" % rc, self.var, text[-4000:]))
        return result

    def svc(self, action, name, timeout=60):
        """scripts/svc ACTION NAME (stop|start|restart|kill; db, broker, api,
        ws, web). Raises StackError on failure."""
        return self.script("svc", action, name, timeout=timeout)

    def psql(self, sql, timeout=30):
        """Runs one SQL text through `scripts/svc psql` as the service user and
        returns the rows as lists of strings (NULL is "")."""
        p = subprocess.run([str(CHECKOUT / "scripts" / "svc"), "psql", "-X", "-q",
                            "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout,
                           cwd=str(CHECKOUT))
        if p.returncode != 0:
            raise StackError("psql %r: exit %d\n%s%s" % (sql, p.returncode,
                                                         p.stdout, p.stderr))
        return [line.split("\x1f") for line in p.stdout.splitlines()]

    # -- what the stack holds ---------------------------------------------

    def paths(self):
        """The KEY=VALUE lines of var/run/paths.env as a dict ({} if absent)."""
        out = {}
        try:
            text = (self.var / "run" / "paths.env").read_text()
        except OSError:
            return out
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            k, eq, v = line.partition("=")
            if not eq:
                continue
            try:
                parts = shlex.split(v)
                v = parts[0] if parts else ""
            except ValueError:
                pass
            out[k.strip()] = v
        return out

    def secret_path(self):
        """Where the JWT secret is: from paths.env, else var/secret/jwt.key."""
        for k, v in self.paths().items():
            if k.endswith("SECRET_FILE") or v.endswith("jwt.key"):
                return Path(v)
        for k, v in self.paths().items():
            if "SECRET" in k and os.path.isdir(v):
                return Path(v) / "jwt.key"
        return self.var / "secret" / "jwt.key"

    def secret(self):
        """The JWT signing key, the secret file's bytes as they are."""
        return self.secret_path().read_bytes()

    def pid(self, name):
        """The pid in var/run/<name>.pid, or None."""
        try:
            return int((self.var / "run" / ("%s.pid" % name)).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def ws_pids(self):
        """Pids of every websocketd of the stack: ws, ws2, ... in order
        (scripts/run starts PIPECHAT_MAX_WORKERS / 4,000 of them)."""
        out = []
        files = [f for f in (self.var / "run").glob("ws*.pid")
                 if re.fullmatch(r"ws[0-9]*", f.stem)]
        for f in sorted(files, key=lambda f: int(f.stem[2:] or 1)):
            try:
                out.append(int(f.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def workers(self):
        """Pids of the workers every websocketd of the stack has running."""
        return [k for w in self.ws_pids() for k in children(w)]

    def log(self, name):
        """The text of var/log/<name>.log ("" if absent)."""
        try:
            return (self.var / "log" / ("%s.log" % name)).read_text(errors="replace")
        except OSError:
            return ""

    def logs_tail(self, lines=60):
        """The last lines of every log, for failure messages."""
        parts = []
        for path in sorted(glob.glob(str(self.var / "log" / "*"))):
            try:
                text = Path(path).read_text(errors="replace").splitlines()
            except OSError:
                continue
            parts.append("==> %s <==\n%s" % (path, "\n".join(text[-lines:])))
        return "\n".join(parts)

    def sanitizer_logs(self):
        """ASan/UBSan report files found under the scratch folder. A log with
        nothing but LeakSanitizer's "Unable to get registers from thread N"
        lines (or nothing) is left out, as scripts/test does: the exit-time
        leak check of a process being killed could not run; it found
        nothing."""
        found = []
        for pat in ("asan*", "ubsan*"):
            found += glob.glob(str(self.scratch / "**" / pat), recursive=True)
        return sorted(p for p in found if os.path.isfile(p) and _san_finding(p))

    # -- lifetime ----------------------------------------------------------

    def start(self, timeout=120):
        """scripts/run --detach; StackError with the logs if it fails."""
        api = Path(self.env["PIPECHAT_BUILD"]) / "fcgi-api" / "pipechat-api"
        if not api.exists():
            raise StackError("%s is missing: build first (cmake -S %s -B %s && "
                             "cmake --build %s -j2) or set PIPECHAT_BUILD"
                             % (api, CHECKOUT, self.env["PIPECHAT_BUILD"],
                                self.env["PIPECHAT_BUILD"]))
        t0 = time.monotonic()
        try:
            self.script("run", "--detach", timeout=timeout)
        except StackError as e:
            logs = self.logs_tail()
            self.stop()
            raise StackError("%s\n%s\nscratch kept: %s" % (e, logs, self.scratch)) from None
        self.running = True
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self):
        """scripts/stop; never raises (returns the error text or None)."""
        try:
            self.script("stop", timeout=90)
            return None
        except StackError as e:
            return str(e)
        finally:
            self.running = False

    def remove(self):
        shutil.rmtree(self.scratch, ignore_errors=True)
