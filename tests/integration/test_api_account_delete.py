"""DELETE /api/me {password} (contract sections 3 and 8, README "Deleted
accounts"): a wrong password is 401 and a login failure; then every session
is revoked (live sockets close), memberships are dropped except direct
rooms, pending invitations vanish, the username and email are free at once,
and messages stay, shown as from "deleted user"."""

import asyncio

import pytest
import websockets

from pclib import assert_error, cookie_attrs, describe, unique_email
from test_api_common import Live, history, make_room, room_member_ids, run, send_message


def delete_me(user, password=None):
    return user.session.delete("/api/me", json={"password": password or user.password})


def test_delete_wrong_password_is_401_and_counted(stack, new_user):
    u = new_user()
    assert_error(delete_me(u, "not my password"), 401, "invalid_credentials")
    assert u.session.get("/api/me").status_code == 200
    rows = stack.psql("SELECT count(*) FROM login_failures WHERE account = lower('%s')"
                      % u.username)
    assert rows == [["1"]]


@pytest.mark.parametrize("body", [{}, {"password": 12}, {"password": ""}, {"password": None}])
def test_delete_without_password_is_422(new_user, body):
    u = new_user()
    r = u.session.delete("/api/me", json=body)
    assert_error(r, 422, "invalid", field="password")
    assert u.session.get("/api/me").status_code == 200


def test_delete_needs_json_body(new_user):
    u = new_user()
    r = u.session.delete("/api/me")  # no body at all: not JSON
    assert_error(r, 400, "bad_json")
    assert u.session.get("/api/me").status_code == 200


def test_delete_revokes_every_session_and_clears_cookie(new_user):
    u = new_user()
    other = u.login()
    r = delete_me(u)
    assert r.status_code == 204, describe(r)
    attrs = cookie_attrs(r)
    assert attrs is not None and attrs["value"] == "" and attrs.get("max-age") == "0"
    assert_error(other.get("/api/me"), 401, "unauthenticated")
    s = u.session.__class__(u.stack, addr=u.addr)
    r = s.post("/api/login", json={"username": u.username, "password": u.password})
    assert_error(r, 401, "invalid_credentials")


def test_delete_frees_username_and_email_at_once(client, new_user):
    u = new_user()
    assert delete_me(u).status_code == 204
    c = client()
    r = c.post("/api/register", json={"username": u.username.upper(), "email": u.email,
                                      "password": "another password"})
    assert r.status_code == 201, describe(r)
    assert r.json()["id"] != u.id


def test_delete_keeps_messages_as_deleted_user(stack, new_user):
    u, v = new_user(), new_user()
    room = make_room(v)
    assert u.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204
    ack = send_message(stack, u, room["id"], "my last words")
    assert delete_me(u).status_code == 204
    msgs = history(v, room["id"])
    assert len(msgs) == 1
    assert msgs[0]["seq"] == ack["seq"] and msgs[0]["body"] == "my last words"
    assert msgs[0]["user"] == {"id": u.id, "username": "deleted user"}


def test_delete_leaves_rooms_passing_ownership(new_user):
    u, v = new_user(), new_user()
    public = make_room(u)
    assert v.session.post("/api/rooms/%d/join" % public["id"]).status_code == 204
    assert delete_me(u).status_code == 204
    r = v.session.get("/api/rooms/%d/members" % public["id"])
    members = r.json()["members"]
    assert [(m["id"], m["role"]) for m in members] == [(v.id, "owner")]


def test_delete_removes_private_room_left_empty(stack, new_user):
    u = new_user()
    private = make_room(u, kind="private")
    assert delete_me(u).status_code == 204
    assert stack.psql("SELECT count(*) FROM rooms WHERE id = %d" % private["id"]) == [["0"]]


def test_delete_keeps_direct_rooms_readable(stack, new_user):
    u, v = new_user(), new_user()
    r = v.session.post("/api/dm", json={"username": u.username})
    assert r.status_code == 201, describe(r)
    dm = r.json()["id"]
    send_message(stack, u, dm, "bye")
    assert delete_me(u).status_code == 204
    r = v.session.get("/api/rooms/%d" % dm)
    assert r.status_code == 200, describe(r)
    assert r.json()["name"] == "deleted user" and r.json()["kind"] == "direct"
    assert sorted(room_member_ids(v, dm)) == sorted([u.id, v.id])
    msgs = history(v, dm)
    assert [m["body"] for m in msgs] == ["bye"]
    assert msgs[0]["user"]["username"] == "deleted user"
    # nobody can open a new direct room with a deleted account
    assert_error(v.session.post("/api/dm", json={"username": u.username}), 404, "not_found")


def test_delete_drops_pending_invitations(new_user):
    u, v, w = new_user(), new_user(), new_user()
    mine = make_room(u, kind="private")
    theirs = make_room(v, kind="private")
    assert u.session.post("/api/rooms/%d/invites" % mine["id"],
                          json={"username": w.username}).status_code == 201
    assert v.session.post("/api/rooms/%d/invites" % theirs["id"],
                          json={"username": u.username}).status_code == 201
    assert delete_me(u).status_code == 204
    assert w.session.get("/api/invites").json()["invites"] == []
    r = v.session.post("/api/rooms/%d/invites" % theirs["id"], json={"username": u.username})
    assert_error(r, 404, "not_found")


def test_delete_closes_live_sockets(stack, new_user):
    u = new_user()

    async def scenario():
        live = await Live.open(stack, u)
        r = delete_me(u)
        assert r.status_code == 204, describe(r)
        frames = []
        try:
            while True:  # generous: a sanitizer build exits slowly
                frames.append(await live.recv(10))
        except websockets.ConnectionClosed:
            pass
        except asyncio.TimeoutError:
            raise AssertionError("socket still open: %r" % frames)
        assert any(f.get("code") == "session_revoked" for f in frames), frames
    run(scenario())


def test_direct_room_with_deleted_account_refuses_sends(stack, new_user):
    u, v = new_user(), new_user()
    dm = v.session.post("/api/dm", json={"username": u.username}).json()["id"]
    assert delete_me(u).status_code == 204

    async def scenario():
        live = await Live.open(stack, v)
        await live.conn.send('{"type":"send","room":%d,"body":"anyone?","client_id":"x1"}' % dm)
        f = await live.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == "x1", f
        await live.close()
    run(scenario())
    assert history(v, dm) == []
