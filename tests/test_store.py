"""The figure store: written after every load, versioned, never torn, shared, read consistently."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from prospects import db, store
from prospects.api import open_firm
from prospects.cli import main
from prospects.config import load_settings
from prospects.sample import sample_firm

from .reconcile import assert_reconciles

TODAY = "2026-11-29"
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EXTRACT = Path(__file__).parent / "data" / "sample_extract"


def extract_b() -> dict:
    """Cabinet Exemple, another month: fees tripled and D12 no longer confidential."""
    frames = {name: frame.copy() for name, frame in sample_firm().items()}
    frames["document_lines"]["amount_cents"] = frames["document_lines"]["amount_cents"] * 3
    frames["deals"].loc[frames["deals"]["id"] == "D12", "group_id"] = None
    return frames


def settings_for(url: str, tmp_path: Path):
    return load_settings(db=url, today=TODAY, environ={"PROSPECTS_STORE": str(tmp_path / "store")})


def director_figures(settings) -> dict:
    firm = open_firm(settings=settings)
    try:
        return json.loads(json.dumps(dict(firm.as_viewer("dir").figures(unit="F").indicators)))
    finally:
        firm.engine.dispose()


# ---------------------------------------------------------------------------
# written by every load


def test_load_import_and_demo_publish_the_store_of_what_they_committed(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    folder = tmp_path / "p.db.store"
    assert main(["--db", url, "--today", TODAY, "load", str(tmp_path / "x")]) == 2  # no extract: nothing written
    assert not folder.exists()
    extract = tmp_path / "extract"
    import shutil

    shutil.copytree(SAMPLE_EXTRACT, extract)
    assert main(["--db", url, "--today", TODAY, "load", str(extract)]) == 0
    version = db.read_version(db.make_engine(url))
    assert store.current_stamp(folder) == version
    assert [p.name for p in folder.iterdir() if p.is_dir()] == [f"v-{version}"]
    snap = store.open_current(folder)
    assert snap.meta["counts"]["documents"] == 13 and snap.meta["counts"]["deals"] == 9  # prospect deals only
    assert snap.meta["source"]["source"] == str(extract.resolve())
    from prospects.api import open_firm as _open

    info = _open(url, today=TODAY).extract_info  # what reports print: the database's own record
    assert info == db.read_extract_info(db.make_engine(url)) and info["loaded_at"] and info["version"] == version
    # the demo: a new version replaces the old one
    assert main(["--db", url, "--today", TODAY, "demo"]) == 0
    second = db.read_version(db.make_engine(url))
    assert second != version and store.current_stamp(folder) == second
    assert [p.name for p in folder.iterdir() if p.is_dir()] == [f"v-{second}"]
    capsys.readouterr()
    # `prospects store` finds it up to date
    assert main(["--db", url, "store", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.postgres
def test_postgresql_store_lives_in_the_configured_folder(pg_url, tmp_path):
    settings = settings_for(pg_url, tmp_path)
    engine = db.make_engine(pg_url)
    stamp, note = store.replace_content(engine, sample_firm(), {"source": "test"}, settings=settings)
    assert note is None
    folder = store.store_folder(settings)
    assert folder.parent == tmp_path / "store" and store.current_stamp(folder) == stamp
    firm = open_firm(settings=settings)
    assert firm.as_viewer("dir").figures(unit="F").indicators["signed_offers"] == 4
    # the same figures as SQLite
    lite = f"sqlite:///{tmp_path / 'lite.db'}"
    store.replace_content(db.make_engine(lite), sample_firm(), settings=settings_for(lite, tmp_path))
    assert director_figures(settings) == director_figures(settings_for(lite, tmp_path))


# ---------------------------------------------------------------------------
# versions


def test_a_store_of_another_version_is_never_read(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = settings_for(url, tmp_path)
    engine = db.make_engine(url)
    store.replace_content(engine, sample_firm(), settings=settings)
    expected = director_figures(settings)
    folder = store.store_folder(settings)
    # a store built from other rows, claiming to be current: its stamp is not the database's
    other = folder / "v-someotherversion"
    store.write_version(folder, extract_b(), "someotherversion")
    (folder / "CURRENT").write_text("someotherversion\n")
    assert other.is_dir()
    assert director_figures(settings) == expected  # rebuilt from the database, not read
    assert store.current_stamp(folder) == db.read_version(engine)
    # a missing store is built at the first opening
    import shutil

    shutil.rmtree(folder)
    assert director_figures(settings) == expected
    # a database loaded by a version without stamps gets one from its load time
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM extract_info WHERE key = 'version'")
    assert db.read_version(engine).startswith("loaded-")
    assert director_figures(settings) == expected


def test_an_open_firm_never_reads_a_store_of_another_version_than_the_database(tmp_path, monkeypatch, caplog):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = settings_for(url, tmp_path)
    engine = db.make_engine(url)
    store.replace_content(engine, sample_firm(), settings=settings)
    firm = open_firm(settings=settings)  # a long-lived process: a dashboard kernel, a notebook
    me = firm.as_viewer("dir")
    assert me.figures(unit="F").indicators["signed_offers"] == 4
    # a load whose database commit succeeded but whose store could not be written
    real = store._publish_locked
    monkeypatch.setattr(store, "_publish_locked", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    stamp, note = store.replace_content(engine, extract_b(), settings=settings)
    assert note == "the figure store could not be written (No space left on device); it will be built when the firm is next read"
    assert store.current_stamp(store.store_folder(settings)) != stamp  # the old store is still CURRENT
    monkeypatch.setattr(store, "_publish_locked", real)
    # the open firm's next figures are the new extract's (its store built from the database), never the old store's
    after = me.figures(unit="F").indicators
    assert after["signed_budget"]["total"] == 3 * 1_850_000 + 3 * 600_000
    assert firm._snapshot().stamp == stamp == store.current_stamp(store.store_folder(settings))
    # the database out of reach: the version already open keeps serving (a whole extract), with a warning
    (tmp_path / "p.db").rename(tmp_path / "away.db")
    with caplog.at_level("WARNING", logger="prospects.api"):
        assert me.figures(unit="F").indicators == after
        assert me.figures(unit="F").indicators == after
    warnings = [r.getMessage() for r in caplog.records if r.name == "prospects.api"]
    assert len(warnings) == 1 and "cannot read the database's version" in warnings[0] and "no database at" in warnings[0]
    (tmp_path / "away.db").rename(tmp_path / "p.db")
    firm.engine.dispose()


def test_crash_while_writing_leaves_the_previous_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = settings_for(url, tmp_path)
    engine = db.make_engine(url)
    first, _ = store.replace_content(engine, sample_firm(), settings=settings)
    folder = store.store_folder(settings)
    # a process writing a new version is killed midway (after its first files)
    script = textwrap.dedent(f"""
        import os, sys, time
        from prospects import store
        from tests.test_store import extract_b
        from pathlib import Path
        real = store._write_table
        calls = []
        def slow(path, table):
            real(path, table)
            calls.append(path)
            if len(calls) == 3:
                print("writing", flush=True)
                time.sleep(60)
        store._write_table = slow
        store.publish(Path({str(folder)!r}), extract_b(), "newversion")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.startswith("tmp-newversion") for p in folder.iterdir())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert store.current_stamp(folder) == first  # the previous store, whole
    assert not (folder / "v-newversion").exists()
    assert director_figures(settings)["signed_offers"] == 4
    # the next publication cleans the leftovers of the dead build
    store.replace_content(engine, extract_b(), settings=settings)
    assert not any(p.name.startswith("tmp-") for p in folder.iterdir())
    assert director_figures(settings)["signed_budget"]["total"] == 3 * 1_850_000 + 3 * 600_000


def test_store_command_checks_builds_and_repairs(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = db.make_engine(url)
    db.replace_all(engine, sample_firm())  # written without its store (an older version did this)
    assert main(["--db", url, "store", "--check"]) == 1
    assert "missing" in capsys.readouterr().err
    assert main(["--db", url, "store"]) == 0
    out = capsys.readouterr().out
    assert "11 prospect deals, 13 documents, 16 lines" in out  # D5 (a client deal) and X7 are not in it
    assert main(["--db", url, "store", "--check"]) == 0
    capsys.readouterr()
    folder = tmp_path / "p.db.store"
    version = store.current_stamp(folder)
    (folder / f"v-{version}" / "documents.arrow").write_bytes(b"not arrow at all")
    store._OPEN.clear()
    assert main(["--db", url, "store", "--check"]) == 1
    assert "unreadable" in capsys.readouterr().err
    # a reader stops with one line saying what to do
    code = main(["--db", url, "--today", TODAY, "indicators", "--user", "dir"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "prospects store --rebuild" in err
    assert main(["--db", url, "store"]) == 0  # repairs it
    assert "unreadable" in capsys.readouterr().err
    assert main(["--db", url, "store", "--rebuild"]) == 0  # and rebuilds on demand
    capsys.readouterr()
    assert main(["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["indicators"]["signed_offers"] == 4


def test_two_processes_opening_a_stale_firm_build_it_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    db.replace_all(db.make_engine(url), sample_firm())  # no store yet
    code = (
        "import json, sys; from prospects.api import open_firm; "
        f"f = open_firm({url!r}, today={TODAY!r}); "
        "print(json.dumps([f._snapshot().stamp, f.as_viewer('dir').figures(unit='F').indicators['signed_offers']]))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({tuple(o) for o in outs}) == 1 and outs[0][1] == 4
    folder = tmp_path / "p.db.store"
    assert [p.name for p in folder.iterdir() if p.is_dir()] == [f"v-{outs[0][0]}"]


# ---------------------------------------------------------------------------
# shared, not copied


def test_columns_are_mapped_read_only_and_a_wide_viewer_copies_nothing(sample_url, monkeypatch):
    import prospects.dataset as dataset

    firm = open_firm(sample_url, today=TODAY)
    snap = firm._snapshot()
    decided = snap.col("documents", "decided")
    assert not decided.flags.writeable and not decided.flags.owndata
    ds = firm.as_viewer("dir")._rows()  # the whole firm: the store's own columns
    assert np.shares_memory(ds.doc_decided, decided) and np.shares_memory(ds.deal_unit, snap.col("deals", "unit"))
    assert firm.as_viewer("man2")._rows().n_deals == 1  # one deal: a range of one
    # a sparse perimeter is gathered (copied): the same figures either way
    in_place = {login: firm.as_viewer(login) for login in ("dir", "man2", "part1", "part2")}
    monkeypatch.setattr(dataset, "DENSE_ENOUGH", 1.01)
    gathered = {login: open_firm(sample_url, today=TODAY).as_viewer(login) for login in in_place}
    assert not np.shares_memory(gathered["dir"]._rows().doc_decided, decided)
    for login, view in in_place.items():
        period = view.period()
        for unit in [None, *sorted(view.viewer.perimeter)]:
            assert view.figures(unit=unit).indicators == gathered[login].figures(unit=unit).indicators
            assert_reconciles(gathered[login]._rows(), gathered[login]._mask(None, unit), period)
            assert_reconciles(view._rows(), view._mask(None, unit), period)


# ---------------------------------------------------------------------------
# readers while loads happen: one extract or the other, never a mix

READER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from prospects.api import open_firm
    from prospects.config import load_settings
    url, stop = sys.argv[1], Path(sys.argv[2])
    settings = load_settings(db=url, today="2026-11-29")
    live = open_firm(settings=settings)
    me = live.as_viewer("dir")
    print("ready", flush=True)
    i = 0
    while not stop.exists():
        i += 1
        if i % 4 == 0:  # a page opened now: a fresh firm
            firm = open_firm(settings=settings)
            figs = firm.as_viewer("dir").figures(unit="F")
            firm.engine.dispose()
            mode = "fresh"
        else:  # an open page: the firm opened before the loads
            figs = me.figures(unit="F")
            mode = "live"
        print(json.dumps({"mode": mode, "fig": dict(figs.indicators)}), flush=True)
        time.sleep(0.01)
""")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_readers_see_one_extract_or_the_other_while_loads_happen(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'p.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    settings = settings_for(url, tmp_path)
    engine = db.make_engine(url)
    store.replace_content(engine, sample_firm(), settings=settings)
    fig_a = director_figures(settings)
    store.replace_content(engine, extract_b(), settings=settings)
    fig_b = director_figures(settings)
    assert fig_a != fig_b
    store.replace_content(engine, sample_firm(), settings=settings)
    stop = tmp_path / "stop"
    env = {**os.environ, "PROSPECTS_STORE": str(tmp_path / "store")}
    reader = subprocess.Popen([sys.executable, "-c", READER, url, str(stop)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert reader.stdout.readline().strip() == "ready"
        for frames in (extract_b(), sample_firm(), extract_b()):  # ends on B
            store.replace_content(engine, frames, settings=settings)
            time.sleep(0.4)
        time.sleep(1.0)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    reads = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    figs = [json.loads(json.dumps(r["fig"])) for r in reads]
    assert len(reads) > 20
    mixed = [f for f in figs if f not in (fig_a, fig_b)]
    assert mixed == [], f"{len(mixed)} of {len(figs)} reads matched neither extract"
    live = [json.loads(json.dumps(r["fig"])) for r in reads if r["mode"] == "live"]
    assert fig_a in live and fig_b in live  # the open firm followed the loads
    assert live[-1] == fig_b  # and ends on the last one


# ---------------------------------------------------------------------------
# a dashboard alive while a second extract is loaded


@pytest.mark.browser
def test_the_next_page_of_a_running_dashboard_shows_the_new_extract(tmp_path):
    from .browser import (
        Serve,
        cells,
        chromium_available,
        expected_cells,
        launch_chromium,
        open_dashboard,
    )
    from .conftest import IN_CI

    if not chromium_available():
        if IN_CI:
            pytest.fail("Debian's chromium not found")
        pytest.skip("SKIPPING BROWSER TEST: Debian's chromium not found")
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'p.db'}"
    store.replace_content(db.make_engine(url), sample_firm(), settings=load_settings(db=url, today=TODAY))
    before = expected_cells(url, "part1")
    server = Serve(url, tmp_path / "serve.log", "--auth", "local", "--user", "part1", today=TODAY).start().wait()
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page()
            open_dashboard(page, server.url)
            assert cells(page) == before
            # a second extract, loaded by the command line while the server runs
            b = extract_b()
            b["document_lines"]["amount_cents"] = b["document_lines"]["amount_cents"] * 2
            store.replace_content(db.make_engine(url), b, settings=load_settings(db=url, today=TODAY))
            after = expected_cells(url, "part1")
            assert after != before
            fresh = browser.new_page()
            open_dashboard(fresh, server.url)
            assert cells(fresh) == after
            browser.close()
    finally:
        server.stop(keep_log_as="serve-store-reload.log")


def test_a_lock_that_is_a_folder_is_named(capsys, tmp_path):
    """Issue 20, point 18: the message names the lock, not only the store's folder."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    folder = tmp_path / "firm.db.store"
    (folder / ".lock").mkdir(parents=True)
    code = main(["--db", url, "store", "--rebuild"])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines()[-1] == f"prospects: cannot write the figure store in {folder}: {folder / '.lock'}: Is a directory"
