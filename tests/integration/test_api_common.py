"""Helpers shared by the test_api_* modules (no tests of their own): rooms
made over HTTP, messages sent over a real WebSocket (the broker is their only
writer), and a small live-socket client to watch the events the API sends
through the broker (invite, room, removed, edited, deleted).

    from test_api_common import Live, run, make_room, send_message, ...
"""

import asyncio
import itertools
import json
import time

import websockets

from pclib import describe, unique_name

# Frames that may come at any moment and that these tests do not look at.
NOISE = ("presence", "typing", "ping", "read", "pong")
_ids = itertools.count(1)


def run(coro, timeout=60):
    """Runs one coroutine with a hard bound on its time."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def make_room(user, kind="public", name=None):
    """Creates a room over HTTP; returns its object."""
    r = user.session.post("/api/rooms", json={"name": name or unique_name("r"), "kind": kind})
    assert r.status_code == 201, describe(r)
    return r.json()


def room_member_ids(user, room_id):
    r = user.session.get("/api/rooms/%d/members" % room_id)
    assert r.status_code == 200, describe(r)
    return [m["id"] for m in r.json()["members"]]


class Live:
    """One WebSocket of a user, for watching events."""

    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def open(cls, stack, user, cookie=None):
        conn = await websockets.connect(
            stack.ws_url, origin=stack.origin,
            extra_headers={"Cookie": cookie or user.cookie_header},
            max_size=None, ping_interval=None, open_timeout=10, close_timeout=2)
        live = cls(conn)
        hello = await live.recv(10)
        assert hello["type"] == "hello", hello
        return live

    async def recv(self, timeout=5):
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        return json.loads(raw)

    async def expect(self, ftype, timeout=5):
        """The next frame of type ftype, passing over noise and messages."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s frame within %ss" % (ftype, timeout))
            try:
                f = await self.recv(left)
            except asyncio.TimeoutError:
                raise AssertionError("no %s frame within %ss" % (ftype, timeout)) from None
            if f["type"] == ftype:
                return f
            assert f["type"] in NOISE + ("message", "ack", "joined"), f

    async def nothing(self, ftype, seconds=0.7):
        """Asserts that no frame of type ftype arrives for a while."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                f = await self.recv(left)
            except asyncio.TimeoutError:
                return
            assert f["type"] != ftype, "unexpected %r" % (f,)

    async def join(self, room_id):
        await self.conn.send(json.dumps({"type": "join", "room": room_id}))
        return await self.expect("joined", 10)

    async def send_msg(self, room_id, body):
        """Sends one message; returns its ack (waits out rate limits)."""
        cid = "api2-%d-%d" % (int(time.time() * 1000), next(_ids))
        while True:
            await self.conn.send(json.dumps({"type": "send", "room": room_id,
                                             "body": body, "client_id": cid}))
            while True:
                f = await self.recv(15)
                if f["type"] == "ack" and f["client_id"] == cid:
                    return f
                if f["type"] == "error" and f.get("ref") == cid:
                    assert f["code"] == "rate_limited", f
                    await asyncio.sleep(f["retry_after_ms"] / 1000 + 0.01)
                    break

    async def close(self):
        await self.conn.close()


def send_messages(stack, user, room_id, bodies):
    """Sends each body to room_id as user over a WebSocket; returns the acks."""
    async def go():
        live = await Live.open(stack, user)
        acks = [await live.send_msg(room_id, b) for b in bodies]
        await live.close()
        return acks
    return run(go())


def send_message(stack, user, room_id, body="hello"):
    return send_messages(stack, user, room_id, [body])[0]


def history(user, room_id, **params):
    r = user.session.get("/api/rooms/%d/messages" % room_id, params=params)
    assert r.status_code == 200, describe(r)
    return r.json()["messages"]
