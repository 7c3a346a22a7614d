"""Subscription mails: compose one message per recipient, send it over SMTP.

:func:`compose` builds the message of one recipient from the reports rendered for them:
a subject and a body (plain text and HTML) in French, or English by the subscription's
language, with each unit, the period, the as-of date and the headline figures with N-1,
and the reports attached (PDF, HTML too if asked). Names and unit names come from the
data people typed: every header value is folded onto one line (no header injection) and
every value put in the HTML body is escaped. The envelope recipient is the collaborator's
address, given explicitly to the server, never read back from the headers.

:class:`Mailer` sends over SMTP as configured in ``[mail]`` (``security = "none" |
"starttls" | "ssl"``; user and password from ``PROSPECTS_SMTP_USER`` /
``PROSPECTS_SMTP_PASSWORD``). A failed send raises :class:`MailError` with the server's
reason and leaves the mailer ready for the next message.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import html
import ipaddress
import mimetypes
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from . import __version__, i18n
from .config import ConfigError, MailSettings
from .freshness import Freshness
from .schema import PLAIN_ADDRESS

#: A plain address, ``name@domain`` (docs/data.md, collaborators.email; the one pattern of :mod:`prospects.schema`).
_ADDRESS_RE = re.compile(PLAIN_ADDRESS)

#: Mail labels (the figures' names come from :mod:`prospects.i18n`).
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "subject": "Rapport prospects — {units} — exercice {fy} au {as_of}",
        "greeting": "Bonjour {name},",
        "intro": "Voici votre rapport prospects, calculé avec vos droits d'accès : seules comptent les affaires que vous pouvez voir dans chaque périmètre.",
        "period": "Période : du {start} au {as_of} (exercice {fy}), arrêté au {as_of}",
        "compared": "Comparé à N-1 au {date}",
        "n1": "N-1",
        "indicator": "Indicateur",
        "attached": "En pièce jointe : {files}",
        "extracted": "Données extraites le {date}.",
        "stale": "⚠ {warning}. Les chiffres ci-dessous sont ceux de cette extraction.",
        "footer": "Message envoyé automatiquement par prospects {version} (abonnement aux rapports). Pour changer d'abonnement, adressez-vous à l'administrateur de Suivi Business › Prospects.",
    },
    "en": {
        "subject": "Prospects report — {units} — fiscal year {fy} as of {as_of}",
        "greeting": "Hello {name},",
        "intro": "Here is your prospects report, computed with your access rights: only the deals you may see within each scope count.",
        "period": "Period: {start} to {as_of} (fiscal year {fy}), as of {as_of}",
        "compared": "Compared with last year as of {date}",
        "n1": "Last year",
        "indicator": "Figure",
        "attached": "Attached: {files}",
        "extracted": "Data extracted on {date}.",
        "stale": "⚠ {warning}. The figures below are those of that extract.",
        "footer": "Sent automatically by prospects {version} (report subscription). To change your subscription, ask the administrator of Suivi Business › Prospects.",
    },
}

#: The headline figures of a mail, in order, and how each is shown.
HEADLINE = (("signed_budget", "money"), ("signed_offers", "number"), ("offers_in_progress", "number"), ("potential_fees", "money"))


class MailError(RuntimeError):
    """A message could not be sent (the reason is the message).

    ``maybe_sent``: the session broke while the message was being handed over, so the
    server may have taken it; a definite refusal (the server's own error reply, a
    connection that never opened) is ``False``.
    """

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


def one_line(value: object, limit: int = 200) -> str:
    """Text safe for a mail header: control characters and line breaks become spaces, runs of space one."""
    text = re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]", " ", "" if value is None else str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_plain_address(value: object) -> bool:
    """Whether ``value`` is a plain ``name@domain`` address (docs/data.md)."""
    return isinstance(value, str) and _ADDRESS_RE.fullmatch(value) is not None


def envelope_address(address: str) -> str:
    """A plain address as it travels: an internationalised domain in its ASCII (IDNA) form.

    A non-ASCII mailbox name stays as it is: it needs SMTPUTF8 (RFC 6531), which
    :meth:`Mailer.send` asks of the server (and reports when the server lacks it).
    Raises ``ValueError`` for a domain that has no ASCII form.
    """
    local, domain = address.rsplit("@", 1)
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{address!r}: the domain {domain!r} is not a valid internationalised domain") from None
    return f"{local}@{domain}"


def mailbox(display_name: str, address: str) -> Address:
    """An address header value: a display name (folded onto one line) and the :func:`envelope_address`.

    The email package writes the display name as encoded words when it is not ASCII and
    the address as it is: never an encoded word inside the address (RFC 2047, 5).
    """
    local, domain = envelope_address(address).rsplit("@", 1)
    return Address(display_name=one_line(display_name), username=local, domain=domain)


def sender_address(sender: str | None) -> Address:
    """``[mail] sender`` (``prospects@firm.fr`` or ``Suivi Business <prospects@firm.fr>``) as an address."""
    if not sender:
        raise ConfigError("[mail] sender is not set: add sender = \"prospects@your-firm.fr\" to prospects.toml")
    name, addr = parseaddr(sender)
    if not is_plain_address(addr) or "\r" in sender or "\n" in sender:
        raise ConfigError(f"[mail] sender = {sender!r} is not an address such as prospects@your-firm.fr")
    try:
        return mailbox(name, addr)
    except ValueError as exc:
        raise ConfigError(f"[mail] sender: {exc}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(settings: MailSettings) -> Address:
    """Refuse mail settings that cannot work or would leak the password; return the sender."""
    sender = sender_address(settings.sender)
    if bool(settings.user) != bool(settings.password):
        missing = "PROSPECTS_SMTP_PASSWORD" if settings.user else "PROSPECTS_SMTP_USER"
        raise ConfigError(f"SMTP credentials: {missing} is not set (set both PROSPECTS_SMTP_USER and PROSPECTS_SMTP_PASSWORD, or neither)")
    if settings.user and settings.security == "none" and not _is_loopback(settings.host):
        raise ConfigError(
            f"[mail] security = \"none\" with SMTP credentials would send the password in clear to {settings.host}: "
            "use security = \"starttls\" or \"ssl\""
        )
    return sender


# ---------------------------------------------------------------------------
# composing


@dataclass(frozen=True)
class Attachment:
    """A file of a mail: its name and the bytes to attach (read once, checked by the caller)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Section:
    """One report of a mail: its unit, period, headline figures (cents) with N-1, files."""

    scope: str  # "Île-de-France (Région, R1)" or "Mes affaires"
    unit_name: str
    fiscal_year: int
    start: dt.date
    as_of: dt.date
    headline: dict[str, int]
    previous: dict[str, int] | None = None
    previous_as_of: dt.date | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


def _value(code: str, kind: str, cents_or_count: int | None, locale: str, currency: str) -> str:
    return i18n.money(cents_or_count, locale, currency) if kind == "money" else i18n.number(cents_or_count, locale)


def _figure_rows(section: Section, locale: str, currency: str) -> list[tuple[str, str, str | None]]:
    rows = []
    for code, kind in HEADLINE:
        prev = section.previous.get(code) if section.previous else None
        rows.append((i18n.label(code, locale), _value(code, kind, section.headline.get(code), locale, currency),
                     _value(code, kind, prev, locale, currency) if section.previous else None))
    return rows


def _freshness_lines(fresh: Freshness | None, locale: str) -> tuple[str | None, str | None]:
    """The mail's sentence on the extract's date, and its warning when the data is old (else None)."""
    if fresh is None or fresh.moment is None:
        return None, None
    t = TEXT[locale]
    warning = fresh.warning(locale)
    return (t["extracted"].format(date=i18n.moment(fresh.moment, locale)),
            t["stale"].format(warning=warning) if warning else None)


def subject(sections: Sequence[Section], locale: str) -> str:
    """The subject: the units, the fiscal year and the as-of date (one line)."""
    first = sections[0]
    units = ", ".join(dict.fromkeys(s.unit_name for s in sections))
    return one_line(TEXT[locale]["subject"].format(units=units, fy=first.fiscal_year, as_of=i18n.date(first.as_of, locale)), 250)


def text_body(name: str, sections: Sequence[Section], locale: str, currency: str, fresh: Freshness | None) -> str:
    """The plain-text body (amounts in the firm's ``currency``; the extract's date, and a warning first when it is old)."""
    t = TEXT[locale]
    extracted, stale = _freshness_lines(fresh, locale)
    lines = [t["greeting"].format(name=one_line(name)), "", *([stale, ""] if stale else []), t["intro"], ""]
    for s in sections:
        lines.append(one_line(s.scope))
        lines.append(t["period"].format(start=i18n.date(s.start, locale), as_of=i18n.date(s.as_of, locale), fy=s.fiscal_year))
        if s.previous_as_of is not None:
            lines.append(t["compared"].format(date=i18n.date(s.previous_as_of, locale)))
        colon = "\u00a0: " if locale == "fr" else ": "
        for label, value, prev in _figure_rows(s, locale, currency):
            suffix = f" ({t['n1']}{colon}{prev})" if prev is not None else ""
            lines.append(f"  {label}{colon}{value}{suffix}")
        if s.attachments:
            lines.append(t["attached"].format(files=", ".join(p.name for p in s.attachments)))
        lines.append("")
    if extracted:
        lines.append(extracted)
    lines += ["", "-- ", t["footer"].format(version=__version__)]
    return "\n".join(lines) + "\n"


#: Inline styles of the HTML body (mail clients drop <style> blocks and ignore most CSS): it
#: reads on a 390 px phone as on a laptop — text wraps, even a long file name, and the
#: figures' table takes the width it has, at most 600 px.
_BODY_STYLE = ("margin:0;padding:12px;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;"
               "color:#1b1b1b;background:#ffffff;overflow-wrap:break-word;word-wrap:break-word;word-break:break-word")
_TABLE_STYLE = "border-collapse:collapse;width:100%;max-width:600px"
_CELL_STYLE = "padding:6px 8px;border-bottom:1px solid #dde4ec"
_NUM_STYLE = f"{_CELL_STYLE};text-align:right;white-space:nowrap"
_STALE_STYLE = "border:2px solid #9b1c1c;border-left-width:6px;padding:8px 10px;color:#7a1414;max-width:600px"


def html_body(name: str, sections: Sequence[Section], locale: str, currency: str, fresh: Freshness | None) -> str:
    """The HTML body: the same content, every value escaped, readable on a phone (inline styles)."""
    t = TEXT[locale]
    e = html.escape
    extracted, stale = _freshness_lines(fresh, locale)
    parts = [f"<p>{e(t['greeting'].format(name=one_line(name)))}</p>"]
    if stale:
        parts.append(f'<p role="note" style="{_STALE_STYLE}"><strong>{e(stale)}</strong></p>')
    parts.append(f"<p>{e(t['intro'])}</p>")
    for s in sections:
        rows = "".join(
            f'<tr><td style="{_CELL_STYLE}">{e(label)}</td><td style="{_NUM_STYLE}">{e(value)}</td>'
            + (f'<td style="{_NUM_STYLE}">{e(prev)}</td>' if prev is not None else "") + "</tr>"
            for label, value, prev in _figure_rows(s, locale, currency)
        )
        head_prev = (f'<th scope="col" style="{_NUM_STYLE}">{e(t["n1"])} ({e(i18n.date(s.previous_as_of, locale))})</th>'
                     if s.previous is not None and s.previous_as_of is not None else "")
        period = t["period"].format(start=i18n.date(s.start, locale), as_of=i18n.date(s.as_of, locale), fy=s.fiscal_year)
        files = (f"<p>{e(t['attached'].format(files=', '.join(p.name for p in s.attachments)))}</p>"
                 if s.attachments else "")
        parts.append(
            f'<h2 style="font-size:17px;margin:18px 0 4px;color:#1f4e79">{e(one_line(s.scope))}</h2><p>{e(period)}</p>'
            f'<table role="table" style="{_TABLE_STYLE}" width="100%"><thead><tr>'
            f'<th scope="col" style="{_CELL_STYLE};text-align:left">{e(t["indicator"])}</th>'
            f'<th scope="col" style="{_NUM_STYLE}">{e(i18n.date(s.as_of, locale))}</th>{head_prev}</tr></thead>'
            f"<tbody>{rows}</tbody></table>{files}"
        )
    if extracted:
        parts.append(f"<p>{e(extracted)}</p>")
    parts.append(f'<p style="color:#555;font-size:13px">{e(t["footer"].format(version=__version__))}</p>')
    return (
        f'<!DOCTYPE html><html lang="{e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(subject(sections, locale))}</title></head>"
        f'<body style="{_BODY_STYLE}">{"".join(parts)}</body></html>\n'
    )


def compose(
    *,
    sender: Address,
    to_name: str,
    to_address: str,
    sections: Sequence[Section],
    locale: str = "fr",
    currency: str,
    freshness: Freshness | None = None,
) -> EmailMessage:
    """The message of one recipient: subject, text and HTML bodies, the reports attached.

    Amounts are in the firm's ``currency``; ``freshness`` gives the extract's date, and a
    warning at the top when the data is older than the setting ``stale_after_days``."""
    if not sections:
        raise ValueError("a mail needs at least one report")
    if not is_plain_address(to_address):
        raise ValueError(f"{to_address!r} is not a plain address (name@domain)")
    loc = locale if locale in TEXT else "fr"
    to = mailbox(to_name, to_address)
    # a mailbox name beyond ASCII (RFC 6531/6532): the headers are written in UTF-8, as they are sent
    international = not (sender.addr_spec.isascii() and to.addr_spec.isascii())
    msg = EmailMessage(policy=email.policy.SMTPUTF8 if international else email.policy.default)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject(sections, loc)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring="prospects", domain=sender.domain or socket.getfqdn())
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(text_body(to_name, sections, loc, currency, freshness))
    msg.add_alternative(html_body(to_name, sections, loc, currency, freshness), subtype="html")
    for s in sections:
        for file in s.attachments:
            ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            maintype, subtype = ctype.split("/", 1)
            params = {"charset": "utf-8"} if maintype == "text" else None  # the HTML reports are UTF-8
            msg.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=one_line(file.name),
                               params=params)
    msg["Content-Language"] = loc  # last: making the message multipart moves Content-* headers into its parts
    return msg


# ---------------------------------------------------------------------------
# sending


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in exc.recipients.values()]
        return "recipient refused by the server: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender refused by the server: {exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"SMTP authentication failed: {exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
    if isinstance(exc, smtplib.SMTPResponseException):
        err = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"SMTP error {exc.smtp_code} {err}"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS error: {exc}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support it: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in: AUTH PLAIN with UTF-8 credentials (RFC 4616) when offered, else smtplib's mechanisms (ASCII).

    One mechanism only: a refused password is reported as such, not retried with another.
    """
    if "plain" in smtp.esmtp_features.get("auth", "").lower().split():
        token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
        code, resp = smtp.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, resp)
        return
    if not (user.isascii() and password.isascii()):
        raise MailError("the SMTP server does not offer AUTH PLAIN, needed for a user or password beyond ASCII")
    smtp.login(user, password)


def _text(resp: bytes | str) -> str:
    return " ".join((resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)).split())


@dataclass(frozen=True)
class Checked:
    """What :meth:`Mailer.check` found to work, and only that."""

    where: str
    security: str  # "none", "starttls" or "ssl"
    user: str | None  # logged in as this user; None: no login was tried
    sender: str  # accepted by MAIL FROM
    recipient: str | None  # accepted by RCPT TO; None: not asked, or refused for that mailbox only


#: The sentence of a check, in each language (:func:`checked_sentence`).
CHECKED_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "sentence": "Serveur SMTP {where} : connexion réussie ; {tls} ; {auth} ; {accepted} ; aucun message envoyé.",
        "tls_starttls": "TLS (STARTTLS) établi, certificat vérifié",
        "tls_ssl": "TLS (SSL) établi, certificat vérifié",
        "tls_none": "sans TLS (security = \"none\")",
        "auth": "authentification réussie ({user})",
        "no_auth": "sans authentification (aucun identifiant configuré)",
        "both": "expéditeur {sender} et destinataire {recipient} acceptés",
        "sender": "expéditeur {sender} accepté",
    },
    "en": {
        "sentence": "SMTP server {where}: connection succeeded; {tls}; {auth}; {accepted}; no message sent.",
        "tls_starttls": "TLS (STARTTLS) established, certificate verified",
        "tls_ssl": "TLS (SSL) established, certificate verified",
        "tls_none": "no TLS (security = \"none\")",
        "auth": "login succeeded ({user})",
        "no_auth": "no login (no credentials set)",
        "both": "sender {sender} and recipient {recipient} accepted",
        "sender": "sender {sender} accepted",
    },
}


def checked_sentence(checked: Checked, locale: str = "fr") -> str:
    """What a check established, said exactly: TLS and login only when they were tried."""
    t = CHECKED_TEXT[locale if locale in CHECKED_TEXT else "fr"]
    accepted = (t["both"].format(sender=checked.sender, recipient=checked.recipient) if checked.recipient
                else t["sender"].format(sender=checked.sender))
    return t["sentence"].format(
        where=checked.where, tls=t[f"tls_{checked.security}"],
        auth=t["auth"].format(user=one_line(checked.user, 80)) if checked.user else t["no_auth"], accepted=accepted)


class Mailer:
    """An SMTP session opened on demand, reopened after a failure; use as a context manager."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.sender = check_settings(settings)
        self._smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        ca = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def connect(self) -> None:
        """Open the session: connect, TLS as configured, log in if credentials are set."""
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                smtp.ehlo()
                if s.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise MailError(f"the SMTP server {where} does not offer STARTTLS (security = \"starttls\")")
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if s.user:
                    _login(smtp, s.user, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except MailError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP server {where}: {_reason(exc)}") from None
        self._smtp = smtp

    def check(self, recipient: str | None = None) -> Checked:
        """Connect, TLS, log in as configured, then ask the server to take a mail (``MAIL FROM``, and
        ``RCPT TO`` for ``recipient``) and withdraw it (``RSET``): nothing is sent.

        A server that wants a login (``530``) or refuses to relay (a ``5.7.x`` reply) is a
        :class:`MailError` here, before anything is rendered; a recipient refused for
        another reason (an unknown mailbox) is not: that mail alone will fail. Returns
        what was checked, for :func:`checked_sentence`.
        """
        s = self.settings
        where = f"{s.host}:{s.port}"
        self.connect()
        assert self._smtp is not None
        try:
            smtputf8 = self._smtp.has_extn("smtputf8")
            if recipient is not None and not envelope_address(recipient).isascii() and not smtputf8:
                recipient = None  # that mailbox alone will fail, saying why: not the whole run
            international = not self.sender.addr_spec.isascii() or (recipient is not None and not recipient.isascii())
            code, resp = self._smtp.mail(self.sender.addr_spec, ["SMTPUTF8"] if international and smtputf8 else [])
            if code != 250:
                raise MailError(f"SMTP server {where} refuses the sender {self.sender.addr_spec}: "
                                f"{code} {_text(resp)}{self._login_hint(code, resp)}")
            accepted = None
            if recipient is not None:
                code, resp = self._smtp.rcpt(envelope_address(recipient))
                if code in (250, 251):
                    accepted = recipient
                elif code == 530 or _text(resp).startswith("5.7."):
                    raise MailError(f"SMTP server {where} refuses to take mail for {recipient}: "
                                    f"{code} {_text(resp)}{self._login_hint(code, resp)}")
            self._smtp.rset()
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            self.close()
            raise MailError(f"SMTP server {where}: {_reason(exc)}") from None
        except MailError:
            self.close()
            raise
        self.close()
        return Checked(where=where, security=s.security, user=s.user or None, sender=self.sender.addr_spec,
                       recipient=accepted)

    def _login_hint(self, code: int, resp: bytes | str) -> str:
        if code == 530 or "auth" in _text(resp).lower():
            if self.settings.user:
                return " (the server wants another login)"
            return " (the server wants a login: set PROSPECTS_SMTP_USER and PROSPECTS_SMTP_PASSWORD)"
        return ""

    def send(self, msg: EmailMessage, to_address: str) -> None:
        """Send one message to one envelope recipient; :class:`MailError` with the reason on failure."""
        if self._smtp is None:
            self.connect()
        assert self._smtp is not None
        try:
            self._smtp.send_message(msg, from_addr=self.sender.addr_spec, to_addrs=[envelope_address(to_address)])
        except smtplib.SMTPRecipientsRefused as exc:  # the session is still usable (smtplib sent RSET)
            raise MailError(_reason(exc)) from None
        except (smtplib.SMTPResponseException, smtplib.SMTPNotSupportedError) as exc:  # the server said no
            self.close()
            raise MailError(_reason(exc)) from None
        except (OSError, smtplib.SMTPException) as exc:  # the session broke: the server may have the message
            self.close()
            raise MailError(_reason(exc), maybe_sent=True) from None

    def close(self) -> None:
        """End the session (quietly: it may already be gone)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
