"""Text mode (?format=text&room=ID, contract sections 4 and 8): every line
is a message body for that room, and the server writes human lines."""

import re

from test_ws_client import WS, make_room, run
from pclib import unique_name

LINE = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\] (#\S+|@\S+) (\S+): (.*)$")


async def text_line(ws, timeout=5, skip_events=True):
    """The next human line (event lines starting with '* ' are skipped
    unless skip_events is false)."""
    while True:
        raw = await ws.recv_raw(timeout)
        assert isinstance(raw, str) and "\n" not in raw, raw
        if skip_events and raw.startswith("* ") and " is online in " in raw:
            continue
        return raw


def test_text_mode_round_trip(stack, new_user):
    u, v = new_user(), new_user()
    name = unique_name("txt")
    room = make_room(u, name=name)

    async def scenario():
        ws = await WS.open(stack, u, query="format=text&room=%d" % room)
        assert await text_line(ws) == "* signed in as %s" % u.username
        joined = await text_line(ws)
        assert joined.startswith("* joined #%s (" % name), joined
        await ws.send("hello from a terminal")
        m = LINE.match(await text_line(ws))
        assert m and m.group(4) == "#" + name and m.group(5) == u.username, m
        assert m.group(6) == "hello from a terminal"
        # Another user (JSON mode) writes a body with a newline.
        j = await WS.hello(stack, v)
        await j.join(room)
        await j.send_msg(room, "two\nlines")
        line = await text_line(ws)
        m = LINE.match(line)
        assert m and m.group(5) == v.username and m.group(6) == "two\\nlines", line
        # A bad body gets "! code: message" and the socket goes on.
        await ws.send("\x07")
        err = await text_line(ws)
        assert err.startswith("! bad_body: "), err
        await ws.send("still here")
        assert LINE.match(await text_line(ws)).group(6) == "still here"
        await ws.close()
        await j.close()
    run(scenario())
    r = u.session.get("/api/rooms/%d/messages" % room)
    assert [m["body"] for m in r.json()["messages"]] == [
        "hello from a terminal", "two\nlines", "still here"]


def test_text_mode_direct_room_shows_at(stack, new_user):
    u, v = new_user(), new_user()
    r = u.session.post("/api/dm", json={"username": v.username})
    if r.status_code == 404:
        import pytest
        pytest.skip("POST /api/dm not there yet")
    assert r.status_code in (200, 201), r.text
    room = r.json()["id"]

    async def scenario():
        ws = await WS.open(stack, u, query="format=text&room=%d" % room)
        await text_line(ws)
        await text_line(ws)
        await ws.send("psst")
        m = LINE.match(await text_line(ws))
        assert m and m.group(4) == "@" + v.username, m
        await ws.close()
    run(scenario())


def test_text_mode_without_room_closes(stack, new_user):
    u = new_user()

    async def scenario():
        ws = await WS.open(stack, u, query="format=text")
        frames = await ws.closed_within(3)
        assert frames and frames[0].startswith("! invalid: "), frames
    run(scenario())


def test_text_mode_unreadable_room_closes(stack, new_user):
    owner, other = new_user(), new_user()
    private = make_room(owner, kind="private")

    async def scenario():
        ws = await WS.open(stack, other, query="format=text&room=%d" % private)
        frames = await ws.closed_within(5)
        assert frames[0] == "* signed in as %s" % other.username, frames
        assert frames[-1].startswith("! not_found: "), frames
    run(scenario())


def test_text_mode_no_cookie(stack):
    async def scenario():
        ws = await WS.open(stack, None, query="format=text&room=1")
        frames = await ws.closed_within(3)
        assert frames and frames[0].startswith("! unauthenticated: "), frames
    run(scenario())
