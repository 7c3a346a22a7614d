"""prospects.serving.command: the serve command's checks, the demo logins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from prospects.config import load_settings
from prospects.serving import command


@pytest.fixture
def sample_settings(sample_url):
    return load_settings(db=sample_url, today="2026-11-29")

def test_demo_login_default_only_for_demo_databases(sample_settings):
    assert command.demo_login_table(sample_settings) == []  # Cabinet Exemple is not a demo firm
    logins = [
        {"login": "d", "what": "the whole firm, with the filters", "can_validate_offers": True},
        {"login": "p", "what": "their region, with the filters", "can_validate_offers": True},
    ]
    assert command.default_demo_login(logins) == "p"
    assert command.default_demo_login(logins[:1]) == "d"
    assert command.default_demo_login([]) is None

def test_the_demo_login_table_of_a_demo_database_names_its_people(tmp_path):
    """The table printed by serve: the demo's logins as prospects.demo chose them, read from the figure store."""
    import datetime as dt

    from prospects import db, demo

    frames = demo.generate("small", seed=42, today=dt.date(2026, 11, 29))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    db.replace_all(db.make_engine(url), frames, {"source": "demo size=small seed=42"})
    logins = command.demo_login_table(load_settings(db=url, today="2026-11-29"))
    # the same people as `prospects demo` names (the store holds the prospect deals only: counts may differ)
    assert [(x["login"], x["what"]) for x in logins] == [(x["login"], x["what"]) for x in demo.demo_logins(frames)]
    assert command.default_demo_login(logins) == next(x["login"] for x in logins if x["what"].startswith("their region"))


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "prospects.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})

def test_serve_refuses_an_empty_database_and_a_missing_user(tmp_path, sample_settings):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    r = _cli("--db", empty, "serve", "--user", "dir", "--no-browser")
    assert r.returncode == 2 and "prospects demo" in r.stderr
    r = _cli("--db", sample_settings.db_url, "serve", "--no-browser")  # not a demo firm: --user is needed
    assert r.returncode == 2 and "--user" in r.stderr
    r = _cli("serve", "--help")
    assert r.returncode == 0 and "--auth" in r.stdout and "127.0.0.1" in r.stdout

def test_local_mode_listens_on_loopback_only(sample_settings):
    for ip in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert command.check_options(command.ServeOptions(ip=ip)) is None
    for ip in ("0.0.0.0", "::", "192.0.2.10", "example.org"):
        problem = command.check_options(command.ServeOptions(ip=ip))
        assert problem and "loopback" in problem and "--auth header" in problem
    r = _cli("--db", sample_settings.db_url, "serve", "--user", "dir", "--ip", "0.0.0.0", "--no-browser")
    assert r.returncode == 2 and "loopback" in r.stderr

def test_header_mode_options_are_checked():
    ok = command.ServeOptions(auth="header", ip="0.0.0.0", trusted_proxies=("10.0.0.5", "192.0.2.0/24", "::1"))
    assert command.check_options(ok) is None
    assert "header name" in command.check_options(command.ServeOptions(auth="header", header_name="X User"))
    assert "--trusted-proxy" in command.check_options(command.ServeOptions(auth="header", trusted_proxies=("proxy.lan",)))
    assert "--auth" in command.check_options(command.ServeOptions(auth="token"))


def test_a_real_serve_prints_the_address_once_and_no_noise(tmp_path, sample_url):
    """What `make dashboard` shows: the banner with the address once; no trust warning, no browser complaint.

    Started as `make dashboard` starts it (a browser asked for) on a machine with none (a PATH
    without any, no DISPLAY), then a page opened: the console holds nothing a newcomer reads as
    an error.
    """
    from .browser import Serve, http_get

    venv_bin = os.path.dirname(sys.executable)
    env = {"PATH": venv_bin, "DISPLAY": "", "BROWSER": "", "WAYLAND_DISPLAY": ""}
    server = Serve(sample_url, tmp_path / "console.log", "--auth", "local", "--user", "dir", env=env,
                   open_browser=True).start().wait()
    try:
        server.wait_log(r"Stop with Ctrl-C")
        status, page, _ = http_get(server.url)
        assert status == 200 and "jupyter-config-data" in page
        server.wait_log(r"new kernel [0-9a-f-]{36} for dir|warm kernel [0-9a-f-]{36} for dir")
    finally:
        server.stop()
    console = server.log()
    assert console.count(f"127.0.0.1:{server.port}") == 1, console
    for noise in ("not trusted", "No web browser", "is running at", "WARNING", "ERROR", "Traceback",
                  "connection files", "Serving static files", "Culling kernels", "Kernel started"):
        assert noise not in console, (noise, console)
    banner = console[console.index("Suivi Business"):console.index("Stop with Ctrl-C")]
    assert "URL:" in banner and "Viewer:  dir (" in banner
