"""The ``prospects serve`` command: its options and their checks, the demo logins, the address once.

:func:`run_serve_command` checks the options (:func:`check_options`: one line and exit 2,
never a traceback), checks the database, picks the demo's default viewer for
``--auth local``, builds the hardened application (:func:`prospects.serving.app.build_voila`)
and serves until interrupted. This module imports neither Voilà nor jupyter_server until
it serves.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Settings

#: ``serve --auth`` modes.
AUTH_MODES = ("local", "header", "hub")


@dataclass(frozen=True)
class ServeOptions:
    """How to serve. Defaults are the hardened ones of docs/access.md."""

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

    def replace(self, **changes: Any) -> ServeOptions:
        """These options with ``changes``."""
        return dataclasses.replace(self, **changes)


def is_loopback(ip: str) -> bool:
    """Whether ``--ip`` only listens on this machine."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def demo_login_table(settings: Settings) -> list[dict]:
    """The demo logins of the database (:func:`prospects.demo.demo_logins`), or ``[]`` for a real firm.

    The small directory tables come from the database, the deals' people from the figure
    store (a large demo's 873k deals are not read through SQL again at each start).
    """
    import numpy as np
    import pandas as pd

    from .. import db, demo
    from ..api import open_firm

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
    from .. import i18n
    from ..api import open_firm
    from ..scoping import AccessDenied

    try:
        firm = open_firm(settings=settings)
        firm.engine.dispose()
        v = firm.as_viewer(login).viewer
    except AccessDenied as exc:
        # the banner speaks English (an operator reads it); the page speaks the dashboard's language
        return f"{login}: {exc.say('en')} — the page will show \u201c{i18n.label('access_denied', settings.locale)}\u201d and no data"
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
        from .hub import hub_problem

        problem = hub_problem(options)
        if problem:
            return problem
    if options.cull_idle_timeout < 0 or options.cell_timeout <= 0:
        return "--cull-idle-timeout must be 0 (never) or more, --cell-timeout more than 0"
    for flag, value, least in (("--pool-size", options.pool_size, 0), ("--opening-limit", options.opening_limit, 1),
                               ("--kernels-per-login", options.kernels_per_login, 0),
                               ("--connect-timeout", options.connect_timeout, 1)):
        if value is not None and value < least:
            return f"{flag} {value}: at least {least}"
    return None


def run_serve_command(settings: Settings, options: ServeOptions, *, today_explicit: bool) -> int:
    """``prospects serve``: print the URL and logins, then serve until interrupted."""
    from ..db import has_schema, make_engine
    from .app import build_voila, kernel_environment

    if options.auth == "hub":
        from .hub import hub_options

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
        options = options.replace(user=user)
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
