"""Measure the dashboard as a person sees it, in Debian's Chromium, on the demo firms.

For each size (small, medium by default) it creates the demo database (today fixed so the
runs are comparable), starts a real ``prospects serve`` as the demo's regional partner and
as its firm-wide director, and measures with Playwright:

* time from the page request to the first figures on screen (a new kernel each time);
* a filter change as seen in the browser (Organisation → the first unit offered, until the
  figures are shown and the busy state is gone), a collaborator, the fiscal-year switch
  (computed from the figure store like any filter), a drill-down opening;
* the memory of the viewer's kernel process after those interactions: private (``RssAnon``)
  and proportional share (``Pss``, ``/proc/PID/smaps_rollup``: the figure store's pages,
  mapped by every kernel, are split between them);
* a phone over 4G (the small firm's regional partner): a 390 px mobile page in Chromium with
  its network emulated (9 Mbit/s, 150 ms latency), served by ``prospects serve`` itself, by
  this checkout and by each ``--baseline`` commit (:data:`BASELINES`: before the page's assets
  work, and before its scripts came in one bundle; each run from a ``git archive`` of that commit
  with the same virtual environment) in turns: time to the first
  figures, requests, bytes on the wire and uncompressed, requests to another origin; then a
  second visit with the browser's cache.

Every run opens on "Mes affaires", as a first visit: the viewer's remembered choice is
forgotten before it (the dashboard restores the last Organisation/Collaborateurs choice).
Writes its sections of docs/performance.md (unless ``--no-write``): the firms' table, and the
phone's on its own (``--sizes`` with no size measures only the phone; ``--phone-runs 0`` no phone).
The README's pictures come from ``tests/screenshots.py``.

    .venv/bin/python bench/dashboard.py --sizes small medium --runs 3
    .venv/bin/python bench/dashboard.py --sizes --phone-runs 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docs_section import write_section  # noqa: E402

from prospects.serving.kernels import default_pool_size  # noqa: E402
from tests.browser import CHROMIUM_ARGS, FIGURES_SHOWN, Serve, kernel_id, reset_choices  # noqa: E402  (after the path is set)
from tests.page_assets import FOUR_G, PHONE  # noqa: E402

TODAY = "2026-11-29"
#: The pages the phone is compared with, and what each one was.
BASELINES = {
    "286ac57": "the page before its assets work: Voilà's lab page as it comes (CDN stylesheets, no compression, "
               "no cache headers, no preloading)",
    "c35dfd5": "gzip, caching and the preload list, but Voilà's 85 scripts fetched one by one",
}


def make_demo(size: str, folder: Path) -> str:
    """The demo of that size: the one bench/figures.py keeps in data/ when there, else a new one."""
    kept = ROOT / "data" / f"bench-{size}.db"
    if kept.exists():
        return f"sqlite:///{kept}"
    url = f"sqlite:///{folder / f'demo-{size}.db'}"
    subprocess.run([sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, "demo", "--size", size],
                   check=True, capture_output=True, cwd=ROOT)
    return url


def demo_viewers(url: str) -> dict[str, str]:
    from prospects.config import load_settings
    from prospects.serving.command import default_demo_login, demo_login_table

    logins = demo_login_table(load_settings(db=url, today=TODAY))
    out = {"regional partner": default_demo_login(logins)}
    director = next((x["login"] for x in logins if x["what"].startswith("the whole firm")), None)
    if director:
        out["firm-wide director"] = director
    return out


def start_server(url: str, login: str, log: Path) -> Serve:
    """A real ``prospects serve --user LOGIN`` (the shared test helper), listening."""
    return Serve(url, log, "--user", login, today=TODAY, env={"PROSPECTS_LOCALE": "fr"}).start().wait()


def private_and_pss_mb(pid: int) -> tuple[float, float]:
    """RssAnon and Pss of a process, in MB."""
    anon = pss = float("nan")
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                anon = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return anon, pss


def idle(page) -> None:
    page.wait_for_function("() => document.querySelector('.pr-root') && !document.querySelector('.pr-root.pr-busy')",
                           timeout=120_000)


def first_figures(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".pr-cell-signed_offers .pr-value", timeout=180_000)
    idle(page)
    return time.perf_counter() - start


def timed(page, action, done: str) -> float:
    """Seconds from an action to the moment ``done`` (a JS predicate) holds and nothing is busy."""
    start = time.perf_counter()
    action()
    page.wait_for_function(done, timeout=120_000)
    idle(page)
    return time.perf_counter() - start


def scope_is(text: str) -> str:
    return f"() => {{ const e = document.querySelector('.pr-scope'); return e && e.textContent.includes({text!r}); }}"


def measure_viewer(browser, server: Serve, runs: int, url: str, login: str) -> dict[str, list[float]]:
    res: dict[str, list[float]] = {
        k: [] for k in ("load", "org", "collab", "fy", "drill", "rows", "by_document", "files", "anon", "pss",
                        "anon_files", "pss_files")
    }
    for _ in range(runs):
        reset_choices(url, [login])  # a first visit: "Mes affaires"
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        one_run(ctx.new_page(), server, res)
        ctx.close()
        time.sleep(0.5)
    return res


def page_kernel(page, server: Serve) -> int:
    """The process of this page's kernel (its id is in the page)."""
    kid = kernel_id(page.content())
    pid = server.kernel_ids().get(kid or "")
    if pid is None:
        raise RuntimeError(f"no kernel process for the page's kernel {kid}")
    return pid


def one_run(page, server: Serve, res: dict[str, list[float]]) -> None:
    res["load"].append(first_figures(page, server.url))
    options = page.locator(".pr-filter-region option")
    if options.count() > 1:  # the widest unit offered: the firm for a director, the region for a partner
        label = options.nth(1).inner_text().replace("\xa0", " ")
        res["org"].append(timed(page, lambda: page.select_option(".pr-filter-region select", label=label),
                                scope_is(label.split(" (")[0])))
        people = page.locator(".pr-filter-collaborator datalist option")
        if people.count():
            who = people.nth(people.count() // 2).get_attribute("value")
            name = who.rsplit(" (", 1)[0]
            res["collab"].append(timed(page, lambda: page.fill(".pr-filter-collaborator input", who), scope_is(name)))
            page.fill(".pr-filter-collaborator input", "")
            idle(page)
    res["fy"].append(timed(page, lambda: page.click(".pr-filter-fy button >> nth=1"),
                           "() => document.querySelector('.pr-month-2025-12') !== null"))
    page.click(".pr-filter-fy button >> nth=0")
    page.wait_for_function("() => document.querySelector('.pr-month-2025-12') === null")
    idle(page)
    res["drill"].append(timed(page, lambda: page.click(".pr-cell-signed_offers"),
                              "() => { const e = document.querySelector('.pr-drill'); return e && e.offsetParent !== null; }"))
    res["rows"].append(float(page.inner_text(".pr-drill-footer .pr-foot-documents").replace("\u202f", "")))
    res["by_document"].append(timed(page, lambda: page.click(".pr-drill-by button >> nth=1"),
                                    "() => document.querySelector(\".pr-drill-table th[data-col='document_id']\") !== null"))
    kernel = page_kernel(page, server)  # not the kernels of earlier runs, still open
    anon, pss = private_and_pss_mb(kernel)
    res["anon"].append(anon)
    res["pss"].append(pss)
    if page.locator(".pr-download-prepare").is_visible():
        res["files"].append(timed(page, lambda: page.click(".pr-download-prepare"),
                                  "() => document.querySelector('.pr-download-xlsx') !== null"))
    else:
        res["files"].append(0.0)  # ready with the drill-down
    anon, pss = private_and_pss_mb(kernel)
    res["anon_files"].append(anon)
    res["pss_files"].append(pss)


# ---------------------------------------------------------------------------
# a phone over 4G


def phone_visit(context, url: str, origin: str) -> dict[str, float]:
    """One visit in ``context`` (its cache as it is): seconds to the first figures, what crossed the network, and
    when (seconds from the page's request, Chromium's own clock) the page was whole, its last script there, its
    scripts run (``DOMContentLoaded``), the kernel's websocket open."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", FOUR_G)
    asked: dict[str, str] = {}
    kinds: dict[str, str] = {}
    wire: dict[str, int] = {}
    raw: dict[str, int] = {}
    at: dict[str, float] = {}
    done: dict[str, float] = {}

    def sent(e: dict) -> None:
        asked.setdefault(e["requestId"], e["request"]["url"])
        kinds.setdefault(e["requestId"], e.get("type", ""))
        at.setdefault("start", e["timestamp"])

    def finished(e: dict) -> None:
        wire[e["requestId"]] = e["encodedDataLength"]
        done[e["requestId"]] = e["timestamp"]

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.dataReceived", lambda e: raw.__setitem__(e["requestId"], raw.get(e["requestId"], 0) + e["dataLength"]))
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: at.setdefault("ws", e["timestamp"]))
    cached: set[str] = set()
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived",
           lambda e: cached.add(e["requestId"]) if e["response"].get("fromDiskCache") or e["response"].get("fromPrefetchCache") else None)
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function(FIGURES_SHOWN, timeout=180_000, polling=50)
    seconds = time.perf_counter() - start
    dcl = page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd") / 1000
    loaded = [i for i, u in asked.items() if not u.startswith(("data:", "blob:"))]
    network = [i for i in loaded if i not in cached]  # what went to a server (a 304 included)
    nan = float("nan")
    first = at.get("start", nan)
    scripts = [done[i] for i in loaded if kinds.get(i) == "Script" and i in done]
    out = {"seconds": seconds, "requests": len(network), "cached": len(loaded) - len(network),
           "wire": sum(wire.get(i, 0) for i in network) / 1e6, "raw": sum(raw.get(i, 0) for i in loaded) / 1e6,
           "foreign": sum(1 for i in network if not asked[i].startswith(origin)),
           "html": done.get(loaded[0], nan) - first if loaded else nan,
           "scripts": (max(scripts) - first) if scripts else nan, "dcl": dcl, "ws": at.get("ws", nan) - first}
    page.close()
    return out


def wait_pool_full(server: Serve, timeout: float = 120.0) -> None:
    """Until the server's warm-kernel pool is full again (a visit takes one; the refill would compete with the next)."""
    import re

    size = default_pool_size()  # serve's default --pool-size
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        ready = len(re.findall(r"warm kernel \S+ ready", log))
        gone = len(re.findall(r"warm kernel \S+ (for |discarded)", log))
        if ready - gone >= size:
            return
        time.sleep(0.5)


def measure_phone(browser, servers: dict[str, Serve], runs: int) -> dict[str, dict[str, list[float]]]:
    """First visit (cold cache) and second visit (warm) for each server, in turns, each with a full pool."""
    res = {name: {f"{visit}_{k}": [] for visit in ("first", "again")
                  for k in ("seconds", "requests", "cached", "wire", "raw", "foreign", "html", "scripts", "dcl", "ws")}
           for name in servers}
    for _ in range(runs):
        for name, server in servers.items():
            context = browser.new_context(**PHONE)
            try:
                for visit in ("first", "again"):
                    for other in servers.values():
                        wait_pool_full(other)
                    for key, value in phone_visit(context, server.url, server.url.rstrip("/")).items():
                        res[name][f"{visit}_{key}"].append(value)
            finally:
                context.close()
    return res


def baseline_checkout(rev: str, folder: Path) -> Path:
    """The project's files at ``rev`` (``git archive``), to be run with this virtual environment."""
    target = folder / f"baseline-{rev}"
    target.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def phone_servers(url: str, login: str, baselines: list[str], folder: Path) -> dict[str, Serve]:
    """Each baseline's ``prospects serve`` and this checkout's, all listening. A baseline reads its
    own copy of the SQLite file: its figure store, beside the file, may be of an older format than
    this checkout's."""
    import shutil

    source = Path(url.removeprefix("sqlite:///"))
    servers = {}
    for rev in baselines:
        old = baseline_checkout(rev, folder)
        copy = folder / f"baseline-{rev}-{source.name}"
        shutil.copyfile(source, copy)
        servers[rev] = Serve(f"sqlite:///{copy}", folder / f"serve-phone-{rev}.log", "--user", login, today=TODAY,
                             cwd=old, env={"PROSPECTS_LOCALE": "fr", "PYTHONPATH": str(old)})
    servers["now"] = Serve(url, folder / "serve-phone-now.log", "--user", login, today=TODAY, env={"PROSPECTS_LOCALE": "fr"})
    for server in servers.values():
        server.start()
    for server in servers.values():
        server.wait()
    return servers


def fmt(values: list[float], unit: str = "s") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "—"
    if unit == "MB":
        return f"{statistics.median(values):.0f} MB" + (f" ({min(values):.0f}–{max(values):.0f})" if len(values) > 1 else "")
    med = statistics.median(values)
    return f"{med:.2f} s" + (f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else "")


def render(args: argparse.Namespace, rows: list, load_before: float, load_after: float) -> str:
    """The "Dashboard" section of docs/performance.md."""
    cpu = platform.processor() or platform.machine()
    sizes = " ".join(args.sizes)
    out = [
        "## Dashboard",
        "",
        f"`.venv/bin/python bench/dashboard.py --sizes {sizes} --runs {args.runs}` on {dt.date.today().isoformat()}: "
        f"demo firms of `prospects demo --size …` (seed 42, today {TODAY}), a real `prospects serve --auth local "
        "--user LOGIN` on loopback with its defaults (warm kernels that opened the firm's figure store ahead), "
        f"Debian's Chromium headless driven by Playwright on the same machine ({os.cpu_count()} CPUs, {cpu}, "
        f"Python {platform.python_version()}, SQLite; load average {load_before:.1f} before and {load_after:.1f} "
        "after). Each run opens a new page. Median of the runs, (min–max). Viewers: the demo's regional partner "
        "and its firm-wide director, the two heaviest default logins.",
        "",
        "| firm | viewer | first figures on screen | Organisation change | Collaborateur change | Exercice N-1 "
        "| kernel private (RssAnon) | kernel PSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, who, login, res in rows:
        out.append(f"| {size} | {who} (`{login}`) | {fmt(res['load'])} | {fmt(res['org'])} | {fmt(res['collab'])} | "
                   f"{fmt(res['fy'])} | {fmt(res['anon'], 'MB')} | {fmt(res['pss'], 'MB')} |")
    out += [
        "",
        "- **First figures on screen**: from `page.goto` to the seven cells shown and the busy state gone; most of "
        "it is the browser (Voilà's page, 5 MB of scripts, the widgets drawn). The kernel had started, imported the "
        "package and mapped the figure store before the request; the page's own work is the viewer's positions, "
        "the figures, 112 widget models and the chart (inline SVG).",
        "- **Filter changes** (the widest unit offered in *Organisation*: the firm for the director, the region "
        "for the partner; a person in *Collaborateurs*; *Exercice N-1*): from the choice to the new figures with "
        "\"Calcul en cours…\" gone. No row is read from the database: every fiscal year and filter is a mask over "
        "the mapped store.",
        "- **Kernel memory**: the page's own kernel (found by the kernel id in the page), after the filter changes, "
        "the N-1 switch and the drill-down's two views: private memory (`RssAnon`) and proportional share (`Pss`, "
        "`/proc/PID/smaps_rollup`: the store's pages are shared by every kernel that maps them). About 100 MB of it "
        "is Python with pandas, pyarrow and ipywidgets.",
        "",
        "Drill-down of *Offres signées* over the same unit (the panel is built the first time a figure is clicked: "
        "the first opening includes that). The table shows the first 300 rows (sorted as asked) and the footer "
        "counts every row; the CSV and Excel files travel inside the page (a `data:` link): up to 1,000 rows they "
        "are built with the drill-down, above that a *Préparer CSV et Excel* button builds them (the Excel "
        "workbook written row by row by XlsxWriter, with a sheet of the documents' lines).",
        "",
        "| firm | viewer | documents | opens (*Par affaire*) | *Par document* | CSV and Excel ready "
        "| kernel RssAnon / PSS after the files |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, who, login, res in rows:
        files = "with the drill-down" if max(res["files"]) == 0 else fmt([f for f in res["files"] if f] or [0.0])
        out.append(f"| {size} | {who} (`{login}`) | {int(statistics.median(res['rows'])):,} | {fmt(res['drill'])} | "
                   f"{fmt(res['by_document'])} | {files} | {fmt(res['anon_files'], 'MB')} / {fmt(res['pss_files'], 'MB')} |")
    out += [
        "",
        "Before the figure store and the serving work (2026-11-29, this bench then, a new kernel per page reading "
        "the viewer's rows through SQL, matplotlib chart): first figures 3.0–3.7 s on the small and medium firms; "
        "an *Organisation* change 0.25–0.31 s; on the large firm, in process, a firm-wide director's page took "
        "18.4 s to build and its kernel held 1,749 MB (a regional partner: 4.1 s, 413 MB); the workaround of "
        "then (\"Mes affaires\" first, the perimeter read in a background thread: 22 s for the director, 2 GB) "
        "is gone.",
    ]
    return "\n".join(out)


def render_phone(args: argparse.Namespace, phone: dict) -> str:
    """The "A phone over 4G" part of the dashboard's section (written on its own: ``--sizes`` with no size)."""
    res, load = phone["res"], phone["load"]

    def mb(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} MB"

    def count(values: list[float]) -> str:
        return f"{statistics.median(values):.0f}"

    out = [
        "### A phone over 4G",
        "",
        f"The small firm's regional partner (`{phone['login']}`) on a 390 × 844 px mobile page (Chromium's device "
        "emulation, touch, 3× pixels) whose network Chromium emulates as 4G: 9 Mbit/s down and up, 150 ms latency "
        "(`Network.emulateNetworkConditions`), served by `prospects serve` itself on loopback (no proxy in front). "
        "Each earlier page is run from a `git archive` of its commit with the same virtual environment: "
        + "; ".join(f"`{rev}`, {BASELINES.get(rev, 'an earlier commit')}" for rev in args.baseline)
        + f"; *now*: this checkout. All servers run at once, the visits in turns, {args.phone_runs} runs each "
        f"(median, min–max); load average {load[0]:.1f} before and {load[1]:.1f} after. First visit: a new browser "
        "context (empty cache); second visit: the same context, a new page. From `page.goto` to the seven figures "
        "on screen and nothing busy; requests and bytes are the HTTP ones up to that moment, not the kernel "
        "websocket's messages: requests sent to a server (a `304` included) and those the browser's cache "
        "answered; bytes on the wire (`Network.loadingFinished`, headers included) and the content they carry "
        "uncompressed, cache included (`Network.dataReceived`).",
        "",
        "| page | visit | first figures | requests | from the cache | on the wire | content | to another origin |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    labels = [(rev, f"`{rev}`") for rev in args.baseline] + [("now", "now")]
    for name, label in labels:
        for visit, what in (("first", "first (empty cache)"), ("again", "second (cache)")):
            r = res[name]
            out.append(f"| {label} | {what} | {fmt(r[visit + '_seconds'])} | {count(r[visit + '_requests'])} | "
                       f"{count(r[visit + '_cached'])} | {mb(r[visit + '_wire'])} | {mb(r[visit + '_raw'])} | "
                       f"{count(r[visit + '_foreign'])} |")
    out += [
        "",
        "Where a first visit's time goes (seconds from the page's request, Chromium's clock, medians): the page "
        "whole (the server has run the notebook: the page streams while it runs), the last script there, "
        "`DOMContentLoaded` (now: the bundle has run; the earlier pages' `voila.js` fetched its chunks after it), "
        "the kernel's websocket open (then the widgets' state comes over it), the first figures.",
        "",
        "| page | page whole | last script there | `DOMContentLoaded` | websocket open | first figures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def sec(values: list[float]) -> str:
        values = [v for v in values if v == v]
        return f"{statistics.median(values):.2f}" if values else "—"

    for name, label in labels:
        r = res[name]
        out.append(f"| {label} | {sec(r['first_html'])} | {sec(r['first_scripts'])} | {sec(r['first_dcl'])} | "
                   f"{sec(r['first_ws'])} | {sec(r['first_seconds'])} |")
    out += [
        "",
        "What changed (`prospects/serving/assets.py`): gzip for the page, its scripts and styles and the API, "
        "permessage-deflate on the kernel websocket; no stylesheet from a CDN (Font Awesome comes with Voilà's own "
        "`voila-style.js`); only the widget extensions loaded; Voilà's scripts under a versioned address cached "
        "for a year as immutable, the extensions' content-hashed ones too; the page's head preloads the scripts it "
        "needs before its first figures (`templates/page/preload.json`), so they download while the server still "
        "runs the notebook. Then those 85 scripts (Voilà's webpack chunks and the widget extensions', "
        "`voila.js` last) come as one bundle built once per server (`page_bundle`): fetched one by one, each cost "
        "a round trip on one of Chromium's six connections to a host, about fifteen waves of 150 ms, and the page "
        "was bound by latency rather than by its 1.4 MB; the bundle and Voilà's files go in brotli when the "
        "browser offers it (Chromium does over HTTPS and to the machine itself; gzip otherwise), 0.96 MB "
        "instead of 1.17 MB for the bundle; and the page asks for its kernel's model as soon as it names its "
        "kernel, while the bundle still downloads, instead of once it has run. Before the assets work, the two CDN stylesheets fail at "
        "once here (no route out); on an intranet that drops them silently they hold the page until the browser "
        "gives up.",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", default=["small", "medium"], choices=["small", "medium", "large"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chromium", default=os.environ.get("PROSPECTS_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--no-write", action="store_true", help="print only, do not touch docs/performance.md")
    parser.add_argument("--phone-runs", type=int, default=5, help="visits of the phone over 4G (0: none)")
    parser.add_argument("--baseline", nargs="*", default=list(BASELINES), help="the commits the phone is compared with")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        urls: dict[str, str] = {}
        for size in args.sizes:
            t = time.perf_counter()
            url = urls[size] = make_demo(size, Path(tmp))
            print(f"# demo {size}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
            for who, login in demo_viewers(url).items():
                server = start_server(url, login, Path(tmp) / f"serve-{size}-{login}.log")
                try:
                    res = measure_viewer(browser, server, args.runs, url, login)
                finally:
                    server.stop()
                rows.append((size, who, login, res))
                print(f"# {size} {who} {login}: " + ", ".join(f"{k} {v}" for k, v in res.items()), file=sys.stderr)
        phone = None
        if args.phone_runs > 0:
            url = urls.get("small") or make_demo("small", Path(tmp))
            login = demo_viewers(url)["regional partner"]
            before = os.getloadavg()[0]
            servers = phone_servers(url, login, args.baseline, Path(tmp))
            try:
                res = measure_phone(browser, servers, args.phone_runs)
            finally:
                for server in servers.values():
                    server.stop()
            phone = {"login": login, "res": res, "load": (before, os.getloadavg()[0])}
            print(f"# phone: {res}", file=sys.stderr)
        browser.close()
    texts = {}
    if rows:
        texts["dashboard.py"] = render(args, rows, load_before, os.getloadavg()[0])
    if phone:
        texts["dashboard.py-phone"] = render_phone(args, phone)
    for name, text in texts.items():
        print(text)
        if not args.no_write:
            write_section(name, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
