"""Importing CRM exports (CSV or Excel) through a declarative mapping (docs/import.md).

No CRM exports the canonical extract of DATA.md. A mapping file (TOML) says, without
code, how the columns of one or more exports become the nine canonical tables:

* ``[sources.NAME]``: a CSV file (delimiter, encoding, header row) or an Excel sheet;
* ``[tables.TABLE]``: the source(s) of a table, one row per source row, and per column
  a source column, a constant, a template, a lookup in another source, an org unit
  built from name columns, a person or an entity named by a column; value maps for
  enums, date formats, amounts with decimal comma, thousands separators and currency;
* ``[org]`` builds the organisation tree from name columns, ``[people]`` the directory
  from person names when there is no directory export, and a ``lines`` list turns
  amount columns of a "one row per opportunity" export into document lines.

The mapped tables are text frames handed to :func:`prospects.loading.validate_tables`
(every rule of the contract) and loaded atomically by :func:`prospects.db.replace_all`.

Nothing is lost silently. A value the mapping cannot turn into a contract value (an
unmapped status, a bad date or amount, a lookup miss, ...) rejects the target row it
belongs to, with the source file, row and column, and the rows that depend on it are
rejected too ("parent rejected"), exactly as :mod:`prospects.loading` does. Technically,
such a cell is handed to validation holding a NUL character, which validation always
rejects; the import then replaces validation's reason for that cell by its own.
For each source, rows read = rows imported + rows rejected (a row is rejected when
any target row made from it is rejected); for each target table, loading's counts.

Everything is vectorised per column; Python loops run over columns, distinct names
(org units, people, entities) and Excel cells (openpyxl reads cell by cell) only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import sys
import time
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from . import db, store
from .loading import TableCount, UnusableExtract, Validated, format_counts, validate_tables
from .schema import DEAL_STATUSES, DOC_STATUSES, FUNCTIONS, TABLE_ORDER, TABLES

if TYPE_CHECKING:
    from .config import Settings

#: The documents.status value meaning "this opportunity has no document (yet)".
NO_DOCUMENT = "no document"
LEVELS = ("region", "agency", "team")
_PREFIX = {"region": "R-", "agency": "A-", "team": "T-"}
#: Columns naming people, in the order that decides a generated person's role.
ROLE_ORDER = ("partner_id", "signatory_id", "manager_id", "client_manager_id")
DEFAULT_ROLES = {"partner_id": "partner", "signatory_id": "partner", "manager_id": "manager", "client_manager_id": "staff"}
DEFAULT_VALIDATORS = ("partner", "director", "manager")
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252", "windows-1252": "cp1252",
    "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
}
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DEFAULT_DATES = ("dd/mm/yyyy",)
DEFAULT_CURRENCY = ("€", "EUR")
SOURCE_REJECT_COLUMNS = ("source", "file", "row", "table", "column", "source_column", "value", "reason")
#: Marks a cell the mapping could not fill: validation always rejects a NUL character.
_BAD = "\x00"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Provenance ``part`` of rows generated from names (org units, people, entities): they
#: point at the first row naming them, which they do not make "partly imported".
_GENERATED = -2
_MAX_EXCEL_SERIAL = 109_574  # 2199-12-31


class MappingError(UnusableExtract):
    """The mapping, a source file or a source column cannot be used: nothing is imported."""


# ---------------------------------------------------------------------------
# the mapping, as parsed


@dataclass(frozen=True)
class Target:
    """What a value spec must produce: a contract column, or plain text (``kind='text'``)."""

    kind: str  # text, id, enum, date, bool, int, amount
    table: str = ""
    column: str = ""
    values: tuple[str, ...] = ()

    @property
    def special(self) -> bool:
        """deals.status and documents.status share one status map (see :func:`_project`)."""
        return (self.table, self.column) in (("deals", "status"), ("documents", "status"))

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}" if self.table else "text"


TEXT = Target("text")
_STATUS_WORDS = (*DEAL_STATUSES, *DOC_STATUSES, NO_DOCUMENT)


def _target(table: str, column: str) -> Target:
    col = TABLES[table].column(column)
    if (table, column) == ("document_lines", "amount_cents"):
        return Target("amount", table, column)
    if (table, column) in (("deals", "status"), ("documents", "status")):
        return Target("enum", table, column, _STATUS_WORDS)
    return Target(col.type, table, column, col.values)


@dataclass(frozen=True)
class ValueMap:
    """A value map: normalised source value → target value(s)."""

    name: str
    entries: Mapping[str, tuple[str, ...]]
    shown: Mapping[str, str]  # normalised → as written in the mapping


@dataclass(frozen=True)
class DateFormat:
    label: str  # as written: dd/mm/yyyy, iso, excel, %d.%m.%Y
    kind: str  # strptime | excel
    fmt: str = ""
    regex: str = ""


@dataclass(eq=False)
class Spec:
    """How one value is made from the rows of a source."""

    key: str  # mapping key, for messages
    kind: str  # column, value, template, lookup, unit, person, entity
    target: Target = TEXT
    columns: tuple[str, ...] = ()
    value: str | None = None
    parts: tuple[tuple[str, str | None], ...] = ()  # template: (literal, column)
    lookup_source: str = ""
    match: Spec | None = None
    lookup_key: Spec | None = None
    lookup_value: Spec | None = None
    on_miss: str = "reject"
    levels: Mapping[str, Spec] = field(default_factory=dict)
    inner: Spec | None = None
    default: str | None = None
    map: ValueMap | None = None
    otherwise: str | None = None
    keep_unmapped: bool = False
    dates: tuple[DateFormat, ...] | None = None
    money: str = "euros"
    only_if: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    file: Path | None
    sheet: str | None
    delimiter: str
    encoding: str
    header_row: int
    decimal: str
    dates: tuple[DateFormat, ...]

    @property
    def is_excel(self) -> bool:
        return self.sheet is not None or (self.file is not None and self.file.suffix.lower() in EXCEL_SUFFIXES)


@dataclass(frozen=True)
class LineSpec:
    """One amount column → one document line."""

    key: str
    amount: Spec
    billing: Spec
    mission: Spec
    keep_zero: bool = False


@dataclass(eq=False)
class TableSpec:
    name: str
    key: str
    sources: tuple[str, ...] = ()
    columns: Mapping[str, Spec] = field(default_factory=dict)
    rows: tuple[Mapping[str, str | None], ...] | None = None
    lines: tuple[LineSpec, ...] = ()
    document_id: Spec | None = None
    merge: bool = False


@dataclass(frozen=True)
class OrgSpec:
    firm: str
    firm_id: str = "FIRM"
    ids: str = "slug"


@dataclass(eq=False)
class PeopleSpec:
    columns: Mapping[str, Spec]
    roles: Mapping[str, str]
    validators: tuple[str, ...]


@dataclass(eq=False)
class ImportMapping:
    """A parsed mapping file."""

    path: Path
    sources: Mapping[str, SourceSpec]
    tables: Mapping[str, TableSpec]
    org: OrgSpec | None
    people: PeopleSpec | None
    maps: Mapping[str, ValueMap]
    currency: tuple[str, ...]
    description: str = ""


# ---------------------------------------------------------------------------
# parsing the mapping file

_TOP_KEYS = {"description", "defaults", "sources", "org", "people", "maps", "lookups", "tables"}
_SOURCE_KEYS = {"file", "sheet", "delimiter", "encoding", "header_row", "decimal", "date"}
_TABLE_KEYS = {"source", "columns", "rows", "lines", "document_id", "merge"}
_BASES = ("column", "value", "template", "lookup", "unit", "person", "entity")
_MODIFIERS = {"default", "map", "otherwise", "keep_unmapped", "date", "money", "only_if"}
_LOOKUP_KEYS = {"match", "key", "value", "on_miss"}
_PEOPLE_COLUMNS = ("id", "login", "full_name", "function", "unit_id", "entity_id", "can_validate_offers", "active", "email")
#: Virtual columns of the people generated from names ([people] specs read them).
PEOPLE_FIELDS = ("id", "login", "name", "role", "unit_id")


class _Parser:
    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = path
        self.doc = doc
        self.maps: dict[str, ValueMap] = {}
        self.lookups: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, SourceSpec] = {}
        self.default_dates: tuple[DateFormat, ...] = ()

    def fail(self, key: str, message: str) -> MappingError:
        return MappingError(f"{self.path}: {key}: {message}")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_shown(value)}")
        return value

    def known(self, value: dict[str, Any], allowed: set[str] | Sequence[str], key: str) -> None:
        for k in value:
            if k not in allowed:
                raise self.fail(f"{key}.{k}" if key else k, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def text(self, value: Any, key: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        if isinstance(value, dt.date):
            return value.isoformat()[:10]
        raise self.fail(key, f"expected a value, got {_shown(value)}")

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_shown(value)}")
        return value

    # -- sections ------------------------------------------------------------------
    def parse(self) -> ImportMapping:
        doc = self.doc
        self.known(doc, _TOP_KEYS, "")
        defaults = self.table(doc.get("defaults", {}), "defaults")
        self.known(defaults, {"date", "decimal", "currency"}, "defaults")
        self.default_dates = self.dates(defaults.get("date", list(DEFAULT_DATES)), "defaults.date")
        decimal = self.decimal(defaults.get("decimal", ","), "defaults.decimal")
        currency = defaults.get("currency", list(DEFAULT_CURRENCY))
        if isinstance(currency, str):
            currency = [currency]
        if not isinstance(currency, list) or not all(isinstance(c, str) and c.strip() for c in currency):
            raise self.fail("defaults.currency", "expected a list of currency symbols, e.g. [\"€\", \"EUR\"]")
        sources = self.table(doc.get("sources", {}), "sources")
        if not sources:
            raise self.fail("sources", "no source: add a [sources.NAME] table per file or Excel sheet")
        for name, raw in sources.items():
            self.sources[name] = self.source(name, self.table(raw, f"sources.{name}"), decimal)
        for name, raw in self.table(doc.get("maps", {}), "maps").items():
            self.maps[name] = self.value_map(raw, f"maps.{name}", name)
        for name, raw in self.table(doc.get("lookups", {}), "lookups").items():
            raw = self.table(raw, f"lookups.{name}")
            self.known(raw, {"source", *_LOOKUP_KEYS} - {"match"}, f"lookups.{name}")
            self.lookups[name] = raw
        org = None
        if "org" in doc:
            raw = self.table(doc["org"], "org")
            self.known(raw, {"firm", "firm_id", "ids"}, "org")
            if "firm" not in raw:
                raise self.fail("org.firm", "missing: the name of the firm, root of the organisation tree")
            ids = raw.get("ids", "slug")
            if ids not in ("slug", "hash"):
                raise self.fail("org.ids", f"expected \"slug\" or \"hash\", got {_shown(ids)}")
            org = OrgSpec(self.name(raw["firm"], "org.firm"), self.name(raw.get("firm_id", "FIRM"), "org.firm_id"), ids)
        tables = {}
        raw_tables = self.table(doc.get("tables", {}), "tables")
        for name, raw in raw_tables.items():
            if name not in TABLES:
                raise self.fail(f"tables.{name}", f"not a table of the contract ({', '.join(TABLE_ORDER)})")
            tables[name] = self.table_spec(name, self.table(raw, f"tables.{name}"))
        people = self.people(doc["people"]) if "people" in doc else None
        mapping = ImportMapping(
            self.path, self.sources, {t: tables[t] for t in TABLE_ORDER if t in tables}, org, people,
            self.maps, tuple(currency), str(doc.get("description", "")),
        )
        self.check_whole(mapping)
        return mapping

    def decimal(self, value: Any, key: str) -> str:
        if value not in (",", "."):
            raise self.fail(key, f"expected \",\" or \".\", got {_shown(value)}")
        return value

    def dates(self, value: Any, key: str) -> tuple[DateFormat, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a date format or a list of them, e.g. \"dd/mm/yyyy\"")
        return tuple(self.date_format(v, key) for v in value)

    def date_format(self, value: Any, key: str) -> DateFormat:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a date format, got {_shown(value)}")
        label = value.strip()
        low = label.lower()
        if low == "excel":
            return DateFormat(label, "excel")
        if low == "iso":
            return DateFormat(label, "strptime", "%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}")
        if "%" in label:
            return DateFormat(label, "strptime", label, "")
        tokens = re.findall(r"yyyy|yy|mm|dd|[^a-z]", low)
        if "".join(tokens) != low or not {"dd", "mm"} <= set(tokens) or not ({"yyyy", "yy"} & set(tokens)):
            raise self.fail(key, f"'{label}' is not a date format (use dd, mm, yyyy or yy and separators, \"iso\" or \"excel\")")
        conv = {"yyyy": ("%Y", r"\d{4}"), "yy": ("%y", r"\d{2}"), "mm": ("%m", r"\d{1,2}"), "dd": ("%d", r"\d{1,2}")}
        fmt = "".join(conv[t][0] if t in conv else t.replace("%", "%%") for t in tokens)
        regex = "".join(conv[t][1] if t in conv else re.escape(t) for t in tokens)
        return DateFormat(label, "strptime", fmt, regex)

    def source(self, name: str, raw: dict[str, Any], decimal: str) -> SourceSpec:
        key = f"sources.{name}"
        self.known(raw, _SOURCE_KEYS, key)
        file = Path(self.name(raw["file"], f"{key}.file")) if "file" in raw else None
        if file is not None and not file.is_absolute():
            file = self.path.parent / file
        sheet = self.name(raw["sheet"], f"{key}.sheet") if "sheet" in raw else None
        delimiter = raw.get("delimiter", ",")
        if delimiter not in DELIMITERS:
            raise self.fail(f"{key}.delimiter", f"expected \",\", \";\", \"\\t\" (or \"tab\") or \"|\", got {_shown(delimiter)}")
        encoding = raw.get("encoding", "utf-8")
        if not isinstance(encoding, str) or encoding.lower() not in ENCODINGS:
            raise self.fail(f"{key}.encoding", f"expected utf-8, utf-8-sig, cp1252 or latin-1, got {_shown(encoding)}")
        header_row = raw.get("header_row", 1)
        if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
            raise self.fail(f"{key}.header_row", f"expected the number of the header line (1 or more), got {_shown(header_row)}")
        dates = self.dates(raw["date"], f"{key}.date") if "date" in raw else self.default_dates
        return SourceSpec(
            name, file, sheet, DELIMITERS[delimiter], ENCODINGS[encoding.lower()], header_row,
            self.decimal(raw.get("decimal", decimal), f"{key}.decimal"), dates,
        )

    def value_map(self, raw: Any, key: str, name: str) -> ValueMap:
        raw = self.table(raw, key)
        entries, shown = {}, {}
        for k, v in raw.items():
            if isinstance(v, list):
                if not v:
                    raise self.fail(f"{key}.\"{k}\"", "an empty list maps to nothing")
                values = tuple(self.text(x, f"{key}.\"{k}\"") for x in v)
            else:
                values = (self.text(v, f"{key}.\"{k}\""),)
            norm = _norm_one(k)
            if norm in entries and entries[norm] != values:
                raise self.fail(f"{key}.\"{k}\"", f"'{k}' and '{shown[norm]}' are the same value (case and spaces ignored) with different targets")
            entries[norm], shown[norm] = values, k
        return ValueMap(name, entries, shown)

    # -- value specs -------------------------------------------------------------
    def spec(self, raw: Any, key: str, target: Target, table: str | None) -> Spec:
        """A value spec; ``table`` is the target table (None inside lookups and levels)."""
        if isinstance(raw, str):
            return Spec(key, "column", target, columns=(self.name(raw, key),), dates=None)
        if isinstance(raw, list):
            raise self.fail(key, "a list is not a value spec: write { column = [\"A\", \"B\"] } to take the first non-empty column")
        raw = self.table(raw, key)
        bases = ["lookup"] if "lookup" in raw else [b for b in _BASES if b in raw]  # a lookup's value is its own
        if len(bases) != 1:
            raise self.fail(key, f"give exactly one of {', '.join(_BASES)} (got {', '.join(bases) or 'none'})")
        base = bases[0]
        allowed = {base, *_MODIFIERS} | (_LOOKUP_KEYS if base == "lookup" else set())
        self.known(raw, allowed, key)
        spec = Spec(key, base, target)
        if base == "column":
            cols = raw["column"]
            cols = [cols] if isinstance(cols, str) else cols
            if not isinstance(cols, list) or not cols:
                raise self.fail(f"{key}.column", "expected a column name or a list of them")
            spec.columns = tuple(self.name(c, f"{key}.column") for c in cols)
        elif base == "value":
            spec.value = self.text(raw["value"], f"{key}.value")
        elif base == "template":
            spec.parts = self.template(raw["template"], f"{key}.template")
        elif base == "lookup":
            self.lookup(spec, raw, key)
        elif base == "unit":
            self.unit(spec, raw["unit"], f"{key}.unit", table)
        elif base in ("person", "entity"):
            ref = {"person": "collaborators", "entity": "entities"}[base]
            if target.kind != "id" or TABLES[target.table].column(target.column).ref != ref:
                raise self.fail(f"{key}.{base}", f"'{base}' makes {ref} ids: it fits a column referencing {ref}, not {target.name}")
            spec.inner = self.spec(raw[base], f"{key}.{base}", TEXT, None)
        self.modifiers(spec, raw, key, table)
        return spec

    def template(self, raw: Any, key: str) -> tuple[tuple[str, str | None], ...]:
        text = self.name(raw, key)
        parts: list[tuple[str, str | None]] = []
        pos = 0
        literal = ""
        for m in re.finditer(r"\{\{|\}\}|\{([^{}]*)\}|[{}]", text):
            literal += text[pos : m.start()]
            pos = m.end()
            tok = m.group(0)
            if tok in ("{{", "}}"):
                literal += tok[0]
            elif m.group(1) is not None and m.group(1).strip():
                parts.append((literal, m.group(1).strip()))
                literal = ""
            else:
                raise self.fail(key, f"'{text}': braces must hold a column name, e.g. \"{{Prénom}} {{Nom}}\" ({{{{ and }}}} for a brace)")
        parts.append((literal + text[pos:], None))
        if all(c is None for _, c in parts):
            raise self.fail(key, f"'{text}' names no column: use {{ value = ... }} for a constant")
        return tuple(parts)

    def lookup(self, spec: Spec, raw: dict[str, Any], key: str) -> None:
        name = self.name(raw["lookup"], f"{key}.lookup")
        base: dict[str, Any] = {}
        if name in self.lookups:
            base = dict(self.lookups[name])
            source = base.pop("source", None)
            if source is None:
                raise self.fail(f"lookups.{name}.source", "missing: the source to look values up in")
        else:
            source = name
        if source not in self.sources:
            what = "a [lookups] entry or a source" if name == source else "a source"
            raise self.fail(f"{key}.lookup", f"'{source}' is not {what} (sources: {', '.join(self.sources)})")
        merged = {**base, **{k: raw[k] for k in _LOOKUP_KEYS if k in raw}}
        for needed in ("match", "key", "value"):
            if needed not in merged:
                raise self.fail(f"{key}.{needed}", f"missing: a lookup needs match (this row's value), key (the column of {source} to find it in) and value (what to take)")
        spec.lookup_source = source
        spec.match = self.spec(merged["match"], f"{key}.match", TEXT, None)
        spec.lookup_key = self.spec(merged["key"], f"{key}.key", TEXT, None)
        spec.lookup_value = self.spec(merged["value"], f"{key}.value", TEXT, None)
        on_miss = merged.get("on_miss", "reject")
        if on_miss not in ("reject", "empty"):
            raise self.fail(f"{key}.on_miss", f"expected \"reject\" or \"empty\", got {_shown(on_miss)}")
        spec.on_miss = on_miss

    def unit(self, spec: Spec, raw: Any, key: str, table: str | None) -> None:
        target = spec.target
        if target.kind != "id" or TABLES[target.table].column(target.column).ref != "org_units":
            raise self.fail(key, f"'unit' makes org unit ids: it fits a column referencing org_units, not {target.name}")
        raw = self.table(raw, key)
        self.known(raw, LEVELS, key)
        given = [lvl for lvl in LEVELS if lvl in raw]
        if not given:
            raise self.fail(key, "name at least one level: region, agency or team")
        first = LEVELS.index(given[0])
        if given != list(LEVELS[first : first + len(given)]):
            raise self.fail(key, f"levels must follow each other (region, agency, team); got {', '.join(given)}")
        spec.levels = {lvl: self.spec(raw[lvl], f"{key}.{lvl}", TEXT, None) for lvl in given}

    def modifiers(self, spec: Spec, raw: dict[str, Any], key: str, table: str | None) -> None:
        target = spec.target
        structural = spec.kind in ("unit", "person", "entity")
        if "default" in raw:
            spec.default = self.text(raw["default"], f"{key}.default")
            self.allowed_value(spec.default, target, f"{key}.default")
        for mod in ("map", "otherwise", "keep_unmapped", "date", "money"):
            if mod in raw and structural:
                raise self.fail(f"{key}.{mod}", f"put '{mod}' inside the {spec.kind} spec (it applies to the name)")
        if "map" in raw:
            m = raw["map"]
            if isinstance(m, str):
                if m not in self.maps:
                    raise self.fail(f"{key}.map", f"no map named '{m}' (maps: {', '.join(self.maps) or 'none'})")
                spec.map = self.maps[m]
            else:
                spec.map = self.value_map(m, f"{key}.map", key)
            for norm, values in spec.map.entries.items():
                where = f"maps.{spec.map.name}" if isinstance(m, str) else f"{key}.map"
                self.allowed_map_values(values, target, f"{where}.\"{spec.map.shown[norm]}\"")
        if "otherwise" in raw:
            if spec.map is None:
                raise self.fail(f"{key}.otherwise", "'otherwise' gives the value of the entries missing from the map: add a map")
            spec.otherwise = self.text(raw["otherwise"], f"{key}.otherwise")
            self.allowed_map_values((spec.otherwise,), target, f"{key}.otherwise")
        if "keep_unmapped" in raw:
            if not isinstance(raw["keep_unmapped"], bool):
                raise self.fail(f"{key}.keep_unmapped", "expected true or false")
            if raw["keep_unmapped"] and spec.map is None:
                raise self.fail(f"{key}.keep_unmapped", "only meaningful with a map")
            spec.keep_unmapped = raw["keep_unmapped"]
        if "date" in raw:
            if target.kind != "date":
                raise self.fail(f"{key}.date", f"{target.name} is not a date column")
            spec.dates = self.dates(raw["date"], f"{key}.date")
        if "money" in raw:
            if target.kind != "amount":
                raise self.fail(f"{key}.money", f"{target.name} is not an amount")
            if raw["money"] not in ("euros", "cents"):
                raise self.fail(f"{key}.money", f"expected \"euros\" or \"cents\", got {_shown(raw['money'])}")
            spec.money = raw["money"]
        if "only_if" in raw:
            if table is None:
                raise self.fail(f"{key}.only_if", "only a column of a target table can be conditional")
            cond = self.table(raw["only_if"], f"{key}.only_if")
            out = {}
            for col, vals in cond.items():
                if col not in TABLES[table].column_names:
                    raise self.fail(f"{key}.only_if.{col}", f"not a column of {table}")
                vals = vals if isinstance(vals, list) else [vals]
                out[col] = tuple(self.text(v, f"{key}.only_if.{col}") for v in vals)
            spec.only_if = out

    def allowed_value(self, value: str, target: Target, key: str) -> None:
        if target.kind == "enum" and value not in target.values:
            raise self.fail(key, f"'{value}' is not a value of {target.name} ({', '.join(target.values)})")

    def allowed_map_values(self, values: tuple[str, ...], target: Target, key: str) -> None:
        if target.kind != "enum":
            return
        if target.special:
            bad = [v for v in values if v not in _STATUS_WORDS]
            if bad:
                raise self.fail(key, f"'{bad[0]}' is not a status: a status map gives {', '.join(_STATUS_WORDS)}")
        elif not any(v in target.values for v in values):
            raise self.fail(key, f"'{values[0]}' is not a value of {target.name} ({', '.join(target.values)})")

    # -- tables ------------------------------------------------------------------
    def table_spec(self, name: str, raw: dict[str, Any]) -> TableSpec:
        key = f"tables.{name}"
        self.known(raw, _TABLE_KEYS if name == "document_lines" else _TABLE_KEYS - {"lines", "document_id"}, key)
        spec = TableSpec(name, key)
        if "rows" in raw:
            if "source" in raw or "columns" in raw:
                raise self.fail(f"{key}.rows", "give either rows (literal rows) or source and columns")
            if "merge" in raw:
                raise self.fail(f"{key}.merge", "only for rows read from sources")
            rows = raw["rows"]
            if not isinstance(rows, list):
                raise self.fail(f"{key}.rows", "expected a list of tables, e.g. rows = [{ id = \"G1\", name = \"Direction\" }]")
            out = []
            for i, row in enumerate(rows, 1):
                row = self.table(row, f"{key}.rows[{i}]")
                self.known(row, TABLES[name].column_names, f"{key}.rows[{i}]")
                out.append({c: self.text(v, f"{key}.rows[{i}].{c}") for c, v in row.items()})
            spec.rows = tuple(out)
            return spec
        if "source" not in raw:
            if name == "document_lines" and "lines" in raw:
                raw = {**raw, "source": []}  # the sources of documents (check_whole)
            else:
                raise self.fail(f"{key}.source", "missing: the source(s) whose rows become rows of this table")
        src = raw["source"]
        src = [src] if isinstance(src, str) else src
        if not isinstance(src, list) or not (src or "lines" in raw):
            raise self.fail(f"{key}.source", "expected a source name or a list of them")
        for s in src:
            if s not in self.sources:
                raise self.fail(f"{key}.source", f"'{s}' is not a source (sources: {', '.join(self.sources)})")
        spec.sources = tuple(src)
        merge = raw.get("merge", False)
        if not isinstance(merge, bool) or (merge and "lines" in raw):
            raise self.fail(f"{key}.merge", "expected true or false (and not with lines)")
        spec.merge = merge
        columns = self.table(raw.get("columns", {}), f"{key}.columns")
        for col in columns:
            if col not in TABLES[name].column_names:
                raise self.fail(f"{key}.columns.{col}", f"not a column of {name} ({', '.join(TABLES[name].column_names)})")
        spec.columns = {
            col: self.spec(columns[col], f"{key}.columns.{col}", _target(name, col), name)
            for col in TABLES[name].column_names
            if col in columns
        }
        if "lines" in raw:
            if columns:
                raise self.fail(f"{key}.lines", "give either lines (amount columns → lines) or columns (one line per row)")
            lines = raw["lines"]
            if not isinstance(lines, list) or not lines:
                raise self.fail(f"{key}.lines", "expected a list of tables: [[tables.document_lines.lines]] amount = ..., billing = ..., mission = ...")
            spec.lines = tuple(self.line_spec(self.table(e, f"{key}.lines[{i}]"), f"{key}.lines[{i}]") for i, e in enumerate(lines, 1))
            if "document_id" in raw:
                spec.document_id = self.spec(raw["document_id"], f"{key}.document_id", _target(name, "document_id"), name)
            return spec
        if "document_id" in raw:
            raise self.fail(f"{key}.document_id", "only with lines (put it in columns otherwise)")
        optional_ok = {("collaborators", "active"), ("document_lines", "line_no")}
        for col in TABLES[name].columns:
            if col.required and col.name not in spec.columns and (name, col.name) not in optional_ok:
                raise self.fail(f"{key}.columns.{col.name}", f"missing: {name}.{col.name} is required")
        return spec

    def line_spec(self, raw: dict[str, Any], key: str) -> LineSpec:
        self.known(raw, {"amount", "billing", "mission", "keep_zero"}, key)
        for needed in ("amount", "billing", "mission"):
            if needed not in raw:
                raise self.fail(f"{key}.{needed}", "missing: each line needs amount, billing and mission")
        keep_zero = raw.get("keep_zero", False)
        if not isinstance(keep_zero, bool):
            raise self.fail(f"{key}.keep_zero", "expected true or false")
        return LineSpec(
            key,
            self.spec(raw["amount"], f"{key}.amount", _target("document_lines", "amount_cents"), "document_lines"),
            self.spec(raw["billing"], f"{key}.billing", _target("document_lines", "billing"), "document_lines"),
            self.spec(raw["mission"], f"{key}.mission", _target("document_lines", "mission"), "document_lines"),
            keep_zero,
        )

    def people(self, raw: Any) -> PeopleSpec:
        raw = self.table(raw, "people")
        self.known(raw, {"columns", "roles", "validators"}, "people")
        roles = dict(DEFAULT_ROLES)
        for col, fn in self.table(raw.get("roles", {}), "people.roles").items():
            if fn not in FUNCTIONS:
                raise self.fail(f"people.roles.{col}", f"'{fn}' is not a function ({', '.join(FUNCTIONS)})")
            roles[col] = fn
        validators = raw.get("validators", list(DEFAULT_VALIDATORS))
        if not isinstance(validators, list) or any(v not in FUNCTIONS for v in validators):
            raise self.fail("people.validators", f"expected a list of functions ({', '.join(FUNCTIONS)})")
        cols = self.table(raw.get("columns", {}), "people.columns")
        self.known(cols, _PEOPLE_COLUMNS, "people.columns")
        specs = {c: self.spec(v, f"people.columns.{c}", _target("collaborators", c), None) for c, v in cols.items()}
        for c, s in specs.items():
            if s.kind in ("unit", "person"):
                raise self.fail(f"people.columns.{c}", f"'{s.kind}' cannot be used in [people]")
        return PeopleSpec(specs, roles, tuple(validators))

    # -- whole-mapping checks ------------------------------------------------------
    def check_whole(self, m: ImportMapping) -> None:
        specs = [(t, c, s) for t, ts in m.tables.items() for c, s in _table_specs(ts)]
        units = [s for *_, s in specs if s.kind == "unit"]
        if units and m.org is None:
            raise self.fail(units[0].key, "builds org units from names: add an [org] section naming the firm")
        if m.org is not None and "org_units" in m.tables:
            raise self.fail("org", "give either [org] (tree built from names) or [tables.org_units], not both")
        if m.org is None and "org_units" not in m.tables:
            raise self.fail("tables.org_units", "nothing builds the organisation tree: add [org] (with `unit` columns) or [tables.org_units]")
        persons = [s for *_, s in specs if s.kind == "person"]
        if persons and "collaborators" in m.tables:
            raise self.fail(persons[0].key, "'person' makes collaborators from names, but [tables.collaborators] maps a directory: use a lookup instead")
        if m.people is not None and not persons:
            raise self.fail("people", "no column uses { person = ... }: [people] has nothing to build")
        entities = [s for *_, s in specs if s.kind == "entity"]
        if entities and "entities" in m.tables:
            raise self.fail(entities[0].key, "'entity' makes entities from names, but [tables.entities] maps them: use a lookup instead")
        for table, ts in m.tables.items():
            for spec in ts.columns.values():
                for cond in spec.only_if:
                    other = ts.columns.get(cond)
                    if other is None:
                        raise self.fail(f"{spec.key}.only_if.{cond}", f"{table}.{cond} is not mapped")
                    if other.only_if:
                        raise self.fail(f"{spec.key}.only_if.{cond}", f"{table}.{cond} is itself conditional")
        lines = m.tables.get("document_lines")
        if lines is not None and lines.lines:
            docs = m.tables.get("documents")
            srcs = lines.sources or (docs.sources if docs else ())
            if not lines.sources:
                if not docs or not docs.sources:
                    raise self.fail("tables.document_lines.source", "missing: no documents source to take it from")
                lines.sources = srcs
            if lines.document_id is None:
                if not docs or "id" not in docs.columns or set(srcs) - set(docs.sources):
                    raise self.fail("tables.document_lines.document_id", "missing: lines can borrow documents' id only when they read the same sources")
                lines.document_id = docs.columns["id"]


def _table_specs(ts: TableSpec) -> list[tuple[str, Spec]]:
    out = list(ts.columns.items())
    for line in ts.lines:
        out += [("amount_cents", line.amount), ("billing", line.billing), ("mission", line.mission)]
    if ts.document_id is not None and ts.lines:
        out.append(("document_id", ts.document_id))
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping file; raises :class:`MappingError` with the key at fault."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MappingError(f"{path}: a mapping file must be UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    return _Parser(path, doc).parse()


# ---------------------------------------------------------------------------
# text helpers (vectorised)


def _norm_one(text: str) -> str:
    return _norm(pd.Series([text], dtype="str")).iloc[0]


def _distinct(s: pd.Series, fn: Any) -> Any:
    """``fn`` applied to the distinct values of ``s`` only, spread back over its rows.

    ``fn`` takes a ``str`` series without nulls and returns a series, a boolean array,
    or a tuple of them, aligned on it; nulls of ``s`` give null (or False).
    """
    codes, uniques = pd.factorize(s)
    res = fn(pd.Series(uniques, dtype="str"))
    present = codes >= 0
    safe = np.where(present, codes, 0)

    def back(r: Any) -> Any:
        if isinstance(r, pd.Series):
            if not len(uniques):
                return pd.Series(np.nan, index=s.index, dtype=r.dtype)
            return pd.Series(r.to_numpy()[safe], index=s.index, dtype=r.dtype).where(present)
        arr = np.asarray(r)
        return arr[safe] & present if len(uniques) else np.zeros(len(s), dtype=bool)

    return tuple(back(r) for r in res) if isinstance(res, tuple) else back(res)


def _norm(s: pd.Series) -> pd.Series:
    """Values compared by maps and lookups: NFC, case-folded, inner spaces collapsed, trimmed."""
    return _distinct(s, lambda u: u.str.normalize("NFC").str.casefold().str.replace(r"\s+", " ", regex=True).str.strip())


def _slugs(values: pd.Series) -> pd.Series:
    """ASCII slugs (accents dropped, lower case, runs of other characters → '-'), by distinct value."""
    uniq = pd.Series(values.dropna().unique(), dtype="str")
    slug = (
        uniq.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
        .str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True).str.strip("-")
    )
    empty = slug.isna() | (slug == "")
    if empty.any():
        slug[empty] = ["x" + hashlib.sha1(v.encode()).hexdigest()[:8] for v in uniq[empty]]
    return values.map(dict(zip(uniq, slug, strict=True))).astype("str")


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _str(values: Any, n: int | None = None) -> pd.Series:
    if n is not None and not isinstance(values, pd.Series):
        return pd.Series([values] * n if values is not None else np.nan, index=range(n), dtype="str")
    s = pd.Series(values, dtype="str") if not isinstance(values, pd.Series) else values.astype("str")
    return s.reset_index(drop=True)


def _blank(s: pd.Series) -> pd.Series:
    """Trimmed; empty → null."""

    def strip(u: pd.Series) -> pd.Series:
        u = u.str.strip()
        return u.mask(u == "")

    return _distinct(s, strip)


# ---------------------------------------------------------------------------
# reading the sources


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


def _read_csv(spec: SourceSpec, path: Path) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Header, rows as text, line of each row, and lines with too many fields."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"{path}: no such file (mapping key sources.{spec.name}.file)") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc.strerror}) (mapping key sources.{spec.name}.file)") from None
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


def _read_excel(spec: SourceSpec, path: Path) -> tuple[list[str], pd.DataFrame, np.ndarray, pd.DataFrame]:
    import zipfile

    import openpyxl

    key = f"sources.{spec.name}"
    if not path.exists():
        raise MappingError(f"{path}: no such file (mapping key {key}.file)")
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


def read_source(spec: SourceSpec, path: Path | None = None) -> tuple[Source, pd.DataFrame]:
    """One source as text, and the rows rejected while reading (row, reason)."""
    path = Path(path) if path is not None else spec.file
    if path is None:
        raise MappingError(f"sources.{spec.name}: no file: give file = \"...\" in the mapping or {spec.name}=PATH on the command line")
    excel = spec.sheet is not None or path.suffix.lower() in EXCEL_SUFFIXES
    header, frame, lines, bad = (_read_excel if excel else _read_csv)(spec, path)
    label = f"{path}[{spec.sheet}]" if excel and spec.sheet else str(path)
    # blank rows are not rows
    if len(frame.columns):
        blank = (_blank(frame[frame.columns[0]].astype("str")).isna()).to_numpy(copy=True)
        for c in frame.columns[1:]:
            if not blank.any():
                break
            blank[blank] = _blank(frame.loc[blank, c].astype("str")).isna().to_numpy()
        frame, lines = frame[~blank].reset_index(drop=True), lines[~blank]
    names = [_norm_one(h) if h.strip() else "" for h in header]
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


# ---------------------------------------------------------------------------
# values


@dataclass(eq=False)
class Val:
    """Values of a spec for every row of a source, with the reason of each failed cell."""

    v: pd.Series  # str dtype, NaN = null
    err: np.ndarray  # object: reason or None
    kind: np.ndarray  # object: unmapped, not found, ambiguous, bad date, bad amount, org, no document
    shown: np.ndarray  # object: the source value behind a failure
    raw: pd.Series | None = None  # the source value before map and parsing

    def __post_init__(self) -> None:
        if self.raw is None:
            self.raw = self.v

    @classmethod
    def of(cls, v: pd.Series) -> Val:
        n = len(v)
        return cls(_str(v), np.full(n, None, object), np.full(n, None, object), np.full(n, None, object))

    def copy(self, v: pd.Series | None = None) -> Val:
        return Val(self.v if v is None else _str(v), self.err.copy(), self.kind.copy(), self.shown.copy(), self.raw)

    def ok_mask(self) -> np.ndarray:
        return pd.isna(self.err).astype(bool)

    def fail(self, mask: np.ndarray, reason: pd.Series | str, kind: str, shown: pd.Series | None) -> None:
        mask = np.asarray(mask, dtype=bool) & self.ok_mask()
        if not mask.any():
            return
        self.err[mask] = reason[mask].to_numpy(dtype=object) if isinstance(reason, pd.Series) else reason
        self.kind[mask] = kind
        self.shown[mask] = shown[mask].to_numpy(dtype=object) if shown is not None else None

    def take(self, other: Val) -> None:
        """Carry the failures of ``other`` (same rows) where this has none."""
        bad = ~other.ok_mask()
        mask = bad & self.ok_mask()
        self.err[mask], self.kind[mask], self.shown[mask] = other.err[mask], other.kind[mask], other.shown[mask]


def _q(s: pd.Series) -> pd.Series:
    return "'" + s.astype("str").fillna("") + "'"


def spec_columns(spec: Spec) -> str:
    """The source columns a spec reads, for the rejects file."""
    if spec.kind == "column":
        return " or ".join(spec.columns)
    if spec.kind == "value":
        return f"(constant '{spec.value}')"
    if spec.kind == "template":
        return ", ".join(dict.fromkeys(c for _, c in spec.parts if c))
    if spec.kind == "lookup":
        return f"{spec_columns(spec.match)} → {spec.lookup_source}"
    if spec.kind == "unit":
        return ", ".join(spec_columns(s) for s in spec.levels.values())
    if spec.kind in ("person", "entity"):
        return spec_columns(spec.inner)
    return ""


def describe(spec: Spec) -> str:
    """A one-line description of a spec, for ``--check``."""
    if spec.kind == "column":
        base = " or ".join(f"column '{c}'" for c in spec.columns)
    elif spec.kind == "value":
        base = f"constant '{spec.value}'"
    elif spec.kind == "template":
        base = "template '" + "".join(lit.replace("{", "{{").replace("}", "}}") + (f"{{{c}}}" if c else "") for lit, c in spec.parts) + "'"
    elif spec.kind == "lookup":
        base = f"lookup {describe(spec.match)} in {spec.lookup_source} by {describe(spec.lookup_key)}, taking {describe(spec.lookup_value)}"
        if spec.on_miss == "empty":
            base += " (empty when not found)"
    elif spec.kind == "unit":
        base = "org unit from " + " / ".join(f"{lvl} {describe(s)}" for lvl, s in spec.levels.items())
    else:
        base = f"{spec.kind} named by {describe(spec.inner)}"
    if spec.map is not None:
        base += f", map {spec.map.name}"
        if spec.otherwise is not None:
            base += f" (otherwise '{spec.otherwise}')"
        if spec.keep_unmapped:
            base += " (others kept)"
    if spec.dates:
        base += ", dates " + " or ".join(d.label for d in spec.dates)
    if spec.target.kind == "amount":
        base += f", amount in {spec.money}"
    if spec.default is not None:
        base += f", default '{spec.default}'"
    if spec.only_if:
        base += ", only if " + " and ".join(f"{c} is {' or '.join(v)}" for c, v in spec.only_if.items())
    return base


def _project(target: Target, values: tuple[str, ...]) -> str:
    """The value a (possibly multi-valued) map entry gives to a column.

    A status map feeds deals.status and documents.status: the deal is ``abandoned``
    when the entry says so, else ``open``; the document takes the entry's document
    status, and there is no document when it has none (``no document``, ``abandoned``).
    """
    if target.special and target.table == "deals":
        return "abandoned" if "abandoned" in values else "open"
    if target.special:
        return next((v for v in values if v in DOC_STATUSES), NO_DOCUMENT)
    if target.kind == "enum":
        return next(v for v in values if v in target.values)
    return values[0]


def _parse_dates(s: pd.Series, formats: Sequence[DateFormat]) -> tuple[pd.Series, np.ndarray]:
    """Values (no nulls) → ISO dates; ISO dates (with or without a time) are always accepted."""
    base = s.str.replace(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)$", "", regex=True).str.strip()
    out = pd.Series(np.nan, index=s.index, dtype="str")
    todo = np.ones(len(s), dtype=bool)
    iso = DateFormat("iso", "strptime", "%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}")
    for f in (*formats, iso):
        if not todo.any():
            break
        sub = base[todo]
        if f.kind == "excel":
            m = sub.str.fullmatch(r"\d{1,6}(?:[.,]\d+)?").fillna(False).to_numpy(dtype=bool)
            days = pd.to_numeric(sub[m].str.replace(r"[.,]\d+$", "", regex=True), errors="coerce")
            good = (days >= 1) & (days <= _MAX_EXCEL_SERIAL)
            dates = (_EXCEL_EPOCH + pd.to_timedelta(days[good], unit="D")).dt.strftime("%Y-%m-%d")
            idx = sub[m][good.to_numpy()].index
        else:
            if f.regex:
                m = sub.str.fullmatch(f.regex).fillna(False).to_numpy(dtype=bool)
            else:
                m = np.ones(len(sub), dtype=bool)
            parsed = pd.to_datetime(sub[m], format=f.fmt, errors="coerce")
            good = parsed.notna()
            dates = parsed[good].dt.strftime("%Y-%m-%d")
            idx = sub[m][good.to_numpy()].index
        out[idx] = dates.astype("str").to_numpy()
        todo[s.index.get_indexer(idx)] = False
    return out, ~todo


_MONEY = {
    ",": r"^([+-]?)(\d{1,3}(?:[.'’]\d{3})+|\d+)(?:,(\d*))?$",
    ".": r"^([+-]?)(\d{1,3}(?:[,'’]\d{3})+|\d+)(?:\.(\d*))?$",
}


def _parse_money(s: pd.Series, decimal: str, currency: Sequence[str], money: str) -> tuple[pd.Series, pd.Series]:
    """Amounts (no nulls) → integer cents as text, exactly (string arithmetic, never float).

    Currency symbols and spaces (also no-break) go; ``decimal`` is the decimal mark and
    the other of ``.``/``,`` (or an apostrophe) may group thousands. Returns the cents
    and, where the value is no amount, the reason.
    """
    cur = "|".join(re.escape(c) for c in sorted(currency, key=len, reverse=True))
    t = s.str.replace(f"(?i:{cur})", "", regex=True) if cur else s
    t = t.str.replace(r"\s+", "", regex=True)
    parts = t.str.extract(_MONEY[decimal])
    sign, whole, frac = parts[0], parts[1], parts[2].fillna("")
    whole = whole.str.replace(r"\D", "", regex=True)
    reason = pd.Series(np.nan, index=s.index, dtype="str")
    mark = "decimal comma" if decimal == "," else "decimal point"
    reason[whole.isna()] = f"is not an amount ({mark}, e.g. " + ("1 234,50 €)" if decimal == "," else "1,234.50 €)")
    keep = 2 if money == "euros" else 0
    too_fine = whole.notna() & frac.str[keep:].str.contains("[1-9]", regex=True).fillna(False)
    reason[too_fine & reason.isna()] = "has more than 2 decimals (not whole cents)" if keep else "is not a whole number of cents"
    digits = whole + frac.str[:keep].str.pad(keep, side="right", fillchar="0") if keep else whole
    digits = digits.str.lstrip("0").replace("", "0")
    digits = digits.where(~((sign == "-") & (digits != "0")), "-" + digits)
    return digits.where(reason.isna()), reason


# ---------------------------------------------------------------------------
# building the tables


@dataclass(eq=False)
class _Cells:
    """Rows of one target table under construction: values, failures, provenance."""

    values: dict[str, pd.Series]
    errors: dict[str, Val]
    source: np.ndarray  # source name per row
    row: np.ndarray  # source row number per row
    part: np.ndarray  # lines entry index per row (-1 otherwise)

    @property
    def n(self) -> int:
        return len(self.row)


@dataclass(frozen=True)
class MappingIssue:
    """A value the mapping could not map, counted over the source rows holding it."""

    kind: str
    target: str  # table.column
    source_column: str
    value: str
    reason: str
    rows: int


@dataclass(eq=False)
class Built:
    """The nine tables as text, with provenance and the failures of the mapping."""

    mapping: ImportMapping
    sources: Mapping[str, Source]
    read_rejects: Mapping[str, pd.DataFrame]  # source → rows rejected while reading
    raw: Mapping[str, pd.DataFrame]
    provenance: Mapping[str, pd.DataFrame]  # table → source, row, part
    overrides: pd.DataFrame  # table, line, column, value, reason, kind, source_column
    source_columns: Mapping[tuple[str, str, int], str]
    described: Mapping[str, list[tuple[str, str]]]  # table → (column, description)
    drivers: Mapping[str, str]  # table → how its rows are made
    notes: tuple[str, ...] = ()
    merged: pd.DataFrame | None = None  # rows merged into another (merge = true): table, line, source, row

    def issues(self) -> list[MappingIssue]:
        """Every value the mapping could not map, grouped with counts."""
        o = self.overrides
        o = o[o["kind"] != "duplicate"]  # listed with the rejections, not a value to map
        if o.empty:
            return []
        prov = []
        for table, part in o.groupby("table", sort=False):
            p = self.provenance[table]
            pos = part["line"].to_numpy() - 1
            prov.append(pd.DataFrame({"source": p["source"].to_numpy()[pos], "row": p["row"].to_numpy()[pos]}, index=part.index))
        o = o.join(pd.concat(prov))
        o = o.assign(target=o["table"] + "." + o["column"])
        out = []
        for (kind, target, col, value), g in o.groupby(["kind", "target", "source_column", "value"], sort=True, dropna=False):
            out.append(MappingIssue(str(kind), str(target), str(col), "" if pd.isna(value) else str(value), str(g["reason"].iloc[0]), int(g[["source", "row"]].drop_duplicates().shape[0])))
        return sorted(out, key=lambda i: (i.kind, i.target, -i.rows, i.value))


class _Builder:
    def __init__(self, mapping: ImportMapping, sources: Mapping[str, Source]):
        self.m = mapping
        self.sources = sources
        self.cache: dict[tuple[int, str], Val] = {}
        self.units: dict[tuple[str, ...], str] = {}  # path of slugs → id
        self.unit_rows: list[dict[str, Any]] = []
        self.by_kind: dict[str, dict[str, list[tuple[str, ...]]]] = {lvl: {} for lvl in LEVELS}
        self.people: dict[str, dict[str, Any]] = {}  # slug → id, login, name, role rank, source, row
        self.entities: dict[str, dict[str, Any]] = {}
        self.no_doc: dict[str, tuple[np.ndarray, Val]] = {}
        self.source_columns: dict[tuple[str, str, int], str] = {}
        self.described: dict[str, list[tuple[str, str]]] = {}
        self.drivers: dict[str, str] = {}
        self.notes: list[str] = []
        self.merged: list[pd.DataFrame] = []  # rows merged into another: table, line, source, row
        self.disagree: dict[str, dict[int, str]] = {}  # table → line → columns on which same-key rows differ
        self.named_in: dict[str, dict[str, None]] = {}  # person/entity → target columns naming them

    # -- reading columns -------------------------------------------------------------
    def column(self, src: Source, spec: Spec, names: Sequence[str]) -> pd.Series:
        found = []
        for name in names:
            norm = _norm_one(name)
            if norm in src.duplicated:
                raise MappingError(f"{src.label}: column '{name}' appears twice in the header (mapping key {spec.key})")
            if norm in src.columns:
                if norm not in src.blanked:
                    src.blanked[norm] = _blank(src.columns[norm])
                found.append(src.blanked[norm])
        if not found:
            shown = ", ".join(f"'{h}'" for h in src.headers if h.strip()) or "none"
            which = " or ".join(f"'{n}'" for n in names)
            raise MappingError(f"{src.label}: no column {which} (mapping key {spec.key}); columns found: {shown}")
        out = found[0]
        for s in found[1:]:
            out = out.fillna(s)
        return out

    # -- evaluating specs ------------------------------------------------------------
    def eval(self, spec: Spec, src: Source) -> Val:
        key = (id(spec), src.name)
        if key not in self.cache:
            self.cache[key] = self._eval(spec, src)
        return self.cache[key]

    def _eval(self, spec: Spec, src: Source) -> Val:
        n = src.n
        if spec.kind == "column":
            val = Val.of(self.column(src, spec, spec.columns))
        elif spec.kind == "value":
            val = Val.of(_str(spec.value, n))
        elif spec.kind == "template":
            acc = pd.Series("", index=range(n), dtype="str")
            present = np.zeros(n, dtype=bool)
            for literal, col in spec.parts:
                acc = acc + literal
                if col is not None:
                    s = self.column(src, spec, (col,))
                    acc = acc + s.fillna("")
                    present |= s.notna().to_numpy()
                    continue
            acc = acc.str.strip()
            val = Val.of(acc.where(present & (acc != "").to_numpy()))
        elif spec.kind == "lookup":
            val = self.lookup(spec, src)
        elif spec.kind == "unit":
            return self.unit(spec, src)
        elif spec.kind == "person":
            return self.named(spec, src, self.people, "person")
        elif spec.kind == "entity":
            return self.named(spec, src, self.entities, "entity")
        else:  # pragma: no cover - closed set
            raise AssertionError(spec.kind)
        return self.finish(spec, src, val)

    def lookup(self, spec: Spec, src: Source) -> Val:
        other = self.sources[spec.lookup_source]
        match = self.eval(spec.match, src)
        keys, values = self.eval(spec.lookup_key, other), self.eval(spec.lookup_value, other)
        table = pd.DataFrame({"k": _norm(keys.v), "v": values.v, "row": other.rows}).dropna(subset=["k"])
        first = table.drop_duplicates("k").set_index("k")
        counts = table.groupby("k")["v"].nunique(dropna=False)
        ambiguous = counts[counts > 1].index
        mk = _norm(match.v)
        res = mk.map(first["v"]).astype("str")
        val = match.copy(res)
        label = spec_columns(spec.match)
        shown = match.v
        found = mk.isin(first.index).to_numpy()
        amb = mk.isin(ambiguous).to_numpy()
        if amb.any():
            rows = table[table["k"].isin(mk[amb].unique())].groupby("k")["row"].apply(lambda r: ", ".join(map(str, r.iloc[:3])))
            val.fail(amb, f"{label} " + _q(shown) + f" matches several rows of {spec.lookup_source} with different values (rows " + mk.map(rows) + ")", "ambiguous", shown)
        miss = match.v.notna().to_numpy() & ~found
        if miss.any() and spec.on_miss == "reject":
            val.fail(miss, f"{label} " + _q(shown) + f" not found in {spec.lookup_source} ({spec_columns(spec.lookup_key)})", "not found", shown)
        # failures of the looked-up value travel with it
        if not values.ok_mask().all():
            pos = pd.Series(np.arange(other.n), index=_norm(keys.v)).loc[lambda p: ~p.index.duplicated()]
            idx = mk.map(pos)
            hit = idx.notna().to_numpy()
            carried = Val.of(res)
            ii = idx[hit].astype("int64").to_numpy()
            carried.err[hit], carried.kind[hit], carried.shown[hit] = values.err[ii], values.kind[ii], values.shown[ii]
            val.take(carried)
        return val

    def finish(self, spec: Spec, src: Source, val: Val) -> Val:
        """default, map, then the parsing the target column needs."""
        target = spec.target
        v = val.v
        raw = v
        label = spec_columns(spec)
        present = v.notna().to_numpy()
        out = val.copy()
        if spec.map is not None:
            entries = {k: _project(target, vals) for k, vals in spec.map.entries.items()}
            norm = _norm(v)
            mapped = norm.map(entries).astype("str")
            unmapped = present & mapped.isna().to_numpy()
            if spec.otherwise is not None:
                mapped[unmapped] = _project(target, (spec.otherwise,))
            elif spec.keep_unmapped:
                mapped[unmapped] = v[unmapped]
            else:
                out.fail(unmapped, f"{label} " + _q(raw) + f" is not in map {spec.map.name}", "unmapped", raw)
            v = mapped
        elif target.kind == "enum":
            allowed = DEAL_STATUSES if target.special and target.table == "deals" else DOC_STATUSES if target.special else target.values
            ok = v.isin(allowed).to_numpy()
            out.fail(present & ~ok, f"{label} " + _q(raw) + f" is not one of {', '.join(allowed)}: add a map", "unmapped", raw)
        if target.kind == "date":
            todo = present & out.ok_mask()
            parsed, ok = _distinct(v[todo], lambda u: _parse_dates(u, spec.dates or src.spec.dates))
            v = v.copy()
            v[todo] = parsed.to_numpy()
            bad = np.zeros(len(v), dtype=bool)
            bad[np.flatnonzero(todo)[~ok]] = True
            fmts = " or ".join(d.label for d in (spec.dates or src.spec.dates))
            out.fail(bad, f"{label} " + _q(raw) + f" is not a date ({fmts})", "bad date", raw)
        elif target.kind == "amount":
            todo = present & out.ok_mask()
            cents, reason = _distinct(v[todo], lambda u: _parse_money(u, src.spec.decimal, self.m.currency, spec.money))
            v = v.copy()
            v[todo] = cents.to_numpy()
            bad = np.zeros(len(v), dtype=bool)
            bad[np.flatnonzero(todo)] = reason.notna().to_numpy()
            full = pd.Series(np.nan, index=v.index, dtype="str")
            full[todo] = reason.to_numpy()
            out.fail(bad, f"{label} " + _q(raw) + " " + full, "bad amount", raw)
        if spec.default is not None:
            v = v.where(present, _project(target, (spec.default,)) if target.special else spec.default)
        out.v = _str(v)
        out.raw = raw
        return out

    # -- org units -------------------------------------------------------------------
    def unit(self, spec: Spec, src: Source) -> Val:
        return self.resolve_units(spec, src, grow=False)

    def resolve_units(self, spec: Spec, src: Source, *, grow: bool) -> Val:
        """Org unit ids of the rows; ``grow`` adds the units met (tree building)."""
        n = src.n
        levels = list(spec.levels)
        vals = {lvl: self.eval(s, src) for lvl, s in spec.levels.items()}
        names = pd.DataFrame({lvl: vals[lvl].v for lvl in levels})
        slugs = pd.DataFrame({lvl: _slugs(names[lvl]) for lvl in levels})
        out = Val.of(pd.Series(np.nan, index=range(n), dtype="str"))
        for lvl in levels:
            out.take(vals[lvl])
        present = names.notna().to_numpy()
        # a level given below an empty one
        gap = np.zeros(n, dtype=bool)
        for i in range(1, len(levels)):
            gap_i = present[:, i] & ~present[:, : i].all(axis=1)
            if gap_i.any():
                above = levels[i - 1]
                out.fail(gap_i & ~gap, f"{levels[i]} " + _q(names[levels[i]]) + f" is given without its {above} ({spec_columns(spec.levels[above])} is empty)", "org", names[levels[i]])
                gap |= gap_i
        usable = out.ok_mask() & present[:, 0]
        if not usable.any():
            if spec.default is not None:
                out.v = out.v.where(present.any(axis=1) | ~out.ok_mask(), spec.default)
            return out
        sep = "\x1f"
        key = slugs[levels[0]].where(pd.Series(usable))
        shown = names[levels[0]].fillna("")
        for lvl in levels[1:]:
            key = key + (sep + slugs[lvl]).fillna("")
            shown = shown + (" / " + names[lvl]).fillna("")
        firsts = pd.DataFrame({"key": key, "pos": np.arange(n)}).dropna(subset=["key"]).drop_duplicates("key")
        ids, failures = {}, {}
        start = LEVELS.index(levels[0])
        for k, pos in zip(firsts["key"], firsts["pos"], strict=True):  # one pass per distinct path
            path = tuple(k.split(sep))
            row_names = [names.at[pos, lvl] for lvl in levels[: len(path)]]
            prefix: tuple[str, ...] = ()
            if start > 0:
                kind = LEVELS[start]
                cands = self.by_kind[kind].get(path[0], [])
                if len(cands) != 1:
                    failures[k] = (
                        f"{kind} '{row_names[0]}' is not in the organisation tree" if not cands else
                        f"{kind} '{row_names[0]}' is in several places of the organisation tree: name its {LEVELS[start - 1]} too"
                    )
                    continue
                prefix = cands[0][:start]
            full = prefix + path
            if grow:
                self.add_path(full, row_names, src, int(src.rows[pos]), start)
            if full not in self.units:
                failures[k] = f"{LEVELS[len(full) - 1]} '{row_names[-1]}' is not in the organisation tree"
                continue
            ids[k] = self.units[full]
        out.v = _str(key.map(ids))
        if failures:
            reasons = key.map(failures)
            out.fail(usable & reasons.notna().to_numpy(), reasons.astype("str"), "org", shown)
        if spec.default is not None:
            out.v = out.v.where(present.any(axis=1) | ~out.ok_mask(), spec.default)
        return out

    def add_path(self, path: tuple[str, ...], names: list[str], src: Source, row: int, start: int) -> None:
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub in self.units:
                continue
            kind = LEVELS[depth - 1]
            if self.m.org.ids == "hash":
                uid = _PREFIX[kind] + _hash("\x1f".join(sub))
            else:
                uid = _PREFIX[kind] + ".".join(sub)
            parent = self.units[sub[:-1]] if depth > 1 else self.m.org.firm_id
            name = names[depth - 1 - start] if depth - 1 >= start else sub[-1]
            self.units[sub] = uid
            self.by_kind[kind].setdefault(sub[-1], []).append(sub)
            self.unit_rows.append({"id": uid, "name": name, "kind": kind, "parent_id": parent, "_source": src.name, "_row": row})

    def build_tree(self) -> None:
        """Every unit met in a `unit` spec: full paths first, then paths starting lower."""
        if self.m.org is None:
            return
        specs = []
        for ts in self.m.tables.values():
            for _col, spec in _table_specs(ts):
                if spec.kind == "unit":
                    specs += [(spec, self.sources[s]) for s in ts.sources]
        for spec, src in sorted(specs, key=lambda p: LEVELS.index(next(iter(p[0].levels)))):
            self.resolve_units(spec, src, grow=True)
            self.cache.pop((id(spec), src.name), None)

    # -- people and entities named by a column --------------------------------------------
    def named(self, spec: Spec, src: Source, registry: dict[str, dict[str, Any]], what: str) -> Val:
        inner = self.eval(spec.inner, src)
        self.named_in.setdefault(what, {})[spec.target.name] = None
        slug = _slugs(inner.v)
        out = inner.copy()
        ids = self.register(registry, inner.v, slug, src, spec.target.column, what)
        out.v = _str(slug.map(ids))
        if spec.default is not None:
            out.v = out.v.where(inner.v.notna(), spec.default)
        return out

    def register(self, registry: dict[str, dict[str, Any]], names: pd.Series, slug: pd.Series, src: Source, role: str, what: str) -> dict[str, str]:
        seen = pd.DataFrame({"slug": slug, "name": names, "row": src.rows}).dropna(subset=["slug"]).drop_duplicates("slug")
        rank = ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
        hashed = self.m.org is not None and self.m.org.ids == "hash"
        for rec in seen.itertuples(index=False):
            entry = registry.get(rec.slug)
            if entry is None:
                if what == "person":
                    login = rec.slug.replace("-", ".")
                    uid = "C-" + _hash(rec.slug) if hashed else login
                else:
                    login = ""
                    uid = "E-" + (_hash(rec.slug) if hashed else rec.slug)
                registry[rec.slug] = {"id": uid, "login": login, "name": rec.name, "role": role, "rank": rank, "_source": src.name, "_row": int(rec.row)}
            elif rank < entry["rank"]:
                entry["role"], entry["rank"] = role, rank
        return {k: v["id"] for k, v in registry.items()}

    # -- tables ----------------------------------------------------------------------
    def cells(self, ts: TableSpec) -> _Cells:
        name = ts.name
        spec = TABLES[name]
        if ts.rows is not None:
            n = len(ts.rows)
            values = {c: _str([r.get(c) for r in ts.rows]).pipe(_blank) for c in spec.column_names}
            errors = {c: Val.of(values[c]) for c in spec.column_names}
            self.drivers[name] = f"{n} literal rows of the mapping"
            return _Cells(values, errors, np.full(n, "(mapping)", object), np.arange(1, n + 1), np.full(n, -1))
        if ts.lines:
            return self.line_cells(ts)
        parts = []
        for sname in ts.sources:
            src = self.sources[sname]
            vals: dict[str, Val] = {}
            for col, cs in ts.columns.items():
                if not cs.only_if:
                    vals[col] = self.eval(cs, src)
            for col, cs in ts.columns.items():
                if cs.only_if:
                    val = self.eval(cs, src).copy()
                    cond = np.ones(src.n, dtype=bool)
                    for other, allowed in cs.only_if.items():
                        cond &= vals[other].v.isin(allowed).to_numpy()
                    val.v = val.v.where(cond)
                    val.err[~cond], val.kind[~cond], val.shown[~cond] = None, None, None
                    vals[col] = val
            n = src.n
            if name == "collaborators" and "active" not in vals:
                vals["active"] = Val.of(_str("true", n))
            if name == "document_lines" and "line_no" not in vals:
                vals["line_no"] = Val.of(pd.Series(np.nan, index=range(n), dtype="str"))
            for col in spec.column_names:
                vals.setdefault(col, Val.of(pd.Series(np.nan, index=range(n), dtype="str")))
            keep = np.ones(n, dtype=bool)
            if name == "documents":
                status = vals["status"]
                keep = ~(status.v == NO_DOCUMENT).to_numpy() | ~status.ok_mask()
                self.no_doc[sname] = (~keep, self.eval(ts.columns["status"], src))
            parts.append((src, vals, keep))
        cells = self.concat(name, parts)
        if ts.merge:
            cells = self.merge(name, cells)
        if name == "document_lines" and "line_no" not in ts.columns:
            doc = cells.values["document_id"]
            cells.values["line_no"] = _str((doc.groupby(doc.fillna(_BAD)).cumcount() + 1).astype("str"))
        for col, cs in ts.columns.items():
            self.source_columns[(name, col, -1)] = spec_columns(cs)
        self.described[name] = [(col, describe(cs)) for col, cs in ts.columns.items()]
        self.drivers[name] = (
            ("one row per distinct key of " if ts.merge else "one row per row of ") + " and ".join(ts.sources)
            + (" with a document" if name == "documents" else "")
        )
        return cells

    def merge(self, name: str, cells: _Cells) -> _Cells:
        """Rows sharing the table's key become one when they agree on every column.

        Rows that disagree stay (validation rejects them as duplicates; the reason says
        on what they differ). A merged row shares the fate of the row it joined.
        """
        key = list(TABLES[name].key)
        frame = pd.DataFrame(cells.values).astype(object)
        has_key = frame[key].notna().all(axis=1).to_numpy()
        if not has_key.any():
            return cells
        sub = frame[has_key]
        groups = sub.groupby(key, sort=False)
        others = [c for c in frame.columns if c not in key]
        differ = pd.DataFrame({c: groups[c].transform(lambda g: g.nunique(dropna=False) > 1) for c in others}, index=sub.index)
        disagree = differ.any(axis=1).to_numpy() if others else np.zeros(len(sub), bool)
        first = ~sub.duplicated(key).to_numpy()
        drop = np.zeros(cells.n, dtype=bool)
        drop[np.flatnonzero(has_key)[~first & ~disagree]] = True
        if disagree.any():
            names = np.array(others, dtype=object)
            listing = [", ".join(names[f]) for f in differ.to_numpy(dtype=bool)[disagree]]  # disagreeing rows only
            self.disagree[name] = dict(zip(np.flatnonzero(has_key)[disagree].tolist(), listing, strict=True))
        if not drop.any():
            self.remap_disagree(name, np.arange(cells.n))
            return cells
        rep_pos = pd.Series(np.arange(cells.n))[has_key].groupby([sub[k] for k in key], sort=False).transform("min")
        kept = np.flatnonzero(~drop)
        new_pos = np.full(cells.n, -1)
        new_pos[kept] = np.arange(len(kept))
        dropped = np.flatnonzero(drop)
        into = new_pos[rep_pos.reindex(dropped).to_numpy(dtype="int64")]
        self.merged.append(pd.DataFrame({"table": name, "line": into + 1, "source": cells.source[dropped], "row": cells.row[dropped]}))
        self.remap_disagree(name, new_pos)
        return _take(cells, kept)

    def remap_disagree(self, name: str, new_pos: np.ndarray) -> None:
        if name in self.disagree:
            self.disagree[name] = {int(new_pos[p]) + 1: v for p, v in self.disagree[name].items() if new_pos[p] >= 0}

    def concat(self, name: str, parts: list[tuple[Source, dict[str, Val], np.ndarray]], part_ids: list[np.ndarray] | None = None) -> _Cells:
        values, errors = {}, {}
        for col in TABLES[name].column_names:
            vs = [vals[col] for _, vals, _ in parts]
            keeps = [k for *_, k in parts]
            values[col] = _str(pd.concat([v.v[k] for v, k in zip(vs, keeps, strict=True)], ignore_index=True)) if parts else _str([])
            errors[col] = Val(
                values[col],
                np.concatenate([v.err[k] for v, k in zip(vs, keeps, strict=True)]) if parts else np.empty(0, object),
                np.concatenate([v.kind[k] for v, k in zip(vs, keeps, strict=True)]) if parts else np.empty(0, object),
                np.concatenate([v.shown[k] for v, k in zip(vs, keeps, strict=True)]) if parts else np.empty(0, object),
            )
        source = np.concatenate([np.full(int(k.sum()), s.name, object) for s, _, k in parts]) if parts else np.empty(0, object)
        row = np.concatenate([s.rows[k] for s, _, k in parts]) if parts else np.empty(0, "int64")
        part = np.concatenate(part_ids) if part_ids else np.full(len(row), -1)
        return _Cells(values, errors, source, row, part)

    def line_cells(self, ts: TableSpec) -> _Cells:
        """Amount columns → lines: one line per non-empty (non-zero) amount of a row with a document."""
        parts, part_ids, order = [], [], []
        for si, sname in enumerate(ts.sources):
            src = self.sources[sname]
            doc = self.eval(ts.document_id, src)
            no_doc, status = self.no_doc.get(sname, (np.zeros(src.n, bool), None))
            for ei, entry in enumerate(ts.lines):
                amount = self.eval(entry.amount, src)
                keep = amount.v.notna().to_numpy() | ~amount.ok_mask()
                if not entry.keep_zero:
                    keep &= ~(amount.v == "0").to_numpy()
                doc_id = doc.copy()
                orphan = keep & no_doc
                if status is not None and orphan.any():
                    reason = (
                        f"{spec_columns(entry.amount)} " + _q(amount.raw)
                        + f" is given but {spec_columns(self.m.tables['documents'].columns['status'])} "
                        + _q(status.raw) + " means no document: the amount is not imported"
                    )
                    doc_id.fail(orphan, reason, "no document", amount.raw)
                vals = {
                    "document_id": doc_id,
                    "line_no": Val.of(pd.Series(np.nan, index=range(src.n), dtype="str")),
                    "mission": self.eval(entry.mission, src),
                    "billing": self.eval(entry.billing, src),
                    "amount_cents": amount,
                }
                parts.append((src, vals, keep))
                part_ids.append(np.full(int(keep.sum()), ei))
                order.append(np.stack([np.full(int(keep.sum()), si), np.flatnonzero(keep), np.full(int(keep.sum()), ei)], axis=1))
                self.source_columns[("document_lines", "amount_cents", ei)] = spec_columns(entry.amount)
                self.source_columns[("document_lines", "billing", ei)] = spec_columns(entry.billing)
                self.source_columns[("document_lines", "mission", ei)] = spec_columns(entry.mission)
        cells = self.concat("document_lines", parts, part_ids)
        self.source_columns[("document_lines", "document_id", -1)] = spec_columns(ts.document_id)
        # source order, row, then entry: line numbers follow the columns of the mapping
        if cells.n:
            key = np.concatenate(order)
            perm = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
            cells = _take(cells, perm)
            doc = cells.values["document_id"]
            cells.values["line_no"] = _str((doc.groupby(doc.fillna(_BAD), sort=False).cumcount() + 1).astype("str"))
            cells.errors["line_no"] = Val.of(cells.values["line_no"])
        described = [("document_id", describe(ts.document_id)), ("line_no", "numbered per document")]
        for i, e in enumerate(ts.lines, 1):
            described.append((f"line {i}", f"amount {describe(e.amount)}; billing {describe(e.billing)}; mission {describe(e.mission)}"))
        self.described["document_lines"] = described
        self.drivers["document_lines"] = f"one line per non-empty amount ({len(ts.lines)} amount columns) of " + " and ".join(ts.sources)
        return cells

    def people_cells(self) -> _Cells | None:
        if not self.people:
            return None
        reg = list(self.people.values())
        n = len(reg)
        ids = _str([p["id"] for p in reg])
        virtual = {
            "id": ids,
            "login": _str([p["login"] for p in reg]),
            "name": _str([p["name"] for p in reg]),
            "role": _str([p["role"] for p in reg]),
            "unit_id": self.home_units(ids),
        }
        spec = self.m.people or PeopleSpec({}, dict(DEFAULT_ROLES), DEFAULT_VALIDATORS)
        src = Source(SourceSpec("[people]", None, None, ",", "utf-8", 1, ",", ()), "[people]", tuple(virtual), virtual, np.arange(1, n + 1))
        vals = {c: self.eval(s, src) for c, s in spec.columns.items()}
        rule_function = _str(virtual["role"].map(spec.roles).fillna("staff"))
        base = {
            "id": Val.of(virtual["id"]), "login": Val.of(virtual["login"]), "full_name": Val.of(virtual["name"]),
            "function": Val.of(rule_function), "unit_id": Val.of(virtual["unit_id"]),
            "entity_id": Val.of(pd.Series(np.nan, index=range(n), dtype="str")),
            "active": Val.of(_str("true", n)),
            "email": Val.of(pd.Series(np.nan, index=range(n), dtype="str")),
        }
        for col, b in base.items():
            if col in vals:
                v = vals[col].copy()
                v.v = v.v.fillna(b.v)
                vals[col] = v
            else:
                vals[col] = b
        if "can_validate_offers" in vals:
            v = vals["can_validate_offers"].copy()
            v.v = v.v.fillna(_str(np.where(vals["function"].v.isin(spec.validators), "true", "false")))
            vals["can_validate_offers"] = v
        else:
            vals["can_validate_offers"] = Val.of(_str(np.where(vals["function"].v.isin(spec.validators), "true", "false")))
        cells = self.concat("collaborators", [(src, vals, np.ones(n, bool))], [np.full(n, _GENERATED)])
        cells.source = np.array([p["_source"] for p in reg], dtype=object)
        cells.row = np.array([p["_row"] for p in reg], dtype="int64")
        self.described["collaborators"] = [
            (c, describe(spec.columns[c]) + " (else the rule)" if c in spec.columns else
             {"id": "generated from the name", "login": "generated from the name (jean.dupont)", "full_name": "the name as first written",
              "function": "rule by role: " + ", ".join(f"{k} → {v}" for k, v in spec.roles.items()),
              "unit_id": "the unit of most of their deals", "entity_id": "empty",
              "can_validate_offers": "true for " + ", ".join(spec.validators), "active": "true", "email": "empty"}[c])
            for c in TABLES["collaborators"].column_names
        ]
        self.drivers["collaborators"] = "one row per person named in " + ", ".join(self.named_in.get("person", {}))
        for c in TABLES["collaborators"].column_names:
            self.source_columns[("collaborators", c, -1)] = spec_columns(spec.columns[c]) if c in spec.columns else "(person names)"
        return cells

    def home_units(self, ids: pd.Series) -> pd.Series:
        """Each generated person's home unit: the unit of most of the deals they work on."""
        deals = self.frames.get("deals")
        pairs = []
        if deals is not None and len(deals):
            for col in ("partner_id", "manager_id", "client_manager_id"):
                pairs.append(pd.DataFrame({"person": deals[col], "unit": deals["unit_id"]}))
            docs = self.frames.get("documents")
            if docs is not None and len(docs):
                unit_of = deals.drop_duplicates("id").set_index("id")["unit_id"]
                pairs.append(pd.DataFrame({"person": docs["signatory_id"], "unit": docs["deal_id"].map(unit_of)}))
        firm = self.m.org.firm_id if self.m.org else None
        if not pairs:
            return _str(firm, len(ids))
        p = pd.concat(pairs, ignore_index=True).dropna()
        p = p[~p["unit"].str.contains(_BAD, regex=False) & ~p["person"].str.contains(_BAD, regex=False)]
        p = p.assign(_pos=np.arange(len(p)))
        top = p.groupby(["person", "unit"], sort=False).agg(n=("_pos", "size"), first=("_pos", "min")).reset_index()
        top = top.sort_values(["person", "n", "first"], ascending=[True, False, True]).drop_duplicates("person")
        return _str(ids.map(top.set_index("person")["unit"]).fillna(firm))

    def org_cells(self) -> _Cells:
        org = self.m.org
        rows = [{"id": org.firm_id, "name": org.firm, "kind": "firm", "parent_id": None, "_source": "(mapping)", "_row": 0}, *self.unit_rows]
        frame = pd.DataFrame(rows)
        values = {c: _str(frame[c]) for c in TABLES["org_units"].column_names}
        errors = {c: Val.of(values[c]) for c in values}
        self.described["org_units"] = [("firm", f"'{org.firm}' ({org.firm_id})"), ("ids", "R-/A-/T- + " + ("slugs of the path" if org.ids == "slug" else "hash of the path"))]
        self.drivers["org_units"] = "the firm and every region, agency and team named in `unit` columns"
        for c in values:
            self.source_columns[("org_units", c, -1)] = "(org unit names)"
        return _Cells(values, errors, frame["_source"].to_numpy(dtype=object), frame["_row"].to_numpy(dtype="int64"), np.full(len(frame), _GENERATED))

    def entity_cells(self) -> _Cells:
        reg = list(self.entities.values())
        values = {"id": _str([e["id"] for e in reg]), "name": _str([e["name"] for e in reg])}
        errors = {c: Val.of(values[c]) for c in values}
        self.described["entities"] = [("id", "E- + slug of the name"), ("name", "the name as first written")]
        self.drivers["entities"] = "one row per entity named in " + ", ".join(self.named_in.get("entity", {}))
        for c in values:
            self.source_columns[("entities", c, -1)] = "(entity names)"
        return _Cells(values, errors, np.array([e["_source"] for e in reg], dtype=object), np.array([e["_row"] for e in reg], dtype="int64"), np.full(len(reg), _GENERATED))

    def build(self, read_rejects: Mapping[str, pd.DataFrame]) -> Built:
        self.build_tree()
        cells: dict[str, _Cells] = {}
        self.frames: dict[str, pd.DataFrame] = {}
        for table in TABLE_ORDER:
            ts = self.m.tables.get(table)
            if ts is not None:
                cells[table] = self.cells(ts)
                self.frames[table] = pd.DataFrame(cells[table].values)
        if self.m.org is not None:
            cells["org_units"] = self.org_cells()
        if self.entities:
            cells["entities"] = self.entity_cells()
        people = self.people_cells()
        if people is not None:
            cells["collaborators"] = people
        raw, prov, overrides = {}, {}, []
        for table in TABLE_ORDER:
            c = cells.get(table)
            if c is None:
                raw[table] = pd.DataFrame({col: pd.Series([], dtype="str") for col in TABLES[table].column_names})
                prov[table] = pd.DataFrame({"source": pd.Series([], dtype=object), "row": pd.Series([], dtype="int64"), "part": pd.Series([], dtype="int64")})
                self.drivers.setdefault(table, "not mapped: empty")
                continue
            frame = {}
            for col in TABLES[table].column_names:
                val = c.errors[col]
                v = c.values[col]
                bad = ~val.ok_mask()
                if bad.any():
                    # built in Python: pandas' text concatenation drops a lone NUL
                    marked = np.array([_BAD + ("" if x is None else str(x)) for x in val.shown[bad]], dtype=object)
                    v = v.astype(object)
                    v[bad] = marked
                    v = _str(v)
                    lines = np.flatnonzero(bad) + 1
                    overrides.append(pd.DataFrame({
                        "table": table, "line": lines, "column": col,
                        "value": pd.Series(val.shown[bad], dtype=object).to_numpy(),
                        "reason": val.err[bad], "kind": val.kind[bad],
                        "source_column": [self.source_columns.get((table, col, int(p)), self.source_columns.get((table, col, -1), "")) for p in c.part[bad]],
                    }))
                frame[col] = v
            raw[table] = pd.DataFrame(frame, columns=list(TABLES[table].column_names))
            prov[table] = pd.DataFrame({"source": c.source, "row": c.row.astype("int64"), "part": c.part.astype("int64")})
        overrides += self.duplicate_overrides(raw, prov)
        over = pd.concat(overrides, ignore_index=True) if overrides else pd.DataFrame(columns=["table", "line", "column", "value", "reason", "kind", "source_column"])
        merged = pd.concat(self.merged, ignore_index=True) if self.merged else None
        return Built(
            self.m, self.sources, read_rejects, raw, prov, over, dict(self.source_columns), self.described, self.drivers,
            tuple(self.notes), merged,
        )

    def duplicate_overrides(self, raw: Mapping[str, pd.DataFrame], prov: Mapping[str, pd.DataFrame]) -> list[pd.DataFrame]:
        """Reasons for duplicate keys that name the source rows (validation names positions)."""
        out = []
        for table in TABLE_ORDER:
            spec = TABLES[table]
            frame = raw[table]
            keys = [spec.key] + [(c.name,) for c in spec.columns if c.unique and c.name not in spec.key]
            for cols in keys:
                k = frame[list(cols)]
                usable = k.notna().all(axis=1) & ~k.apply(lambda s: s.str.contains(_BAD, regex=False)).any(axis=1)
                dup = usable & k.duplicated(keep=False)
                if not dup.any():
                    continue
                p = prov[table]
                where = _where(p["source"], p["row"], self.sources)
                sub = k[dup].assign(_w=where[dup.to_numpy()].to_numpy(), _line=np.flatnonzero(dup.to_numpy()) + 1)
                grouped = sub.groupby(list(cols), sort=False)
                listing = grouped["_w"].transform(lambda w: ", ".join(w.iloc[:3]) + (", …" if len(w) > 3 else ""))
                size = grouped["_w"].transform("size")
                value = sub[cols[0]].astype(str)
                for c in cols[1:]:
                    value = value + ", " + sub[c].astype(str)
                label = " with ".join(f"{c} '" + sub[c].astype(str) + "'" for c in cols) if len(cols) > 1 else f"{cols[0]} '" + value + "'"
                what = "ids must be unique" if cols == ("id",) else f"{cols[0]}s must be unique" if len(cols) == 1 else "each combination must be unique"
                if cols == spec.key and table in self.disagree:
                    differ = pd.Series(sub["_line"].map(self.disagree[table]).fillna("").to_numpy(), index=sub.index)
                    listing = listing + np.where(differ != "", "; they differ in " + differ, "")
                out.append(pd.DataFrame({
                    "table": table, "line": sub["_line"].to_numpy(), "column": ", ".join(cols), "value": value.to_numpy(),
                    "reason": (label + " is used by " + size.astype(str) + " rows (" + listing + "); " + what).to_numpy(),
                    "kind": "duplicate", "source_column": [self.source_columns.get((table, cols[0], -1), "") for _ in range(len(sub))],
                }))
        return out


def _take(cells: _Cells, perm: np.ndarray) -> _Cells:
    values = {c: _str(v.iloc[perm]) for c, v in cells.values.items()}
    errors = {c: Val(values[c], e.err[perm], e.kind[perm], e.shown[perm]) for c, e in cells.errors.items()}
    return _Cells(values, errors, cells.source[perm], cells.row[perm], cells.part[perm])


def _where(source: pd.Series, row: pd.Series, sources: Mapping[str, Source]) -> pd.Series:
    labels = {name: src.label for name, src in sources.items()}
    return source.map(labels).fillna(source).astype(str) + " row " + row.astype(str)


# ---------------------------------------------------------------------------
# importing


class SourceCount(NamedTuple):
    """Rows of one source: ``read == imported + rejected``; ``partly`` of the rejected
    rows still gave some loaded rows (a deal kept while one of its amounts was rejected)."""

    read: int
    imported: int
    rejected: int
    partly: int = 0


@dataclass(eq=False)
class ImportResult:
    """What an import did, or would do (``--check``)."""

    built: Built
    validated: Validated
    rejects: pd.DataFrame  # SOURCE_REJECT_COLUMNS
    source_counts: Mapping[str, SourceCount]
    seconds: float = 0.0
    rejects_path: Path | None = None
    notes: tuple[str, ...] = ()

    @property
    def counts(self) -> Mapping[str, TableCount]:
        return self.validated.counts

    @property
    def rejected(self) -> int:
        """Target rows rejected, plus source rows rejected while reading."""
        return self.validated.rejected + sum(len(b) for b in self.built.read_rejects.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def issues(self) -> list[MappingIssue]:
        return self.built.issues()


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


def build(mapping: ImportMapping, files: Mapping[str, Path] | None = None) -> Built:
    """Read the sources and map them to the nine tables (as text, not yet validated)."""
    files = dict(files or source_files(mapping))
    sources, bad = {}, {}
    for name, spec in mapping.sources.items():
        sources[name], bad[name] = read_source(spec, files[name])
    return _Builder(mapping, sources).build(bad)


def prepare(mapping: str | Path | ImportMapping, files: Sequence[str | Path] | Mapping[str, Path] = (), *,
            function_caps: Mapping[str, str | None] | None = None) -> ImportResult:
    """Read, map and validate, without touching any database (what ``--check`` shows)."""
    start = time.monotonic()
    m = mapping if isinstance(mapping, ImportMapping) else read_mapping(mapping)
    paths = dict(files) if isinstance(files, Mapping) else source_files(m, files)
    built = build(m, paths)
    lines = {t: np.arange(1, len(f) + 1, dtype="int64") for t, f in built.raw.items()}
    labels = {t: f"{t} (as mapped by {m.path})" for t in TABLE_ORDER}
    validated = validate_tables(built.raw, line_numbers=lines, labels=labels, function_caps=function_caps)
    rejects = _rejects(built, validated)
    counts = _source_counts(built, validated, rejects)
    notes = [n.replace(" (as mapped by", " (mapped by") for n in validated.notes if "no column" not in n]
    return ImportResult(built, validated, rejects, counts, time.monotonic() - start, None, (*built.notes, *notes))


def _rejects(built: Built, validated: Validated) -> pd.DataFrame:
    rej = validated.rejects.loc[:, ["table", "line", "column", "value", "reason"]].copy()
    over = built.overrides
    if len(over):
        keys = over[["table", "line", "column"]].drop_duplicates().assign(_over=True)
        rej = rej.merge(keys, on=["table", "line", "column"], how="left")
        hit = rej["_over"].fillna(False).astype(bool)
        present = rej.loc[hit, ["table", "line", "column"]].drop_duplicates()
        rej = rej.loc[~hit].drop(columns="_over")
        unseen = over.merge(present.assign(_seen=True), on=["table", "line", "column"], how="left")
        unseen = unseen[unseen["_seen"].isna() & (unseen["kind"] != "duplicate")]
        if len(unseen):  # never load a value the mapping could not make
            u = unseen.iloc[0]
            raise RuntimeError(f"internal error: {u['table']} line {u['line']} column {u['column']} was not mapped but passed validation")
        over = over.merge(present, on=["table", "line", "column"]).drop_duplicates(["table", "line", "column"])
    parts = []
    for frame, own in ((rej, False), (over, True)):
        if frame.empty:
            continue
        for table, g in frame.groupby("table", sort=False):
            p = built.provenance[table]
            pos = g["line"].to_numpy(dtype="int64") - 1
            part = p["part"].to_numpy()[pos]
            src = pd.Series(p["source"].to_numpy()[pos], index=g.index)
            if own:
                scol = g["source_column"]
            else:
                scol = pd.Series(
                    [built.source_columns.get((table, c, int(k)), built.source_columns.get((table, c, -1), "")) if isinstance(c, str) else ""
                     for c, k in zip(g["column"], part, strict=True)],
                    index=g.index,
                )
            parts.append(pd.DataFrame({
                "source": src, "row": p["row"].to_numpy()[pos], "table": table, "column": g["column"],
                "source_column": scol, "value": g["value"], "reason": g["reason"],
            }))
    merged = built.merged
    if merged is not None and len(merged):
        rejected = validated.rejects[["table", "line"]].drop_duplicates().assign(_bad=True)
        hit = merged.merge(rejected, on=["table", "line"], how="inner")
        if len(hit):
            labels = {name: src.label for name, src in built.sources.items()}
            rep = []
            for table, g in hit.groupby("table", sort=False):
                p = built.provenance[table]
                pos = g["line"].to_numpy(dtype="int64") - 1
                rep.append(pd.Series(p["source"].to_numpy()[pos], index=g.index).map(labels) + " row " + pd.Series(p["row"].to_numpy()[pos], index=g.index).astype(str))
            into = pd.concat(rep)
            parts.append(pd.DataFrame({
                "source": hit["source"], "row": hit["row"], "table": hit["table"], "column": None, "source_column": None,
                "value": None, "reason": "merged into " + into.loc[hit.index] + ", which is rejected",
            }))
    for name, bad in built.read_rejects.items():
        if len(bad):
            parts.append(pd.DataFrame({"source": name, "row": bad["row"].to_numpy(), "table": None, "column": None,
                                       "source_column": None, "value": None, "reason": bad["reason"].to_numpy()}))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else object) for c in SOURCE_REJECT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    labels = {name: src.label for name, src in built.sources.items()}
    out["file"] = out["source"].map(labels).fillna(str(built.mapping.path))
    order = {name: i for i, name in enumerate(built.sources)}
    torder = {t: i for i, t in enumerate(TABLE_ORDER)}
    out = out.assign(_s=out["source"].map(order).fillna(len(order)), _t=out["table"].map(torder).fillna(-1))
    out = out.sort_values(["_s", "row", "_t"], kind="stable").drop(columns=["_s", "_t"]).reset_index(drop=True)
    for c in ("value", "reason"):
        s = out[c].astype(object)
        out[c] = s.where(s.isna(), s.astype(str).str.replace(_BAD, "", regex=False)).where(s.notna(), None)
    out["row"] = out["row"].astype("int64")
    return out.loc[:, list(SOURCE_REJECT_COLUMNS)]


def _source_counts(built: Built, validated: Validated, rejects: pd.DataFrame) -> dict[str, SourceCount]:
    rejected_lines = {t: set(g["line"]) for t, g in validated.rejects.groupby("table")}
    loaded = []
    for table, p in built.provenance.items():
        if not len(p):
            continue
        bad = np.isin(np.arange(1, len(p) + 1), list(rejected_lines.get(table, ())))
        loaded.append(p.loc[~bad & (p["part"] != _GENERATED).to_numpy(), ["source", "row"]])
    merged = built.merged
    if merged is not None and len(merged):
        for table, g in merged.groupby("table"):
            ok = ~g["line"].isin(list(rejected_lines.get(table, ())))
            loaded.append(g.loc[ok, ["source", "row"]])
    loaded_pairs = pd.concat(loaded).drop_duplicates() if loaded else pd.DataFrame(columns=["source", "row"])
    out = {}
    for name, src in built.sources.items():
        bad_rows = rejects.loc[rejects["source"] == name, "row"].unique()
        read = src.n + len(built.read_rejects.get(name, ()))
        ok_rows = set(loaded_pairs.loc[loaded_pairs["source"] == name, "row"])
        partly = sum(1 for r in bad_rows if r in ok_rows)
        out[name] = SourceCount(read, read - len(bad_rows), len(bad_rows), partly)
    return out


def write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    """The rejections (source, file, row, table, column, source column, value, reason), UTF-8 with BOM."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    rejects.loc[:, list(SOURCE_REJECT_COLUMNS)].to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    os.replace(tmp, path)


def default_rejects_path(mapping_path: str | Path) -> Path:
    """Rejections go next to the mapping: ``crm_mapping.toml`` → ``crm_mapping.rejects.csv``."""
    p = Path(mapping_path)
    return p.with_name(p.stem + ".rejects.csv")


def import_into(engine: Any, result: ImportResult, rejects_path: Path | None = None, *, settings: Any = None,
                allow_shrink: bool = False) -> ImportResult:
    """Load a prepared import atomically (the database keeps its previous content on failure),
    publish its figure store, and write the rejections (a stale file is removed when nothing
    is rejected)."""
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
    _, store_note = store.replace_content(engine, result.validated.frames, info, settings=settings, allow_shrink=allow_shrink)
    path = Path(rejects_path) if rejects_path is not None else default_rejects_path(m.path)
    notes = list(result.notes) + ([store_note] if store_note else [])
    written = None
    try:
        if len(result.rejects):
            write_rejects(result.rejects, path)
            written = path
        elif path.exists():
            path.unlink()
    except OSError as exc:
        notes.append(f"could not write {path}: {exc.strerror}")
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
    settings: Any = None,
    allow_shrink: bool = False,
) -> ImportResult:
    """Map, validate and load CRM exports into a database (URL or engine), then its figure store."""
    engine = db.make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    return import_into(engine, prepare(mapping, files), Path(rejects) if rejects else None, settings=settings, allow_shrink=allow_shrink)


# ---------------------------------------------------------------------------
# reports


def format_source_counts(result: ImportResult) -> str:
    """Per source: ``read = imported + rejected``, aligned."""
    rows = []
    used = {s for ts in result.built.mapping.tables.values() for s in ts.sources}
    for name, c in result.source_counts.items():
        note = "" if name in used else "  (lookups only)"
        if c.partly:
            note += f"  ({c.partly} partly imported)"
        rows.append((name, c.read, c.imported, c.rejected, result.built.sources[name].label + note))
    width = max(len(r[0]) for r in [*rows, ("source",)])
    nums = max(8, *(len(str(v)) for r in rows for v in r[1:4]))
    out = [f"{'source':<{width}}  {'read':>{nums}} = {'imported':>{nums}} + {'rejected':>{nums}}  file"]
    for name, read, imp, rej, label in rows:
        out.append(f"{name:<{width}}  {read:>{nums}} = {imp:>{nums}} + {rej:>{nums}}  {label}")
    return "\n".join(out)


def format_issues(issues: Sequence[MappingIssue], limit: int | None = None) -> str:
    lines = []
    shown = issues if limit is None else issues[:limit]
    for i in shown:
        plural = "row" if i.rows == 1 else "rows"
        lines.append(f"  {i.kind:<11} {i.target} ← {i.source_column}: '{i.value}' ({i.rows} {plural}) — {i.reason}")
    if limit is not None and len(issues) > limit:
        lines.append(f"  … and {len(issues) - limit} more (see the rejects file)")
    return "\n".join(lines)


def check_report(result: ImportResult, sample: int = 5) -> str:
    """What ``--check`` prints: sources, per table its columns and first rows, what
    could not be mapped, and what loading would do."""
    built = result.built
    m = built.mapping
    out = [f"Mapping {m.path} — dry run, nothing is loaded"]
    if m.description:
        out.append(m.description.strip())
    out += ["", "Sources"]
    for name, src in built.sources.items():
        s = src.spec
        how = f"sheet '{s.sheet}'" if s.is_excel and s.sheet else "Excel" if s.is_excel else f"{s.encoding}, delimiter {s.delimiter!r}"
        cols = len([h for h in src.headers if h.strip()])
        out.append(f"  {name}: {src.label} ({how}, header on row {s.header_row}): {src.n} rows, {cols} columns")
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 28):
        for table in TABLE_ORDER:
            frame = built.raw[table]
            out += ["", f"Table {table}: {built.drivers.get(table, '')} → {len(frame)} rows"]
            for col, desc in built.described.get(table, []):
                out.append(f"  {col:<20} ← {desc}")
            if len(frame):
                shown = frame.head(sample).apply(lambda c: c.str.replace(_BAD, "✗ ", regex=False)).fillna("")
                out.append("  first rows (✗ = could not be mapped):")
                out += ["    " + line for line in shown.to_string(index=False).splitlines()]
    issues = result.issues()
    out += ["", "Values it could not map" + (" (their rows would be rejected)" if issues else ": none")]
    if issues:
        out.append(format_issues(issues))
    out += ["", "What loading would do", format_counts(result.counts), "", format_source_counts(result)]
    rej = result.rejects
    if len(rej):
        out += ["", f"Rejections ({len(rej)}), by reason:"]
        reasons = rej.assign(table=rej["table"].fillna("(read)"), column=rej["column"].fillna(""))
        for (t, c, r), g in reasons.groupby(["table", "column", "reason"], sort=False):
            out.append(f"  {t}.{c} × {len(g)}: {r} ({g['file'].iloc[0]} row {g['row'].iloc[0]})")
    for note in result.notes:
        out.append(f"note: {note}")
    return "\n".join(out)


def summary(result: ImportResult, url: str) -> str:
    from .loading import _shown_url

    m = result.built.mapping
    out = [f"Imported {m.path} into {_shown_url(url)} in {result.seconds:.1f} s", format_source_counts(result), "", format_counts(result.counts)]
    issues = result.issues()
    if issues:
        out += ["", "Values not mapped (their rows are rejected):", format_issues(issues, 30)]
    for note in result.notes:
        out.append(f"note: {note}")
    src_rejected = sum(c.rejected for c in result.source_counts.values())
    if result.rejects_path is not None:
        out.append(f"{src_rejected} source rows rejected ({result.validated.rejected} target rows); reasons in {result.rejects_path.resolve()}")
    elif result.rejected:
        out.append(f"{src_rejected} source rows rejected; the reasons could not be written (see note above)")
    else:
        out.append("No row rejected.")
    return "\n".join(out)


def run_import_command(
    settings: Settings,
    mapping: str | Path,
    sources: Sequence[str | Path] = (),
    *,
    check: bool = False,
    rejects: str | Path | None = None,
    allow_shrink: bool = False,
) -> int:
    """``prospects import``: exit 0 nothing rejected, 1 rows rejected, 2 unusable."""
    import sqlalchemy as sa

    try:
        result = prepare(mapping, sources, function_caps=settings.function_caps)
    except UnusableExtract as exc:
        what = "unusable import" if check else "unusable import, nothing loaded"
        print(f"prospects: {what}: {exc}", file=sys.stderr)
        return 2
    if check:
        print(check_report(result))
        return result.exit_code
    engine = db.make_engine(settings.db_url)
    try:
        import_into(engine, result, Path(rejects) if rejects else None, settings=settings, allow_shrink=allow_shrink)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"prospects: the database refused the import, nothing loaded: {reason}", file=sys.stderr)
        return 2
    print(summary(result, settings.db_url))
    return result.exit_code
