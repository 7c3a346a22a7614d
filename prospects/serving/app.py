"""The Voilà application of ``prospects serve``: built, hardened, its handlers and watches.

:func:`build_voila` makes an initialised :class:`ProspectsVoila` serving only the dashboard
notebook, and :func:`harden` applies docs/access.md's hardening after Voilà has read any
configuration file (so none can loosen it): the identity provider of the mode
(:mod:`prospects.serving.identity`, :mod:`prospects.serving.hub`), the kernel manager and
authorizer of :mod:`prospects.serving.kernels`, the kernel websocket of
:mod:`prospects.serving.websocket`, no tracebacks, no token, the security headers, the
executor's timeouts, the capacity settings.

:class:`ProspectsVoila` is Voilà with the page handler of :mod:`prospects.serving.page`
(admission, warm kernels, never blank), the refusal pages of ``templates/serve``, and the
watches started with the event loop (held kernels, the warm pool,
:class:`prospects.serving.admission.LoopWatch`). It refuses to start if Voilà stops routing
one of the handlers it replaces.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import jinja2
from jupyter_server.base.handlers import FileFindHandler
from jupyter_server.utils import url_path_join
from traitlets import Bool, Integer, Unicode
from voila.app import Voila
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from .admission import Admission, LoopWatch, default_limit
from .assets import (
    LabExtensionAssetHandler,
    PageBundleHandler,
    StaticAssetHandler,
    TemplateAssetHandler,
    asset_token,
)
from .command import ServeOptions
from .hub import HubIdentity
from .identity import (
    LOGIN_SOURCES,
    HeaderIdentity,
    LocalIdentity,
    LoginSource,
    ViewerCheck,
    make_prelaunch_hook,
)
from .kernels import (
    KernelOwnerAuthorizer,
    OwnedKernelManager,
    OwnedShutdownHandler,
    PoolFingerprint,
    WarmPool,
    default_pool_size,
    warm_code,
)
from .page import DashboardPageHandler, DashboardPages
from .websocket import CheckedKernelConnection, V1KernelWebsocketHandler, close_websockets

if TYPE_CHECKING:
    from ..config import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "serve"

#: The only lab extensions the page loads: the widgets and Voilà's widget manager.
PAGE_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8")

#: Headers of every Jupyter response (page, API, refusals): no framing by other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'self'; base-uri 'self'; object-src 'none'; form-action 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


# ---------------------------------------------------------------------------
# the application


class ProspectsVoila(Voila):
    """Voilà with the page, kernels, websocket, assets and refusal pages of ``prospects serve``."""

    refusal_locale = Unicode("fr", config=True)
    allow_remote_hosts = Bool(True, config=True, help="False: only loopback Host headers (no DNS rebinding)")
    opening_limit = Integer(0, config=True, help="pages whose notebook runs at once (0: two per core)")
    pool_size = Integer(0, config=True, help="warm kernels kept ready (0: none)")
    warm_code = Unicode("", config=True, help="what a pool kernel runs to get warm")

    #: What a warm kernel depends on (settings, config file, data, date): set by build_voila.
    pool_fingerprint: Any = staticmethod(lambda: None)

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        route_library_logs(self.log)
        for handler in self.log.handlers:
            handler.addFilter(quiet_console)

    def init_settings(self) -> dict:
        settings = super().init_settings()
        # our 403/404/error pages first: a short sentence, never a traceback
        for key in ("jinja2_env", "voila_jinja2_env"):
            env = settings[key]
            env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), env.loader])
            env.globals["prospects_locale"] = self.refusal_locale
        settings["allow_remote_access"] = self.allow_remote_hosts
        settings["prospects_locale"] = self.refusal_locale  # the kernel websocket's short error sentence
        # read when the tornado application is built: gzip for the page, its assets and the API (not
        # images or fonts already compressed), and permessage-deflate on the kernel websocket
        settings["compress_response"] = True
        settings["websocket_compression_options"] = {}
        self.asset_token = asset_token(self.static_paths)  # Voilà's scripts' version: /voila/static/v/<token>/
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
        """How a pool kernel is started: as a page's kernel (:mod:`prospects.serving.page`), before its page."""
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
        TemplateStaticFileHandler: TemplateAssetHandler,
        MultiStaticFileHandler: StaticAssetHandler,
        FileFindHandler: LabExtensionAssetHandler,
    }

    def init_handlers(self) -> list:
        handlers, replaced = [], set()
        extra: dict[type, dict[str, Any]] = {
            DashboardPageHandler: {"pages": self.pages},
            TemplateAssetHandler: {"templates": (self.voila_configuration.template,)},
            # an extension's script whose address has its content hash (?v=) is kept by the browser
            LabExtensionAssetHandler: {"no_cache_paths": []},
        }
        for entry in super().init_handlers():
            ours = self.REPLACED_HANDLERS.get(entry[1])
            if ours is StaticAssetHandler:  # first Voilà's scripts under their versioned path, cached for good
                versioned = url_path_join(self.server_url, rf"/voila/static/v/{self.asset_token}/")
                handlers.append((versioned + r"(page-[0-9a-f]{16}\.js)", PageBundleHandler, {"pages": self.pages}))
                handlers.append((versioned + "(.*)", StaticAssetHandler, {**entry[2], "immutable": True}))
            if ours is not None:
                replaced.add(entry[1])
                kwargs = {**(entry[2] if len(entry) > 2 else {}), **extra.get(ours, {})}
                entry = (entry[0], ours, kwargs) if kwargs else (entry[0], ours)
            handlers.append(entry)
        missing = [cls.__name__ for cls in self.REPLACED_HANDLERS if cls not in replaced]
        if missing:  # a Voilà this module was not written for: refuse to serve rather than serve unchecked
            raise RuntimeError(f"prospects serve: Voilà no longer routes {', '.join(missing)}; check prospects/serving/app.py")
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


#: What Voilà and jupyter_server say that a person starting the dashboard would read as trouble or
#: noise: the notebook's trust (the page never depends on it), the address again (the banner
#: gives it), where connection files and static files live, every kernel started or shut down
#: (the server's own lines say whose), the culling settings, the signal that stops it, and that a
#: server has no desktop browser to open the page in.
NOISE = re.compile(
    r"Notebook .* is not trusted|Voilà is running at:|Using .* to store connection files|Storing connection files in "
    r"|Serving static files from |Culling kernels |Kernel started: |Kernel shutdown: |Handle signal \d+"
    r"|No web browser found"
)


def quiet_console(record: logging.LogRecord) -> bool:
    """Whether a log record reaches the console (a filter of the server's log handlers)."""
    return not NOISE.match(record.getMessage())


def route_library_logs(log: Any) -> None:
    """Voilà's renderer, nbclient's executor and our own modules log to the server's log.

    They are traitlets configurables created without a parent: by default they write to
    the ``traitlets`` logger, which has no handler (a cell timeout or a dropped output
    was logged nowhere).
    """
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


# ---------------------------------------------------------------------------
# building and hardening


def dashboard_notebook(settings: Settings | None = None) -> Path:
    """``notebooks/dashboard.ipynb`` of the project (else next to the package, for editable installs)."""
    candidates = []
    if settings is not None:
        candidates.append(settings.project_dir / "notebooks" / "dashboard.ipynb")
    candidates.append(Path(__file__).resolve().parents[2] / "notebooks" / "dashboard.ipynb")
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
    """Apply docs/access.md's hardening to an initialised Voilà application (after its config files)."""
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
    # the page loads the widget extensions only: no other lab extension installed beside it
    vc.extension_allowlist = list(PAGE_EXTENSIONS)
    vc.extension_denylist = []
    vc.multi_kernel_manager_class = OwnedKernelManager  # whose each kernel is; warm pool; held kernels
    # identity: no token, no password, no login form; the identity provider decides
    app.token = None
    app.auto_token = False
    app.authorizer_class = KernelOwnerAuthorizer
    # kernel websockets: the v1 protocol only (V1KernelWebsocketHandler), every frame checked
    app.kernel_websocket_connection_class = CheckedKernelConnection
    if options.auth == "header":
        app.identity_provider_class = HeaderIdentity
        app.config.HeaderIdentity.header_name = options.header_name
        app.config.HeaderIdentity.trusted_proxies = list(options.trusted_proxies)
    elif options.auth == "hub":
        app.identity_provider_class = HubIdentity
        app.config.HubIdentity.hub_user = options.hub_user or ""
    else:
        app.identity_provider_class = LocalIdentity
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
    if options.auth not in LOGIN_SOURCES:
        raise ValueError(f"--auth {options.auth}: expected one of {', '.join(LOGIN_SOURCES)}")
    source = login_source or LOGIN_SOURCES[options.auth](options)
    notebook = options.notebook or dashboard_notebook(settings)
    config = str(settings.config_file.resolve()) if settings.config_file else None
    hook = make_prelaunch_hook(source, config=config, check=ViewerCheck(settings.db_url, settings.locale))
    app = ProspectsVoila()
    app.initialize([str(notebook), "--no-browser"])
    app.refusal_locale = settings.locale
    app.warm_code = warm_code(config)
    app.pool_fingerprint = PoolFingerprint(settings, today_explicit=today_explicit)
    return harden(app, options, hook)
