"""Who is viewing: identity providers, login sources, the directory check, the injected login.

Every request goes through a jupyter_server :class:`~jupyter_server.auth.IdentityProvider`
(``prepare`` of every Jupyter handler: the page, the kernel REST API and its websocket,
the shutdown call):

* :class:`LocalIdentity` (``--auth local``): the one fixed viewer, for every request;
* :class:`HeaderIdentity` (``--auth header``): the login in a header set by the
  authenticating reverse proxy (default ``X-Forwarded-User``), trusted only from the proxy's
  addresses (loopback by default). Without it, the request is refused with 403 before any
  handler runs: no page, no kernel, no login form;
* ``--auth hub``: :class:`prospects.serving.hub.HubIdentity`.

No token and no password: the identity provider is the authentication.

Then, for a page request, Voilà's prelaunch hook (:func:`make_prelaunch_hook`) asks the
mode's *login source* (:data:`LOGIN_SOURCES`) for the viewer's login, refuses a login the
directory does not know or that is inactive (:class:`ViewerCheck`: 403, no kernel), and
injects the login into the notebook as a Python literal (:func:`python_literal`, a cell
right after the ``parameters`` cell): the kernel's ``login`` comes from the server only.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import List, Unicode

if TYPE_CHECKING:
    from .command import ServeOptions

#: A function of the tornado request handler giving the viewer's login (``None``: no page).
LoginSource = Callable[[Any], "str | None"]

#: Modes of ``serve --auth`` and the function making each one's login source from the options.
LOGIN_SOURCES: dict[str, Callable[[ServeOptions], LoginSource]] = {}

INJECTED_TAG = "injected-parameters"

MAX_LOGIN = 256


def clean_login(value: str | None) -> str | None:
    """A login as received (header, environment), or ``None`` if empty or not plausible text."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_LOGIN or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    return value


# ---------------------------------------------------------------------------
# identity providers


class NoLoginIdentity(IdentityProvider):
    """Common part: no login form, no logout, no token; refusal is a 403 (never a redirect)."""

    @property
    def auth_enabled(self) -> bool:  # never fall back to jupyter_server's anonymous users
        return True

    @property
    def login_available(self) -> bool:
        return False

    @property
    def logout_available(self) -> bool:
        return False

    def get_handlers(self) -> list:
        return []  # no /login, /logout

    def refuse(self, handler: web.RequestHandler, why: str) -> None:
        """Log who was refused and why, then answer 403 (the request goes no further)."""
        handler.log.warning("prospects serve: refused %s %s: %s", handler.request.method, handler.request.path, why)
        # nobody is signed in: the error page must not ask the identity provider again
        handler.current_user = handler._jupyter_current_user = None  # type: ignore[attr-defined]
        raise web.HTTPError(403, why)


class LocalIdentity(NoLoginIdentity):
    """``--auth local``: one fixed viewer for every request (the server listens on loopback only)."""

    login = Unicode("", config=True, help="the viewer of the whole server")

    def get_user(self, handler: web.RequestHandler) -> User | None:
        login = clean_login(self.login)
        if login is None:
            self.refuse(handler, "no viewer configured")
        return User(username=login, name=login, display_name=login)


class HeaderIdentity(NoLoginIdentity):
    """``--auth header``: the login set by the authenticating reverse proxy in a request header."""

    header_name = Unicode("X-Forwarded-User", config=True, help="header carrying the authenticated login")
    trusted_proxies = List(Unicode(), ["127.0.0.1", "::1"], config=True,
                           help="addresses (or networks) the header is trusted from: the proxy's")

    def trusted(self, remote_ip: str | None) -> bool:
        """Whether a request from ``remote_ip`` comes from a trusted proxy."""
        if not remote_ip:
            return False
        try:
            addr = ipaddress.ip_address(remote_ip.split("%", 1)[0])
        except ValueError:
            return False
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        for entry in self.trusted_proxies:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def get_user(self, handler: web.RequestHandler) -> User | None:
        if not self.trusted(handler.request.remote_ip):
            self.refuse(handler, f"connection from {handler.request.remote_ip}, not a trusted proxy")
        values = handler.request.headers.get_list(self.header_name)
        if len(values) != 1:
            self.refuse(handler, f"{len(values)} {self.header_name} headers")
        login = clean_login(values[0])
        if login is None:
            self.refuse(handler, f"empty or malformed {self.header_name} header")
        return User(username=login, name=login, display_name=login)


# ---------------------------------------------------------------------------
# login sources


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


class ViewerCheck:
    """Before any kernel starts: is the login an active collaborator? (the kernel checks again).

    One indexed query per page request; refusing here costs no kernel (about 160 MB) for
    people the proxy authenticated but the directory does not know.
    """

    def __init__(self, db_url: str, locale: str = "fr"):
        self.db_url, self.locale = db_url, locale
        self._engine: Any = None

    def __call__(self, login: str) -> str | None:
        """``None`` if the login may open the dashboard, else the refusal message."""
        import sqlalchemy as sa

        from ..db import DatabaseError, collaborator_active, make_engine
        from ..i18n import sentence, shown

        try:
            if self._engine is None:
                self._engine = make_engine(self.db_url)
            active = collaborator_active(self._engine, login)
        except (sa.exc.SQLAlchemyError, DatabaseError):
            return None  # the kernel will show its own short error; never a traceback here
        if active is None:
            return sentence("api.unknown_login", self.locale, login=shown(login))
        if not active:
            return sentence("api.inactive_login", self.locale, login=shown(login))
        return None


# ---------------------------------------------------------------------------
# the login, injected into the notebook


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
    owner (:mod:`prospects.serving.page`), and nothing else.
    """

    def prelaunch_hook(req_handler: Any, notebook: Any, cwd: str) -> Any:
        login = login_source(req_handler)
        if not login:
            raise web.HTTPError(403, "no viewer")
        refusal = check(login) if check is not None else None
        if refusal:
            raise web.HTTPError(403, "%s", refusal)
        req_handler.viewer_login = login
        return inject_parameters(notebook, {"login": login, "config": config})

    return prelaunch_hook
