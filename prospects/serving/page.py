"""The dashboard page of ``prospects serve``: wait your turn, get a kernel, run the notebook, never blank.

Imported only when serving (it needs Voilà). It replaces Voilà's page handler
(``voila.tornado.handler.TornadoVoilaHandler``) and drives Voilà's own renderer and
executor, in this order, for every page request:

1. **Who** — the prelaunch hook (:func:`prospects.serving.identity.make_prelaunch_hook`) takes the
   authenticated login, refuses unknown or inactive logins (403, no kernel, no place in
   the queue), injects the login into the notebook and records it on the request.
2. **Wait** — the page's head and Voilà's spinner are sent at once; then the page waits
   for a slot of :class:`prospects.serving.admission.Admission`, in turn between the logins
   waiting (the browser keeps its request open). A browser that leaves while waiting leaves
   the queue.
3. **A kernel** — :meth:`prospects.serving.kernels.OwnedKernelManager.start_kernel` gives the page
   a warm kernel or a new one, owned by that login from then on.
4. **Run** — Voilà's executor runs the cells; the slot is released after the last one.
   ``iopub_timeout`` is the cell timeout and raises: an output that comes late is waited
   for, one that never comes is an error, never a silently empty page.
5. **Never blank** — if a cell fails or times out, the kernel dies, or no cell showed the
   dashboard, the page shows :data:`PAGE_ERROR` ("Le tableau de bord n'a pas pu s'ouvrir,
   rechargez la page") and the reason goes to the server log. In the browser, the page's
   template (``templates/page/index.html.j2``) shows the same sentence if the dashboard
   does not appear, and :data:`CONNECTION_LOST` if its kernel goes away.

The notebook, the page configuration and the compiled templates are read once per server,
not per request: one :class:`~voila.exporter.VoilaExporter` renders every page.
"""

from __future__ import annotations

import asyncio
import copy
import os
from pathlib import Path
from typing import Any

import nbformat
from jupyter_server.utils import url_path_join
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbconvert.preprocessors.clearoutput import ClearOutputPreprocessor
from tornado import web
from tornado.iostream import StreamClosedError
from voila.execute import VoilaExecutor
from voila.exporter import VoilaExporter
from voila.handler import VoilaHandler
from voila.notebook_renderer import NotebookRenderer
from voila.paths import collect_template_paths
from voila.utils import ENV_VARIABLE, get_page_config

from .. import i18n
from .assets import PageScripts, page_scripts, same_origin

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "page"

#: What a page shows when the dashboard could not be opened (by locale).
PAGE_ERROR = {
    "fr": "Le tableau de bord n'a pas pu s'ouvrir, rechargez la page",
    "en": "The dashboard could not open, reload the page",
}
#: What an open page shows when its kernel goes away (culled, closed, server restarted).
CONNECTION_LOST = {
    "fr": "La connexion au tableau de bord a été interrompue, rechargez la page",
    "en": "The connection to the dashboard was lost, reload the page",
}
#: Spinner text while the page waits for its turn and while the notebook runs.
LOADING = {"fr": "Ouverture du tableau de bord…", "en": "Opening the dashboard…"}
#: The widget output of the dashboard cell.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def error_output(locale: str) -> dict:
    """The output shown instead of the dashboard (a short sentence, never a traceback)."""
    text = PAGE_ERROR.get(locale, PAGE_ERROR["fr"])
    return nbformat.v4.new_output("display_data", data={
        "text/html": f'<div class="pr-page-error" role="alert">{text}</div>', "text/plain": text})


def error_cell(locale: str) -> Any:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [error_output(locale)]
    return cell


def shows_a_widget(cell: Any) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


class DashboardPages:
    """What every page request shares: the notebook, the page configuration, the compiled templates."""

    def __init__(self, app: Any, admission: Any, locale: str = "fr"):
        self.app = app
        self.admission = admission
        self.locale = locale if locale in PAGE_ERROR else "fr"
        self._notebook: Any = None
        self._exporter: PageExporter | None = None
        self._page_config: dict | None = None
        self._scripts: PageScripts | None = None
        self.served = 0
        self.failed = 0

    async def notebook(self, renderer: NotebookRenderer, path: str) -> Any:
        """A copy of the notebook, read (and its kernel spec checked) once."""
        if self._notebook is None:
            self._notebook = await NotebookRenderer.load_notebook(renderer, path)
        return copy.deepcopy(self._notebook)

    def page_config(self) -> dict:
        """Voilà's page configuration (it reads every lab extension's package.json): once.

        Voilà's scripts are loaded from their versioned address (:mod:`prospects.serving.assets`).
        """
        if self._page_config is None:
            app = self.app
            config = get_page_config(base_url=app.base_url, settings=app.app.settings, log=app.log,
                                     voila_configuration=app.voila_configuration)
            config["fullStaticUrl"] = url_path_join(app.base_url, "voila/static/v", app.asset_token)
            self._page_config = config
        return copy.deepcopy(self._page_config)

    def scripts(self) -> PageScripts:
        """The page's scripts (:func:`prospects.serving.assets.page_scripts`): built once, in :meth:`prepare`."""
        if self._scripts is None:
            app, config = self.app, self.page_config()
            self._scripts = page_scripts(config["fullStaticUrl"], app.static_paths, config["fullLabextensionsUrl"],
                                         app.labextensions_path)
        return self._scripts

    def exporter(self) -> PageExporter:
        """One exporter (one Jinja environment, templates compiled once) for every page."""
        if self._exporter is None:
            app = self.app
            vc = app.voila_configuration
            paths = [str(TEMPLATES), *collect_template_paths(["voila", "nbconvert"], vc.template)]
            exporter = PageExporter(
                self.scripts().main, template_paths=paths, template_name=vc.template, config=app.config,
                contents_manager=app.contents_manager, theme=vc.theme, base_url=app.base_url,
                show_margins=vc.show_margins, mathjax_url=f"{app.mathjax_url}?config={app.mathjax_config}",
            )
            exporter.exclude_input = exporter.exclude_output_prompt = exporter.exclude_input_prompt = True
            exporter.register_filter("same_origin", same_origin)  # templates/page: nothing from another origin
            self._exporter = exporter
        return self._exporter

    async def prepare(self) -> None:
        """Before the first request: read the notebook, compile the page's templates (a page rendered up to its kernel)."""
        app = self.app
        reader = NotebookRenderer(voila_configuration=app.voila_configuration, contents_manager=app.contents_manager,
                                  kernel_spec_manager=app.kernel_spec_manager)
        await self.notebook(reader, os.path.relpath(app.notebook_path, app.root_dir))
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": ""}})
        page_config = self.page_config()

        async def no_kernel(*_args: Any, **_kwargs: Any) -> str:
            raise _Prepared

        context = {"frontend": "voila", "kernel_start": no_kernel, "notebook_execute": no_kernel,
                   "cell_generator": no_kernel, "progressive_rendering": False}
        resources = {"base_url": self.app.base_url, "theme": self.app.voila_configuration.theme,
                     "template": self.app.voila_configuration.template, "metadata": {"name": "dashboard"},
                     "page_config": page_config, "prospects": self.texts()}
        try:
            async for _ in self.exporter().generate_from_notebook_node(nb, resources=resources, extra_context=context,
                                                                       page_config=page_config):
                pass
        except _Prepared:
            pass

    def texts(self) -> dict[str, Any]:
        """The page template's fixed values (``resources.prospects``): its sentences in the server's
        language, and the scripts its head asks for ahead (``preload``)."""
        return {"page_error": PAGE_ERROR[self.locale], "connection_lost": CONNECTION_LOST[self.locale],
                "loading": LOADING[self.locale], "lang": self.locale, "title": i18n.label("menu", self.locale),
                "preload": self.scripts().preload}


class PageExporter(VoilaExporter):
    """Voilà's exporter, whose page ends with the page's own main script (the bundle, when there is one)."""

    def __init__(self, main_js: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.main_js = main_js

    def generate_from_notebook_node(self, nb: Any, resources: Any = None, extra_context: Any = None,
                                    page_config: Any = None, **kw: Any) -> Any:
        """Voilà's generator, with ``main_js`` the page's (Voilà's renderer always says ``voila.js``)."""
        return super().generate_from_notebook_node(nb, resources=resources,
                                                   extra_context={**(extra_context or {}), "main_js": self.main_js},
                                                   page_config=page_config or {}, **kw)


class _Prepared(Exception):
    """Raised where the kernel would start, to stop the dry render of :meth:`DashboardPages.prepare`."""


class DashboardRenderer(NotebookRenderer):
    """Voilà's renderer, with the waiting, the kernel hand-out and the never-blank rules of this module."""

    def __init__(self, pages: DashboardPages, **kwargs: Any):
        super().__init__(**kwargs)
        self.pages = pages
        self.log = pages.app.log
        self.viewer: str | None = None
        self.kernel_id: str | None = None
        self.holds_slot = False
        self.shown = False
        self.left = asyncio.Event()  # the browser went away
        self.failure: str | None = None

    @property
    def km(self) -> Any:
        return self.request_handler.kernel_manager

    async def initialize(self, **kwargs: Any) -> None:
        """The viewer (the prelaunch hook: may refuse with 403), the notebook with their login, the exporter."""
        self.notebook = await self.pages.notebook(self, self.notebook_path)
        self.cwd = os.path.dirname(self.notebook_path)
        returned = self.prelaunch_hook(self.request_handler, notebook=self.notebook, cwd=self.cwd)
        if returned:
            self.notebook = returned
        self.viewer = getattr(self.request_handler, "viewer_login", None)
        if not self.viewer:  # the hook always records it; never run a notebook for nobody
            raise web.HTTPError(403, "no viewer")
        vc = self.voila_configuration
        self.template_name, self.theme = vc.template, vc.theme
        self.page_config["jupyterLabTheme"] = self.theme
        name = os.path.splitext(os.path.basename(self.notebook_path))[0]
        self.resources = {"base_url": self.base_url, "theme": self.theme, "template": self.template_name,
                          "metadata": {"name": name}, "page_config": self.page_config, "prospects": self.pages.texts()}
        self.exporter = self.pages.exporter()

    # -- called by the page template ----------------------------------------------------
    async def _jinja_kernel_start(self, nb: Any, kernel_id: Any, kernel_future: Any) -> str:
        """Wait for a slot (in turn between logins), then take a kernel for the viewer and connect to it."""
        waiting = asyncio.ensure_future(self.pages.admission.acquire(login=self.viewer))
        gone = asyncio.ensure_future(self.left.wait())
        try:
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not waiting.done():  # the browser left while waiting: out of the queue, no kernel
            waiting.cancel()
            raise PageAbandoned("the browser left while the page waited for its turn")
        waiting.result()
        self.holds_slot = True
        env = {**os.environ, ENV_VARIABLE.VOILA_PREHEAT: "False", ENV_VARIABLE.VOILA_BASE_URL: self.base_url,
               ENV_VARIABLE.VOILA_SERVER_URL: self.request_handler.settings.get("server_url", "/")}
        self.kernel_id = await self.km.start_kernel(owner=self.viewer, kernel_name=nb.metadata.kernelspec.name,
                                                    path=self.cwd, env=env)
        kernel = self.km.get_kernel(self.kernel_id)
        self.executor = VoilaExecutor(nb, km=kernel, parent=self.pages.app, config=self.traitlet_config,
                                      show_tracebacks=False)
        # the kernel's manager knows whether its process lives: no heartbeat thread per page
        client = kernel.client()
        client.start_channels(hb=False)
        try:
            await client.wait_for_ready(timeout=self.executor.startup_timeout)
        except Exception:
            client.stop_channels()
            raise
        client.allow_stdin = False
        self.executor.kc = client
        self.kernel_started = True
        return self.kernel_id

    async def _jinja_cell_generator(self, nb: Any, kernel_id: Any) -> Any:
        """Each cell once executed; the French error instead of the rest when something fails."""
        nb, _ = ClearOutputPreprocessor().preprocess(nb, {"metadata": {"path": self.cwd}})
        try:
            for index, cell in enumerate(nb.cells):
                if self.left.is_set():
                    raise PageAbandoned("the browser left while the notebook ran")
                try:
                    out = await self.executor.execute_cell(cell, None, index, store_history=False)
                except (TimeoutError, CellExecutionError, DeadKernelError) as exc:
                    self.fail(f"cell {index + 1}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                    yield error_cell(self.pages.locale)
                    return
                self.shown = self.shown or shows_a_widget(out)
                yield out
            if not self.shown:
                self.fail("no cell showed the dashboard")
                yield error_cell(self.pages.locale)
        finally:
            self.release_slot()
            await self._cleanup_resources()

    async def _cleanup_resources(self) -> None:
        executor = getattr(self, "executor", None)
        if executor is not None and executor.kc is not None:
            executor.kc.stop_channels()

    # -- bookkeeping --------------------------------------------------------------------
    def fail(self, why: str) -> None:
        self.failure = why
        self.log.warning("prospects serve: the dashboard of %s (kernel %s) could not open: %s",
                         self.viewer, self.kernel_id, why)

    def release_slot(self) -> None:
        if self.holds_slot:
            self.holds_slot = False
            self.pages.admission.release()


class PageAbandoned(Exception):
    """The browser went away before its page was sent whole."""


class DashboardPageHandler(VoilaHandler):
    """The dashboard page: the hook, the queue, a kernel, the notebook, streamed as Voilà does."""

    def initialize(self, **kwargs: Any) -> None:
        self.pages: DashboardPages = kwargs.pop("pages")
        super().initialize(**kwargs)
        self.renderer: DashboardRenderer | None = None

    def on_connection_close(self) -> None:
        if self.renderer is not None:
            self.renderer.left.set()
        super().on_connection_close()

    @web.authenticated
    async def get(self, path: str | None = None) -> None:
        if path:  # only the dashboard is served, at the root
            raise web.HTTPError(404)
        notebook_path = self.notebook_path
        renderer = DashboardRenderer(
            self.pages, request_handler=self, voila_configuration=self.voila_configuration,
            traitlet_config=self.traitlet_config, notebook_path=notebook_path, template_paths=self.template_paths,
            config_manager=self.config_manager, contents_manager=self.contents_manager, base_url=self.base_url,
            kernel_spec_manager=self.kernel_spec_manager, prelaunch_hook=self.prelaunch_hook,
            page_config=self.pages.page_config(), mathjax_config=self.settings.get("mathjax_config"),
            mathjax_url=self.settings.get("mathjax_url"),
        )
        await renderer.initialize()  # 403 for a refused viewer, before anything is sent or queued
        self.renderer = renderer
        self.set_header("Content-Type", "text/html")
        self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
        self.set_header("Pragma", "no-cache")
        self.set_header("Expires", "0")
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for html, _ in renderer.generate_content_generator():
                    await queue.put(html)
            except PageAbandoned as exc:
                self.log.info("prospects serve: page of %s abandoned: %s", renderer.viewer, exc)
            except Exception as exc:  # a kernel that did not start, a template error: the sentence, the log
                renderer.fail(f"{type(exc).__name__}: {exc}")
                await queue.put(self.broken_page_tail())
            finally:
                renderer.release_slot()
                await queue.put(None)

        producer = asyncio.ensure_future(produce())
        keep_alive = self.voila_configuration.http_keep_alive_timeout
        complete = False
        try:
            while True:
                try:
                    html = await asyncio.wait_for(queue.get(), keep_alive)
                except TimeoutError:
                    html = "<script>window.voila_heartbeat()</script>\n"
                if html is None:
                    complete = not renderer.left.is_set()
                    break
                if renderer.left.is_set():
                    continue  # drain: the producer stops at the next cell
                self.write(html)
                try:
                    await self.flush()
                except StreamClosedError:
                    renderer.left.set()
        finally:
            await producer
            self._account(renderer, complete)

    def broken_page_tail(self) -> str:
        """The end of a page whose notebook could not run: the sentence instead of the spinner."""
        text = PAGE_ERROR[self.pages.locale]
        return ('</div></div><div class="pr-page-error" role="alert">' + text + "</div>"
                "<script>var l = document.getElementById('loading'); if (l) l.remove();</script></body></html>")

    def _account(self, renderer: DashboardRenderer, complete: bool) -> None:
        km, kernel = self.kernel_manager, renderer.kernel_id
        if renderer.failure:
            self.pages.failed += 1
        else:
            self.pages.served += 1
        if kernel is None:
            return
        if complete and not renderer.failure:
            km.page_served(kernel)  # its websocket now has --connect-timeout seconds to connect
        else:  # abandoned or failed: nobody will ever use this kernel
            km.page_abandoned(kernel) if not complete else km.close_kernel(kernel, "its page could not open")
