"""Only pipechat reaches the broker (contract section 1): its workers'
socket lives in a folder only the service user can enter, the socket itself
is 0600, and a peer of any other uid is refused at the door, even root,
whom no file mode stops. The broker serves that socket itself
(broker/splisten.h): a connection of the service user gets NNG's PAIR1
greeting back; one of another uid is closed without a byte. The broker goes
on serving either way.

One stack (the session's). Not for: the worker's side of the same check
(tests/unit/test_splink.c), tls+tcp:// (test_sharding.py).
"""

import os
import pwd
import socket
import stat

from pclib import assert_alive

PAIR1_GREETING = b"\x00SP\x00\x00\x11\x00\x00"


def _workers_socket(stack):
    d = stack.paths().get("PIPECHAT_BROKER_DIR")
    assert d, stack.paths()
    return d, os.path.join(d, "workers")


def _greeting(path, uid=None):
    """Connects to path (as uid when given, in a child), sends PAIR1's
    greeting, returns what came back within 3 s (b"" when closed)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            if uid is not None:
                os.setgid(pwd.getpwuid(uid).pw_gid)
                os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(3)
            s.connect(path)
            got = b""
            try:
                # a refused peer may find the door shut before it speaks
                s.sendall(PAIR1_GREETING)
                while len(got) < 8:
                    b = s.recv(8 - len(got))
                    if not b:
                        break
                    got += b
            except (socket.timeout, ConnectionResetError, BrokenPipeError):
                pass
            os.write(w, b"ok:" + got)
        except Exception as e:  # noqa: BLE001
            os.write(w, ("err:%s" % e).encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 256)
        if not b:
            break
        out += b
    os.close(r)
    os.waitpid(pid, 0)
    return out


def test_broker_folder_and_socket_are_the_service_users_alone(stack):
    d, path = _workers_socket(stack)
    st_dir, st_sock = os.stat(d), os.stat(path)
    owner = st_dir.st_uid
    assert pwd.getpwuid(owner).pw_name == "pipechat" or owner == os.getuid()
    assert stat.S_IMODE(st_dir.st_mode) & 0o077 == 0, oct(st_dir.st_mode)
    assert stat.S_ISSOCK(st_sock.st_mode)
    assert st_sock.st_uid == owner
    assert stat.S_IMODE(st_sock.st_mode) & 0o077 == 0, oct(st_sock.st_mode)


def test_only_the_service_user_is_greeted(stack):
    d, path = _workers_socket(stack)
    owner = os.stat(d).st_uid
    ok = _greeting(path, uid=owner)
    assert ok == b"ok:" + PAIR1_GREETING, ok
    if owner != os.getuid():
        # root passes every file mode: the uid check is what refuses it
        other = _greeting(path)
        assert other == b"ok:", other
    assert_alive(stack)
