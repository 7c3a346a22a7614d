"""The figure store: the firm's rows as memory-mapped columns, one snapshot per extract.

What the figures and the drill-downs need is written once per extract — by ``load``,
``import`` and ``demo`` right after their transaction commits, or by ``prospects
store`` — as Arrow IPC files that every process maps read-only: the pages are the
operating system's page cache, shared by every kernel, report and command that opens
the firm, and nothing is parsed or copied when a viewer opens the dashboard.

Layout of a store folder (beside a SQLite file: ``<file>.store/``; for PostgreSQL in
the ``store_folder`` setting, default ``<project>/data/store/<database>-<hash>/``)::

    CURRENT          the version readers open (written beside, then renamed)
    .lock            held while a version is built (other builders wait)
    v-<stamp>/       one complete version (written in tmp-…/, then renamed)
        meta.json    format, stamp, counts, build time, the extract's origin
        deals.arrow, documents.arrow, lines.arrow
        org_units.arrow, entities.arrow, collaborators.arrow, groups.arrow,
        group_units.arrow, group_members.arrow

``<stamp>`` is the version stamp that every load writes in the database
(``extract_info.version``): a store whose stamp differs from the database's is never
opened (:func:`open_snapshot` rebuilds it, or waits for the rebuild another process
started). A crash while building leaves the previous version or none, never a torn one.

What the files hold (prospect deals only: client deals never count):

* numbers as fixed-width columns: directory codes as ``int32`` (a unit's code is its
  depth-first position, so a subtree is a code range; -1 for null), dates as day
  numbers since 1970-01-01 (``int32``; :data:`NEVER` for null), fees in integer cents
  (``int64``), statuses as ``int8``; derived columns the figures use (conversion day,
  months, days to decide, each document's fees by billing) computed once here;
* deals sorted by unit code (a unit's deals are one range), documents by deal, lines
  by document, with ``[start, end)`` offsets from each to the next; each deal's and
  document's ``id_rank`` (its id's rank in sorted order) so that drill-downs sort by id
  without comparing strings;
* text as Arrow strings, never Python objects until a drill-down materialises its own
  rows: repetitive columns (document types, templates, missions, abandon reasons)
  dictionary-encoded, the others (ids, names, titles) plain UTF-8.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from .config import Settings
from .schema import TABLES
from .scoping import Directory, build_directory

FORMAT = 1
NEVER = np.iinfo(np.int32).max  # day number of a date that is null ("never happened")
DOC_STATUS = {"in_progress": 0, "signed": 1, "refused": 2, "cancelled": 3}
DOC_STATUS_NAMES = np.array(list(DOC_STATUS), dtype=object)
DEAL_STATUS = {"open": 0, "abandoned": 1}
BILLING = {"recurring": 0, "one_off": 1}
BILLING_NAMES = np.array(list(BILLING), dtype=object)
DIRECTORY_TABLES = ("org_units", "entities", "collaborators", "groups", "group_units", "group_members")
_EPOCH = np.datetime64("1970-01-01", "D")
_INT64_MAX = np.iinfo(np.int64).max

Progress = Callable[[str], None]


class StoreError(RuntimeError):
    """The figure store cannot be built or opened (one line saying what and where)."""


# ---------------------------------------------------------------------------
# days and months


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return int((np.datetime64(day, "D") - _EPOCH).astype(np.int64))


def day_numbers(series: pd.Series, null: int = NEVER) -> np.ndarray:
    """Day numbers (``int32``) of a date column; ``null`` where the date is missing."""
    values = series.to_numpy(dtype="datetime64[D]")
    out = (values - _EPOCH).astype(np.int64)
    out[np.isnat(values)] = null
    return out.astype(np.int32)


def month_ordinal(days: np.ndarray) -> np.ndarray:
    """Month ordinal (year * 12 + month - 1) of day numbers; NEVER stays NEVER."""
    safe = np.where(days == NEVER, 0, days)
    months = (_EPOCH + safe.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return np.where(days == NEVER, NEVER, months).astype(np.int32)


def dates_of(days: np.ndarray) -> np.ndarray:
    """``datetime64[s]`` of day numbers (NaT for NEVER)."""
    safe = np.where(days == NEVER, 0, days).astype("timedelta64[D]")
    out = (_EPOCH + safe).astype("datetime64[s]")
    out[days == NEVER] = np.datetime64("NaT")
    return out


# ---------------------------------------------------------------------------
# where the store lives


def store_folder(settings: Settings) -> Path:
    """The store folder of the settings' database (see the module docstring)."""
    try:
        url = sa.engine.make_url(settings.db_url)
    except sa.exc.ArgumentError:
        raise StoreError(f"{settings.db_url!r} is not a database URL") from None
    if url.get_backend_name() == "sqlite":
        from .db import sqlite_path

        path = sqlite_path(url)  # a plain path or a URI filename (file:PATH?mode=ro&uri=true)
        if path is None:
            raise StoreError("an in-memory SQLite database has no figure store: use a database file (sqlite:///path/prospects.db)")
        return path.absolute().with_name(path.name + ".store")
    base = settings.store_folder or settings.project_dir / "data" / "store"
    plain = url.render_as_string(hide_password=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{url.get_backend_name()}-{url.host or 'local'}-{url.port or ''}-{url.database or ''}")
    return Path(base) / f"{name.strip('-')}-{hashlib.sha256(plain.encode()).hexdigest()[:10]}"


# ---------------------------------------------------------------------------
# building


def _positions(values: pd.Series | pa.Array, of: pd.Index | pa.Array) -> np.ndarray:
    """Position of each value in ``of`` (a hash lookup in C); -1 for null or unknown."""
    values = values if isinstance(values, pa.Array) else _text(values)
    of = of if isinstance(of, pa.Array) else _text(of.to_numpy(dtype=object))
    found = pc.index_in(values, value_set=of)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` in a sorted id index (the directory codes); -1 for null or unknown."""
    return _positions(values, index)


def _rank(arr: pa.Array) -> np.ndarray:
    """Each value's rank in sorted order (``int32``, from 0): sorting by it sorts by the text."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int32)
    return (pc.rank(arr, sort_keys="ascending", tiebreaker="first").to_numpy() - 1).astype(np.int32)


def _text(values: pd.Series | np.ndarray, *, dictionary: bool = False) -> pa.Array:
    arr = pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    return arr.dictionary_encode() if dictionary else arr


def _segment_sums(values: np.ndarray, start: np.ndarray, end: np.ndarray, *, what: str) -> np.ndarray:
    """Exact ``int64`` sums of ``values[start[i]:end[i]]`` (contiguous segments, in order)."""
    out = np.zeros(len(start), dtype=np.int64)
    has = end > start
    if has.any():
        if len(values) and float(np.abs(values).astype(np.float64).max()) * max(1, int((end - start).max())) >= 2.0**62:
            wide = np.add.reduceat(values.astype(np.float64), start[has])
            if np.abs(wide).max() >= 2.0**62:
                raise StoreError(f"{what}: a sum exceeds what 64-bit integers hold; check the amounts of the extract")
        out[has] = np.add.reduceat(values, start[has])
    return out


def _segment_min(values: np.ndarray, start: np.ndarray, end: np.ndarray, empty: int) -> np.ndarray:
    out = np.full(len(start), empty, dtype=values.dtype)
    has = end > start
    if has.any():
        out[has] = np.minimum.reduceat(values, start[has])
    return out


def _offsets(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``[start, end)`` of each key 0 … n-1 in a sorted array of keys."""
    start = np.searchsorted(keys, np.arange(n), side="left").astype(np.int64)
    end = np.searchsorted(keys, np.arange(n), side="right").astype(np.int64)
    return start, end


def build_tables(frames: Mapping[str, pd.DataFrame]) -> tuple[Directory, dict[str, pa.Table]]:
    """The store's tables from the nine canonical frames (validated, as loaded)."""
    directory = build_directory(frames)
    units, people, entities, groups = directory.units, directory.collaborators, directory.entities, directory.groups

    deals = frames["deals"]
    deals = deals[(deals["kind"] == "prospect").to_numpy()]
    unit = units["code"].reindex(deals["unit_id"].to_numpy(dtype=object)).to_numpy()
    if pd.isna(unit).any():
        raise StoreError("deals: a deal's unit_id is not an org unit (the extract was not validated)")
    unit = unit.astype(np.int32)
    order = np.argsort(unit, kind="stable")
    deals = deals.iloc[order].reset_index(drop=True)
    unit = unit[order]
    n_deals = len(deals)
    deal_ids = _text(deals["id"])

    docs = frames["documents"]
    deal_pos = _positions(docs["deal_id"], deal_ids)
    docs = docs[deal_pos >= 0]
    deal_pos = deal_pos[deal_pos >= 0].astype(np.int32)
    created = day_numbers(docs["created_on"])
    order = np.lexsort((created, deal_pos))
    docs = docs.iloc[order].reset_index(drop=True)
    deal_pos, created = deal_pos[order], created[order]
    n_docs = len(docs)

    lines = frames["document_lines"]
    doc_ids = _text(docs["id"])
    doc_pos = _positions(lines["document_id"], doc_ids)
    lines = lines[doc_pos >= 0]
    doc_pos = doc_pos[doc_pos >= 0].astype(np.int32)
    line_no = lines["line_no"].to_numpy(dtype=np.int64)
    order = np.lexsort((line_no, doc_pos))
    lines = lines.iloc[order].reset_index(drop=True)
    doc_pos, line_no = doc_pos[order], line_no[order]
    billing = lines["billing"].map(BILLING).to_numpy(dtype=np.int8)
    amount = lines["amount_cents"].to_numpy(dtype=np.int64)

    # documents: fees by billing, days
    line_start, line_end = _offsets(doc_pos, n_docs)
    recurring = _segment_sums(np.where(billing == BILLING["recurring"], amount, 0), line_start, line_end, what="a document's recurring fees")
    one_off = _segment_sums(np.where(billing == BILLING["one_off"], amount, 0), line_start, line_end, what="a document's one-off fees")
    status = docs["status"].map(DOC_STATUS).to_numpy(dtype=np.int8)
    sent = day_numbers(docs["sent_on"])
    decided = day_numbers(docs["decided_on"])
    sent_or_created = np.where(sent == NEVER, created, sent).astype(np.int32)
    days_to_decide = np.where(decided == NEVER, 0, decided.astype(np.int64) - sent_or_created).astype(np.int32)

    # deals: conversion (earliest signature), abandonment
    doc_start, doc_end = _offsets(deal_pos, n_deals)
    signed_day = np.where(status == DOC_STATUS["signed"], decided, NEVER).astype(np.int32)
    converted = _segment_min(signed_day, doc_start, doc_end, NEVER)
    deal_status = deals["status"].map(DEAL_STATUS).to_numpy(dtype=np.int8)
    abandoned = day_numbers(deals["abandoned_on"])
    abandoned[deal_status != DEAL_STATUS["abandoned"]] = NEVER

    people_index, entity_index, group_index = people.index, entities.index, groups.index
    tables = {
        "deals": pa.table({
            "id": deal_ids,
            "id_rank": _rank(deal_ids),
            "name": _text(deals["name"]),
            "prospect_name": _text(deals["prospect_name"]),
            "abandon_reason": _text(deals["abandon_reason"], dictionary=True),
            "unit": unit,
            "partner": _codes(people_index, deals["partner_id"]),
            "manager": _codes(people_index, deals["manager_id"]),
            "client_manager": _codes(people_index, deals["client_manager_id"]),
            "group": _codes(group_index, deals["group_id"]),
            "status": deal_status,
            "created": day_numbers(deals["created_on"]),
            "abandoned": abandoned,
            "converted": converted,
            "converted_month": month_ordinal(converted),
            "doc_start": doc_start,
            "doc_end": doc_end,
        }),
        "documents": pa.table({
            "id": doc_ids,
            "id_rank": _rank(doc_ids),
            "doc_type": _text(docs["doc_type"], dictionary=True),
            "template": _text(docs["template"], dictionary=True),
            "title": _text(docs["title"]),
            "deal": deal_pos,
            "status": status,
            "created": created,
            "sent": sent,
            "decided": decided,
            "sent_or_created": sent_or_created,
            "decided_month": month_ordinal(decided),
            "days_to_decide": days_to_decide,
            "signatory": _codes(people_index, docs["signatory_id"]),
            "entity": _codes(entity_index, docs["entity_id"]),
            "recurring": recurring,
            "one_off": one_off,
            "line_start": line_start,
            "line_end": line_end,
        }),
        "lines": pa.table({
            "document": doc_pos,
            "line_no": line_no,
            "mission": _text(lines["mission"], dictionary=True),
            "billing": billing,
            "amount": amount,
        }),
    }
    # the directory in code order (units depth-first, the others by id)
    for name, frame in (("org_units", units), ("entities", entities), ("collaborators", people), ("groups", groups),
                        ("group_units", frames["group_units"]), ("group_members", frames["group_members"])):
        tables[name] = _directory_table(name, frame)
    return directory, tables


def _directory_table(name: str, frame: pd.DataFrame) -> pa.Table:
    cols = {}
    for col in TABLES[name].columns:
        values = frame[col.name]
        if col.type == "bool":
            cols[col.name] = pa.array(values.to_numpy(dtype=bool))
        elif col.type == "int":
            cols[col.name] = pa.array(values.to_numpy(dtype=np.int64))
        elif col.type == "date":  # no date in the directory today; kept generic
            cols[col.name] = pa.array(day_numbers(values))
        else:
            cols[col.name] = _text(values)
    return pa.table(cols)


def _write_table(path: Path, table: pa.Table) -> None:
    """One IPC file holding one record batch (so every column is one zero-copy chunk)."""
    batch = table.combine_chunks().to_batches(max_chunksize=None)
    batch = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=table.schema)
    with open(path, "wb") as handle:
        with pa.ipc.new_file(handle, table.schema) as writer:
            writer.write_batch(batch)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_version(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str, info: Mapping[str, str] | None = None,
                  progress: Progress | None = None, *, replace: bool = False) -> Path:
    """Build the store of ``frames`` as version ``stamp`` in ``folder`` (not yet current).

    Written in a temporary folder, synced, then renamed to ``v-<stamp>``: a crash leaves
    no partial version behind under that name. An existing ``v-<stamp>`` is kept (another
    process built the same version), unless ``replace``: it is then swapped out.
    """
    start = time.monotonic()
    if progress:
        progress("figure store: building the columns")
    _, tables = build_tables(frames)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"tmp-{stamp}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        if progress:
            progress("figure store: writing the files")
        for name, table in tables.items():
            _write_table(tmp / f"{name}.arrow", table)
        meta = {
            "format": FORMAT,
            "stamp": stamp,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - start, 3),
            "counts": {name: table.num_rows for name, table in tables.items()},
            "source": dict(info or {}),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_dir(tmp)
        final = folder / f"v-{stamp}"
        if replace and final.exists():
            old = folder / f"old-{stamp}-{os.getpid()}"
            os.rename(final, old)  # readers that mapped it keep their mapping
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process built the same version first
        _fsync_dir(folder)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _set_current(folder: Path, stamp: str) -> None:
    tmp = folder / f"CURRENT.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(stamp + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / "CURRENT")
    _fsync_dir(folder)


def current_stamp(folder: Path) -> str | None:
    """The version readers open (None when there is none)."""
    try:
        return (folder / "CURRENT").read_text(encoding="ascii").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def _remove_old(folder: Path, keep: str) -> None:
    """Other versions and leftovers of crashed builds (open mappings stay valid)."""
    for entry in folder.iterdir():
        if entry.name == f"v-{keep}" or not entry.is_dir():
            continue
        if entry.name.startswith("v-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(("tmp-", "old-")):
            pid = entry.name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and _alive(int(pid))):
                shutil.rmtree(entry, ignore_errors=True)
    for entry in folder.glob("CURRENT.tmp-*"):
        with contextlib.suppress(OSError):
            entry.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(folder: Path, progress: Progress | None = None) -> Iterator[None]:
    """Hold the folder's build lock (waiting, with a word, if another process holds it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+")  # noqa: SIM115 - held for the block
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename and Path(exc.filename) != folder else ""  # the lock, when it is the one at fault
        raise StoreError(f"cannot write the figure store in {folder}: {where}{exc.strerror}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                progress("figure store: waiting for the build another process started")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


def publish(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str, info: Mapping[str, str] | None = None,
            progress: Progress | None = None) -> Path:
    """Make ``frames`` (the committed content whose version is ``stamp``) the current store."""
    with _locked(folder, progress):
        return _publish_locked(folder, frames, stamp, info, progress)


def _publish_locked(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str, info: Mapping[str, str] | None,
                    progress: Progress | None) -> Path:
    if current_stamp(folder) != stamp or not (folder / f"v-{stamp}" / "meta.json").is_file():
        path = write_version(folder, frames, stamp, info, progress)
        _set_current(folder, stamp)
    else:
        path = folder / f"v-{stamp}"
    _remove_old(folder, stamp)
    return path


# ---------------------------------------------------------------------------
# reading


def _mapped(path: Path) -> pa.Table:
    source = pa.memory_map(str(path), "r")  # stays mapped as long as the table lives
    return pa.ipc.open_file(source).read_all()


def _array(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _np(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as a read-only numpy view of the mapped file (no copy)."""
    arr = _array(table, name)
    out = arr.to_numpy(zero_copy_only=len(arr) > 0)
    if out.flags.writeable:
        out = out.copy()
        out.flags.writeable = False
    return out


def _frame(table: pa.Table) -> pd.DataFrame:
    """A small table as a canonical frame (text as ``object`` with None for null).

    Through Python lists: the directory is a few thousand rows, and this avoids setting up
    Arrow's pandas conversion in every process that opens the firm.
    """
    out = {}
    for field in table.schema:
        values = _array(table, field.name).to_pylist()
        if pa.types.is_boolean(field.type):
            out[field.name] = pd.Series(np.array(values, dtype=bool), dtype=bool)
        elif pa.types.is_integer(field.type):
            out[field.name] = pd.Series(np.array(values, dtype=np.int64), dtype=np.int64)
        else:
            out[field.name] = pd.Series(np.array(values, dtype=object), dtype=object)
    return pd.DataFrame(out)


def take_arrow(table: pa.Table, name: str, positions: np.ndarray) -> pa.Array:
    """A text column at some rows, still Arrow (dictionaries decoded)."""
    taken = _array(table, name).take(pa.array(np.asarray(positions, dtype=np.int64)))
    return taken.dictionary_decode() if pa.types.is_dictionary(taken.type) else taken


def take_text(table: pa.Table, name: str, positions: np.ndarray) -> np.ndarray:
    """Text of some rows as Python strings (None for null): only these rows are materialised."""
    return take_arrow(table, name, positions).to_numpy(zero_copy_only=False).astype(object, copy=False)


def find_text(table: pa.Table, name: str, values: Sequence[str]) -> np.ndarray:
    """Positions of the rows whose ``name`` is one of ``values`` (a scan in C, no Python loop)."""
    hit = pc.is_in(_array(table, name), value_set=pa.array(list(values), type=pa.large_string()))
    return np.flatnonzero(hit.to_numpy(zero_copy_only=False))


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One opened version of the store: the directory and the mapped columns."""

    stamp: str
    path: Path
    meta: Mapping[str, object]
    directory: Directory
    deals: pa.Table
    documents: pa.Table
    lines: pa.Table
    cols: Mapping[str, np.ndarray]  # "deals.unit", "documents.decided", … as read-only numpy views

    @property
    def n_deals(self) -> int:
        return self.deals.num_rows

    @property
    def n_documents(self) -> int:
        return self.documents.num_rows

    def col(self, table: str, name: str) -> np.ndarray:
        return self.cols[f"{table}.{name}"]


_OPEN: weakref.WeakValueDictionary[str, Snapshot] = weakref.WeakValueDictionary()

#: The columns each file must hold (what :func:`build_tables` writes).
_COLUMNS = {
    "deals": ("id", "id_rank", "name", "prospect_name", "abandon_reason", "unit", "partner", "manager", "client_manager",
              "group", "status", "created", "abandoned", "converted", "converted_month", "doc_start", "doc_end"),
    "documents": ("id", "id_rank", "doc_type", "template", "title", "deal", "status", "created", "sent", "decided",
                  "sent_or_created", "decided_month", "days_to_decide", "signatory", "entity", "recurring", "one_off",
                  "line_start", "line_end"),
    "lines": ("document", "line_no", "mission", "billing", "amount"),
    **{name: tuple(TABLES[name].column_names) for name in DIRECTORY_TABLES},
}


def open_version(path: Path) -> Snapshot:
    """Map one version folder (shared within the process: opened once per build of it)."""
    key = f"{path}:{os.stat(path / 'meta.json').st_ino}"  # FileNotFoundError when replaced: callers retry
    snap = _OPEN.get(key)
    if snap is not None:
        return snap
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise StoreError(f"figure store {path}: unreadable meta.json ({exc}); run `prospects store --rebuild`") from None
    if meta.get("format") != FORMAT:
        raise StoreError(f"figure store {path}: format {meta.get('format')} (this version reads {FORMAT}); run `prospects store --rebuild`")
    try:
        tables = {name: _mapped(path / f"{name}.arrow") for name in ("deals", "documents", "lines", *DIRECTORY_TABLES)}
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreError(f"figure store {path}: a file cannot be read ({exc}); run `prospects store --rebuild`") from None
    for name, columns in _COLUMNS.items():
        missing = sorted(set(columns) - set(tables[name].schema.names))
        if missing:
            raise StoreError(f"figure store {path}: {name}.arrow lacks {', '.join(missing)}; run `prospects store --rebuild`")
    directory = build_directory({name: _frame(tables[name]) for name in DIRECTORY_TABLES})
    cols = {}
    for table in ("deals", "documents", "lines"):
        for field in tables[table].schema:
            if pa.types.is_integer(field.type):
                cols[f"{table}.{field.name}"] = _np(tables[table], field.name)
    snap = Snapshot(str(meta["stamp"]), path, MappingProxyType(meta), directory, tables["deals"], tables["documents"],
                    tables["lines"], MappingProxyType(cols))
    _OPEN[key] = snap
    return snap


def open_current(folder: Path) -> Snapshot | None:
    """The current version of a folder (None when there is none)."""
    for _attempt in range(5):
        stamp = current_stamp(folder)
        if stamp is None:
            return None
        try:
            return open_version(folder / f"v-{stamp}")
        except FileNotFoundError:  # replaced between reading CURRENT and opening: read it again
            time.sleep(0.05)
    return None


def open_snapshot(settings: Settings, engine: sa.Engine, progress: Progress | None = None) -> Snapshot:
    """The store of the database's current version: opened, or rebuilt first when stale.

    The database's version stamp decides: a store of another version is never read. When
    it is stale or missing, it is rebuilt from one consistent read of the database (or,
    if another process is already rebuilding it, this one waits for it).
    """
    from . import db

    folder = store_folder(settings)
    stamp = db.read_version(engine)
    snap = open_current(folder) if current_stamp(folder) == stamp else None
    if snap is not None:
        return snap
    return rebuild(settings, engine, progress=progress, only_if_stale=True)


def rebuild(settings: Settings, engine: sa.Engine, *, progress: Progress | None = None, only_if_stale: bool = False) -> Snapshot:
    """Build the store from the database (one consistent read) and make it current."""
    from . import db

    folder = store_folder(settings)
    with _locked(folder, progress):
        if only_if_stale:  # someone may have built it while we waited for the lock
            stamp = db.read_version(engine)
            if current_stamp(folder) == stamp and (snap := open_current(folder)) is not None:
                return snap
        if progress:
            progress("figure store: reading the database")
        stamp, frames, info = db.read_consistent(engine)
        write_version(folder, frames, stamp, info, progress, replace=not only_if_stale)
        _set_current(folder, stamp)
        _remove_old(folder, stamp)
    snap = open_current(folder)
    if snap is None:  # pragma: no cover - we just wrote it
        raise StoreError(f"figure store {folder}: the version just built cannot be opened")
    return snap


def describe(snap: Snapshot) -> str:
    """A few lines about a version: stamp, counts, size on disk, build time."""
    counts = snap.meta.get("counts", {})
    size = sum(p.stat().st_size for p in snap.path.iterdir() if p.is_file())
    return (
        f"figure store {snap.path.parent} — version {snap.stamp}, built {snap.meta.get('built_at')} "
        f"in {snap.meta.get('build_seconds')} s\n"
        f"  {counts.get('deals', 0):,} prospect deals, {counts.get('documents', 0):,} documents, "
        f"{counts.get('lines', 0):,} lines; {size / 1e6:,.1f} MB on disk"
    )


def stderr_progress(message: str) -> None:
    """Progress lines on stderr."""
    print(f"prospects: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# writing the database and its store together


def replace_content(
    engine: sa.Engine,
    frames: Mapping[str, pd.DataFrame],
    info: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
    on_table: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    allow_shrink: bool = False,
) -> tuple[str, str | None]:
    """Replace the database's content (one transaction), then publish its figure store.

    What ``load``, ``import`` and ``demo`` call (``allow_shrink``: see
    :func:`prospects.db.replace_all`). The store's build lock is taken before the
    transaction and held until the store is published, so that a process which sees the
    new version stamp waits for this store instead of building its own from the database.
    Returns the new version stamp and, when the store could not be written (the database
    is loaded all the same), a note saying why: the next process that reads the firm then
    builds it.
    """
    from . import db

    def note(exc: Exception) -> str:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"the figure store could not be written ({reason}); it will be built when the firm is next read"

    info = {"loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **(info or {})}
    with contextlib.ExitStack() as held:
        failure: Exception | None = None
        try:
            folder = store_folder(settings if settings is not None else settings_for(engine))
            held.enter_context(_locked(folder, progress))
        except (StoreError, OSError) as exc:
            failure = exc
        stamp = db.replace_all(engine, frames, info, on_table=on_table, allow_shrink=allow_shrink)
        if failure is not None:
            return stamp, note(failure)
        try:
            _publish_locked(folder, frames, stamp, {**info, "version": stamp}, progress)
        except (StoreError, OSError) as exc:
            return stamp, note(exc)
    return stamp, None


def settings_for(engine: sa.Engine) -> Settings:
    """The settings of the running project, for an engine given without them."""
    from .config import load_settings

    return load_settings(db=engine.url.render_as_string(hide_password=False))
