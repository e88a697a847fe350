"""pipechat behind nginx (PIPECHAT_WEB=nginx, deploy/nginx/): the key account
and WebSocket paths through it, the API's own errors passing through
unchanged, the errors nginx answers itself in the JSON error shape (400, 413,
414, 431, 502), the security headers, and nginx running as the service user
with its files in the stack's folder.

The stack is start_stack(PIPECHAT_WEB="nginx"), or the shared stack when the
whole session runs with PIPECHAT_WEB=nginx (scripts/test does, for a subset of
the suite). Not for: lighttpd (test_deploy_web.py) or what the API does
whatever the web server (the other test files).
"""

import os
import re
import socket

import pytest
import requests
import websockets

from pclib import (assert_alive, assert_error, describe, raw_http, raw_json_body,
                   raw_status, unique_email, unique_name)
from test_ws_client import WS, check_message, make_room, run
from test_deploy_web import LIGHTTPD_HEADERS

JSON_CT = "application/json"


@pytest.fixture(scope="module")
def ngx(request):
    """A stack whose web server is nginx."""
    if os.environ.get("PIPECHAT_WEB") == "nginx":
        return request.getfixturevalue("stack")
    return request.getfixturevalue("start_stack")(PIPECHAT_WEB="nginx")


@pytest.fixture
def ngx_user(ngx, new_user):
    return lambda prefix="ngx": new_user(prefix, stack=ngx)


def _web_pid_cmdline(st):
    pid = st.pid("web")
    assert pid, "no web.pid in %s" % st.var
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return pid, f.read().replace(b"\0", b" ").decode(errors="replace")


# -- it is nginx, run as it should be --------------------------------------------

def test_the_web_server_is_nginx_as_the_service_user(ngx):
    pid, cmd = _web_pid_cmdline(ngx)
    assert cmd.startswith("nginx: master process"), cmd
    prefix = ngx.paths()["PC_NGINX_PREFIX"]
    assert " -p %s/ " % prefix in cmd and "daemon off;" in cmd, cmd
    uid = os.stat("/proc/%d" % pid).st_uid
    assert uid != 0 or os.getuid() != 0, "nginx runs as root"
    assert str(uid) == _uid_of(ngx.paths()["PC_SVC_USER"]), (uid, cmd)
    # Its pid file and temporary folders are in the stack's prefix, and the
    # rendered configuration has no placeholder left.
    assert open(os.path.join(prefix, "nginx.pid")).read().strip() == str(pid)
    conf = open(os.path.join(ngx.paths()["PC_WEB_CONF_DIR"], "pipechat.conf")).read()
    assert "@PIPECHAT_" not in conf
    r = requests.get(ngx.base_url + "/", timeout=10)
    assert r.headers.get("Server") == "nginx", describe(r)


def _uid_of(user):
    import pwd
    return str(pwd.getpwnam(user).pw_uid)


def test_static_client_and_docs(ngx):
    r = requests.get(ngx.base_url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), describe(r)
    r = requests.get(ngx.base_url + "/docs/openapi.json", timeout=10)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith(JSON_CT), describe(r)
    assert r.json()["openapi"].startswith("3.0"), describe(r)
    r = requests.get(ngx.base_url + "/docs", timeout=10, allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "/docs/", describe(r)


@pytest.mark.parametrize("path", ["/.git/config", "/.env", "/index.html~", "/x.swp"])
def test_dot_files_and_leftovers_refused(ngx, path):
    r = requests.get(ngx.base_url + path, timeout=10)
    assert r.status_code in (403, 404), describe(r)


# -- security headers ------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/health", "/api/nope", "/nope.html"])
def test_security_headers_as_lighttpd(ngx, path):
    r = requests.get(ngx.base_url + path, timeout=10)
    for k, v in LIGHTTPD_HEADERS.items():
        assert r.headers.get(k) == v, (k, describe(r))


def test_security_headers_on_nginx_own_errors(ngx):
    r = requests.post(ngx.base_url + "/api/register", data=b"x" * (1 << 20),
                      headers={"Content-Type": "application/json"}, timeout=20)
    assert r.status_code == 413, describe(r)
    for k, v in LIGHTTPD_HEADERS.items():
        assert r.headers.get(k) == v, (k, describe(r))


# -- accounts through nginx --------------------------------------------------------

def test_register_login_me_logout(ngx, client):
    c = client(stack=ngx)
    name = unique_name("ngx")
    body = {"username": name, "email": unique_email(name), "password": "correct horse"}
    r = c.post("/api/register", json=body, headers={"Origin": ngx.origin})
    assert r.status_code == 201, describe(r)
    uid = r.json()["id"]
    r = c.post("/api/login", json={"username": name.upper(), "password": "correct horse"})
    assert r.status_code == 200 and r.json() == {"id": uid, "username": name}, describe(r)
    assert c.token
    r = c.get("/api/me")
    assert r.status_code == 200 and r.json()["username"] == name, describe(r)
    r = c.post("/api/logout")
    assert r.status_code == 204, describe(r)
    assert_error(c.get("/api/me"), 401, "unauthenticated")


def test_client_address_comes_through_fastcgi(ngx, ngx_user):
    """REMOTE_ADDR is nginx's peer (127.0.0.1, trusted by the test stacks), so
    X-Forwarded-For names the client, as behind lighttpd."""
    u = ngx_user()
    r = u.session.get("/api/sessions")
    if r.status_code == 404:
        pytest.skip("GET /api/sessions is not there yet")
    assert r.status_code == 200, describe(r)
    mine = [s for s in r.json()["sessions"] if s["current"]]
    assert mine and mine[0]["address"] == u.addr, describe(r)


def test_foreign_origin_is_403(ngx, ngx_user, client):
    u = ngx_user()
    r = client(stack=ngx).post("/api/login", json={"username": u.username, "password": u.password},
                               headers={"Origin": "http://evil.example"})
    assert_error(r, 403, "forbidden_origin")


# -- the API's errors pass through unchanged -------------------------------------------

def test_api_404_and_405_pass_through(ngx, client):
    c = client(stack=ngx)
    assert_error(c.get("/api/nope"), 404, "not_found", field=None)
    r = c.put("/api/login", json={})
    assert_error(r, 405, "method_not_allowed", field=None)
    assert r.headers.get("Allow") == "POST", describe(r)


def test_api_own_413_for_a_body_between_64_and_128_kib(ngx, client):
    # Under nginx's limit: the API itself answers (its answers carry
    # Cache-Control: no-store, nginx's do not).
    r = client(stack=ngx).post("/api/register", data=b'{"username":"' + b"a" * 100000 + b'"}',
                               headers={"Content-Type": "application/json"})
    assert_error(r, 413, "too_large")
    assert r.headers.get("Cache-Control") == "no-store", describe(r)


def test_api_415_and_400(ngx, client):
    c = client(stack=ngx)
    r = c.post("/api/register", data=b"{}", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    r = c.post("/api/register", data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "bad_json")


def test_chunked_body_reaches_the_api(ngx, client):
    body = ('{"username":"%s","email":"%s","password":"12345678"}'
            % (unique_name("chunk"), unique_email())).encode()
    r = client(stack=ngx).post("/api/register", data=iter([body[:7], body[7:]]),
                               headers={"Content-Type": "application/json"})
    assert r.status_code == 201, describe(r)


# -- errors nginx answers itself -------------------------------------------------------

def _raw(st, head, body=b"", read_timeout=5):
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    return raw_http(st, head, chunks=chunks, read_timeout=read_timeout)


def _raw_error(raw, status, code):
    assert raw_status(raw) == status, raw[:600]
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert re.search(r"(?im)^content-type:\s*application/json", head), head
    err = raw_json_body(raw)
    assert set(err) == {"error"} and set(err["error"]) == {"code", "message", "field"}, err
    assert err["error"]["code"] == code and err["error"]["field"] is None, err
    assert err["error"]["message"], err


def test_nginx_own_413_for_1mb(ngx):
    body = b'{"username":"' + b"a" * (1 << 20) + b'"}'
    head = ("POST /api/register HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (ngx.port, len(body))).encode()
    _raw_error(_raw(ngx, head, body), 413, "too_large")
    assert_alive(ngx)


def test_nginx_own_413_for_a_chunked_1mb(ngx):
    body = b"".join(b"%x\r\n%s\r\n" % (65536, b"a" * 65536) for _ in range(16)) + b"0\r\n\r\n"
    head = ("POST /api/register HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n" % ngx.port).encode()
    _raw_error(_raw(ngx, head, body), 413, "too_large")
    assert_alive(ngx)


def test_nginx_own_414_for_a_long_request_line(ngx):
    head = ("GET /api/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            % ("a" * 20000)).encode()
    _raw_error(_raw(ngx, head), 414, "too_large")
    assert_alive(ngx)


@pytest.mark.parametrize("path", ["/api/health", "/"])
def test_nginx_own_431_for_a_large_header(ngx, path):
    head = ("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n"
            % (path, "a" * 20000)).encode()
    _raw_error(_raw(ngx, head), 431, "too_large")
    assert_alive(ngx)


@pytest.mark.parametrize("path", ["/api/me%00", "/api/health%00x"])
def test_nginx_own_400_for_nul_in_path(ngx, path):
    # lighttpd hands such a path to the API (404); nginx refuses it first.
    head = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
    _raw_error(_raw(ngx, head), 400, "bad_json")
    assert_alive(ngx)


def test_error_locations_are_internal(ngx):
    r = requests.get(ngx.base_url + "/pipechat-error/502", timeout=10)
    assert r.status_code == 404, describe(r)


def test_stalled_bodies_do_not_block_the_api(ngx):
    socks = []
    try:
        for _ in range(12):
            s = socket.create_connection(("127.0.0.1", ngx.port), timeout=5)
            s.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 60000\r\n\r\n{\"username\":")
            socks.append(s)
        for _ in range(5):
            assert_alive(ngx)
    finally:
        for s in socks:
            s.close()


# -- WebSocket through nginx --------------------------------------------------------------

def test_websocket_hello_join_send(ngx, ngx_user):
    a, b = ngx_user(), ngx_user()
    room = make_room(a)

    async def scenario():
        wa = await WS.hello(ngx, a)
        wb = await WS.hello(ngx, b)
        await wa.join(room)
        await wb.join(room)
        ack = await wa.send_msg(room, "through nginx \u00e9")
        assert ack["seq"] == 1, ack
        check_message(await wb.expect("message"), room, 1, a, "through nginx \u00e9")
        check_message(await wa.expect("message"), room, 1, a, "through nginx \u00e9")
        await wa.alive()
        await wa.close()
        await wb.close()
    run(scenario())
    r = a.session.get("/api/rooms/%d/messages" % room)
    assert [m["body"] for m in r.json()["messages"]] == ["through nginx \u00e9"], describe(r)


def test_websocket_room_query_and_large_frame(ngx, ngx_user):
    u = ngx_user()
    room = make_room(u)

    async def scenario():
        ws = await WS.hello(ngx, u, query="room=%d" % room)
        await ws.expect("joined", timeout=10)
        # 210 KB in all, over nginx's 128 KiB body limit: an upgraded socket
        # has none. Each oversized frame is the worker's too_large.
        for _ in range(3):
            await ws.send('{"type":"ping","pad":"%s"}' % ("x" * 70000))
            await ws.expect_error("too_large")
        await ws.alive()
        await ws.close()
    run(scenario())


def test_websocket_foreign_origin_refused(ngx, ngx_user):
    u = ngx_user()

    async def scenario():
        try:
            ws = await WS.open(ngx, u, origin="http://evil.example")
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 403
            return
        f = await ws.recv(timeout=10)
        assert f["type"] == "error" and f["code"] == "forbidden_origin", f
        await ws.closed_within(5)
    run(scenario())


def test_websocket_without_cookie_is_unauthenticated(ngx):
    async def scenario():
        ws = await WS.open(ngx, None)
        f = await ws.recv(timeout=10)
        assert f["type"] == "error" and f["code"] == "unauthenticated", f
        await ws.closed_within(5)
    run(scenario())


# -- services down: nginx's 502 in the JSON shape (disruptive) ----------------------

@pytest.mark.disruptive
def test_api_down_is_json_502_then_back(ngx):
    ngx.svc("stop", "api")
    try:
        r = requests.get(ngx.base_url + "/api/health", timeout=10)
        assert_error(r, 502, "unavailable")
        assert r.headers.get("Content-Security-Policy") == LIGHTTPD_HEADERS[
            "Content-Security-Policy"], describe(r)
    finally:
        ngx.svc("start", "api")
    assert_alive(ngx)


@pytest.mark.disruptive
def test_websocketd_down_is_json_502_then_back(ngx, ngx_user):
    u = ngx_user()
    ngx.svc("stop", "ws")
    try:
        r = requests.get(ngx.base_url + "/ws", timeout=10,
                         headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                  "Sec-WebSocket-Version": "13",
                                  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert_error(r, 502, "unavailable")
    finally:
        ngx.svc("start", "ws")

    async def scenario():
        ws = await WS.hello(ngx, u)
        await ws.close()
    run(scenario())


@pytest.mark.disruptive
def test_svc_kill_and_restart_nginx(ngx):
    """scripts/svc finds nginx by its pid file although nginx overwrites its
    environment (setproctitle); a killed nginx leaves no worker holding the port."""
    old, _ = _web_pid_cmdline(ngx)
    ngx.svc("restart", "web")
    new, _ = _web_pid_cmdline(ngx)
    assert new != old
    assert_alive(ngx)
    ngx.svc("kill", "web")
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(ngx.base_url + "/api/health", timeout=5)
    finally:
        ngx.svc("start", "web")
    assert_alive(ngx)
