"""Measure many people opening the dashboard at the same instant on one machine ("Serving many viewers").

For each round it starts a fresh ``prospects serve --auth header`` on the small demo firm
(today fixed), waits for its warm kernels, and opens N pages at once:

* **plain GETs** (``--gets``, default 1 8 16 32 64): N threads released together, each a
  different collaborator's login in the header (from loopback, the trusted proxy). Then
  every page's figures are read from its kernel's widgets over the kernel websocket (what
  Voilà's page does) and compared with the package's (``View.figures``, formatted);
* **browsers** (``--browsers``, default 8 16): N Chromium contexts signed in through
  Debian's nginx running ``deploy/nginx-prospects.conf`` (TLS, basic auth), all navigating
  at once; time to each one's figures on screen, compared with the package's;
* **CPU per page** from ``/proc/PID/stat`` (utime + stime): the server's over the round and
  each page kernel's (a warm kernel counts from its hand-out: its warming is reported
  apart), divided by N; rounds with ``--pool-size 0`` give the cold cost, N = 1 with the
  pool the warm one;
* **the event loop's worst stall**: the server's own watch (``prospects.serving.admission.LoopWatch``,
  logged when it stops: the whole round, start-up included) and, from outside, the slowest
  answer to a cheap request sent every 0.1 s during the burst;
* memory: RssAnon and Pss (``/proc/PID/smaps_rollup``) of the server and each page kernel;
* **through a real JupyterHub** (``--hub``, default 4 people; ``deploy/jupyterhub_config.py``
  run by tests/hub.py): each person signs in at the Hub's login page in Chromium one after
  the other, time from the login form to their figures on screen while their server is
  spawned, then again once it runs; memory per person (their server and kernel, plus the
  Hub and its proxy shared by all), Pss and anonymous;
* **two servers behind nginx** (``--two-servers``, default 32 browsers): two
  ``prospects serve --auth header`` with their own store folders behind nginx with the
  documented ``upstream`` block (``hash $remote_user consistent``), N browsers at once,
  against one server with the same N in the same run.

Each configuration runs ``--runs`` times (default 3); the tables give medians (and ranges).
Writes its section of docs/performance.md (between its markers) unless ``--no-write``.

    .venv/bin/python bench/serving.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docs_section import markers, write_section  # noqa: E402

from prospects.serving.admission import default_limit  # noqa: E402
from prospects.serving.kernels import default_pool_size  # noqa: E402
from tests.browser import (  # noqa: E402  (after the path is set)
    CHROMIUM,
    CHROMIUM_ARGS,
    FIGURES_SHOWN,
    Nginx,
    Serve,
    StickyNginx,
    cells,
    cells_in_states,
    expected_cells,
    kernel_id,
    launch_chromium,
    load_logins,
    open_many,
    widget_states,
)
from tests.hub import Hub, hub_available, sign_in  # noqa: E402  (hub_available: main)

TODAY = "2026-11-29"
START, END = markers("serving.py")
TICK = os.sysconf("SC_CLK_TCK")


def make_demo(size: str, folder: Path) -> str:
    from prospects import db, demo

    url = f"sqlite:///{folder / f'demo-{size}.db'}"
    db.replace_all(db.make_engine(url), demo.generate(size, seed=42, today=dt.date.fromisoformat(TODAY)))
    return url


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_mb(pid: int) -> dict[str, float]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Anonymous"):
                out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


class Probe(threading.Thread):
    """A cheap request (refused: no login) every 0.1 s; the slowest answer while it runs."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.worst, self.count = url + "api/kernels", 0.0, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            start = time.perf_counter()
            with contextlib.suppress(OSError):  # the refusal (HTTPError) is the expected answer
                urllib.request.urlopen(self.url, timeout=30)
            self.worst = max(self.worst, time.perf_counter() - start)
            self.count += 1
            self.stopped.wait(0.1)

    def stop(self) -> float:
        self.stopped.set()
        self.join(35)
        return self.worst


def start_server(url: str, folder: Path, name: str, pool: int | None) -> Serve:
    args = ["--auth", "header"] + (["--pool-size", str(pool)] if pool is not None else [])
    server = Serve(url, folder / f"serve-{name}.log", *args, today=TODAY).start().wait()
    size = pool if pool is not None else default_pool_size()
    if size:
        server.wait_log(rf"ready \({size} in the pool\)", timeout=180)
    time.sleep(2.0)  # let the start-up settle
    return server


def stall_of(server: Serve) -> float | None:
    found = re.findall(r"event loop worst stall ([0-9.]+) s", server.log())
    return float(found[-1]) if found else None


def kernel_usage(server: Serve, before: dict[int, float], page_kernels: list[str]) -> tuple[list[float], float, list[dict]]:
    """CPU of each page kernel in the round, CPU of the other new kernels (the pool refilling), their memory."""
    ids = server.kernel_ids()
    pages = [ids.get(k) for k in page_kernels]
    per_page = [cpu_s(pid) - before.get(pid, 0.0) if pid else 0.0 for pid in pages]
    refill = sum(cpu_s(pid) - before.get(pid, 0.0) for pid in ids.values() if pid not in pages)
    return per_page, refill, [memory_mb(pid) for pid in pages if pid]


def get_round(url: str, logins: list[str], folder: Path, expected: dict, pool: int | None, tag: str) -> dict:
    n = len(logins)
    server = start_server(url, folder, f"get-{n}-{tag}", pool)
    load = os.getloadavg()[0]
    try:
        before = {pid: cpu_s(pid) for pid in server.kernels()}
        server_before = cpu_s(server.proc.pid)
        barrier = threading.Barrier(n)

        def open_page(login: str) -> tuple[float, str]:
            barrier.wait()
            start = time.perf_counter()
            req = urllib.request.Request(server.url, headers={"X-Forwarded-User": login})
            with urllib.request.urlopen(req, timeout=900) as r:
                body = r.read().decode("utf-8", "replace")
            return time.perf_counter() - start, body

        probe = Probe(server.url)
        probe.start()
        with ThreadPoolExecutor(n) as pool_:
            results = list(pool_.map(open_page, logins))
        probe_worst = probe.stop()
        kernels = [kernel_id(body) for _, body in results]

        async def read_all() -> list:
            gate = asyncio.Semaphore(8)

            async def one(login: str, kernel: str | None):
                if kernel is None:
                    return None
                async with gate:
                    try:
                        return cells_in_states(await widget_states(server.port, kernel, {"X-Forwarded-User": login}, 300))
                    except Exception as exc:  # counted as a wrong page
                        return f"{type(exc).__name__}: {exc}"

            return await asyncio.gather(*(one(login, k) for login, k in zip(logins, kernels, strict=True)))

        shown = asyncio.run(read_all())
        time.sleep(0.5)
        per_page, refill, memory = kernel_usage(server, before, kernels)
        server_cpu = cpu_s(server.proc.pid) - server_before
        server_mem = memory_mb(server.proc.pid)
    finally:
        server.stop()
    correct = sum(1 for login, got in zip(logins, shown, strict=True) if got == expected[login])
    return {"n": n, "times": [t for t, _ in results], "correct": correct, "server_cpu": server_cpu,
            "kernel_cpu": per_page, "refill_cpu": refill, "stall": stall_of(server), "probe": probe_worst,
            "load": load, "memory": memory, "server_memory": server_mem, "warmup": list(before.values())}


def launch_niced_chromium(playwright, folder: Path, niceness: int):
    """Debian's Chromium at a lower priority than the server: the browsers stand for people's
    own machines, so they take the two cores only when the server and its kernels leave them."""
    if niceness <= 0:
        return launch_chromium(playwright)
    wrapper = folder / "chromium-niced"
    # Playwright starts the browser in a session of its own: with autogroup scheduling that
    # session gets the niceness too (as prospects.serving.kernels does for kernels), else nice counts for nothing
    wrapper.write_text("#!/bin/sh\n"
                       f'[ "$(ps -o sid= -p $$ | tr -d " ")" = "$$" ] && echo {int(niceness)} > /proc/self/autogroup 2>/dev/null\n'
                       f'exec nice -n {int(niceness)} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return playwright.chromium.launch(executable_path=str(wrapper), args=CHROMIUM_ARGS)


def browser_round(browser, url: str, logins: list[str], folder: Path, expected: dict, tag: str) -> dict:
    n = len(logins)
    server = start_server(url, folder, f"browser-{n}-{tag}", None)
    users = {login: f"pw-{i}" for i, login in enumerate(logins)}
    proxy = Nginx(folder / f"nginx-{n}-{tag}", server.port, users).start()
    load = os.getloadavg()[0]
    contexts = []
    try:
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=True,
                                        http_credentials={"username": u, "password": users[u]}) for u in logins]
        pages = [c.new_page() for c in contexts]
        before = {pid: cpu_s(pid) for pid in server.kernels()}
        server_before = cpu_s(server.proc.pid)
        probe = Probe(server.url)
        probe.start()
        try:
            times = open_many(pages, proxy.url, timeout=900)
        except TimeoutError as exc:
            times = [float("nan")] * n
            print(f"# {n} browsers: {exc}", file=sys.stderr)
        probe_worst = probe.stop()
        time.sleep(1.0)
        correct = 0
        kernels = []
        for login, page in zip(logins, pages, strict=True):
            with contextlib.suppress(Exception):  # a page without figures is not served
                correct += cells(page) == expected[login]
            found = page.evaluate("() => (document.getElementById('jupyter-config-data') || {}).textContent || ''")
            kernels.append(kernel_id(found))
        per_page, refill, memory = kernel_usage(server, before, kernels)
        server_cpu = cpu_s(server.proc.pid) - server_before
        server_mem = memory_mb(server.proc.pid)
    finally:
        for c in contexts:
            c.close()
        proxy.stop()
        server.stop()
    return {"n": n, "times": times, "correct": correct, "server_cpu": server_cpu, "kernel_cpu": per_page,
            "refill_cpu": refill, "stall": stall_of(server), "probe": probe_worst, "load": load, "memory": memory,
            "server_memory": server_mem, "warmup": list(before.values())}


def hub_round(browser, url: str, logins: list[str], folder: Path, expected: dict, tag: str) -> dict:
    """People signing in at a real Hub one after the other: first figures with the spawn, then once spawned."""
    hub = Hub(folder / f"hub-{tag}", url, {login: f"pw-{i}" for i, login in enumerate(logins)}, today=TODAY).start()
    load = os.getloadavg()[0]
    first, again, correct, contexts = [], [], 0, []

    def figures(login: str) -> tuple[float, object]:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        start = sign_in(page, hub, login)
        page.wait_for_url(f"**/user/{login}/**", timeout=600_000)
        page.wait_for_function(FIGURES_SHOWN, timeout=600_000)
        took = time.perf_counter() - start
        return took, ctx, page

    try:
        for login in logins:  # their server not yet spawned
            took, ctx, page = figures(login)
            first.append(took)
            correct += cells(page) == expected[login]
            ctx.close()
        for login in logins:  # their server running: signing in again
            took, ctx, page = figures(login)
            again.append(took)
            contexts.append(ctx)
        time.sleep(2.0)
        servers = hub.servers()
        per_person = []
        for login in logins:
            kernels = [memory_mb(pid) for pid in hub.kernels(login)]
            per_person.append({"server": memory_mb(servers[login]) if login in servers else {},
                               "kernels": kernels})
        proxy_pid = int((hub.folder / "state" / "jupyterhub-proxy.pid").read_text().strip())
        shared = {"hub": memory_mb(hub.proc.pid), "proxy": memory_mb(proxy_pid)}
    finally:
        for c in contexts:
            c.close()
        hub.stop()
    return {"n": len(logins), "first": first, "again": again, "correct": correct, "load": load,
            "per_person": per_person, "shared": shared}


def two_servers_round(browser, url: str, logins: list[str], folder: Path, expected: dict, tag: str) -> dict:
    """N browsers at once through nginx onto two servers (own store folders), sticky by login."""
    n = len(logins)
    servers = [Serve(url, folder / f"serve-two-{n}-{tag}-{i}.log", "--auth", "header", today=TODAY,
                     env={"PROSPECTS_STORE": str(folder / f"store-{tag}-{i}")}) for i in (1, 2)]
    users = {login: f"pw-{i}" for i, login in enumerate(logins)}
    proxy, contexts = None, []
    try:
        for s in servers:
            s.start()
        size = default_pool_size()
        for s in servers:
            s.wait().wait_log(rf"ready \({size} in the pool\)", timeout=180)
        time.sleep(2.0)
        proxy = StickyNginx(folder / f"nginx-two-{n}-{tag}", [s.port for s in servers], users).start()
        load = os.getloadavg()[0]
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=True,
                                        http_credentials={"username": u, "password": users[u]}) for u in logins]
        pages = [c.new_page() for c in contexts]
        try:
            times = open_many(pages, proxy.url, timeout=900)
        except TimeoutError as exc:
            times = [float("nan")] * n
            print(f"# {n} browsers on two servers: {exc}", file=sys.stderr)
        time.sleep(1.0)
        correct, split = 0, [0, 0]
        for login, page in zip(logins, pages, strict=True):
            with contextlib.suppress(Exception):  # a page without figures is not served
                correct += cells(page) == expected[login]
            found = page.evaluate("() => (document.getElementById('jupyter-config-data') || {}).textContent || ''")
            kernel = kernel_id(found)
            for i, s in enumerate(servers):
                split[i] += kernel in s.kernel_ids()
    finally:
        for c in contexts:
            c.close()
        if proxy is not None:
            proxy.stop()
        for s in servers:
            s.stop()
    stalls = [x for x in (stall_of(s) for s in servers) if x is not None]
    return {"n": n, "times": times, "correct": correct, "split": split, "load": load,
            "stall": max(stalls) if stalls else None}


# ---------------------------------------------------------------------------
# the report


def med(values: list[float]) -> float:
    values = [v for v in values if v == v]  # no NaN
    return statistics.median(values) if values else float("nan")


def span(values: list[float], fmt: str = "{:.1f}") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "–"
    m = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt.format(m)
    return f"{fmt.format(m)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def summarise(runs: list[dict]) -> dict:
    n = runs[0]["n"]
    return {
        "n": n,
        "served": [r["correct"] for r in runs],
        "median": [med(r["times"]) for r in runs],
        "max": [max(r["times"]) for r in runs],
        "cpu_page": [(r["server_cpu"] + sum(r["kernel_cpu"])) / n for r in runs],
        "server_page": [r["server_cpu"] / n for r in runs],
        "kernel_page": [sum(r["kernel_cpu"]) / n for r in runs],
        "refill": [r["refill_cpu"] for r in runs],
        "stall": [r["stall"] for r in runs if r["stall"] is not None],
        "probe": [r["probe"] for r in runs],
        "load": [r["load"] for r in runs],
        "kernel_pss": [med([m.get("Pss", 0) for m in r["memory"]]) for r in runs],
        "kernel_anon": [med([m.get("Anonymous", 0) for m in r["memory"]]) for r in runs],
        "server_pss": [r["server_memory"].get("Pss", 0) for r in runs],
        "warmup": [x for r in runs for x in r["warmup"]],
    }


def table(rows: list[dict], what: str) -> list[str]:
    out = [f"| {what} | all served with their own figures | completion: median | slowest | CPU per page (server + kernel) "
           "| server | kernel | event loop worst stall (server's watch / probe) | load average before |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in rows:
        served = ", ".join(f"{x}/{s['n']}" for x in s["served"])
        stall = f"{span(s['stall'], '{:.2f}')} s / {span(s['probe'], '{:.2f}')} s"
        out.append(f"| {s['label']} | {served} | {span(s['median'])} s | {span(s['max'])} s | {span(s['cpu_page'], '{:.2f}')} s "
                   f"| {span(s['server_page'], '{:.2f}')} s | {span(s['kernel_page'], '{:.2f}')} s | {stall} | {span(s['load'])} |")
    return out


def worst(rounds: list[dict]) -> float:
    """The worst event-loop stall of some rounds (the server's watch or the probe)."""
    return max((x for s in rounds for x in (*s["stall"], *s["probe"]) if x == x), default=float("nan"))


def hub_lines(hubs: list[dict]) -> list[str]:
    """The Hub round: first figures with and without the spawn, memory per person."""
    if not hubs:
        return []
    n = hubs[0]["n"]
    first = [x for r in hubs for x in r["first"]]
    again = [x for r in hubs for x in r["again"]]
    people = [p for r in hubs for p in r["per_person"]]
    server_pss = [p["server"].get("Pss", 0) for p in people]
    server_anon = [p["server"].get("Anonymous", 0) for p in people]
    # one kernel per open page: the page of the first sign-in, closed, keeps its kernel until the idle cull
    kernel_pss = [k.get("Pss", 0) for p in people for k in p["kernels"]]
    kernel_anon = [k.get("Anonymous", 0) for p in people for k in p["kernels"]]
    hub_pss = [r["shared"]["hub"].get("Pss", 0) + r["shared"]["proxy"].get("Pss", 0) for r in hubs]
    hub_anon = [r["shared"]["hub"].get("Anonymous", 0) + r["shared"]["proxy"].get("Anonymous", 0) for r in hubs]
    served = ", ".join(f"{r['correct']}/{n}" for r in hubs)
    return [
        f"**Through a real JupyterHub** (`deploy/jupyterhub_config.py`, its configurable-http-proxy, the simple local "
        f"spawner; {n} people signing in at the Hub's login page in Chromium one after the other, {len(hubs)} runs, "
        f"served with their own figures: {served}; load average before: {span([r['load'] for r in hubs])}):",
        "",
        "| | from the login form to the figures: median | slowest |",
        "| --- | --- | --- |",
        f"| server not yet spawned (spawn, server start, kernel, page) | {med(first):.1f} s | {max(first):.1f} s |",
        f"| server running (a new page: kernel and page) | {med(again):.1f} s | {max(again):.1f} s |",
        "",
        f"Memory per person (`/proc/PID/smaps_rollup`, medians): their server {med(server_pss):.0f} MB Pss "
        f"({med(server_anon):.0f} MB anonymous) and a kernel per open page {med(kernel_pss):.0f} MB Pss "
        f"({med(kernel_anon):.0f} MB anonymous); the Hub and its proxy, shared by everyone: {med(hub_pss):.0f} MB Pss ({med(hub_anon):.0f} MB anonymous).",
        "",
    ]


def two_lines(twos: list[dict], browsers: list[dict]) -> list[str]:
    """Two servers behind nginx against one, the same number of browsers."""
    if not twos:
        return []
    out = [
        "**Two servers behind one nginx** (two `prospects serve --auth header` with their defaults and their own store "
        "folders, nginx with `deploy/nginx-prospects.conf` and the `upstream` block of docs/deployment.md, "
        "`hash $remote_user consistent`; N browsers at once, against one server with the same N above):",
        "",
        "| browsers at once | servers | served with their own figures | people per server | completion: median | slowest "
        "| event loop worst stall | load average before |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in sorted({r["n"] for r in twos}):
        rs = [r for r in twos if r["n"] == n]
        one = next((b for b in browsers if b["n"] == n), None)
        if one is not None:
            out.append(f"| {n} | 1 | {', '.join(f'{x}/{n}' for x in one['served'])} | {n} | {span(one['median'])} s "
                       f"| {span(one['max'])} s | {span(one['stall'], '{:.2f}')} s | {span(one['load'])} |")
        stalls = [r["stall"] for r in rs if r["stall"] is not None]
        out.append(f"| {n} | 2 | {', '.join(str(r['correct']) + '/' + str(n) for r in rs)} "
                   f"| {', '.join('+'.join(str(x) for x in r['split']) for r in rs)} | {span([med(r['times']) for r in rs])} s "
                   f"| {span([max(r['times']) for r in rs])} s | {span(stalls, '{:.2f}')} s | {span([r['load'] for r in rs])} |")
    return [*out, ""]


def markdown(args: argparse.Namespace, gets: list[dict], cold: list[dict], warm: list[dict], browsers: list[dict],
             hubs: list[dict] | None = None, twos: list[dict] | None = None) -> str:
    cpu = platform.processor() or platform.machine()
    niced = (f", at niceness {args.browser_niceness} (they stand for people's own machines: they get the cores "
             "the server and its kernels leave)") if args.browser_niceness > 0 else ""
    all_served = all(x == s_["n"] for s_ in gets + cold + warm + browsers for x in s_["served"])
    lines = [
        START,
        "## Serving many viewers",
        "",
        f"`.venv/bin/python bench/serving.py --runs {args.runs}` on {dt.date.today().isoformat()}: the {args.size} demo firm "
        f"(seed 42, today {TODAY}), a fresh `prospects serve --auth header` per round with its defaults on this "
        f"machine ({os.cpu_count()} cores, {cpu}, Python {platform.python_version()}: {default_pool_size()} warm "
        f"kernels, {default_limit()} pages opened at once, the others waiting in order). N different "
        "collaborators open the dashboard at the same instant; each page counts as served when its kernel's widgets show "
        "exactly that viewer's figures (`View.figures` of the package, formatted with `prospects.i18n`). "
        f"Medians of {args.runs} runs (range in brackets). The machine is shared with other engineers' test runs: "
        "the load average before each round is in the last column.",
        "",
        "**Plain GETs** (one thread per viewer, released together; then each page's figures read from its kernel "
        "over the websocket, as Voilà's page does):",
        "",
        *table(gets, "viewers at once"),
        "",
        "**CPU per page**, cold and warm (the server's CPU over the round and the page kernels', divided by the pages; "
        "a warm kernel counts from its hand-out):",
        "",
        *table(cold + warm, "case"),
        "",
        "**Browsers** (Chromium contexts signed in through nginx with `deploy/nginx-prospects.conf`, TLS and basic auth, "
        f"on the same two cores{niced}; time from the navigation to the seven figures on screen):",
        "",
        *table(browsers, "browsers at once"),
        "",
        *two_lines(twos or [], browsers),
        *hub_lines(hubs or []),
    ]
    pss = [x for s in gets for x in s["kernel_pss"]]
    anon = [x for s in gets for x in s["kernel_anon"]]
    server_pss = [x for s in gets for x in s["server_pss"]]
    warmup = [x for s in gets for x in s["warmup"]]
    lines += [
        f"Memory (`/proc/PID/smaps_rollup`): a page kernel {med(pss):.0f} MB Pss, {med(anon):.0f} MB anonymous (medians "
        f"over the GET rounds); the server {med(server_pss):.0f} MB Pss. Warming a pool kernel (start, imports, the "
        f"firm opened) costs {med(warmup):.2f} s of CPU (median of {len(warmup)}), spent before its page, when no page waits.",
        "",
        "Before issue 12 (same machine, plain GETs, the figures checked in each kernel): 1 page 3.4 s; 16 at once "
        "median 27 s; 32 at once median 52–64 s with 2/32, 20/32 and 31/32 pages holding the dashboard in three runs "
        "(the others blank: Voilà's executor dropped outputs that came more than 4 s after their cell); about 3 s of CPU "
        "per page; the event loop stalled 5–9 s; 16 browsers: no page ever showed figures.",
        "",
        "Reading: " + ("every page is served and right at every size" if all_served else "NOT every page was served: see the tables")
        + "; pages queue in turn between logins (one page per login here: in arrival order) "
        f"({default_limit()} run at once), so the completion time grows with the number of "
        "pages ahead while the CPU per page stays flat. The event loop's worst stall (the server's own watch, or a "
        f"cheap request of the probe, whichever is worse) was {worst(gets + cold + warm):.2f} s in the GET rounds and "
        f"{worst(browsers):.2f} s in the browser rounds, where Chromium's renderers parse about 5 MB of scripts each on "
        "the same two cores. What these mean for a firm: docs/deployment.md, \"Sizing\".",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small", choices=["small", "medium"])
    parser.add_argument("--gets", nargs="*", type=int, default=[1, 8, 16, 32, 64])
    parser.add_argument("--browsers", nargs="*", type=int, default=[8, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--browser-niceness", type=int, default=10,
                        help="run the browsers at this niceness (they stand for people's own machines; 0: same as the server)")
    parser.add_argument("--hub", type=int, default=4, metavar="N",
                        help="people signing in at a real JupyterHub one after the other (0: no Hub round)")
    parser.add_argument("--two-servers", nargs="*", type=int, default=[32], metavar="N",
                        help="browsers at once on two servers behind nginx (and on one, the same N, for comparison)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not touch docs/performance.md")
    args = parser.parse_args()
    if args.hub and hub_available():
        raise SystemExit(f"bench/serving.py: {hub_available()} (or --hub 0)")
    args.browsers = sorted({*args.browsers, *args.two_servers})
    from playwright.sync_api import sync_playwright

    gets, cold, warm, browsers, hubs, twos = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = make_demo(args.size, folder)
        most = max([*args.gets, *args.browsers, args.hub, 8])
        logins = load_logins(url, most)
        if len(set(logins)) < most:
            raise SystemExit(f"the {args.size} demo has {len(set(logins))} active logins, {most} needed")
        expected = {login: expected_cells(url, login, TODAY) for login in logins}

        def rounds(label: str, fn, *a) -> dict:
            runs = []
            for i in range(args.runs):
                r = fn(*a, f"{label}-{i}")
                print(f"# {label} run {i + 1}: served {r['correct']}/{r['n']}, median {med(r['times']):.1f} s, "
                      f"max {max(r['times']):.1f} s, cpu/page {(r['server_cpu'] + sum(r['kernel_cpu'])) / r['n']:.2f} s, "
                      f"stall {r['stall']} / probe {r['probe']:.2f} s, load {r['load']:.1f}", file=sys.stderr, flush=True)
                runs.append(r)
            return {**summarise(runs), "label": label}

        for n in args.gets:
            gets.append(rounds(f"{n}", lambda tag, n=n: get_round(url, logins[:n], folder, expected, None, tag)))
        if args.gets:
            cold.append(rounds("cold: 8 at once, no warm kernel (`--pool-size 0`)",
                               lambda tag: get_round(url, logins[:8], folder, expected, 0, tag)))
            warm.append(rounds("warm: 1 page, from a warm kernel",
                               lambda tag: get_round(url, logins[:1], folder, expected, None, tag)))
        if args.browsers or args.hub:
            with sync_playwright() as p:
                browser = launch_niced_chromium(p, folder, args.browser_niceness)
                try:
                    for n in args.browsers:
                        browsers.append(rounds(f"{n}", lambda tag, n=n: browser_round(browser, url, logins[:n], folder,
                                                                                      expected, tag)))
                    for n in args.two_servers:
                        for i in range(args.runs):
                            r = two_servers_round(browser, url, logins[:n], folder, expected, f"two-{n}-{i}")
                            print(f"# two servers, {n} browsers, run {i + 1}: served {r['correct']}/{n}, split {r['split']}, "
                                  f"median {med(r['times']):.1f} s, max {max(r['times']):.1f} s, load {r['load']:.1f}",
                                  file=sys.stderr, flush=True)
                            twos.append(r)
                    for i in range(args.runs if args.hub else 0):
                        r = hub_round(browser, url, logins[:args.hub], folder, expected, f"hub-{i}")
                        print(f"# hub run {i + 1}: served {r['correct']}/{r['n']}, first {span(r['first'])} s, "
                              f"again {span(r['again'])} s, load {r['load']:.1f}, memory {r['per_person']} {r['shared']}",
                              file=sys.stderr, flush=True)
                        hubs.append(r)
                finally:
                    browser.close()
    text = markdown(args, gets, cold, warm, browsers, hubs, twos)
    print(text)
    if not args.no_write:
        write_section("serving.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
