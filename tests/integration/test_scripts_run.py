"""scripts/run itself: the services it starts share one session (so one
scheduling group when the kernel's autogroup is on: docs/deploy.md,
"Scheduler"), each in a process group of its own; a foreground run stops
everything on Ctrl-C, once ready or halfway through its start.

Foreground runs get stacks of their own (pclib.Stack, never started with
--detach). Not for: scripts/svc and scripts/stop on a running stack
(test_broker_faults.py, test_accounts_db_down.py use them).
"""

import os
import queue
import signal
import subprocess
import threading
import time

import pytest
import requests

from pclib import CHECKOUT, Stack, session_and_group

SERVICES = ("db", "broker", "api", "ws", "web")


def stack_processes(var):
    """Pids whose environment names this state folder (every service and
    child carries PIPECHAT_STACK; PostgreSQL's title rewrite may hide its
    children's, never the postmaster's)."""
    mark = b"PIPECHAT_STACK=" + str(var).encode() + b"\0"
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if mark in f.read():
                    found.append(int(p))
        except OSError:
            pass
    return found


def service_pids(st):
    return {name: int((st.var / "run" / ("%s.pid" % name)).read_text().split()[0])
            for name in SERVICES}


def test_services_share_one_session_in_groups_of_their_own(stack):
    pids = service_pids(stack)
    ids = {name: session_and_group(pid) for name, pid in pids.items()}
    sessions = {sid for sid, _ in ids.values()}
    assert len(sessions) == 1, ids
    # Not the caller's session: Ctrl-C in the terminal reaches only the
    # foreground scripts/run, which stops the stack in order.
    assert sessions != {os.getsid(0)}
    # scripts/stop signals each service's group (websocketd's workers with it).
    for name, pid in pids.items():
        assert ids[name][1] == pid, (name, ids[name])
    if os.path.exists("/proc/%d/autogroup" % pids["db"]):
        groups = {open("/proc/%d/autogroup" % p).read().split()[0] for p in pids.values()}
        assert len(groups) == 1, groups


class Foreground:
    """scripts/run in the foreground, its output read by a thread, so no
    wait here can hang on a run that stalls."""

    def __init__(self, st):
        self.p = subprocess.Popen([str(CHECKOUT / "scripts" / "run")], env=st.env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, cwd=str(CHECKOUT))
        self.lines = queue.Queue()
        self.out = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, text=None, seconds=120):
        """The output up to the first line containing text (None: up to the
        end), or up to the deadline."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.out.append(line)
            if text is not None and text in line:
                break
        return "".join(self.out)

    def ctrl_c(self, seconds=90):
        """SIGINT, as the terminal sends it; returns (exit code or None,
        all the output)."""
        self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        return rc, self.until(seconds=5)


def wait_gone(var, seconds=10):
    deadline = time.monotonic() + seconds
    while stack_processes(var) and time.monotonic() < deadline:
        time.sleep(0.1)
    return stack_processes(var)


@pytest.fixture
def own_stack():
    st = Stack()
    yield st
    st.stop()
    subprocess.run(["rm", "-rf", str(st.scratch)])


def test_ctrl_c_stops_a_foreground_run(own_stack):
    st = own_stack
    run = Foreground(st)
    out = run.until("press Ctrl-C to stop")
    assert "press Ctrl-C to stop" in out, out
    r = requests.get(st.base_url + "/api/health", timeout=5)
    assert r.status_code == 200
    pids = service_pids(st)
    assert len({session_and_group(pid)[0] for pid in pids.values()}) == 1
    rc, out = run.ctrl_c()
    assert rc == 0, out
    assert "stopped: web ws api broker db" in out, out
    assert wait_gone(st.var) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(st.base_url + "/api/health", timeout=5)


def test_ctrl_c_during_start_up_stops_what_started(own_stack):
    st = own_stack
    # PostgreSQL is up and the migrations are next: halfway through.
    run = Foreground(st)
    out = run.until("migrations")
    assert "migrations" in out, out
    rc, out = run.ctrl_c()
    assert rc not in (0, None), out
    assert wait_gone(st.var) == [], out
    assert not (st.var / "run" / "owner").exists()


def test_a_service_restarted_alone_gets_a_session_of_its_own(own_stack):
    # scripts/svc runs outside the stack's session: the restarted service
    # cannot join it, and becomes a session (and group) of its own; the
    # others stay together (scripts/lib/own-pgrp).
    own_stack.start()
    own_stack.svc("restart", "api")
    pids = service_pids(own_stack)
    ids = {name: session_and_group(pid) for name, pid in pids.items()}
    assert ids["api"] == (pids["api"], pids["api"]), ids
    assert len({ids[n][0] for n in SERVICES if n != "api"}) == 1, ids
    r = requests.get(own_stack.base_url + "/api/health", timeout=10)
    assert r.status_code == 200, r.text


def test_a_bad_ws_sched_stops_the_start_and_what_started():
    """PIPECHAT_WS_SCHED is batch or other (docs/deploy.md, "Scheduling
    policy"): anything else is refused with its name, scripts/run fails, and
    nothing it started stays running."""
    st = Stack({"PIPECHAT_WS_SCHED": "fifo"})
    try:
        p = st.script("run", "--detach", timeout=180, check=False)
        assert p.returncode not in (0, None), p.stdout
        assert "PIPECHAT_WS_SCHED=fifo: want batch or other" in p.stdout, p.stdout
        assert wait_gone(st.var) == [], p.stdout
    finally:
        st.stop()
        subprocess.run(["rm", "-rf", str(st.scratch)])
