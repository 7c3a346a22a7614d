"""Serving a firm: who is signed in (--auth local|header), kernels per viewer, nginx, many viewers.

Real ``prospects serve`` processes on loopback ports, Debian's Chromium through Playwright,
Debian's nginx running ``deploy/nginx-prospects.conf`` (the documented file) with basic auth
and a self-signed certificate (a real JupyterHub in front of ``--auth hub``:
tests/test_deployment_hub.py). Cabinet
Exemple (prospects.sample) for the figures known by hand, the small demo firm for eight
viewers at once. Outside CI the module skips loudly when Chromium, nginx or openssl is
missing; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import shutil
import statistics
import time
import urllib.error
import urllib.request

import pytest

from prospects import db
from prospects.config import load_settings
from prospects.sample import sample_firm

from .browser import (
    ARTIFACTS,
    V1_PROTOCOL,
    HeaderProxy,
    Nginx,
    Serve,
    cells,
    cells_in_states,
    chromium_available,
    eur,
    expected_cells,
    http_get,
    kernel_id,
    kernel_message,
    launch_chromium,
    load_logins,
    nginx_binary,
    open_dashboard,
    open_many,
    require_package,
    widget_states,
)

pytestmark = pytest.mark.browser

TODAY = "2026-11-29"
LOAD_VIEWERS = 8


def _require(ok: bool, what: str) -> None:
    require_package(ok, what, "DEPLOYMENT")


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    from prospects import demo

    base = tmp_path_factory.mktemp("deploy-db")
    sample = f"sqlite:///{base / 'sample.db'}"
    db.replace_all(db.make_engine(sample), sample_firm())
    small = f"sqlite:///{base / 'demo-small.db'}"
    import datetime as dt

    db.replace_all(db.make_engine(small), demo.generate("small", seed=42, today=dt.date.fromisoformat(TODAY)))
    return {"sample": sample, "demo": small}


@pytest.fixture(scope="module")
def servers(dbs, tmp_path_factory):
    """Three real servers, started together: header and local on the sample firm, header on the demo."""
    _require(chromium_available(), "/usr/bin/chromium")
    base = tmp_path_factory.mktemp("deploy-serve")
    started = {
        "header": Serve(dbs["sample"], base / "header.log", "--auth", "header", "--pool-size", "0"),  # counts kernels
        "local": Serve(dbs["sample"], base / "local.log", "--auth", "local", "--user", "part1"),
        "demo": Serve(dbs["demo"], base / "demo.log", "--auth", "header", "--cull-idle-timeout", "600"),
    }
    try:
        for s in started.values():
            s.start()
        for s in started.values():
            s.wait()
        yield started
    finally:
        for name, s in started.items():
            s.stop(keep_log_as=f"serve-deploy-{name}.log")


@pytest.fixture(scope="module")
def browser(servers):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def proxy(servers, tmp_path_factory):
    """A trusted proxy per login in front of the header server (Chromium sends no extra header on websockets)."""
    _require(nginx_binary() is not None, "nginx")
    p = HeaderProxy(tmp_path_factory.mktemp("header-proxy"), servers["header"].port, ("dir", "staff1")).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def nginx(servers, dbs, tmp_path_factory):
    _require(nginx_binary() is not None, "nginx")
    _require(shutil.which("openssl") is not None, "openssl")
    logins = load_logins(dbs["demo"], LOAD_VIEWERS)
    users = {login: f"pw-{i}-{login}" for i, login in enumerate(logins)}
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), servers["demo"].port, users).start()
    proxy.logins = logins
    try:
        yield proxy
    finally:
        proxy.stop()


def _context(browser, **kw):
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR", **kw)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _no_data(body: str) -> None:
    assert "€" not in body and "pr-cell-" not in body and "Traceback" not in body


# ---------------------------------------------------------------------------
# --auth header: the server alone


def test_header_mode_without_the_header_gives_no_page_and_no_kernel(servers):
    s = servers["header"]
    kernels = len(s.kernels())
    status, body, headers = http_get(s.url)
    assert status == 403 and "Accès refusé" in body
    _no_data(body)
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "SAMEORIGIN"
    for extra in ({"X-Forwarded-User": ""}, {"X-Forwarded-User": "   "}, {"X-Forwarded-User": "dir\x01"}):
        assert http_get(s.url, extra)[0] in (400, 403)  # tornado itself rejects control characters (400)
    # no login form, no token login, no kernel API, no files, whatever the path
    for path in ("login", "login?next=%2F", "?token=x", "api/kernels", "api/kernels/0b6f1d0e-0000-4000-8000-000000000000",
                 "voila/files/dashboard.ipynb", "voila/api/shutdown/0b6f1d0e-0000-4000-8000-000000000000", "api/sessions"):
        status, body, _ = http_get(s.url + path)
        assert status in (403, 404, 405), (path, status)
        _no_data(body)
    assert len(s.kernels()) == kernels  # nothing started


def test_unknown_and_inactive_logins_are_refused_before_any_kernel(servers):
    s = servers["header"]
    kernels = len(s.kernels())
    for login, reason in (("nobody", "inconnu"), ("gone", "inactif"), ('"; import os #', "inconnu")):
        status, body, _ = http_get(s.url, {"X-Forwarded-User": login})
        assert status == 403 and "Accès refusé" in body and reason in body
        _no_data(body)
    assert len(s.kernels()) == kernels


def test_header_of_a_validator_shows_their_figures(browser, servers, proxy):
    from playwright.sync_api import expect

    ctx = _context(browser)
    page = ctx.new_page()
    try:
        open_dashboard(page, proxy.url_for("dir"))
        assert "Claire Directrice" in page.inner_text(".pr-header")
        expect(page.locator(".pr-filter-region")).to_be_visible()
        assert cells(page) == expected_cells(servers["header"].args[1], "dir")
        page.select_option(".pr-filter-region select", label="Cabinet Exemple (tout le cabinet)")
        expect(page.locator(".pr-cell-signed_budget .pr-value")).to_have_text(eur("18 500"))
        expect(page.locator(".pr-cell-signed_offers .pr-value")).to_have_text("4")
        _shot(page, "deploy-header-validator")
    finally:
        ctx.close()


def test_header_of_a_non_validator_shows_their_own_deals_only_whatever_the_query_string(browser, servers, proxy):
    ctx = _context(browser, extra_http_headers={"X-Forwarded-User": "dir"})  # the page's own header: replaced by the proxy
    page = ctx.new_page()
    try:
        url = proxy.url_for("staff1") + "?user=dir&login=dir&X-Forwarded-User=dir&token=x&template=reveal&theme=dark"
        open_dashboard(page, url)
        assert "Sophie Collaboratrice" in page.inner_text(".pr-header")
        assert page.locator(".pr-filter-region").count() == 0 and page.locator(".pr-filter-collaborator").count() == 0
        assert cells(page) == expected_cells(servers["header"].args[1], "staff1")
        assert cells(page)["signed_budget"] == eur("17 500")  # D1 only (tests/test_figures.py)
        content = page.content()
        assert "login = " not in content and "Traceback" not in content and not re.search(r"reveal\.(js|css)", content)
    finally:
        ctx.close()


def test_a_header_sent_to_a_local_server_changes_nothing(browser, servers):
    ctx = _context(browser, extra_http_headers={"X-Forwarded-User": "staff1"})
    page = ctx.new_page()
    try:
        open_dashboard(page, servers["local"].url + "?user=staff1&login=staff1")
        assert "Paul Associé" in page.inner_text(".pr-header")
        assert cells(page) == expected_cells(servers["local"].args[1], "part1")
    finally:
        ctx.close()
    # --auth local answers loopback names only (no DNS rebinding to the demo's data)
    status, body, _ = http_get(servers["local"].url, {"Host": "attacker.example"})
    assert status == 403
    _no_data(body)


def test_a_kernel_is_usable_only_by_the_viewer_whose_page_started_it(servers):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    s = servers["header"]
    status, page, headers = http_get(s.url, {"X-Forwarded-User": "part1"})
    assert status == 200
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page).group(1)
    api = f"{s.url}api/kernels/{kernel}"
    assert http_get(api, {"X-Forwarded-User": "part1"})[0] == 200
    for other in ("dir", "staff1"):
        status, body, _ = http_get(api, {"X-Forwarded-User": other})
        assert status == 403 and kernel not in body

    async def websocket(login: str | None) -> int:
        req = HTTPRequest(f"ws://127.0.0.1:{s.port}/api/kernels/{kernel}/channels?session_id=t",
                          headers={"X-Forwarded-User": login} if login else {})
        try:
            ws = await websocket_connect(req, subprotocols=[V1_PROTOCOL])
        except HTTPClientError as e:
            return e.code
        ws.close()
        return 101

    async def shutdown(login: str) -> int:
        from tornado.httpclient import AsyncHTTPClient

        client = AsyncHTTPClient()
        xsrf = "0123456789abcdef"  # cookie and header agreeing, as Voilà's page sends them
        r = await client.fetch(f"{s.url}voila/api/shutdown/{kernel}", method="POST", body="",
                               headers={"X-Forwarded-User": login, "X-XSRFToken": xsrf, "Cookie": f"_xsrf={xsrf}"},
                               raise_error=False)
        return r.code

    async def scenario() -> tuple:
        return (await websocket("dir"), await websocket(None), await websocket("part1"),
                await shutdown("dir"), await shutdown("part1"))

    running = len(s.kernels())
    # in a thread of its own: Playwright's sync API keeps an event loop in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        ws_other, ws_none, ws_owner, shut_other, shut_owner = pool.submit(asyncio.run, scenario()).result(timeout=120)
    assert (ws_other, ws_none, ws_owner) == (403, 403, 101)
    assert shut_other == 403 and shut_owner in (200, 204)
    deadline = time.monotonic() + 20
    while len(s.kernels()) != running - 1 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(s.kernels()) == running - 1  # the owner's shutdown did shut it down
    assert http_get(api, {"X-Forwarded-User": "part1"})[0] == 403  # a kernel nobody owns: refused to all


def _answers_within(url: str, seconds: float, times: int = 5) -> list[float]:
    """Response times of ``times`` cheap requests (a refused one: no header), each within ``seconds``."""
    took = []
    for _ in range(times):
        start = time.perf_counter()
        try:
            urllib.request.urlopen(url + "api/kernels", timeout=seconds)
        except urllib.error.HTTPError as e:
            assert e.code == 403
        took.append(time.perf_counter() - start)
        time.sleep(0.2)
    return took


def test_a_hand_made_kernel_websocket_cannot_freeze_the_server(servers):
    """The legacy protocol is refused, a malformed v1 frame closes the socket; the server keeps answering."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    s = servers["header"]
    viewer = {"X-Forwarded-User": "part1"}
    status, page, _ = http_get(s.url, viewer)
    assert status == 200
    kernel = kernel_id(page)
    channels = f"ws://127.0.0.1:{s.port}/api/kernels/{kernel}/channels?session_id=hand-made"

    async def legacy() -> int:
        """A signed-in viewer's socket without the v1 subprotocol; if it opens, make the kernel send binary messages."""
        try:
            ws = await websocket_connect(HTTPRequest(channels, headers=viewer, request_timeout=10))
        except HTTPClientError as e:
            return e.code
        msg = kernel_message("comm_open", {"comm_id": "c", "target_name": "jupyter.widget.control", "data": {}},
                             {"version": "1.0.0"})
        ws.write_message(json.dumps({**msg, "channel": "shell"}))
        ws.write_message(json.dumps({**kernel_message("comm_msg", {"comm_id": "c", "data": {"method": "request_states"}}),
                                     "channel": "shell"}))
        ws.write_message((2**31 - 1).to_bytes(4, "big") + b"\0" * 16, binary=True)  # a legacy binary frame
        await asyncio.sleep(1.0)
        ws.close()
        return 101

    async def malformed_v1() -> tuple[str, int | None]:
        ws = await websocket_connect(HTTPRequest(channels, headers=viewer, request_timeout=10), subprotocols=[V1_PROTOCOL])
        ws.write_message((2**60).to_bytes(8, "little") + b"\0" * 32, binary=True)  # announces 2**60 offsets
        closed = await asyncio.wait_for(ws.read_message(), 10)
        return ws.selected_subprotocol, (ws.close_code if closed is None else -1)

    async def scenario() -> tuple:
        refused = await legacy()
        protocol, close_code = await malformed_v1()
        states = await widget_states(s.port, kernel, viewer, timeout=30)  # a well-formed v1 client still works
        return refused, protocol, close_code, states

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        refused, protocol, close_code, states = pool.submit(asyncio.run, scenario()).result(timeout=120)
    took = _answers_within(s.url, 1.0)
    assert refused == 400, "a kernel websocket without the v1 subprotocol must be refused"
    assert protocol == V1_PROTOCOL and close_code == 1008
    assert max(took) < 1.0, took
    assert cells_in_states(states) == expected_cells(s.args[1], "part1")
    log = s.log_path.read_text(errors="replace")
    assert "refused a kernel websocket without the v1.kernel.websocket.jupyter.org subprotocol" in log
    assert "malformed frame from part1" in log


def test_filters_outside_the_perimeter_are_refused_through_the_api_the_widgets_call(dbs):
    from prospects.api import open_firm
    from prospects.dashboard import Dashboard
    from prospects.scoping import AccessDenied

    firm = open_firm(settings=load_settings(db=dbs["sample"], today=TODAY))
    part1 = firm.as_viewer("part1")
    for call in (
        lambda: part1.figures(unit="R2"), lambda: part1.figures(unit="A2"), lambda: part1.figures(collaborator="man2"),
        lambda: part1.drilldown("signed_budget", unit="R2"), lambda: part1.deals(unit="T2"),
        lambda: part1.documents(collaborator="part2"), lambda: part1.lines(unit="F"),
        lambda: firm.as_viewer("staff1").figures(unit="T1"), lambda: firm.as_viewer("staff1").figures(collaborator="staff1"),
        lambda: firm.as_viewer("man2").drilldown("signed_budget", unit="A2"),
    ):
        with pytest.raises(AccessDenied):
            call()
    d = Dashboard(firm, "part1")
    shown = {code: d.cells[code].html.value for code in d.cells}
    d.unit = "R2"  # a forged widget state
    d._guard(d._refresh)()
    assert "hors de votre périmètre" in d.message.value
    assert {code: d.cells[code].html.value for code in d.cells} == shown  # nothing of R2 shown


# ---------------------------------------------------------------------------
# nginx in front of --auth header (deploy/nginx-prospects.conf)


def test_the_documented_nginx_configuration_is_the_shipped_file():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    lines = (root / "deploy" / "nginx-prospects.conf").read_text().splitlines()
    header = lines.index("")  # the file's header comment, up to the first blank line
    lines = lines[header + 1:]
    doc = (root / "docs" / "deployment.md").read_text()
    block = doc.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert block.strip() == "\n".join(lines).strip()
    for option in ("--auth", "--header-name", "--trusted-proxy", "--cull-idle-timeout"):
        assert option in doc


def test_nginx_asks_for_credentials(nginx):
    for headers in ({}, {"X-Forwarded-User": nginx.logins[0]}):
        status, body, h = http_get(nginx.url, headers)
        assert status == 401 and h.get("WWW-Authenticate", "").startswith("Basic")
        _no_data(body)
    assert http_get(nginx.url, {"Authorization": "Basic " + __import__("base64").b64encode(b"nobody:x").decode()})[0] == 401


def test_nginx_keeps_voilas_static_files_for_everybody_and_still_asks_for_credentials(nginx):
    import base64

    login = nginx.logins[0]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{login}:{nginx.users[login]}".encode()).decode()}
    url = nginx.url + "voila/static/voila.js"
    first, second = http_get(url, auth), http_get(url, auth)
    assert first[0] == second[0] == 200 and first[1] == second[1] and "voila" in first[1]
    assert second[2].get("X-Cache-Status") == "HIT"  # the second copy did not reach the dashboard
    assert not any(k.lower() == "set-cookie" for k in first[2])  # nothing per person is kept
    assert http_get(url)[0] == 401  # the cache is behind the login
    page = http_get(nginx.url, auth)[2]
    assert "X-Cache-Status" not in page  # pages are never cached


def test_browser_login_through_nginx_shows_that_viewer_and_ignores_a_forged_header(browser, nginx, dbs):
    login, forged = nginx.logins[1], nginx.logins[0]  # the regional partner, the firm-wide director
    settings = load_settings(db=dbs["demo"], today=TODAY)
    from prospects.api import open_firm

    firm = open_firm(settings=settings)
    name = firm.as_viewer(login).viewer.full_name
    forged_name = firm.as_viewer(forged).viewer.full_name
    firm.engine.dispose()
    ctx = _context(browser, http_credentials={"username": login, "password": nginx.users[login]},
                   extra_http_headers={"X-Forwarded-User": forged, "X_Forwarded_User": forged}, ignore_https_errors=True)
    page = ctx.new_page()
    try:
        open_dashboard(page, nginx.url + f"?user={forged}")
        header = page.inner_text(".pr-header")
        assert name in header and forged_name not in header
        assert cells(page) == expected_cells(dbs["demo"], login)
        _shot(page, "deploy-nginx-basic-auth")
    finally:
        ctx.close()


def test_eight_viewers_at_once_each_see_their_own_figures(browser, nginx, dbs, servers):
    logins = nginx.logins
    assert len(set(logins)) == LOAD_VIEWERS
    expected = {login: expected_cells(dbs["demo"], login) for login in logins}
    assert len({json.dumps(v, sort_keys=True) for v in expected.values()}) >= LOAD_VIEWERS // 2  # not all alike
    contexts = [_context(browser, http_credentials={"username": u, "password": nginx.users[u]}, ignore_https_errors=True)
                for u in logins]
    try:
        pages = [c.new_page() for c in contexts]
        times = open_many(pages, nginx.url, timeout=240)
        server_mb, kernels_mb = servers["demo"].memory_mb()
        for login, page in zip(logins, pages, strict=True):
            assert cells(page) == expected[login], login
        _shot(pages[0], "deploy-load-first-viewer")
    finally:
        for c in contexts:
            c.close()
    report = {
        "viewers": LOAD_VIEWERS, "first_figures_s": {"min": min(times), "median": statistics.median(times), "max": max(times)},
        "server_rss_mb": round(server_mb), "kernels_rss_mb": [round(k) for k in kernels_mb],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "serving-load.json").write_text(json.dumps(report, indent=2))
    print("serving load:", json.dumps(report))
    assert len(kernels_mb) >= LOAD_VIEWERS
