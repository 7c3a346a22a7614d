"""Report snapshots (issue 6) of Cabinet Exemple, whose figures are known by heart.

Two batches are rendered once per module and shared by the assertions:

* ``by_region``: ``prospects report --as dir`` in a subprocess (HTML and PDF, 2 jobs):
  R1 Île-de-France holds every signed offer (Budget signé 18 500 €, 4 offres signées),
  R2 Hauts-de-France none (0 €) but the abandoned prospect D4;
* ``by_agency``: ``prospects report --as dir --by agency --format html`` in-process (1 job), with a
  variant of the notebook that raises for A2 (the test hook: ``reports.NOTEBOOK``):
  A1 Paris renders, A2 Lille fails, the command exits 1; a foreign ``python3`` kernelspec
  first in the Jupyter path is ignored (the kernel is always this interpreter).

PDF assertions need Debian's Chromium: outside CI they skip loudly when it is missing;
in CI (``CI=true``) they must run.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from prospects import __version__, cli, db, i18n, reports
from prospects.config import load_settings
from prospects.sample import sample_firm

from .conftest import IN_CI
from .variants import report_notebook_with, with_unit_ids

TODAY = "2026-11-29"
NNBSP = "\u202f"
BUDGET_R1 = f"18{NNBSP}500{NNBSP}€"
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "report.ipynb"


def _chromium() -> str | None:
    path = load_settings().chromium
    return path if shutil.which(path) or os.access(path, os.X_OK) else None


CHROMIUM = _chromium()


def need_chromium() -> str:
    """The Chromium path; outside CI a loud skip when it is missing, in CI a failure."""
    if CHROMIUM is None:
        message = f"Chromium not found at {load_settings().chromium!r}: install Debian's chromium package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING PDF REPORT TESTS: " + message)
    return CHROMIUM


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('reports-db') / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm(), info={"source": "Cabinet Exemple (tests)"})
    return url


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    """``prospects`` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, *args],
        capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def by_region(sample_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("by-region")
    formats = "html,pdf" if CHROMIUM else "html"
    proc = _cli(sample_url, "report", "--as", "dir", "--out", str(out), "--format", formats, "--jobs", "2")
    return proc, out / "2026"


def _failing_notebook(folder: Path, unit: str) -> Path:
    """The real report notebook, plus a cell that raises for ``unit`` right after the parameters."""
    return report_notebook_with(folder, f'if unit == "{unit}":\n    raise RuntimeError("panne simulée pour {unit}")',
                                "failing-report.ipynb")


@pytest.fixture(scope="module")
def by_agency(sample_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("by-agency")
    notebook = _failing_notebook(out, "A2")
    stdout, stderr = io.StringIO(), io.StringIO()
    # a "python3" kernelspec of another interpreter first in the Jupyter path must not be used
    bogus = out / "jupyter" / "kernels" / "python3"
    bogus.mkdir(parents=True)
    (bogus / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "another Python", "language": "python"}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reports, "NOTEBOOK", notebook)
        mp.setenv("JUPYTER_PATH", str(out / "jupyter"))
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.main(["--db", sample_url, "--today", TODAY, "report", "--as", "dir", "--by", "agency",
                             "--format", "html", "--out", str(out / "reports"), "--jobs", "1"])
    return code, stdout.getvalue(), stderr.getvalue(), out / "reports" / "2026"


def read(path: Path) -> str:
    """A page's markup, entities decoded (nbconvert re-serialises the HTML)."""
    return html.unescape(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# the notebook itself


def test_notebook_is_thin_committed_without_outputs_and_typed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for name, hint in [("viewer", "str"), ("unit", "str | None"), ("fiscal_year", "int | None"), ("as_of", "str | None"),
                       ("today", "str | None"), ("db_url", "str | None"), ("locale", "str | None")]:
        line = re.search(rf"^{name}: {re.escape(hint)} = .+  # .+$", params[0].source, re.M)
        assert line, f"parameter {name} is not typed and commented"
    body = "\n".join(c.source for c in code if c is not params[0])
    assert len(body.splitlines()) < 30 and "import pandas" not in body  # logic lives in prospects.reports


# ---------------------------------------------------------------------------
# by region: HTML


def test_region_batch_succeeds_with_progress_and_summary(by_region):
    proc, folder = by_region
    assert proc.returncode == 0, proc.stderr
    assert "rapports" in proc.stderr and "2/2" in proc.stderr  # the tqdm bar, on stderr, in the settings' language
    assert "WARNING" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr  # no kernel chatter
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("2/2 → ") and lines[-1].endswith("index.html")
    assert any(line.startswith("R1 Île-de-France") and BUDGET_R1 in line for line in lines)
    names = sorted(p.name for p in folder.iterdir())
    expected = ["R1-ile-de-france.html", "R2-hauts-de-france.html", "index.html",
                "R1-ile-de-france.identity.json", "R2-hauts-de-france.identity.json"]  # who each was rendered as
    if CHROMIUM:
        expected += ["R1-ile-de-france.pdf", "R2-hauts-de-france.pdf"]
    assert names == sorted(expected)


def test_region_html_shows_the_known_figures_in_french(by_region, sample_url):
    _proc, folder = by_region
    page = read(folder / "R1-ile-de-france.html")
    # first page: firm, unit, viewer, period, as-of, extraction date, software version
    for text in ("Suivi Business › Prospects", "Cabinet Exemple", "Île-de-France (Région, R1)",
                 "Claire Directrice (dir, Directeur)", "du 01/01/2026 au 29/11/2026", "29/11/2025",
                 f"prospects {__version__}", "Cabinet Exemple (tests)"):
        assert text in page, text
    # the extraction date: tests/test_reports.py::test_the_rendered_cover_and_index_say_when_the_data_was_loaded
    # the indicator table (README labels), with N-1 at the same date
    for text in ("Indicateurs prospects sur l'exercice", "Prospect sans document", "Offres en cours",
                 "Honoraires potentiels", "Offres signées", "Budget signé", "Offres refusées", "Prospect abandonné",
                 "Exercice 2026 au 29/11/2026", "N-1 au 29/11/2025"):
        assert text in page, text
    assert f'<td class="num">{BUDGET_R1}</td><td class="num">4{NNBSP}000{NNBSP}€</td>' in page  # N, N-1
    assert f'<td>Budget signé récurrent</td><td class="num">15{NNBSP}200{NNBSP}€</td>' in page
    assert f'<td>Budget signé exceptionnel</td><td class="num">3{NNBSP}300{NNBSP}€</td>' in page
    assert '<td>Offres signées</td><td class="num">4</td><td class="num">1</td>' in page
    assert f'<td>Honoraires potentiels</td><td class="num">5{NNBSP}000{NNBSP}€</td>' in page
    # the chart, embedded; its months; the ageing; the top offers; the dictionary
    assert "Nombre de prospects transformés par date" in page
    assert 'src="data:image/svg+xml;base64,' in page
    assert f'<td>mars 2026</td><td class="num">1</td><td class="num">12{NNBSP}000{NNBSP}€</td>' in page
    assert f'<td>>180</td><td class="num">1</td><td class="num">5{NNBSP}000{NNBSP}€</td>' in page
    assert "Principales offres signées" in page and "Principales offres en cours" in page
    assert "Alpha SAS" in page and f"14{NNBSP}500{NNBSP}€" in page  # X1, the largest signed offer
    assert "Beta SARL" in page  # X3, in progress
    assert "Dictionnaire des indicateurs" in page
    assert "Affaires prospects abandonnées dont la date d'abandon tombe dans la période." in page


def test_region_html_is_scoped_to_its_unit(by_region):
    _proc, folder = by_region
    r2 = read(folder / "R2-hauts-de-france.html")
    assert "Hauts-de-France (Région, R2)" in r2
    assert f'<td>Budget signé</td><td class="num">0{NNBSP}€</td>' in r2
    assert '<td>Prospect abandonné</td><td class="num">1</td>' in r2  # D4, abandoned 10/09/2026
    assert "Alpha SAS" not in r2 and "Beta SARL" not in r2  # R1's deals
    # D6 is confidential: the director sees it nowhere, not even in R1
    assert "Zeta" not in read(folder / "R1-ile-de-france.html")


def test_html_shows_no_code_and_needs_no_network(by_region):
    _proc, folder = by_region
    for path in folder.glob("*.html"):
        page = read(path)
        for leak in ("import prospects", "from prospects", "reports.build", "report.cover", "report.headline",
                     "Traceback", "In&nbsp;[", 'class="input"', "injected-parameters", "Rendered by `prospects report`"):
            assert leak not in page, (path.name, leak)
        assert "<script" not in page and "<link" not in page, path.name
        assert not re.search(r"https?://", page), path.name
        assert not re.search(r"""(?:src|href)=["'](?!data:|[\w.-]+\.(?:html|pdf)["'])""", page), path.name
        assert "@import" not in page and "url(" not in page


def test_index_lists_every_region_with_headline_figures(by_region):
    _proc, folder = by_region
    index = read(folder / "index.html")
    for text in ("Rapports prospects — exercice 2026", "Claire Directrice (dir, Directeur)", "29/11/2026",
                 "Budget signé", "Offres signées", "Offres en cours", "Honoraires potentiels"):
        assert text in index, text
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr class="[^"]*" data-unit="(\w+)">.*?</tr>', index)}
    assert sorted(rows) == ["R1", "R2"]
    assert 'href="R1-ile-de-france.html"' in rows["R1"]
    assert f'<td class="num">{BUDGET_R1}</td><td class="num">4</td><td class="num">1</td><td class="num">5{NNBSP}000{NNBSP}€</td>' in rows["R1"]
    assert f'<td class="num">0{NNBSP}€</td><td class="num">0</td><td class="num">0</td><td class="num">0{NNBSP}€</td>' in rows["R2"]
    if CHROMIUM:
        assert 'href="R2-hauts-de-france.pdf"' in rows["R2"]
    assert "Échec" not in index


# ---------------------------------------------------------------------------
# by region: PDF


@pytest.mark.browser
def test_pdf_is_an_a4_pdf_with_the_unit_and_its_signed_budget(by_region, sample_url):
    need_chromium()
    from pypdf import PdfReader

    _proc, folder = by_region
    pdf = folder / "R1-ile-de-france.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert len(reader.pages) >= 3  # cover, figures…, dictionary on its own page
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"[\s\u202f\u00a0]+", " ", text)
    assert "Île-de-France" in flat and "Cabinet Exemple" in flat
    assert "18 500 €" in flat
    assert "Dictionnaire des indicateurs" in flat
    from prospects.freshness import extract_moment

    when = i18n.moment(extract_moment(db.read_extract_info(db.make_engine(sample_url))), "fr")
    first = re.sub(r"[\s\u202f\u00a0]+", " ", reader.pages[0].extract_text())
    assert f"Données extraites le {when}" in first  # the cover's extract date (issue 21 point 10)
    if shutil.which("pdftotext"):  # poppler agrees
        out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "18 500 €" in re.sub(r"[\s\u202f\u00a0]+", " ", out)


# ---------------------------------------------------------------------------
# by agency, with one failing unit


def test_failing_unit_does_not_stop_the_others_and_exits_1(by_agency):
    code, stdout, stderr, folder = by_agency
    assert code == 1
    assert (folder / "A1-paris.html").is_file()
    assert not list(folder.glob("A2-*"))  # no half report
    a1 = read(folder / "A1-paris.html")
    assert "Paris (Agence, A1)" in a1 and f'<td>Budget signé</td><td class="num">{BUDGET_R1}</td>' in a1
    failed = [line for line in stdout.splitlines() if line.startswith("A2 Lille")]
    assert len(failed) == 1 and "Échec" in failed[0] and "RuntimeError: panne simulée pour A2" in failed[0]
    assert stdout.strip().splitlines()[-1].startswith("1/2 → ")
    assert "2/2" in stderr  # the bar went through both units


def test_index_lists_the_failure_with_its_error(by_agency):
    _code, _out, _err, folder = by_agency
    index = read(folder / "index.html")
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr class="[^"]*" data-unit="(\w+)">.*?</tr>', index)}
    assert sorted(rows) == ["A1", "A2"]
    assert 'href="A1-paris.html"' in rows["A1"] and f"{BUDGET_R1}" in rows["A1"]
    assert "Échec" in rows["A2"] and "RuntimeError: panne simulée pour A2" in rows["A2"]
    assert "href=" not in rows["A2"]
    assert "1 rapport(s) en échec" in index


# ---------------------------------------------------------------------------
# refusals and unusable requests: before any work, no files


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "part1", "--unit", "R2"], "« R2 » est hors de votre périmètre"),  # part1 sees R1 only
        (["--as", "part1", "--unit", "R1", "R2"], "« R2 » est hors de votre périmètre"),  # all or nothing
        (["--as", "part1", "--unit", "NOPE"], "« NOPE » est hors de votre périmètre"),
        (["--as", "staff1"], "aucune unité dans son périmètre"),  # no right to filter
        (["--as", "man1", "--by", "agency"], "aucune unité dans son périmètre"),  # validator without group
        (["--as", "staff1", "--unit", "T1"], "réservés"),
        (["--as", "nobody"], "inconnu"),
        (["--as", "gone"], "inactif"),
    ],
)
def test_refused_before_any_work(sample_url, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code = cli.main(["--db", sample_url, "--today", TODAY, "report", *args, "--out", str(out), "--format", "html"])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prospects: Accès refusé") and message in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "dir", "--fiscal-year", "2027"], "après aujourd'hui"),
        (["--as", "dir", "--format", "docx"], "--format"),
        (["--as", "dir", "--jobs", "0"], "--jobs"),
        (["--as", "part1", "--by", "agency", "--format", "pdf"], "Chromium introuvable"),
    ],
)
def test_unusable_requests_exit_2_without_files(sample_url, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setenv("PROSPECTS_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "out"
    code = cli.main(["--db", sample_url, "--today", TODAY, "report", *args, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and captured.out == ""
    assert not out.exists()


# ---------------------------------------------------------------------------
# the rendering helpers, without papermill


def test_report_sections_in_english(sample_url):
    rep = reports.build("dir", "T1", today=TODAY, db_url=sample_url, locale="en")
    page = "".join(str(s) for s in rep.sections())
    assert "Audit Paris (Team, T1)" in page and "Signed budget" in page and "€18,500" in page
    assert "Metric dictionary" in page and "Prospect indicators for the fiscal year" in page
    assert json.loads(json.dumps(rep.headline()._repr_json_())) == {
        "viewer": "dir", "unit": "T1", "fiscal_year": 2026, "as_of": "2026-11-29",
        "signed_budget": 1_850_000, "signed_offers": 4, "offers_in_progress": 1, "potential_fees": 500_000,
        # N-1 at the same date, for the subscription mails (X11, signed in N-1, is in A1, not T1)
        "previous_as_of": "2025-11-29",
        "previous": {"signed_budget": 0, "signed_offers": 0, "offers_in_progress": 0, "potential_fees": 0},
    }


def test_report_build_refuses_outside_the_perimeter(sample_url):
    from prospects.scoping import AccessDenied

    with pytest.raises(AccessDenied, match="hors de votre périmètre"):
        reports.build("part1", "R2", today=TODAY, db_url=sample_url)


def test_report_is_computed_as_its_viewer(sample_url):
    """Same unit, two viewers: the confidential deal D6 (offer X8, 1 500 €) shows only for its group's member."""
    partner = reports.build("part1", "T1", today=TODAY, db_url=sample_url)
    director = reports.build("dir", "T1", today=TODAY, db_url=sample_url)
    assert partner.headline_values()["offers_in_progress"] == 2 and director.headline_values()["offers_in_progress"] == 1
    assert "Zeta Holding" in str(partner.top_offers()) and "Zeta Holding" not in str(director.top_offers())
    assert "Paul Associé (part1, Associé)" in str(partner.cover())


def test_top_offers_are_the_largest_first(sample_url):
    rep = reports.build("dir", "R1", today=TODAY, db_url=sample_url)
    rep.top = 2
    html = str(rep.top_offers())
    assert html.index("Alpha SAS") < html.index(f"3{NNBSP}000{NNBSP}€")  # X1 14 500 € before X2 3 000 €
    assert "Les 2 plus importantes sur 4" in html
    assert "Eta SARL" not in html.split("Principales offres en cours")[0]  # X9 (800 €) is beyond the top 2


def test_slugs_and_timestamps():
    assert reports.slugify("Île-de-France") == "ile-de-france"
    assert reports.slugify("Provence-Alpes-Côte d'Azur") == "provence-alpes-cote-d-azur"
    assert reports.slugify("???") == "unit"
    assert reports.format_timestamp("2026-11-29T16:02:49+00:00") == "29/11/2026 16:02 UTC"
    assert reports.format_timestamp("2026-11-29T16:02:49+00:00", "en") == "2026-11-29 16:02 UTC"
    assert reports.format_timestamp(None) == "—"


# ---------------------------------------------------------------------------
# quiet progress (issue 19.7): no "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel"


def _tiny_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell("n = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from IPython.display import HTML\nHTML(f'<p>{n}</p>')")]
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_finished_notebook_kernel_is_shut_down_without_an_interrupt(tmp_path, monkeypatch):
    """jupyter_client's shutdown_kernel sends SIGINT before the shutdown request; a report's kernel
    has finished every cell, and a SIGINT landing while it handles its last messages makes
    ipykernel log "KeyboardInterrupt caught in kernel" in the middle of the progress bar."""
    from jupyter_client.manager import KernelManager

    sent = []
    real = KernelManager._async_signal_kernel

    async def spy(self, signum):
        sent.append(signum)
        await real(self, signum)

    monkeypatch.setattr(KernelManager, "_async_signal_kernel", spy)
    nb = reports.run_notebook(_tiny_notebook(tmp_path), tmp_path / "out.ipynb", {"n": 7}, tmp_path)
    assert nb.cells[-1].outputs[0]["data"]["text/html"] == "<p>7</p>"
    import signal

    assert signal.SIGINT not in sent


def _notebook_with(folder: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path = folder / "raw.ipynb"
    nbformat.write(nb, path)
    return path


def test_what_a_kernel_process_prints_itself_is_not_the_commands(tmp_path, capfd):
    """ipykernel and libzmq may print while a kernel stops (a ZMQStream traceback, an
    "Assertion failed" from a socket closed under a last flush: CI saw one in 30 runs).
    What the kernel process writes on its own file descriptors stays out of our stderr."""
    notebook = _notebook_with(tmp_path, "import os\nos.write(2, b'ERROR: noise from the kernel process\\n')\n"
                                        "os.write(1, b'raw stdout of the kernel\\n')")
    reports.run_notebook(notebook, tmp_path / "out.ipynb", {}, tmp_path)
    out, err = capfd.readouterr()
    assert "noise from the kernel" not in err and "raw stdout" not in out, (out, err)


def test_a_kernel_that_dies_is_said_with_its_last_words_in_one_line(tmp_path, capfd):
    """Within seconds (a blocking kernel client used to wait for the cell's 15-minute timeout)."""
    notebook = _notebook_with(tmp_path, "import os\nos.write(2, b'MemoryError: the last thing it said\\n')\n"
                                        "import time\ntime.sleep(0.5)\nos._exit(3)")
    job = reports.UnitJob(unit="u", name="U", kind="agency", notebook=notebook, parameters={}, cwd=tmp_path,
                          html_path=tmp_path / "out" / "u.html", pdf_path=None, chromium=None, title="t", locale="fr")
    result = reports.render_unit(job)
    assert not result.ok and result.seconds < 60, result
    assert "\n" not in result.error and "the last thing it said" in result.error, result.error
    assert capfd.readouterr().err == ""  # said once, by whoever runs the job


def test_many_report_kernels_print_no_interrupt_noise(tmp_path, capfd):
    """30 runs print nothing on the command's stderr (before, about 1 in 15 printed an interrupt's
    "KeyboardInterrupt caught in kernel", and CI once saw a ZMQStream traceback from a kernel stopping)."""
    notebook = _tiny_notebook(tmp_path)
    for n in range(30):
        reports.run_notebook(notebook, tmp_path / "out.ipynb", {"n": n}, tmp_path)
    err = capfd.readouterr().err
    assert err == "", err


# ---------------------------------------------------------------------------
# a report people can read (issue 19.5, 19.2): totals rows, compact top offers, page numbers,
# a first page with the figures, a phone-sized HTML report


def cells_of(fragment: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", fragment, re.S)]


def test_monthly_and_ageing_tables_end_with_exact_totals(sample_url):
    rep = reports.build("dir", "R1", today=TODAY, db_url=sample_url)
    chart = str(rep.chart())
    # Σ months: 3 prospects won (= converted prospects), 15 200 + 3 300 = 18 500 € (= signed budget)
    assert cells_of(re.search(r"<tfoot>(.*?)</tfoot>", chart, re.S).group(1)) == [
        "Total", "3", f"15{NNBSP}200{NNBSP}€", f"3{NNBSP}300{NNBSP}€", BUDGET_R1]
    ageing = str(rep.ageing())
    # one offer in progress (X3, > 180 days): 5 000 € (= potential fees)
    assert cells_of(re.search(r"<tfoot>(.*?)</tfoot>", ageing, re.S).group(1)) == ["Total", "1", f"5{NNBSP}000{NNBSP}€"]
    en = reports.build("dir", "R1", today=TODAY, db_url=sample_url, locale="en")
    assert cells_of(re.search(r"<tfoot>(.*?)</tfoot>", str(en.chart()), re.S).group(1))[:2] == ["Total", "3"]


def test_top_offers_name_the_client_once_and_fit_one_line(sample_url):
    rep = reports.build("dir", "R1", today=TODAY, db_url=sample_url)
    page = str(rep.top_offers())
    signed, in_progress = page.split("<h2>Principales offres en cours</h2>")
    assert cells_of(re.search(r"<thead>(.*?)</thead>", signed, re.S).group(1)) == [
        "Prospect — affaire", "Offre", "Associé", "Décidé le", "Total (€)"]
    assert cells_of(re.search(r"<thead>(.*?)</thead>", in_progress, re.S).group(1)) == [
        "Prospect — affaire", "Offre", "Associé", "Envoyé le", "Ancienneté (jours)", "Total (€)"]
    first = re.search(r"<tbody><tr>(.*?)</tr>", signed, re.S).group(1)
    assert cells_of(first) == ["Alpha SAS — Audit légal Alpha", "LM CAC 6 exercices", "Paul Associé", "15/03/2026",
                               f"14{NNBSP}500{NNBSP}€"]
    # long texts are cut with an ellipsis on one line; the whole text is the cell's title
    assert re.search(r'<td class="pr-clip" title="Alpha SAS — Audit légal Alpha">', first)
    assert "table-layout: fixed" in reports.CSS and "text-overflow: ellipsis" in reports.CSS


def test_a_deal_named_after_its_client_is_not_repeated():
    assert reports.deal_label("Adam et Associés SAS", "Adam et Associés SAS – Social") == "Adam et Associés SAS – Social"
    assert reports.deal_label("ADAM ET ASSOCIES SAS", "Adam et Associés SAS – Social") == "Adam et Associés SAS – Social"
    assert reports.deal_label("Alpha SAS", "Audit légal Alpha") == "Alpha SAS — Audit légal Alpha"
    assert reports.deal_label(None, "Audit") == "Audit" and reports.deal_label("Alpha SAS", None) == "Alpha SAS"


LONG_PROSPECT = "Société Anonyme des Établissements Industriels et Commerciaux du Grand Ouest Atlantique"
UNBROKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def long_texts(tmp_path_factory):
    """R1's report (HTML and, with Chromium, PDF) where the largest offers carry long texts."""
    tables = sample_firm()
    deals, docs = tables["deals"], tables["documents"]
    deals.loc[deals["id"] == "D1", ["name", "prospect_name"]] = [f"{LONG_PROSPECT} – Audit légal et contractuel", LONG_PROSPECT]
    deals.loc[deals["id"] == "D2", "prospect_name"] = UNBROKEN
    docs.loc[docs["id"] == "X1", "template"] = "Lettre de mission commissariat aux comptes six exercices, avec annexes"
    tables["org_units"].loc[tables["org_units"]["id"] == "R1", "name"] = "Île-de-France et Centre-Val-de-Loire"
    base = tmp_path_factory.mktemp("long-texts")
    url = f"sqlite:///{base / 'long.db'}"
    db.replace_all(db.make_engine(url), tables)
    formats = "html,pdf" if CHROMIUM else "html"
    proc = _cli(url, "report", "--as", "dir", "--unit", "R1", "--out", str(base / "out"), "--format", formats)
    assert proc.returncode == 0, proc.stderr
    return base / "out" / "2026"


def _pages_text(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    n = len(PdfReader(pdf).pages)
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, n + 1)]


@pytest.mark.browser
@pytest.mark.parametrize("which", ["sample", "long"])
def test_pdf_pages_are_numbered_and_the_first_holds_the_figures(by_region, long_texts, which):
    need_chromium()
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not found")
    pdf = by_region[1] / "R1-ile-de-france.pdf" if which == "sample" else next(long_texts.glob("R1-*.pdf"))
    pages = [re.sub(r"[\s\u202f\u00a0]+", " ", p) for p in _pages_text(pdf)]
    n = len(pages)
    assert n >= 3
    for i, text in enumerate(pages, start=1):
        assert re.search(rf"\b{i} ?/ ?{n}$", text.strip()), (i, text[-200:])  # "1 / 4" (pdftotext: "1/4")
    first = pages[0]
    # the headline figures and the indicator table on page 1: no half-empty cover page
    for text in ("Chiffres clés", "Budget signé", "18 500 €", "Indicateurs prospects sur l'exercice",
                 "Prospect sans document", "Prospect abandonné"):
        assert text in first, text


def _browser_page(width: int):
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM_ARGS

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=need_chromium_binary(), args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    return pw, browser, context.new_page()


def need_chromium_binary() -> str:
    from .browser import CHROMIUM as BROWSER
    from .browser import chromium_available

    if not chromium_available():
        message = "Debian's chromium not found: install it (make system-deps); it is never downloaded"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING BROWSER TESTS: " + message)
    return BROWSER


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1440])
def test_html_report_fits_a_phone_and_a_laptop_and_passes_axe(by_region, long_texts, width):
    from .browser import axe_report, axe_violations

    pw, browser, page = _browser_page(width)
    try:
        for path in (by_region[1] / "R1-ile-de-france.html", next(long_texts.glob("R1-*.html")),
                     by_region[1] / "index.html"):
            page.goto(path.resolve().as_uri())
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (path.name, scroll)
            # every table is readable: inside the page, or scrolling inside its own box
            wide = page.evaluate("""() => [...document.querySelectorAll('table')].filter(t => {
                const r = t.getBoundingClientRect(); const box = t.parentElement;
                return r.right > innerWidth + 1 && getComputedStyle(box).overflowX !== 'auto'; }).length""")
            assert wide == 0, path.name
            found = axe_violations(page)
            assert not found, f"{path.name}:\n{axe_report(found)}"
        page.screenshot(path=str(Path("test-artifacts").resolve() / f"report-{width}.png"), full_page=True)
    finally:
        browser.close()
        pw.stop()


@pytest.mark.browser
def test_top_offer_rows_are_one_line_when_printed(long_texts):
    pw, browser, page = _browser_page(794)  # A4's width at 96 dpi
    try:
        page.emulate_media(media="print")
        page.goto(next(long_texts.glob("R1-*.html")).resolve().as_uri())
        heights = page.evaluate("""() => [...document.querySelectorAll('table.pr-top tbody tr')]
                                      .map(r => r.getBoundingClientRect().height)""")
        line = page.evaluate("""() => parseFloat(getComputedStyle(document.querySelector('table.pr-top td')).lineHeight)
                                      || 1.35 * parseFloat(getComputedStyle(document.querySelector('table.pr-top td')).fontSize)""")
        assert heights and max(heights) < 1.9 * line, (heights, line)
        assert page.evaluate("document.documentElement.scrollWidth") <= 794
        cell = page.locator("table.pr-top td", has_text="Société Anonyme").first
        assert cell.get_attribute("title").startswith(LONG_PROSPECT)
    finally:
        browser.close()
        pw.stop()


# ---------------------------------------------------------------------------
# ids never become paths as they are (issue 20.9); who a file was rendered as (20.1)


def test_unit_file_names_are_plain_and_distinct_whatever_the_ids():
    units = [("R1", "Île-de-France"), ("r1", "Île-de-France"), ("../../x", "Évasion"), ("a/b", "Lille"), (".", "Point"),
             ("..", "Points"), ("A-B", "c"), ("A", "B-c"), ("x" * 200, "Long"), ("C\x00D", "Nul"), ("mes", "affaires")]
    stems = reports.unit_stems(units, reserved=["mes-affaires"])
    assert len({s.casefold() for s in stems.values()} | {"mes-affaires"}) == len(units) + 1
    for uid, stem in stems.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", stem) and len(stem.encode()) <= 120, (uid, stem)
    assert reports.unit_stems([("R1", "Île-de-France"), ("R2", "Hauts-de-France")]) == {
        "R1": "R1-ile-de-france", "R2": "R2-hauts-de-france"}  # plain ids stay readable
    assert stems["R1"] != "R1-ile-de-france"  # r1 beside it: both take the hash of their exact id
    assert reports.path_name("jean dupont") != reports.path_name("jean-dupont")
    assert reports.path_name("Part1").casefold() != reports.path_name("part1").casefold()


def test_a_batch_of_units_with_hostile_ids_writes_only_inside_its_folder(tmp_path, capsys):
    """Before: the id reached a temporary folder's name, the whole batch stopped with exit 2."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), with_unit_ids(sample_firm(), {"A2": "../../evil", "T2": "a/b"}))
    out = tmp_path / "work" / "deep" / "reports"
    code = cli.main(["--db", url, "--today", TODAY, "report", "--as", "dir", "--by", "agency", "--unit", "a/b",
                     "--format", "html", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    files = sorted(p.relative_to(tmp_path / "work").as_posix() for p in (tmp_path / "work").rglob("*") if p.is_file())
    [html_file] = [f for f in files if f.endswith(".html") and not f.endswith("index.html")]
    assert html_file.startswith("deep/reports/2026/") and "/" not in html_file.removeprefix("deep/reports/2026/")
    assert not html_file.removeprefix("deep/reports/2026/").startswith(".")
    record = json.loads((tmp_path / "work" / html_file.replace(".html", ".identity.json")).read_text("utf-8"))
    assert record["viewer"] == "dir" and record["unit"] == "a/b"
    path = tmp_path / "work" / html_file
    assert reports.rendered_bytes(path, viewer="dir", unit="a/b") == path.read_bytes()


def test_rendered_bytes_refuses_a_file_of_another_viewer_unit_or_content(tmp_path):
    page = tmp_path / "R1-ile-de-france.html"
    page.write_text("<p>rendu</p>", "utf-8")
    with pytest.raises(reports.NotRenderedAs, match="no record"):
        reports.rendered_bytes(page, viewer="part1", unit="R1")
    reports._record_identity(page, {"viewer": "part1", "unit": "R1"}, [page])
    assert reports.rendered_bytes(page, viewer="part1", unit="R1") == b"<p>rendu</p>"
    with pytest.raises(reports.NotRenderedAs, match="rendered as part1, not Part1"):
        reports.rendered_bytes(page, viewer="Part1", unit="R1")
    with pytest.raises(reports.NotRenderedAs, match="rendered for unit R1, not R2"):
        reports.rendered_bytes(page, viewer="part1", unit="R2")
    page.write_text("<p>rendu par un autre</p>", "utf-8")
    with pytest.raises(reports.NotRenderedAs, match="changed since it was rendered"):
        reports.rendered_bytes(page, viewer="part1", unit="R1")


# ---------------------------------------------------------------------------
# the firm's currency and the extract's date (issue 21, points 6 and 10)


@pytest.mark.parametrize(
    ("currency", "locale", "budget", "x1"),
    [
        ("EUR", "fr", f"18{NNBSP}500{NNBSP}€", f"14{NNBSP}500{NNBSP}€"),
        ("USD", "fr", f"18{NNBSP}500{NNBSP}$US", f"14{NNBSP}500{NNBSP}$US"),
        ("USD", "en", "$18,500", "$14,500"),
        ("CHF", "fr", f"18{NNBSP}500{NNBSP}CHF", f"14{NNBSP}500{NNBSP}CHF"),
        ("CHF", "en", "CHF\u00a018,500", "CHF\u00a014,500"),
        ("JPY", "en", "¥1,850,000", "¥1,450,000"),  # the _cents columns hold whole yen
    ],
)
def test_a_report_shows_its_amounts_in_the_firms_currency(sample_url, monkeypatch, currency, locale, budget, x1):
    monkeypatch.setenv("PROSPECTS_CURRENCY", currency)
    rep = reports.build("dir", "T1", today=TODAY, db_url=sample_url, locale=locale)
    cover, page = str(rep.cover()), "".join(str(s) for s in rep.sections())
    assert budget in cover  # the headline figures of the first page
    assert f'<td class="num">{budget}</td>' in page and x1 in str(rep.top_offers())
    symbol = i18n.currency_symbol(locale, currency)
    assert f"Total ({symbol})" in str(rep.top_offers())
    assert currency == "EUR" or "€" not in page


def _firm_db(folder: Path, export_date: str) -> str:
    url = f"sqlite:///{folder / 'exported.db'}"
    db.replace_all(db.make_engine(url), sample_firm(), info={"source": "import crm.toml", "export_date": export_date})
    return url


def test_the_cover_says_the_extracts_date_and_plainly_when_it_is_old(tmp_path):
    fresh = reports.build("dir", "T1", today=TODAY, db_url=_firm_db(tmp_path, "2026-11-28"))
    cover = str(fresh.cover())
    assert "<dt>Données extraites le</dt><dd>28/11/2026</dd>" in cover and "pr-stale" not in cover
    old_db = tmp_path / "old"
    old_db.mkdir()
    old = reports.build("dir", "T1", today=TODAY, db_url=_firm_db(old_db, "2026-11-20"), locale="en")
    cover = str(old.cover())
    assert "<dt>Data extracted on</dt><dd>2026-11-20</dd>" in cover
    assert ('<p class="pr-stale" role="note">⚠ Old data: extracted 9 days ago (data older than 3 days is flagged)</p>'
            in cover)


def test_the_rendered_cover_and_index_say_when_the_data_was_loaded(by_region, sample_url):
    from prospects.freshness import extract_moment

    info = db.read_extract_info(db.make_engine(sample_url))
    when = i18n.moment(extract_moment(info), "fr")  # no export date: the load time, local
    page = read(by_region[1] / "R1-ile-de-france.html")
    assert f"<dt>Données extraites le</dt><dd>{when}</dd>" in page
    assert f"Données extraites le {when}" in read(by_region[1] / "index.html")
