"""The broker under faults (contract section 2): nothing acknowledged is lost
and seqs stay contiguous when the broker is killed with SIGKILL while clients
send; with PostgreSQL stopped sends are answered `unavailable`, nothing is
acknowledged or stored, and service resumes when it is back; a second broker
for the same database refuses to start (the advisory lock, section 7).

Clients are real WebSockets through the web server and pipechat-ws; the
checks read PostgreSQL directly. The tests that stop services are marked
disruptive (they run last) and restart what they stopped in a `finally`.
"""

import asyncio
import itertools
import json
import os
import subprocess
import tempfile
import time

import pytest
import websockets

from pclib import unique_name

_ids = itertools.count(1)


def run(coro, timeout=120):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def make_room(user, kind="public"):
    r = user.session.post("/api/rooms", json={"name": unique_name("bk"), "kind": kind})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["id"]


def join_http(user, room):
    r = user.session.post("/api/rooms/%d/join" % room)
    assert r.status_code == 204, (r.status_code, r.text)


async def connect(stack, user):
    """Opens a socket, waits for hello; None when it cannot (broker down)."""
    try:
        conn = await websockets.connect(
            stack.ws_url, origin=stack.origin,
            extra_headers={"Cookie": user.cookie_header}, max_size=None,
            ping_interval=None, open_timeout=5, close_timeout=1)
    except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake):
        return None
    try:
        raw = await asyncio.wait_for(conn.recv(), 5)
        if json.loads(raw).get("type") == "hello":
            return conn
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        pass
    await conn.close()
    return None


async def recv(conn, timeout):
    return json.loads(await asyncio.wait_for(conn.recv(), timeout))


def room_rows(stack, room):
    """(seq, client_id, body) of every message of room, by seq."""
    rows = stack.psql("SELECT seq, coalesce(client_id, ''), coalesce(body, '') "
                      "FROM messages WHERE room_id = %d ORDER BY seq" % room)
    return [(int(s), c, b) for s, c, b in rows]


class Sender:
    """Sends `count` messages with client ids, keeps every ack, and resends
    what is unacknowledged (same client_id) until all are acknowledged,
    reconnecting whenever the socket goes away."""

    def __init__(self, stack, user, room, tag, count):
        self.stack, self.user, self.room = stack, user, room
        self.bodies = {"%s-%d-%d" % (tag, i, next(_ids)): "%s says %d" % (tag, i)
                       for i in range(count)}
        self.order = list(self.bodies)
        self.acks = {}
        self.sent_at = {}
        self.errors = []

    async def run(self, deadline):
        conn = None
        nxt = 0  # first sends go out in order, paced below the send rate
        while len(self.acks) < len(self.bodies):
            assert time.monotonic() < deadline, (
                "%d of %d acknowledged" % (len(self.acks), len(self.bodies)))
            if conn is None:
                conn = await connect(self.stack, self.user)
                if conn is None:
                    await asyncio.sleep(0.3)
                    continue
                await conn.send(json.dumps({"type": "join", "room": self.room}))
            now = time.monotonic()
            todo = []
            if nxt < len(self.order):
                todo.append(self.order[nxt])
                nxt += 1
            else:
                todo = [c for c in self.order if c not in self.acks and
                        now - self.sent_at.get(c, 0) > 2.0][:5]
            try:
                for cid in todo:
                    self.sent_at[cid] = now
                    await conn.send(json.dumps({"type": "send", "room": self.room,
                                                "body": self.bodies[cid],
                                                "client_id": cid}))
                end = time.monotonic() + 0.12
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        f = await recv(conn, left)
                    except asyncio.TimeoutError:
                        break
                    if f["type"] == "ack":
                        cid = f["client_id"]
                        if cid in self.acks:
                            # a resend: the original ack, never a new row
                            assert self.acks[cid]["seq"] == f["seq"], (self.acks[cid], f)
                            assert self.acks[cid]["id"] == f["id"], (self.acks[cid], f)
                        self.acks[cid] = f
                    elif f["type"] == "error":
                        assert f["code"] in ("unavailable", "rate_limited"), f
                        self.errors.append(f["code"])
                        if f.get("ref") in self.sent_at:
                            self.sent_at[f["ref"]] = 0  # resend soon
            except websockets.ConnectionClosed:
                conn = None
        if conn is not None:
            await conn.close()


@pytest.mark.disruptive
def test_kill9_broker_loses_no_acked_message(stack, new_user):
    a, b = new_user("ka"), new_user("kb")
    room = make_room(a)
    join_http(b, room)
    senders = [Sender(stack, a, room, "a", 40), Sender(stack, b, room, "b", 40)]
    before = stack.pid("broker")

    async def scenario():
        deadline = time.monotonic() + 90
        tasks = [asyncio.create_task(s.run(deadline)) for s in senders]
        await asyncio.sleep(1.5)  # some messages are in, more are in flight
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: stack.svc("kill", "broker"))
        await asyncio.sleep(1.0)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: stack.svc("start", "broker"))
        await asyncio.gather(*tasks)

    try:
        run(scenario())
    finally:
        if stack.pid("broker") is None:
            stack.svc("start", "broker")
    rows = room_rows(stack, room)
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(rows) + 1)), "seq has a hole: %r" % seqs
    by_cid = {}
    for seq, cid, body in rows:
        assert cid not in by_cid, "client_id %s stored twice" % cid
        by_cid[cid] = (seq, body)
    for s in senders:
        for cid, ack in s.acks.items():
            assert cid in by_cid, "acknowledged %s is not in history" % cid
            assert by_cid[cid] == (ack["seq"], s.bodies[cid]), (cid, ack, by_cid[cid])
    assert len(rows) == sum(len(s.bodies) for s in senders)
    # the broker really went down while they sent
    assert stack.pid("broker") not in (None, before)


@pytest.mark.disruptive
def test_database_down_unavailable_then_resumes(stack, new_user):
    u = new_user("db")
    room = make_room(u)
    cids = ["down-%d-%d" % (i, next(_ids)) for i in range(3)]

    async def while_down(conn):
        for cid in cids:
            await conn.send(json.dumps({"type": "send", "room": room,
                                        "body": "while down " + cid, "client_id": cid}))
            end = time.monotonic() + 15
            while True:
                f = await recv(conn, end - time.monotonic())
                assert f["type"] != "ack", "acknowledged while the database is down: %r" % f
                if f["type"] == "error" and f.get("ref") == cid:
                    assert f["code"] == "unavailable", f
                    break

    async def after(conn):
        end = time.monotonic() + 30
        while True:
            await conn.send(json.dumps({"type": "send", "room": room,
                                        "body": "while down " + cids[0],
                                        "client_id": cids[0]}))
            t = time.monotonic() + 2
            while time.monotonic() < t:
                try:
                    f = await recv(conn, t - time.monotonic())
                except asyncio.TimeoutError:
                    break
                if f["type"] == "ack" and f["client_id"] == cids[0]:
                    return f
            assert time.monotonic() < end, "no ack after the database came back"

    async def scenario():
        conn = await connect(stack, u)
        assert conn is not None
        await conn.send(json.dumps({"type": "join", "room": room}))
        f = await recv(conn, 10)
        assert f["type"] == "joined", f
        stack.svc("stop", "db")
        try:
            await while_down(conn)
        finally:
            stack.svc("start", "db")
        ack = await after(conn)
        assert ack["seq"] == 1, ack
        await conn.close()

    try:
        run(scenario(), timeout=90)
    finally:
        stack.svc("start", "db")
    rows = room_rows(stack, room)
    assert [(s, c) for s, c, _ in rows] == [(1, cids[0])], rows
    # the broker kept running throughout
    assert stack.pid("broker") is not None


def test_second_broker_refuses_to_start(stack):
    paths = stack.paths()
    env = {"PATH": "/usr/bin:/bin",
           "PIPECHAT_DB": paths["PIPECHAT_DB"],
           "PIPECHAT_SECRET_FILE": paths["PIPECHAT_SECRET_FILE"]}
    binary = os.path.join(stack.env["PIPECHAT_BUILD"], "broker", "pipechat-broker")
    with tempfile.TemporaryDirectory(prefix="pc-b2-") as d:
        env["PIPECHAT_BROKER_DIR"] = os.path.join(d, "broker")
        p = subprocess.run([binary], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=20)
        assert p.returncode != 0, p
        assert "another" in p.stderr and "broker" in p.stderr, p.stderr
        # it stopped before listening: no socket of its own was made
        assert not os.path.exists(os.path.join(d, "broker", "workers"))
    # and the real one still serves
    assert stack.pid("broker") is not None
