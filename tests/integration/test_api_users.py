"""GET /api/users (contract sections 3 and 8): username prefix ignoring case,
the caller included, paged by id with `next`, each with `online`; deleted
accounts never listed; bad paging parameters are 422."""

import asyncio
import time
import uuid

import pytest

from pclib import assert_alive, assert_error, describe
from test_api_common import Live, make_room, run


def search(user, **params):
    r = user.session.get("/api/users", params=params)
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert set(body) == {"users", "next"}, body
    return body


def family(new_user, n):
    """n users sharing a fresh prefix; returns (prefix, users by id)."""
    prefix = "f" + uuid.uuid4().hex[:8]
    users = [new_user(prefix=prefix) for _ in range(n)]
    return prefix, sorted(users, key=lambda u: u.id)


def test_users_prefix_ignoring_case_includes_caller(new_user):
    prefix, us = family(new_user, 3)
    body = search(us[0], q=prefix.upper())
    assert [u["id"] for u in body["users"]] == [u.id for u in us]
    for got, want in zip(body["users"], us):
        assert got == {"id": want.id, "username": want.username, "online": False}
    assert body["next"] is None


def test_users_match_only_at_the_start(new_user):
    prefix, us = family(new_user, 1)
    got = search(us[0], q=prefix[1:], limit=200)["users"]
    assert us[0].id not in [u["id"] for u in got]
    assert all(u["username"].lower().startswith(prefix[1:]) for u in got)
    assert [u["id"] for u in search(us[0], q=us[0].username)["users"]] == [us[0].id]


def test_users_underscore_is_not_a_wildcard(new_user):
    prefix, us = family(new_user, 1)
    # Usernames are <prefix>_<hex>; "<prefix>x" must not match through "_".
    assert search(us[0], q=prefix + "x")["users"] == []
    assert [u["id"] for u in search(us[0], q=prefix + "_")["users"]] == [us[0].id]


def test_users_paging_by_id(new_user):
    prefix, us = family(new_user, 5)
    seen, after = [], None
    pages = 0
    while True:
        params = {"q": prefix, "limit": 2}
        if after is not None:
            params["after"] = after
        body = search(us[0], **params)
        pages += 1
        assert len(body["users"]) <= 2
        seen += [u["id"] for u in body["users"]]
        if body["next"] is None:
            break
        assert body["next"] == body["users"][-1]["id"]
        after = body["next"]
    assert seen == [u.id for u in us]
    assert pages == 3


def test_users_exact_page_has_null_next(new_user):
    prefix, us = family(new_user, 2)
    body = search(us[0], q=prefix, limit=2)
    assert len(body["users"]) == 2 and body["next"] is None


def test_users_without_q_lists_everyone_paged(new_user):
    u = new_user()
    body = search(u, limit=200)
    assert 1 <= len(body["users"]) <= 200
    ids = [x["id"] for x in body["users"]]
    assert ids == sorted(ids)


@pytest.mark.parametrize("q", ["a b", "x" * 40, "%", "é", "a'--", "\\", "*"])
def test_users_impossible_prefix_matches_nobody(stack, new_user, q):
    u = new_user()
    assert search(u, q=q) == {"users": [], "next": None}
    assert_alive(stack)


def test_users_percent_is_literal_not_a_wildcard(new_user):
    u = new_user()
    assert search(u, q="%")["users"] == []


@pytest.mark.parametrize("params,field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "x"}, "limit"),
    ({"after": -1}, "after"), ({"after": "1.5"}, "after"),
])
def test_users_bad_paging_is_422(new_user, params, field):
    r = new_user().session.get("/api/users", params=params)
    assert_error(r, 422, "invalid", field=field)


def test_users_needs_a_session(client):
    assert_error(client().get("/api/users"), 401, "unauthenticated")


def test_users_deleted_account_not_listed(new_user):
    prefix, us = family(new_user, 2)
    gone = us[1]
    r = gone.session.delete("/api/me", json={"password": gone.password})
    assert r.status_code == 204, describe(r)
    assert [u["id"] for u in search(us[0], q=prefix)["users"]] == [us[0].id]


async def wait_online(fetch, want, seconds=6):
    """Polls fetch() (-> bool) until it equals want; the broker flushes
    user_online about once a second."""
    end = time.monotonic() + seconds
    while True:
        got = await asyncio.get_running_loop().run_in_executor(None, fetch)
        if got == want:
            return
        assert time.monotonic() < end, "online stayed %r" % got
        await asyncio.sleep(0.2)


def test_users_online_follows_open_sockets(stack, new_user):
    prefix, us = family(new_user, 2)
    watcher, u = us

    def online():
        return {x["id"]: x["online"] for x in search(watcher, q=prefix)["users"]}[u.id]

    assert online() is False

    async def scenario():
        live = await Live.open(stack, u)
        await wait_online(online, True)
        await live.close()
        await wait_online(online, False)
    run(scenario())


def test_members_online_follows_open_sockets(stack, new_user):
    a, b = new_user(), new_user()
    room = make_room(a)
    assert b.session.post("/api/rooms/%d/join" % room["id"]).status_code == 204

    def online():
        r = a.session.get("/api/rooms/%d/members" % room["id"])
        assert r.status_code == 200, describe(r)
        return {m["id"]: m["online"] for m in r.json()["members"]}[b.id]

    assert online() is False

    async def scenario():
        live = await Live.open(stack, b)
        await wait_online(online, True)
        await live.close()
        await wait_online(online, False)
    run(scenario())
