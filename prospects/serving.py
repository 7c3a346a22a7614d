"""Serving the dashboard with Voilà: ``prospects serve`` (ACCESS.md, "Identity" and "Server hardening").

How the viewer's identity reaches the kernel
--------------------------------------------
A *login source* is a function ``(request_handler) -> login | None`` called by Voilà's
prelaunch hook for every page request, before the kernel starts. The hook injects the
login into the notebook as a Python literal written with :func:`json.dumps` (a cell
placed right after the notebook's ``parameters`` cell, like papermill does), so the
kernel's ``login`` comes from the server only — never from the query string, a header
the server does not trust, or a widget. A source returning ``None`` gets no page (403).

Every request is first authenticated by a jupyter_server ``IdentityProvider``
(:mod:`prospects.voila_app`), for the page and for every endpoint that reaches a kernel
(its websocket, the kernel REST API, Voilà's shutdown call):

* ``--auth local``: one viewer for the whole server (:func:`fixed_login`), which listens
  on the loopback interface only (the demo mode);
* ``--auth header``: the login in a header set by an authenticating reverse proxy
  (``--header-name``, default ``X-Forwarded-User``), trusted only from the proxy's
  addresses; no header, no page (403);
* ``--auth hub``: the JupyterHub user owning this single-user server
  (``JUPYTERHUB_USER``), each request authenticated with the Hub.

The login source of those two modes is :func:`identity_login`, the authenticated
identity. A login unknown to the directory or inactive gets the "Accès refusé" page
(403) before any kernel starts. Each kernel is usable only by the identity whose page
started it (:class:`prospects.voila_app.KernelOwnerAuthorizer`).

Server-wide settings (database URL, today, locale, fiscal-year start) reach the kernel
through the environment (``PROSPECTS_*``, read by :mod:`prospects.config`): Voilà starts
each kernel with the server's environment. They are the same for every viewer.

Hardening: 127.0.0.1 unless told otherwise (``--auth local``: always), no tracebacks or
sources sent to the browser, template and theme overrides from the URL off, only the
dashboard notebook served and no other file, kernel websockets in the v1 protocol only with
every frame checked (:mod:`prospects.voila_app`), a timeout per cell, idle kernels culled,
kernels over Unix sockets, no framing by other sites (``Content-Security-Policy:
frame-ancestors 'self'``), no token or login form, refusals as a short page.

Capacity (many people at once, docs/deployment.md "Capacity"): the page handler
(:mod:`prospects.voila_page`) lets ``--opening-limit`` pages run at once and queues the
others in arrival order (:mod:`prospects.admission`), takes warm kernels from a pool
(``--pool-size``, :mod:`prospects.kernels`), never leaves a page blank, and gives back the
kernels of pages that never connect (``--connect-timeout``) or beyond ``--kernels-per-login``.
"""

from __future__ import annotations

import ipaddress
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

#: ``serve --auth`` modes.
AUTH_MODES = ("local", "header", "hub")

#: Headers of every Jupyter response (page, API, refusals): no framing by other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'self'; base-uri 'self'; object-src 'none'; form-action 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServeOptions:
    """How to serve. Defaults are the hardened ones of ACCESS.md."""

    auth: str = "local"
    user: str | None = None
    header_name: str = "X-Forwarded-User"  # --auth header
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")  # --auth header: who may set it
    hub_user: str | None = None  # --auth hub: JUPYTERHUB_USER
    ip: str = "127.0.0.1"
    port: int = 8866
    open_browser: bool = True
    cell_timeout: int = 120  # seconds for any notebook cell at page load
    cull_idle_timeout: int = 3600  # an idle kernel is shut down after this many seconds
    cull_interval: int = 300  # how often idle kernels are looked for
    cull_connected: bool = True  # also cull kernels whose tab is still open but idle
    notebook: Path | None = None  # default: notebooks/dashboard.ipynb of the project
    base_url: str = "/"  # --auth hub: JUPYTERHUB_SERVICE_PREFIX
    pool_size: int | None = None  # warm kernels kept ready (None: default_pool_size())
    opening_limit: int | None = None  # pages whose notebook runs at once (None: two per core)
    kernels_per_login: int = 3  # a login's new page closes its oldest beyond this (0: no cap)
    connect_timeout: int = 60  # seconds a served page has to open its kernel's websocket


def default_pool_size() -> int:
    """Warm kernels kept ready by default: one per core, 1 to 4 (each holds about 150 MB)."""
    return max(1, min(4, os.cpu_count() or 1))


def warm_code(config: str | None) -> str:
    """What a pool kernel runs ahead of any viewer (:func:`prospects.dashboard.warm_up`)."""
    return f"from prospects.dashboard import warm_up\nwarm_up(config={python_literal(config)})"


class PoolFingerprint:
    """What a warm kernel depends on besides the server's environment: the date, the config file, the data.

    A warm kernel warmed under another value is discarded instead of handed out
    (:class:`prospects.kernels.WarmPool`). The data part (``extract_info``, rewritten by
    every load) is read at most every ``data_every`` seconds; the kernel checks it again
    before reusing what it opened (:func:`prospects.dashboard.dashboard_from_settings`).
    """

    def __init__(self, settings: Settings, *, today_explicit: bool, data_every: float = 30.0,
                 clock: Callable[[], Any] | None = None):
        import datetime as dt

        self.settings = settings
        self.today_explicit = today_explicit
        self.data_every = data_every
        self.clock = clock or dt.date.today
        self._data: Any = None
        self._data_at = float("-inf")
        self._engine: Any = None

    def __call__(self) -> tuple:
        import time

        day = None if self.today_explicit else self.clock()
        config = self.settings.config_file
        try:
            stat = config.stat() if config is not None else None
            conf = (stat.st_mtime_ns, stat.st_size) if stat is not None else None
        except OSError:
            conf = "missing"
        now = time.monotonic()
        if now - self._data_at >= self.data_every:
            self._data, self._data_at = self._read_data(), now
        return (day, conf, self._data)

    def _read_data(self) -> Any:
        import sqlalchemy as sa

        from .db import make_engine, read_extract_info

        try:
            if self._engine is None:
                self._engine = make_engine(self.settings.db_url)
            return tuple(sorted(read_extract_info(self._engine).items()))
        except sa.exc.SQLAlchemyError:
            return "unreadable"


# ---------------------------------------------------------------------------
# identity


def fixed_login(login: str) -> LoginSource:
    """``--auth local``: the same viewer for every request."""

    def source(_handler: Any) -> str:
        return login

    return source


def identity_login(handler: Any) -> str | None:
    """``--auth header`` and ``hub``: the identity the server authenticated (``None``: no page)."""
    user = getattr(handler, "current_user", None)
    return getattr(user, "username", None) or None


LOGIN_SOURCES["local"] = lambda options: fixed_login(options.user or "")
LOGIN_SOURCES["header"] = lambda options: identity_login
LOGIN_SOURCES["hub"] = lambda options: identity_login


def is_loopback(ip: str) -> bool:
    """Whether ``--ip`` only listens on this machine."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


class ViewerCheck:
    """Before any kernel starts: is the login an active collaborator? (the kernel checks again).

    One indexed query per page request; refusing here costs no kernel (about 160 MB) for
    people the proxy authenticated but the directory does not know.
    """

    def __init__(self, db_url: str):
        self.db_url = db_url
        self._engine: Any = None

    def __call__(self, login: str) -> str | None:
        """``None`` if the login may open the dashboard, else the refusal message."""
        import sqlalchemy as sa

        from .db import DatabaseError, collaborator_active, make_engine
        from .i18n import shown

        try:
            if self._engine is None:
                self._engine = make_engine(self.db_url)
            active = collaborator_active(self._engine, login)
        except (sa.exc.SQLAlchemyError, DatabaseError):
            return None  # the kernel will show its own short error; never a traceback here
        if active is None:
            return f"Accès refusé : identifiant inconnu « {shown(login)} »"
        if not active:
            return f"Accès refusé : le collaborateur « {shown(login)} » est inactif"
        return None


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


def make_prelaunch_hook(
    login_source: LoginSource, *, config: str | None = None, check: Callable[[str], str | None] | None = None,
) -> Callable[..., Any]:
    """Voilà's ``prelaunch_hook(req_handler, notebook, cwd)``: inject the viewer, or refuse the page.

    ``check(login)`` returns a refusal message (403, no kernel) or ``None``. The login is also
    recorded on the request (``viewer_login``): the page gives the kernel it obtains to that
    owner (:mod:`prospects.voila_page`), and nothing else.
    """

    def prelaunch_hook(req_handler: Any, notebook: Any, cwd: str) -> Any:
        from tornado.web import HTTPError

        login = login_source(req_handler)
        if not login:
            raise HTTPError(403, "no viewer")
        refusal = check(login) if check is not None else None
        if refusal:
            raise HTTPError(403, "%s", refusal)
        req_handler.viewer_login = login
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
    from . import voila_app

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
    vc.multi_kernel_manager_class = voila_app.OwnedKernelManager  # whose each kernel is; warm pool; held kernels
    # identity: no token, no password, no login form; the identity provider decides
    app.token = None
    app.auto_token = False
    app.authorizer_class = voila_app.KernelOwnerAuthorizer
    # kernel websockets: the v1 protocol only (voila_app.V1KernelWebsocketHandler), every frame checked
    app.kernel_websocket_connection_class = voila_app.CheckedKernelConnection
    if options.auth == "header":
        app.identity_provider_class = voila_app.HeaderIdentity
        app.config.HeaderIdentity.header_name = options.header_name
        app.config.HeaderIdentity.trusted_proxies = list(options.trusted_proxies)
    elif options.auth == "hub":
        app.identity_provider_class = voila_app.HubIdentity
        app.config.HubIdentity.hub_user = options.hub_user or ""
    else:
        app.identity_provider_class = voila_app.LocalIdentity
        app.config.LocalIdentity.login = options.user or ""
    # --auth local: Host must be loopback too (no DNS rebinding to the demo's data)
    app.allow_remote_hosts = options.auth != "local"
    app.tornado_settings = {
        **{k: v for k, v in app.tornado_settings.items() if k not in ("headers", "xsrf_cookies", "debug", "serve_traceback")},
        "headers": dict(SECURITY_HEADERS),
        "debug": False,
        "serve_traceback": False,
    }
    app.ip = options.ip
    app.port = options.port
    app.base_url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    app.server_url = app.base_url
    app.port_retries = 0  # the port asked for, or an error: never a surprise port
    app.open_browser = options.open_browser
    app.autoreload = False
    # read later, when the kernel manager and the executor are created (Voila.start)
    app.config.VoilaExecutor.timeout = options.cell_timeout
    # an output arriving after its cell's reply is waited for as long as a cell may run, and one
    # that never comes is an error (the page says so): never a page silently left blank
    app.config.VoilaExecutor.iopub_timeout = options.cell_timeout
    app.config.VoilaExecutor.raise_on_iopub_timeout = True
    app.config.VoilaExecutor.show_tracebacks = False
    app.config.VoilaExecutor.interrupt_on_timeout = False
    # the page shows the live widgets: no copy of their state in the notebook, no timings
    app.config.VoilaExecutor.store_widget_state = False
    app.config.VoilaExecutor.record_timing = False
    # kernels talk to the server over Unix sockets in Voilà's private connection folder (mode 0700):
    # no TCP port another local user could reach, none another program could take first
    app.config.KernelManager.transport = "ipc"
    # capacity: pages at once, warm kernels, kernels per login, held kernels
    app.opening_limit = options.opening_limit or 0
    app.pool_size = default_pool_size() if options.pool_size is None else options.pool_size
    app.config.OwnedKernelManager.kernels_per_login = options.kernels_per_login
    app.config.OwnedKernelManager.connect_timeout = float(options.connect_timeout)
    for section in ("MappingKernelManager", "AsyncMappingKernelManager"):
        app.config[section].cull_idle_timeout = options.cull_idle_timeout
        app.config[section].cull_interval = options.cull_interval
        app.config[section].cull_connected = options.cull_connected
        app.config[section].cull_busy = False
    return app


def build_voila(settings: Settings, options: ServeOptions, login_source: LoginSource | None = None,
                *, today_explicit: bool = False) -> Any:
    """A hardened, initialised Voilà application serving only the dashboard notebook."""
    from .voila_app import ProspectsVoila

    if options.auth not in LOGIN_SOURCES:
        raise ValueError(f"--auth {options.auth}: expected one of {', '.join(LOGIN_SOURCES)}")
    source = login_source or LOGIN_SOURCES[options.auth](options)
    notebook = options.notebook or dashboard_notebook(settings)
    config = str(settings.config_file.resolve()) if settings.config_file else None
    hook = make_prelaunch_hook(source, config=config, check=ViewerCheck(settings.db_url))
    app = ProspectsVoila()
    app.initialize([str(notebook), "--no-browser"])
    app.refusal_locale = settings.locale
    app.warm_code = warm_code(config)
    app.pool_fingerprint = PoolFingerprint(settings, today_explicit=today_explicit)
    return harden(app, options, hook)


# ---------------------------------------------------------------------------
# the command


def demo_login_table(settings: Settings) -> list[dict]:
    """The demo logins of the database (:func:`prospects.demo.demo_logins`), or ``[]`` for a real firm.

    The small directory tables come from the database, the deals' people from the figure
    store (a large demo's 873k deals are not read through SQL again at each start).
    """
    import numpy as np
    import pandas as pd

    from . import db, demo
    from .api import open_firm

    firm = open_firm(settings=settings)
    try:
        if not demo.holds_demo(firm.extract_info):
            return []
        frames = dict(db.read_all(firm.engine, ("org_units", "entities", "collaborators", "groups", "group_units", "group_members")))
    finally:
        firm.engine.dispose()
    snap = firm._snapshot()
    ids = snap.directory.collaborators.index.to_numpy(dtype=object)
    people = {}
    for name in ("partner", "manager", "client_manager"):
        codes = snap.col("deals", name)
        people[f"{name}_id"] = np.where(codes >= 0, ids[np.maximum(codes, 0)] if len(ids) else None, None)
    frames["deals"] = pd.DataFrame(people)
    return demo.demo_logins(frames, settings.function_caps)


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


def check_options(options: ServeOptions) -> str | None:
    """Why these options cannot be served (one line), or ``None``."""
    if options.auth not in AUTH_MODES:
        return f"--auth {options.auth}: expected one of {', '.join(AUTH_MODES)}"
    if options.auth == "local" and not is_loopback(options.ip):
        return (f"--auth local serves one fixed viewer and listens on the loopback interface only, not {options.ip}: "
                "put an authenticating reverse proxy in front of --auth header to serve other machines (docs/deployment.md)")
    if options.auth == "header":
        name = options.header_name
        if not name or any(not (ch.isalnum() or ch == "-") for ch in name):
            return f"--header-name {name!r}: a header name is letters, digits and dashes"
        for entry in options.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                return f"--trusted-proxy {entry!r}: not an IP address or network"
    if options.auth == "hub":
        if not options.hub_user:
            return "--auth hub runs as a JupyterHub single-user server: JUPYTERHUB_USER is not set (docs/deployment.md)"
        try:
            import jupyterhub.services.auth  # noqa: F401
        except ImportError:
            return "--auth hub needs the jupyterhub package: pip install 'prospects[hub]'"
    if options.cull_idle_timeout < 0 or options.cell_timeout <= 0:
        return "--cull-idle-timeout must be 0 (never) or more, --cell-timeout more than 0"
    for flag, value, least in (("--pool-size", options.pool_size, 0), ("--opening-limit", options.opening_limit, 1),
                               ("--kernels-per-login", options.kernels_per_login, 0),
                               ("--connect-timeout", options.connect_timeout, 1)):
        if value is not None and value < least:
            return f"{flag} {value}: at least {least}"
    return None


def hub_options(options: ServeOptions, environ: Mapping[str, str] | None = None) -> ServeOptions:
    """``--auth hub``: the user, address and port the Hub gave this single-user server."""
    from urllib.parse import urlsplit

    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {"hub_user": env.get("JUPYTERHUB_USER") or None, "open_browser": False}
    service_url = env.get("JUPYTERHUB_SERVICE_URL")
    if service_url:
        parts = urlsplit(service_url)
        if parts.hostname:
            changes["ip"] = parts.hostname
        if parts.port:
            changes["port"] = parts.port
    changes["base_url"] = env.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
    return ServeOptions(**{**options.__dict__, **changes})


def run_serve_command(settings: Settings, options: ServeOptions, *, today_explicit: bool) -> int:
    """``prospects serve``: print the URL and logins, then serve until interrupted."""
    from .db import has_schema, make_engine

    if options.auth == "hub":
        options = hub_options(options)
    problem = check_options(options)
    if problem:
        print(f"prospects: {problem}", file=sys.stderr)
        return 2
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
    os.environ.update(kernel_environment(settings, today_explicit=today_explicit))
    app = build_voila(settings, options, today_explicit=today_explicit)

    host = f"[{options.ip}]" if ":" in options.ip else options.ip
    url = f"http://{host}:{app.port}{app.base_url}"
    lines = ["", "Suivi Business › Prospects — dashboard", f"  URL:     {url}"]
    if options.auth == "local":
        lines.append(f"  Viewer:  {_viewer_line(settings, options.user or '')}  [--auth local: one fixed viewer]")
    elif options.auth == "header":
        proxies = ", ".join(options.trusted_proxies)
        lines.append(f"  Viewer:  the {options.header_name} header set by the reverse proxy at {proxies} (docs/deployment.md);"
                     " no header, no page")
    else:
        lines.append(f"  Viewer:  {_viewer_line(settings, options.hub_user or '')}  [--auth hub: JUPYTERHUB_USER, authenticated by the Hub]")
    lines.append(f"  Data:    {_safe_url(settings.db_url)}, today {settings.today.isoformat() if today_explicit else 'the system date'}")
    others = [x for x in logins if x["login"] != options.user] if options.auth == "local" else []
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
