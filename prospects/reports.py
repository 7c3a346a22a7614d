"""Report snapshots: one static report per org unit, HTML and A4 PDF, with an index.

Two halves:

* **Rendering** (runs inside the notebook's kernel): :func:`build` computes one
  :class:`Report` as a named viewer with a unit filter, through :mod:`prospects.api`,
  so docs/access.md applies exactly as in the dashboard; its methods return self-contained
  HTML sections (cover page, indicator table with N-1, monthly chart, ageing, top
  offers, metric dictionary) that ``notebooks/report.ipynb`` only displays.
* **Batch** (runs in the ``prospects report`` process): :func:`plan` resolves the
  viewer, the units and the period and refuses anything outside the viewer's perimeter
  before any work; :func:`run` executes the notebook once per unit with papermill
  (in parallel processes with ``jobs > 1``), exports it to HTML without code and
  with everything embedded (no network: no script, no CDN, no web font), prints
  it to A4 PDF with headless Chromium, and :func:`write_index` lists every report
  with its headline figures, and every failure with its error.

Files: ``<out>/<fiscal year>/<unit id>-<slug>.{html,pdf}`` (:func:`unit_stems`: an id that is
not plain is never a path as it is), ``<unit id>-<slug>.identity.json`` beside them (who the
report was computed as, and each file's SHA-256: :func:`rendered_bytes` checks it before a
file is mailed) and ``<out>/<fiscal year>/index.html``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from . import __version__, i18n
from .dictionary import METRICS, PREAMBLE
from .exports import FORMULA_TRIGGERS
from .figures import Figures
from .fiscal import Period
from .freshness import Freshness, freshness
from .i18n import colon

#: Kinds of org unit a batch can be cut by (``--by``).
BY_KINDS = ("region", "agency")
FORMATS = ("html", "pdf")
#: How many offers the "top" tables show.
TOP_N = 10
#: Tag of the notebook cell whose output carries the headline figures (removed from the HTML).
HEADLINE_TAG = "headline"
HEADLINE_MIME = "application/json"
KERNEL_NAME = "python3"
CELL_TIMEOUT = 900  # seconds per notebook cell
CHROMIUM_TIMEOUT = 180  # seconds per PDF

#: Report-only labels (the shared UI labels live in :mod:`prospects.i18n`).
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport prospects",
        "firm": "Cabinet",
        "unit": "Périmètre",
        "viewer": "Rendu avec les droits de",
        "fiscal_year": "Exercice",
        "period": "Période",
        "period_value": "du {start} au {end}",
        "as_of": "Arrêté au",
        "previous_as_of": "Comparé à N-1 au",
        "extracted": "Données extraites le",
        "source": "Source des données",
        "software": "Logiciel",
        "rendered_at": "Rapport produit le",
        "scope_note": (
            "Chiffres calculés avec les droits d'accès de {viewer} et le filtre Organisation « {unit} » : "
            "seules comptent les affaires prospects que cette personne peut voir dans ce périmètre."
        ),
        "headline": "Chiffres clés",
        "indicator": "Indicateur",
        "current": "Exercice {fy} au {date}",
        "previous": "N-1 au {date}",
        "beside": "Autres indicateurs",
        "monthly_data": "Détail mensuel",
        "ageing_total": "Honoraires",
        "top_signed": "Principales offres signées",
        "top_in_progress": "Principales offres en cours",
        "top_note": "Les {shown} plus importantes sur {total}, par honoraires totaux.",
        "top_all": "{total} offre(s), par honoraires totaux décroissants.",
        "no_offer": "Aucune offre.",
        "age": "Ancienneté",
        "deal_col": "Prospect — affaire",
        "offer": "Offre",
        "total_row": "Total",
        "dictionary": "Dictionnaire des indicateurs",
        "label": "Libellé",
        "definition": "Définition",
        "index_title": "Rapports prospects — exercice {fy}",
        "index_intro": "Rendus avec les droits de {viewer}, arrêtés au {as_of}, le {rendered}.",
        "report": "Rapport",
        "status": "État",
        "ok": "OK",
        "failed": "Échec",
        "failed_count": "{n} rapport(s) en échec",
        "kind": "Type",
        "files": "Fichiers",
        "utc": "UTC",
    },
    "en": {
        "title": "Prospects report",
        "firm": "Firm",
        "unit": "Scope",
        "viewer": "Rendered with the rights of",
        "fiscal_year": "Fiscal year",
        "period": "Period",
        "period_value": "{start} to {end}",
        "as_of": "As of",
        "previous_as_of": "Compared with last year as of",
        "extracted": "Data extracted on",
        "source": "Data source",
        "software": "Software",
        "rendered_at": "Report produced on",
        "scope_note": (
            "Figures computed with the access rights of {viewer} and the Organisation filter \u201c{unit}\u201d: "
            "only the prospect deals this person may see within that scope count."
        ),
        "headline": "Key figures",
        "indicator": "Indicator",
        "current": "FY {fy} as of {date}",
        "previous": "Last year as of {date}",
        "beside": "Other figures",
        "monthly_data": "Monthly detail",
        "ageing_total": "Fees",
        "top_signed": "Largest signed offers",
        "top_in_progress": "Largest offers in progress",
        "top_note": "The {shown} largest of {total}, by total fees.",
        "top_all": "{total} offer(s), largest total fees first.",
        "no_offer": "No offer.",
        "age": "Age",
        "deal_col": "Prospect — deal",
        "offer": "Offer",
        "total_row": "Total",
        "dictionary": "Metric dictionary",
        "label": "Label",
        "definition": "Definition",
        "index_title": "Prospects reports — fiscal year {fy}",
        "index_intro": "Rendered with the rights of {viewer}, as of {as_of}, on {rendered}.",
        "report": "Report",
        "status": "Status",
        "ok": "OK",
        "failed": "Failed",
        "failed_count": "{n} report(s) failed",
        "kind": "Kind",
        "files": "Files",
        "utc": "UTC",
    },
}

#: The headline figures of a report (the index's columns), in display order.
HEADLINE = (
    ("signed_budget", "money"),
    ("signed_offers", "number"),
    ("offers_in_progress", "number"),
    ("potential_fees", "money"),
)

#: Print and screen stylesheet of the reports and the index: A4, no web font, no URL.
CSS = """
@page { size: A4; margin: 14mm 13mm 16mm 13mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; color: #5a6a7a; } }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; color: #1b1b1b; }
body { margin: 0; background: #fff; overflow-wrap: break-word; }
main { max-width: 190mm; margin: 0 auto; padding: 6mm 0; }
.cell, .output_wrapper, .output, .output_area, .output_subarea { margin: 0; padding: 0; border: 0; min-width: 0; }
h1 { font-size: 20pt; margin: 0 0 4mm; color: #1f4e79; }
h2 { font-size: 13pt; margin: 7mm 0 2.5mm; color: #1f4e79; border-bottom: 1px solid #c9d6e3; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; }
p { margin: 1.5mm 0; line-height: 1.35; }
.pr-menu { font-size: 9pt; color: #5a6a7a; letter-spacing: .02em; margin-bottom: 2mm; }
.pr-cover { padding-top: 2mm; }
.pr-cover dl { display: grid; grid-template-columns: 46mm 1fr; gap: 1mm 5mm; margin: 4mm 0; font-size: 9pt; }
.pr-cover dt { color: #5a6a7a; }
.pr-cover dd { margin: 0; font-weight: 600; }
.pr-note { font-size: 9pt; color: #444; }
.pr-small { font-size: 8.5pt; color: #5a6a7a; }
.pr-keys { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin: 3mm 0 4mm; }
.pr-key { border: 1px solid #c9d6e3; border-radius: 2mm; padding: 3mm; }
.pr-key .pr-k { font-size: 8.5pt; color: #5a6a7a; }
.pr-key .pr-v { font-size: 15pt; font-weight: 700; color: #1f4e79; margin-top: 1mm; white-space: nowrap; }
.pr-key .pr-p { font-size: 8pt; color: #5a6a7a; margin-top: 1mm; }
.pr-scroll { max-width: 100%; overflow-x: auto; }
.pr-scroll:focus-visible { outline: 2px solid #1f4e79; outline-offset: 2px; }
table.pr-table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 9pt; }
table.pr-table th, table.pr-table td { border-bottom: 1px solid #dde4ec; padding: 1.3mm 2mm; text-align: left; vertical-align: top; }
table.pr-table th { background: #eef3f8; font-weight: 600; }
table.pr-table td.num, table.pr-table th.num { text-align: right; white-space: nowrap; }
table.pr-table tr { break-inside: avoid; page-break-inside: avoid; }
table.pr-table tr.pr-sub td:first-child { padding-left: 7mm; color: #444; }
table.pr-table tfoot td { font-weight: 700; border-top: 1.5px solid #1f4e79; border-bottom: 0; }
table.pr-compact { font-size: 8pt; }
table.pr-compact td, table.pr-compact th { padding: .8mm 1.6mm; }
table.pr-top { table-layout: fixed; min-width: 150mm; }
table.pr-top td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.pr-table.pr-top th { white-space: normal; overflow-wrap: normal; vertical-align: bottom; }
.pr-chart img { width: 100%; height: auto; display: block; }
.pr-section { break-inside: auto; }
.pr-keep { break-inside: avoid; page-break-inside: avoid; }
.pr-dictionary { break-before: page; page-break-before: always; }
.pr-failed { color: #9b1c1c; }
.pr-stale { border: 1.5px solid #9b1c1c; border-left-width: 4px; padding: 1.5mm 3mm; color: #7a1414; font-weight: 600; }
.pr-ok { color: #1d6b3a; }
a { color: #1f4e79; }
@media screen and (max-width: 640px) {
  main { padding: 4mm 3.5mm; }
  h1 { font-size: 16pt; }
  .pr-cover dl { grid-template-columns: 1fr; gap: 0; }
  .pr-cover dd { margin-bottom: 1.5mm; }
  .pr-keys { grid-template-columns: repeat(2, 1fr); gap: 2mm; }
  .pr-key .pr-v { font-size: 13pt; }
  table.pr-table th.num { white-space: normal; }
}
@media print { .pr-scroll { overflow: visible; } table.pr-top { min-width: 0; } }
"""


class Html:
    """An HTML fragment that notebooks display as such (``_repr_html_``)."""

    def __init__(self, markup: str, name: str = "section") -> None:
        self.markup = markup
        self.name = name

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return f"<prospects report {self.name}>"


class HeadlineOutput:
    """The headline figures as a JSON display output (read back by the batch)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _repr_json_(self) -> dict[str, Any]:
        return self.data

    def __repr__(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def text(key: str, locale: str = "fr") -> str:
    """A report label."""
    return TEXT[locale][key]


def kind_label(kind: str, locale: str = "fr") -> str:
    """``Région`` / ``Region`` … for an org unit kind (:data:`prospects.i18n.LEVEL_LABELS`, capitalised)."""
    word = i18n.LEVEL_LABELS[locale].get(kind, kind)
    return word[:1].upper() + word[1:]


def slugify(name: str) -> str:
    """``Île-de-France`` → ``ile-de-france`` (ASCII, lowercase, hyphens)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "unit"


#: A unit id that may stand as it is at the start of a file name: no dot (never ``.`` or
#: ``..``), no separator, at most 60 characters.
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")


def short_hash(text: str) -> str:
    """12 hexadecimal digits of the SHA-256 of the exact text (case and spaces count)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def path_name(text: str) -> str:
    """A file or folder name for a login or an id typed by people: its slug and a short hash of it.

    Distinct texts give distinct names by construction (a lossy slug alone never stands for
    a text: ``jean dupont`` and ``jean-dupont`` differ by their hashes), in lowercase ASCII
    (logins differing only by case stay apart on a case-insensitive disk), never ``.``,
    ``..`` or a separator, at most 53 characters.
    """
    return f"{slugify(text)[:40].strip('-') or 'x'}-{short_hash(text)}"


def unit_stems(units: Iterable[tuple[str, str]], reserved: Iterable[str] = ()) -> dict[str, str]:
    """The file stem of each unit ``(id, name)`` of one folder: ``<id>-<slug of the name>``.

    An id that is not plain (a dot, a separator, any other character, over 60 characters)
    never reaches the name as it is: its :func:`path_name` stands for it. Stems are
    distinct in one folder by construction, case-folded too (a case-insensitive disk):
    units whose stems would meet each other, or a ``reserved`` stem, get their id's
    :func:`path_name` instead.
    """
    names = dict(units)
    hashed = {uid: f"{path_name(uid)}-{slugify(name)[:60]}" for uid, name in names.items()}
    stems = {uid: f"{uid}-{slugify(name)[:60]}" if _PLAIN_ID.fullmatch(uid) else hashed[uid] for uid, name in names.items()}
    reserved = {r.casefold() for r in reserved}
    while True:
        count: dict[str, int] = {}
        for stem in stems.values():
            count[stem.casefold()] = count.get(stem.casefold(), 0) + 1
        meeting = [uid for uid, stem in stems.items() if count[stem.casefold()] > 1 or stem.casefold() in reserved]
        if not meeting:
            return stems
        if all(stems[uid] == hashed[uid] for uid in meeting):  # distinct ids whose hashes meet: never seen
            raise ValueError(f"units {', '.join(map(repr, meeting))} give the same file name")
        stems.update({uid: hashed[uid] for uid in meeting})


def format_timestamp(value: str | None, locale: str = "fr") -> str:
    """An ISO timestamp (``extract_info.loaded_at``) as ``29/11/2026 16:02 UTC``."""
    if not value:
        return i18n.label("none", locale)
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
        zone = f" {text('utc', locale)}"
    else:
        zone = ""
    return f"{i18n.date(stamp.date(), locale)} {stamp:%H:%M}{zone}"


def headline_values(indicators: dict[str, Any]) -> dict[str, int]:
    """The four headline figures of an indicator dict (amounts: total cents)."""
    out = {}
    for code, kind in HEADLINE:
        v = indicators[code]
        out[code] = int(v["total"] if kind == "money" else v)
    return out


def format_headline(code: str, value: int | None, locale: str, currency: str) -> str:
    """A headline figure in the locale's format (amounts in the firm's ``currency``)."""
    kind = dict(HEADLINE)[code]
    return i18n.money(value, locale, currency) if kind == "money" else i18n.number(value, locale)


def _as_text(value: object) -> str:
    """Attributes of a cell whose text a spreadsheet would take for a formula (a report saved
    or pasted into Excel): Excel's text format, so ``=HYPERLINK(…)`` stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return ' style="mso-number-format:\'\\@\'"'
    return ""


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], *, label: str, cls: str = "pr-table",
           row_classes: Sequence[str] | None = None, foot: Sequence[str] | None = None,
           widths: Sequence[int] | None = None, clip: bool = False) -> str:
    """An HTML table in a box that scrolls sideways on a narrow screen (a region named ``label``
    that the keyboard can reach and scroll); ``headers`` are (label, numeric) pairs; cells are
    plain text (escaped here); ``foot`` a totals row; ``widths`` the columns' shares (%); with
    ``clip``, text cells are one line cut with an ellipsis, the whole text in their title."""
    head = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>" for h, num in headers)
    cols = "".join(f'<col style="width:{w}%">' for w in widths) if widths else ""

    def cell(v: str, num: bool) -> str:
        if num:
            return f'<td class="num">{_e(v)}</td>'
        if clip and v:
            return f'<td class="pr-clip" title="{_e(v)}"{_as_text(v)}>{_e(v)}</td>'
        return f"<td{_as_text(v)}>{_e(v)}</td>"

    body = []
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{rc}>{''.join(cell(v, num) for v, (_h, num) in zip(row, headers, strict=True))}</tr>")
    tfoot = ""
    if foot is not None:
        tfoot = f"<tfoot><tr>{''.join(cell(v, num) for v, (_h, num) in zip(foot, headers, strict=True))}</tr></tfoot>"
    return (f'<div class="pr-scroll" role="region" tabindex="0" aria-label="{_e(label)}"><table class="{cls}">{f"<colgroup>{cols}</colgroup>" if cols else ""}'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>{tfoot}</table></div>')


def deal_label(prospect: str | None, deal: str | None) -> str:
    """The client and the deal in one text, the client named once: the deal's name when it
    already names the client (``Adam SAS – Social``), else ``client — deal``."""
    if not prospect or not deal:
        return prospect or deal or ""
    from .drilldown import fold

    return deal if fold(prospect) in fold(deal) else f"{prospect} — {deal}"


# ---------------------------------------------------------------------------
# one report (inside the kernel)


@dataclass(eq=False)
class Report:
    """The content of one report: figures computed as ``viewer`` with the ``unit`` filter."""

    firm_name: str
    unit: str | None
    unit_name: str
    unit_kind: str | None
    viewer_login: str
    viewer_name: str
    viewer_function: str
    period: Period
    figures: Figures  # with N-1 at the same date in .previous
    signed: pd.DataFrame  # drill-down "signed_offers" by document (cents)
    in_progress: pd.DataFrame  # drill-down "offers_in_progress" by document (cents)
    extract_info: dict[str, str]
    freshness: Freshness  # the extract's date and whether it is old (setting stale_after_days)
    locale: str = "fr"
    rendered_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    top: int = TOP_N

    # -- helpers -------------------------------------------------------------------
    def _l(self, key: str) -> str:
        return i18n.label(key, self.locale)

    def _t(self, key: str, **kw: object) -> str:
        return text(key, self.locale).format(**kw)

    def _d(self, day) -> str:
        return i18n.date(day, self.locale)

    def _money(self, cents: int | None) -> str:
        return i18n.money(cents, self.locale, self.figures.currency)

    @property
    def title(self) -> str:
        return f"{self._t('title')} — {self.unit_name} — {self._l('fiscal_year')} {self.period.fiscal_year}"

    @property
    def scope(self) -> str:
        """The unit as shown: ``Île-de-France (Région, R1)``, or "Mes affaires"."""
        if self.unit is None:
            return self._l("mine")
        return f"{self.unit_name} ({kind_label(self.unit_kind or '', self.locale)}, {self.unit})"

    @property
    def viewer_label(self) -> str:
        fn = i18n.FUNCTION_LABELS[self.locale].get(self.viewer_function, self.viewer_function)
        return f"{self.viewer_name} ({self.viewer_login}, {fn})"

    def headline_values(self) -> dict[str, int]:
        return headline_values(self.figures.indicators)

    # -- sections ------------------------------------------------------------------
    def cover(self) -> Html:
        """First page: firm, unit, viewer, period, as-of, extraction date, version, key figures."""
        p, prev = self.period, self.figures.previous
        info = self.extract_info
        items = [
            (self._t("firm"), self.firm_name),
            (self._t("unit"), self.scope),
            (self._t("viewer"), self.viewer_label),
            (self._t("fiscal_year"), f"{p.fiscal_year} ({self._d(p.start)} → {self._d(p.end)})"),
            (self._t("period"), self._t("period_value", start=self._d(p.start), end=self._d(p.as_of))),
            (self._t("as_of"), self._d(p.as_of)),
        ]
        if prev is not None:
            items.append((self._t("previous_as_of"), self._d(prev.period.as_of)))
        items.append((self._t("extracted"), i18n.moment(self.freshness.moment, self.locale)))
        if info.get("source"):
            items.append((self._t("source"), info["source"]))
        items += [
            (self._t("software"), f"prospects {__version__}"),
            (self._t("rendered_at"), format_timestamp(self.rendered_at.isoformat(timespec="seconds"), self.locale)),
        ]
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
        values = self.headline_values()
        prev_values = headline_values(prev.indicators) if prev is not None else {}
        keys = []
        for code, _kind in HEADLINE:
            prev_txt = ""
            if code in prev_values:
                prev_txt = (f'<div class="pr-p">{_e(self._l("previous"))}{colon(self.locale)}'
                            f'{_e(format_headline(code, prev_values[code], self.locale, self.figures.currency))}</div>')
            keys.append(
                f'<div class="pr-key"><div class="pr-k">{_e(self._l(code))}</div>'
                f'<div class="pr-v">{_e(format_headline(code, values[code], self.locale, self.figures.currency))}</div>{prev_txt}</div>'
            )
        note = self._t("scope_note", viewer=self.viewer_label, unit=self.unit_name if self.unit else self._l("mine"))
        warning = self.freshness.warning(self.locale)
        stale = f'<p class="pr-stale" role="note">⚠ {_e(warning)}</p>' if warning else ""
        return Html(
            f'<section class="pr-cover"><div class="pr-menu">{_e(self._l("menu"))}</div>'
            f"<h1>{_e(self._t('title'))} — {_e(self.unit_name)}</h1>{stale}"
            f"<dl>{dl}</dl>"
            f"<h3>{_e(self._t('headline'))}</h3><div class=\"pr-keys\">{''.join(keys)}</div>"
            f'<p class="pr-note">{_e(note)}</p></section>',
            "cover",
        )

    def indicators(self) -> Html:
        """The indicator table with N-1 at the same date, and the figures shown beside it."""
        from .tables import beside_table, indicator_table

        figs, p = self.figures, self.period
        cur = self._t("current", fy=p.fiscal_year, date=self._d(p.as_of))
        prev = self._t("previous", date=self._d(figs.previous.period.as_of)) if figs.previous else self._l("previous")
        headers = [(self._t("indicator"), False), (cur, True), (prev, True)]
        main = indicator_table(figs, self.locale)
        classes = ["pr-sub" if part in ("recurring", "one_off") else "" for part in main["part"]]
        table = _table(headers, main[["label", "value", "previous"]].map(str.strip).itertuples(index=False),
                       row_classes=classes, label=self._l("table"))
        beside = beside_table(figs, self.locale)
        table2 = _table([(self._t("beside"), False), (cur, True), (prev, True)],
                        beside[["label", "value", "previous"]].itertuples(index=False), label=self._t("beside"))
        return Html(
            f'<section class="pr-section pr-keep"><h2>{_e(self._l("table"))}</h2>{table}{table2}</section>',
            "indicators",
        )

    def chart(self) -> Html:
        """The monthly chart (the dashboard's plotting function), embedded as an SVG image, and its data."""
        from .charts import monthly_chart, to_svg
        from .tables import monthly_table, monthly_totals

        fig = monthly_chart(self.figures.monthly, self.locale, currency=self.figures.currency, title=False)
        svg = to_svg(fig).encode("utf-8")
        img = f'<img alt="{_e(self._l("chart"))}" src="data:image/svg+xml;base64,{base64.b64encode(svg).decode("ascii")}"/>'
        m = monthly_table(self.figures, self.locale)
        headers = [(self._l("month"), False), (self._l("won_prospects"), True), (self._l("recurring").capitalize(), True),
                   (self._l("one_off").capitalize(), True), (self._l("total").capitalize(), True)]
        t = monthly_totals(self.figures)
        foot = [self._t("total_row"), i18n.number(t["won_prospects"], self.locale),
                *(self._money(t[c]) for c in ("recurring", "one_off", "total"))]
        table = _table(headers, m[["month", "won_prospects", "recurring", "one_off", "total"]].itertuples(index=False),
                       cls="pr-table pr-compact", foot=foot, label=self._t("monthly_data"))
        return Html(
            f'<section class="pr-section"><div class="pr-keep"><h2>{_e(self._l("chart"))}</h2>'
            f'<div class="pr-chart">{img}</div></div>'
            f'<div class="pr-keep"><h3>{_e(self._t("monthly_data"))}</h3>{table}</div></section>',
            "chart",
        )

    def ageing(self) -> Html:
        """The offers in progress at the as-of date by age bucket: count and fees."""
        from .tables import ageing_table, ageing_totals

        a = ageing_table(self.figures, self.locale)
        headers = [(self._l("bucket"), False), (self._l("offers_in_progress"), True), (self._t("ageing_total"), True)]
        rows = [(b.replace(" " + self._l("days"), ""), o, t) for b, o, t in a[["bucket", "offers", "total"]].itertuples(index=False)]
        t = ageing_totals(self.figures)
        foot = [self._t("total_row"), i18n.number(t["offers"], self.locale), self._money(t["total"])]
        return Html(
            f'<section class="pr-section pr-keep"><h2>{_e(self._l("ageing"))}</h2>{_table(headers, rows, foot=foot, label=self._l("ageing"))}</section>',
            "ageing",
        )

    def _top_table(self, frame: pd.DataFrame, signed: bool) -> str:
        """The largest offers, one line each: the client named once, long texts cut with an ellipsis."""
        if frame.empty:
            return f'<p class="pr-note">{_e(self._t("no_offer"))}</p>'
        sort_cols = ["total", "document_id"]
        top = frame.sort_values(sort_cols, ascending=[False, True], kind="stable").head(self.top)
        cols = i18n.column_labels(self.locale, self.figures.currency)
        a = self.period.as_of
        headers = [(self._t("deal_col"), False), (self._t("offer"), False), (cols["partner"], False)]
        if signed:
            headers += [(cols["decided_on"], False), (cols["total"], True)]
            widths = [38, 25, 14, 12, 11]
        else:
            headers += [(cols["sent_on"], False), (f"{self._t('age')} ({self._l('days')})", True), (cols["total"], True)]
            widths = [32, 21, 14, 12, 9, 12]
        rows = []
        for r in top.to_dict("records"):
            base = [deal_label(r["prospect"], r["deal"]), r.get("template") or r["doc_type"] or "", r["partner"] or ""]
            if signed:
                base += [self._d(r["decided_on"]), self._money(r["total"])]
            else:
                start = r["sent_on"] if not pd.isna(r["sent_on"]) else r["created_on"]
                age = (pd.Timestamp(a) - pd.Timestamp(start)).days
                base += [self._d(start), i18n.number(age, self.locale), self._money(r["total"])]
            rows.append(base)
        total = i18n.number(len(frame), self.locale)
        note = (self._t("top_all", total=total) if len(top) == len(frame)
                else self._t("top_note", shown=i18n.number(len(top), self.locale), total=total))
        title = self._t("top_signed" if signed else "top_in_progress")
        return (_table(headers, rows, cls="pr-table pr-compact pr-top", widths=widths, clip=True, label=title)
                + f'<p class="pr-small">{_e(note)}</p>')

    def top_offers(self) -> Html:
        """The largest signed offers of the period and the largest offers in progress at the as-of date."""
        return Html(
            f'<section class="pr-section"><h2>{_e(self._t("top_signed"))}</h2>{self._top_table(self.signed, True)}'
            f'<h2>{_e(self._t("top_in_progress"))}</h2>{self._top_table(self.in_progress, False)}</section>',
            "top_offers",
        )

    def dictionary(self) -> Html:
        """The metric dictionary page (prospects.dictionary, the single source)."""
        rows = [(m.label(self.locale), m.definition(self.locale)) for m in METRICS]
        table = _table([(self._t("label"), False), (self._t("definition"), False)], rows, label=self._t("dictionary"))
        return Html(
            f'<section class="pr-dictionary"><h2>{_e(self._t("dictionary"))}</h2>'
            f'<p class="pr-note">{_e(PREAMBLE[self.locale])}</p>{table}</section>',
            "dictionary",
        )

    def sections(self) -> list[Html]:
        """Every section, in page order."""
        return [self.cover(), self.indicators(), self.chart(), self.ageing(), self.top_offers(), self.dictionary()]

    def headline(self) -> HeadlineOutput:
        """Machine-readable headline figures (cents), read back by the batch for the index.

        ``viewer`` and ``unit`` are the identity the report was computed with: the batch
        records them with the files (:func:`rendered_bytes` checks them). ``previous`` holds the same figures at N-1's as-of date (``previous_as_of``), for
        the subscription mails.
        """
        prev = self.figures.previous
        return HeadlineOutput({"viewer": self.viewer_login, "unit": self.unit, "fiscal_year": self.period.fiscal_year,
                               "as_of": self.period.as_of.isoformat(), **self.headline_values(),
                               "previous_as_of": prev.period.as_of.isoformat() if prev is not None else None,
                               "previous": headline_values(prev.indicators) if prev is not None else None})


def build(
    viewer: str,
    unit: str | None = None,
    *,
    fiscal_year: int | None = None,
    as_of: str | dt.date | None = None,
    today: str | dt.date | None = None,
    db_url: str | None = None,
    locale: str | None = None,
    config: str | None = None,
    top: int = TOP_N,
) -> Report:
    """Compute one report as ``viewer`` with the ``unit`` filter (refusals raise ``AccessDenied``)."""
    from .api import open_firm

    firm = open_firm(db_url, today=today, config=config)
    loc = locale or firm.settings.locale
    if loc not in TEXT:
        raise ValueError(f"locale {loc!r}: expected one of {', '.join(TEXT)}")
    # one unit's report reads only that unit's deals (refused here if outside the perimeter)
    view = firm.as_viewer(viewer, within=unit)
    period = view.period(fiscal_year, as_of=as_of)
    figs = view.figures(unit=unit, period=period)  # scoping (and refusals) happen here
    signed = view.drilldown("signed_offers", by="document", unit=unit, period=period)
    in_progress = view.drilldown("offers_in_progress", by="document", unit=unit, period=period)
    units = firm.directory.units
    v = view.viewer
    info = firm.extract_info
    firm.engine.dispose()
    return Report(
        firm_name=firm.directory.firm_name,
        unit=unit,
        unit_name=str(units.at[unit, "name"]) if unit else i18n.label("mine", loc),
        unit_kind=str(units.at[unit, "kind"]) if unit else None,
        viewer_login=v.login,
        viewer_name=v.full_name,
        viewer_function=v.function,
        period=period,
        figures=figs,
        signed=signed,
        in_progress=in_progress,
        extract_info=info,
        freshness=freshness(info, firm.today, firm.settings.stale_after_days),
        locale=loc,
        top=top,
    )


# ---------------------------------------------------------------------------
# HTML export and PDF printing

_TEMPLATE = """{%- extends 'classic/base.html.j2' -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="{{ resources.language_code }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="prospects {{ resources.prospects_version }}">
<title>{{ resources.report_title | e }}</title>
<style>{{ resources.report_css }}</style>
</head>
<body>
<main>
{%- endblock header -%}
{%- block stream_stdout -%}{%- endblock stream_stdout -%}
{%- block stream_stderr -%}{%- endblock stream_stderr -%}
{%- block error -%}{%- endblock error -%}
{%- block data_javascript -%}{%- endblock data_javascript -%}
{%- block data_widget_view -%}{%- endblock data_widget_view -%}
{%- block footer -%}
</main>
</body>
</html>
{%- endblock footer -%}
"""


def export_html(nb, title: str, locale: str = "fr") -> str:
    """An executed notebook as a self-contained HTML page: no code, no prompt, no script, no URL."""
    import copy

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="classic",
        template_file="prospects_report.html.j2",
        extra_loaders=[DictLoader({"prospects_report.html.j2": _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=True,
        exclude_raw=True,
        language_code=locale,
    )
    nb = copy.deepcopy(nb)  # only the cells that show something; never the headline cell
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")
                and HEADLINE_TAG not in c.get("metadata", {}).get("tags", [])]
    resources = {
        "report_title": title,
        "report_css": CSS,
        "prospects_version": __version__,
        "language_code": locale,
        "metadata": {"name": title},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


class ChromiumMissing(i18n.Said, RuntimeError):
    """Headless Chromium is not where the settings say (a sentence of the catalog,
    :class:`~prospects.i18n.Said`)."""


def chromium_path(configured: str) -> str:
    """The Chromium executable, or a clear :class:`ChromiumMissing` error (no download, ever)."""
    found = shutil.which(configured) if not os.path.isabs(configured) else (configured if os.access(configured, os.X_OK) else None)
    if not found:
        raise ChromiumMissing("report.no_chromium", path=i18n.shown(configured, 200))
    return found


def print_pdf(html_path: Path, pdf_path: Path, chromium: str, *, timeout: float = CHROMIUM_TIMEOUT) -> None:
    """Print an HTML file to an A4 PDF (the page's ``@page`` rule) with headless Chromium, offline."""
    with tempfile.TemporaryDirectory(prefix="prospects-chromium-") as profile:
        out = Path(profile) / "out.pdf"
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, whatever the page asks
            f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={out}",
            html_path.resolve().as_uri(),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"Chromium did not print {html_path.name} within {timeout:.0f} s") from None
        if proc.returncode != 0 or not out.is_file() or out.read_bytes()[:5] != b"%PDF-":
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"Chromium could not print {html_path.name} (exit {proc.returncode}): {' | '.join(tail)}")
        shutil.move(str(out), pdf_path)


# ---------------------------------------------------------------------------
# batch (in the prospects report process)


def default_notebook() -> Path:
    """``notebooks/report.ipynb`` of the source tree."""
    return Path(__file__).resolve().parent.parent / "notebooks" / "report.ipynb"


#: The notebook ``prospects report`` renders; ``None`` is :func:`default_notebook`. Tests
#: point it at a variant of the report (e.g. one that fails for a given unit).
NOTEBOOK: Path | None = None


@dataclass(frozen=True)
class UnitJob:
    """Everything one worker needs to render one unit (picklable)."""

    unit: str
    name: str
    kind: str
    html_path: Path
    pdf_path: Path | None
    parameters: dict[str, Any]
    notebook: Path
    cwd: Path
    chromium: str | None
    title: str
    locale: str


@dataclass
class UnitResult:
    """What became of one unit."""

    unit: str
    name: str
    kind: str
    ok: bool
    html: Path | None = None
    pdf: Path | None = None
    headline: dict[str, int] | None = None
    previous: dict[str, int] | None = None  # the headline figures at N-1's as-of date
    previous_as_of: str | None = None
    error: str | None = None
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # notebook, html, pdf: seconds


@dataclass(frozen=True)
class Batch:
    """A checked plan: the viewer, the period and the units, all allowed."""

    viewer_login: str
    viewer_label: str
    firm_name: str
    fiscal_year: int
    as_of: dt.date
    folder: Path
    jobs: tuple[UnitJob, ...]
    locale: str
    extract_info: dict[str, str]
    by: str | None
    currency: str  # the firm's (setting currency): the headline amounts of the index
    freshness: Freshness


class NothingToRender(i18n.Said, ValueError):
    """The viewer's perimeter holds no unit of the asked kind (a sentence of the catalog,
    :class:`~prospects.i18n.Said`)."""


def plan(
    firm,
    login: str,
    *,
    by: str = "region",
    units: Sequence[str] | None = None,
    fiscal_year: int | None = None,
    as_of: str | dt.date | None = None,
    formats: Sequence[str] = FORMATS,
    out: Path | str = "reports",
    notebook: Path | None = None,
    locale: str | None = None,
    config: str | Path | None = None,
) -> Batch:
    """Check everything before any work: the viewer, every unit (perimeter), the period, Chromium.

    Raises ``AccessDenied`` (unknown viewer, unit outside the perimeter, no right to
    filter), ``PeriodError``, :class:`ChromiumMissing` or :class:`NothingToRender`.
    Writes nothing.
    """
    from .scoping import AccessDenied, Filters, check_filters, outside_perimeter

    settings = firm.settings
    loc = locale or settings.locale
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--format {','.join(formats)}: expected html, pdf or html,pdf")
    if by not in BY_KINDS:
        raise ValueError(f"--by {by}: expected one of {', '.join(BY_KINDS)}")
    view = firm.as_viewer(login)
    directory = firm.directory
    if units:
        chosen = list(dict.fromkeys(units))
        for uid in chosen:
            if uid not in directory.units.index:  # the same sentence as a unit outside the perimeter
                raise outside_perimeter(view.viewer, directory, i18n.Phrase.of("access.the_unit", unit=i18n.shown(uid)))
            check_filters(view.viewer, directory, Filters(unit=uid))
        by_kind = None
    else:
        if not view.viewer.can_validate_offers or not view.viewer.perimeter:
            raise AccessDenied("access.no_unit_for_reports", login=i18n.shown(login), kind=i18n.Term(i18n.LEVEL_LABELS, by))
        opts = view.filter_options()["units"]
        names = {str(u): str(n) for u, n, k in zip(opts["id"], opts["name"], opts["kind"], strict=True) if k == by}
        chosen = sorted(names, key=lambda u: (slugify(names[u]), u))  # by name, accents aside
        if not chosen:
            raise NothingToRender("report.nothing", kind=i18n.Term(i18n.LEVEL_LABELS, by), login=i18n.shown(login))
        by_kind = by
    period = view.period(fiscal_year, as_of=as_of)
    chromium = chromium_path(settings.chromium) if "pdf" in formats else None
    folder = Path(out) / str(period.fiscal_year)
    nb_path = Path(notebook) if notebook is not None else default_notebook()
    if not nb_path.is_file():
        raise FileNotFoundError(f"report notebook not found: {nb_path}")
    v = view.viewer
    fn = i18n.FUNCTION_LABELS[loc].get(v.function, v.function)
    jobs = []
    stems = unit_stems((uid, str(directory.units.at[uid, "name"])) for uid in chosen)
    for uid in chosen:
        name = str(directory.units.at[uid, "name"])
        kind = str(directory.units.at[uid, "kind"])
        stem = stems[uid]
        params = {
            "viewer": login,
            "unit": uid,
            "fiscal_year": period.fiscal_year,
            "as_of": period.as_of.isoformat(),
            "today": settings.today.isoformat(),
            "db_url": settings.db_url,
            "locale": loc,
            "config": str(config) if config is not None else (str(settings.config_file) if settings.config_file else None),
        }
        jobs.append(UnitJob(
            unit=uid, name=name, kind=kind,
            html_path=folder / f"{stem}.html",
            pdf_path=folder / f"{stem}.pdf" if "pdf" in formats else None,
            parameters=params, notebook=nb_path, cwd=Path.cwd(), chromium=chromium,
            title=f"{text('title', loc)} — {name} — {i18n.label('fiscal_year', loc)} {period.fiscal_year}",
            locale=loc,
        ))
    return Batch(
        viewer_login=login, viewer_label=f"{v.full_name} ({login}, {fn})", firm_name=directory.firm_name,
        fiscal_year=period.fiscal_year, as_of=period.as_of, folder=folder, jobs=tuple(jobs), locale=loc,
        extract_info=firm.extract_info, by=by_kind, currency=firm.settings.currency,
        freshness=firm.freshness(),
    )


def _headline_from(nb) -> dict[str, int] | None:
    for cell in nb.cells:
        if HEADLINE_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(HEADLINE_MIME)
                if data is not None:
                    return {code: int(data[code]) for code, _ in HEADLINE}
    return None


def _previous_from(nb) -> tuple[dict[str, int] | None, str | None]:
    """The N-1 headline figures and their as-of date, from the headline cell's output."""
    for cell in nb.cells:
        if HEADLINE_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(HEADLINE_MIME)
                if data is not None and data.get("previous") is not None:
                    return {code: int(data["previous"][code]) for code, _ in HEADLINE}, data.get("previous_as_of")
    return None, None


def _error_text(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    msg = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    if getattr(exc, "kernel_said", None):
        msg = f"{msg} (kernel: {exc.kernel_said})"
    return " ".join(str(msg).split())[:500]


def _kernel_manager_class(output: IO[bytes] | None = None):
    """A kernel manager whose kernel is always this Python (``sys.executable``) with ipykernel,
    shut down without the interrupt jupyter_client sends first (see the method's comment),
    and whose process writes its own stdout and stderr to ``output`` (when given).

    Whatever ``python3`` kernelspec comes first in the Jupyter path (a user-level one made
    by another Python, say), the report runs on the interpreter that has this package.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ProjectKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client's shutdown_kernel interrupts the kernel (SIGINT) before asking it to
            # shut down. A report's kernel has run every cell by then (or timed out: the shutdown
            # request still stops it, else it is killed): a SIGINT landing while it handles its
            # last messages only makes ipykernel log "KeyboardInterrupt caught in kernel" on our
            # stderr, in the middle of the progress bar. nbclient's own interrupts (interrupt_kernel)
            # are untouched.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # What the kernel process itself prints (not the cells' outputs, which come by
            # messages) is not the command's: ipykernel and libzmq may still log while it stops
            # ("Uncaught exception in ZMQStream callback", "Assertion failed" from a socket
            # closed under a last flush). It goes to ``output``, read only when the run fails.
            if output is not None:
                kw = {**kw, "stdout": output, "stderr": output}
            await super()._async_launch_kernel(kernel_cmd, **kw)

        @property
        def kernel_spec(self) -> KernelSpec:
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    display_name=f"prospects ({sys.executable})", language="python", resource_dir="",
                )
            return self._kernel_spec

    return ProjectKernelManager


def _install(src: Path, dest: Path) -> None:
    """Put a finished file in place atomically (a partial copy never carries the final name)."""
    part = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(src, part)
    os.replace(part, dest)


def run_notebook(notebook: Path, output: Path, parameters: dict[str, Any], cwd: Path):
    """Execute a notebook with papermill in a kernel of this Python, quietly; the executed notebook."""
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.CRITICAL)  # what fails is raised, and said once by the caller
    with tempfile.TemporaryFile(prefix="prospects-kernel-") as kernel_output:
        try:
            return pm.execute_notebook(
                str(notebook), str(output), parameters=parameters,
                kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, cwd=str(cwd), execution_timeout=CELL_TIMEOUT,
                kernel_manager_class=_kernel_manager_class(kernel_output),
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except Exception as exc:
            if getattr(exc, "ename", None) is None:  # not a cell's error: the kernel's own last words
                kernel_output.seek(0)
                said = [line.strip() for line in kernel_output.read()[-4000:].decode("utf-8", "replace").splitlines()]
                said = [line for line in said if line]
                if said:
                    with contextlib.suppress(AttributeError):
                        exc.kernel_said = said[-1]  # type: ignore[attr-defined]
            raise


def identity_path(path: Path) -> Path:
    """Where the identity a report file was rendered with is recorded: ``<stem>.identity.json`` beside it."""
    return path.with_name(f"{path.stem}.identity.json")


def _identity_from(nb) -> dict[str, Any]:
    """Who the executed notebook computed the report as (its headline output's ``viewer`` and ``unit``)."""
    for cell in nb.cells:
        if HEADLINE_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(HEADLINE_MIME)
                if data is not None:
                    return {k: data.get(k) for k in ("viewer", "unit", "fiscal_year", "as_of")}
    return {"viewer": None, "unit": None}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record_identity(html_path: Path, identity: dict[str, Any], files: Sequence[Path]) -> None:
    """Write the identity beside the files, with each file's SHA-256 (atomically)."""
    record = {**identity, "rendered_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "files": {p.name: _sha256(p.read_bytes()) for p in files}}
    path = identity_path(html_path)
    part = path.with_name(f".{path.name}.part")
    part.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(part, path)


class NotRenderedAs(ValueError):
    """A report file whose recorded identity is not the one asked (``reason``: viewer, unit, missing, changed)."""

    def __init__(self, path: Path, reason: str, expected: str | None = None, found: str | None = None) -> None:
        self.path, self.reason, self.expected, self.found = path, reason, expected, found
        what = {"viewer": f"rendered as {found}, not {expected}", "unit": f"rendered for unit {found}, not {expected}",
                "missing": "no record of who it was rendered as", "changed": "changed since it was rendered"}[reason]
        super().__init__(f"{path.name}: {what}")


def rendered_bytes(path: Path, *, viewer: str, unit: str | None) -> bytes:
    """The bytes of a report file, only if it was rendered as ``viewer`` for ``unit`` and not changed since.

    Reads the identity recorded with the file (:func:`identity_path`, written by
    :func:`render_unit` from what the notebook itself computed as) and the file once, and
    compares the file's SHA-256 with the recorded one; raises :class:`NotRenderedAs` otherwise.
    """
    try:
        record = json.loads(identity_path(path).read_text("utf-8"))
    except (OSError, ValueError):
        raise NotRenderedAs(path, "missing") from None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        raise NotRenderedAs(path, "missing")
    if record.get("viewer") != viewer:
        raise NotRenderedAs(path, "viewer", viewer, str(record.get("viewer")))
    if (record.get("unit") or None) != (unit or None):
        raise NotRenderedAs(path, "unit", unit or "-", str(record.get("unit") or "-"))
    data = path.read_bytes()
    if record["files"].get(path.name) != _sha256(data):
        raise NotRenderedAs(path, "changed")
    return data


def render_unit(job: UnitJob) -> UnitResult:
    """Execute the notebook for one unit, export HTML, print PDF, record who it was rendered as; never raises.

    Nothing of the unit's id or name reaches a path but through the job's paths (made by
    :func:`unit_stems`); any failure, a folder that cannot be made included, is the
    unit's ``error``.
    """
    started = time.perf_counter()
    result = UnitResult(unit=job.unit, name=job.name, kind=job.kind, ok=False)
    try:
        job.html_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="prospects-report-") as tmp:
            tmpdir = Path(tmp)
            nb = run_notebook(job.notebook, tmpdir / "executed.ipynb", job.parameters, job.cwd)
            result.headline = _headline_from(nb)
            result.previous, result.previous_as_of = _previous_from(nb)
            lap = time.perf_counter()
            result.stages["notebook"] = lap - started
            html_tmp = tmpdir / "report.html"
            html_tmp.write_text(export_html(nb, job.title, job.locale), encoding="utf-8")
            result.stages["html"] = time.perf_counter() - lap
            if job.pdf_path is not None:
                lap = time.perf_counter()
                pdf_tmp = tmpdir / "report.pdf"
                print_pdf(html_tmp, pdf_tmp, job.chromium or "chromium")
                result.stages["pdf"] = time.perf_counter() - lap
                _install(pdf_tmp, job.pdf_path)
                result.pdf = job.pdf_path
            _install(html_tmp, job.html_path)
            result.html = job.html_path
            _record_identity(job.html_path, _identity_from(nb), [p for p in (result.pdf, result.html) if p is not None])
            result.ok = True
    except Exception as exc:  # one failing unit does not stop the others
        result.ok = False
        result.error = _error_text(exc)
        if result.pdf is not None:  # no half report: a PDF without its HTML is removed
            result.pdf.unlink(missing_ok=True)
            result.pdf = None
        result.html = None
    result.seconds = time.perf_counter() - started
    return result


def run(batch: Batch, *, jobs: int = 1, progress: bool = True,
        on_result: Callable[[UnitResult], None] | None = None) -> list[UnitResult]:
    """Render every unit of a batch (``jobs`` worker processes); results in the batch's order."""
    batch.folder.mkdir(parents=True, exist_ok=True)
    return render_many(batch.jobs, workers=jobs, progress=progress, on_result=on_result,
                       desc=i18n.label("report.progress", batch.locale), unit=i18n.label("report.unit", batch.locale))


def render_many(unit_jobs: Sequence[UnitJob], *, workers: int = 1, progress: bool = True,
                on_result: Callable[[UnitResult], None] | None = None, desc: str = "reports",
                unit: str = "report") -> list[UnitResult]:
    """Render any list of jobs (``workers`` processes); results in the jobs' order, never raises.

    Several jobs may share a unit (subscriptions: two recipients of the same region).
    """
    from tqdm import tqdm

    results: dict[int, UnitResult] = {}
    bar = tqdm(total=len(unit_jobs), desc=desc, unit=unit, file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    try:
        if workers <= 1 or len(unit_jobs) == 1:
            for pos, job in enumerate(unit_jobs):
                bar.set_postfix_str(i18n.shown(job.unit, 40))
                try:
                    r = render_unit(job)
                except Exception as exc:  # render_unit never raises; should it, the others still render
                    r = UnitResult(unit=job.unit, name=job.name, kind=job.kind, ok=False, error=_error_text(exc))
                results[pos] = r
                bar.update(1)
                if on_result:
                    on_result(r)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
                futures = {pool.submit(render_unit, job): pos for pos, job in enumerate(unit_jobs)}
                for fut in as_completed(futures):
                    pos = futures[fut]
                    job = unit_jobs[pos]
                    try:
                        r = fut.result()
                    except Exception as exc:  # a worker died (BrokenProcessPool…)
                        r = UnitResult(unit=job.unit, name=job.name, kind=job.kind, ok=False, error=_error_text(exc))
                    results[pos] = r
                    bar.set_postfix_str(i18n.shown(job.unit, 40))
                    bar.update(1)
                    if on_result:
                        on_result(r)
    finally:
        bar.close()
    return [results[pos] for pos in range(len(unit_jobs))]


def index_html(batch: Batch, results: Sequence[UnitResult], rendered_at: dt.datetime | None = None) -> str:
    """The index page: every report with its headline figures and links, every failure with its error."""
    loc = batch.locale
    t = TEXT[loc]
    rendered = format_timestamp((rendered_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"), loc)
    title = t["index_title"].format(fy=batch.fiscal_year)
    head = [(t["unit"], False), (t["kind"], False)]
    head += [(i18n.label(code, loc), True) for code, _ in HEADLINE]
    head += [(t["files"], False), (t["status"], False)]
    ths = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>" for h, num in head)
    rows = []
    for r in results:
        name = f"{_e(r.name)} <span class=\"pr-small\">({_e(r.unit)})</span>"
        if r.ok and r.html is not None:
            name = f'<a href="{_e(r.html.name)}">{_e(r.name)}</a> <span class="pr-small">({_e(r.unit)})</span>'
        figures = "".join(
            f'<td class="num">{_e(format_headline(code, r.headline.get(code) if r.headline else None, loc, batch.currency))}</td>'
            for code, _ in HEADLINE
        )
        links = []
        if r.ok and r.html is not None:
            links.append(f'<a href="{_e(r.html.name)}">HTML</a>')
        if r.ok and r.pdf is not None:
            links.append(f'<a href="{_e(r.pdf.name)}">PDF</a>')
        status = (f'<span class="pr-ok">{_e(t["ok"])}</span>' if r.ok
                  else f'<span class="pr-failed">{_e(t["failed"])}{colon(loc)}{_e(r.error)}</span>')
        rows.append(
            f'<tr class="{"pr-ok-row" if r.ok else "pr-failed-row"}" data-unit="{_e(r.unit)}"><td{_as_text(r.name)}>{name}</td>'
            f"<td>{_e(kind_label(r.kind, loc))}</td>{figures}<td>{' · '.join(links)}</td><td>{status}</td></tr>"
        )
    failed = sum(not r.ok for r in results)
    warn = f'<p class="pr-failed">{_e(t["failed_count"].format(n=failed))}</p>' if failed else ""
    old = batch.freshness.warning(loc)
    warn += f'<p class="pr-stale" role="note">⚠ {_e(old)}</p>' if old else ""
    info = [
        f"{_e(t['firm'])}{colon(loc)}{_e(batch.firm_name)}",
        f"{_e(t['extracted'])} {_e(i18n.moment(batch.freshness.moment, loc))}",
        f"{_e(t['software'])} prospects {_e(__version__)}",
    ]
    intro = t["index_intro"].format(viewer=batch.viewer_label, as_of=i18n.date(batch.as_of, loc), rendered=rendered)
    return (
        f'<!DOCTYPE html>\n<html lang="{loc}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="prospects {_e(__version__)}"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><main>"
        f'<div class="pr-menu">{_e(i18n.label("menu", loc))}</div><h1>{_e(title)}</h1>'
        f"<p>{_e(intro)}</p><p class=\"pr-small\">{' — '.join(info)}</p>{warn}"
        f'<div class="pr-scroll" role="region" tabindex="0" aria-label="{_e(title)}"><table class="pr-table"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div></main></body></html>\n"
    )


def write_index(batch: Batch, results: Sequence[UnitResult]) -> Path:
    """Write ``<folder>/index.html`` (atomically) and return its path."""
    path = batch.folder / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(index_html(batch, results), encoding="utf-8")
    os.replace(tmp, path)
    return path


def summary_lines(batch: Batch, results: Sequence[UnitResult], index: Path) -> list[str]:
    """The command's summary, one line per unit, then the totals."""
    loc = batch.locale
    t = TEXT[loc]
    width = max((len(f"{r.unit} {r.name}") for r in results), default=10)
    lines = []
    for r in results:
        label = f"{r.unit} {r.name}"
        if r.ok:
            files = ", ".join(str(p) for p in (r.html, r.pdf) if p is not None)
            budget = format_headline("signed_budget", r.headline["signed_budget"], loc, batch.currency) if r.headline else ""
            stages = ", ".join(f"{i18n.label('report.stage.' + k, loc)} {i18n.decimal(v, loc)}" for k, v in r.stages.items())
            lines.append(f"{label:<{width}}  {t['ok']:<6} {budget:>14}  {files}  ({i18n.decimal(r.seconds, loc)} s{colon(loc)}{stages})")
        else:
            lines.append(f"{label:<{width}}  {t['failed']:<6} {r.error}")
    ok = sum(r.ok for r in results)
    lines.append(f"{ok}/{len(results)} → {index}")
    return lines


def run_command(
    settings,
    login: str,
    *,
    by: str = "region",
    units: Sequence[str] | None = None,
    fiscal_year: int | None = None,
    as_of: str | None = None,
    formats: Sequence[str] = FORMATS,
    out: Path | str | None = None,
    jobs: int = 1,
    config: str | Path | None = None,
    notebook: Path | None = None,
) -> int:
    """``prospects report``: plan (refusals raise before any work), render, index, summary.

    Returns 0 when every unit rendered, 1 when some failed.
    """
    from .api import open_firm

    firm = open_firm(settings=settings)
    batch = plan(
        firm, login, by=by, units=units, fiscal_year=fiscal_year, as_of=as_of, formats=formats,
        out=Path(out) if out is not None else settings.project_dir / "reports", notebook=notebook,
        config=config,
    )
    firm.engine.dispose()
    results = run(batch, jobs=max(1, jobs))
    index = write_index(batch, results)
    for line in summary_lines(batch, results, index):
        print(line)
    return 0 if all(r.ok for r in results) else 1
