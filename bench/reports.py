"""Time ``prospects report`` on the medium demo firm: one report, then every region with 1 and 2 jobs.

    python bench/reports.py                      # builds the medium demo in a temp folder
    python bench/reports.py --db sqlite:///data/bench-medium.db --runs 2

Each measure is the wall time of the whole command in a fresh process (start-up, planning,
papermill kernels, HTML export, Chromium, index), as a user would see it. Prints a
Markdown table for the "Reports" section of docs/performance.md.
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'medium.db'}"
        if not args.db:
            t0 = time.perf_counter()
            prospects("--db", url, "--today", TODAY, "demo", "--size", "medium", "--seed", "42")
            print(f"medium demo built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        from prospects.api import open_firm

        login = args.login
        if login is None:  # the firm-level director in a group, as `prospects demo` suggests
            firm = open_firm(url, today=TODAY)
            people = firm.directory.collaborators
            units = firm.directory.units
            directors = people[(people["function"] == "director") & people["can_validate_offers"] & people["active"]
                               & (people["unit_id"].map(units["kind"]) == "firm")]
            members = set(firm.directory.group_members["collaborator_id"])
            login = next(str(r["login"]) for _, r in directors.iterrows() if r["id"] in members)
        view = open_firm(url, today=TODAY).as_viewer(login)
        regions = view.filter_options()["units"].query("kind == 'region'")["id"].tolist()
        counts = {k: len(v) for k, v in view.firm.directory.units.groupby("kind").groups.items()}
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

    cpu = platform.processor() or platform.machine()
    print(f"\nMachine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}; viewer `{login}`; "
          f"today {TODAY}; {args.runs} run(s) each, median.\n")
    print("| measure | wall time of the command | per unit, median: total (notebook / HTML export / PDF) |")
    print("| --- | --- | --- |")
    for label, wall, units, _times in rows:
        med = [statistics.median(float(u[i]) for u in units if u[i]) if any(u[i] for u in units) else None for i in range(4)]
        parts = " / ".join("–" if m is None else f"{m:.1f}" for m in med[1:])
        print(f"| {label} | {wall:.1f} s | {med[0]:.1f} s ({parts}) |")
    if sizes:
        print(f"\nFiles: HTML {html_sizes[0] // 1024}–{html_sizes[-1] // 1024} KB, PDF {sizes[0] // 1024}–{sizes[-1] // 1024} KB per report.")


if __name__ == "__main__":
    main()
