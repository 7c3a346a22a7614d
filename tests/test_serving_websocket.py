"""prospects.serving.websocket: the kernel websocket's frame check, and what the kernel sends back to the page."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time

import pytest

from prospects.serving.websocket import KERNEL_ERROR, MAX_FRAME_PARTS, v1_frame_problem

from .browser import (
    http_get,
    kernel_id,
    kernel_message,
    sample_server,
    v1_frame,
    widget_exchange,
    widget_states,
)


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
# on a real server: what the kernel sends back to the page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with sample_server(tmp_path_factory, "websocket", "--auth", "header", "--pool-size", "0") as s:
        yield s


def _in_thread(coro):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)


def test_a_widget_message_that_fails_in_the_kernel_reaches_the_page_as_a_short_error(server):
    """An out-of-range index: the page gets one short sentence, the server's log the traceback."""
    who = {"X-Forwarded-User": "dir"}
    status, body, _ = http_get(server.url, who)
    assert status == 200
    kernel = kernel_id(body)
    states = _in_thread(widget_states(server.port, kernel, who))
    model = next(m for m, s in states.items() if s.get("_model_name") == "ToggleButtonsModel")
    replies = _in_thread(widget_exchange(server.port, kernel, who, model,
                                         {"method": "update", "state": {"index": 9999}, "buffer_paths": []}))
    errors = [msg["content"] for channel, msg in replies if msg["header"]["msg_type"] == "error"]
    assert errors, replies  # the kernel did fail on it
    sent = json.dumps([msg for _, msg in replies], ensure_ascii=False)
    for leak in ("Traceback", "File \"", ".py", "site-packages", "/", "\\u001b[", "index out of bounds"):
        assert leak not in sent, leak
    for content in errors:
        assert content["traceback"] == [KERNEL_ERROR["fr"]] and content["evalue"] == KERNEL_ERROR["fr"]
        assert len(json.dumps(content, ensure_ascii=False)) < 300
    # the detail is in the server's log, with the viewer and the kernel
    found = server.wait_log(rf"kernel {kernel} of dir: TraitError: .*index out of bounds")
    assert "Traceback" in server.log()[found[0].start():]
    # and the page goes on: the kernel still answers
    assert _in_thread(widget_states(server.port, kernel, who))


def test_error_replies_lose_their_traceback_and_other_messages_pass_untouched(caplog):
    """The check on its own: an iopub error and an error reply are cut short, anything else is not unpacked."""
    import logging
    from types import SimpleNamespace

    from jupyter_client.session import Session

    from prospects.serving.websocket import CheckedKernelConnection

    session = Session(key=b"")
    conn = SimpleNamespace(session=session, log=logging.getLogger("prospects.serve"), kernel_id="k1",
                           websocket_handler=SimpleNamespace(current_user=SimpleNamespace(username="dir"),
                                                             settings={"prospects_locale": "en"}))

    def parts(msg_type: str, content: dict) -> list:
        return [session.pack({"msg_type": msg_type, "msg_id": "m"}), session.pack({}), session.pack({}), session.pack(content)]

    error = {"status": "error", "ename": "IndexError", "evalue": "list index out of range in /srv/x.py",
             "traceback": ["\x1b[0;31mTraceback\x1b[0m", 'File "/srv/prospects/dashboard.py", line 12']}
    for channel, msg_type, content in (("iopub", "error", error), ("shell", "execute_reply", error)):
        msg_list = parts(msg_type, dict(content))
        with caplog.at_level("WARNING", logger="prospects.serve"):
            CheckedKernelConnection._on_error(conn, channel, {}, msg_list)
        sent = session.unpack(msg_list[3])
        assert sent == {**content, "evalue": KERNEL_ERROR["en"], "traceback": [KERNEL_ERROR["en"]]}
    assert "kernel k1 of dir: IndexError: list index out of range in /srv/x.py" in caplog.text
    assert 'File "/srv/prospects/dashboard.py", line 12' in caplog.text and "\x1b[" not in caplog.text
    for channel, msg_type, content in (("iopub", "stream", {"name": "stdout", "text": "error"}),
                                       ("shell", "comm_info_reply", {"status": "ok", "comms": {"error": {}}}),
                                       ("control", "error", error)):
        msg_list = parts(msg_type, content)
        before = list(msg_list)
        CheckedKernelConnection._on_error(conn, channel, {}, msg_list)
        assert msg_list == before
