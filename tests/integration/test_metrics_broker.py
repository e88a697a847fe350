"""The broker's part of GET /api/metrics (issue 8): the API asks the broker
over ipc://$PIPECHAT_BROKER_DIR/metrics and adds its `pipechat_broker_*`
families, each sample labelled broker="0", and `pipechat_broker_up`. These
tests scrape through the web server (the token and loopback rules are
test_api_metrics.py's), drive the broker over WebSockets, and check that
the counters moved: messages persisted, group-commit batches and their
time, connected workers, rooms, rate-limit refusals, gap answers and FETCH
replays; and that with the broker down the scrape is still 200, with
pipechat_broker_up 0, within about the API's 200 ms wait."""

import asyncio
import re
import time

import pytest
import requests

from pclib import describe
from test_ws_client import WS, client_id, make_room, run

TOKEN = "metrics-token-for-tests-0123456789"  # test_api_metrics.py's stack
AUTH = {"Authorization": "Bearer " + TOKEN}
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
B0 = {"broker": "0"}


def parse(text):
    """{(name, frozenset(labels)): float}; checks every line's shape and that
    each family is typed once, before its samples."""
    out, typed = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, "family %s typed twice" % name
            typed.append(name)
            continue
        if not line or line.startswith("#"):
            assert line == "" or line.startswith("# HELP "), line
            continue
        m = LINE.match(line)
        assert m, "bad sample line %r" % line
        assert any(m.group(1) == t or m.group(1).startswith(t + "_") for t in typed[-1:]), \
            "sample %r outside its family" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def sample(metrics, name, **labels):
    labels = dict(B0, **labels) if name.startswith("pipechat_broker_") else labels
    return metrics.get((name, frozenset(labels.items())), 0.0)


def scrape(stack, headers=AUTH):
    r = requests.get(stack.base_url + "/api/metrics", headers=headers, timeout=10)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def wait_for(stack, pred, seconds=5):
    """Scrapes until pred(metrics) holds (gauges are sampled each second)."""
    end = time.monotonic() + seconds
    while True:
        m = scrape(stack)
        if pred(m) or time.monotonic() > end:
            return m
        time.sleep(0.2)


@pytest.fixture(scope="module")
def token_stack(start_stack):
    return start_stack(PIPECHAT_METRICS_TOKEN=TOKEN)


def test_broker_families_present_and_up(token_stack):
    m = scrape(token_stack)
    assert sample(m, "pipechat_broker_up") == 1
    for name in ("pipechat_broker_messages_persisted_total", "pipechat_broker_workers",
                 "pipechat_broker_rooms", "pipechat_broker_rooms_subscribed",
                 "pipechat_broker_rooms_active", "pipechat_broker_fetches_total",
                 "pipechat_broker_batch_size_count",
                 "pipechat_broker_commit_duration_seconds_count"):
        assert (name, frozenset(B0.items())) in m, name
    assert ("pipechat_broker_rate_limited_total",
            frozenset(dict(B0, kind="send").items())) in m
    assert ("pipechat_broker_gaps_total", frozenset(dict(B0, on="join").items())) in m
    # the API's own families are still there
    assert ("pipechat_api_logins_total", frozenset()) in m


def test_broker_from_loopback_without_proxy(plain_stack):
    m = scrape(plain_stack, headers={})
    assert sample(m, "pipechat_broker_up") == 1


def test_sends_count_persisted_batches_and_workers(token_stack, new_user):
    u = new_user(stack=token_stack)
    room = make_room(u)
    before = scrape(token_stack)
    n = 6

    async def scenario():
        ws = await WS.hello(token_stack, u)
        await ws.join(room)
        for i in range(n):
            await ws.send_msg(room, "metrics %d" % i)
        # gauges are copied once a second: wait for them while open
        m = await asyncio.get_running_loop().run_in_executor(
            None, lambda: wait_for(token_stack, lambda m: (
                sample(m, "pipechat_broker_workers") >= 1 and
                sample(m, "pipechat_broker_rooms_active") >= 1)))
        await ws.close()
        return m
    during = run(scenario())
    after = scrape(token_stack)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert sample(during, "pipechat_broker_workers") >= 1
    assert sample(during, "pipechat_broker_users_connected") >= 1
    assert sample(during, "pipechat_broker_rooms_subscribed") >= 1
    assert sample(during, "pipechat_broker_rooms_active") >= 1
    assert sample(during, "pipechat_broker_subscriptions") >= 1
    assert delta("pipechat_broker_messages_persisted_total") >= n
    assert delta("pipechat_broker_batch_size_count") >= 1
    assert delta("pipechat_broker_batch_size_sum") >= n
    assert delta("pipechat_broker_commit_duration_seconds_count") >= 1
    assert delta("pipechat_broker_commit_duration_seconds_sum") > 0
    count = sample(after, "pipechat_broker_commit_duration_seconds_count")
    assert sample(after, "pipechat_broker_commit_duration_seconds_bucket", le="+Inf") == count
    # every send's wait for its transaction and its way back to the main thread
    for name in ("pipechat_broker_send_queued_seconds", "pipechat_broker_send_returned_seconds"):
        assert delta(name + "_count") >= n, name
        assert sample(after, name + "_bucket", le="+Inf") == sample(after, name + "_count")
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in after.items()
                     if k[0] == "pipechat_broker_batch_size_bucket"
                     and dict(k[1])["le"] != "+Inf")
    assert buckets and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))


def test_rate_limit_refusals_counted(token_stack, new_user):
    """Sends past the burst (20 by default) without waiting: each refusal
    the client sees is counted under kind="send"."""
    u = new_user(stack=token_stack)
    room = make_room(u)
    before = scrape(token_stack)

    async def scenario():
        ws = await WS.hello(token_stack, u)
        await ws.join(room)
        cids = [client_id("rl") for _ in range(40)]
        for cid in cids:
            await ws.send({"type": "send", "room": room, "body": "flood", "client_id": cid})
        answered, refused = set(), 0
        while len(answered) < len(cids):
            f = await ws.recv(15)
            if f["type"] == "ack":
                answered.add(f["client_id"])
            elif f["type"] == "error" and f.get("ref") in cids:
                assert f["code"] == "rate_limited", f
                answered.add(f["ref"])
                refused += 1
        await ws.close()
        return refused
    refused = run(scenario())
    assert refused >= 1
    after = scrape(token_stack)
    assert sample(after, "pipechat_broker_rate_limited_total", kind="send") - \
        sample(before, "pipechat_broker_rate_limited_total", kind="send") >= refused


def test_gap_on_join_counted(token_stack, new_user):
    """A join with since 0 on a room of 520 messages gets GAP 1..20 first."""
    u = new_user(stack=token_stack)
    room = make_room(u)
    token_stack.psql(
        "INSERT INTO messages (room_id, seq, user_id, body) "
        "SELECT %d, g, %d, 'm' || g FROM generate_series(1, 520) g; "
        "UPDATE rooms SET last_seq = 520 WHERE id = %d" % (room, u.id, room))
    before = scrape(token_stack)

    async def scenario():
        ws = await WS.hello(token_stack, u)
        await ws.join(room, since=0)
        g = await ws.expect("gap", timeout=10)
        assert (g["from"], g["to"]) == (1, 20), g
        await ws.close()
    run(scenario())
    after = scrape(token_stack)
    assert sample(after, "pipechat_broker_gaps_total", on="join") - \
        sample(before, "pipechat_broker_gaps_total", on="join") >= 1


def test_fetch_replay_counted(token_stack, new_user):
    """Rows the broker never published (written behind its back) make the
    next live message skip seqs; the worker FETCHes the hole, and the
    broker counts the FETCH and the messages it replayed."""
    u = new_user(stack=token_stack)
    room = make_room(u)
    before = scrape(token_stack)

    async def scenario():
        ws = await WS.hello(token_stack, u)
        j = await ws.join(room)
        assert j["last_seq"] == 0
        await asyncio.get_running_loop().run_in_executor(None, lambda: token_stack.psql(
            "INSERT INTO messages (room_id, seq, user_id, body) "
            "SELECT %d, g, %d, 'hidden ' || g FROM generate_series(1, 3) g; "
            "UPDATE rooms SET last_seq = 3 WHERE id = %d" % (room, u.id, room)))
        ack = await ws.send_msg(room, "after the hole")
        assert ack["seq"] == 4, ack
        seqs = []
        while len(seqs) < 4:
            f = await ws.expect("message", timeout=10)
            seqs.append(f["seq"])
        assert seqs == [1, 2, 3, 4], seqs
        await ws.close()
    run(scenario())
    after = scrape(token_stack)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("pipechat_broker_fetches_total") >= 1
    assert delta("pipechat_broker_fetched_messages_total") >= 3


@pytest.mark.disruptive
def test_broker_down_still_200_with_up_0(token_stack):
    token_stack.svc("stop", "broker")
    try:
        t0 = time.monotonic()
        r = requests.get(token_stack.base_url + "/api/metrics", headers=AUTH, timeout=10)
        took = time.monotonic() - t0
        assert r.status_code == 200, describe(r)
        m = parse(r.text)
        assert sample(m, "pipechat_broker_up") == 0
        assert not any(k[0].startswith("pipechat_broker_") and k[0] != "pipechat_broker_up"
                       for k in m), "samples from a broker that did not answer"
        assert ("pipechat_api_logins_total", frozenset()) in m
        assert took < 2, took  # the API waits about 200 ms, not more
    finally:
        token_stack.svc("start", "broker")
    m = wait_for(token_stack, lambda m: sample(m, "pipechat_broker_up") == 1, seconds=10)
    assert sample(m, "pipechat_broker_up") == 1
