"""Login and registration throttles (contract section 3 "Throttling" and
section 8 "Throttles"). These tests use fixed client addresses on purpose
(198.51.100.0/24 and 203.0.113.0/24, documentation ranges no other test uses),
one block per test, so their counts cannot mix with anyone else's.
"""

from pclib import (PCSession, assert_alive, assert_error, assert_retry_after, describe,
                   make_user, unique_email, unique_name)


def login(c, name, password, **kw):
    return c.post("/api/login", json={"username": name, "password": password}, **kw)


def test_five_failures_lock_the_pair_even_for_the_right_password(stack, new_user, client):
    u = new_user("lock")
    c = client(addr="198.51.100.10")
    for i in range(5):
        assert_error(login(c, u.username, "wrong-%d" % i), 401, "invalid_credentials")
    r = login(c, u.username, u.password)
    assert_error(r, 429, "too_many_attempts")
    secs = assert_retry_after(r)
    assert secs <= 15 * 60, secs
    assert "Set-Cookie" not in r.headers, describe(r)
    # wrong password, other case, by email: all the same account, still 429
    assert_error(login(c, u.username.upper(), "wrong"), 429, "too_many_attempts")
    r = login(c, u.email, u.password)
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)
    # another address still signs in to that account
    r = login(client(addr="198.51.100.11"), u.username, u.password)
    assert r.status_code == 200, describe(r)
    # and the locked address can still sign in to another account
    v = new_user("lock_other")
    r = login(client(addr="198.51.100.10"), v.username, v.password)
    assert r.status_code == 200, describe(r)
    assert_alive(stack)


def test_failures_count_by_the_last_forwarded_address(new_user, client):
    # The first X-Forwarded-For entries are the client's to invent; only the
    # last one, put there by the trusted proxy, is the address.
    u = new_user("xff")
    c = client(addr="198.51.100.20")
    for i in range(5):
        r = login(c, u.username, "wrong", headers={
            "X-Forwarded-For": "203.0.113.%d, 198.51.100.20" % (i + 1)})
        assert_error(r, 401, "invalid_credentials")
    r = login(c, u.username, u.password, headers={
        "X-Forwarded-For": "203.0.113.99, 198.51.100.20"})
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)


def test_a_success_clears_the_pair(new_user, client):
    u = new_user("clear")
    c = client(addr="198.51.100.30")
    for _ in range(4):
        assert_error(login(c, u.username, "wrong"), 401, "invalid_credentials")
    r = login(c, u.username, u.password)
    assert r.status_code == 200, describe(r)
    for _ in range(5):  # 4 more, then a 5th: all still 401, not 429
        assert_error(login(c, u.username, "wrong"), 401, "invalid_credentials")
    r = login(c, u.username, u.password)
    assert_error(r, 429, "too_many_attempts")  # 5 since the success
    assert_retry_after(r)


def test_422_answers_are_not_counted(new_user, client):
    u = new_user("c422")
    c = client(addr="198.51.100.40")
    for _ in range(10):
        r = c.post("/api/login", json={"username": u.username, "password": 12345678})
        assert_error(r, 422, "invalid", field="password")
    for _ in range(4):
        assert_error(login(c, u.username, "wrong"), 401, "invalid_credentials")
    r = login(c, u.username, u.password)
    assert r.status_code == 200, describe(r)


def test_unknown_accounts_are_throttled_like_known_ones(client):
    # Otherwise the 429 would tell an attacker which names exist.
    c = client(addr="198.51.100.50")
    ghost = unique_name("ghost")
    for _ in range(5):
        assert_error(login(c, ghost, "wrong"), 401, "invalid_credentials")
    r = login(c, ghost, "wrong")
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)


def test_registration_allows_20_attempts_per_address_per_hour(stack, client):
    addr = "198.51.100.60"
    for i in range(20):
        c = client(addr=addr)
        if i % 2:  # invalid attempts count too
            r = c.post("/api/register", json={"username": "x", "email": unique_email(),
                                              "password": "12345678"})
            assert_error(r, 422, "invalid", field="username")
        else:
            r = c.post("/api/register", json={"username": unique_name("reg"),
                                              "email": unique_email(), "password": "12345678"})
            assert r.status_code == 201, describe(r)
    name = unique_name("reg21")
    body = {"username": name, "email": unique_email(), "password": "12345678"}
    r = client(addr=addr).post("/api/register", json=body)
    assert_error(r, 429, "too_many_attempts")
    secs = assert_retry_after(r)
    assert secs <= 3600, secs
    # nothing was created, and another address registers the same name fine
    r = client(addr="198.51.100.61").post("/api/register", json=body)
    assert r.status_code == 201, describe(r)
    # login from the throttled address is not a registration
    r = login(client(addr=addr), name, "12345678")
    assert r.status_code == 200, describe(r)
    assert_alive(stack)


def test_100_failures_from_one_address_lock_the_address(stack, new_user, client):
    u = new_user("victim")
    addr = "203.0.113.10"
    c = client(addr=addr)
    for i in range(100):
        r = login(c, unique_name("nobody%d" % i), "wrong")
        assert_error(r, 401, "invalid_credentials")
    r = login(c, u.username, u.password)
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)
    r = login(c, unique_name("nobody"), "wrong")
    assert_error(r, 429, "too_many_attempts")
    r = login(client(addr="203.0.113.11"), u.username, u.password)
    assert r.status_code == 200, describe(r)
    assert_alive(stack)


def test_100_failures_for_one_account_lock_strangers_not_the_owner(stack, new_user, client):
    # new_user signed in from u.addr: that address is exempt for 30 days.
    u = new_user("popular")
    for i in range(100):
        c = client(addr="203.0.113.%d" % (100 + i))  # one failure per address
        assert_error(login(c, u.username, "wrong"), 401, "invalid_credentials")
    r = login(client(addr="203.0.113.20"), u.username, u.password)
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)
    r = login(client(addr=u.addr), u.username, u.password)
    assert r.status_code == 200, describe(r)
    assert_alive(stack)


# -- without a trusted proxy the header is the client's, and is ignored -------------

def test_untrusted_forwarded_for_is_ignored(plain_stack):
    u = make_user(plain_stack, "plainlock")
    c = PCSession(plain_stack)
    for i in range(5):
        r = login(c, u.username, "wrong", headers={"X-Forwarded-For": "198.51.100.%d" % (70 + i)})
        assert_error(r, 401, "invalid_credentials")
    r = login(c, u.username, u.password, headers={"X-Forwarded-For": "198.51.100.99"})
    assert_error(r, 429, "too_many_attempts")
    assert_retry_after(r)
    assert_alive(plain_stack)
