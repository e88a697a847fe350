"""POST /api/dm {username} (contract sections 3 and 8): the one direct room
between two users, 201 when made and 200 after (also for two simultaneous
first calls), yourself 422, unknown or blocking 404; both are members; the
other gets a `room` event live; each side sees the other's username as its
name; a direct room cannot be left, renamed, deleted or kicked from."""

import threading

import pytest

from pclib import assert_error, describe
from test_api_common import Live, room_member_ids, run


def dm(user, name):
    return user.session.post("/api/dm", json={"username": name})


def test_dm_created_then_found(new_user):
    a, b = new_user(), new_user()
    r = dm(a, b.username)
    assert r.status_code == 201, describe(r)
    room = r.json()
    assert set(room) == {"id", "name", "kind", "member_count", "last_seq", "unread", "joined"}
    assert room["kind"] == "direct" and room["name"] == b.username
    assert room["member_count"] == 2 and room["joined"] is True and room["last_seq"] == 0
    r = dm(a, b.username.upper())
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == room["id"]
    r = dm(b, a.username)
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == room["id"] and r.json()["name"] == a.username


def test_dm_both_members_each_sees_the_other(new_user):
    a, b = new_user(), new_user()
    rid = dm(a, b.username).json()["id"]
    assert sorted(room_member_ids(a, rid)) == sorted([a.id, b.id])
    rooms_b = b.session.get("/api/rooms", params={"limit": 200}).json()["rooms"]
    mine = [r for r in rooms_b if r["id"] == rid]
    assert mine and mine[0]["name"] == a.username and mine[0]["kind"] == "direct"


def test_dm_invisible_to_others(new_user):
    a, b, c = new_user(), new_user(), new_user()
    rid = dm(a, b.username).json()["id"]
    assert_error(c.session.get("/api/rooms/%d" % rid), 404, "not_found")
    assert_error(c.session.post("/api/rooms/%d/join" % rid), 404, "not_found")


def test_dm_concurrent_first_calls_make_one_room(new_user):
    for _ in range(3):
        a, b = new_user(), new_user()
        results = []
        barrier = threading.Barrier(2)

        def call(u, name):
            s = u.login()
            barrier.wait()
            r = s.post("/api/dm", json={"username": name})
            results.append((r.status_code, r.json().get("id")))

        ts = [threading.Thread(target=call, args=(a, b.username)),
              threading.Thread(target=call, args=(b, a.username))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(s for s, _ in results) == [200, 201], results
        assert results[0][1] == results[1][1], results


def test_dm_yourself_is_422(new_user):
    a = new_user()
    assert_error(dm(a, a.username.swapcase()), 422, "invalid", field="username")


@pytest.mark.parametrize("name", ["nobody_zz_" + "q" * 10, "a b", "é" * 4])
def test_dm_unknown_is_404(new_user, name):
    assert_error(dm(new_user(), name), 404, "not_found")


@pytest.mark.parametrize("body", [{}, {"username": 3}, {"username": None}])
def test_dm_bad_body_is_422(new_user, body):
    r = new_user().session.post("/api/dm", json=body)
    assert_error(r, 422, "invalid", field="username")


def test_dm_cannot_be_left_renamed_deleted_or_kicked(new_user):
    a, b = new_user(), new_user()
    rid = dm(a, b.username).json()["id"]
    s = a.session
    assert_error(s.post("/api/rooms/%d/leave" % rid), 409, "cannot_leave_direct")
    assert_error(s.patch("/api/rooms/%d" % rid, json={"name": "x"}), 409, "cannot_leave_direct")
    assert_error(s.delete("/api/rooms/%d" % rid), 409, "cannot_leave_direct")
    assert_error(s.post("/api/rooms/%d/kick" % rid, json={"username": b.username}),
                 409, "cannot_leave_direct")
    r = s.post("/api/rooms/%d/invites" % rid, json={"username": new_user().username})
    assert_error(r, 409, "not_private")


def test_dm_other_side_gets_room_event(stack, new_user):
    a, b = new_user(), new_user()

    async def scenario():
        live = await Live.open(stack, b)
        r = dm(a, b.username)
        assert r.status_code == 201, describe(r)
        f = await live.expect("room")
        assert f["room"]["id"] == r.json()["id"], f
        assert f["room"]["name"] == a.username and f["room"]["kind"] == "direct", f
        assert f["room"]["joined"] is True, f
        # a second call makes nothing new
        assert dm(a, b.username).status_code == 200
        await live.nothing("room")
        # and the room can be joined and used at once
        await live.join(r.json()["id"])
        await live.close()
    run(scenario())
