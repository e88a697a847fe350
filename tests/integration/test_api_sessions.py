"""My sessions and my password (contract sections 3 and 8): GET
/api/sessions, DELETE /api/sessions/{id}, POST /api/password. Revoked
sessions stop working at once; a wrong current password is 401 and counts
as a login failure for the throttle."""

import uuid

import pytest

from pclib import RFC3339_MS, assert_error, assert_retry_after, describe


def sessions(session):
    r = session.get("/api/sessions")
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert set(body) == {"sessions"}, body
    return body["sessions"]


def test_sessions_lists_mine_with_current(new_user):
    u = new_user()
    other = u.login()
    got = sessions(u.session)
    assert len(got) == 2
    for s in got:
        assert set(s) == {"id", "created_at", "last_seen_at", "address", "user_agent", "current"}
        assert RFC3339_MS.match(s["created_at"]) and RFC3339_MS.match(s["last_seen_at"])
        assert s["address"] == u.addr
        assert isinstance(s["user_agent"], str)
    assert [s["current"] for s in got].count(True) == 1
    mine = [s for s in got if s["current"]][0]
    theirs = [s for s in sessions(other) if s["current"]][0]
    assert mine["id"] != theirs["id"]
    assert {s["id"] for s in got} == {mine["id"], theirs["id"]}


def test_sessions_excludes_revoked_and_other_users(new_user):
    u, v = new_user(), new_user()
    other = u.login()
    assert other.post("/api/logout").status_code == 204
    got = sessions(u.session)
    assert len(got) == 1 and got[0]["current"]
    assert all(s["id"] != got[0]["id"] for s in sessions(v.session))


def test_sessions_excludes_expired(stack, new_user):
    u = new_user()
    other = u.login()
    sid = [s["id"] for s in sessions(other) if s["current"]][0]
    stack.psql("UPDATE sessions SET expires_at = now() - interval '1 second'"
               " WHERE id = '%s'" % sid)
    assert sid not in [s["id"] for s in sessions(u.session)]
    assert_error(u.session.delete("/api/sessions/" + sid), 404, "not_found")


def test_revoke_other_session(new_user):
    u = new_user()
    other = u.login()
    sid = [s["id"] for s in sessions(other) if s["current"]][0]
    r = u.session.delete("/api/sessions/" + sid)
    assert r.status_code == 204, describe(r)
    assert_error(other.get("/api/me"), 401, "unauthenticated")
    assert u.session.get("/api/me").status_code == 200
    assert sid not in [s["id"] for s in sessions(u.session)]
    # again: it is no longer one of my live sessions
    assert_error(u.session.delete("/api/sessions/" + sid), 404, "not_found")


def test_revoke_current_session_clears_cookie(new_user):
    u = new_user()
    sid = [s["id"] for s in sessions(u.session) if s["current"]][0]
    token = u.token
    r = u.session.delete("/api/sessions/" + sid.upper())
    assert r.status_code == 204, describe(r)
    assert "access_token=;" in r.headers.get("Set-Cookie", "")
    u.session.cookies.set("access_token", token)
    assert_error(u.session.get("/api/me"), 401, "unauthenticated")


def test_revoke_someone_elses_session_is_404(new_user):
    u, v = new_user(), new_user()
    sid = [s["id"] for s in sessions(v.session) if s["current"]][0]
    assert_error(u.session.delete("/api/sessions/" + sid), 404, "not_found")
    assert v.session.get("/api/me").status_code == 200


@pytest.mark.parametrize("sid", ["1", "not-a-uuid", str(uuid.uuid4()),
                                 "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "%FF"])
def test_revoke_unknown_or_malformed_is_404(new_user, sid):
    assert_error(new_user().session.delete("/api/sessions/" + sid), 404, "not_found")


def test_revoke_needs_origin_ok(new_user):
    u = new_user()
    sid = [s["id"] for s in sessions(u.session) if s["current"]][0]
    r = u.session.delete("/api/sessions/" + sid, headers={"Origin": "http://evil.example"})
    assert_error(r, 403, "forbidden_origin")


# -- POST /api/password ------------------------------------------------------

def test_password_change_keeps_this_session_revokes_others(new_user):
    u = new_user()
    other = u.login()
    r = u.session.post("/api/password", json={"current": u.password, "new": "a brand new pw"})
    assert r.status_code == 204, describe(r)
    assert u.session.get("/api/me").status_code == 200
    assert_error(other.get("/api/me"), 401, "unauthenticated")
    assert len(sessions(u.session)) == 1
    c = u.session.__class__(u.stack, addr=u.addr)
    r = c.post("/api/login", json={"username": u.username, "password": u.password})
    assert_error(r, 401, "invalid_credentials")
    r = c.post("/api/login", json={"username": u.username, "password": "a brand new pw"})
    assert r.status_code == 200, describe(r)


def test_password_wrong_current_is_401(stack, new_user):
    u = new_user()
    r = u.session.post("/api/password", json={"current": "wrong password", "new": "a brand new pw"})
    assert_error(r, 401, "invalid_credentials")
    assert u.session.get("/api/me").status_code == 200
    rows = stack.psql("SELECT count(*) FROM login_failures WHERE account = lower('%s')"
                      " AND address = '%s'" % (u.username, u.addr))
    assert rows == [["1"]]
    # the old password still works
    s = u.login()
    assert s.get("/api/me").status_code == 200


def test_password_wrong_current_throttles_after_five(new_user):
    u = new_user()
    for _ in range(5):
        r = u.session.post("/api/password", json={"current": "wrong!!!", "new": "whatever1"})
        assert_error(r, 401, "invalid_credentials")
    r = u.session.post("/api/password", json={"current": u.password, "new": "whatever1"})
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)
    # the same account from the same address cannot log in either
    c = u.session.__class__(u.stack, addr=u.addr)
    r = c.post("/api/login", json={"username": u.username, "password": u.password})
    assert_error(r, 429, "too_many_attempts")


@pytest.mark.parametrize("new", ["short", "x" * 1025, ""])
def test_password_new_validated_like_register(new_user, new):
    u = new_user()
    r = u.session.post("/api/password", json={"current": u.password, "new": new})
    assert_error(r, 422, "invalid", field="new")


@pytest.mark.parametrize("body,field", [
    ({"new": "long enough pw"}, "current"), ({"current": 1, "new": "long enough pw"}, "current"),
    ({"current": "x" * 8}, "new"), ({"current": "x" * 8, "new": ["a"]}, "new"),
    ({"current": "", "new": "long enough pw"}, "current"),
])
def test_password_missing_or_wrong_type_is_422(new_user, body, field):
    r = new_user().session.post("/api/password", json=body)
    assert_error(r, 422, "invalid", field=field)


def test_password_needs_a_session_and_json(client, new_user):
    assert_error(client().post("/api/password", json={"current": "a", "new": "b"}),
                 401, "unauthenticated")
    u = new_user()
    r = u.session.post("/api/password", data="current=x", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    r = u.session.post("/api/password", data="{", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "bad_json")
