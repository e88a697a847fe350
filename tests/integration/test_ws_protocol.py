"""WebSocket protocol (contract sections 4 and 8): join, send/ack/message,
leave, read, typing, idempotent resend, every bad input of section 4 with
its code (and the socket still usable after it), too_large, binary frames,
rooms per socket, isolation between rooms, logout closing the socket."""

import asyncio
import time

from pclib import assert_alive
from test_ws_client import WS, check_message, client_id, make_room, run, RFC3339_MS


def test_join_send_ack_message_order(stack, new_user):
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        j = await ws.join(room)
        assert j["last_seq"] == 0, j
        assert {"id": u.id, "username": u.username} in j["online"], j
        cid = client_id()
        await ws.send({"type": "send", "room": room, "body": "hello", "client_id": cid})
        ack = await ws.expect("ack")
        assert ack["client_id"] == cid and ack["room"] == room and ack["seq"] == 1, ack
        assert isinstance(ack["id"], int) and RFC3339_MS.match(ack["created_at"]), ack
        m = await ws.expect("message")
        check_message(m, room, 1, u, "hello")
        assert m["id"] == ack["id"] and m["created_at"] == ack["created_at"], (m, ack)
        await ws.close()
    run(scenario())


def test_message_reaches_other_member_once(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)

    async def scenario():
        wa = await WS.hello(stack, a)
        wb = await WS.hello(stack, b)
        await wa.join(room)
        await wb.join(room)
        ack = await wa.send_msg(room, "hi b\nsecond line \u00e9\U0001F600")
        m = await wb.expect("message")
        check_message(m, room, ack["seq"], a, "hi b\nsecond line \u00e9\U0001F600")
        await wb.quiet(0.5)
        await wa.close()
        await wb.close()
    run(scenario())


def test_send_without_join_needs_membership(stack, new_user):
    """A member may send to a room it did not join over this socket; a
    stranger to a private room gets an error and nothing is stored."""
    owner, stranger = new_user(), new_user()
    room = make_room(owner, kind="private")

    async def scenario():
        wo = await WS.hello(stack, owner)
        ack = await wo.send_msg(room, "from a member")
        assert ack["seq"] == 1
        ws = await WS.hello(stack, stranger)
        cid = client_id()
        await ws.send({"type": "send", "room": room, "body": "x", "client_id": cid})
        f = await ws.expect("error")
        assert f["code"] in ("not_member", "not_found") and f["ref"] == cid, f
        await ws.alive()
        await wo.close()
        await ws.close()
    run(scenario())
    r = owner.session.get("/api/rooms/%d/messages" % room)
    assert r.status_code == 200 and [m["body"] for m in r.json()["messages"]] == ["from a member"]


def test_join_unknown_and_private_room_not_found(stack, new_user):
    owner, other = new_user(), new_user()
    private = make_room(owner, kind="private")

    async def scenario():
        ws = await WS.hello(stack, other)
        await ws.send({"type": "join", "room": 2 ** 40})
        await ws.expect_error("not_found", ref="join")
        await ws.send({"type": "join", "room": private})
        await ws.expect_error("not_found", ref="join")
        await ws.alive()
        await ws.close()
    run(scenario())


def test_idempotent_resend(stack, new_user):
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        cid = client_id("idem")
        first = await ws.send_msg(room, "once", cid)
        again = await ws.send_msg(room, "once", cid)
        assert again["id"] == first["id"] and again["seq"] == first["seq"], (first, again)
        assert again["created_at"] == first["created_at"]
        await ws.close()
    run(scenario())
    r = u.session.get("/api/rooms/%d/messages" % room)
    assert r.status_code == 200
    assert [m["body"] for m in r.json()["messages"]] == ["once"]


def test_typing_and_read_reach_others(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)

    async def scenario():
        wa = await WS.hello(stack, a)
        wb = await WS.hello(stack, b)
        await wa.join(room)
        await wb.join(room)
        await wa.send({"type": "typing", "room": room})
        t = await wb.expect("typing", skip=("presence", "ping"))
        assert t["room"] == room and t["user"] == {"id": a.id, "username": a.username}, t
        ack = await wa.send_msg(room, "read me")
        await wb.expect("message")
        await wb.send({"type": "read", "room": room, "seq": ack["seq"]})
        r = await wa.expect("read", skip=("presence", "typing", "ping", "message"))
        assert r["room"] == room and r["seq"] == ack["seq"], r
        assert r["user"] == {"id": b.id, "username": b.username}, r
        await wa.close()
        await wb.close()
    run(scenario())


def test_leave_stops_messages(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)

    async def scenario():
        wa = await WS.hello(stack, a)
        wb = await WS.hello(stack, b)
        await wa.join(room)
        await wb.join(room)
        await wb.send({"type": "leave", "room": room})
        await asyncio.sleep(0.3)
        await wa.send_msg(room, "after leave")
        await wb.quiet(1.0, skip=("presence", "typing", "ping", "read", "removed"))
        await wb.alive()
        await wa.close()
        await wb.close()
    run(scenario())


# Every bad input of section 4: (frame, code, ref, field). ref "any" is unchecked.
BAD_INPUTS = [
    ("not json", "bad_json", None, None),
    ("[1,2,3]", "bad_json", None, None),
    ('"a string"', "bad_json", None, None),
    ('{"type":"ping"} trailing', "bad_json", None, None),
    ("{}", "invalid", None, "type"),
    ('{"type":5}', "invalid", None, "type"),
    ('{"type":"dance"}', "unknown_type", "dance", None),
    ('{"type":"join"}', "invalid", "join", "room"),
    ('{"type":"join","room":"1"}', "invalid", "join", "room"),
    ('{"type":"join","room":0}', "invalid", "join", "room"),
    ('{"type":"join","room":1.5}', "invalid", "join", "room"),
    ('{"type":"join","room":1e300}', "invalid", "join", "room"),
    ('{"type":"join","room":ROOM,"since":-1}', "bad_since", "join", None),
    ('{"type":"join","room":ROOM,"since":99999}', "bad_since", "join", None),
    ('{"type":"send","room":ROOM,"body":"x"}', "invalid", "send", "client_id"),
    ('{"type":"send","room":ROOM,"body":"x","client_id":""}', "invalid", "send", "client_id"),
    ('{"type":"send","room":ROOM,"body":"x","client_id":"has space"}', "invalid", "send", "client_id"),
    ('{"type":"send","room":ROOM,"body":"x","client_id":"' + "k" * 65 + '"}', "invalid", "send", "client_id"),
    ('{"type":"send","room":ROOM,"body":7,"client_id":"b1"}', "invalid", "b1", "body"),
    ('{"type":"send","room":ROOM,"body":"","client_id":"b2"}', "bad_body", "b2", None),
    ('{"type":"send","room":ROOM,"body":"   ","client_id":"b3"}', "bad_body", "b3", None),
    ('{"type":"send","room":ROOM,"body":"a\\u0000b","client_id":"b4"}', "bad_body", "b4", None),
    ('{"type":"send","room":ROOM,"body":"bell\\u0007","client_id":"b5"}', "bad_body", "b5", None),
    ('{"type":"send","room":ROOM,"body":"' + "x" * 4001 + '","client_id":"b6"}', "bad_body", "b6", None),
    ('{"type":"read","room":ROOM}', "invalid", "read", "seq"),
    ('{"type":"typing","room":-4}', "invalid", "typing", "room"),
    ('{"type":"call","room":ROOM,"to":1,"data":{}}', "invalid", "call", "call_id"),
    ('{"type":"leave","room":null}', "invalid", "leave", "room"),
]


def test_every_bad_input_answered_socket_stays(stack, new_user):
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        await ws.join(room)
        for frame, code, ref, field in BAD_INPUTS:
            await ws.send(frame.replace("ROOM", str(room)))
            f = await ws.expect("error")
            assert f["code"] == code, (frame[:80], f)
            assert f["ref"] == ref, (frame[:80], f)
            assert f.get("field") == field, (frame[:80], f)
            assert isinstance(f["message"], str) and f["message"], f
        await ws.alive()
        ack = await ws.send_msg(room, "still works")
        assert ack["seq"] == 1
        await ws.close()
    run(scenario())
    assert_alive(stack)


def test_invalid_utf8_answered(stack, new_user):
    """websocketd does not check UTF-8: raw invalid bytes in a text frame get
    bad_json (or bad_body) and the socket stays open."""
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        raw = ('{"type":"send","room":%d,"client_id":"u1","body":"' % room).encode() + b"\xff\xfe\"}"
        await ws.conn.write_frame(True, 0x1, raw)  # a text frame, bytes as they are
        f = await ws.expect("error")
        assert f["code"] in ("bad_json", "bad_body"), f
        await ws.alive()
        await ws.close()
    run(scenario())


def test_binary_frame_spoils_next_line(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        await ws.send(b"\x00\x01binary")
        await ws.send({"type": "ping"})
        f = await ws.expect("error")
        assert f["code"] == "bad_json", f
        await ws.alive()
        await ws.close()
    run(scenario())


def test_too_large_then_socket_works(stack, new_user):
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        await ws.join(room)
        big = '{"type":"send","room":%d,"client_id":"big","body":"%s"}' % (room, "x" * (70 * 1024))
        await ws.send(big)
        f = await ws.expect("error")
        assert f["code"] == "too_large", f
        await ws.alive()
        ack = await ws.send_msg(room, "small")
        assert ack["seq"] == 1
        await ws.close()
    run(scenario())


def test_huge_frame_discarded(stack, new_user):
    """A 4 MiB frame costs the worker no more than its 64 KiB line buffer."""
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        await ws.send("y" * (4 * 1024 * 1024))
        f = await ws.expect("error", timeout=15)
        assert f["code"] == "too_large", f
        await ws.alive()
        await ws.close()
    run(scenario())


def test_chatty_socket_outlives_web_server_body_limit(stack, new_user):
    """A socket's client traffic over its life is not a request body: 400 KiB
    of frames (past lighttpd's 128 KiB max-request-size) keep it open."""
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        frame = '{"type":"ping","pad":"%s"}' % ("p" * 1000)
        for _ in range(400):
            await ws.send(frame)
            await ws.expect("pong")
        await ws.close()
    run(scenario())


def test_exactly_64k_frame_is_read(stack, new_user):
    """A frame of exactly 64 KiB is a frame, not too_large (its body is then
    too long for a message: bad_body)."""
    u = new_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(stack, u)
        head = '{"type":"send","room":%d,"client_id":"k64","body":"' % room
        frame = head + "z" * (64 * 1024 - len(head) - 2) + '"}'
        assert len(frame) == 64 * 1024
        await ws.send(frame)
        await ws.expect_error("bad_body", ref="k64")
        await ws.close()
    run(scenario())


def test_rooms_per_socket_limit(stack, new_user):
    u = new_user()
    rooms = [make_room(u) for _ in range(101)]

    async def scenario():
        ws = await WS.hello(stack, u)
        for r in rooms[:100]:
            await ws.send({"type": "join", "room": r})
        for _ in range(100):
            await ws.expect("joined", timeout=20)
        await ws.send({"type": "join", "room": rooms[100]})
        await ws.expect_error("limit_reached", ref="join")
        await ws.send({"type": "leave", "room": rooms[0]})
        await ws.join(rooms[100])
        await ws.close()
    run(scenario(), timeout=120)


def test_room_isolation(stack, new_user):
    """A socket in room A receives nothing of room B, even when its user is
    a member of B (joined over HTTP, not over this socket)."""
    a, b = new_user(), new_user()
    room_a = make_room(a)
    room_b = make_room(b)
    assert a.session.post("/api/rooms/%d/join" % room_b).status_code == 204

    async def scenario():
        wa = await WS.hello(stack, a)
        await wa.join(room_a)
        wb = await WS.hello(stack, b)
        await wb.join(room_b)
        await wb.join(room_a)
        for i in range(5):
            await wb.send_msg(room_b, "secret %d" % i)
        await wb.send({"type": "typing", "room": room_b})
        sentinel = await wb.send_msg(room_a, "sentinel")
        # The first message a sees is the sentinel from room A.
        while True:
            f = await wa.recv(10)
            assert f.get("room") in (room_a, None), f
            if f["type"] == "message":
                check_message(f, room_a, sentinel["seq"], b, "sentinel")
                break
        await wa.quiet(0.5)
        await wa.close()
        await wb.close()
    run(scenario())


def test_rate_limit_shared_by_two_sockets(stack, new_user):
    """Sends are limited per user: two sockets of one user share the bucket
    (burst 20 by default), and the refused ones store nothing."""
    u = new_user()
    room = make_room(u)

    async def scenario():
        w1 = await WS.hello(stack, u)
        w2 = await WS.hello(stack, u)
        cids = []
        for i in range(30):
            cid = client_id("rl")
            cids.append(cid)
            await (w1 if i % 2 == 0 else w2).send(
                {"type": "send", "room": room, "body": "m%d" % i, "client_id": cid})
        acked, limited = set(), set()

        async def collect(ws):
            while len(acked) + len(limited) < 30:
                try:
                    f = await ws.recv(3)
                except asyncio.TimeoutError:
                    return
                if f["type"] == "ack":
                    acked.add(f["client_id"])
                elif f["type"] == "error":
                    assert f["code"] == "rate_limited", f
                    assert isinstance(f["retry_after_ms"], int) and f["retry_after_ms"] > 0, f
                    limited.add(f["ref"])
        await asyncio.gather(collect(w1), collect(w2))
        assert len(acked) + len(limited) == 30, (len(acked), len(limited))
        assert limited, "no send was rate limited"
        assert 20 <= len(acked) <= 23, len(acked)
        await w1.close()
        await w2.close()
        return len(acked)
    n = run(scenario())
    r = u.session.get("/api/rooms/%d/messages?limit=200" % room)
    assert len(r.json()["messages"]) == n


def test_logout_closes_socket_within_a_second(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        other = u.login()  # another session of the same user stays open
        wo = await WS.open(stack, cookie="access_token=" + other.token)
        await wo.expect("hello")
        t0 = time.monotonic()
        r = await asyncio.get_running_loop().run_in_executor(None, lambda: u.session.post("/api/logout"))
        assert r.status_code == 204
        frames = await ws.closed_within(2.0)
        assert time.monotonic() - t0 < 1.5
        assert any('"session_revoked"' in f for f in frames if isinstance(f, str)), frames
        await wo.alive()
        await wo.close()
    run(scenario())
