"""prospects.serving.kernels on a real ``prospects serve``: warm kernels, ownership, held kernels, the per-login cap.

One server on Cabinet Exemple (prospects.sample), ``--auth header`` from loopback, a pool
of one warm kernel, a 3 s connect timeout and two kernels per login. Pages are plain GETs
with the login header; a page's figures are read from its kernel's widgets over the
kernel websocket, as Voilà's page reads them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time

import pytest

from prospects import db
from prospects.config import load_settings
from prospects.sample import sample_firm
from prospects.serving.kernels import OwnedKernelManager, PoolFingerprint, WarmPool

from .browser import (
    cells_in_states,
    expected_cells,
    http_get,
    kernel_id,
    sample_server,
    widget_states,
)

CONNECT_TIMEOUT = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with sample_server(tmp_path_factory, "kernels", "--auth", "header", "--pool-size", "1", "--connect-timeout",
                       str(CONNECT_TIMEOUT), "--kernels-per-login", "2") as s:
        yield s


def _as(login: str) -> dict[str, str]:
    return {"X-Forwarded-User": login}


def _page(server, login: str) -> str:
    status, body, _ = http_get(server.url, _as(login))
    assert status == 200, (login, status, body[:300])
    kernel = kernel_id(body)
    assert kernel, body[:500]
    return kernel


def _states(server, kernel: str, login: str) -> dict:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, widget_states(server.port, kernel, _as(login), timeout=60)).result(timeout=90)


def _warm_ready(server, count: int = 1) -> str:
    """The id of the latest warm kernel ready in the pool."""
    return server.wait_log(r"warm kernel ([0-9a-f-]{36}) ready", count=count)[-1].group(1)


def test_a_warm_kernel_serves_one_viewer_only_and_refused_logins_take_none(server):
    warm = _warm_ready(server)
    assert warm in server.kernel_ids()  # started before any page
    # refused logins never reach the pool
    for login in ("nobody", "gone"):
        status, body, _ = http_get(server.url, _as(login))
        assert status == 403 and "Accès refusé" in body
    time.sleep(0.5)
    assert f"warm kernel {warm} for" not in server.log() and warm in server.kernel_ids()
    # the first viewer gets it, and it is theirs from then on
    kernel = _page(server, "part1")
    assert kernel == warm
    server.wait_log(rf"warm kernel {warm} for part1")
    assert cells_in_states(_states(server, kernel, "part1")) == expected_cells(server.db_url, "part1")
    status, _, _ = http_get(f"{server.url}api/kernels/{kernel}", _as("staff1"))
    assert status == 403
    with pytest.raises(Exception) as refused:
        _states(server, kernel, "staff1")
    assert "403" in str(refused.value)
    # the next viewer never gets that kernel: a new warm one or a new one, with their own figures
    other = _page(server, "staff1")
    assert other != kernel
    assert cells_in_states(_states(server, other, "staff1")) == expected_cells(server.db_url, "staff1")
    assert cells_in_states(_states(server, kernel, "part1")) == expected_cells(server.db_url, "part1")
    # the pool refills, with another kernel
    refill = _warm_ready(server, count=2)
    assert refill not in (warm, other)


def test_a_page_that_never_connects_its_websocket_loses_its_kernel(server):
    held = _page(server, "man1")  # a plain GET: the page's websocket never connects
    assert held in server.kernel_ids()
    kept = _page(server, "man2")
    _states(server, kept, "man2")  # this one connects
    server.wait_log(rf"kernel {held} of man1 shut down: its page did not connect within {CONNECT_TIMEOUT} s", timeout=30)
    deadline = time.monotonic() + 20
    while held in server.kernel_ids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert held not in server.kernel_ids()
    assert kept in server.kernel_ids() and f"kernel {kept} of man2 shut down" not in server.log()


def test_a_login_holds_at_most_its_cap_and_a_new_page_closes_the_oldest(server):
    first, second = _page(server, "dir"), _page(server, "dir")
    for k in (first, second):
        _states(server, k, "dir")  # connected: not held
    third = _page(server, "dir")
    server.wait_log(rf"kernel {first} of dir shut down: dir opened more than 2 pages", timeout=30)
    _states(server, third, "dir")
    deadline = time.monotonic() + 20
    while first in server.kernel_ids() and time.monotonic() < deadline:
        time.sleep(0.2)
    ids = server.kernel_ids()
    assert first not in ids and second in ids and third in ids
    assert http_get(f"{server.url}api/kernels/{first}", _as("dir"))[0] in (403, 404)


def test_a_warm_kernel_that_crashed_is_not_handed_out_as_warm(server):
    import os
    import signal

    _page(server, "part2")  # make sure the pool holds a kernel warmed after the earlier tests
    warm = _warm_ready(server, count=len(server.wait_log(r"warm kernel [0-9a-f-]{36} ready")))
    pid = server.kernel_ids()[warm]
    os.kill(pid, signal.SIGKILL)  # jupyter_server restarts it: alive, but not warm any more
    server.wait_log(rf"(restarting kernel|Kernel {warm} died|AsyncIOLoopKernelRestarter: restarting)", timeout=30)
    time.sleep(2)
    kernel = _page(server, "part2")
    assert kernel != warm
    server.wait_log(rf"warm kernel {warm} discarded: it failed its health check", timeout=30)
    assert cells_in_states(_states(server, kernel, "part2")) == expected_cells(server.db_url, "part2")


# ---------------------------------------------------------------------------
# CPU priority: niceness of the kernel's threads and of its own session's autogroup


_AUTOGROUPS = os.path.exists("/proc/self/autogroup")  # the kernel has autogroup scheduling


def _autogroup_nice(pid: int) -> int | None:
    """The niceness of ``pid``'s autogroup; None without autogroup scheduling, or when ``pid``'s
    session is in no autogroup of its own (the kernel then shows an empty file: e.g. a process
    tree that never called setsid, as under some CI runners)."""
    import re
    from pathlib import Path

    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()
    except OSError:
        return None
    found = re.search(r"nice\s+(-?\d+)", text)
    return int(found.group(1)) if found else None


def test_renice_lowers_a_session_leader_and_its_autogroup_never_ours():
    import os
    import subprocess
    import sys

    from prospects.serving.kernels import autogroup_renice, renice

    ours = _autogroup_nice(os.getpid())
    leader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # in our session
    try:
        assert renice(leader.pid, 7) and os.getpriority(os.PRIO_PROCESS, leader.pid) == 7
        assert renice(child.pid, 7) and os.getpriority(os.PRIO_PROCESS, child.pid) == 7
        if _AUTOGROUPS:  # a session leader always has an autogroup of its own: it weighs as a niceness-7 process
            assert _autogroup_nice(leader.pid) == 7
        assert _autogroup_nice(os.getpid()) == ours  # the server's own session is never lowered
        assert not autogroup_renice(child.pid, 9) and _autogroup_nice(os.getpid()) == ours
    finally:
        leader.kill()
        child.kill()
        leader.wait()
        child.wait()


def test_page_and_pool_kernels_run_below_the_server_in_their_own_sessions(server):
    import os

    from prospects.serving.kernels import KERNEL_NICENESS

    kernel = _page(server, "dir")
    pid = server.kernel_ids()[kernel]
    assert os.getsid(pid) == pid != os.getsid(server.proc.pid)  # jupyter_client starts kernels in a session of their own
    assert os.getpriority(os.PRIO_PROCESS, pid) == KERNEL_NICENESS
    if _AUTOGROUPS:
        assert _autogroup_nice(pid) == KERNEL_NICENESS
        assert _autogroup_nice(server.proc.pid) == _autogroup_nice(os.getpid())  # the server's own session untouched


# ---------------------------------------------------------------------------
# the pool without a server


@pytest.fixture
def sample_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'sample.db'}"  # its own: the test loads it again
    db.replace_all(db.make_engine(url), sample_firm())
    return load_settings(db=url, today="2026-11-29")


def test_the_pool_fingerprint_changes_with_the_date_the_config_file_and_the_data(sample_settings, tmp_path):
    import datetime as dt
    import time

    conf = tmp_path / "prospects.toml"
    conf.write_text('locale = "fr"\n')
    day = [dt.date(2026, 11, 29)]
    fingerprint = PoolFingerprint(sample_settings.with_(config_file=conf), today_explicit=False, data_every=0,
                                          clock=lambda: day[0])
    first = fingerprint()
    assert fingerprint() == first  # nothing changed
    day[0] = dt.date(2026, 11, 30)  # midnight
    assert fingerprint() != first
    second = fingerprint()
    conf.write_text('locale = "en"\n# edited\n')
    assert fingerprint() != second
    third = fingerprint()
    time.sleep(1.1)  # extract_info's loaded_at counts seconds
    db.replace_all(db.make_engine(sample_settings.db_url), sample_firm())  # a new load
    assert fingerprint() != third
    fixed = PoolFingerprint(sample_settings, today_explicit=True, clock=lambda: day[0])
    before = fixed()
    day[0] = dt.date(2026, 12, 1)
    assert fixed() == before  # --today fixed: the system date does not matter


def test_pool_kernels_are_not_culled_as_idle(monkeypatch):
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    culled = []

    async def cull(self, kernel_id):
        culled.append(kernel_id)

    monkeypatch.setattr(AsyncMappingKernelManager, "cull_kernel_if_idle", cull)
    km = OwnedKernelManager()
    WarmPool(km, 1, "", admission=None, fingerprint=lambda: None)
    km.pool.warming.add("warming-kernel")
    asyncio.run(km.cull_kernel_if_idle("warming-kernel"))
    asyncio.run(km.cull_kernel_if_idle("a-page-kernel"))
    assert culled == ["a-page-kernel"]
