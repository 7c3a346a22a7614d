"""prospects.serving.hub_config without a Hub: what deploy/jupyterhub_config.py passes on to each server."""

from __future__ import annotations

from prospects.serving.hub_config import server_environment


def test_servers_get_the_prospects_settings_but_not_the_hubs_own_nor_the_mail_credentials():
    hub_env = {
        "PROSPECTS_DB": "postgresql+psycopg://p:secret@db/p", "PROSPECTS_STORE": "/var/cache/prospects",
        "PROSPECTS_LOCALE": "en", "PROSPECTS_HUB_STATE": "/var/lib/prospects/hub",
        "PROSPECTS_HUB_AUTHENTICATOR": "ldapauthenticator", "PROSPECTS_COMMAND": "/srv/prospects/.venv/bin/prospects",
        "PROSPECTS_CONFIG": "/srv/prospects/prospects.toml", "PROSPECTS_SMTP_PASSWORD": "mail-secret",
        "PATH": "/usr/bin", "HOME": "/root", "JUPYTERHUB_API_TOKEN": "hub-token",
    }
    assert server_environment(hub_env) == {
        "PROSPECTS_DB": "postgresql+psycopg://p:secret@db/p", "PROSPECTS_STORE": "/var/cache/prospects",
        "PROSPECTS_LOCALE": "en"}
