"""A real JupyterHub in front of ``prospects serve --auth hub`` (docs/deployment.md, "JupyterHub").

``deploy/jupyterhub_config.py`` as shipped, run by the ``jupyterhub`` package of this
environment with its configurable-http-proxy (npm, ``make hub-proxy``), the simple local
spawner and a test authenticator with fixed passwords (tests/hub_authenticator.py). People
sign in at the Hub in Debian's Chromium; the Hub spawns their server, its proxy carries the
page and the kernel's websocket. Cabinet Exemple (prospects.sample) for figures known by
hand. Outside CI the module skips loudly when Chromium or the proxy is missing; in CI
(``CI=true``) that is a failure.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from prospects import db
from prospects.sample import sample_firm
from prospects.serving.page import CONNECTION_LOST

from . import browser
from .browser import (
    ARTIFACTS,
    CHROMIUM_MISSING,
    cells,
    chromium_available,
    eur,
    expected_cells,
    open_dashboard,
    require,
)
from .hub import Hub, hub_available, sign_in

chromium = browser.chromium  # a fixture: Debian's Chromium for this module

pytestmark = pytest.mark.browser

PASSWORDS = {"part1": "pw-part1-Zk4", "dir": "pw-dir-9Qm", "staff1": "pw-staff1-x2", "man2": "pw-man2-77",
             "gone": "pw-gone-0", "nobody": "pw-nobody-1"}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('hub-db') / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    return url


#: the Hub's idle timeout here (PROSPECTS_HUB_IDLE_TIMEOUT): short enough for the culler's test, long
#: enough that no page of the other tests sits idle that long
IDLE = 30


@pytest.fixture(scope="module")
def hub(sample_db, tmp_path_factory):
    require(None if chromium_available() else CHROMIUM_MISSING, "HUB")
    require(hub_available(), "HUB")
    h = Hub(tmp_path_factory.mktemp("hub"), sample_db, PASSWORDS, idle_timeout=IDLE).start()
    try:
        yield h
    finally:
        h.stop(keep_log_as="hub.log")


def _context(chromium):
    return chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")


def _signed_in(chromium, hub: Hub, login: str):
    """A browser context of ``login`` signed in at the Hub, its dashboard open; (context, page, seconds)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    ctx = _context(chromium)
    page = ctx.new_page()
    start = sign_in(page, hub, login)
    deadline = time.monotonic() + 180
    while True:  # the spawn (pending page) then the server
        try:
            page.wait_for_url(f"**/user/{login}/**", timeout=30_000)
            break
        except PlaywrightTimeout:
            # signed in while the culler was stopping this person's server: the Hub's pending page
            # waits for the stop only; asking for the server again starts it, as a person would
            assert time.monotonic() < deadline and "/hub/spawn-pending/" in page.url, page.url
            page.goto(f"{hub.url}hub/spawn/{login}", timeout=60_000)
    open_dashboard(page, page.url)
    return ctx, page, time.perf_counter() - start


def _no_figures(page) -> None:
    body = page.inner_text("body")
    assert "€" not in body and page.locator(".pr-cell-signed_offers").count() == 0, body[:500]


def _get(url: str, headers: dict | None = None) -> tuple[int, str, str]:
    """Status, body and Location of a GET that does not follow redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers or {}),
                                                          timeout=60) as r:
            return r.status, r.read().decode(errors="replace"), ""
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers.get("Location", "")


# ---------------------------------------------------------------------------


def test_people_sign_in_at_the_hub_and_each_sees_their_own_figures(chromium, hub, sample_db):
    from playwright.sync_api import expect

    first, page1, took1 = _signed_in(chromium, hub, "dir")
    second = None
    try:
        assert "Claire Directrice" in page1.inner_text(".pr-header")
        assert cells(page1) == expected_cells(sample_db, "dir")
        # the page talks to its kernel through the Hub's proxy: a filter change comes back
        page1.select_option(".pr-filter-region select", label="Cabinet Exemple (tout le cabinet)")
        expect(page1.locator(".pr-cell-signed_budget .pr-value")).to_have_text(eur("18 500"))
        ARTIFACTS.mkdir(exist_ok=True)
        page1.screenshot(path=str(ARTIFACTS / "hub-dir.png"))
        second, page2, took2 = _signed_in(chromium, hub, "staff1")
        assert "Sophie Collaboratrice" in page2.inner_text(".pr-header")
        assert cells(page2) == expected_cells(sample_db, "staff1")
        assert page2.locator(".pr-filter-region").count() == 0  # own deals only
        # each has a server of their own, started by the Hub: `prospects serve --auth hub`
        servers = hub.servers()
        assert set(servers) >= {"dir", "staff1"} and servers["dir"] != servers["staff1"]
        assert hub.kernels("dir") and hub.kernels("staff1")
        print(f"hub: first figures {took1:.1f} s (dir), {took2:.1f} s (staff1) after the login form, spawn included")
    finally:
        first.close()
        if second is not None:
            second.close()


def test_a_persons_url_of_another_persons_server_is_refused(chromium, hub, sample_db):
    a, page_a, _ = _signed_in(chromium, hub, "dir")
    b, page_b, _ = _signed_in(chromium, hub, "staff1")
    try:
        for page, other in ((page_a, "staff1"), (page_b, "dir")):
            response = page.goto(f"{hub.url}user/{other}/", timeout=60_000)
            page.wait_for_load_state()
            assert response is not None and response.status == 403, (other, response and response.status)
            # the Hub refuses to vouch for them to the other's server (no OAuth code for it)
            assert "/hub/api/oauth2/authorize" in page.url and "You do not have permission" in page.inner_text("body")
            _no_figures(page)
        # both still see their own figures
        page_a.goto(f"{hub.url}user/dir/", timeout=60_000)
        open_dashboard(page_a, page_a.url)
        assert cells(page_a) == expected_cells(sample_db, "dir")
    finally:
        a.close()
        b.close()


def test_the_server_needs_the_hubs_proof_of_its_owner(hub):
    assert "staff1" in hub.servers()  # started by the first test (a sign-in starts it again if culled)
    url = f"{hub.url}user/staff1/"
    # no cookie, a bad token, a forged header: sent through the Hub's login (OAuth), no data
    for headers in ({}, {"Authorization": "token nonsense"}, {"X-Forwarded-User": "staff1"}):
        status, body, location = _get(url + "?user=staff1", headers)
        assert status == 302 and "/hub/api/oauth2/authorize" in location and "client_id=jupyterhub-user-staff1" in location
        assert "€" not in body
    # a token of another person, sent to the server itself: the server refuses it
    status, body, _ = _get(url, {"Authorization": f"token {hub.token('dir')}"})
    assert status == 403 and "Accès refusé" in body and "€" not in body
    # the owner's own token without the right to use the server (a narrower token): refused
    owner = hub.token("staff1")
    narrow = hub.token("staff1", scopes=["read:users:name!user=staff1"], with_token=owner)
    status, body, _ = _get(url, {"Authorization": f"token {narrow}"})
    assert status == 403 and "€" not in body
    # the owner's full token opens it (the Hub's proof, nothing the browser invents)
    status, body, _ = _get(url, {"Authorization": f"token {owner}"})
    assert status == 200 and "jupyter-config-data" in body


def test_someone_the_directory_does_not_know_is_refused_at_the_hub(chromium, hub):
    for login in ("nobody", "gone"):
        ctx = _context(chromium)
        page = ctx.new_page()
        try:
            sign_in(page, hub, login)
            page.wait_for_selector("text=Accès refusé", timeout=60_000)
            assert ("inconnu" if login == "nobody" else "inactif") in page.inner_text("body")
            assert "/hub/login" in page.url
            _no_figures(page)
        finally:
            ctx.close()
        assert login not in hub.servers()
    # a wrong password does not sign in either
    ctx = _context(chromium)
    page = ctx.new_page()
    try:
        sign_in(page, hub, "part1", password="not-the-password")
        page.wait_for_selector("text=Invalid username or password", timeout=60_000)
        assert "part1" not in hub.servers()
    finally:
        ctx.close()


def test_the_hubs_idle_culler_stops_an_idle_server_and_keeps_a_busy_one(chromium, hub):
    """staff1 closes the tab (nothing reaches the server any more), dir keeps working: staff1's server stops.

    A tab left open is not idle for the Hub: its websocket pings every 30 s through the proxy. Its
    kernel is culled after ``--cull-idle-timeout`` (the same idle time) by the server itself.
    """
    from playwright.sync_api import expect

    idle, _, _ = _signed_in(chromium, hub, "staff1")
    busy, busy_page, _ = _signed_in(chromium, hub, "dir")
    since = len(hub.log())  # dir's server of an earlier test may have been culled before: only this one counts
    try:
        assert {"staff1", "dir"} <= set(hub.servers())
        idle.close()
        closed = time.monotonic()
        labels = ["Cabinet Exemple (tout le cabinet)", "Mes affaires"]
        turn = 0
        while "staff1" in hub.servers():  # dir works with the dashboard, staff1 does nothing
            assert time.monotonic() - closed < 3 * IDLE + 30, "the idle server was not culled"
            busy_page.select_option(".pr-filter-region select", label=labels[turn % 2])
            busy_page.wait_for_function("() => !document.querySelector('.pr-root.pr-busy')", timeout=60_000)
            turn += 1
            time.sleep(2)
        culled_after = time.monotonic() - closed
        hub.wait_log(r"Culling server staff1 \(inactive for")
        assert culled_after >= IDLE, culled_after  # not before its idle time
        assert "Culling server dir" not in hub.log()[since:] and "dir" in hub.servers()
        deadline = time.monotonic() + 60
        while hub.kernels("staff1") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not hub.kernels("staff1")  # the kernel went with its server
        # the busy one still works
        busy_page.select_option(".pr-filter-region select", label="Cabinet Exemple (tout le cabinet)")
        expect(busy_page.locator(".pr-cell-signed_budget .pr-value")).to_have_text(eur("18 500"))
        print(f"hub: staff1's server culled {culled_after:.0f} s after the tab closed (idle timeout {IDLE} s)")
    finally:
        busy.close()


def test_signing_out_of_the_hub_ends_access_to_the_server(chromium, hub):
    ctx, page, _ = _signed_in(chromium, hub, "dir")
    try:
        assert {c["name"] for c in ctx.cookies()} >= {"jupyterhub-user-dir"}, "the server's OAuth cookie"
        assert "dir" in hub.servers() and hub.kernels("dir")
        other = ctx.new_page()
        other.goto(hub.url + "hub/logout", timeout=60_000)
        other.wait_for_url("**/hub/login**", timeout=60_000)
        # the Hub stopped the server and its kernel: the open page says so
        page.wait_for_selector(".pr-page-banner", state="visible", timeout=90_000)
        assert page.inner_text(".pr-page-banner").strip() == CONNECTION_LOST["fr"]
        deadline = time.monotonic() + 60
        while ("dir" in hub.servers() or hub.kernels("dir")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "dir" not in hub.servers() and not hub.kernels("dir")
        # going back to the dashboard's address: the Hub's login, no figures
        page.goto(f"{hub.url}user/dir/", timeout=60_000)
        page.wait_for_url("**/hub/login**", timeout=60_000)
        _no_figures(page)
        page.screenshot(path=str(ARTIFACTS / "hub-signed-out.png"))
    finally:
        ctx.close()
