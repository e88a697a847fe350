"""Many sockets (issue 10): several websocketd processes behind the web server
(PIPECHAT_WS_PROCS; scripts/lib/stack.sh) share the sockets, start and stop
together as the service `ws`; and a burst of clients that hang up while
their workers are still dialling leaves the broker answering the next ones
(NNG 1.5.2 stopped accepting after such a hang-up: nanomsg/nng#1518, patched
in the NNG that scripts/lib/nng.sh builds); and websocketd with its workers
runs SCHED_BATCH unless PIPECHAT_WS_SCHED=other.

One extra stack with two websocketd. Not for: how many sockets fit or how
fast they open (bench/sockets).
"""

import asyncio
import os
import socket
import struct
import time

import pytest

from pclib import assert_alive, children
from test_hardening_audit import hello_ws
from test_hardening_sandbox import build_dir, sanitized
from test_ws_client import make_room, run

# Also the switch back to the kernel's default scheduling policy, so that
# one extra stack covers both.
PROCS_ENV = {"PIPECHAT_WS_PROCS": "2", "PIPECHAT_WS_SCHED": "other"}


@pytest.fixture(scope="module")
def procs_stack(start_stack):
    return start_stack(**PROCS_ENV)


def test_two_websocketd_share_the_sockets(procs_stack, new_user):
    st = procs_stack
    pids = st.ws_pids()  # ws and ws2, and no ws3
    assert len(pids) == 2 and pids[0] != pids[1], pids
    a, b = pids
    u = new_user(stack=st)

    async def go():
        socks = [await hello_ws(st, u) for _ in range(6)]
        try:
            # The web server sends each new socket to the websocketd with
            # the fewest open: lighttpd's "fair" gives 3 and 3; nginx's
            # least_conn counts per nginx worker (2 here), so 4 and 2 at
            # worst.
            counts = [len(children(a)), len(children(b))]
            assert sum(counts) == 6 and min(counts) >= 2, counts
        finally:
            for s in socks:
                await s.close()

    run(go())


def test_default_is_one_websocketd(stack, new_user):
    """PIPECHAT_MAX_WORKERS 4,000 (the default): one websocketd (more cost
    every message more CPU: bench/README.md, "Sockets per websocketd"), and
    a socket through the web server reaches a worker under it."""
    pids = stack.ws_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], 0)  # it runs
    u = new_user()

    async def go():
        s = await hello_ws(stack, u)
        try:
            assert stack.workers(), "no worker under any websocketd"
        finally:
            await s.close()

    run(go())


def test_websocketd_and_its_workers_run_sched_batch(stack, new_user):
    """PIPECHAT_WS_SCHED=batch (the default): websocketd runs SCHED_BATCH,
    and so does every worker it starts (they inherit it): a woken worker
    does not preempt the broker's fan-out (docs/deploy.md, "Scheduling
    policy"). The rest of the stack keeps the kernel's default."""
    u = new_user()

    async def go():
        s = await hello_ws(stack, u)
        try:
            for pid in stack.ws_pids():
                assert os.sched_getscheduler(pid) == os.SCHED_BATCH, pid
            workers = stack.workers()
            assert workers, "no worker under any websocketd"
            for pid in workers:
                assert os.sched_getscheduler(pid) == os.SCHED_BATCH, pid
            for name in ("broker", "web"):
                assert os.sched_getscheduler(stack.pid(name)) == os.SCHED_OTHER, name
        finally:
            await s.close()

    run(go())


def test_ws_sched_other_is_the_kernels_default(procs_stack, new_user):
    st = procs_stack
    u = new_user(stack=st)

    async def go():
        s = await hello_ws(st, u)
        try:
            for pid in st.ws_pids() + st.workers():
                assert os.sched_getscheduler(pid) == os.SCHED_OTHER, pid
        finally:
            await s.close()

    run(go())


@pytest.mark.disruptive
def test_ws_service_is_every_websocketd(procs_stack, new_user):
    st = procs_stack
    try:
        st.svc("stop", "ws")
        assert st.pid("ws") is None and st.pid("ws2") is None
    finally:
        st.svc("start", "ws")
    assert len(st.ws_pids()) == 2
    u = new_user(stack=st)

    async def go():
        socks = [await hello_ws(st, u) for _ in range(2)]
        for s in socks:
            await s.close()

    run(go())


def test_hang_ups_during_the_dial_leave_the_broker_answering(procs_stack, new_user):
    st = procs_stack
    u = new_user(stack=st)
    # 400 upgrades with a signed-in user's cookie (the worker dials the
    # broker at once; a cookieless one is refused before it dials), 50 at a
    # time, each closed as soon as its 101 arrives: their workers exit while
    # they are still dialling. (200 did not show the bug in 2 runs of 2.)
    cookie = u.cookie_header
    head = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nOrigin: %s\r\nCookie: %s\r\n\r\n"
            % (st.port, st.origin, cookie)).encode()
    for _ in range(8):
        batch = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
            s.sendall(head)
            batch.append(s)
        for s in batch:
            try:
                s.recv(64)
            except OSError:
                pass
            s.close()
    # Every later socket still gets its hello (before the fix: `unavailable`).
    time.sleep(1.0)

    async def go():
        for _ in range(5):
            s = await asyncio.wait_for(hello_ws(st, u), 20)
            await s.close()

    run(go())
    assert_alive(st)


def _proc_number(pid, name, key):
    """The number after key ("Threads:") in /proc/PID/name, or None."""
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _threads(pid):
    return _proc_number(pid, "status", "Threads:")


def test_a_worker_is_one_thread(stack, new_user):
    """An operator's pid budget (kernel.pid_max, systemd's TasksMax) counts
    threads: with its broker on ipc:// a worker speaks NNG's protocol in its
    own thread (common/splink.h) and starts none, while signed in and
    after traffic both ways."""
    u = new_user()
    room = make_room(u)

    async def go():
        s = await hello_ws(stack, u)
        try:
            await s.join(room)
            await s.send_msg(room, "one thread")
            await s.expect("message")
            kids = stack.workers()
            assert kids, "no worker under websocketd"
            counts = [_threads(k) for k in kids]
            assert all(c == 1 for c in counts if c is not None), counts
        finally:
            await s.close()

    run(go())
    assert_alive(stack)


def _exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return None


def _started(pid):
    try:
        return int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return -1


def _own_kib(pid):
    """The worker's own pages (Pss_Anon: its anonymous and copied-on-write
    pages): what each more socket costs once the program's text is shared
    by many (bench/sockets measures Pss). Not Pss_Dirty, which also counts
    the text's page-cache pages while a just-built binary is unwritten."""
    return _proc_number(pid, "smaps_rollup", "Pss_Anon:")


def test_the_worker_on_one_machine_is_the_small_build(stack, new_user):
    """With every broker on ipc:// the worker websocketd starts stays the
    program it started (no hand-over to pipechat-ws-full, which is only for
    tcp brokers and debug sandbox modes: ws-worker/README.md, "Two builds"),
    and where the build made the musl worker, one signed-in worker that
    chatted costs under 128 KiB of PSS (glibc's static worker: about 145)."""
    u = new_user()
    room = make_room(u)
    full = build_dir(stack) / "ws-worker" / "pipechat-ws-full"

    async def go():
        s = await hello_ws(stack, u)
        try:
            await s.join(room)
            await s.send_msg(room, "small")
            await s.expect("message")
            kids = stack.workers()
            assert kids, "no worker under websocketd"
            assert {_exe(k) for k in kids} - {None} == {"pipechat-ws"}
            if full.exists() and not sanitized(stack):
                # this socket's worker: the youngest (others of earlier
                # tests on this stack may still be on their way out)
                mine = max(kids, key=_started)
                own = _own_kib(mine)
                assert own is not None and own < 110, own
        finally:
            await s.close()

    run(go())
    assert_alive(stack)


def _relro_writable(pid):
    """The pages of the worker's PT_GNU_RELRO segment (its relocated tables
    of pointers) that are mapped writable, as [(start, end)]."""
    exe = os.readlink("/proc/%d/exe" % pid)
    with open(exe, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    relro = None
    for i in range(phnum):
        p_type, _, _, p_vaddr, _, _, p_memsz, _ = struct.unpack_from("<IIQQQQQQ", table,
                                                                      i * phentsize)
        if p_type == 0x6474e552:  # PT_GNU_RELRO
            relro = (p_vaddr, p_memsz)
    assert relro, "no PT_GNU_RELRO in %s" % exe
    maps = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == exe:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, parts[1], int(parts[2], 16)))
    base = min(lo - off for lo, hi, perm, off in maps if off == 0)
    start = (base + relro[0]) & ~0xfff
    end = (base + relro[0] + relro[1]) & ~0xfff
    return [(lo, hi) for lo, hi, perm, off in maps
            if "w" in perm and lo < end and hi > start]


def test_the_workers_tables_of_pointers_are_read_only(stack, new_user):
    """A worker that parses hostile input keeps its relocated tables of
    pointers (frame and settings tables, function pointers) read-only
    once started: glibc's start seals them, musl's does not, so the worker
    does (ws-worker/relro.h)."""
    u = new_user()

    async def go():
        s = await hello_ws(stack, u)
        try:
            kids = stack.workers()
            assert kids, "no worker under websocketd"
            mine = max(kids, key=_started)
            assert _relro_writable(mine) == []
        finally:
            await s.close()

    run(go())
    assert_alive(stack)
