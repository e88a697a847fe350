"""bench/loadgen's brokerload compiles with the common/ code it shares with
the workers (splink.c, wire.c): CI runs no benchmark, so a change there
that broke it would otherwise show only at the next bench/broker run.
"""

import subprocess
import tempfile

from pclib import CHECKOUT


def test_brokerload_builds_against_common():
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run(["make", "-s", "-C", str(CHECKOUT / "bench" / "loadgen"),
                            "OUT=" + out, out + "/brokerload"],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        usage = subprocess.run([out + "/brokerload"], capture_output=True, text=True,
                               timeout=30)
        assert usage.returncode == 2 and "usage: brokerload" in usage.stderr
