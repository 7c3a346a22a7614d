"""Database access: the only module that speaks SQL.

Everything that reaches SQLite or PostgreSQL goes through here: creating the schema,
replacing the whole content atomically (with a new version stamp), reading tables as
canonical frames, and the one consistent read of everything from which the figure store
is built (:func:`read_consistent`). Viewers never read rows from here: they read the
figure store (:mod:`prospects.store`).

Canonical frames (the third form of docs/data.md): text, id and enum columns are ``object``
(``str`` or ``None``), dates are ``datetime64[s]`` (``NaT`` for null), booleans are
``bool`` and integers ``int64``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .schema import (
    SQL_TABLES,
    TABLE_ORDER,
    TABLES,
    extract_info,
    metadata,
    subscription_claims,
    subscription_sends,
)


class DatabaseError(RuntimeError):
    """The database cannot be used (missing, unreachable, not initialised)."""


class ShrinkRefused(DatabaseError):
    """A replacement would remove more than half of a table's rows (see :func:`replace_all`)."""


class ContentRefused(DatabaseError):
    """The database holds content the replacement may not touch (see :func:`replace_all`, ``replaceable``)."""


def shown_url(url: str | sa.engine.URL) -> str:
    """A database URL as it may be shown: the password hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def one_line(exc: BaseException) -> str:
    """The database's own reason for an error, on one line (drivers spread theirs over several)."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


#: Query keys of a SQLite URL that are arguments of ``sqlite3.connect``, not of the URI filename.
_CONNECT_KEYS = {"uri", "timeout", "check_same_thread", "isolation_level", "detect_types", "cached_statements"}


def _sqlite_uri(url: sa.engine.URL) -> bool:
    """Whether a SQLite URL names its database by a URI filename (``sqlite:///file:PATH?mode=ro&uri=true``)."""
    return str(url.query.get("uri", "")).lower() in ("true", "1") and (url.database or "").startswith("file:")


def sqlite_path(url: sa.engine.URL) -> Path | None:
    """The file of a SQLite URL, plain path or URI filename (``file:PATH``, ``file://localhost/PATH``,
    percent-decoded); None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if not _sqlite_uri(url):
        return Path(url.database)
    path = url.database.removeprefix("file:")
    if path.startswith("//"):
        authority, _, rest = path[2:].partition("/")
        if authority not in ("", "localhost"):
            return None  # SQLite refuses it: the connection says so
        path = "/" + rest
    path = unquote(path)
    if not path or path == ":memory:" or url.query.get("mode") == "memory":
        return None
    return Path(path)


def _sqlite_target(url: sa.engine.URL, path: Path) -> str:
    """The URI ``sqlite3.connect`` opens for a database file: the URL's own URI parameters,
    and ``mode=rw`` unless it gives a mode, so that opening never creates the file."""
    params = {k: v for k, v in url.query.items() if k not in _CONNECT_KEYS and isinstance(v, str)} if _sqlite_uri(url) else {}
    params.setdefault("mode", "rw")
    return f"file:{quote(str(path.absolute()))}?{urlencode(params)}"


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL (SQLite and PostgreSQL; SQLite files in WAL mode).

    Opening an engine never creates anything: a SQLite file is opened read-write only if
    it exists (``mode=rw``), so reading a mistyped path is an error, not an empty new
    database; :func:`create_schema` (used by every write) creates the file and its folder.
    A URL without a usable driver raises :class:`DatabaseError`.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseError(f"{url!r} is not a database URL (e.g. sqlite:///data/prospects.db)") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    path = sqlite_path(parsed)
    if path is not None:
        _check_regular(path)
    try:
        if path is None and parsed.get_backend_name() != "sqlite":
            return sa.create_engine(parsed, pool_pre_ping=True)
        options: dict = {"connect_args": {"timeout": 60, "check_same_thread": False}}
        if path is not None:
            target = _sqlite_target(parsed, path)
            # check_same_thread off: a firm may be used from several threads (each view call checks the version stamp)
            options = {"creator": lambda: sqlite3.connect(target, uri=True, timeout=60, check_same_thread=False)}
        engine = sa.create_engine(parsed, **options)
    except (sa.exc.NoSuchModuleError, ImportError):
        raise DatabaseError(
            f"{shown_url(parsed)}: no database driver for '{parsed.drivername}'; prospects works with sqlite:/// and postgresql://"
        ) from None

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        if path is not None:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def _check_regular(path: Path) -> None:
    """A SQLite database that exists is a regular file (not /dev/zero, a pipe or a folder)."""
    import stat

    from .files import kind_of, shown_path

    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # missing (created by a write, refused by a read), or unreachable: said later
        return
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"{shown_path(path)}: not a database file but {kind_of(mode)}")


def _create_sqlite_file(engine: Engine) -> None:
    """Create a missing SQLite file and its folder (writes only), with a clear error
    (never for a URL that says ``mode=ro``: opening it then says it cannot)."""
    path = sqlite_path(engine.url)
    if path is None or path.exists() or engine.url.query.get("mode") == "ro":
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder {path.parent} for the database: {exc.strerror or exc}") from None
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot create the database file {path}: {exc} (can that folder be written?)") from None


def create_schema(engine: Engine) -> None:
    """Create the database (a SQLite file and its folder), the nine tables and bookkeeping if missing.

    A database made by an earlier version gains the optional columns added to the
    contract since (``collaborators.email``): ``ALTER TABLE … ADD COLUMN``, nullable.
    """
    _create_sqlite_file(engine)
    try:
        metadata.create_all(engine)
        inspector = sa.inspect(engine)
        with engine.begin() as conn:
            for name in TABLE_ORDER:
                present = {c["name"] for c in inspector.get_columns(name)}
                for col in SQL_TABLES[name].columns:
                    if col.name not in present and col.nullable:
                        sql_type = col.type.compile(dialect=engine.dialect)
                        conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {col.name} {sql_type}"))
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as exc:
        raise DatabaseError(f"cannot open the database {shown_url(engine.url)}: {one_line(exc)}") from None


def has_schema(engine: Engine) -> bool:
    """Whether the tables exist (False for a missing SQLite file, which is not created);
    a database that cannot be opened raises :class:`DatabaseError`."""
    path = sqlite_path(engine.url)
    if path is not None and not path.exists():
        return False
    try:
        names = set(sa.inspect(engine).get_table_names())
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as exc:
        raise DatabaseError(f"cannot open the database {shown_url(engine.url)}: {one_line(exc)}") from None
    return set(TABLE_ORDER) <= names


# ---------------------------------------------------------------------------
# writing


def _column_values(frame: pd.DataFrame, table: str, dialect: str) -> list[list]:
    """The frame's columns as Python lists ready for the DBAPI, in contract order."""
    spec = TABLES[table]
    out = []
    for col in spec.columns:
        series = frame[col.name]
        if col.type == "date":
            values = pd.to_datetime(series).dt.strftime("%Y-%m-%d").astype(object)
            out.append(values.where(series.notna(), None).tolist())
        elif col.type == "bool":
            values = series.astype(bool)
            out.append([bool(v) for v in values] if dialect == "postgresql" else values.astype(int).tolist())
        elif col.type == "int":
            out.append(series.astype("int64").tolist())
        else:
            out.append(series.astype(object).where(series.notna(), None).tolist())
    return out


def _bulk_insert(conn: sa.Connection, table: str, frame: pd.DataFrame, chunk: int = 200_000) -> None:
    """Insert a frame fast: executemany on SQLite, COPY on PostgreSQL."""
    if frame.empty:
        return
    dialect = conn.dialect.name
    spec = TABLES[table]
    names = spec.column_names
    raw = conn.connection.dbapi_connection
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        rows = list(zip(*_column_values(part, table, dialect), strict=True))
        if dialect == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        elif dialect == "sqlite":
            cur = raw.cursor()
            marks = ", ".join("?" for _ in names)
            cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
            cur.close()
        else:  # any other SQLAlchemy backend
            conn.execute(SQL_TABLES[table].insert(), [dict(zip(names, r, strict=True)) for r in rows])


def replace_all(
    engine: Engine,
    frames: Mapping[str, pd.DataFrame],
    info: Mapping[str, str] | None = None,
    *,
    on_table: callable | None = None,
    allow_shrink: bool = False,
    replaceable: Callable[[Mapping[str, str], Mapping[str, int]], str | None] | None = None,
) -> str:
    """Replace the whole content with ``frames``, in one transaction.

    Either the previous state or the whole new content is visible, never a mix, even if
    the process is killed midway (the transaction is rolled back by the database).
    ``on_table(name)`` is called before each table is written (progress). Returns the
    version stamp written with the content (``extract_info.version``, new at every
    replacement): the figure store of this content carries the same stamp.

    A replacement that would remove more than half of any table's rows (an extract
    holding only its header, a truncated export) raises :class:`ShrinkRefused`, naming
    the tables and their counts, before anything changes, unless ``allow_shrink``.

    ``replaceable(extract_info, table_counts)``, read inside the same transaction, may
    refuse the replacement: it returns why (a sentence) and :class:`ContentRefused` is
    raised before anything changes (``demo`` refuses a firm's own data this way).
    """
    version = uuid.uuid4().hex
    create_schema(engine)
    with engine.begin() as conn:
        if replaceable is not None:
            counts = {name: _count(conn, name) for name in TABLE_ORDER}
            current = {k: v for k, v in conn.execute(sa.select(extract_info.c.key, extract_info.c.value))}
            why = replaceable(current, counts)
            if why:
                raise ContentRefused(f"refused: {why}")
        if not allow_shrink:
            _refuse_shrink(conn, frames)
        for name in reversed(TABLE_ORDER):
            conn.execute(SQL_TABLES[name].delete())
        conn.execute(extract_info.delete())
        for name in TABLE_ORDER:
            if on_table:
                on_table(name)
            frame = frames.get(name)
            if frame is not None:
                if name == "org_units":
                    frame = _parents_first(frame)
                _bulk_insert(conn, name, frame)
        stamp = {"loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **(info or {}), "version": version}
        conn.execute(extract_info.insert(), [{"key": k, "value": str(v)} for k, v in stamp.items()])
    return version


def _count(conn: sa.Connection, name: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(SQL_TABLES[name])).scalar_one()


def _refuse_shrink(conn: sa.Connection, frames: Mapping[str, pd.DataFrame]) -> None:
    shrunk = []
    for name in TABLE_ORDER:
        before = _count(conn, name)
        frame = frames.get(name)
        after = 0 if frame is None else len(frame)
        if before - after > before / 2:
            shrunk.append(f"{name} ({before:,} → {after:,})")
    if shrunk:
        raise ShrinkRefused(
            "refused: the new data would remove more than half of the rows of " + ", ".join(shrunk)
            + "; the database is unchanged (--allow-shrink replaces it anyway)"
        )


def _parents_first(units: pd.DataFrame) -> pd.DataFrame:
    order = {"firm": 0, "region": 1, "agency": 2, "team": 3}
    rank = units["kind"].map(order).fillna(9)
    return units.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank")


# ---------------------------------------------------------------------------
# reading


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Raw query result → canonical frame."""
    spec = TABLES[table]
    for col in spec.columns:
        s = frame[col.name]
        if col.type == "date":
            frame[col.name] = pd.to_datetime(s.astype(object).where(s.notna(), None), format="%Y-%m-%d").astype("datetime64[s]")
        elif col.type == "bool":
            frame[col.name] = s.astype(bool)
        elif col.type == "int":
            frame[col.name] = s.astype("int64")
        else:
            frame[col.name] = s.astype(object).where(s.notna(), None)
    return frame


def _select_text(table: str, where: sa.ColumnElement | None = None) -> sa.Select:
    """SELECT of a table with dates cast to ISO text (fast, identical on every backend)."""
    t = SQL_TABLES[table]
    cols = [
        sa.cast(t.c[c.name], sa.String).label(c.name) if c.type == "date" else t.c[c.name]
        for c in TABLES[table].columns
    ]
    stmt = sa.select(*cols)
    if where is not None:
        stmt = stmt.where(where)
    return stmt


def _frame(conn: sa.Connection, stmt: sa.Select, columns: Sequence[str]) -> pd.DataFrame:
    """Run a SELECT and build a frame column by column from the driver's plain tuples.

    Dates are selected as ISO text and converted by :func:`_typed`, so the rows can be
    read straight from the DBAPI cursor (no per-row Row objects: 10x faster on 1M rows).
    """
    result = conn.execute(stmt)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    cols = list(zip(*rows, strict=True))
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in zip(columns, cols, strict=True)})


def read_table(engine: Engine, table: str) -> pd.DataFrame:
    """One whole table as a canonical frame, ordered by its key."""
    t = SQL_TABLES[table]
    stmt = _select_text(table).order_by(*[t.c[k] for k in TABLES[table].key])
    with engine.connect() as conn:
        return _typed(_frame(conn, stmt, TABLES[table].column_names), table)


def read_all(engine: Engine, tables: Iterable[str] = TABLE_ORDER) -> dict[str, pd.DataFrame]:
    """Several tables as canonical frames."""
    require_schema(engine)
    return {name: read_table(engine, name) for name in tables}


def require_schema(engine: Engine) -> None:
    """Refuse, in one line, a database that is missing or has no prospects tables (creates nothing)."""
    if not has_schema(engine):
        path = sqlite_path(engine.url)
        if path is not None and not path.exists():
            raise DatabaseError(f"no database at {path}: check --db, or create it with `prospects demo` or `prospects load DIR`")
        raise DatabaseError("the database has no prospects tables: run `prospects demo` or `prospects load DIR` first")


def read_extract_info(engine: Engine) -> dict[str, str]:
    """When and from where the data was loaded."""
    with engine.connect() as conn:
        return {k: v for k, v in conn.execute(sa.select(extract_info.c.key, extract_info.c.value))}


def collaborator_active(engine: Engine, login: str) -> bool | None:
    """Whether a login is an active collaborator (``None``: no such login). One small query."""
    with engine.connect() as conn:
        table = SQL_TABLES["collaborators"]
        row = conn.execute(sa.select(table.c.active).where(table.c.login == login)).first()
    return None if row is None else bool(row[0])


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of each table."""
    with engine.connect() as conn:
        return {name: _count(conn, name) for name in TABLE_ORDER}


# ---------------------------------------------------------------------------
# the version and the consistent read behind the figure store


def read_version(engine: Engine) -> str:
    """The version stamp of the database's content (changes at every load, import or demo).

    A database written before stamps existed gets one derived from its load time. A
    database out of reach raises :class:`DatabaseError` (one line).
    """
    require_schema(engine)
    try:
        info = read_extract_info(engine)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the database {shown_url(engine.url)}: {one_line(exc)}") from None
    return _version_of(info)


def _version_of(info: Mapping[str, str]) -> str:
    if info.get("version"):
        return info["version"]
    return "loaded-" + "".join(ch for ch in info.get("loaded_at", "never") if ch.isalnum())


@contextlib.contextmanager
def _one_snapshot(engine: Engine) -> Iterator[sa.Connection]:
    """A connection whose reads all see one snapshot of the database.

    SQLite: one read transaction (WAL mode: writers do not disturb it); PostgreSQL:
    ``REPEATABLE READ``. A load committing meanwhile is either wholly in or wholly out.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def read_consistent(engine: Engine) -> tuple[str, dict[str, pd.DataFrame], dict[str, str]]:
    """Every table, the extract info and its version stamp, from one snapshot of the database."""
    require_schema(engine)
    with _one_snapshot(engine) as conn:
        info = {k: v for k, v in conn.execute(sa.select(extract_info.c.key, extract_info.c.value))}
        frames = {}
        for name in TABLE_ORDER:
            t = SQL_TABLES[name]
            stmt = _select_text(name).order_by(*[t.c[k] for k in TABLES[name].key])
            frames[name] = _typed(_frame(conn, stmt, TABLES[name].column_names), name)
    return _version_of(info), frames, info


def store_counts(engine: Engine) -> tuple[str, dict[str, int]]:
    """The version stamp and the rows a figure store of it holds, from one snapshot of the database.

    ``deals``: prospect deals; ``documents`` and ``lines``: theirs; every other table
    (the directory) whole. What ``prospects store --check`` compares with the store.
    """
    require_schema(engine)
    deals, documents, lines = SQL_TABLES["deals"], SQL_TABLES["documents"], SQL_TABLES["document_lines"]
    prospect = deals.c.kind == "prospect"
    of_deals = deals.join(documents, documents.c.deal_id == deals.c.id)
    lines_counted: sa.Executable = sa.select(sa.func.count()).select_from(
        of_deals.join(lines, lines.c.document_id == documents.c.id)).where(prospect)
    if engine.dialect.name == "sqlite":
        # from the deals through the indexes on deal_id and document_id (CROSS JOIN keeps that order in SQLite),
        # not one lookup of a document by its text id per line: 3 times faster on a million documents
        lines_counted = sa.text("SELECT count(*) FROM deals CROSS JOIN documents CROSS JOIN document_lines "
                                "WHERE documents.deal_id = deals.id AND document_lines.document_id = documents.id "
                                "AND deals.kind = 'prospect'")
    counted = {
        "deals": sa.select(sa.func.count()).select_from(deals).where(prospect),
        "documents": sa.select(sa.func.count()).select_from(of_deals).where(prospect),
        "lines": lines_counted,
        **{name: sa.select(sa.func.count()).select_from(SQL_TABLES[name])
           for name in TABLE_ORDER if name not in ("deals", "documents", "document_lines")},
    }
    with _one_snapshot(engine) as conn:
        info = {k: v for k, v in conn.execute(sa.select(extract_info.c.key, extract_info.c.value))}
        counts = {name: int(conn.execute(stmt).scalar_one()) for name, stmt in counted.items()}
    return _version_of(info), counts


# ---------------------------------------------------------------------------
# the send log of report subscriptions (issue 15)


@contextlib.contextmanager
def _bookkeeping(engine: Engine, what: str) -> Iterator[None]:
    """A database error while reading or writing the send log or the claims, as one :class:`DatabaseError` line."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"cannot {what} in the database {shown_url(engine.url)}: {one_line(exc)}") from None


def _log_table_present(engine: Engine, table: sa.Table) -> bool:
    """Whether a bookkeeping table exists (a missing SQLite file: no; never creates anything)."""
    path = sqlite_path(engine.url)
    if path is not None and not path.exists():
        return False
    try:
        return sa.inspect(engine).has_table(table.name)
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as exc:
        raise DatabaseError(f"cannot open the database {shown_url(engine.url)}: {one_line(exc)}") from None


def read_sends(engine: Engine, fiscal_year: int, as_of: dt.date) -> dict[tuple[str, str], dict[str, str]]:
    """The subscription mails already sent for one period: ``(login, unit)`` → email, sent_at, message_id.

    ``unit`` is ``""`` for "Mes affaires". A database that never sent any has no log yet:
    nothing was sent (this never creates the table, so a dry run writes nothing).
    """
    if not _log_table_present(engine, subscription_sends):
        return {}
    t = subscription_sends
    stmt = sa.select(t.c.login, t.c.unit, t.c.email, t.c.sent_at, t.c.message_id).where(
        t.c.fiscal_year == fiscal_year, t.c.as_of == as_of
    )
    with _bookkeeping(engine, "read the send log"), engine.connect() as conn:
        return {
            (login, unit): {"email": email, "sent_at": sent_at, "message_id": message_id}
            for login, unit, email, sent_at, message_id in conn.execute(stmt)
        }


def record_sends(engine: Engine, rows: Sequence[Mapping[str, object]]) -> None:
    """Log subscription mails just sent (keys: login, unit, fiscal_year, as_of, email, sent_at, message_id).

    One transaction; a row for the same recipient, unit and period replaces the older one
    (``--force`` resends). Creates the log table in a database made before it existed.
    """
    if not rows:
        return
    t = subscription_sends
    _create_sqlite_file(engine)
    with _bookkeeping(engine, "write the send log"), engine.begin() as conn:
        t.create(conn, checkfirst=True)
        for row in rows:
            conn.execute(t.delete().where(
                t.c.login == row["login"], t.c.unit == row["unit"],
                t.c.fiscal_year == row["fiscal_year"], t.c.as_of == row["as_of"],
            ))
        conn.execute(t.insert(), [dict(row) for row in rows])


def read_claims(engine: Engine, fiscal_year: int, as_of: dt.date) -> dict[tuple[str, str], dict[str, str]]:
    """The subscription mails claimed for one period: ``(login, unit)`` → run_id, claimed_at, claimed_by.

    A claim without its row in the send log is a mail being sent right now by another run,
    or one whose fate is unknown (its run stopped, or could not write the log): it is never
    sent again but with ``--force``. Never creates the table.
    """
    if not _log_table_present(engine, subscription_claims):
        return {}
    t = subscription_claims
    stmt = sa.select(t.c.login, t.c.unit, t.c.run_id, t.c.claimed_at, t.c.claimed_by).where(
        t.c.fiscal_year == fiscal_year, t.c.as_of == as_of)
    with _bookkeeping(engine, "read the subscription claims"), engine.connect() as conn:
        return {(login, unit): {"run_id": run_id, "claimed_at": at, "claimed_by": by}
                for login, unit, run_id, at, by in conn.execute(stmt)}


def claim_sends(
    engine: Engine,
    keys: Sequence[tuple[str, str]],
    fiscal_year: int,
    as_of: dt.date,
    *,
    run_id: str,
    claimed_by: str,
    take_over: Mapping[tuple[str, str], str] | None = None,
) -> bool:
    """Claim the sending of one recipient's reports ``(login, unit)`` for a period: all of them, or none.

    One transaction: a row per key, whose primary key refuses a second taker on SQLite and
    PostgreSQL alike, whatever the process or machine (the loser's transaction is rolled
    back: it claimed nothing). ``take_over`` (``--force``) maps keys to the run seen holding
    them: those claims pass to this run only if that run still holds them. Returns whether
    this run holds every key. Creates the table in a database made before it existed.
    """
    t = subscription_claims
    _create_sqlite_file(engine)
    if not _log_table_present(engine, t):
        try:
            with engine.begin() as conn:
                t.create(conn, checkfirst=True)
        except sa.exc.SQLAlchemyError as exc:  # two runs creating it at once: one of them wins, fine
            if not _log_table_present(engine, t):
                raise DatabaseError(f"cannot create the subscription claims in the database {shown_url(engine.url)}: "
                                    f"{one_line(exc)}") from None
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    take_over = take_over or {}
    try:
        with _bookkeeping(engine, "claim a subscription mail"), engine.begin() as conn:
            for login, unit in keys:
                where = (t.c.login == login, t.c.unit == unit, t.c.fiscal_year == fiscal_year, t.c.as_of == as_of)
                values = {"run_id": run_id, "claimed_at": now, "claimed_by": claimed_by}
                held_by = take_over.get((login, unit))
                # taken over only from the run seen holding it (else: gone, then inserted; or someone else's now)
                if held_by is not None and conn.execute(
                        t.update().where(*where, t.c.run_id == held_by).values(**values)).rowcount == 1:
                    continue
                try:
                    conn.execute(t.insert().values(login=login, unit=unit, fiscal_year=fiscal_year, as_of=as_of, **values))
                except sa.exc.IntegrityError:  # claimed by another run: roll back this one's claims
                    raise _Lost() from None
    except _Lost:
        return False
    return True


class _Lost(Exception):
    """Another run holds a claim (rolls the claiming transaction back)."""


def release_claims(engine: Engine, keys: Sequence[tuple[str, str]], fiscal_year: int, as_of: dt.date, *,
                   run_id: str) -> None:
    """Give back this run's claims (after a mail the server definitely refused: a rerun may send it)."""
    t = subscription_claims
    with _bookkeeping(engine, "give back a subscription claim"), engine.begin() as conn:
        for login, unit in keys:
            conn.execute(t.delete().where(t.c.login == login, t.c.unit == unit, t.c.fiscal_year == fiscal_year,
                                          t.c.as_of == as_of, t.c.run_id == run_id))


# ---------------------------------------------------------------------------
# each viewer's last Organisation / Collaborateurs choice on the dashboard (issue 19)

#: The dashboard's memory of each login's last scope: a table of its own, outside the
#: contract's tables (a load replaces those, never this), shared by every server on the database.
dashboard_choices = sa.Table(
    "dashboard_choices",
    sa.MetaData(),
    sa.Column("login", sa.String(200), primary_key=True),
    sa.Column("unit_id", sa.String(200), nullable=True),  # None: "Mes affaires"
    sa.Column("collaborator", sa.String(200), nullable=True),  # a login, None: nobody
    sa.Column("saved_at", sa.Text(), nullable=False),  # ISO timestamp, UTC
)


def read_dashboard_choice(engine: Engine, login: str) -> tuple[str | None, str | None] | None:
    """The unit and collaborator ``login`` last chose on the dashboard; ``None`` if never.

    What comes back is only a wish: the dashboard checks it against the viewer's perimeter
    before using it. Creates nothing (a database that never saved a choice has no table).
    """
    if not _log_table_present(engine, dashboard_choices):
        return None
    t = dashboard_choices
    with _bookkeeping(engine, "read the dashboard's last choices"), engine.connect() as conn:
        row = conn.execute(sa.select(t.c.unit_id, t.c.collaborator).where(t.c.login == login)).first()
    return None if row is None else (row[0], row[1])


def save_dashboard_choice(engine: Engine, login: str, unit: str | None, collaborator: str | None) -> None:
    """Remember ``login``'s choice (``None``, ``None``: "Mes affaires"), replacing the previous one.

    One statement (an upsert), safe when several servers save for the same login at once;
    creates the table in a database made before it existed.
    """
    t = dashboard_choices
    row = {"login": login, "unit_id": unit, "collaborator": collaborator,
           "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if not _log_table_present(engine, t):
        # another server may create it meanwhile: the upsert below says if it is really missing
        with contextlib.suppress(sa.exc.SQLAlchemyError), engine.begin() as conn:
            t.create(conn, checkfirst=True)
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(t).values(**row)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.login],
                                      set_={k: stmt.excluded[k] for k in ("unit_id", "collaborator", "saved_at")})
    with _bookkeeping(engine, "save the dashboard's last choice"), engine.begin() as conn:
        conn.execute(stmt)
