"""Beyond one machine (contract section 7; docs/scaling.md): two brokers
(shards 0 and 1, on tls+tcp:// loopback ports with client certificates from
scripts/make-certs) and two web nodes (each its own lighttpd, websocketd and
API) against one PostgreSQL (pclib/cluster.py). Node A's workers reach
broker 0 over ipc:// and broker 1 over tls+tcp://; node B is a web node
with no broker: its workers and API reach both over tls+tcp://, with
client.pem, its workers inside the sandbox's tcp mode (common/sandbox.h).

Users on different nodes chat in a room of each shard, with order, no gap
and idempotent resends intact; the API's notifications cross over TLS; each
user's online row is written by the broker of their shard; a broker for a
shard already taken refuses to start; a client without a certificate, or
with one of another CA, never gets past the TLS handshake and the broker
serves on; the workers' sandbox holds (no call outside the allowlist, in
trap mode); restarting one broker leaves the other's rooms untouched and
its own rooms recover with no gap.
"""

import asyncio
import itertools
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import websockets

from pclib import make_user, unique_name
from pclib.cluster import Cluster

_ids = itertools.count(1)


def run(coro, timeout=90):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


@pytest.fixture(scope="module")
def cluster(request):
    c = Cluster()
    try:
        c.start()
    except Exception:
        c.stop()
        raise
    yield c
    err = c.stop()
    failed = request.session.testsfailed
    if not failed and not err and not c.stack.sanitizer_logs():
        c.remove()
    else:
        print("\ncluster scratch kept: %s" % c.stack.scratch)


def rooms_of_both_shards(user):
    """A public room with an even id (shard 0) and one with an odd id."""
    got = {}
    for _ in range(8):
        r = user.session.post("/api/rooms",
                              json={"name": unique_name("sh"), "kind": "public"})
        assert r.status_code == 201, r.text
        got.setdefault(r.json()["id"] % 2, r.json()["id"])
        if len(got) == 2:
            return got[0], got[1]
    raise AssertionError("room ids all of one parity: %r" % got)


class Sock:
    """One client socket: frames kept by type; messages by room."""

    def __init__(self, node, user):
        self.node, self.user = node, user
        self.msgs = {}
        self.acks = {}
        self.errors = []
        self.events = []  # every other frame

    async def open(self):
        self.ws = await websockets.connect(
            self.node.ws_url, origin=self.node.origin,
            extra_headers={"Cookie": self.user.cookie_header},
            max_size=None, ping_interval=None, open_timeout=10, close_timeout=1)
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert hello["type"] == "hello", hello
        return self

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def pump(self, until, timeout=20):
        """Reads frames until until(self) is true."""
        deadline = time.monotonic() + timeout
        while not until(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out; msgs=%r acks=%r errors=%r" % (
                    {r: [m["seq"] for m in v] for r, v in self.msgs.items()},
                    list(self.acks), self.errors))
            try:
                f = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            except asyncio.TimeoutError:
                continue  # reported above, with what came
            t = f.get("type")
            if t == "message":
                self.msgs.setdefault(f["room"], []).append(f)
            elif t == "ack":
                self.acks[f["client_id"]] = f
            elif t == "error":
                self.errors.append(f)
            elif t == "gap":
                raise AssertionError("unexpected gap: %r" % f)
            else:
                self.events.append(f)

    async def join(self, room):
        await self.send({"type": "join", "room": room})
        deadline = time.monotonic() + 15
        while True:
            f = json.loads(await asyncio.wait_for(
                self.ws.recv(), max(0.1, deadline - time.monotonic())))
            if f.get("type") == "joined" and f["room"] == room:
                return f
            assert f.get("type") != "error", f


def seqs(sock, room):
    return [m["seq"] for m in sock.msgs.get(room, [])]


def contiguous(xs):
    return xs == list(range(xs[0], xs[0] + len(xs))) if xs else True


def db_seqs(cluster, room):
    rows = cluster.stack.psql("SELECT seq FROM messages WHERE room_id = %d ORDER BY seq"
                              % room)
    return [int(r[0]) for r in rows]


def two_users(cluster):
    a = make_user(cluster.node_a, prefix="sha")
    b = make_user(cluster.node_b, prefix="shb")
    r0, r1 = rooms_of_both_shards(a)
    for room in (r0, r1):
        r = b.session.post("/api/rooms/%d/join" % room)
        assert r.status_code == 204, r.text
    return a, b, r0, r1


def test_users_on_two_nodes_chat_in_rooms_of_both_shards(cluster):
    a, b, r0, r1 = two_users(cluster)

    async def go():
        sa = await Sock(cluster.node_a, a).open()
        sb = await Sock(cluster.node_b, b).open()
        for s in (sa, sb):
            for room in (r0, r1):
                await s.join(room)
        n = 6
        for i in range(n):
            for room in (r0, r1):
                await sa.send({"type": "send", "room": room, "body": "a%d" % i,
                               "client_id": "a-%d-%d" % (room, i)})
                await sb.send({"type": "send", "room": room, "body": "b%d" % i,
                               "client_id": "b-%d-%d" % (room, i)})
        full = lambda s: all(len(s.msgs.get(r, [])) >= 2 * n for r in (r0, r1))
        await sa.pump(full)
        await sb.pump(full)
        for room in (r0, r1):
            # every message once, in seq order, the same on both nodes
            assert seqs(sa, room) == list(range(1, 2 * n + 1)), seqs(sa, room)
            assert seqs(sb, room) == seqs(sa, room)
            assert [m["body"] for m in sa.msgs[room]] == \
                [m["body"] for m in sb.msgs[room]]
        # idempotent resend across nodes and shards: the original ack
        for room in (r0, r1):
            first = sb.acks["b-%d-0" % room]
            del sb.acks["b-%d-0" % room]
            await sb.send({"type": "send", "room": room, "body": "again",
                           "client_id": "b-%d-0" % room})
            await sb.pump(lambda s: "b-%d-0" % room in s.acks)
            again = sb.acks["b-%d-0" % room]
            assert (again["id"], again["seq"]) == (first["id"], first["seq"])
        assert not sa.errors and not sb.errors, (sa.errors, sb.errors)
        # both nodes' workers chat from inside their sandbox (tcp mode), as
        # pipechat-ws-full when the build has it: the musl pipechat-ws that
        # websocketd started handed over (ws-worker/handover.h)
        full = Path(cluster.stack.env["PIPECHAT_BUILD"]) / "ws-worker" / "pipechat-ws-full"
        for name in ("ws", "ws_b"):
            pids = cluster.worker_pids(name)
            assert pids, name
            for pid in pids:
                st = proc_status(pid)
                assert (st.get("Seccomp"), st.get("NoNewPrivs")) == ("2", "1"), (name, st)
                exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
                assert exe == ("pipechat-ws-full" if full.exists() else "pipechat-ws"), exe
        await sa.ws.close()
        await sb.ws.close()

    run(go())
    for room in (r0, r1):
        assert db_seqs(cluster, room) == list(range(1, 13))


def proc_status(pid):
    out = {}
    try:
        text = Path("/proc/%d/status" % pid).read_text()
    except OSError:
        return out
    for line in text.splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def test_api_notifications_cross_over_tls(cluster):
    """Node B's API tells the brokers over tls+tcp:// with client.pem: an
    invitation made there reaches the invitee's socket on node A, and a
    kick ends the kicked socket's membership on node A at once."""
    a = make_user(cluster.node_a, prefix="nta")
    b = make_user(cluster.node_b, prefix="ntb")

    async def go():
        sa = await Sock(cluster.node_a, a).open()
        r = b.session.post("/api/rooms", json={"name": unique_name("nt"),
                                               "kind": "private"})
        assert r.status_code == 201, r.text
        room = r.json()["id"]
        r = b.session.post("/api/rooms/%d/invites" % room, json={"username": a.username})
        assert r.status_code == 201, r.text
        await sa.pump(lambda s: any(e.get("type") == "invite" for e in s.events), timeout=10)
        inv = r.json()["id"]
        r = a.session.post("/api/invites/%d/accept" % inv)
        assert r.status_code == 204, r.text
        await sa.join(room)
        r = b.session.post("/api/rooms/%d/kick" % room, json={"username": a.username})
        assert r.status_code == 204, r.text
        await sa.pump(lambda s: any(e.get("type") == "removed" and e.get("room") == room
                                    for e in s.events), timeout=10)
        await sa.ws.close()

    run(go())


def tls_hello(port, ca, cert=None):
    """Opens a TLS connection to a broker and exchanges SP headers (what NNG
    does first on a tls+tcp:// pipe). Returns the broker's 8 header bytes, or
    the exception that ended the attempt."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if cert is not None:
        ctx.load_cert_chain(cert)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"\x00SP\x00\x00\x11\x00\x00")  # PAIR1
                got = b""
                while len(got) < 8:
                    chunk = s.recv(8 - len(got))
                    if not chunk:
                        return EOFError("closed after %r" % got)
                    got += chunk
                return got
    except (ssl.SSLError, OSError) as e:
        return e


def test_broker_refuses_clients_without_a_certificate_of_its_ca(cluster):
    ca = str(cluster.certs / "ca.pem")
    other = cluster.here / "other-ca"
    subprocess.run([str(Path(__file__).resolve().parents[2] / "scripts" / "make-certs"),
                    str(other)], check=True, capture_output=True, timeout=60)
    for shard, port in enumerate(cluster.ports):
        for what, cert in (("no certificate", None),
                           ("another CA's", str(other / "client.pem"))):
            got = tls_hello(port, ca, cert)
            assert isinstance(got, Exception), (shard, what, got)
        # the broker serves on: our own client certificate gets its header
        got = tls_hello(port, ca, str(cluster.certs / "client.pem"))
        assert got == b"\x00SP\x00\x00\x11\x00\x00", (shard, got)
        assert cluster.procs["broker%d" % shard].poll() is None


def hand_worker_chat(cluster, node, user, room, sandbox):
    """A worker started by hand on node, in sandbox mode: hello, join room,
    one send acknowledged. Returns (returncode, stdout frames, stderr)."""
    argv, env = cluster.worker_cmd(node, user, sandbox=sandbox)
    p = subprocess.Popen(argv, env=env, cwd="/", stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frames, buf = [], b""
    cid = "hand-%d" % next(_ids)
    p.stdin.write(json.dumps({"type": "join", "room": room}).encode() + b"\n")
    p.stdin.write(json.dumps({"type": "send", "room": room, "body": "by hand",
                              "client_id": cid}).encode() + b"\n")
    p.stdin.flush()
    deadline = time.monotonic() + 20
    try:
        while not any(f.get("type") == "ack" and f.get("client_id") == cid for f in frames):
            left = deadline - time.monotonic()
            assert left > 0 and p.poll() is None, (p.poll(), frames)
            r, _, _ = select.select([p.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                frames.append(json.loads(line))
    finally:
        p.stdin.close()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    err = p.stderr.read().decode(errors="replace")
    p.stdout.close()
    p.stderr.close()
    return p.returncode, frames, err


def has_test_hooks(cluster):
    cache = Path(cluster.stack.env["PIPECHAT_BUILD"]) / "CMakeCache.txt"
    try:
        return "PIPECHAT_TEST_HOOKS:BOOL=ON" in cache.read_text().splitlines()
    except OSError:
        return False


@pytest.mark.parametrize("node", ["a", "b"])
def test_worker_calls_stay_inside_the_allowlist(cluster, node):
    """Trap mode (test builds) names any call outside the allowlist on
    stderr instead of killing: a worker of node A (ipc:// + tls+tcp://) and
    one of node B (tls+tcp:// only) sign in to both brokers, join, send and
    get the ack without one."""
    if not has_test_hooks(cluster):
        pytest.skip("built without PIPECHAT_TEST_HOOKS")
    u = make_user(cluster.node_a if node == "a" else cluster.node_b, prefix="hw" + node)
    room = rooms_of_both_shards(u)[1]  # shard 1: tls+tcp:// on both nodes
    rc, frames, err = hand_worker_chat(cluster, node, u, room, "trap")
    assert frames and frames[0]["type"] == "hello", (frames, err)
    assert "denied syscall" not in err, err
    assert "sandbox in trap mode (debug only, tcp)" in err, err
    assert "broker 0 signed in" in err and "broker 1 signed in" in err, err
    assert rc == 0, (rc, err)


def test_online_row_is_written_by_the_users_shard(cluster):
    a, b, _, _ = two_users(cluster)

    async def go():
        sa = await Sock(cluster.node_a, a).open()
        sb = await Sock(cluster.node_b, b).open()
        deadline = time.monotonic() + 10
        want = {a.id: a.id % 2, b.id: b.id % 2}
        while True:
            rows = cluster.stack.psql(
                "SELECT user_id, shard FROM user_online WHERE user_id IN (%d, %d)"
                % (a.id, b.id))
            got = {int(u): int(s) for u, s in rows}
            if got == want:
                break
            assert time.monotonic() < deadline, (got, want)
            await asyncio.sleep(0.3)
        beats = cluster.stack.psql("SELECT shard FROM broker_beats ORDER BY shard")
        assert [int(r[0]) for r in beats] == [0, 1]
        await sa.ws.close()
        await sb.ws.close()

    run(go())


def test_second_broker_for_a_taken_shard_refuses_to_start(cluster):
    for shard in (0, 1):
        argv, env, d = cluster.broker_cmd(shard)
        env["PIPECHAT_BROKER_DIR"] = str(cluster.here / ("dup%d" % shard))
        p = subprocess.run(cluster._drop() + argv, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, p
        assert "another broker already runs for shard %d" % shard in p.stderr, p.stderr
    assert cluster.procs["broker1"].poll() is None


@pytest.mark.disruptive
def test_restarting_one_broker_affects_only_its_rooms(cluster):
    a, b, r0, r1 = two_users(cluster)

    async def go():
        sa = await Sock(cluster.node_a, a).open()
        sb = await Sock(cluster.node_b, b).open()
        for s in (sa, sb):
            for room in (r0, r1):
                await s.join(room)
        for room in (r0, r1):
            await sa.send({"type": "send", "room": room, "body": "before",
                           "client_id": "pre-%d" % room})
        await sb.pump(lambda s: all(len(s.msgs.get(r, [])) == 1 for r in (r0, r1)))

        cluster.stop_proc("broker1", sig=signal.SIGKILL)
        await asyncio.sleep(0.5)
        # shard 0's room goes on, on both nodes
        for i in range(3):
            await sa.send({"type": "send", "room": r0, "body": "during %d" % i,
                           "client_id": "dur-%d" % i})
        await sb.pump(lambda s: len(s.msgs.get(r0, [])) == 4)
        await sa.pump(lambda s: all("dur-%d" % i in s.acks for i in range(3)))
        # shard 1's room answers unavailable, nothing stored
        await sb.send({"type": "send", "room": r1, "body": "lost?",
                       "client_id": "down-1"})
        await sb.pump(lambda s: any(e.get("ref") == "down-1" for e in s.errors))
        assert [e["code"] for e in sb.errors if e.get("ref") == "down-1"] == \
            ["unavailable"]
        sb.errors.clear()

        cluster.start_broker(1)
        # the same sockets, no reconnect: shard 1's room works again, no gap
        deadline = time.monotonic() + 20
        while True:
            await sb.send({"type": "send", "room": r1, "body": "after",
                           "client_id": "post-1-%d" % next(_ids)})
            try:
                await sb.pump(lambda s: any(k.startswith("post-1-") for k in s.acks),
                              timeout=2)
                break
            except AssertionError:
                assert time.monotonic() < deadline, sb.errors
                sb.errors.clear()
        n1 = len(db_seqs(cluster, r1))
        await sa.pump(lambda s: len(s.msgs.get(r1, [])) == n1)
        await sb.pump(lambda s: len(s.msgs.get(r1, [])) == n1)
        for s in (sa, sb):
            assert seqs(s, r0) == [1, 2, 3, 4]
            assert seqs(s, r1) == list(range(1, n1 + 1))
        await sa.ws.close()
        await sb.ws.close()

    try:
        run(go())
    except AssertionError as e:
        # Failed once in CI (node A's socket got none of shard 1's messages
        # after the restart) and never again in 40 runs: keep the logs that
        # would say why, since the scratch folder is gone by then.
        logs = "\n".join("==> %s <==\n%s" % (n, "\n".join(cluster.log(n).splitlines()[-40:]))
                         for n in ("broker1", "ws_b"))
        raise AssertionError("%s\n%s\n%s" % (e, logs, cluster.stack.logs_tail(40))) from None
    finally:
        if cluster.procs.get("broker1") is None:
            cluster.start_broker(1)
    assert contiguous(db_seqs(cluster, r0)) and contiguous(db_seqs(cluster, r1))
