"""Files a command is given by path: read only a regular file within a size limit, write
only a regular file, atomically; otherwise one line saying what and where.

Every file a command reads from a path it was told (``--config`` and ``prospects.toml``,
a mapping, the sources of an import, the CSV files of an extract) is opened through
:func:`open_limited` or :func:`read_limited`: a folder, a device such as ``/dev/zero``, a
pipe (reading it would wait for a writer), a socket, a missing or unreadable file, and a
file bigger than its limit are refused before anything is read, and no more than the
limit is ever read, even from a file that grows meanwhile. The type is checked on the open
descriptor (opened without blocking), so a file swapped for a pipe after a check is
still refused.

A file a command writes (``drilldown --output``, ``import --rejects``, the CSV files of
``export``) is checked by :func:`writable` first: an existing target must be a regular
file (a device such as ``/dev/full``, a pipe or a folder is refused: it would never be
renamed over), a new one needs a folder that exists and can be written.
:func:`write_atomically` then writes the bytes to a temporary file beside it, renamed
over the target only once completely written, so a full disk leaves the previous file as
it was and no half-written one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .i18n import shown

#: How much of a path a message shows (control characters escaped).
PATH_CHARS = 300
NUL_IN_PATH = "not a valid path (it holds a NUL character)"
#: How a refusal names the limit (``{limit}``: the limit in megabytes).
LIMIT_TEXT = "the limit of {limit}"


class FileRefused(ValueError):
    """A file cannot be used: ``str()`` is ``PATH: reason``; ``kind`` says why
    (``missing``, ``type``, ``unreadable``, ``size``, ``unwritable``; :func:`read_toml`'s
    ``text``, ``toml``, ``nesting``)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, kind: str):
        super().__init__(f"{shown_path(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.kind = kind


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path fit for a one-line message (control characters escaped, long ones cut)."""
    return shown(os.fspath(path), PATH_CHARS)


def megabytes(size: int) -> str:
    """``12.3 MB`` (decimal megabytes, one decimal)."""
    return f"{size / 1e6:,.1f} MB"


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words: ``a folder``, ``a device or a pipe``."""
    return "a folder" if stat.S_ISDIR(mode) else "a device or a pipe"


def _too_big(path: str | os.PathLike[str], size: int | None, limit: int, limit_text: str) -> FileRefused:
    what = f"{megabytes(size)}, more than" if size is not None else "more than"
    return FileRefused(path, f"{what} {limit_text.format(limit=megabytes(limit))}", "size")


@contextlib.contextmanager
def open_limited(path: str | os.PathLike[str], limit: int, *, limit_text: str = LIMIT_TEXT,
                 what: str = "a file") -> Iterator[tuple[BinaryIO, int]]:
    """An open regular file no bigger than ``limit`` bytes, and its size.

    Raises :class:`FileRefused` (nothing read) for a missing, unreadable or non-regular
    file, or one bigger than ``limit``; ``limit_text`` names the limit in that message
    (``{limit}`` stands for it: ``"the import limit of {limit} (setting import_max_mb)"``);
    ``what`` names what the file should be (``"not a mapping file but a folder"``).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileRefused(path, "no such file", "missing") from None
    except ValueError:  # a NUL character in the path
        raise FileRefused(path, NUL_IN_PATH, "unreadable") from None
    except IsADirectoryError:  # pragma: no cover - Linux opens a folder read-only
        raise FileRefused(path, f"not {what} but a folder", "type") from None
    except OSError as exc:
        raise FileRefused(path, f"cannot be read ({exc.strerror or exc})", "unreadable") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(path, f"not {what} but {kind_of(st.st_mode)}", "type")
        if st.st_size > limit:
            raise _too_big(path, st.st_size, limit, limit_text)
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle, st.st_size


def read_limited(path: str | os.PathLike[str], limit: int, *, limit_text: str = LIMIT_TEXT, what: str = "a file") -> bytes:
    """The bytes of a regular file no bigger than ``limit`` (see :func:`open_limited`)."""
    with open_limited(path, limit, limit_text=limit_text, what=what) as (handle, size):
        try:
            data = handle.read(size + 1)  # one byte more: a file that grew since
            if len(data) > size:
                data += handle.read(limit + 1 - len(data))
        except OSError as exc:
            raise FileRefused(path, f"cannot be read ({exc.strerror or exc})", "unreadable") from None
    if len(data) > limit:
        raise _too_big(path, None, limit, limit_text)
    return data


def undecodable(data: bytes, exc: UnicodeDecodeError) -> str:
    """Where bytes stop being text: ``byte 0xe9 on line 3``."""
    line = data.count(b"\n", 0, exc.start) + 1
    return f"byte 0x{data[exc.start]:02x} on line {line}"


def read_toml(path: str | os.PathLike[str], limit: int, *, limit_text: str = LIMIT_TEXT, what: str = "a file") -> dict:
    """The TOML document of a regular file of at most ``limit`` bytes of UTF-8 text.

    Raises :class:`FileRefused` (``str()``: ``PATH: reason``) with the kinds of
    :func:`read_limited`, or ``text`` (not UTF-8: which byte, on which line), ``toml``
    (not valid TOML: where) or ``nesting`` (tables or lists nested too deeply to be read).
    """
    data = read_limited(path, limit, limit_text=limit_text, what=what)
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRefused(path, f"not UTF-8 text ({undecodable(data, exc)})", "text") from None
    except tomllib.TOMLDecodeError as exc:
        raise FileRefused(path, f"not valid TOML: {exc}", "toml") from None
    except RecursionError:
        raise FileRefused(path, "tables or lists nest too deeply to be read", "nesting") from None


def writable(path: str | os.PathLike[str]) -> FileRefused | None:
    """Why a file cannot be written at ``path`` (None when it can be tried)."""
    path = Path(path)
    try:
        st = path.stat()
    except ValueError:
        return FileRefused(path, NUL_IN_PATH, "unwritable")
    except FileNotFoundError:
        if not path.parent.is_dir():
            return FileRefused(path, f"folder {shown_path(path.parent)} does not exist", "unwritable")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return FileRefused(path, f"folder {shown_path(path.parent)} cannot be written (Permission denied)", "unwritable")
        return None
    except OSError as exc:
        return FileRefused(path, f"cannot be written ({exc.strerror or exc})", "unwritable")
    if stat.S_ISDIR(st.st_mode):
        return FileRefused(path, "is a folder", "type")
    if not stat.S_ISREG(st.st_mode):
        return FileRefused(path, "not a file but a device or a pipe", "type")
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):  # replaced by a rename in its folder
        return FileRefused(path, "cannot be written (Permission denied)", "unwritable")
    return None


def option_target_problem(option: str, path: str | os.PathLike[str]) -> str | None:
    """``--output PATH: reason`` when the file an option names cannot be written (None if it can be tried)."""
    problem = writable(path)
    if problem is None:
        return None
    return f"{option} {problem}{'; give a file name' if problem.kind == 'type' else ''}"


def not_a_folder(path: str | os.PathLike[str]) -> FileRefused | None:
    """Why ``path`` cannot be used as a folder although it exists (None for a folder or nothing)."""
    try:
        st = os.stat(path)
    except ValueError:
        return FileRefused(path, NUL_IN_PATH, "type")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return FileRefused(path, f"cannot be used as a folder ({exc.strerror or exc})", "type")
    if stat.S_ISDIR(st.st_mode):
        return None
    return FileRefused(path, f"not a folder but {'a file' if stat.S_ISREG(st.st_mode) else kind_of(st.st_mode)}", "type")


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``, synced and renamed over it when the block ends.

    Raises :class:`FileRefused` when the target is not a regular file or its folder is
    missing, or when writing fails (a full disk, a folder that cannot be written); the
    previous file, if any, is then left as it was and no temporary file stays behind.
    """
    path = Path(path)
    problem = writable(path)
    if problem is not None:
        raise problem
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise FileRefused(path, f"cannot be written ({exc.strerror or exc})", "unwritable") from None
        raise


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`replacing`)."""
    with replacing(path) as handle:
        handle.write(data)
