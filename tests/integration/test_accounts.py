"""Accounts over real HTTP: POST /api/register, POST /api/login, GET /api/me
(contract sections 3, 8, 9). Every refused input gets the exact error shape,
and the service still answers afterwards. Cookies, tokens and logout are in
test_sessions_cookie.py; throttles in test_throttle.py.
"""

import datetime
import json
import random
import statistics
import string
import time
import uuid

import pytest

from pclib import (RFC3339_MS, assert_alive, assert_error, describe, unique_email,
                   unique_name)


def reg_body(**over):
    body = {"username": unique_name("r"), "email": unique_email(),
            "password": "correct horse battery"}
    body.update(over)
    return body


def name_of_len(n):
    """A username of exactly n allowed characters, unique with high odds."""
    alphabet = string.ascii_letters + string.digits + "_.-"
    rnd = random.SystemRandom()
    return "".join(rnd.choice(alphabet) for _ in range(n))


def post_raw(c, path, data, ctype="application/json"):
    headers = {} if ctype is None else {"Content-Type": ctype}
    return c.post(path, data=data, headers=headers)


# -- register: success ------------------------------------------------------

def test_register_answers_201_with_the_account(client):
    c = client()
    body = reg_body(username=unique_name("MixedCase"))
    r = c.post("/api/register", json=body)
    assert r.status_code == 201, describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    got = r.json()
    assert set(got) == {"id", "username", "email", "created_at"}, got
    assert isinstance(got["id"], int) and not isinstance(got["id"], bool) and got["id"] > 0
    assert got["username"] == body["username"]  # as registered, case kept
    assert got["email"] == body["email"]
    assert RFC3339_MS.match(got["created_at"]), got
    created = datetime.datetime.strptime(got["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    now = datetime.datetime.utcnow()
    assert abs((now - created).total_seconds()) < 120, (now, created)


def test_register_stores_argon2id_not_the_password(stack, client):
    c = client()
    body = reg_body()
    r = c.post("/api/register", json=body)
    assert r.status_code == 201, describe(r)
    rows = stack.psql("SELECT password_hash FROM users WHERE id = %d" % r.json()["id"])
    assert rows and rows[0][0].startswith("$argon2id$"), rows
    assert body["password"] not in rows[0][0]


@pytest.mark.parametrize("n", [3, 32])
def test_register_username_length_limits_accepted(client, n):
    r = client().post("/api/register", json=reg_body(username=name_of_len(n)))
    assert r.status_code == 201, describe(r)


@pytest.mark.parametrize("username", [
    "ab", "x" * 33, "", "a b c", "abc!", "ab/cd", "abc@x", "ümlaut", "tab\there",
    "semi;colon", "quote\"d", "a'; drop table users;--", "back\\slash", "name\r\nX-Evil: 1",
    "ab\u200bc",
])
def test_register_bad_username_is_422(stack, client, username):
    r = client().post("/api/register", json=reg_body(username=username))
    assert_error(r, 422, "invalid", field="username")
    assert_alive(stack)


@pytest.mark.parametrize("email", [
    "", "plainaddress", "two@@example.com", "a@b@example.com", "sp ace@example.com",
    "@example.com", "user@", "user@nodot", "user@.example.com", "user@example..com",
    "é@example.com", "a" * 250 + "@x.com", "user@exa mple.com", "line\n@example.com",
])
def test_register_bad_email_is_422(stack, client, email):
    r = client().post("/api/register", json=reg_body(email=email))
    assert_error(r, 422, "invalid", field="email")
    assert_alive(stack)


@pytest.mark.parametrize("password", ["x" * 7, "x" * 1025, "", "ééé" + "a"])
def test_register_bad_password_length_is_422(stack, client, password):
    # "ééé" + "a" is 4 characters but 7 bytes: the limit counts bytes.
    r = client().post("/api/register", json=reg_body(password=password))
    assert_error(r, 422, "invalid", field="password")
    assert_alive(stack)


@pytest.mark.parametrize("password", ["x" * 8, "y" * 1024, "éééé"])
def test_register_password_length_limits_accepted_and_usable(client, password):
    c = client()
    body = reg_body(password=password)
    r = c.post("/api/register", json=body)
    assert r.status_code == 201, describe(r)
    r = c.post("/api/login", json={"username": body["username"], "password": password})
    assert r.status_code == 200, describe(r)


def test_register_duplicate_username_other_case_is_409(stack, client):
    first = reg_body(username=unique_name("Dup"))
    r = client().post("/api/register", json=first)
    assert r.status_code == 201, describe(r)
    again = reg_body(username=first["username"].swapcase())
    r = client().post("/api/register", json=again)
    assert_error(r, 409, "conflict", field="username")
    assert_alive(stack)


def test_register_duplicate_email_other_case_is_409(stack, client):
    first = reg_body(email="Mail." + unique_email())
    r = client().post("/api/register", json=first)
    assert r.status_code == 201, describe(r)
    r = client().post("/api/register", json=reg_body(email=first["email"].upper()))
    assert_error(r, 409, "conflict", field="email")
    assert_alive(stack)


def test_register_ignores_unknown_fields(client):
    body = reg_body(role="admin", id=1, created_at="1970-01-01T00:00:00.000Z",
                    nested={"a": [1, 2, {"b": None}]}, huge=1e308)
    r = client().post("/api/register", json=body)
    assert r.status_code == 201, describe(r)
    got = r.json()
    assert set(got) == {"id", "username", "email", "created_at"}, got
    assert got["username"] == body["username"]
    assert got["created_at"] != "1970-01-01T00:00:00.000Z"


def test_register_accepts_json_with_charset(client):
    data = json.dumps(reg_body()).encode()
    r = post_raw(client(), "/api/register", data, "application/json; charset=utf-8")
    assert r.status_code == 201, describe(r)


# -- register: wrong types and shapes ------------------------------------------

@pytest.mark.parametrize("over,field", [
    ({"username": 5}, "username"),
    ({"username": None}, "username"),
    ({"username": ["alice"]}, "username"),
    ({"email": {"a": 1}}, "email"),
    ({"email": True}, "email"),
    ({"password": None}, "password"),
    ({"password": 12345678}, "password"),
])
def test_register_wrong_field_type_is_422_naming_it(stack, client, over, field):
    r = client().post("/api/register", json=reg_body(**over))
    assert_error(r, 422, "invalid", field=field)
    assert_alive(stack)


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_missing_field_is_422_naming_it(stack, client, missing):
    body = reg_body()
    del body[missing]
    r = client().post("/api/register", json=body)
    assert_error(r, 422, "invalid", field=missing)
    assert_alive(stack)


@pytest.mark.parametrize("raw", [b"[]", b'["a","b"]', b'"text"', b"42", b"null", b"true"])
def test_register_body_not_an_object_is_422_field_null(stack, client, raw):
    r = post_raw(client(), "/api/register", raw)
    assert_error(r, 422, "invalid", field=None)
    assert_alive(stack)


@pytest.mark.parametrize("raw", [
    b"{bad", b"", b"{'username': 'single'}", b'{"username": "a",}', b'{"a":1} trailing',
    b'{"username": "a" "email": "b"}', b"{" * 3, b'{"username": undefined}',
])
def test_register_not_json_is_400(stack, client, raw):
    r = post_raw(client(), "/api/register", raw)
    assert_error(r, 400, "bad_json")
    assert_alive(stack)


@pytest.mark.parametrize("raw", [
    b'{"username":"ab\xffcd","email":"x@example.com","password":"12345678"}',
    b'{"username":"abcd","email":"x@example.com","password":"1234567\xc0\xaf"}',
    b'{"username":"abcd","email":"x@example.com","password":"12345\xed\xa0\x80xx"}',
    b'{"username":"abcd","email":"x@example.com","password":"12345678\xe2\x82"}',
])
def test_register_invalid_utf8_is_400(stack, client, raw):
    r = post_raw(client(), "/api/register", raw)
    assert_error(r, 400, "bad_json")
    assert_alive(stack)


def test_register_nul_escape_in_username_is_422(stack, client):
    # cJSON would cut "ab\u0000cd" to "ab"; the API must see the escape.
    name = unique_name("nul")
    raw = ('{"username":"%s\\u0000cd","email":"%s","password":"12345678"}'
           % (name, unique_email())).encode()
    r = post_raw(client(), "/api/register", raw)
    assert_error(r, 422, "invalid", field="username")
    # and no account was made under the prefix
    r = client().post("/api/register", json=reg_body(username=name))
    assert r.status_code == 201, describe(r)
    assert_alive(stack)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonp"])
def test_register_without_json_content_type_is_415(stack, client, ctype):
    data = json.dumps(reg_body()).encode()
    r = post_raw(client(), "/api/register", data, ctype)
    assert_error(r, 415, "unsupported_media_type")
    assert_alive(stack)


def test_register_body_over_64k_is_413(stack, client):
    body = reg_body(pad="")
    base = len(json.dumps(body).encode())
    body["pad"] = "p" * (65537 - base)
    data = json.dumps(body).encode()
    assert len(data) == 65537
    r = post_raw(client(), "/api/register", data)
    assert_error(r, 413, "too_large")
    assert_alive(stack)


def test_register_body_of_exactly_64k_is_read(client):
    body = reg_body(pad="")
    base = len(json.dumps(body).encode())
    body["pad"] = "p" * (65536 - base)
    data = json.dumps(body).encode()
    assert len(data) == 65536
    r = post_raw(client(), "/api/register", data)
    assert r.status_code == 201, describe(r)


# -- login ----------------------------------------------------------------------

def test_login_with_username_in_other_case(new_user, client):
    u = new_user("Case")
    c = client()
    r = c.post("/api/login", json={"username": u.username.swapcase(), "password": u.password})
    assert r.status_code == 200, describe(r)
    got = r.json()
    assert got == {"id": u.id, "username": u.username}, got
    assert c.token


def test_login_with_email_in_other_case(new_user, client):
    u = new_user("ByMail")
    c = client()
    r = c.post("/api/login", json={"username": u.email.upper(), "password": u.password})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"id": u.id, "username": u.username}
    assert c.token


def test_login_password_is_case_sensitive(new_user, client):
    u = new_user("pwcase")
    r = client().post("/api/login", json={"username": u.username,
                                          "password": u.password.upper()})
    assert_error(r, 401, "invalid_credentials")


def test_login_unknown_user_and_wrong_password_look_alike(stack, new_user, client):
    u = new_user("alike")
    times = {"unknown": [], "wrong": []}
    bodies = set()

    def attempt(kind):
        name = u.username if kind == "wrong" else unique_name("ghost")
        c = client()  # a fresh address each time: no throttle in the way
        t0 = time.perf_counter()
        r = c.post("/api/login", json={"username": name, "password": "not-the-password"})
        dt = time.perf_counter() - t0
        err = assert_error(r, 401, "invalid_credentials")
        assert "Set-Cookie" not in r.headers, describe(r)
        bodies.add(json.dumps(err, sort_keys=True))
        return dt

    attempt("unknown")
    attempt("wrong")  # warm up both paths
    for _ in range(5):
        for kind in ("unknown", "wrong"):
            times[kind].append(attempt(kind))
    assert len(bodies) == 1, bodies
    mu, mw = statistics.median(times["unknown"]), statistics.median(times["wrong"])
    assert max(mu, mw) / min(mu, mw) < 3, times
    assert_alive(stack)


@pytest.mark.parametrize("body,field", [
    ({"username": 5, "password": "12345678"}, "username"),
    ({"username": "someone", "password": None}, "password"),
    ({"username": "someone", "password": ["12345678"]}, "password"),
    ({"password": "12345678"}, "username"),
    ({"username": "someone"}, "password"),
])
def test_login_wrong_types_are_422(stack, client, body, field):
    r = client().post("/api/login", json=body)
    assert_error(r, 422, "invalid", field=field)
    assert_alive(stack)


@pytest.mark.parametrize("raw,status,code", [
    (b"[1]", 422, "invalid"), (b"nope", 400, "bad_json"), (b'{"username":"a\xff"}', 400, "bad_json"),
])
def test_login_bad_bodies(stack, client, raw, status, code):
    r = post_raw(client(), "/api/login", raw)
    err = assert_error(r, status, code)
    if status == 422:
        assert err["field"] is None
    assert_alive(stack)


def test_login_without_json_content_type_is_415(stack, new_user, client):
    u = new_user("ct")
    data = json.dumps({"username": u.username, "password": u.password}).encode()
    r = post_raw(client(), "/api/login", data, "text/plain")
    assert_error(r, 415, "unsupported_media_type")
    assert "Set-Cookie" not in r.headers


# -- me ------------------------------------------------------------------------

def test_me_answers_the_signed_in_user(new_user):
    u = new_user("me")
    r = u.session.get("/api/me")
    assert r.status_code == 200, describe(r)
    got = r.json()
    assert set(got) == {"id", "username", "email", "created_at"}, got
    assert got["id"] == u.id and got["username"] == u.username and got["email"] == u.email
    assert got["created_at"] == u.created_at
    assert RFC3339_MS.match(got["created_at"])


def test_me_without_cookie_is_401(stack, client):
    r = client().get("/api/me")
    assert_error(r, 401, "unauthenticated")


def test_me_finds_the_token_among_other_cookies(stack, new_user, client):
    u = new_user("cookies")
    c = client()
    r = c.get("/api/me", headers={"Cookie": "theme=dark; access_token=%s; lang=\"en\"; x="
                                  % u.token})
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == u.id


def test_me_with_empty_or_odd_cookie_headers_is_401(stack, client):
    for cookie in ["", "access_token=", "access_token", "=; ;", "access_token=;access_token=x",
                   "a" * 3000, "access_token=" + "A" * 3000]:
        r = client().get("/api/me", headers={"Cookie": cookie})
        assert_error(r, 401, "unauthenticated")
    assert_alive(stack)


def test_two_users_are_distinct(new_user):
    a, b = new_user("ua"), new_user("ub")
    assert a.id != b.id
    assert a.session.get("/api/me").json()["id"] == a.id
    assert b.session.get("/api/me").json()["id"] == b.id


def test_unique_names_do_not_collide_in_the_harness():
    # A harness self-check: unique_name is what every test relies on.
    names = {unique_name("x") for _ in range(1000)}
    assert len(names) == 1000 and all(3 <= len(n) <= 32 for n in names)
    assert len(uuid.uuid4().hex) == 32
