"""`prospects serve` without a browser: identity injection, hardening, the command's checks."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import pytest

from prospects import db, serving
from prospects.config import load_settings
from prospects.sample import sample_firm

NASTY = [
    "dir",
    'a"b',
    "a'b",
    "back\\slash\\",
    "new\nline",
    "x = 1\nimport os; os.system('echo pwned')",
    '"; import os; os.system("echo pwned") #',
    "\u2028\u2029\x85\x00\x1b",
    "élodie.dupont@cabinet.fr",
    "emoji 😀 astral",
    "{{ jinja }} ${shell} %s",
]


@pytest.mark.parametrize("login", NASTY)
def test_injected_login_reads_back_exactly_and_runs_nothing(login):
    literal = serving.python_literal(login)
    assert "\n" not in literal and "\r" not in literal
    assert ast.literal_eval(literal) == login
    source = serving.parameter_source({"login": login, "config": None})
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)  # assignments of literals, nothing else
    scope: dict = {}
    exec(compile(tree, "<injected>", "exec"), {"__builtins__": {}}, scope)
    assert scope == {"login": login, "config": None}
    assert json.loads(literal) == login  # and it is the JSON escaping of the value


def test_parameter_names_are_checked():
    with pytest.raises(ValueError):
        serving.parameter_source({"login; import os": "x"})
    with pytest.raises(TypeError):
        serving.python_literal(3)  # type: ignore[arg-type]


def _notebook():
    nb = nbformat.read(serving.dashboard_notebook(), as_version=4)
    return nb


def test_injection_goes_after_the_parameters_cell_once():
    nb = _notebook()
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    at = next(i for i, t in enumerate(tags) if "parameters" in t)
    hook = serving.make_prelaunch_hook(serving.fixed_login("part1"))
    out = hook(SimpleNamespace(), nb, "")
    out = hook(SimpleNamespace(), out, "")  # twice: still one injected cell
    injected = [i for i, c in enumerate(out.cells) if serving.INJECTED_TAG in c.metadata.get("tags", [])]
    assert injected == [at + 1]
    scope: dict = {}
    exec(out.cells[at].source + "\n" + out.cells[at + 1].source, {}, scope)
    assert scope["login"] == "part1" and scope["config"] is None


def test_no_viewer_no_page():
    from tornado.web import HTTPError

    hook = serving.make_prelaunch_hook(lambda handler: None)
    with pytest.raises(HTTPError) as exc:
        hook(SimpleNamespace(), _notebook(), "")
    assert exc.value.status_code == 403


def test_the_login_source_gets_the_request_handler():
    seen = []

    def source(handler):
        seen.append(handler)
        return "dir"

    handler = SimpleNamespace()
    serving.make_prelaunch_hook(source)(handler, _notebook(), "")
    assert seen == [handler] and handler.viewer_login == "dir"


@pytest.fixture
def sample_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    return load_settings(db=url, today="2026-11-29")


def test_hardening_wins_over_user_config_files(sample_settings, tmp_path, monkeypatch):
    # a user-level voila config trying to loosen everything
    conf = tmp_path / "jupyter-config"
    conf.mkdir()
    (conf / "voila.json").write_text(json.dumps({
        "VoilaConfiguration": {"show_tracebacks": True, "allow_template_override": "YES", "allow_theme_override": "YES",
                               "strip_sources": False, "file_allowlist": [".*"]},
        "Voila": {"ip": "0.0.0.0"},
    }))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(conf))
    options = serving.ServeOptions(user="dir", port=8899, open_browser=False, cull_idle_timeout=600, cell_timeout=60)
    app = serving.build_voila(sample_settings, options)
    vc = app.voila_configuration
    assert vc.show_tracebacks is False and vc.strip_sources is True
    assert vc.allow_template_override == "NO" and vc.allow_theme_override == "NO"
    assert vc.file_allowlist == [] and vc.preheat_kernel is False
    assert vc.prelaunch_hook is not None
    assert app.ip == "127.0.0.1" and app.port == 8899 and app.port_retries == 0 and app.open_browser is False
    assert app.notebook_path.endswith("notebooks/dashboard.ipynb")
    assert app.config.VoilaExecutor.timeout == 60
    assert app.config.MappingKernelManager.cull_idle_timeout == 600
    assert app.config.MappingKernelManager.cull_interval == 300
    # the kernel manager Voilà creates at start reads the culling settings
    settings = app.init_settings()
    km = settings["kernel_manager"]
    assert km.cull_idle_timeout == 600 and km.cull_interval == 300


def test_kernel_environment(sample_settings):
    env = serving.kernel_environment(sample_settings, today_explicit=True)
    assert env["PROSPECTS_DB"] == sample_settings.db_url and env["PROSPECTS_TODAY"] == "2026-11-29"
    assert env["PROSPECTS_LOCALE"] == "fr"
    assert "PROSPECTS_TODAY" not in serving.kernel_environment(sample_settings, today_explicit=False)


def test_demo_login_default_only_for_demo_databases(sample_settings):
    assert serving.demo_login_table(sample_settings) == []  # Cabinet Exemple is not a demo firm
    logins = [
        {"login": "d", "what": "the whole firm, with the filters", "can_validate_offers": True},
        {"login": "p", "what": "their region, with the filters", "can_validate_offers": True},
    ]
    assert serving.default_demo_login(logins) == "p"
    assert serving.default_demo_login(logins[:1]) == "d"
    assert serving.default_demo_login([]) is None


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "prospects.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_serve_refuses_an_empty_database_and_a_missing_user(tmp_path, sample_settings):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    r = _cli("--db", empty, "serve", "--user", "dir", "--no-browser")
    assert r.returncode == 2 and "prospects demo" in r.stderr
    r = _cli("--db", sample_settings.db_url, "serve", "--no-browser")  # not a demo firm: --user is needed
    assert r.returncode == 2 and "--user" in r.stderr
    r = _cli("serve", "--help")
    assert r.returncode == 0 and "--auth" in r.stdout and "127.0.0.1" in r.stdout


def test_local_mode_listens_on_loopback_only(sample_settings):
    for ip in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert serving.check_options(serving.ServeOptions(ip=ip)) is None
    for ip in ("0.0.0.0", "::", "192.0.2.10", "example.org"):
        problem = serving.check_options(serving.ServeOptions(ip=ip))
        assert problem and "loopback" in problem and "--auth header" in problem
    r = _cli("--db", sample_settings.db_url, "serve", "--user", "dir", "--ip", "0.0.0.0", "--no-browser")
    assert r.returncode == 2 and "loopback" in r.stderr


def test_header_mode_options_are_checked():
    ok = serving.ServeOptions(auth="header", ip="0.0.0.0", trusted_proxies=("10.0.0.5", "192.0.2.0/24", "::1"))
    assert serving.check_options(ok) is None
    assert "header name" in serving.check_options(serving.ServeOptions(auth="header", header_name="X User"))
    assert "--trusted-proxy" in serving.check_options(serving.ServeOptions(auth="header", trusted_proxies=("proxy.lan",)))
    assert "--auth" in serving.check_options(serving.ServeOptions(auth="token"))


def test_each_mode_gets_its_identity_provider_and_the_common_hardening(sample_settings):
    from prospects import voila_app

    for auth, cls in (("local", voila_app.LocalIdentity), ("header", voila_app.HeaderIdentity), ("hub", voila_app.HubIdentity)):
        options = serving.ServeOptions(auth=auth, user="dir", hub_user="dir", header_name="X-Remote-User", open_browser=False)
        app = serving.build_voila(sample_settings, options)
        assert app.identity_provider_class is cls and app.authorizer_class is voila_app.KernelOwnerAuthorizer
        assert app.voila_configuration.multi_kernel_manager_class is voila_app.OwnedKernelManager
        assert app.token is None and not app.auto_token
        assert app.tornado_settings["headers"]["Content-Security-Policy"].startswith("frame-ancestors 'self'")
        assert app.tornado_settings["serve_traceback"] is False
        assert app.allow_remote_hosts is (auth != "local")
        settings = app.init_settings()
        provider = settings["identity_provider"]
        assert isinstance(provider, cls) and provider.get_handlers() == ([] if auth != "hub" else provider.get_handlers())
        assert not provider.login_available and provider.auth_enabled
        if auth == "header":
            assert provider.header_name == "X-Remote-User"
        assert settings["allow_remote_access"] is (auth != "local")


class _Request:
    def __init__(self, remote_ip, headers):
        from tornado.httputil import HTTPHeaders

        self.remote_ip, self.headers, self.method, self.path = remote_ip, HTTPHeaders(headers), "GET", "/"


class _Handler:
    def __init__(self, remote_ip="127.0.0.1", **headers):
        import logging

        self.request, self.log = _Request(remote_ip, headers), logging.getLogger("test")


def test_the_header_is_trusted_from_the_proxy_only():
    from tornado.web import HTTPError

    from prospects.voila_app import HeaderIdentity

    provider = HeaderIdentity(trusted_proxies=["127.0.0.1", "::1", "10.1.0.0/16"])
    assert provider.get_user(_Handler(**{"X-Forwarded-User": " part1 "})).username == "part1"
    assert provider.get_user(_Handler("::ffff:127.0.0.1", **{"X-Forwarded-User": "dir"})).username == "dir"
    assert provider.get_user(_Handler("10.1.2.3", **{"X-Forwarded-User": "dir"})).username == "dir"
    refused = [
        _Handler(),  # no header
        _Handler(**{"X-Forwarded-User": ""}),
        _Handler(**{"X-Forwarded-User": "a" * 300}),
        _Handler("192.0.2.7", **{"X-Forwarded-User": "dir"}),  # not from the proxy
        _Handler(**{"X-Forwarded-User-Name": "dir"}),
    ]
    two = _Handler()
    two.request.headers.add("X-Forwarded-User", "dir")
    two.request.headers.add("X-Forwarded-User", "part1")
    refused.append(two)
    for handler in refused:
        with pytest.raises(HTTPError) as exc:
            provider.get_user(handler)
        assert exc.value.status_code == 403 and handler.current_user is None


def test_the_prelaunch_hook_records_the_kernel_owner_and_refuses_unknown_logins(sample_settings):
    from tornado.web import HTTPError

    check = serving.ViewerCheck(sample_settings.db_url)
    assert check("dir") is None and "inconnu" in check("nobody") and "inactif" in check("gone")
    # a login typed by someone: one line, escaped, at most 60 characters of it
    hostile = check("x\r\nSet-Cookie: a=b" + "y" * 500)
    assert hostile.startswith("Accès refusé : identifiant inconnu « x\\r\\nSet-Cookie: a=b") and "\n" not in hostile
    assert len(hostile) < 120
    assert serving.ViewerCheck(f"sqlite:///{sample_settings.project_dir}/missing/none.db")("dir") is None  # the kernel says it
    hook = serving.make_prelaunch_hook(serving.identity_login, check=check)

    class H:
        current_user = None

    with pytest.raises(HTTPError):
        hook(H(), _notebook(), "")
    for login in ("nobody", "gone"):
        handler = H()
        handler.current_user = type("U", (), {"username": login})()
        with pytest.raises(HTTPError) as exc:
            hook(handler, _notebook(), "")
        assert exc.value.status_code == 403 and "Accès refusé" in exc.value.log_message % exc.value.args
        assert not hasattr(handler, "viewer_login")  # refused: no owner, so no kernel
    handler = H()
    handler.current_user = type("U", (), {"username": "staff1"})()
    hook(handler, _notebook(), "")
    assert handler.viewer_login == "staff1"


def test_the_pool_fingerprint_changes_with_the_date_the_config_file_and_the_data(sample_settings, tmp_path):
    import datetime as dt
    import time

    conf = tmp_path / "prospects.toml"
    conf.write_text('locale = "fr"\n')
    day = [dt.date(2026, 11, 29)]
    fingerprint = serving.PoolFingerprint(sample_settings.with_(config_file=conf), today_explicit=False, data_every=0,
                                          clock=lambda: day[0])
    first = fingerprint()
    assert fingerprint() == first  # nothing changed
    day[0] = dt.date(2026, 11, 30)  # midnight
    assert fingerprint() != first
    second = fingerprint()
    conf.write_text('locale = "en"\n# edited\n')
    assert fingerprint() != second
    third = fingerprint()
    time.sleep(1.1)  # extract_info's loaded_at counts seconds
    db.replace_all(db.make_engine(sample_settings.db_url), sample_firm())  # a new load
    assert fingerprint() != third
    fixed = serving.PoolFingerprint(sample_settings, today_explicit=True, clock=lambda: day[0])
    before = fixed()
    day[0] = dt.date(2026, 12, 1)
    assert fixed() == before  # --today fixed: the system date does not matter


def test_the_documented_nginx_configuration_is_the_shipped_file():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    lines = (root / "deploy" / "nginx-prospects.conf").read_text().splitlines()
    header = lines.index("")  # the file's header comment, up to the first blank line
    lines = lines[header + 1:]
    doc = (root / "docs" / "deployment.md").read_text()
    block = doc.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert block.strip() == "\n".join(lines).strip()
    for option in ("--auth", "--header-name", "--trusted-proxy", "--cull-idle-timeout"):
        assert option in doc
