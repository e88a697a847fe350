"""sql/0006_messages_refs.sql: messages reference rooms and users without
foreign keys (their per-row checks were a fifth of PostgreSQL's CPU in the
broker's transactions); triggers on rooms and users do what the keys did on
delete, and the broker's sends still land only in rooms that exist, from
members."""

from pclib import assert_error, describe
from test_api_common import history, make_room, send_message


def test_messages_carry_no_foreign_key_and_the_triggers_are_there(stack):
    assert stack.psql("SELECT count(*) FROM pg_constraint"
                      " WHERE conrelid = 'messages'::regclass AND contype = 'f'") == [["0"]]
    got = stack.psql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                     " AND tgname IN ('rooms_messages_delete', 'users_messages_orphan')"
                     " ORDER BY 1")
    assert got == [["rooms_messages_delete"], ["users_messages_orphan"]]


def test_room_deleted_by_hand_takes_its_messages(stack, new_user):
    a = new_user()
    room = make_room(a)
    send_message(stack, a, room["id"], "soon gone")
    stack.psql("DELETE FROM rooms WHERE id = %d" % room["id"])
    assert stack.psql("SELECT count(*) FROM messages WHERE room_id = %d" % room["id"]) == [["0"]]
    assert_error(a.session.get("/api/rooms/%d/messages" % room["id"]), 404, "not_found")
    # the service is still up for the next room
    other = make_room(a)
    assert send_message(stack, a, other["id"], "still here")["seq"] == 1


def test_user_deleted_by_hand_leaves_their_messages_authorless(stack, new_user):
    u, v = new_user(), new_user()
    room = make_room(v)
    assert u.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    ack = send_message(stack, u, room["id"], "from a row that will go")
    stack.psql("DELETE FROM users WHERE id = %d" % u.id)
    assert stack.psql("SELECT user_id IS NULL FROM messages WHERE id = %d" % ack["id"]) == [["t"]]
    msgs = history(v, room["id"])
    assert [m["body"] for m in msgs] == ["from a row that will go"]
    assert msgs[0]["user"] is None  # as ON DELETE SET NULL left it
    r = v.session.get("/api/health")
    assert r.status_code == 200, describe(r)
