"""prospects.serving.assets on a real server: what the page loads, and nothing outside its folders.

Paths are sent by a raw HTTP client that does not normalise them (``..``, encoded dots and
slashes, backslashes, absolute paths, NUL): each one is a 404, never a 500, never a file.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from prospects.serving.assets import (
    IMMUTABLE,
    PRELOAD,
    PageScripts,
    accepted_encoding,
    is_entry,
    page_scripts,
    same_origin,
)

from .browser import FIGURES_SHOWN, chromium_session, open_dashboard, sample_server
from .page_assets import FOUR_G, PHONE, record

TRAVERSALS = [
    "/voila/templates/lab/static/../../../etc/passwd",
    "/voila/templates/lab/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/voila/templates/lab/static/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/voila/templates/lab/static/..%2f..%2f..%2fetc%2fpasswd",
    "/voila/templates/lab/static/..\\..\\..\\etc\\passwd",
    "/voila/templates/lab/static/..%5c..%5c..%5cetc%5cpasswd",
    "/voila/templates/lab/static//etc/passwd",
    "/voila/templates/lab/static/%2fetc%2fpasswd",
    "/voila/templates/lab/static/C:%5cWindows%5cwin.ini",
    "/voila/templates/lab/static/%00",
    "/voila/templates/lab/static/./index.css",
    "/voila/templates/lab/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/voila/templates/../../etc/passwd",
    "/voila/templates//etc/passwd",
    "/voila/templates/%2fetc%2fpasswd",
    "/voila/templates/..%2f..%2f/static/x",
    "/voila/templates/lab",
    "/voila/templates/",
    "/voila/templates/lab/static",
    "/voila/templates/lab/static/",
    "/voila/templates/lab/nostatic/index.css",
    "/voila/templates/reveal/static/index.css",  # another template than the page's
    "/voila/static/../../../../etc/passwd",
    "/voila/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/voila/static/..%5c..%5cetc%5cpasswd",
    "/voila/static//etc/passwd",
    "/voila/static/%00",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/voila/labextensions/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/voila/api/themes/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]


def raw_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``GET path`` sent byte for byte (no client normalises it)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found, body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with sample_server(tmp_path_factory, "assets", "--auth", "header", "--pool-size", "0") as s:
        yield s


SIGNED_IN = {"X-Forwarded-User": "dir"}  # the request comes from a viewer the proxy authenticated


@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_outside_the_asset_folders_is_a_404(server, path):
    status, _, body = raw_get(server.port, path, SIGNED_IN)
    assert status == 404, (path, status, body[:300])
    assert b"root:" not in body and b"Traceback" not in body and b"[fonts]" not in body


def test_no_request_above_left_a_traceback_in_the_log(server):
    for path in TRAVERSALS:
        raw_get(server.port, path, SIGNED_IN)
    log = server.log()
    assert "Traceback" not in log and "Uncaught exception" not in log and " 500 " not in log


def test_the_page_templates_assets_are_still_served(server):
    status, headers, body = raw_get(server.port, "/voila/templates/lab/static/index.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and len(body) > 1000


def test_a_refused_asset_gets_the_servers_own_page_in_its_language(server):
    status, headers, body = raw_get(server.port, "/voila/templates/lab/static/%2e%2e/%2e%2e/etc/passwd")
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert "Page introuvable" in body.decode() and '<html lang="fr">' in body.decode()


# ---------------------------------------------------------------------------
# compression and caching, seen by a plain HTTP client


GZIP = {**SIGNED_IN, "Accept-Encoding": "gzip"}


def _page_config(page: str) -> dict:
    found = re.search(r'<script id="jupyter-config-data" type="application/json">\s*(.*?)\s*</script>', page, re.S)
    return json.loads(found.group(1))


def test_the_page_and_its_scripts_are_gzipped_and_voilas_scripts_cached_for_good(server):
    status, headers, body = raw_get(server.port, "/", GZIP)
    assert status == 200 and headers.get("content-encoding") == "gzip"
    page = _dechunk_gunzip(body)
    static = _page_config(page)["fullStaticUrl"]
    assert re.fullmatch(r"/voila/static/v/[0-9a-f]{16}", static), static
    status, headers, body = raw_get(server.port, f"{static}/voila.js", GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["cache-control"] == IMMUTABLE
    assert len(body) < 0.5 * len(_unversioned_voila_js(server))  # what goes on the wire
    # the same file at its plain address: served, but not kept for good (it may change with Voilà)
    status, headers, _ = raw_get(server.port, "/voila/static/voila.js", GZIP)
    assert status == 200 and "immutable" not in headers.get("cache-control", "")
    # another version's address is no address at all
    assert raw_get(server.port, "/voila/static/v/0000000000000000/voila.js", GZIP)[0] == 404


def _entries(listed: dict) -> list[str]:
    """The extensions' entry scripts of the preload list (Voilà loads them by their address)."""
    return [n for n in listed["labextensions"] if is_entry(n)]


def test_the_page_preloads_its_bundle_and_the_extensions_entries_and_each_one_is_there(server):
    status, _, body = raw_get(server.port, "/", GZIP)
    page = _dechunk_gunzip(body)
    preloads = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', page)
    listed = json.loads(PRELOAD.read_text())
    static = _page_config(page)["fullStaticUrl"]
    bundle = re.fullmatch(re.escape(static) + r"/page-[0-9a-f]{16}\.js", preloads[0])
    assert bundle and [p.split("/voila/labextensions/")[1] for p in preloads[1:]] == _entries(listed)
    head = page.split("<body", 1)[0]
    assert all(f'href="{href}"' in head for href in preloads)  # in the head, before the notebook runs
    assert head.index("voila-style.js") < head.index('rel="preload"')  # after what the head needs itself
    assert f'<script src="{preloads[0]}"></script>' in page.split("<body", 1)[1]  # the page's one main script
    assert "/voila.js" not in page
    for href in preloads:
        status, headers, _ = raw_get(server.port, html.unescape(href), GZIP)
        assert status == 200, href
        if "/voila/labextensions/" in href and "?v=" in href:  # content-hashed: kept too
            assert "no-cache" not in headers.get("cache-control", "") and "max-age" in headers["cache-control"]


def _files(listed: dict) -> list[bytes]:
    """The content of every script of the preload list but the extensions' entries, from this environment."""
    from voila.paths import collect_static_paths
    from voila.utils import get_voila_labextensions_path

    roots = {"static": collect_static_paths(["voila", "nbconvert"], "lab"), "labextensions": get_voila_labextensions_path()}
    out = []
    for part in ("static", "labextensions"):
        for name in listed[part]:
            if name in _entries(listed):
                continue
            found = [f for f in (Path(r) / name.split("?")[0] for r in roots[part]) if f.is_file()]
            assert found, name
            out.append(found[0].read_bytes())
    return out


def test_a_list_for_another_voila_or_a_missing_chunk_means_voilas_own_scripts(tmp_path):
    """No bundle that could lack a chunk: the page then loads ``voila.js``, which fetches its chunks itself."""
    listed = json.loads(PRELOAD.read_text())
    other = tmp_path / "preload.json"
    other.write_text(json.dumps({**listed, "voila": "0.0.1"}))
    assert page_scripts("/s", [], "/l", [], other) == PageScripts("voila.js", [])
    static_only = tmp_path / "static"
    static_only.mkdir()
    (static_only / "voila.js").write_text("var _JUPYTERLAB;")
    scripts = page_scripts("/s", [str(static_only)], "/l", [], PRELOAD)  # the chunks are not there
    assert scripts.bundle is None and scripts.main == "voila.js" and scripts.preload == ["/s/voila.js"]


def test_the_bundle_holds_every_listed_chunk_and_ends_with_voilas_runtime(server):
    """One request for the 85 scripts the page needs (each chunk in its own function: strict stays strict)."""
    import gzip

    import brotli

    page = _dechunk_gunzip(raw_get(server.port, "/", GZIP)[2])
    href = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', page)[0]
    status, headers, body = raw_get(server.port, href, GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["cache-control"] == IMMUTABLE
    assert headers["content-type"].startswith("application/javascript") and "accept-encoding" in headers["vary"].lower()
    bundle = gzip.decompress(body)
    assert raw_get(server.port, href)[2] == bundle  # no gzip asked, none given
    assert hashlib.sha256(bundle).hexdigest()[:16] in href  # its name changes with its content
    listed = json.loads(PRELOAD.read_text())
    files = _files(listed)
    assert len(files) > 80
    voila_js = files[0]
    assert bundle.rstrip().endswith(voila_js.rstrip())  # the runtime last: every chunk is there when it starts
    for content in files[1:]:
        content = content.split(b"\n//# sourceMappingURL=")[0]
        assert b"(function () {\n" + content in bundle
    assert len(body) < 0.3 * len(bundle)
    status, headers, smaller = raw_get(server.port, href, {**SIGNED_IN, "Accept-Encoding": "gzip, deflate, br, zstd"})
    assert status == 200 and headers["content-encoding"] == "br" and brotli.decompress(smaller) == bundle
    assert len(smaller) < 0.85 * len(body)  # what brotli saves on the wire
    # another name under the same address is no script at all
    assert raw_get(server.port, href.rsplit("/", 1)[0] + "/page-0000000000000000.js", GZIP)[0] == 404


def test_no_foreign_stylesheet_or_script_in_the_page(server):
    status, _, body = raw_get(server.port, "/", GZIP)
    page = _dechunk_gunzip(body)
    assert "cdn.jsdelivr.net" not in page and "fontawesome" not in page.lower()
    assert not re.search(r"""<(link|script)[^>]+(href|src)=["']?(https?:)?//""", page)


def test_same_origin_drops_only_what_names_another_origin():
    kept = '<link rel="stylesheet" href="/voila/templates/lab/static/index.css"><link rel="icon" href="data:;base64,=">'
    dropped = ('<link rel="stylesheet" href="https://cdn.jsdelivr.net/x.css" type="text/css" />'
               "<LINK REL=stylesheet HREF=//cdn.example/y.css>"
               '<script src="http://cdn.example/z.js"></script>')
    assert str(same_origin(kept + dropped)) == kept


def _dechunk_gunzip(body: bytes) -> str:
    """The body of a chunked, gzipped response, as text."""
    import gzip

    data, rest = b"", body
    while rest:
        size, _, rest = rest.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        data, rest = data + rest[:n], rest[n + 2:]
    return gzip.decompress(data).decode("utf-8")


def _unversioned_voila_js(server) -> bytes:
    status, _, body = raw_get(server.port, "/voila/static/voila.js")
    assert status == 200
    return body


# ---------------------------------------------------------------------------
# in Chromium: a whole session never leaves the origin; the preload list is what the page needs


@pytest.fixture(scope="module")
def chromium():
    with chromium_session() as browser:
        yield browser


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """`prospects serve --auth local` as a firm-wide director of Cabinet Exemple (every filter offered)."""
    with sample_server(tmp_path_factory, "assets-local", "--auth", "local", "--user", "dir") as s:
        yield s


@pytest.mark.browser
def test_a_whole_session_asks_nothing_of_another_origin(chromium, local):
    """Open, change filters, open a drill-down, both downloads: every request goes to the server itself."""
    from playwright.sync_api import expect

    context = chromium.new_context(**PHONE, accept_downloads=True, locale="fr-FR")
    asked: list[str] = []
    context.on("request", lambda r: asked.append(r.url))
    try:
        page = context.new_page()
        page.on("websocket", lambda ws: asked.append(ws.url))
        open_dashboard(page, local.url)
        page.select_option(".pr-filter-region select", label="Cabinet Exemple (tout le cabinet)")
        page.wait_for_function(FIGURES_SHOWN)
        page.click(".pr-filter-fy button:has-text('Exercice N-1')")
        page.wait_for_function(FIGURES_SHOWN)
        page.click(".pr-filter-fy button:has-text('Exercice en cours')")
        page.wait_for_function(FIGURES_SHOWN)
        page.click(".pr-cell-signed_budget")
        expect(page.locator(".pr-drill")).to_be_visible()
        for link in (".pr-download-csv", ".pr-download-xlsx"):
            with page.expect_download() as info:
                page.click(link)
            assert info.value.suggested_filename
        # the icons' font (Font Awesome: the download button's icon) comes with the page's own scripts, from
        # the server; loaded here whether or not an icon is on screen now
        assert page.evaluate("async () => (await document.fonts.load('900 16px \"Font Awesome 5 Free\"')).length") >= 1
    finally:
        context.close()
    origin = f"127.0.0.1:{local.port}"
    foreign = [a for a in asked if urlsplit(a).scheme not in ("data", "blob") and urlsplit(a).netloc != origin]
    assert foreign == []
    assert any(a.startswith("ws://") for a in asked) and len(asked) > 5  # the session did talk to the server
    assert any(urlsplit(a).path.endswith((".woff2", ".woff")) for a in asked)  # the icon font, from here


@pytest.mark.browser
def test_the_preload_list_is_what_the_page_asks_for_by_itself(chromium):
    """Without the list, the page asks for exactly the scripts the list names (else: python -m tests.page_assets)."""
    recorded, listed = record(chromium), json.loads(PRELOAD.read_text())
    rewrite = "run `python -m tests.page_assets` to write the list again"
    assert recorded["voila"] == listed["voila"], rewrite
    for part in ("static", "labextensions"):  # the order the page asks in may vary with the network
        assert set(recorded[part]) == set(listed[part]), rewrite


@pytest.mark.browser
def test_every_preloaded_script_is_used_and_none_is_fetched_twice(chromium, local):
    context = chromium.new_context(**PHONE)
    scripts, console = [], []
    try:
        page = context.new_page()
        page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
        page.on("console", lambda m: console.append(m.text))
        open_dashboard(page, local.url)
        page.wait_for_timeout(4000)  # Chromium says so a few seconds after the load event
    finally:
        context.close()
    assert not [m for m in console if "preloaded using link preload but not used" in m]
    assert len(scripts) == len(set(scripts))


@pytest.mark.browser
def test_the_page_asks_for_nine_things_before_its_first_figures(chromium, local):
    """Over 4G each request is a round trip on one of six connections: 92 of them took about 15 waves.

    Now: the page, its two stylesheets and its style script, the bundle, the two extensions'
    entry scripts and the kernel's model; its scripts only the preloaded ones.
    """
    context = chromium.new_context(**PHONE)
    asked: list[tuple[str, str]] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: asked.append((r.resource_type, r.url)))
        page.goto(local.url, wait_until="commit")
        page.wait_for_function(FIGURES_SHOWN, polling=50)
        preloads = page.eval_on_selector_all('link[rel="preload"][as="script"]', "links => links.map(l => l.href)")
    finally:
        context.close()
    http = [(kind, url) for kind, url in asked if urlsplit(url).scheme in ("http", "https")]
    assert len(http) <= 9, "\n".join(url for _, url in http)
    scripts = [url for kind, url in http if kind == "script" and "/api/" not in url]
    assert sorted(scripts) == sorted([*preloads, next(u for u in scripts if "voila-style.js" in u)])


@pytest.mark.browser
def test_the_kernels_model_is_asked_for_once_while_the_scripts_still_download(chromium, local):
    """The page asks for its kernel's model as soon as it names the kernel, not after its scripts have run."""
    slow = {**FOUR_G, "downloadThroughput": 2_000_000 / 8}  # slower than 4G: the bundle takes seconds
    context = chromium.new_context(**PHONE)
    sent: dict[str, tuple[str, float]] = {}
    done: dict[str, float] = {}
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", slow)
        cdp.on("Network.requestWillBeSent", lambda e: sent.setdefault(e["requestId"], (e["request"]["url"], e["timestamp"])))
        cdp.on("Network.loadingFinished", lambda e: done.__setitem__(e["requestId"], e["timestamp"]))
        page.goto(local.url, wait_until="commit")
        page.wait_for_function(FIGURES_SHOWN, polling=50)
    finally:
        context.close()
    kernel = [t for url, t in sent.values() if re.fullmatch(r"/api/kernels/[0-9a-f-]{36}", urlsplit(url).path)]
    bundle = [rid for rid, (url, _) in sent.items() if re.search(r"/page-[0-9a-f]{16}\.js$", url)]
    assert len(kernel) == 1 and len(bundle) == 1, sent  # the early answer was the one used
    assert kernel[0] < done[bundle[0]]


def test_a_browser_that_offers_brotli_gets_it_and_one_that_refuses_both_gets_the_file(server):
    import brotli

    static = _page_config(_dechunk_gunzip(raw_get(server.port, "/", GZIP)[2]))["fullStaticUrl"]
    plain = _unversioned_voila_js(server)
    status, headers, body = raw_get(server.port, f"{static}/voila.js", {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["content-encoding"] == "br" and brotli.decompress(body) == plain
    status, headers, body = raw_get(server.port, f"{static}/voila.js", {"Accept-Encoding": "identity"})
    assert status == 200 and "content-encoding" not in headers and body == plain


@pytest.mark.parametrize(("header", "chosen"), [
    ("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("BR;Q=0.5", "br"),
    ("identity", None), ("", None), ("gzip;q=0", None), ("gzip;q=oops", None),
])
def test_the_encoding_is_the_best_the_browser_accepts(header, chosen):
    assert accepted_encoding(header) == chosen


def test_a_script_sent_gzipped_is_the_file_itself_and_others_get_it_as_it_is(server):
    import gzip

    static = _page_config(_dechunk_gunzip(raw_get(server.port, "/", GZIP)[2]))["fullStaticUrl"]
    plain = _unversioned_voila_js(server)
    first = raw_get(server.port, f"{static}/voila.js", GZIP)
    again = raw_get(server.port, f"{static}/voila.js", GZIP)
    assert first[2] == again[2] and int(first[1]["content-length"]) == len(first[2])  # kept, not recompressed
    assert gzip.decompress(first[2]) == plain and "accept-encoding" in first[1]["vary"].lower()
    status, headers, body = raw_get(server.port, f"{static}/voila.js", {"Range": "bytes=0-99"})
    assert status == 206 and body == plain[:100] and "content-encoding" not in headers
    assert raw_get(server.port, f"{static}/voila.js")[2] == plain  # no gzip asked, none given
    # an extension's script too
    listed = json.loads(PRELOAD.read_text())["labextensions"][0]
    status, headers, body = raw_get(server.port, f"/voila/labextensions/{listed}", GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip" and int(headers["content-length"]) == len(body)
