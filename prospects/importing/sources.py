"""Reading the sources: CSV files and Excel sheets as text, with the line of each row.

Encodings are checked, never guessed silently; a CSV line with more fields than the
header (an Excel row with cells beyond it) is rejected while reading; blank rows are
not rows. A source must be a regular file no bigger than the import size limit
(setting ``import_max_mb``): a device such as ``/dev/zero`` or a huge file is refused
before anything is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import stat
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import DEFAULT_IMPORT_MAX_MB
from .spec import EXCEL_SUFFIXES, ImportMapping, MappingError, SourceSpec
from .values import blank, norm_one

#: Default size limit of one source file (setting ``import_max_mb``).
DEFAULT_MAX_BYTES = DEFAULT_IMPORT_MAX_MB * 1_000_000


@dataclass(eq=False)
class Source:
    """The rows of one source, as text: columns by normalised header, row numbers in the file."""

    spec: SourceSpec
    label: str  # file (and [sheet]) for messages
    headers: tuple[str, ...]
    columns: Mapping[str, pd.Series]
    rows: np.ndarray
    duplicated: frozenset[str] = frozenset()
    blanked: dict[str, pd.Series] = field(default_factory=dict)  # trimmed columns, empty → null

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n(self) -> int:
        return len(self.rows)


_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


def _decode(data: bytes, spec: SourceSpec, path: Path) -> str:
    key = f"sources.{spec.name}.encoding"
    enc = spec.encoding
    if enc in ("utf-8", "utf-8-sig"):
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = body.count(b"\n", 0, exc.start) + 1
            hint = ""
            with contextlib.suppress(UnicodeDecodeError):
                body.decode("cp1252")
                hint = "; it reads as cp1252: set encoding = \"cp1252\""
            raise MappingError(
                f"{path}: not UTF-8 text (byte 0x{body[exc.start]:02x} on line {line}) (mapping key {key}){hint}"
            ) from None
    if not data.isascii():
        with contextlib.suppress(UnicodeDecodeError):
            body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            sample = next((w for w in body.decode("utf-8").split() if not w.isascii()), "")
            raise MappingError(
                f"{path}: the file is UTF-8, not {enc} ('{sample}' would read as '{sample.encode('utf-8').decode(enc, 'replace')}')"
                f" (mapping key {key}); set encoding = \"utf-8\""
            )
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MappingError(
            f"{path}: not {enc} text (byte 0x{data[exc.start]:02x} on line {line}) (mapping key {key})"
        ) from None
    if enc == "latin-1":
        m = re.search("[\x80-\x9f]", text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            raise MappingError(
                f"{path}: byte 0x{ord(m.group()):02x} on line {line} is a control character in latin-1"
                f" (in cp1252: '{bytes([ord(m.group())]).decode('cp1252', 'replace')}') (mapping key {key}); set encoding = \"cp1252\""
            )
    return text


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _check_file(spec: SourceSpec, path: Path, max_bytes: int) -> int:
    """A regular file no bigger than ``max_bytes``: its size."""
    key = f"sources.{spec.name}.file"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MappingError(f"{path}: no such file (mapping key {key})") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc.strerror}) (mapping key {key})") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "a device or a pipe"
        raise MappingError(f"{path}: not a file but {what} (mapping key {key})")
    if st.st_size > max_bytes:
        raise MappingError(f"{path}: {_mb(st.st_size)}, more than the import limit of {_mb(max_bytes)} (setting import_max_mb)")
    return st.st_size


def _read_csv(spec: SourceSpec, path: Path, max_bytes: int) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Header, rows as text, line of each row, and lines with too many fields."""
    _check_file(spec, path, max_bytes)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc.strerror}) (mapping key sources.{spec.name}.file)") from None
    if len(data) > max_bytes:  # it grew while being read
        raise MappingError(f"{path}: more than the import limit of {_mb(max_bytes)} (setting import_max_mb)")
    text = _decode(data, spec, path)
    skip = spec.header_row - 1
    start = 0
    for _ in range(skip):
        nl = text.find("\n", start)
        if nl < 0:
            raise MappingError(f"{path}: no header on line {spec.header_row}: the file has fewer lines (mapping key sources.{spec.name}.header_row)")
        start = nl + 1
    body = text[start:]
    if not body.strip():
        raise MappingError(f"{path}: no header on line {spec.header_row} (mapping key sources.{spec.name}.header_row)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                io.StringIO(body), sep=spec.delimiter, header=None, dtype=str, keep_default_na=False,
                na_filter=False, skip_blank_lines=False, on_bad_lines="warn", engine="c",
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise MappingError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    bad: list[tuple[int, int]] = []
    for w in caught:
        if issubclass(w.category, pd.errors.ParserWarning):
            found = _BAD_LINE.findall(str(w.message))
            if not found:
                raise MappingError(f"{path}: not a readable CSV file ({str(w.message).strip()})")
            bad += [(int(rec), int(saw)) for rec, _, saw in found]
    bad.sort()
    frame = frame.fillna("")
    bad_rec = np.array([b[0] for b in bad], dtype="int64")
    n_records = len(frame) + len(bad_rec)
    is_row = np.ones(n_records, dtype=bool)
    is_row[bad_rec - 1] = False
    rec = np.arange(1, n_records + 1, dtype="int64")[is_row]
    offset = np.zeros(len(frame) + 1, dtype="int64")
    if body.count("\n") > n_records - (0 if body.endswith("\n") else 1) and len(frame):  # line breaks inside quotes
        per_row = sum(frame[c].str.count("\n").to_numpy(dtype="int64") for c in frame.columns)
        offset = np.concatenate([[0], np.cumsum(per_row)])
    lines = rec + offset[:-1] + skip
    bad_lines = bad_rec + (offset[np.searchsorted(rec, bad_rec)] if len(rec) else 0) + skip
    header = [str(h) for h in frame.iloc[0]] if len(frame) else []
    frame = frame.iloc[1:].reset_index(drop=True)
    lines = lines[1:]
    bad_frame = pd.DataFrame({"row": bad_lines, "reason": [f"the line has {saw} fields but the header has {len(header)}" for _, saw in bad]})
    return header, frame, lines, bad_frame


def _excel_text(s: pd.Series, decimal: str) -> pd.Series:
    """Excel cell values → text: dates ISO, numbers with the source's decimal mark."""
    kinds = s.map(type)
    out = pd.Series(np.nan, index=s.index, dtype="str")
    is_str = (kinds == str).to_numpy()  # noqa: E721
    out[is_str] = s[is_str].astype("str")
    rest = ~is_str & s.notna().to_numpy()
    if rest.any():

        def one(v: Any) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, int):
                return str(v)
            if isinstance(v, float):
                if v != v or v in (float("inf"), float("-inf")):
                    return ""
                text = format(Decimal(repr(v)), "f")
                if "." in text:
                    text = text.rstrip("0").rstrip(".")
                return text.replace(".", decimal)
            if isinstance(v, dt.datetime):
                return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
            if isinstance(v, dt.date | dt.time):
                return v.isoformat()
            return str(v)

        out[rest] = s[rest].map(one).astype("str")
    return out


def _read_excel(spec: SourceSpec, path: Path, max_bytes: int) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    import openpyxl

    key = f"sources.{spec.name}"
    _check_file(spec, path, max_bytes)
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise MappingError(f"{path}: not an Excel workbook (.xlsx) ({exc}) (mapping key {key}.file)") from None
    if unpacked > max_bytes:
        raise MappingError(f"{path}: the workbook unpacks to {_mb(unpacked)}, more than the import limit of {_mb(max_bytes)} (setting import_max_mb)")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise MappingError(f"{path}: not an Excel workbook (.xlsx) ({exc}) (mapping key {key}.file)") from None
    try:
        if spec.sheet is None:
            ws = wb.worksheets[0]
        elif spec.sheet in wb.sheetnames:
            ws = wb[spec.sheet]
        else:
            raise MappingError(f"{path}: no sheet '{spec.sheet}' (sheets: {', '.join(wb.sheetnames)}) (mapping key {key}.sheet)")
        rows = list(ws.iter_rows(min_row=spec.header_row, values_only=True))
    finally:
        wb.close()
    if not rows or all(v is None for v in rows[0]):
        raise MappingError(f"{path}[{ws.title}]: no header on row {spec.header_row} (mapping key {key}.header_row)")
    header_cells = list(rows[0])
    while header_cells and header_cells[-1] is None:
        header_cells.pop()
    width = len(header_cells)
    body = rows[1:]
    # cells beyond the header: a row holding any is rejected, like a CSV line with too many fields
    extra = np.array([any(v is not None and v != "" for v in r[width:]) for r in body], dtype=bool)
    frame = pd.DataFrame([r[:width] for r in body], columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width))
    frame = frame.reindex(columns=range(width))
    text = pd.DataFrame({c: _excel_text(frame[c], spec.decimal).fillna("") for c in frame.columns})
    lines = np.arange(spec.header_row + 1, spec.header_row + 1 + len(body), dtype="int64")
    header = ["" if h is None else _excel_text(pd.Series([h], dtype=object), spec.decimal).fillna("").iloc[0] for h in header_cells]
    bad_frame = pd.DataFrame({"row": lines[extra], "reason": f"the row has cells beyond the {width} columns of the header"})
    text, lines = text[~extra].reset_index(drop=True), lines[~extra]
    return header, text, lines, bad_frame


def read_source(spec: SourceSpec, path: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Source, pd.DataFrame]:
    """One source as text, and the rows rejected while reading (row, reason)."""
    path = Path(path) if path is not None else spec.file
    if path is None:
        raise MappingError(f"sources.{spec.name}: no file: give file = \"...\" in the mapping or {spec.name}=PATH on the command line")
    excel = spec.sheet is not None or path.suffix.lower() in EXCEL_SUFFIXES
    header, frame, lines, bad = (_read_excel if excel else _read_csv)(spec, path, max_bytes)
    label = f"{path}[{spec.sheet}]" if excel and spec.sheet else str(path)
    # blank rows are not rows
    if len(frame.columns):
        empty = (blank(frame[frame.columns[0]].astype("str")).isna()).to_numpy(copy=True)
        for c in frame.columns[1:]:
            if not empty.any():
                break
            empty[empty] = blank(frame.loc[empty, c].astype("str")).isna().to_numpy()
        frame, lines = frame[~empty].reset_index(drop=True), lines[~empty]
    names = [norm_one(h) if h.strip() else "" for h in header]
    columns: dict[str, pd.Series] = {}
    dup = set()
    for i, name in enumerate(names):
        if not name:
            continue
        if name in columns:
            dup.add(name)
            continue
        columns[name] = frame[i].astype("str") if i in frame.columns else pd.Series("", index=frame.index, dtype="str")
    return Source(spec, label, tuple(header), columns, lines, frozenset(dup)), bad


def source_files(mapping: ImportMapping, args: Sequence[str | Path] = ()) -> dict[str, Path]:
    """Which file each source reads: the mapping's ``file``, or a command-line SOURCE.

    A SOURCE is ``NAME=PATH`` (source NAME reads PATH), or a PATH that replaces the
    file of the same name in the mapping, else the only file of its kind (CSV or Excel).
    """
    files: dict[str, Path | None] = {name: s.file for name, s in mapping.sources.items()}
    given: dict[str, Path] = {}
    for arg in map(str, args):
        name, sep, rest = arg.partition("=")
        if sep and name in mapping.sources:
            given[name] = Path(rest)
            continue
        path = Path(arg)
        hits = [n for n, f in files.items() if f is not None and f.name == path.name]
        if not hits:
            excel = path.suffix.lower() in EXCEL_SUFFIXES
            kinds = {n: mapping.sources[n].is_excel for n in files}
            free = {files[n] or n for n in files if n not in given and kinds[n] == excel}
            if len(free) == 1:
                hits = [n for n in files if n not in given and (files[n] or n) in free]
        if not hits:
            raise MappingError(
                f"{arg}: cannot tell which source of {mapping.path} it is (sources: {', '.join(mapping.sources)}); write NAME={arg}"
            )
        for n in hits:
            given[n] = path
    out = {}
    for name, spec in mapping.sources.items():
        path = given.get(name, spec.file)
        if path is None:
            raise MappingError(f"{mapping.path}: sources.{name}: no file: give file = \"...\" or {name}=PATH on the command line")
        out[name] = path
    return out
