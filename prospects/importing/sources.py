"""Reading the sources: CSV files and Excel sheets as text, with the line of each row.

Encodings are checked, never guessed silently (a UTF-16 file is named as such); a CSV
line with more fields than the header (an Excel row with cells beyond it) is rejected
while reading; blank rows are not rows. A source must be a regular file no bigger than
the import size limit (setting ``import_max_mb``): a device such as ``/dev/zero``, a pipe
or a huge file is refused before anything is read (:mod:`prospects.files`).

A workbook is read cell by cell, only the cells it holds, whatever its ``<dimension>``
says (one cell at ``XFD1048576`` costs one cell, not a sheet of 17 billion), and refused
quickly past its limits: the zip directory (:data:`MAX_ZIP_DIRECTORY_BYTES`, read before
the zip is opened), the unpacked size of its members (what they declare, which is also
all that is ever inflated), its shared strings (:data:`MAX_SHARED_STRINGS`, counted before
they are loaded), Excel's own rows and columns, the cells of the sheet (:data:`MAX_CELLS`).
Its XML is parsed with entities refused (defusedxml). A source of either kind has at
most :data:`MAX_COLUMNS` columns.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import files
from ..config import DEFAULT_IMPORT_MAX_MB
from .spec import EXCEL_SUFFIXES, ImportMapping, MappingError, SourceSpec
from .values import blank, norm

#: Default size limit of one source file (setting ``import_max_mb``).
DEFAULT_MAX_BYTES = DEFAULT_IMPORT_MAX_MB * 1_000_000
LIMIT_TEXT = "the import limit of {limit} (setting import_max_mb)"
#: Columns of a source (a CRM export has tens, a few hundred at most).
MAX_COLUMNS = 5_000
#: Excel's own bounds: a sheet has at most 1,048,576 rows and 16,384 columns (A to XFD).
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
#: Cells a source sheet may hold (each ``<c>`` the file holds, empty or not).
MAX_CELLS = 20_000_000
#: Shared strings a workbook may hold (counted in the file before openpyxl loads them).
MAX_SHARED_STRINGS = 20_000_000
#: Size of a workbook's zip directory (tens of entries: a few kilobytes).
MAX_ZIP_DIRECTORY_BYTES = 1_000_000


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


def _utf16(data: bytes) -> tuple[str, str] | None:
    """``(codec, why)`` when ``data`` is UTF-16 text: a byte-order mark, or a NUL every other byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "is UTF-16 (it starts with a UTF-16 byte-order mark)"
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    if len(odd) >= 2:
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le", "looks like UTF-16 little-endian (every other byte is NUL)"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be", "looks like UTF-16 big-endian (every other byte is NUL)"
    return None


def _decode(data: bytes, spec: SourceSpec, path: Path) -> str:
    key = f"sources.{spec.name}.encoding"
    enc = spec.encoding
    if enc.startswith("utf-16"):
        try:
            return data.decode(enc).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise MappingError(f"{files.shown_path(path)}: not {enc} text (bytes {exc.start} to {exc.end}) (mapping key {key})") from None
    utf16 = _utf16(data)
    if utf16 is not None:
        codec, why = utf16
        raise MappingError(f"{files.shown_path(path)}: the file {why}, not {enc} (mapping key {key}); set encoding = \"{codec}\"")
    if enc in ("utf-8", "utf-8-sig"):
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            hint = ""
            with contextlib.suppress(UnicodeDecodeError):
                body.decode("cp1252")
                hint = "; it reads as cp1252: set encoding = \"cp1252\""
            raise MappingError(
                f"{path}: not UTF-8 text ({files.undecodable(body, exc)}) (mapping key {key}){hint}"
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
        raise MappingError(f"{path}: not {enc} text ({files.undecodable(data, exc)}) (mapping key {key})") from None
    if enc == "latin-1":
        m = re.search("[\x80-\x9f]", text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            raise MappingError(
                f"{path}: byte 0x{ord(m.group()):02x} on line {line} is a control character in latin-1"
                f" (in cp1252: '{bytes([ord(m.group())]).decode('cp1252', 'replace')}') (mapping key {key}); set encoding = \"cp1252\""
            )
    return text


def _refused(spec: SourceSpec, exc: files.FileRefused) -> MappingError:
    return MappingError(f"{exc} (mapping key sources.{spec.name}.file)")


def _read_csv(spec: SourceSpec, path: Path, max_bytes: int) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Header, rows as text, line of each row, and lines with too many fields."""
    try:
        data = files.read_limited(path, max_bytes, limit_text=LIMIT_TEXT)
    except files.FileRefused as exc:
        raise _refused(spec, exc) from None
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
    with contextlib.suppress(csv.Error, StopIteration):  # pandas says what is wrong with the file
        _check_width(path, len(next(csv.reader(io.StringIO(body), delimiter=spec.delimiter))), spec)
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


def _check_width(label: object, width: int, spec: SourceSpec) -> None:
    if width > MAX_COLUMNS:
        raise MappingError(
            f"{files.shown_path(label)}: the header has {width:,} columns, more than the {MAX_COLUMNS:,} a source may have"
            f" (mapping key sources.{spec.name}.header_row)"
        )


def _zip_directory_bytes(handle: Any) -> int:
    """The size of a zip's central directory, read from its end record (zip64 included)
    before :class:`zipfile.ZipFile` parses it into one object per entry."""
    end = zipfile._EndRecData(handle)  # the stdlib's own reader of the end record
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    return int(end[zipfile._ECD_SIZE])


_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def _count_shared_strings(stream: Any) -> int:
    """``<si>`` items of a shared-strings part, counted on its bytes (no XML object built)."""
    count, tail = 0, b""
    while chunk := stream.read(1 << 20):
        data = tail + chunk
        keep = max(0, len(data) - 64)  # a tag cut by the chunk's end is counted with the next one
        count += sum(1 for m in _SHARED_STRING.finditer(data) if m.start() < keep)
        tail = data[keep:]
    return count + len(_SHARED_STRING.findall(tail))


def _check_workbook(spec: SourceSpec, path: Path, handle: Any, max_bytes: int) -> None:
    """The zip's directory, unpacked size and shared strings within their limits."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    shown = files.shown_path(path)
    directory = _zip_directory_bytes(handle)
    if directory > MAX_ZIP_DIRECTORY_BYTES:
        raise MappingError(f"{shown}: its zip directory holds {directory:,} bytes, more than the {MAX_ZIP_DIRECTORY_BYTES:,} a workbook may have")
    with zipfile.ZipFile(handle) as z:
        unpacked = sum(i.file_size for i in z.infolist())
        if unpacked > max_bytes:
            raise MappingError(f"{shown}: the workbook unpacks to {files.megabytes(unpacked)}, more than {LIMIT_TEXT.format(limit=files.megabytes(max_bytes))}")
        strings = Manifest.from_tree(fromstring(z.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
        if strings is not None:
            with z.open(strings.PartName[1:]) as part:
                count = _count_shared_strings(part)
            if count > MAX_SHARED_STRINGS:
                raise MappingError(f"{shown}: {count:,} shared strings, more than the {MAX_SHARED_STRINGS:,} a workbook may hold")
    handle.seek(0)


def _sheet_rows(wb: Any, ws: Any) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``(row number, cells the file holds)`` of a read-only sheet, in file order.

    The parser of openpyxl's read-only sheets, built as they build it, without their
    padding of every row to the ``<dimension>`` and of every missing row up to it.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        yield from parser.parse()


def _read_sheet(spec: SourceSpec, label: str, wb: Any, ws: Any) -> tuple[list[Any], list[list[Any]], list[int], list[bool]]:
    """Header cells, rows cut to the header's width, their row numbers, and whether each
    held cells beyond the header; only the cells present are looked at."""
    from openpyxl.utils import get_column_letter

    header: list[Any] | None = None
    width = 0
    rows: list[list[Any]] = []
    numbers: list[int] = []
    extra: list[bool] = []
    cells = 0
    for number, present in _sheet_rows(wb, ws):
        if number > EXCEL_ROWS:
            raise MappingError(f"{label}: row {number:,} lies beyond Excel's last row ({EXCEL_ROWS:,})")
        cells += len(present)
        if cells > MAX_CELLS:
            raise MappingError(f"{label}: more than {MAX_CELLS:,} cells (a source sheet holds at most {MAX_CELLS:,})")
        for cell in present:
            if cell["column"] > EXCEL_COLUMNS:
                raise MappingError(
                    f"{label}: cell {get_column_letter(cell['column'])}{number} lies beyond Excel's last column (XFD)"
                )
        if number < spec.header_row:
            continue
        values = [(c["column"], c["value"]) for c in present if c["value"] is not None]
        if header is None:
            if number != spec.header_row or not values:
                break
            width = max(col for col, _ in values)
            _check_width(label, width, spec)
            header = [None] * width
            for col, value in values:
                header[col - 1] = value
            continue
        row: list[Any] = [None] * width
        beyond = False
        for col, value in values:
            if col <= width:
                row[col - 1] = value
            elif value != "":
                beyond = True
        if beyond or any(v is not None for v in row):
            rows.append(row)
            numbers.append(number)
            extra.append(beyond)
    if header is None:
        raise MappingError(f"{label}: no header on row {spec.header_row} (mapping key sources.{spec.name}.header_row)")
    return header, rows, numbers, extra


def _read_excel(spec: SourceSpec, path: Path, max_bytes: int) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    from xml.etree.ElementTree import ParseError

    import openpyxl

    key = f"sources.{spec.name}"
    shown = files.shown_path(path)
    try:
        with files.open_limited(path, max_bytes, limit_text=LIMIT_TEXT) as (handle, _):
            _check_workbook(spec, path, handle, max_bytes)
            wb = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                if spec.sheet is None:
                    ws = wb.worksheets[0]
                elif spec.sheet in wb.sheetnames:
                    ws = wb[spec.sheet]
                else:
                    raise MappingError(f"{shown}: no sheet '{spec.sheet}' (sheets: {', '.join(wb.sheetnames)}) (mapping key {key}.sheet)")
                header_cells, body, numbers, beyond = _read_sheet(spec, f"{shown}[{ws.title}]", wb, ws)
            finally:
                wb.close()
    except files.FileRefused as exc:
        raise _refused(spec, exc) from None
    except MappingError:
        raise
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, ParseError, EOFError, OSError) as exc:
        raise MappingError(f"{shown}: not an Excel workbook (.xlsx) ({exc}) (mapping key {key}.file)") from None
    width = len(header_cells)
    extra = np.array(beyond, dtype=bool)
    frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width))
    text = pd.DataFrame({c: _excel_text(frame[c], spec.decimal).fillna("") for c in frame.columns})
    lines = np.array(numbers, dtype="int64")
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
    names = norm(pd.Series(header, dtype="str")).where(pd.Series([bool(h.strip()) for h in header], dtype=bool), "").tolist()
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
