"""A real SMTP server for the tests: aiosmtpd in-process on loopback, plain or TLS.

:func:`smtp_server` starts one (keyword arguments go to aiosmtpd's ``Controller``: TLS,
authentication); :class:`Inbox` keeps what it receives and refuses the addresses it is
told to; :func:`make_certificate` makes a self-signed certificate with ``openssl``.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from .conftest import IN_CI, free_port


class Inbox:
    """aiosmtpd handler: keeps every message, refuses the addresses in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def take(self) -> list[tuple[str, list[str], email.message.EmailMessage]]:
        """The messages received since the last call, parsed."""
        with self.lock:
            got, self.messages = self.messages, []
        return [(frm, to, email.message_from_bytes(raw, policy=email.policy.default)) for frm, to, raw in got]


@contextlib.contextmanager
def smtp_server(wrap=None, **kwargs):
    """``(inbox, port)`` of an SMTP server on 127.0.0.1, stopped on exit.

    ``wrap(inbox)`` gives the handler that stands in front of the inbox (one that delays or
    drops, say); by default the inbox itself.
    """
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox if wrap is None else wrap(inbox), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert.pem, key.pem)."""
    if shutil.which("openssl") is None:
        if IN_CI:
            pytest.fail("openssl not found: install Debian's openssl (make system-deps)")
        pytest.skip("SKIPPING SMTP TLS TESTS: openssl not found")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """The server side's TLS context for a certificate of :func:`make_certificate`."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*map(str, certificate))
    return ctx


def authenticator(server, session, envelope, mechanism, auth_data):
    """Accepts ``relay-user`` / ``s3cret é`` only (aiosmtpd's ``authenticator``)."""
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"relay-user" and auth_data.password == "s3cret é".encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself
