"""prospects.files: a given file is read only when it is a regular file within its limit,
never more than the limit; a written file is whole or not there."""

from __future__ import annotations

import os

import pytest

from prospects.files import FileRefused, open_limited, read_limited, writable, write_atomically

from .hostile import make_hostile


def test_a_regular_file_within_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 100)
    assert read_limited(path, 100) == b"x" * 100
    with open_limited(path, 100) as (handle, size):
        assert size == 100 and handle.read(3) == b"xxx"


@pytest.mark.parametrize(("kind", "reason"), [
    ("missing", "no such file"),
    ("folder", "not a file but a folder"),
    ("device", "not a file but a device or a pipe"),
    ("pipe", "not a file but a device or a pipe"),
    ("sparse", "50,000.0 MB, more than the import limit of 1.0 MB (setting import_max_mb)"),
])
def test_anything_else_is_refused_before_a_byte_is_read(tmp_path, kind, reason):
    path = {"missing": tmp_path / "nope", "device": "/dev/zero"}.get(kind) or make_hostile(tmp_path / kind, kind)
    with pytest.raises(FileRefused) as caught:
        read_limited(path, 1_000_000, limit_text="the import limit of {limit} (setting import_max_mb)")
    assert str(caught.value) == f"{path}: {reason}"


def test_an_unreadable_file_says_so(tmp_path):
    path = tmp_path / "secret"
    path.write_text("x")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: a path under a file is unreadable for everyone
        path = tmp_path / "secret" / "x"
    with pytest.raises(FileRefused, match=r"cannot be read \((Permission denied|Not a directory)\)"):
        read_limited(path, 10)


def test_a_file_that_grows_after_its_size_was_taken_is_never_read_past_the_limit(tmp_path, monkeypatch):
    """The size is taken when the file is opened; a writer may append before it is read."""
    import prospects.files as files

    real = os.fstat
    monkeypatch.setattr(files.os, "fstat", lambda fd: os.stat_result((*real(fd)[:6], 10, *real(fd)[7:])))
    path = tmp_path / "growing"
    path.write_bytes(b"x" * 500_000)  # 10 bytes when its size was taken
    assert read_limited(path, 1_000_000) == b"x" * 500_000
    path.write_bytes(b"x" * 3_000_000)
    with pytest.raises(FileRefused, match=r"growing: more than the limit of 1.0 MB$"):
        read_limited(path, 1_000_000)


def test_a_written_file_is_whole_or_the_previous_one_stays(tmp_path):
    path = tmp_path / "out.csv"
    write_atomically(path, b"first")
    write_atomically(path, b"second")
    assert path.read_bytes() == b"second" and sorted(os.listdir(tmp_path)) == ["out.csv"]
    assert str(writable(tmp_path)) == f"{tmp_path}: is a folder"
    assert str(writable("/dev/full")) == "/dev/full: not a file but a device or a pipe"
    assert str(writable(tmp_path / "no" / "x")) == f"{tmp_path / 'no' / 'x'}: folder {tmp_path / 'no'} does not exist"
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(FileRefused, match="not a file but a device or a pipe"):
        write_atomically(tmp_path / "pipe", b"x")  # never waits for a reader
    with pytest.raises(FileRefused, match=r"/proc/x.csv: cannot be written \("):
        write_atomically("/proc/x.csv", b"x")


def test_a_path_in_a_message_has_its_control_characters_escaped(tmp_path):
    with pytest.raises(FileRefused) as caught:
        read_limited(tmp_path / "a\nb\x00c\x1b[2J", 10)
    assert str(caught.value) == f"{tmp_path}/a\\nb\\x00c\\x1b[2J: not a valid path (it holds a NUL character)"
    with pytest.raises(FileRefused) as caught:
        read_limited(tmp_path / "a\nb\x1b[2J", 10)
    assert str(caught.value) == f"{tmp_path}/a\\nb\\x1b[2J: no such file"
    assert str(writable(tmp_path / "x\x00")) == f"{tmp_path}/x\\x00: not a valid path (it holds a NUL character)"
