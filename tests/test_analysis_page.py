"""docs/analysis.md is the exploration notebook as it runs today, not a page typed by hand."""

from __future__ import annotations

import pytest

from prospects import analysis_page


@pytest.mark.slow
def test_docs_analysis_md_is_generated_from_a_run(tmp_path, monkeypatch):
    monkeypatch.delenv("PROSPECTS_TODAY", raising=False)
    target = analysis_page.write(tmp_path / "analysis.md")
    fresh = target.read_text("utf-8")
    committed = analysis_page.PAGE.read_text("utf-8")
    assert fresh == committed, "docs/analysis.md is stale: run `python -m prospects.analysis_page`"
    for picture in sorted(tmp_path.glob("analysis-*.png")):
        assert (analysis_page.PAGE.parent / picture.name).is_file(), picture.name
    # each of the five questions is answered by one call of the view, with its output
    for question, call in (("### 1.", "me.metrics(["), ("### 2.", 'me.metrics(aged, by="partner"'),
                           ("### 3.", 'freq="M"'), ("### 4.", 'by=["doc_type", "template"]'),
                           ("### 5.", "regional.figures(")):
        assert question in fresh and call in fresh.split(question, 1)[1]
    assert "<table" in fresh and "Accès refusé" in fresh


def test_the_page_is_linked_from_the_readme():
    readme = (analysis_page.ROOT / "README.md").read_text("utf-8")
    assert "(docs/analysis.md)" in readme
