"""A JupyterHub authenticator with fixed passwords, for the Hub tests only (never in production).

The Hub started by tests/test_deployment_hub.py names it in ``PROSPECTS_HUB_AUTHENTICATOR``
(``tests.hub_authenticator.FixedPasswordAuthenticator``); the passwords, one per user name,
are the JSON object in ``PROSPECTS_TEST_HUB_PASSWORDS``. A wrong password, or a name without
one, does not sign in.
"""

from __future__ import annotations

import hmac
import json
import os

from jupyterhub.auth import Authenticator


class FixedPasswordAuthenticator(Authenticator):
    """Each user name signs in with its own password, from ``PROSPECTS_TEST_HUB_PASSWORDS``."""

    async def authenticate(self, handler, data):
        passwords = json.loads(os.environ.get("PROSPECTS_TEST_HUB_PASSWORDS") or "{}")
        name, given = data.get("username", ""), data.get("password", "")
        expected = passwords.get(name)
        if expected is not None and hmac.compare_digest(expected.encode(), given.encode()):
            return name
        return None
