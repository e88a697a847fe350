"""Helpers for pipechat's browser tests: Browser (one headless Chromium with
its console log, CSP probe and screenshots), register_over_http, wait_until.
Imported by tests/e2e/conftest.py and the test modules (a module of its own, not
conftest, so `from conftest import …` elsewhere never picks up the wrong file)."""

import os
import random
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out"

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover
    HAVE_SELENIUM = False

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Runs before any page script: records Content-Security-Policy violations, which
# a page's own code cannot hide, so a test can assert there were none.
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' +
                    (e.sourceFile || '') + ':' + (e.lineNumber || 0));
});
"""


def _address():
    return "10.%d.%d.%d" % (random.randrange(256), random.randrange(256), random.randrange(1, 255))


class Browser:
    """One Chromium. Helpers wait instead of sleeping; every wait fails with
    what the page showed."""

    def __init__(self, site, phone=False, addr=None):
        if not HAVE_SELENIUM:
            pytest.skip("python3-selenium is not installed")
        if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
            pytest.skip("chromium and chromium-driver are not installed")
        self.site = site
        self.base = site.base_url
        self.addr = addr or _address()
        self.profile = tempfile.mkdtemp(prefix="pipechat-e2e-profile-")
        o = Options()
        o.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    "--user-data-dir=" + self.profile):
            o.add_argument(arg)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        self.driver.set_page_load_timeout(30)
        self.logs = []
        cdp = self.driver.execute_cdp_cmd
        cdp("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
        cdp("Network.enable", {})
        cdp("Network.setExtraHTTPHeaders", {"headers": {"X-Forwarded-For": self.addr}})
        if phone:
            cdp("Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
            cdp("Emulation.setTouchEmulationEnabled", {"enabled": True})
        self.csp = []

    # ---- navigation and waiting ----

    def go(self, path):
        self.collect()
        self.driver.get(self.base + path)

    @property
    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def wait(self, cond, what, timeout=10):
        """Waits until cond(driver) is truthy; returns its value."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                lambda d: cond(d))
        except TimeoutException:
            raise AssertionError("timed out after %ss waiting for %s; at %s; page says:\n%s\n"
                                 "console:\n%s" % (timeout, what, self.path, self.page_text()[:2000],
                                                   "\n".join(map(str, self.collect()[-20:]))))

    def wait_path(self, path, timeout=10):
        self.wait(lambda d: self.path.split("#")[0].split("?")[0] == path, "the page %s" % path, timeout)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css, timeout=10):
        def ok(d):
            els = [e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
            return els[0] if els else False
        return self.wait(ok, "%s to be visible" % css, timeout)

    def text_of(self, css, timeout=10):
        return self.visible(css, timeout).text

    def wait_text(self, css, pattern, timeout=10):
        """Waits until the element's text matches pattern (a regex)."""
        rx = re.compile(pattern)

        def ok(d):
            for e in d.find_elements(By.CSS_SELECTOR, css):
                if e.is_displayed() and rx.search(e.text):
                    return e
            return False
        return self.wait(ok, "%s to show /%s/" % (css, pattern), timeout)

    def fill(self, css, text):
        e = self.visible(css)
        e.clear()
        e.send_keys(text)
        return e

    def click(self, css):
        e = self.visible(css)
        e.click()
        return e

    def page_text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except Exception:  # noqa: BLE001 (the page may be mid-navigation)
            return ""

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    # ---- the chat page ----

    def sign_in(self, login, password):
        self.go("/login.html")
        self.fill("#login-username", login)
        self.fill("#login-password", password)
        self.click("#login button[type=submit]")
        self.wait_path("/")
        self.wait_text("#me-name", r"\S")

    def open_room(self, name, join=True):
        """Clicks the room in the sidebar (opening the drawer on a phone), joins
        it when it offers to, and waits until it is open and live."""
        item = ".room-item[data-name='%s']" % name
        self.wait(lambda d: self.js("return document.body.dataset.state") == "ready" and
                  self.all("#my-rooms > li, #public-rooms > li"), "the room list")
        if self.find("#menu").is_displayed() and "sidebar-open" not in \
                (self.find("body").get_attribute("class") or ""):
            self.click("#menu")
        for _ in range(100):                         # page through the list to find it
            if self.all(item) or not self.find("#more-rooms").is_displayed():
                break
            n = len(self.all(".room-item"))
            self.click("#more-rooms")
            self.wait(lambda d: len(self.all(".room-item")) > n, "more rooms")
        self.click(item)
        self.wait_text("#room-title", re.escape(name))
        if join:
            bar = self.all("#join-bar")
            if bar and bar[0].is_displayed():
                self.click("#join")
            self.visible("#composer-body")
            self.wait_text("#conn", "online", timeout=15)

    def send(self, text):
        from selenium.webdriver.common.keys import Keys
        box = self.visible("#composer-body")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def messages(self):
        """[(seq, author, body)] of the open room, in page order."""
        return self.js("""
            return [...document.querySelectorAll('#messages .msg')].map(li => [
              Number(li.dataset.seq), li.querySelector('.author').textContent,
              li.querySelector('.body').textContent]);""")

    # ---- logs ----

    def collect(self):
        """Moves new console entries into self.logs; returns all of them."""
        try:
            self.logs += self.driver.get_log("browser")
            self.csp += self.js("return window.__csp || []") or []
        except Exception:  # noqa: BLE001
            pass
        return self.logs

    def problems(self, allow=()):
        """Console entries that show a bug: JavaScript errors, CSP violations,
        failed loads of anything but an /api/ answer the page expects (4xx). allow:
        regexes of further messages to accept."""
        bad = []
        for e in self.collect():
            msg = e.get("message", "")
            if e.get("level") != "SEVERE" and "Content Security Policy" not in msg:
                continue
            if e.get("source") == "network" and re.search(r"/api/\S* - Failed to load resource: "
                                                          r"the server responded with a status of 4\d\d", msg):
                continue
            if any(re.search(a, msg) for a in allow):
                continue
            bad.append(e)
        return bad + ["CSP violation: " + v for v in self.csp]

    def screenshot(self, name):
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / ("%s.png" % name)
        self.driver.save_screenshot(str(path))
        return path

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def register_over_http(site, prefix="e2e"):
    """Registers a fresh user from a fresh address; returns (username, email, password)."""
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
    email = "%s@example.com" % name
    password = "pw-" + uuid.uuid4().hex[:16]
    r = requests.post(site.base_url + "/api/register",
                      json={"username": name, "email": email, "password": password},
                      headers={"X-Forwarded-For": _address()}, timeout=15)
    assert r.status_code == 201, "register: %s %s" % (r.status_code, r.text[:500])
    return name, email, password


def wait_until(pred, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)
