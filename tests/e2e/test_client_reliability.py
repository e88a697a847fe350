"""The web client's own delivery rules, in a real browser against the scripted
server (fake_pipechat.py), which can drop sockets, refuse reconnects, swallow
frames and post behind the client's back on cue:

- a reconnect resumes each room with since = the highest contiguous seq shown,
  so nothing is missed and nothing shows twice;
- a send that got no ack stays "sending…" and is resent with the same client_id;
- a gap frame is filled over HTTP before newer messages show;
- older messages load on scroll-up; a revoked session goes to sign in;
- text from others is text, never markup.
"""

import uuid

import pytest

from pcbrowser import wait_until

PASSWORD = "password123"


@pytest.fixture
def setup(fake):
    """(user, room_id, room_name): a fresh user and public room on the fake;
    the fake's misbehaviour switches are reset afterwards."""
    user = "u_" + uuid.uuid4().hex[:8]
    fake.make_user(user, PASSWORD)
    name = "r-" + uuid.uuid4().hex[:6]
    room = fake.state.add_room(name, "public")
    yield user, room["id"], name
    fake.refuse_ws = fake.swallow = fake.mute_sender = False


def seqs(b):
    return [m[0] for m in b.messages()]


def wait_seqs(b, expected, timeout=15):
    wait_until(lambda: seqs(b) == expected, timeout,
               "seqs %s..%s, have %s" % (expected[0], expected[-1], seqs(b)[-5:]))


def go_offline(b, fake):
    fake.refuse_ws = True
    fake.drop_sockets()
    b.wait_text("#conn", "offline|connecting")


def test_reconnect_resumes_with_since_and_shows_each_message_once(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    for i in range(3):
        fake.post(rid, "carol", "before %d" % i)
    wait_seqs(b, [1, 2, 3])

    go_offline(b, fake)
    for i in range(5):
        fake.post(rid, "carol", "missed %d" % i, live=False)
    fake.refuse_ws = False
    b.wait_text("#conn", "online", timeout=20)
    wait_seqs(b, list(range(1, 9)))
    fake.post(rid, "carol", "after")
    wait_seqs(b, list(range(1, 10)))

    joins = [f for f in fake.frames_from(user) if f.get("type") == "join" and f.get("room") == rid]
    assert joins[-1].get("since") == 3, joins
    assert b.problems(allow=[r"WebSocket connection to .* failed"]) == []


def test_unacknowledged_send_is_resent_with_the_same_client_id(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)

    fake.swallow = True                      # the send is lost on the way
    b.send("are you there?")
    b.wait_text("[data-testid=pending]", "sending")
    fake.swallow = False
    fake.drop_sockets()                      # reconnect: resend from the outbox

    wait_until(lambda: [m[2] for m in b.messages()] == ["are you there?"], 15, "the message")
    wait_until(lambda: not b.all("[data-testid=pending]"), 5, "the pending bubble to go")
    sends = [f for f in fake.frames_from(user) if f.get("type") == "send"]
    assert len(sends) >= 2, sends
    assert len({f["client_id"] for f in sends}) == 1, sends
    assert len(fake.state.rooms[rid]["messages"]) == 1


def test_lost_ack_does_not_duplicate_the_message(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)

    fake.mute_sender = True                  # stored, but the ack never comes
    b.send("stored once")
    b.wait_text("[data-testid=pending]", "sending")
    wait_until(lambda: len(fake.state.rooms[rid]["messages"]) == 1, 5, "the store")
    fake.mute_sender = False
    fake.drop_sockets()

    wait_until(lambda: [m[2] for m in b.messages()] == ["stored once"], 15, "the message")
    wait_until(lambda: not b.all("[data-testid=pending]"), 5, "the pending bubble to go")
    assert len(fake.state.rooms[rid]["messages"]) == 1
    assert b.all("#messages .msg.own"), "my message is drawn as mine"


def test_gap_is_filled_over_http_before_newer_messages(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    for i in range(5):
        fake.post(rid, "carol", "early %d" % i)
    wait_seqs(b, [1, 2, 3, 4, 5])

    go_offline(b, fake)
    for i in range(620):                     # more than 500 missed: a gap frame
        fake.post(rid, "carol", "m %d" % i, live=False)
    fake.history_calls.clear()
    fake.refuse_ws = False
    wait_seqs(b, list(range(1, 626)), timeout=30)

    fills = [q for (r, q) in fake.history_calls if r == rid and "after" in q]
    assert fills and fills[0]["after"] == "5", fake.history_calls
    assert all(int(q["limit"]) <= 200 for q in fills)
    assert b.problems(allow=[r"WebSocket connection to .* failed"]) == []


def test_older_messages_load_on_scroll_up(fake, browser, setup):
    user, rid, name = setup
    for i in range(120):
        fake.post(rid, "carol", "old %d" % i, live=False)
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    wait_seqs(b, list(range(71, 121)))
    for _ in range(10):
        b.js("document.getElementById('scroller').scrollTop = 0")
        try:
            wait_until(lambda: seqs(b)[:1] == [1], 1, "all history")
            break
        except AssertionError:
            continue
    wait_seqs(b, list(range(1, 121)))
    b.wait_text("#history-status", "start of")


def test_revoked_session_goes_to_sign_in(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    fake.send_error(user, "session_revoked")
    b.wait_path("/login.html")


def test_text_from_others_is_never_markup(fake, browser, setup):
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    evil = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b> https://example.com/x'
    fake.post(rid, "<script>", evil)
    wait_until(lambda: b.messages(), 10, "the message")
    assert b.messages()[0][1:] == ["<script>", evil]
    assert not b.all("#messages img, #messages b")
    link = b.find("#messages a")
    assert link.get_attribute("href") == "https://example.com/x"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert "pwned" not in b.driver.title
    assert b.problems() == []


def test_unread_count_for_a_room_in_the_background(fake, browser, setup):
    user, rid, name = setup
    other = fake.state.add_room("bg-" + uuid.uuid4().hex[:6], "public")
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(other["name"])               # joins it
    b.open_room(name)
    fake.post(other["id"], "carol", "psst")
    fake.post(other["id"], "carol", "psst again")
    badge = b.wait_text(".room-item[data-name='%s'] .badge" % other["name"], "^2$")
    assert badge
    b.click(".room-item[data-name='%s']" % other["name"])
    wait_until(lambda: not b.all(".room-item[data-name='%s'] .badge" % other["name"]), 5,
               "the badge to clear")
    reads = [f for f in fake.frames_from(user) if f.get("type") == "read" and f.get("room") == other["id"]]
    wait_until(lambda: [f for f in fake.frames_from(user)
                        if f.get("type") == "read" and f.get("room") == other["id"]], 5, "a read marker")
    del reads


def test_shift_enter_makes_a_new_line_and_enter_sends(fake, browser, setup):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    user, rid, name = setup
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    b.open_room(name)
    box = b.visible("#composer-body")
    box.send_keys("first line")
    ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    box.send_keys("second line")
    assert b.messages() == []                # Shift+Enter did not send
    box.send_keys(Keys.ENTER)
    wait_until(lambda: [m[2] for m in b.messages()] == ["first line\nsecond line"], 10, "one message")
    assert box.get_attribute("value") == ""
    sends = [f for f in fake.frames_from(user) if f.get("type") == "send"]
    assert [f["body"] for f in sends] == ["first line\nsecond line"]


def test_room_list_pages_with_next(fake, browser, setup):
    user, rid, name = setup
    for i in range(55):
        fake.state.add_room("page-%s-%02d" % (uuid.uuid4().hex[:4], i), "public")
    with fake.state.lock:
        names = {r["name"] for r in fake.state.rooms.values()}
    b = browser(fake)
    b.sign_in(user, PASSWORD)
    shown = lambda: set(b.js(  # noqa: E731 (the list is redrawn often: read it in one go)
        "return [...document.querySelectorAll('.room-item')].map(e => e.dataset.name)"))
    b.wait(lambda d: len(shown()) == 50, "the first page of rooms")
    while b.find("#more-rooms").is_displayed():
        before = len(shown())
        b.click("#more-rooms")
        wait_until(lambda: len(shown()) > before, 5, "the next page")
    assert shown() == names
