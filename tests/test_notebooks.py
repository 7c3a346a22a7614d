"""Notebooks are committed clean: no outputs, no execution counts; the dashboard one stays thin."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "dashboard.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name}: cell {i} has outputs (clear them before committing)"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


def test_dashboard_notebook_is_thin():
    nb = nbformat.read(NOTEBOOKS[[p.name for p in NOTEBOOKS].index("dashboard.ipynb")], as_version=4)
    assert all(c.cell_type == "code" for c in nb.cells)  # Voilà would show any markdown
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "login = None" in params[0].source
    code = "\n".join(c.source for c in nb.cells)
    assert "prospects.dashboard" in code
    # nothing computed, and the login never read from the URL or the environment
    for forbidden in ("QUERY_STRING", "os.environ", "getenv", "figures(", "drilldown(", "pandas"):
        assert forbidden not in code
