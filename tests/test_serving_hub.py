"""prospects.serving.hub without a Hub: what the Hub's environment gives a single-user server."""

from __future__ import annotations

from prospects.serving.command import ServeOptions, check_options
from prospects.serving.hub import hub_options


def test_hub_mode_refuses_to_start_without_jupyterhub_user():
    options = hub_options(ServeOptions(auth="hub"), environ={})
    assert "JUPYTERHUB_USER" in check_options(options)
    options = hub_options(ServeOptions(auth="hub"), environ={
        "JUPYTERHUB_USER": "part1", "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:45678/user/part1/",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/part1/"})
    assert (options.hub_user, options.ip, options.port, options.base_url) == ("part1", "127.0.0.1", 45678, "/user/part1/")
    assert options.open_browser is False
    assert check_options(options) is None
