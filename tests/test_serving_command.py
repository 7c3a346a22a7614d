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
