"""What ``deploy/jupyterhub_config.py`` takes from the package: the Hub's side of ``--auth hub``.

The Hub itself runs in the prospects virtual environment (``pip install 'prospects[hub]'``):

* :func:`collaborators_only`, the authenticator's ``post_auth_hook``: only an active
  collaborator of the database signs in at the Hub (one indexed query, the directory check
  of the dashboard, :class:`prospects.serving.identity.ViewerCheck`); anyone else reads the
  refusal on the Hub's login page and never gets a server;
* :func:`server_environment`: the ``PROSPECTS_*`` variables each person's server inherits
  (not the Hub's own, not the mail credentials, which the dashboard never needs).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Mapping
from typing import Any

from tornado import web

from ..i18n import sentence
from .identity import ViewerCheck, clean_login

#: Variables of the Hub's configuration, not of the dashboard servers.
HUB_ONLY = ("PROSPECTS_HUB_", "PROSPECTS_COMMAND", "PROSPECTS_CONFIG", "PROSPECTS_SMTP_")

@functools.cache
def viewer_check() -> ViewerCheck:
    """The directory check of the database the servers read (the Hub's settings, read once)."""
    from ..config import load_settings

    config = os.environ.get("PROSPECTS_CONFIG")
    settings = load_settings(config=config if config and os.path.isfile(config) else None)
    return ViewerCheck(settings.db_url, settings.locale)


async def collaborators_only(authenticator: Any, handler: Any, auth_model: dict) -> dict:
    """``c.Authenticator.post_auth_hook``: let in active collaborators only (403 with the reason otherwise)."""
    login = clean_login(auth_model.get("name"))
    check = viewer_check()
    refusal = (sentence("api.no_login", check.locale) if login is None
               else await asyncio.get_running_loop().run_in_executor(None, check, login))
    if refusal:
        authenticator.log.warning("prospects: Hub sign-in refused for %r: %s", auth_model.get("name"), refusal)
        raise web.HTTPError(403, "%s", refusal)
    return auth_model


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``PROSPECTS_*`` variables of the Hub's environment that each person's server gets."""
    return {k: v for k, v in environ.items() if k.startswith("PROSPECTS_") and not k.startswith(HUB_ONLY)}
