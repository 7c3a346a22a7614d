"""Values: text helpers, the values of a spec with their failures (:class:`Val`), and
the parsing a target column needs — value maps, dates, amounts, lookups.

Everything works on pandas series, most of it on the distinct values only
(:func:`distinct`): a column of 200,000 rows usually holds a few hundred dates.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import DEFAULT_CURRENCY, minor_digits
from ..schema import (
    DOC_STATUSES,
    MAX_AMOUNT_CENTS,  # docs/data.md's bound on a line, one definition
)
from .spec import NO_DOCUMENT, DateFormat, Spec, Target, spec_columns

#: Marks a cell the mapping could not fill: validation always rejects a NUL character.
BAD = "\x00"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MAX_EXCEL_SERIAL = 109_574  # 2199-12-31


# ---------------------------------------------------------------------------
# text helpers (vectorised)


def distinct(s: pd.Series, fn: Any) -> Any:
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


def normalised(text: str) -> str:
    """One value as maps and lookups compare it: NFC, case-folded, runs of spaces as one, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _normalised(u: pd.Series) -> pd.Series:
    # one pass per value in Python: 2-3 times faster than the chain of pandas string methods
    return pd.Series([normalised(k) for k in u.tolist()], index=u.index, dtype="str")


def norm(s: pd.Series) -> pd.Series:
    """Values compared by maps and lookups: NFC, case-folded, inner spaces collapsed, trimmed."""
    return distinct(s, _normalised)


def norm_one(text: str) -> str:
    return norm(pd.Series([text], dtype="str")).iloc[0]


def slugs(values: pd.Series) -> pd.Series:
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


def hash_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def hash_ids(parts: Sequence[pd.Series]) -> pd.Series:
    """``{ hash = [...] }``: the first :data:`.spec.HASH_DIGITS` hex digits of the SHA-1 of
    the values, compared as maps compare them (:func:`norm`: case, Unicode form and runs of
    spaces ignored), so that a re-export printing them a little differently gives the same
    id; null where every value is. The values (trimmed already) are joined by a NUL, which
    no normalisation touches, and each distinct combination is normalised and hashed once."""
    from .spec import HASH_DIGITS

    present = np.zeros(len(parts[0]), dtype=bool)
    key = pd.Series("", index=parts[0].index, dtype="str")
    for i, p in enumerate(parts):
        present |= p.notna().to_numpy()
        key = key + ("\x00" if i else "") + p.fillna("")

    def digest(u: pd.Series) -> pd.Series:
        out = [hashlib.sha1(normalised(k).encode("utf-8")).hexdigest()[:HASH_DIGITS] for k in u.tolist()]
        return pd.Series(out, index=u.index, dtype="str")

    return distinct(key.where(present), digest)


def as_str(values: Any, n: int | None = None) -> pd.Series:
    """Text values as a ``str`` series (NaN = null) indexed 0…n-1; a scalar is repeated ``n`` times."""
    if n is not None and not isinstance(values, pd.Series):
        return pd.Series([values] * n if values is not None else np.nan, index=range(n), dtype="str")
    s = pd.Series(values, dtype="str") if not isinstance(values, pd.Series) else values.astype("str")
    return s.reset_index(drop=True)


def empty_str(n: int) -> pd.Series:
    return pd.Series(np.nan, index=range(n), dtype="str")


def blank(s: pd.Series) -> pd.Series:
    """Trimmed; empty → null."""

    def strip(u: pd.Series) -> pd.Series:
        u = u.str.strip()
        return u.mask(u == "")

    return distinct(s, strip)


def quoted(s: pd.Series) -> pd.Series:
    return "'" + s.astype("str").fillna("") + "'"


# ---------------------------------------------------------------------------
# the values of a spec


_FIELDS = ("err", "kind", "shown", "note")


@dataclass(eq=False)
class Val:
    """Values of a spec for every row of a source, with the reason of each failed cell.

    A *failure* (``err``) rejects the target row holding the value; a *note* (``note``)
    only says why a value is empty (a lookup that found nothing, ``on_miss = "empty"``):
    it is counted and listed, the row is kept. The four arrays are ``None`` until a
    row fails or is noted (most values never do: no memory is spent on them).
    """

    v: pd.Series  # str dtype, NaN = null
    err: np.ndarray | None = None  # object: reason or None
    kind: np.ndarray | None = None  # object: unmapped, not found, ambiguous, bad date, bad amount, org, no document
    shown: np.ndarray | None = None  # object: the source value behind a failure (or a note)
    raw: pd.Series | None = None  # the source value before map and parsing
    note: np.ndarray | None = None  # object: why the value was left empty, or None

    def __post_init__(self) -> None:
        if self.raw is None:
            self.raw = self.v

    @classmethod
    def of(cls, v: pd.Series) -> Val:
        return cls(as_str(v))

    @classmethod
    def empty(cls, n: int) -> Val:
        return cls.of(empty_str(n))

    @property
    def marked(self) -> bool:
        """Whether any row holds a failure or a note."""
        return self.err is not None

    def _ready(self) -> None:
        if self.err is None:
            n = len(self.v)
            for name in _FIELDS:
                setattr(self, name, np.full(n, None, object))

    def copy(self, v: pd.Series | None = None) -> Val:
        arrays = [None if getattr(self, a) is None else getattr(self, a).copy() for a in _FIELDS]
        return Val(self.v if v is None else as_str(v), arrays[0], arrays[1], arrays[2], self.raw, arrays[3])

    def ok_mask(self) -> np.ndarray:
        return np.ones(len(self.v), dtype=bool) if self.err is None else pd.isna(self.err).astype(bool)

    def note_mask(self) -> np.ndarray:
        return np.zeros(len(self.v), dtype=bool) if self.note is None else ~pd.isna(self.note).astype(bool)

    def fail(self, mask: np.ndarray, reason: pd.Series | str, kind: str, shown: pd.Series | None) -> None:
        mask = np.asarray(mask, dtype=bool) & self.ok_mask()
        if not mask.any():
            return
        self._ready()
        self.err[mask] = reason[mask].to_numpy(dtype=object) if isinstance(reason, pd.Series) else reason
        self.kind[mask] = kind
        self.shown[mask] = shown[mask].to_numpy(dtype=object) if shown is not None else None

    def noted(self, mask: np.ndarray, reason: pd.Series, shown: pd.Series) -> None:
        mask = np.asarray(mask, dtype=bool) & self.ok_mask() & ~self.note_mask()
        if mask.any():
            self._ready()
            self.note[mask] = reason[mask].to_numpy(dtype=object)
            self.shown[mask] = shown[mask].to_numpy(dtype=object)

    def take(self, other: Val) -> None:
        """Carry the failures and notes of ``other`` (same rows) where this has none."""
        if not other.marked:
            return
        self._ready()
        ok = self.ok_mask()
        mask = ~other.ok_mask() & ok
        self.err[mask], self.kind[mask], self.shown[mask] = other.err[mask], other.kind[mask], other.shown[mask]
        notes = other.note_mask() & ~self.note_mask() & ok & ~mask
        self.note[notes], self.shown[notes] = other.note[notes], other.shown[notes]

    def clear(self, mask: np.ndarray) -> None:
        """No value, failure nor note on the rows of ``mask`` (a condition says so)."""
        self.v = self.v.where(~mask)
        if self.marked:
            for name in _FIELDS:
                getattr(self, name)[mask] = None

    def rows(self, pos: np.ndarray) -> Val:
        """The values of the rows at ``pos`` (positions), in that order."""
        raw = self.raw.iloc[pos].reset_index(drop=True) if self.raw is not None else None
        arrays = [None if getattr(self, a) is None else getattr(self, a)[pos] for a in _FIELDS]
        return Val(as_str(self.v.iloc[pos]), arrays[0], arrays[1], arrays[2], raw, arrays[3])

    @staticmethod
    def concat(values: Sequence[pd.Series], vals: Sequence[Val]) -> Val:
        """One Val of the rows of several, in order (``values``: their text, concatenated)."""
        v = as_str(pd.concat(values, ignore_index=True)) if values else as_str([])
        if not any(x.marked for x in vals):
            return Val(v)
        arrays = []
        for name in _FIELDS:
            arrays.append(np.concatenate([getattr(x, name) if x.marked else np.full(len(x.v), None, object) for x in vals]))
        return Val(v, arrays[0], arrays[1], arrays[2], None, arrays[3])


# ---------------------------------------------------------------------------
# maps, dates, amounts


def project(target: Target, values: tuple[str, ...]) -> str:
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


#: A time after a date, ignored: 14:35, 2:05 PM, 11:59:58 p.m., T08:00:00.5
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?\s*[Mm]\.?)?)$"


def parse_dates(s: pd.Series, formats: Sequence[DateFormat]) -> tuple[pd.Series, np.ndarray]:
    """Values (no nulls) → ISO dates; ISO dates (with or without a time) are always accepted,
    and a time after any date is ignored (``14:35``, ``2:05 PM``)."""
    base = s.str.replace(_TIME, "", regex=True).str.strip()
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
_MAX_DIGITS = str(MAX_AMOUNT_CENTS)


def parse_money(s: pd.Series, decimal: str, currency: Sequence[str], money: str,
                code: str = DEFAULT_CURRENCY) -> tuple[pd.Series, pd.Series]:
    """Amounts (no nulls) → integer cents (minor units) as text, exactly (string arithmetic, never float).

    Currency symbols and spaces (also no-break) go; ``decimal`` is the decimal mark and
    the other of ``.``/``,`` (or an apostrophe) may group thousands. ``money = "euros"``:
    amounts in the firm's major units of currency ``code``, whose minor unit has CLDR's
    decimals (2; 0 for the yen); ``"cents"``: already minor units. Returns the minor units
    and, where the value is no amount (or more than :data:`MAX_AMOUNT_CENTS`), the reason,
    in that currency (``is too large (at most 100,000,000,000 USD per line)``).
    """
    digits = minor_digits(code)
    bound = f"{MAX_AMOUNT_CENTS // 10 ** digits:,} {code}" if money == "euros" else f"{MAX_AMOUNT_CENTS:,} cents"
    cur = "|".join(re.escape(c) for c in sorted(currency, key=len, reverse=True))
    t = s.str.replace(f"(?i:{cur})", "", regex=True) if cur else s
    t = t.str.replace(r"\s+", "", regex=True)
    parts = t.str.extract(_MONEY[decimal])
    sign, whole, frac = parts[0], parts[1], parts[2].fillna("")
    whole = whole.str.replace(r"\D", "", regex=True)
    reason = pd.Series(np.nan, index=s.index, dtype="str")
    mark = "decimal comma" if decimal == "," else "decimal point"
    example = ("1 234" if decimal == "," else "1,234") + (f"{decimal}{'5' * digits}" if digits else "")
    reason[whole.isna()] = f"is not an amount ({mark}, e.g. {example} {code})"
    keep = digits if money == "euros" else 0
    too_fine = whole.notna() & frac.str[keep:].str.contains("[1-9]", regex=True).fillna(False)
    if money != "euros":
        fine = "is not a whole number of cents"
    else:
        fine = f"has more than {digits} decimals (not whole cents)" if digits else "has decimals: the firm's currency has no minor unit"
    reason[too_fine & reason.isna()] = fine
    minor = whole + frac.str[:keep].str.pad(keep, side="right", fillchar="0") if keep else whole
    minor = minor.str.lstrip("0").replace("", "0")
    size = minor.str.len()
    too_large = (size > len(_MAX_DIGITS)) | ((size == len(_MAX_DIGITS)) & (minor > _MAX_DIGITS))
    reason[too_large.fillna(False) & reason.isna()] = f"is too large (at most {bound} per line)"
    minor = minor.where(~((sign == "-") & (minor != "0")), "-" + minor)
    return minor.where(reason.isna()), reason


# ---------------------------------------------------------------------------
# lookups


def look_up(spec: Spec, match: Val, keys: Val, values: Val, other_rows: np.ndarray) -> Val:
    """This row's ``match`` found among the ``keys`` of another source: that row's value.

    Values are compared by :func:`norm`. A value found in rows with different results is
    ambiguous (a failure); a value not found is a failure, or (``on_miss = "empty"``)
    an empty value with a note. Failures of the value found travel with it.
    """
    table = pd.DataFrame({"k": norm(keys.v), "v": values.v, "row": other_rows}).dropna(subset=["k"])
    first = table.drop_duplicates("k").set_index("k")
    counts = table.groupby("k")["v"].nunique(dropna=False)
    ambiguous = counts[counts > 1].index
    mk = norm(match.v)
    res = mk.map(first["v"]).astype("str")
    val = match.copy(res)
    label = spec_columns(spec.match)
    shown = match.v
    found = mk.isin(first.index).to_numpy()
    amb = mk.isin(ambiguous).to_numpy()
    if amb.any():
        rows = table[table["k"].isin(mk[amb].unique())].groupby("k")["row"].apply(lambda r: ", ".join(map(str, r.iloc[:3])))
        val.fail(amb, f"{label} " + quoted(shown) + f" matches several rows of {spec.lookup_source} with different values (rows " + mk.map(rows) + ")", "ambiguous", shown)
    miss = match.v.notna().to_numpy() & ~found
    if miss.any():
        reason = f"{label} " + quoted(shown) + f" not found in {spec.lookup_source} ({spec_columns(spec.lookup_key)})"
        if spec.on_miss == "reject":
            val.fail(miss, reason, "not found", shown)
        else:
            val.noted(miss, reason, shown)
    if values.marked:
        pos = pd.Series(np.arange(len(values.v)), index=norm(keys.v)).loc[lambda p: ~p.index.duplicated()]
        idx = mk.map(pos)
        hit = idx.notna().to_numpy()
        carried = Val.of(res)
        carried._ready()
        ii = idx[hit].astype("int64").to_numpy()
        carried.err[hit], carried.kind[hit], carried.shown[hit], carried.note[hit] = values.err[ii], values.kind[ii], values.shown[ii], values.note[ii]
        val.take(carried)
    return val
