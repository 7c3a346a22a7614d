"""The nightly import: the newest complete export of a drop folder
(``prospects import --from-folder DIR``, docs/import.md "Fresh data every morning").

A CRM drops its export into a folder at night: a file (``opportunities_2026-12-03.csv``, a
workbook) or a folder of files (one per source, named as the mapping names them). Each run
imports the newest *complete* export and moves it to ``DIR/imported/``; older complete
exports it leaves behind go to ``DIR/skipped/`` (an import replaces the whole content: an
older export would only bring older figures back), an export that cannot be imported to
``DIR/failed/``; each of the three keeps its last ``keep`` exports. A run that finds
nothing new does nothing and says so in one line (exit 0).

A file still being written is never read:

* by default an export is complete once nothing in it has changed for ``settle`` seconds
  (its files' modification times), and its files' sizes and times are taken again after
  they were read and before anything is loaded: an export that changed meanwhile is not
  loaded (it stays in the folder for the next run);
* with ``done_marker``, an export is complete only once a marker ``NAME.done`` stands
  beside it (the CRM writes it after the export), whatever its age.

Runs on one folder take turns (a lock file in it): a second run at the same time says so
and does nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..locking import only_run
from .command import ImportFailed, SourceChanged, import_command
from .report import check_report, summary
from .spec import EXCEL_SUFFIXES

if TYPE_CHECKING:
    from ..config import Settings

#: Subfolders of the drop folder: what was imported, left behind, or could not be imported.
IMPORTED, SKIPPED, FAILED = "imported", "skipped", "failed"
MARKER = ".done"
LOCK = ".prospects-import.lock"
#: Names a file has while a program still writes it (never an export).
PARTIAL = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", "~")
DEFAULT_SETTLE = 120.0
DEFAULT_KEEP = 7
EXPORT_SUFFIXES = (".csv", ".txt", ".tsv", *EXCEL_SUFFIXES)


@dataclass(frozen=True)
class Export:
    """One export of the drop folder: a file, or a folder of files."""

    path: Path
    files: tuple[Path, ...]
    mtime: float  # the newest modification of its files (and of the folder itself)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def marker(self) -> Path:
        return self.path.with_name(self.path.name + MARKER)

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """Each file's name, size and modification time (ns): what changes while it is written."""
        out = []
        for f in self.files:
            st = f.stat()
            out.append((f.name, st.st_size, st.st_mtime_ns))
        return tuple(out)


def _is_export_file(p: Path) -> bool:
    name = p.name
    return (not name.startswith((".", "~$")) and not name.lower().endswith((*PARTIAL, MARKER))
            and p.suffix.lower() in EXPORT_SUFFIXES and p.is_file())


def exports(folder: Path) -> list[Export]:
    """The exports of a drop folder, oldest first (by newest modification, then name)."""
    found = []
    for p in folder.iterdir():
        if p.name in (IMPORTED, SKIPPED, FAILED) or p.name.startswith("."):
            continue
        if p.is_dir():
            files = tuple(sorted(f for f in p.iterdir() if _is_export_file(f)))
            if not files:
                continue
            mtime = max([p.stat().st_mtime, *(f.stat().st_mtime for f in files)])
            found.append(Export(p, files, mtime))
        elif _is_export_file(p):
            found.append(Export(p, (p,), p.stat().st_mtime))
    return sorted(found, key=lambda e: (e.mtime, e.name))


def still_written(export: Export, now: float, settle: float, done_marker: bool) -> str | None:
    """Why an export is not complete yet, or None when it is."""
    if done_marker:
        return None if export.marker.is_file() else f"no marker {export.marker.name} yet"
    age = now - export.mtime
    if age < settle:
        return f"modified {age:.0f} s ago; complete once unchanged for {settle:.0f} s"
    return None


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def _archive(export: Export, folder: Path, where: str, keep: int) -> Path:
    """Move an export (and its marker) into ``folder/where``, keeping the last ``keep`` there."""
    target_dir = folder / where
    target_dir.mkdir(exist_ok=True)
    target = target_dir / export.name
    if target.exists():  # the same name imported before: keep both
        target = target_dir / f"{export.path.stem}.{int(time.time())}{export.path.suffix}"
    shutil.move(str(export.path), str(target))
    if export.marker.exists():
        shutil.move(str(export.marker), str(target_dir / (target.name + MARKER)))
    kept = sorted((p for p in target_dir.iterdir() if not p.name.endswith(MARKER)), key=lambda p: (p.stat().st_mtime, p.name))
    for old in kept[: max(0, len(kept) - keep)]:
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
        old.with_name(old.name + MARKER).unlink(missing_ok=True)
    return target


def _last_imported(folder: Path) -> str:
    done = folder / IMPORTED
    if not done.is_dir():
        return "nothing imported from it yet"
    kept = sorted((p for p in done.iterdir() if not p.name.endswith(MARKER)), key=lambda p: p.stat().st_mtime)
    return f"last imported: {kept[-1].name}" if kept else "nothing imported from it yet"


def run_from_folder(
    settings: Settings,
    mapping: str | Path,
    folder: str | Path,
    *,
    check: bool = False,
    rejects: str | Path | None = None,
    export_date: str | None = None,
    allow_shrink: bool = False,
    keep: int = DEFAULT_KEEP,
    settle: float = DEFAULT_SETTLE,
    done_marker: bool = False,
) -> int:
    """``prospects import --from-folder DIR``: import the newest complete export of DIR.

    Exit 0 when nothing new arrived (one line) or the export was imported whole, 1 when
    rows were rejected (the rest loaded), 2 when the export (moved to ``failed/``), the
    mapping or the database could not be used. ``check``: a dry run of that export
    (nothing loaded, nothing moved).
    """
    folder = Path(folder)
    if not folder.is_dir():
        print(f"prospects: --from-folder {folder}: not a folder", file=sys.stderr)
        return 2
    if keep < 1:
        print("prospects: --keep must be at least 1", file=sys.stderr)
        return 2
    with only_run(folder / LOCK) as mine:
        if not mine:
            print(f"prospects import: another import from {folder} is under way; nothing done")
            return 0
        now = time.time()
        found = exports(folder)
        waiting = {e.path: still_written(e, now, settle, done_marker) for e in found}
        ready = [e for e in found if waiting[e.path] is None]
        pending = [e for e in found if waiting[e.path] is not None]
        later = "; still being written: " + ", ".join(f"{e.name} ({waiting[e.path]})" for e in pending) if pending else ""
        if not ready:
            print(f"prospects import: nothing new in {folder} ({_last_imported(folder)}){later}")
            return 0
        chosen, older = ready[-1], ready[:-1]
        print(f"prospects import: {chosen.name} from {folder} (modified {_stamp(chosen.mtime)}){later}")
        before = chosen.signature()

        def unchanged() -> None:
            if chosen.signature() != before:
                raise SourceChanged(f"{chosen.path} changed while it was read: it is still being written; the next run takes it")

        try:
            result = import_command(settings, mapping, [str(f) for f in chosen.files], check=check, rejects=rejects,
                                    export_date=export_date, allow_shrink=allow_shrink, before_load=unchanged)
        except ImportFailed as exc:
            print(exc.line, file=sys.stderr)
            if exc.stage == "changing":
                return 0
            if exc.stage == "export" and not check:
                moved = _archive(chosen, folder, FAILED, keep)
                print(f"prospects import: {chosen.name} moved to {moved.parent} (fix it, or move it back to retry)", file=sys.stderr)
            return 2
        print(check_report(result) if check else summary(result, settings.db_url))
        if check:
            return result.exit_code
        moved = _archive(chosen, folder, IMPORTED, keep)
        print(f"prospects import: {chosen.name} moved to {moved.parent} (the last {keep} kept)")
        for e in older:
            _archive(e, folder, SKIPPED, keep)
            print(f"prospects import: {e.name} is older than {chosen.name}: not imported, moved to {folder / SKIPPED}")
        return result.exit_code
