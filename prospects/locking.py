"""One run at a time: an exclusive lock on a file, taken without waiting.

``report --subscriptions`` (one run per output folder) and the nightly import (one run per
drop folder) use it: a second run at the same time is told, instead of doing the work twice.
The lock is the kernel's (``flock``): released when the process ends, even on a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def only_run(lock_file: Path) -> Iterator[bool]:
    """True while this process holds ``lock_file`` (created if missing), False when another does."""
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
