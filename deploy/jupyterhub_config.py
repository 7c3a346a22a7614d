# Suivi Business › Prospects — JupyterHub spawning one dashboard server per person
# (docs/deployment.md, "JupyterHub"). The tests run this very file (tests/test_deployment_hub.py).
#
# Everything that depends on the site comes from the environment: the Hub's systemd unit
# (deploy/prospects-hub.service) reads /etc/prospects/env (mode 0600), which holds at least
#
#   PROSPECTS_DB=postgresql+psycopg://prospects:PASSWORD@db.internal/prospects
#   PROSPECTS_HUB_AUTHENTICATOR=ldapauthenticator      # who signs people in (below)
#
# and optionally (defaults in brackets)
#
#   PROSPECTS_COMMAND             the prospects command              [/srv/prospects/.venv/bin/prospects]
#   PROSPECTS_CONFIG              prospects.toml                      [/srv/prospects/prospects.toml, if it exists]
#   PROSPECTS_HUB_STATE           the Hub's database, cookie secret and each person's working folder
#                                                                     [/var/lib/prospects/hub]
#   PROSPECTS_HUB_IDLE_TIMEOUT    seconds without activity before a person's server stops [1800]
#   PROSPECTS_HUB_PROXY           configurable-http-proxy (npm)       [the one on PATH]
#
# Every other PROSPECTS_* variable (PROSPECTS_STORE, PROSPECTS_LOCALE, …) is passed on to the
# servers. Run it with the prospects virtual environment, which has JupyterHub
# (pip install 'prospects[hub]'):
#
#   /srv/prospects/.venv/bin/jupyterhub -f /srv/prospects/deploy/jupyterhub_config.py
#
# The Hub listens on http://127.0.0.1:8000 (its proxy: put nginx with TLS in front, websockets
# forwarded), its API on 127.0.0.1:8081, the proxy's API on 127.0.0.1:8001: change them here
# or on the command line (--JupyterHub.bind_url=…), which wins over this file.

import os
import sys
from pathlib import Path

from prospects.serving.hub_config import collaborators_only, server_environment

c = get_config()  # noqa: F821  (JupyterHub's configuration object)

COMMAND = os.environ.get("PROSPECTS_COMMAND", "/srv/prospects/.venv/bin/prospects")
CONFIG = os.environ.get("PROSPECTS_CONFIG", "/srv/prospects/prospects.toml")
STATE = Path(os.environ.get("PROSPECTS_HUB_STATE", "/var/lib/prospects/hub"))
IDLE = int(os.environ.get("PROSPECTS_HUB_IDLE_TIMEOUT", "1800"))
AUTHENTICATOR = os.environ.get("PROSPECTS_HUB_AUTHENTICATOR", "")
if not AUTHENTICATOR:
    sys.exit("jupyterhub_config.py: set PROSPECTS_HUB_AUTHENTICATOR, the firm's authenticator "
             "(docs/deployment.md, \"JupyterHub\")")

# --- who signs in -------------------------------------------------------------------------
# The firm's authenticator (an entry point name or a class: ldapauthenticator, azuread,
# generic-oauth, …); its own settings go at the end of this file. JupyterHub user names must
# be collaborators' logins: only an active collaborator of the database signs in (the others
# read "Accès refusé" on the login page and get no server); the dashboard checks again.
c.JupyterHub.authenticator_class = AUTHENTICATOR
c.Authenticator.allow_all = True
c.Authenticator.post_auth_hook = collaborators_only
# signing out stops that person's server: their open pages end, their kernel with it
c.JupyterHub.shutdown_on_logout = True

# --- one `prospects serve --auth hub` per person --------------------------------------------
# Every server runs as the Hub's own (unprivileged) user, like the dashboard's systemd unit:
# people never run code there (the page's kernel accepts widget messages only) and each server
# serves its owner alone (any other Hub user gets 403).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [COMMAND, *(["--config", CONFIG] if os.path.isfile(CONFIG) else []), "serve", "--auth", "hub"]
# one person per server: no warm kernel kept (docs/deployment.md, "Sizing"); its kernel culled
# after the same idle time as the server
c.Spawner.args = ["--pool-size", "0", "--cull-idle-timeout", str(IDLE)]
c.Spawner.environment = server_environment(os.environ)
c.Spawner.default_url = "/"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- idle servers stop ----------------------------------------------------------------------
# The Hub reads each person's last activity from its proxy (websocket frames count), often
# enough for the culler, which stops a server idle for PROSPECTS_HUB_IDLE_TIMEOUT seconds.
c.JupyterHub.last_activity_interval = max(1, min(300, IDLE // 6))
c.JupyterHub.load_roles = [{
    "name": "prospects-idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["prospects-idle-culler"],
}]
c.JupyterHub.services = [{
    "name": "prospects-idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={IDLE}",
                f"--cull-every={max(1, min(300, IDLE // 6))}"],
}]

# --- the Hub's own state ------------------------------------------------------------------
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [os.environ.get("PROSPECTS_HUB_PROXY", "configurable-http-proxy")]
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:8081"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"

# --- the authenticator's own settings (site-specific), e.g.:
# c.LDAPAuthenticator.server_address = "ldap.internal"
# c.LDAPAuthenticator.bind_dn_template = ["uid={username},ou=people,dc=firm,dc=fr"]
