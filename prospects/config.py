"""Settings and paths: the one place that reads configuration.

Resolution order, first match wins, for every setting:

1. an explicit value passed by the caller (a CLI flag such as ``--db`` / ``--today``,
   or a keyword argument of :func:`load_settings`);
2. the environment: ``PROSPECTS_DB``, ``PROSPECTS_TODAY``, ``PROSPECTS_LOCALE``,
   ``PROSPECTS_FY_START_MONTH``, ``PROSPECTS_CHROMIUM``, ``PROSPECTS_STORE``, ``PROSPECTS_STORE_WAIT``,
   ``PROSPECTS_IMPORT_MAX_MB``, ``PROSPECTS_LOAD_MAX_MB``, ``PROSPECTS_CURRENCY``, ``PROSPECTS_STALE_AFTER_DAYS``,
   and for ``prospects serve`` ``PROSPECTS_SERVE_POOL_SIZE``, ``PROSPECTS_SERVE_OPENING_LIMIT``,
   ``PROSPECTS_SERVE_KERNELS_PER_LOGIN``, ``PROSPECTS_SERVE_CONNECT_TIMEOUT``;
3. the config file: ``--config FILE``, else ``prospects.toml`` in the project folder
   if present (keys ``fiscal_year_start_month``, ``locale``, ``db``, ``chromium``,
   ``store_folder``, ``store_wait_seconds``, ``import_max_mb``, ``load_max_mb``, ``currency``, ``stale_after_days``,
   a ``[function_caps]`` table and a ``[serve]`` table:
   ``pool_size``, ``opening_limit``, ``kernels_per_login``, ``connect_timeout``, see
   :class:`ServeSettings`);
4. the defaults below.

``currency`` is the firm's currency, an ISO 4217 code (default ``EUR``): amounts stay integer
minor units (the ``_cents`` columns: hundredths of a euro, dollar or franc, whole yen) and
every display, export, report and mail shows them in it (:func:`prospects.i18n.money`).
``stale_after_days`` (default 3) is how old the extract may be before the dashboard, the
reports and the subscription mails say the figures are old.

Report subscriptions and mail (issue 15) come from the config file only, with two
exceptions: the SMTP user and password are read **only** from the environment
(``PROSPECTS_SMTP_USER``, ``PROSPECTS_SMTP_PASSWORD``) and refused in the file, so the
file never holds a secret. ``[subscriptions]``: ``default`` (``"validators"``, the
default, or ``"none"``), ``exclude`` (logins left out of the default) and a
``[[subscriptions.list]]`` array (``login``, ``unit``, optional ``formats`` and
``language``); ``[mail]``: ``host`` (default ``localhost``), ``port`` (default by
``security``: 25 for ``none``, 587 for ``starttls``, 465 for ``ssl``), ``security``
(default ``none``), ``sender``, ``ca_file`` (a CA bundle trusted instead of the system's)
and ``timeout`` (seconds, default 30).

The project folder is ``PROSPECTS_HOME`` if set, else the nearest folder at or above
the working directory holding ``prospects.toml`` or the project's ``pyproject.toml``,
else the working directory. The default database is ``sqlite:///<project>/data/prospects.db``.

The figure store (:mod:`prospects.store`) of a SQLite database sits beside its file;
for any other database it goes under ``store_folder`` (default ``<project>/data/store``;
a relative path is taken from the project folder). A process that needs a version of
the store which another process is writing waits for it at most ``store_wait_seconds``
(default 120), then stops with one line naming that process.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

FUNCTIONS = ("partner", "director", "manager", "staff")
LEVELS = ("firm", "region", "agency", "team")

#: Default cap per function: the org level up to which a validator's perimeter reaches.
DEFAULT_FUNCTION_CAPS: Mapping[str, str | None] = MappingProxyType(
    {"director": "firm", "partner": "region", "manager": "agency", "staff": None}
)
LOCALES = ("fr", "en")
#: ``prospects import`` refuses a source file bigger than this (megabytes; setting ``import_max_mb``).
DEFAULT_IMPORT_MAX_MB = 100
#: Seconds a process waits for another one writing the figure store (setting ``store_wait_seconds``).
DEFAULT_STORE_WAIT_SECONDS = 120
#: Days after which the extract is said to be old (setting ``stale_after_days``).
DEFAULT_STALE_AFTER_DAYS = 3
#: ``prospects load`` refuses a CSV file of the extract bigger than this (megabytes; setting ``load_max_mb``):
#: about 5.8 million documents in ``documents.csv`` (the large demo's is 172 MB for a million).
DEFAULT_LOAD_MAX_MB = 1000
#: A settings file is a few kilobytes (a long subscription list included): anything bigger is not one.
MAX_CONFIG_BYTES = 1_000_000
#: A CA bundle (``[mail] ca_file``) is a few hundred kilobytes.
MAX_CA_FILE_BYTES = 10_000_000
#: How much of a ``pyproject.toml`` the project folder search reads.
MAX_PYPROJECT_BYTES = 1_000_000


class ConfigError(ValueError):
    """A setting has a value the program cannot use."""


@dataclass(frozen=True)
class ServeSettings:
    """Capacity of ``prospects serve`` (docs/deployment.md, "Sizing"); ``None``: from the cores."""

    pool_size: int | None = None  # warm kernels kept ready; default one per core
    opening_limit: int | None = None  # pages whose notebook runs at once; default two per core
    kernels_per_login: int = 3  # a new page of a login holding this many closes its oldest (0: no cap)
    connect_timeout: int = 60  # seconds a served page has to open its kernel's websocket


#: ``[serve]`` keys: (environment variable, smallest value allowed).
SERVE_KEYS: Mapping[str, tuple[str, int]] = MappingProxyType({
    "pool_size": ("PROSPECTS_SERVE_POOL_SIZE", 0),
    "opening_limit": ("PROSPECTS_SERVE_OPENING_LIMIT", 1),
    "kernels_per_login": ("PROSPECTS_SERVE_KERNELS_PER_LOGIN", 0),
    "connect_timeout": ("PROSPECTS_SERVE_CONNECT_TIMEOUT", 1),
})


@dataclass(frozen=True)
class Settings:
    """Immutable settings of one run."""

    db_url: str
    fiscal_year_start_month: int = 1
    function_caps: Mapping[str, str | None] = field(default_factory=lambda: DEFAULT_FUNCTION_CAPS)
    locale: str = "fr"
    today: dt.date = field(default_factory=dt.date.today)
    project_dir: Path = field(default_factory=Path.cwd)
    chromium: str = "/usr/bin/chromium"
    config_file: Path | None = None
    store_folder: Path | None = None  # figure stores of non-SQLite databases (None: <project>/data/store)
    store_wait_seconds: float = DEFAULT_STORE_WAIT_SECONDS  # waiting for another process's store build, at most
    subscriptions: SubscriptionSettings = field(default_factory=lambda: SubscriptionSettings())
    mail: MailSettings = field(default_factory=lambda: MailSettings())
    import_max_bytes: int = DEFAULT_IMPORT_MAX_MB * 1_000_000
    load_max_bytes: int = DEFAULT_LOAD_MAX_MB * 1_000_000
    serve: ServeSettings = field(default_factory=ServeSettings)
    currency: str = "EUR"  # ISO 4217 code of the firm's currency (amounts in its minor units)
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS  # an extract older than this is said to be old

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def find_project_dir(start: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The project folder (see the module docstring)."""
    home = (os.environ if environ is None else environ).get("PROSPECTS_HOME")
    if home:
        return Path(home).resolve()
    from .files import FileRefused, read_limited

    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "prospects.toml").is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = read_limited(pyproject, MAX_PYPROJECT_BYTES)
            except FileRefused:  # a pipe, a huge or unreadable file: not this project's
                continue
            if b'name = "prospects"' in text:
                return folder
    return here


def default_db_url(project_dir: Path) -> str:
    """``sqlite:///<project>/data/prospects.db``."""
    return f"sqlite:///{project_dir / 'data' / 'prospects.db'}"


def parse_date(value: str | dt.date, what: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` string (or a date) as a date, with a clear error."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what}: {value!r} is not a date of the form YYYY-MM-DD") from None


def _check_month(value: Any, source: str) -> int:
    try:
        month = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"fiscal_year_start_month ({source}): {value!r} is not a month 1-12") from None
    if not 1 <= month <= 12:
        raise ConfigError(f"fiscal_year_start_month ({source}): {month} is not a month 1-12")
    return month


def _check_caps(raw: Mapping[str, Any], source: str) -> Mapping[str, str | None]:
    caps = dict(DEFAULT_FUNCTION_CAPS)
    for function, level in raw.items():
        if function not in FUNCTIONS:
            raise ConfigError(f"function_caps ({source}): unknown function {function!r}; expected one of {', '.join(FUNCTIONS)}")
        if level in ("", "none", None, False):
            caps[function] = None
        elif level in LEVELS:
            caps[function] = level
        else:
            raise ConfigError(f"function_caps ({source}): {function} = {level!r}; expected one of {', '.join(LEVELS)} or 'none'")
    return MappingProxyType(caps)


def _check_max_mb(key: str, value: Any, source: str) -> int:
    try:
        mb = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} ({source}): {value!r} is not a number of megabytes") from None
    if isinstance(value, bool) or not 1 <= mb <= 1_000_000:
        raise ConfigError(f"{key} ({source}): {value!r} is not a number of megabytes from 1 to 1000000")
    return mb


def _check_store_wait(value: Any, source: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"store_wait_seconds ({source}): {value!r} is not a number of seconds") from None
    if isinstance(value, bool) or not 0 <= seconds <= 86_400:
        raise ConfigError(f"store_wait_seconds ({source}): {value!r} is not a number of seconds from 0 to 86400")
    return seconds


def _max_mb(key: str, default: int, env: Mapping[str, str], file_values: Mapping[str, Any], src_file: str) -> int:
    """A size limit in megabytes: ``PROSPECTS_<KEY>``, else the file's ``key``, else ``default``."""
    variable = f"PROSPECTS_{key.upper()}"
    if env.get(variable):
        return _check_max_mb(key, env[variable], variable)
    return _check_max_mb(key, file_values.get(key, default), src_file)


def _check_locale(value: Any, source: str) -> str:
    if value not in LOCALES:
        raise ConfigError(f"locale ({source}): {value!r}; expected one of {', '.join(LOCALES)}")
    return value


def _check_currency(value: Any, source: str) -> str:
    from .i18n import CurrencyError, check_currency

    try:
        return check_currency(value)
    except CurrencyError as exc:
        raise ConfigError(f"currency ({source}): {exc}") from None


def _check_stale(value: Any, source: str) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit() or not 1 <= int(value) <= 3650:
        raise ConfigError(f"stale_after_days ({source}): {value!r} is not a whole number of days from 1 to 3650")
    return int(value)


def _check_serve(raw: Any, env: Mapping[str, str], source: str) -> ServeSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: serve must be a table, e.g. [serve]")
    unknown = sorted(set(raw) - set(SERVE_KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) serve.{', serve.'.join(unknown)}; known: {', '.join(SERVE_KEYS)}")
    values: dict[str, int] = {}
    for key, (variable, least) in SERVE_KEYS.items():
        if env.get(variable):
            value, where = env[variable], variable
        elif key in raw:
            value, where = raw[key], f"serve.{key} ({source})"
        else:
            continue
        if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) < least:
            raise ConfigError(f"{where}: {value!r} is not a whole number of at least {least}")
        values[key] = int(value)
    return ServeSettings(**values)


def read_config_file(path: Path) -> dict[str, Any]:
    """The content of a ``prospects.toml``, with a clear error when it is not a regular file
    of at most :data:`MAX_CONFIG_BYTES` holding valid UTF-8 TOML (:func:`prospects.files.read_toml`)."""
    from .files import FileRefused, read_toml, shown_path

    try:
        return read_toml(path, MAX_CONFIG_BYTES, limit_text="the {limit} a settings file may hold")
    except FileRefused as exc:
        if exc.kind == "missing":
            raise ConfigError(f"config file {shown_path(path)} does not exist") from None
        if exc.kind == "nesting":
            raise ConfigError(f"config file {shown_path(path)}: tables or lists nest too deeply to be settings") from None
        raise ConfigError(f"config file {exc}") from None


def load_settings(
    *,
    db: str | None = None,
    config: str | Path | None = None,
    today: str | dt.date | None = None,
    locale: str | None = None,
    fiscal_year_start_month: int | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings of one run (order in the module docstring)."""
    env = os.environ if environ is None else environ
    project_dir = find_project_dir(cwd, env)
    config_path: Path | None
    if config is not None:
        config_path = Path(config)
        file_values = read_config_file(config_path)
    else:
        config_path = project_dir / "prospects.toml"
        file_values = read_config_file(config_path) if config_path.is_file() else {}
        if not file_values:
            config_path = config_path if config_path.is_file() else None
    src_file = f"config file {config_path}" if config_path else "config file"

    known = {"fiscal_year_start_month", "locale", "db", "chromium", "function_caps", "store_folder", "store_wait_seconds",
             "import_max_mb", "load_max_mb", "subscriptions", "mail", "serve", "currency", "stale_after_days"}
    unknown = sorted(set(file_values) - known)
    if unknown:
        raise ConfigError(f"{src_file}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")

    # database
    db_url = db or env.get("PROSPECTS_DB") or file_values.get("db") or default_db_url(project_dir)
    # fiscal year start
    if fiscal_year_start_month is not None:
        month = _check_month(fiscal_year_start_month, "argument")
    elif env.get("PROSPECTS_FY_START_MONTH"):
        month = _check_month(env["PROSPECTS_FY_START_MONTH"], "PROSPECTS_FY_START_MONTH")
    else:
        month = _check_month(file_values.get("fiscal_year_start_month", 1), src_file)
    # locale
    if locale is not None:
        loc = _check_locale(locale, "argument")
    elif env.get("PROSPECTS_LOCALE"):
        loc = _check_locale(env["PROSPECTS_LOCALE"], "PROSPECTS_LOCALE")
    else:
        loc = _check_locale(file_values.get("locale", "fr"), src_file)
    # today
    if today is not None:
        day = parse_date(today, "--today")
    elif env.get("PROSPECTS_TODAY"):
        day = parse_date(env["PROSPECTS_TODAY"], "PROSPECTS_TODAY")
    else:
        day = dt.date.today()
    caps_raw = file_values.get("function_caps", {})
    if not isinstance(caps_raw, Mapping):
        raise ConfigError(f"{src_file}: function_caps must be a table, e.g. [function_caps]")
    caps = _check_caps(caps_raw, src_file)
    chromium = env.get("PROSPECTS_CHROMIUM") or file_values.get("chromium") or "/usr/bin/chromium"
    store_raw = env.get("PROSPECTS_STORE") or file_values.get("store_folder")
    if store_raw is not None and (not isinstance(store_raw, str) or not store_raw.strip()):
        raise ConfigError(f"store_folder ({src_file}): {store_raw!r} is not a folder path")
    store = (project_dir / store_raw) if store_raw else None
    if env.get("PROSPECTS_STORE_WAIT"):
        store_wait = _check_store_wait(env["PROSPECTS_STORE_WAIT"], "PROSPECTS_STORE_WAIT")
    else:
        store_wait = _check_store_wait(file_values.get("store_wait_seconds", DEFAULT_STORE_WAIT_SECONDS), src_file)
    import_mb = _max_mb("import_max_mb", DEFAULT_IMPORT_MAX_MB, env, file_values, src_file)
    load_mb = _max_mb("load_max_mb", DEFAULT_LOAD_MAX_MB, env, file_values, src_file)
    serve = _check_serve(file_values.get("serve", {}), env, src_file)
    if env.get("PROSPECTS_CURRENCY"):
        currency = _check_currency(env["PROSPECTS_CURRENCY"], "PROSPECTS_CURRENCY")
    else:
        currency = _check_currency(file_values.get("currency", "EUR"), src_file)
    if env.get("PROSPECTS_STALE_AFTER_DAYS"):
        stale = _check_stale(env["PROSPECTS_STALE_AFTER_DAYS"], "PROSPECTS_STALE_AFTER_DAYS")
    else:
        stale = _check_stale(file_values.get("stale_after_days", DEFAULT_STALE_AFTER_DAYS), src_file)

    return Settings(
        db_url=db_url,
        fiscal_year_start_month=month,
        function_caps=caps,
        locale=loc,
        today=day,
        project_dir=project_dir,
        chromium=chromium,
        config_file=config_path,
        serve=serve,
        currency=currency,
        stale_after_days=stale,
        store_folder=store,
        store_wait_seconds=store_wait,
        import_max_bytes=import_mb * 1_000_000,
        load_max_bytes=load_mb * 1_000_000,
        subscriptions=subscription_settings(file_values.get("subscriptions", {}), src_file),
        mail=mail_settings(file_values.get("mail", {}), env, src_file, project_dir),
    )


# ---------------------------------------------------------------------------
# report subscriptions and mail (issue 15)

SUBSCRIPTION_DEFAULTS = ("validators", "none")
#: What a subscription's ``unit`` may name besides a unit id.
SUBSCRIPTION_UNITS = ("perimeter", "mine")
SUBSCRIPTION_FORMATS = ("pdf", "html")
MAIL_SECURITY = ("none", "starttls", "ssl")
MAIL_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
#: Keys that would hold a secret: never read from the file.
_MAIL_SECRETS = {"user": "PROSPECTS_SMTP_USER", "username": "PROSPECTS_SMTP_USER", "login": "PROSPECTS_SMTP_USER",
                 "password": "PROSPECTS_SMTP_PASSWORD", "passwd": "PROSPECTS_SMTP_PASSWORD"}


@dataclass(frozen=True)
class SubscriptionEntry:
    """One ``[[subscriptions.list]]`` entry, as written (checked against the data later)."""

    login: str
    unit: str  # a unit id, "perimeter" or "mine"
    formats: tuple[str, ...] = ("pdf",)
    language: str | None = None  # None: the settings' locale
    position: int = 0  # 1-based rank in the list, to name it in messages


@dataclass(frozen=True)
class SubscriptionSettings:
    """``[subscriptions]``: who receives which report."""

    default: str = "validators"
    exclude: tuple[str, ...] = ()
    entries: tuple[SubscriptionEntry, ...] = ()


@dataclass(frozen=True)
class MailSettings:
    """``[mail]`` plus the SMTP credentials from the environment (never printed)."""

    host: str = "localhost"
    port: int = 25
    security: str = "none"
    sender: str | None = None
    ca_file: Path | None = None
    timeout: float = 30.0
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def _formats(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: formats must be a list such as [\"pdf\"] or [\"pdf\", \"html\"]")
    bad = [v for v in value if v not in SUBSCRIPTION_FORMATS]
    if bad:
        raise ConfigError(f"{where}: format {bad[0]!r}; expected pdf and/or html")
    return tuple(dict.fromkeys(value))


def subscription_settings(raw: Any, src_file: str) -> SubscriptionSettings:
    """Check ``[subscriptions]`` (its shape only; logins and units are checked against the data)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{src_file}: subscriptions must be a table, e.g. [subscriptions]")
    unknown = sorted(set(raw) - {"default", "exclude", "list"})
    if unknown:
        raise ConfigError(f"{src_file}: [subscriptions] unknown key(s) {', '.join(unknown)}; known keys: default, exclude, list")
    default = raw.get("default", "validators")
    if default not in SUBSCRIPTION_DEFAULTS:
        raise ConfigError(f"{src_file}: [subscriptions] default = {default!r}; expected \"validators\" or \"none\"")
    exclude = raw.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise ConfigError(f"{src_file}: [subscriptions] exclude must be a list of logins")
    items = raw.get("list", [])
    if not isinstance(items, list) or not all(isinstance(v, Mapping) for v in items):
        raise ConfigError(f"{src_file}: subscriptions.list must be an array of tables, e.g. [[subscriptions.list]]")
    entries = []
    for pos, item in enumerate(items, start=1):
        where = f"{src_file}: [[subscriptions.list]] #{pos}"
        unknown = sorted(set(item) - {"login", "unit", "formats", "language"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: login, unit, formats, language")
        login, unit = item.get("login"), item.get("unit")
        if not isinstance(login, str) or not login.strip():
            raise ConfigError(f"{where}: login is missing")
        if not isinstance(unit, str) or not unit.strip():
            raise ConfigError(f"{where} ({login}): unit is missing (a unit id, \"perimeter\" or \"mine\")")
        language = item.get("language")
        if language is not None:
            language = _check_locale(language, where)
        entries.append(SubscriptionEntry(login=login, unit=unit, formats=_formats(item.get("formats", ["pdf"]), where),
                                         language=language, position=pos))
    return SubscriptionSettings(default=default, exclude=tuple(exclude), entries=tuple(entries))


def mail_settings(raw: Any, env: Mapping[str, str], src_file: str, project_dir: Path) -> MailSettings:
    """Check ``[mail]``; the SMTP user and password come from the environment only."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{src_file}: mail must be a table, e.g. [mail]")
    secrets = sorted(k for k in raw if k in _MAIL_SECRETS)
    if secrets:
        key = secrets[0]
        raise ConfigError(
            f"{src_file}: [mail] {key} is refused: the SMTP credentials are never read from the file; "
            f"remove it and set {_MAIL_SECRETS[key]} in the environment of the command (e.g. a systemd EnvironmentFile)"
        )
    known = {"host", "port", "security", "sender", "ca_file", "timeout"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{src_file}: [mail] unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
    security = raw.get("security", "none")
    if security not in MAIL_SECURITY:
        raise ConfigError(f"{src_file}: [mail] security = {security!r}; expected one of {', '.join(MAIL_SECURITY)}")
    host = raw.get("host", "localhost")
    if not isinstance(host, str) or not host.strip() or any(ch.isspace() for ch in host):
        raise ConfigError(f"{src_file}: [mail] host = {host!r} is not a host name")
    port = raw.get("port", MAIL_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{src_file}: [mail] port = {port!r} is not a port number 1-65535")
    sender = raw.get("sender")
    if sender is not None and (not isinstance(sender, str) or not sender.strip() or "\r" in sender or "\n" in sender):
        raise ConfigError(f"{src_file}: [mail] sender = {sender!r} is not an address")
    ca_file = raw.get("ca_file")
    if ca_file is not None:
        from .files import FileRefused, open_limited, shown_path

        if not isinstance(ca_file, str) or not ca_file.strip():
            raise ConfigError(f"{src_file}: [mail] ca_file = {ca_file!r} is not a file path")
        ca_file = Path(ca_file) if Path(ca_file).is_absolute() else project_dir / ca_file
        try:
            with open_limited(ca_file, MAX_CA_FILE_BYTES, limit_text="the {limit} a CA bundle may hold"):
                pass
        except FileRefused as exc:
            if exc.kind == "missing":
                raise ConfigError(f"{src_file}: [mail] ca_file {shown_path(ca_file)} does not exist") from None
            raise ConfigError(f"{src_file}: [mail] ca_file {exc}") from None
    timeout = raw.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{src_file}: [mail] timeout = {timeout!r} is not a number of seconds")
    return MailSettings(
        host=host.strip(), port=port, security=security, sender=sender.strip() if sender else None, ca_file=ca_file,
        timeout=float(timeout), user=env.get("PROSPECTS_SMTP_USER") or None, password=env.get("PROSPECTS_SMTP_PASSWORD") or None,
    )
