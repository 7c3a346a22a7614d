"""prospects.serving.page on a real server: a page shows the dashboard or a short French sentence, never nothing.

The server runs the dashboard notebook with one cell added before the display, which
misbehaves for some viewers of Cabinet Exemple: too slow for ``--cell-timeout`` (part1),
the kernel dies (staff1), nothing displayed (man1), slow but within the timeout (man2).
``--opening-limit 1`` makes pages wait for each other: in turn between logins, each login's
pages in arrival order.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import time

import nbformat
import pytest

from prospects import db
from prospects.sample import sample_firm
from prospects.serving.app import dashboard_notebook
from prospects.serving.page import CONNECTION_LOST, PAGE_ERROR

from .browser import (
    ARTIFACTS,
    Serve,
    chromium_session,
    http_get,
    kernel_id,
    open_dashboard,
)

CELL_TIMEOUT = 4
MISBEHAVE = """\
# test only: how this notebook misbehaves for some viewers
import os, time
if login == "part1":
    time.sleep(60)  # slower than --cell-timeout
elif login == "staff1":
    os._exit(1)  # the kernel dies
elif login == "man1":
    dashboard = None  # nothing to display
elif login == "man2":
    time.sleep(%(within)s)  # slow, within --cell-timeout
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("page")
    url = f"sqlite:///{base / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    nb = nbformat.read(dashboard_notebook(), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.source.strip() == "dashboard")
    nb.cells.insert(at, nbformat.v4.new_code_cell(MISBEHAVE % {"within": CELL_TIMEOUT - 1.5}))
    notebook = base / "misbehaving.ipynb"
    nbformat.write(nb, notebook)
    s = Serve(url, base / "serve.log", "--auth", "header", "--cell-timeout", str(CELL_TIMEOUT), "--opening-limit", "1",
              "--pool-size", "0", notebook=notebook).start().wait()
    try:
        yield s
    finally:
        s.stop(keep_log_as="serve-page.log")


def _get(server, login: str) -> tuple[int, str]:
    status, body, _ = http_get(server.url, {"X-Forwarded-User": login}, timeout=120)
    return status, body


def _outputs(page: str) -> list[dict]:
    """The cell outputs of a page, as Voilà's template embeds them."""
    return [json.loads(m) for m in re.findall(r'<script type="application/vnd.voila.cell-output\+json">\s*(.*?)\s*</script>',
                                               page, re.S)]


def _shows_error(page: str) -> bool:
    return any(PAGE_ERROR["fr"] in json.dumps(o.get("data", {}), ensure_ascii=False) for o in _outputs(page))


def _shows_dashboard(page: str) -> bool:
    return any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in _outputs(page))


@pytest.mark.parametrize(("login", "why"), [
    ("part1", r"cell \d+: CellTimeoutError"),
    ("staff1", r"cell \d+: DeadKernelError"),
    ("man1", "no cell showed the dashboard"),
])
def test_a_page_that_cannot_show_the_dashboard_says_so_in_french(server, login, why):
    start = time.monotonic()
    status, page = _get(server, login)
    assert status == 200 and _shows_error(page) and not _shows_dashboard(page)
    assert "Traceback" not in page and "CellTimeoutError" not in page and "Timeout error" not in page
    assert time.monotonic() - start < 2 * CELL_TIMEOUT + 30
    server.wait_log(rf"the dashboard of {login} \(kernel [0-9a-f-]+\) could not open: {why}")
    if login == "part1":  # nbclient's own error reaches the server's log too
        assert re.search(r"(Timeout waiting for|Cell execution timed out)", server.log())


def test_a_slow_page_within_the_timeout_shows_the_dashboard(server):
    status, page = _get(server, "man2")
    assert status == 200 and _shows_dashboard(page) and not _shows_error(page)


def test_the_kernel_of_a_page_that_could_not_open_is_shut_down(server):
    status, page = _get(server, "man1")
    kernel = kernel_id(page)
    server.wait_log(rf"kernel {kernel} of man1 shut down: its page could not open")


def test_pages_wait_for_their_turn_in_arrival_order(server):
    logins = ["man2", "dir", "part2", "dir"]  # man2 first: slow, the others queue behind it
    with concurrent.futures.ThreadPoolExecutor(len(logins)) as pool:
        futures = []
        for login in logins:
            futures.append(pool.submit(_get, server, login))
            time.sleep(0.3)
        results = [f.result(timeout=180) for f in futures]
    assert all(status == 200 and _shows_dashboard(page) for status, page in results)
    kernels = [kernel_id(page) for _, page in results]
    started = [m.group(1) for m in re.finditer(r"new kernel ([0-9a-f-]{36}) for", server.log())]
    assert [started.index(k) for k in kernels] == sorted(started.index(k) for k in kernels)


def test_one_logins_pages_do_not_hold_back_another_login(server):
    """Three slow pages of man2 queued first: dir's page is the next one opened, not the fourth."""
    already = len(server.log())
    logins = ["man2", "man2", "man2", "dir"]
    with concurrent.futures.ThreadPoolExecutor(len(logins)) as pool:
        futures = []
        for login in logins:
            futures.append(pool.submit(_get, server, login))
            time.sleep(0.3)
        results = [f.result(timeout=240) for f in futures]
    assert all(status == 200 for status, _ in results)
    started = [m.group(1) for m in re.finditer(r"new kernel [0-9a-f-]{36} for (\w+)", server.log()[already:])]
    assert started == ["man2", "dir", "man2", "man2"]


@pytest.fixture(scope="module")
def chromium():
    with chromium_session() as browser:
        yield browser


def test_the_browser_shows_the_sentence_not_a_blank_page(server, chromium):
    ctx = chromium.new_context(extra_http_headers={"X-Forwarded-User": "man1"})
    try:
        page = ctx.new_page()
        page.goto(server.url, timeout=120_000)
        page.wait_for_selector(".pr-page-error", state="visible", timeout=60_000)
        assert page.inner_text(".pr-page-error").strip() == PAGE_ERROR["fr"]
        assert page.locator("#loading").count() == 0 or not page.is_visible("#loading")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-could-not-open.png"))
    finally:
        ctx.close()


def test_an_open_page_whose_kernel_is_closed_asks_for_a_reload(server, chromium):
    """A fourth page of the same login closes the oldest kernel (--kernels-per-login 3): that page says so."""
    ctx = chromium.new_context(extra_http_headers={"X-Forwarded-User": "dir"})
    try:
        page = ctx.new_page()
        open_dashboard(page, server.url)
        kernel = kernel_id(page.evaluate("() => document.getElementById('jupyter-config-data').textContent"))
        for _ in range(3):
            assert _get(server, "dir")[0] == 200
        server.wait_log(rf"kernel {kernel} of dir shut down: dir opened more than 3 pages")
        page.wait_for_selector(".pr-page-banner", state="visible", timeout=60_000)
        assert page.inner_text(".pr-page-banner").strip() == CONNECTION_LOST["fr"]
        page.screenshot(path=str(ARTIFACTS / "page-connection-lost.png"))
    finally:
        ctx.close()
