"""The filter bar: *Exercice* for everyone; *Organisation* (region → agency → team) and
*Collaborateurs* for people with the right to validate, limited to their perimeter.

The choices offered are those of :meth:`prospects.api.View.filter_options`; the view refuses
anything else anyway. This module only builds the controls and reads what they say; the app
(:mod:`prospects.dashboard.app`) decides what a change does.
"""

from __future__ import annotations

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


class Filters:
    """The filter bar of one viewer; ``box`` is its widget."""

    def __init__(self, view: View, words: Words, shared: Shared, *, on_fy: Callable[[Any], None],
                 on_org: Callable[[Any], None], on_collaborator: Callable[[Any], None]):
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
            tooltips=[
                f"{i18n.date(current.start, loc)} – {i18n.date(current.as_of, loc)}",
                f"{i18n.date(previous.start, loc)} – {i18n.date(previous.as_of, loc)}",
            ],
            _dom_classes=("pr-filter-fy",),
        )
        self.fy.observe(on_fy, names="value")
        groups: list[w.Widget] = [self._group(lab("fiscal_year"), self.fy, "pr-group-fy")]
        self.region: w.Dropdown | None = None
        self.agency: w.Dropdown | None = None
        self.team: w.Dropdown | None = None
        self.collaborator_box: w.Combobox | None = None
        self.clear_collaborator: w.Button | None = None
        self.people: dict[str, str] = {}
        if view.viewer.has_filters:
            groups += self._build_scoped(view, on_org, on_collaborator)
        self.box = boxed(groups, "pr-filters", shared=shared)

    def _build_scoped(self, view: View, on_org: Callable[[Any], None],
                      on_collaborator: Callable[[Any], None]) -> list[w.Widget]:
        """Organisation and Collaborateurs, for a validator."""
        u, lab, sh = self.words.ui, self.words.label, self.shared
        opts = view.filter_options()
        self.units = opts["units"].set_index("id", drop=False)
        people = opts["collaborators"]
        self.people = {f"{r.full_name} ({r.login})": r.login for r in people.itertuples(index=False)}
        first = [(lab("mine"), MINE)]
        for r in self.units.itertuples(index=False):
            if r.kind == "firm":
                first.append((u("whole_firm", name=r.name), r.id))
        for r in self.units.itertuples(index=False):
            if r.kind == "region":
                first.append((r.name, r.id))
        self.region = w.Dropdown(options=first, value=MINE, description="", layout=w.Layout(width="210px"),
                                 _dom_classes=("pr-filter-region",))
        self.agency = w.Dropdown(options=[(u("all_agencies"), ALL)], value=ALL, layout=w.Layout(width="160px"),
                                 _dom_classes=("pr-filter-agency",))
        self.team = w.Dropdown(options=[(u("all_teams"), ALL)], value=ALL, layout=w.Layout(width="160px"),
                               _dom_classes=("pr-filter-team",))
        self.cascade()
        for dd in (self.region, self.agency, self.team):
            dd.observe(on_org, names="value")
        org = boxed(
            [self._labelled(u("region"), self.region), self._labelled(u("agency"), self.agency),
             self._labelled(u("team"), self.team)],
            "pr-org", shared=sh,
        )
        self.collaborator_box = w.Combobox(
            options=list(self.people),
            value="",
            placeholder=u("search_collaborator"),
            ensure_option=False,
            continuous_update=True,
            layout=w.Layout(width="220px"),
            _dom_classes=("pr-filter-collaborator",),
        )
        self.collaborator_box.observe(on_collaborator, names="value")
        self.clear_collaborator = w.Button(description="×", tooltip=u("clear"), layout=w.Layout(width="34px"),
                                           _dom_classes=("pr-filter-collaborator-clear",))
        self.clear_collaborator.on_click(lambda _b: setattr(self.collaborator_box, "value", ""))
        if not self.people:
            self.collaborator_box.disabled = self.clear_collaborator.disabled = True
        return [
            self._group(lab("organisation"), org, "pr-group-org"),
            self._group(lab("collaborators"),
                        boxed([self.collaborator_box, self.clear_collaborator], "pr-collab", shared=sh), "pr-group-collab"),
        ]

    def _group(self, title: str, content: w.Widget, css: str) -> w.Box:
        sh = self.shared
        return boxed([html_block(f'<div class="pr-group-label">{esc(title)}</div>', shared=sh), content], "pr-group", css,
                     vertical=True, shared=sh)

    def _labelled(self, title: str, content: w.Widget) -> w.Box:
        sh = self.shared
        return boxed([html_block(f'<div class="pr-note">{esc(title)}</div>', shared=sh), content], "pr-labelled",
                     vertical=True, shared=sh)

    # -- the organisation cascade ---------------------------------------------------
    def cascade(self) -> None:
        """Agency and team choices under the chosen region / agency, within the perimeter."""
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
            self.agency.disabled = len(agencies) == 0
            teams = units[units["kind"] == "team"]
            if self.agency.value != ALL:
                teams = teams[teams["parent_id"] == self.agency.value]
            else:
                teams = teams[~teams["parent_id"].isin(in_perimeter)]  # teams offered only under their agency
            keep = self.team.value if self.team.value in set(teams.index) else ALL
            self.team.options = [(u("all_teams"), ALL), *[(r.name, r.id) for r in teams.itertuples(index=False)]]
            self.team.value = keep
            self.team.disabled = len(teams) == 0

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
        """The login chosen in *Collaborateurs*, ``None`` when empty, :data:`TYPING` while a name is typed."""
        text = (self.collaborator_box.value if self.collaborator_box is not None else "").strip()
        if text == "":
            return None
        if text in self.people:
            return self.people[text]
        return TYPING

    def previous_year(self) -> bool:
        """Whether the Exercice switch is on N-1."""
        return self.fy.value == "previous"
