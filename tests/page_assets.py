"""What the dashboard page loads before its first figures: recorded in Chromium, written as the preload list.

``python -m tests.page_assets`` serves Cabinet Exemple without the preload list
(tests/serve_plain.py), opens the page in Debian's Chromium at 390 px and writes the
scripts it asked for before its first figures, in order, to
``prospects/templates/page/preload.json`` (read by :func:`prospects.serving.assets.page_scripts`:
the page loads these scripts in one bundle).
Run it after a Voilà upgrade; tests/test_serving_assets.py fails until the list matches.
Not a test module: nothing here is collected.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from prospects import db
from prospects.sample import sample_firm
from prospects.serving.assets import PRELOAD

from .browser import FIGURES_SHOWN, LOAD_TIMEOUT, Serve, launch_chromium

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
#: Chromium's network emulation of a phone on 4G (bytes per second).
FOUR_G = {"offline": False, "latency": 150, "downloadThroughput": 9_000_000 / 8, "uploadThroughput": 9_000_000 / 8}


def scripts_before_first_figures(browser, url: str, headers: dict[str, str] | None = None) -> list[str]:
    """The addresses (path and query) of the scripts a fresh page asks for until its figures show."""
    context = browser.new_context(**PHONE, extra_http_headers=dict(headers or {}))
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if r.resource_type == "script" else None)
        page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT)
        page.wait_for_function(FIGURES_SHOWN, timeout=LOAD_TIMEOUT, polling=50)
        return [urlsplit(a).path + (f"?{urlsplit(a).query}" if urlsplit(a).query else "") for a in asked]
    finally:
        context.close()


def manifest(addresses: list[str], static_prefix: str, labextensions_prefix: str) -> dict:
    """The preload list of those addresses: Voilà's scripts by file name, the extensions' by path."""
    from voila import __version__

    static, labextensions = [], []
    for address in addresses:
        if address.startswith(static_prefix):
            static.append(address[len(static_prefix):])
        elif address.startswith(labextensions_prefix):
            labextensions.append(address[len(labextensions_prefix):])
    return {"voila": __version__, "static": list(dict.fromkeys(static)), "labextensions": list(dict.fromkeys(labextensions))}


def record(browser=None) -> dict:
    """Serve Cabinet Exemple without the list and record the list the page needs (in ``browser``, else a new one)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'sample.db'}"
        db.replace_all(db.make_engine(url), sample_firm())
        server = Serve(url, Path(folder) / "serve.log", "--auth", "local", "--user", "dir", module="tests.serve_plain")
        server.start().wait()
        try:
            if browser is not None:
                addresses = scripts_before_first_figures(browser, server.url)
            else:
                from playwright.sync_api import sync_playwright

                with sync_playwright() as p:
                    own = launch_chromium(p)
                    try:
                        addresses = scripts_before_first_figures(own, server.url)
                    finally:
                        own.close()
        finally:
            server.stop()
    static_prefix = next(a for a in addresses if a.endswith("/voila.js")).removesuffix("voila.js")
    return manifest(addresses, static_prefix, "/voila/labextensions/")


def main() -> int:
    listed = record()
    PRELOAD.write_text(json.dumps(listed, indent=1) + "\n", encoding="utf-8")
    print(f"{PRELOAD}: {len(listed['static'])} of Voilà's scripts, {len(listed['labextensions'])} of the extensions'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
