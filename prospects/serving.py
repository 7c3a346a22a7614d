"""Serving the dashboard with Voilà: ``prospects serve`` (ACCESS.md, "Identity" and "Server hardening").

How the viewer's identity reaches the kernel
--------------------------------------------
A *login source* is a function ``(request_handler) -> login | None`` called by Voilà's
prelaunch hook for every page request, before the kernel starts. The hook injects the
login into the notebook as a Python literal written with :func:`json.dumps` (a cell
placed right after the notebook's ``parameters`` cell, like papermill does), so the
kernel's ``login`` comes from the server only — never from the query string, a header
the server does not trust, or a widget. A source returning ``None`` gets no page (403).

* ``--auth local`` uses :func:`fixed_login`: one viewer for the whole server, bound to
  the loopback interface (the demo mode).
* Other modes (a trusted reverse-proxy header through a jupyter_server
  ``IdentityProvider``, JupyterHub) plug in by adding a login source to
  :data:`LOGIN_SOURCES` and, when needed, configuring the Voilà application in
  :func:`build_voila` (``identity_provider_class``). The login source then reads the
  authenticated identity, e.g. ``handler.current_user.username``.

Server-wide settings (database URL, today, locale, fiscal-year start) reach the kernel
through the environment (``PROSPECTS_*``, read by :mod:`prospects.config`): Voilà starts
each kernel with the server's environment. They are the same for every viewer.

Hardening: 127.0.0.1 unless told otherwise, no tracebacks or sources sent to the browser,
template and theme overrides from the URL off, only the dashboard notebook served and no
other file, a timeout per cell, idle kernels culled.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings

#: A function of the tornado request handler giving the viewer's login (``None``: no page).
LoginSource = Callable[[Any], "str | None"]

#: Modes of ``serve --auth`` and the function making each one's login source from the options.
LOGIN_SOURCES: dict[str, Callable[[ServeOptions], LoginSource]] = {}

INJECTED_TAG = "injected-parameters"


@dataclass(frozen=True)
class ServeOptions:
    """How to serve. Defaults are the hardened ones of ACCESS.md."""

    auth: str = "local"
    user: str | None = None
    ip: str = "127.0.0.1"
    port: int = 8866
    open_browser: bool = True
    cell_timeout: int = 120  # seconds for any notebook cell at page load
    cull_idle_timeout: int = 3600  # an idle kernel is shut down after this many seconds
    cull_interval: int = 300  # how often idle kernels are looked for
    cull_connected: bool = True  # also cull kernels whose tab is still open but idle
    notebook: Path | None = None  # default: notebooks/dashboard.ipynb of the project


# ---------------------------------------------------------------------------
# identity


def fixed_login(login: str) -> LoginSource:
    """``--auth local``: the same viewer for every request."""

    def source(_handler: Any) -> str:
        return login

    return source


LOGIN_SOURCES["local"] = lambda options: fixed_login(options.user or "")


def python_literal(value: str | None) -> str:
    """A JSON-escaped literal that Python reads back as exactly ``value`` (``None`` → ``None``)."""
    if value is None:
        return "None"
    if not isinstance(value, str):
        raise TypeError(f"only text parameters are injected, not {type(value).__name__}")
    # A JSON string is a valid Python string literal with the same value: quotes, backslashes
    # and every control character (newlines included) are escaped, so it stays on one line.
    # Non-ASCII text is kept as is (\uXXXX surrogate pairs would not read back in Python).
    return json.dumps(value, ensure_ascii=False)


def parameter_source(values: Mapping[str, str | None]) -> str:
    """The source of the injected cell."""
    lines = ["# Injected by `prospects serve` (Voilà prelaunch hook): set by the server, not the page."]
    for name, value in values.items():
        if not name.isidentifier():
            raise ValueError(f"not a parameter name: {name!r}")
        lines.append(f"{name} = {python_literal(value)}")
    return "\n".join(lines)


def inject_parameters(notebook: Any, values: Mapping[str, str | None]) -> Any:
    """Insert a cell setting ``values`` right after the ``parameters`` cell (first cell if none)."""
    import nbformat

    cell = nbformat.v4.new_code_cell(parameter_source(values), metadata={"tags": [INJECTED_TAG]})
    cells = [c for c in notebook.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    at = 0
    for i, c in enumerate(cells):
        if "parameters" in c.get("metadata", {}).get("tags", []):
            at = i + 1
            break
    cells.insert(at, cell)
    notebook.cells = cells
    return notebook


def make_prelaunch_hook(login_source: LoginSource, *, config: str | None = None) -> Callable[..., Any]:
    """Voilà's ``prelaunch_hook(req_handler, notebook, cwd)``: inject the viewer, or refuse the page."""

    def prelaunch_hook(req_handler: Any, notebook: Any, cwd: str) -> Any:
        from tornado.web import HTTPError

        login = login_source(req_handler)
        if not login:
            raise HTTPError(403, "no viewer")
        return inject_parameters(notebook, {"login": login, "config": config})

    return prelaunch_hook


# ---------------------------------------------------------------------------
# the Voilà application


def dashboard_notebook(settings: Settings | None = None) -> Path:
    """``notebooks/dashboard.ipynb`` of the project (else next to the package, for editable installs)."""
    candidates = []
    if settings is not None:
        candidates.append(settings.project_dir / "notebooks" / "dashboard.ipynb")
    candidates.append(Path(__file__).resolve().parent.parent / "notebooks" / "dashboard.ipynb")
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError("notebooks/dashboard.ipynb not found (looked in " + ", ".join(map(str, candidates)) + ")")


def kernel_environment(settings: Settings, *, today_explicit: bool) -> dict[str, str]:
    """The ``PROSPECTS_*`` variables every dashboard kernel inherits from the server."""
    env = {
        "PROSPECTS_DB": settings.db_url,
        "PROSPECTS_LOCALE": settings.locale,
        "PROSPECTS_FY_START_MONTH": str(settings.fiscal_year_start_month),
        "PROSPECTS_HOME": str(settings.project_dir),
    }
    if today_explicit:  # otherwise each kernel takes the system date of its own day
        env["PROSPECTS_TODAY"] = settings.today.isoformat()
    return env


def harden(app: Any, options: ServeOptions, hook: Callable[..., Any]) -> Any:
    """Apply ACCESS.md's hardening to an initialised Voilà application (after its config files)."""
    vc = app.voila_configuration
    vc.show_tracebacks = False
    vc.strip_sources = True
    vc.allow_template_override = "NO"
    vc.allow_theme_override = "NO"
    vc.preheat_kernel = False  # incompatible with the prelaunch hook
    vc.progressive_rendering = False
    vc.file_allowlist = []  # no file of the notebook folder is served
    vc.file_denylist = [r".*"]
    vc.http_header_envs = []
    vc.prelaunch_hook = hook
    app.ip = options.ip
    app.port = options.port
    app.port_retries = 0  # the port asked for, or an error: never a surprise port
    app.open_browser = options.open_browser
    app.autoreload = False
    # read later, when the kernel manager and the executor are created (Voila.start)
    app.config.VoilaExecutor.timeout = options.cell_timeout
    app.config.VoilaExecutor.show_tracebacks = False
    app.config.VoilaExecutor.interrupt_on_timeout = False
    for section in ("MappingKernelManager", "AsyncMappingKernelManager"):
        app.config[section].cull_idle_timeout = options.cull_idle_timeout
        app.config[section].cull_interval = options.cull_interval
        app.config[section].cull_connected = options.cull_connected
        app.config[section].cull_busy = False
    return app


def build_voila(settings: Settings, options: ServeOptions, login_source: LoginSource | None = None) -> Any:
    """A hardened, initialised Voilà application serving only the dashboard notebook."""
    from voila.app import Voila

    if options.auth not in LOGIN_SOURCES:
        raise ValueError(f"--auth {options.auth}: expected one of {', '.join(LOGIN_SOURCES)}")
    source = login_source or LOGIN_SOURCES[options.auth](options)
    notebook = options.notebook or dashboard_notebook(settings)
    config = str(settings.config_file.resolve()) if settings.config_file else None
    hook = make_prelaunch_hook(source, config=config)
    app = Voila()
    app.initialize([str(notebook), "--no-browser"])
    return harden(app, options, hook)


# ---------------------------------------------------------------------------
# the command


def demo_login_table(settings: Settings) -> list[dict]:
    """The demo logins of the database (:func:`prospects.demo.demo_logins`), or ``[]`` for a real firm."""
    from . import db, demo

    engine = db.make_engine(settings.db_url)
    try:
        if not str(db.read_extract_info(engine).get("source", "")).startswith("demo"):
            return []
        frames = db.read_all(engine, ("org_units", "entities", "collaborators", "groups", "group_units", "group_members", "deals"))
        return demo.demo_logins(frames, settings.function_caps)
    finally:
        engine.dispose()


def default_demo_login(logins: list[dict]) -> str | None:
    """The demo validator shown by default: the regional partner, else the first validator."""
    for entry in logins:
        if entry["what"].startswith("their region"):
            return entry["login"]
    for entry in logins:
        if entry["can_validate_offers"]:
            return entry["login"]
    return None


def _viewer_line(settings: Settings, login: str) -> str:
    from . import i18n
    from .api import open_firm
    from .scoping import AccessDenied

    try:
        firm = open_firm(settings=settings)
        firm.engine.dispose()
        v = firm.as_viewer(login).viewer
    except AccessDenied as exc:
        return f"{login}: {exc} — the page will show « Accès refusé » and no data"
    fn = i18n.FUNCTION_LABELS["en"].get(v.function, v.function)
    right = "with the Organisation and Collaborateurs filters" if v.has_filters else "own deals only, no filters"
    return f"{login} ({v.full_name}, {fn}; {right})"


def run_serve_command(settings: Settings, options: ServeOptions, *, today_explicit: bool) -> int:
    """``prospects serve``: print the URL and logins, then serve until interrupted."""
    from .db import has_schema, make_engine

    engine = make_engine(settings.db_url)
    try:
        if not has_schema(engine):
            print("prospects: the database has no prospects tables: run `prospects demo` or `prospects load DIR` first", file=sys.stderr)
            return 2
    finally:
        engine.dispose()
    logins = demo_login_table(settings)
    if options.auth == "local" and not options.user:
        user = default_demo_login(logins)
        if user is None:
            print("prospects: serve --auth local needs --user LOGIN (the viewer)", file=sys.stderr)
            return 2
        options = ServeOptions(**{**options.__dict__, "user": user})
    if options.auth == "local" and options.ip not in ("127.0.0.1", "localhost", "::1"):
        print(f"prospects: warning: --auth local serves one fixed viewer to anyone who reaches {options.ip}:{options.port}", file=sys.stderr)
    os.environ.update(kernel_environment(settings, today_explicit=today_explicit))
    app = build_voila(settings, options)

    host = f"[{options.ip}]" if ":" in options.ip else options.ip
    url = f"http://{host}:{app.port}/"
    lines = ["", "Suivi Business › Prospects — dashboard", f"  URL:     {url}"]
    if options.auth == "local":
        lines.append(f"  Viewer:  {_viewer_line(settings, options.user or '')}  [--auth local: one fixed viewer]")
    lines.append(f"  Data:    {_safe_url(settings.db_url)}, today {settings.today.isoformat() if today_explicit else 'the system date'}")
    others = [x for x in logins if x["login"] != options.user]
    if others:
        lines.append("  Other demo logins (prospects serve --user LOGIN):")
        width = max(len(x["login"]) for x in others)
        for x in others:
            lines.append(f"    {x['login']:<{width}}  {x['full_name']}, {x['function']} — {x['what']}")
    lines.append("  Stop with Ctrl-C.")
    banner = "\n".join(lines) + "\n"

    import tornado.ioloop

    # printed once the server listens (Voila.start binds the port, then runs the loop)
    tornado.ioloop.IOLoop.current().add_callback(lambda: print(banner, flush=True))
    app.start()
    return 0


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)
