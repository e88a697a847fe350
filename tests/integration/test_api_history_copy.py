"""History pages served from the request thread's copy (fcgi-api/histcache.h,
sql/0005_history_version.sql): a copy is used only while the database's
version of the room's history is the one it was built at, and never in place
of the session and visibility checks. Each test warms the copy, changes what
it shows (or who may see it) by the route a client would use, and expects
the very next read to show the change.

A copy a session has checked is also vouched for that session (histcache.h,
common/board.h): while the change boards have not moved, its next reads take
the copy without any statement. Every change made through pipechat moves a
board before anyone hears of it, so the tests above it hold unchanged; a
change typed into psql is seen within HISTCACHE_VOUCH_MS (1 s).

Run on a stack with one API thread, so that every read meets the same copy,
and with a metrics token, so that a test can see that copies were used."""

import time

import pytest
import requests

from pclib import assert_error, describe, make_user
from test_api_common import Live, make_room, run, send_message

TOKEN = "metrics-token-for-history-copies-0123"


@pytest.fixture(scope="module")
def one(start_stack):
    return start_stack(PIPECHAT_API_THREADS="1", PIPECHAT_METRICS_TOKEN=TOKEN)


VOUCH_SECONDS = 1.0  # HISTCACHE_VOUCH_MS


def counter(st, name):
    r = requests.get(st.base_url + "/api/metrics", timeout=10,
                     headers={"Authorization": "Bearer " + TOKEN})
    assert r.status_code == 200, describe(r)
    for line in r.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no %s in /api/metrics" % name)


def copies(st):
    return counter(st, "pipechat_api_history_copies_total")


def vouched(st):
    return counter(st, "pipechat_api_history_vouched_total")


def raw(user, room_id, **params):
    r = user.session.get("/api/rooms/%d/messages" % room_id, params=params)
    assert r.status_code == 200, describe(r)
    return r.text


def msgs(user, room_id, **params):
    r = user.session.get("/api/rooms/%d/messages" % room_id, params=params)
    assert r.status_code == 200, describe(r)
    return r.json()["messages"]


def warm(st, user, room_id, **params):
    """Reads the page until the second read is served from the copy; returns
    its text. The copy is then confirmed (histcache.h), so the next read asks
    the statement without the page first (h_messages.c): every test below
    checks that path too."""
    first = raw(user, room_id, **params)
    before = copies(st)
    again = raw(user, room_id, **params)
    assert copies(st) == before + 1, "the second read did not use the copy"
    assert again == first
    return first


def test_copy_is_the_same_answer_for_every_reader(one):
    u, v = make_user(one), make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "one")
    text = warm(one, u, room)
    before = copies(one)
    assert raw(v, room) == text  # another reader of the public room
    assert copies(one) == before + 1


def test_confirmed_copy_serves_until_the_room_changes(one):
    """Read after read of a quiet room comes from the confirmed copy; a
    message makes the next read fresh, and that page serves again."""
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "quiet")
    text = warm(one, u, room)
    before = copies(one)
    for _ in range(3):
        assert raw(u, room) == text
    assert copies(one) == before + 3
    send_message(one, u, room, "loud")
    assert [m["body"] for m in msgs(u, room)] == ["quiet", "loud"]
    assert copies(one) == before + 3
    fresh = raw(u, room)
    assert copies(one) == before + 4 and fresh != text


def test_acked_message_is_in_the_next_read(one):
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "first")
    warm(one, u, room)
    warm(one, u, room, limit=1)
    ack = send_message(one, u, room, "second")
    assert [m["body"] for m in msgs(u, room)] == ["first", "second"]
    [m] = msgs(u, room, limit=1)
    assert m["seq"] == ack["seq"] and m["body"] == "second"


def test_edit_and_delete_are_in_the_next_read(one):
    u = make_user(one)
    room = make_room(u)["id"]
    ack = send_message(one, u, room, "before")
    warm(one, u, room)
    r = u.session.patch("/api/rooms/%d/messages/%d" % (room, ack["seq"]), json={"body": "after"})
    assert r.status_code == 200, describe(r)
    [m] = msgs(u, room)
    assert m["body"] == "after" and m["edited_at"] is not None
    warm(one, u, room)
    r = u.session.delete("/api/rooms/%d/messages/%d" % (room, ack["seq"]))
    assert r.status_code == 204, describe(r)
    [m] = msgs(u, room)
    assert m["deleted"] is True and m["body"] is None


def test_change_made_in_sql_is_read_within_a_second(one):
    """The triggers see every writer, not only the API's routes; a change
    made outside pipechat moves no board, so a vouched copy may answer for
    up to HISTCACHE_VOUCH_MS more, and then the statement sees it."""
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "typed")
    warm(one, u, room)
    one.psql("UPDATE messages SET body = 'fixed by hand' WHERE room_id = %d" % room)
    time.sleep(VOUCH_SECONDS + 0.05)
    assert [m["body"] for m in msgs(u, room)] == ["fixed by hand"]


def test_session_revoked_in_sql_is_401_within_a_second(one):
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "hi")
    warm(one, u, room)
    one.psql("UPDATE sessions SET revoked_at = now() WHERE user_id = %d" % u.id)
    time.sleep(VOUCH_SECONDS + 0.05)
    assert_error(u.session.get("/api/rooms/%d/messages" % room), 401, "unauthenticated")


def test_vouched_copy_needs_no_statement_until_a_board_moves(one):
    """A quiet room's reads take the vouched copy; a message in another room
    leaves this room's counter alone (board.h: one per room, mod 4096), a
    message here or any unsafe request moves a board and the next read asks
    PostgreSQL again. A vouch lasts 1 s from its statement, so an attempt
    slower than that (a loaded machine) is tried again."""
    u = make_user(one)

    async def attempt():
        room, elsewhere = make_room(u)["id"], make_room(u)["id"]
        live = await Live.open(one, u)
        try:
            await live.join(room)
            await live.join(elsewhere)
            await live.send_msg(room, "quiet")
            text = warm(one, u, room)
            t0 = time.monotonic()
            before = vouched(one)
            for _ in range(3):
                assert raw(u, room) == text
            await live.send_msg(elsewhere, "next door")
            assert raw(u, room) == text
            got = vouched(one) - before
            if time.monotonic() - t0 > 0.8 * VOUCH_SECONDS:
                return False
            assert got == 4
            await live.send_msg(room, "here")
            assert [m["body"] for m in msgs(u, room)] == ["quiet", "here"]
            assert vouched(one) == before + 4
            text = raw(u, room)
            assert vouched(one) == before + 5
            r = u.session.post("/api/rooms/%d/read" % room, json={"seq": 1})
            assert r.status_code == 204, describe(r)
            assert raw(u, room) == text
            assert vouched(one) == before + 5  # the POST moved `global`
            return True
        finally:
            await live.close()

    for _ in range(3):
        if run(attempt()):
            return
    pytest.fail("three attempts each took over %.1f s" % (0.8 * VOUCH_SECONDS))


def test_refused_write_leaves_the_vouch(one):
    """A POST refused before its handler (bad JSON, another origin) wrote
    nothing and moves no board: junk requests do not cost readers their
    vouched copies. One whose handler ran does."""
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "kept")
    url = "/api/rooms/%d/read" % room
    for _ in range(3):
        text = warm(one, u, room)
        t0 = time.monotonic()
        before = vouched(one)
        assert_error(u.session.post(url, data="{not json",
                                    headers={"Content-Type": "application/json"}),
                     400, "bad_json")
        assert_error(u.session.post(url, json={"seq": 1},
                                    headers={"Origin": "http://elsewhere.example"}),
                     403, "forbidden_origin")
        assert raw(u, room) == text
        if time.monotonic() - t0 > 0.8 * VOUCH_SECONDS:
            continue  # the vouch may have run out: try again
        assert vouched(one) == before + 1
        assert u.session.post(url, json={"seq": 1}).status_code == 204
        assert raw(u, room) == text
        assert vouched(one) == before + 1
        return
    pytest.fail("three attempts each took over %.1f s" % (0.8 * VOUCH_SECONDS))


def test_vouch_is_per_session(one):
    """Another session of the same user, or another user, is checked by a
    statement before the copy serves it."""
    u, v = make_user(one), make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "shared")
    s = u.login()
    text = warm(one, u, room)
    before = vouched(one)
    assert s.get("/api/rooms/%d/messages" % room).text == text
    assert raw(v, room) == text
    assert vouched(one) == before
    assert s.get("/api/rooms/%d/messages" % room).text == text
    assert raw(v, room) == text
    assert vouched(one) == before + 2


def test_deleted_author_is_in_the_next_read(one):
    u, v = make_user(one), make_user(one)
    room = make_room(u)["id"]
    assert v.session.post("/api/rooms/%d/join" % room).status_code == 204
    send_message(one, v, room, "by v")
    warm(one, u, room)
    r = v.session.delete("/api/me", json={"password": v.password})
    assert r.status_code == 204, describe(r)
    [m] = msgs(u, room)
    assert m["user"] == {"id": v.id, "username": "deleted user"} and m["body"] == "by v"


def test_logout_is_401_even_with_a_current_copy(one):
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "hi")
    s = u.login()
    warm(one, u, room)
    assert s.get("/api/rooms/%d/messages" % room).status_code == 200
    token = s.token
    assert s.post("/api/logout").status_code == 204
    s.cookies.set("access_token", token)
    assert_error(s.get("/api/rooms/%d/messages" % room), 401, "unauthenticated")


@pytest.mark.parametrize("how", ["leave", "kick"])
def test_lost_membership_is_404_even_with_a_current_copy(one, how):
    owner, v = make_user(one), make_user(one)
    room = make_room(owner, kind="private")["id"]
    r = owner.session.post("/api/rooms/%d/invites" % room, json={"username": v.username})
    assert r.status_code == 201, describe(r)
    assert v.session.post("/api/invites/%d/accept" % r.json()["id"]).status_code == 204
    send_message(one, owner, room, "members only")
    warm(one, v, room)
    if how == "leave":
        assert v.session.post("/api/rooms/%d/leave" % room).status_code == 204
    else:
        r = owner.session.post("/api/rooms/%d/kick" % room, json={"username": v.username})
        assert r.status_code == 204, describe(r)
    assert_error(v.session.get("/api/rooms/%d/messages" % room), 404, "not_found")
    # The owner still gets the page (the copy may serve it: nothing in it changed).
    assert [m["body"] for m in msgs(owner, room)] == ["members only"]


def test_outsider_is_404_while_a_member_has_a_copy(one):
    owner, other = make_user(one), make_user(one)
    room = make_room(owner, kind="private")["id"]
    send_message(one, owner, room, "secret")
    warm(one, owner, room)
    assert_error(other.session.get("/api/rooms/%d/messages" % room), 404, "not_found")


def test_deleted_room_is_404_with_a_copy(one):
    u = make_user(one)
    room = make_room(u)["id"]
    send_message(one, u, room, "gone soon")
    warm(one, u, room)
    assert u.session.delete("/api/rooms/%d" % room).status_code == 204
    assert_error(u.session.get("/api/rooms/%d/messages" % room), 404, "not_found")
