"""Phase 2 ("Real-time core") in real browsers: two people chat in `general`,
rooms are created from the sidebar, and the page works at phone width.

These need GET /api/rooms and a working /ws. While the server side is still
being written they skip, and say which part is missing — but only on the two
exact signs of "not written yet" (the route answers 404 not_found; the worker
is the skeleton that answers "not ready"). Anything else that goes wrong fails.
"""

import asyncio
import json
import os
import re
import uuid

import pytest
import requests

from pcbrowser import register_over_http, wait_until


def _probe_ws(site, cookie, room_id):
    """Opens /ws, joins room_id; returns the frames seen until `joined` or an
    error (at most 15 s of silence), or [{"probe_error": …}]."""
    import websockets

    async def run():
        seen = []
        async with websockets.connect(site.ws_url, origin=site.origin,
                                      extra_headers={"Cookie": cookie}, open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "join", "room": room_id}))
            while True:
                f = json.loads(await asyncio.wait_for(ws.recv(), 15))
                seen.append(f)
                if f.get("type") in ("joined", "error"):
                    return seen
    try:
        return asyncio.run(run())
    except Exception as e:  # noqa: BLE001 (reported by the caller)
        return [{"probe_error": repr(e)}]


_probed = {}   # base_url → None (ready) or the skip reason, once per session


@pytest.fixture
def chat_ready(site):
    if site.base_url not in _probed:
        try:
            _probed[site.base_url] = _probe_chat(site)
        except pytest.skip.Exception as e:
            _probed[site.base_url] = str(e)
    if _probed[site.base_url]:
        pytest.skip(_probed[site.base_url])


def _probe_chat(site):
    """Skips, saying why, while the server parts phase 2 needs are missing: the
    rooms route answers 404 not_found, the worker is the skeleton ("not ready"),
    or the broker answers `unavailable`. PIPECHAT_E2E_REQUIRE_CHAT=1 turns
    these skips into failures (set it once the real-time core is in)."""
    if getattr(site, "state", None) is not None:   # the fake
        return
    strict = os.environ.get("PIPECHAT_E2E_REQUIRE_CHAT") == "1"
    name, _, password = register_over_http(site, "probe")
    s = requests.Session()
    s.headers["X-Forwarded-For"] = "10.99.%d.%d" % (uuid.uuid4().int % 250, uuid.uuid4().int % 250 + 1)
    r = s.post(site.base_url + "/api/login", json={"username": name, "password": password}, timeout=15)
    assert r.status_code == 200, r.text
    r = s.get(site.base_url + "/api/rooms", timeout=15)
    if r.status_code == 404 and "not_found" in r.text and not strict:
        pytest.skip("GET /api/rooms is not served yet (404 not_found): the rooms API is unwritten")
    assert r.status_code == 200, "GET /api/rooms: %s %s" % (r.status_code, r.text[:300])
    general = [x["id"] for x in r.json()["rooms"] if x["name"] == "general"]
    assert general, "no room named general in %s" % r.text[:300]
    frames = _probe_ws(site, "access_token=" + s.cookies.get("access_token", ""), general[0])
    last = frames[-1]
    if last.get("type") == "joined":
        return
    if not strict and last.get("type") == "error" and (
            last.get("message") == "not ready" or last.get("code") == "unavailable"):
        pytest.skip("the WebSocket path is not working yet: joining general answered %s "
                    "(set PIPECHAT_E2E_REQUIRE_CHAT=1 to fail instead)" % json.dumps(last))
    pytest.fail("joining general over /ws did not answer `joined`: %s" % json.dumps(frames))


def test_two_people_chat_in_general(site, browser, account, chat_ready):
    a_name, _, a_pw = account(site)
    b_name, _, b_pw = account(site)
    a, b = browser(site), browser(site)
    a.sign_in(a_name, a_pw)
    b.sign_in(b_name, b_pw)
    a.open_room("general")
    b.open_room("general")

    # Each sees the other online in the room (joined list, presence event).
    a.wait_text("#room-info", r"\b2 online")
    b.wait_text("#room-info", r"\b2 online")

    hello = "hello from A " + uuid.uuid4().hex[:6]
    a.send(hello)
    got = b.wait(lambda d: [m for m in b.messages() if m[2] == hello], "A's message at B", timeout=5)
    assert got[0][1] == a_name

    answer = "hi A, B here " + uuid.uuid4().hex[:6]
    b.send(answer)
    got = a.wait(lambda d: [m for m in a.messages() if m[2] == answer], "B's answer at A", timeout=5)
    assert got[0][1] == b_name

    # Each shows both once, in the same order, mine on my side.
    for who, me in ((a, a_name), (b, b_name)):
        mine = [m for m in who.messages() if m[2] in (hello, answer)]
        assert [m[2] for m in mine] == [hello, answer], mine
        seq = [m[0] for m in who.messages()]
        assert seq == sorted(set(seq)), "seqs shown once, ascending"
        wait_until(lambda: not who.all("[data-testid=pending]"), 5, "no pending bubble")
        own = who.all("#messages .msg.own .author")
        assert own and all(e.text == me for e in own)
    assert a.problems() == [] and b.problems() == []


def test_create_a_room_from_the_sidebar(site, browser, account, chat_ready):
    name, _, pw = account(site)
    b = browser(site)
    b.sign_in(name, pw)
    b.click("#new-room")
    room = "Room " + uuid.uuid4().hex[:6]
    b.fill("#new-room-form-name", room)
    b.click("#new-room-form button[type=submit]")
    b.wait_text("#room-title", re.escape(room))
    assert b.find("#my-rooms .room-item[aria-current=page]").text.strip().endswith(room)
    b.wait_text("#conn", "online", timeout=15)
    b.send("first!")
    b.wait(lambda d: [m for m in b.messages() if m[2] == "first!"], "my message")

    # The same public name again: the 409 is shown next to the name field.
    b.click("#new-room")
    b.fill("#new-room-form-name", room.lower())
    b.click("#new-room-form button[type=submit]")
    assert b.text_of("#new-room-form-name-error")
    assert b.problems() == []


def test_phone_width_collapses_the_sidebar(site, browser, account, chat_ready):
    name, _, pw = account(site)
    b = browser(site, phone=True)
    b.sign_in(name, pw)
    assert b.js("return innerWidth") == 390
    b.wait_text("#room-title", "general")              # general opens by itself
    sidebar = b.find("#sidebar")
    b.wait(lambda d: sidebar.rect["x"] + sidebar.rect["width"] <= 1, "the sidebar off screen")
    b.screenshot("test_phone_width_collapses_the_sidebar-closed")
    b.click("#menu")
    b.wait(lambda d: sidebar.rect["x"] >= 0, "the sidebar to slide in")
    b.screenshot("test_phone_width_collapses_the_sidebar-open")
    b.click(".room-item[data-name='general']")
    b.wait(lambda d: sidebar.rect["x"] + sidebar.rect["width"] <= 1, "the sidebar to close")
    if b.all("#join-bar") and b.find("#join-bar").is_displayed():
        b.click("#join")
    b.visible("#composer-body")
    b.wait_text("#conn", "online", timeout=15)
    b.send("from my phone")
    b.wait(lambda d: [m for m in b.messages() if m[2] == "from my phone"], "my message")
    # Nothing wider than the screen.
    assert b.js("return document.documentElement.scrollWidth") <= 390
    assert b.problems() == []
