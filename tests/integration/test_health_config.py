"""GET /api/health and GET /api/config (contract sections 3 and 8): public,
unauthenticated, JSON. The database-outage behaviour of health is in
test_accounts_db_down.py (it stops a service, so it runs last).
"""

import requests

from pclib import assert_alive, describe

LIMIT_DEFAULTS = {
    "send_rate": 10, "send_burst": 20, "typing_rate": 2, "call_rate": 20,
    "max_rooms_per_socket": 100, "max_sockets_per_user": 20,
    "body_max": 4000, "frame_max": 65536,
}


def test_health_is_200_ok_true(stack, client):
    r = client().get("/api/health")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"ok": True}
    assert_alive(stack)


def test_health_needs_no_session_and_ignores_a_bad_one(client):
    r = client().get("/api/health", headers={"Cookie": "access_token=garbage"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"ok": True}


def test_health_answers_head_or_refuses_it_cleanly(client):
    r = client().head("/api/health")
    assert r.status_code in (200, 405), describe(r)


def test_config_without_session(client):
    r = client().get("/api/config")
    assert r.status_code == 200, describe(r)
    got = r.json()
    assert isinstance(got, dict) and {"limits", "ice_servers"} <= set(got), got
    limits = got["limits"]
    assert isinstance(limits, dict) and limits, got
    for k, v in limits.items():
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
    assert isinstance(got["ice_servers"], list), got
    for k, v in LIMIT_DEFAULTS.items():
        assert limits.get(k) == v, (k, limits)


def test_config_with_session_has_the_same_limits(new_user, client):
    u = new_user("cfg")
    mine = u.session.get("/api/config")
    anon = client().get("/api/config")
    assert mine.status_code == 200, describe(mine)
    assert mine.json()["limits"] == anon.json()["limits"]
    assert isinstance(mine.json()["ice_servers"], list)


def test_config_follows_the_settings(plain_stack):
    r = requests.get(plain_stack.base_url + "/api/config", timeout=10)
    assert r.status_code == 200, describe(r)
    assert r.json()["limits"]["send_rate"] == 7, r.json()
