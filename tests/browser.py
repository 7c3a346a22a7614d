"""Helpers shared by the browser tests and bench/serving.py: real servers, Chromium, the dashboard.

* :class:`Serve` starts a real ``prospects serve`` on a free loopback port (any ``--auth``);
* :class:`Nginx` starts Debian's nginx on loopback with ``deploy/nginx-prospects.conf``
  (the documented file, its addresses and paths replaced) in front of one;
* :func:`launch_chromium` starts Debian's Chromium (never downloaded), :func:`chromium` is
  the same as a module fixture, :func:`serving` starts one server per viewer;
* :func:`open_dashboard`, :func:`cells`, :func:`expected_cells`, :func:`open_many` read it;
* :func:`axe_violations` (axe-core, shipped inside axe-playwright-python), :func:`outside_viewport`,
  :func:`sideways_scroll` and :func:`focus_shows` check a screen for every width and person.

Not a test module: nothing here is collected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
NGINX_CONF = ROOT / "deploy" / "nginx-prospects.conf"
CHROMIUM = os.environ.get("PROSPECTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-default-apps",
]
NNBSP = "\u202f"
LOAD_TIMEOUT = 90_000  # ms: a cold kernel on a busy CI machine
#: The seven cells of the indicator table (CSS class ``pr-cell-<code>``).
CELLS = ("prospects_without_document", "offers_in_progress", "potential_fees", "signed_offers",
         "signed_budget", "refused_offers", "abandoned_prospects")
FIGURES_SHOWN = (
    "() => !!document.querySelector('.pr-cell-signed_offers .pr-value') && !!document.querySelector('.pr-root')"
    " && !document.querySelector('.pr-root.pr-busy')"
)
REFUSED_SHOWN = "() => !!document.querySelector('.pr-access-denied')"


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 150, what: str = "prospects serve") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Serve:
    """A real ``prospects serve`` on a free loopback port; :meth:`start` then :meth:`wait`, :meth:`stop`."""

    def __init__(self, db_url: str, log: Path, *args: str, today: str = "2026-11-29",
                 env: Mapping[str, str] | None = None, port: int | None = None, notebook: Path | None = None,
                 module: str = "prospects.cli", cwd: Path | None = None, open_browser: bool = False):
        self.port = port or free_port()
        self.log_path = log
        self.args = ["--db", db_url, "serve", *args, *([] if open_browser else ["--no-browser"])]
        if "--port" not in args:
            self.args += ["--port", str(self.port)]
        self.env = {**os.environ, "PROSPECTS_TODAY": today, "PROSPECTS_LOCALE": "fr", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.env.pop("PROSPECTS_DB", None)
        # another notebook than the dashboard's: tests/serve_notebook.py
        # or another module running the same command (tests/serve_plain.py)
        self.command = ["-m", "tests.serve_notebook", str(notebook)] if notebook else ["-m", module]
        self.cwd = cwd or ROOT  # another checkout's code with PYTHONPATH (bench/dashboard.py's baseline)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Serve:
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, *self.command, *self.args], stdout=self._log,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 90, count: int = 1) -> list[re.Match]:
        """Wait until the server's log has ``count`` lines matching ``pattern``; the matches."""
        return wait_for_log(self.log, pattern, timeout, count, who="the server")

    def kernel_ids(self) -> dict[str, int]:
        """The server's kernels: id (from the connection file's name) → process id."""
        out = {}
        for pid in self.kernels():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            found = re.search(r"kernel-([0-9a-f-]{36})\.json", cmd)
            if found:
                out[found.group(1)] = pid
        return out

    def wait(self, timeout: float = 60) -> Serve:
        assert self.proc is not None
        wait_port(self.port, self.proc, self.log_path, timeout=timeout)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def kernels(self) -> list[int]:
        """Kernel processes of this server (its children running ipykernel)."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if self.proc is not None and ppid == self.proc.pid and b"ipykernel_launcher" in cmd:
                out.append(int(pid))
        return out

    def memory_mb(self) -> tuple[float, list[float]]:
        """RSS of the server process and of each of its kernels, in MB."""
        assert self.proc is not None
        return rss_kb(self.proc.pid) / 1024, [rss_kb(k) / 1024 for k in self.kernels()]

    def stop(self, keep_log_as: str | None = None) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        if keep_log_as:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / keep_log_as).write_text(self.log_path.read_text(errors="replace"))


@contextlib.contextmanager
def sample_server(tmp_path_factory, name: str, *args: str, **kwargs):
    """A real ``prospects serve ARGS`` of Cabinet Exemple (its own SQLite file) for a module's tests.

    The server's log is kept as ``test-artifacts/serve-NAME.log``; ``db_url`` is its database.
    """
    from prospects import db
    from prospects.sample import sample_firm

    base = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{base / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    server = Serve(url, base / "serve.log", *args, **kwargs).start().wait()
    server.db_url = url
    try:
        yield server
    finally:
        server.stop(keep_log_as=f"serve-{name}.log")


def wait_for_log(read: Callable[[], str], pattern: str, timeout: float, count: int = 1, *,
                 proc: subprocess.Popen | None = None, who: str = "the server") -> list[re.Match]:
    """Wait until ``read()`` (a process's log) has ``count`` matches of ``pattern``; the matches.
    A ``proc`` that exits first is said at once, with the end of its log."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(re.finditer(pattern, read()))
        if len(found) >= count:
            return found
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{who} exited with {proc.returncode}:\n{read()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} × {pattern!r} not in the log of {who} after {timeout} s:\n{read()[-3000:]}")
        time.sleep(0.1)


def require(problem: str | None, tests: str) -> None:
    """Go on when ``problem`` is None; else skip the module's tests loudly, or fail them in CI (``CI=true``)."""
    from .conftest import IN_CI

    if problem is None:
        return
    if IN_CI:
        pytest.fail(problem)
    pytest.skip(f"SKIPPING {tests} TESTS: {problem}")


def require_package(ok: bool, what: str, tests: str) -> None:
    """Go on if ``ok``; else :func:`require`: a Debian package that is missing."""
    require(None if ok else f"{what} not found: install Debian's package (make system-deps); nothing is ever downloaded", tests)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def ssha_line(login: str, password: str) -> str:
    """An htpasswd line nginx reads ({SSHA}: salted SHA-1), made without htpasswd or openssl."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{login}:{{SSHA}}{base64.b64encode(digest + salt).decode()}"


class Nginx:
    """Debian's nginx on loopback running ``deploy/nginx-prospects.conf`` in front of ``upstream_port``.

    The documented file is used as it is, except the lines naming the production address,
    upstream, certificate and password file, each replaced exactly once (a test fails if the
    documented file stops having them).
    """

    def __init__(self, folder: Path, upstream_port: int, users: Mapping[str, str]):
        self.folder = folder
        self.port = free_port()
        self.upstream_port = upstream_port
        self.users = dict(users)
        self.proc: subprocess.Popen | None = None

    def config_text(self) -> str:
        text = NGINX_CONF.read_text()
        f = self.folder
        replacements = {
            "listen 443 ssl;": f"listen 127.0.0.1:{self.port} ssl;",
            "server 127.0.0.1:8866;": f"server 127.0.0.1:{self.upstream_port};",
            "/etc/ssl/certs/prospects.crt": str(f / "cert.pem"),
            "/etc/ssl/private/prospects.key": str(f / "key.pem"),
            "/etc/nginx/prospects.htpasswd": str(f / "htpasswd"),
            "/var/cache/nginx/prospects": str(f / "cache"),
        }
        for old, new in replacements.items():
            if text.count(old) != 1:
                raise AssertionError(f"deploy/nginx-prospects.conf: expected {old!r} once, found it {text.count(old)} times")
            text = text.replace(old, new)
        return text

    def start(self) -> Nginx:
        binary = nginx_binary()
        assert binary, "nginx not found"
        f = self.folder
        f.mkdir(parents=True, exist_ok=True)
        (f / "logs").mkdir(exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-keyout", str(f / "key.pem"), "-out", str(f / "cert.pem")], check=True, capture_output=True)
        (f / "htpasswd").write_text("".join(ssha_line(u, p) + "\n" for u, p in self.users.items()))
        (f / "prospects.conf").write_text(self.config_text())
        self._write_main_and_run(binary)
        return self

    def _write_main_and_run(self, binary: str) -> None:
        f = self.folder
        user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read the temp files
        temp = "".join(f"    {k}_temp_path {f / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        mime = "    include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
        (f / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {f / 'nginx.pid'};\nerror_log {f / 'logs' / 'error.log'} info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n{mime}    access_log {f / 'logs' / 'access.log'};\n{temp}    include {f / 'prospects.conf'};\n}}\n"
        )
        self._log = (f / "logs" / "stderr.log").open("w")
        self.proc = subprocess.Popen([binary, "-p", str(f), "-c", str(f / "nginx.conf"), "-g", "daemon off;"],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, f / "logs" / "stderr.log", what="nginx")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
            ARTIFACTS.mkdir(exist_ok=True)
            for name in ("error.log", "access.log"):
                p = self.folder / "logs" / name
                if p.exists():
                    (ARTIFACTS / f"nginx-{self.folder.name}-{name}").write_text(p.read_text(errors="replace"))


def documented_upstream_policy() -> str:
    """The sticky policy line of docs/deployment.md's ``upstream`` block ("Beyond one machine")."""
    doc = (ROOT / "docs" / "deployment.md").read_text()
    block = next(b for b in (part.split("```", 1)[0] for part in doc.split("```nginx\n")[1:])
                 if b.strip().startswith("upstream prospects_dashboard"))
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    policies = [line for line in lines if line and not line.startswith(("upstream", "server", "}"))]
    assert len(policies) == 1, policies
    return policies[0]


class StickyNginx(Nginx):
    """``deploy/nginx-prospects.conf`` in front of several servers, sticky by login.

    The documented file's one ``server`` line becomes the ``upstream`` block of
    docs/deployment.md ("Beyond one machine"): its policy line as written, then one
    ``server`` line per port.
    """

    def __init__(self, folder: Path, upstream_ports: Iterable[int], users: Mapping[str, str]):
        self.upstream_ports = list(upstream_ports)
        super().__init__(folder, self.upstream_ports[0], users)

    def config_text(self) -> str:
        one = f"server 127.0.0.1:{self.upstream_port};"
        text = super().config_text()
        assert text.count(one) == 1
        block = "\n    ".join([documented_upstream_policy(), *(f"server 127.0.0.1:{p};" for p in self.upstream_ports)])
        return text.replace(one, block)


class HeaderProxy(Nginx):
    """nginx on loopback setting a fixed ``X-Forwarded-User`` per port: a trusted proxy per login.

    Chromium does not send a page's extra headers on websocket handshakes, so browser tests of
    ``--auth header`` go through a proxy, like production (where nginx sets the header from
    the authenticated user: :class:`Nginx`).
    """

    def __init__(self, folder: Path, upstream_port: int, logins: Iterable[str], header: str = "X-Forwarded-User"):
        super().__init__(folder, upstream_port, {})
        self.header = header
        self.ports = {login: free_port() for login in logins}
        self.port = next(iter(self.ports.values()))

    def config_text(self) -> str:
        blocks = ["map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"]
        for login, port in self.ports.items():
            assert login.replace(".", "").replace("-", "").replace("_", "").isalnum(), login
            blocks.append(
                f"server {{\n  listen 127.0.0.1:{port};\n  location / {{\n"
                f"    proxy_pass http://127.0.0.1:{self.upstream_port};\n    proxy_http_version 1.1;\n"
                f'    proxy_set_header {self.header} "{login}";\n    proxy_set_header Host $http_host;\n'
                "    proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection $connection_upgrade;\n"
                "    proxy_buffering off;\n  }\n}\n"
            )
        return "".join(blocks)

    def start(self) -> HeaderProxy:
        binary = nginx_binary()
        assert binary, "nginx not found"
        f = self.folder
        (f / "logs").mkdir(parents=True, exist_ok=True)
        (f / "prospects.conf").write_text(self.config_text())
        self._write_main_and_run(binary)
        return self

    def url_for(self, login: str) -> str:
        return f"http://127.0.0.1:{self.ports[login]}/"


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 60) -> tuple[int, str, dict]:
    """Status, body and headers of a GET (errors included), certificates not checked (loopback)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


# ---------------------------------------------------------------------------
# the browser


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


#: Why the browser tests cannot run.
CHROMIUM_MISSING = "Debian's chromium not found: install it (make system-deps); it is never downloaded"


@contextlib.contextmanager
def chromium_session():
    """Debian's Chromium for a module's tests: skipped loudly when missing, a failure in CI."""
    from playwright.sync_api import sync_playwright

    require(None if chromium_available() else CHROMIUM_MISSING, "BROWSER")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()


def eur(amount: str) -> str:
    return amount.replace(" ", NNBSP) + NNBSP + "€"


def open_dashboard(page, url: str) -> None:
    page.goto(url, timeout=LOAD_TIMEOUT)
    page.wait_for_selector(".pr-cell-signed_offers .pr-value, .pr-access-denied", timeout=LOAD_TIMEOUT)
    page.wait_for_function("() => document.querySelector('.pr-root') && !document.querySelector('.pr-root.pr-busy')",
                           timeout=LOAD_TIMEOUT)


def cells(page) -> dict[str, str]:
    """The seven figures on screen."""
    return {code: page.inner_text(f".pr-cell-{code} .pr-value").strip() for code in CELLS}


def expected_cells(db_url: str, login: str, today: str = "2026-11-29") -> dict[str, str]:
    """What the dashboard must show first, from the package API: the current fiscal year of
    the viewer's remembered Organisation/Collaborateurs choice when their perimeter still
    allows it (``db.read_dashboard_choice``), else "Mes affaires"."""
    from prospects import db, i18n
    from prospects.api import open_firm
    from prospects.config import load_settings
    from prospects.scoping import AccessDenied

    firm = open_firm(settings=load_settings(db=db_url, today=today))
    try:
        view = firm.as_viewer(login)
        unit, collaborator = db.read_dashboard_choice(firm.engine, login) or (None, None)
        try:
            ind = view.figures(unit=unit, collaborator=collaborator).indicators
        except AccessDenied:  # a choice no longer allowed: the dashboard falls back to "Mes affaires"
            ind = view.figures().indicators
    finally:
        firm.engine.dispose()
    out = {}
    for code in CELLS:
        value = ind[code]
        out[code] = i18n.money(value["total"], "fr", "EUR") if isinstance(value, Mapping) else i18n.number(value, "fr")
    return out


def load_logins(url: str, n: int) -> list[str]:
    """``n`` active collaborators of the demo firm, the demo's logins first, then the busiest."""
    from prospects import db, demo

    frames = db.read_all(db.make_engine(url), ("org_units", "entities", "collaborators", "groups", "group_units",
                                               "group_members", "deals"))
    chosen = [x["login"] for x in demo.demo_logins(frames)]
    people = frames["collaborators"]
    deals = frames["deals"]
    counts = deals[["partner_id", "manager_id", "client_manager_id"]].stack().value_counts()
    active = people[people["active"].astype(bool)].assign(deals=lambda p: p["id"].map(counts).fillna(0))
    for login in active.sort_values(["deals", "id"], ascending=[False, True])["login"]:
        if len(chosen) >= n:
            break
        if login not in chosen:
            chosen.append(login)
    return chosen[:n]


def open_many(pages: Iterable, url: str, timeout: float = 180) -> list[float]:
    """Open the dashboard in every page at once; seconds from the requests to each one's first figures.

    All navigations start together (``wait_until="commit"``); then every page is polled
    until its figures are on screen and nothing is busy (or it shows a refusal).
    """
    pages = list(pages)
    start = time.perf_counter()
    for page in pages:
        page.goto(url, wait_until="commit", timeout=timeout * 1000)
    done: dict[int, float] = {}
    deadline = start + timeout
    while len(done) < len(pages):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(pages) - len(done)} of {len(pages)} pages without figures after {timeout} s")
        for i, page in enumerate(pages):
            if i in done:
                continue
            try:
                if page.evaluate(FIGURES_SHOWN) or page.evaluate(REFUSED_SHOWN):
                    done[i] = time.perf_counter() - start
            except Exception:  # navigating: the page's context is not there yet
                continue
        time.sleep(0.05)
    return [done[i] for i in range(len(pages))]


# ---------------------------------------------------------------------------
# a kernel's widgets, read over its websocket (the v1 protocol, as Voilà's page speaks it)

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


def kernel_id(page: str) -> str | None:
    """The kernel a dashboard page was rendered with (``None``: no kernel in it)."""
    found = KERNEL_ID.search(page)
    return found.group(1) if found else None


def v1_frame(channel: str, msg: Mapping, buffers: Iterable[bytes] = ()) -> bytes:
    """A message as the page sends it: offsets, channel, header, parent, metadata, content, buffers."""
    parts = [json.dumps(msg.get(k, {})).encode() for k in ("header", "parent_header", "metadata", "content")]
    parts += [bytes(b) for b in buffers]
    chan = channel.encode()
    count = len(parts) + 2
    offsets = [8 * (count + 1), 8 * (count + 1) + len(chan)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([count.to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets), chan, *parts])


def v1_parse(frame: bytes) -> tuple[str, dict]:
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    parts = [frame[offsets[i]:offsets[i + 1]] for i in range(count - 1)]
    msg = {k: json.loads(p) for k, p in zip(("header", "parent_header", "metadata", "content"), parts[1:5], strict=True)}
    msg["buffers"] = parts[5:]
    return parts[0].decode(), msg


def kernel_message(msg_type: str, content: Mapping, metadata: Mapping | None = None) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "test", "session": "test",
                       "date": "2026-11-29T08:00:00.000Z", "version": "5.3"},
            "parent_header": {}, "metadata": dict(metadata or {}), "content": dict(content)}


async def widget_states(port: int, kernel: str, headers: Mapping[str, str], timeout: float = 60) -> dict[str, dict]:
    """Every widget model of a kernel (id → state), asked as Voilà's page asks (``request_states``)."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    req = HTTPRequest(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}",
                      headers=dict(headers), request_timeout=timeout, connect_timeout=timeout)
    ws = await websocket_connect(req, subprotocols=[V1_PROTOCOL])
    try:
        comm = uuid.uuid4().hex
        ws.write_message(v1_frame("shell", kernel_message(
            "comm_open", {"comm_id": comm, "target_name": "jupyter.widget.control", "data": {}}, {"version": "1.0.0"})), binary=True)
        ws.write_message(v1_frame("shell", kernel_message("comm_msg", {"comm_id": comm, "data": {"method": "request_states"}})),
                         binary=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            frame = await asyncio.wait_for(ws.read_message(), max(0.1, deadline - asyncio.get_running_loop().time()))
            if frame is None:
                raise ConnectionError(f"kernel {kernel}: websocket closed before the widget states")
            _channel, msg = v1_parse(frame)
            data = msg["content"].get("data", {}) if msg["header"]["msg_type"] == "comm_msg" else {}
            if msg["content"].get("comm_id") == comm and data.get("method") == "update_states":
                return {model: entry["state"] for model, entry in data["states"].items()}
    finally:
        ws.close()


async def widget_exchange(port: int, kernel: str, headers: Mapping[str, str], model: str, data: Mapping,
                          timeout: float = 60) -> list[tuple[str, dict]]:
    """Send ``data`` to widget ``model`` as the page does (a ``comm_msg``); every message the kernel sends in reply.

    Returns the (channel, message) pairs whose parent is that message, up to the kernel's
    ``idle`` status for it.
    """
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    req = HTTPRequest(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}",
                      headers=dict(headers), request_timeout=timeout, connect_timeout=timeout)
    ws = await websocket_connect(req, subprotocols=[V1_PROTOCOL])
    try:
        sent = kernel_message("comm_msg", {"comm_id": model, "data": dict(data)})
        ws.write_message(v1_frame("shell", sent), binary=True)
        deadline = asyncio.get_running_loop().time() + timeout
        replies = []
        while True:
            frame = await asyncio.wait_for(ws.read_message(), max(0.1, deadline - asyncio.get_running_loop().time()))
            if frame is None:
                raise ConnectionError(f"kernel {kernel}: websocket closed before the kernel was idle")
            channel, msg = v1_parse(frame)
            if msg["parent_header"].get("msg_id") != sent["header"]["msg_id"]:
                continue
            replies.append((channel, msg))
            if msg["header"]["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return replies
    finally:
        ws.close()


VALUE = re.compile(r'<div class="pr-value">(.*?)</div>', re.S)


def cells_in_states(states: Mapping[str, dict]) -> dict[str, str]:
    """The seven figures of the dashboard in a kernel's widget states (as :func:`cells` reads the screen)."""
    out = {}
    for state in states.values():
        for css in state.get("_dom_classes", ()):
            code = css.removeprefix("pr-cell-")
            if code in CELLS and css != code:
                child = states[state["children"][0].removeprefix("IPY_MODEL_")]
                found = VALUE.search(child.get("value", ""))
                if found:
                    out[code] = html_text(found.group(1))
    return out


def html_text(fragment: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


# ---------------------------------------------------------------------------
# the dashboard's screens: widths, accessibility, focus (tests/test_dashboard_*browser*.py)

#: The widths every screen is checked at (a phone, a tablet, a small and a common laptop, a desktop).
WIDTHS = (390, 768, 1024, 1440, 1920)
IDLE = "() => !!document.querySelector('.pr-root') && !document.querySelector('.pr-root.pr-busy')"


def idle(page) -> None:
    """Wait until no dashboard callback is running (the busy class is gone, the figures fully shown again)."""
    page.wait_for_function(IDLE)
    page.wait_for_function("() => !document.querySelector('.pr-body') || "
                           "getComputedStyle(document.querySelector('.pr-body')).opacity === '1'")


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium for a test module (never downloaded). Outside CI the module skips,
    loudly, when it is missing; in CI (``CI=true``) that is a failure (:func:`chromium_session`)."""
    with chromium_session() as browser:
        yield browser


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """Cabinet Exemple (prospects.sample) in a SQLite file of the test module's own (the
    dashboard writes its viewers' last choices there): its URL and its folder."""
    from prospects import db
    from prospects.sample import sample_firm

    base = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{base / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    return url, base


@contextmanager
def serving(db_url: str, folder: Path, viewers: Mapping[str, tuple[str, str]], today: str = "2026-11-29"):
    """Real ``prospects serve --auth local --user LOGIN`` servers, started together: ``name`` →
    (login, locale) in, ``name`` → :class:`Serve` out; their logs kept in test-artifacts/."""
    started = {
        name: Serve(db_url, folder / f"serve-{name}.log", "--auth", "local", "--user", login, today=today,
                    env={"PROSPECTS_LOCALE": locale})
        for name, (login, locale) in viewers.items()
    }
    try:
        for server in started.values():
            server.start()
        for server in started.values():
            server.wait(timeout=180)  # several servers start at once, on a machine that may be busy
        yield started
    finally:
        for name, server in started.items():
            server.stop(keep_log_as=f"serve-{name}.log")


def reset_choices(db_url: str, logins: Iterable[str]) -> None:
    """Forget the viewers' remembered Organisation/Collaborateurs choices: their next page opens on "Mes affaires"."""
    from prospects import db

    engine = db.make_engine(db_url)
    try:
        for login in logins:
            db.save_dashboard_choice(engine, login, None, None)
    finally:
        engine.dispose()


def axe_violations(page, impacts: Iterable[str] = ("critical", "serious"), context: str | None = None) -> list[dict]:
    """axe-core's violations of these impacts on the page as it is (axe-core ships inside
    axe-playwright-python: nothing is fetched)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [v for v in results.response["violations"] if v["impact"] in set(impacts)]


def axe_report(violations: list[dict]) -> str:
    """The violations, one line per element, for an assertion message."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{v['impact']} {v['id']}: {', '.join(map(str, node['target']))} — {summary[:300]}")
    return "\n".join(lines)


#: Elements wider than the screen that are fine: inside a box that scrolls sideways on purpose.
OUTSIDE_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) {
        const r = a.getBoundingClientRect();
        if (r.left >= -1 && r.right <= width + 1) { return true; }
      }
      if (s.position === 'fixed') { break; }
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll('.pr-root *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') { continue; }
    if ((r.left < -1 || r.right > width + 1) && !clipped(el)) {
      out.push((el.tagName + '.' + String(el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className)
               .trim().split(/\\s+/).slice(-2).join('.')) + ` [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return out;
}"""

SIDEWAYS_SCROLL = """() => {
  const found = [];
  for (const el of [document.documentElement, document.body, ...document.querySelectorAll('#rendered_cells, .pr-root, .pr-root *')]) {
    const s = getComputedStyle(el);
    const scrolls = el === document.documentElement || el === document.body || ['auto', 'scroll'].includes(s.overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1 && !el.matches('.pr-chart-scroll, .pr-table-wrap')) {
      found.push(`${el.tagName}#${el.id}.${String(el.className).split(' ').slice(-1)} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return found;
}"""


def outside_viewport(page) -> list[str]:
    """Elements of the dashboard whose box reaches outside the screen sideways (cut off),
    except inside boxes that scroll sideways on purpose (the chart, a drill-down's table)."""
    return page.evaluate(OUTSIDE_VIEWPORT)


def sideways_scroll(page) -> list[str]:
    """Boxes that scroll sideways (the page included), except the chart and a drill-down's table."""
    return page.evaluate(SIDEWAYS_SCROLL)


def focus_shows(page, selector: str, pad: int = 6) -> bool:
    """Whether focusing the element changes what is drawn around it (a visible focus indicator):
    its surroundings are captured before and after ``focus()`` and compared."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    box = element.bounding_box()
    view = page.viewport_size
    clip = {"x": max(0, box["x"] - pad), "y": max(0, box["y"] - pad)}
    clip["width"] = min(view["width"] - clip["x"], box["width"] + 2 * pad)
    clip["height"] = min(view["height"] - clip["y"], box["height"] + 2 * pad)
    before = page.screenshot(clip=clip)
    page.keyboard.press("Shift")  # focus-visible follows keyboard use
    element.focus()
    page.wait_for_timeout(100)
    after = page.screenshot(clip=clip)
    return before != after
