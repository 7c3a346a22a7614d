"""The README's pictures of the dashboard, made again from the code (never by hand).

A small demo firm (today 29/11/2026), a real ``prospects serve`` as the demo's regional
partner on their region, in Debian's Chromium:

* ``docs/dashboard-laptop.png``: the whole page at 1440 px;
* ``docs/dashboard-phone.png``: the whole page at 390 px;
* ``docs/drilldown-phone.png``: the signed budget's drill-down on the phone, by document.

Pictures are cut to the page's height and reduced to 256 colours (small files in git).

    .venv/bin/python -m tests.screenshots            # writes the three files in docs/
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from .browser import CHROMIUM_ARGS, ROOT, Serve, idle, open_dashboard, reset_choices

TODAY = "2026-11-29"


def demo(folder: Path) -> tuple[str, str]:
    """A small demo database and its regional partner's login (the one `prospects serve` shows by default)."""
    from prospects import db
    from prospects.demo import demo_logins
    from prospects.serving.command import default_demo_login

    url = f"sqlite:///{folder / 'demo.db'}"
    subprocess.run([sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, "demo", "--size", "small"],
                   check=True, capture_output=True, cwd=ROOT)
    engine = db.make_engine(url)
    try:
        frames = db.read_all(engine, ("org_units", "entities", "collaborators", "groups", "group_units",
                                      "group_members", "deals"))
    finally:
        engine.dispose()
    return url, default_demo_login(demo_logins(frames))


def whole_page(page, path: Path, width: int) -> None:
    """The page at ``width``, as tall as the dashboard (Voilà scrolls inside its own panel)."""
    height = page.evaluate("document.getElementById('rendered_cells').scrollHeight")
    page.set_viewport_size({"width": width, "height": height + 16})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    small(path)


def small(path: Path) -> None:
    """256 colours: a screenshot of flat colours loses nothing visible and most of its weight."""
    from PIL import Image

    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def on_region(page) -> None:
    """The first unit offered (the partner's region), not the partner's own deals."""
    label = page.locator(".pr-filter-region option").nth(1).inner_text().replace("\xa0", " ")
    page.select_option(".pr-filter-region select", label=label)
    page.wait_for_function(f"() => (document.querySelector('.pr-scope') || {{}}).textContent?.includes({label!r})")
    idle(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        url, login = demo(Path(tmp))
        server = Serve(url, Path(tmp) / "serve.log", "--auth", "local", "--user", login, today=TODAY,
                       env={"PROSPECTS_LOCALE": "fr"}).start().wait(timeout=180)
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for name, width in (("laptop", 1440), ("phone", 390)):
                reset_choices(url, [login])
                ctx = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1, locale="fr-FR")
                page = ctx.new_page()
                open_dashboard(page, server.url)
                on_region(page)
                whole_page(page, args.out / f"dashboard-{name}.png", width)
                if name == "phone":
                    page.set_viewport_size({"width": width, "height": 844})
                    page.evaluate("document.getElementById('rendered_cells').scrollTo(0, 0)")
                    page.click(".pr-cell-signed_budget")
                    page.wait_for_selector(".pr-drill-footer .pr-foot-total")
                    idle(page)
                    page.click(".pr-drill-by button >> nth=1")
                    page.wait_for_selector(".pr-drill-table th[data-col='document_id']")
                    idle(page)
                    page.screenshot(path=str(args.out / "drilldown-phone.png"))
                    small(args.out / "drilldown-phone.png")
                ctx.close()
        finally:
            browser.close()
            server.stop()
            reset_choices(url, [login])
    for name in ("dashboard-laptop", "dashboard-phone", "drilldown-phone"):
        path = args.out / f"{name}.png"
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
