"""Browser tests of www/: headless Chromium driven by Selenium (Debian's
python3-selenium, chromium, chromium-driver).

Fixtures (the stack ones — `stack`, `new_user` — come from tests/conftest.py):
  site     the server the phase tests use: the real `stack`, or the fake one
           (fake_pipechat.py) when PIPECHAT_E2E_FAKE=1 — handy while a server
           part is missing, never a substitute for the real run.
  fake     a FakePipechat (session): scripted API + WebSocket behind lighttpd,
           for the client-logic tests that need a server misbehaving on cue.
  browser  browser(site, phone=False) → a Browser: a fresh Chromium profile
           posing as its own client address (X-Forwarded-For, which the test
           stack trusts from 127.0.0.1), its console log kept, a screenshot of
           its end state saved to tests/out/<test>-<n>.png.
  account  account(site) → (username, email, password), registered over HTTP
           from a fresh address.
"""

import os
import re

import pytest

from pcbrowser import Browser, register_over_http


@pytest.fixture(scope="session")
def fake():
    from fake_pipechat import FakePipechat
    f = FakePipechat().start()
    yield f
    f.stop()


@pytest.fixture
def site(request):
    if os.environ.get("PIPECHAT_E2E_FAKE") == "1":
        return request.getfixturevalue("fake")
    return request.getfixturevalue("stack")


def _test_name(request):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)


@pytest.fixture
def browser(request):
    made = []

    def make(site, phone=False, addr=None):
        b = Browser(site, phone=phone, addr=addr)
        made.append(b)
        return b

    yield make
    for i, b in enumerate(made, 1):
        try:
            b.screenshot("%s-%d" % (_test_name(request), i))
        except Exception:  # noqa: BLE001 (a dead browser has no screenshot)
            pass
        b.quit()


@pytest.fixture
def account():
    return register_over_http
