"""The mapping as parsed: what each source, table and value spec says (docs/import.md).

:mod:`.mapping` reads a TOML file into these objects and checks them; the other
stages only read them. :func:`describe` and :func:`spec_columns` say in words what a
spec does and which source columns it reads, for ``--check`` and the rejects file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..loading import UnusableExtract
from ..schema import DEAL_STATUSES, DOC_STATUSES, TABLES

#: The documents.status value meaning "this opportunity has no document (yet)".
NO_DOCUMENT = "no document"
LEVELS = ("region", "agency", "team")
UNIT_PREFIX = {"region": "R-", "agency": "A-", "team": "T-"}
#: Columns naming people, in the order that decides a generated person's role.
ROLE_ORDER = ("partner_id", "signatory_id", "manager_id", "client_manager_id")
DEFAULT_ROLES = {"partner_id": "partner", "signatory_id": "partner", "manager_id": "manager", "client_manager_id": "staff"}
DEFAULT_VALIDATORS = ("partner", "director", "manager")
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252", "windows-1252": "cp1252",
    "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
    "utf-16": "utf-16", "utf16": "utf-16", "utf-16-le": "utf-16-le", "utf-16le": "utf-16-le",
    "utf-16-be": "utf-16-be", "utf-16be": "utf-16-be",
}
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DEFAULT_DATES = ("dd/mm/yyyy",)
STATUS_WORDS = (*DEAL_STATUSES, *DOC_STATUSES, NO_DOCUMENT)
#: Length of the ids ``{ hash = [...] }`` makes (hex digits: 48 bits, see docs/import.md).
HASH_DIGITS = 12
#: Virtual columns of the people generated from names ([people] specs read them).
PEOPLE_FIELDS = ("id", "login", "name", "role", "unit_id")


class MappingError(UnusableExtract):
    """The mapping, a source file or a source column cannot be used: nothing is imported."""


@dataclass(frozen=True)
class Target:
    """What a value spec must produce: a contract column, or plain text (``kind='text'``)."""

    kind: str  # text, id, enum, date, bool, int, amount
    table: str = ""
    column: str = ""
    values: tuple[str, ...] = ()

    @property
    def special(self) -> bool:
        """deals.status and documents.status share one status map (see :func:`.values.project`)."""
        return (self.table, self.column) in (("deals", "status"), ("documents", "status"))

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}" if self.table else "text"


TEXT = Target("text")


def target_of(table: str, column: str) -> Target:
    """The target of a contract column (amounts and the two statuses are special)."""
    col = TABLES[table].column(column)
    if (table, column) == ("document_lines", "amount_cents"):
        return Target("amount", table, column)
    if (table, column) in (("deals", "status"), ("documents", "status")):
        return Target("enum", table, column, STATUS_WORDS)
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


@dataclass(frozen=True)
class Condition:
    """One key of ``only_if``: a target column of this table, of another table made
    from the same row (``documents.status``), or a source column (``{Stage}``)."""

    key: str  # as written, for messages
    table: str  # the target table; "" for a source column
    column: str  # target column, or source column name
    values: tuple[str, ...]

    @property
    def on_source(self) -> bool:
        return not self.table

    def label(self) -> str:
        return f"{{{self.column}}}" if self.on_source else f"{self.table}.{self.column}"


@dataclass(eq=False)
class Spec:
    """How one value is made from the rows of a source."""

    key: str  # mapping key, for messages
    kind: str  # column, value, template, lookup, unit, person, entity, hash
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
    hashed: tuple[Spec, ...] = ()  # hash: the values hashed, in order
    inner: Spec | None = None
    default: Spec | None = None  # where this spec gives nothing: a constant, or a value spec (chained)
    map: ValueMap | None = None
    otherwise: str | None = None
    keep_unmapped: bool = False
    dates: tuple[DateFormat, ...] | None = None
    money: str = "euros"
    slug: bool = False
    only_if: tuple[Condition, ...] = ()
    export_days: int | None = None  # a value from the export date, plus these days
    constant: bool = False  # a default written as a bare value: the target value itself, not mapped


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
    only_if: tuple[Condition, ...] = ()

    @property
    def specs(self) -> dict[str, Spec]:
        """The line's value specs by target column (what ``only_if`` keys may name)."""
        return {"amount_cents": self.amount, "billing": self.billing, "mission": self.mission}


@dataclass(eq=False)
class PartSpec:
    """Rows of a table read from sources: one per source row (or per distinct value)."""

    key: str  # tables.deals, tables.collaborators.from[1]
    sources: tuple[str, ...]
    columns: Mapping[str, Spec] = field(default_factory=dict)
    only_if: tuple[Condition, ...] = ()
    distinct: tuple[Spec, ...] = ()


@dataclass(eq=False)
class TableSpec:
    name: str
    key: str
    parts: tuple[PartSpec, ...] = ()
    rows: tuple[Mapping[str, str | None], ...] = ()
    lines: tuple[LineSpec, ...] = ()
    line_sources: tuple[str, ...] = ()  # lines: the sources read (those of documents by default)
    document_id: Spec | None = None
    merge: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source this table reads, in order."""
        if self.lines:
            return self.line_sources
        return tuple(dict.fromkeys(s for p in self.parts for s in p.sources))

    @property
    def columns(self) -> Mapping[str, Spec]:
        """The column specs of the first part (the table's own ``columns``)."""
        return self.parts[0].columns if self.parts else {}


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
    export_date: dt.date | None = None
    export_date_from: str = ""  # where the export date comes from, for --check
    firm_currency: str = "EUR"  # the setting currency: amounts in "euros" (major units) have its minor-unit digits


def table_specs(ts: TableSpec) -> list[tuple[str, Spec]]:
    """Every (target column, spec) of a table: its parts' columns and its lines."""
    out = [(col, spec) for part in ts.parts for col, spec in part.columns.items()]
    for line in ts.lines:
        out += [("amount_cents", line.amount), ("billing", line.billing), ("mission", line.mission)]
    if ts.document_id is not None and ts.lines:
        out.append(("document_id", ts.document_id))
    return out


def with_defaults(spec: Spec) -> list[Spec]:
    """A spec and the specs of its chain of defaults, in order."""
    out = [spec]
    while out[-1].default is not None:
        out.append(out[-1].default)
    return out


def spec_columns(spec: Spec) -> str:
    """The source columns a spec reads (then those of its default), for the rejects file."""
    own = _own_columns(spec)
    d = spec.default
    return own if d is None or d.constant else f"{own}, else {spec_columns(d)}"


def _own_columns(spec: Spec) -> str:
    if spec.kind == "column":
        return " or ".join(spec.columns)
    if spec.kind == "value":
        return "(the export date)" if spec.export_days is not None else f"(constant '{spec.value}')"
    if spec.kind == "template":
        return ", ".join(dict.fromkeys(c for _, c in spec.parts if c))
    if spec.kind == "lookup":
        return f"{spec_columns(spec.match)} → {spec.lookup_source}"
    if spec.kind == "unit":
        return ", ".join(dict.fromkeys(spec_columns(s) for s in spec.levels.values()))
    if spec.kind in ("person", "entity"):
        return spec_columns(spec.inner)
    if spec.kind == "hash":
        return ", ".join(dict.fromkeys(spec_columns(s) for s in spec.hashed))
    return ""


def describe_conditions(conditions: tuple[Condition, ...]) -> str:
    return " and ".join(f"{c.label()} is {' or '.join(c.values)}" for c in conditions)


def describe(spec: Spec) -> str:
    """A one-line description of a spec, for ``--check``."""
    if spec.kind == "column":
        base = " or ".join(f"column '{c}'" for c in spec.columns)
    elif spec.kind == "value" and spec.export_days is not None:
        base = f"the export date{_days(spec.export_days)} ({spec.value})"
    elif spec.kind == "value":
        base = f"constant '{spec.value}'"
    elif spec.kind == "template":
        base = "template '" + "".join(lit.replace("{", "{{").replace("}", "}}") + (f"{{{c}}}" if c else "") for lit, c in spec.parts) + "'"
    elif spec.kind == "lookup":
        base = f"lookup {describe(spec.match)} in {spec.lookup_source} by {describe(spec.lookup_key)}, taking {describe(spec.lookup_value)}"
        if spec.on_miss == "empty":
            base += " (empty when not found)"
    elif spec.kind == "hash":
        base = "hash of " + ", ".join(describe(s) for s in spec.hashed) + f" ({HASH_DIGITS} hex digits)"
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
    if spec.slug:
        base += ", as a slug"
    if spec.default is not None:
        base += ", default " + (f"'{spec.default.value}'" if spec.default.constant else describe(spec.default))
    if spec.only_if:
        base += ", only if " + describe_conditions(spec.only_if)
    return base


def _days(days: int) -> str:
    return "" if days == 0 else f" {days:+d} days"
