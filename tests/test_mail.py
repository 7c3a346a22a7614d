"""Subscription mails: composition from hostile data, and SMTP over none / STARTTLS / SSL.

The TLS paths run against a real aiosmtpd server on loopback with a self-signed
certificate made by ``openssl`` (trusted through ``[mail] ca_file``), with AUTH required
over TLS: the credentials come from ``PROSPECTS_SMTP_USER`` / ``PROSPECTS_SMTP_PASSWORD``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import pytest

from prospects import mail
from prospects.config import ConfigError, MailSettings
from prospects.freshness import Freshness

from .smtp import authenticator, make_certificate, server_context, smtp_server

SECTION = mail.Section(
    scope="Île-de-France <b>Nord</b> & Co\r\nBcc: x@y.fr (Région, R1)", unit_name="Île-de-France <b>Nord</b>\nBcc: x@y.fr",
    fiscal_year=2026, start=dt.date(2026, 1, 1), as_of=dt.date(2026, 11, 29),
    headline={"signed_budget": 1_850_000, "signed_offers": 4, "offers_in_progress": 1, "potential_fees": 500_000},
    previous={"signed_budget": 400_000, "signed_offers": 1, "offers_in_progress": 0, "potential_fees": 0},
    previous_as_of=dt.date(2025, 11, 29),
)
SENDER = mail.sender_address("Suivi Business <prospects@exemple.fr>")


def message(name: str = "Paul <script>alert(1)</script>\r\nBcc: intrus@exemple.fr", **kw) -> email.message.EmailMessage:
    msg = mail.compose(sender=SENDER, to_name=name, to_address="part1@exemple.fr", sections=[SECTION], **{"currency": "EUR", **kw})
    return email.message_from_bytes(bytes(msg), policy=email.policy.default)


# ---------------------------------------------------------------------------
# composing


def test_headers_built_from_typed_names_hold_no_line_break():
    msg = message()
    assert msg["Bcc"] is None and msg.get_all("Bcc") is None
    assert msg["To"].addresses[0].addr_spec == "part1@exemple.fr"
    assert "\n" not in str(msg["To"]) and "\n" not in str(msg["Subject"])
    assert str(msg["Subject"]) == "Rapport prospects — Île-de-France <b>Nord</b> Bcc: x@y.fr — exercice 2026 au 29/11/2026"
    headers = bytes(msg).split(b"\n\n", 1)[0]
    assert not any(line.startswith(b"Bcc") for line in headers.split(b"\n"))


def test_html_body_escapes_names_and_units():
    msg = message()
    page = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in page and "<b>Nord</b>" not in page
    assert "Paul &lt;script&gt;alert(1)&lt;/script&gt; Bcc: intrus@exemple.fr" in page
    assert "Île-de-France &lt;b&gt;Nord&lt;/b&gt; &amp; Co Bcc: x@y.fr (Région, R1)" in page
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Bonjour Paul <script>alert(1)</script> Bcc: intrus@exemple.fr," in text  # plain text: shown as typed


def test_headline_figures_with_n1_in_french_and_english():
    fr = message("Paul").get_body(preferencelist=("plain",)).get_content()
    assert "Budget signé\u00a0: 18\u202f500\u202f€ (N-1\u00a0: 4\u202f000\u202f€)" in fr
    assert "Comparé à N-1 au 29/11/2025" in fr
    en = message("Paul", locale="en")
    text = en.get_body(preferencelist=("plain",)).get_content()
    assert "Signed budget: €18,500 (Last year: €4,000)" in text and "Hello Paul," in text
    assert str(en["Subject"]).startswith("Prospects report — ") and en["Content-Language"] == "en"


def test_attachments_keep_their_bytes():
    pdf = mail.Attachment("R1-ile-de-france.pdf", b"%PDF-1.4 fake\x00\xff")
    page = mail.Attachment("R1-ile-de-france.html", "<p>Île-de-France — déjà</p>".encode())
    section = mail.Section(**{**SECTION.__dict__, "attachments": (pdf, page)})
    msg = mail.compose(sender=SENDER, to_name="Paul", to_address="part1@exemple.fr", sections=[section], currency="EUR")
    parsed = email.message_from_bytes(bytes(msg), policy=email.policy.default)
    files = {p.get_filename(): p for p in parsed.iter_attachments()}
    assert files["R1-ile-de-france.pdf"].get_content_type() == "application/pdf"
    assert files["R1-ile-de-france.pdf"].get_content() == pdf.data
    assert files["R1-ile-de-france.html"].get_content() == "<p>Île-de-France — déjà</p>"


def _header_lines(raw: bytes, name: bytes) -> bytes:
    """One header as written (its folded lines joined)."""
    head = raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    return re.search(rb"^" + name + rb":(.*(?:\n[ \t].*)*)", head, re.M).group(1)


@pytest.mark.parametrize(("to_address", "written"), [
    ("zoé@exemple.fr", "zoé@exemple.fr"),  # an internationalised mailbox: SMTPUTF8, the header in UTF-8
    ("zoe@exémple.fr", "zoe@xn--exmple-cva.fr"),  # an internationalised domain: its ASCII (IDNA) form
    ("zoe@exemple.fr", "zoe@exemple.fr"),
])
def test_addresses_are_never_encoded_words(to_address, written):
    """Encoded words (RFC 2047) may stand for a display name, never inside an address (issue 20.18)."""
    sender = mail.sender_address("Suivi Business — Prospects <prospects@exémple.fr>")
    msg = mail.compose(sender=sender, to_name="Zoé Lefèvre, « Associée »", to_address=to_address, sections=[SECTION], currency="EUR")
    raw = bytes(msg)
    for name in (b"To", b"From"):
        header = _header_lines(raw, name)
        assert b"<" in header and b"=?" not in header.split(b"<", 1)[1], header
    assert written.encode() in _header_lines(raw, b"To")
    assert b"prospects@xn--exmple-cva.fr" in _header_lines(raw, b"From")
    parsed = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)  # RFC 6532: UTF-8 headers
    assert parsed["To"].addresses[0].addr_spec == written
    assert parsed["To"].addresses[0].display_name == "Zoé Lefèvre, « Associée »"
    assert parsed["From"].addresses[0].display_name == "Suivi Business — Prospects"
    assert mail.envelope_address(to_address) == written


def test_an_internationalised_mailbox_is_sent_with_smtputf8_or_refused_with_a_reason():
    settings = MailSettings(host="127.0.0.1", sender="prospects@exemple.fr", timeout=10)
    with smtp_server(enable_SMTPUTF8=True) as (inbox, port):
        with mail.Mailer(MailSettings(**{**settings.__dict__, "port": port})) as mailer:
            mailer.send(mail.compose(sender=mailer.sender, to_name="Zoé", to_address="zoé@exemple.fr",
                                     sections=[SECTION], currency="EUR"), "zoé@exemple.fr")
        [(_frm, to, raw)] = inbox.messages
        assert to == ["zoé@exemple.fr"]
        parsed = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
        assert parsed["To"].addresses[0].addr_spec == "zoé@exemple.fr" and b"=?" not in _header_lines(raw, b"To")
    with smtp_server(enable_SMTPUTF8=False) as (inbox, port), \
            mail.Mailer(MailSettings(**{**settings.__dict__, "port": port})) as mailer:
        with pytest.raises(mail.MailError, match="SMTPUTF8"):
            mailer.send(mail.compose(sender=mailer.sender, to_name="Zoé", to_address="zoé@exemple.fr",
                                     sections=[SECTION], currency="EUR"), "zoé@exemple.fr")
        assert inbox.take() == []


@pytest.mark.parametrize("address", ["a@b", "a b@c.fr", "a@b.fr\r\nBcc: c@d.fr", "Name <a@b.fr>", "a@b.fr,c@d.fr", "", None])
def test_only_plain_addresses_are_accepted(address):
    assert not mail.is_plain_address(address)
    with pytest.raises(ValueError):
        mail.compose(sender=SENDER, to_name="x", to_address=address, sections=[SECTION], currency="EUR")


def test_sender_and_credentials_are_checked():
    with pytest.raises(ConfigError, match="sender is not set"):
        mail.check_settings(MailSettings())
    with pytest.raises(ConfigError, match="not an address"):
        mail.check_settings(MailSettings(sender="prospects"))
    with pytest.raises(ConfigError, match="PROSPECTS_SMTP_PASSWORD is not set"):
        mail.check_settings(MailSettings(sender="p@exemple.fr", user="u"))
    with pytest.raises(ConfigError, match=r"password in clear to smtp\.exemple\.fr"):
        mail.check_settings(MailSettings(sender="p@exemple.fr", host="smtp.exemple.fr", user="u", password="p"))
    # to the local MTA on loopback, plain SMTP with credentials is allowed
    assert mail.check_settings(MailSettings(sender="p@exemple.fr", host="127.0.0.1", user="u", password="p")).addr_spec == "p@exemple.fr"


# ---------------------------------------------------------------------------
# TLS against a real server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


def _settings(port: int, security: str, ca_file: Path | None, password: str = "s3cret é") -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, security=security, sender="prospects@exemple.fr",
                        ca_file=ca_file, timeout=10, user="relay-user", password=password)


def _send_one(settings: MailSettings) -> None:
    with mail.Mailer(settings) as mailer:
        msg = mail.compose(sender=mailer.sender, to_name="Paul", to_address="part1@exemple.fr", sections=[SECTION], currency="EUR")
        mailer.send(msg, "part1@exemple.fr")


def test_starttls_with_login(certificate):
    ctx = server_context(certificate)
    with smtp_server(tls_context=ctx, require_starttls=True, authenticator=authenticator, auth_required=True,
                     auth_require_tls=True) as (inbox, port):
        _send_one(_settings(port, "starttls", certificate[0]))
        got = inbox.take()
        assert [to for _f, to, _m in got] == [["part1@exemple.fr"]]
        with pytest.raises(mail.MailError, match="SMTP authentication failed: 535"):
            _send_one(_settings(port, "starttls", certificate[0], password="wrong"))
        # the certificate is not trusted without ca_file: refused, nothing sent
        with pytest.raises(mail.MailError, match=r"TLS error: .*CERTIFICATE_VERIFY_FAILED"):
            _send_one(_settings(port, "starttls", None))
        # a server that requires STARTTLS refuses a plain session
        with pytest.raises(mail.MailError, match="530"):
            _send_one(MailSettings(host="127.0.0.1", port=port, security="none", sender="prospects@exemple.fr", timeout=10))
        assert inbox.take() == []


def test_starttls_missing_on_the_server_is_refused_before_the_password(certificate):
    with smtp_server() as (inbox, port), pytest.raises(mail.MailError, match="does not offer STARTTLS"):
        _send_one(_settings(port, "starttls", certificate[0]))
    assert inbox.take() == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login(certificate):
    ctx = server_context(certificate)
    # the whole session is TLS: aiosmtpd does not see it as such, hence auth_require_tls off
    with smtp_server(ssl_context=ctx, authenticator=authenticator, auth_required=True, auth_require_tls=False) as (inbox, port):
        _send_one(_settings(port, "ssl", certificate[0]))
        assert [to for _f, to, _m in inbox.take()] == [["part1@exemple.fr"]]
        with pytest.raises(mail.MailError, match="TLS error"):
            _send_one(_settings(port, "ssl", None))


def test_the_check_asks_the_server_to_take_a_mail_and_sends_nothing():
    settings = MailSettings(host="127.0.0.1", sender="prospects@exemple.fr", timeout=10)
    for utf8 in (True, False):
        with smtp_server(enable_SMTPUTF8=utf8) as (inbox, port):
            mailer = mail.Mailer(MailSettings(**{**settings.__dict__, "port": port}))
            checked = mailer.check("zoé@exemple.fr")
            # without SMTPUTF8 that mailbox alone will fail when sent: not the whole run
            assert checked.recipient == ("zoé@exemple.fr" if utf8 else None)
            assert mailer.check("part1@exemple.fr").recipient == "part1@exemple.fr"
            inbox.refuse = {"part1@exemple.fr"}  # a mailbox refused: not the server's refusal of everyone
            assert mailer.check("part1@exemple.fr").recipient is None
            assert inbox.take() == []
    assert mail.checked_sentence(checked, "en") == (
        f"SMTP server 127.0.0.1:{port}: connection succeeded; no TLS (security = \"none\"); no login (no credentials "
        "set); sender prospects@exemple.fr accepted; no message sent.")


# ---------------------------------------------------------------------------
# the HTML body on a phone and a laptop (issue 19.2), in Chromium


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1440])
def test_html_body_fits_a_phone_and_a_laptop(tmp_path, width):
    from .browser import CHROMIUM as BROWSER
    from .browser import CHROMIUM_ARGS, axe_report, axe_violations, chromium_available
    from .conftest import IN_CI

    if not chromium_available():
        if IN_CI:
            pytest.fail("Debian's chromium not found")
        pytest.skip("SKIPPING BROWSER TESTS: Debian's chromium not found")
    from playwright.sync_api import sync_playwright

    long_scope = mail.Section(
        scope="Expertise comptable – Paris La Défense et Hauts-de-Seine Nord (Équipe, T-LADEFENSE-EC-NORD)",
        unit_name="Expertise comptable – Paris La Défense", fiscal_year=2026, start=dt.date(2026, 1, 1),
        as_of=dt.date(2026, 11, 29),
        headline={"signed_budget": 123_456_789_00, "signed_offers": 12_345, "offers_in_progress": 678,
                  "potential_fees": 98_765_432_10},
        previous={"signed_budget": 99_999_999_99, "signed_offers": 9_999, "offers_in_progress": 0, "potential_fees": 0},
        previous_as_of=dt.date(2025, 11, 29),
        attachments=(tmp_path / "T-LADEFENSE-EC-NORD-expertise-comptable-paris-la-defense-et-hauts-de-seine-nord.pdf",),
    )
    page_file = tmp_path / "mail.html"
    page_file.write_text(mail.html_body("Marie-Amélie de La Rochefoucauld-Montbel", [long_scope, SECTION], "fr", "EUR",
                                        Freshness(dt.datetime(2026, 11, 19, 2, 10), 10, 3)), encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.goto(page_file.resolve().as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("""() => [...document.querySelectorAll('table')]
                                        .every(t => t.getBoundingClientRect().right <= innerWidth + 1)""")
            found = axe_violations(page)
            assert not found, axe_report(found)
        finally:
            browser.close()


# ---------------------------------------------------------------------------
# the firm's currency and the extract's date (issue 21, points 6 and 10)


@pytest.mark.parametrize(
    ("currency", "fr", "en"),
    [
        ("EUR", "Budget signé\u00a0: 18\u202f500\u202f€ (N-1\u00a0: 4\u202f000\u202f€)", "Signed budget: €18,500 (Last year: €4,000)"),
        ("USD", "Budget signé\u00a0: 18\u202f500\u202f$US (N-1\u00a0: 4\u202f000\u202f$US)", "Signed budget: $18,500 (Last year: $4,000)"),
        ("CHF", "Budget signé\u00a0: 18\u202f500\u202fCHF (N-1\u00a0: 4\u202f000\u202fCHF)", "Signed budget: CHF\u00a018,500 (Last year: CHF\u00a04,000)"),
        ("JPY", "Budget signé\u00a0: 1\u202f850\u202f000\u202fJPY (N-1\u00a0: 400\u202f000\u202fJPY)", "Signed budget: ¥1,850,000 (Last year: ¥400,000)"),
    ],
)
def test_the_mail_shows_amounts_in_the_firms_currency(currency, fr, en):
    for locale, expected in (("fr", fr), ("en", en)):
        msg = message("Paul", locale=locale, currency=currency)
        assert expected in msg.get_body(preferencelist=("plain",)).get_content()
        page = msg.get_body(preferencelist=("html",)).get_content()
        assert expected.split(": ", 1)[-1].split(" (")[0].split("\u00a0: ")[-1] in page
        assert "€" not in page or currency == "EUR"


def test_the_mail_says_the_extracts_date_and_warns_when_it_is_old():
    fresh = Freshness(dt.datetime(2026, 11, 28, 2, 10), 1, 3)
    text = message("Paul", freshness=fresh).get_body(preferencelist=("plain",)).get_content()
    assert "Données extraites le 28/11/2026 à 02:10." in text and "anciennes" not in text
    old = Freshness(dt.date(2026, 11, 20), 9, 3)
    msg = message("Paul", freshness=old)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    warning = "⚠ Données anciennes : extraites il y a 9 jours (au-delà de 3 jours, elles sont signalées)."
    assert text.index(warning) < text.index("Voici votre rapport")  # said first, before the figures
    assert "Données extraites le 20/11/2026." in text
    page = msg.get_body(preferencelist=("html",)).get_content()
    assert 'role="note"' in page and "Données anciennes : extraites il y a 9 jours" in page
    en = message("Paul", locale="en", freshness=old).get_body(preferencelist=("plain",)).get_content()
    assert "⚠ Old data: extracted 9 days ago (data older than 3 days is flagged). The figures below" in en
    assert "Data extracted on 2026-11-20." in en
