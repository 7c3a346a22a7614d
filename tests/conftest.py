"""Shared fixtures: a throwaway PostgreSQL cluster, database URLs for both backends."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_unprivileged(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as `nobody` then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *cmd]
    return cmd


@pytest.fixture(scope="session", autouse=True)
def _store_folder(tmp_path_factory):
    """Figure stores of non-SQLite test databases go to a temporary folder, not the project's data/."""
    folder = tmp_path_factory.mktemp("stores")
    previous = os.environ.get("PROSPECTS_STORE")
    os.environ["PROSPECTS_STORE"] = str(folder)  # inherited by the servers and commands the tests start
    yield folder
    if previous is None:
        os.environ.pop("PROSPECTS_STORE", None)
    else:
        os.environ["PROSPECTS_STORE"] = previous


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on a free loopback port, torn down after the session.

    Outside CI the PostgreSQL tests skip, loudly, when the binaries are missing; in CI
    (``CI=true``) they must run, so a missing server is a failure.
    """
    bindir = _pg_bindir()
    if bindir is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING POSTGRESQL TESTS: " + message)
    # a folder of its own directly under the system temp dir (world-traversable), owned by
    # the server's user: no permission change anywhere else
    base = Path(tempfile.mkdtemp(prefix="prospects-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for p in (base, sock):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        _as_unprivileged([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]),
        check=True, capture_output=True, env=env,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_unprivileged([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"]),
        check=True, capture_output=True, env=env,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_unprivileged([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True, env=env,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty PostgreSQL database for one test."""
    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    yield f"{pg_server}/{name}"


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'prospects.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """The same test on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'prospects.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def sample_url(tmp_path_factory):
    """Cabinet Exemple (prospects.sample) in a SQLite file, shared read-only by the tests."""
    from prospects import db
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    return url
