"""The database goes away and comes back (contract sections 3, 8, 9): health
says 503 with the error shape, account endpoints answer 503 unavailable (never
500, never a crash), and the API recovers by itself. Marked disruptive: it
runs after every other test, and the database is started again even when it fails.
"""

import os
import time

import pytest
import requests

from pclib import assert_alive, assert_error, describe, unique_email, unique_name

pytestmark = pytest.mark.disruptive


def wait_healthy(stack, seconds=20):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(stack.base_url + "/api/health", timeout=5)
            if last.status_code == 200 and last.json() == {"ok": True}:
                return time.monotonic()
        except requests.RequestException as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("not healthy after %ss: %s" % (
        seconds, describe(last) if isinstance(last, requests.Response) else last))


def test_database_down_is_503_and_the_api_recovers(stack, new_user, client):
    u = new_user("outage")
    api_pid = stack.pid("api")
    stack.svc("stop", "db")
    try:
        r = client().get("/api/health")
        assert r.status_code == 503, describe(r)
        body = r.json()
        assert set(body) == {"ok", "error"} and body["ok"] is False, body
        err = body["error"]
        assert isinstance(err, dict) and err.get("code") == "unavailable", body
        assert isinstance(err.get("message"), str) and err["message"], body

        r = client().post("/api/register", json={"username": unique_name("down"),
                                                 "email": unique_email(),
                                                 "password": "12345678"})
        assert_error(r, 503, "unavailable")
        r = client().post("/api/login", json={"username": u.username, "password": u.password})
        assert_error(r, 503, "unavailable")
        r = u.session.get("/api/me")
        assert_error(r, 503, "unavailable")
        # input errors found before the database is needed stay what they are
        r = client().post("/api/register", data=b"{bad",
                          headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 503), describe(r)
        r = client().get("/api/config")
        assert r.status_code in (200, 503), describe(r)
    finally:
        stack.svc("start", "db")

    t0 = time.monotonic()
    wait_healthy(stack, 20)
    # every API thread has its own connection: enough requests to reach them all
    for _ in range(12):
        r = u.session.get("/api/me")
        assert r.status_code == 200, describe(r)
    r = client().post("/api/login", json={"username": u.username, "password": u.password})
    assert r.status_code == 200, describe(r)
    assert time.monotonic() - t0 < 30
    if api_pid is not None:
        assert stack.pid("api") == api_pid, "the API process was replaced"
        os.kill(api_pid, 0)  # and it is still there
    assert_alive(stack)
