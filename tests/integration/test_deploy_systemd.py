"""The systemd install (deploy/systemd/): `systemd-analyze verify` accepts
every unit with its binaries rewritten to the built ones, each service is
locked down the same way, the WebSocket workers never see the database or
the secret, the API's socket is reachable by the web server's user only, every
service runs in pipechat.slice (one CPU scheduling group, with the drop-in
that moves PostgreSQL and the web server into it), the sysctl file raises
pid_max, and the web server snippets for a system nginx
and lighttpd pass their server's own check. No stack, no systemd running.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from pclib import CHECKOUT

UNITS = CHECKOUT / "deploy" / "systemd"
SERVICES = ["pipechat-broker.service", "pipechat-api.service", "pipechat-websocketd@.service",
            "pipechat-migrate.service"]
LONG_RUNNING = ["pipechat-broker.service", "pipechat-api.service",
                "pipechat-websocketd@.service"]
ALL_UNITS = SERVICES + ["pipechat-api.socket", "pipechat.target", "pipechat.slice"]
CPU_KEYS = ("CPUWeight", "StartupCPUWeight", "CPUShares", "StartupCPUShares", "CPUQuota",
            "CPUQuotaPeriodSec")


def build_dir():
    return os.environ.get("PIPECHAT_BUILD") or str(CHECKOUT / "build")


def parse_unit(name):
    """{section: [(key, value)]} of a unit file (comments dropped)."""
    out, section = {}, None
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
            out.setdefault(section, [])
            continue
        k, _, v = line.partition("=")
        out[section].append((k.strip(), v.strip()))
    return out


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit, section, key):
    got = values(unit, section, key)
    assert len(got) == 1, (section, key, got)
    return got[0]


@pytest.fixture(scope="module")
def analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    return path


def test_systemd_analyze_verify_accepts_every_unit(analyze):
    b = build_dir()
    bins = {"/usr/local/bin/pipechat-broker": os.path.join(b, "broker", "pipechat-broker"),
            "/usr/local/bin/pipechat-api": os.path.join(b, "fcgi-api", "pipechat-api"),
            "/usr/local/bin/pipechat-ws": os.path.join(b, "ws-worker", "pipechat-ws"),
            "/usr/local/share/pipechat/scripts/migrate": str(CHECKOUT / "scripts" / "migrate")}
    for real in bins.values():
        assert os.access(real, os.X_OK), "%s is missing: build first" % real
    with tempfile.TemporaryDirectory() as tmp:
        for name in ALL_UNITS:
            text = (UNITS / name).read_text()
            for fake, real in bins.items():
                text = text.replace(fake, real)
            assert "/usr/local/" not in re.sub(r"(?m)^(#.*|Documentation=.*)$", "", text), name
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        # Two instances of the template, as an install enables them.
        for port in ("8101", "8102"):
            os.symlink("pipechat-websocketd@.service",
                       os.path.join(tmp, "pipechat-websocketd@%s.service" % port))
        args = [n for n in ALL_UNITS if "@." not in n] + [
            "pipechat-websocketd@8101.service", "pipechat-websocketd@8102.service"]
        p = subprocess.run([analyze, "verify", "--man=no"] + args, cwd=tmp,
                           capture_output=True, text=True, timeout=120)
        # verify only warns about unknown keys: any word on stderr fails too.
        noise = [l for l in p.stderr.splitlines()
                 if l.strip() and "Failed to read $container" not in l]
        assert p.returncode == 0 and not noise, p.stdout + p.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_locked_down(name):
    u = parse_unit(name)
    svc = dict(u["Service"])
    assert svc["User"] == "pipechat" and svc["Group"] == "pipechat"
    assert svc["EnvironmentFile"] == "/etc/pipechat/pipechat.env"
    for k, v in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                 "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": ""}.items():
        assert svc.get(k) == v, (name, k, svc.get(k))
    # Nothing made writable beyond the unit's own directories, but for the
    # API's one exception: the change board in the broker's folder, which
    # the API moves on every write (common/board.h), and only if it exists.
    allowed = ["-/run/pipechat-broker"] if name == "pipechat-api.service" else []
    assert values(u, "Service", "ReadWritePaths") == allowed, name
    assert values(u, "Unit", "PartOf") == ["pipechat.target"], name


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart_and_have_limits(name):
    svc = dict(parse_unit(name)["Service"])
    assert svc["Restart"] == "on-failure"
    assert int(svc["LimitNOFILE"]) >= 4096 and int(svc["TasksMax"]) >= 64


def test_secret_and_sockets_are_private():
    for name in ("pipechat-broker.service", "pipechat-api.service"):
        svc = dict(parse_unit(name)["Service"])
        assert svc["StateDirectory"] == "pipechat" and svc["StateDirectoryMode"] == "0700"
        assert svc["UMask"] == "0077"
        env = values(parse_unit(name), "Service", "Environment")
        assert "PIPECHAT_SECRET_FILE=/var/lib/pipechat/jwt.key" in env, name
        assert "PIPECHAT_BROKER_DIR=/run/pipechat-broker" in env, name
    broker = dict(parse_unit("pipechat-broker.service")["Service"])
    assert broker["RuntimeDirectory"] == "pipechat-broker"
    assert broker["RuntimeDirectoryMode"] == "0700"


def test_api_socket_only_for_the_web_server():
    sock = dict(parse_unit("pipechat-api.socket")["Socket"])
    assert sock["ListenStream"] == "/run/pipechat-api/api.sock"
    assert (sock["SocketUser"], sock["SocketGroup"], sock["SocketMode"]) == (
        "pipechat", "www-data", "0660")
    assert sock.get("Accept", "no") == "no"
    api = dict(parse_unit("pipechat-api.service")["Service"])
    # libfcgi accepts on descriptor 0; logs must not go to the socket.
    assert api["StandardInput"] == "socket"
    assert api["StandardOutput"] == "journal" and api["StandardError"] == "journal"
    assert "pipechat-api.socket" in one(parse_unit("pipechat-api.service"), "Unit", "Requires")


def test_workers_never_see_the_database_or_the_secret():
    u = parse_unit("pipechat-websocketd@.service")
    cmd = one(u, "Service", "ExecStart")
    m = re.search(r"--passenv=(\S+)", cmd)
    assert m, cmd
    names = m.group(1).split(",")
    assert "PIPECHAT_BROKER_DIR" in names and "PIPECHAT_ORIGINS" in names
    for secret in ("PIPECHAT_DB", "PIPECHAT_SECRET_FILE", "PIPECHAT_METRICS_TOKEN"):
        assert secret not in names
    assert "--port=%i" in cmd and "--address=127.0.0.1" in cmd
    assert re.search(r"--maxforks=\d+", cmd)
    assert cmd.split()[-1] == "/usr/local/bin/pipechat-ws"
    svc = dict(u["Service"])
    # Sized for thousands of workers of ~15 threads each (see the unit's comment).
    forks = int(re.search(r"--maxforks=(\d+)", cmd).group(1))
    assert int(svc["TasksMax"]) >= forks * 15
    assert int(svc["LimitNOFILE"]) >= forks * 4
    assert "PIPECHAT_SECRET_FILE" not in " ".join(values(u, "Service", "Environment"))


@pytest.mark.parametrize("name", SERVICES + ["pipechat-broker@.service"])
def test_services_share_one_slice(name):
    # One scheduling group for the whole stack (pipechat.slice's comment).
    svc = parse_unit(name)["Service"]
    assert dict(svc).get("Slice") == "pipechat.slice", name
    # A CPU property on a unit would give it a cgroup of its own to
    # schedule: the group would split again.
    assert not [k for k, _ in svc if k in CPU_KEYS], name


def test_slice_is_a_cpu_group():
    # Without a CPU property the slice is no cpu cgroup, and its tasks fall
    # back to autogroup: a group per unit (each unit is a session).
    sl = dict(parse_unit("pipechat.slice")["Slice"])
    assert int(sl["CPUWeight"]) == 100


# The system's units the drop-in is for, and Debian's file of each.
SYSTEM_UNITS = {"postgresql@15-main.service": "postgresql@.service",
                "nginx.service": "nginx.service", "lighttpd.service": "lighttpd.service"}


def test_slice_drop_in_moves_a_system_unit(analyze):
    # The drop-in for PostgreSQL and the web server: verify loads each of
    # Debian's own units (a stand-in where one is not installed) with the
    # drop-in beside it and the slice it names.
    drop = parse_unit("pipechat-slice.conf")
    assert drop == {"Service": [("Slice", "pipechat.slice")]}
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(UNITS / "pipechat.slice", tmp)
        for unit, debian in SYSTEM_UNITS.items():
            real = os.path.join("/lib/systemd/system", debian)
            if os.path.exists(real):
                shutil.copy(real, os.path.join(tmp, debian))
                if debian != unit:
                    os.symlink(debian, os.path.join(tmp, unit))
            else:
                with open(os.path.join(tmp, unit), "w") as f:
                    f.write("[Service]\nExecStart=/bin/true\n")
            os.mkdir(os.path.join(tmp, unit + ".d"))
            shutil.copy(UNITS / "pipechat-slice.conf", os.path.join(tmp, unit + ".d"))
        p = subprocess.run([analyze, "verify", "--man=no", "pipechat.slice"] + list(SYSTEM_UNITS),
                           cwd=tmp, capture_output=True, text=True, timeout=120)
        noise = [l for l in p.stderr.splitlines()
                 if l.strip() and "Failed to read $container" not in l]
        assert p.returncode == 0 and not noise, p.stdout + p.stderr


def test_sysctl_raises_pid_max():
    text = (UNITS / "99-pipechat.conf").read_text()
    m = re.search(r"(?m)^kernel\.pid_max\s*=\s*(\d+)$", text)
    assert m and int(m.group(1)) >= 1 << 22


def test_sysctl_turns_autogroup_off():
    # Every unit is a session of its own: autogroup would make each a
    # scheduling group (bench/README.md, session 10).
    text = (UNITS / "99-pipechat.conf").read_text()
    assert re.search(r"(?m)^kernel\.sched_autogroup_enabled\s*=\s*0$", text)


def test_env_example_names_known_settings_only():
    text = (UNITS / "pipechat.env.example").read_text()
    keys = re.findall(r"(?m)^#?(PIPECHAT_[A-Z_]+)=", text)
    assert "PIPECHAT_DB" in keys and "PIPECHAT_ORIGINS" in keys
    # The units set these themselves.
    assert "PIPECHAT_BROKER_DIR" not in keys and "PIPECHAT_SECRET_FILE" not in keys


def test_nginx_site_passes_nginx_t():
    with tempfile.TemporaryDirectory() as tmp:
        site = (UNITS / "nginx-pipechat.conf").read_text()
        site = site.replace("/usr/local/share/pipechat/", str(CHECKOUT) + "/")
        with open(os.path.join(tmp, "site.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(tmp, "main.conf"), "w") as f:
            f.write("error_log stderr;\npid %s/nginx.pid;\nevents {}\nhttp {\n"
                    "include /etc/nginx/mime.types;\ninclude %s/site.conf;\n}\n" % (tmp, tmp))
        p = subprocess.run(["nginx", "-t", "-q", "-e", "stderr", "-p", tmp + "/",
                            "-c", os.path.join(tmp, "main.conf")],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    assert "unix:/run/pipechat-api/api.sock" in site


def test_lighttpd_snippet_passes_lighttpd_tt_with_debians_config():
    if not os.path.exists("/etc/lighttpd/lighttpd.conf"):
        pytest.skip("no /etc/lighttpd/lighttpd.conf")
    with tempfile.TemporaryDirectory() as tmp:
        snip = (UNITS / "lighttpd-pipechat.conf").read_text()
        snip = snip.replace("/usr/local/share/pipechat/", str(CHECKOUT) + "/")
        with open(os.path.join(tmp, "50-pipechat.conf"), "w") as f:
            f.write(snip)
        with open(os.path.join(tmp, "main.conf"), "w") as f:
            f.write('include "/etc/lighttpd/lighttpd.conf"\ninclude "%s/50-pipechat.conf"\n' % tmp)
        p = subprocess.run(["lighttpd", "-tt", "-f", os.path.join(tmp, "main.conf")],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


def test_websocketd_ports_match_between_snippets():
    ngx = set(re.findall(r"server 127\.0\.0\.1:(\d+);", (UNITS / "nginx-pipechat.conf").read_text()))
    lty = set(re.findall(r'"port" => (\d+)', (UNITS / "lighttpd-pipechat.conf").read_text()))
    assert ngx and ngx == lty
