"""Editing and deleting messages (contract sections 3 and 8): PATCH and
DELETE /api/rooms/{id}/messages/{seq}. Author only, text only, edits within
24 hours; a deleted message keeps its seq with body null and deleted true,
and editing or deleting it again is 404; room members see `edited` and
`deleted` live; history shows the latest state."""

import pytest

from pclib import RFC3339_MS, assert_alive, assert_error, describe
from test_api_common import Live, history, make_room, run, send_message


def edit(user, room_id, seq, body):
    return user.session.patch("/api/rooms/%d/messages/%d" % (room_id, seq), json={"body": body})


def delete(user, room_id, seq):
    return user.session.delete("/api/rooms/%d/messages/%d" % (room_id, seq))


@pytest.fixture
def posted(stack, new_user):
    """(author, other member, room, ack of one message by the author)."""
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    ack = send_message(stack, a, room["id"], "first version")
    return a, b, room, ack


def test_edit_answers_the_message(posted):
    a, _, room, ack = posted
    r = edit(a, room["id"], ack["seq"], "second version")
    assert r.status_code == 200, describe(r)
    m = r.json()
    assert set(m) == {"id", "room", "seq", "kind", "user", "body", "created_at", "edited_at",
                      "deleted"}
    assert m["id"] == ack["id"] and m["room"] == room["id"] and m["seq"] == ack["seq"]
    assert m["body"] == "second version" and m["kind"] == "text" and m["deleted"] is False
    assert m["user"] == {"id": a.id, "username": a.username}
    assert m["created_at"] == ack["created_at"]
    assert RFC3339_MS.match(m["edited_at"])
    assert history(a, room["id"]) == [m]


def test_edit_by_someone_else_is_403(posted):
    _, b, room, ack = posted
    assert_error(edit(b, room["id"], ack["seq"], "hijack"), 403, "forbidden")
    assert history(b, room["id"])[0]["body"] == "first version"


def test_edit_after_24_hours_is_403(stack, posted):
    a, _, room, ack = posted
    stack.psql("UPDATE messages SET created_at = now() - interval '24 hours 1 minute'"
               " WHERE id = %d" % ack["id"])
    assert_error(edit(a, room["id"], ack["seq"], "too late"), 403, "forbidden")
    # deleting has no time limit
    assert delete(a, room["id"], ack["seq"]).status_code == 204


def test_edit_system_message_is_403(stack, new_user):
    a = new_user()
    room = make_room(a)
    ack = send_message(stack, a, room["id"], "becomes system")
    stack.psql("UPDATE messages SET kind = 'system' WHERE id = %d" % ack["id"])
    assert_error(edit(a, room["id"], ack["seq"], "x"), 403, "forbidden")


@pytest.mark.parametrize("body", ["", "   ", "a\u0000b", "x" * 4001, "bell\u0007"])
def test_edit_bad_body_is_422(stack, posted, body):
    a, _, room, ack = posted
    assert_error(edit(a, room["id"], ack["seq"], body), 422, "invalid", field="body")
    assert_alive(stack)


@pytest.mark.parametrize("payload", [{}, {"body": 5}, {"body": None}])
def test_edit_missing_body_is_422(posted, payload):
    a, _, room, ack = posted
    r = a.session.patch("/api/rooms/%d/messages/%d" % (room["id"], ack["seq"]), json=payload)
    assert_error(r, 422, "invalid", field="body")


def test_edit_4000_code_points_accepted(posted):
    a, _, room, ack = posted
    body = "\U0001F600" * 4000
    r = edit(a, room["id"], ack["seq"], body)
    assert r.status_code == 200, describe(r)
    assert r.json()["body"] == body


def test_edit_unknown_seq_or_room_is_404(posted, new_user):
    a, _, room, ack = posted
    assert_error(edit(a, room["id"], ack["seq"] + 100, "x"), 404, "not_found")
    assert_error(edit(a, 987654321, 1, "x"), 404, "not_found")
    r = a.session.patch("/api/rooms/%d/messages/0" % room["id"], json={"body": "x"})
    assert_error(r, 404, "not_found")
    r = a.session.patch("/api/rooms/%d/messages/abc" % room["id"], json={"body": "x"})
    assert_error(r, 404, "not_found")


def test_edit_in_private_room_not_member_is_404(stack, new_user):
    a, c = new_user(), new_user()
    room = make_room(a, kind="private")
    ack = send_message(stack, a, room["id"], "secret")
    assert_error(edit(c, room["id"], ack["seq"], "x"), 404, "not_found")
    assert_error(delete(c, room["id"], ack["seq"]), 404, "not_found")


def test_delete_keeps_seq_without_body(posted):
    a, b, room, ack = posted
    r = delete(a, room["id"], ack["seq"])
    assert r.status_code == 204, describe(r)
    msgs = history(b, room["id"])
    assert len(msgs) == 1
    m = msgs[0]
    assert m["seq"] == ack["seq"] and m["id"] == ack["id"]
    assert m["body"] is None and m["deleted"] is True
    assert m["user"] == {"id": a.id, "username": a.username}


def test_delete_body_erased_in_database(stack, posted):
    a, _, room, ack = posted
    assert delete(a, room["id"], ack["seq"]).status_code == 204
    rows = stack.psql("SELECT body IS NULL, deleted_at IS NOT NULL FROM messages WHERE id = %d"
                      % ack["id"])
    assert rows == [["t", "t"]]


def test_deleted_message_edit_or_delete_again_is_404(posted):
    a, _, room, ack = posted
    assert delete(a, room["id"], ack["seq"]).status_code == 204
    assert_error(edit(a, room["id"], ack["seq"], "back"), 404, "not_found")
    assert_error(delete(a, room["id"], ack["seq"]), 404, "not_found")


def test_delete_by_someone_else_is_403(posted):
    _, b, room, ack = posted
    assert_error(delete(b, room["id"], ack["seq"]), 403, "forbidden")
    assert history(b, room["id"])[0]["deleted"] is False


def test_edit_and_delete_reach_members_live(stack, posted):
    a, b, room, ack = posted

    async def scenario():
        live = await Live.open(stack, b)
        await live.join(room["id"])
        r = edit(a, room["id"], ack["seq"], "edited live")
        assert r.status_code == 200, describe(r)
        f = await live.expect("edited")
        want = dict(r.json(), type="edited")
        assert f == want, (f, want)
        assert delete(a, room["id"], ack["seq"]).status_code == 204
        f = await live.expect("deleted")
        assert f == {"type": "deleted", "room": room["id"], "seq": ack["seq"], "id": ack["id"]}, f
        await live.close()
    run(scenario())


def test_replay_after_edit_shows_latest_state(stack, posted):
    """A socket joining with since=0 after an edit sees the edited body."""
    a, b, room, ack = posted
    assert edit(a, room["id"], ack["seq"], "latest").status_code == 200

    async def scenario():
        live = await Live.open(stack, b)
        import json as _json
        await live.conn.send(_json.dumps({"type": "join", "room": room["id"], "since": 0}))
        await live.expect("joined")
        m = await live.expect("message")
        assert m["seq"] == ack["seq"] and m["body"] == "latest", m
        await live.close()
    run(scenario())
