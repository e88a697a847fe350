"""What the API tells the broker reaches live sockets (contract sections 3,
4 and 8): a kick or an HTTP leave sends `removed` to every socket of that
user and stops the room's traffic to them; deleting a room sends `removed` to
its subscribers; presence follows a user's first and last socket in a room,
and `joined` lists who is online. Clients are real WebSockets through the web
server and pipechat-ws.
"""

import asyncio
import itertools
import json
import time

import websockets

from pclib import unique_name

_ids = itertools.count(1)
NOISE = ("typing", "ping", "read")


def run(coro, timeout=60):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def make_room(user, kind="public"):
    r = user.session.post("/api/rooms", json={"name": unique_name("bn"), "kind": kind})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["id"]


class Sock:
    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def open(cls, stack, user):
        conn = await websockets.connect(
            stack.ws_url, origin=stack.origin,
            extra_headers={"Cookie": user.cookie_header}, max_size=None,
            ping_interval=None, open_timeout=10, close_timeout=1)
        s = cls(conn)
        assert (await s.recv(10))["type"] == "hello"
        return s

    async def recv(self, timeout=5):
        return json.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def send(self, obj):
        await self.conn.send(json.dumps(obj))

    async def expect(self, ftype, timeout=5, skip=NOISE + ("presence",)):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, "no %s frame within %ss" % (ftype, timeout)
            f = await self.recv(left)
            if f["type"] == ftype:
                return f
            assert f["type"] in skip, "want %s, got %r" % (ftype, f)

    async def join(self, room):
        await self.send({"type": "join", "room": room})
        return await self.expect("joined", 10)

    async def say(self, room, body):
        cid = "n-%d" % next(_ids)
        await self.send({"type": "send", "room": room, "body": body, "client_id": cid})
        while True:
            f = await self.recv(10)
            if f["type"] == "ack" and f["client_id"] == cid:
                return f

    async def quiet(self, seconds, forbid):
        """Nothing of a type in forbid arrives for a while."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                f = await self.recv(left)
            except asyncio.TimeoutError:
                return
            assert f["type"] not in forbid, f

    async def close(self):
        await self.conn.close()


def test_kick_removes_every_socket_of_the_user(stack, new_user):
    owner, member = new_user("own"), new_user("mem")
    room = make_room(owner)

    async def scenario():
        wo = await Sock.open(stack, owner)
        await wo.join(room)
        m1 = await Sock.open(stack, member)
        await m1.join(room)
        m2 = await Sock.open(stack, member)  # a second tab, not in the room
        await wo.say(room, "before")
        assert (await m1.expect("message"))["body"] == "before"
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: owner.session.post("/api/rooms/%d/kick" % room,
                                             json={"username": member.username}))
        assert r.status_code == 204, r.text
        for s in (m1, m2):
            f = await s.expect("removed", 5)
            assert f == {"type": "removed", "room": room}, f
        await wo.say(room, "after")
        await m1.quiet(1.0, forbid=("message",))
        # the owner sees the kicked user go offline
        for s in (wo, m1, m2):
            await s.close()

    run(scenario())


def test_http_leave_removes_and_presence_goes_offline(stack, new_user):
    a, b = new_user("pa"), new_user("pb")
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room).status_code == 204

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        wb = await Sock.open(stack, b)
        j = await wb.join(room)
        ids = {u["id"] for u in j["online"]}
        assert {a.id, b.id} <= ids, j
        f = await wa.expect("presence", skip=NOISE)
        assert f["user"] == {"id": b.id, "username": b.username} and f["online"] is True, f
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: b.session.post("/api/rooms/%d/leave" % room))
        assert r.status_code == 204, r.text
        assert (await wb.expect("removed"))["room"] == room
        f = await wa.expect("presence", skip=NOISE)
        assert f["user"]["id"] == b.id and f["online"] is False, f
        await wa.say(room, "gone?")
        await wb.quiet(1.0, forbid=("message",))
        await wa.close()
        await wb.close()

    run(scenario())


def test_second_socket_is_no_new_presence(stack, new_user):
    a, b = new_user("sa"), new_user("sb")
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room).status_code == 204

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        b1 = await Sock.open(stack, b)
        await b1.join(room)
        f = await wa.expect("presence", skip=NOISE)
        assert f["online"] is True
        b2 = await Sock.open(stack, b)
        await b2.join(room)
        await wa.quiet(0.5, forbid=("presence",))  # b was online already
        await b1.close()
        await wa.quiet(0.5, forbid=("presence",))  # b2 is still there
        await b2.close()
        f = await wa.expect("presence", skip=NOISE)
        assert f["user"]["id"] == b.id and f["online"] is False, f
        await wa.close()

    run(scenario())


def test_deleted_room_removes_subscribers(stack, new_user):
    owner, other = new_user("do"), new_user("dx")
    room = make_room(owner)
    assert other.session.post("/api/rooms/%d/join" % room).status_code == 204

    async def scenario():
        wo = await Sock.open(stack, owner)
        await wo.join(room)
        wx = await Sock.open(stack, other)
        await wx.join(room)
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: owner.session.delete("/api/rooms/%d" % room))
        assert r.status_code == 204, r.text
        for s in (wo, wx):
            assert (await s.expect("removed"))["room"] == room
        # the room is gone for joins too
        await wx.send({"type": "join", "room": room})
        f = await wx.expect("error")
        assert f["code"] == "not_found", f
        await wo.close()
        await wx.close()

    run(scenario())
