"""Invitations (contract sections 3 and 8): POST /api/rooms/{id}/invites,
GET /api/invites, accept, decline, withdraw. Private rooms only; members and
pending invitees are 409; whatever the caller may not see is 404; the
invitee hears of it live, and of the room when accepting."""

import pytest

from pclib import RFC3339_MS, assert_error, describe
from test_api_common import Live, make_room, room_member_ids, run


def invite(user, room_id, name):
    return user.session.post("/api/rooms/%d/invites" % room_id, json={"username": name})


def invites(user):
    r = user.session.get("/api/invites")
    assert r.status_code == 200, describe(r)
    assert set(r.json()) == {"invites"}
    return r.json()["invites"]


def check_invite(inv, room, frm, to):
    assert set(inv) == {"id", "room", "from", "to", "created_at"}, inv
    assert isinstance(inv["id"], int) and inv["id"] > 0
    assert inv["room"] == {"id": room["id"], "name": room["name"]}, inv
    assert inv["from"] == {"id": frm.id, "username": frm.username}, inv
    assert inv["to"] == {"id": to.id, "username": to.username}, inv
    assert RFC3339_MS.match(inv["created_at"]), inv


def test_invite_created_and_listed(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    r = invite(a, room["id"], b.username.upper())
    assert r.status_code == 201, describe(r)
    check_invite(r.json(), room, a, b)
    got = invites(b)
    assert got == [r.json()]
    assert invites(a) == []


def test_invite_public_room_is_409(new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert_error(invite(a, room["id"], b.username), 409, "not_private")


def test_invite_member_is_409(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    assert_error(invite(a, room["id"], a.username), 409, "already_member", field="username")
    inv = invite(a, room["id"], b.username).json()
    assert b.session.post("/api/invites/%d/accept" % inv["id"]).status_code == 204
    assert_error(invite(a, room["id"], b.username), 409, "already_member", field="username")


def test_invite_twice_is_409(new_user):
    a, b, c = new_user(), new_user(), new_user()
    room = make_room(a, kind="private")
    assert invite(a, room["id"], c.username).status_code == 201
    assert_error(invite(a, room["id"], c.username), 409, "already_invited", field="username")
    # another member inviting the same person: still one invitation
    inv = invite(a, room["id"], b.username).json()
    assert b.session.post("/api/invites/%d/accept" % inv["id"]).status_code == 204
    assert_error(invite(b, room["id"], c.username), 409, "already_invited", field="username")


def test_invite_by_non_member_is_404(new_user):
    a, b, c = new_user(), new_user(), new_user()
    room = make_room(a, kind="private")
    assert_error(invite(c, room["id"], b.username), 404, "not_found")
    assert_error(invite(c, 987654321, b.username), 404, "not_found")


def test_invite_unknown_user_is_404(new_user):
    a = new_user()
    room = make_room(a, kind="private")
    assert_error(invite(a, room["id"], "nobody_at_all_zz"), 404, "not_found")


@pytest.mark.parametrize("body", [{}, {"username": 1}, {"username": []}])
def test_invite_bad_body_is_422(new_user, body):
    a = new_user()
    room = make_room(a, kind="private")
    r = a.session.post("/api/rooms/%d/invites" % room["id"], json=body)
    assert_error(r, 422, "invalid", field="username")


def test_accept_makes_a_member(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    inv = invite(a, room["id"], b.username).json()
    r = b.session.post("/api/invites/%d/accept" % inv["id"])
    assert r.status_code == 204, describe(r)
    assert sorted(room_member_ids(a, room["id"])) == sorted([a.id, b.id])
    r = b.session.get("/api/rooms/%d" % room["id"])
    assert r.status_code == 200 and r.json()["joined"] is True
    assert invites(b) == []
    assert_error(b.session.post("/api/invites/%d/accept" % inv["id"]), 404, "not_found")


def test_accept_or_decline_by_someone_else_is_404(new_user):
    a, b, c = new_user(), new_user(), new_user()
    room = make_room(a, kind="private")
    inv = invite(a, room["id"], b.username).json()
    for u in (a, c):
        assert_error(u.session.post("/api/invites/%d/accept" % inv["id"]), 404, "not_found")
        assert_error(u.session.post("/api/invites/%d/decline" % inv["id"]), 404, "not_found")
    assert len(invites(b)) == 1


def test_decline(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    inv = invite(a, room["id"], b.username).json()
    r = b.session.post("/api/invites/%d/decline" % inv["id"])
    assert r.status_code == 204, describe(r)
    assert invites(b) == []
    assert room_member_ids(a, room["id"]) == [a.id]
    # declined: may be invited again
    assert invite(a, room["id"], b.username).status_code == 201


def test_withdraw_by_inviter_only(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    inv = invite(a, room["id"], b.username).json()
    assert_error(b.session.delete("/api/invites/%d" % inv["id"]), 404, "not_found")
    r = a.session.delete("/api/invites/%d" % inv["id"])
    assert r.status_code == 204, describe(r)
    assert invites(b) == []
    assert_error(a.session.delete("/api/invites/%d" % inv["id"]), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/invites/0/accept", "/api/invites/x/decline",
                                  "/api/invites/-1", "/api/invites/99999999999/accept"])
def test_bad_invite_ids_are_404(new_user, path):
    s = new_user().session
    r = s.delete(path) if path.count("/") == 3 else s.post(path)
    assert_error(r, 404, "not_found")


def test_invite_to_deleted_room_vanishes(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    inv = invite(a, room["id"], b.username).json()
    assert a.session.post("/api/rooms/%d/leave" % room["id"]).status_code == 204
    assert invites(b) == []
    assert_error(b.session.post("/api/invites/%d/accept" % inv["id"]), 404, "not_found")


def test_invitee_gets_invite_then_room_live(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")

    async def scenario():
        live = await Live.open(stack, b)
        r = invite(a, room["id"], b.username)
        assert r.status_code == 201, describe(r)
        f = await live.expect("invite")
        assert f["invite"] == r.json(), f
        assert b.session.post("/api/invites/%d/accept" % r.json()["id"]).status_code == 204
        f = await live.expect("room")
        assert f["room"]["id"] == room["id"] and f["room"]["name"] == room["name"], f
        assert f["room"]["kind"] == "private" and f["room"]["joined"] is True, f
        assert f["room"]["member_count"] == 2, f
        # now a member: the room can be joined over the socket
        await live.join(room["id"])
        await live.close()
    run(scenario())
