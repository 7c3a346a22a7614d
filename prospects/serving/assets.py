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
  a static file once per server process (:class:`CompressedOnce`), not once per page, and with
  brotli when the browser offers it (a fifth smaller than gzip: :func:`accepted_encoding`);
* Voilà's scripts are served under a versioned path, ``/voila/static/v/<token>/``
  (:func:`asset_token`: a fingerprint of the files), cached for a year as immutable;
  the lab extensions' scripts, whose addresses carry their content hash (``?v=``), too;
* the scripts the page needs before its first figures (``templates/page/preload.json``) come
  in one bundle (:func:`page_bundle`, :class:`PageBundleHandler`) instead of 85 requests, each a
  round trip on one of the browser's six connections;
* the page's head asks for that bundle and the extensions' entry scripts (:func:`page_scripts`)
  while the server still runs the notebook, instead of once the page is whole;
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
from dataclasses import dataclass, field
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


def _find(roots: Sequence[str], relative: str) -> str | None:
    """The file ``relative`` names in the first of ``roots`` that has it (``None`` for a path that could leave them)."""
    if asset_path_problem(relative) is not None:
        return None
    for root in roots:
        candidate = os.path.join(root, relative)
        if os.path.isfile(candidate):
            return candidate
    return None


def _exists(roots: Sequence[str], relative: str) -> bool:
    return _find(roots, relative) is not None


def read_preload_list(manifest: Path | None = None) -> dict | None:
    """``templates/page/preload.json`` if it lists this Voilà release's scripts; else ``None`` and the log says why."""
    from voila import __version__ as voila_version

    manifest = manifest or PRELOAD
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("prospects serve: no script preloaded: %s: %s", manifest, exc)
        return None
    if listed.get("voila") != voila_version:
        log.warning("prospects serve: no script preloaded: %s lists Voilà %s's scripts, this is Voilà %s "
                    "(python -m tests.page_assets writes it again)", manifest.name, listed.get("voila"), voila_version)
        return None
    return listed


#: Voilà's entry script: the webpack runtime that starts the page, last in the bundle.
MAIN_JS = "voila.js"
#: A source map comment at the end of a script (the bundle has no source map).
SOURCE_MAP = re.compile(rb"\n//# sourceMappingURL=\S*\s*$")


@dataclass(frozen=True)
class PageScripts:
    """What the page's scripts are: the one it loads at the end of its body, and those its head asks for ahead.

    ``main`` is the file under Voilà's versioned static address the page loads (``voila.js``, or the
    bundle's name); ``bundle`` that bundle (``None``: the page loads Voilà's scripts one by one), and
    ``compressed`` the bundle in each of :data:`ENCODINGS`.
    """

    main: str
    preload: list[str]
    bundle: bytes | None = None
    compressed: dict[str, bytes] = field(default_factory=dict)

    @property
    def bundle_name(self) -> str | None:
        return self.main if self.bundle is not None else None


def is_entry(name: str) -> bool:
    """Whether ``name`` is a widget extension's entry script (``…/remoteEntry.<hash>.js``), which Voilà loads by its address."""
    return os.path.basename(name.split("?", 1)[0]).startswith("remoteEntry.")


def page_bundle(static_paths: Sequence[str], labextensions_paths: Sequence[str], listed: dict) -> bytes | None:
    """The scripts of the preload list in one script: their chunks first, then Voilà's entry (``None`` if one is missing).

    Voilà and each widget extension are webpack (or rspack) builds: a chunk file only pushes its
    modules on a global array (``self.webpackChunk…``), which the runtime reads when it starts and
    whose chunks it then never fetches. So the chunks, each in its own function (a chunk that
    starts with ``"use strict"`` stays strict, the others do not become so), then ``voila.js``
    itself, load in one request instead of one per chunk: over 4G, each of Chromium's six
    connections paid a round trip per chunk, in about fifteen waves. The extensions' own entry
    scripts (``remoteEntry…``) stay separate files: Voilà loads them by their address.
    """
    parts: list[bytes] = []
    main = None
    for roots, names in ((labextensions_paths, listed.get("labextensions", [])), (static_paths, listed.get("static", []))):
        for name in names:
            relative = name.split("?", 1)[0]
            if is_entry(relative):
                continue
            found = _find(roots, relative)
            if found is None:
                log.warning("prospects serve: %s not found: Voilà's scripts are loaded one by one", relative)
                return None
            with open(found, "rb") as handle:
                content = SOURCE_MAP.sub(b"\n", handle.read())
            if roots is static_paths and relative == MAIN_JS:
                main = content
            else:
                parts.append(b"(function () {\n" + content + b"\n}).call(self);\n")
    if main is None:
        log.warning("prospects serve: %s not in the preload list: Voilà's scripts are loaded one by one", MAIN_JS)
        return None
    return b"".join(parts) + main + b"\n"


def page_scripts(static_url: str, static_paths: Sequence[str], labextensions_url: str,
                 labextensions_paths: Sequence[str], manifest: Path | None = None) -> PageScripts:
    """The page's scripts for the preload list ``manifest`` (``templates/page/preload.json``), built once per server.

    With the list: one bundle (:func:`page_bundle`) that the head preloads with the extensions' entry
    scripts. Without it (another Voilà release, a file missing): Voilà's ``voila.js`` and the list's
    scripts that are there, preloaded one by one; nothing preloaded if there is no list.
    """
    listed = read_preload_list(manifest)
    if listed is None:
        return PageScripts(MAIN_JS, [])
    bundle = page_bundle(static_paths, labextensions_paths, listed)
    if bundle is not None:
        name = f"page-{hashlib.sha256(bundle).hexdigest()[:16]}.js"
        entries = [n for n in listed.get("labextensions", []) if is_entry(n)]
        listed = {"static": [name], "labextensions": entries}
        return PageScripts(name, _hrefs(static_url, static_paths, labextensions_url, labextensions_paths, listed,
                                        also={name}), bundle, {e: encoded(bundle, e) for e in ENCODINGS})
    return PageScripts(MAIN_JS, _hrefs(static_url, static_paths, labextensions_url, labextensions_paths, listed))


def _hrefs(static_url: str, static_paths: Sequence[str], labextensions_url: str, labextensions_paths: Sequence[str],
           listed: dict, also: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The addresses of the listed scripts that are there (``also``: served from memory, not a file)."""
    hrefs, missing = [], []
    for url, roots, names in ((static_url, static_paths, listed.get("static", [])),
                              (labextensions_url, labextensions_paths, listed.get("labextensions", []))):
        for name in names:
            if name in also or _exists(roots, name.split("?", 1)[0]):
                hrefs.append(f"{url.rstrip('/')}/{name}")
            else:
                missing.append(name)
    if missing:
        log.warning("prospects serve: %d scripts of the preload list not found, not preloaded: %s", len(missing),
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


#: The encodings a response may carry, best first: brotli when the browser offers it (Chromium does over
#: HTTPS and to the machine itself), else gzip.
ENCODINGS = ("br", "gzip")


def accepted_encoding(header: str) -> str | None:
    """The best of :data:`ENCODINGS` an ``Accept-Encoding`` header allows (``None``: neither, or only ``q=0``)."""
    offered: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        offered[name.strip().lower()] = weight
    return next((e for e in ENCODINGS if offered.get(e, 0.0) > 0), None)


def encoded(content: bytes, encoding: str) -> bytes:
    """``content`` compressed as ``encoding`` (brotli quality 9; gzip level 9 without a timestamp: the same bytes
    every time)."""
    if encoding == "br":
        import brotli

        return brotli.compress(content, quality=9)
    return gzip.compress(content, compresslevel=9, mtime=0)


class CompressedOnce(web.StaticFileHandler):
    """A static file sent compressed (:func:`accepted_encoding`), once per server process and kept in memory.

    The application gzips every response (``compress_response``), in its one event loop:
    Voilà's 5 MB of scripts, the same for every page, would be compressed again for every
    browser with an empty cache (about 0.1 s of the server's CPU each). A client that accepts
    neither brotli nor gzip, or asks for a byte range, gets the file as it is.
    """

    #: (path, modification time, size, encoding) → the compressed file
    kept: ClassVar[dict[tuple[str, int, int, str], bytes]] = {}
    COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")

    _encoded: bytes | None = None

    def set_extra_headers(self, path: str) -> None:
        super().set_extra_headers(path)
        encoding = accepted_encoding(self.request.headers.get("Accept-Encoding", ""))
        if (encoding is not None and "Range" not in self.request.headers
                and (self.get_content_type() or "").startswith(self.COMPRESSIBLE)):
            self._encoded = self.compressed(self.absolute_path, encoding)
            self.set_header("Content-Encoding", encoding)  # the application's own gzip then leaves it as it is
            self.set_header("Vary", "Accept-Encoding")
            self.get_content = self._kept_content  # type: ignore[method-assign]  (the class's stays for the ETag)

    @classmethod
    def compressed(cls, absolute_path: str, encoding: str = "gzip") -> bytes:
        """The file compressed as ``encoding`` (:func:`encoded`), from memory after the first time."""
        stat = os.stat(absolute_path)
        key = (absolute_path, stat.st_mtime_ns, stat.st_size, encoding)
        found = cls.kept.get(key)
        if found is None:
            with open(absolute_path, "rb") as handle:
                found = cls.kept[key] = encoded(handle.read(), encoding)
        return found

    def get_content_size(self) -> int:
        return len(self._encoded) if self._encoded is not None else super().get_content_size()

    def _kept_content(self, abspath: str, start: int | None = None, end: int | None = None) -> bytes:
        assert self._encoded is not None and start is None and end is None
        return self._encoded


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


class PageBundleHandler(OwnErrorPages):
    """``/voila/static/v/<token>/page-<digest>.js``: the page's scripts in one (:func:`page_bundle`), from memory.

    Compressed once when the server prepares its page (brotli or gzip, :func:`accepted_encoding`),
    kept for a year as immutable (its name is its content's digest); a client that accepts neither
    gets it as it is.
    """

    def initialize(self, pages: Any) -> None:
        self.pages = pages

    def get(self, name: str) -> None:
        scripts = self.pages.scripts()
        if scripts.bundle is None or name != scripts.bundle_name:
            refuse_asset(name, "not the page's bundle")
        self.set_header("Content-Type", "application/javascript; charset=UTF-8")
        self.set_header("Cache-Control", IMMUTABLE)
        self.set_header("Vary", "Accept-Encoding")
        encoding = accepted_encoding(self.request.headers.get("Accept-Encoding", ""))
        if encoding is not None:
            self.set_header("Content-Encoding", encoding)  # the application's own gzip then leaves it as it is
            self.finish(scripts.compressed[encoding])
        else:
            self.finish(scripts.bundle)

    head = get
