"""prospects.serving.app without a server: the hardening, the handlers replaced, the Voilà it was written for."""

from __future__ import annotations

import json

import pytest

from prospects.config import load_settings
from prospects.serving.app import build_voila, kernel_environment
from prospects.serving.command import ServeOptions
from prospects.serving.hub import HubIdentity
from prospects.serving.identity import HeaderIdentity, LocalIdentity
from prospects.serving.kernels import (
    KernelOwnerAuthorizer,
    OwnedKernelManager,
    OwnedShutdownHandler,
)
from prospects.serving.page import DashboardPageHandler
from prospects.serving.websocket import V1KernelWebsocketHandler


@pytest.fixture
def sample_settings(sample_url):
    return load_settings(db=sample_url, today="2026-11-29")

def test_hardening_wins_over_user_config_files(sample_settings, tmp_path, monkeypatch):
    # a user-level voila config trying to loosen everything
    conf = tmp_path / "jupyter-config"
    conf.mkdir()
    (conf / "voila.json").write_text(json.dumps({
        "VoilaConfiguration": {"show_tracebacks": True, "allow_template_override": "YES", "allow_theme_override": "YES",
                               "strip_sources": False, "file_allowlist": [".*"]},
        "Voila": {"ip": "0.0.0.0"},
    }))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(conf))
    options = ServeOptions(user="dir", port=8899, open_browser=False, cull_idle_timeout=600, cell_timeout=60)
    app = build_voila(sample_settings, options)
    vc = app.voila_configuration
    assert vc.show_tracebacks is False and vc.strip_sources is True
    assert vc.allow_template_override == "NO" and vc.allow_theme_override == "NO"
    assert vc.file_allowlist == [] and vc.preheat_kernel is False
    assert vc.prelaunch_hook is not None
    assert app.ip == "127.0.0.1" and app.port == 8899 and app.port_retries == 0 and app.open_browser is False
    assert app.notebook_path.endswith("notebooks/dashboard.ipynb")
    assert app.config.VoilaExecutor.timeout == 60
    assert app.config.MappingKernelManager.cull_idle_timeout == 600
    assert app.config.MappingKernelManager.cull_interval == 300
    # the kernel manager Voilà creates at start reads the culling settings
    settings = app.init_settings()
    km = settings["kernel_manager"]
    assert km.cull_idle_timeout == 600 and km.cull_interval == 300

def test_kernel_environment(sample_settings):
    env = kernel_environment(sample_settings, today_explicit=True)
    assert env["PROSPECTS_DB"] == sample_settings.db_url and env["PROSPECTS_TODAY"] == "2026-11-29"
    assert env["PROSPECTS_LOCALE"] == "fr"
    assert "PROSPECTS_TODAY" not in kernel_environment(sample_settings, today_explicit=False)

def test_each_mode_gets_its_identity_provider_and_the_common_hardening(sample_settings):
    for auth, cls in (("local", LocalIdentity), ("header", HeaderIdentity), ("hub", HubIdentity)):
        options = ServeOptions(auth=auth, user="dir", hub_user="dir", header_name="X-Remote-User", open_browser=False)
        app = build_voila(sample_settings, options)
        assert app.identity_provider_class is cls and app.authorizer_class is KernelOwnerAuthorizer
        assert app.voila_configuration.multi_kernel_manager_class is OwnedKernelManager
        assert app.token is None and not app.auto_token
        assert app.tornado_settings["headers"]["Content-Security-Policy"].startswith("frame-ancestors 'self'")
        assert app.tornado_settings["serve_traceback"] is False
        assert app.allow_remote_hosts is (auth != "local")
        settings = app.init_settings()
        provider = settings["identity_provider"]
        assert isinstance(provider, cls) and provider.get_handlers() == ([] if auth != "hub" else provider.get_handlers())
        assert not provider.login_available and provider.auth_enabled
        if auth == "header":
            assert provider.header_name == "X-Remote-User"
        assert settings["allow_remote_access"] is (auth != "local")


# ---------------------------------------------------------------------------
# the Voilà this server was written for (pyproject.toml pins it): what prospects.serving.page
# and prospects.serving.app rely on. A Voilà upgrade that changes any of it fails here.


def test_voila_is_the_pinned_release():
    from importlib.metadata import version

    assert version("voila").startswith("0.5.13"), "prospects.serving.page drives Voilà 0.5.13's renderer: check it again"


def test_the_renderer_and_executor_offer_what_the_page_uses():
    import inspect

    from voila.execute import VoilaExecutor
    from voila.handler import VoilaHandler
    from voila.notebook_renderer import NotebookRenderer

    def params(fn):
        return list(inspect.signature(fn).parameters)

    assert params(NotebookRenderer._jinja_kernel_start) == ["self", "nb", "kernel_id", "kernel_future"]
    assert params(NotebookRenderer._jinja_cell_generator) == ["self", "nb", "kernel_id"]
    assert params(NotebookRenderer.generate_content_generator) == ["self", "kernel_id", "kernel_future"]
    assert params(NotebookRenderer.load_notebook) == ["self", "path"]
    assert inspect.iscoroutinefunction(NotebookRenderer._cleanup_resources)
    assert params(VoilaExecutor.execute_cell) == ["self", "cell", "resources", "cell_index", "store_history"]
    traits = VoilaExecutor.class_traits()
    for name in ("timeout", "iopub_timeout", "raise_on_iopub_timeout", "store_widget_state", "record_timing",
                 "interrupt_on_timeout", "show_tracebacks", "startup_timeout"):
        assert name in traits, name
    source = inspect.getsource(VoilaHandler.initialize)
    for attribute in ("notebook_path", "template_paths", "traitlet_config", "voila_configuration", "prelaunch_hook"):
        assert f"self.{attribute}" in source, attribute


def test_the_lab_template_starts_the_kernel_and_runs_the_cells_through_the_renderer():
    from pathlib import Path

    from voila.paths import collect_template_paths

    index = next(p for p in (Path(d) / "index.html.j2" for d in collect_template_paths(["voila"], "lab")) if p.exists())
    template = index.read_text(encoding="utf-8")
    assert "kernel_start(nb)" in template and "cell_generator(nb, kernel_id)" in template
    assert "{%- block body_header -%}" in template and "{%- block notebook_css -%}" in template


@pytest.fixture
def app(sample_settings):
    options = ServeOptions(auth="header", open_browser=False, pool_size=2, opening_limit=3, kernels_per_login=5,
                                   connect_timeout=30, cell_timeout=45)
    app = build_voila(sample_settings, options)
    app.init_settings()
    return app


def test_the_handlers_this_server_replaces_are_all_routed_to_ours(app):
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    routed = {entry[1] for entry in app.init_handlers()}
    assert {DashboardPageHandler, V1KernelWebsocketHandler, OwnedShutdownHandler} <= routed
    assert not routed & {TornadoVoilaHandler, VoilaKernelWebsocketHandler, VoilaShutdownKernelHandler}


def test_capacity_and_executor_settings_reach_the_application(app):
    km = app.kernel_manager
    assert isinstance(km, OwnedKernelManager)
    assert km.kernels_per_login == 5 and km.connect_timeout == 30
    assert km.pool is not None and km.pool.size == 2 and "warm_up" in km.pool.warm_code
    assert app.admission.limit == 3
    executor = app.config.VoilaExecutor
    assert executor.timeout == executor.iopub_timeout == 45 and executor.raise_on_iopub_timeout is True
    assert executor.store_widget_state is False
    assert app.kernel_websocket_connection_class.__name__ == "CheckedKernelConnection"
