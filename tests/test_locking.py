"""One run at a time (prospects.locking): the second run is told, the lock goes with its process."""

from __future__ import annotations

import subprocess
import sys

from prospects.locking import only_run


def test_a_second_holder_is_told_and_the_lock_is_free_again_after(tmp_path):
    lock = tmp_path / ".lock"
    with only_run(lock) as first:
        assert first
        with only_run(lock) as second:  # another open file description: as another process would
            assert not second
    with only_run(lock) as again:
        assert again


def test_the_lock_of_a_process_that_died_is_free(tmp_path):
    lock = tmp_path / ".lock"
    code = ("import os, sys\nfrom pathlib import Path\nfrom prospects.locking import only_run\n"
            "with only_run(Path(sys.argv[1])) as mine:\n    assert mine\n    os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code, str(lock)]).returncode == 9  # killed while holding it
    with only_run(lock) as mine:
        assert mine
