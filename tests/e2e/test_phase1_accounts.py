"""Phase 1 ("Foundation") in a real browser: register, land on the chat page
showing who is signed in, sign out, sign in again by email; the pages load with
no CSP violation and no JavaScript error; API errors are shown where they
belong (next to the field they name, or at the top)."""

import re
import uuid


def test_register_then_sign_out_then_sign_in_with_email(site, browser):
    b = browser(site)
    b.go("/")
    b.wait_path("/login.html")                       # not signed in: sent to sign in
    b.click("a[href='/register.html']")
    b.wait_path("/register.html")

    name = "reg_" + uuid.uuid4().hex[:10]
    email = "%s@example.com" % name
    password = "correct horse battery"
    b.fill("#register-username", name)
    b.fill("#register-email", email)
    b.fill("#register-password", password)
    b.click("#register button[type=submit]")

    b.wait_path("/")                                 # registered and signed in
    assert b.wait_text("#me-name", re.escape(name)).text == name
    assert b.problems() == []

    b.click("#logout")
    b.wait_path("/login.html")
    b.go("/")                                        # the cookie is gone for real
    b.wait_path("/login.html")

    b.fill("#login-username", email.upper())         # emails match ignoring case
    b.fill("#login-password", password)
    b.click("#login button[type=submit]")
    b.wait_path("/")
    assert b.wait_text("#me-name", re.escape(name)).text == name
    assert b.problems() == []


def test_wrong_password_shows_the_error_at_the_top(site, browser, account):
    name, _, password = account(site)
    b = browser(site)
    b.go("/login.html")
    b.fill("#login-username", name)
    b.fill("#login-password", password + "-wrong")
    b.click("#login button[type=submit]")
    err = b.visible("#login-error")                  # field is null: top of the form
    assert err.text.strip(), "the error box is empty"
    assert b.path.startswith("/login.html")
    assert b.find("#login-password").get_attribute("value") == ""
    assert b.problems() == []

    b.fill("#login-password", password)              # and the right one still works
    b.click("#login button[type=submit]")
    b.wait_path("/")


def test_pages_load_without_csp_violation_or_script_error(site, browser, account):
    name, _, password = account(site)
    b = browser(site)
    for path in ("/login.html", "/register.html"):
        b.go(path)
        b.visible("form button[type=submit]")
        # Every stylesheet rule and module applied: the button is styled by app.css.
        assert b.js("return getComputedStyle(document.querySelector('button.primary'))"
                    ".backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    b.sign_in(name, password)
    b.visible("#sidebar")
    assert b.js("return document.body.dataset.state") == "ready"
    assert b.problems() == []


def test_client_side_hints_and_server_errors_go_next_to_their_field(site, browser, account):
    taken, _, _ = account(site)
    b = browser(site)
    b.go("/register.html")
    b.fill("#register-username", "ab")
    b.fill("#register-email", "not-an-email")
    b.fill("#register-password", "short")
    b.click("#register button[type=submit]")
    assert "3 to 32" in b.text_of("#register-username-error")
    assert b.text_of("#register-email-error")
    assert "8" in b.text_of("#register-password-error")
    assert b.find("#register-username").get_attribute("aria-invalid") == "true"

    # The server's 409 names the field: shown under it, not at the top.
    b.fill("#register-username", taken.upper())
    b.fill("#register-email", "fresh_%s@example.com" % taken)
    b.fill("#register-password", "long enough password")
    b.click("#register button[type=submit]")
    assert b.text_of("#register-username-error")
    assert not b.find("#register-error").is_displayed()
    assert b.path.startswith("/register.html")
    assert b.problems() == []


def test_too_many_failures_show_how_long_to_wait(site, browser, account):
    name, _, password = account(site)
    b = browser(site)
    b.go("/login.html")
    for _ in range(6):                               # 5 failures, then 429
        b.fill("#login-username", name)
        b.fill("#login-password", "wrong-password")
        b.click("#login button[type=submit]")
        b.wait(lambda d: b.find("#login-error").is_displayed() and
               b.find("#login button[type=submit]").get_attribute("aria-busy") is None,
               "the answer")
        if "Try again in" in b.find("#login-error").text:
            break
    assert re.search(r"Try again in \d+", b.find("#login-error").text), b.find("#login-error").text
    assert not b.find("#login button[type=submit]").is_enabled()
