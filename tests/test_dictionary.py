"""The metric dictionary is one source, in both languages, and docs/metrics.md follows it."""

from pathlib import Path

from prospects import dictionary, figures

ROOT = Path(__file__).resolve().parents[1]


def test_every_figure_has_a_definition_in_french_and_english():
    codes = {m.code for m in dictionary.METRICS}
    assert set(figures.TABLE_CELLS) | {"converted_prospects", "won_prospects", "median_days_to_sign", "ageing", "previous"} <= codes
    assert {"win_rate.by_count", "win_rate.by_value"} <= codes
    for m in dictionary.METRICS:
        assert m.fr and m.en and m.fr != m.en
        assert m.label("fr") and m.label("en")


def test_docs_metrics_md_is_generated_from_the_code():
    assert (ROOT / "docs" / "metrics.md").read_text("utf-8") == dictionary.markdown(), (
        "docs/metrics.md is stale: run `python -m prospects.dictionary > docs/metrics.md`"
    )
