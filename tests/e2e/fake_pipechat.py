"""A scripted stand-in for pipechat's API and WebSocket, behind a real lighttpd
serving www/ with the production Content-Security-Policy.

For: browser tests of the web client's own logic — reconnect and resume with
`since`, the outbox resent with the same client_id, dedupe by seq, gap frames
filled over HTTP — which need a server that can be told to misbehave on cue
(drop every socket, refuse reconnects, swallow frames, post behind the
client's back). It follows contract sections 3 and 4 for what the client uses.
Not for: testing pipechat's server; the real stack (tests/conftest.py `stack`)
is what the phase tests use. Also handy by hand:
    /usr/bin/python3 tests/e2e/fake_pipechat.py   (prints the URL, Ctrl-C stops)
"""

import asyncio
import datetime
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http import HTTPStatus
from pathlib import Path

import websockets

CHECKOUT = Path(__file__).resolve().parents[2]
WWW = CHECKOUT / "www"

# The policy pipechat's web server configurations send (STYLE.md, "The web client").
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")


def now_iso():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the child: SIGTERM when the test process dies, so no lighttpd is left."""
    import ctypes
    import signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ApiFail(Exception):
    def __init__(self, status, code, message, field=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}


class State:
    """Users, sessions, rooms and messages. Guarded by .lock; frames to sockets
    are only ever queued from the event loop's thread (FakePipechat.call)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.users = {}        # id → dict
        self.sessions = {}     # token → user id
        self.rooms = {}        # id → dict(id, name, kind, members: {uid: role}, messages: [])
        self.keys = {}         # (uid, room, client_id) → ack frame
        self.failures = {}     # (login, address) → failed sign-ins
        self.next_user = 1
        self.next_room = 1
        self.next_msg = 1
        self.add_room("general", "public")

    def add_room(self, name, kind, owner=None):
        with self.lock:
            r = {"id": self.next_room, "name": name, "kind": kind, "members": {},
                 "messages": [], "read": {}}
            self.next_room += 1
            if owner is not None:
                r["members"][owner] = "owner"
            self.rooms[r["id"]] = r
            return r

    def user_by_login(self, name):
        name = name.lower()
        for u in self.users.values():
            if u["username"].lower() == name or u["email"].lower() == name:
                return u
        return None

    def can_read(self, uid, room):
        return room["kind"] == "public" or uid in room["members"]

    def room_json(self, room, uid):
        last = len(room["messages"])
        joined = uid in room["members"]
        read = room["read"].get(uid, 0)
        return {"id": room["id"], "name": room["name"], "kind": room["kind"],
                "member_count": len(room["members"]), "last_seq": last,
                "unread": max(0, last - read) if joined else 0, "joined": joined}

    def store(self, room, uid, body, client_id=None):
        """Appends a message; returns it."""
        with self.lock:
            u = self.users[uid]
            m = {"id": self.next_msg, "room": room["id"], "seq": len(room["messages"]) + 1,
                 "kind": "text", "user": {"id": uid, "username": u["username"]},
                 "body": body, "created_at": now_iso(), "edited_at": None, "deleted": False}
            self.next_msg += 1
            room["messages"].append(m)
            room["read"][uid] = m["seq"]
            return m


class Conn:
    def __init__(self, ws, uid, token):
        self.ws, self.uid, self.token = ws, uid, token
        self.rooms = set()
        self.queue = asyncio.Queue()


class FakePipechat:
    """start() → self with .base_url, .ws_url, .origin, .port; stop().

    Hooks for tests (all thread-safe):
      drop_sockets()          close every WebSocket (as a network drop would)
      refuse_ws = True        new WebSocket upgrades get 503 until set False
      swallow = True          frames from clients are read and ignored
      mute_sender = True      sends are stored and published to others, but the
                              sender's socket gets neither ack nor message
      send_error(username, code)  an error frame to every socket of username
      post(room_id, username, body, live=True)  a message from someone else;
                              live=False stores it without telling any socket
      frames_from(username)   every frame a user's sockets sent, in order
      make_user(username, password)  registers directly
    """

    def __init__(self, www=WWW):
        self.www = Path(www)
        self.state = State()
        self.refuse_ws = False
        self.swallow = False
        self.mute_sender = False
        self.conns = set()
        self.received = []     # (username, frame)
        self.history_calls = []  # (room, query) of every history request
        self.port = free_port()
        self.api_port = free_port()
        self.ws_port = free_port()
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.ws_url = "ws://127.0.0.1:%d/ws" % self.port
        self.origin = self.base_url
        self.loop = None
        self.tmp = None
        self.lighttpd = None

    # ---- life ----

    def start(self):
        ready = threading.Event()

        def run_loop():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.ws_server = self.loop.run_until_complete(websockets.serve(
                self.ws_handler, "127.0.0.1", self.ws_port,
                process_request=self.ws_precheck, max_size=2 ** 16))
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run_loop, daemon=True).start()
        ready.wait(10)

        fake = self

        class Handler(ApiHandler):
            app = fake

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.api_port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.start_lighttpd()
        return self

    def start_lighttpd(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="pipechat-fake-"))
        conf = self.tmp / "lighttpd.conf"
        conf.write_text(LIGHTTPD_CONF % {
            "www": self.www, "port": self.port, "api": self.api_port, "ws": self.ws_port,
            "log": self.tmp / "error.log", "csp": CSP.replace('"', '\\"')})
        self.lighttpd = subprocess.Popen(["/usr/sbin/lighttpd", "-D", "-f", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.lighttpd.poll() is not None:
                    raise RuntimeError("lighttpd failed: %s" % self.lighttpd.stderr.read().decode())
                time.sleep(0.05)
        raise RuntimeError("lighttpd did not start")

    def stop(self):
        if self.lighttpd:
            self.lighttpd.terminate()
            try:
                self.lighttpd.wait(5)
            except subprocess.TimeoutExpired:
                self.lighttpd.kill()
        self.httpd.shutdown()
        if self.loop:
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- hooks ----

    def call(self, fn, *args):
        """Runs fn(*args) on the event loop thread and returns its result."""
        async def wrap():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(10)

    def drop_sockets(self):
        async def close_all():
            for c in list(self.conns):
                await c.ws.close(code=1001)
        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(10)

    def make_user(self, username, password="password123", email=None):
        with self.state.lock:
            u = {"id": self.state.next_user, "username": username,
                 "email": email or "%s@example.com" % username.lower(),
                 "password": password, "created_at": now_iso()}
            self.state.next_user += 1
            self.state.users[u["id"]] = u
            return u

    def room_by_name(self, name):
        with self.state.lock:
            for r in self.state.rooms.values():
                if r["name"].lower() == name.lower():
                    return r
        return None

    def post(self, room_id, username, body, live=True):
        """A message from username (created if new) in room_id; returns its seq."""
        def do():
            st = self.state
            u = st.user_by_login(username) or self.make_user(username)
            room = st.rooms[room_id]
            room["members"].setdefault(u["id"], "member")
            m = st.store(room, u["id"], body)
            if live:
                self.publish(room, dict(m, type="message"))
            return m["seq"]
        return self.call(do)

    def send_error(self, username, code, message="test"):
        def do():
            for c in self.conns:
                if self.state.users[c.uid]["username"] == username:
                    c.queue.put_nowait(err(code, message, None))
        self.call(do)

    def frames_from(self, username):
        return [f for (u, f) in list(self.received) if u == username]

    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.05)
        return False

    # ---- WebSocket ----

    def token_from(self, headers):
        cookie = headers.get("Cookie", "")
        for part in cookie.split(";"):
            k, _, v = part.strip().partition("=")
            if k == "access_token":
                return v
        return None

    async def ws_precheck(self, path, headers):
        if self.refuse_ws:
            return (HTTPStatus.SERVICE_UNAVAILABLE, [], b"refused by test\n")
        origin = headers.get("Origin")
        if origin and origin not in (self.base_url, "http://localhost:%d" % self.port):
            return (HTTPStatus.FORBIDDEN, [], b"forbidden origin\n")
        return None

    def publish(self, room, frame, skip=None):
        for c in self.conns:
            if room["id"] in c.rooms and c is not skip:
                c.queue.put_nowait(frame)

    async def ws_handler(self, ws, path=None):
        token = self.token_from(ws.request_headers)
        with self.state.lock:
            uid = self.state.sessions.get(token)
        if uid is None:
            await ws.send(json.dumps({"type": "error", "code": "unauthenticated",
                                      "message": "Sign in first.", "ref": None}))
            await ws.close()
            return
        conn = Conn(ws, uid, token)
        self.conns.add(conn)
        u = self.state.users[uid]
        conn.queue.put_nowait({"type": "hello", "user": {"id": uid, "username": u["username"]},
                               "session": token[:8]})
        writer = asyncio.ensure_future(self.ws_writer(conn))
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    conn.queue.put_nowait(err("bad_json", "Not JSON.", None))
                    continue
                self.received.append((u["username"], frame))
                if self.swallow:
                    continue
                if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                    conn.queue.put_nowait(err("invalid", "No type.", None, field="type"))
                    continue
                h = WS_COMMANDS.get(frame["type"])
                if h is None:
                    conn.queue.put_nowait(err("unknown_type", "Unknown type.", frame["type"]))
                    continue
                with self.state.lock:
                    h(self, conn, frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.conns.discard(conn)
            writer.cancel()
            with self.state.lock:
                for rid in conn.rooms:
                    if not any(c.uid == conn.uid and rid in c.rooms for c in self.conns):
                        self.presence(self.state.rooms[rid], conn.uid, False)

    async def ws_writer(self, conn):
        try:
            while True:
                f = await conn.queue.get()
                await conn.ws.send(json.dumps(f))
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass

    def cmd_join(self, conn, f):
        st = self.state
        room = st.rooms.get(f.get("room"))
        if room is None or not st.can_read(conn.uid, room):
            conn.queue.put_nowait(err("not_found", "No such room.", "join", room=f.get("room")))
            return
        if conn.uid not in room["members"]:
            if room["kind"] != "public":
                conn.queue.put_nowait(err("not_member", "Not a member.", "join", room=room["id"]))
                return
            room["members"][conn.uid] = "member"
        last = len(room["messages"])
        since = f.get("since")
        if since is not None and (not isinstance(since, int) or since < 0 or since > last):
            conn.queue.put_nowait(err("bad_since", "Bad since.", "join"))
            return
        first = not any(c.uid == conn.uid and room["id"] in c.rooms for c in self.conns)
        conn.rooms.add(room["id"])
        if first:
            self.presence(room, conn.uid, True, skip=conn)
        online = sorted({c.uid for c in self.conns if room["id"] in c.rooms})
        conn.queue.put_nowait({"type": "joined", "room": room["id"], "last_seq": last,
                               "online": [{"id": i, "username": st.users[i]["username"]}
                                          for i in online]})
        if since is not None and since < last:
            first = since + 1
            if last - since > 500:
                conn.queue.put_nowait({"type": "gap", "room": room["id"],
                                       "from": since + 1, "to": last - 500})
                first = last - 500 + 1
            for m in room["messages"][first - 1:]:
                conn.queue.put_nowait(dict(m, type="message"))

    def presence(self, room, uid, online, skip=None):
        u = self.state.users[uid]
        self.publish(room, {"type": "presence", "room": room["id"], "online": online,
                            "user": {"id": uid, "username": u["username"]}}, skip=skip)

    def cmd_leave(self, conn, f):
        conn.rooms.discard(f.get("room"))

    def cmd_send(self, conn, f):
        st = self.state
        room = st.rooms.get(f.get("room"))
        cid = f.get("client_id")
        if not isinstance(cid, str) or not 1 <= len(cid) <= 64:
            conn.queue.put_nowait(err("invalid", "client_id is required.", "send", field="client_id"))
            return
        if room is None or conn.uid not in room["members"]:
            conn.queue.put_nowait(err("not_member", "Join the room first.", cid))
            return
        body = f.get("body")
        if not isinstance(body, str) or not body.strip() or len(body) > 4000:
            conn.queue.put_nowait(err("bad_body", "Bad body.", cid))
            return
        key = (conn.uid, room["id"], cid)
        if key in st.keys:
            conn.queue.put_nowait(st.keys[key])
            return
        m = st.store(room, conn.uid, body, cid)
        ack = {"type": "ack", "client_id": cid, "id": m["id"], "room": room["id"],
               "seq": m["seq"], "created_at": m["created_at"]}
        st.keys[key] = ack
        if self.mute_sender:
            # Stored, but the sender's socket hears nothing: a lost ack.
            self.publish(room, dict(m, type="message"), skip=conn)
            return
        conn.queue.put_nowait(ack)
        self.publish(room, dict(m, type="message"))

    def cmd_typing(self, conn, f):
        room = self.state.rooms.get(f.get("room"))
        if room and conn.uid in room["members"]:
            u = self.state.users[conn.uid]
            self.publish(room, {"type": "typing", "room": room["id"],
                                "user": {"id": u["id"], "username": u["username"]}}, skip=conn)

    def cmd_read(self, conn, f):
        room = self.state.rooms.get(f.get("room"))
        if room and conn.uid in room["members"] and isinstance(f.get("seq"), int):
            room["read"][conn.uid] = max(room["read"].get(conn.uid, 0),
                                         min(f["seq"], len(room["messages"])))

    def cmd_ping(self, conn, f):
        conn.queue.put_nowait({"type": "pong"})


def err(code, message, ref, field=None, room=None):
    f = {"type": "error", "code": code, "message": message, "ref": ref}
    if field:
        f["field"] = field
    if room is not None:
        f["room"] = room
    return f


WS_COMMANDS = {
    "join": FakePipechat.cmd_join,
    "leave": FakePipechat.cmd_leave,
    "send": FakePipechat.cmd_send,
    "typing": FakePipechat.cmd_typing,
    "read": FakePipechat.cmd_read,
    "ping": FakePipechat.cmd_ping,
}


class ApiHandler(http.server.BaseHTTPRequestHandler):
    app = None  # set by FakePipechat.start
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # ---- plumbing ----

    def reply(self, status, obj=None, headers=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            raise ApiFail(415, "unsupported_media_type", "Send JSON.")
        try:
            obj = json.loads(raw)
        except ValueError:
            raise ApiFail(400, "bad_json", "The body is not JSON.")
        if not isinstance(obj, dict):
            raise ApiFail(422, "invalid", "The body must be an object.")
        return obj

    def user(self):
        token = self.app.token_from(self.headers)
        with self.app.state.lock:
            uid = self.app.state.sessions.get(token)
        if uid is None:
            raise ApiFail(401, "unauthenticated", "Sign in first.")
        return uid, token

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(url.query))
        try:
            for m, pattern, fn in ROUTES:
                match = re.fullmatch(pattern, url.path)
                if match and m == method:
                    status, obj, headers = fn(self, *[int(g) for g in match.groups()])
                    self.reply(status, obj, headers)
                    return
            raise ApiFail(404, "not_found", "No such endpoint.")
        except ApiFail as e:
            self.reply(e.status, {"error": {"code": e.code, "message": e.message,
                                            "field": e.field}}, e.headers)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # ---- endpoints ----

    def register(self):
        b = self.body()
        name, email, pw = b.get("username"), b.get("email"), b.get("password")
        if not isinstance(name, str) or not USERNAME_RE.match(name):
            raise ApiFail(422, "invalid", "Usernames are 3–32 letters, digits, _ . or -.", "username")
        if not isinstance(email, str) or "@" not in email:
            raise ApiFail(422, "invalid", "That is not an email address.", "email")
        if not isinstance(pw, str) or len(pw.encode()) < 8:
            raise ApiFail(422, "invalid", "Passwords have at least 8 characters.", "password")
        st = self.app.state
        with st.lock:
            if st.user_by_login(name):
                raise ApiFail(409, "conflict", "That username is taken.", "username")
            if st.user_by_login(email):
                raise ApiFail(409, "conflict", "That email is already registered.", "email")
            u = self.app.make_user(name, pw, email)
        return 201, {k: u[k] for k in ("id", "username", "email", "created_at")}, None

    def login(self):
        b = self.body()
        name, pw = b.get("username"), b.get("password")
        if not isinstance(name, str) or not isinstance(pw, str):
            raise ApiFail(422, "invalid", "username and password are required.", "username")
        st = self.app.state
        addr = (self.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        pair = (name.lower(), addr)
        with st.lock:
            if st.failures.get(pair, 0) >= 5:
                raise ApiFail(429, "too_many_attempts", "Too many failed sign-ins.",
                              headers={"Retry-After": "900"})
            u = st.user_by_login(name)
            if not u or u["password"] != pw:
                st.failures[pair] = st.failures.get(pair, 0) + 1
                raise ApiFail(401, "invalid_credentials", "Wrong username or password.")
            st.failures.pop(pair, None)
            token = secrets.token_urlsafe(24)
            st.sessions[token] = u["id"]
        cookie = "access_token=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400" % token
        return 200, {"id": u["id"], "username": u["username"]}, {"Set-Cookie": cookie}

    def logout(self):
        uid, token = self.user()
        with self.app.state.lock:
            self.app.state.sessions.pop(token, None)

        def kick():
            for c in list(self.app.conns):
                if c.token == token:
                    c.queue.put_nowait(err("session_revoked", "Signed out.", None))
        self.app.call(kick)
        return 204, None, {"Set-Cookie": "access_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"}

    def me(self):
        uid, _ = self.user()
        u = self.app.state.users[uid]
        return 200, {k: u[k] for k in ("id", "username", "email", "created_at")}, None

    def config(self):
        return 200, {"limits": {"max_rooms_per_socket": 100, "send_rate": 10}, "ice_servers": []}, None

    def rooms(self):
        uid, _ = self.user()
        limit = int(self.query.get("limit", 50))
        after = int(self.query.get("after", 0))
        st = self.app.state
        with st.lock:
            vis = [r for r in sorted(st.rooms.values(), key=lambda r: r["id"])
                   if r["id"] > after and st.can_read(uid, r)]
            page = vis[:limit]
            out = [st.room_json(r, uid) for r in page]
        nxt = page[-1]["id"] if len(vis) > limit else None
        return 200, {"rooms": out, "next": nxt}, None

    def create_room(self):
        uid, _ = self.user()
        b = self.body()
        name = (b.get("name") or "").strip() if isinstance(b.get("name"), str) else ""
        kind = b.get("kind")
        if not 1 <= len(name) <= 64:
            raise ApiFail(422, "invalid", "Room names are 1–64 characters.", "name")
        if kind not in ("public", "private"):
            raise ApiFail(422, "invalid", "kind is public or private.", "kind")
        st = self.app.state
        with st.lock:
            if kind == "public" and any(r["kind"] == "public" and r["name"].lower() == name.lower()
                                        for r in st.rooms.values()):
                raise ApiFail(409, "conflict", "A public room has that name.", "name")
            r = st.add_room(name, kind, owner=uid)
            return 201, st.room_json(r, uid), None

    def visible_room(self, uid, rid):
        r = self.app.state.rooms.get(rid)
        if r is None or not self.app.state.can_read(uid, r):
            raise ApiFail(404, "not_found", "No such room.")
        return r

    def get_room(self, rid):
        uid, _ = self.user()
        with self.app.state.lock:
            return 200, self.app.state.room_json(self.visible_room(uid, rid), uid), None

    def join(self, rid):
        uid, _ = self.user()
        with self.app.state.lock:
            r = self.visible_room(uid, rid)
            if r["kind"] != "public":
                raise ApiFail(404, "not_found", "No such room.")
            r["members"].setdefault(uid, "member")
        return 204, None, None

    def history(self, rid):
        uid, _ = self.user()
        q = self.query
        limit = int(q.get("limit", 50))
        if not 1 <= limit <= 200 or ("before" in q and "after" in q):
            raise ApiFail(422, "invalid", "Bad paging.", "limit")
        with self.app.state.lock:
            msgs = self.visible_room(uid, rid)["messages"]
            if "after" in q:
                a = int(q["after"])
                page = msgs[a:a + limit]
                more = len(msgs) > a + limit
            else:
                b = int(q["before"]) if "before" in q else len(msgs) + 1
                lo = max(0, b - 1 - limit)
                page = msgs[lo:b - 1]
                more = lo > 0
            self.app.history_calls.append((rid, dict(q)))
            return 200, {"messages": [dict(m) for m in page], "has_more": more}, None

    def read(self, rid):
        uid, _ = self.user()
        b = self.body()
        with self.app.state.lock:
            r = self.visible_room(uid, rid)
            r["read"][uid] = max(r["read"].get(uid, 0), min(int(b.get("seq", 0)), len(r["messages"])))
        return 204, None, None

    def invites(self):
        self.user()
        return 200, {"invites": []}, None



ROUTES = [
    ("POST", r"/api/register", ApiHandler.register),
    ("POST", r"/api/login", ApiHandler.login),
    ("POST", r"/api/logout", ApiHandler.logout),
    ("GET", r"/api/me", ApiHandler.me),
    ("GET", r"/api/config", ApiHandler.config),
    ("GET", r"/api/rooms", ApiHandler.rooms),
    ("POST", r"/api/rooms", ApiHandler.create_room),
    ("GET", r"/api/rooms/(\d+)", ApiHandler.get_room),
    ("POST", r"/api/rooms/(\d+)/join", ApiHandler.join),
    ("GET", r"/api/rooms/(\d+)/messages", ApiHandler.history),
    ("POST", r"/api/rooms/(\d+)/read", ApiHandler.read),
    ("GET", r"/api/invites", ApiHandler.invites),
]

LIGHTTPD_CONF = """
server.modules = ("mod_access", "mod_setenv", "mod_proxy")
server.document-root = "%(www)s"
server.bind = "127.0.0.1"
server.port = %(port)d
server.errorlog = "%(log)s"
server.max-read-idle = 300
server.max-write-idle = 300
index-file.names = ("index.html")
mimetype.assign = (
	".html" => "text/html; charset=utf-8",
	".js" => "text/javascript; charset=utf-8",
	".mjs" => "text/javascript; charset=utf-8",
	".css" => "text/css; charset=utf-8",
	".svg" => "image/svg+xml",
	".png" => "image/png",
	".ico" => "image/x-icon",
	".json" => "application/json",
)
setenv.set-response-header = (
	"Content-Security-Policy" => "%(csp)s",
	"X-Content-Type-Options" => "nosniff",
	"Referrer-Policy" => "same-origin",
)
$HTTP["url"] =~ "^/api/" {
	proxy.server = ("" => (("host" => "127.0.0.1", "port" => %(api)d)))
}
$HTTP["url"] =~ "^/ws" {
	proxy.server = ("" => (("host" => "127.0.0.1", "port" => %(ws)d)))
	proxy.header = ("upgrade" => "enable")
}
"""


if __name__ == "__main__":
    fake = FakePipechat().start()
    fake.make_user("alice", "password123")
    fake.make_user("bob", "password123")
    print("fake pipechat at %s (alice / bob, password123); Ctrl-C stops" % fake.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
