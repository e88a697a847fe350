#!/usr/bin/python3
"""tests/container/compose_check.py: the container deployment, end to end, with
rootful podman and podman-compose (run by tests/container/run, which
scripts/test calls; PIPECHAT_SKIP_CONTAINERS=1 skips it there).

It builds the images of Dockerfile through compose.yaml (layers cached between
runs), starts the project under its own name (fresh volumes and network) on a
free port on 127.0.0.1, then, as a user would, through the published port only:
registers two users, opens a room, exchanges a message over the WebSocket,
runs `compose down` and `up` again, and finds the message in the room's
history with the session cookie from before the restart (the database and the
JWT secret live in volumes). Along the way it checks what the containers
promise: every health check passes, the services run as unprivileged users,
the web node holds neither the database socket nor the secret, PostgreSQL has
fsync and synchronous_commit on. At the end it removes the containers, the
volumes and the network it made (the images stay, as a cache).

Not for: Docker (no engine here; compose.yaml keeps to what both read) or
load. Prints one line per step with its time; exit 0 when all passed.
"""

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

import requests
import websockets

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = "pcctest%d" % os.getpid()
T0 = time.monotonic()


def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def sh(*args, timeout=600, check=True, quiet=True):
    """Runs a command in the checkout; returns its CompletedProcess."""
    p = subprocess.run(list(args), cwd=CHECKOUT, timeout=timeout, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and p.returncode != 0:
        sys.stdout.write(p.stdout[-4000:])
        raise AssertionError("%s: exit %d" % (" ".join(args), p.returncode))
    if not quiet:
        sys.stdout.write(p.stdout)
    return p


def compose(*args, timeout=600, check=True):
    return sh("podman-compose", "-p", PROJECT, *args, timeout=timeout, check=check)


def free_port():
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError("no free port")


def container(service):
    return "%s_%s_1" % (PROJECT, service)


def wait_healthy(base, seconds):
    """Waits until /api/health answers 200 through the published port."""
    end = time.monotonic() + seconds
    last = None
    while time.monotonic() < end:
        try:
            r = requests.get(base + "/api/health", timeout=3)
            if r.status_code == 200:
                return
            last = r.status_code
        except requests.RequestException as e:
            last = type(e).__name__
        time.sleep(0.5)
    raise AssertionError("no 200 from %s/api/health within %d s (last: %s)" % (base, seconds, last))


def check_healthchecks():
    """Runs each service's compose health check (podman has no systemd timer
    here to run them by itself) and asserts it passes."""
    for svc in ("db", "broker", "api", "web"):
        p = sh("podman", "healthcheck", "run", container(svc), check=False, timeout=60)
        assert p.returncode == 0, "%s: health check failed: %s" % (svc, p.stdout.strip())


def exec_in(svc, *cmd):
    return sh("podman", "exec", container(svc), *cmd, check=False, timeout=60)


def check_containers():
    for svc, uid in (("db", "999"), ("broker", "10001"), ("api", "10001"), ("web", "10001")):
        out = exec_in(svc, "id", "-u").stdout.strip()
        assert out == uid, "%s runs as uid %r, want %s" % (svc, out, uid)
    # The web node (workers included) has neither the secret nor the database.
    # (the folders are in the image, but no volume is mounted on them there)
    p = exec_in("web", "sh", "-c", "find /var/lib/pipechat/secret /run/pipechat/db -mindepth 1 | wc -l")
    assert p.stdout.strip() == "0", "web node sees the secret or the database: %s" % p.stdout
    p = exec_in("web", "sh", "-c", "env | grep -c -e PIPECHAT_DB -e PIPECHAT_SECRET || true")
    assert p.stdout.strip() == "0", "web node has database or secret settings"
    p = exec_in("broker", "stat", "-c", "%a %u", "/var/lib/pipechat/secret/jwt.key")
    assert p.stdout.strip() == "600 10001", "secret file: %r" % p.stdout
    p = exec_in("db", "psql", "-X", "-At", "-h", "/run/pipechat/db", "-U", "postgres", "-d", "postgres",
                "-c", "SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')")
    assert p.stdout.strip() == "on on", "PostgreSQL: fsync, synchronous_commit = %r" % p.stdout


class User:
    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.http = requests.Session()
        self.http.headers["Origin"] = base

    def post(self, path, body):
        return self.http.post(self.base + path, json=body, timeout=15)

    def register_and_login(self):
        pw = "correct horse %s" % self.name
        r = self.post("/api/register", {"username": self.name, "email": self.name + "@example.org",
                                         "password": pw})
        assert r.status_code == 201, (r.status_code, r.text)
        r = self.post("/api/login", {"username": self.name, "password": pw})
        assert r.status_code == 200, (r.status_code, r.text)
        assert self.http.cookies.get("access_token"), "no access_token cookie"

    def cookie(self):
        return "access_token=" + self.http.cookies.get("access_token")


async def recv_type(conn, ftype, timeout=15):
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("no %s frame within %s s" % (ftype, timeout))
        f = json.loads(await asyncio.wait_for(conn.recv(), left))
        if f.get("type") == ftype:
            return f
        assert f.get("type") != "error", f


async def chat(base, alice, bob, room_id, body):
    """alice sends body to room_id over one WebSocket; bob's receives it."""
    ws_url = base.replace("http://", "ws://") + "/ws"

    async def connect(user):
        conn = await websockets.connect(ws_url, origin=base, extra_headers={"Cookie": user.cookie()},
                                        ping_interval=None, open_timeout=15, close_timeout=2)
        await recv_type(conn, "hello")
        await conn.send(json.dumps({"type": "join", "room": room_id}))
        await recv_type(conn, "joined")
        return conn

    a = await connect(alice)
    b = await connect(bob)
    try:
        await a.send(json.dumps({"type": "send", "room": room_id, "body": body, "client_id": "c1"}))
        ack = await recv_type(a, "ack")
        assert ack["client_id"] == "c1" and ack["room"] == room_id, ack
        msg = await recv_type(b, "message")
        assert msg["body"] == body and msg["user"]["username"] == alice.name, msg
        return ack["seq"]
    finally:
        await a.close()
        await b.close()


def dump_logs():
    for svc in ("db", "broker", "api", "web"):
        p = sh("podman", "logs", "--tail", "30", container(svc), check=False, timeout=30)
        print("--- podman logs %s ---\n%s" % (container(svc), p.stdout), flush=True)


def cleanup():
    compose("down", "-v", timeout=180, check=False)
    # What down may leave behind: containers, volumes, the network.
    label = "label=io.podman.compose.project=" + PROJECT
    ids = sh("podman", "ps", "-a", "-q", "--filter", label, check=False).stdout.split()
    if ids:
        sh("podman", "rm", "-f", *ids, check=False, timeout=120)
    ids = sh("podman", "volume", "ls", "-q", "--filter", label, check=False).stdout.split()
    if ids:
        sh("podman", "volume", "rm", "-f", *ids, check=False, timeout=120)
    sh("podman", "network", "rm", "-f", PROJECT + "_default", check=False, timeout=60)
    log("removed the project's containers, volumes and network")


def main():
    port = free_port()
    os.environ.update(PIPECHAT_PORT=str(port), PIPECHAT_BIND="127.0.0.1")
    base = "http://127.0.0.1:%d" % port
    log("project %s, port %d" % (PROJECT, port))

    sh(os.path.join(CHECKOUT, "scripts/container-base"), timeout=600)
    log("base image docker.io/library/debian:bookworm is there")
    compose("build", timeout=900)
    log("images built (podman-compose build)")
    ok = False
    try:
        compose("up", "-d", "--no-build", timeout=300)
        wait_healthy(base, 180)
        log("up: /api/health answers 200 on the published port")
        check_healthchecks()
        check_containers()
        log("health checks pass; uids, secret, fsync as promised")

        tag = "%x" % random.getrandbits(32)
        alice, bob = User(base, "alice" + tag), User(base, "bob" + tag)
        alice.register_and_login()
        bob.register_and_login()
        r = alice.post("/api/rooms", {"name": "ctest-" + tag, "kind": "public"})
        assert r.status_code == 201, (r.status_code, r.text)
        room = r.json()["id"]
        r = bob.post("/api/rooms/%d/join" % room, {})
        assert r.status_code == 204, (r.status_code, r.text)
        body = "hello through the containers " + tag
        seq = asyncio.run(asyncio.wait_for(chat(base, alice, bob, room, body), 60))
        log("two users registered; a message went over the WebSocket (seq %d)" % seq)

        compose("down", timeout=180)
        log("compose down")
        compose("up", "-d", "--no-build", timeout=300)
        wait_healthy(base, 180)
        log("compose up again")
        r = alice.http.get(base + "/api/rooms/%d/messages" % room, timeout=15)
        assert r.status_code == 200, (r.status_code, r.text)
        bodies = [(m["seq"], m.get("body")) for m in r.json()["messages"]]
        assert (seq, body) in bodies, bodies
        log("the message is in the history after the restart, read with the old session")
        ok = True
    finally:
        if not ok:
            dump_logs()
        cleanup()
    log("PASS")


def on_term(signum, frame):
    # scripts/test's time limit: leave through main's cleanup.
    raise SystemExit("stopped by signal %d" % signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    try:
        main()
    except AssertionError as e:
        log("FAIL: %s" % e)
        sys.exit(1)
