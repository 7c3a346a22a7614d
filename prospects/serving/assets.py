"""What the page loads: Voilà's scripts, styles and fonts, from the product's own origin and nothing outside their folders.

Imported only when serving (it needs Voilà). Voilà serves its templates' assets at
``/voila/templates/<template>/static/<file>`` and its own at ``/voila/static/<file>``, with
tornado's static file handler. Its template handler splits the path before checking it:
``/voila/templates/lab/static/../../../etc/passwd`` ended in an ``AssertionError`` and a
500 (no file was read, but a traceback in the log and an error page that is not ours).

:class:`TemplateAssetHandler` and :class:`StaticAssetHandler` replace both: a path that
could leave its folder (:func:`asset_path_problem`: ``..`` or ``.`` segments, encoded or
not, backslashes, absolute paths, empty segments, control characters) is a 404 before
any file-system call, and so is any template other than the page's. Tornado's own check
that the file lies inside its folder still runs after ours. Error pages are the server's
own (``templates/serve``: French by default, never a traceback).

A page over a slow link (a phone on 4G) pays for every byte and every round trip:

* responses are gzipped (the application's ``compress_response``, :mod:`prospects.serving.app`);
  a static file once per server process (:class:`CompressedOnce`), not once per page;
* Voilà's scripts are served under a versioned path, ``/voila/static/v/<token>/``
  (:func:`asset_token`: a fingerprint of the files), cached for a year as immutable;
  the lab extensions' scripts, whose addresses carry their content hash (``?v=``), too;
* the page's head asks for the scripts it will need before its first figures
  (:func:`preload_hrefs`, from ``templates/page/preload.json``) while the server still runs
  the notebook, instead of discovering them one wave after another once the page is whole;
* nothing comes from another origin (:func:`same_origin`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from jinja2 import TemplateNotFound
from jupyter_server.base.handlers import FileFindHandler
from markupsafe import Markup
from tornado import web
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler

log = logging.getLogger("prospects.serve")

#: The scripts the page loads before its first figures (written by ``python -m tests.page_assets``).
PRELOAD = Path(__file__).resolve().parent.parent / "templates" / "page" / "preload.json"
#: How long a browser keeps an asset whose address changes with its content.
IMMUTABLE = "public, max-age=31536000, immutable"

#: Longest asset path accepted (Voilà's longest is under 200 characters).
MAX_ASSET_PATH = 1024
#: A stylesheet link or a script element whose address names another origin (``https://…``, ``//…``).
FOREIGN = re.compile(r"""<(?:link|script)\b[^>]*?\b(?:href|src)\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:)?//[^>]*>(?:\s*</script\s*>)?""",
                     re.IGNORECASE)


def same_origin(html: str) -> Markup:
    """``html`` without the stylesheets and scripts it would fetch from another origin (a template filter).

    Voilà's lab page links Font Awesome from a public CDN: its CSS and fonts already come
    with the page's own ``voila-style.js``, so the page loses nothing but a request that
    fails on an intranet and tells a third party who opens the dashboard.
    """
    return Markup(FOREIGN.sub("", str(html)))


def asset_path_problem(path: str) -> str | None:
    """Why ``path`` (decoded, relative to an asset folder) may not name a file of that folder; ``None`` if it may."""
    if not path:
        return "no file named"
    if len(path) > MAX_ASSET_PATH:
        return f"{len(path)} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return "a control character"
    if "\\" in path:
        return "a backslash"
    if path.startswith("/"):
        return "an absolute path"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return f"a {segment!r} segment" if segment else "an empty segment"
    return None


def asset_token(paths: Sequence[str]) -> str:
    """A fingerprint of the files under ``paths`` (names, sizes, modification times): the version in their address."""
    digest = hashlib.sha256()
    for root in paths:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                try:
                    stat = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                rel = os.path.relpath(os.path.join(folder, name), root)
                digest.update(f"{root}\0{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _exists(roots: Sequence[str], relative: str) -> bool:
    return asset_path_problem(relative) is None and any(os.path.isfile(os.path.join(root, relative)) for root in roots)


def preload_hrefs(static_url: str, static_paths: Sequence[str], labextensions_url: str,
                  labextensions_paths: Sequence[str], manifest: Path | None = None) -> list[str]:
    """The addresses of the scripts the page needs before its first figures, for ``<link rel="preload">``.

    ``manifest`` (``templates/page/preload.json``) names them for one Voilà release: for
    another release, or a file that is not there, nothing is preloaded (the page then
    loads its scripts as Voilà does) and the log says why.
    """
    from voila import __version__ as voila_version

    manifest = manifest or PRELOAD
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("prospects serve: no script preloaded: %s: %s", manifest, exc)
        return []
    if listed.get("voila") != voila_version:
        log.warning("prospects serve: no script preloaded: %s lists Voilà %s's scripts, this is Voilà %s "
                    "(python -m tests.page_assets writes it again)", manifest.name, listed.get("voila"), voila_version)
        return []
    hrefs, missing = [], []
    for url, roots, names in ((static_url, static_paths, listed.get("static", [])),
                              (labextensions_url, labextensions_paths, listed.get("labextensions", []))):
        for name in names:
            if _exists(roots, name.split("?", 1)[0]):
                hrefs.append(f"{url.rstrip('/')}/{name}")
            else:
                missing.append(name)
    if missing:
        log.warning("prospects serve: %d scripts of %s not found, not preloaded: %s", len(missing), manifest.name,
                    ", ".join(missing[:5]))
    return hrefs


class OwnErrorPages(web.RequestHandler):
    """Errors of an asset handler as the server's own short page (``templates/serve``), never tornado's."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        env = self.settings.get("jinja2_env")
        if env is None:  # pragma: no cover - the application always has one
            super().write_error(status_code, **kwargs)
            return
        try:
            template = env.get_template(f"{status_code}.html")
        except TemplateNotFound:
            template = env.get_template("error.html")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(template.render(status_code=status_code, message=None))


class CompressedOnce(web.StaticFileHandler):
    """A static file sent gzipped, compressed once per server process and kept in memory.

    The application gzips every response (``compress_response``), in its one event loop:
    Voilà's 5 MB of scripts, the same for every page, would be compressed again for every
    browser with an empty cache (about 0.1 s of the server's CPU each). A client that does
    not accept gzip, or asks for a byte range, gets the file as it is.
    """

    #: (path, modification time, size) → the gzipped file
    kept: ClassVar[dict[tuple[str, int, int], bytes]] = {}
    COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")

    _gzip: bytes | None = None

    def set_extra_headers(self, path: str) -> None:
        super().set_extra_headers(path)
        if ("gzip" in self.request.headers.get("Accept-Encoding", "") and "Range" not in self.request.headers
                and (self.get_content_type() or "").startswith(self.COMPRESSIBLE)):
            self._gzip = self.gzipped(self.absolute_path)
            self.set_header("Content-Encoding", "gzip")  # the application's own gzip then leaves it as it is
            self.set_header("Vary", "Accept-Encoding")
            self.get_content = self._kept_content  # type: ignore[method-assign]  (the class's stays for the ETag)

    @classmethod
    def gzipped(cls, absolute_path: str) -> bytes:
        """The file gzipped (level 6, no timestamp: the same bytes every time), from memory after the first time."""
        stat = os.stat(absolute_path)
        key = (absolute_path, stat.st_mtime_ns, stat.st_size)
        found = cls.kept.get(key)
        if found is None:
            with open(absolute_path, "rb") as handle:
                found = cls.kept[key] = gzip.compress(handle.read(), compresslevel=6, mtime=0)
        return found

    def get_content_size(self) -> int:
        return len(self._gzip) if self._gzip is not None else super().get_content_size()

    def _kept_content(self, abspath: str, start: int | None = None, end: int | None = None) -> bytes:
        assert self._gzip is not None and start is None and end is None
        return self._gzip


def refuse_asset(path: str, why: str) -> None:
    """Log the refused path (escaped, cut) and answer 404."""
    log.info("prospects serve: no asset %r: %s", path[:200], why)
    raise web.HTTPError(404)


class TemplateAssetHandler(OwnErrorPages, CompressedOnce, TemplateStaticFileHandler):
    """``/voila/templates/<template>/static/<file>``: the assets of the page's own template only."""

    def initialize(self, templates: tuple[str, ...] = ("lab",)) -> None:
        self.templates = tuple(templates)
        super().initialize()

    def parse_url_path(self, path: str) -> str:
        problem = asset_path_problem(path)
        parts = path.split("/", 2)
        if problem is None and (len(parts) < 3 or parts[1] != "static"):
            problem = "not <template>/static/<file>"
        if problem is None and parts[0] not in self.templates:
            problem = f"not the page's template ({', '.join(self.templates)})"
        if problem is not None:
            refuse_asset(path, problem)
        return super().parse_url_path(path)


class StaticAssetHandler(OwnErrorPages, CompressedOnce, MultiStaticFileHandler):
    """``/voila/static/<file>``: Voilà's own scripts and styles; ``immutable`` under their versioned path."""

    def initialize(self, paths: list[str], default_filename: str | None = None, immutable: bool = False) -> None:
        self.immutable = immutable
        super().initialize(paths, default_filename=default_filename)

    def set_extra_headers(self, path: str) -> None:
        super().set_extra_headers(path)
        if self.immutable:
            self.set_header("Cache-Control", IMMUTABLE)

    def parse_url_path(self, path: str) -> str:
        problem = asset_path_problem(path)
        if problem is None and not _exists(self.roots, path):
            problem = "no such file"  # (Voilà's handler answered 403 for a file in none of its folders)
        if problem is not None:
            refuse_asset(path, problem)
        return super().parse_url_path(path)


class LabExtensionAssetHandler(CompressedOnce, FileFindHandler):
    """``/voila/labextensions/<path>``: the widget extensions' scripts (jupyter_server's handler, gzipped once)."""

    def parse_url_path(self, path: str) -> str:
        problem = asset_path_problem(path)
        if problem is not None:
            refuse_asset(path, problem)
        return super().parse_url_path(path)
