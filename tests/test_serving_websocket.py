"""prospects.serving.websocket without a server: the kernel websocket's frame check."""

from __future__ import annotations

import time

import pytest

from prospects.serving.websocket import MAX_FRAME_PARTS, v1_frame_problem

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
