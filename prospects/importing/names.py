"""Rows made from names: the organisation tree (``unit``), collaborators (``person``)
and entities (``entity``), with ids stable across runs (slugs or hashes of the names).

A ``person`` name is first looked for in the directory when ``[tables.collaborators]``
maps one (by full name, case, accents and spaces ignored); the names it does not hold
become collaborators of their own, by the rules of ``[people]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..schema import TABLES
from .cells import GENERATED, Cells, Explained, Piece, concat
from .logins import infer, make_logins
from .spec import (
    DEFAULT_ROLES,
    DEFAULT_VALIDATORS,
    LEVELS,
    ROLE_ORDER,
    UNIT_PREFIX,
    ImportMapping,
    PeopleSpec,
    SourceSpec,
    Spec,
    describe,
    spec_columns,
    table_specs,
    with_defaults,
)
from .values import BAD, Val, as_str, hash_id, norm, quoted, slugs

if TYPE_CHECKING:
    from .evaluate import Evaluator
    from .sources import Source

_SEP = "\x1f"


class Names:
    """The registries of units, people and entities met in the specs, and their rows."""

    def __init__(self, mapping: ImportMapping, ev: Evaluator, explain: Explained):
        self.m = mapping
        self.ev = ev
        self.explain = explain
        self.units: dict[tuple[str, ...], str] = {}  # path of slugs → id
        self.unit_rows: list[dict[str, Any]] = []
        self.by_kind: dict[str, dict[str, list[tuple[str, ...]]]] = {lvl: {} for lvl in LEVELS}
        self.people: dict[str, dict[str, Any]] = {}  # slug → id, login, name, role rank, source, row
        self.entities: dict[str, dict[str, Any]] = {}
        self.named_in: dict[str, dict[str, None]] = {}  # person/entity → target columns naming them
        self.directory: pd.Series | None = None  # normalised full name → collaborator id ("\x00…" when several)
        self.directory_logins: pd.DataFrame | None = None  # the directory's full names and logins (usable rows)

    @property
    def hashed(self) -> bool:
        return self.m.org is not None and self.m.org.ids == "hash"

    # -- org units -------------------------------------------------------------------
    def unit(self, spec: Spec, src: Source) -> Val:
        return self.resolve_units(spec, src, grow=False)

    def resolve_units(self, spec: Spec, src: Source, *, grow: bool) -> Val:
        """Org unit ids of the rows; ``grow`` adds the units met (tree building)."""
        n = src.n
        levels = list(spec.levels)
        vals = {lvl: self.ev.eval(s, src) for lvl, s in spec.levels.items()}
        names = pd.DataFrame({lvl: vals[lvl].v for lvl in levels})
        slug = pd.DataFrame({lvl: slugs(names[lvl]) for lvl in levels})
        out = Val.empty(n)
        for lvl in levels:
            out.take(vals[lvl])
        present = names.notna().to_numpy()
        # a level given below an empty one
        gap = np.zeros(n, dtype=bool)
        for i in range(1, len(levels)):
            gap_i = present[:, i] & ~present[:, :i].all(axis=1)
            if gap_i.any():
                above = levels[i - 1]
                out.fail(gap_i & ~gap, f"{levels[i]} " + quoted(names[levels[i]]) + f" is given without its {above} ({spec_columns(spec.levels[above])} is empty)", "org", names[levels[i]])
                gap |= gap_i
        usable = out.ok_mask() & present[:, 0]
        if not usable.any():
            self.ev.fill_default(spec, src, out, ~present.any(axis=1) & out.ok_mask())
            return out
        key = slug[levels[0]].where(pd.Series(usable))
        shown = names[levels[0]].fillna("")
        for lvl in levels[1:]:
            key = key + (_SEP + slug[lvl]).fillna("")
            shown = shown + (" / " + names[lvl]).fillna("")
        firsts = pd.DataFrame({"key": key, "pos": np.arange(n)}).dropna(subset=["key"]).drop_duplicates("key")
        ids, failures = {}, {}
        start = LEVELS.index(levels[0])
        for k, pos in zip(firsts["key"], firsts["pos"], strict=True):  # one pass per distinct path
            path = tuple(k.split(_SEP))
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
        out.v = as_str(key.map(ids))
        if failures:
            reasons = key.map(failures)
            out.fail(usable & reasons.notna().to_numpy(), reasons.astype("str"), "org", shown)
        self.ev.fill_default(spec, src, out, ~present.any(axis=1) & out.ok_mask())
        return out

    def add_path(self, path: tuple[str, ...], names: list[str], src: Source, row: int, start: int) -> None:
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub in self.units:
                continue
            kind = LEVELS[depth - 1]
            uid = UNIT_PREFIX[kind] + (hash_id(_SEP.join(sub)) if self.hashed else ".".join(sub))
            parent = self.units[sub[:-1]] if depth > 1 else self.m.org.firm_id
            name = names[depth - 1 - start] if depth - 1 >= start else sub[-1]
            self.units[sub] = uid
            self.by_kind[kind].setdefault(sub[-1], []).append(sub)
            self.unit_rows.append({"id": uid, "name": name, "kind": kind, "parent_id": parent, "_source": src.name, "_row": row})

    def build_tree(self, sources: Mapping[str, Source]) -> None:
        """Every unit met in a `unit` spec of a table: full paths first, then paths starting lower."""
        if self.m.org is None:
            return
        specs = []
        for ts in self.m.tables.values():
            groups = [(part.columns.values(), part.sources) for part in ts.parts]
            if ts.lines:
                groups.append(([s for _col, s in table_specs(ts)], ts.line_sources))
            for group, names in groups:
                specs += [(u, sources[s]) for spec in group for u in with_defaults(spec) if u.kind == "unit" for s in names]
        for spec, src in sorted(specs, key=lambda p: LEVELS.index(next(iter(p[0].levels)))):
            self.resolve_units(spec, src, grow=True)
            self.ev.cache.pop((id(spec), src.name), None)

    # -- people and entities named by a column --------------------------------------------
    def named(self, spec: Spec, src: Source) -> Val:
        what = spec.kind
        inner = self.ev.eval(spec.inner, src)
        self.named_in.setdefault(what, {})[spec.target.name] = None
        out = inner.copy()
        names = inner.v
        found = pd.Series(np.nan, index=names.index, dtype="str")
        several = np.zeros(len(names), dtype=bool)
        if what == "person" and self.directory is not None:
            found = as_str(norm(names).map(self.directory))
            several = found.str.startswith(BAD).fillna(False).to_numpy(dtype=bool)
            if several.any():
                out.fail(several, f"{spec_columns(spec.inner)} " + quoted(names) + " names several collaborators of the directory (ids " + found.str[1:] + ")", "ambiguous", names)
            found = found.mask(several)
        todo = names.where(found.isna() & ~several)
        slug = slugs(todo)
        ids = self.register(self.people if what == "person" else self.entities, todo, slug, src, spec.target.column, what)
        out.v = as_str(found.fillna(as_str(slug.map(ids))))
        self.ev.fill_default(spec, src, out, inner.v.isna().to_numpy())
        return out

    def register(self, registry: dict[str, dict[str, Any]], names: pd.Series, slug: pd.Series, src: Source, role: str, what: str) -> dict[str, str]:
        seen = pd.DataFrame({"slug": slug, "name": names, "row": src.rows}).dropna(subset=["slug"]).drop_duplicates("slug")
        rank = ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
        for rec in seen.itertuples(index=False):
            entry = registry.get(rec.slug)
            if entry is None:
                if what == "person":  # the login comes later (.logins: the directory's convention)
                    uid = "C-" + hash_id(rec.slug) if self.hashed else rec.slug.replace("-", ".")
                else:
                    uid = "E-" + (hash_id(rec.slug) if self.hashed else rec.slug)
                registry[rec.slug] = {"id": uid, "name": rec.name, "role": role, "rank": rank, "_source": src.name, "_row": int(rec.row)}
            elif rank < entry["rank"]:
                entry["role"], entry["rank"] = role, rank
        return {k: v["id"] for k, v in registry.items()}

    def set_directory(self, cells: Cells) -> None:
        """The directory's collaborators by full name, for ``person`` (usable rows only)."""
        ok = cells.errors["id"].ok_mask() & cells.errors["full_name"].ok_mask()
        frame = pd.DataFrame({"name": norm(cells.values["full_name"]), "id": cells.values["id"]})[ok].dropna()
        ids = frame.drop_duplicates().groupby("name", sort=False)["id"].agg(lambda s: s.iloc[0] if len(s) == 1 else BAD + ", ".join(s.iloc[:3]))
        self.directory = ids
        usable = ok & cells.errors["login"].ok_mask()
        people = pd.DataFrame({"name": cells.values["full_name"], "login": cells.values["login"]})[usable].dropna()
        self.directory_logins = people

    # -- their rows ------------------------------------------------------------------
    def people_cells(self, frames: Mapping[str, pd.DataFrame]) -> Cells | None:
        """One collaborator per person named and not in the directory (rules of [people])."""
        if not self.people:
            return None
        reg = list(self.people.values())
        n = len(reg)
        ids = as_str([p["id"] for p in reg])
        login_rule, logins = self.logins(as_str([p["name"] for p in reg]))
        virtual = {
            "id": ids,
            "login": as_str(logins),
            "name": as_str([p["name"] for p in reg]),
            "role": as_str([p["role"] for p in reg]),
            "unit_id": self.home_units(ids, frames),
        }
        spec = self.m.people or PeopleSpec({}, dict(DEFAULT_ROLES), DEFAULT_VALIDATORS)
        from .sources import Source

        src = Source(SourceSpec("[people]", None, None, ",", "utf-8", 1, ",", ()), "[people]", tuple(virtual), virtual, np.arange(1, n + 1))
        for s in (u for col in spec.columns.values() for u in with_defaults(col)):
            if s.kind == "unit":  # a home unit from a spec adds the units it names
                self.ev.cache[(id(s), src.name)] = self.resolve_units(s, src, grow=True)
        vals = {c: self.ev.eval(s, src) for c, s in spec.columns.items()}
        rule_function = as_str(virtual["role"].map(spec.roles).fillna("staff"))
        base = {
            "id": Val.of(virtual["id"]), "login": Val.of(virtual["login"]), "full_name": Val.of(virtual["name"]),
            "function": Val.of(rule_function), "unit_id": Val.of(virtual["unit_id"]),
            "entity_id": Val.empty(n), "active": Val.of(as_str("true", n)), "email": Val.empty(n),
        }
        for col, b in base.items():
            if col in vals:
                v = vals[col].copy()
                v.v = v.v.fillna(b.v)
                vals[col] = v
            else:
                vals[col] = b
        by_rule = as_str(np.where(vals["function"].v.isin(spec.validators), "true", "false"))
        if "can_validate_offers" in vals:
            v = vals["can_validate_offers"].copy()
            v.v = v.v.fillna(by_rule)
            vals["can_validate_offers"] = v
        else:
            vals["can_validate_offers"] = Val.of(by_rule)
        cells = concat("collaborators", [Piece("", vals, np.arange(1, n + 1), np.full(n, GENERATED))])
        cells.source = np.array([p["_source"] for p in reg], dtype=object)
        cells.row = np.array([p["_row"] for p in reg], dtype="int64")
        rules = {
            "id": "generated from the name", "login": login_rule, "full_name": "the name as first written",
            "function": "rule by role: " + ", ".join(f"{k} → {v}" for k, v in spec.roles.items()),
            "unit_id": "the unit of most of their deals", "entity_id": "empty",
            "can_validate_offers": "true for " + ", ".join(spec.validators), "active": "true", "email": "empty",
        }
        described = [
            (c, describe(spec.columns[c]) + " (else the rule)" if c in spec.columns else rules[c])
            for c in TABLES["collaborators"].column_names
        ]
        named = ", ".join(self.named_in.get("person", {}))
        if self.directory is None:
            self.explain.described["collaborators"] = described
            self.explain.drivers["collaborators"] = "one row per person named in " + named
            for c in TABLES["collaborators"].column_names:
                self.explain.source_columns[("collaborators", c, -1)] = spec_columns(spec.columns[c]) if c in spec.columns else "(person names)"
        else:
            self.explain.described["collaborators"] = [*self.explain.described.get("collaborators", []), ("+ people", f"{n} named in {named} but not in the directory, made from their names:")]
            self.explain.described["collaborators"] += [(f"  {c}", d) for c, d in described]
            self.explain.drivers["collaborators"] += f", and one per person named in {named} who is not in it"
            shown = ", ".join(p["name"] for p in reg[:10]) + (", …" if n > 10 else "")
            self.explain.notes.append(f"{n} {'person' if n == 1 else 'people'} named in {named} but not in the directory, made from their names: {shown}")
        return cells

    def logins(self, names: pd.Series) -> tuple[str, list[str]]:
        """The logins of the people made from names (:mod:`.logins`): the directory's
        convention when it has one, else first.last; a note says which and why."""
        if self.directory_logins is None:
            return "generated from the name (jean.dupont)", make_logins(names, None, ())[0]
        d = self.directory_logins
        conv = infer(d["name"], d["login"])
        logins, shown = make_logins(names, conv, d["login"].tolist())
        n = len(names)
        listed = ", ".join(shown[:10]) + (", …" if n > 10 else "")
        if conv.found:
            self.explain.notes.append(
                f"logins of the {n} {'person' if n == 1 else 'people'} made from names follow the directory's convention "
                f"{conv.pattern} ({conv.why()}): {listed}")
            return f"the directory's convention {conv.pattern}", logins
        self.explain.notes.append(
            f"the directory's logins follow no convention of the names found ({conv.why()}): people made from names get "
            f"{conv.pattern} logins: {listed}")
        return f"{conv.pattern} (the directory's logins follow no convention of the names)", logins

    def home_units(self, ids: pd.Series, frames: Mapping[str, pd.DataFrame]) -> pd.Series:
        """Each generated person's home unit: the unit of most of the deals they work on."""
        deals = frames.get("deals")
        pairs = []
        if deals is not None and len(deals):
            for col in ("partner_id", "manager_id", "client_manager_id"):
                pairs.append(pd.DataFrame({"person": deals[col], "unit": deals["unit_id"]}))
            docs = frames.get("documents")
            if docs is not None and len(docs):
                unit_of = deals.drop_duplicates("id").set_index("id")["unit_id"]
                pairs.append(pd.DataFrame({"person": docs["signatory_id"], "unit": docs["deal_id"].map(unit_of)}))
        firm = self.m.org.firm_id if self.m.org else None
        if not pairs:
            return as_str(firm, len(ids))
        p = pd.concat(pairs, ignore_index=True).dropna()
        p = p[~p["unit"].str.contains(BAD, regex=False) & ~p["person"].str.contains(BAD, regex=False)]
        p = p.assign(_pos=np.arange(len(p)))
        top = p.groupby(["person", "unit"], sort=False).agg(n=("_pos", "size"), first=("_pos", "min")).reset_index()
        top = top.sort_values(["person", "n", "first"], ascending=[True, False, True]).drop_duplicates("person")
        return as_str(ids.map(top.set_index("person")["unit"]).fillna(firm))

    def org_cells(self) -> Cells:
        org = self.m.org
        rows = [{"id": org.firm_id, "name": org.firm, "kind": "firm", "parent_id": None, "_source": "(mapping)", "_row": 0}, *self.unit_rows]
        frame = pd.DataFrame(rows)
        values = {c: as_str(frame[c]) for c in TABLES["org_units"].column_names}
        self.explain.described["org_units"] = [("firm", f"'{org.firm}' ({org.firm_id})"), ("ids", "R-/A-/T- + " + ("slugs of the path" if org.ids == "slug" else "hash of the path"))]
        self.explain.drivers["org_units"] = "the firm and every region, agency and team named in `unit` columns"
        for c in values:
            self.explain.source_columns[("org_units", c, -1)] = "(org unit names)"
        return Cells(values, {c: Val.of(values[c]) for c in values}, frame["_source"].to_numpy(dtype=object), frame["_row"].to_numpy(dtype="int64"), np.full(len(frame), GENERATED))

    def entity_cells(self) -> Cells | None:
        if not self.entities:
            return None
        reg = list(self.entities.values())
        values = {"id": as_str([e["id"] for e in reg]), "name": as_str([e["name"] for e in reg])}
        self.explain.described["entities"] = [("id", "E- + slug of the name"), ("name", "the name as first written")]
        self.explain.drivers["entities"] = "one row per entity named in " + ", ".join(self.named_in.get("entity", {}))
        for c in values:
            self.explain.source_columns[("entities", c, -1)] = "(entity names)"
        return Cells(values, {c: Val.of(values[c]) for c in values}, np.array([e["_source"] for e in reg], dtype=object), np.array([e["_row"] for e in reg], dtype="int64"), np.full(len(reg), GENERATED))

