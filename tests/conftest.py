"""Fixtures shared by every pytest suite of pipechat (tests/integration,
tests/e2e): real stacks started with scripts/run, clients, users.

Lives in tests/ (not tests/integration/) so that both suites, run in one
pytest session, share ONE started stack. The code is in tests/integration/pclib;
this file only wires it into pytest. Documented in tests/integration/README.md.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
pytest.register_assert_rewrite("pclib")

import pclib  # noqa: E402
from pclib import PLAIN_ENV, Stack, StackError, make_client, make_user  # noqa: E402

# Lines for the closing summary (kept scratch folders, sanitizer reports).
_notes = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "disruptive: stops or kills services of the shared stack; "
        "run after every other test of the session")


def pytest_collection_modifyitems(session, config, items):
    """Tests marked disruptive run last, so a service they stop and restart
    cannot disturb the others even when the restart is broken."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def pytest_terminal_summary(terminalreporter):
    for line in _notes:
        terminalreporter.write_line(line)


class _Stacks:
    """Every stack started in this session, by settings; each is started once
    (a failed start is remembered and re-raised, not retried)."""

    def __init__(self):
        self.stacks = {}

    def get(self, settings):
        key = tuple(sorted(settings.items()))
        if key not in self.stacks:
            st = Stack(settings)
            try:
                st.start()
                self.stacks[key] = st
            except StackError as e:
                self.stacks[key] = e
                _notes.append("pipechat: stack %r failed to start; scratch kept: %s"
                              % (settings, st.scratch))
        got = self.stacks[key]
        if isinstance(got, Exception):
            pytest.fail("pipechat stack %r did not start:\n%s" % (settings, got),
                        pytrace=False)
        return got

    def close(self, failed):
        keep_all = os.environ.get("PIPECHAT_TEST_KEEP") == "1"
        for st in self.stacks.values():
            if isinstance(st, Exception):
                continue
            err = st.stop()
            if err:
                _notes.append("pipechat: scripts/stop failed for %s:\n%s" % (st.var, err))
            san = st.sanitizer_logs()
            for path in san:
                _notes.append("pipechat: SANITIZER REPORT %s" % path)
            if failed or san or err or keep_all:
                _notes.append("pipechat: scratch kept: %s (port %d)" % (st.scratch, st.port))
            else:
                st.remove()


@pytest.fixture(scope="session")
def _pc_stacks(request):
    stacks = _Stacks()
    yield stacks
    stacks.close(failed=request.session.testsfailed > 0)


@pytest.fixture(scope="session")
def stack(_pc_stacks):
    """The shared stack: default settings, 127.0.0.1 trusted as a proxy (so
    X-Forwarded-For sets each client's address). Do not change its settings;
    stop services on it only in tests marked disruptive, and restart them."""
    return _pc_stacks.get({})


@pytest.fixture(scope="session")
def start_stack(_pc_stacks):
    """start_stack(**env) -> a Stack started with those PIPECHAT_* settings
    (None unsets one). Stacks with the same settings are shared by the whole
    session, so ask for the same dict (e.g. pclib.PLAIN_ENV) when you can:
    each start costs seconds."""
    return lambda **env: _pc_stacks.get(env)


@pytest.fixture(scope="session")
def plain_stack(start_stack):
    """A second stack with pclib.PLAIN_ENV: no trusted proxy (every client is
    127.0.0.1, X-Forwarded-* ignored), token life 600 s, send rate 7.
    At most 20 registrations per hour on it, for the whole session."""
    return start_stack(**PLAIN_ENV)


@pytest.fixture
def client(stack):
    """client(addr=None, origin=None, stack=None) -> a new PCSession (a
    requests.Session taking "/api/..." URLs) with its own random client
    address unless addr is given. Closed at the end of the test."""
    made = []

    def make(addr=None, origin=None, stack=stack):
        s = make_client(stack, addr=addr, origin=origin)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def new_user(stack):
    """new_user(prefix="u", addr=None, password=None, stack=None) -> a
    pclib.User registered and signed in (.session, .id, .username, .email,
    .password, .token, .addr, .cookie_header, .login())."""
    made = []

    def make(prefix="u", addr=None, password=None, stack=stack):
        u = make_user(stack, prefix=prefix, addr=addr, password=password)
        made.append(u)
        return u

    yield make
    for u in made:
        u.session.close()


# Re-exported for test modules that prefer `from conftest import ...`.
assert_error = pclib.assert_error
assert_alive = pclib.assert_alive
