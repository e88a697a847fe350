"""The session cookie and its token (contract section 3, "Session cookie and
token"), logout and logout-all, and which client address and scheme a
session is recorded with (trusted proxy or not).
"""

import time
import uuid

import pytest

from pclib import (PCSession, assert_alive, assert_error, cookie_attrs, describe, jwt,
                   make_user, random_address)


def login(c, u):
    return c.post("/api/login", json={"username": u.username, "password": u.password})


def me_with(c, token):
    return c.get("/api/me", headers={"Cookie": "access_token=" + token})


# -- the cookie -------------------------------------------------------------------

def test_login_cookie_attributes_over_plain_http(new_user, client):
    u = new_user("ck")
    r = login(client(), u)
    assert r.status_code == 200, describe(r)
    a = cookie_attrs(r)
    assert a is not None, describe(r)
    assert a["value"], a
    assert a.get("httponly") is True, a
    assert str(a.get("samesite", "")).lower() == "lax", a
    assert a.get("path") == "/", a
    assert a.get("max-age") == "86400", a
    assert "secure" not in a, a
    assert "domain" not in a, a


def test_login_cookie_is_secure_when_trusted_proxy_says_https(new_user, client):
    u = new_user("sec")
    r = client().post("/api/login", json={"username": u.username, "password": u.password},
                      headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200, describe(r)
    a = cookie_attrs(r)
    assert a.get("secure") is True, a
    assert a.get("httponly") is True and a.get("max-age") == "86400", a


def test_api_answers_are_json_and_not_cached(new_user):
    u = new_user("hdr")
    for path in ("/api/me", "/api/health", "/api/config", "/api/nope"):
        r = u.session.get(path)
        assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", describe(r)
        assert "no-store" in r.headers.get("Cache-Control", ""), describe(r)


# -- the token ----------------------------------------------------------------------

def test_token_is_hs256_with_the_promised_claims(stack, new_user):
    u = new_user("jwt")
    header, claims, sig = jwt.decode(u.token)
    assert header.get("alg") == "HS256", header
    assert len(sig) == 32
    assert isinstance(claims.get("sub"), str) and claims["sub"] == str(u.id), claims
    assert claims.get("name") == u.username, claims
    assert isinstance(claims.get("sid"), str) and claims["sid"], claims
    for k in ("iat", "exp"):
        assert isinstance(claims.get(k), int) and not isinstance(claims[k], bool), claims
    assert claims["exp"] - claims["iat"] == 86400, claims
    assert abs(claims["iat"] - time.time()) < 120, claims
    rows = stack.psql("SELECT user_id, revoked_at IS NULL FROM sessions WHERE id::text = '%s'"
                      % claims["sid"].replace("'", ""))
    assert rows == [[str(u.id), "t"]], rows


def test_secret_file_is_private_and_long(stack):
    p = stack.secret_path()
    st = p.stat()
    assert st.st_mode & 0o077 == 0, oct(st.st_mode)
    assert st.st_size >= 32


def test_token_signed_by_us_with_the_real_secret_is_accepted(stack, new_user, client):
    # The control for the forgeries below: our own HS256 signing is right,
    # so when they are refused it is for the reason each one names.
    u = new_user("ctl")
    header, claims, _ = jwt.decode(u.token)
    tok = jwt.sign({"alg": "HS256", "typ": "JWT"}, claims, stack.secret())
    r = me_with(client(), tok)
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == u.id


def _forgeries(stack, u):
    header, claims, _ = jwt.decode(u.token)
    key = stack.secret()
    now = int(time.time())
    past = dict(claims, iat=now - 7200, exp=now - 3600)
    no_exp = {k: v for k, v in claims.items() if k != "exp"}
    return {
        "alg_none": jwt.sign({"alg": "none", "typ": "JWT"}, claims, b""),
        "alg_none_with_sig": jwt.sign({"alg": "none"}, claims, b"") + "c2ln",
        "hs512_guessed_key": jwt.sign({"alg": "HS512", "typ": "JWT"}, claims, b"secret"),
        "hs256_guessed_key": jwt.sign({"alg": "HS256", "typ": "JWT"}, claims, b"secret"),
        "hs256_empty_key": jwt.sign({"alg": "HS256", "typ": "JWT"}, claims, b""),
        "tampered_sub": jwt.replace_claims(u.token, sub=str(u.id + 1)),
        "tampered_exp": jwt.replace_claims(u.token, exp=claims["exp"] + 86400 * 365),
        "expired_right_key": jwt.sign({"alg": "HS256", "typ": "JWT"}, past, key),
        "no_exp_right_key": jwt.sign({"alg": "HS256", "typ": "JWT"}, no_exp, key),
        "string_exp_right_key": jwt.sign({"alg": "HS256", "typ": "JWT"},
                                         dict(claims, exp=str(claims["exp"])), key),
        "hs384_right_key": jwt.sign({"alg": "HS384", "typ": "JWT"}, claims, key),
        "hs512_right_key": jwt.sign({"alg": "HS512", "typ": "JWT"}, claims, key),
        "unknown_sid_right_key": jwt.sign({"alg": "HS256", "typ": "JWT"},
                                          dict(claims, sid=str(uuid.uuid4())), key),
        "bad_sid_right_key": jwt.sign({"alg": "HS256", "typ": "JWT"},
                                      dict(claims, sid="1' OR '1'='1"), key),
        "truncated_sig": u.token[:-4],
        "two_parts": ".".join(u.token.split(".")[:2]),
        "garbage": "garbage",
        "dots": "a.b.c",
        "empty_parts": "..",
        "base64_junk": "eyJhbGciOiJIUzI1NiJ9.%%%%.$$$$",
        "long": "A" * 3000 + "." + "B" * 3000 + "." + "C" * 100,
    }


FORGERY_NAMES = [
    "alg_none", "alg_none_with_sig", "hs512_guessed_key", "hs256_guessed_key",
    "hs256_empty_key", "tampered_sub", "tampered_exp", "expired_right_key",
    "no_exp_right_key", "string_exp_right_key", "hs384_right_key", "hs512_right_key",
    "unknown_sid_right_key", "bad_sid_right_key", "truncated_sig", "two_parts", "garbage",
    "dots", "empty_parts", "base64_junk", "long",
]


@pytest.mark.parametrize("kind", FORGERY_NAMES)
def test_forged_token_is_401(stack, new_user, client, kind):
    u = new_user("forge")
    tok = _forgeries(stack, u)[kind]
    r = me_with(client(), tok)
    assert_error(r, 401, "unauthenticated")
    # the real token still works, and the service still answers
    assert u.session.get("/api/me").status_code == 200
    assert_alive(stack)


# -- logout --------------------------------------------------------------------------

def test_logout_revokes_the_token_and_clears_the_cookie(stack, new_user, client):
    u = new_user("out")
    token = u.token
    r = u.session.post("/api/logout")
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    a = cookie_attrs(r)
    assert a is not None, describe(r)
    assert a.get("max-age") == "0", a
    assert a.get("path") == "/" and a.get("httponly") is True, a
    assert u.session.token is None  # the jar dropped it
    assert_error(me_with(client(), token), 401, "unauthenticated")
    sid = jwt.decode(token)[1]["sid"]
    rows = stack.psql("SELECT revoked_at IS NOT NULL FROM sessions WHERE id::text = '%s'"
                      % sid.replace("'", ""))
    assert rows == [["t"]], rows


def test_logout_leaves_other_sessions_alone(new_user, client):
    u = new_user("out1")
    other = u.login()
    assert u.session.post("/api/logout").status_code == 204
    r = other.get("/api/me")
    assert r.status_code == 200, describe(r)


def test_logout_twice_is_401_the_second_time(new_user, client):
    u = new_user("out2")
    token = u.token
    assert u.session.post("/api/logout").status_code == 204
    r = client().post("/api/logout", headers={"Cookie": "access_token=" + token})
    assert_error(r, 401, "unauthenticated")


def test_logout_without_session_is_401(client):
    assert_error(client().post("/api/logout"), 401, "unauthenticated")
    assert_error(client().post("/api/logout-all"), 401, "unauthenticated")


def test_logout_all_revokes_every_session_of_the_user(new_user, client):
    u = new_user("all")
    second = u.login()
    third = u.login(addr=client().addr)
    bystander = new_user("bystander")
    tokens = [u.token, second.token, third.token]
    assert len(set(tokens)) == 3
    r = second.post("/api/logout-all")
    assert r.status_code == 204, describe(r)
    assert cookie_attrs(r).get("max-age") == "0"
    for t in tokens:
        assert_error(me_with(client(), t), 401, "unauthenticated")
    assert bystander.session.get("/api/me").status_code == 200
    # signing in again works
    assert u.login().get("/api/me").status_code == 200


# -- the recorded client address ---------------------------------------------------

def test_session_records_last_forwarded_address_and_user_agent(stack, new_user, client):
    u = new_user("addr")
    c = client()
    r = c.post("/api/login", json={"username": u.username, "password": u.password},
               headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.77, " + c.addr,
                        "User-Agent": "pipechat-tests/1.0"})
    assert r.status_code == 200, describe(r)
    sid = jwt.decode(c.token)[1]["sid"]
    rows = stack.psql("SELECT address, user_agent FROM sessions WHERE id::text = '%s'"
                      % sid.replace("'", ""))
    assert rows == [[c.addr, "pipechat-tests/1.0"]], rows


def test_session_records_ipv6_forwarded_address(stack, new_user, client):
    u = new_user("addr6")
    c = client(addr=random_address(v6=True))
    r = login(c, u)
    assert r.status_code == 200, describe(r)
    sid = jwt.decode(c.token)[1]["sid"]
    rows = stack.psql("SELECT address FROM sessions WHERE id::text = '%s'" % sid)
    assert rows == [[c.addr]], rows


# -- a stack that trusts no proxy, with a short token life ----------------------------

def test_untrusted_peer_cannot_set_address_or_https(plain_stack):
    c = PCSession(plain_stack)
    u = make_user(plain_stack, "plain")
    r = c.post("/api/login", json={"username": u.username, "password": u.password},
               headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.5"})
    assert r.status_code == 200, describe(r)
    a = cookie_attrs(r)
    assert "secure" not in a, a
    assert a.get("max-age") == "600", a
    header, claims, _ = jwt.decode(c.token)
    assert claims["exp"] - claims["iat"] == 600, claims
    rows = plain_stack.psql("SELECT address FROM sessions WHERE id::text = '%s'" % claims["sid"])
    assert rows == [["127.0.0.1"]], rows
    assert_alive(plain_stack)
