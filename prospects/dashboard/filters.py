"""The filter bar: *Exercice* for everyone; *Organisation* (region → agency → team) and
*Collaborateurs* for people with the right to validate, limited to their perimeter.

The choices offered are those of :meth:`prospects.api.View.filter_options`; the view refuses
anything else anyway. A filter that can do nothing is not shown: a validator whose
perimeter is empty gets one sentence saying why instead of Organisation and Collaborateurs,
and an agency or team list with nothing to choose is hidden. Under the filters, a notice
line speaks of the scope (an empty "Mes affaires" with a one-click switch to the
perimeter, a remembered choice, the way back to "Mes affaires").

This module only builds the controls and reads what they say; the app
(:mod:`prospects.dashboard.app`) decides what a change does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import i18n
from .labels import Words
from .widgets import ALL, MINE, Shared, boxed, esc, html_block

if TYPE_CHECKING:
    from ..api import View

#: What :meth:`Filters.typed_collaborator` says while a name is being typed (no choice yet).
TYPING = object()
#: A stacked label above its control (the description of an ipywidgets control).
STACKED = {"description_width": "initial"}


def folded(text: str) -> str:
    """Text for matching what people type: lower case, accents and extra spaces removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


class Filters:
    """The filter bar of one viewer; ``box`` is its widget."""

    def __init__(self, view: View, words: Words, shared: Shared, *, on_fy: Callable[[Any], None],
                 on_org: Callable[[Any], None], on_collaborator: Callable[[Any], None],
                 on_back: Callable[[], None], on_switch: Callable[[], None]):
        self.words, self.shared = words, shared
        u, lab, loc = words.ui, words.label, words.locale
        current = view.period()
        previous = view.period(previous=True)
        self.fy = w.ToggleButtons(
            options=[
                (u("fy_current", label=lab("current_year"), fy=current.fiscal_year), "current"),
                (u("fy_previous", label=lab("previous_year"), fy=previous.fiscal_year), "previous"),
            ],
            value="current",
            description=lab("fiscal_year"),
            style=STACKED,
            tooltips=[
                f"{i18n.date(current.start, loc)} – {i18n.date(current.as_of, loc)}",
                f"{i18n.date(previous.start, loc)} – {i18n.date(previous.as_of, loc)}",
            ],
            _dom_classes=("pr-filter-fy",),
        )
        self.fy.observe(on_fy, names="value")
        heading = html_block(f'<h2 class="pr-sr" id="pr-filters-heading">{esc(u("filters"))}</h2>', shared=shared)
        groups: list[w.Widget] = [boxed([self.fy], "pr-group", "pr-group-fy", vertical=True, shared=shared)]
        self.region: w.Dropdown | None = None
        self.agency: w.Dropdown | None = None
        self.team: w.Dropdown | None = None
        self.collaborator_box: w.Combobox | None = None
        self.clear_collaborator: w.Button | None = None
        self.collaborator_hint = html_block("", "pr-collab-hint", shared=shared)
        self.people: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        self.units = None
        note = ""
        if view.viewer.has_filters:
            opts = view.filter_options()
            if len(opts["units"]):
                groups.append(self._organisation(opts["units"], on_org))
            if len(opts["collaborators"]):
                groups.append(self._collaborators(opts["collaborators"], on_collaborator))
            if not len(opts["units"]) and not len(opts["collaborators"]):
                note = f'<p class="pr-filters-note">{esc(u("no_perimeter"))}</p>'
        self.note = html_block(note, "pr-filters-note-box", shared=shared)
        # the scope notice: a sentence and, when useful, the way back to "Mes affaires" or to the perimeter
        self.notice = html_block("", "pr-notice-text", shared=shared)
        self.back = w.Button(description=u("back_to_mine"), layout=w.Layout(width="auto", display="none"),
                             _dom_classes=("pr-back-to-mine",))
        self.back.on_click(lambda _b: on_back())
        self.switch = w.Button(description="", layout=w.Layout(width="auto", display="none"),
                               _dom_classes=("pr-switch-perimeter",))
        self.switch.on_click(lambda _b: on_switch())
        self.notice_box = boxed([self.notice, self.switch, self.back], "pr-notice", shared=shared)
        self.box = boxed([heading, boxed(groups, "pr-filters-row", shared=shared), self.note, self.notice_box],
                         "pr-filters", vertical=True, shared=shared)

    # -- building ---------------------------------------------------------------------
    def _organisation(self, units: Any, on_org: Callable[[Any], None]) -> w.Widget:
        u, lab, sh = self.words.ui, self.words.label, self.shared
        self.units = units.set_index("id", drop=False)
        first = [(lab("mine"), MINE)]
        for r in self.units.itertuples(index=False):
            if r.kind == "firm":
                first.append((u("whole_firm", name=r.name), r.id))
        for r in self.units.itertuples(index=False):
            if r.kind == "region":
                first.append((r.name, r.id))
        self.region = w.Dropdown(options=first, value=MINE, description=u("region"), style=STACKED,
                                 layout=w.Layout(width="auto"), _dom_classes=("pr-filter-region",))
        self.agency = w.Dropdown(options=[(u("all_agencies"), ALL)], value=ALL, description=u("agency"), style=STACKED,
                                 layout=w.Layout(width="auto"), _dom_classes=("pr-filter-agency",))
        self.team = w.Dropdown(options=[(u("all_teams"), ALL)], value=ALL, description=u("team"), style=STACKED,
                               layout=w.Layout(width="auto"), _dom_classes=("pr-filter-team",))
        self.cascade()
        for dd in (self.region, self.agency, self.team):
            dd.observe(on_org, names="value")
        title = html_block(f'<div class="pr-group-label" id="pr-org-label">{esc(lab("organisation"))}</div>', shared=sh)
        org = boxed([self.region, self.agency, self.team], "pr-org", shared=sh)
        return boxed([title, org], "pr-group", "pr-group-org", vertical=True, shared=sh)

    def _collaborators(self, people: Any, on_collaborator: Callable[[Any], None]) -> w.Widget:
        u, lab, sh = self.words.ui, self.words.label, self.shared
        self.people = {f"{r.full_name} ({r.login})": r.login for r in people.itertuples(index=False)}
        self._folded = {folded(name): name for name in self.people}
        self.collaborator_box = w.Combobox(
            options=list(self.people),
            value="",
            placeholder=u("search_collaborator"),
            description=lab("collaborators"),
            style=STACKED,
            ensure_option=False,
            continuous_update=True,
            layout=w.Layout(width="auto"),
            _dom_classes=("pr-filter-collaborator",),
        )
        self.collaborator_box.observe(on_collaborator, names="value")
        self.clear_collaborator = w.Button(description=u("clear"), layout=w.Layout(width="auto"),
                                           _dom_classes=("pr-filter-collaborator-clear",))
        self.clear_collaborator.on_click(lambda _b: setattr(self.collaborator_box, "value", ""))
        row = boxed([self.collaborator_box, self.clear_collaborator], "pr-collab", shared=sh)
        return boxed([row, self.collaborator_hint], "pr-group", "pr-group-collab", vertical=True, shared=sh)

    # -- the organisation cascade ---------------------------------------------------
    def cascade(self) -> None:
        """Agency and team choices under the chosen region / agency, within the perimeter;
        a list with nothing to choose is hidden."""
        assert self.region is not None and self.agency is not None and self.team is not None
        u = self.words.ui
        units = self.units
        in_perimeter = set(units.index)
        top = self.region.value
        top_kind = units.at[top, "kind"] if top in in_perimeter else None
        agencies = units[units["kind"] == "agency"]
        if top_kind == "region":
            agencies = agencies[agencies["region"] == top]
        elif top_kind != "firm":  # "Mes affaires": agencies whose region is not offered above
            agencies = agencies[~agencies["region"].isin(in_perimeter)]
        with self.shared.quiet():
            keep = self.agency.value if self.agency.value in set(agencies.index) else ALL
            self.agency.options = [(u("all_agencies"), ALL), *[(r.name, r.id) for r in agencies.itertuples(index=False)]]
            self.agency.value = keep
            self.agency.layout.display = None if len(agencies) else "none"
            teams = units[units["kind"] == "team"]
            if self.agency.value != ALL:
                teams = teams[teams["parent_id"] == self.agency.value]
            else:
                teams = teams[~teams["parent_id"].isin(in_perimeter)]  # teams offered only under their agency
            keep = self.team.value if self.team.value in set(teams.index) else ALL
            self.team.options = [(u("all_teams"), ALL), *[(r.name, r.id) for r in teams.itertuples(index=False)]]
            self.team.value = keep
            self.team.layout.display = None if len(teams) else "none"

    def set_unit(self, unit: str | None) -> None:
        """Show ``unit`` (one of the perimeter's, ``None`` for "Mes affaires") in the cascade, quietly."""
        if self.region is None:
            return
        units = self.units
        with self.shared.quiet():
            if unit is None or unit not in set(units.index):
                self.region.value = MINE
                self.cascade()
                return
            kind = units.at[unit, "kind"]
            region = units.at[unit, "region"] if kind in ("agency", "team") else unit
            offered = {v for _, v in self.region.options}
            self.region.value = region if region in offered else (
                next((v for _, v in self.region.options if v != MINE and units.at[v, "kind"] == "firm"), MINE))
            self.cascade()
            if kind in ("agency", "team"):
                agency = units.at[unit, "agency"] if kind == "team" else unit
                if agency in {v for _, v in self.agency.options}:
                    self.agency.value = agency
                self.cascade()
            if kind == "team" and unit in {v for _, v in self.team.options}:
                self.team.value = unit

    def set_collaborator(self, login: str | None) -> None:
        """Show ``login`` (one of the perimeter's people, ``None`` for nobody) in *Collaborateurs*, quietly."""
        if self.collaborator_box is None:
            return
        name = next((n for n, lg in self.people.items() if lg == login), "") if login else ""
        with self.shared.quiet():
            self.collaborator_box.value = name
        self.collaborator_hint.value = ""

    # -- what the controls say ------------------------------------------------------------
    def chosen_unit(self) -> str | None:
        """The unit chosen (the deepest of region, agency, team), ``None`` for "Mes affaires"."""
        for dd in (self.team, self.agency):
            if dd is not None and dd.value != ALL:
                return dd.value
        if self.region is not None and self.region.value != MINE:
            return self.region.value
        return None

    def typed_collaborator(self) -> str | object | None:
        """The login chosen in *Collaborateurs*, ``None`` when empty, :data:`TYPING` while the
        text names nobody exactly (case, accents and spaces aside); says how many match."""
        text = self.collaborator_box.value if self.collaborator_box is not None else ""
        key = folded(text)
        if key == "":
            self.collaborator_hint.value = ""
            return None
        if key in self._folded:
            self.collaborator_hint.value = ""
            return self.people[self._folded[key]]
        n = sum(key in name for name in self._folded)
        u, shown = self.words.ui, i18n.shown(text.strip(), 40)
        sentence = u("no_match", text=shown) if n == 0 else u("one_match", text=shown) if n == 1 else u("matches", n=n, text=shown)
        self.collaborator_hint.value = f'<p class="pr-hint" role="status">{esc(sentence)}</p>'
        return TYPING

    def previous_year(self) -> bool:
        """Whether the Exercice switch is on N-1."""
        return self.fy.value == "previous"

    def perimeter_top(self) -> tuple[str, str] | None:
        """The broadest unit offered (the firm, else the first region, else the first agency or
        team offered under "Mes affaires"): its id and its name in the list."""
        if self.region is None:
            return None
        for dd, empty in ((self.region, MINE), (self.agency, ALL), (self.team, ALL)):
            found = next(((v, label) for label, v in dd.options if v != empty), None)
            if found is not None:
                return found
        return None

    def say(self, sentence: str, *, back: bool, switch: str | None = None) -> None:
        """The notice under the filters: a sentence, the way back to "Mes affaires", a switch to a unit."""
        self.notice.value = f'<p class="pr-notice-sentence" role="status">{esc(sentence)}</p>' if sentence else ""
        self.back.layout.display = None if back else "none"
        if switch:
            self.switch.description = self.words.ui("see_unit", name=switch)
        self.switch.layout.display = None if switch else "none"
