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
  mapped by every kernel, are split between them).

Prints a Markdown section for docs/performance.md; ``--screenshots DIR`` also saves
``dashboard.png`` and ``drilldown.png`` of the small firm (the README's pictures).

    .venv/bin/python bench/dashboard.py --sizes small medium --runs 3 --screenshots docs
"""

from __future__ import annotations

import argparse
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

from tests.browser import CHROMIUM_ARGS, Serve  # noqa: E402  (after the path is set)

TODAY = "2026-11-29"


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
    from prospects import serving
    from prospects.config import load_settings

    logins = serving.demo_login_table(load_settings(db=url, today=TODAY))
    out = {"regional partner": serving.default_demo_login(logins)}
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


def measure_viewer(browser, server: Serve, runs: int) -> dict[str, list[float]]:
    res: dict[str, list[float]] = {
        k: [] for k in ("load", "org", "collab", "fy", "drill", "rows", "by_document", "files", "anon", "pss",
                        "anon_files", "pss_files")
    }
    for _ in range(runs):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        one_run(ctx.new_page(), server, res)
        ctx.close()
        time.sleep(0.5)
    return res


def page_kernel(page, server: Serve) -> int:
    """The process of this page's kernel (its id is in the page's configuration)."""
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    for pid in server.kernels():
        if f"kernel-{kernel_id}.json".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise RuntimeError(f"no kernel process for the page's kernel {kernel_id}")


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


def screenshots(browser, server: Serve, folder: Path) -> None:
    # Voilà scrolls inside its own panel, so a "full page" shot is the viewport: make it tall
    ctx = browser.new_context(viewport={"width": 1360, "height": 1480}, device_scale_factor=1)
    page = ctx.new_page()
    first_figures(page, server.url)
    options = page.locator(".pr-filter-region option")
    label = options.nth(1).inner_text().replace("\xa0", " ")
    page.select_option(".pr-filter-region select", label=label)
    page.wait_for_function(scope_is(label.split(" (")[0]))
    idle(page)
    page.screenshot(path=str(folder / "dashboard.png"))
    trim_white_bottom(folder / "dashboard.png")
    page.set_viewport_size({"width": 1360, "height": 980})
    page.click(".pr-cell-signed_budget")
    page.wait_for_selector(".pr-drill-footer .pr-foot-total")
    idle(page)
    page.click(".pr-drill-by button >> nth=1")
    page.wait_for_selector(".pr-drill-table th[data-col='document_id']")
    idle(page)
    page.select_option(".pr-drill-sort select", label="Total (€)")
    idle(page)
    page.click(".pr-drill-order button >> nth=1")
    page.wait_for_function("() => (document.querySelector('.pr-drill-table th.pr-sorted') || {}).textContent?.includes('▼')")
    idle(page)
    page.screenshot(path=str(folder / "drilldown.png"))
    ctx.close()


def trim_white_bottom(path: Path, margin: int = 30) -> None:
    """Cut the empty page below the dashboard (PIL comes with matplotlib)."""
    from PIL import Image, ImageChops

    im = Image.open(path).convert("RGB")
    box = ImageChops.difference(im, Image.new("RGB", im.size, (255, 255, 255))).getbbox()
    if box:
        im.crop((0, 0, im.size[0], min(im.size[1], box[3] + margin))).save(path, optimize=True)


def fmt(values: list[float], unit: str = "s") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "—"
    if unit == "MB":
        return f"{statistics.median(values):.0f} MB" + (f" ({min(values):.0f}–{max(values):.0f})" if len(values) > 1 else "")
    med = statistics.median(values)
    return f"{med:.2f} s" + (f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--screenshots", type=Path, help="save dashboard.png and drilldown.png (small firm) here")
    parser.add_argument("--chromium", default=os.environ.get("PROSPECTS_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for size in args.sizes:
            t = time.perf_counter()
            url = make_demo(size, Path(tmp))
            print(f"# demo {size}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
            for who, login in demo_viewers(url).items():
                server = start_server(url, login, Path(tmp) / f"serve-{size}-{login}.log")
                try:
                    if args.screenshots and size == "small" and who == "regional partner":
                        args.screenshots.mkdir(parents=True, exist_ok=True)
                        screenshots(browser, server, args.screenshots)
                    res = measure_viewer(browser, server, args.runs)
                finally:
                    server.stop()
                rows.append((size, who, login, res))
                print(f"# {size} {who} {login}: " + ", ".join(f"{k} {v}" for k, v in res.items()), file=sys.stderr)
        browser.close()
    cpu = platform.processor() or platform.machine()
    print(f"Measured with `bench/dashboard.py --runs {args.runs}` (today {TODAY}), Chromium "
          f"headless on the same machine, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
          f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after. Median of the runs, (min–max).\n")
    print("| firm | viewer | first figures on screen | Organisation change | Collaborateur change | Exercice N-1 | kernel private (RssAnon) | kernel PSS |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, who, login, res in rows:
        print(f"| {size} | {who} (`{login}`) | {fmt(res['load'])} | {fmt(res['org'])} | {fmt(res['collab'])} | "
              f"{fmt(res['fy'])} | {fmt(res['anon'], 'MB')} | {fmt(res['pss'], 'MB')} |")
    print()
    print("Kernel memory is read after the filter changes, the N-1 switch and the drill-down's two views.")
    print("Preparing the CSV and Excel files of a big drill-down materialises every row and builds the")
    print("workbook in the kernel; after it, the kernel's private memory / PSS are:\n")
    print("| firm | viewer | kernel private (RssAnon) after the files | kernel PSS after the files |")
    print("| --- | --- | --- | --- |")
    for size, who, login, res in rows:
        print(f"| {size} | {who} (`{login}`) | {fmt(res['anon_files'], 'MB')} | {fmt(res['pss_files'], 'MB')} |")
    print()
    print("Drill-down of *Offres signées* over the widest unit (the firm for the director, the region for the partner):\n")
    print("| firm | viewer | documents | opens (par affaire) | par document | CSV and Excel ready |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size, who, login, res in rows:
        files = "with the drill-down" if max(res["files"]) == 0 else fmt([f for f in res["files"] if f] or [0.0])
        print(f"| {size} | {who} (`{login}`) | {int(statistics.median(res['rows'])):,} | {fmt(res['drill'])} | "
              f"{fmt(res['by_document'])} | {files} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
