"""The figure store: written after every load, versioned, never torn, shared, read consistently."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
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
    # the demo (over the firm's own data: asked for): a new version replaces the old one
    assert main(["--db", url, "--today", TODAY, "demo", "--replace-firm-data"]) == 0
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
    assert store.inspect(settings, engine)[1] is None  # checksums, and row counts read from PostgreSQL, agree
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
    assert note == (f"the figure store in {store.store_folder(settings)} could not be written (No space left on device); "
                    "it will be built when the firm is next read")
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


@pytest.mark.parametrize("writer", ["store --rebuild", "a load's publication"])
def test_crash_while_writing_leaves_no_torn_version(writer, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = settings_for(url, tmp_path)
    engine = db.make_engine(url)
    first, _ = store.replace_content(engine, sample_firm(), settings=settings)
    folder = store.store_folder(settings)
    # a process writing a version is killed midway (after its first files)
    if writer == "store --rebuild":  # the same version again: the whole one stays until the new one replaces it
        write, stamp = f"store.rebuild(load_settings(db={url!r}), db.make_engine({url!r}))", first
    else:  # a version that a load has committed: the stale one is dropped first (room for the new one)
        write, stamp = f"store.publish(Path({str(folder)!r}), extract_b(), 'newversion')", "newversion"
    script = textwrap.dedent(f"""
        import os, sys, time
        from prospects import db, store
        from prospects.config import load_settings
        from tests.test_store import extract_b
        from pathlib import Path
        real = store._write_table
        calls = []
        def slow(path, table):
            entry = real(path, table)
            calls.append(path)
            if len(calls) == 3:
                print("writing", flush=True)
                time.sleep(60)
            return entry
        store._write_table = slow
        {write}
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PROSPECTS_STORE": str(tmp_path / "store")})
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.startswith(f"tmp-{stamp}") for p in folder.iterdir())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if writer == "store --rebuild":
        assert store.current_stamp(folder) == first and store.open_current(folder).stamp == first  # whole
    else:
        assert store.current_stamp(folder) is None and not (folder / f"v-{first}").exists()
        assert not (folder / "v-newversion").exists()  # never a torn version under its name
    assert director_figures(settings)["signed_offers"] == 4  # the database's figures (rebuilt if need be)
    # the next publication cleans the leftovers of the dead build
    store.replace_content(engine, extract_b(), settings=settings)
    assert not any(p.name.startswith("tmp-") for p in folder.iterdir())
    assert director_figures(settings)["signed_budget"]["total"] == 3 * 1_850_000 + 3 * 600_000


def test_store_command_checks_builds_and_repairs(tmp_path, capsys, caplog):
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
    err = capsys.readouterr().err
    assert "damaged" in err and "documents.arrow has 16 bytes" in err
    assert main(["--db", url, "store"]) == 0  # repairs it
    assert "damaged" in capsys.readouterr().err
    (folder / f"v-{version}" / "documents.arrow").write_bytes(b"not arrow at all")
    store._OPEN.clear()
    # a reader builds it again from the database, with a word (on stderr when nothing else handles the logs)
    with caplog.at_level("WARNING", logger="prospects.store"):
        code = main(["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["indicators"]["signed_offers"] == 4
    assert any("documents.arrow" in r.getMessage() for r in caplog.records)
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


# ---------------------------------------------------------------------------
# the CURRENT pointer: bounded, validated, always repaired by `store --rebuild`


def loaded(tmp_path: Path) -> tuple[str, Path]:
    """Cabinet Exemple loaded in a SQLite file with its store: the URL and the store folder."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    stamp, note = store.replace_content(db.make_engine(url), sample_firm(), settings=settings_for(url, tmp_path))
    assert note is None
    return url, tmp_path / "p.db.store"


def run_cli(args: list[str], *, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command line in a process of its own, its memory capped (a runaway read fails instead of eating the machine)."""
    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    return subprocess.run([sys.executable, "-m", "prospects.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=cap, env={**os.environ, **(env or {})})


def garbage_current(kind: str, folder: Path) -> None:
    current = folder / "CURRENT"
    current.unlink()
    if kind == "random bytes":
        current.write_bytes(bytes(range(256)) * 3)
    elif kind == "a directory":
        current.mkdir()
        (current / "inside").write_text("x")
    elif kind == "a symlink to /dev/zero":
        current.symlink_to("/dev/zero")
    elif kind == "a fifo":
        os.mkfifo(current)
    elif kind == "a symlink loop":
        current.symlink_to(current)
    elif kind == "a huge file":
        with open(current, "wb") as handle:
            handle.truncate(3 << 30)  # 3 GB of zeros (sparse)
    elif kind == "a path outside":
        current.write_text("../../../../etc\n")


GARBAGE = ["random bytes", "a directory", "a symlink to /dev/zero", "a fifo", "a symlink loop", "a huge file", "a path outside"]


#: Garbage that a careless read would block on or read without end: only ever read in a process of its own.
RUNAWAY = {"a symlink to /dev/zero", "a fifo", "a huge file"}


@pytest.mark.parametrize("kind", GARBAGE)
def test_a_garbage_current_pointer_is_never_followed_and_always_repaired(kind, tmp_path, capsys):
    url, folder = loaded(tmp_path)
    indicators = ["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"]
    assert main(indicators) == 0
    expected = json.loads(capsys.readouterr().out)["indicators"]

    def cli(args: list[str]) -> subprocess.CompletedProcess:
        if kind in RUNAWAY:
            return run_cli(args, timeout=60)
        code = main(args)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    # monitoring says what is wrong, in one line, and does not hang
    garbage_current(kind, folder)
    check = cli(["--db", url, "store", "--check"])
    assert check.returncode == 1, check.stderr
    assert len(check.stderr.strip().splitlines()) == 1 and "CURRENT" in check.stderr and str(folder) in check.stderr
    # a reader gets the right figures (the store rebuilt), quickly, and the pointer is a file again
    start = time.monotonic()
    reader = cli(indicators)
    assert reader.returncode == 0, reader.stderr
    assert json.loads(reader.stdout)["indicators"] == expected
    assert time.monotonic() - start < 30
    assert "Traceback" not in reader.stderr
    assert (folder / "CURRENT").is_file() and not (folder / "CURRENT").is_symlink()
    assert store.current_stamp(folder) == db.read_version(db.make_engine(url))
    # `store --rebuild` repairs it too
    garbage_current(kind, folder)
    rebuilt = cli(["--db", url, "store", "--rebuild"])
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert store.current_stamp(folder) == db.read_version(db.make_engine(url))
    assert main(["--db", url, "store", "--check"]) == 0


# ---------------------------------------------------------------------------
# a damaged store: never a wrong figure, never a crash


def arrow_value_offset(path: Path, column: str, row: int) -> int:
    """Byte offset, in an Arrow file of the store, of one value of a fixed-width column."""
    import pyarrow as pa

    data = pa.py_buffer(path.read_bytes())
    col = pa.ipc.open_file(pa.BufferReader(data)).read_all().column(column).chunk(0)
    values = col.buffers()[1]
    return values.address - data.address + (col.offset + row) * col.type.bit_width // 8


def write_in_place(path: Path, offset: int, data: bytes) -> None:
    """What an editor or a careless script does: the same file (inode), some bytes changed."""
    mode = path.stat().st_mode
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)
    os.chmod(path, mode)


def cli_run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_files_are_written_read_only_with_their_checksums_kept_beside_them(tmp_path):
    import hashlib

    url, folder = loaded(tmp_path)
    version = folder / f"v-{store.current_stamp(folder)}"
    meta = json.loads((version / "meta.json").read_text())
    arrow = sorted(p.name for p in version.glob("*.arrow"))
    assert sorted(meta["files"]) == arrow and len(arrow) == 9
    for name in arrow:
        path = version / name
        assert meta["files"][name]["bytes"] == path.stat().st_size
        assert meta["files"][name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert path.stat().st_mode & 0o222 == 0, f"{name} is writable"
    assert (version / "meta.json").stat().st_mode & 0o222 == 0
    assert meta["stamp"] == store.current_stamp(folder)


def test_bytes_changed_in_place_are_found_and_never_shown(tmp_path, capsys, caplog):
    url, folder = loaded(tmp_path)
    indicators = ["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"]
    code, out, _ = cli_run(indicators, capsys)
    expected = json.loads(out)["indicators"]
    # "Honoraires potentiels" + 1 M€: a document in progress, its recurring fees changed in the file
    snap = store.open_current(folder)
    status, recurring = snap.col("documents", "status"), snap.col("documents", "recurring")
    row = int(np.flatnonzero((status == store.DOC_STATUS["in_progress"]) & (recurring > 0))[0])
    path = snap.path / "documents.arrow"
    offset = arrow_value_offset(path, "recurring", row)
    changed = int(recurring[row]) + 100_000_000
    del snap, status, recurring
    store._OPEN.clear()
    write_in_place(path, offset, changed.to_bytes(8, "little", signed=True))
    # monitoring finds it
    code, out, err = cli_run(["--db", url, "store", "--check"], capsys)
    assert code == 1 and "up to date" not in out
    assert len(err.strip().splitlines()) == 1 and "documents.arrow" in err and "checksum" in err
    # a reader never shows it: the version is built again from the database, with a word
    with caplog.at_level("WARNING", logger="prospects.store"):
        code, out, err = cli_run(indicators, capsys)
    assert code == 0 and json.loads(out)["indicators"] == expected
    assert any("documents.arrow" in r.getMessage() and "checksum" in r.getMessage() for r in caplog.records)
    assert cli_run(["--db", url, "store", "--check"], capsys)[0] == 0


def test_an_open_firm_never_shows_bytes_changed_under_it(tmp_path, caplog):
    """A dashboard kernel maps the files: a change written into them shows through its mapping, unless it looks."""
    url, folder = loaded(tmp_path)
    firm = open_firm(settings=settings_for(url, tmp_path))
    me = firm.as_viewer("dir")
    expected = json.loads(json.dumps(dict(me.figures(unit="F").indicators)))
    snap = firm._snapshot()
    status, recurring = snap.col("documents", "status"), snap.col("documents", "recurring")
    row = int(np.flatnonzero((status == store.DOC_STATUS["in_progress"]) & (recurring > 0))[0])
    path = snap.path / "documents.arrow"
    changed = int(recurring[row]) + 100_000_000
    write_in_place(path, arrow_value_offset(path, "recurring", row), changed.to_bytes(8, "little", signed=True))
    assert int(recurring[row]) == changed  # the mapping shows the new bytes
    del snap, status, recurring
    with caplog.at_level("WARNING", logger="prospects.store"):
        assert json.loads(json.dumps(dict(me.figures(unit="F").indicators))) == expected
    assert any("documents.arrow" in r.getMessage() and "checksum" in r.getMessage() for r in caplog.records)
    assert firm._snapshot().path == path.parent and store.inspect(firm.settings, firm.engine)[1] is None
    firm.engine.dispose()


MAPPED_READER = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    from prospects import store
    from prospects.api import open_firm
    snap = open_firm(sys.argv[1], today="2026-11-29")._snapshot()  # kept: its files stay mapped

    def everything() -> str:  # every page of every file read: numbers and text
        digest = hashlib.sha256()
        for key in sorted(snap.cols):
            digest.update(np.ascontiguousarray(snap.cols[key]).tobytes())
        for table in (snap.deals, snap.documents, snap.lines):
            for name in table.schema.names:
                if not store.pa.types.is_integer(table.schema.field(name).type):
                    digest.update(repr(store.take_text(table, name, np.arange(table.num_rows)).tolist()).encode())
        return digest.hexdigest()

    print(everything(), flush=True)
    for line in sys.stdin:
        print(everything(), flush=True)
""")


def test_a_process_keeps_reading_what_it_mapped_whatever_is_written_after(tmp_path):
    """prospects never writes into a file once written: rebuilds, loads and repairs are new folders (no SIGBUS)."""
    url, folder = loaded(tmp_path)
    settings = settings_for(url, tmp_path)
    reader = subprocess.Popen([sys.executable, "-c", MAPPED_READER, url], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PROSPECTS_STORE": str(tmp_path / "store")})
    try:
        first = reader.stdout.readline().strip()
        assert len(first) == 64
        writes = [
            lambda: store.rebuild(settings, db.make_engine(url)),  # the same version, rebuilt
            lambda: store.replace_content(db.make_engine(url), extract_b(), settings=settings),  # a new extract
            lambda: shutil.rmtree(folder),  # the folder deleted by an administrator
            lambda: director_figures(settings),  # built again by a reader
        ]
        for write in writes:
            write()
            reader.stdin.write("again\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == first  # the same bytes, read whole
    finally:
        reader.stdin.close()
        code = reader.wait(timeout=60)
    assert code == 0, f"the reader ended with {code}"


def test_a_version_folder_from_another_database_is_never_read(tmp_path, capsys):
    import shutil

    url, folder = loaded(tmp_path)
    settings = settings_for(url, tmp_path)
    expected = director_figures(settings)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    store.replace_content(db.make_engine(other_url), extract_b(), settings=settings_for(other_url, tmp_path))
    other = tmp_path / "other.db.store"
    other_version = other / f"v-{store.current_stamp(other)}"
    mine = folder / f"v-{store.current_stamp(folder)}"
    shutil.rmtree(mine)
    shutil.copytree(other_version, mine)  # copied under the current stamp
    store._OPEN.clear()
    code, _, err = cli_run(["--db", url, "store", "--check"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "stamp" in err and str(mine) in err
    assert director_figures(settings) == expected
    assert cli_run(["--db", url, "store", "--check"], capsys)[0] == 0


def test_store_check_compares_the_row_counts_with_the_database(tmp_path, capsys):
    url, folder = loaded(tmp_path)
    engine = db.make_engine(url)
    code, out, _ = cli_run(["--db", url, "store", "--check"], capsys)
    assert code == 0 and "checksums" in out and "row counts" in out
    with engine.begin() as conn:  # written behind the loads' back: the stamp does not change
        conn.exec_driver_sql("DELETE FROM document_lines WHERE rowid = (SELECT max(rowid) FROM document_lines)")
    code, _, err = cli_run(["--db", url, "store", "--check"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "lines" in err and "15 in the database" in err and "16 in the store" in err
    code, out, err = cli_run(["--db", url, "store"], capsys)  # repairs it
    assert code == 0 and "16 lines" not in out and "15 lines" in out
    assert cli_run(["--db", url, "store", "--check"], capsys)[0] == 0


def forge(version: Path, name: str, table) -> None:
    """Replace one file and write a manifest that agrees with it: what the reader's own checks must catch."""
    import hashlib

    import pyarrow as pa

    path = version / name
    path.unlink()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    meta_path = version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["files"][name] = store._entry(path.stat(), hashlib.sha256(path.read_bytes()).hexdigest())
    meta_path.unlink()
    meta_path.write_text(json.dumps(store._sealed(meta)))


@pytest.mark.parametrize("forgery", ["a column of another type", "a dictionary index out of bounds", "rows missing",
                                     "a column missing"])
def test_a_reader_validates_the_structure_of_what_it_maps(forgery, tmp_path, caplog):
    import pyarrow as pa

    url, folder = loaded(tmp_path)
    settings = settings_for(url, tmp_path)
    expected = director_figures(settings)
    version = folder / f"v-{store.current_stamp(folder)}"
    snap = store.open_current(folder)
    if forgery == "a column of another type":
        name, table = "deals.arrow", snap.deals.set_column(snap.deals.schema.get_field_index("unit"), "unit",
                                                           pa.array(snap.col("deals", "unit").astype(np.int64)))
    elif forgery == "a dictionary index out of bounds":
        mission = snap.lines.column("mission").chunk(0)
        indices = np.asarray(mission.indices).copy()
        indices[0] = 1_000_000
        bad = pa.DictionaryArray.from_arrays(pa.array(indices), mission.dictionary, safe=False)
        name, table = "lines.arrow", snap.lines.set_column(snap.lines.schema.get_field_index("mission"), "mission", bad)
    elif forgery == "rows missing":
        name, table = "documents.arrow", snap.documents.slice(0, snap.n_documents - 1)
    else:
        name, table = "deals.arrow", snap.deals.drop_columns(["prospect_name"])
    del snap
    store._OPEN.clear()
    forge(version, name, table)
    with pytest.raises(store.StoreDamaged, match=name.replace(".", r"\.")):
        store.open_version(version)
    with caplog.at_level("WARNING", logger="prospects.store"):
        assert director_figures(settings) == expected  # built again
    assert any(name in r.getMessage() for r in caplog.records)


def test_opening_a_version_reads_no_file_whole_unless_it_changed(tmp_path, monkeypatch):
    url, folder = loaded(tmp_path)
    settings = settings_for(url, tmp_path)
    summed = []
    real = store._checksum
    monkeypatch.setattr(store, "_checksum", lambda path: summed.append(path.name) or real(path))
    store._OPEN.clear()
    expected = director_figures(settings)
    assert summed == []  # the files' identity (inode, size, times) is as written: no checksum read at open
    version = folder / f"v-{store.current_stamp(folder)}"
    os.utime(version / "groups.arrow")  # touched, not changed: its bytes are summed, then trusted
    store._OPEN.clear()
    assert director_figures(settings) == expected
    assert summed == ["groups.arrow"]


FUZZ_WORKER = textwrap.dedent("""
    import contextlib, gc, io, json, sys
    from prospects.cli import main
    for line in sys.stdin:
        out, err = io.StringIO(), io.StringIO()
        results = []
        for args in json.loads(line):
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(args)
            results.append({"code": code, "out": out.getvalue(), "err": err.getvalue()})
            out.seek(0); out.truncate(); err.seek(0); err.truncate()
            gc.collect()
        print(json.dumps(results), flush=True)
""")


class FuzzWorker:
    """One process that runs commands on demand: a signal or a hang ends it, and counts as a failure."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", FUZZ_WORKER], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, commands: list[list[str]], timeout: float = 60) -> list[dict] | str:
        import selectors

        self.proc.stdin.write(json.dumps(commands) + "\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.proc.kill()
                self.proc.wait()
                return f"no answer after {timeout} s"
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            err = self.proc.stderr.read()
            return f"died ({'signal ' + signal.Signals(-code).name if code < 0 else f'exit {code}'}): {err[-2000:]}"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def damage(path: Path, how: str, rng) -> None:
    """Change a file of the store in place (same inode), as a tool writing into it would."""
    data = bytearray(path.read_bytes())
    n = len(data)
    if how == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif how == "truncate":
        del data[rng.randrange(n):]
    elif how == "overwrite":
        at = rng.randrange(n)
        size = min(rng.randint(1, 256), n - at)
        data[at:at + size] = rng.randbytes(size)
    elif how == "zeros":
        at = rng.randrange(n)
        size = min(rng.randint(8, 4096), n - at)
        data[at:at + size] = bytes(size)
    elif how == "append":
        data += rng.randbytes(rng.randint(1, 512))
    mode = path.stat().st_mode
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:
        handle.write(data)
        handle.truncate(len(data))
    os.chmod(path, mode)


STORE_FILES = ["deals.arrow", "documents.arrow", "lines.arrow", "org_units.arrow", "entities.arrow",
               "collaborators.arrow", "groups.arrow", "group_units.arrow", "group_members.arrow", "meta.json"]
DAMAGES = ["flip", "truncate", "overwrite", "zeros", "append"]


@pytest.fixture
def memory_path(tmp_path):
    """A temporary folder in memory when the machine has one (syncing files there costs nothing)."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="prospects-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_damaged_store_gives_the_right_figures_or_one_line_never_a_crash(memory_path):
    """Every file, every kind of damage (two seeds for the big files and the manifest), each met by a figure or a
    drill-down command in a process of its own: a signal, a hang or a traceback is a failure."""
    import random

    url, folder = loaded(memory_path)
    stamp = db.read_version(db.make_engine(url))
    frames = sample_firm()
    common = ["--db", url, "--today", TODAY]
    commands = {
        "figures": [*common, "indicators", "--user", "dir", "--unit", "F", "--json"],
        "drill-down": [*common, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget",
                       "--by", "document", "--format", "json"],
        "a manager's drill-down": [*common, "drilldown", "--user", "man1", "--indicator", "offers_in_progress",
                                   "--format", "json"],
    }
    worker = FuzzWorker()
    try:
        expected = worker.run(list(commands.values()))
        assert isinstance(expected, list) and all(r["code"] == 0 for r in expected), expected
        assert json.loads(expected[1]["out"])["rows"] and json.loads(expected[2]["out"])["rows"]
        failures, outcomes = [], {"rebuilt": 0, "one line": 0}
        big = ("deals.arrow", "documents.arrow", "lines.arrow", "meta.json")
        cases = [(name, how, seed) for name in STORE_FILES for how in DAMAGES for seed in range(2 if name in big else 1)]
        for i, (name, how, seed) in enumerate(cases):
            rng = random.Random(f"{name}-{how}-{seed}")
            order = [list(commands)[i % 3]]  # each command meets the damage in turn
            # a fresh version (new files, as a load writes them), then the damage
            store.write_version(folder, frames, stamp, replace=True)
            store._set_current(folder, stamp)
            damage(folder / f"v-{stamp}" / name, how, rng)
            results = worker.run([commands[c] for c in order])
            if isinstance(results, str):
                failures.append(f"{name} {how} seed {seed}: {results}")
                worker = FuzzWorker()
                continue
            for command, result in zip(order, results, strict=True):
                right = result["out"] == expected[list(commands).index(command)]["out"]
                lines = [line for line in result["err"].splitlines() if line.strip()]
                if result["code"] == 0 and right and "Traceback" not in result["err"]:
                    outcomes["rebuilt"] += 1
                elif result["code"] == 2 and len(lines) == 1 and lines[0].startswith("prospects: ") and str(folder) in lines[0]:
                    outcomes["one line"] += 1
                else:
                    failures.append(f"{name} {how} seed {seed}, {command}: exit {result['code']}, "
                                    f"{'right' if right else 'WRONG'} output, stderr {result['err'][-600:]!r}")
        assert failures == [], f"{len(failures)} of {len(cases)} runs:\n" + "\n".join(failures)
        assert outcomes["rebuilt"] + outcomes["one line"] == len(cases) == 70
    finally:
        worker.close()
    assert store.open_current(folder).stamp == stamp  # the store of the database's version is whole again


# ---------------------------------------------------------------------------
# a full disk: stale versions go first, every error names the folder


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


class Quota:
    """The store's files written against a quota on the folder: what a small disk does (ENOSPC)."""

    def __init__(self, folder: Path, limit: int | None = None) -> None:
        self.folder, self.limit = folder, limit

    def create(self, real):
        quota = self

        class Handle:
            def __init__(self, path: Path) -> None:
                self.raw = real(path)

            def write(self, data) -> int:
                if quota.limit is not None and folder_bytes(quota.folder) + len(data) > quota.limit:
                    import errno

                    raise OSError(errno.ENOSPC, "No space left on device")
                return self.raw.write(data)

            def __getattr__(self, name):
                return getattr(self.raw, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                self.raw.close()

        return Handle


def full_disk_scenario(url: str, folder: Path, settings, set_limit, measure, capsys) -> None:
    """Load A; then B with room for half a version more; then C, bigger than the room left once B is gone.

    ``set_limit(n)``: the folder may hold ``n`` bytes in all (None: no limit); ``measure(path)``: bytes used under path.
    """
    from prospects import demo

    engine = db.make_engine(url)
    first, note = store.replace_content(engine, sample_firm(), settings=settings)
    assert note is None
    one = measure(folder / f"v-{first}")
    # room for half a version more: the stale version goes before the new one is written
    set_limit(measure(folder) + one // 2)
    second, note = store.replace_content(engine, extract_b(), settings=settings)
    assert note is None, note
    assert store.current_stamp(folder) == second and [p.name for p in folder.iterdir() if p.is_dir()] == [f"v-{second}"]
    assert director_figures(settings)["signed_budget"]["total"] == 3 * 1_850_000 + 3 * 600_000
    # a bigger extract (a small demo firm: its store is over ten times Cabinet Exemple's) does not fit:
    # the load says so, naming the folder, and leaves no stale version behind
    set_limit(measure(folder) + one // 2)
    bigger = demo.generate("small", 7, today=dt.date.fromisoformat(TODAY))
    third, note = store.replace_content(engine, bigger, settings=settings, allow_shrink=True)
    assert note is not None and str(folder) in note and "No space left on device" in note
    assert [p.name for p in folder.iterdir() if p.is_dir()] == [] and store.current_stamp(folder) is None
    # every reader says so in one line naming the folder, never a bare "No space left on device"
    code = main(["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(folder) in err and "No space left on device" in err
    assert main(["--db", url, "store", "--rebuild"]) == 2
    err = capsys.readouterr().err
    assert str(folder) in err.splitlines()[-1] and "No space left on device" in err.splitlines()[-1]
    assert [p.name for p in folder.iterdir() if p.is_dir()] == []  # nothing half-written left behind
    # room again: the next reader builds it, as promised
    set_limit(None)
    firm = open_firm(settings=settings)
    assert firm._snapshot().stamp == third == store.current_stamp(folder)
    assert firm._snapshot().n_documents == len(store.build_tables(bigger)[1]["documents"])
    firm.engine.dispose()


def test_a_full_disk_drops_stale_versions_first_and_every_error_names_the_folder(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    folder = tmp_path / "p.db.store"
    quota = Quota(folder)
    monkeypatch.setattr(store, "_create", quota.create(store._create))
    full_disk_scenario(url, folder, settings_for(url, tmp_path), lambda limit: setattr(quota, "limit", limit),
                       folder_bytes, capsys)


def test_a_full_tmpfs_drops_stale_versions_first_and_every_error_names_the_folder(tmp_path, capsys):
    """The same on a real small file system: a tmpfs mounted on the store folder (when this process may mount)."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    folder = tmp_path / "p.db.store"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the simulated full disk covers it")
    ballast = folder / ".ballast"  # what else fills the disk

    def measure(path: Path) -> int:
        return sum(p.lstat().st_blocks * 512 for p in [path, *path.rglob("*")] if p != ballast)

    def set_limit(limit: int | None) -> None:
        ballast.unlink(missing_ok=True)
        if limit is not None:
            disk = os.statvfs(folder)
            fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, disk.f_blocks * disk.f_frsize - limit)
            finally:
                os.close(fd)

    try:
        full_disk_scenario(url, folder, settings_for(url, tmp_path), set_limit, measure, capsys)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


# ---------------------------------------------------------------------------
# a load stopped while it holds the store's lock: bounded waits, one line

STOPPED_LOAD = textwrap.dedent("""
    import os, signal, sys
    from prospects import db, store
    from prospects.config import load_settings
    from tests.test_store import extract_b
    url, when = sys.argv[1], sys.argv[2]
    real = db.replace_all
    def paused(*args, **kwargs):
        if when == "before its commit":
            print("stopping", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        stamp = real(*args, **kwargs)
        if when == "after its commit":
            print("stopping", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        return stamp
    db.replace_all = paused
    stamp, note = store.replace_content(db.make_engine(url), extract_b(), settings=load_settings(db=url))
    print("published" if note is None else note, flush=True)
""")


def in_thread(call, timeout: float):
    """``call()`` in a daemon thread: its result, or ``TimeoutError`` (the thread left waiting) after ``timeout``."""
    import threading

    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"still waiting after {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.parametrize("when", ["after its commit", "before its commit"])
def test_a_stopped_load_never_blocks_readers_without_end(when, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    env = {"PROSPECTS_STORE": str(tmp_path / "store"), "PROSPECTS_STORE_WAIT": "3"}
    settings = load_settings(db=url, today=TODAY, environ=env)
    assert settings.store_wait_seconds == 3
    store.replace_content(db.make_engine(url), sample_firm(), settings=settings)
    fig_a = director_figures(settings)
    firm = open_firm(settings=settings)  # a dashboard kernel, open before the load
    me = firm.as_viewer("dir")
    indicators = ["--db", url, "--today", TODAY, "indicators", "--user", "dir", "--unit", "F", "--json"]
    loader = subprocess.Popen([sys.executable, "-c", STOPPED_LOAD, url, when], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, **env})
    try:
        assert loader.stdout.readline().strip() == "stopping"
        deadline = time.monotonic() + 30
        while Path(f"/proc/{loader.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        if when == "before its commit":
            # the database still holds A: A is current for every reader, served at once without waiting
            start = time.monotonic()
            assert json.loads(json.dumps(dict(in_thread(lambda: me.figures(unit="F").indicators, 20)))) == fig_a
            reader = run_cli(indicators, timeout=60, env=env)
            assert reader.returncode == 0 and time.monotonic() - start < 20
        else:
            # the database holds B, whose store is not written: never A's figures as B's; a bounded wait, one line
            start = time.monotonic()
            with pytest.raises(store.StoreError) as refused:
                in_thread(lambda: me.figures(unit="F"), 30)
            waited = time.monotonic() - start
            assert 3 <= waited < 20
            message = str(refused.value)
            assert str(store.store_folder(settings)) in message and str(loader.pid) in message and "stopped" in message
            start = time.monotonic()  # asked again: it already waited for that process, it says so at once
            with pytest.raises(store.StoreError):
                in_thread(lambda: me.figures(unit="F"), 30)
            assert time.monotonic() - start < 2
            start = time.monotonic()
            reader = run_cli(indicators, timeout=60, env=env)
            assert reader.returncode == 2 and time.monotonic() - start < 30
            lines = reader.stderr.strip().splitlines()
            assert "Traceback" not in reader.stderr and len(lines) <= 2, reader.stderr  # a word while waiting, then one line
            assert lines[-1].startswith("prospects: ") and str(loader.pid) in lines[-1] and "stopped" in lines[-1]
        # resumed: the load publishes B, and every reader follows
        os.kill(loader.pid, signal.SIGCONT)
        assert loader.stdout.readline().strip() == "published"
        assert loader.wait(timeout=60) == 0
        after = in_thread(lambda: me.figures(unit="F").indicators, 30)
        assert after["signed_budget"]["total"] == 3 * 1_850_000 + 3 * 600_000
        reader = run_cli(indicators, timeout=60, env=env)
        assert reader.returncode == 0
    finally:
        if loader.poll() is None:
            os.kill(loader.pid, signal.SIGKILL)
            loader.wait()
        firm.engine.dispose()


def test_the_wait_for_another_process_is_a_setting(tmp_path):
    from prospects.config import ConfigError

    assert load_settings(db="sqlite:///x.db", environ={}).store_wait_seconds == 120
    assert load_settings(db="sqlite:///x.db", environ={"PROSPECTS_STORE_WAIT": "7.5"}).store_wait_seconds == 7.5
    config = tmp_path / "prospects.toml"
    config.write_text("store_wait_seconds = 30\n")
    assert load_settings(db="sqlite:///x.db", config=config, environ={}).store_wait_seconds == 30
    for bad in ("soon", "-1", "1e9"):
        with pytest.raises(ConfigError, match="store_wait_seconds"):
            load_settings(db="sqlite:///x.db", environ={"PROSPECTS_STORE_WAIT": bad})


def test_a_lock_that_is_a_folder_is_named(capsys, tmp_path):
    """Issue 20, point 18: the message names the lock, not only the store's folder."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    folder = tmp_path / "firm.db.store"
    (folder / ".lock").mkdir(parents=True)
    code = main(["--db", url, "store", "--rebuild"])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines()[-1] == f"prospects: cannot write the figure store in {folder}: {folder / '.lock'}: Is a directory"
