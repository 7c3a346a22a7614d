"""Reading a mapping file (TOML) into :mod:`.spec` objects, and checking it whole: the
sections (defaults, sources, maps, lookups, org, tables, people); value specs are read
by :mod:`.valuespec`.

Every key is checked where it is read; unknown keys are refused, so that a typo never
passes silently. A mapping that cannot work raises :class:`.spec.MappingError` naming
the file and the key at fault (``tables.deals.columns.status.map``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import files
from ..i18n import currency_marks
from ..schema import FUNCTIONS, TABLE_ORDER, TABLES
from .spec import (
    DEFAULT_DATES,
    DEFAULT_ROLES,
    DEFAULT_VALIDATORS,
    DELIMITERS,
    ENCODINGS,
    EXCEL_SUFFIXES,
    ROLE_ORDER,
    TEXT,
    Condition,
    DateFormat,
    ImportMapping,
    LineSpec,
    MappingError,
    OrgSpec,
    PartSpec,
    PeopleSpec,
    SourceSpec,
    Spec,
    TableSpec,
    table_specs,
    target_of,
    with_defaults,
)
from .valuespec import LOOKUP_KEYS, SpecReader, shown_value

_TOP_KEYS = {"description", "defaults", "sources", "org", "people", "maps", "lookups", "tables"}
_DEFAULT_KEYS = {"date", "decimal", "currency", "export_date"}
_SOURCE_KEYS = {"file", "sheet", "delimiter", "encoding", "header_row", "decimal", "date"}
_PART_KEYS = {"source", "columns", "only_if", "distinct"}
_TABLE_KEYS = {*_PART_KEYS, "rows", "from", "merge"}
_LINES_KEYS = {"source", "lines", "document_id"}
_LINE_KEYS = {"amount", "billing", "mission", "keep_zero", "only_if"}
_PEOPLE_COLUMNS = ("id", "login", "full_name", "function", "unit_id", "entity_id", "can_validate_offers", "active", "email")
#: Columns whose ``person`` specs give people a role ([people] roles).
_ROLE_COLUMNS = (*ROLE_ORDER, "collaborator_id")
#: A mapping file is a few kilobytes; anything this big is not one.
MAX_MAPPING_BYTES = 5_000_000
#: Columns that are not filled from a source when not mapped.
_OPTIONAL_REQUIRED = {("collaborators", "active"), ("document_lines", "line_no"), ("org_units", "kind")}


class Parser(SpecReader):
    """One mapping file being read: the sections in order, then the whole-mapping checks."""

    def __init__(self, path: Path, doc: dict[str, Any], *, export_date: str | dt.date | None = None, today: dt.date | None = None,
                 firm_currency: str = "EUR"):
        super().__init__(path)
        self.firm_currency = firm_currency
        self.doc = doc
        self.default_dates: tuple[DateFormat, ...] = ()
        self.export_arg = export_date
        self.today = today or dt.date.today()
        self.export_from = ""

    # -- sections ------------------------------------------------------------------
    def parse(self) -> ImportMapping:
        doc = self.doc
        self.known(doc, _TOP_KEYS, "")
        defaults = self.table(doc.get("defaults", {}), "defaults")
        self.known(defaults, _DEFAULT_KEYS, "defaults")
        self.default_dates = self.dates(defaults.get("date", list(DEFAULT_DATES)), "defaults.date")
        decimal = self.decimal(defaults.get("decimal", ","), "defaults.decimal")
        currency = defaults.get("currency", list(currency_marks(self.firm_currency)))
        if isinstance(currency, str):
            currency = [currency]
        if not isinstance(currency, list) or not all(isinstance(c, str) and c.strip() for c in currency):
            raise self.fail("defaults.currency", "expected a list of currency symbols, e.g. [\"€\", \"EUR\"]")
        self.resolve_export_date(defaults.get("export_date"))
        sources = self.table(doc.get("sources", {}), "sources")
        if not sources:
            raise self.fail("sources", "no source: add a [sources.NAME] table per file or Excel sheet")
        for name, raw in sources.items():
            self.sources[name] = self.source(name, self.table(raw, f"sources.{name}"), decimal)
        for name, raw in self.table(doc.get("maps", {}), "maps").items():
            self.maps[name] = self.value_map(raw, f"maps.{name}", name)
        for name, raw in self.table(doc.get("lookups", {}), "lookups").items():
            raw = self.table(raw, f"lookups.{name}")
            self.known(raw, {"source", *LOOKUP_KEYS} - {"match"}, f"lookups.{name}")
            self.lookups[name] = raw
        org = None
        if "org" in doc:
            raw = self.table(doc["org"], "org")
            self.known(raw, {"firm", "firm_id", "ids"}, "org")
            if "firm" not in raw:
                raise self.fail("org.firm", "missing: the name of the firm, root of the organisation tree")
            ids = raw.get("ids", "slug")
            if ids not in ("slug", "hash"):
                raise self.fail("org.ids", f"expected \"slug\" or \"hash\", got {shown_value(ids)}")
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
            self.maps, tuple(currency), str(doc.get("description", "")), self.export_date, self.export_from,
            self.firm_currency,
        )
        self.check_whole(mapping)
        return mapping

    def resolve_export_date(self, raw: Any) -> None:
        """The export date: ``--export-date``, else ``[defaults] export_date`` (a date or "today")."""
        value, key = (self.export_arg, "--export-date") if self.export_arg is not None else (raw, "defaults.export_date")
        if value is None:
            return
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str) and value.strip().lower() == "today":
            self.export_date, self.export_from = self.today, f"{key} = today"
            return
        if not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise self.fail(key, f"expected a date YYYY-MM-DD or \"today\", got {shown_value(value)}") from None
        self.export_date, self.export_from = value, key

    def source(self, name: str, raw: dict[str, Any], decimal: str) -> SourceSpec:
        key = f"sources.{name}"
        self.known(raw, _SOURCE_KEYS, key)
        file = Path(self.name(raw["file"], f"{key}.file")) if "file" in raw else None
        if file is not None and not file.is_absolute():
            file = self.path.parent / file
        sheet = self.name(raw["sheet"], f"{key}.sheet") if "sheet" in raw else None
        delimiter = raw.get("delimiter", ",")
        if delimiter not in DELIMITERS:
            raise self.fail(f"{key}.delimiter", f"expected \",\", \";\", \"\\t\" (or \"tab\") or \"|\", got {shown_value(delimiter)}")
        encoding = raw.get("encoding", "utf-8")
        if not isinstance(encoding, str) or encoding.lower() not in ENCODINGS:
            raise self.fail(f"{key}.encoding", f"expected utf-8, utf-8-sig, cp1252, latin-1, utf-16, utf-16-le or utf-16-be, got {shown_value(encoding)}")
        header_row = raw.get("header_row", 1)
        if not isinstance(header_row, int) or isinstance(header_row, bool) or not 1 <= header_row <= 1_000_000:
            raise self.fail(f"{key}.header_row", f"expected the number of the header line (1 or more), got {shown_value(header_row)}")
        dates = self.dates(raw["date"], f"{key}.date") if "date" in raw else self.default_dates
        excel = sheet is not None or (file is not None and file.suffix.lower() in EXCEL_SUFFIXES)
        for csv_only in ("delimiter", "encoding"):
            if excel and csv_only in raw:
                raise self.fail(f"{key}.{csv_only}", "only for CSV files: an Excel sheet has no " + csv_only)
        return SourceSpec(
            name, file, sheet, DELIMITERS[delimiter], ENCODINGS[encoding.lower()], header_row,
            self.decimal(raw.get("decimal", decimal), f"{key}.decimal"), dates,
        )

    # -- tables ------------------------------------------------------------------
    def table_spec(self, name: str, raw: dict[str, Any]) -> TableSpec:
        key = f"tables.{name}"
        if name == "document_lines" and "lines" in raw:
            return self.lines_table(raw, key)
        self.known(raw, _TABLE_KEYS, key)
        spec = TableSpec(name, key)
        if "rows" in raw:
            rows = raw["rows"]
            if not isinstance(rows, list):
                raise self.fail(f"{key}.rows", "expected a list of tables, e.g. rows = [{ id = \"G1\", name = \"Direction\" }]")
            out = []
            for i, row in enumerate(rows, 1):
                row = self.table(row, f"{key}.rows[{i}]")
                self.known(row, TABLES[name].column_names, f"{key}.rows[{i}]")
                out.append({c: self.text(v, f"{key}.rows[{i}].{c}") for c, v in row.items()})
            spec.rows = tuple(out)
        parts = []
        if "source" in raw or "columns" in raw or "only_if" in raw or "distinct" in raw:
            parts.append(self.part(name, {k: raw[k] for k in _PART_KEYS if k in raw}, key))
        more = raw.get("from", [])
        if not isinstance(more, list) or not all(isinstance(p, dict) for p in more):
            raise self.fail(f"{key}.from", f"expected [[{key}.from]] tables, each with source and columns")
        for i, part in enumerate(more, 1):
            self.known(part, _PART_KEYS, f"{key}.from[{i}]")
            parts.append(self.part(name, part, f"{key}.from[{i}]"))
        if not parts and "rows" not in raw:
            raise self.fail(f"{key}.source", "missing: the source(s) whose rows become rows of this table (or rows = [...] for literal rows)")
        spec.parts = tuple(parts)
        spec.merge = self.flag(raw, "merge", key)
        if spec.merge and not parts:
            raise self.fail(f"{key}.merge", "only for rows read from sources")
        return spec

    def source_names(self, value: Any, key: str) -> list[str]:
        """``source = "name"`` or ``["a", "b"]``: the names, each a declared source."""
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            raise self.fail(f"{key}.source", "expected a source name or a list of them")
        for name in names:
            if name not in self.sources:
                raise self.fail(f"{key}.source", f"'{name}' is not a source (sources: {', '.join(self.sources)})")
        return names

    def part(self, name: str, raw: dict[str, Any], key: str) -> PartSpec:
        """One group of rows read from sources: ``source``, ``columns``, ``only_if``, ``distinct``."""
        if "source" not in raw:
            raise self.fail(f"{key}.source", "missing: the source(s) whose rows become rows of this table")
        src = self.source_names(raw["source"], key)
        columns = self.table(raw.get("columns", {}), f"{key}.columns")
        for col in columns:
            if col not in TABLES[name].column_names:
                raise self.fail(f"{key}.columns.{col}", f"not a column of {name} ({', '.join(TABLES[name].column_names)})")
        specs = {
            col: self.spec(columns[col], f"{key}.columns.{col}", target_of(name, col), name)
            for col in TABLES[name].column_names
            if col in columns
        }
        for col in TABLES[name].columns:
            if col.required and col.name not in specs and (name, col.name) not in _OPTIONAL_REQUIRED:
                raise self.fail(f"{key}.columns.{col.name}", f"missing: {name}.{col.name} is required")
        part = PartSpec(key, tuple(src), specs)
        if "only_if" in raw:
            part.only_if = self.conditions(raw["only_if"], f"{key}.only_if", name)
        if "distinct" in raw:
            dist = raw["distinct"] if isinstance(raw["distinct"], list) else [raw["distinct"]]
            if not dist:
                raise self.fail(f"{key}.distinct", "expected a column or a list of columns")
            part.distinct = tuple(self.spec(d, f"{key}.distinct", TEXT, None) for d in dist)
            for d in part.distinct:
                if d.kind not in ("column", "template", "value"):
                    raise self.fail(d.key, "distinct takes columns or templates (the values that make one row each)")
        return part

    def lines_table(self, raw: dict[str, Any], key: str) -> TableSpec:
        self.known(raw, _LINES_KEYS, key)
        spec = TableSpec("document_lines", key)
        if "source" in raw:
            spec.line_sources = tuple(self.source_names(raw["source"], key))
        lines = raw["lines"]
        if not isinstance(lines, list) or not lines:
            raise self.fail(f"{key}.lines", "expected a list of tables: [[tables.document_lines.lines]] amount = ..., billing = ..., mission = ...")
        spec.lines = tuple(self.line_spec(self.table(e, f"{key}.lines[{i}]"), f"{key}.lines[{i}]") for i, e in enumerate(lines, 1))
        if "document_id" in raw:
            spec.document_id = self.spec(raw["document_id"], f"{key}.document_id", target_of("document_lines", "document_id"), "document_lines")
            if spec.document_id.only_if:
                raise self.fail(f"{key}.document_id.only_if", "put the condition on the lines (only_if of each [[lines]] entry)")
        return spec

    def line_spec(self, raw: dict[str, Any], key: str) -> LineSpec:
        self.known(raw, _LINE_KEYS, key)
        for needed in ("amount", "billing", "mission"):
            if needed not in raw:
                raise self.fail(f"{key}.{needed}", "missing: each line needs amount, billing and mission")
        return LineSpec(
            key,
            self.spec(raw["amount"], f"{key}.amount", target_of("document_lines", "amount_cents"), "document_lines"),
            self.spec(raw["billing"], f"{key}.billing", target_of("document_lines", "billing"), "document_lines"),
            self.spec(raw["mission"], f"{key}.mission", target_of("document_lines", "mission"), "document_lines"),
            self.flag(raw, "keep_zero", key),
            self.conditions(raw["only_if"], f"{key}.only_if", "document_lines") if "only_if" in raw else (),
        )

    def people(self, raw: Any) -> PeopleSpec:
        raw = self.table(raw, "people")
        self.known(raw, {"columns", "roles", "validators"}, "people")
        roles = dict(DEFAULT_ROLES)
        for col, fn in self.table(raw.get("roles", {}), "people.roles").items():
            if col not in _ROLE_COLUMNS:
                raise self.fail(f"people.roles.{col}", f"not a column naming people ({', '.join(_ROLE_COLUMNS)})")
            if fn not in FUNCTIONS:
                raise self.fail(f"people.roles.{col}", f"'{fn}' is not a function ({', '.join(FUNCTIONS)})")
            roles[col] = fn
        validators = raw.get("validators", list(DEFAULT_VALIDATORS))
        if not isinstance(validators, list) or any(v not in FUNCTIONS for v in validators):
            raise self.fail("people.validators", f"expected a list of functions ({', '.join(FUNCTIONS)})")
        cols = self.table(raw.get("columns", {}), "people.columns")
        self.known(cols, _PEOPLE_COLUMNS, "people.columns")
        specs = {c: self.spec(v, f"people.columns.{c}", target_of("collaborators", c), None) for c, v in cols.items()}
        for c, s in specs.items():
            if any(d.kind == "person" for d in with_defaults(s)):
                raise self.fail(f"people.columns.{c}", "'person' cannot be used in [people]: these are the people made from names")
        return PeopleSpec(specs, roles, tuple(validators))

    # -- whole-mapping checks ------------------------------------------------------
    def check_whole(self, m: ImportMapping) -> None:
        specs = [(t, c, d) for t, ts in m.tables.items() for c, s in table_specs(ts) for d in with_defaults(s)]
        units = [s for *_, s in specs if s.kind == "unit"]
        if m.people is not None:
            units += [d for s in m.people.columns.values() for d in with_defaults(s) if d.kind == "unit"]
        if units and m.org is None:
            raise self.fail(units[0].key, "builds org units from names: add an [org] section naming the firm")
        if m.org is not None and "org_units" in m.tables:
            raise self.fail("org", "give either [org] (tree built from names) or [tables.org_units], not both")
        if m.org is None and "org_units" not in m.tables:
            raise self.fail("tables.org_units", "nothing builds the organisation tree: add [org] (with `unit` columns) or [tables.org_units]")
        persons = [s for *_, s in specs if s.kind == "person"]
        if m.people is not None and not persons:
            raise self.fail("people", "no column uses { person = ... }: [people] has nothing to build")
        entities = [s for *_, s in specs if s.kind == "entity"]
        if entities and "entities" in m.tables:
            raise self.fail(entities[0].key, "'entity' makes entities from names, but [tables.entities] maps them: use a lookup instead")
        lines = m.tables.get("document_lines")
        if lines is not None and lines.lines:
            docs = m.tables.get("documents")
            doc_part = docs.parts[0] if docs is not None and len(docs.parts) == 1 else None
            if not lines.line_sources:
                if doc_part is None:
                    raise self.fail("tables.document_lines.source", "missing: no documents source to take it from")
                lines.line_sources = doc_part.sources
            if lines.document_id is None:
                if doc_part is None or "id" not in doc_part.columns or set(lines.line_sources) - set(doc_part.sources):
                    raise self.fail("tables.document_lines.document_id", "missing: lines can borrow documents' id only when they read the same sources")
                lines.document_id = doc_part.columns["id"]
        for table, ts in m.tables.items():
            for part in ts.parts:
                own = part.columns
                for spec in own.values():
                    self.check_conditions(m, spec.only_if, table, own, part.sources, conditional_ok=False)
                self.check_conditions(m, part.only_if, table, own, part.sources, conditional_ok=True)
            for line in ts.lines:
                own = line.specs
                for spec in own.values():
                    self.check_conditions(m, spec.only_if, table, own, ts.line_sources, conditional_ok=False)
                self.check_conditions(m, line.only_if, table, own, ts.line_sources, conditional_ok=True)

    def check_conditions(self, m: ImportMapping, conds: Sequence[Condition], table: str, own: dict[str, Spec] | Any, sources: Sequence[str], *, conditional_ok: bool) -> None:
        """Each condition names a column that is made for every row it is asked about."""
        for cond in conds:
            if cond.on_source:
                continue
            if cond.table == table:
                other = own.get(cond.column)
                if other is None:
                    raise self.fail(cond.key, f"{table}.{cond.column} is not mapped here")
                if other.only_if and not conditional_ok:
                    raise self.fail(cond.key, f"{table}.{cond.column} is itself conditional")
                continue
            ts = m.tables.get(cond.table)
            if ts is None:
                raise self.fail(cond.key, f"[tables.{cond.table}] is not mapped")
            part = next((p for p in ts.parts if set(sources) <= set(p.sources) and not p.distinct), None)
            if ts.lines or part is None:
                raise self.fail(cond.key, f"{cond.table} is not made one row per row of {', '.join(sources)}: name a source column ({{Column}}) instead")
            other = part.columns.get(cond.column)
            if other is None:
                raise self.fail(cond.key, f"{cond.table}.{cond.column} is not mapped")
            if other.only_if:
                raise self.fail(cond.key, f"{cond.table}.{cond.column} is itself conditional")


def read_mapping(path: str | Path, *, export_date: str | dt.date | None = None, today: dt.date | None = None,
                 currency: str = "EUR") -> ImportMapping:
    """Read and check a mapping file; raises :class:`MappingError` with the key at fault.

    ``export_date`` (``--export-date``) overrides the mapping's ``[defaults] export_date``;
    ``today`` is the date "today" means (default: the system date); ``currency`` is the
    firm's (setting ``currency``): its code and symbols are the default ``[defaults] currency``,
    and an amount in ``money = "euros"`` (its major units) has its minor-unit digits (none for JPY).
    """
    path = Path(path)
    try:
        doc = files.read_toml(path, MAX_MAPPING_BYTES, limit_text="the {limit} a mapping file may hold", what="a mapping file")
    except files.FileRefused as exc:
        if exc.kind == "missing":
            raise MappingError(f"{files.shown_path(path)}: no such mapping file") from None
        if exc.kind == "nesting":
            raise MappingError(f"{files.shown_path(path)}: tables nest too deeply to be a mapping") from None
        raise MappingError(str(exc)) from None
    return Parser(path, doc, export_date=export_date, today=today, firm_currency=currency).parse()
