"""Settings: one module, one resolution order (flag > environment > prospects.toml > default)."""

import datetime as dt

import pytest

from prospects.config import DEFAULT_FUNCTION_CAPS, ConfigError, find_project_dir, load_settings

from .hostile import KINDS, make_hostile


def write(folder, text):
    (folder / "prospects.toml").write_text(text, "utf-8")
    return folder


def test_defaults(tmp_path):
    s = load_settings(environ={}, cwd=tmp_path)
    assert s.db_url == f"sqlite:///{tmp_path / 'data' / 'prospects.db'}"
    assert s.fiscal_year_start_month == 1 and s.locale == "fr"
    assert dict(s.function_caps) == dict(DEFAULT_FUNCTION_CAPS)
    assert s.today == dt.date.today()
    assert s.config_file is None


def test_file_then_environment_then_flag(tmp_path):
    write(tmp_path, 'fiscal_year_start_month = 10\nlocale = "en"\ndb = "sqlite:///file.db"\n[function_caps]\npartner = "agency"\nstaff = "none"\n')
    s = load_settings(environ={}, cwd=tmp_path)
    assert (s.fiscal_year_start_month, s.locale, s.db_url) == (10, "en", "sqlite:///file.db")
    assert s.function_caps["partner"] == "agency" and s.function_caps["director"] == "firm" and s.function_caps["staff"] is None
    assert s.config_file == tmp_path / "prospects.toml"
    env = {"PROSPECTS_DB": "sqlite:///env.db", "PROSPECTS_LOCALE": "fr", "PROSPECTS_FY_START_MONTH": "4", "PROSPECTS_TODAY": "2026-11-29"}
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.db_url, s.locale, s.fiscal_year_start_month, s.today) == ("sqlite:///env.db", "fr", 4, dt.date(2026, 11, 29))
    s = load_settings(db="sqlite:///flag.db", today="2025-01-31", locale="en", fiscal_year_start_month=7, environ=env, cwd=tmp_path)
    assert (s.db_url, s.today, s.locale, s.fiscal_year_start_month) == ("sqlite:///flag.db", dt.date(2025, 1, 31), "en", 7)


def test_project_folder_is_found_from_a_subfolder(tmp_path):
    write(tmp_path, "locale = 'en'\n")
    sub = tmp_path / "notebooks"
    sub.mkdir()
    s = load_settings(environ={}, cwd=sub)
    assert s.locale == "en" and s.project_dir == tmp_path


def test_explicit_config_file(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("fiscal_year_start_month = 9\n", "utf-8")
    assert load_settings(config=other, environ={}, cwd=tmp_path).fiscal_year_start_month == 9
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config=tmp_path / "missing.toml", environ={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("fiscal_year_start_month = 13\n", {}, "not a month 1-12"),
        ("locale = 'de'\n", {}, "expected one of fr, en"),
        ("colour = 'blue'\n", {}, "unknown key"),
        ("[function_caps]\nintern = 'team'\n", {}, "unknown function"),
        ("[function_caps]\npartner = 'country'\n", {}, "expected one of"),
        ("not toml ===\n", {}, "prospects.toml"),
        ("", {"PROSPECTS_TODAY": "29/11/2026"}, "YYYY-MM-DD"),
        ("", {"PROSPECTS_FY_START_MONTH": "octobre"}, "PROSPECTS_FY_START_MONTH"),
    ],
)
def test_bad_settings_say_what_and_where(tmp_path, text, env, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env, cwd=tmp_path)


def test_cli_reports_bad_settings_with_exit_2(tmp_path, capsys, monkeypatch):
    from prospects.cli import main

    monkeypatch.setenv("PROSPECTS_HOME", str(write(tmp_path, "locale = 'de'\n")))
    assert main(["indicators", "--user", "x"]) == 2
    assert "locale" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# [subscriptions] and [mail] (issue 15)


def test_subscription_and_mail_settings(tmp_path):
    s = load_settings(environ={}, cwd=tmp_path)
    assert (s.subscriptions.default, s.subscriptions.entries) == ("validators", ())
    assert (s.mail.host, s.mail.port, s.mail.security, s.mail.sender, s.mail.user) == ("localhost", 25, "none", None, None)
    (tmp_path / "ca.pem").write_text("x")
    write(tmp_path, '[subscriptions]\ndefault = "none"\nexclude = ["old"]\n'
          '[[subscriptions.list]]\nlogin = "mbrun"\nunit = "R-IDF"\n'
          '[[subscriptions.list]]\nlogin = "jdupont"\nunit = "mine"\nformats = ["pdf", "html"]\nlanguage = "en"\n'
          '[mail]\nhost = "smtp.exemple.fr"\nsecurity = "starttls"\nsender = "prospects@exemple.fr"\nca_file = "ca.pem"\n')
    env = {"PROSPECTS_SMTP_USER": "relay", "PROSPECTS_SMTP_PASSWORD": "s3cret"}
    s = load_settings(environ=env, cwd=tmp_path)
    first, second = s.subscriptions.entries
    assert (s.subscriptions.default, s.subscriptions.exclude) == ("none", ("old",))
    assert (first.login, first.unit, first.formats, first.language, first.position) == ("mbrun", "R-IDF", ("pdf",), None, 1)
    assert (second.formats, second.language, second.position) == (("pdf", "html"), "en", 2)
    assert (s.mail.host, s.mail.port, s.mail.security, s.mail.ca_file) == ("smtp.exemple.fr", 587, "starttls", tmp_path / "ca.pem")
    assert (s.mail.user, s.mail.password) == ("relay", "s3cret")
    assert "s3cret" not in repr(s)  # the password is never printed
    write(tmp_path, '[mail]\nsecurity = "ssl"\n')
    assert load_settings(environ={}, cwd=tmp_path).mail.port == 465


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[mail]\npassword = "s3cret"\n', r"\[mail\] password is refused: .*never read from the file.*PROSPECTS_SMTP_PASSWORD"),
        ('[mail]\nuser = "relay"\n', r"\[mail\] user is refused: .*PROSPECTS_SMTP_USER"),
        ('[mail]\nsecurity = "tls"\n', "expected one of none, starttls, ssl"),
        ('[mail]\nport = 0\n', "not a port number"),
        ('[mail]\nsender = "a@b.fr\\nBcc: c@d.fr"\n', "not an address"),
        ('[mail]\nca_file = "missing.pem"\n', "does not exist"),
        ('[mail]\nrelay = "x"\n', "unknown key"),
        ('[subscriptions]\ndefault = "all"\n', 'expected "validators" or "none"'),
        ('[subscriptions]\nevery = "monday"\n', "unknown key"),
        ('[[subscriptions.list]]\nunit = "R1"\n', "#1: login is missing"),
        ('[[subscriptions.list]]\nlogin = "mbrun"\n', r"#1 \(mbrun\): unit is missing"),
        ('[[subscriptions.list]]\nlogin = "mbrun"\nunit = "R1"\nformats = ["docx"]\n', "format 'docx'; expected pdf and/or html"),
        ('[[subscriptions.list]]\nlogin = "mbrun"\nunit = "R1"\nlanguage = "de"\n', "expected one of fr, en"),
        ('[[subscriptions.list]]\nlogin = "mbrun"\nunit = "R1"\nday = "monday"\n', "unknown key"),
    ],
)
def test_bad_subscription_and_mail_settings_say_what_and_where(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={}, cwd=tmp_path)


def test_import_size_limit_from_file_then_environment(tmp_path):
    assert load_settings(environ={}, cwd=tmp_path).import_max_bytes == 100_000_000
    write(tmp_path, "import_max_mb = 50\n")
    assert load_settings(environ={}, cwd=tmp_path).import_max_bytes == 50_000_000
    assert load_settings(environ={"PROSPECTS_IMPORT_MAX_MB": "7"}, cwd=tmp_path).import_max_bytes == 7_000_000
    for bad in ("0", "lots", "true"):
        with pytest.raises(ConfigError, match=r"import_max_mb \(PROSPECTS_IMPORT_MAX_MB\): .* is not a number of megabytes"):
            load_settings(environ={"PROSPECTS_IMPORT_MAX_MB": bad}, cwd=tmp_path)
    write(tmp_path, "import_max_mb = true\n")
    with pytest.raises(ConfigError, match=r"import_max_mb .*prospects\.toml"):
        load_settings(environ={}, cwd=tmp_path)


def test_load_size_limit_from_file_then_environment(tmp_path):
    assert load_settings(environ={}, cwd=tmp_path).load_max_bytes == 1_000_000_000
    write(tmp_path, "load_max_mb = 3000\n")
    assert load_settings(environ={}, cwd=tmp_path).load_max_bytes == 3_000_000_000
    assert load_settings(environ={"PROSPECTS_LOAD_MAX_MB": "7"}, cwd=tmp_path).load_max_bytes == 7_000_000
    with pytest.raises(ConfigError, match=r"load_max_mb \(PROSPECTS_LOAD_MAX_MB\): '0' is not a number of megabytes from 1"):
        load_settings(environ={"PROSPECTS_LOAD_MAX_MB": "0"}, cwd=tmp_path)


def test_serve_capacity_from_the_file_then_the_environment_and_checked(tmp_path):
    from prospects.config import ServeSettings

    assert load_settings(environ={}, cwd=tmp_path).serve == ServeSettings()
    write(tmp_path, "[serve]\npool_size = 0\nopening_limit = 6\nkernels_per_login = 2\nconnect_timeout = 30\n")
    s = load_settings(environ={}, cwd=tmp_path)
    assert s.serve == ServeSettings(pool_size=0, opening_limit=6, kernels_per_login=2, connect_timeout=30)
    s = load_settings(environ={"PROSPECTS_SERVE_POOL_SIZE": "3", "PROSPECTS_SERVE_CONNECT_TIMEOUT": "90"}, cwd=tmp_path)
    assert (s.serve.pool_size, s.serve.opening_limit, s.serve.connect_timeout) == (3, 6, 90)
    for text, named in (("[serve]\nopening_limit = 0\n", "serve.opening_limit"), ("[serve]\npool_size = -1\n", "serve.pool_size"),
                        ("[serve]\nconnect_timeout = 'soon'\n", "serve.connect_timeout"),
                        ("[serve]\nkernels_per_login = true\n", "serve.kernels_per_login"),
                        ("[serve]\npools = 2\n", "serve.pools"), ("serve = 3\n", "[serve]")):
        write(tmp_path, text)
        with pytest.raises(ConfigError) as exc:
            load_settings(environ={}, cwd=tmp_path)
        assert named in str(exc.value) and "prospects.toml" in str(exc.value), (text, str(exc.value))
    write(tmp_path, "")
    with pytest.raises(ConfigError, match="PROSPECTS_SERVE_OPENING_LIMIT"):
        load_settings(environ={"PROSPECTS_SERVE_OPENING_LIMIT": "many"}, cwd=tmp_path)


def test_serve_flags_win_over_the_settings(tmp_path, monkeypatch):
    from prospects import cli
    from prospects.serving import command

    write(tmp_path, "[serve]\npool_size = 3\nopening_limit = 5\n")
    seen = {}
    monkeypatch.setattr(command, "run_serve_command", lambda settings, options, today_explicit: seen.update(o=options) or 0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROSPECTS_HOME", str(tmp_path))
    assert cli.main(["serve", "--no-browser", "--opening-limit", "2", "--kernels-per-login", "0"]) == 0
    options = seen["o"]
    assert (options.pool_size, options.opening_limit, options.kernels_per_login, options.connect_timeout) == (3, 2, 0, 60)


def test_currency_from_file_then_environment_and_checked(tmp_path):
    assert load_settings(environ={}, cwd=tmp_path).currency == "EUR"
    write(tmp_path, 'currency = "usd"\n')
    assert load_settings(environ={}, cwd=tmp_path).currency == "USD"
    assert load_settings(environ={"PROSPECTS_CURRENCY": "JPY"}, cwd=tmp_path).currency == "JPY"
    with pytest.raises(ConfigError, match=r"^currency \(PROSPECTS_CURRENCY\): 'EURO' is not an ISO 4217 currency code"):
        load_settings(environ={"PROSPECTS_CURRENCY": "EURO"}, cwd=tmp_path)
    for bad in ('"XYZ"', "978", '["EUR"]'):
        write(tmp_path, f"currency = {bad}\n")
        with pytest.raises(ConfigError, match=r"^currency \(config file .*prospects\.toml\): .* is not an ISO 4217 currency code"):
            load_settings(environ={}, cwd=tmp_path)


def test_stale_after_days_from_file_then_environment_and_checked(tmp_path):
    assert load_settings(environ={}, cwd=tmp_path).stale_after_days == 3
    write(tmp_path, "stale_after_days = 7\n")
    assert load_settings(environ={}, cwd=tmp_path).stale_after_days == 7
    assert load_settings(environ={"PROSPECTS_STALE_AFTER_DAYS": "1"}, cwd=tmp_path).stale_after_days == 1
    for bad in ("0", "trois", "true", "-2"):
        write(tmp_path, f"stale_after_days = {bad if bad != 'trois' else repr(bad)}\n")
        with pytest.raises(ConfigError, match=r"^stale_after_days \(config file .*\): .* is not a whole number of days"):
            load_settings(environ={}, cwd=tmp_path)


def test_cli_refuses_an_unknown_currency_in_one_line(tmp_path, capsys, monkeypatch):
    from prospects.cli import main

    monkeypatch.setenv("PROSPECTS_HOME", str(write(tmp_path, "")))
    monkeypatch.setenv("PROSPECTS_CURRENCY", "ZZZ")
    assert main(["indicators", "--user", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PROSPECTS_CURRENCY" in err and "'ZZZ' is not an ISO 4217 currency code" in err


# ---------------------------------------------------------------------------
# the settings file is read bounded and checked (issue 20, point 12)


def _hostile_config(tmp_path, kind):
    """A path to give as --config: a folder, a device, a pipe, a huge sparse file, bad bytes."""

    if kind == "device":
        return "/dev/zero"
    path = tmp_path / f"{kind}.toml"
    if kind in KINDS:
        make_hostile(path, kind)
    elif kind == "binary":
        path.write_bytes(b"locale = '\xff\xfe'\n")
    elif kind == "nested":
        path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "utf-8")
    return path


CONFIG_REFUSALS = {
    "folder": "not a file but a folder",
    "device": "/dev/zero: not a file but a device or a pipe",
    "pipe": "not a file but a device or a pipe",
    "sparse": "50,000.0 MB, more than the 1.0 MB a settings file may hold",
    "binary": "not UTF-8 text",
    "nested": "nest too deeply",
}


@pytest.mark.parametrize(("kind", "message"), CONFIG_REFUSALS.items(), ids=CONFIG_REFUSALS)
def test_a_config_that_is_not_a_small_text_file_is_refused_before_it_is_read(tmp_path, kind, message):
    path = _hostile_config(tmp_path, kind)
    with pytest.raises(ConfigError, match="config file ") as caught:
        load_settings(config=path, environ={}, cwd=tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_ca_file_must_be_a_small_regular_file(tmp_path):
    import os

    os.mkfifo(tmp_path / "ca.pem")
    write(tmp_path, '[mail]\nca_file = "ca.pem"\n')
    with pytest.raises(ConfigError, match=r"\[mail\] ca_file .*ca.pem: not a file but a device or a pipe"):
        load_settings(environ={}, cwd=tmp_path)
    with open(tmp_path / "big.pem", "wb") as handle:
        handle.truncate(11_000_000)
    write(tmp_path, '[mail]\nca_file = "big.pem"\n')
    with pytest.raises(ConfigError, match=r"big.pem: 11.0 MB, more than the 10.0 MB a CA bundle may hold"):
        load_settings(environ={}, cwd=tmp_path)


def test_the_project_folder_search_reads_a_bounded_pyproject(tmp_path):
    import os

    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    os.mkfifo(tmp_path / "a" / "pyproject.toml")  # would block a plain read
    with open(tmp_path / "pyproject.toml", "wb") as handle:  # 50 GB of holes: would exhaust memory
        handle.truncate(50 * 10**9)
    assert find_project_dir(sub, {}) == sub.resolve()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "prospects"\n', "utf-8")
    assert find_project_dir(sub, {}) == tmp_path.resolve()
