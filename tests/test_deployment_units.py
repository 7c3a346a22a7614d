"""deploy/'s systemd units of the dashboard: several servers (a template unit) and the JupyterHub.

Read, parsed with the CLI's own parser, and checked by ``systemd-analyze verify`` with the
executables pointed at this environment (the units themselves do not run here: no systemd
in CI). Without systemd-analyze the module skips loudly outside CI and fails in CI.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prospects import cli

from .conftest import IN_CI

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
BIN = Path(sys.executable).parent


def _verify(tmp_path: Path, name: str, text: str) -> None:
    """``systemd-analyze verify`` of ``text`` saved as ``name``: no complaint at all."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze not found: install Debian's systemd package (make system-deps)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING UNIT CHECKS: " + message)
    path = tmp_path / name
    path.write_text(text.replace("/srv/prospects/.venv/bin/", f"{BIN}/"), "utf-8")
    proc = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def _exec_start(text: str) -> list[str]:
    return shlex.split(re.search(r"^ExecStart=(.+)$", text, re.M).group(1))


def test_the_template_unit_runs_one_header_server_per_port(tmp_path):
    text = (DEPLOY / "prospects-dashboard@.service").read_text("utf-8")
    args = _exec_start(text)
    assert args[0] == "/srv/prospects/.venv/bin/prospects"
    parsed = cli.build_parser().parse_args([a.replace("%i", "8867") for a in args[1:]])
    assert (parsed.command, parsed.auth, parsed.ip, parsed.port) == ("serve", "header", "127.0.0.1", 8867)
    # the same settings as the single server's unit, but the port
    single = _exec_start((DEPLOY / "prospects-dashboard.service").read_text("utf-8"))
    assert [a.replace("%i", "8866") for a in args] == single
    assert "KillMode=mixed" in text and "EnvironmentFile=/etc/prospects/env" in text
    _verify(tmp_path, "prospects-dashboard@8867.service", text)


def test_the_hub_unit_runs_the_shipped_jupyterhub_configuration(tmp_path):
    text = (DEPLOY / "prospects-hub.service").read_text("utf-8")
    args = _exec_start(text)
    assert args == ["/srv/prospects/.venv/bin/jupyterhub", "-f", "/srv/prospects/deploy/jupyterhub_config.py"]
    assert (DEPLOY / "jupyterhub_config.py").is_file()
    assert "Environment=PROSPECTS_HUB_PROXY=/srv/prospects/node_modules/.bin/configurable-http-proxy" in text
    assert "KillMode=mixed" in text and "User=prospects" in text
    _verify(tmp_path, "prospects-hub.service", text)
