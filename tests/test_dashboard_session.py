"""The dashboard's kernel entry points (prospects.dashboard.session): the settings, refusals and
errors as one sentence, the warm kernel's firm reused only while nothing changed.
"""

from __future__ import annotations

import html

from prospects import i18n
from prospects.dashboard import dashboard_from_settings

from . import dashboard_helpers as helpers
from .dashboard_helpers import TODAY, all_html, classes, text

firm_url = helpers.firm_url  # a fixture


def test_dashboard_from_settings_reads_the_environment(firm_url, monkeypatch):
    monkeypatch.setenv("PROSPECTS_DB", firm_url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("PROSPECTS_LOCALE", "fr")
    root = dashboard_from_settings("staff1")
    assert "pr-cell-signed_offers" in classes(root)
    denied = text(all_html(dashboard_from_settings("nobody")))
    assert "Accès refusé" in denied
    monkeypatch.setenv("PROSPECTS_DB", "sqlite:////nonexistent/folder/x.db")
    broken = all_html(dashboard_from_settings("dir"))
    assert i18n.label("error") in html.unescape(broken) and "Traceback" not in broken


def test_a_warm_kernel_reuses_the_firm_it_opened_only_while_settings_and_data_are_unchanged(tmp_path, monkeypatch):
    import prospects.dashboard as dashboard
    from prospects import api, db
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    monkeypatch.setenv("PROSPECTS_DB", url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("PROSPECTS_LOCALE", "fr")
    opened = []
    real_open = api.open_firm
    monkeypatch.setattr(api, "open_firm", lambda *a, **k: opened.append(k) or real_open(*a, **k))

    dashboard.warm_up()  # ahead of any viewer: the firm, no viewer
    assert len(opened) == 1 and "firm" in dashboard._WARM
    root = dashboard_from_settings("staff1")  # the viewer's page: the same firm, not opened again
    assert len(opened) == 1 and "pr-cell-signed_offers" in classes(root) and not dashboard._WARM
    dashboard_from_settings("dir")  # a warm firm serves one page only
    assert len(opened) == 2

    dashboard.warm_up()
    monkeypatch.setenv("PROSPECTS_TODAY", "2026-11-30")  # the date changed since
    dashboard_from_settings("dir")
    assert len(opened) == 4

    dashboard.warm_up()
    __import__("time").sleep(1.1)  # extract_info's loaded_at counts seconds
    from prospects import store
    from prospects.config import load_settings

    store.replace_content(db.make_engine(url), sample_firm(), settings=load_settings())  # the data was reloaded since
    dashboard_from_settings("dir")
    assert len(opened) == 6 and not dashboard._WARM
