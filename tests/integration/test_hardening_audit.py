"""The worker's audit trail (ws-worker/audit.h, docs/security.md): one logfmt
line per event in log/ws.log -- connect with user, session, client address
and pid; join; leave; each send with its message id; refused input with its
code; disconnect with its reason -- and never a body, a cookie or a token.

Also the helpers the other test_hardening_* modules use: audit_lines(),
worker_pid(), wait_for().
"""

import asyncio
import re
import time

import websockets

from pclib import random_address
from test_ws_client import NOISE, WS, make_room, run

# One logfmt pair: key=value or key="quoted \" value".
_PAIR = re.compile(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_audit(line):
    """The pairs of one audit line (the text after 'audit '), as a dict,
    or None when the line is not an audit line. websocketd writes each
    stderr line after its own '... | ERROR | stderr | ... | ' prefix."""
    i = line.find("| audit ts=")
    if i >= 0:
        text = line[i + 2:]
    elif line.startswith("audit ts="):
        text = line
    else:
        return None
    out = {}
    for k, v in _PAIR.findall(text[len("audit "):]):
        if v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[k] = v
    return out


def audit_lines(stack, **match):
    """Every audit event of the stack's ws.log whose pairs include match."""
    out = []
    for line in stack.log("ws").splitlines():
        a = parse_audit(line)
        if a is not None and all(a.get(k) == str(v) for k, v in match.items()):
            out.append(a)
    return out


def wait_for(fn, timeout=10, what="condition"):
    """Polls fn() until it returns something true; returns that."""
    end = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError("no %s within %ss" % (what, timeout))
        time.sleep(0.1)


def worker_pid(stack, user, session=None, timeout=10):
    """The pid of the newest worker that said connect for user (a pclib.User
    or a user id)."""
    uid = getattr(user, "id", user)
    match = {"event": "connect", "user": uid}
    if session is not None:
        match["session"] = session
    lines = wait_for(lambda: audit_lines(stack, **match), timeout,
                     "connect line for user %s" % uid)
    return int(lines[-1]["pid"])


def events_of(stack, pid):
    """The audit events of one worker, in order."""
    return audit_lines(stack, pid=pid)


def finished_events(stack, pid):
    """The events of one worker once its disconnect line is written."""
    def done():
        ev = events_of(stack, pid)
        return ev if ev and ev[-1]["event"] == "disconnect" else None
    return wait_for(done, what="disconnect line of worker %s" % pid)


async def open_ws(stack, user=None, origin="default", headers=None,
                  max_queue=1024, **kw):
    """Like WS.open, with extra request headers (X-Forwarded-For)."""
    h = dict(headers or {})
    if user is not None:
        h["Cookie"] = user.cookie_header
    conn = await websockets.connect(
        stack.ws_url, origin=(stack.origin if origin == "default" else origin),
        extra_headers=h, max_size=None, ping_interval=None, max_queue=max_queue,
        open_timeout=10, close_timeout=2, **kw)
    return WS(conn)


async def hello_ws(stack, user, headers=None, **kw):
    """open_ws, then the hello frame, checked."""
    ws = await open_ws(stack, user, headers=headers, **kw)
    h = await ws.recv(timeout=10)
    assert h["type"] == "hello" and h["user"]["id"] == user.id, h
    return ws


def test_audit_trail_of_a_session(stack, new_user):
    """connect (with the client's address), join, send with id, refused
    with code, leave, disconnect: in order, with user and session on each."""
    addr = random_address()
    u = new_user(addr=addr)
    room = make_room(u)
    body = "audit-secret-body-%d" % time.time_ns()

    async def scenario():
        ws = await hello_ws(stack, u, headers={"X-Forwarded-For": addr})
        await ws.join(room)
        ack = await ws.send_msg(room, body)
        await ws.expect("message")
        await ws.send("this is not json")
        await ws.expect_error("bad_json")
        await ws.send({"type": "send", "room": room, "body": "x"})
        await ws.expect_error("invalid", field="client_id")
        await ws.send({"type": "leave", "room": room})
        await ws.send({"type": "ping"})
        await ws.expect("pong", skip=NOISE + ("removed",))
        await ws.close()
        return ack
    ack = run(scenario())
    pid = worker_pid(stack, u)
    ev = finished_events(stack, pid)
    names = [e["event"] for e in ev]
    assert names == ["connect", "join", "send", "refused", "refused",
                     "leave", "disconnect"], ev
    session = ev[0]["session"]
    assert session and ev[0]["addr"] == addr and ev[0]["mode"] == "json", ev[0]
    for e in ev:
        assert e["user"] == str(u.id) and e["session"] == session, e
        assert e["pid"] == str(pid) and re.match(
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["ts"]), e
    assert ev[1]["room"] == str(room) and ev[1]["last_seq"] == "0", ev[1]
    assert ev[2] == dict(ev[2], room=str(room), seq=str(ack["seq"]),
                         id=str(ack["id"])), ev[2]
    assert ev[3]["code"] == "bad_json", ev[3]
    assert ev[4]["code"] == "invalid" and ev[4]["field"] == "client_id", ev[4]
    assert ev[5]["room"] == str(room) and ev[5]["by"] == "client", ev[5]
    assert ev[6]["reason"] == "client_closed" and ev[6]["refused"] == "2", ev[6]
    # Never a body, the cookie or the token, anywhere in the log.
    log = stack.log("ws")
    assert body not in log
    assert u.token not in log and "access_token" not in log


def test_audit_rejects_before_a_user(stack, new_user):
    """A foreign Origin and a missing cookie: reject with the code, then
    disconnect with it as the reason; no user on either line."""
    u = new_user()
    addr = random_address()

    async def scenario():
        ws = await open_ws(stack, u, origin="http://evil.example",
                           headers={"X-Forwarded-For": addr})
        f = await ws.recv()
        assert f["code"] == "forbidden_origin", f
        await ws.closed_within(3)
        ws = await open_ws(stack, None, headers={"X-Forwarded-For": addr})
        f = await ws.recv()
        assert f["code"] == "unauthenticated", f
        await ws.closed_within(3)
    run(scenario())
    rejects = wait_for(lambda: len(audit_lines(stack, event="reject", addr=addr)) >= 2
                       and audit_lines(stack, event="reject", addr=addr),
                       what="two reject lines")
    assert [r["code"] for r in rejects] == ["forbidden_origin", "unauthenticated"], rejects
    for r in rejects:
        assert "user" not in r, r
        ev = finished_events(stack, r["pid"])
        assert [e["event"] for e in ev] == ["reject", "disconnect"], ev
        assert ev[1]["reason"] == r["code"], ev


def test_audit_revoked_session_reason(stack, new_user):
    """Logout closes the socket; its disconnect line says why."""
    u = new_user()

    async def scenario():
        ws = await WS.hello(stack, u)
        loop = asyncio.get_running_loop()
        r = await loop.run_in_executor(None, u.session.post, "/api/logout")
        assert r.status_code == 204
        await ws.closed_within(3)
    run(scenario())
    ev = finished_events(stack, worker_pid(stack, u))
    assert ev[-1]["reason"] == "session_revoked", ev


def test_audit_forged_address_not_believed(plain_stack, new_user):
    """With no trusted proxy, a client's X-Forwarded-For is not its address:
    the audit has the address the web server saw."""
    u = new_user(stack=plain_stack)
    forged = random_address()

    async def scenario():
        ws = await hello_ws(plain_stack, u, headers={"X-Forwarded-For": forged})
        await ws.close()
    run(scenario())
    pid = worker_pid(plain_stack, u)
    ev = audit_lines(plain_stack, event="connect", pid=pid)
    assert ev[0]["addr"] == "127.0.0.1", ev


def test_audit_refused_lines_bounded(stack, new_user):
    """A client that sends junk as fast as it can gets an error for every
    frame, but the log takes at most 20 refused lines per 10 s from it;
    the disconnect line has the totals."""
    u = new_user()
    n = 300

    async def scenario():
        ws = await WS.hello(stack, u)
        for _ in range(n):
            await ws.send("x")
        for _ in range(n):
            f = await ws.expect("error", timeout=10)
            assert f["code"] == "bad_json", f
        await ws.close()
    run(scenario())
    ev = finished_events(stack, worker_pid(stack, u))
    refused = [e for e in ev if e["event"] == "refused"]
    assert len(refused) == 20, len(refused)
    assert ev[-1]["refused"] == str(n) and ev[-1]["unlogged"] == str(n - 20), ev[-1]
