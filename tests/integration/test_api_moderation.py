"""The owner's powers (contract sections 3 and 8): PATCH /api/rooms/{id}
(rename), DELETE /api/rooms/{id}, POST /api/rooms/{id}/kick. Owner only
(403), not for direct rooms (409), kicked sockets leave at once, a kick is
not a ban, a deleted room's history goes and its public name is free."""

import pytest

from pclib import assert_alive, assert_error, describe, unique_name
from test_api_common import Live, make_room, room_member_ids, run, send_message


def rename(user, room_id, name):
    return user.session.patch("/api/rooms/%d" % room_id, json={"name": name})


def kick(user, room_id, name):
    return user.session.post("/api/rooms/%d/kick" % room_id, json={"username": name})


# -- rename -------------------------------------------------------------------

def test_rename_answers_the_room(new_user):
    a = new_user()
    room = make_room(a)
    name = unique_name("renamed")
    r = rename(a, room["id"], "  " + name + "  ")
    assert r.status_code == 200, describe(r)
    assert r.json() == dict(room, name=name)
    assert a.session.get("/api/rooms/%d" % room["id"]).json()["name"] == name


def test_rename_private_room(new_user):
    a = new_user()
    room = make_room(a, kind="private")
    r = rename(a, room["id"], "still private")
    assert r.status_code == 200 and r.json()["kind"] == "private"


def test_rename_not_owner_is_403_or_404(new_user):
    a, b = new_user(), new_user()
    public = make_room(a)
    assert_error(rename(b, public["id"], "mine now"), 403, "forbidden")
    assert b.session.post("/api/rooms/%d/join" % public["id"]).status_code == 204
    assert_error(rename(b, public["id"], "mine now"), 403, "forbidden")
    private = make_room(a, kind="private")
    assert_error(rename(b, private["id"], "mine now"), 404, "not_found")
    assert_error(rename(b, 987654321, "x"), 404, "not_found")


def test_rename_to_taken_public_name_is_409(new_user):
    a = new_user()
    one, two = make_room(a), make_room(a)
    assert_error(rename(a, two["id"], one["name"].upper()), 409, "conflict", field="name")
    # its own name in another case is fine
    r = rename(a, one["id"], one["name"].upper())
    assert r.status_code == 200, describe(r)


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\tname", "nul\u0000"])
def test_rename_bad_name_is_422(stack, new_user, name):
    a = new_user()
    room = make_room(a)
    assert_error(rename(a, room["id"], name), 422, "invalid", field="name")
    assert_alive(stack)


def test_rename_reaches_members_live(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204

    async def scenario():
        live = await Live.open(stack, b)
        name = unique_name("live")
        assert rename(a, room["id"], name).status_code == 200
        f = await live.expect("room")
        assert f["room"]["id"] == room["id"] and f["room"]["name"] == name, f
        assert f["room"]["joined"] is True, f
        await live.close()
    run(scenario())


# -- delete -------------------------------------------------------------------

def test_delete_room_with_history(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    send_message(stack, a, room["id"], "gone soon")
    assert_error(b.session.delete("/api/rooms/%d" % room["id"]), 403, "forbidden")
    r = a.session.delete("/api/rooms/%d" % room["id"])
    assert r.status_code == 204, describe(r)
    assert_error(b.session.get("/api/rooms/%d" % room["id"]), 404, "not_found")
    assert stack.psql("SELECT count(*) FROM messages WHERE room_id = %d" % room["id"]) == [["0"]]
    # the public name is free again
    again = make_room(a, name=room["name"])
    assert again["id"] != room["id"]


def test_delete_unknown_or_invisible_is_404(new_user):
    a, b = new_user(), new_user()
    private = make_room(a, kind="private")
    assert_error(b.session.delete("/api/rooms/%d" % private["id"]), 404, "not_found")
    assert_error(a.session.delete("/api/rooms/987654321"), 404, "not_found")


def test_delete_sends_removed_to_members(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204

    async def scenario():
        joined = await Live.open(stack, b)
        await joined.join(room["id"])
        idle = await Live.open(stack, b)  # not subscribed to the room
        assert a.session.delete("/api/rooms/%d" % room["id"]).status_code == 204
        f = await joined.expect("removed")
        assert f["room"] == room["id"], f
        f = await idle.expect("removed")
        assert f["room"] == room["id"], f
        await joined.close()
        await idle.close()
    run(scenario())


# -- kick ---------------------------------------------------------------------

def test_kick_removes_member(new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    r = kick(a, room["id"], b.username.upper())
    assert r.status_code == 204, describe(r)
    assert room_member_ids(a, room["id"]) == [a.id]
    # not a ban: a public room can be joined again
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    assert sorted(room_member_ids(a, room["id"])) == sorted([a.id, b.id])


def test_kick_from_private_room_hides_it(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    inv = a.session.post("/api/rooms/%d/invites" % room["id"], json={"username": b.username})
    assert b.session.post("/api/invites/%d/accept" % inv.json()["id"]).status_code == 204
    assert kick(a, room["id"], b.username).status_code == 204
    assert_error(b.session.get("/api/rooms/%d" % room["id"]), 404, "not_found")
    # and may be invited back
    assert a.session.post("/api/rooms/%d/invites" % room["id"],
                          json={"username": b.username}).status_code == 201


def test_kick_rules(new_user):
    a, b, c = new_user(), new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    assert_error(kick(a, room["id"], c.username), 404, "not_found")
    assert_error(kick(a, room["id"], "nobody_zz_zz_zz"), 404, "not_found")
    assert_error(kick(a, room["id"], a.username), 422, "invalid", field="username")
    assert_error(kick(b, room["id"], a.username), 403, "forbidden")
    assert_error(kick(c, room["id"], b.username), 403, "forbidden")
    r = a.session.post("/api/rooms/%d/kick" % room["id"], json={"username": 7})
    assert_error(r, 422, "invalid", field="username")


def test_kicked_sockets_leave_at_once(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204

    async def scenario():
        live = await Live.open(stack, b)
        await live.join(room["id"])
        assert kick(a, room["id"], b.username).status_code == 204
        f = await live.expect("removed")
        assert f["room"] == room["id"], f
        # the kicked socket no longer receives the room's messages
        owner = await Live.open(stack, a)
        await owner.send_msg(room["id"], "after the kick")
        await live.nothing("message", 1.0)
        await owner.close()
        await live.close()
    run(scenario())
