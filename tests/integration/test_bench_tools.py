"""bench/loadgen's tools: brokerload compiles with the common/ code it
shares with the workers (splink.c, wire.c), and loadgen's send window works.
CI runs no benchmark, so a change that broke them would otherwise show only
at the next bench/broker run.
"""

import socket
import subprocess
import tempfile
import time

from pclib import CHECKOUT, free_port


def _build(out, tool):
    """bench/loadgen's TOOL built into the folder out; its path."""
    p = subprocess.run(["make", "-s", "-C", str(CHECKOUT / "bench" / "loadgen"),
                        "OUT=" + out, out + "/" + tool],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return out + "/" + tool


def test_brokerload_builds_against_common():
    with tempfile.TemporaryDirectory() as out:
        usage = subprocess.run([_build(out, "brokerload")], capture_output=True, text=True,
                               timeout=30)
        assert usage.returncode == 2 and "usage: brokerload" in usage.stderr


def test_loadgen_window_keeps_several_sends_in_flight():
    """bench/broker --window: loadgen's ack mode with -w 4 against websocketd
    answering each send at once (the transport floor's `sed`): every send is
    answered, none is an error, and a window past the worker's 256 pending
    sends is refused."""
    with tempfile.TemporaryDirectory() as out:
        loadgen = _build(out, "loadgen")
        port = free_port()
        echo = subprocess.Popen(["websocketd", "--address=127.0.0.1", "--port=%d" % port,
                                 "sed", "-u", 's/"type":"send"/"type":"ack"/'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "websocketd did not listen"
                    time.sleep(0.05)
            url = "ws://127.0.0.1:%d/" % port
            p = subprocess.run([loadgen, "ack", "-u", url, "-n", "2", "-s", "2", "-w", "4",
                                "-d", "1", "--say", "ready", "--ready", "ready"],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stdout + p.stderr
            res = dict(kv.split("=", 1) for kv in
                       next(ln for ln in p.stdout.splitlines()
                            if ln.startswith("RESULT")).split()[1:])
            assert res["ok"] == "1" and res["errors"] == "0", res
            assert int(res["acks"]) >= 8 and res["acks"] == res["sent"], res
            bad = subprocess.run([loadgen, "ack", "-u", url, "-w", "257"],
                                 capture_output=True, text=True, timeout=30)
            assert bad.returncode == 2 and "usage: loadgen" in bad.stderr
        finally:
            echo.terminate()
            echo.wait(timeout=10)
