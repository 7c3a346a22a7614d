"""The figure store: the firm's rows as memory-mapped columns, one snapshot per extract.

What the figures and the drill-downs need is written once per extract — by ``load``,
``import`` and ``demo`` right after their transaction commits, or by ``prospects
store`` — as Arrow IPC files that every process maps read-only: the pages are the
operating system's page cache, shared by every kernel, report and command that opens
the firm, and nothing is parsed or copied when a viewer opens the dashboard.

Layout of a store folder (beside a SQLite file: ``<file>.store/``; for PostgreSQL in
the ``store_folder`` setting, default ``<project>/data/store/<database>-<hash>/``)::

    CURRENT          the version readers open (written beside, then renamed; read as
                     at most 256 bytes naming a version, never followed as a link)
    .lock            held while a version is built (other builders wait)
    v-<stamp>/       one complete version (written in tmp-…/, then renamed)
        meta.json    format, stamp, counts, build time, the extract's origin, and the
                     manifest: each file's size, sha256 and identity (inode, mtime,
                     ctime) once written; sealed by the sha256 of all that
        deals.arrow, documents.arrow, lines.arrow
        org_units.arrow, entities.arrow, collaborators.arrow, groups.arrow,
        group_units.arrow, group_members.arrow

``<stamp>`` is the version stamp that every load writes in the database
(``extract_info.version``): a store whose stamp differs from the database's is never
opened (:func:`open_snapshot` rebuilds it, or waits for the rebuild another process
started). A crash while building leaves the previous version or none, never a torn one.

Files are created read-only and never written again: a new extract, a rebuild or a
repair is a new folder, renamed into place, and the old one is unlinked (a process that
still maps it keeps reading it whole). Every opening checks what it maps
(:func:`open_version`: the manifest's seal and stamp, each file's size and identity —
its bytes against its sha256 when the identity changed —, columns, types, row counts
and Arrow's validation); anything wrong is built again from the database.
``prospects store --check`` (:func:`inspect`) also sums every file and compares the
row counts with the database. A process that keeps a version open checks before each
use that its files are still those it opened (:meth:`Snapshot.unchanged`).

A process that needs the version another process is writing (it holds ``.lock``, where
it wrote its pid and what it does) waits for it at most ``store_wait_seconds``, then
stops with one line naming that process; it never reads another version meanwhile. A
build first drops the stale versions (a disk with room for one version takes the new
one), and every failure to write names the folder.

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
import logging
import os
import re
import shutil
import stat
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

FORMAT = 2  # 2: meta.json lists every file's size, sha256 and identity, and is sealed by its own sha256
NEVER = np.iinfo(np.int32).max  # day number of a date that is null ("never happened")
DOC_STATUS = {"in_progress": 0, "signed": 1, "refused": 2, "cancelled": 3}
DOC_STATUS_NAMES = np.array(list(DOC_STATUS), dtype=object)
DEAL_STATUS = {"open": 0, "abandoned": 1}
BILLING = {"recurring": 0, "one_off": 1}
BILLING_NAMES = np.array(list(BILLING), dtype=object)
DIRECTORY_TABLES = ("org_units", "entities", "collaborators", "groups", "group_units", "group_members")
_EPOCH = np.datetime64("1970-01-01", "D")
log = logging.getLogger(__name__)
_INT64_MAX = np.iinfo(np.int64).max

Progress = Callable[[str], None]


class StoreError(RuntimeError):
    """The figure store cannot be built or opened (one line saying what and where)."""


class StoreDamaged(StoreError):
    """A version whose files are not what was written, or not what this version reads (which file, how)."""


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


class _Summed:
    """A file being written, and the sha256 of every byte that went into it."""

    def __init__(self, raw) -> None:
        self.raw, self.sha256, self.size, self.closed = raw, hashlib.sha256(), 0, False

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.closed = True


def _identity(info: os.stat_result) -> list[int]:
    """What changes whenever a file is written, truncated, replaced or copied: inode, mtime, ctime."""
    return [info.st_ino, info.st_mtime_ns, info.st_ctime_ns]


def _entry(info: os.stat_result, sha256: str) -> dict[str, object]:
    """A file's line of the manifest: size, checksum and identity once written."""
    return {"bytes": info.st_size, "sha256": sha256, "written": _identity(info)}


def _create(path: Path):
    """A new file, read-only for everybody from the start (written through this handle only)."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444), "wb")


def _write_table(path: Path, table: pa.Table) -> dict[str, object]:
    """One IPC file holding one record batch (so every column is one zero-copy chunk); its manifest entry."""
    batch = table.combine_chunks().to_batches(max_chunksize=None)
    batch = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=table.schema)
    with _create(path) as handle:
        summed = _Summed(handle)
        with pa.ipc.new_file(summed, table.schema) as writer:
            writer.write_batch(batch)
        handle.flush()
        os.fsync(handle.fileno())
        return _entry(os.fstat(handle.fileno()), summed.sha256.hexdigest())


def _digest(meta: Mapping[str, object]) -> str:
    """The seal of meta.json: the sha256 of everything else in it, in one canonical form."""
    rest = {k: v for k, v in meta.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()).hexdigest()


def _sealed(meta: Mapping[str, object]) -> dict[str, object]:
    return {**meta, "sha256": _digest(meta)}


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
    checked_stamp(stamp)
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
        files = {}
        for name, table in tables.items():
            if not table.schema.equals(_SCHEMAS[name]):  # pragma: no cover - build_tables and _SCHEMAS disagree
                raise StoreError(f"{name}: the columns built are not those of format {FORMAT}")
            files[f"{name}.arrow"] = _write_table(tmp / f"{name}.arrow", table)
        meta = _sealed({
            "format": FORMAT,
            "stamp": stamp,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - start, 3),
            "counts": {name: table.num_rows for name, table in tables.items()},
            "source": {str(k): str(v) for k, v in (info or {}).items()},
            "files": files,
        })
        with _create(tmp / "meta.json") as handle:
            handle.write(json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
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
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with open(fd, "w", encoding="ascii") as handle:
        handle.write(stamp + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    current = folder / "CURRENT"
    if current.is_dir() and not current.is_symlink():  # a directory in its place: renaming over it would fail
        shutil.rmtree(current)
    os.replace(tmp, current)  # a symlink or any other file in its place is replaced, never followed
    _fsync_dir(folder)


#: What a version stamp may look like: what ``load`` writes (hex) or derives (``loaded-…``).
_STAMP = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_POINTER_MAX = 256  # bytes read of CURRENT, at most


def checked_stamp(stamp: str) -> str:
    """The database's version stamp, refused when it could not name a version folder."""
    if not isinstance(stamp, str) or not _STAMP.fullmatch(stamp):
        raise StoreError(f"the database's version stamp {str(stamp)[:60]!r} is not one that prospects writes; load the data again")
    return stamp


def read_pointer(folder: Path) -> tuple[str | None, str | None]:
    """The version CURRENT names, and why it cannot be used when it names none.

    Read without following a symbolic link, never blocking (a fifo), at most
    ``_POINTER_MAX`` bytes, and only a version stamp is accepted: ``(stamp, None)``,
    ``(None, None)`` when there is no CURRENT, ``(None, reason)`` when it is garbage.
    """
    path = folder / "CURRENT"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except OSError as exc:
        if path.is_symlink():
            return None, f"{path} is a symbolic link, not a file"
        return None, f"{path} cannot be read ({exc.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{path} is {_file_kind(info.st_mode)}, not a file"
        data = os.read(fd, _POINTER_MAX + 1)
    except OSError as exc:
        return None, f"{path} cannot be read ({exc.strerror})"
    finally:
        os.close(fd)
    text = data.decode("ascii", errors="replace").strip()
    if len(data) > _POINTER_MAX or not _STAMP.fullmatch(text):
        return None, f"{path} does not name a version ({info.st_size:,} bytes)"
    return text, None


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def current_stamp(folder: Path) -> str | None:
    """The version readers open (None when there is none, or when CURRENT is not a valid pointer)."""
    return read_pointer(folder)[0]


def _remove_old(folder: Path, keep: str | None) -> None:
    """Versions other than ``v-<keep>`` and leftovers of crashed builds (open mappings stay valid)."""
    for entry in folder.iterdir():
        if entry.name == f"v-{keep}" or not entry.is_dir() or entry.is_symlink():
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


def _drop_stale(folder: Path, keep: str | None) -> None:
    """Before a build, under the lock: CURRENT unless it names ``keep``, every other version, dead builds' leftovers.

    So that a disk with room for one version takes the new one. A stale version is never
    read (its stamp is not the database's); a reader that finds no CURRENT waits for the
    lock, then opens what this build publishes; a process that maps a dropped version
    keeps its mapping.
    """
    if keep is None or current_stamp(folder) != keep:
        pointer = folder / "CURRENT"
        if pointer.is_dir() and not pointer.is_symlink():
            shutil.rmtree(pointer)
        else:
            with contextlib.suppress(FileNotFoundError):
                pointer.unlink()
    _remove_old(folder, keep)


def _write_error(folder: Path, exc: OSError) -> StoreError:
    """A failure to write the store, naming its folder (and what to do when the disk is full)."""
    advice = "; free some space on its disk, then run `prospects store`" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return StoreError(f"cannot write the figure store in {folder}: {exc.strerror or exc}{advice}")


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


#: Holders of a folder's lock that this process already waited for in vain: asked again, it says so at once.
_GAVE_UP: dict[str, str] = {}
_WAIT = 120.0  # seconds, when no settings say (store_wait_seconds)


@contextlib.contextmanager
def _locked(folder: Path, progress: Progress | None = None, *, wait: float = _WAIT,
            what: str = "a build of the figure store") -> Iterator[None]:
    """Hold the folder's build lock: waiting for another holder at most ``wait`` seconds, with a word, then one line.

    The holder writes its process id and ``what`` in the lock file, so that a process
    waiting for it can say who it waits for (and whether it is stopped).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+")  # noqa: SIM115 - held for the block
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename and Path(exc.filename) != folder else ""  # the lock, when it is the one at fault
        raise StoreError(f"cannot write the figure store in {folder}: {where}{exc.strerror}") from None
    try:
        _acquire(handle, folder, progress, wait)
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same, unnamed
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {time.time():.6f} {what}\n")
            handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _acquire(handle, folder: Path, progress: Progress | None, wait: float) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    holder = _lock_holder(folder)
    if holder is not None and _GAVE_UP.get(str(folder)) == holder:
        wait = 0.0  # waited for this very holder already: no second wait
    start = time.monotonic()
    said = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _GAVE_UP.pop(str(folder), None)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - start
        if waited >= wait:
            holder = _lock_holder(folder)
            if holder is not None:
                _GAVE_UP[str(folder)] = holder
            raise StoreError(f"figure store {folder}: gave up after {wait:.0f} s waiting for {_who(holder)}, which holds "
                             f"its lock{_stopped(holder)}; store_wait_seconds sets how long to wait")
        if not said and waited >= min(1.0, wait / 2):
            said = True
            message = f"figure store {folder}: waiting for {_who(holder)} to finish (at most {wait:.0f} s)"
            if progress:
                progress(message)
            else:
                log.warning("%s", message)
        time.sleep(min(0.1, max(0.0, wait - waited)))


def _lock_holder(folder: Path) -> str | None:
    """What the holder of the folder's lock wrote in it ("pid time what"), read bounded; None when unknown."""
    try:
        fd = os.open(folder / ".lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        text = os.read(fd, 512).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    parts = text.split(" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not text.isprintable():
        return None
    return text


def _who(holder: str | None) -> str:
    if holder is None:
        return "another process"
    pid, _, what = holder.split(" ", 2)
    return f"process {pid} ({what[:80]})"


def _stopped(holder: str | None) -> str:
    """", which is stopped (…)" when the holder's process is stopped (Ctrl-Z, SIGSTOP): what to do about it."""
    if holder is None:
        return ""
    pid = holder.split(" ", 1)[0]
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
    if state in ("T", "t"):
        return f" and is stopped (Ctrl-Z or SIGSTOP: `kill -CONT {pid}` resumes it)"
    return ""


def publish(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str, info: Mapping[str, str] | None = None,
            progress: Progress | None = None) -> Path:
    """Make ``frames`` (the committed content whose version is ``stamp``) the current store."""
    with _locked(folder, progress):
        return _publish_locked(folder, frames, stamp, info, progress)


def _publish_locked(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str, info: Mapping[str, str] | None,
                    progress: Progress | None) -> Path:
    with contextlib.suppress(StoreDamaged, FileNotFoundError):
        if (snap := open_current(folder, stamp)) is not None:  # published already (the same frames, the same stamp)
            _remove_old(folder, stamp)
            return snap.path
    _drop_stale(folder, None)
    path = write_version(folder, frames, stamp, info, progress, replace=True)
    _set_current(folder, stamp)
    _remove_old(folder, stamp)
    return path


# ---------------------------------------------------------------------------
# reading


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
    opened: tuple = ()  # the files' identity when opened (see :meth:`unchanged`)

    def unchanged(self) -> bool:
        """Whether every file is still the one opened and checked (inode, size, times; about 20 µs).

        A process that keeps a version open asks before each use: a file written into after
        the opening shows through the mapping, so it is opened (checked) again instead.
        """
        try:
            return _opened(self.path, _stat_files(self.path)) == self.opened
        except OSError:
            return False

    @property
    def n_deals(self) -> int:
        return self.deals.num_rows

    @property
    def n_documents(self) -> int:
        return self.documents.num_rows

    def col(self, table: str, name: str) -> np.ndarray:
        return self.cols[f"{table}.{name}"]


_OPEN: weakref.WeakValueDictionary[tuple, Snapshot] = weakref.WeakValueDictionary()

_TEXT, _CODES = pa.large_string(), pa.dictionary(pa.int32(), pa.large_string())
_I8, _I32, _I64 = pa.int8(), pa.int32(), pa.int64()
_DIRECTORY_TYPES = {"bool": pa.bool_(), "int": _I64, "date": _I32}

#: The columns of each file and their types: what :func:`build_tables` writes, what a reader accepts.
_SCHEMAS = {
    "deals": pa.schema([
        ("id", _TEXT), ("id_rank", _I32), ("name", _TEXT), ("prospect_name", _TEXT), ("abandon_reason", _CODES),
        ("unit", _I32), ("partner", _I32), ("manager", _I32), ("client_manager", _I32), ("group", _I32),
        ("status", _I8), ("created", _I32), ("abandoned", _I32), ("converted", _I32), ("converted_month", _I32),
        ("doc_start", _I64), ("doc_end", _I64),
    ]),
    "documents": pa.schema([
        ("id", _TEXT), ("id_rank", _I32), ("doc_type", _CODES), ("template", _CODES), ("title", _TEXT),
        ("deal", _I32), ("status", _I8), ("created", _I32), ("sent", _I32), ("decided", _I32),
        ("sent_or_created", _I32), ("decided_month", _I32), ("days_to_decide", _I32), ("signatory", _I32),
        ("entity", _I32), ("recurring", _I64), ("one_off", _I64), ("line_start", _I64), ("line_end", _I64),
    ]),
    "lines": pa.schema([("document", _I32), ("line_no", _I64), ("mission", _CODES), ("billing", _I8), ("amount", _I64)]),
    **{name: pa.schema([(col.name, _DIRECTORY_TYPES.get(col.type, _TEXT)) for col in TABLES[name].columns])
       for name in DIRECTORY_TABLES},
}
#: The files of a version besides meta.json, each listed in its manifest.
FILES = tuple(f"{name}.arrow" for name in _SCHEMAS)
_META_MAX = 1 << 20  # bytes of meta.json read, at most


def _damaged(path: Path, what: str) -> StoreDamaged:
    return StoreDamaged(f"figure store {path}: {what}")


def _read_meta(path: Path) -> dict:
    """meta.json of a version, read bounded and checked: its seal, format, stamp and manifest."""
    where = path / "meta.json"
    fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)  # FileNotFoundError: callers retry
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _damaged(path, f"meta.json is {_file_kind(info.st_mode)}, not a file")
        data = os.read(fd, _META_MAX + 1)
    except OSError as exc:
        raise _damaged(path, f"meta.json cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > _META_MAX:
        raise _damaged(path, f"meta.json is too big to be a manifest ({info.st_size:,} bytes)")
    try:
        meta = json.loads(data.decode("utf-8"))
    except ValueError:
        raise _damaged(path, "meta.json is not the manifest written with the files (not JSON)") from None
    if not isinstance(meta, dict):
        raise _damaged(path, "meta.json is not the manifest written with the files")
    if meta.get("format") != FORMAT:
        raise _damaged(path, f"written in format {str(meta.get('format'))[:20]!r}; this version of prospects reads format {FORMAT}")
    if meta.get("sha256") != _digest(meta):
        raise _damaged(path, "meta.json does not match its own checksum (changed after it was written)")
    if meta.get("stamp") != path.name.removeprefix("v-"):
        raise _damaged(path, f"meta.json has the version stamp {str(meta.get('stamp'))[:60]!r}, not the folder's "
                             "(a folder of another database or version, copied or renamed)")
    files, counts = meta.get("files"), meta.get("counts")
    if (not isinstance(files, dict) or sorted(files) != sorted(FILES) or not isinstance(counts, dict)
            or not all(isinstance(counts.get(name), int) for name in _SCHEMAS)):
        raise _damaged(path, f"meta.json does not list the files of format {FORMAT}")
    return meta


def _checksum(path: Path) -> str:
    """The sha256 of a file's bytes (read through, never mapped)."""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _verify_files(path: Path, meta: Mapping, stats: Mapping[str, os.stat_result], *, full: bool) -> list[str]:
    """Each file against the manifest: its size always; its bytes (sha256) when its identity changed, or ``full``.

    A file written in place, truncated, replaced or copied has another inode, mtime or
    ctime than when it was written (the ctime cannot be set back): only then, or for
    ``store --check``, is it read whole. Returns the files read whole because their
    identity changed (their bytes found intact).
    """
    changed = []
    for name in FILES:
        entry, info = meta["files"][name], stats[name]
        entry = entry if isinstance(entry, dict) else {}
        if not stat.S_ISREG(info.st_mode):
            raise _damaged(path, f"{name} is {_file_kind(info.st_mode)}, not a file")
        if info.st_size != (written := entry.get("bytes")):
            shown = f"{written:,}" if isinstance(written, int) else "?"
            raise _damaged(path, f"{name} has {info.st_size:,} bytes, not the {shown} written (changed after it was written)")
        same = _identity(info) == entry.get("written")
        if full or not same:
            try:
                summed = _checksum(path / name)
            except FileNotFoundError:
                raise
            except OSError as exc:
                raise _damaged(path, f"{name} cannot be read ({exc.strerror})") from None
            if summed != entry.get("sha256"):
                raise _damaged(path, f"{name} does not match its checksum (changed after it was written)")
            if not same:
                changed.append(name)
    return changed


def _map_table(path: Path, name: str, rows: int, *, full: bool) -> pa.Table:
    """One file mapped, and Arrow's own validation of it (see :func:`open_version` for how far)."""
    try:
        table = pa.ipc.open_file(pa.memory_map(str(path / f"{name}.arrow"), "r")).read_all()
        if not table.schema.equals(_SCHEMAS[name]):
            expected = {f.name: f.type for f in _SCHEMAS[name]}
            found = {f.name: f.type for f in table.schema}
            odd = [n for n in expected if found.get(n) != expected[n]] + [n for n in found if n not in expected]
            raise _damaged(path, f"{name}.arrow: columns {', '.join(odd[:5])} are not those of format {FORMAT}")
        if table.num_rows != rows:
            raise _damaged(path, f"{name}.arrow holds {table.num_rows:,} rows, not the {rows:,} written")
        table.validate(full=full or name in DIRECTORY_TABLES)
        if not full:  # dictionary indices within their dictionary (a few ms): never a read out of bounds
            for field in table.schema:
                if pa.types.is_dictionary(field.type):
                    table.column(field.name).validate(full=True)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise _damaged(path, f"{name}.arrow is not valid ({reason})") from None
    return table


def _stat_files(path: Path) -> dict[str, os.stat_result]:
    """meta.json and every file of a version, as they are now (``FileNotFoundError`` when one is gone)."""
    return {name: os.stat(path / name, follow_symlinks=False) for name in ("meta.json", *FILES)}


def _opened(path: Path, stats: Mapping[str, os.stat_result]) -> tuple:
    return (str(path), *(v for info in stats.values() for v in (*_identity(info), info.st_size)))


def open_version(path: Path, *, full: bool = False) -> Snapshot:
    """Map one version folder, checked; shared within the process (opened once per build of it).

    At every opening (cheap: about a millisecond whatever the size, see
    docs/performance.md): meta.json bounded and sealed, its stamp that of the folder, its
    format this one; each file's size, and its identity (inode, mtime, ctime) as written —
    else its bytes against its sha256; each file's columns and types, its row count, and
    Arrow's validation of lengths and buffers (full for the small directory tables, and of
    the dictionary indices). With ``full`` (``prospects store --check``): every file's
    sha256 and Arrow's full validation (offsets, UTF-8) of every column.
    A file missing raises ``FileNotFoundError`` (replaced meanwhile: callers retry);
    anything else wrong :class:`StoreDamaged`.
    """
    stats = _stat_files(path)
    key = _opened(path, stats)
    snap = None if full else _OPEN.get(key)
    if snap is not None:
        return snap
    meta = _read_meta(path)
    changed = _verify_files(path, meta, stats, full=full)
    tables = {name: _map_table(path, name, meta["counts"][name], full=full) for name in _SCHEMAS}
    if changed:
        log.warning("figure store %s: %s changed on disk since written (copied, touched or its mode changed) but "
                    "the bytes match their checksums: each opening reads them whole until `prospects store "
                    "--rebuild` writes them anew", path, ", ".join(changed))
    directory = build_directory({name: _frame(tables[name]) for name in DIRECTORY_TABLES})
    cols = {}
    for table in ("deals", "documents", "lines"):
        for field in tables[table].schema:
            if pa.types.is_integer(field.type):
                cols[f"{table}.{field.name}"] = _np(tables[table], field.name)
    snap = Snapshot(str(meta["stamp"]), path, MappingProxyType(meta), directory, tables["deals"], tables["documents"],
                    tables["lines"], MappingProxyType(cols), opened=key)
    _OPEN[key] = snap
    return snap


def open_current(folder: Path, stamp: str | None = None) -> Snapshot | None:
    """The current version of a folder (None when there is none, or when it is not ``stamp``)."""
    for _attempt in range(5):
        current = current_stamp(folder)
        if current is None or (stamp is not None and current != stamp):
            return None
        try:
            return open_version(folder / f"v-{current}")
        except FileNotFoundError:  # replaced between reading CURRENT and opening: read it again
            time.sleep(0.05)
    return None


def open_snapshot(settings: Settings, engine: sa.Engine, progress: Progress | None = None) -> Snapshot:
    """The store of the database's current version: opened, or rebuilt first when stale or damaged.

    The database's version stamp decides: a store of another version is never read. When
    it is stale, missing or damaged (see :func:`open_version`), it is rebuilt from one
    consistent read of the database (or, if another process is already rebuilding it, this
    one waits for it).
    """
    from . import db

    folder = store_folder(settings)
    stamp = checked_stamp(db.read_version(engine))
    current, garbage = read_pointer(folder)
    if garbage:
        log.warning("figure store %s: %s; building it again", folder, garbage)
    if current == stamp:
        try:
            snap = open_current(folder, stamp)
        except StoreDamaged as exc:
            log.warning("%s; building it again from the database", exc)
        else:
            if snap is not None:
                return snap
    return rebuild(settings, engine, progress=progress, only_if_stale=True)


def rebuild(settings: Settings, engine: sa.Engine, *, progress: Progress | None = None, only_if_stale: bool = False) -> Snapshot:
    """Build the store from the database (one consistent read) and make it current.

    ``only_if_stale``: unless, once this process holds the build lock, the current version
    is the database's and opens whole (another process built it meanwhile).
    """
    from . import db

    folder = store_folder(settings)
    with _locked(folder, progress, wait=settings.store_wait_seconds, what="a rebuild of the figure store"):
        if only_if_stale:  # someone may have built it while we waited for the lock
            stamp = checked_stamp(db.read_version(engine))
            with contextlib.suppress(StoreDamaged):
                if (snap := open_current(folder, stamp)) is not None:
                    return snap
        if progress:
            progress("figure store: reading the database")
        stamp, frames, info = db.read_consistent(engine)
        checked_stamp(stamp)
        keep = None  # a whole version of this stamp stays until the new one replaces it; anything else goes first
        with contextlib.suppress(StoreDamaged, FileNotFoundError):
            keep = stamp if open_current(folder, stamp) is not None else None
        try:
            _drop_stale(folder, keep)
            write_version(folder, frames, stamp, info, progress, replace=True)
            _set_current(folder, stamp)
            _remove_old(folder, stamp)
        except OSError as exc:
            raise _write_error(folder, exc) from None
    snap = open_current(folder, stamp)
    if snap is None:  # pragma: no cover - we just wrote it
        raise StoreError(f"figure store {folder}: the version just built cannot be opened")
    return snap


def inspect(settings: Settings, engine: sa.Engine) -> tuple[Snapshot | None, str | None]:
    """The current version checked in full (``prospects store --check``): ``(snapshot, None)`` or ``(None, what is wrong)``.

    Beyond what every opening checks: every file's sha256, Arrow's full validation of
    every column, and the row counts against the database (prospect deals, their
    documents and lines, the directory tables), read in one snapshot with its stamp.
    """
    from . import db

    folder = store_folder(settings)
    stamp = checked_stamp(db.read_version(engine))
    current, garbage = read_pointer(folder)
    if garbage:
        return None, f"unusable ({garbage})"
    if current is None:
        return None, "missing"
    if current != stamp:
        return None, f"stale (database version {stamp}, store {current})"
    try:
        snap = open_version(folder / f"v-{stamp}", full=True)
    except FileNotFoundError as exc:
        return None, f"missing ({exc.filename} not found)"
    except StoreDamaged as exc:
        return None, f"damaged ({exc})"
    counted, counts = db.store_counts(engine)
    if counted != stamp:
        return None, f"stale (a load committed version {counted} during the check)"
    held = snap.meta["counts"]
    differ = [f"{name} {counts[name]:,} in the database, {held.get(name, 0):,} in the store"
              for name in counts if counts[name] != held.get(name)]
    if differ:
        return None, f"out of step with the database under the same version stamp (row counts: {'; '.join(differ)})"
    return snap, None


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
    replaceable: Callable[[Mapping[str, str], Mapping[str, int]], str | None] | None = None,
) -> tuple[str, str | None]:
    """Replace the database's content (one transaction), then publish its figure store.

    What ``load``, ``import`` and ``demo`` call (``allow_shrink``, ``replaceable``: see
    :func:`prospects.db.replace_all`). The store's build lock is taken before the
    transaction and held until the store is published, so that a process which sees the
    new version stamp waits for this store instead of building its own from the database.
    Returns the new version stamp and, when the store could not be written (the database
    is loaded all the same), a note saying why: the next process that reads the firm then
    builds it.
    """
    from . import db

    folder: Path | None = None

    def note(exc: Exception) -> str:
        text = str(exc)
        if isinstance(exc, OSError):
            text = f"the figure store in {folder} could not be written ({exc.strerror or exc})"
        return f"{text}; it will be built when the firm is next read"

    info = {"loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **(info or {})}
    with contextlib.ExitStack() as held:
        failure: Exception | None = None
        try:
            settings = settings if settings is not None else settings_for(engine)
            folder = store_folder(settings)
            held.enter_context(_locked(folder, progress, wait=settings.store_wait_seconds, what="a load"))
        except (StoreError, OSError) as exc:
            failure = exc
        stamp = db.replace_all(engine, frames, info, on_table=on_table, allow_shrink=allow_shrink,
                               replaceable=replaceable)
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
