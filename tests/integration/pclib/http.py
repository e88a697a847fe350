"""HTTP helpers for talking to a running Stack as real clients do: sessions
that pose as their own client address (X-Forwarded-For, honoured because the
test stack trusts 127.0.0.1 as a proxy), registered users, exact checks of
pipechat's error shape, and a raw socket for requests `requests` refuses to send.
"""

import json
import re
import socket
import uuid
from dataclasses import dataclass, field as dc_field

import requests

from .stack import random_address

# created_at and every other timestamp: RFC 3339 UTC with milliseconds.
RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class _Any:
    def __repr__(self):
        return "ANY"


ANY = _Any()


class PCSession(requests.Session):
    """A requests.Session bound to one stack: relative URLs ("/api/me") go to
    stack.base_url, every request carries X-Forwarded-For: addr (a fresh
    random address unless given) and, when given, Origin; default timeout 15 s.
    Cookies (access_token) are kept as a browser would."""

    def __init__(self, stack, addr=None, origin=None, timeout=15):
        super().__init__()
        self.stack = stack
        self.addr = addr or random_address()
        self.timeout = timeout
        self.headers["X-Forwarded-For"] = self.addr
        if origin:
            self.headers["Origin"] = origin

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.stack.base_url + url
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    @property
    def token(self):
        """The access_token cookie this session holds, or None."""
        for c in self.cookies:
            if c.name == "access_token":
                return c.value
        return None


def make_client(stack, addr=None, origin=None):
    """A new PCSession on stack (see PCSession)."""
    return PCSession(stack, addr=addr, origin=origin)


def unique_name(prefix="u"):
    """A valid username never used before: <prefix>_<12 hex>, at most 32 bytes."""
    return "%s_%s" % (prefix[:19], uuid.uuid4().hex[:12])


def unique_email(name=None):
    return "%s@example.com" % (name or uuid.uuid4().hex[:16])


@dataclass
class User:
    """A registered, signed-in user. session is a PCSession holding the
    access_token cookie; token is that cookie's value (a JWT); addr is the
    client address the user registered and signed in from."""
    stack: object
    session: PCSession
    id: int
    username: str
    email: str
    password: str
    token: str
    addr: str
    created_at: str = ""
    extra: dict = dc_field(default_factory=dict)

    @property
    def cookie_header(self):
        """"access_token=<jwt>", for a Cookie header (e.g. a WebSocket upgrade)."""
        return "access_token=" + self.token

    def login(self, addr=None):
        """Opens another session for this user (a new PCSession from addr, by
        default this user's own address); returns the session, whose .token
        is the new cookie."""
        s = PCSession(self.stack, addr=addr or self.addr)
        r = s.post("/api/login", json={"username": self.username, "password": self.password})
        assert r.status_code == 200, describe(r)
        assert s.token, describe(r)
        return s


def make_user(stack, prefix="u", addr=None, password=None):
    """Registers a unique user on stack and signs it in; returns a User."""
    s = PCSession(stack, addr=addr)
    name = unique_name(prefix)
    email = unique_email(name)
    password = password or "pw-" + uuid.uuid4().hex
    r = s.post("/api/register", json={"username": name, "email": email, "password": password})
    assert r.status_code == 201, describe(r)
    reg = r.json()
    r = s.post("/api/login", json={"username": name, "password": password})
    assert r.status_code == 200, describe(r)
    token = s.token
    assert token, "login set no access_token cookie: " + describe(r)
    return User(stack=stack, session=s, id=reg.get("id"), username=name, email=email,
                password=password, token=token, addr=s.addr,
                created_at=reg.get("created_at", ""))


def describe(resp):
    """One readable paragraph about a response and its request, for asserts."""
    req = resp.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:300]
    elif isinstance(body, str):
        body = body[:300]
    hdrs = {k: v for k, v in req.headers.items()
            if k in ("Origin", "X-Forwarded-For", "X-Forwarded-Proto", "Content-Type",
                     "Content-Length")}
    return "%s %s %s body=%r -> %d %s %r" % (
        req.method, req.url, hdrs, body, resp.status_code,
        dict(resp.headers), resp.text[:600])


def assert_error(resp, status, code, field=ANY):
    """Checks that resp is exactly pipechat's error: the status, a JSON
    content type, and a body {"error": {"code", "message", "field"}} with
    nothing else, code as given, message a non-empty string, field a string or
    null (and equal to `field` unless ANY). Returns the error object."""
    ctx = describe(resp)
    assert resp.status_code == status, ctx
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", ctx
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError("error body is not JSON: " + ctx) from None
    assert isinstance(body, dict) and set(body) == {"error"}, ctx
    err = body["error"]
    assert isinstance(err, dict) and set(err) == {"code", "message", "field"}, ctx
    assert err["code"] == code, ctx
    assert isinstance(err["message"], str) and err["message"].strip(), ctx
    assert err["field"] is None or isinstance(err["field"], str), ctx
    if field is not ANY:
        assert err["field"] == field, ctx
    return err


def assert_retry_after(resp):
    """A 429 must carry Retry-After: whole seconds, at least 1. Returns them."""
    v = resp.headers.get("Retry-After")
    assert v is not None and v.strip().isdigit(), "no Retry-After: " + describe(resp)
    secs = int(v)
    assert secs >= 1, describe(resp)
    return secs


def assert_alive(stack):
    """GET /api/health answers 200 {"ok": true}: the stack still serves."""
    r = requests.get(stack.base_url + "/api/health", timeout=10)
    assert r.status_code == 200, describe(r)
    assert r.json() == {"ok": True}, describe(r)


def set_cookie_lines(resp):
    """Every Set-Cookie header of resp, unmerged."""
    return resp.raw.headers.getlist("Set-Cookie")


def cookie_attrs(resp, name="access_token"):
    """The Set-Cookie for `name` as a dict: "value" and each attribute by its
    lower-case name (value, or True for flags such as httponly); None if the
    response sets no such cookie."""
    for line in set_cookie_lines(resp):
        parts = [p.strip() for p in line.split(";")]
        k, _, v = parts[0].partition("=")
        if k.strip() != name:
            continue
        attrs = {"value": v.strip()}
        for p in parts[1:]:
            if not p:
                continue
            ak, eq, av = p.partition("=")
            attrs[ak.strip().lower()] = av.strip() if eq else True
        return attrs
    return None


def raw_http(stack, data, read_timeout=5.0, chunks=None, linger=0.0):
    """Sends bytes on a fresh TCP connection to the stack's web server and
    returns every byte read until the server closes or read_timeout passes
    without data. Send errors (the server gave up on us) are ignored."""
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=10)
    got = b""
    try:
        try:
            s.sendall(data)
            for c in chunks or ():
                s.sendall(c)
        except OSError:
            pass
        s.settimeout(read_timeout)
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not b:
                break
            got += b
    finally:
        s.close()
    return got


def raw_status(raw):
    """The status code of the first HTTP response in raw bytes, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


def raw_json_body(raw):
    """The body of the first response in raw (assumes Content-Length), parsed."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = rest[:int(m.group(1))] if m else rest
    return json.loads(body)
