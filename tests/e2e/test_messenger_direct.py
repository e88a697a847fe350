"""Issue 4 in real browsers, direct chats: start one from the People dialog
(GET /api/users with online dots, POST /api/dm), the other side sees it appear
live under "Direct chats" with an unread badge that counts up and clears,
"X is typing…" shows and fades, "Seen by …" appears under my last message
once the other opens the chat, Enter sends and Shift+Enter makes a new line.

Runs against the real stack (`site`); screenshots go to tests/out/.
"""

import re
import uuid

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys

from pcbrowser import wait_until


@pytest.fixture(autouse=True)
def _real_stack_only(site):
    """fake_pipechat.py has none of these endpoints (users, dm, members,
    invites by name, edits, sessions, blocks): these run on the real stack."""
    if getattr(site, "state", None) is not None:
        pytest.skip("needs the real stack (PIPECHAT_E2E_FAKE=1 has no messenger endpoints)")


def api_online(site, login, password, whom):
    """`online` of whom in GET /api/users, as login sees it."""
    s = requests.Session()
    s.headers["X-Forwarded-For"] = "10.77.%d.%d" % (uuid.uuid4().int % 250, uuid.uuid4().int % 250 + 1)
    r = s.post(site.base_url + "/api/login", json={"username": login, "password": password}, timeout=15)
    assert r.status_code == 200, r.text
    r = s.get(site.base_url + "/api/users", params={"q": whom}, timeout=15)
    assert r.status_code == 200, r.text
    return [u for u in r.json()["users"] if u["username"] == whom][0]["online"]


def dm_item(b, name):
    return "#direct-rooms .room-item[data-name='%s']" % name


def open_sidebar(b):
    """On a phone the sidebar is a drawer: open it and wait until it has slid
    in (no-op on a desktop)."""
    if b.find("#menu").is_displayed() and "sidebar-open" not in (b.find("body").get_attribute("class") or ""):
        b.click("#menu")
        side = b.find("#sidebar")
        b.wait(lambda d: side.rect["x"] >= 0, "the drawer to slide in")


def shown(b, css, timeout=10):
    """Waits until an element matching css is displayed. The sidebar is redrawn
    on every event, so an element found may be gone a moment later: look again."""
    def ok(d):
        try:
            return any(e.is_displayed() for e in b.all(css))
        except StaleElementReferenceException:
            return False
    b.wait(ok, "%s to be visible" % css, timeout)


def badge(b, css):
    try:
        els = b.all(css + " .badge")
        return els[0].text if els else ""
    except StaleElementReferenceException:
        return None


def start_dm_from_people(b, other):
    """Opens People, searches other, clicks Message; waits until the chat is open."""
    open_sidebar(b)
    b.click("#people")
    b.visible("#people-dialog")
    b.fill("#people-q", other[:-3])                   # a prefix finds them
    b.visible("#people-list[data-query='%s']" % other[:-3])
    row = "#people-list .person[data-username='%s']" % other
    b.click(row + " [data-action=dm]")
    b.wait_text("#room-title", "@" + re.escape(other))
    b.visible("#composer-body")
    b.wait_text("#conn", "online", timeout=15)


def test_direct_chat_badges_typing_and_seen(site, browser, account):
    a_name, _, a_pw = account(site, "dma")
    b_name, _, b_pw = account(site, "dmb")
    a, b = browser(site), browser(site)
    a.sign_in(a_name, a_pw)
    b.sign_in(b_name, b_pw)
    b.wait(lambda d: b.js("return document.body.dataset.state") == "ready", "B ready")

    # The people list shows B with the online dot the API gives (B has a
    # socket open; the API may not know yet, then the dot says offline).
    b.wait_text("#conn", "online", timeout=15)
    try:
        online = wait_until(lambda: api_online(site, a_name, a_pw, b_name), 5, "B online in the API")
    except AssertionError:
        online = False
    open_sidebar(a)
    a.click("#people")
    a.fill("#people-q", b_name)
    a.visible("#people-list[data-query='%s']" % b_name)
    row = "#people-list .person[data-username='%s']" % b_name
    a.visible(row + (" .dot.online" if online else " .dot.offline"))
    a.click("#people-close")

    start_dm_from_people(a, b_name)

    # B: the direct chat appears live (a `room` event), apart from the rooms.
    shown(b, dm_item(b, a_name))
    assert not b.all("#my-rooms .room-item[data-name='%s']" % a_name)

    # Two messages while B looks elsewhere: B's badge counts 1, then 2.
    a.send("hi " + b_name)
    b.wait(lambda d: badge(b, dm_item(b, a_name)) == "1", "B's badge at 1")
    a.send("are you there?")
    b.wait(lambda d: badge(b, dm_item(b, a_name)) == "2", "B's badge at 2")
    a.wait(lambda d: len([m for m in a.messages() if m[1] == a_name]) == 2, "both mine at A")
    assert not a.all("[data-testid=seen]") or not a.find("[data-testid=seen]").text, \
        "nobody has seen it yet"

    # A sees B online in the chat (a dot by the name in the sidebar).
    shown(a, dm_item(a, b_name) + " .dot.online")

    # B opens it: the badge clears, and A sees "Seen by B" under the last message.
    b.click(dm_item(b, a_name))
    b.wait_text("#room-title", "@" + re.escape(a_name))
    b.wait(lambda d: [m for m in b.messages() if m[2] == "are you there?"], "A's messages at B")
    b.wait(lambda d: badge(b, dm_item(b, a_name)) == "", "B's badge to clear")
    seen = a.wait_text("[data-testid=seen]", r"Seen by " + re.escape(b_name), timeout=10)
    last_mine = [m for m in a.messages() if m[1] == a_name][-1]
    assert seen.get_attribute("data-seq") == str(last_mine[0])

    # B types: A sees "B is typing…", and it fades a few seconds after B stops.
    b.visible("#composer-body").send_keys("typing here")
    a.wait_text("#typing", re.escape(b_name) + " is typing", timeout=5)
    a.screenshot("test_direct_chat_badges_typing_and_seen-typing")
    a.wait(lambda d: not a.find("#typing").is_displayed() or not a.find("#typing").text,
           "the typing line to fade", timeout=10)

    # Shift+Enter is a new line, Enter sends; A gets both lines in one message.
    box = b.visible("#composer-body")
    box.clear()
    box.send_keys("line one")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys("line two")
    box.send_keys(Keys.ENTER)
    a.wait(lambda d: [m for m in a.messages() if m[2] == "line one\nline two"], "B's two-line answer at A")
    # B answered after my last message: B has seen it, the line stays.
    a.wait_text("[data-testid=seen]", r"Seen by " + re.escape(b_name))

    # A's own reply from B's side: under B's message "Seen by A" (A has the chat open).
    b.wait_text("[data-testid=seen]", r"Seen by " + re.escape(a_name), timeout=10)
    assert a.problems() == [] and b.problems() == []


def test_direct_chat_at_phone_width(site, browser, account):
    a_name, _, a_pw = account(site, "pha")
    b_name, _, b_pw = account(site, "phb")
    a = browser(site, phone=True)
    a.sign_in(a_name, a_pw)
    start_dm_from_people(a, b_name)
    sidebar = a.find("#sidebar")
    a.wait(lambda d: sidebar.rect["x"] + sidebar.rect["width"] <= 1, "the drawer to close")
    text = "from a phone " + uuid.uuid4().hex[:6]
    a.send(text)
    a.wait(lambda d: [m for m in a.messages() if m[2] == text], "my message")
    wait_until(lambda: not a.all("[data-testid=pending]"), 5, "no pending bubble")
    a.click("#room-menu")
    a.visible("#room-dialog #room-members .person[data-username='%s']" % b_name)
    a.screenshot("test_direct_chat_at_phone_width-details")
    a.click("#room-dialog-close")
    assert a.js("return document.documentElement.scrollWidth") <= 390
    assert a.problems() == []
