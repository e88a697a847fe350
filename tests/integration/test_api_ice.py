"""GET /api/config's ice_servers (contract section 3; docs/calls.md): the
STUN entry for everyone, a TURN entry with a short-lived coturn REST-API
credential (use-auth-secret) only for a signed-in user with a live session,
and no TURN (but still 200) when the database is down.
"""

import base64
import hashlib
import hmac
import os
import pwd
import shutil
import tempfile
import time

import pytest
import requests

from pclib import describe

STUN = "stun:stun.example.org:3478"
TURN = ["turn:turn.example.org:3478?transport=udp",
        "turns:turn.example.org:5349"]
TTL = 600
# The file ends with a newline, as `base64 > file` writes it; coturn's
# static-auth-secret (the HMAC key) is the line without it.
SECRET = b"cGlwZWNoYXQtdHVybi10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"


@pytest.fixture(scope="module")
def turn_secret_file():
    """A 0600 secret file the service user can read: in a 0755 folder of
    its own, owned by `pipechat` when the tests run as root."""
    folder = tempfile.mkdtemp(prefix="pipechat-turn-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "turn.secret")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(SECRET + b"\n")
    if os.getuid() == 0:
        pw = pwd.getpwnam("pipechat")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def ice_stack(start_stack, turn_secret_file):
    return start_stack(PIPECHAT_STUN_URLS=STUN,
                       PIPECHAT_TURN_URLS=" , ".join(TURN),
                       PIPECHAT_TURN_SECRET_FILE=turn_secret_file,
                       PIPECHAT_TURN_TTL=str(TTL))


def config(st, cookie=None):
    headers = {"Cookie": cookie} if cookie else {}
    r = requests.get(st.base_url + "/api/config", headers=headers, timeout=15)
    assert r.status_code == 200, describe(r)
    return r.json()["ice_servers"]


def assert_turn_entry(entry, user_id):
    assert set(entry) == {"urls", "username", "credential"}, entry
    assert entry["urls"] == TURN, entry
    expiry, uid = entry["username"].split(":")
    assert uid == str(user_id), entry
    left = int(expiry) - time.time()
    assert TTL - 60 <= left <= TTL + 5, entry
    want = base64.b64encode(hmac.new(SECRET, entry["username"].encode(),
                                     hashlib.sha1).digest()).decode()
    assert hmac.compare_digest(entry["credential"], want), entry


def test_anonymous_gets_only_stun(ice_stack):
    assert config(ice_stack) == [{"urls": [STUN]}]


def test_invalid_cookie_gets_only_stun(ice_stack):
    assert config(ice_stack, "access_token=garbage") == [{"urls": [STUN]}]
    assert config(ice_stack, "other=1") == [{"urls": [STUN]}]


def test_signed_in_user_gets_turn_credential(ice_stack, new_user):
    u = new_user("ice", stack=ice_stack)
    r = u.session.get("/api/config")
    assert r.status_code == 200, describe(r)
    got = r.json()
    assert got["limits"]["send_rate"] == 10, got
    servers = got["ice_servers"]
    assert len(servers) == 2, servers
    assert servers[0] == {"urls": [STUN]}, servers
    assert_turn_entry(servers[1], u.id)


def test_credentials_are_per_user(ice_stack, new_user):
    a = new_user("icea", stack=ice_stack)
    b = new_user("iceb", stack=ice_stack)
    ta = config(ice_stack, a.cookie_header)[1]
    tb = config(ice_stack, b.cookie_header)[1]
    assert_turn_entry(ta, a.id)
    assert_turn_entry(tb, b.id)
    assert ta["credential"] != tb["credential"]


def test_revoked_session_gets_only_stun(ice_stack, new_user):
    u = new_user("icer", stack=ice_stack)
    cookie = u.cookie_header
    assert len(config(ice_stack, cookie)) == 2
    r = u.session.post("/api/logout")
    assert r.status_code == 204, describe(r)
    assert config(ice_stack, cookie) == [{"urls": [STUN]}]


def test_default_stack_hands_out_no_ice_servers(stack, new_user):
    u = new_user("ice0")
    assert config(stack) == []
    assert config(stack, u.cookie_header) == []


@pytest.mark.disruptive
def test_database_down_still_answers_without_turn(ice_stack, new_user):
    u = new_user("iced", stack=ice_stack)
    assert len(config(ice_stack, u.cookie_header)) == 2
    ice_stack.svc("stop", "db")
    try:
        assert config(ice_stack, u.cookie_header) == [{"urls": [STUN]}]
        assert config(ice_stack) == [{"urls": [STUN]}]
    finally:
        ice_stack.svc("start", "db")
    for _ in range(50):
        if len(config(ice_stack, u.cookie_header)) == 2:
            break
        time.sleep(0.2)
    assert_turn_entry(config(ice_stack, u.cookie_header)[1], u.id)
