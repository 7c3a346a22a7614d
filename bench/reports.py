"""Time ``prospects report`` on the medium demo firm: one report, then every region with 1 and 2 jobs.

    python bench/reports.py                      # builds the medium demo in a temp folder
    python bench/reports.py --db sqlite:///data/bench-medium.db --runs 2

Each measure is the wall time of the whole command in a fresh process (start-up, planning,
papermill kernels, HTML export, Chromium, index), as a user would see it. With
``--large-db`` (a ``prospects demo --size large`` database) it also times one region's
report for that firm's director. Writes the "Reports" section of docs/performance.md
(unless ``--no-write``).

    python bench/reports.py --runs 3 --large-db sqlite:///data/bench-large.db
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docs_section import write_section

TODAY = "2026-11-29"
#: A unit's summary line ends with "(4.1 s: notebook 2.9, html 0.2, pdf 1.0)".
UNIT_LINE = re.compile(r"\((\d+\.\d+) s: notebook (\d+\.\d+), html (\d+\.\d+)(?:, pdf (\d+\.\d+))?\)")


def prospects(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prospects.cli", *args], capture_output=True, text=True, check=check)


def timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = prospects(*args, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): prospects {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: a fresh medium demo in a temp folder)")
    parser.add_argument("--login", help="viewer (default: the demo's firm-level director)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each measure (median shown)")
    parser.add_argument("--large-db", help="a large demo database: also time one region's report for its director")
    parser.add_argument("--no-write", action="store_true", help="print only, do not touch docs/performance.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'medium.db'}"
        if not args.db:
            t0 = time.perf_counter()
            prospects("--db", url, "--today", TODAY, "demo", "--size", "medium", "--seed", "42")
            print(f"medium demo built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        from prospects.api import open_firm

        login = args.login or director_of(url)
        firm = open_firm(url, today=TODAY)
        view = firm.as_viewer(login)
        regions = view.filter_options()["units"].query("kind == 'region'")["id"].tolist()
        counts = {k: len(v) for k, v in firm.directory.units.groupby("kind").groups.items()}
        print(f"viewer {login}: {len(regions)} regions; units {counts}", file=sys.stderr)

        cases = [
            ("one report (1 region), HTML only", ["--unit", regions[0], "--format", "html", "--jobs", "1"]),
            ("one report (1 region), HTML + PDF", ["--unit", regions[0], "--format", "html,pdf", "--jobs", "1"]),
            (f"all {len(regions)} regions, HTML + PDF, --jobs 1", ["--format", "html,pdf", "--jobs", "1"]),
            (f"all {len(regions)} regions, HTML + PDF, --jobs 2", ["--format", "html,pdf", "--jobs", "2"]),
        ]
        rows = []
        for label, extra in cases:
            times, per_unit = [], []
            for run in range(args.runs):
                outdir = Path(tmp) / f"out-{len(rows)}-{run}"
                seconds, stdout = timed(["--db", url, "--today", TODAY, "report", "--as", login, "--out", str(outdir), *extra])
                times.append(seconds)
                per_unit += UNIT_LINE.findall(stdout)
            rows.append((label, statistics.median(times), per_unit, times))
            print(f"{label}: {', '.join(f'{t:.1f}' for t in times)} s", file=sys.stderr)

        sizes = sorted(p.stat().st_size for p in (Path(tmp) / "out-2-0").rglob("*.pdf"))
        html_sizes = sorted(p.stat().st_size for p in (Path(tmp) / "out-2-0").rglob("*-*.html"))
        large = time_large(args, Path(tmp)) if args.large_db else None

    text = render(args, login, regions, rows, sizes, html_sizes, large, load_before, os.getloadavg()[0])
    print(text)
    if not args.no_write:
        write_section("reports.py", text)


def director_of(url: str) -> str:
    """The demo's firm-level director who belongs to a group (as `prospects demo` suggests)."""
    from prospects.api import open_firm

    firm = open_firm(url, today=TODAY)
    people = firm.directory.collaborators
    units = firm.directory.units
    directors = people[(people["function"] == "director") & people["can_validate_offers"] & people["active"]
                       & (people["unit_id"].map(units["kind"]) == "firm")]
    members = set(firm.directory.group_members["collaborator_id"])
    return next(str(r["login"]) for _, r in directors.iterrows() if r["id"] in members)


def time_large(args: argparse.Namespace, tmp: Path) -> dict:
    """One region's HTML + PDF report for the large firm's director, ``--runs`` times."""
    login = director_of(args.large_db)
    region = "R-IDF"
    times, per_unit = [], []
    for run in range(args.runs):
        seconds, stdout = timed(["--db", args.large_db, "--today", TODAY, "report", "--as", login, "--unit", region,
                                 "--format", "html,pdf", "--jobs", "1", "--out", str(tmp / f"large-{run}")])
        times.append(seconds)
        per_unit += UNIT_LINE.findall(stdout)
        print(f"large {region}: {seconds:.1f} s", file=sys.stderr)
    return {"login": login, "region": region, "times": times, "units": per_unit}


def unit_parts(units: list) -> tuple[float, str]:
    med = [statistics.median(float(u[i]) for u in units if u[i]) if any(u[i] for u in units) else None for i in range(4)]
    return med[0], " / ".join("–" if m is None else f"{m:.1f}" for m in med[1:])


def span(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} s" + (f" ({min(times):.1f}–{max(times):.1f})" if len(times) > 1 else "")


def render(args, login, regions, rows, sizes, html_sizes, large, load_before: float, load_after: float) -> str:
    import datetime as dt

    cpu = platform.processor() or platform.machine()
    out = [
        "## Reports",
        "",
        f"`python bench/reports.py --runs {args.runs}" + (" --large-db …" if large else "") + f"` on "
        f"{dt.date.today().isoformat()}: the medium demo (`prospects demo --size medium --seed 42 --today {TODAY}`: "
        f"{len(regions)} regions, about 50,000 documents) in a temporary SQLite file, then "
        f"`prospects report --as {login}` (the firm-level director, whose perimeter is the whole firm) in a fresh "
        "process each time: one region, then every region with `--jobs 1` and `--jobs 2`. The wall time is the "
        "whole command as a user sees it (start-up, refusal checks, one papermill kernel per unit reading the "
        "figure store as the viewer, HTML export, Chromium, index). "
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}; load average {load_before:.1f} before "
        f"and {load_after:.1f} after. Median of {args.runs} run(s), (min–max).",
        "",
        "| measure | wall time of the command | per unit, median: total (notebook / HTML export / PDF) |",
        "| --- | --- | --- |",
    ]
    for label, _wall, units, times in rows:
        total, parts = unit_parts(units)
        out.append(f"| {label} | {span(times)} | {total:.1f} s ({parts}) |")
    if large:
        total, parts = unit_parts(large["units"])
        out.append(f"| large firm (1 million documents), `--as {large['login']} --unit {large['region']}`, HTML + PDF "
                   f"| {span(large['times'])} | {total:.1f} s ({parts}) |")
    if sizes:
        out += ["", f"Files: HTML {html_sizes[0] // 1024}–{html_sizes[-1] // 1024} KB, PDF "
                    f"{sizes[0] // 1024}–{sizes[-1] // 1024} KB per report."]
    out += [
        "",
        "Where a unit's time goes: the notebook step is a fresh kernel per unit (about 1 s to start), its imports "
        "(pandas, matplotlib, the package) and the figures, N-1 and drill-downs of the unit as the viewer, read "
        "from the memory-mapped figure store; Chromium prints a PDF in about a second. A single report costs "
        "about 3 s more than its unit: the command's own start-up and the refusal checks. Going beyond the "
        "number of cores with `--jobs` gains nothing.",
        "",
        "Before the figure store (2026-11-29, the rows read through SQL): the large firm's region report for the "
        "same director took 26.5 s when every deal the director may see was read, then 10.8 s reading only "
        "the deals under the unit (notebook 6.6 s); the medium firm's six regions 24.9 s with `--jobs 1`, "
        "17.1 s with `--jobs 2`.",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
