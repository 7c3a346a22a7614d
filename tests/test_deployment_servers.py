"""Two ``prospects serve`` behind one nginx, sticky by login (docs/deployment.md, "Beyond one machine").

Two real ``prospects serve --auth header`` processes, each with its own figure store folder
(as two machines would have), one real PostgreSQL (fixture ``pg_server``) holding the small
demo firm, Debian's nginx running ``deploy/nginx-prospects.conf`` with the documented
``upstream`` block (``hash $remote_user consistent``) and basic auth, people signing in
through it in Debian's Chromium. Outside CI the module skips loudly when Chromium, nginx or
openssl is missing; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from prospects import db, demo, store
from prospects.config import load_settings
from prospects.serving.page import CONNECTION_LOST

from . import browser
from .browser import (
    ARTIFACTS,
    FIGURES_SHOWN,
    LOAD_TIMEOUT,
    Serve,
    StickyNginx,
    cells,
    chromium_available,
    expected_cells,
    kernel_id,
    load_logins,
    nginx_binary,
    open_dashboard,
    open_many,
    require_package,
)

chromium = browser.chromium  # a fixture: Debian's Chromium for this module

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

TODAY = "2026-11-29"
FIRST = 6  # people signing in at once; more come, a few at a time, until both servers have some


def _require(ok: bool, what: str) -> None:
    require_package(ok, what, "TWO-SERVER")


@pytest.fixture(scope="module")
def shared_db(pg_server, tmp_path_factory):
    """The small demo firm in a PostgreSQL database of its own; the test's own store folder meanwhile."""
    import sqlalchemy as sa

    _require(chromium_available(), "/usr/bin/chromium")
    _require(nginx_binary() is not None, "nginx")
    _require(shutil.which("openssl") is not None, "openssl")
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE two_servers")
    admin.dispose()
    url = f"{pg_server}/two_servers"
    db.replace_all(db.make_engine(url), demo.generate("small", seed=42, today=dt.date.fromisoformat(TODAY)))
    # expected_cells() and the loads below read the database as a third machine would (its own store)
    before = os.environ.get("PROSPECTS_STORE")
    os.environ["PROSPECTS_STORE"] = str(tmp_path_factory.mktemp("store-tests"))
    try:
        yield url
    finally:
        if before is None:
            os.environ.pop("PROSPECTS_STORE", None)
        else:
            os.environ["PROSPECTS_STORE"] = before


@pytest.fixture(scope="module")
def site(shared_db, tmp_path_factory):
    """Two servers (own store folders) behind nginx; people with their passwords."""
    base = tmp_path_factory.mktemp("two-servers")
    servers = [Serve(shared_db, base / f"serve-{i}.log", "--auth", "header", "--pool-size", "1",
                     env={"PROSPECTS_STORE": str(base / f"store-{i}")}) for i in (1, 2)]
    logins = load_logins(shared_db, 24)
    users = {login: f"pw-{i}-{login}" for i, login in enumerate(logins)}
    proxy = None
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait()
        proxy = StickyNginx(base / "nginx", [s.port for s in servers], users).start()
        proxy.servers, proxy.logins = servers, logins
        yield proxy
    finally:
        if proxy is not None:
            proxy.stop()
        for i, s in enumerate(servers, 1):
            if s.proc is not None and s.proc.poll() is None:
                s.stop(keep_log_as=f"serve-two-servers-{i}.log")


def _owner(site, page) -> int:
    """The index of the server whose kernel this page talks to (the kernel id of its HTML)."""
    kernel = kernel_id(page.content())
    owners = [i for i, s in enumerate(site.servers) if kernel in s.kernel_ids()]
    assert len(owners) == 1, (kernel, owners)
    return owners[0]


def _tripled(frames: dict) -> dict:
    """The same firm a month later: every fee tripled."""
    frames = {name: frame.copy() for name, frame in frames.items()}
    frames["document_lines"]["amount_cents"] = frames["document_lines"]["amount_cents"] * 3
    return frames


def test_two_servers_behind_nginx_share_people_loads_and_a_failure(chromium, site, shared_db):
    from playwright.sync_api import expect

    people: dict[str, tuple] = {}  # login → (context, page, server index)

    def sign_in(logins: list[str]) -> None:
        contexts = [chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR", ignore_https_errors=True,
                                        http_credentials={"username": u, "password": site.users[u]}) for u in logins]
        pages = [c.new_page() for c in contexts]
        open_many(pages, site.url, timeout=240)
        for login, ctx, page in zip(logins, contexts, pages, strict=True):
            assert cells(page) == expected_cells(shared_db, login), login
            people[login] = (ctx, page, _owner(site, page))

    try:
        waiting = list(site.logins)
        sign_in([waiting.pop(0) for _ in range(FIRST)])
        while len({server for *_, server in people.values()}) < 2:  # the hash put everybody on one: more people
            assert waiting, "24 people, all on one server"
            sign_in([waiting.pop(0) for _ in range(min(3, len(waiting)))])
        # each person reaches one process, page and websocket (the kernel of their page answers
        # through it): another page of theirs goes to the same process
        by_server = {i: [u for u, (*_, s) in people.items() if s == i] for i in (0, 1)}
        for i in (0, 1):
            ctx, _, _ = people[by_server[i][-1]]
            again = ctx.new_page()
            open_dashboard(again, site.url)
            assert _owner(site, again) == i, by_server[i][-1]
            again.close()
        print("two servers:", {i: len(v) for i, v in by_server.items()}, "people")

        # a new load on the database: the next page of each shows the new extract, on both servers
        before = {u: expected_cells(shared_db, u) for u in people}
        settings = load_settings(db=shared_db, today=TODAY)
        engine = db.make_engine(shared_db)
        store.replace_content(engine, _tripled(db.read_all(engine)), settings=settings)
        engine.dispose()
        for i in (0, 1):
            # someone of this server whose figures the load changes (not an empty "Mes affaires")
            login, after = next((u, expected_cells(shared_db, u)) for u in by_server[i]
                                if expected_cells(shared_db, u) != before[u])
            _, page, _ = people[login]
            open_dashboard(page, site.url)
            assert cells(page) == after and _owner(site, page) == i, login

        # one server stops: its people read the reload sentence; a reload lands them on the other
        stopped = 0
        site.servers[stopped].stop(keep_log_as="serve-two-servers-1.log")
        for login in by_server[stopped]:
            _, page, _ = people[login]
            expect(page.locator(".pr-page-banner")).to_have_text(CONNECTION_LOST["fr"], timeout=60_000)
        for login in by_server[stopped]:
            _, page, _ = people[login]
            page.reload(timeout=LOAD_TIMEOUT)
            page.wait_for_function(FIGURES_SHOWN, timeout=LOAD_TIMEOUT)
            assert cells(page) == expected_cells(shared_db, login) and _owner(site, page) == 1 - stopped, login
        # the other server's people never noticed
        for login in by_server[1 - stopped]:
            _, page, _ = people[login]
            assert page.locator(".pr-page-banner").is_hidden(), login
        ARTIFACTS.mkdir(exist_ok=True)
        people[by_server[stopped][0]][1].screenshot(path=str(ARTIFACTS / "two-servers-after-failover.png"))
    finally:
        for ctx, _, _ in people.values():
            ctx.close()
