"""docs/analysis.md, written from a run of notebooks/exploration.ipynb — never typed by hand.

    python -m prospects.analysis_page          # rewrites docs/analysis.md and its pictures

The exploration notebook runs (papermill, a ``python3`` kernel) on a fresh medium demo firm
(:data:`SIZE`, :data:`SEED`, as of :data:`TODAY`) in a temporary folder, and the page gets
each cell as it ran: the notebook's text, each question's call, and its output (tables as
HTML, text as text, charts as PNG files beside the page). A test runs it again and compares
(``tests/test_analysis_page.py``), so the page always shows what the code answers.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "exploration.ipynb"
PAGE = ROOT / "docs" / "analysis.md"
SIZE, SEED, TODAY = "medium", 42, "2026-11-29"

HEADER = f"""# Analysis in JupyterLab

An analyst of the firm works in JupyterLab with the package's Python API, seeing exactly what
their own dashboard shows them. `view.metrics(...)` answers a cross-cut in one call: any metric
of the [metric dictionary](metrics.md) by region, agency, team, partner, manager, client
manager, document type, template or signatory, for one fiscal year, N against N-1 or several
years, by year, month or fiscal quarter — one long, tidy pandas frame, computed by the code of
the dashboard's cells over the deals the viewer may see ([access.md](access.md)). Figures come
as `figs.to_frame(compare="N-1")`, amounts in exact cents with `frame.money.euros()` (in units
of the firm's currency, the setting `currency`: euros by default, whole yen for `JPY`,
[data.md](data.md#the-firms-currency)), and every result says what it covers
(`frame.attrs["scope"]`, `figs.scope`, whose `currency` names the currency).

Below, `notebooks/exploration.ipynb` (a guided tour, in French) answers five everyday questions.
This page is that notebook as it ran on the {SIZE} demo firm (`prospects demo --size {SIZE}
--seed {SEED}`, as of {TODAY}), each question's call followed by its output; it is written by
`python -m prospects.analysis_page` from a run, never by hand. The notebook itself runs in the
tests on two demo firms of other seeds.
"""


def build_demo(folder: Path) -> str:
    """A fresh demo database (and its figure store) in ``folder``; its URL."""
    from . import db, demo

    frames = demo.generate(SIZE, SEED, today=dt.date.fromisoformat(TODAY))
    url = f"sqlite:///{folder / 'demo.db'}"
    db.replace_all(db.make_engine(url), frames,
                   {"source": f"demo size={SIZE} seed={SEED}", "demo_today": TODAY, "fiscal_year_start_month": "1"})
    return url


def run(url: str, folder: Path):
    """The notebook executed on ``url`` (as of :data:`TODAY`)."""
    import nbformat
    import papermill

    out = folder / "exploration.ipynb"
    backend = os.environ.pop("MPLBACKEND", None)  # the kernel's own (inline) backend draws the charts
    try:
        papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={"db_url": url, "today": TODAY},
                                   cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False)
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    return nbformat.read(out, as_version=4)


def page(nb, picture_prefix: str = "analysis") -> tuple[str, dict[str, bytes]]:
    """The Markdown of an executed notebook, and the pictures it refers to (name → PNG bytes)."""
    import base64

    parts = [HEADER]
    pictures: dict[str, bytes] = {}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            continue
        if cell.cell_type == "markdown":
            parts.append(re.sub(r"^(#+) ", r"#\1 ", cell.source, flags=re.M))  # under the page's own title
            continue
        parts.append(f"```python\n{cell.source.strip()}\n```")
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(f"```text\n{output.text.rstrip()}\n```")
            elif output.output_type == "error":  # pragma: no cover - a run that fails is refused below
                raise RuntimeError(f"the notebook failed: {output.ename}: {output.evalue}")
            elif "image/png" in output.get("data", {}):
                name = f"{picture_prefix}-{len(pictures) + 1}.png"
                pictures[name] = base64.b64decode(output.data["image/png"])
                parts.append(f"![The chart drawn by the cell above]({name})")
            elif "text/html" in output.get("data", {}):
                html = output.data["text/html"]
                html = re.sub(r"<style scoped>.*?</style>\s*", "", html, flags=re.S)  # pandas' notebook styling
                parts.append("\n".join(line for line in html.splitlines() if line.strip()))
            elif "text/plain" in output.get("data", {}):
                parts.append(f"```text\n{output.data['text/plain'].rstrip()}\n```")
    return "\n\n".join(p.strip("\n") for p in parts) + "\n", pictures


def write(target: Path = PAGE) -> Path:
    """Run the notebook on a fresh demo and write the page (and its pictures) at ``target``."""
    with tempfile.TemporaryDirectory(prefix="analysis-page-") as tmp:
        folder = Path(tmp)
        text, pictures = page(run(build_demo(folder), folder), target.stem)
    target.write_text(text, encoding="utf-8")
    for name, data in pictures.items():
        (target.parent / name).write_bytes(data)
    return target


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write(Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE)}")
