"""Reading the value specs of a mapping: what a column is made of (a column, a constant,
a template, a lookup, an org unit, a person, an entity, the export date), its
modifiers (default, map, dates, amounts, slug) and its conditions (``only_if``).

:class:`SpecReader` holds what every part of a mapping needs to read one (its path for
messages, the maps, lookups and sources already read, the export date);
:class:`.mapping.Parser` reads the sections with it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..schema import DEAL_STATUSES, DOC_STATUSES, TABLES
from .spec import (
    LEVELS,
    NO_DOCUMENT,
    STATUS_WORDS,
    TEXT,
    Condition,
    DateFormat,
    MappingError,
    SourceSpec,
    Spec,
    Target,
    ValueMap,
    target_of,
)
from .values import norm_one

#: Columns one template may name ("{Prénom} {Nom}" names two).
MAX_TEMPLATE_COLUMNS = 100
BASES = ("column", "value", "template", "lookup", "unit", "person", "entity", "export_date", "hash")
MODIFIERS = {"default", "map", "otherwise", "keep_unmapped", "date", "money", "slug", "only_if"}
LOOKUP_KEYS = {"match", "key", "value", "on_miss"}
#: What a date format may be, for the message refusing one.
DATE_FORMS = (
    "write the day d or dd, the month m or mm, the year yyyy or yy, with separators (\"m/d/yyyy\", \"dd/mm/yyyy\", "
    "\"dd.mm.yy\"), optionally followed by a time (\"mm/dd/yyyy hh:mm\", \"m/d/yyyy h:mm:ss am/pm\": times are ignored); "
    "or \"iso\", \"excel\", or a strptime format with % (\"%Y%m%d\")"
)
#: The time a date format may show after a space: read, never used.
_TIME_FORMAT = re.compile(r"h{1,2}:mm(?::ss)?(?:\s*(?:am/pm|tt))?")
#: Value specs nest (a lookup's match is a lookup, …) at most this deep.
MAX_NESTING = 12


def shown_value(value: Any) -> str:
    """A value of the mapping as written, shortened for messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class SpecReader:
    """Reads value specs, with the key of each in messages."""

    def __init__(self, path: Path, *, export_date: dt.date | None = None):
        self.path = path
        self.maps: dict[str, ValueMap] = {}
        self.lookups: dict[str, Mapping[str, Any]] = {}
        self.sources: dict[str, SourceSpec] = {}
        self.export_date = export_date

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
        date_part, _, time_part = low.partition(" ")
        tokens = re.findall(r"yyyy|yy|mm|dd|m|d|[^a-z]", date_part)
        kinds = [{"yyyy": "y", "yy": "y", "mm": "m", "m": "m", "dd": "d", "d": "d"}.get(t, "") for t in tokens]
        if (
            "".join(tokens) != date_part or sorted(k for k in kinds if k) != ["d", "m", "y"]
            or (time_part and not _TIME_FORMAT.fullmatch(time_part.strip()))
        ):
            raise self.fail(key, f"'{label}' is not a date format: {DATE_FORMS}")
        conv = {"yyyy": ("%Y", r"\d{4}"), "yy": ("%y", r"\d{2}"), "mm": ("%m", r"\d{1,2}"), "dd": ("%d", r"\d{1,2}")}
        conv |= {"m": conv["mm"], "d": conv["dd"]}
        fmt = "".join(conv[t][0] if t in conv else t.replace("%", "%%") for t in tokens)
        regex = "".join(conv[t][1] if t in conv else re.escape(t) for t in tokens)
        return DateFormat(label, "strptime", fmt, regex)

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

    def spec(self, raw: Any, key: str, target: Target, table: str | None, depth: int = 0) -> Spec:
        """A value spec; ``table`` is the target table (None inside lookups and levels)."""
        if depth > MAX_NESTING:
            raise self.fail(key, f"value specs nest more than {MAX_NESTING} levels deep")
        if isinstance(raw, str):
            return Spec(key, "column", target, columns=(self.name(raw, key),), dates=None)
        if isinstance(raw, list):
            raise self.fail(key, "a list is not a value spec: write { column = [\"A\", \"B\"] } to take the first non-empty column")
        raw = self.table(raw, key)
        bases = ["lookup"] if "lookup" in raw else [b for b in BASES if b in raw]  # a lookup's value is its own
        if len(bases) != 1:
            raise self.fail(key, f"give exactly one of {', '.join(BASES)} (got {', '.join(bases) or 'none'})")
        base = bases[0]
        allowed = {base, "default"} if base == "hash" else {base, *MODIFIERS} | (LOOKUP_KEYS if base == "lookup" else set())
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
        elif base == "hash":
            items = raw["hash"] if isinstance(raw["hash"], list) else [raw["hash"]]
            if not items or not all(isinstance(i, str | dict) for i in items):
                raise self.fail(f"{key}.hash", "expected a column name or a list of value specs, e.g. hash = [\"Name\", \"Account\", \"Created On\"]")
            if target.kind not in ("id", "text"):
                raise self.fail(f"{key}.hash", f"a hash makes ids: it fits a text column, not {target.name}")
            spec.hashed = tuple(self.spec(item, f"{key}.hash[{i}]", TEXT, None, depth + 1) for i, item in enumerate(items, 1))
        elif base == "unit":
            self.unit(spec, raw["unit"], f"{key}.unit", depth)
        elif base in ("person", "entity"):
            ref = {"person": "collaborators", "entity": "entities"}[base]
            if target.kind != "id" or TABLES[target.table].column(target.column).ref != ref:
                raise self.fail(f"{key}.{base}", f"'{base}' makes {ref} ids: it fits a column referencing {ref}, not {target.name}")
            spec.inner = self.spec(raw[base], f"{key}.{base}", TEXT, None, depth + 1)
        self.modifiers(spec, raw, key, table, depth)
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
                raise self.fail(key, f"{shown_value(text)}: braces must hold a column name, e.g. \"{{Prénom}} {{Nom}}\" ({{{{ and }}}} for a brace)")
        parts.append((literal + text[pos:], None))
        if len(parts) - 1 > MAX_TEMPLATE_COLUMNS:
            raise self.fail(key, f"names {len(parts) - 1:,} columns; a template names at most {MAX_TEMPLATE_COLUMNS}")
        if all(c is None for _, c in parts):
            raise self.fail(key, f"{shown_value(text)} names no column: use {{ value = ... }} for a constant")
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
        merged = {**base, **{k: raw[k] for k in LOOKUP_KEYS if k in raw}}
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

    def modifiers(self, spec: Spec, raw: dict[str, Any], key: str, table: str | None, depth: int) -> None:
        target = spec.target
        structural = spec.kind in ("unit", "person", "entity")
        if "default" in raw:
            default = raw["default"]
            if isinstance(default, dict):  # a value spec, with its own modifiers and default: a chain
                spec.default = self.spec(default, f"{key}.default", target, None, depth + 1)
            else:  # a bare value is the target value itself (a string here is no column name)
                text = self.text(default, f"{key}.default")
                self.allowed_value(text, target, f"{key}.default")
                spec.default = Spec(f"{key}.default", "value", target, value=text, constant=True)
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
