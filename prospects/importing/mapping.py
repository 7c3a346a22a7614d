"""Reading a mapping file (TOML) into :mod:`.spec` objects, and checking it whole.

Every key is checked where it is read; unknown keys are refused, so that a typo never
passes silently. A mapping that cannot work raises :class:`.spec.MappingError` naming
the file and the key at fault (``tables.deals.columns.status.map``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..schema import DEAL_STATUSES, DOC_STATUSES, FUNCTIONS, TABLE_ORDER, TABLES
from .spec import (
    DEFAULT_CURRENCY,
    DEFAULT_DATES,
    DEFAULT_ROLES,
    DEFAULT_VALIDATORS,
    DELIMITERS,
    ENCODINGS,
    LEVELS,
    NO_DOCUMENT,
    STATUS_WORDS,
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
    Target,
    ValueMap,
    table_specs,
    target_of,
)
from .values import norm_one

_TOP_KEYS = {"description", "defaults", "sources", "org", "people", "maps", "lookups", "tables"}
_DEFAULT_KEYS = {"date", "decimal", "currency", "export_date"}
_SOURCE_KEYS = {"file", "sheet", "delimiter", "encoding", "header_row", "decimal", "date"}
_PART_KEYS = {"source", "columns", "only_if", "distinct"}
_TABLE_KEYS = {*_PART_KEYS, "rows", "from", "merge"}
_LINES_KEYS = {"source", "lines", "document_id"}
_LINE_KEYS = {"amount", "billing", "mission", "keep_zero", "only_if"}
_BASES = ("column", "value", "template", "lookup", "unit", "person", "entity", "export_date")
_MODIFIERS = {"default", "map", "otherwise", "keep_unmapped", "date", "money", "slug", "only_if"}
_LOOKUP_KEYS = {"match", "key", "value", "on_miss"}
_PEOPLE_COLUMNS = ("id", "login", "full_name", "function", "unit_id", "entity_id", "can_validate_offers", "active", "email")
#: Value specs nest (a lookup's match is a lookup, …) at most this deep.
MAX_NESTING = 12
#: A mapping file is a few kilobytes; anything this big is not one.
MAX_MAPPING_BYTES = 5_000_000
#: Columns that are not filled from a source when not mapped.
_OPTIONAL_REQUIRED = {("collaborators", "active"), ("document_lines", "line_no")}


def shown_value(value: Any) -> str:
    """A value of the mapping as written, shortened for messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Parser:
    """One mapping file being read: the sections in order, then the whole-mapping checks."""

    def __init__(self, path: Path, doc: dict[str, Any], *, export_date: str | dt.date | None = None, today: dt.date | None = None):
        self.path = path
        self.doc = doc
        self.maps: dict[str, ValueMap] = {}
        self.lookups: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, SourceSpec] = {}
        self.default_dates: tuple[DateFormat, ...] = ()
        self.export_arg = export_date
        self.today = today or dt.date.today()
        self.export_date: dt.date | None = None
        self.export_from = ""

    def fail(self, key: str, message: str) -> MappingError:
        return MappingError(f"{self.path}: {key}: {message}")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {shown_value(value)}")
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
        raise self.fail(key, f"expected a value, got {shown_value(value)}")

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {shown_value(value)}")
        return value

    def flag(self, raw: dict[str, Any], name: str, key: str) -> bool:
        value = raw.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key}.{name}", "expected true or false")
        return value

    # -- sections ------------------------------------------------------------------
    def parse(self) -> ImportMapping:
        doc = self.doc
        self.known(doc, _TOP_KEYS, "")
        defaults = self.table(doc.get("defaults", {}), "defaults")
        self.known(defaults, _DEFAULT_KEYS, "defaults")
        self.default_dates = self.dates(defaults.get("date", list(DEFAULT_DATES)), "defaults.date")
        decimal = self.decimal(defaults.get("decimal", ","), "defaults.decimal")
        currency = defaults.get("currency", list(DEFAULT_CURRENCY))
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

    def export_value(self, raw: Any, key: str) -> tuple[str, int]:
        """``{ export_date = true }`` (or a number of days after it, negative before)."""
        if raw is True:
            days = 0
        elif isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= 36_500:
            days = raw
        else:
            raise self.fail(key, f"expected true (the export date) or a number of days after it (-30: 30 days before), got {shown_value(raw)}")
        if self.export_date is None:
            raise self.fail(key, "uses the export date: give --export-date YYYY-MM-DD on the command line, or set [defaults] export_date (a date or \"today\")")
        try:
            return (self.export_date + dt.timedelta(days=days)).isoformat(), days
        except OverflowError:
            raise self.fail(key, f"the export date {days:+d} days is not a date") from None

    def decimal(self, value: Any, key: str) -> str:
        if value not in (",", "."):
            raise self.fail(key, f"expected \",\" or \".\", got {shown_value(value)}")
        return value

    def dates(self, value: Any, key: str) -> tuple[DateFormat, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a date format or a list of them, e.g. \"dd/mm/yyyy\"")
        return tuple(self.date_format(v, key) for v in value)

    def date_format(self, value: Any, key: str) -> DateFormat:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a date format, got {shown_value(value)}")
        label = value.strip()
        low = label.lower()
        if low == "excel":
            return DateFormat(label, "excel")
        if low == "iso":
            return DateFormat(label, "strptime", "%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}")
        if "%" in label:
            if not _strptime_gives_dates(label):
                raise self.fail(key, f"'{label}' is not a date format: a strptime format must read back a day, a month and a year (e.g. \"%Y%m%d\", \"%d.%m.%Y\")")
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
            raise self.fail(f"{key}.delimiter", f"expected \",\", \";\", \"\\t\" (or \"tab\") or \"|\", got {shown_value(delimiter)}")
        encoding = raw.get("encoding", "utf-8")
        if not isinstance(encoding, str) or encoding.lower() not in ENCODINGS:
            raise self.fail(f"{key}.encoding", f"expected utf-8, utf-8-sig, cp1252 or latin-1, got {shown_value(encoding)}")
        header_row = raw.get("header_row", 1)
        if not isinstance(header_row, int) or isinstance(header_row, bool) or not 1 <= header_row <= 1_000_000:
            raise self.fail(f"{key}.header_row", f"expected the number of the header line (1 or more), got {shown_value(header_row)}")
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
            norm = norm_one(k)
            if norm in entries and entries[norm] != values:
                raise self.fail(f"{key}.\"{k}\"", f"'{k}' and '{shown[norm]}' are the same value (case and spaces ignored) with different targets")
            entries[norm], shown[norm] = values, k
        return ValueMap(name, entries, shown)

    # -- value specs -------------------------------------------------------------
    def spec(self, raw: Any, key: str, target: Target, table: str | None, depth: int = 0) -> Spec:
        """A value spec; ``table`` is the target table (None inside lookups and levels)."""
        if depth > MAX_NESTING:
            raise self.fail(key, f"value specs nest more than {MAX_NESTING} levels deep")
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
        elif base == "export_date":
            if target.kind not in ("date", "text"):
                raise self.fail(f"{key}.export_date", f"the export date fits a date column, not {target.name}")
            spec.kind = "value"
            spec.value, spec.export_days = self.export_value(raw["export_date"], f"{key}.export_date")
        elif base == "template":
            spec.parts = self.template(raw["template"], f"{key}.template")
        elif base == "lookup":
            self.lookup(spec, raw, key, depth)
        elif base == "unit":
            self.unit(spec, raw["unit"], f"{key}.unit", depth)
        elif base in ("person", "entity"):
            ref = {"person": "collaborators", "entity": "entities"}[base]
            if target.kind != "id" or TABLES[target.table].column(target.column).ref != ref:
                raise self.fail(f"{key}.{base}", f"'{base}' makes {ref} ids: it fits a column referencing {ref}, not {target.name}")
            spec.inner = self.spec(raw[base], f"{key}.{base}", TEXT, None, depth + 1)
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

    def lookup(self, spec: Spec, raw: dict[str, Any], key: str, depth: int) -> None:
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
        spec.match = self.spec(merged["match"], f"{key}.match", TEXT, None, depth + 1)
        spec.lookup_key = self.spec(merged["key"], f"{key}.key", TEXT, None, depth + 1)
        spec.lookup_value = self.spec(merged["value"], f"{key}.value", TEXT, None, depth + 1)
        on_miss = merged.get("on_miss", "reject")
        if on_miss not in ("reject", "empty"):
            raise self.fail(f"{key}.on_miss", f"expected \"reject\" or \"empty\", got {shown_value(on_miss)}")
        spec.on_miss = on_miss

    def unit(self, spec: Spec, raw: Any, key: str, depth: int) -> None:
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
        spec.levels = {lvl: self.spec(raw[lvl], f"{key}.{lvl}", TEXT, None, depth + 1) for lvl in given}

    def modifiers(self, spec: Spec, raw: dict[str, Any], key: str, table: str | None) -> None:
        target = spec.target
        structural = spec.kind in ("unit", "person", "entity")
        if "default" in raw:
            default = raw["default"]
            if isinstance(default, dict) and set(default) == {"export_date"}:
                if target.kind != "date":
                    raise self.fail(f"{key}.default.export_date", f"the export date fits a date column, not {target.name}")
                spec.default, spec.export_days = self.export_value(default["export_date"], f"{key}.default.export_date")
            else:
                spec.default = self.text(default, f"{key}.default")
                self.allowed_value(spec.default, target, f"{key}.default")
        for mod in ("map", "otherwise", "keep_unmapped", "date", "money", "slug"):
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
            spec.keep_unmapped = self.flag(raw, "keep_unmapped", key)
            if spec.keep_unmapped and spec.map is None:
                raise self.fail(f"{key}.keep_unmapped", "only meaningful with a map")
        if "slug" in raw:
            spec.slug = self.flag(raw, "slug", key)
            if spec.slug and target.kind not in ("id", "text"):
                raise self.fail(f"{key}.slug", f"{target.name} is not a text column")
        if "date" in raw:
            if target.kind != "date":
                raise self.fail(f"{key}.date", f"{target.name} is not a date column")
            spec.dates = self.dates(raw["date"], f"{key}.date")
        if "money" in raw:
            if target.kind != "amount":
                raise self.fail(f"{key}.money", f"{target.name} is not an amount")
            if raw["money"] not in ("euros", "cents"):
                raise self.fail(f"{key}.money", f"expected \"euros\" or \"cents\", got {shown_value(raw['money'])}")
            spec.money = raw["money"]
        if "only_if" in raw:
            if table is None:
                raise self.fail(f"{key}.only_if", "only a column of a target table can be conditional")
            spec.only_if = self.conditions(raw["only_if"], f"{key}.only_if", table)

    def conditions(self, raw: Any, key: str, table: str) -> tuple[Condition, ...]:
        """``only_if``: every key must hold one of its values (a value or a list)."""
        raw = self.table(raw, key)
        if not raw:
            raise self.fail(key, "empty: name a column and its values, e.g. only_if = { status = \"abandoned\" }")
        out = []
        for name, vals in raw.items():
            ckey = f"{key}.\"{name}\"" if not re.fullmatch(r"[A-Za-z0-9_]+", name) else f"{key}.{name}"
            vals = vals if isinstance(vals, list) else [vals]
            if not vals:
                raise self.fail(ckey, "an empty list is never true")
            values = tuple(self.text(v, ckey) for v in vals)
            source_col = re.fullmatch(r"\{(.+)\}", name.strip())
            if source_col:
                out.append(Condition(ckey, "", source_col.group(1).strip(), values))
                continue
            other, _, col = name.rpartition(".")
            other = other or table
            if other not in TABLES:
                raise self.fail(ckey, f"'{other}' is not a table of the contract; a source column is written {{Column}}")
            if col not in TABLES[other].column_names:
                raise self.fail(ckey, f"not a column of {other} ({', '.join(TABLES[other].column_names)}); a source column is written {{Column}}")
            target = target_of(other, col)
            allowed: tuple[str, ...] = ()
            if target.special:
                allowed = DEAL_STATUSES if other == "deals" else (*DOC_STATUSES, NO_DOCUMENT)
            elif target.kind == "enum":
                allowed = target.values
            elif target.kind == "bool":
                allowed = ("true", "false")
            bad = [v for v in values if allowed and v not in allowed]
            if bad:
                raise self.fail(ckey, f"'{bad[0]}' is not a value of {other}.{col} ({', '.join(allowed)})")
            out.append(Condition(ckey, other, col, values))
        return tuple(out)

    def allowed_value(self, value: str, target: Target, key: str) -> None:
        if target.kind == "enum" and value not in target.values:
            raise self.fail(key, f"'{value}' is not a value of {target.name} ({', '.join(target.values)})")

    def allowed_map_values(self, values: tuple[str, ...], target: Target, key: str) -> None:
        if target.kind != "enum":
            return
        if target.special:
            bad = [v for v in values if v not in STATUS_WORDS]
            if bad:
                raise self.fail(key, f"'{bad[0]}' is not a status: a status map gives {', '.join(STATUS_WORDS)}")
        elif not any(v in target.values for v in values):
            raise self.fail(key, f"'{values[0]}' is not a value of {target.name} ({', '.join(target.values)})")

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

    def part(self, name: str, raw: dict[str, Any], key: str) -> PartSpec:
        """One group of rows read from sources: ``source``, ``columns``, ``only_if``, ``distinct``."""
        if "source" not in raw:
            raise self.fail(f"{key}.source", "missing: the source(s) whose rows become rows of this table")
        src = raw["source"]
        src = [src] if isinstance(src, str) else src
        if not isinstance(src, list) or not src:
            raise self.fail(f"{key}.source", "expected a source name or a list of them")
        for s in src:
            if s not in self.sources:
                raise self.fail(f"{key}.source", f"'{s}' is not a source (sources: {', '.join(self.sources)})")
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
            src = raw["source"]
            src = [src] if isinstance(src, str) else src
            if not isinstance(src, list) or not src:
                raise self.fail(f"{key}.source", "expected a source name or a list of them")
            for s in src:
                if s not in self.sources:
                    raise self.fail(f"{key}.source", f"'{s}' is not a source (sources: {', '.join(self.sources)})")
            spec.line_sources = tuple(src)
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
            if s.kind == "person":
                raise self.fail(f"people.columns.{c}", "'person' cannot be used in [people]: these are the people made from names")
        return PeopleSpec(specs, roles, tuple(validators))

    # -- whole-mapping checks ------------------------------------------------------
    def check_whole(self, m: ImportMapping) -> None:
        specs = [(t, c, s) for t, ts in m.tables.items() for c, s in table_specs(ts)]
        units = [s for *_, s in specs if s.kind == "unit"]
        if m.people is not None:
            units += [s for s in m.people.columns.values() if s.kind == "unit"]
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


def _strptime_gives_dates(fmt: str) -> bool:
    """Whether a strptime format reads back the day, month and year it writes."""
    sample = dt.datetime(2026, 11, 29)
    try:
        text = sample.strftime(fmt)
        back = dt.datetime.strptime(text, fmt)
        parsed = pd.to_datetime(pd.Series([text]), format=fmt, errors="raise")
    except (ValueError, TypeError, OverflowError):
        return False
    return back.date() == sample.date() and parsed.iloc[0].date() == sample.date()


def read_mapping(path: str | Path, *, export_date: str | dt.date | None = None, today: dt.date | None = None) -> ImportMapping:
    """Read and check a mapping file; raises :class:`MappingError` with the key at fault.

    ``export_date`` (``--export-date``) overrides the mapping's ``[defaults] export_date``;
    ``today`` is the date "today" means (default: the system date).
    """
    path = Path(path)
    try:
        if path.exists() and not path.is_file():
            raise MappingError(f"{path}: not a mapping file (a folder or a device)")
        if path.stat().st_size > MAX_MAPPING_BYTES:
            raise MappingError(f"{path}: {path.stat().st_size:,} bytes is too big for a mapping file")
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
    except RecursionError:
        raise MappingError(f"{path}: tables nest too deeply to be a mapping") from None
    return Parser(path, doc, export_date=export_date, today=today).parse()
