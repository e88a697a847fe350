"""The shipped web server configurations (deploy/lighttpd/, deploy/nginx/):
both pass their server's own check, the nginx template renders with every
placeholder filled (and refuses values nginx would read as syntax), both send
the same security headers, every error body they answer themselves has the
contract's error shape, and lighttpd answers an oversized request head (431)
in JSON.

Most tests need no stack; the last ones use a lighttpd stack. Not for: nginx
in action (test_deploy_nginx.py).
"""

import json
import os
import re
import subprocess
import tempfile

import pytest
import requests

from pclib import CHECKOUT, assert_alive, raw_http, raw_json_body, raw_status

LIGHTTPD_CONF = CHECKOUT / "deploy" / "lighttpd" / "pipechat.conf"
LIGHTTPD_ERRORS = CHECKOUT / "deploy" / "lighttpd" / "errors"
NGINX_DIR = CHECKOUT / "deploy" / "nginx"
NGINX_LOCATIONS = NGINX_DIR / "pipechat-locations.conf"


def _lighttpd_headers():
    text = LIGHTTPD_CONF.read_text()
    m = re.search(r"setenv\.set-response-header\s*=\s*\((.*?)\n\)", text, re.S)
    assert m, "no setenv.set-response-header block in %s" % LIGHTTPD_CONF
    return dict(re.findall(r'"([A-Za-z-]+)"\s*=>\s*"([^"]*)"', m.group(1)))


# The headers every answer of the web server carries (lighttpd's list is the
# reference; nginx must match it).
LIGHTTPD_HEADERS = _lighttpd_headers()


def _nginx_blocks(text):
    """(depth, line) for every non-comment line of an nginx file, depth being
    the number of open braces before it."""
    depth = 0
    out = []
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip() if not line.strip().startswith("#") else ""
        if not code:
            continue
        out.append((depth, code))
        depth += code.count("{") - code.count("}")
    assert depth == 0, "unbalanced braces"
    return out


def test_security_headers_are_the_same_in_both_servers():
    assert {"Content-Security-Policy", "X-Content-Type-Options",
            "Referrer-Policy"} <= set(LIGHTTPD_HEADERS)
    text = NGINX_LOCATIONS.read_text()
    got = {}
    for depth, code in _nginx_blocks(text):
        m = re.match(r'add_header\s+(\S+)\s+"([^"]*)"\s+always;$', code)
        if code.startswith("add_header"):
            assert m, "add_header without quotes or `always`: %s" % code
            # nginx drops inherited add_header in a block that has its own.
            assert depth == 0, "add_header inside a block: %s" % code
            got[m.group(1)] = m.group(2)
    assert got == LIGHTTPD_HEADERS


def _check_error_body(text, where):
    body = json.loads(text)
    assert set(body) == {"error"}, where
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, where
    assert re.fullmatch(r"[a-z_]+", err["code"]) and err["message"] and err["field"] is None, where
    return err["code"]


# Status -> code the contract gives (section 9).
STATUS_CODES = {400: "bad_json", 413: "too_large", 414: "too_large", 431: "too_large",
                502: "unavailable", 503: "unavailable", 504: "unavailable"}


def test_lighttpd_error_files_have_the_error_shape():
    files = sorted(LIGHTTPD_ERRORS.iterdir())
    assert files
    for f in files:
        status = int(re.search(r"(\d{3})\.html$", f.name).group(1))
        assert _check_error_body(f.read_text(), f) == STATUS_CODES[status], f


def test_nginx_error_answers_have_the_error_shape():
    text = NGINX_LOCATIONS.read_text()
    found = re.findall(r"location = /pipechat-error/(\d{3}) \{\s*internal;\s*"
                       r"default_type application/json;\s*return (\d{3}) '(.*?)\\n';", text, re.S)
    assert {int(s) for s, _, _ in found} == {400, 413, 414, 431, 502, 503, 504}
    for status, ret, body in found:
        assert status == ret
        assert _check_error_body(body, status) == STATUS_CODES[int(status)]
    # Every error_page points at one of them.
    pages = [code for _, code in _nginx_blocks(text) if code.startswith("error_page ")]
    assert len(pages) >= 8, pages
    for page in pages:
        target = page.rstrip(";").split()[-1]
        assert re.fullmatch(r"/pipechat-error/\d{3}", target), target
        assert target.rsplit("/", 1)[1] in {s for s, _, _ in found}, target


def _render(tmp, **over):
    """Runs pc_nginx_render from scripts/lib/paths.sh into tmp/etc; returns
    the CompletedProcess."""
    vals = {"PC_WEB_CONF_DIR": os.path.join(tmp, "etc"), "PC_BIND": "127.0.0.1",
            "PC_WEB_PORT": "8080", "PC_WWW": str(CHECKOUT / "www"),
            "PC_API_SOCK": os.path.join(tmp, "api.sock"), "PC_WS_PORT": "9001"}
    vals.update(over)
    script = ("set -euo pipefail; . scripts/lib/common.sh; . scripts/lib/paths.sh; "
              "pc_nginx_render")
    env = dict(os.environ, **vals)
    return subprocess.run(["bash", "-c", script], cwd=str(CHECKOUT), env=env,
                          capture_output=True, text=True, timeout=30)


def test_nginx_template_renders_and_nginx_accepts_it():
    with tempfile.TemporaryDirectory() as tmp:
        p = _render(tmp)
        assert p.returncode == 0, p.stderr
        conf = open(os.path.join(tmp, "etc", "pipechat.conf")).read()
        assert "@PIPECHAT_" not in conf
        assert "listen 127.0.0.1:8080;" in conf
        assert "server unix:%s/api.sock;" % tmp in conf
        assert "server 127.0.0.1:9001;" in conf
        assert 'root "%s";' % (CHECKOUT / "www") in conf
        assert os.path.exists(os.path.join(tmp, "etc", "pipechat-locations.conf"))
        os.mkdir(os.path.join(tmp, "prefix"))
        t = subprocess.run(["nginx", "-t", "-q", "-e", "stderr", "-p", tmp + "/prefix/",
                            "-c", os.path.join(tmp, "etc", "pipechat.conf")],
                           capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, t.stderr
        assert "warn" not in t.stderr, t.stderr


@pytest.mark.parametrize("bind,listen", [("::1", "[::1]:8080"), ("0.0.0.0", "0.0.0.0:8080"),
                                         ("", "8080")])
def test_nginx_listen_for_each_bind(bind, listen):
    with tempfile.TemporaryDirectory() as tmp:
        p = _render(tmp, PC_BIND=bind)
        assert p.returncode == 0, p.stderr
        assert "listen %s;" % listen in open(os.path.join(tmp, "etc", "pipechat.conf")).read()


@pytest.mark.parametrize("www", ['/srv/a"b', "/srv/a;b", "/srv/a{b}", "/srv/$x", "/srv/a\\b",
                                 "/srv/a#b"])
def test_nginx_render_refuses_values_nginx_would_parse(www):
    with tempfile.TemporaryDirectory() as tmp:
        p = _render(tmp, PC_WWW=www)
        assert p.returncode != 0
        assert "nginx cannot take this value" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(tmp, "etc", "pipechat.conf"))


def test_lighttpd_config_passes_lighttpd_tt():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PIPECHAT_PORT="8080", PIPECHAT_BIND="127.0.0.1",
                   PIPECHAT_WWW=str(CHECKOUT / "www"),
                   PIPECHAT_API_SOCKET=os.path.join(tmp, "api.sock"),
                   PIPECHAT_WS_PORT="9001", PIPECHAT_LIGHTTPD_DIR=str(LIGHTTPD_CONF.parent))
        p = subprocess.run(["lighttpd", "-tt", "-f", str(LIGHTTPD_CONF)], env=env,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


# -- lighttpd in action -----------------------------------------------------------------

@pytest.fixture(scope="module")
def lighttpd_stack(request):
    if os.environ.get("PIPECHAT_WEB", "lighttpd") == "lighttpd":
        return request.getfixturevalue("stack")
    return request.getfixturevalue("start_stack")(PIPECHAT_WEB="lighttpd")


@pytest.mark.parametrize("what", ["line", "header"])
@pytest.mark.parametrize("path", ["/api/health", "/"])
def test_lighttpd_own_431_is_json(lighttpd_stack, what, path):
    st = lighttpd_stack
    if what == "line":
        head = "GET %s?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (path, "a" * 20000)
    else:
        head = ("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n"
                % (path, "a" * 20000))
    raw = raw_http(st, head.encode())
    # lighttpd answers 431 for both (414 if a later version tells them apart).
    assert raw_status(raw) in (414, 431), raw[:400]
    h = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert re.search(r"(?im)^content-type:\s*application/json", h), h
    assert _check_error_body(json.dumps(raw_json_body(raw)), raw[:200]) == "too_large"
    assert_alive(st)


def test_lighttpd_static_pages_keep_html(lighttpd_stack):
    r = requests.get(lighttpd_stack.base_url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    r = requests.get(lighttpd_stack.base_url + "/docs/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")


def test_websocket_tunnels_may_stay_quiet_for_5_minutes():
    """Contract section 4: the shipped configurations allow 5 minutes of
    silence on a proxied socket (nginx and lighttpd both cut at 60 s by default)."""
    text = NGINX_LOCATIONS.read_text()
    ws = re.search(r"location = /ws \{(.*?)\n\}", text, re.S).group(1)
    for key in ("proxy_read_timeout", "proxy_send_timeout"):
        m = re.search(r"%s (\d+)s;" % key, ws)
        assert m and int(m.group(1)) >= 300, key
    assert "proxy_http_version 1.1;" in ws and "proxy_set_header Upgrade $http_upgrade;" in ws
    lt = LIGHTTPD_CONF.read_text()
    for key in ("server.max-read-idle", "server.max-write-idle"):
        m = re.search(r"(?m)^%s = (\d+)$" % re.escape(key), lt)
        assert m and int(m.group(1)) >= 300, key
