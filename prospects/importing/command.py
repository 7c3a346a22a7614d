"""Loading a prepared import, and the ``prospects import`` command: exit 0 nothing
rejected, 1 rows rejected (the rest is loaded; with ``--check``: would be), 2 unusable
(nothing loaded), with one line on stderr saying what and where."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import db, files, store
from ..i18n import message_line
from ..loading import UnusableExtract, update_rejects_file
from ..schema import TABLE_ORDER
from .mapping import read_mapping
from .report import check_report, summary
from .result import SOURCE_REJECT_COLUMNS, ImportResult, default_rejects_path, prepare

if TYPE_CHECKING:
    from ..config import Settings

#: The progress bar shows once an import has run this long (seconds).
PROGRESS_DELAY = 2.0


def import_into(engine: Any, result: ImportResult, rejects_path: Path | None = None, *, settings: Settings | None = None,
                allow_shrink: bool = False) -> ImportResult:
    """Load a prepared import atomically (the database keeps its previous content on failure),
    publish its figure store, and write the rejections (a stale file is removed when nothing
    is rejected). An import that would remove more than half of a table's rows raises
    :class:`prospects.db.ShrinkRefused` (nothing changed) unless ``allow_shrink``."""
    start = time.monotonic()
    m = result.built.mapping
    counts = result.validated.counts
    info = {
        "source": f"import {m.path.resolve()}",
        "sources": "; ".join(src.label for src in result.built.sources.values()),
        "rows_read": str(sum(c.read for c in counts.values())),
        "rows_loaded": str(sum(c.loaded for c in counts.values())),
        "rows_rejected": str(result.validated.rejected),
    }
    if m.export_date is not None:  # the extract's date the dashboard, reports and mails show (prospects.freshness)
        info["export_date"] = m.export_date.isoformat()
    _, store_note = store.replace_content(engine, result.validated.frames, info, settings=settings, allow_shrink=allow_shrink)
    path = Path(rejects_path) if rejects_path is not None else default_rejects_path(m.path)
    written, rejects_note = update_rejects_file(result.rejects, path, SOURCE_REJECT_COLUMNS)
    notes = [*result.notes, *(n for n in (store_note, rejects_note) if n)]
    result.rejects_path = written
    result.notes = tuple(notes)
    result.seconds += time.monotonic() - start
    return result


def import_crm(
    url_or_engine: Any,
    mapping: str | Path,
    files: Sequence[str | Path] | Mapping[str, Path] = (),
    *,
    rejects: str | Path | None = None,
    export_date: str | dt.date | None = None,
    max_bytes: int | None = None,
    settings: Settings | None = None,
    allow_shrink: bool = False,
) -> ImportResult:
    """Map, validate and load CRM exports into a database (URL or engine), then its figure store."""
    engine = db.make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    caps = settings.function_caps if settings is not None else None
    result = prepare(mapping, files, export_date=export_date, max_bytes=max_bytes, function_caps=caps,
                     currency=settings.currency if settings is not None else "EUR")
    return import_into(engine, result, Path(rejects) if rejects else None, settings=settings, allow_shrink=allow_shrink)


@contextlib.contextmanager
def progress_bar(steps: int) -> Iterator[Callable[[str], None]]:
    """A tqdm bar on stderr, one step per stage, shown once the import has run
    :data:`PROGRESS_DELAY` seconds on a terminal; ``PROSPECTS_PROGRESS=1`` shows it at
    once (also off a terminal), ``PROSPECTS_PROGRESS=0`` never."""
    from tqdm import tqdm

    setting = os.environ.get("PROSPECTS_PROGRESS", "").strip().lower()
    forced = setting in ("1", "true", "yes")
    on = forced or (setting not in ("0", "false", "no") and sys.stderr.isatty())
    bar = tqdm(total=steps, desc="import", unit="step", file=sys.stderr, disable=not on, leave=False,
               delay=0 if forced else PROGRESS_DELAY, mininterval=0 if forced else 0.1, dynamic_ncols=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]{postfix}")

    def step(message: str) -> None:
        bar.set_postfix_str(message, refresh=False)
        bar.update(1)

    try:
        yield step
    finally:
        bar.close()


class ImportFailed(Exception):
    """Nothing was loaded; ``line`` says what and where (one line), ``stage`` whose fault it is:
    ``"mapping"`` (the mapping file), ``"export"`` (a source file or its content, a
    refused shrink), ``"changing"`` (a source changed while it was read: still being
    written), ``"database"`` (the database refused or cannot be reached)."""

    def __init__(self, line: str, stage: str):
        super().__init__(line)
        self.line = line
        self.stage = stage


class SourceChanged(UnusableExtract):
    """A source file changed while it was read (``before_load`` of :func:`import_command`)."""


def import_command(
    settings: Settings,
    mapping: str | Path,
    sources: Sequence[str | Path] = (),
    *,
    check: bool = False,
    rejects: str | Path | None = None,
    export_date: str | None = None,
    allow_shrink: bool = False,
    before_load: Callable[[], None] | None = None,
) -> ImportResult:
    """Read the mapping, map and validate the sources, then (unless ``check``) call
    ``before_load`` — which may raise :class:`SourceChanged` — and load; raises
    :class:`ImportFailed` when nothing is loaded."""
    import sqlalchemy as sa

    what = "unusable import" if check else "unusable import, nothing loaded"
    stage = "mapping"
    try:
        m = read_mapping(mapping, export_date=export_date, today=settings.today, currency=settings.currency)
        stage = "export"
        # reading each source, mapping, checking each table, loading, writing the rejections
        with progress_bar(len(m.sources) + 1 + len(TABLE_ORDER) + (0 if check else 2)) as step:
            result = prepare(m, sources, max_bytes=settings.import_max_bytes, progress=step, function_caps=settings.function_caps)
            if not check:
                if before_load is not None:
                    before_load()
                step("loading")
                import_into(db.make_engine(settings.db_url), result, Path(rejects) if rejects else None, settings=settings,
                            allow_shrink=allow_shrink)
                step("done")
    except SourceChanged as exc:
        raise ImportFailed(f"prospects: nothing loaded: {exc}", "changing") from None
    except UnusableExtract as exc:
        raise ImportFailed(f"prospects: {what}: {message_line(exc)}", stage) from None
    except RecursionError:
        raise ImportFailed(f"prospects: {what}: {mapping}: the mapping nests too deeply", "mapping") from None
    except MemoryError:
        raise ImportFailed(f"prospects: {what}: not enough memory for these sources (lower the setting import_max_mb to refuse such files early)", "export") from None
    except db.ShrinkRefused as exc:
        raise ImportFailed(f"prospects: {exc}", "export") from None
    except sa.exc.SQLAlchemyError as exc:
        raise ImportFailed(f"prospects: the database refused the import, nothing loaded: {db.one_line(exc)}", "database") from None
    return result


def run_import_command(
    settings: Settings,
    mapping: str | Path,
    sources: Sequence[str | Path] = (),
    *,
    check: bool = False,
    rejects: str | Path | None = None,
    export_date: str | None = None,
    allow_shrink: bool = False,
) -> int:
    """``prospects import``: exit 0 nothing rejected, 1 rows rejected, 2 unusable."""
    problem = files.option_target_problem("--rejects", rejects) if rejects is not None else None
    if problem is not None:
        print(f"prospects: {message_line(problem)}", file=sys.stderr)
        return 2
    try:
        result = import_command(settings, mapping, sources, check=check, rejects=rejects, export_date=export_date,
                                allow_shrink=allow_shrink)
    except ImportFailed as exc:
        print(exc.line, file=sys.stderr)
        return 2
    print(check_report(result) if check else summary(result, settings.db_url))
    return result.exit_code
