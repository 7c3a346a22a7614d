"""Every notebook in notebooks/ runs from top to bottom on small demo databases of two seeds."""

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

# parameters each notebook takes on the default demo (seed 42); a notebook not listed
# runs with its own defaults
PARAMETERS = {
    "dashboard": {"login": "mbrun"},
    "report": {"viewer": "mbrun", "unit": "R-IDF"},
    "exploration": {"partner": "mbrun"},
}
#: Another seed: other logins and units. The exploration notebook gets no parameter at all
#: there (its defaults must find the demo's director and regional partner).
OTHER_SEED = 7


@pytest.fixture(scope="module", params=[42, OTHER_SEED], ids=["seed42", f"seed{OTHER_SEED}"])
def demo_db(request, tmp_path_factory):
    seed = request.param
    frames = demo.generate("small", seed=seed, today=dt.date(2026, 11, 29))
    url = f"sqlite:///{tmp_path_factory.mktemp('nb') / f'demo{seed}.db'}"
    db.replace_all(db.make_engine(url), frames, {"source": f"demo size=small seed={seed}"})
    if seed == 42:
        return url, PARAMETERS
    partner = next(x for x in demo.demo_logins(frames) if x["what"].startswith("their region"))
    assert partner["login"] != "mbrun"  # the point: the default seed's logins do not exist here
    return url, {"dashboard": {"login": partner["login"]}, "report": {"viewer": partner["login"], "unit": partner["unit_id"]}}


def test_every_notebook_is_covered():
    assert {p.stem for p in NOTEBOOKS} >= {"dashboard", "report", "exploration"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, demo_db, tmp_path, monkeypatch):
    demo_url, parameters = demo_db
    monkeypatch.setenv("PROSPECTS_DB", demo_url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    declared = next((c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])), "")
    params = {k: v for k, v in parameters.get(path.stem, {}).items() if k in declared}
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), parameters=params, cwd=str(path.parent), kernel_name="python3", progress_bar=False
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, json.dumps(errors, ensure_ascii=False)[:2000]
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code"), "the notebook displayed nothing"
    # no refusal, except where a cell shows one on purpose (the exploration's "what a view refuses")
    text = json.dumps([c.get("outputs", []) for c in executed.cells if "AccessDenied" not in c.source], ensure_ascii=False)
    assert "Accès refusé" not in text and "identifiant inconnu" not in text
