"""Runs the web client's pure-logic unit tests (tests/e2e/js/*.test.mjs) with
node's built-in test runner: room-state.js (contiguous runs, dedupe, gap fill,
outbox) and socket.js (backoff with jitter, ping, silence)."""

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"


def test_web_client_logic_units():
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        pytest.skip("node is not installed (apt-get install nodejs)")
    files = sorted(str(p) for p in JS.glob("*.test.mjs"))
    p = subprocess.run([node, "--no-warnings", "--test", *files], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
