"""A real JupyterHub for the tests and bench/serving.py: ``deploy/jupyterhub_config.py`` as shipped.

:class:`Hub` runs ``jupyterhub -f deploy/jupyterhub_config.py`` from this environment with
its configurable-http-proxy (``make hub-proxy``: node_modules/, never downloaded at run
time), every placeholder given by an environment variable, the ports on the command line
(free loopback ports), and the test authenticator of ``tests/hub_authenticator.py`` (fixed
passwords). The Hub spawns ``prospects serve --auth hub`` for each person who signs in.

Not a test module: nothing here is collected.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from .browser import ARTIFACTS, ROOT, wait_for_log, wait_port
from .conftest import free_port

HUB_CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
HUB_PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = Path(sys.executable).parent / "jupyterhub"


def hub_available() -> str | None:
    """Why a Hub cannot run here (one line), or ``None``."""
    if not JUPYTERHUB.exists():
        return f"{JUPYTERHUB} not found: pip install -e '.[test]'"
    if not os.access(HUB_PROXY, os.X_OK):
        return f"{HUB_PROXY.relative_to(ROOT)} not found: make hub-proxy (npm ci, package-lock.json)"
    return None


class Hub:
    """``jupyterhub -f deploy/jupyterhub_config.py`` on loopback; :meth:`start`, :meth:`stop`."""

    def __init__(self, folder: Path, db_url: str, passwords: Mapping[str, str], *, idle_timeout: int = 3600,
                 today: str = "2026-11-29", env: Mapping[str, str] | None = None):
        self.folder = folder
        self.passwords = dict(passwords)
        self.port, self.api_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.log_path = folder / "hub.log"
        self.env = {
            **os.environ,
            "PROSPECTS_DB": db_url, "PROSPECTS_TODAY": today, "PROSPECTS_LOCALE": "fr",
            "PROSPECTS_COMMAND": str(Path(sys.executable).parent / "prospects"),
            "PROSPECTS_CONFIG": str(folder / "prospects.toml"),  # none: the defaults
            "PROSPECTS_HUB_STATE": str(folder / "state"),
            "PROSPECTS_HUB_IDLE_TIMEOUT": str(idle_timeout),
            "PROSPECTS_HUB_PROXY": str(HUB_PROXY),
            "PROSPECTS_HUB_AUTHENTICATOR": "tests.hub_authenticator.FixedPasswordAuthenticator",
            "PROSPECTS_TEST_HUB_PASSWORDS": json.dumps(self.passwords),
            "PYTHONPATH": str(ROOT),  # the test authenticator
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Hub:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(JUPYTERHUB), "-f", str(HUB_CONFIG),
             f"--JupyterHub.bind_url=http://127.0.0.1:{self.port}",
             f"--JupyterHub.hub_bind_url=http://127.0.0.1:{self.api_port}",
             f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.proxy_api_port}"],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env, cwd=self.folder)
        wait_port(self.port, self.proc, self.log_path, timeout=120, what="jupyterhub")
        self.wait_log(r"JupyterHub is now running", timeout=120)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 120, count: int = 1) -> list[re.Match]:
        """Wait until the Hub's log (its servers' included) has ``count`` matches of ``pattern``."""
        return wait_for_log(self.log, pattern, timeout, count, proc=self.proc, who="jupyterhub")

    def token(self, login: str, scopes: list[str] | None = None, with_token: str | None = None) -> str:
        """An API token of ``login`` (``jupyterhub token``); with ``scopes``, a narrower one made with
        ``with_token`` (a full token of ``login``) through the Hub's API."""
        if scopes is not None:
            status, doc = self.api("POST", f"users/{login}/tokens", with_token or self.token(login),
                                   {"scopes": scopes, "note": "narrow"})
            assert status == 201, (status, doc)
            return doc["token"]
        out = subprocess.run([str(JUPYTERHUB), "token", "-f", str(HUB_CONFIG), login], capture_output=True, text=True,
                             env=self.env, cwd=self.folder, timeout=120)
        token = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
        if not re.fullmatch(r"[0-9a-f]{32,}", token):
            raise RuntimeError(f"jupyterhub token {login}: {out.returncode}\n{out.stdout}\n{out.stderr[-2000:]}")
        return token

    def api(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        """A call to the Hub's REST API (``/hub/api/<path>``) with ``token``: status and JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}hub/api/{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"body": raw.decode(errors="replace")}

    def servers(self) -> dict[str, int]:
        """The running ``prospects serve --auth hub`` processes of this Hub: login → process id."""
        return {env["JUPYTERHUB_USER"]: pid for pid, env in self._processes(b"serve\0--auth\0hub")}

    def kernels(self, login: str) -> list[int]:
        """Kernel processes started for ``login``'s server (alive even if their server is gone)."""
        return [pid for pid, env in self._processes(b"ipykernel_launcher") if env.get("JUPYTERHUB_USER") == login]

    def _processes(self, marker: bytes) -> list[tuple[int, dict[str, str]]]:
        home = str(self.folder / "state" / "home")
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                if marker not in cmd:
                    continue
                raw = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            env = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
            if env.get("HOME", "").startswith(home):
                out.append((int(pid), env))
        return out

    def stop(self, keep_log_as: str | None = None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the Hub stops its servers, its culler and its proxy
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()
        if keep_log_as:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / keep_log_as).write_text(self.log())


def sign_in(page, hub: Hub, login: str, password: str | None = None, timeout: float = 30_000) -> float:
    """Sign in at the Hub's login page as a person would; the moment the form was submitted."""
    page.goto(hub.url + "hub/login", timeout=timeout)
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", hub.passwords[login] if password is None else password)
    start = time.perf_counter()
    page.click("[type=submit]")
    return start
