"""The Voilà application of ``prospects serve``: identity providers, kernel ownership, refusal page.

Imported only when serving (it needs jupyter_server and Voilà). :mod:`prospects.serving`
builds and hardens the application; this module holds the classes it plugs in.

Who is viewing
--------------
Every request goes through a jupyter_server :class:`~jupyter_server.auth.IdentityProvider`
(``prepare`` of every Jupyter handler: the page, the kernel REST API and its websocket,
the shutdown call):

* :class:`LocalIdentity` (``--auth local``): the one fixed viewer, for every request;
* :class:`HeaderIdentity` (``--auth header``): the login in a header set by the
  authenticating reverse proxy (default ``X-Forwarded-User``), trusted only from the proxy's
  addresses (loopback by default). Without it, the request is refused with 403 before any
  handler runs: no page, no kernel, no login form;
* :class:`HubIdentity` (``--auth hub``): the JupyterHub user of this single-user server
  (``JUPYTERHUB_USER``), each request authenticated with the Hub (OAuth cookie or API
  token, through ``jupyterhub.services.auth.HubOAuth``) and refused unless it is that user.

No token and no password: the identity provider is the authentication.

Kernel ownership
----------------
Each page gets one kernel (:mod:`prospects.voila_page`) and then talks to it over
``/api/kernels/<id>/channels``. :class:`prospects.kernels.OwnedKernelManager` records, for
each kernel, the viewer whose page asked for it (the login the prelaunch hook checked),
and :class:`KernelOwnerAuthorizer` lets only that same identity use the kernel's websocket
and REST endpoints; :class:`OwnedShutdownHandler` does the same for Voilà's
``/voila/api/shutdown/<id>``. A kernel id seen by someone else (a shared link, a log)
opens nothing.

The application
---------------
:class:`ProspectsVoila` is Voilà with those classes plugged in, the page handler of
:mod:`prospects.voila_page` (admission, warm kernels, never blank), the kernel websocket
of this module (v1 only, frames checked), and the watches started with the event loop
(held kernels, the warm pool, :class:`prospects.admission.LoopWatch`). It refuses to
start if Voilà stops routing one of the handlers it replaces.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado import web
from traitlets import Bool, Integer, List, Unicode
from voila.app import Voila
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from .admission import Admission, LoopWatch, default_limit
from .kernels import OwnedKernelManager, WarmPool
from .voila_page import DashboardPageHandler, DashboardPages

TEMPLATES = Path(__file__).resolve().parent / "templates" / "serve"

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


class _NoLogin(IdentityProvider):
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
        handler.log.warning("prospects serve: refused %s %s: %s", handler.request.method, handler.request.path, why)
        # nobody is signed in: the error page must not ask the identity provider again
        handler.current_user = handler._jupyter_current_user = None  # type: ignore[attr-defined]
        raise web.HTTPError(403, why)


class LocalIdentity(_NoLogin):
    """``--auth local``: one fixed viewer for every request (the server listens on loopback only)."""

    login = Unicode("", config=True, help="the viewer of the whole server")

    def get_user(self, handler: web.RequestHandler) -> User | None:
        login = clean_login(self.login)
        if login is None:
            self.refuse(handler, "no viewer configured")
        return User(username=login, name=login, display_name=login)


class HeaderIdentity(_NoLogin):
    """``--auth header``: the login set by the authenticating reverse proxy in a request header."""

    header_name = Unicode("X-Forwarded-User", config=True, help="header carrying the authenticated login")
    trusted_proxies = List(Unicode(), ["127.0.0.1", "::1"], config=True,
                           help="addresses (or networks) the header is trusted from: the proxy's")

    def trusted(self, remote_ip: str | None) -> bool:
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


class HubIdentity(_NoLogin):
    """``--auth hub``: the JupyterHub user owning this single-user server, authenticated by the Hub.

    The Hub spawns one ``prospects serve --auth hub`` per person with ``JUPYTERHUB_USER``,
    ``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL`` and ``JUPYTERHUB_SERVICE_PREFIX`` in
    its environment. Each request must carry the Hub's proof of identity (the OAuth cookie
    of this server, or ``Authorization: token …``), checked with the Hub by
    ``jupyterhub.services.auth.HubOAuth``; a browser without it is sent through the Hub's
    login; any identity other than ``JUPYTERHUB_USER`` is refused.
    """

    hub_user = Unicode("", config=True, help="JUPYTERHUB_USER: the only viewer of this server")

    _hub_auth: Any = None

    @property
    def hub_auth(self) -> Any:
        if self._hub_auth is None:
            from jupyterhub.services.auth import HubOAuth

            self._hub_auth = HubOAuth(parent=self, cache_max_age=60)
        return self._hub_auth

    def get_handlers(self) -> list:
        from jupyterhub.services.auth import HubOAuthCallbackHandler
        from jupyterhub.utils import url_path_join

        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        return [(url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)]

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        from jupyter_core.utils import ensure_async

        model = await ensure_async(self.hub_auth.get_user(handler, sync=False))
        if model is None:
            if handler.request.method in ("GET", "HEAD") and not handler.request.path.endswith("/channels"):
                state = self.hub_auth.set_state_cookie(handler, next_url=handler.request.uri)
                handler.redirect(self.hub_auth.login_url + ("&" if "?" in self.hub_auth.login_url else "?") + f"state={state}")
                raise web.Finish()
            self.refuse(handler, "not authenticated by the Hub")
        name = clean_login(model.get("name"))
        if name is None or name != self.hub_user:
            self.refuse(handler, f"Hub user {model.get('name')!r} is not {self.hub_user!r}, the owner of this server")
        # /user/NAME/?token=… opens a session (cookie), as jupyterhub-singleuser does
        persist = getattr(self.hub_auth, "_persist_url_token_if_set", None)
        if persist is not None:
            persist(handler)
        return User(username=name, name=name, display_name=name)


# ---------------------------------------------------------------------------
# the kernel websocket: the v1 protocol only, every frame checked before it is parsed

#: The only kernel websocket protocol served (what JupyterLab and Voilà's page speak).
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: Frames a page may send: the four JSON parts of a Jupyter message and a few binary buffers.
MAX_FRAME_PARTS = 4 + 64


def v1_frame_problem(frame: Any) -> str | None:
    """Why ``frame`` is not a well-formed v1 kernel message (``None`` if it is).

    The v1 frame is ``n`` (8 bytes, little endian), ``n`` offsets (8 bytes each), the channel
    name, then the message parts. jupyter_server reads ``n`` and builds a list of ``n``
    offsets without checking ``n`` against the frame's length: a frame announcing 2**60
    offsets keeps the server's only thread busy, and its memory growing, until it is killed.
    Checked here first, in time linear in the frame's length.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        return "a text frame (the v1 protocol sends binary frames only)"
    size = len(frame)
    if size < 8:
        return f"{size} bytes: shorter than the frame's header"
    count = int.from_bytes(frame[:8], "little")
    if not 6 <= count <= MAX_FRAME_PARTS + 2:
        return f"announces {count} offsets (a message has 4 to {MAX_FRAME_PARTS} parts after its channel)"
    header = 8 * (count + 1)
    if header > size:
        return f"announces {count} offsets in {size} bytes"
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    if offsets[0] != header or offsets[-1] != size or any(b < a for a, b in itertools.pairwise(offsets)):
        return "offsets out of order or outside the frame"
    return None


class CheckedKernelConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's kernel websocket connection, with every incoming frame checked first.

    A malformed frame closes the websocket (policy violation) and is logged with who sent
    it; it never reaches jupyter_server's parser. The open connections of each kernel are
    known (:func:`close_websockets`): jupyter_server leaves a page's websocket open when its
    kernel is shut down, and the page would keep dead widgets without a word.
    """

    #: kernel id → its open websocket connections
    open_by_kernel: ClassVar[dict[str, set[CheckedKernelConnection]]] = {}

    def connect(self) -> Any:
        self.open_by_kernel.setdefault(self.kernel_id, set()).add(self)
        return super().connect()

    def disconnect(self) -> None:
        mine = self.open_by_kernel.get(self.kernel_id)
        if mine is not None:
            mine.discard(self)
            if not mine:
                self.open_by_kernel.pop(self.kernel_id, None)
        super().disconnect()

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        problem = v1_frame_problem(incoming_msg)
        if problem is None:
            super().handle_incoming_message(incoming_msg)
            return
        handler = self.websocket_handler
        user = getattr(handler.current_user, "username", None)
        self.log.warning("prospects serve: malformed frame from %s on kernel %s (%s): websocket closed",
                         user, self.kernel_id, problem)
        handler.close(1008, "malformed message")


def close_websockets(kernel_id: str, why: str = "kernel shut down") -> int:
    """Close the websockets of a kernel that is gone (the page then says so); how many there were."""
    connections = CheckedKernelConnection.open_by_kernel.pop(kernel_id, set())
    for connection in connections:
        handler = connection.websocket_handler
        if handler is not None and handler.ws_connection is not None:
            handler.close(1001, why)
    return len(connections)


class V1KernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """The kernel websocket, refused (400) unless the page negotiates the v1 protocol.

    With the legacy protocol (no subprotocol), Voilà's handler reads every binary message
    the kernel sends as if it were v1 (``read_header_from_binary_message``): the first 8
    bytes of a legacy frame give a count of about 8.6e17 and the server spins. Browsers
    (Voilà's page, JupyterLab) always offer v1; only a hand-made client does not.
    """

    async def pre_get(self) -> None:
        await super().pre_get()  # authorizes first: someone else's kernel stays a 403
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if V1_PROTOCOL not in offered:
            user = getattr(self.current_user, "username", None)
            self.log.warning("prospects serve: %s refused a kernel websocket without the %s subprotocol", user, V1_PROTOCOL)
            raise web.HTTPError(400, "the kernel websocket speaks %s only", V1_PROTOCOL)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return V1_PROTOCOL if V1_PROTOCOL in subprotocols else None


# ---------------------------------------------------------------------------
# kernel ownership


def _kernel_id(handler: web.RequestHandler) -> str | None:
    kid = getattr(handler, "kernel_id", None)  # the websocket handler sets it before authorizing
    if not kid:
        kid = (handler.path_kwargs or {}).get("kernel_id")
    if not kid and handler.path_args:
        kid = handler.path_args[0]
    return kid


class KernelOwnerAuthorizer(Authorizer):
    """A kernel is used only by the identity whose page started it; nothing else is exposed."""

    def is_authorized(self, handler: web.RequestHandler, user: User, action: str, resource: str) -> bool:
        if user is None:
            return False
        if resource != "kernels":
            return True
        km = handler.settings.get("kernel_manager")
        owner = km.owner(_kernel_id(handler)) if isinstance(km, OwnedKernelManager) else None
        allowed = owner is not None and owner == user.username
        if not allowed:
            handler.log.warning("prospects serve: %s refused kernel %s (%s)", user.username, _kernel_id(handler), action)
        return allowed


class OwnedShutdownHandler(VoilaShutdownKernelHandler):
    """Voilà's shutdown call (sent when the tab closes), for the kernel's owner only."""

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        km = self.kernel_manager
        owner = km.owner(kernel_id) if isinstance(km, OwnedKernelManager) else None
        if owner is None or owner != self.current_user.username:
            raise web.HTTPError(403)
        await super().post(kernel_id)


# ---------------------------------------------------------------------------
# the application


class ProspectsVoila(Voila):
    """Voilà with the page, kernels, websocket and refusal pages of ``prospects serve``."""

    refusal_locale = Unicode("fr", config=True)
    allow_remote_hosts = Bool(True, config=True, help="False: only loopback Host headers (no DNS rebinding)")
    opening_limit = Integer(0, config=True, help="pages whose notebook runs at once (0: two per core)")
    pool_size = Integer(0, config=True, help="warm kernels kept ready (0: none)")
    warm_code = Unicode("", config=True, help="what a pool kernel runs to get warm")

    #: What a warm kernel depends on (settings, config file, data, date): set by prospects.serving.
    pool_fingerprint: Any = staticmethod(lambda: None)

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        route_library_logs(self.log)

    def init_settings(self) -> dict:
        settings = super().init_settings()
        # our 403/404/error pages first: a short sentence, never a traceback
        for key in ("jinja2_env", "voila_jinja2_env"):
            env = settings[key]
            env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), env.loader])
            env.globals["prospects_locale"] = self.refusal_locale
        settings["allow_remote_access"] = self.allow_remote_hosts
        if isinstance(self.identity_provider, HubIdentity):
            settings["hub_auth"] = self.identity_provider.hub_auth  # for the OAuth callback handler
        self.admission = Admission(self.opening_limit or default_limit())
        self.pages = DashboardPages(self, self.admission, self.refusal_locale)
        self.loop_watch = LoopWatch()
        if isinstance(self.kernel_manager, OwnedKernelManager):
            self.kernel_manager.on_removed = close_websockets
        if self.pool_size > 0 and self.warm_code and isinstance(self.kernel_manager, OwnedKernelManager):
            WarmPool(self.kernel_manager, self.pool_size, self.warm_code, admission=self.admission,
                     fingerprint=self.pool_fingerprint, kernel_kwargs=self.page_kernel_kwargs())
        return settings

    def page_kernel_kwargs(self) -> dict[str, Any]:
        """How a pool kernel is started: as a page's kernel (:mod:`prospects.voila_page`), before its page."""
        import nbformat
        from voila.utils import ENV_VARIABLE

        notebook = nbformat.read(self.notebook_path, as_version=4)
        relative = os.path.relpath(self.notebook_path, self.root_dir)
        env = {**os.environ, ENV_VARIABLE.VOILA_PREHEAT: "False", ENV_VARIABLE.VOILA_BASE_URL: self.base_url,
               ENV_VARIABLE.VOILA_SERVER_URL: self.server_url or self.base_url}
        return {"kernel_name": notebook.metadata.get("kernelspec", {}).get("name", "python3"),
                "path": os.path.dirname(relative), "env": env}

    #: Voilà's handlers replaced by ours: a Voilà without one of them must not start.
    REPLACED_HANDLERS: ClassVar[dict[type, type]] = {
        VoilaShutdownKernelHandler: OwnedShutdownHandler,
        VoilaKernelWebsocketHandler: V1KernelWebsocketHandler,
        TornadoVoilaHandler: DashboardPageHandler,
    }

    def init_handlers(self) -> list:
        handlers, replaced = [], set()
        for entry in super().init_handlers():
            ours = self.REPLACED_HANDLERS.get(entry[1])
            if ours is not None:
                replaced.add(entry[1])
                if ours is DashboardPageHandler:
                    entry = (entry[0], ours, {**entry[2], "pages": self.pages})
                else:
                    entry = (entry[0], ours, *entry[2:])
            handlers.append(entry)
        missing = [cls.__name__ for cls in self.REPLACED_HANDLERS if cls not in replaced]
        if missing:  # a Voilà this module was not written for: refuse to serve rather than serve unchecked
            raise RuntimeError(f"prospects serve: Voilà no longer routes {', '.join(missing)}; check prospects/voila_app.py")
        return handlers

    def listen(self) -> None:
        """Compile the page's templates, then listen and start the watches (Voilà's ``listen`` runs the loop)."""
        from tornado.ioloop import IOLoop

        loop = IOLoop.current()
        loop.run_sync(self.pages.prepare)  # before the port is open: no request waits on it
        loop.add_callback(self._start_watches)
        super().listen()

    def _start_watches(self) -> None:
        self.loop_watch.start()
        self.kernel_manager.start_background()

    def stop(self) -> None:
        pool = getattr(self.kernel_manager, "pool", None)
        self.log.info("prospects serve: stopping; %d pages served, %d could not open; event loop worst stall %.2f s%s",
                      self.pages.served, self.pages.failed, self.loop_watch.worst,
                      f"; warm kernels {pool.stats()}" if pool is not None else "")
        self.loop_watch.stop()
        if isinstance(self.kernel_manager, OwnedKernelManager):
            self.kernel_manager.stop_background()
        super().stop()


def route_library_logs(log: Any) -> None:
    """Voilà's renderer, nbclient's executor and our own modules log to the server's log.

    They are traitlets configurables created without a parent: by default they write to
    the ``traitlets`` logger, which has no handler (a cell timeout or a dropped output
    was logged nowhere).
    """
    import logging

    handlers = list(getattr(log, "handlers", []))
    for name, level in (("traitlets", logging.WARNING), ("prospects.serve", logging.INFO)):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):  # an earlier application of this process (tests build several)
            if getattr(handler, "prospects_routed", False):
                logger.removeHandler(handler)
        for handler in handlers:
            handler.prospects_routed = True
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
