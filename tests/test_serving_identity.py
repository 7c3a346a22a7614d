"""prospects.serving.identity: the injected login, the login sources, the identity providers, the viewer check."""

from __future__ import annotations

import ast
import json
from types import SimpleNamespace

import nbformat
import pytest

from prospects.config import load_settings
from prospects.serving import identity
from prospects.serving.app import dashboard_notebook
from prospects.serving.identity import HeaderIdentity

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
    literal = identity.python_literal(login)
    assert "\n" not in literal and "\r" not in literal
    assert ast.literal_eval(literal) == login
    source = identity.parameter_source({"login": login, "config": None})
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)  # assignments of literals, nothing else
    scope: dict = {}
    exec(compile(tree, "<injected>", "exec"), {"__builtins__": {}}, scope)
    assert scope == {"login": login, "config": None}
    assert json.loads(literal) == login  # and it is the JSON escaping of the value

def test_parameter_names_are_checked():
    with pytest.raises(ValueError):
        identity.parameter_source({"login; import os": "x"})
    with pytest.raises(TypeError):
        identity.python_literal(3)  # type: ignore[arg-type]


def _notebook():
    return nbformat.read(dashboard_notebook(), as_version=4)

def test_injection_goes_after_the_parameters_cell_once():
    nb = _notebook()
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    at = next(i for i, t in enumerate(tags) if "parameters" in t)
    hook = identity.make_prelaunch_hook(identity.fixed_login("part1"))
    out = hook(SimpleNamespace(), nb, "")
    out = hook(SimpleNamespace(), out, "")  # twice: still one injected cell
    injected = [i for i, c in enumerate(out.cells) if identity.INJECTED_TAG in c.metadata.get("tags", [])]
    assert injected == [at + 1]
    scope: dict = {}
    exec(out.cells[at].source + "\n" + out.cells[at + 1].source, {}, scope)
    assert scope["login"] == "part1" and scope["config"] is None

def test_no_viewer_no_page():
    from tornado.web import HTTPError

    hook = identity.make_prelaunch_hook(lambda handler: None)
    with pytest.raises(HTTPError) as exc:
        hook(SimpleNamespace(), _notebook(), "")
    assert exc.value.status_code == 403

def test_the_login_source_gets_the_request_handler():
    seen = []

    def source(handler):
        seen.append(handler)
        return "dir"

    handler = SimpleNamespace()
    identity.make_prelaunch_hook(source)(handler, _notebook(), "")
    assert seen == [handler] and handler.viewer_login == "dir"

@pytest.fixture
def sample_settings(sample_url):
    return load_settings(db=sample_url, today="2026-11-29")

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

    check = identity.ViewerCheck(sample_settings.db_url)
    assert check("dir") is None and "inconnu" in check("nobody") and "inactif" in check("gone")
    # a login typed by someone: one line, escaped, at most 60 characters of it
    hostile = check("x\r\nSet-Cookie: a=b" + "y" * 500)
    assert hostile.startswith("Accès refusé : identifiant inconnu « x\\r\\nSet-Cookie: a=b") and "\n" not in hostile
    assert len(hostile) < 120
    assert identity.ViewerCheck(f"sqlite:///{sample_settings.project_dir}/missing/none.db")("dir") is None  # the kernel says it
    hook = identity.make_prelaunch_hook(identity.identity_login, check=check)

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
