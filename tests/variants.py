"""Variants the tests build: the report notebook with one more cell, Cabinet Exemple with other unit ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Where each table holds org unit ids.
UNIT_COLUMNS = {"org_units": ("id", "parent_id"), "collaborators": ("unit_id",), "deals": ("unit_id",),
                "group_units": ("unit_id",)}


def report_notebook_with(folder: Path, source: str, name: str) -> Path:
    """The real report notebook, plus a code cell ``source`` right after the parameters, saved as ``folder/name``."""
    import nbformat

    from prospects import reports

    nb = nbformat.read(reports.default_notebook(), as_version=4)
    pos = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = "injected"
    nb.cells.insert(pos + 1, cell)
    path = folder / name
    nbformat.write(nb, path)
    return path


def with_unit_ids(frames: dict[str, pd.DataFrame], rename: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The frames with some org unit ids replaced everywhere they appear (in place, returned)."""
    for table, columns in UNIT_COLUMNS.items():
        for column in columns:
            frames[table][column] = frames[table][column].map(lambda v: rename.get(v, v))
    return frames
