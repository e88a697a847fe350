"""Shared hosting (deploy/shared-hosting/): pipechat uploaded to a folder of
an unprivileged account and started there with `run start`, lighttpd
starting the API itself (FastCGI bin-path). The account is the stack's
service user (root's tests drop to it; it is the only user that may reach the
stack's PostgreSQL socket), the database a fresh one in the shared stack's
cluster. Checks: /api/health, an account and a WebSocket message through it,
every process non-root, the API a child of lighttpd, `run stop` ends them all.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from pclib import (CHECKOUT, assert_error, describe, free_port, session_and_group, unique_email,
                   unique_name)
from test_ws_client import WS, check_message, run

BIN_NAMES = {"pipechat-broker": "broker", "pipechat-api": "fcgi-api", "pipechat-ws": "ws-worker"}


def _as_user(user, argv, env, timeout=120):
    """Runs argv as user (when we are root) with exactly env."""
    if os.getuid() == 0:
        argv = ["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"] + argv
    return subprocess.run(["env", "-i"] + ["%s=%s" % kv for kv in env.items()] + argv,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, cwd="/")


@pytest.fixture(scope="module")
def hosted(stack):
    paths = stack.paths()
    user = paths["PC_SVC_USER"]
    pw = pwd.getpwnam(user)
    build = stack.env["PIPECHAT_BUILD"]
    parent = os.environ.get("PIPECHAT_TEST_TMPDIR") or "/tmp"
    tmp = tempfile.mkdtemp(prefix="pcsh-", dir=parent)
    os.chmod(tmp, 0o755)
    top = os.path.join(tmp, "pipechat")   # the "upload"
    home = os.path.join(tmp, "var")       # PIPECHAT_HOME
    for d in ("deploy", "scripts", "sql", "www"):
        shutil.copytree(CHECKOUT / d, os.path.join(top, d), symlinks=True)
    os.makedirs(os.path.join(top, "bin"))
    for name, sub in BIN_NAMES.items():
        shutil.copy2(os.path.join(build, sub, name), os.path.join(top, "bin", name))
    os.makedirs(home)
    if os.getuid() == 0:
        for root, dirs, files in os.walk(tmp):
            for n in [root] + [os.path.join(root, f) for f in dirs + files]:
                os.lchown(n, pw.pw_uid, pw.pw_gid)

    dbname = "pcsh_" + uuid.uuid4().hex[:10]
    stack.psql("CREATE DATABASE %s" % dbname)
    db = paths["PIPECHAT_DB"].replace("dbname=pipechat", "dbname=" + dbname)
    port, ws_port = free_port(), free_port()
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": home, "LANG": "C.UTF-8", "PIPECHAT_HOME": home}
    with open(os.path.join(home, "pipechat.env"), "w") as f:
        f.write("# written by the test, as a user would\nPIPECHAT_DB=%s\nPIPECHAT_PORT=%d\n"
                "PIPECHAT_WS_PORT=%d\nPIPECHAT_TRUSTED_PROXIES=127.0.0.1\n" % (db, port, ws_port))
    if os.getuid() == 0:
        os.chown(os.path.join(home, "pipechat.env"), pw.pw_uid, pw.pw_gid)
    script = os.path.join(top, "deploy", "shared-hosting", "run")

    class H:
        pass
    h = H()
    h.user, h.uid, h.home, h.top, h.env, h.script = user, pw.pw_uid, home, top, env, script
    h.base_url = "http://127.0.0.1:%d" % port
    h.ws_url = "ws://127.0.0.1:%d/ws" % port
    h.origin = h.base_url
    h.port = port

    def logs():
        out = []
        for n in ("broker", "ws", "web"):
            try:
                out.append("== %s ==\n%s" % (n, open(os.path.join(home, "log", n + ".log")).read()[-3000:]))
            except OSError:
                pass
        return "\n".join(out)
    h.logs = logs
    p = _as_user(user, [script, "start"], env)
    h.start = p
    try:
        yield h
    finally:
        _as_user(user, [script, "stop"], env)
        try:
            stack.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname)
        except Exception:
            pass
        shutil.rmtree(tmp, ignore_errors=True)


def test_run_start_answers_health(hosted):
    assert hosted.start.returncode == 0, hosted.start.stdout + hosted.start.stderr + hosted.logs()
    assert "running at" in hosted.start.stdout
    r = requests.get(hosted.base_url + "/api/health", timeout=10)
    assert r.status_code == 200 and r.json() == {"ok": True}, describe(r)


def _alive(pid):
    """pid runs (a zombie has no exe link)."""
    try:
        os.readlink("/proc/%d/exe" % pid)
        return True
    except OSError:
        return False


def _pid(hosted, name):
    return int(open(os.path.join(hosted.home, "run", name + ".pid")).read())


def test_everything_runs_as_the_account_and_lighttpd_starts_the_api(hosted):
    assert hosted.start.returncode == 0, hosted.logs()
    web = _pid(hosted, "web")
    for name in ("broker", "ws", "web"):
        pid = _pid(hosted, name)
        assert os.stat("/proc/%d" % pid).st_uid == hosted.uid != 0 or os.getuid() != 0, name
    kids = subprocess.run(["pgrep", "-P", str(web)], capture_output=True, text=True).stdout.split()
    api = [k for k in kids if os.readlink("/proc/%s/exe" % k).endswith("/pipechat-api")]
    assert len(api) == 1, (kids, hosted.logs())
    assert os.stat("/proc/%s" % api[0]).st_uid == hosted.uid
    # The API's socket: lighttpd made it, for itself only.
    # (lighttpd names it api.sock-0: socket + "-" + process number.)
    sock = os.path.join(hosted.home, "sock", "api.sock-0")
    st = os.stat(sock)
    assert st.st_uid == hosted.uid and (st.st_mode & 0o077) == 0, oct(st.st_mode)


def test_services_share_one_session_in_groups_of_their_own(hosted):
    # One session: one scheduling group under autogroup (docs/deploy.md,
    # "Scheduler"); a group each: `run stop` reaches each one's children.
    ids = {}
    for name in ("broker", "ws", "web"):
        pid = _pid(hosted, name)
        ids[name] = session_and_group(pid)
        assert ids[name][1] == pid, (name, ids)
    assert len({sid for sid, _ in ids.values()}) == 1, ids


def test_account_and_websocket_through_it(hosted):
    assert hosted.start.returncode == 0, hosted.logs()
    s = requests.Session()
    name = unique_name("sh")
    r = s.post(hosted.base_url + "/api/register", timeout=15,
               json={"username": name, "email": unique_email(name), "password": "12345678"})
    assert r.status_code == 201, describe(r)
    uid = r.json()["id"]
    r = s.post(hosted.base_url + "/api/login", json={"username": name, "password": "12345678"},
               timeout=15)
    assert r.status_code == 200, describe(r)
    token = s.cookies.get("access_token")
    r = s.post(hosted.base_url + "/api/rooms", json={"name": unique_name("r"), "kind": "public"},
               timeout=15)
    assert r.status_code == 201, describe(r)
    room = r.json()["id"]
    assert_error(s.get(hosted.base_url + "/api/nope", timeout=15), 404, "not_found")

    class U:
        id, username, cookie_header = uid, name, "access_token=" + token

    async def scenario():
        ws = await WS.hello(hosted, U)
        await ws.join(room)
        ack = await ws.send_msg(room, "from shared hosting")
        check_message(await ws.expect("message"), room, ack["seq"], U, "from shared hosting")
        await ws.close()
    run(scenario())


def test_a_bad_ws_sched_is_refused_before_anything_starts(hosted):
    """PIPECHAT_WS_SCHED is batch or other: run start refuses anything else
    with its name before it stops or starts a service, so the running
    instance goes on answering."""
    assert hosted.start.returncode == 0, hosted.logs()
    before = _as_user(hosted.user, [hosted.script, "status"], hosted.env).stdout
    assert before.count("running") == 3, before
    p = _as_user(hosted.user, [hosted.script, "start"],
                 dict(hosted.env, PIPECHAT_WS_SCHED="fifo"))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "PIPECHAT_WS_SCHED=fifo: want batch or other" in p.stderr, p.stderr
    after = _as_user(hosted.user, [hosted.script, "status"], hosted.env).stdout
    assert after == before, (before, after)
    r = requests.get(hosted.base_url + "/api/health", timeout=10)
    assert r.status_code == 200, r.text


def test_run_status_then_stop_ends_every_process(hosted):
    assert hosted.start.returncode == 0, hosted.logs()
    p = _as_user(hosted.user, [hosted.script, "status"], hosted.env)
    assert p.stdout.count("running") == 3, p.stdout
    pids = [_pid(hosted, n) for n in ("broker", "ws", "web")]
    p = _as_user(hosted.user, [hosted.script, "stop"], hosted.env)
    assert p.returncode == 0, p.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(x) for x in pids):
        time.sleep(0.1)
    assert not any(_alive(x) for x in pids), pids
    with pytest.raises(requests.ConnectionError):
        requests.get(hosted.base_url + "/api/health", timeout=5)
    p = _as_user(hosted.user, [hosted.script, "status"], hosted.env)
    assert p.stdout.count("stopped") == 3, p.stdout
