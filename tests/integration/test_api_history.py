"""History and /api/me (contract sections 3 and 8): GET
/api/rooms/{id}/messages pages (default newest 50, before, after, limit
1-200, has_more in the direction of travel, always ascending), who may read
(404, never 403), and the session rule on the two routes that check the
session inside their own statement (fcgi-api ROUTE_SESSION_SQL): a revoked,
expired or deleted-user session is 401 at once, and 401 still comes before
any other error."""

import pytest

from pclib import RFC3339_MS, assert_error, describe
from test_api_common import history, make_room, send_message


def seed(stack, user, room_id, n, start=1):
    """Inserts n messages by user straight into the room (seq start..),
    as the broker would have, and moves the room's last_seq."""
    stack.psql(
        "INSERT INTO messages (room_id, seq, user_id, body, client_id)"
        " SELECT %d, g, %d, 'm' || g, 'hist-' || g FROM generate_series(%d, %d) g;"
        " UPDATE rooms SET last_seq = %d WHERE id = %d"
        % (room_id, user.id, start, start + n - 1, start + n - 1, room_id))


def page(user, room_id, **params):
    """(seqs, has_more) of one page; user is a User or a signed-in session."""
    r = getattr(user, "session", user).get("/api/rooms/%d/messages" % room_id, params=params)
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert set(body) == {"messages", "has_more"}
    return [m["seq"] for m in body["messages"]], body["has_more"]


@pytest.fixture
def room120(stack, new_user):
    """(owner, room id) with messages 1..120."""
    u = new_user()
    room = make_room(u)
    seed(stack, u, room["id"], 120)
    return u, room["id"]


def test_default_is_newest_50_ascending(room120):
    u, room = room120
    assert page(u, room) == (list(range(71, 121)), True)


def test_before_pages_back_to_the_start(room120):
    u, room = room120
    assert page(u, room, before=71, limit=50) == (list(range(21, 71)), True)
    assert page(u, room, before=21, limit=50) == (list(range(1, 21)), False)
    assert page(u, room, before=21, limit=20) == (list(range(1, 21)), False)
    assert page(u, room, before=1) == ([], False)
    assert page(u, room, before=0) == ([], False)


def test_after_pages_forward_to_the_end(room120):
    u, room = room120
    assert page(u, room, after=0, limit=50) == (list(range(1, 51)), True)
    assert page(u, room, after=100, limit=20) == (list(range(101, 121)), False)
    assert page(u, room, after=100, limit=19) == (list(range(101, 120)), True)
    assert page(u, room, after=120) == ([], False)


def test_limit_bounds(room120):
    u, room = room120
    assert page(u, room, limit=1) == ([120], True)
    assert page(u, room, limit=200) == (list(range(1, 121)), False)
    for bad in ("0", "201", "-1", "x", "1.5", ""):
        r = u.session.get("/api/rooms/%d/messages" % room, params={"limit": bad})
        assert_error(r, 422, "invalid", "limit")


def test_before_and_after_together_is_422(room120):
    u, room = room120
    r = u.session.get("/api/rooms/%d/messages" % room, params={"before": 5, "after": 1})
    assert_error(r, 422, "invalid", "after")


def test_empty_room(new_user):
    u = new_user()
    room = make_room(u)
    assert page(u, room["id"]) == ([], False)
    assert page(u, room["id"], after=0) == ([], False)


def test_message_shape_matches_the_ack(stack, new_user):
    u = new_user()
    room = make_room(u)
    body = 'quote " backslash \\ tab \t newline \n é 😀 </script>'
    ack = send_message(stack, u, room["id"], body)
    [m] = history(u, room["id"])
    assert m == {"id": ack["id"], "room": room["id"], "seq": ack["seq"], "kind": "text",
                 "user": {"id": u.id, "username": u.username}, "body": body,
                 "created_at": ack["created_at"], "edited_at": None, "deleted": False}
    assert RFC3339_MS.match(m["created_at"])


def test_every_control_byte_is_escaped(stack, new_user):
    """Bodies the broker would refuse can still sit in the table (older
    rows, manual fixes): the answer stays valid JSON with the same text."""
    u = new_user()
    room = make_room(u)
    seed(stack, u, room["id"], 1)
    stack.psql("UPDATE messages SET body = 'a' || (SELECT string_agg(chr(c), '')"
               " FROM generate_series(1, 31) c) || 'z' WHERE room_id = %d" % room["id"])
    [m] = history(u, room["id"])
    assert m["body"] == "a" + "".join(chr(c) for c in range(1, 32)) + "z"


def test_timestamps_match_to_char(stack, new_user):
    """created_at and edited_at are formatted in the API, not by to_char:
    the same text for any fraction of a second (truncated to ms)."""
    u = new_user()
    room = make_room(u)
    seed(stack, u, room["id"], 4)
    stack.psql(
        "UPDATE messages SET"
        " created_at = timestamptz '2024-02-29 23:59:59+00' + (seq * interval '0.0004995 s'),"
        " edited_at = CASE WHEN seq %% 2 = 0 THEN timestamptz '2001-01-01 00:00:00+00' END"
        " WHERE room_id = %d" % room["id"])
    expect = stack.psql(
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " coalesce(to_char(edited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '-')"
        " FROM messages WHERE room_id = %d ORDER BY seq" % room["id"])
    got = [[m["created_at"], m["edited_at"] or "-"] for m in history(u, room["id"])]
    assert got == expect


def test_deleted_message_and_deleted_author(stack, new_user):
    u, v = new_user(), new_user()
    room = make_room(u)
    assert v.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    a1 = send_message(stack, u, room["id"], "kept")
    a2 = send_message(stack, v, room["id"], "by v")
    assert u.session.delete("/api/rooms/%d/messages/%d" % (room["id"], a1["seq"])).status_code == 204
    r = v.session.delete("/api/me", json={"password": v.password})
    assert r.status_code == 204, describe(r)
    m1, m2 = history(u, room["id"])
    assert m1["deleted"] is True and m1["body"] is None and m1["seq"] == a1["seq"]
    assert m2["user"] == {"id": v.id, "username": "deleted user"} and m2["body"] == "by v"
    assert m2["seq"] == a2["seq"]


def test_private_room_is_404_for_others(stack, new_user):
    owner, other = new_user(), new_user()
    room = make_room(owner, kind="private")
    seed(stack, owner, room["id"], 3)
    assert_error(other.session.get("/api/rooms/%d/messages" % room["id"]), 404, "not_found")
    assert_error(other.session.get("/api/rooms/999999999/messages"), 404, "not_found")
    assert page(owner, room["id"]) == ([1, 2, 3], False)


def test_public_room_readable_without_joining(stack, new_user):
    owner, other = new_user(), new_user()
    room = make_room(owner)
    seed(stack, owner, room["id"], 2)
    assert page(other, room["id"]) == ([1, 2], False)


def test_unauthenticated_history_and_me(stack, client, new_user):
    u = new_user()
    room = make_room(u)
    anon = client()
    assert_error(anon.get("/api/rooms/%d/messages" % room["id"]), 401, "unauthenticated")
    assert_error(anon.get("/api/me"), 401, "unauthenticated")


@pytest.mark.parametrize("how", ["logout", "revoke_sql", "expire_sql"])
def test_revoked_session_is_401_at_once(stack, new_user, how):
    u = new_user()
    room = make_room(u)
    other = u.login()
    assert page(other, room["id"]) == ([], False)
    assert other.get("/api/me").status_code == 200
    if how == "logout":
        token = other.token
        assert other.post("/api/logout").status_code == 204
        other.cookies.set("access_token", token)  # keep sending the old token
    elif how == "revoke_sql":
        stack.psql("UPDATE sessions SET revoked_at = now() WHERE user_id = %d" % u.id)
    else:
        stack.psql("UPDATE sessions SET expires_at = now() - interval '1 second'"
                   " WHERE user_id = %d" % u.id)
    assert_error(other.get("/api/rooms/%d/messages" % room["id"]), 401, "unauthenticated")
    assert_error(other.get("/api/me"), 401, "unauthenticated")


def test_401_comes_before_422_and_404(stack, new_user):
    """A ROUTE_SESSION_SQL handler that refuses its input before its
    statement still answers 401 for a dead session (the order of checks).
    (A GET with a body, for 413/415, never reaches the API: lighttpd
    answers 400 itself.)"""
    u = new_user()
    room = make_room(u)
    s = u.login()
    stack.psql("UPDATE sessions SET revoked_at = now() WHERE user_id = %d" % u.id)
    base = "/api/rooms/%d/messages" % room["id"]
    for path, params in ((base, {"limit": "0"}), (base, {"before": 1, "after": 1}),
                         ("/api/rooms/0/messages", {}), ("/api/rooms/999999999/messages", {})):
        assert_error(s.get(path, params=params), 401, "unauthenticated")


def test_deleted_user_token_is_401(stack, new_user):
    u = new_user()
    s = u.login()
    stack.psql("UPDATE users SET deleted_at = now() WHERE id = %d" % u.id)
    assert_error(s.get("/api/me"), 401, "unauthenticated")


def test_me_shows_the_stored_name_and_refreshes_last_seen(stack, new_user):
    u = new_user()
    r = u.session.get("/api/me")
    assert r.status_code == 200, describe(r)
    me = r.json()
    assert me["id"] == u.id and me["username"] == u.username and me["email"] == u.email
    assert RFC3339_MS.match(me["created_at"])
    stack.psql("UPDATE sessions SET last_seen_at = now() - interval '1 hour'"
               " WHERE user_id = %d" % u.id)
    assert u.session.get("/api/me").status_code == 200
    [[fresh]] = stack.psql("SELECT bool_and(last_seen_at > now() - interval '1 minute')"
                           " FROM sessions WHERE user_id = %d" % u.id)
    assert fresh == "t"
