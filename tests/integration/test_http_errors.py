"""HTTP-level refusals (contract sections 3, 8, 9): Origin on state-changing
requests, unknown paths and wrong methods, and hostile requests (oversized,
lying, deeply nested, strange bytes). After each, the service still answers.
"""

import json
import socket
import time

import pytest

from pclib import (assert_alive, assert_error, describe, raw_http, raw_json_body,
                   raw_status, unique_email, unique_name)


def creds(u):
    return {"username": u.username, "password": u.password}


# -- Origin ------------------------------------------------------------------------

@pytest.mark.parametrize("origin_of", [
    lambda st: "http://evil.example",
    lambda st: "null",
    lambda st: st.origin + "/",
    lambda st: st.origin.replace("http://", "https://"),
    lambda st: "http://127.0.0.1:%d" % (st.port + 1),
    lambda st: "http://127.0.0.1",
    lambda st: st.origin + ".evil.example",
    lambda st: "http://evil.example, " + st.origin,
], ids=["foreign", "null", "trailing_slash", "https", "other_port", "no_port", "suffix", "list"])
def test_post_with_foreign_origin_is_403(stack, new_user, client, origin_of):
    u = new_user("orig")
    origin = origin_of(stack)
    r = client().post("/api/login", json=creds(u), headers={"Origin": origin})
    assert_error(r, 403, "forbidden_origin")
    assert "Set-Cookie" not in r.headers, describe(r)
    assert_alive(stack)


def test_register_with_foreign_origin_creates_nothing(stack, client):
    body = {"username": unique_name("orig"), "email": unique_email(), "password": "12345678"}
    r = client().post("/api/register", json=body, headers={"Origin": "http://evil.example"})
    assert_error(r, 403, "forbidden_origin")
    r = client().post("/api/register", json=body)
    assert r.status_code == 201, describe(r)


def test_logout_with_foreign_origin_keeps_the_session(new_user):
    u = new_user("orig_out")
    r = u.session.post("/api/logout", headers={"Origin": "http://evil.example"})
    assert_error(r, 403, "forbidden_origin")
    assert u.session.get("/api/me").status_code == 200


@pytest.mark.parametrize("which", ["own", "localhost", "absent"])
def test_post_with_allowed_or_no_origin_is_fine(stack, new_user, client, which):
    u = new_user("origok")
    headers = {"own": {"Origin": stack.origin},
               "localhost": {"Origin": "http://localhost:%d" % stack.port},
               "absent": {}}[which]
    r = client().post("/api/login", json=creds(u), headers=headers)
    assert r.status_code == 200, describe(r)


def test_get_with_foreign_origin_is_not_refused(new_user):
    u = new_user("origget")
    r = u.session.get("/api/me", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200, describe(r)
    r = u.session.get("/api/health", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200, describe(r)


# -- 404 and 405 ----------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/nope"), ("POST", "/api/nope"), ("GET", "/api/"),
    ("GET", "/api/me/extra"), ("POST", "/api/register/x"), ("GET", "/api/ME"),
    ("GET", "/api/me%00"), ("GET", "/api/%ZZ"), ("GET", "/api/" + "a" * 2000),
    ("DELETE", "/api/nothing/here"), ("GET", "/api/../api/nope"),
])
def test_unknown_api_path_is_404_json(stack, client, method, path):
    r = client().request(method, path)
    assert_error(r, 404, "not_found", field=None)
    assert_alive(stack)


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/api/login", "POST"), ("GET", "/api/login", "POST"),
    ("GET", "/api/register", "POST"), ("PATCH", "/api/register", "POST"),
    ("GET", "/api/logout", "POST"), ("POST", "/api/health", "GET"),
    ("POST", "/api/config", "GET"), ("PUT", "/api/me", "GET"),
])
def test_wrong_method_is_405_json(stack, client, method, path, allowed):
    r = client().request(method, path, json={} if method != "GET" else None)
    assert_error(r, 405, "method_not_allowed", field=None)
    allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    assert allowed in allow, describe(r)
    assert_alive(stack)


def test_query_string_does_not_change_the_route(new_user):
    u = new_user("qs")
    r = u.session.get("/api/me?x=1&y=%41&z")
    assert r.status_code == 200, describe(r)


@pytest.mark.parametrize("query", ["y=%00", "y=%0d%0aX-Evil:%201", "%ff%fe=%c0%af"])
def test_strange_query_is_ignored_or_refused_with_the_error_shape(stack, new_user, query):
    u = new_user("qs2")
    r = u.session.get("/api/me?" + query)
    if r.status_code != 200:
        assert_error(r, r.status_code, r.json()["error"]["code"] if r.headers.get(
            "Content-Type", "").startswith("application/json") else "?")
        assert 400 <= r.status_code < 500, describe(r)
    assert "X-Evil" not in r.headers
    assert_alive(stack)


# -- hostile bodies --------------------------------------------------------------------

def _post(c, path, data):
    return c.post(path, data=data, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("shape", ["array", "object", "mixed"])
def test_deep_nesting_is_400(stack, client, shape):
    n = 10000
    if shape == "array":
        data = "[" * n + "]" * n
    elif shape == "object":
        data = '{"a":' * n + "1" + "}" * n
    else:
        data = '{"username":' + '[{"a":' * (n // 2) + "1" + "}]" * (n // 2) + "}"
    r = _post(client(), "/api/register", data.encode())
    assert_error(r, 400, "bad_json")
    assert_alive(stack)


@pytest.mark.parametrize("raw,field", [
    (b'{"username":1e999999,"email":"a@example.com","password":"12345678"}', "username"),
    (b'{"username":-1e-999999,"email":"a@example.com","password":"12345678"}', "username"),
    (b'{"username":"ok_name","email":"a@example.com","password":1e308}', "password"),
])
def test_huge_numbers_are_wrong_types_not_crashes(stack, client, raw, field):
    r = _post(client(), "/api/register", raw)
    assert_error(r, 422, "invalid", field=field)
    assert_alive(stack)


def test_very_long_number_is_refused_cleanly(stack, client):
    # 5000 digits is valid JSON, but cJSON reads at most 63 characters of a
    # number and then fails: 400 bad_json is as acceptable as 422 here.
    raw = (b'{"username":"ok_name","email":"a@example.com","password":'
           + b"9" * 5000 + b"}")
    r = _post(client(), "/api/register", raw)
    if r.status_code == 400:
        assert_error(r, 400, "bad_json")
    else:
        assert_error(r, 422, "invalid", field="password")
    assert_alive(stack)


def test_huge_number_in_unknown_field_is_ignored(client):
    body = json.dumps({"username": unique_name("num"), "email": unique_email(),
                       "password": "12345678"})
    data = body[:-1].encode() + b',"n":1e999999,"m":-1e999999}'
    r = _post(client(), "/api/register", data)
    assert r.status_code == 201, describe(r)


def test_huge_numbers_on_login(stack, client):
    r = _post(client(), "/api/login", b'{"username":1e400,"password":"12345678"}')
    assert_error(r, 422, "invalid", field="username")
    assert_alive(stack)


@pytest.mark.parametrize("name", [
    "a'; drop table users;--", "x' OR '1'='1", "robert\"); DROP TABLE rooms;--", "a%27b",
    "$$; SELECT pg_sleep(5); $$",
])
def test_sql_metacharacters_in_username_are_422(stack, client, name):
    r = client().post("/api/register", json={"username": name, "email": unique_email(),
                                             "password": "12345678"})
    assert_error(r, 422, "invalid", field="username")
    t0 = time.monotonic()
    r = client().post("/api/login", json={"username": name, "password": "12345678"})
    assert time.monotonic() - t0 < 4, "login looked slept"
    assert r.status_code in (401, 422), describe(r)
    assert_error(r, r.status_code, "invalid_credentials" if r.status_code == 401 else "invalid")
    assert stack.psql("SELECT count(*) >= 0 FROM users") == [["t"]]
    assert_alive(stack)


def test_sql_metacharacters_in_email_are_stored_verbatim(stack, client):
    # Printable ASCII is a valid email local part: a quote must survive as data.
    name = unique_name("quote")
    email = "o'brien.%s@example.com" % name.lower()
    c = client()
    r = c.post("/api/register", json={"username": name, "email": email, "password": "12345678"})
    assert r.status_code == 201, describe(r)
    assert r.json()["email"] == email
    r = c.post("/api/login", json={"username": email, "password": "12345678"})
    assert r.status_code == 200, describe(r)
    assert c.get("/api/me").json()["email"] == email


@pytest.mark.parametrize("name", ["abc\r\nSet-Cookie: pwned=1", "abc\nX-Injected: 1",
                                  "abc\rdef", "abc\u2028def"])
def test_header_injection_in_username_is_refused(stack, client, name):
    r = client().post("/api/register", json={"username": name, "email": unique_email(),
                                             "password": "12345678"})
    assert_error(r, 422, "invalid", field="username")
    assert "pwned" not in r.headers.get("Set-Cookie", "")
    assert "X-Injected" not in r.headers
    r = client().post("/api/login", json={"username": name, "password": "12345678"})
    assert r.status_code in (401, 422), describe(r)
    assert "pwned" not in r.headers.get("Set-Cookie", "")
    assert "X-Injected" not in r.headers
    assert_alive(stack)


def test_body_of_1mb_is_413_json(stack):
    body = b'{"username":"' + b"a" * (1 << 20) + b'"}'
    head = ("POST /api/register HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (stack.port, len(body))).encode()
    raw = raw_http(stack, head, chunks=[body[i:i + 65536] for i in range(0, len(body), 65536)])
    assert raw_status(raw) == 413, raw[:600]
    err = raw_json_body(raw)
    assert set(err) == {"error"} and err["error"]["code"] == "too_large", err
    assert_alive(stack)


def test_content_length_smaller_than_a_1mb_body(stack):
    body = b'{"username":"' + b"a" * (1 << 20) + b'"}'
    head = ("POST /api/register HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nContent-Length: 20\r\n\r\n"
            % stack.port).encode()
    raw = raw_http(stack, head + body, read_timeout=3)
    status = raw_status(raw)
    assert status is not None and 400 <= status < 500, raw[:600]
    assert_alive(stack)


def test_content_length_larger_than_the_body_sent(stack):
    head = ("POST /api/register HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
            % stack.port).encode()
    raw = raw_http(stack, head + b'{"username":', read_timeout=3)
    status = raw_status(raw)
    assert status is None or 400 <= status < 500, raw[:600]
    assert_alive(stack)


def test_stalled_bodies_do_not_block_the_api(stack):
    # More half-sent requests than the API has threads, held open while others
    # are served: the web server buffers them, the API never waits on them.
    socks = []
    try:
        for _ in range(12):
            s = socket.create_connection(("127.0.0.1", stack.port), timeout=5)
            s.sendall(("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 60000\r\n\r\n{\"username\":").encode())
            socks.append(s)
        t0 = time.monotonic()
        for _ in range(5):
            assert_alive(stack)
        assert time.monotonic() - t0 < 5
    finally:
        for s in socks:
            s.close()
    assert_alive(stack)


def test_garbage_request_line_does_not_hurt(stack):
    for junk in (b"\x00\x01\x02\r\n\r\n", b"GET /api/health HTTP/9.9\r\n\r\n",
                 b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/json\r\n\r\nZZZ\r\n"):
        raw_http(stack, junk, read_timeout=2)
    assert_alive(stack)


def test_chunked_body_is_read(client):
    body = json.dumps({"username": unique_name("chunk"), "email": unique_email(),
                       "password": "12345678"}).encode()
    r = client().post("/api/register", data=iter([body[:10], body[10:]]),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 201, describe(r)
