"""Helpers and fixtures of the dashboard's in-process tests (tests/test_dashboard*.py): Cabinet
Exemple (prospects.sample) opened at 29/11/2026, and readers of the widgets' HTML.

Not a test module: nothing here is collected. Test modules import the fixtures they use.
"""

from __future__ import annotations

import html
import re

import ipywidgets as w
import pytest

from prospects.api import open_firm
from prospects.dashboard import Dashboard
from prospects.figures import TABLE_CELLS

TODAY = "2026-11-29"
NNBSP = "\u202f"


def eur(amount: str, locale: str = "fr") -> str:
    """``eur("18 500")`` → ``18 500 €`` in the dashboard's French format."""
    return amount.replace(" ", NNBSP) + NNBSP + "€"


def text(fragment: str) -> str:
    return re.sub(r"[ \t\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def span(fragment: str, css: str) -> str:
    """The text of the first element carrying class ``css`` in an HTML fragment."""
    m = re.search(rf'<(\w+)[^>]*class="[^"]*\b{re.escape(css)}\b[^"]*"[^>]*>(.*?)</\1>', fragment, re.S)
    assert m, f"no .{css} in {fragment[:200]}"
    return html.unescape(m.group(2))


def value(d: Dashboard, code: str) -> str:
    return span(d.cells[code].html.value, "pr-value" if code != "converted_prospects" else "pr-value-small")


def previous(d: Dashboard, code: str) -> str:
    return span(d.cells[code].html.value, "pr-prev-value")


def shown(d: Dashboard) -> dict[str, str]:
    return {code: value(d, code) for code in TABLE_CELLS}


def footer(d: Dashboard) -> dict[str, str]:
    f = d.drill.footer.value
    out = {k: span(f, f"pr-foot-{k}") for k in ("rows", "documents", "recurring", "one_off", "total")}
    return out


def classes(widget: w.Widget) -> set[str]:
    """Every CSS class in a widget tree."""
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes(child)
    return found


def all_html(widget: w.Widget) -> str:
    out = [widget.value] if isinstance(widget, w.HTML) else []
    for child in getattr(widget, "children", ()):
        out.append(all_html(child))
    return "\n".join(out)


@pytest.fixture(scope="module")
def firm_url(tmp_path_factory):
    """Cabinet Exemple in a database of this module's own: the dashboard writes each viewer's
    last choice there (db.save_dashboard_choice), the session's shared sample stays read-only."""
    from prospects import db
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    return url


@pytest.fixture(scope="module")
def firm(firm_url):
    return open_firm(firm_url, today=TODAY)


def fresh(firm, login: str, locale: str = "fr") -> Dashboard:
    """The dashboard of ``login`` as on a first visit (no remembered choice: "Mes affaires")."""
    from prospects import db

    db.save_dashboard_choice(firm.engine, login, None, None)
    return Dashboard(firm, login, locale)


@pytest.fixture
def director(firm):
    d = fresh(firm, "dir")
    assert d.message.value == ""
    return d


FIRM_WIDE = {
    "prospects_without_document": "1",
    "offers_in_progress": "1",
    "potential_fees": eur("5 000"),
    "signed_offers": "4",
    "signed_budget": eur("18 500"),
    "refused_offers": "1",
    "abandoned_prospects": "1",
}
