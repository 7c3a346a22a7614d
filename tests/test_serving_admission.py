"""prospects.serving.admission: pages admitted in arrival order, background work after them, the loop watch."""

from __future__ import annotations

import asyncio
import time

import pytest

from prospects.serving.admission import Admission, LoopWatch, default_limit


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_default_limit_is_two_per_core(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_limit() == 4
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert default_limit() == 2
    with pytest.raises(ValueError):
        Admission(0)


def test_at_most_limit_run_and_the_others_are_admitted_in_arrival_order():
    async def scenario():
        gate = Admission(2)
        running, peak, order = 0, 0, []

        async def page(name: str, work: float):
            nonlocal running, peak
            await gate.acquire()
            running += 1
            peak = max(peak, running)
            order.append(name)
            await asyncio.sleep(work)
            running -= 1
            gate.release()

        tasks = []
        for i in range(12):
            tasks.append(asyncio.ensure_future(page(f"p{i:02d}", 0.02 * (1 + i % 3))))
            await asyncio.sleep(0)  # arrive one after the other
        await asyncio.gather(*tasks)
        return peak, order, gate

    peak, order, gate = run(scenario())
    assert peak == 2
    assert order == sorted(order)  # first come, first served
    assert gate.running == 0 and gate.admitted == 12 and gate.waited == 10 and gate.idle


def test_a_page_that_leaves_the_queue_frees_its_place_and_is_never_admitted():
    async def scenario():
        gate = Admission(1)
        await gate.acquire()  # someone is running
        admitted = []

        async def page(name):
            await gate.acquire()
            admitted.append(name)
            gate.release()

        a = asyncio.ensure_future(page("a"))
        b = asyncio.ensure_future(page("b"))
        c = asyncio.ensure_future(page("c"))
        await asyncio.sleep(0.01)
        assert gate.waiting == 3
        b.cancel()  # the browser of b went away
        await asyncio.sleep(0.01)
        assert gate.waiting == 2
        gate.release()
        await asyncio.gather(a, c)
        return admitted, gate

    admitted, gate = run(scenario())
    assert admitted == ["a", "c"] and gate.running == 0


def test_a_slot_granted_as_its_page_leaves_is_passed_on():
    async def scenario():
        gate = Admission(1)
        await gate.acquire()
        first = asyncio.ensure_future(gate.acquire())
        second = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0.01)
        gate.release()  # the slot goes to `first`...
        first.cancel()  # ...which leaves before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(second, 1)  # ...so `second` gets it
        assert gate.running == 1
        gate.release()
        return gate

    assert run(scenario()).running == 0


def test_background_work_waits_for_every_page():
    async def scenario():
        gate = Admission(1)
        order = []
        await gate.acquire()

        async def holder(name, background=False):
            await gate.acquire(background=background)
            order.append(name)
            await asyncio.sleep(0.01)
            gate.release()

        refill = asyncio.ensure_future(holder("refill", background=True))
        await asyncio.sleep(0)
        pages = [asyncio.ensure_future(holder(f"page{i}")) for i in range(3)]
        await asyncio.sleep(0.01)
        gate.release()
        await asyncio.gather(refill, *pages)
        # a background slot is not free for a page's fast path either
        return order

    assert run(scenario()) == ["page0", "page1", "page2", "refill"]


def test_loop_watch_measures_a_blocked_loop(caplog):
    async def scenario():
        watch = LoopWatch(interval=0.02, warn_after=0.2)
        watch.start()
        await asyncio.sleep(0.1)
        quiet = watch.reset()
        time.sleep(0.35)  # the event loop answers nobody
        await asyncio.sleep(0.1)
        watch.stop()
        return quiet, watch.worst

    with caplog.at_level("WARNING", logger="prospects.serve"):
        quiet, worst = run(scenario())
    assert quiet < 0.2 and 0.3 <= worst < 1.0
    assert "answered nobody for 0.3" in caplog.text


def test_logins_waiting_are_served_in_turn_not_one_login_first():
    """Ten pages of one login queued first do not make another person wait for all ten."""

    async def scenario():
        gate = Admission(1)
        await gate.acquire(login="other")  # someone is running
        order = []

        async def page(login: str, n: int):
            await gate.acquire(login=login)
            order.append(f"{login}{n}")
            await asyncio.sleep(0)
            gate.release()

        tasks = [asyncio.ensure_future(page("a", i)) for i in range(1, 6)]
        await asyncio.sleep(0)
        tasks += [asyncio.ensure_future(page("b", 1)), asyncio.ensure_future(page("c", 1))]
        await asyncio.sleep(0)
        tasks.append(asyncio.ensure_future(page("b", 2)))
        await asyncio.sleep(0.01)
        assert gate.waiting == 8
        gate.release()
        await asyncio.gather(*tasks)
        return order, gate

    order, gate = run(scenario())
    # round-robin between the logins waiting, each login's own pages in their arrival order
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3", "a4", "a5"]
    assert gate.running == 0 and gate.idle


def test_a_login_that_leaves_the_queue_leaves_the_rotation():
    async def scenario():
        gate = Admission(1)
        await gate.acquire(login="x")
        order = []

        async def page(login: str):
            await gate.acquire(login=login)
            order.append(login)
            gate.release()

        a = asyncio.ensure_future(page("a"))
        b = asyncio.ensure_future(page("b"))
        c = asyncio.ensure_future(page("c"))
        await asyncio.sleep(0.01)
        b.cancel()  # b's only page went away
        await asyncio.sleep(0.01)
        assert gate.waiting == 2
        gate.release()
        await asyncio.gather(a, c)
        with pytest.raises(asyncio.CancelledError):
            await b
        return order, gate

    order, gate = run(scenario())
    assert order == ["a", "c"] and gate.running == 0 and gate.idle


def test_a_login_already_running_a_page_waits_behind_one_that_is_not():
    async def scenario():
        gate = Admission(1)
        await gate.acquire(login="a")  # a's first page runs
        order = []

        async def page(login: str, n: int):
            await gate.acquire(login=login)
            order.append(f"{login}{n}")
            gate.release()

        tasks = [asyncio.ensure_future(page("a", 2)), asyncio.ensure_future(page("a", 3))]
        await asyncio.sleep(0)
        tasks.append(asyncio.ensure_future(page("b", 1)))  # b arrives after a's two pages
        await asyncio.sleep(0.01)
        gate.release()
        await asyncio.gather(*tasks)
        return order

    assert run(scenario()) == ["b1", "a2", "a3"]
