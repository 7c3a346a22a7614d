"""``prospects serve --auth hub``: a JupyterHub single-user server (docs/deployment.md, "JupyterHub").

The Hub spawns one ``prospects serve --auth hub`` per person with ``JUPYTERHUB_USER``,
``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL``, ``JUPYTERHUB_SERVICE_PREFIX`` and
``JUPYTERHUB_SERVICE_URL`` in its environment. :func:`hub_options` reads the user, address,
port and URL prefix from there; :class:`HubIdentity` authenticates every request with the
Hub. The ``jupyterhub`` package is optional (``pip install 'prospects[hub]'``): it is
imported only in this mode.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.identity import User
from tornado import web
from traitlets import Unicode

from .identity import NoLoginIdentity, clean_login

if TYPE_CHECKING:
    from .command import ServeOptions


class HubIdentity(NoLoginIdentity):
    """``--auth hub``: the JupyterHub user owning this single-user server, authenticated by the Hub.

    Each request must carry the Hub's proof of identity (the OAuth cookie of this server,
    or ``Authorization: token …``), checked with the Hub by
    ``jupyterhub.services.auth.HubOAuth``; a browser without it is sent through the Hub's
    login; any identity other than ``JUPYTERHUB_USER``, or a proof without the scope of access
    to this server (``JUPYTERHUB_OAUTH_ACCESS_SCOPES``), is refused.
    """

    hub_user = Unicode("", config=True, help="JUPYTERHUB_USER: the only viewer of this server")

    _hub_auth: Any = None

    @property
    def hub_auth(self) -> Any:
        """The Hub's OAuth client of this server (``jupyterhub.services.auth.HubOAuth``)."""
        if self._hub_auth is None:
            from jupyterhub.services.auth import HubOAuth

            self._hub_auth = HubOAuth(parent=self, cache_max_age=60)
        return self._hub_auth

    def get_handlers(self) -> list:
        from jupyterhub.services.auth import HubOAuthCallbackHandler
        from jupyterhub.utils import url_path_join

        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        return [(url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)]

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        from jupyter_core.utils import ensure_async

        model = await ensure_async(self.hub_auth.get_user(handler, sync=False))
        if model is None:
            if handler.request.method in ("GET", "HEAD") and not handler.request.path.endswith("/channels"):
                state = self.hub_auth.set_state_cookie(handler, next_url=handler.request.uri)
                handler.redirect(self.hub_auth.login_url + ("&" if "?" in self.hub_auth.login_url else "?") + f"state={state}")
                raise web.Finish()
            self.refuse(handler, "not authenticated by the Hub")
        name = clean_login(model.get("name"))
        if name is None or name != self.hub_user:
            self.refuse(handler, f"Hub user {model.get('name')!r} is not {self.hub_user!r}, the owner of this server")
        # the owner's proof must grant access to this server (JUPYTERHUB_OAUTH_ACCESS_SCOPES), as
        # jupyterhub-singleuser checks: a token of the owner made for something else opens nothing
        required = self.hub_auth.access_scopes
        if not required or not self.hub_auth.check_scopes(required, model):
            self.refuse(handler, f"Hub user {name!r}: the token does not grant access to this server")
        # /user/NAME/?token=… opens a session (cookie), as jupyterhub-singleuser does
        persist = getattr(self.hub_auth, "_persist_url_token_if_set", None)
        if persist is not None:
            persist(handler)
        return User(username=name, name=name, display_name=name)


def hub_options(options: ServeOptions, environ: Mapping[str, str] | None = None) -> ServeOptions:
    """``--auth hub``: the user, address and port the Hub gave this single-user server."""
    from urllib.parse import urlsplit

    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {"hub_user": env.get("JUPYTERHUB_USER") or None, "open_browser": False}
    service_url = env.get("JUPYTERHUB_SERVICE_URL")
    if service_url:
        parts = urlsplit(service_url)
        if parts.hostname:
            changes["ip"] = parts.hostname
        if parts.port:
            changes["port"] = parts.port
    changes["base_url"] = env.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
    return options.replace(**changes)


def hub_problem(options: ServeOptions) -> str | None:
    """Why this single-user server cannot start (one line), or ``None``."""
    if not options.hub_user:
        return "--auth hub runs as a JupyterHub single-user server: JUPYTERHUB_USER is not set (docs/deployment.md)"
    try:
        import jupyterhub.services.auth  # noqa: F401
    except ImportError:
        return "--auth hub needs the jupyterhub package: pip install 'prospects[hub]'"
    return None
