"""Files that are not what a command expects, for the tests of every reader and writer."""

from __future__ import annotations

import os
from pathlib import Path

#: What :func:`make_hostile` can make of a path.
KINDS = ("folder", "device", "pipe", "sparse")


def make_hostile(path: Path, kind: str) -> Path:
    """Make ``path`` a folder, a link to /dev/zero, a pipe (opening it for reading waits for a
    writer) or a 50 GB file of holes (no disk used); ``path`` itself."""
    if kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "pipe":
        os.mkfifo(path)
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(50 * 10**9)
    else:
        raise ValueError(f"no hostile kind {kind!r} (one of {', '.join(KINDS)})")
    return path
