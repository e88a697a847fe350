"""Audio and video calls in real browsers (issue "Audio and video calls",
docs/calls.md): two signed-in people in a direct chat; one starts a video
call, the other's page rings and accepts; both RTCPeerConnections reach
`connected`, the remote video has a size and plays; hanging up ends both
sides. An unanswered call ends as missed after 30 s on both sides and leaves
one "missed call" in the room's history.

Chromium runs with a fake camera and microphone (--use-fake-device-for-media-
stream) and grants them without asking (--use-fake-ui-for-media-stream); ICE
uses host candidates only (no STUN or TURN set in the test stack), as on one
network. Screenshots of both pages during the call go to tests/out/.
"""

import re

import pytest
import requests

import pcbrowser
from pcbrowser import register_over_http, wait_until

MEDIA_FLAGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
               "--allow-loopback-in-peer-connection",
               "--disable-features=WebRtcHideLocalIpsWithMdns",
               "--autoplay-policy=no-user-gesture-required")


@pytest.fixture
def media_browser(monkeypatch, browser):
    """browser() whose Chromium has a fake camera and microphone."""
    if not pcbrowser.HAVE_SELENIUM:
        pytest.skip("python3-selenium is not installed")
    base = pcbrowser.Options

    class MediaOptions(base):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            for f in MEDIA_FLAGS:
                self.add_argument(f)

    monkeypatch.setattr(pcbrowser, "Options", MediaOptions)
    return browser


def _login(site, name, password):
    s = requests.Session()
    s.headers["X-Forwarded-For"] = pcbrowser._address()
    r = s.post(site.base_url + "/api/login", json={"username": name, "password": password}, timeout=15)
    assert r.status_code == 200, r.text
    return s


def _direct_room(site, a, b_name):
    r = a.post(site.base_url + "/api/dm", json={"username": b_name}, timeout=15)
    assert r.status_code in (200, 201), "POST /api/dm: %s %s" % (r.status_code, r.text[:300])
    return r.json()["id"]


def _two_people_in_a_direct_chat(site, media_browser):
    a_name, _, a_pw = register_over_http(site, "calla")
    b_name, _, b_pw = register_over_http(site, "callb")
    sa = _login(site, a_name, a_pw)
    room = _direct_room(site, sa, b_name)
    a, b = media_browser(site), media_browser(site)
    a.sign_in(a_name, a_pw)
    b.sign_in(b_name, b_pw)
    a.open_room(b_name)
    b.open_room(a_name)
    return a, b, a_name, b_name, room, sa


REMOTE_PLAYING = """
const v = document.getElementById('call-remote');
return v && v.srcObject ? [v.videoWidth, v.videoHeight, v.paused, v.readyState, v.currentTime] : null;
"""


def test_video_call_connects_plays_and_hangs_up(site, media_browser):
    a, b, a_name, b_name, room, _ = _two_people_in_a_direct_chat(site, media_browser)

    a.click("#call-video")
    a.wait_text("#call-status", re.escape("Calling %s" % b_name))
    b.wait_text("#call-incoming-text", r"Incoming video call from %s" % re.escape(a_name), timeout=10)
    b.click("#call-accept")

    for who in (a, b):
        who.wait(lambda d, w=who: w.js("return document.getElementById('call-view').dataset.pc") == "connected",
                 "the RTCPeerConnection to reach connected", timeout=30)
    for who in (a, b):
        who.wait_text("#call-status", r"In call with", timeout=10)
        first = who.wait(lambda d, w=who: (lambda s: s if s and s[0] > 0 and s[1] > 0 and not s[2]
                                           and s[3] >= 2 else False)(w.js(REMOTE_PLAYING)),
                         "the remote video to play with a size", timeout=20)
        # frames keep arriving: the playback clock moves on
        wait_until(lambda w=who, t=first[4]: w.js(REMOTE_PLAYING)[4] > t + 0.3, 10,
                   "the remote video to advance")
    a.screenshot("test_call_video_in_call-caller")
    b.screenshot("test_call_video_in_call-callee")

    # mute and camera off flip the local tracks and the buttons
    a.click("#call-mute")
    assert a.find("#call-mute").get_attribute("aria-pressed") == "true"
    a.click("#call-camera")
    assert a.find("#call-camera").get_attribute("aria-pressed") == "true"

    a.click("#call-hangup")
    for who in (a, b):
        who.wait(lambda d, w=who: w.js("return document.getElementById('call-view').dataset.state") == "ended",
                 "the call to end", timeout=10)
    b.wait_text("#call-status", r"Call ended")
    assert a.problems() == [] and b.problems() == []


def test_unanswered_call_is_missed_on_both_sides_and_in_history(site, media_browser):
    a, b, a_name, b_name, room, sa = _two_people_in_a_direct_chat(site, media_browser)

    a.click("#call-audio")
    b.wait_text("#call-incoming-text", r"Incoming audio call from %s" % re.escape(a_name), timeout=10)
    a.screenshot("test_call_unanswered-caller-ringing")
    b.screenshot("test_call_unanswered-callee-ringing")
    a.wait_text("#call-status", r"No answer", timeout=40)
    b.wait(lambda d: not b.find("#call-incoming").is_displayed(), "the ringing to stop", timeout=10)
    for who in (a, b):
        who.wait(lambda d, w=who: [m for m in w.messages() if m[2] == "missed call"],
                 "the missed call in the room", timeout=10)
    r = sa.get(site.base_url + "/api/rooms/%d/messages" % room, timeout=15)
    assert r.status_code == 200, r.text
    msgs = r.json()["messages"]
    assert [(m["kind"], m["body"], m["user"]["username"]) for m in msgs] == \
        [("system", "missed call", a_name)], msgs
    assert a.problems() == [] and b.problems() == []
