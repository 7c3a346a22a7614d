"""Benchmark of the figure store against reading the same rows through SQL, in the same run.

On the demo firms (SQLite, the embedded default), for the widest viewer (a director
whose perimeter is the whole firm), through the public API
(``open_firm(...).as_viewer(login).figures(unit=<firm>)``), in fresh processes:

* **store**: this working copy (the memory-mapped figure store);
* **sql**: the package as it was before the store (``--baseline``, default the commit
  before it), which read the viewer's rows through SQLAlchemy into pandas. It is
  unpacked from git into a temporary folder and put first on ``PYTHONPATH``.

Measured for each: the first figures of the whole firm (open the firm, become the viewer,
compute: the package already imported), the private memory the viewer adds to the
process (``RssAnon``) and its proportional share (``Pss``, from
``/proc/PID/smaps_rollup``) — both measured from a process that imported the package and
used pandas and Arrow once (their one-time set-up, a few MB whatever the data), a region filter change, the N-1 switch and the biggest
drill-down (``signed_offers`` of the firm, by document and by deal); the figures of both
are compared. Then N processes at once (default 8), each a firm-wide viewer: the sum of
their PSS against one alone. Then the store's build time against writing the SQLite
database, both from the same frames (what ``load`` and ``demo`` do), and the rebuild
from the database (``prospects store --rebuild``).

Then what the store's checks cost (issue 20): opening the current version with every check
an opening makes against the same opening without them (the mapping alone, as before the
checks: the check functions replaced by plain reads in that process); the first firm-wide
figures with them; what every opening does *not* do (every file's sha256, Arrow's full
validation of every column) and ``prospects store --check``, which does; and building a
version with its checksums against without.

Results go to the sections "## Figures" and "## Figure store: what is checked" of
docs/performance.md (between markers) and to standard output. Run:
``python bench/figures.py [--sizes medium large] [--runs 3]``; ``--only checks`` measures
and writes the second section alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docs_section import write_section

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-29"
BASELINE = "db92223"  # the last commit before the figure store


# ---------------------------------------------------------------------------
# memory of a process


def proc_memory(pid: int | str = "self") -> dict[str, float]:
    """RssAnon (private) and Pss (proportional share), in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            out["rss_anon"] = int(line.split()[1]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            out["pss"] = int(line.split()[1]) / 1024
    return out


# ---------------------------------------------------------------------------
# the worker: one viewer in a fresh process (this code or the baseline's)


def _warm_libraries() -> None:
    """First uses that cost memory once per process whatever the data (pandas builds its
    first frame, Arrow its first conversion): done before the baseline, identically for
    both ways, as a warm kernel has done before its viewer arrives."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"a": pd.Series(np.array(["x", None], dtype=object), dtype=object), "b": [1, 2]})
    frame.set_index("a", drop=False).sort_values("b")
    try:
        import pyarrow as pa

        pa.array(["x", None]).to_numpy(zero_copy_only=False)
    except ImportError:  # the SQL way's package does not use it
        pass


def worker(args: argparse.Namespace) -> None:
    import prospects.api as api  # the package under test (PYTHONPATH decides which)

    _warm_libraries()
    base = proc_memory()
    result: dict[str, object] = {"package": str(Path(api.__file__).parent)}
    if args.import_only:
        print(json.dumps({"ready": True, **result, "memory": base}), flush=True)
        sys.stdin.read()
        return
    t0 = time.perf_counter()
    firm = api.open_firm(args.db, today=TODAY)
    me = firm.as_viewer(args.login)
    figs = me.figures(unit=args.unit)
    first = time.perf_counter() - t0
    after = proc_memory()
    result.update(
        first_figures=first,
        added={k: after[k] - base[k] for k in after},
        base=base,
        indicators=json.loads(json.dumps(dict(figs.indicators))),
        previous=json.loads(json.dumps(dict(figs.previous.indicators))),
    )
    if args.hold:
        print(json.dumps({"ready": True, **result}), flush=True)
        sys.stdin.read()
        return
    regions = args.regions.split(",")
    changes = []
    for _ in range(args.repeat):
        for region in regions:
            t = time.perf_counter()
            me.figures(unit=region)
            changes.append(time.perf_counter() - t)
    t = time.perf_counter()
    me.figures(unit=args.unit, period=me.period(previous=True))
    previous_switch = time.perf_counter() - t
    t = time.perf_counter()
    by_doc = me.drilldown("signed_offers", by="document", unit=args.unit)
    drill_doc = time.perf_counter() - t
    t = time.perf_counter()
    by_deal = me.drilldown("signed_offers", by="deal", unit=args.unit)
    drill_deal = time.perf_counter() - t
    result.update(
        filter_change=statistics.median(changes),
        previous_switch=previous_switch,
        drill_rows=len(by_doc),
        drill_deal_rows=len(by_deal),
        drill_doc=drill_doc,
        drill_deal=drill_deal,
        drill_total=int(by_doc["total"].sum()),
        after_all=proc_memory(),
    )
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------
# the store's checks: one opening in a fresh process


def checks_worker(args: argparse.Namespace) -> None:
    """Time one opening of the current version (``--checks KIND``) in this fresh process."""
    import pyarrow as pa

    from prospects import store
    from prospects.config import load_settings

    _warm_libraries()
    folder = store.store_folder(load_settings(db=args.db, today=TODAY))
    path = folder / f"v-{store.current_stamp(folder)}"
    result: dict[str, object] = {"kind": args.checks}
    if args.checks == "unchecked":  # the opening as it was before the checks: read meta.json, map the files
        store._read_meta = lambda p: json.loads((p / "meta.json").read_text(encoding="utf-8"))
        store._verify_files = lambda *a, **k: []
        store._map_table = lambda p, name, rows, full: pa.ipc.open_file(pa.memory_map(str(p / f"{name}.arrow"), "r")).read_all()
    if args.checks in ("unchecked", "checked"):
        t, cpu = time.perf_counter(), time.process_time()
        store.open_version(path)
        result["open"], result["open_cpu"] = time.perf_counter() - t, time.process_time() - cpu
    elif args.checks == "figures":
        import prospects.api as api

        t, cpu = time.perf_counter(), time.process_time()
        api.open_firm(args.db, today=TODAY).as_viewer(args.login).figures(unit=args.unit)
        result["first_figures"], result["first_figures_cpu"] = time.perf_counter() - t, time.process_time() - cpu
    elif args.checks == "full":
        meta = store._read_meta(path)
        stats = {name: os.stat(path / name) for name in store.FILES}
        t = time.perf_counter()
        store._verify_files(path, meta, stats, full=True)
        result["sha256"] = time.perf_counter() - t
        tables = {name: store._map_table(path, name, meta["counts"][name], full=False) for name in store._SCHEMAS}
        t = time.perf_counter()
        for table in tables.values():
            table.validate(full=True)
        result["full_validation"] = time.perf_counter() - t
        result["bytes"] = sum(st.st_size for st in stats.values())
    print(json.dumps(result), flush=True)


def store_checks(size: str, url: str, login: str, unit: str, runs: int) -> dict:
    """The checks' cost on one demo firm: fresh processes, alternating, ``runs`` of each."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", url, "--login", login, "--unit", unit]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def one(kind: str) -> dict:
        out = subprocess.run([*cmd, "--checks", kind], env=env, check=True, capture_output=True, text=True,
                             cwd=tempfile.gettempdir())
        return json.loads(out.stdout.strip().splitlines()[-1])

    subprocess.run([sys.executable, "-m", "prospects.cli", "--db", url, "store"], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # the current version in this format, built if need be
    out: dict[str, list] = {"unchecked": [], "checked": [], "figures": [], "full": [], "check_command": []}
    for _ in range(runs):
        for kind in ("unchecked", "checked", "figures"):
            out[kind].append(one(kind))
    out["full"] = [one("full") for _ in range(max(1, runs // 2))]
    for _ in range(max(1, runs // 2)):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "prospects.cli", "--db", url, "store", "--check"], env=env, check=True,
                       capture_output=True, cwd=ROOT)
        out["check_command"].append(time.perf_counter() - t)
    out["build"] = build_with_and_without_checksums(size, 1 if size == "large" else runs)
    return out


def build_with_and_without_checksums(size: str, runs: int) -> dict:
    """Building a version from a load's frames: with its files' sha256 (as now) and without (as before)."""
    sys.path.insert(0, str(ROOT))
    from prospects import demo, store

    frames = demo.generate(size, 42, today=dt.date.fromisoformat(TODAY))
    tmp = Path(tempfile.mkdtemp(prefix="bench-checks-", dir=ROOT / "data"))
    real = store._Summed.write
    times: dict[str, list[float]] = {"with": [], "without": []}
    try:
        for i in range(runs):
            for way in ("without", "with"):
                store._Summed.write = real if way == "with" else (lambda self, data: self.raw.write(data))
                t = time.perf_counter()
                store.write_version(tmp / f"{way}{i}", frames, f"bench{i}")
                times[way].append(time.perf_counter() - t)
    finally:
        store._Summed.write = real
        shutil.rmtree(tmp, ignore_errors=True)
    return times


# ---------------------------------------------------------------------------
# the parent


def ensure_demo(size: str) -> str:
    path = ROOT / "data" / f"bench-{size}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"creating the {size} demo firm in {path} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, "demo", "--size", size],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return url


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as it was at ``ref``, unpacked from git."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "prospects"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def widest_viewer(url: str) -> tuple[str, str, list[str]]:
    """A director whose perimeter holds the firm unit, the firm unit and the regions."""
    sys.path.insert(0, str(ROOT))
    from prospects.api import open_firm

    firm = open_firm(url, today=TODAY)
    units = firm.directory.units
    firm_id = str(units.index[units["kind"] == "firm"][0])
    regions = [str(u) for u in units.index[units["kind"] == "region"]]
    people = firm.directory.collaborators
    for login in people.loc[(people["function"] == "director") & people["can_validate_offers"] & people["active"], "login"]:
        if firm_id in firm.as_viewer(login).viewer.perimeter:
            return str(login), firm_id, regions
    raise SystemExit("no director with a firm-wide perimeter in this demo")


def run_worker(kind: str, env: dict, url: str, login: str, unit: str, regions: list[str], repeat: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", url, "--login", login, "--unit", unit,
           "--regions", ",".join(regions), "--repeat", str(repeat)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def processes_at_once(n: int, env: dict, url: str, login: str, unit: str, *, import_only: bool = False) -> dict:
    """``n`` viewers in ``n`` processes at the same time: each one's memory, read while all are alive."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--hold", "--db", url, "--login", login, "--unit", unit]
    if import_only:
        cmd.append("--import-only")
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=tempfile.gettempdir()) for _ in range(n)]
    try:
        ready = [json.loads(p.stdout.readline()) for p in procs]
        wall = time.perf_counter() - start
        mem = [proc_memory(p.pid) for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
        for p in procs:
            p.wait(timeout=120)
    return {
        "n": n,
        "wall": wall,
        "pss_sum": sum(m["pss"] for m in mem),
        "rss_anon_sum": sum(m["rss_anon"] for m in mem),
        "first_figures": [r.get("first_figures") for r in ready],
        "indicators": [r.get("indicators") for r in ready],
    }


def build_times(size: str, url: str, runs: int) -> dict:
    """Writing the SQLite database vs building the store, from the same frames; rebuild from the database."""
    sys.path.insert(0, str(ROOT))
    from prospects import db, demo, store
    from prospects.config import load_settings

    frames = demo.generate(size, 42, today=dt.date.fromisoformat(TODAY))
    tmp = Path(tempfile.mkdtemp(prefix="bench-build-", dir=ROOT / "data"))
    try:
        sqlite_write = []
        for i in range(1 if size == "large" else runs):
            engine = db.make_engine(f"sqlite:///{tmp / f'w{i}.db'}")
            t = time.perf_counter()
            db.replace_all(engine, frames)
            sqlite_write.append(time.perf_counter() - t)
            engine.dispose()
            (tmp / f"w{i}.db").unlink()
        build = []
        for i in range(runs):
            t = time.perf_counter()
            store.write_version(tmp / f"s{i}", frames, f"bench{i}")
            build.append(time.perf_counter() - t)
        size_mb = sum(p.stat().st_size for p in (tmp / "s0" / "v-bench0").iterdir()) / 1e6
        settings = load_settings(db=url, today=TODAY)
        t = time.perf_counter()
        store.rebuild(settings, db.make_engine(url))
        rebuild = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"sqlite_write": sqlite_write, "store_build": build, "rebuild_from_db": rebuild, "store_mb": size_mb}


def med(values) -> float:
    return statistics.median(values)


def spread(values, fmt="{:.2f}") -> str:
    values = list(values)
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(med(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--login", help=argparse.SUPPRESS)
    parser.add_argument("--unit", help=argparse.SUPPRESS)
    parser.add_argument("--regions", default="", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="filter changes: passes over the regions (default 3)")
    parser.add_argument("--sizes", nargs="+", default=["medium", "large"], choices=("small", "medium", "large"))
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per way (default 3)")
    parser.add_argument("--processes", type=int, default=8, help="viewers in processes at once (default 8)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git ref of the SQL way (default {BASELINE})")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--only", choices=("all", "checks"), default="all",
                        help="checks: only what the store's checks cost (its own section)")
    parser.add_argument("--checks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.checks:
            checks_worker(args)
        else:
            worker(args)
        return
    if args.only == "checks":
        load_before = loadavg()
        checks = {}
        for size in args.sizes:
            url = ensure_demo(size)
            login, unit, _ = widest_viewer(url)
            print(f"== {size}: the store's checks (load {loadavg()})", file=sys.stderr)
            checks[size] = store_checks(size, url, login, unit, args.runs)
        text = render_checks(checks, args, load_before, loadavg())
        print(text)
        if not args.no_write:
            write_section("figures.py-checks", text)
        return

    load_before = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    baseline_tree(args.baseline, tmp)
    env_store = {**os.environ, "PYTHONPATH": str(ROOT)}
    env_sql = {**os.environ, "PYTHONPATH": str(tmp)}
    results = {}
    try:
        for size in args.sizes:
            url = ensure_demo(size)
            login, unit, regions = widest_viewer(url)
            print(f"== {size}: {login} on {unit} (load {loadavg()})", file=sys.stderr)
            r: dict = {"login": login, "unit": unit}
            r["store"] = [run_worker("store", env_store, url, login, unit, regions, args.repeat) for _ in range(args.runs)]
            r["sql"] = [run_worker("sql", env_sql, url, login, unit, regions, args.repeat) for _ in range(args.runs)]
            assert "bench-baseline-" in r["sql"][0]["package"], r["sql"][0]["package"]
            r["same_figures"] = all(
                x["indicators"] == r["sql"][0]["indicators"] and x["previous"] == r["sql"][0]["previous"] for x in r["store"] + r["sql"]
            ) and r["store"][0]["drill_total"] == r["sql"][0]["drill_total"]
            print(f"   first figures: store {med([x['first_figures'] for x in r['store']]):.2f} s, "
                  f"sql {med([x['first_figures'] for x in r['sql']]):.2f} s; same figures: {r['same_figures']}", file=sys.stderr)
            n = args.processes
            r["store_alone"] = processes_at_once(1, env_store, url, login, unit)
            r["store_alone_import"] = processes_at_once(1, env_store, url, login, unit, import_only=True)
            r["store_many"] = processes_at_once(n, env_store, url, login, unit)
            r["store_many_import"] = processes_at_once(n, env_store, url, login, unit, import_only=True)
            available = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemAvailable"))) / 1024
            sql_added = med([x["added"]["pss"] for x in r["sql"]]) + 150
            n_sql = max(1, min(n, int(available * 0.7 / sql_added)))
            r["sql_alone"] = processes_at_once(1, env_sql, url, login, unit)
            r["sql_many"] = processes_at_once(n_sql, env_sql, url, login, unit)
            print(f"   {n} at once: store PSS {r['store_many']['pss_sum']:.0f} MB; sql ({n_sql}) {r['sql_many']['pss_sum']:.0f} MB", file=sys.stderr)
            r["build"] = build_times(size, url, args.runs)
            print(f"   build: sqlite {med(r['build']['sqlite_write']):.1f} s, store {med(r['build']['store_build']):.1f} s", file=sys.stderr)
            r["checks"] = store_checks(size, url, login, unit, args.runs)
            results[size] = r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = render(results, args, load_before, loadavg())
    checks_text = render_checks({size: r["checks"] for size, r in results.items()}, args, load_before, loadavg())
    print(text + "\n\n" + checks_text)
    if not args.no_write:
        write_section("figures.py", text)
        write_section("figures.py-checks", checks_text)
        json_path = ROOT / "docs" / "bench-figures.json"
        json_path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")


def render(results: dict, args: argparse.Namespace, load_before: str, load_after: str) -> str:
    import numpy
    import pandas
    import pyarrow

    lines = [
        "## Figures",
        "",
        f"`python bench/figures.py --sizes {' '.join(args.sizes)} --runs {args.runs} --processes {args.processes}` on "
        f"{dt.date.today().isoformat()}: {os.cpu_count()} cores, Python {platform.python_version()}, pandas "
        f"{pandas.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, SQLite; load average "
        f"{load_before} before and {load_after} after (the machine is shared: other work slows both ways alike). "
        f"Demo firms of `prospects demo --size …` (seed 42, today {TODAY}). Viewer: a director whose perimeter is the "
        "whole firm, through the public API, `open_firm(url).as_viewer(login).figures(unit=<firm>)`, each run in a "
        "fresh process with the package already imported.",
        "",
        f"**store**: the memory-mapped figure store (this version). **SQL**: the package before it (git `{args.baseline}`), "
        "which read the viewer's rows through SQLAlchemy into pandas — run in the same session from an unpacked copy. "
        "Medians of the runs, (min–max).",
        "",
        "| firm | way | first figures of the whole firm | private memory added (RssAnon) | PSS added | region filter change | N-1 switch | biggest drill-down by document / by deal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results.items():
        for way in ("store", "sql"):
            xs = r[way]
            lines.append(
                f"| {size} | {way} | {spread([x['first_figures'] for x in xs])} s | {med([x['added']['rss_anon'] for x in xs]):.0f} MB "
                f"| {med([x['added']['pss'] for x in xs]):.0f} MB | {med([x['filter_change'] for x in xs]) * 1000:.0f} ms "
                f"| {med([x['previous_switch'] for x in xs]) * 1000:.0f} ms "
                f"| {med([x['drill_doc'] for x in xs]):.2f} s / {med([x['drill_deal'] for x in xs]):.2f} s ({xs[0]['drill_rows']:,} rows) |"
            )
    lines += ["", "Figures, N-1 and the drill-down's total compared between the two ways: " + ", ".join(
        f"{size} **{'identical' if r['same_figures'] else 'DIFFERENT'}**" for size, r in results.items()) + ".", ""]
    lines += [
        f"**{args.processes} firm-wide viewers in {args.processes} processes at once** (each opens the firm and computes its "
        "figures, then holds them; memory read from `/proc/PID/smaps_rollup` while all are alive). *Whole processes*: the "
        "interpreter with pandas, numpy and the package is about 70 MB of private memory per process whatever the way; "
        "*viewers*: the same processes minus that (N processes that only imported the package and used pandas and Arrow "
        "once, measured the same way).",
        "",
        "| firm | way | processes | sum of PSS, whole processes | one alone | ratio | sum of PSS the viewers add | one alone | ratio | wall time until all show figures |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results.items():
        many, alone = r["store_many"], r["store_alone"]
        v_many = many["pss_sum"] - r["store_many_import"]["pss_sum"]
        v_alone = alone["pss_sum"] - r["store_alone_import"]["pss_sum"]
        lines.append(
            f"| {size} | store | {many['n']} | {many['pss_sum']:,.0f} MB | {alone['pss_sum']:,.0f} MB | {many['pss_sum'] / alone['pss_sum']:.1f}× "
            f"| {v_many:,.0f} MB | {v_alone:,.0f} MB | {v_many / v_alone:.1f}× | {many['wall']:.1f} s |"
        )
        sm, sa = r["sql_many"], r["sql_alone"]
        base = r["store_many_import"]["pss_sum"] / r["store_many_import"]["n"]
        lines.append(
            f"| {size} | SQL | {sm['n']} | {sm['pss_sum']:,.0f} MB | {sa['pss_sum']:,.0f} MB | {sm['pss_sum'] / sa['pss_sum']:.1f}× "
            f"| {sm['pss_sum'] - base * sm['n']:,.0f} MB | {sa['pss_sum'] - base:,.0f} MB | {(sm['pss_sum'] - base * sm['n']) / (sa['pss_sum'] - base):.1f}× | {sm['wall']:.1f} s |"
        )
    lines += [
        "",
        "**Building the store** from the frames a load has in memory (what `load`, `import` and `demo` do after their "
        "transaction commits) against writing the same frames to a new SQLite database (`db.replace_all`, one "
        "transaction); and `prospects store --rebuild` (one consistent read of the database, then the build).",
        "",
        "| firm | writing the SQLite database | building the store | ratio | rebuild from the database | store on disk |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results.items():
        b = r["build"]
        lines.append(
            f"| {size} | {spread(b['sqlite_write'], '{:.1f}')} s | {spread(b['store_build'], '{:.1f}')} s "
            f"| {med(b['store_build']) / med(b['sqlite_write']):.2f} | {b['rebuild_from_db']:.1f} s | {b['store_mb']:.0f} MB |"
        )
    targets = []
    if "large" in results:
        r = results["large"]
        s, q = r["store"], r["sql"]
        first, first_sql = med([x["first_figures"] for x in s]), med([x["first_figures"] for x in q])
        v_many = r["store_many"]["pss_sum"] - r["store_many_import"]["pss_sum"]
        v_alone = r["store_alone"]["pss_sum"] - r["store_alone_import"]["pss_sum"]
        build = med(r["build"]["store_build"]) / med(r["build"]["sqlite_write"])
        targets = [
            "",
            "Targets of the scale issue, on the large firm:",
            "",
            f"- first figures of the whole firm ≤ 1 s and ≥ 20× faster: **{first:.2f} s**, {first_sql / first:.0f}× faster than SQL ({first_sql:.1f} s);",
            f"- private memory the viewer adds ≤ 150 MB: **{med([x['added']['rss_anon'] for x in s]):.0f} MB** (SQL: {med([x['added']['rss_anon'] for x in q]):,.0f} MB);",
            f"- a filter change no slower than before: **{med([x['filter_change'] for x in s]) * 1000:.0f} ms** (SQL way: {med([x['filter_change'] for x in q]) * 1000:.0f} ms);",
            f"- the biggest drill-down ≤ 0.5 s: **{med([x['drill_doc'] for x in s]):.2f} s** by document, {med([x['drill_deal'] for x in s]):.2f} s by deal;",
            f"- building the store ≤ half the time of writing the SQLite database: **{build:.2f}** of it;",
            f"- {args.processes} processes at once, sum of PSS ≤ 2× one: what the viewers add **{v_many / v_alone:.1f}×** "
            f"({v_many:.0f} MB for {args.processes}, {v_alone:.0f} MB for one); whole processes "
            f"{r['store_many']['pss_sum'] / r['store_alone']['pss_sum']:.1f}× (the interpreter's own ~70 MB is private to each process).",
        ]
    lines += targets
    lines += [
        "",
        "Reading: the SQL way read and parsed the viewer's rows into pandas objects in every process (names and "
        "titles as Python strings); the store maps one file that every process shares through the page cache, and a "
        "viewer holds only a start position (a unit's deals are one range) or, for a narrow perimeter, the positions "
        "of its rows. The pages of the store a process touches count in its PSS as shared file pages, split between the "
        "processes that map them.",
    ]
    return "\n".join(lines)


def render_checks(results: dict, args: argparse.Namespace, load_before: str, load_after: str) -> str:
    lines = [
        "## Figure store: what is checked",
        "",
        f"`python bench/figures.py --only checks --sizes {' '.join(args.sizes)} --runs {args.runs}` (or the whole bench) on "
        f"{dt.date.today().isoformat()}: {os.cpu_count()} cores, load average {load_before} before and {load_after} after "
        "(the machine is shared). Each measure in a fresh process with the package imported, the store's pages in the "
        "page cache (as for every opening but the first after a load); medians, (min–max); for the openings and the "
        "first figures, the process's own CPU time too (what a quiet machine's wall time comes close to).",
        "",
        "**At every opening** (`store.open_version`): meta.json read bounded, its seal (sha256 of the manifest), its "
        "stamp that of the folder and of the database, its format; each file's size and identity (inode, mtime, ctime) "
        "as written — its bytes against its sha256 only when the identity changed; each file's columns and types, row "
        "count, Arrow's validation of lengths and buffers (`Table.validate()`), full for the directory tables and for "
        "the dictionary columns (indices within their dictionary). *Without the checks*: the same opening with meta.json "
        "read as is and the files only mapped (what an opening did before them), in the same run.",
        "",
        "**Not at every opening, by `prospects store --check`**: every file's sha256 (all its bytes read) and Arrow's "
        "full validation of every column (offsets, UTF-8 of every name and title), and the row counts against the "
        "database. A file changed in place, truncated, copied or replaced has another identity: the opening then reads "
        "it whole against its sha256, so no change made through the file system is mapped unchecked.",
        "",
        "| firm | store on disk | opening without the checks: wall / CPU | opening with them: wall / CPU | the checks' cost "
        "(CPU) | first firm-wide figures with them: wall / CPU | every file's sha256 | Arrow's full validation "
        "| `prospects store --check` | building a version: without / with checksums |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, c in results.items():
        unchecked = [x["open"] * 1000 for x in c["unchecked"]]
        checked = [x["open"] * 1000 for x in c["checked"]]
        unchecked_cpu = [x["open_cpu"] * 1000 for x in c["unchecked"]]
        checked_cpu = [x["open_cpu"] * 1000 for x in c["checked"]]
        lines.append(
            f"| {size} | {c['full'][0]['bytes'] / 1e6:,.0f} MB | {spread(unchecked, '{:.0f}')} / {med(unchecked_cpu):.0f} ms "
            f"| {spread(checked, '{:.0f}')} / {med(checked_cpu):.0f} ms | {med(checked_cpu) - med(unchecked_cpu):.0f} ms "
            f"| {spread([x['first_figures'] for x in c['figures']])} / {med([x['first_figures_cpu'] for x in c['figures']]):.2f} s "
            f"| {spread([x['sha256'] for x in c['full']])} s "
            f"| {spread([x['full_validation'] for x in c['full']])} s | {spread(c['check_command'], '{:.1f}')} s "
            f"| {spread(c['build']['without'], '{:.1f}')} s / {spread(c['build']['with'], '{:.1f}')} s |"
        )
    if "large" in results:
        c = results["large"]
        first = med([x["first_figures"] for x in c["figures"]])
        first_cpu = med([x["first_figures_cpu"] for x in c["figures"]])
        full = med([x["sha256"] for x in c["full"]]) + med([x["full_validation"] for x in c["full"]])
        lines += [
            "",
            f"Target on the large firm: first firm-wide figures ≤ 0.2 s with the checks: **{first:.2f} s** wall at this "
            f"load average, **{first_cpu:.2f} s** of the process's CPU. Summing and "
            f"fully validating every file at each opening would add **{full:.2f} s**: that is `prospects store --check`'s "
            "work (run it from monitoring, after a load or a restore), not every opening's.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
