"""GET /api/metrics (contract sections 3 and 8): Prometheus text, taken with
`Authorization: Bearer <PIPECHAT_METRICS_TOKEN>` or from a loopback peer when
no proxy is trusted; anyone else gets 403 forbidden. Counts requests by route
pattern and status, a latency histogram, logins, failures, throttled answers
and registrations."""

import re

import pytest
import requests

from pclib import PLAIN_ENV, assert_error, describe, make_user

TOKEN = "metrics-token-for-tests-0123456789"
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def parse(text):
    """{(name, frozenset(labels)): float} of a Prometheus text body; checks
    that every line is a comment or a well-formed sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert line == "" or line.startswith(("# HELP ", "# TYPE ")), line
            continue
        m = LINE.match(line)
        assert m, "bad sample line %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def sample(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


def get_metrics(stack, headers=None):
    return requests.get(stack.base_url + "/api/metrics", headers=headers or {}, timeout=10)


@pytest.fixture(scope="module")
def token_stack(start_stack):
    return start_stack(PIPECHAT_METRICS_TOKEN=TOKEN)


def test_metrics_refused_behind_trusted_proxy_without_token(stack):
    # The shared stack trusts 127.0.0.1 as a proxy: loopback proves nothing.
    assert_error(get_metrics(stack), 403, "forbidden")
    assert_error(get_metrics(stack, {"Authorization": "Bearer anything"}), 403, "forbidden")


def test_metrics_from_loopback_without_proxy(plain_stack):
    get_metrics(plain_stack)
    r = get_metrics(plain_stack)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    m = parse(r.text)
    assert sample(m, "pipechat_api_requests_total", method="GET", route="/api/metrics",
                  status="200") >= 1
    assert ("pipechat_api_logins_total", frozenset()) in m


def test_metrics_token_required_and_compared(token_stack):
    assert_error(get_metrics(token_stack), 403, "forbidden")
    for bad in ("Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Basic " + TOKEN, TOKEN,
                "Bearer", "Bearer  " + TOKEN):
        assert_error(get_metrics(token_stack, {"Authorization": bad}), 403, "forbidden")
    r = get_metrics(token_stack, {"Authorization": "Bearer " + TOKEN})
    assert r.status_code == 200, describe(r)
    parse(r.text)


def test_metrics_count_routes_statuses_and_logins(token_stack):
    auth = {"Authorization": "Bearer " + TOKEN}
    before = parse(get_metrics(token_stack, auth).text)
    u = make_user(token_stack)  # one registration, one login
    r = u.session.get("/api/rooms/987654321")
    assert r.status_code == 404
    r = u.session.post("/api/login", json={"username": u.username, "password": "wrong!!!"})
    assert r.status_code == 401
    r = requests.get(token_stack.base_url + "/api/nowhere", timeout=10)
    assert r.status_code == 404
    after = parse(get_metrics(token_stack, auth).text)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("pipechat_api_registrations_total") == 1
    assert delta("pipechat_api_logins_total") == 1
    assert delta("pipechat_api_login_failures_total") == 1
    assert delta("pipechat_api_requests_total", method="GET", route="/api/rooms/:id",
                 status="404") == 1
    assert delta("pipechat_api_requests_total", method="POST", route="/api/login",
                 status="401") == 1
    assert delta("pipechat_api_requests_total", method="other", route="other",
                 status="404") >= 1
    # the histogram: cumulative buckets ending in +Inf == count
    lab = dict(method="POST", route="/api/register")
    count = sample(after, "pipechat_api_request_duration_seconds_count", **lab)
    assert count >= 1
    assert sample(after, "pipechat_api_request_duration_seconds_bucket", le="+Inf",
                  **lab) == count
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in after.items()
                     if k[0] == "pipechat_api_request_duration_seconds_bucket"
                     and dict(k[1]).get("route") == "/api/register"
                     and dict(k[1])["le"] != "+Inf")
    assert buckets and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert sample(after, "pipechat_api_request_duration_seconds_sum", **lab) > 0


def test_metrics_counts_throttled(token_stack):
    auth = {"Authorization": "Bearer " + TOKEN}
    u = make_user(token_stack)
    before = parse(get_metrics(token_stack, auth).text)
    for _ in range(5):
        u.session.post("/api/login", json={"username": u.username, "password": "nope-nope"})
    r = u.session.post("/api/login", json={"username": u.username, "password": "nope-nope"})
    assert r.status_code == 429
    after = parse(get_metrics(token_stack, auth).text)
    assert sample(after, "pipechat_api_throttled_total") - \
        sample(before, "pipechat_api_throttled_total") == 1


def test_metrics_is_not_a_json_route(token_stack):
    r = requests.post(token_stack.base_url + "/api/metrics", timeout=10)
    assert_error(r, 405, "method_not_allowed")
