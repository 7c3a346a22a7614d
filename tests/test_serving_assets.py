"""prospects.serving.assets on a real server: what the page loads, and nothing outside its folders.

Paths are sent by a raw HTTP client that does not normalise them (``..``, encoded dots and
slashes, backslashes, absolute paths, NUL): each one is a 404, never a 500, never a file.
"""

from __future__ import annotations

import socket

import pytest

from prospects import db
from prospects.sample import sample_firm

from .browser import Serve

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
    base = tmp_path_factory.mktemp("assets")
    url = f"sqlite:///{base / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    s = Serve(url, base / "serve.log", "--auth", "header", "--pool-size", "0").start().wait()
    try:
        yield s
    finally:
        s.stop(keep_log_as="serve-assets.log")


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
