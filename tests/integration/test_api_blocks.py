"""Blocks (contract sections 3 and 8): GET/POST/DELETE /api/blocks. One way,
idempotent, yourself 422, unknown 404, unblocking someone not blocked 404;
pending invitations from the blocked user are withdrawn; someone who blocks
you cannot be invited or DMed by you (404, as if unknown)."""

from pclib import RFC3339_MS, assert_error, describe
from test_api_common import make_room


def blocks(user):
    r = user.session.get("/api/blocks")
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert set(body) == {"blocks"}, body
    return body["blocks"]


def block(user, name):
    return user.session.post("/api/blocks", json={"username": name})


def test_blocks_empty_at_first(new_user):
    assert blocks(new_user()) == []


def test_block_lists_the_user_with_time(new_user):
    a, b = new_user(), new_user()
    r = block(a, b.username.upper())
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    got = blocks(a)
    assert len(got) == 1
    assert set(got[0]) == {"id", "username", "created_at"}
    assert got[0]["id"] == b.id and got[0]["username"] == b.username
    assert RFC3339_MS.match(got[0]["created_at"])


def test_block_is_one_way(new_user):
    a, b = new_user(), new_user()
    assert block(a, b.username).status_code == 204
    assert blocks(b) == []


def test_block_twice_is_204_and_listed_once(new_user):
    a, b = new_user(), new_user()
    assert block(a, b.username).status_code == 204
    assert block(a, b.username).status_code == 204
    assert [x["id"] for x in blocks(a)] == [b.id]


def test_block_yourself_is_422(new_user):
    a = new_user()
    assert_error(block(a, a.username), 422, "invalid", field="username")


def test_block_unknown_is_404(new_user):
    assert_error(block(new_user(), "nobody_" + "x" * 20), 404, "not_found")


def test_block_bad_username_type_is_422(new_user):
    r = new_user().session.post("/api/blocks", json={"username": 5})
    assert_error(r, 422, "invalid", field="username")
    r = new_user().session.post("/api/blocks", json={})
    assert_error(r, 422, "invalid", field="username")


def test_unblock(new_user):
    a, b = new_user(), new_user()
    assert block(a, b.username).status_code == 204
    r = a.session.delete("/api/blocks/" + b.username.swapcase())
    assert r.status_code == 204, describe(r)
    assert blocks(a) == []


def test_unblock_not_blocked_is_404(new_user):
    a, b = new_user(), new_user()
    assert_error(a.session.delete("/api/blocks/" + b.username), 404, "not_found")
    assert_error(a.session.delete("/api/blocks/no_such_user_zz"), 404, "not_found")
    assert_error(a.session.delete("/api/blocks/%FF%FE"), 404, "not_found")


def test_blocked_by_them_cannot_dm_them(new_user):
    a, b = new_user(), new_user()
    assert block(b, a.username).status_code == 204
    r = a.session.post("/api/dm", json={"username": b.username})
    assert_error(r, 404, "not_found")
    # The blocker may still open a direct room with the blocked user.
    r = b.session.post("/api/dm", json={"username": a.username})
    assert r.status_code == 201, describe(r)


def test_blocked_by_them_cannot_invite_them(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    assert block(b, a.username).status_code == 204
    r = a.session.post("/api/rooms/%d/invites" % room["id"], json={"username": b.username})
    assert_error(r, 404, "not_found")


def test_block_withdraws_their_pending_invites(new_user):
    a, b = new_user(), new_user()
    room = make_room(a, kind="private")
    r = a.session.post("/api/rooms/%d/invites" % room["id"], json={"username": b.username})
    assert r.status_code == 201, describe(r)
    assert len(b.session.get("/api/invites").json()["invites"]) == 1
    assert block(b, a.username).status_code == 204
    assert b.session.get("/api/invites").json()["invites"] == []
    # the invitation is gone for the inviter too
    assert_error(a.session.delete("/api/invites/%d" % r.json()["id"]), 404, "not_found")


def test_unblocked_can_dm_again(new_user):
    a, b = new_user(), new_user()
    assert block(b, a.username).status_code == 204
    assert b.session.delete("/api/blocks/" + a.username).status_code == 204
    r = a.session.post("/api/dm", json={"username": b.username})
    assert r.status_code == 201, describe(r)


def test_blocked_user_cannot_send_in_direct_room(stack, new_user):
    from test_api_common import Live, history, run
    a, b = new_user(), new_user()
    dm = a.session.post("/api/dm", json={"username": b.username}).json()["id"]
    assert block(b, a.username).status_code == 204

    async def scenario():
        live = await Live.open(stack, a)
        await live.conn.send('{"type":"send","room":%d,"body":"hi","client_id":"b1"}' % dm)
        f = await live.expect("error")
        assert f["code"] == "not_reachable" and f["ref"] == "b1", f
        await live.close()
    run(scenario())
    assert history(b, dm) == []
