"""Database access: the only module that speaks SQL.

Everything that reaches SQLite or PostgreSQL goes through here: creating the schema,
replacing the whole content atomically (with a new version stamp), reading tables as
canonical frames, and the one consistent read of everything from which the figure store
is built (:func:`read_consistent`). Viewers never read rows from here: they read the
figure store (:mod:`prospects.store`).

Canonical frames (the third form of DATA.md): text, id and enum columns are ``object``
(``str`` or ``None``), dates are ``datetime64[s]`` (``NaT`` for null), booleans are
``bool`` and integers ``int64``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .schema import SQL_TABLES, TABLE_ORDER, TABLES, extract_info, metadata, subscription_sends


class DatabaseError(RuntimeError):
    """The database cannot be used (missing, unreachable, not initialised)."""


class ShrinkRefused(DatabaseError):
    """A replacement would remove more than half of a table's rows (see :func:`replace_all`)."""


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
    """
    version = uuid.uuid4().hex
    create_schema(engine)
    with engine.begin() as conn:
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


def _refuse_shrink(conn: sa.Connection, frames: Mapping[str, pd.DataFrame]) -> None:
    shrunk = []
    for name in TABLE_ORDER:
        before = conn.execute(sa.select(sa.func.count()).select_from(SQL_TABLES[name])).scalar_one()
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
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(SQL_TABLES[name])).scalar_one()
            for name in TABLE_ORDER
        }


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


def read_consistent(engine: Engine) -> tuple[str, dict[str, pd.DataFrame], dict[str, str]]:
    """Every table, the extract info and its version stamp, from one snapshot of the database.

    SQLite: one read transaction (WAL mode: writers do not disturb it); PostgreSQL:
    ``REPEATABLE READ``. A load committing meanwhile is either wholly in or wholly out.
    """
    require_schema(engine)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            info = {k: v for k, v in conn.execute(sa.select(extract_info.c.key, extract_info.c.value))}
            frames = {}
            for name in TABLE_ORDER:
                t = SQL_TABLES[name]
                stmt = _select_text(name).order_by(*[t.c[k] for k in TABLES[name].key])
                frames[name] = _typed(_frame(conn, stmt, TABLES[name].column_names), name)
        finally:
            conn.rollback()
    return _version_of(info), frames, info


# ---------------------------------------------------------------------------
# the send log of report subscriptions (issue 15)


def read_sends(engine: Engine, fiscal_year: int, as_of: dt.date) -> dict[tuple[str, str], dict[str, str]]:
    """The subscription mails already sent for one period: ``(login, unit)`` → email, sent_at, message_id.

    ``unit`` is ``""`` for "Mes affaires". A database that never sent any has no log yet:
    nothing was sent (this never creates the table, so a dry run writes nothing).
    """
    path = sqlite_path(engine.url)
    if path is not None and not path.exists():
        return {}  # no database yet: nothing was sent (and opening would create nothing)
    try:
        present = sa.inspect(engine).has_table(subscription_sends.name)
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as exc:
        raise DatabaseError(f"cannot open the database {shown_url(engine.url)}: {one_line(exc)}") from None
    if not present:
        return {}
    t = subscription_sends
    stmt = sa.select(t.c.login, t.c.unit, t.c.email, t.c.sent_at, t.c.message_id).where(
        t.c.fiscal_year == fiscal_year, t.c.as_of == as_of
    )
    with engine.connect() as conn:
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
    t.create(engine, checkfirst=True)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(t.delete().where(
                t.c.login == row["login"], t.c.unit == row["unit"],
                t.c.fiscal_year == row["fiscal_year"], t.c.as_of == row["as_of"],
            ))
        conn.execute(t.insert(), [dict(row) for row in rows])
