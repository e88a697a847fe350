"""WebSocket client helpers for the test_ws_* modules, and the tests of the
handshake itself: hello, no cookie, a bad token, a foreign Origin, ?room=ID.

Every test drives the real path: lighttpd -> websocketd -> pipechat-ws ->
broker. Clients are websockets 10.4 (asyncio); each test runs one coroutine
with asyncio.run and a hard time bound, so a hang fails instead of blocking
the suite. The helpers are imported by the other test_ws_* modules:

    from test_ws_client import WS, run, make_room, ...
"""

import asyncio
import itertools
import json
import re
import time

import pytest
import websockets

from pclib import unique_name

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# Frames that may arrive at any moment and that most tests do not look at.
NOISE = ("presence", "typing", "ping", "read")
_ids = itertools.count(1)


def run(coro, timeout=60):
    """Runs one test coroutine with a hard bound on its time."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def client_id(prefix="c"):
    return "%s-%d-%d" % (prefix, int(time.time() * 1000), next(_ids))


class WS:
    """One WebSocket with JSON helpers. Text mode sockets use recv_text."""

    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def open(cls, stack, user=None, query="", origin="default", cookie=None,
                   max_queue=None, **kw):
        headers = {}
        if cookie is None and user is not None:
            cookie = user.cookie_header
        if cookie:
            headers["Cookie"] = cookie
        url = stack.ws_url + (("?" + query) if query else "")
        conn = await websockets.connect(
            url, origin=(stack.origin if origin == "default" else origin),
            extra_headers=headers, max_size=None, ping_interval=None,
            max_queue=max_queue if max_queue is not None else 1024,
            open_timeout=10, close_timeout=2, **kw)
        return cls(conn)

    @classmethod
    async def hello(cls, stack, user, query="", **kw):
        """Opens a socket and checks its hello frame."""
        ws = await cls.open(stack, user, query=query, **kw)
        h = await ws.recv(timeout=10)
        assert h["type"] == "hello", h
        assert h["user"] == {"id": user.id, "username": user.username}, h
        assert isinstance(h["session"], str) and h["session"], h
        return ws

    async def send(self, obj):
        """A str or bytes goes as is (bytes as a binary frame); else JSON."""
        await self.conn.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    async def recv_raw(self, timeout=5):
        return await asyncio.wait_for(self.conn.recv(), timeout)

    async def recv(self, timeout=5):
        raw = await self.recv_raw(timeout)
        assert isinstance(raw, str), raw
        assert "\n" not in raw, raw
        return json.loads(raw)

    async def expect(self, ftype, timeout=5, skip=NOISE):
        """The next frame of type ftype; frames in skip are passed over,
        anything else fails the test."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s frame within %ss" % (ftype, timeout))
            f = await self.recv(left)
            if f["type"] == ftype:
                return f
            if f["type"] not in skip:
                raise AssertionError("want %s, got %r" % (ftype, f))

    async def expect_error(self, code, ref="any", field="any", timeout=5):
        f = await self.expect("error", timeout)
        assert f["code"] == code, f
        assert isinstance(f["message"], str) and f["message"], f
        assert "ref" in f, f
        if ref != "any":
            assert f["ref"] == ref, f
        if field != "any":
            assert f.get("field") == field, f
        return f

    async def quiet(self, seconds=0.5, skip=NOISE):
        """Asserts that nothing but noise arrives for a while."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                f = await self.recv(left)
            except asyncio.TimeoutError:
                return
            assert f["type"] in skip, "unexpected frame %r" % (f,)

    async def alive(self):
        """The socket still answers: ping -> pong."""
        await self.send({"type": "ping"})
        await self.expect("pong")

    async def join(self, room, since=None):
        msg = {"type": "join", "room": room}
        if since is not None:
            msg["since"] = since
        await self.send(msg)
        j = await self.expect("joined", timeout=10)
        assert j["room"] == room, j
        return j

    async def send_msg(self, room, body, cid=None):
        """Sends one message and returns its ack (retrying after
        rate_limited with the same client_id)."""
        cid = cid or client_id()
        while True:
            await self.send({"type": "send", "room": room, "body": body, "client_id": cid})
            while True:
                f = await self.recv(15)
                if f["type"] == "ack" and f["client_id"] == cid:
                    return f
                if f["type"] == "error" and f["ref"] == cid:
                    assert f["code"] == "rate_limited", f
                    await asyncio.sleep(f["retry_after_ms"] / 1000 + 0.01)
                    break
                # messages and noise: not what we wait for

    async def close(self):
        await self.conn.close()

    async def closed_within(self, seconds):
        """Waits for the server to close the socket; returns the frames
        that came first."""
        frames = []
        end = time.monotonic() + seconds
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("socket still open after %ss; got %r" % (seconds, frames))
                raw = await asyncio.wait_for(self.conn.recv(), left)
                frames.append(raw)
        except websockets.ConnectionClosed:
            return frames


async def send_many(ws, room, bodies):
    """Sends every body over ws, pipelined, resending what was rate limited
    with the same client_id; returns {client_id: ack}. Message frames that
    arrive meanwhile are returned too, as a list."""
    pending = {}
    acks = {}
    seen = []
    for b in bodies:
        cid = client_id("m")
        pending[cid] = b
        await ws.send({"type": "send", "room": room, "body": b, "client_id": cid})
    while pending:
        f = await ws.recv(20)
        if f["type"] == "ack":
            acks[f["client_id"]] = f
            pending.pop(f["client_id"], None)
        elif f["type"] == "error":
            assert f["code"] == "rate_limited", f
            await asyncio.sleep(f["retry_after_ms"] / 1000 + 0.01)
            cid = f["ref"]
            await ws.send({"type": "send", "room": room, "body": pending[cid], "client_id": cid})
        elif f["type"] == "message":
            seen.append(f)
    return acks, seen


def make_room(user, kind="public", name=None):
    """Creates a room over HTTP; returns its id."""
    r = user.session.post("/api/rooms", json={"name": name or unique_name("r"), "kind": kind})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["id"]


def check_message(f, room, seq, user=None, body=None):
    assert f["type"] == "message", f
    assert f["room"] == room and f["seq"] == seq, f
    assert isinstance(f["id"], int) and f["kind"] in ("text", "system"), f
    assert RFC3339_MS.match(f["created_at"]), f
    assert f["edited_at"] is None and f["deleted"] is False, f
    if user is not None:
        assert f["user"] == {"id": user.id, "username": user.username}, f
    if body is not None:
        assert f["body"] == body, f


# ---- the handshake ------------------------------------------------------


def test_hello(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        await ws.alive()
        await ws.close()
    run(scenario())


def test_hello_without_origin(stack, new_user):
    """An absent Origin is allowed (scripts, websocat)."""
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u, origin=None)
        await ws.close()
    run(scenario())


def test_no_cookie_unauthenticated(stack):
    async def scenario():
        ws = await WS.open(stack, None)
        f = await ws.recv()
        assert f["type"] == "error" and f["code"] == "unauthenticated", f
        await ws.closed_within(3)
    run(scenario())


def test_bad_token_unauthenticated(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.open(stack, cookie="access_token=" + u.token[:-4] + "AAAA")
        f = await ws.recv()
        assert f["type"] == "error" and f["code"] == "unauthenticated", f
        await ws.closed_within(3)
    run(scenario())


def test_logged_out_token_unauthenticated(stack, new_user):
    u = new_user()
    cookie = u.cookie_header
    assert u.session.post("/api/logout").status_code == 204

    async def scenario():
        ws = await WS.open(stack, cookie=cookie)
        f = await ws.recv()
        assert f["type"] == "error" and f["code"] == "unauthenticated", f
        await ws.closed_within(3)
    run(scenario())


def test_foreign_origin_refused(stack, new_user):
    """Refused at the upgrade (403), or one forbidden_origin frame and close."""
    u = new_user()

    async def scenario():
        try:
            ws = await WS.open(stack, u, origin="http://evil.example")
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 403
            return
        f = await ws.recv()
        assert f["type"] == "error" and f["code"] == "forbidden_origin", f
        await ws.closed_within(3)
    run(scenario())


def test_room_query_joins_at_once(stack, new_user):
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u, query="room=%d" % room)
        j = await ws.expect("joined")
        assert j["room"] == room and j["last_seq"] == 0, j
        assert {"id": u.id, "username": u.username} in j["online"], j
        await ws.close()
    run(scenario())


def test_bad_room_query_answered_socket_stays(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.open(stack, u, query="room=abc")
        f = await ws.recv()
        assert f["type"] == "error" and f["code"] == "invalid" and f["field"] == "room", f
        await ws.expect("hello")
        await ws.alive()
        await ws.close()
    run(scenario())


def test_many_sockets_open_and_close(stack, new_user):
    """Sockets come and go without disturbing each other (and, under ASan,
    without leaks in the worker's NNG teardown)."""
    u = new_user()
    room = make_room(u)

    async def one():
        ws = await WS.hello(stack, u, query="room=%d" % room)
        await ws.expect("joined")
        await ws.close()

    async def scenario():
        for _ in range(3):
            await asyncio.gather(*(one() for _ in range(5)))
    run(scenario(), timeout=90)


@pytest.mark.parametrize("n", [20])
def test_sockets_per_user_limit(stack, new_user, n):
    """The socket over PIPECHAT_MAX_SOCKETS_PER_USER gets limit_reached and closes."""
    u = new_user()

    async def scenario():
        socks = []
        try:
            for _ in range(n):
                socks.append(await WS.hello(stack, u))
            ws = await WS.open(stack, u)
            f = await ws.recv(10)
            assert f["type"] == "error" and f["code"] == "limit_reached", f
            await ws.closed_within(3)
        finally:
            await asyncio.gather(*(s.close() for s in socks))
    run(scenario(), timeout=120)
