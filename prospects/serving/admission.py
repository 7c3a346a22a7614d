"""How many dashboard pages open at once, and a watch on the server's event loop (``prospects serve``).

Opening a page runs the dashboard notebook in a kernel: about a second of CPU. Thirty
people opening it at the same instant on two cores would run thirty notebooks at once,
each getting a fifteenth of a core, and the server process (one thread, one event loop)
its share of what is left: every page slow, the open pages' filter changes stalled, and
Voilà's executor giving up on outputs that arrive late.

:class:`Admission` lets at most ``limit`` pages run their notebook at a time (default
:func:`default_limit`, two per core); the others wait their turn, their request held open
(the browser shows Voilà's spinner), never dropped. Turns go **round-robin between the
logins waiting**, each login's own pages in their arrival order: ten pages opened at once
by one person (tabs restored, a script) do not make the next person wait for all ten.
Background work (refilling the warm-kernel pool, :mod:`prospects.serving.kernels`) takes a
slot only when no page is waiting.

:class:`LoopWatch` measures how late the event loop runs a callback scheduled every
0.1 s: the worst delay is the longest time the server answered nobody. A delay above
``warn_after`` is logged as a warning; the worst one is logged when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from typing import Any

log = logging.getLogger("prospects.serve")


def default_limit() -> int:
    """Pages opened at once by default: two per core (at least two)."""
    return max(2, 2 * (os.cpu_count() or 1))


class Admission:
    """At most ``limit`` holders at a time; pages first, in turn between logins, background work after them.

    ``await acquire(login=...)`` returns once the caller holds a slot; every acquire is
    paired with one :meth:`release`. A freed slot goes to the login whose turn it is — of
    the logins waiting, the one admitted least recently (never admitted first; equal, the
    one waiting longest) — and within a login to its oldest page. Cancelling a waiting
    ``acquire`` (the browser went away) takes it out of the queue; a slot granted at the
    moment of the cancellation is passed on.
    """

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError(f"admission limit {limit}: at least 1")
        self.limit = limit
        self.running = 0
        #: login → its pages waiting, oldest first (in the order the logins started waiting)
        self._pages: dict[str | None, deque[asyncio.Future[None]]] = {}
        #: login → the turn its last page was admitted at: whose turn it is next
        self._admitted_at: dict[str | None, int] = {}
        self._turns = 0
        self._background: deque[asyncio.Future[None]] = deque()
        self.admitted = 0  # pages admitted since the start
        self.waited = 0  # of which waited for a slot

    @property
    def waiting(self) -> int:
        """Pages waiting for a slot."""
        return sum(1 for queue in self._pages.values() for f in queue if not f.done())

    @property
    def idle(self) -> bool:
        """Nothing running and nobody waiting."""
        return self.running == 0 and self.waiting == 0

    async def acquire(self, *, background: bool = False, login: str | None = None) -> None:
        """Wait for a slot (pages in turn between logins; background work only when no page waits)."""
        if self.running < self.limit and not self._pages and (not background or not self._background):
            self.running += 1
            if not background:
                self._take_turn(login)
                self.admitted += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._background if background else self._pages.setdefault(login, deque())
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted just as the caller left: pass it on
                self.release()
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(future)
                if not background and not queue and self._pages.get(login) is queue:
                    del self._pages[login]  # its last page left: out of the turn
            raise
        if not background:
            self.admitted += 1
            self.waited += 1

    def _take_turn(self, login: str | None) -> None:
        self._turns += 1
        self._admitted_at[login] = self._turns

    def release(self) -> None:
        """Give the slot to the next page in turn, else to background work, else free it."""
        while self._pages:
            login = min(self._pages, key=lambda who: self._admitted_at.get(who, 0))  # first of the least recent
            queue = self._pages[login]
            granted = None
            while queue and granted is None:
                future = queue.popleft()
                if not future.done():
                    granted = future
            if not queue:
                del self._pages[login]
            if granted is not None:
                self._take_turn(login)
                granted.set_result(None)  # the slot goes straight to it: running is unchanged
                return
        while self._background:
            future = self._background.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.running -= 1
        if self.running < 0:  # pragma: no cover - a release without an acquire
            self.running = 0
            raise RuntimeError("Admission.release without acquire")


class LoopWatch:
    """The worst delay of the event loop, measured by a callback that asks to run every ``interval`` s."""

    def __init__(self, interval: float = 0.1, warn_after: float = 0.5):
        self.interval = interval
        self.warn_after = warn_after
        self.worst = 0.0
        self.worst_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def reset(self) -> float:
        """Start a new measurement; the worst delay until now."""
        worst, self.worst, self.worst_at = self.worst, 0.0, None
        return worst

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - before - self.interval
            if late > self.worst:
                self.worst, self.worst_at = late, time.time()
            if late > self.warn_after:
                log.warning("prospects serve: the event loop answered nobody for %.2f s", late)

    def summary(self) -> dict[str, Any]:
        return {"worst_stall_s": round(self.worst, 3), "at": self.worst_at}
