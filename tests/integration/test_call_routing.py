"""Call signalling over the WebSocket (contract sections 4 and 8, docs/calls.md):
a `call` frame reaches the addressed member's sockets only, or the caller's own
other sockets when `to` is the caller; non-members, members without a socket
and callers blocked by the callee get `not_reachable`; malformed frames get
`invalid` with ref = the call_id; call frames are rate limited per user; an
unanswered call ends as missed on both sides and leaves ONE system message
"missed call" in the room; the broker keeps user_online (sql/0002) for the API.
Clients are real WebSockets through the web server and pipechat-ws.
"""

import asyncio
import itertools
import json
import time

import pytest
import websockets

from pclib import unique_name

_ids = itertools.count(1)
NOISE = ("typing", "ping", "read", "presence")


def run(coro, timeout=90):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def call_id():
    return "c-%d-%d" % (int(time.time() * 1000), next(_ids))


def public_room(owner, *members):
    r = owner.session.post("/api/rooms", json={"name": unique_name("call"), "kind": "public"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for m in members:
        assert m.session.post("/api/rooms/%d/join" % rid).status_code == 204
    return rid


def direct_room(a, b):
    r = a.session.post("/api/dm", json={"username": b.username})
    assert r.status_code in (200, 201), r.text
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
        assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "hello"
        return s

    async def recv(self, timeout=5):
        return json.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def send(self, obj):
        await self.conn.send(json.dumps(obj) if not isinstance(obj, str) else obj)

    async def expect(self, ftype, timeout=5, skip=NOISE):
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

    async def call(self, room, to, cid, data):
        await self.send({"type": "call", "room": room, "to": to, "call_id": cid, "data": data})

    async def quiet(self, seconds, forbid=("call", "error")):
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


def history(user, room):
    r = user.session.get("/api/rooms/%d/messages" % room, params={"limit": 200})
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def test_call_reaches_every_socket_of_the_callee_and_no_one_else(stack, new_user):
    a, b, c = new_user("ca"), new_user("cb"), new_user("cc")
    room = public_room(a, b, c)

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        b1, b2 = await Sock.open(stack, b), await Sock.open(stack, b)
        b3 = await Sock.open(stack, b)  # a tab that joined no room rings too
        await b1.join(room)
        await b2.join(room)
        wc = await Sock.open(stack, c)
        await wc.join(room)
        cid = call_id()
        data = {"type": "ring", "media": "video"}
        await wa.call(room, b.id, cid, data)
        for s in (b1, b2, b3):
            f = await s.expect("call")
            assert f == {"type": "call", "room": room, "call_id": cid,
                         "from": {"id": a.id, "username": a.username}, "data": data}, f
        await wa.call(room, b.id, cid, {"type": "offer", "sdp": "v=0\r\n"})
        assert (await b1.expect("call"))["data"] == {"type": "offer", "sdp": "v=0\r\n"}
        await wc.quiet(1.0)
        await wa.quiet(0.2)
        await wa.call(room, b.id, cid, {"type": "hangup"})
        for s in (wa, b1, b2, b3, wc):
            await s.close()

    run(scenario())


def test_call_to_oneself_reaches_only_ones_other_sockets(stack, new_user):
    a, b = new_user("sa"), new_user("sb")
    room = direct_room(a, b)

    async def scenario():
        t1, t2 = await Sock.open(stack, b), await Sock.open(stack, b)
        await t1.join(room)
        wa = await Sock.open(stack, a)
        await wa.join(room)
        cid = call_id()
        await t1.call(room, b.id, cid, {"type": "accept"})
        f = await t2.expect("call")
        assert f["from"] == {"id": b.id, "username": b.username} and f["data"] == {"type": "accept"}
        await t1.quiet(0.5)
        await wa.quiet(0.5)
        await t2.close()
        # no other socket now: not_reachable, ref = the call_id
        await t1.call(room, b.id, cid, {"type": "accept"})
        f = await t1.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == cid, f
        for s in (t1, wa):
            await s.close()

    run(scenario())


def test_not_member_not_reachable_and_blocked(stack, new_user):
    a, b, c, d = new_user("na"), new_user("nb"), new_user("nc"), new_user("nd")
    room = public_room(a, b)
    other = public_room(c)

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        wc = await Sock.open(stack, c)  # online, but not a member of room
        wb = await Sock.open(stack, b)
        await wb.join(room)
        wd = await Sock.open(stack, d)
        cid = call_id()
        await wa.call(room, c.id, cid, {"type": "ring"})
        f = await wa.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == cid, f
        # a room the caller has not joined on this socket
        await wa.call(other, c.id, cid, {"type": "ring"})
        f = await wa.expect("error")
        assert f["code"] in ("not_member", "not_found") and f["ref"] == cid, f
        await wc.quiet(0.5)
        # a member with no open socket
        await wb.close()
        await asyncio.sleep(0.3)
        await wa.call(room, b.id, cid, {"type": "ring"})
        f = await wa.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == cid, f
        # blocked by the callee
        wb = await Sock.open(stack, b)
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: b.session.post("/api/blocks", json={"username": a.username}))
        assert r.status_code == 204, r.text
        await wa.call(room, b.id, cid, {"type": "ring"})
        f = await wa.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == cid, f
        await wb.quiet(0.5)
        # but the blocker may still call (blocks are one way)
        await wb.join(room)
        await wb.call(room, a.id, cid, {"type": "ring"})
        assert (await wa.expect("call"))["from"]["id"] == b.id
        await wb.call(room, a.id, cid, {"type": "hangup"})
        await wd.quiet(0.3)
        for s in (wa, wb, wc, wd):
            await s.close()

    run(scenario())


@pytest.mark.parametrize("frame,field", [
    ({"call_id": "x" * 65, "data": {"type": "ring"}}, "call_id"),
    ({"call_id": "bad\u00e9id", "data": {"type": "ring"}}, "call_id"),
    ({"call_id": "ok-1", "data": {"sdp": "no type"}}, "data"),
    ({"call_id": "ok-2", "data": {"type": "dance"}}, "data"),
    ({"call_id": "ok-3", "data": "ring"}, "data"),
    ({"call_id": "ok-4"}, "data"),
    ({"call_id": "ok-5", "to": "two", "data": {"type": "ring"}}, "to"),
])
def test_malformed_call_is_invalid_and_socket_stays(stack, new_user, frame, field):
    a, b = new_user("ma"), new_user("mb")
    room = direct_room(a, b)

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        wb = await Sock.open(stack, b)
        msg = {"type": "call", "room": room, "to": b.id}
        msg.update(frame)
        await wa.send(msg)
        f = await wa.expect("error")
        assert f["code"] == "invalid" and f.get("field") == field, f
        if field != "call_id":
            assert f["ref"] == frame["call_id"], f
        await wb.quiet(0.3)
        await wa.send({"type": "ping"})
        await wa.expect("pong")
        for s in (wa, wb):
            await s.close()

    run(scenario())


def test_call_frames_are_rate_limited_per_user(stack, new_user):
    a, b = new_user("ra"), new_user("rb")
    room = direct_room(a, b)

    async def scenario():
        wa = await Sock.open(stack, a)
        await wa.join(room)
        wb = await Sock.open(stack, b)
        cid = call_id()
        for i in range(60):
            await wa.call(room, b.id, cid, {"type": "ice", "candidate": "c%d" % i})
        limited = relayed = 0
        end = time.monotonic() + 5
        while limited + relayed < 60 and time.monotonic() < end:
            try:
                f = await wa.recv(0.5)
            except asyncio.TimeoutError:
                pass
            else:
                if f["type"] == "error":
                    assert f["code"] == "rate_limited" and f["ref"] == cid, f
                    assert f["retry_after_ms"] >= 1
                    limited += 1
            while True:
                try:
                    f = await wb.recv(0.05)
                except asyncio.TimeoutError:
                    break
                if f["type"] == "call":
                    relayed += 1
        assert 35 <= relayed <= 50 and limited == 60 - relayed, (relayed, limited)
        for s in (wa, wb):
            await s.close()

    run(scenario())


def test_declined_and_answered_calls_store_nothing(stack, new_user):
    a, b = new_user("da"), new_user("db")
    room = direct_room(a, b)

    async def scenario():
        wa, wb = await Sock.open(stack, a), await Sock.open(stack, b)
        await wa.join(room)
        await wb.join(room)
        c1, c2 = call_id(), call_id()
        await wa.call(room, b.id, c1, {"type": "ring"})
        await wb.expect("call")
        await wb.call(room, a.id, c1, {"type": "decline"})
        assert (await wa.expect("call"))["data"]["type"] == "decline"
        await wa.call(room, b.id, c2, {"type": "ring"})
        await wb.expect("call")
        await wb.call(room, a.id, c2, {"type": "accept"})
        assert (await wa.expect("call"))["data"]["type"] == "accept"
        await wa.call(room, b.id, c2, {"type": "hangup"})
        assert (await wb.expect("call"))["data"]["type"] == "hangup"
        await wa.quiet(1.0, forbid=("message",))
        for s in (wa, wb):
            await s.close()

    run(scenario())
    assert history(a, room) == []


def test_caller_hanging_up_before_an_answer_is_one_missed_call(stack, new_user):
    a, b = new_user("ha"), new_user("hb")
    room = direct_room(a, b)

    async def scenario():
        wa, wb = await Sock.open(stack, a), await Sock.open(stack, b)
        await wa.join(room)
        await wb.join(room)
        cid = call_id()
        await wa.call(room, b.id, cid, {"type": "ring"})
        await wb.expect("call")
        await wa.call(room, b.id, cid, {"type": "hangup"})
        assert (await wb.expect("call"))["data"]["type"] == "hangup"
        m = await wb.expect("message")
        assert m["kind"] == "system" and m["body"] == "missed call", m
        assert m["user"] == {"id": a.id, "username": a.username}, m
        # the same hangup again stores nothing more
        await wa.call(room, b.id, cid, {"type": "hangup"})
        await wb.quiet(1.0, forbid=("message",))
        for s in (wa, wb):
            await s.close()

    run(scenario())
    msgs = history(b, room)
    assert [(m["kind"], m["body"]) for m in msgs] == [("system", "missed call")], msgs


def test_unanswered_call_is_missed_after_30_seconds(stack, new_user):
    a, b = new_user("ua"), new_user("ub")
    room = direct_room(a, b)

    async def scenario():
        wa, wb = await Sock.open(stack, a), await Sock.open(stack, b)
        await wa.join(room)
        await wb.join(room)
        cid = call_id()
        t0 = time.monotonic()
        await wa.call(room, b.id, cid, {"type": "ring", "media": "audio"})
        await wb.expect("call")
        for s in (wa, wb):
            f = await s.expect("call", 40, skip=NOISE + ("message",))
            assert f["call_id"] == cid and f["data"] == {"type": "missed"}, f
        assert 28 <= time.monotonic() - t0 <= 35
        m = await wb.expect("message", 5)
        assert m["kind"] == "system" and m["body"] == "missed call", m
        for s in (wa, wb):
            await s.close()

    run(scenario())
    msgs = history(a, room)
    assert [(m["kind"], m["body"], m["user"]["id"]) for m in msgs] == \
        [("system", "missed call", a.id)], msgs


def test_ringing_callers_socket_closing_ends_the_call_as_missed(stack, new_user):
    a, b = new_user("ga"), new_user("gb")
    room = direct_room(a, b)

    async def scenario():
        wa, wb = await Sock.open(stack, a), await Sock.open(stack, b)
        await wa.join(room)
        await wb.join(room)
        cid = call_id()
        await wa.call(room, b.id, cid, {"type": "ring"})
        await wb.expect("call")
        await wa.close()
        f = await wb.expect("call", 5)
        assert f["data"] == {"type": "missed"}, f
        await wb.close()

    run(scenario())
    assert [m["body"] for m in history(a, room)] == ["missed call"]


def test_answered_call_ends_for_the_other_side_when_a_socket_goes(stack, new_user):
    a, b = new_user("xa"), new_user("xb")
    room = direct_room(a, b)

    async def scenario():
        wa, wb = await Sock.open(stack, a), await Sock.open(stack, b)
        await wa.join(room)
        await wb.join(room)
        cid = call_id()
        await wa.call(room, b.id, cid, {"type": "ring"})
        await wb.expect("call")
        await wb.call(room, a.id, cid, {"type": "accept"})
        await wa.expect("call")
        await wb.close()
        f = await wa.expect("call", 5)
        assert f["data"] == {"type": "hangup", "reason": "gone"}, f
        await wa.close()

    run(scenario())
    assert history(a, room) == []


def test_user_online_follows_the_first_and_last_socket(stack, new_user):
    a = new_user("oa")

    def rows():
        return stack.psql("SELECT sockets FROM user_online WHERE user_id = %d" % a.id)

    def wait_for(want):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            got = rows()
            if got == want:
                return
            time.sleep(0.2)
        assert rows() == want

    async def scenario():
        wait_for([])
        s1 = await Sock.open(stack, a)
        await asyncio.get_running_loop().run_in_executor(None, wait_for, [["1"]])
        s2 = await Sock.open(stack, a)
        await asyncio.get_running_loop().run_in_executor(None, wait_for, [["2"]])
        await s1.close()
        await s2.close()
        await asyncio.get_running_loop().run_in_executor(None, wait_for, [])

    run(scenario())
