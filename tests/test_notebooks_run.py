"""Every notebook in notebooks/ runs from top to bottom on a small demo database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import papermill
import pytest

from prospects import db, demo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TODAY = "2026-11-29"

# parameters each notebook takes; a notebook not listed runs with its own defaults
PARAMETERS = {
    "dashboard": {"login": "mbrun"},
    "report": {"viewer": "mbrun", "unit": "R-IDF"},
    "exploration": {"login": "mbrun", "unit": "R-IDF"},
}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('nb') / 'demo.db'}"
    db.replace_all(db.make_engine(url), demo.generate("small", seed=42, today=dt.date(2026, 11, 29)))
    return url


def test_every_notebook_is_covered():
    assert {p.stem for p in NOTEBOOKS} >= {"dashboard", "report", "exploration"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, demo_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PROSPECTS_DB", demo_url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    declared = next((c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])), "")
    params = {k: v for k, v in PARAMETERS.get(path.stem, {}).items() if k in declared}
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), parameters=params, cwd=str(path.parent), kernel_name="python3", progress_bar=False
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, json.dumps(errors, ensure_ascii=False)[:2000]
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code"), "the notebook displayed nothing"
