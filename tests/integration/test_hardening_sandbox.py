"""The worker's sandbox (common/sandbox.h) on a real stack: every worker runs
with no_new_privs, a seccomp filter and its rlimits; a worker that tries to
open a file, exec, or make another kind of socket once inside is refused or
killed; chat goes on, across a broker restart too (NNG redials from inside
the filter).

Tcp mode (a broker reached over tls+tcp://, as a web node with no broker
of its own does): the worker is started by hand with PIPECHAT_BROKERS
naming a TLS listener of this test (certificates from scripts/make-certs),
which completes the handshake and hangs up, so the worker redials again and
again from inside the filter: it admits TCP sockets, is never killed (and
in trap mode names no refused call), and with Landlock (Linux 6.7+) may
connect to the broker's port only. A whole cluster over tls+tcp:// is
test_sharding.py.

The refusals use the test hook PIPECHAT_SANDBOX_SELFTEST, compiled in only
with the CMake option PIPECHAT_TEST_HOOKS (on by default in sanitizer
builds, the ones scripts/test runs): the worker is started by hand, as
websocketd would start it, with a user's cookie, and tries the act right
after entering the sandbox. Without the hooks those tests are skipped.
"""

import asyncio
import ctypes
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from pclib.stack import CHECKOUT
from test_hardening_audit import audit_lines, worker_pid
from test_ws_client import WS, make_room, run, send_many


def build_dir(stack):
    return Path(stack.env["PIPECHAT_BUILD"])


def has_test_hooks(stack):
    try:
        cache = (build_dir(stack) / "CMakeCache.txt").read_text()
    except OSError:
        return False
    return "PIPECHAT_TEST_HOOKS:BOOL=ON" in cache.splitlines()


def sanitized(stack):
    return stack.paths().get("PC_SANITIZE") == "1"


def proc_status(pid):
    out = {}
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def proc_limits(pid):
    """{'Max processes': ('0', '0'), ...} from /proc/PID/limits."""
    out = {}
    for line in Path("/proc/%d/limits" % pid).read_text().splitlines()[1:]:
        name = line[:26].strip()
        parts = line[26:].split()
        out[name] = (parts[0], parts[1])
    return out


def assert_sandboxed(stack, pid):
    st = proc_status(pid)
    assert st["NoNewPrivs"] == "1", st
    assert st["Seccomp"] == "2", st
    if sanitized(stack):
        return  # ASan: no rlimits (sandbox.h)
    lim = proc_limits(pid)
    assert lim["Max processes"] == ("0", "0"), lim
    assert lim["Max file size"] == ("0", "0"), lim
    soft, hard = lim["Max address space"]
    assert soft == hard and soft != "unlimited", lim
    # VmSize when it entered plus 256 MiB of headroom.
    size_kib = int(st["VmSize"].split()[0])
    assert size_kib * 1024 < int(soft) <= size_kib * 1024 + (512 << 20), (st["VmSize"], soft)


def test_every_worker_is_sandboxed(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        loop = asyncio.get_running_loop()
        pid = await loop.run_in_executor(None, worker_pid, stack, u)
        assert_sandboxed(stack, pid)
        await ws.alive()
        await ws.close()
    run(scenario())


class Worker:
    """pipechat-ws started by hand for one user, as websocketd starts it:
    as the service user, with the CGI variables and the worker's settings."""

    def __init__(self, stack, user, selftest, asan_dir=None, extra=None):
        paths = stack.paths()
        if paths.get("PC_BIN_COPY") == "1":
            exe = Path(paths["PC_BIN_DIR"]) / "pipechat-ws"
        else:
            exe = build_dir(stack) / "ws-worker" / "pipechat-ws"
        env = {
            "PATH": "/usr/bin:/bin",
            "PIPECHAT_BROKER_DIR": paths["PIPECHAT_BROKER_DIR"],
            "PIPECHAT_PORT": str(stack.port),
            "PIPECHAT_SANDBOX_SELFTEST": selftest,
            "HTTP_COOKIE": user.cookie_header,
            "REMOTE_ADDR": "127.0.0.1",
            "QUERY_STRING": "",
        }
        env.update(extra or {})
        if sanitized(stack):
            ulog = asan_dir or paths["PC_ULOG"]
            env["ASAN_OPTIONS"] = "detect_leaks=1:log_path=%s/asan" % ulog
            env["UBSAN_OPTIONS"] = "print_stacktrace=1:log_path=%s/ubsan" % ulog
        cmd = [str(exe)]
        user_name = paths.get("PC_SVC_USER")
        if os.geteuid() == 0 and user_name and user_name != "root":
            group = paths.get("PC_SVC_GROUP") or user_name
            cmd = ["setpriv", "--reuid=" + user_name, "--regid=" + group,
                   "--init-groups", "--"] + cmd
        self.p = subprocess.Popen(cmd, env=env, cwd="/", stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self, lines=(), timeout=20):
        """Writes lines to stdin, closes it, and returns (returncode, stdout
        lines, stderr text)."""
        data = "".join(l + "\n" for l in lines).encode()
        out, err = self.p.communicate(data, timeout=timeout)
        return (self.p.returncode, out.decode(errors="replace").splitlines(),
                err.decode(errors="replace"))


def selftest(stack, user, what, lines=(), asan_dir=None):
    if not has_test_hooks(stack):
        pytest.skip("%s was built without PIPECHAT_TEST_HOOKS" % build_dir(stack))
    return Worker(stack, user, what, asan_dir=asan_dir).finish(lines)


def test_open_refused_inside(stack, new_user):
    """open() after the sandbox: EACCES, and the worker serves on."""
    u = new_user()
    rc, out, err = selftest(stack, u, "open", ['{"type":"ping"}'])
    if sanitized(stack):
        # ASan keeps open for its own reports (sandbox.h).
        assert "sandbox selftest open: allowed" in err, err
    else:
        assert "sandbox selftest open: refused: Permission denied" in err, err
    assert rc == 0, (rc, err)
    assert '"type":"hello"' in out[0] and '{"type":"pong"}' in out, out


@pytest.mark.parametrize("what", ["exec", "socket", "connect:9"])
def test_exec_and_other_sockets_kill_the_worker(stack, new_user, what):
    """exec, or a socket that is not AF_UNIX (with ipc:// brokers only, the
    default): the kernel kills the worker (SIGSYS) before it does anything
    else; nothing reaches the client."""
    u = new_user()
    rc, out, err = selftest(stack, u, what, ['{"type":"ping"}'])
    assert rc == -signal.SIGSYS, (rc, err)
    assert "sandbox selftest %s: trying" % what in err, err
    assert "allowed" not in err and "refused" not in err, err
    assert out == [], out


def test_fork_kills_the_worker(stack, new_user):
    u = new_user()
    if sanitized(stack):
        pytest.skip("LeakSanitizer needs clone in sanitizer builds")
    rc, out, err = selftest(stack, u, "fork")
    assert rc == -signal.SIGSYS, (rc, err)


def test_unix_socket_allowed_inside(stack, new_user):
    """The broker's family stays open: that is how NNG redials."""
    u = new_user()
    rc, out, err = selftest(stack, u, "unix", ['{"type":"ping"}'])
    assert "sandbox selftest unix: allowed" in err, err
    assert rc == 0 and '{"type":"pong"}' in out, (rc, out, err)


def test_asan_reports_from_inside(stack, new_user):
    """Sanitizer builds: a memory error inside the sandbox still yields a
    full report (the filter keeps what ASan needs). The report goes to a
    folder of this test's own (outside the stack's scratch folder), so the
    run's sanitizer scan does not count this deliberate one."""
    if not sanitized(stack):
        pytest.skip("not a sanitizer build")
    u = new_user()
    d = Path(tempfile.mkdtemp(prefix="pipechat-asan-selftest-"))
    try:
        os.chmod(d, 0o777)  # the service user writes the report
        rc, out, err = selftest(stack, u, "asan", asan_dir=str(d))
        reports = list(d.glob("asan.*"))
        assert rc != 0 and len(reports) == 1, (rc, err, reports)
        text = reports[0].read_text(errors="replace")
        assert "heap-buffer-overflow" in text and "main_selftest" in text, text[:2000]
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.disruptive
def test_sandboxed_worker_redials_restarted_broker(stack, new_user):
    """The broker restarts under open sockets: the same sandboxed workers
    redial (socket + connect from inside the filter), re-join, and chat goes
    on with no hole."""
    a, b = new_user(), new_user()
    room = make_room(a)

    async def scenario():
        wa = await WS.hello(stack, a)
        wb = await WS.hello(stack, b)
        await wa.join(room)
        await wb.join(room)
        loop = asyncio.get_running_loop()
        pa = await loop.run_in_executor(None, worker_pid, stack, a)
        pb = await loop.run_in_executor(None, worker_pid, stack, b)
        await send_many(wa, room, ["before"])
        await loop.run_in_executor(None, stack.svc, "restart", "broker")
        end = time.monotonic() + 20
        while True:
            try:
                acks, _ = await send_many(wa, room, ["after"])
                break
            except AssertionError:
                # unavailable while the broker comes back
                assert time.monotonic() < end, "broker not back"
                await asyncio.sleep(0.5)
        seen = []
        while len(seen) < 2:
            f = await wb.expect("message", timeout=15)
            seen.append(f["body"])
        assert seen == ["before", "after"], seen
        for pid in (pa, pb):
            assert_sandboxed(stack, pid)  # the same processes, still inside
        await wa.close()
        await wb.close()
    run(scenario(), timeout=90)
    assert audit_lines(stack, event="disconnect", reason="sandbox_failed") == []


# ---- tcp mode ---------------------------------------------------------------


class TLSBrokerStub:
    """A TLS listener on the loopback addresses with the broker's
    certificate that requires a client certificate, completes each TLS and
    SP handshake and hangs up: a broker a worker keeps redialling. .port,
    .accepted, .handshakes, stop()."""

    def __init__(self, certs):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(certs / "broker.pem"))
        self.ctx.load_verify_locations(str(certs / "ca.pem"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        # both families: "localhost" may resolve to ::1 or 127.0.0.1
        self.sock = socket.socket(socket.AF_INET6)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.sock.bind(("::", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.handshakes = 0
        self.done = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            c.settimeout(5)
            with self.ctx.wrap_socket(c, server_side=True) as t:
                self.handshakes += 1
                # the SP headers, then hang up: a pipe that comes and goes,
                # as with a broker that restarts (a peer that hangs up
                # during the headers stops NNG 1.5.2's dialer for good:
                # scripts/lib/nng-patches/0001-nego-close-keeps-listener.patch)
                if t.recv(8):
                    t.sendall(b"\x00SP\x00\x00\x11\x00\x00")
                    time.sleep(0.05)
        except (ssl.SSLError, OSError):
            pass
        finally:
            c.close()

    def stop(self):
        self.done = True
        self.t.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def tcp_certs():
    d = Path(tempfile.mkdtemp(prefix="pipechat-sandbox-certs-"))
    os.chmod(d, 0o755)
    subprocess.run([str(CHECKOUT / "scripts" / "make-certs"), str(d / "c")],
                   check=True, capture_output=True, timeout=60)
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("pipechat")
            for f in [d / "c"] + list((d / "c").iterdir()):
                os.chown(f, pw.pw_uid, pw.pw_gid)
        except KeyError:
            pass
    yield d / "c"
    shutil.rmtree(d, ignore_errors=True)


def landlock_net():
    """Non-zero when this kernel has Landlock's network rules (ABI >= 4)."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return abi >= 4


def tcp_worker(stack, user, certs, port, selftest="", sandbox=None, wait_for=None,
               until=None, seconds=15.0, host="127.0.0.1"):
    """Runs a worker whose only broker is tls+tcp://127.0.0.1:port until
    wait_for appears on stderr or until() is true (at most `seconds`), then
    SIGTERM; returns (returncode, stderr)."""
    extra = {"PIPECHAT_BROKERS": "tls+tcp://%s:%d" % (host, port),
             "PIPECHAT_TLS_CA_FILE": str(certs / "ca.pem"),
             "PIPECHAT_TLS_CERT_FILE": str(certs / "client.pem"),
             "PIPECHAT_LOG_LEVEL": "debug"}
    if sandbox:
        extra["PIPECHAT_SANDBOX"] = sandbox
    w = Worker(stack, user, selftest, extra=extra)
    err = b""
    end = time.monotonic() + seconds
    os.set_blocking(w.p.stderr.fileno(), False)
    while time.monotonic() < end and w.p.poll() is None:
        time.sleep(0.1)
        try:
            err += w.p.stderr.read() or b""
        except (BlockingIOError, TypeError):
            pass
        if wait_for and wait_for.encode() in err:
            break
        if until is not None and until():
            break
    if w.p.poll() is None:
        w.p.send_signal(signal.SIGTERM)
    try:
        w.p.wait(10)
    except subprocess.TimeoutExpired:
        w.p.kill()
        w.p.wait(5)
    os.set_blocking(w.p.stderr.fileno(), True)
    err += w.p.stderr.read() or b""
    w.p.stdin.close()
    w.p.stdout.close()
    w.p.stderr.close()
    return w.p.returncode, err.decode(errors="replace")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tcp_mode_redials_from_inside(stack, new_user, tcp_certs, host):
    """A worker whose broker is on another machine (tls+tcp://) enters the
    sandbox in tcp mode and redials from inside it (resolver, socket,
    connect, options, TLS handshake) without being killed; in trap mode
    (test builds) no call is refused on the way. A broker named by a host
    name is resolved before the filter (the TLS check still uses the
    name: make-certs' broker.pem names localhost)."""
    u = new_user()
    stub = TLSBrokerStub(tcp_certs)
    try:
        mode = "trap" if has_test_hooks(stack) else None
        # the first dial may start before the filter: wait for two more
        rc, err = tcp_worker(stack, u, tcp_certs, stub.port, selftest="socket",
                             sandbox=mode, until=lambda: stub.handshakes >= 3,
                             host=host)
    finally:
        stub.stop()
    if has_test_hooks(stack):
        # the selftest hook exists only in test-hooks builds
        assert "sandbox selftest socket: allowed" in err, err
    assert stub.handshakes >= 3, (stub.accepted, stub.handshakes, err)
    assert rc == 0, (rc, err)
    assert "denied syscall" not in err, err


def test_tcp_mode_connects_to_broker_ports_only(stack, new_user, tcp_certs):
    """In tcp mode seccomp admits AF_INET but cannot see connect's address;
    Landlock (Linux 6.7+) limits TCP connect to the brokers' ports, so the
    web server's port (or PostgreSQL's) is refused. Elsewhere only the
    firewall of docs/security.md limits it (skipped)."""
    if not has_test_hooks(stack):
        pytest.skip("%s was built without PIPECHAT_TEST_HOOKS" % build_dir(stack))
    if not landlock_net():
        pytest.skip("this kernel has no Landlock network rules")
    u = new_user()
    stub = TLSBrokerStub(tcp_certs)
    try:
        rc, err = tcp_worker(stack, u, tcp_certs, stub.port,
                             selftest="connect:%d" % stack.port,
                             wait_for="sandbox selftest connect")
        assert "selftest connect:%d: refused: Permission denied" % stack.port in err, err
        assert rc == 0, (rc, err)
        rc, err = tcp_worker(stack, u, tcp_certs, stub.port,
                             selftest="connect:%d" % stub.port,
                             wait_for="sandbox selftest connect")
        assert "selftest connect:%d: allowed" % stub.port in err, err
        assert rc == 0, (rc, err)
    finally:
        stub.stop()
