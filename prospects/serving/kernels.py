"""The kernels of ``prospects serve``: whose each one is, a pool of warm ones, the ones held for nothing.

Imported only when serving (it needs jupyter_server and Voilà).

Ownership
---------
A page's kernel belongs to the viewer whose page asked for it (the login the prelaunch
hook authenticated and checked, :mod:`prospects.serving.identity`):
:meth:`OwnedKernelManager.start_kernel` takes the owner as an argument and records it
before anyone can learn the kernel's id; :class:`KernelOwnerAuthorizer` then lets only
that identity use the kernel's websocket and REST endpoints, and
:class:`OwnedShutdownHandler` does the same for Voilà's ``/voila/api/shutdown/<id>``. A
kernel is never given to a second viewer; a kernel id seen by someone else (a shared link,
a log) opens nothing.

Warm kernels
------------
:class:`WarmPool` keeps ``size`` kernels started ahead of any request, each having run
``prospects.dashboard.warm_up`` (:func:`warm_code`): the package imported and the firm opened
(``prospects.open_firm`` with the server's settings), but no viewer and no viewer data.
A page request still goes through the prelaunch hook (authentication, the directory
check, the login injected into the notebook); only then does the page take a warm kernel
instead of starting one, and the notebook runs in it as in a new kernel. Each warm kernel
is used once:

* a refused login never reaches the pool (the hook refuses before any kernel);
* a warm kernel is health-checked (alive, answers within 5 s, still holds what it warmed: a
  kernel restarted after a crash does not) before it is handed out, and discarded if the settings,
  the config file, the data or the date changed since it was warmed (:class:`PoolFingerprint`);
  the dashboard checks the firm again in the kernel;
* the pool refills after a hand-out one kernel at a time, through :class:`prospects.serving.admission.Admission`
  as background work (only when no page waits), and warms at a lower CPU priority still when the
  server may raise it back at hand-out (root, or ``RLIMIT_NICE``);
* pool kernels have no owner (usable by nobody over HTTP) and are not culled as idle.

CPU priority
------------
Every kernel runs at niceness :data:`KERNEL_NICENESS` (5), the server at its own (0): when
the cores are busy opening pages, the one process that answers every open page — its
filter changes, its websocket, the next requests — comes first, and the kernels share
the rest equally. Kernels are started in their own session (jupyter_client does so), and
with the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``, on by
default in most distributions) CPU is shared between sessions before niceness counts:
each kernel's session gets the kernel's niceness too (``/proc/PID/autogroup``), else a
niced kernel would weigh as much as the server.

Held kernels
------------
A kernel costs about 150 MB. One whose page was served but never opened its websocket
within ``connect_timeout`` seconds (a plain GET, a tab closed during the load) is shut
down; a page abandoned while it was being rendered gets its kernel shut down at once.
Each login holds at most ``kernels_per_login`` kernels: a new page closes the oldest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Dict, Float, Integer
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

from .identity import python_literal

if TYPE_CHECKING:
    from jupyter_server.auth.identity import User

    from ..config import Settings

#: How long a warm kernel may take to answer its health check before it is discarded.
HEALTH_TIMEOUT = 5.0
#: Evaluated in a pool kernel before hand-out: did it warm up, and is it still the same process?
WARM_CHECK = "'firm' in getattr(__import__('sys').modules.get('prospects.dashboard'), '_WARM', {})"
#: How long warming a kernel may take (start, imports, opening the firm).
WARM_TIMEOUT = 120.0
#: Niceness of every kernel: below the server, which answers every page.
KERNEL_NICENESS = 5
#: Niceness of a pool kernel while it warms, when the server may set it back to KERNEL_NICENESS.
WARM_NICENESS = 15
#: How often the pool looks for stale kernels and the manager for held ones.
CHECK_INTERVAL = 10.0


class OwnedKernelManager(AsyncMappingKernelManager):
    """Kernels owned by the viewer whose page asked for them; warm ones first; none held for nothing."""

    owners = Dict()
    kernels_per_login = Integer(3, config=True, help="kernels a login may hold; a new page closes the oldest (0: no cap)")
    connect_timeout = Float(60.0, config=True, help="seconds a served page has to open its kernel's websocket")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.pool: WarmPool | None = None
        self.opened_at: dict[str, float] = {}  # kernel → when its owner got it
        self.served_at: dict[str, float] = {}  # kernel → when its page was sent, until its websocket connects
        self.connected: set[str] = set()  # kernels whose websocket connected at least once
        self._watch: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()
        #: called with the id of every kernel removed (shut down, culled, died): its websockets are closed
        self.on_removed: Callable[[str], Any] | None = None

    # -- giving kernels to viewers ------------------------------------------------------
    async def start_kernel(self, *args: Any, owner: str | None = None, **kwargs: Any) -> str:
        """A kernel for ``owner``'s page: a warm one if the pool has one, else a new one."""
        if owner is None:  # not for a page: usable by nobody over HTTP
            kernel_id = await super().start_kernel(*args, **kwargs)
            self.owners[kernel_id] = None
            self.log.warning("prospects serve: kernel %s started without a viewer", kernel_id)
            return kernel_id
        kernel_id = await self.pool.take() if self.pool is not None else None
        how = "warm"
        if kernel_id is None:
            kernel_id = await super().start_kernel(*args, **kwargs)
            self.set_niceness(kernel_id, KERNEL_NICENESS)
            how = "new"
        self.owners[kernel_id] = owner
        self.opened_at[kernel_id] = time.monotonic()
        self.log.info("prospects serve: %s kernel %s for %s", how, kernel_id, owner)
        self._close_beyond_cap(owner)
        return kernel_id

    async def start_pool_kernel(self, niceness: int = KERNEL_NICENESS, **kwargs: Any) -> str:
        """A kernel for the warm pool: no owner yet."""
        kernel_id = await super().start_kernel(**kwargs)
        self.set_niceness(kernel_id, niceness)
        return kernel_id

    def set_niceness(self, kernel_id: str, niceness: int) -> bool:
        """Set the CPU niceness of a kernel's process (every thread); whether it worked."""
        km = self.get_kernel(kernel_id) if kernel_id in self else None
        pid = kernel_pid(km) if km is not None else None
        return pid is not None and renice(pid, niceness)

    def owner(self, kernel_id: str | None) -> str | None:
        return self.owners.get(kernel_id) if kernel_id else None

    def kernels_of(self, login: str) -> list[str]:
        """``login``'s kernels, oldest first."""
        mine = [k for k, o in self.owners.items() if o == login and k in self]
        return sorted(mine, key=lambda k: self.opened_at.get(k, 0.0))

    def _close_beyond_cap(self, login: str) -> None:
        if self.kernels_per_login <= 0:
            return
        mine = self.kernels_of(login)
        for kernel_id in mine[: max(0, len(mine) - self.kernels_per_login)]:
            self.close_kernel(kernel_id, f"{login} opened more than {self.kernels_per_login} pages (--kernels-per-login)")

    def close_kernel(self, kernel_id: str, why: str) -> None:
        """Shut a kernel down in the background, saying why in the log."""
        if kernel_id not in self:
            return
        self.log.info("prospects serve: kernel %s of %s shut down: %s", kernel_id, self.owner(kernel_id), why)
        self.served_at.pop(kernel_id, None)

        async def shutdown() -> None:
            try:
                await self.shutdown_kernel(kernel_id, now=True)
            except KeyError:  # already gone
                pass
            except Exception:  # pragma: no cover - logged, never raised into a request
                self.log.exception("prospects serve: could not shut down kernel %s", kernel_id)

        task = asyncio.ensure_future(shutdown())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- held kernels -----------------------------------------------------------------
    def page_served(self, kernel_id: str) -> None:
        """The page of this kernel was sent whole: its websocket has ``connect_timeout`` s to connect."""
        if kernel_id in self and kernel_id not in self.connected:
            self.served_at[kernel_id] = time.monotonic()

    def page_abandoned(self, kernel_id: str) -> None:
        """The browser left before its page was sent whole: nobody can reach this kernel."""
        self.close_kernel(kernel_id, "the browser left before the page was sent")

    def notify_connect(self, kernel_id: str) -> None:
        self.connected.add(kernel_id)
        self.served_at.pop(kernel_id, None)
        super().notify_connect(kernel_id)

    def close_held_kernels(self, now: float | None = None) -> list[str]:
        """Shut down the kernels whose page never connected within ``connect_timeout``; their ids."""
        now = time.monotonic() if now is None else now
        held = [k for k, at in self.served_at.items() if now - at >= self.connect_timeout and k not in self.connected]
        for kernel_id in held:
            self.close_kernel(kernel_id, f"its page did not connect within {self.connect_timeout:g} s")
        return held

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if self.pool is not None and self.pool.holds(kernel_id):
            return  # waiting for a viewer is not being idle
        await super().cull_kernel_if_idle(kernel_id)

    def remove_kernel(self, kernel_id: str) -> Any:
        for record in (self.owners, self.opened_at, self.served_at):
            record.pop(kernel_id, None)
        self.connected.discard(kernel_id)
        if self.pool is not None:
            self.pool.forget(kernel_id)
        if self.on_removed is not None:
            self.on_removed(kernel_id)
        return super().remove_kernel(kernel_id)

    # -- background work ----------------------------------------------------------------
    def start_background(self) -> None:
        """Start the held-kernel watch and the pool (once the event loop runs)."""
        if self._watch is None:
            self._watch = asyncio.ensure_future(self._watch_held())
        if self.pool is not None:
            self.pool.start()

    async def shutdown_all(self, now: bool = False) -> None:
        """Shut every kernel down; pool kernels at once (one may be warming: nobody waits for it)."""
        if self.pool is not None:
            pool = [k for k in list(self.pool.warming) + [w.kernel_id for w in self.pool.ready] if k in self]
            await asyncio.gather(*(self.shutdown_kernel(k, now=True) for k in pool), return_exceptions=True)
        await super().shutdown_all(now=now)

    def stop_background(self) -> None:
        """Stop the watch and the pool (the server is stopping; its kernels are shut down next)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.pool is not None:
            self.pool.stop()

    async def _watch_held(self) -> None:
        while True:
            await asyncio.sleep(min(CHECK_INTERVAL, max(0.5, self.connect_timeout / 4)))
            try:
                self.close_held_kernels()
            except Exception:  # pragma: no cover - never let the watch die
                self.log.exception("prospects serve: the held-kernel watch failed")


# ---------------------------------------------------------------------------
# the warm pool


@dataclass
class WarmKernel:
    kernel_id: str
    client: Any
    fingerprint: Hashable
    niced: bool
    warmed_at: float


def may_lower_niceness_to(niceness: int) -> bool:
    """Whether this process may bring a kernel's niceness back down to ``niceness`` (root, or ``RLIMIT_NICE``)."""
    if os.geteuid() == 0:
        return True
    try:
        return resource.getrlimit(resource.RLIMIT_NICE)[0] >= 20 - niceness
    except (ValueError, OSError):  # pragma: no cover - not Linux
        return False


def renice(pid: int, niceness: int) -> bool:
    """Set the niceness of every thread of process ``pid`` and of its own session's autogroup; whether it worked."""
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            os.setpriority(os.PRIO_PROCESS, int(task), niceness)
    except (OSError, ValueError):
        return False
    autogroup_renice(pid, niceness)
    return True


def autogroup_renice(pid: int, niceness: int) -> bool:
    """Give the autogroup of ``pid``'s session ``niceness`` when ``pid`` leads a session of its own.

    Never the server's own session (that would lower the server too). Whether it was set
    (False without autogroup scheduling, or when not allowed).
    """
    try:
        if os.getsid(pid) != pid or os.getsid(pid) == os.getsid(0):
            return False
        with open(f"/proc/{pid}/autogroup", "w", encoding="ascii") as handle:
            handle.write(str(int(niceness)))
    except OSError:
        return False
    return True


def kernel_pid(km: Any) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


class WarmPool:
    """``size`` kernels started ahead and warmed with ``warm_code``, each handed out once.

    ``fingerprint()`` names what a warm kernel depends on (settings, config file, data,
    date); a kernel warmed under another fingerprint is discarded instead of handed out.
    ``admission`` is the server's :class:`~prospects.serving.admission.Admission`: warming takes a
    slot as background work.
    """

    def __init__(self, km: OwnedKernelManager, size: int, warm_code: str, *, admission: Any,
                 fingerprint: Callable[[], Hashable], kernel_kwargs: dict[str, Any] | None = None):
        self.km = km
        self.size = size
        self.warm_code = warm_code
        self.admission = admission
        self.fingerprint = fingerprint
        self.kernel_kwargs = dict(kernel_kwargs or {})
        self.ready: deque[WarmKernel] = deque()
        self.warming: set[str] = set()
        self.handed_out = 0
        self.discarded = 0
        self.failures = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warm_niceness = WARM_NICENESS if may_lower_niceness_to(KERNEL_NICENESS) else KERNEL_NICENESS
        km.pool = self

    @property
    def log(self) -> Any:
        return self.km.log

    def holds(self, kernel_id: str) -> bool:
        return kernel_id in self.warming or any(w.kernel_id == kernel_id for w in self.ready)

    def forget(self, kernel_id: str) -> None:
        self.warming.discard(kernel_id)
        for w in list(self.ready):
            if w.kernel_id == kernel_id:
                self.ready.remove(w)

    def start(self) -> None:
        if self._task is None and self.size > 0:
            self._task = asyncio.ensure_future(self._fill_forever())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for warm in self.ready:
            with contextlib.suppress(Exception):
                warm.client.stop_channels()

    def wake(self) -> None:
        self._wakeup.set()

    # -- handing out ------------------------------------------------------------------
    async def take(self) -> str | None:
        """A healthy warm kernel of the current fingerprint, out of the pool; ``None`` if there is none."""
        current = self.fingerprint()
        try:
            while self.ready:
                warm = self.ready.popleft()
                if warm.fingerprint != current:
                    self._discard(warm, "the settings, the data or the date changed since it was warmed")
                    continue
                if not await self._healthy(warm):
                    self._discard(warm, "it failed its health check")
                    continue
                if warm.niced and not self.km.set_niceness(warm.kernel_id, KERNEL_NICENESS):
                    self.log.warning("prospects serve: warm kernel %s keeps its lower priority", warm.kernel_id)
                warm.client.stop_channels()
                self.handed_out += 1
                return warm.kernel_id
            return None
        finally:
            self.wake()

    async def _healthy(self, warm: WarmKernel) -> bool:
        """Alive, answering within :data:`HEALTH_TIMEOUT`, and still warm (a kernel restarted after a crash is not)."""
        km = self.km.get_kernel(warm.kernel_id) if warm.kernel_id in self.km else None
        if km is None:
            return False
        try:
            if not await km.is_alive():
                return False
            reply = await warm.client.execute("", silent=True, store_history=False, user_expressions={"warm": WARM_CHECK},
                                              reply=True, timeout=HEALTH_TIMEOUT)
        except Exception:
            return False
        content = reply.get("content", {})
        answer = content.get("user_expressions", {}).get("warm", {})
        return content.get("status") == "ok" and answer.get("data", {}).get("text/plain") == "True"

    def _discard(self, warm: WarmKernel, why: str) -> None:
        self.discarded += 1
        with contextlib.suppress(Exception):
            warm.client.stop_channels()
        self.log.info("prospects serve: warm kernel %s discarded: %s", warm.kernel_id, why)
        self.km.close_kernel(warm.kernel_id, why)

    # -- filling ------------------------------------------------------------------------
    async def _fill_forever(self) -> None:
        while True:
            try:
                self._recycle_stale()
                while len(self.ready) + len(self.warming) < self.size:
                    await self.admission.acquire(background=True)
                    try:
                        ok = await self._warm_one()
                    finally:
                        self.admission.release()
                    if not ok:
                        self.failures += 1
                        await asyncio.sleep(min(60.0, 2.0 ** min(self.failures, 6)))  # a broken setup: back off
                        break
                    self.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # pragma: no cover - never let the pool die
                self.log.exception("prospects serve: the warm pool failed")
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), CHECK_INTERVAL)

    def _recycle_stale(self) -> None:
        current = self.fingerprint()
        for warm in [w for w in self.ready if w.fingerprint != current]:
            self.ready.remove(warm)
            self._discard(warm, "the settings, the data or the date changed since it was warmed")

    async def _warm_one(self) -> bool:
        fingerprint = self.fingerprint()
        kernel_id = await self.km.start_pool_kernel(niceness=self._warm_niceness, **self.kernel_kwargs)
        niced = self._warm_niceness != KERNEL_NICENESS
        self.warming.add(kernel_id)
        client = None
        try:
            client = self.km.get_kernel(kernel_id).client()
            client.start_channels(hb=False)  # alive or not: its manager knows
            start = time.monotonic()
            await client.wait_for_ready(timeout=WARM_TIMEOUT)
            reply = await client.execute(self.warm_code, silent=True, store_history=False, reply=True,
                                         timeout=max(1.0, WARM_TIMEOUT - (time.monotonic() - start)))
            content = reply.get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")
        except Exception as exc:
            self.log.warning("prospects serve: could not warm kernel %s: %s", kernel_id, exc)
            if client is not None:
                client.stop_channels()
            self.warming.discard(kernel_id)
            self.km.close_kernel(kernel_id, "warming failed")
            return False
        if kernel_id not in self.warming:  # shut down while warming (server stopping)
            client.stop_channels()
            return True
        self.warming.discard(kernel_id)
        self.ready.append(WarmKernel(kernel_id, client, fingerprint, niced, time.monotonic()))
        self.log.info("prospects serve: warm kernel %s ready (%d in the pool)", kernel_id, len(self.ready))
        return True

    def stats(self) -> dict[str, int]:
        return {"ready": len(self.ready), "warming": len(self.warming), "handed_out": self.handed_out,
                "discarded": self.discarded}


def default_pool_size() -> int:
    """Warm kernels kept ready by default: one per core, 1 to 4 (each holds about 150 MB)."""
    return max(1, min(4, os.cpu_count() or 1))


def warm_code(config: str | None) -> str:
    """What a pool kernel runs ahead of any viewer (:func:`prospects.dashboard.warm_up`)."""
    return f"from prospects.dashboard import warm_up\nwarm_up(config={python_literal(config)})"


class PoolFingerprint:
    """What a warm kernel depends on besides the server's environment: the date, the config file, the data.

    A warm kernel warmed under another value is discarded instead of handed out
    (:class:`WarmPool`). The data part (``extract_info``, rewritten by every load) is read at
    most every ``data_every`` seconds; the kernel checks it again before reusing what it
    opened (:func:`prospects.dashboard.dashboard_from_settings`).
    """

    def __init__(self, settings: Settings, *, today_explicit: bool, data_every: float = 30.0,
                 clock: Callable[[], Any] | None = None):
        import datetime as dt

        self.settings = settings
        self.today_explicit = today_explicit
        self.data_every = data_every
        self.clock = clock or dt.date.today
        self._data: Any = None
        self._data_at = float("-inf")
        self._engine: Any = None

    def __call__(self) -> tuple:
        day = None if self.today_explicit else self.clock()
        config = self.settings.config_file
        try:
            stat = config.stat() if config is not None else None
            conf = (stat.st_mtime_ns, stat.st_size) if stat is not None else None
        except OSError:
            conf = "missing"
        now = time.monotonic()
        if now - self._data_at >= self.data_every:
            self._data, self._data_at = self._read_data(), now
        return (day, conf, self._data)

    def _read_data(self) -> Any:
        import sqlalchemy as sa

        from ..db import make_engine, read_extract_info

        try:
            if self._engine is None:
                self._engine = make_engine(self.settings.db_url)
            return tuple(sorted(read_extract_info(self._engine).items()))
        except sa.exc.SQLAlchemyError:
            return "unreadable"


# ---------------------------------------------------------------------------
# who may use a kernel


def _kernel_id(handler: web.RequestHandler) -> str | None:
    kid = getattr(handler, "kernel_id", None)  # the websocket handler sets it before authorizing
    if not kid:
        kid = (handler.path_kwargs or {}).get("kernel_id")
    if not kid and handler.path_args:
        kid = handler.path_args[0]
    return kid


class KernelOwnerAuthorizer(Authorizer):
    """A kernel is used only by the identity whose page started it; nothing else is exposed."""

    def is_authorized(self, handler: web.RequestHandler, user: User, action: str, resource: str) -> bool:
        if user is None:
            return False
        if resource != "kernels":
            return True
        km = handler.settings.get("kernel_manager")
        owner = km.owner(_kernel_id(handler)) if isinstance(km, OwnedKernelManager) else None
        allowed = owner is not None and owner == user.username
        if not allowed:
            handler.log.warning("prospects serve: %s refused kernel %s (%s)", user.username, _kernel_id(handler), action)
        return allowed


class OwnedShutdownHandler(VoilaShutdownKernelHandler):
    """Voilà's shutdown call (sent when the tab closes), for the kernel's owner only."""

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        km = self.kernel_manager
        owner = km.owner(kernel_id) if isinstance(km, OwnedKernelManager) else None
        if owner is None or owner != self.current_user.username:
            raise web.HTTPError(403)
        await super().post(kernel_id)
