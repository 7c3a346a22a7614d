"""prospects.voila_app without a server: the kernel websocket's frame check."""

from __future__ import annotations

import asyncio
import time

import pytest

from prospects.voila_app import MAX_FRAME_PARTS, v1_frame_problem

from .browser import kernel_message, v1_frame


def test_well_formed_frames_pass():
    msg = kernel_message("comm_msg", {"comm_id": "c", "data": {"method": "update"}})
    assert v1_frame_problem(v1_frame("shell", msg)) is None
    assert v1_frame_problem(v1_frame("shell", msg, [b"\x89PNG", b""])) is None
    assert v1_frame_problem(bytearray(v1_frame("iopub", msg))) is None


@pytest.mark.parametrize("frame", [
    (2**60).to_bytes(8, "little") + b"\0" * 32,  # the freeze: 2**60 offsets announced
    (2**31 - 1).to_bytes(4, "big") + b"\0" * 16,  # a legacy binary frame read as v1
    b"\x06\0\0",  # shorter than its count
    (6).to_bytes(8, "little") + b"\0" * 8,  # six offsets announced, one present
    (MAX_FRAME_PARTS + 3).to_bytes(8, "little") + b"\0" * 8 * (MAX_FRAME_PARTS + 3),
    '{"header": {}, "channel": "shell"}',  # a text frame (the legacy protocol's JSON)
])
def test_malformed_frames_are_named_quickly(frame):
    start = time.perf_counter()
    problem = v1_frame_problem(frame)
    assert problem and time.perf_counter() - start < 0.01


def test_offsets_must_stay_inside_the_frame_in_order():
    good = bytearray(v1_frame("shell", kernel_message("comm_msg", {"comm_id": "c", "data": {}})))
    for index, value in ((1, 0), (2, 10**9), (3, 8)):  # first offset, an offset past the end, out of order
        bad = bytearray(good)
        bad[8 * index:8 * (index + 1)] = value.to_bytes(8, "little")
        assert v1_frame_problem(bytes(bad)), index
    assert v1_frame_problem(bytes(good) + b"trailing")  # the last offset is the frame's end


# ---------------------------------------------------------------------------
# the Voilà this server was written for (pyproject.toml pins it): what prospects.voila_page
# and prospects.voila_app rely on. A Voilà upgrade that changes any of it fails here.


def test_voila_is_the_pinned_release():
    from importlib.metadata import version

    assert version("voila").startswith("0.5.13"), "prospects.voila_page drives Voilà 0.5.13's renderer: check it again"


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
def app(tmp_path):
    from prospects import db, serving
    from prospects.config import load_settings
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    options = serving.ServeOptions(auth="header", open_browser=False, pool_size=2, opening_limit=3, kernels_per_login=5,
                                   connect_timeout=30, cell_timeout=45)
    app = serving.build_voila(load_settings(db=url, today="2026-11-29"), options)
    app.init_settings()
    return app


def test_the_handlers_this_server_replaces_are_all_routed_to_ours(app):
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    from prospects.voila_app import OwnedShutdownHandler, V1KernelWebsocketHandler
    from prospects.voila_page import DashboardPageHandler

    routed = {entry[1] for entry in app.init_handlers()}
    assert {DashboardPageHandler, V1KernelWebsocketHandler, OwnedShutdownHandler} <= routed
    assert not routed & {TornadoVoilaHandler, VoilaKernelWebsocketHandler, VoilaShutdownKernelHandler}


def test_capacity_and_executor_settings_reach_the_application(app):
    from prospects.kernels import OwnedKernelManager

    km = app.kernel_manager
    assert isinstance(km, OwnedKernelManager)
    assert km.kernels_per_login == 5 and km.connect_timeout == 30
    assert km.pool is not None and km.pool.size == 2 and "warm_up" in km.pool.warm_code
    assert app.admission.limit == 3
    executor = app.config.VoilaExecutor
    assert executor.timeout == executor.iopub_timeout == 45 and executor.raise_on_iopub_timeout is True
    assert executor.store_widget_state is False
    assert app.kernel_websocket_connection_class.__name__ == "CheckedKernelConnection"


def test_pool_kernels_are_not_culled_as_idle(app, monkeypatch):
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    culled = []

    async def cull(self, kernel_id):
        culled.append(kernel_id)

    monkeypatch.setattr(AsyncMappingKernelManager, "cull_kernel_if_idle", cull)
    km = app.kernel_manager
    km.pool.warming.add("warming-kernel")
    asyncio.run(km.cull_kernel_if_idle("warming-kernel"))
    asyncio.run(km.cull_kernel_if_idle("a-page-kernel"))
    assert culled == ["a-page-kernel"]
