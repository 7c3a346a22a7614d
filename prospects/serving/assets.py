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
"""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import TemplateNotFound
from tornado import web
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler

log = logging.getLogger("prospects.serve")

#: Longest asset path accepted (Voilà's longest is under 200 characters).
MAX_ASSET_PATH = 1024


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


def refuse_asset(path: str, why: str) -> None:
    """Log the refused path (escaped, cut) and answer 404."""
    log.info("prospects serve: no asset %r: %s", path[:200], why)
    raise web.HTTPError(404)


class TemplateAssetHandler(OwnErrorPages, TemplateStaticFileHandler):
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


class StaticAssetHandler(OwnErrorPages, MultiStaticFileHandler):
    """``/voila/static/<file>``: Voilà's own scripts and styles."""

    def parse_url_path(self, path: str) -> str:
        problem = asset_path_problem(path)
        if problem is not None:
            refuse_asset(path, problem)
        return super().parse_url_path(path)
