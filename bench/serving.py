"""Measure many viewers opening the dashboard at once, through nginx, on one machine.

For each demo size (small by default) it creates the demo database (today fixed), starts one
``prospects serve --auth header`` and Debian's nginx with ``deploy/nginx-prospects.conf``
(basic auth, TLS) in front of it, exactly as tests/test_deployment.py does, and for each
number of viewers (1, 4, 8 by default) opens that many Chromium contexts, each signed in
as a different collaborator, all at once. It reports:

* time from the requests to each viewer's first figures on screen (min / median / max),
  checking that each sees exactly their own figures (``View.figures`` of the package);
* resident memory of the server process and of every kernel (one per open page), after the
  pages opened; the server is restarted between rounds so each round starts with no kernel.

Prints a Markdown section for docs/performance.md ("Serving many viewers").

    .venv/bin/python bench/serving.py --viewers 1 4 8
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import (  # noqa: E402  (after the path is set)
    Nginx,
    Serve,
    cells,
    expected_cells,
    launch_chromium,
    load_logins,
    open_many,
)

TODAY = "2026-11-29"


def make_demo(size: str, folder: Path) -> str:
    from prospects import db, demo

    url = f"sqlite:///{folder / f'demo-{size}.db'}"
    db.replace_all(db.make_engine(url), demo.generate(size, seed=42, today=dt.date.fromisoformat(TODAY)))
    return url


def one_round(browser, url: str, logins: list[str], folder: Path) -> dict:
    server = Serve(url, folder / f"serve-{len(logins)}.log", "--auth", "header").start().wait()
    users = {login: f"pw-{i}" for i, login in enumerate(logins)}
    proxy = Nginx(folder / f"nginx-{len(logins)}", server.port, users).start()
    expected = {login: expected_cells(url, login, TODAY) for login in logins}
    contexts = []
    try:
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=True,
                                        http_credentials={"username": u, "password": users[u]}) for u in logins]
        pages = [c.new_page() for c in contexts]
        load = os.getloadavg()[0]
        times = open_many(pages, proxy.url, timeout=600)
        time.sleep(1.0)  # let the kernels settle after the first figures
        server_mb, kernels_mb = server.memory_mb()
        wrong = [u for u, p in zip(logins, pages, strict=True) if cells(p) != expected[u]]
        if wrong:
            raise AssertionError(f"figures differ from the package's for {wrong}")
    finally:
        for c in contexts:
            c.close()
        proxy.stop()
        server.stop()
    return {"viewers": len(logins), "times": times, "server_mb": server_mb, "kernels_mb": kernels_mb, "load": load}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small", choices=["small", "medium"])
    parser.add_argument("--viewers", nargs="+", type=int, default=[1, 4, 8])
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        folder = Path(tmp)
        url = make_demo(args.size, folder)
        logins = load_logins(url, max(args.viewers))
        browser = launch_chromium(p)
        try:
            for n in args.viewers:
                res = one_round(browser, url, logins[:n], folder)
                rows.append(res)
                print(f"# {n} viewers: {res}", file=sys.stderr)
        finally:
            browser.close()
    cpu = platform.processor() or platform.machine()
    print(f"`.venv/bin/python bench/serving.py --size {args.size} --viewers {' '.join(map(str, args.viewers))}` on "
          f"{dt.date.today().isoformat()}: the {args.size} demo firm (seed 42, today {TODAY}), one "
          "`prospects serve --auth header` behind nginx (deploy/nginx-prospects.conf: TLS, basic auth), "
          f"Chromium headless on the same machine ({os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}). "
          "Each viewer is a different collaborator in a browser context of their own, all opening the "
          "dashboard at the same moment; each saw exactly their own figures.\n")
    print("| viewers at once | first figures: min | median | max | server RSS | kernel RSS (median, each) | total RSS | load before |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        t, k = r["times"], r["kernels_mb"]
        total = r["server_mb"] + sum(k)
        print(f"| {r['viewers']} | {min(t):.1f} s | {statistics.median(t):.1f} s | {max(t):.1f} s | {r['server_mb']:.0f} MB | "
              f"{statistics.median(k):.0f} MB | {total:,.0f} MB | {r['load']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
