"""The nightly import (prospects.importing.drop): `prospects import --from-folder DIR` takes
the newest complete export of a drop folder, never a file still being written, keeps the
last N, and does nothing (exit 0, one line) when nothing new arrived; the systemd units
of deploy/ run it every night."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prospects import cli, db

from .conftest import IN_CI
from .importing_cases import HEADER, ROWS, run, setup

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def export_text(rows) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def drop(folder: Path, name: str, rows, *, age: float = 600.0, text: str | None = None) -> Path:
    """An export of ``rows`` arriving in the drop folder, last modified ``age`` seconds ago."""
    path = folder / name
    path.write_text(text if text is not None else export_text(rows), "utf-8")
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def deals(url: str) -> list[str]:
    return sorted(db.read_all(db.make_engine(url))["deals"]["id"])


@pytest.fixture
def nightly(tmp_path):
    """A mapping (its own opps.csv aside) and an empty drop folder."""
    (tmp_path / "conf").mkdir()
    mapping = setup(tmp_path / "conf")
    folder = tmp_path / "drop"
    folder.mkdir()
    return mapping, folder


def test_the_newest_complete_export_is_imported_never_one_still_being_written(capsys, sqlite_url, nightly):
    mapping, folder = nightly
    args = ("--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    drop(folder, "opps_2026-12-02.csv", ROWS[:2])
    full = export_text(ROWS)
    drop(folder, "opps_2026-12-03.csv", None, age=0, text=full[: len(full) // 2])  # the CRM is writing it
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out.splitlines()[0].startswith("prospects import: opps_2026-12-02.csv from ")
    assert re.search(r"still being written: opps_2026-12-03\.csv \(modified \d+ s ago; complete once unchanged for 120 s\)$", out.splitlines()[0])
    assert deals(sqlite_url) == ["D1", "D2"]
    assert (folder / "imported" / "opps_2026-12-02.csv").exists() and (folder / "opps_2026-12-03.csv").exists()
    assert f"opps_2026-12-02.csv moved to {folder / 'imported'} (the last 7 kept)" in out

    # the next run: nothing new (the second export is still being written) — one line, the database untouched
    stamp = db.read_extract_info(db.make_engine(sqlite_url))["loaded_at"]
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    assert len(out.splitlines()) == 1
    assert re.fullmatch(re.escape(f"prospects import: nothing new in {folder} (last imported: opps_2026-12-02.csv); ")
                        + r"still being written: opps_2026-12-03\.csv \(modified \d+ s ago; complete once unchanged for 120 s\)\n", out)
    assert db.read_extract_info(db.make_engine(sqlite_url))["loaded_at"] == stamp

    # written to the end, and left alone long enough: taken
    drop(folder, "opps_2026-12-03.csv", ROWS, age=300)
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert deals(sqlite_url) == ["D1", "D2", "D3", "D4", "D5"]
    assert sorted(p.name for p in (folder / "imported").iterdir()) == ["opps_2026-12-02.csv", "opps_2026-12-03.csv"]
    code, out, err = run(capsys, *args)
    assert (code, out.count("\n")) == (0, 1) and "nothing new" in out and "last imported: opps_2026-12-03.csv" in out

    # the last N are kept
    drop(folder, "opps_2026-12-04.csv", ROWS[:3], age=200)
    code, out, err = run(capsys, *args, "--keep", "1")
    assert code == 0, err
    assert [p.name for p in (folder / "imported").iterdir()] == ["opps_2026-12-04.csv"]


def test_older_complete_exports_are_set_aside_not_imported_later(capsys, sqlite_url, nightly):
    mapping, folder = nightly
    drop(folder, "opps_2026-12-01.csv", ROWS[:1], age=3000)
    drop(folder, "opps_2026-12-02.csv", ROWS[:2], age=2000)
    drop(folder, "opps_2026-12-03.csv", ROWS[:3], age=1000)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 0, err
    assert deals(sqlite_url) == ["D1", "D2", "D3"]
    assert sorted(p.name for p in (folder / "skipped").iterdir()) == ["opps_2026-12-01.csv", "opps_2026-12-02.csv"]
    assert "opps_2026-12-01.csv is older than opps_2026-12-03.csv: not imported, moved to" in out
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 0 and "nothing new" in out and deals(sqlite_url) == ["D1", "D2", "D3"]


def test_a_file_that_changes_while_it_is_read_is_not_loaded(capsys, sqlite_url, nightly, monkeypatch):
    """Settled for the clock, yet the CRM writes again while the import reads it: nothing is loaded."""
    from prospects.importing import command

    mapping, folder = nightly
    path = drop(folder, "opps_2026-12-03.csv", ROWS[:2])
    real = command.prepare

    def prepare_while_the_crm_writes(*a, **k):
        result = real(*a, **k)
        with path.open("a", encoding="utf-8") as handle:  # the writer resumes
            handle.write(ROWS[2] + "\n")
        return result

    monkeypatch.setattr(command, "prepare", prepare_while_the_crm_writes)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 0
    assert f"prospects: nothing loaded: {path} changed while it was read: it is still being written; the next run takes it" in err
    assert not db.has_schema(db.make_engine(sqlite_url)) and path.exists() and not (folder / "imported").exists()


def test_with_done_markers_only_a_marked_export_is_complete(capsys, sqlite_url, nightly):
    mapping, folder = nightly
    args = ("--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder, "--done-marker")
    export = folder / "2026-12-03"  # a folder export: its files named as the mapping names them
    export.mkdir()
    (export / "opps.csv").write_text(export_text(ROWS), "utf-8")
    os.utime(export / "opps.csv", (time.time() - 3600, time.time() - 3600))
    code, out, err = run(capsys, *args)
    assert code == 0 and "nothing new" in out and "2026-12-03 (no marker 2026-12-03.done yet)" in out
    (folder / "2026-12-03.done").write_text("", "utf-8")
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert deals(sqlite_url) == ["D1", "D2", "D3", "D4", "D5"]
    assert (folder / "imported" / "2026-12-03" / "opps.csv").exists() and (folder / "imported" / "2026-12-03.done").exists()
    assert not (folder / "2026-12-03.done").exists()


def test_an_unusable_export_goes_to_failed_and_the_database_is_untouched(capsys, sqlite_url, nightly):
    mapping, folder = nightly
    drop(folder, "opps_2026-12-02.csv", ROWS, age=2000)
    assert run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)[0] == 0
    drop(folder, "opps_2026-12-03.csv", None, text=export_text(ROWS).replace("Client", "Société", 1))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 2 and "no column 'Client'" in err
    assert f"opps_2026-12-03.csv moved to {folder / 'failed'} (fix it, or move it back to retry)" in err
    assert deals(sqlite_url) == ["D1", "D2", "D3", "D4", "D5"] and (folder / "failed" / "opps_2026-12-03.csv").exists()
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 0 and "nothing new" in out


def test_check_reads_the_export_and_moves_nothing_and_options_are_checked(capsys, sqlite_url, nightly):
    mapping, folder = nightly
    drop(folder, "opps_2026-12-03.csv", ROWS)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder, "--check")
    assert code == 0 and "dry run" in out and (folder / "opps_2026-12-03.csv").exists() and not (folder / "imported").exists()
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--keep", "3")
    assert code == 2 and "--keep: only with --from-folder DIR" in err
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder, "x.csv")
    assert code == 2 and "give SOURCE files or --from-folder DIR, not both" in err
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder / "nope")
    assert code == 2 and "not a folder" in err


def test_a_second_run_on_the_same_folder_waits_its_turn(capsys, sqlite_url, nightly):
    import fcntl

    mapping, folder = nightly
    drop(folder, "opps_2026-12-03.csv", ROWS)
    with open(folder / ".prospects-import.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first run
        code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder)
    assert code == 0 and out == f"prospects import: another import from {folder} is under way; nothing done\n"
    assert (folder / "opps_2026-12-03.csv").exists()


# ---------------------------------------------------------------------------
# deploy/: the timer and service, and the command they run, end to end


def _unit_files() -> tuple[str, str, list[str]]:
    service = (DEPLOY / "prospects-import.service").read_text("utf-8")
    timer = (DEPLOY / "prospects-import.timer").read_text("utf-8")
    return service, timer, shlex.split(re.search(r"^ExecStart=(.+)$", service, re.M).group(1))


def test_the_timer_runs_the_nightly_import_before_the_monday_subscriptions(tmp_path):
    service, timer, exec_args = _unit_files()
    assert re.search(r"^OnCalendar=\*-\*-\* 05:30:00$", timer, re.M) and "Persistent=true" in timer
    subscriptions = (DEPLOY / "prospects-subscriptions.timer").read_text("utf-8")
    assert re.search(r"^OnCalendar=Mon \*-\*-\* 07:00:00$", subscriptions, re.M)  # 05:30 < 07:00, every day
    assert "Unit=prospects-import.service" in timer and "Type=oneshot" in service
    assert re.search(r"^SuccessExitStatus=1$", service, re.M)  # rows rejected, the rest loaded
    parsed = cli.build_parser().parse_args(exec_args[1:])
    assert parsed.command == "import" and parsed.from_folder == Path("/var/lib/prospects/drop") and not parsed.check
    assert str(parsed.rejects).startswith("/var/lib/prospects/")  # the only writable place (ProtectSystem=strict)
    assert "ReadWritePaths=/var/lib/prospects" in service
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze not found: install Debian's systemd package (make system-deps)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    (tmp_path / "prospects-import.service").write_text(service.replace(exec_args[0], str(Path(sys.executable).parent / "prospects")), "utf-8")
    (tmp_path / "prospects-import.timer").write_text(timer, "utf-8")
    proc = subprocess.run([analyze, "verify", str(tmp_path / "prospects-import.service"), str(tmp_path / "prospects-import.timer")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    proc = subprocess.run([analyze, "calendar", "--iterations", "2", "*-*-* 05:30:00"], capture_output=True, text=True)
    assert proc.returncode == 0 and re.search(r"Next elapse: \w{3} \d{4}-\d\d-\d\d 05:30:00", proc.stdout), proc.stdout


def test_the_units_command_end_to_end_two_exports_one_half_written(tmp_path):
    """The service's own command line (paths pointed at a test folder), as systemd runs it: a
    process, nothing from this test's interpreter. A real writer holds the second export open."""
    _service, _timer, exec_args = _unit_files()
    mapping = setup(tmp_path)
    folder = tmp_path / "drop"
    folder.mkdir()
    config = tmp_path / "prospects.toml"
    config.write_text("", "utf-8")
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    paths = {"/srv/prospects/prospects.toml": str(config), "/srv/prospects/crm_mapping.toml": str(mapping),
             "/var/lib/prospects/drop": str(folder), "/var/lib/prospects/import.rejects.csv": str(tmp_path / "rejects.csv")}
    command = [str(Path(sys.executable).parent / "prospects"), *(paths.get(a, a) for a in exec_args[1:])]
    settle = command.index("--settle") + 1
    command[settle] = "60"  # the unit's 300 s, shortened; a minute is longer than this test's writer pauses
    env = {**os.environ, "PROSPECTS_DB": url, "PROSPECTS_PROGRESS": "0"}

    def nightly_run() -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    drop(folder, "opps_2026-12-02.csv", ROWS[:2])
    full = export_text(ROWS).encode("utf-8")
    writer = subprocess.Popen(  # writes half, then the rest when told, as a slow CRM export would
        [sys.executable, "-c", "import sys,time\nf=open(sys.argv[1],'wb')\nf.write(sys.stdin.buffer.read(int(sys.argv[2])))\nf.flush()\n"
         "sys.stdin.buffer.readline()\nf.write(sys.stdin.buffer.read())\nf.close()", str(folder / "opps_2026-12-03.csv"), str(len(full) // 2)],
        stdin=subprocess.PIPE)
    try:
        writer.stdin.write(full[: len(full) // 2])
        writer.stdin.flush()
        deadline = time.time() + 30
        while (not (folder / "opps_2026-12-03.csv").exists() or (folder / "opps_2026-12-03.csv").stat().st_size < len(full) // 2) and time.time() < deadline:
            time.sleep(0.05)
        proc = nightly_run()
        assert proc.returncode == 0, proc.stderr
        assert "opps_2026-12-02.csv from" in proc.stdout and "still being written: opps_2026-12-03.csv" in proc.stdout
        assert deals(url) == ["D1", "D2"]
        proc = nightly_run()  # nothing new: one line
        assert proc.returncode == 0 and proc.stdout.count("\n") == 1 and "nothing new" in proc.stdout, proc.stdout
        writer.stdin.write(b"\n" + full[len(full) // 2:])
        writer.stdin.close()
        assert writer.wait(timeout=30) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
    later = time.time() - 120  # then the export is left alone longer than the settle time
    os.utime(folder / "opps_2026-12-03.csv", (later, later))
    proc = nightly_run()
    assert proc.returncode == 0, proc.stderr
    assert deals(url) == ["D1", "D2", "D3", "D4", "D5"]
    assert sorted(p.name for p in (folder / "imported").iterdir()) == ["opps_2026-12-02.csv", "opps_2026-12-03.csv"]
    proc = nightly_run()
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1 and "nothing new" in proc.stdout


def test_control_characters_of_a_dropped_export_are_escaped_in_what_it_prints(capsys, sqlite_url, nightly):
    """The report builders escape what they quote of the export, so the nightly path prints no raw ESC or NUL."""
    mapping, folder = nightly
    drop(folder, "opps_2026-12-03.csv", [ROWS[0].replace("Gagné", "Ga\x00gné\x1b[31m"), *ROWS[1:]])
    for check in (["--check"], []):
        code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", mapping, "--from-folder", folder, *check)
        assert code == 1, err
        assert "\x00" not in out + err and "\x1b" not in out + err and "'Ga\\x00gné\\x1b[31m'" in out
