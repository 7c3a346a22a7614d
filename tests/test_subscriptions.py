"""Report subscriptions (issue 15) against a real SMTP server (aiosmtpd, in-process, on loopback).

Cabinet Exemple (prospects.sample), whose figures are known by heart, with an address for
everyone. The subscriptions of ``SUBSCRIBED``: by default every active validator gets the
top unit of their perimeter — ``dir`` the firm F, ``part1`` R1 (with the confidential deal
D6 that ``dir`` never sees), ``part2`` R2 (replaced by a list entry asking for English) —
``man1`` (a validator without any group) is skipped, and ``man2`` (no right to validate,
whose name carries a forged ``Bcc:`` line) is listed for "Mes affaires" in PDF and HTML.

One scenario, run as a user would (``prospects`` in a subprocess), shared by the tests:

1. ``report --subscriptions --send --jobs 2`` while the server refuses part1's address:
   dir, part2 and man2 each receive exactly one mail; part1 is listed with the server's
   reason; exit 1;
2. the same command again, the server accepting everyone: only part1 is rendered and sent;
3. once more: nothing rendered, nothing sent, everything "déjà envoyé";
4. ``--force`` with a configuration listing only man2: resent.

PDF text comes from ``pdftotext`` (poppler-utils, installed by ``.ci/system-deps.sh``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import html
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from prospects import cli, db, i18n, subscriptions
from prospects.config import load_settings
from prospects.sample import sample_firm

from .conftest import IN_CI, free_port
from .smtp import authenticator, make_certificate, server_context, smtp_server
from .variants import report_notebook_with, with_unit_ids

TODAY = "2026-11-29"
SPACES = re.compile(r"[\s\u202f\u00a0]+")
FORGED_NAME = "Marc Manager\r\nBcc: intrus@exemple.fr"


def flat(text: str) -> str:
    """Every run of spaces (narrow no-break ones included) as one plain space."""
    return SPACES.sub(" ", text)


def _require(ok: bool, what: str) -> None:
    if ok:
        return
    message = f"{what} not found: install Debian's package (make system-deps)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip("SKIPPING SUBSCRIPTION SENDING TESTS: " + message)


# ---------------------------------------------------------------------------
# the firm and the settings


def firm_with_addresses() -> dict:
    frames = sample_firm()
    people = frames["collaborators"]
    people["email"] = [f"{login}@exemple.fr" for login in people["login"]]
    people.loc[people["login"] == "man2", "full_name"] = FORGED_NAME
    return frames


SUBSCRIBED = """
[subscriptions]
default = "validators"

[[subscriptions.list]]
login = "part2"
unit = "R2"
language = "en"

[[subscriptions.list]]
login = "man2"
unit = "mine"
formats = ["pdf", "html"]
"""


def mail_section(port: int, extra: str = "") -> str:
    return f'\n[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "Suivi Business <prospects@exemple.fr>"\n{extra}'


@pytest.fixture(scope="module")
def firm_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('subscriptions-db') / 'sample.db'}"
    db.replace_all(db.make_engine(url), firm_with_addresses(), info={"source": "Cabinet Exemple (tests)"})
    return url


def prospects(url: str, config: Path, *args: str) -> subprocess.CompletedProcess:
    """``prospects`` in a subprocess, as cron or systemd would run it."""
    return subprocess.run(
        [sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, "--config", str(config), *args],
        capture_output=True, text=True, timeout=900,
    )


def in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def pdf_text(data: bytes, folder: Path, name: str) -> str:
    path = folder / name
    path.write_bytes(data)
    proc = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return flat(proc.stdout)


@pytest.fixture(scope="module")
def scenario(firm_url, tmp_path_factory):
    """The four runs of the module docstring: (process, mails received) of each."""
    _require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    _require(shutil.which(load_settings().chromium) is not None, "Chromium")
    folder = tmp_path_factory.mktemp("subscriptions")
    out = folder / "reports"
    runs = {}
    with smtp_server() as (inbox, port):
        config = folder / "prospects.toml"
        config.write_text(SUBSCRIBED + mail_section(port), "utf-8")
        inbox.refuse = {"part1@exemple.fr"}
        runs["first"] = (prospects(firm_url, config, "report", "--subscriptions", "--send", "--jobs", "2",
                                   "--out", str(out)), inbox.take())
        inbox.refuse = set()
        runs["retry"] = (prospects(firm_url, config, "report", "--subscriptions", "--send", "--out", str(out)), inbox.take())
        runs["again"] = (prospects(firm_url, config, "report", "--subscriptions", "--send", "--out", str(out)), inbox.take())
        only_man2 = folder / "only-man2.toml"
        only_man2.write_text('[subscriptions]\ndefault = "none"\n[[subscriptions.list]]\nlogin = "man2"\nunit = "mine"\n'
                             'formats = ["html"]\n' + mail_section(port), "utf-8")
        runs["unforced"] = (prospects(firm_url, only_man2, "report", "--subscriptions", "--send", "--out", str(out)),
                            inbox.take())
        runs["forced"] = (prospects(firm_url, only_man2, "report", "--subscriptions", "--send", "--force",
                                    "--out", str(out)), inbox.take())
    return runs, folder


def by_recipient(mails) -> dict[str, tuple[str, list[str], email.message.EmailMessage]]:
    out = {}
    for frm, to, msg in mails:
        assert len(to) == 1, to
        assert to[0] not in out, f"{to[0]} received two mails"
        out[to[0]] = (frm, to, msg)
    return out


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def body(msg, subtype: str = "plain") -> str:
    return flat(msg.get_body(preferencelist=(subtype,)).get_content())


# ---------------------------------------------------------------------------
# run 1: one mail per recipient, each rendered as its recipient, one refused


def test_each_recipient_receives_exactly_one_mail_and_the_refusal_is_reported(scenario):
    runs, _ = scenario
    proc, mails = runs["first"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    got = by_recipient(mails)
    assert sorted(got) == ["dir@exemple.fr", "man2@exemple.fr", "part2@exemple.fr"]
    assert all(frm == "prospects@exemple.fr" for frm, _to, _m in got.values())
    lines = proc.stdout.splitlines()
    refused = [line for line in lines if line.startswith("part1 ")]
    assert len(refused) == 1 and "échec" in refused[0] and "550" in refused[0] and "mailbox unavailable" in refused[0]
    for login in ("dir", "part2", "man2"):
        assert any(line.startswith(f"{login} ") and line.endswith("envoyé") for line in lines), login
    assert "3 envoyé(s), 0 déjà envoyé(s), 0 aperçu(s), 1 échec(s)" in proc.stdout
    assert "4 rapport(s) rendu(s) en" in proc.stdout
    assert "man1" not in proc.stdout  # a validator without any group gets nothing
    assert "Traceback" not in proc.stderr


def test_french_mail_shows_unit_period_as_of_and_headline_figures_with_n1(scenario):
    runs, folder = scenario
    got = by_recipient(runs["first"][1])
    _frm, _to, msg = got["dir@exemple.fr"]
    assert msg["Subject"] == "Rapport prospects — Cabinet Exemple — exercice 2026 au 29/11/2026"
    assert msg["To"].addresses[0].display_name == "Claire Directrice"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
    text = body(msg)
    for expected in ("Bonjour Claire Directrice,", "Cabinet Exemple (Cabinet, F)",
                     "Période : du 01/01/2026 au 29/11/2026 (exercice 2026), arrêté au 29/11/2026",
                     "Comparé à N-1 au 29/11/2025", "Budget signé : 18 500 € (N-1 : 4 000 €)",
                     "Offres signées : 4 (N-1 : 1)", "Offres en cours : 1 (", "Honoraires potentiels : 5 000 € (",
                     "En pièce jointe : F-cabinet-exemple.pdf"):
        assert expected in text, expected
    assert re.search(r'Budget signé</td><td style="[^"]*">18 500 €</td><td style="[^"]*">4 000 €', body(msg, "html"))
    pdfs = attachments(msg)
    assert list(pdfs) == ["F-cabinet-exemple.pdf"]
    pdf = pdf_text(pdfs["F-cabinet-exemple.pdf"], folder, "dir.pdf")
    assert "Cabinet Exemple (Cabinet, F)" in pdf and "Claire Directrice (dir, Directeur)" in pdf
    assert "18 500 €" in pdf and "Alpha SAS" in pdf
    assert "Zeta" not in pdf and "Mu SARL" not in pdf  # confidential deals: the director is in neither group


def test_pdf_is_rendered_as_the_recipient_not_as_a_service_account(scenario):
    """part1's R1 report holds the confidential deal D6 (part1 is in its group); dir's firm report does not."""
    runs, folder = scenario
    got = by_recipient(runs["retry"][1])
    msg = got["part1@exemple.fr"][2]
    pdf = pdf_text(attachments(msg)["R1-ile-de-france.pdf"], folder, "part1.pdf")
    assert "Île-de-France (Région, R1)" in pdf and "Paul Associé (part1, Associé)" in pdf
    assert "Zeta" in pdf and "confidentiel" in pdf and "18 500 €" in pdf
    assert "Hauts-de-France" not in pdf and "Delta" not in pdf and "Lille" not in pdf  # R2, outside part1's perimeter
    text = body(msg)
    assert "Budget signé : 18 500 € (N-1 : 4 000 €)" in text
    assert "Offres en cours : 2 (" in text  # X3 and the confidential X8 (the director's mail says 1)


def test_english_subscription_gets_an_english_mail_and_report_of_its_own_region(scenario):
    runs, folder = scenario
    msg = by_recipient(runs["first"][1])["part2@exemple.fr"][2]
    assert msg["Subject"] == "Prospects report — Hauts-de-France — fiscal year 2026 as of 2026-11-29"
    text = body(msg)
    assert "Hello Pierre Associé," in text and "Hauts-de-France (Region, R2)" in text
    # D12 (Mu SARL, confidential G_LILLE, abandoned in 2024) came back: X14 signed in April 2026
    assert "Signed budget: €6,000 (Last year: €0)" in text and "Prospects abandoned" not in text
    pdf = pdf_text(attachments(msg)["R2-hauts-de-france.pdf"], folder, "part2.pdf")
    assert "Hauts-de-France (Region, R2)" in pdf and "Pierre Associé (part2, Partner)" in pdf
    assert "Mu SARL" in pdf  # confidential, but part2 is in its group
    for outside in ("Île-de-France", "Paris", "Alpha SAS", "Beta SARL", "Zeta", "Iota"):
        assert outside not in pdf, outside


def test_mine_subscription_attaches_pdf_and_html_and_no_header_is_injected(scenario):
    runs, folder = scenario
    frm, to, msg = by_recipient(runs["first"][1])["man2@exemple.fr"]
    assert to == ["man2@exemple.fr"]  # the envelope: the forged Bcc reached nobody
    assert msg["Bcc"] is None
    raw = msg.as_bytes()
    assert not re.search(rb"^Bcc:", raw, re.M)
    assert msg["To"].addresses[0].addr_spec == "man2@exemple.fr"
    assert msg["To"].addresses[0].display_name == "Marc Manager Bcc: intrus@exemple.fr"  # one line, harmless
    assert "Bonjour Marc Manager Bcc: intrus@exemple.fr," in body(msg)
    files = attachments(msg)
    assert sorted(files) == ["mes-affaires.html", "mes-affaires.pdf"]
    pdf = pdf_text(files["mes-affaires.pdf"], folder, "man2.pdf")
    assert "Périmètre Mes affaires" in pdf and "(man2, Manager)" in pdf
    assert "Prospect abandonné 1 0" in pdf  # D4, where man2 is the manager, abandoned on 10/09/2026
    assert "Alpha SAS" not in pdf and "Île-de-France" not in pdf
    page = files["mes-affaires.html"]
    assert "Rapport prospects — Mes affaires" in page and "<script" not in page


# ---------------------------------------------------------------------------
# reruns


def test_rerun_sends_only_what_failed(scenario):
    runs, _ = scenario
    proc, mails = runs["retry"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [to for _f, to, _m in mails] == [["part1@exemple.fr"]]
    assert "1 rapport(s) rendu(s) en" in proc.stdout
    assert "1 envoyé(s), 3 déjà envoyé(s), 0 aperçu(s), 0 échec(s)" in proc.stdout


def test_rerun_after_everything_was_sent_sends_nothing(scenario, firm_url):
    runs, _ = scenario
    proc, mails = runs["again"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert mails == []
    assert "aucun rapport à rendre" in proc.stdout
    assert "0 envoyé(s), 4 déjà envoyé(s)" in proc.stdout
    sent = db.read_sends(db.make_engine(firm_url), 2026, dt.date(2026, 11, 29))
    assert sorted(sent) == [("dir", "F"), ("man2", ""), ("part1", "R1"), ("part2", "R2")]
    assert sent[("part1", "R1")]["email"] == "part1@exemple.fr"


def test_force_resends(scenario):
    runs, _ = scenario
    proc, mails = runs["unforced"]
    assert proc.returncode == 0 and mails == [] and "déjà envoyé le 20" in proc.stdout
    proc, mails = runs["forced"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [to for _f, to, _m in mails] == [["man2@exemple.fr"]]
    assert list(attachments(mails[0][2])) == ["mes-affaires.html"]


def test_send_log_survives_a_load(scenario, firm_url):
    engine = db.make_engine(firm_url)
    before = db.read_sends(engine, 2026, dt.date(2026, 11, 29))
    db.replace_all(engine, firm_with_addresses(), info={"source": "reloaded"})
    assert db.read_sends(engine, 2026, dt.date(2026, 11, 29)) == before != {}


# ---------------------------------------------------------------------------
# refusals: nothing rendered, nothing sent


REFUSED = """
[subscriptions]
default = "none"
exclude = ["nobody"]
[[subscriptions.list]]
login = "man2"
unit = "A2"
[[subscriptions.list]]
login = "part1"
unit = "R2"
[[subscriptions.list]]
login = "ghost"
unit = "mine"
[[subscriptions.list]]
login = "gone"
unit = "mine"
[[subscriptions.list]]
login = "staff1"
unit = "mine"
[[subscriptions.list]]
login = "man1"
unit = "perimeter"
[[subscriptions.list]]
login = "dir"
unit = "R9"
"""


@pytest.fixture
def fresh_url(tmp_path):
    """The firm, nothing sent yet."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db.replace_all(db.make_engine(url), firm_with_addresses())
    return url


@pytest.fixture
def no_address_for_staff1(tmp_path):
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    frames = firm_with_addresses()
    frames["collaborators"].loc[frames["collaborators"]["login"] == "staff1", "email"] = None
    db.replace_all(db.make_engine(url), frames)
    return url


def test_refused_subscriptions_are_each_named_and_exit_3(no_address_for_staff1, tmp_path):
    config = tmp_path / "prospects.toml"
    config.write_text(REFUSED, "utf-8")
    code, out, err = in_process("--db", no_address_for_staff1, "--today", TODAY, "--config", str(config), "subscriptions")
    assert code == 3
    c = i18n.colon("fr")
    problems = [line for line in err.splitlines() if line.startswith(f"prospects: subscriptions{c}")]
    assert len(problems) == 8, err
    c = " : "  # each problem is folded on one line (mail.one_line): its no-break spaces too
    for expected in (
        "exclude : identifiant inconnu « nobody »",
        f"#1 (man2 → A2){c}« man2 » ne peut pas filtrer par unité (pas habilité à valider des offres, docs/access.md)",
        f"#2 (part1 → R2){c}l'unité « R2 » est hors du périmètre de part1",
        f"#3 (ghost → mine){c}identifiant inconnu « ghost »",
        f"#4 (gone → mine){c}le collaborateur « gone » est inactif",
        f"#5 (staff1 → mine){c}staff1 (Sophie Collaboratrice) n'a pas d'adresse e-mail",
        f"#6 (man1 → perimeter){c}« man1 » n'a aucune unité dans son périmètre (membre d'aucun groupe)",
        f"#7 (dir → R9){c}unité inconnue « R9 »",
    ):
        assert any(expected in p for p in problems), expected
    assert "Traceback" not in err


def test_a_non_validator_subscribed_to_a_unit_is_refused_before_any_work(firm_url, tmp_path):
    config = tmp_path / "prospects.toml"
    with smtp_server() as (inbox, port):
        config.write_text('[subscriptions]\ndefault = "none"\n[[subscriptions.list]]\nlogin = "man2"\nunit = "A2"\n'
                          + mail_section(port), "utf-8")
        code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "report",
                                    "--subscriptions", "--send", "--out", str(tmp_path / "out"))
        assert code == 3
        assert "« man2 » ne peut pas filtrer par unité" in err and "rien n'est rendu ni envoyé" in err
        assert inbox.take() == []
    assert not (tmp_path / "out").exists()


def test_default_validator_without_address_is_refused_unless_excluded(no_address_for_staff1, tmp_path):
    url = no_address_for_staff1
    engine = db.make_engine(url)
    frames = db.read_all(engine)
    frames["collaborators"].loc[frames["collaborators"]["login"] == "part2", "email"] = None
    db.replace_all(engine, frames)
    config = tmp_path / "prospects.toml"
    config.write_text("[subscriptions]\n", "utf-8")
    code, _out, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "subscriptions")
    assert code == 3 and "abonnement par défaut : part2 (Pierre Associé) n'a pas d'adresse e-mail" in err
    config.write_text('[subscriptions]\nexclude = ["part2"]\n', "utf-8")
    code, out, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "subscriptions")
    assert code == 0, err
    assert "part2" not in out


# ---------------------------------------------------------------------------
# listing and dry run


def test_listing_shows_who_receives_what(firm_url, tmp_path):
    config = tmp_path / "prospects.toml"
    config.write_text(SUBSCRIBED, "utf-8")
    code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "subscriptions")
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line and not line.startswith(("man1 ", "4 "))}
    assert sorted(rows) == ["dir", "man2", "part1", "part2"]
    assert "Cabinet Exemple (Cabinet, F)" in rows["dir"] and "par défaut" in rows["dir"]
    assert "Île-de-France (Région, R1)" in rows["part1"] and "part1@exemple.fr" in rows["part1"]
    assert "Hauts-de-France (Région, R2)" in rows["part2"] and " en " in rows["part2"] and "liste n° 1" in rows["part2"]
    assert "Mes affaires" in rows["man2"] and "pdf,html" in rows["man2"]
    assert "man1 (Marie Manager) : sans rapport — aucune unité dans son périmètre, ses seules affaires : membre d'aucun groupe" in out
    assert "4 rapport(s) pour 4 destinataire(s)" in out


def test_listing_says_why_a_validator_has_no_perimeter(tmp_path):
    """Issue 21: a group without units and a function cap are told apart from "no group", in the locale."""
    firm_url = f"sqlite:///{tmp_path / 'firm.db'}"
    engine = db.make_engine(firm_url)
    frames = firm_with_addresses()
    people = frames["collaborators"]
    people.loc[people["login"] == "man2", "can_validate_offers"] = True  # in no group
    staff = people["login"] == "staff1"
    people.loc[staff, "can_validate_offers"] = True  # staff: capped at none
    frames["groups"] = pd.concat([frames["groups"], pd.DataFrame({"id": ["G_VIDE"], "name": ["Vide"]})], ignore_index=True)
    frames["group_members"] = pd.concat([frames["group_members"], pd.DataFrame({"group_id": ["G_VIDE"], "collaborator_id": ["C4"]})],
                                        ignore_index=True)  # man1, in a group covering nothing
    db.replace_all(engine, frames)
    config = tmp_path / "prospects.toml"
    config.write_text('[subscriptions]\nexclude = ["man2", "staff1"]\n', "utf-8")
    code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "subscriptions")
    assert "man1 (Marie Manager) : sans rapport — aucune unité dans son périmètre, ses seules affaires : ses groupes ne couvrent aucune unité" in out
    config.write_text('locale = "en"\n[subscriptions]\nexclude = ["man1"]\n', "utf-8")
    code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "subscriptions")
    man2 = next(line for line in out.splitlines() if line.startswith("man2 ("))  # his name is a forged one, folded
    assert man2.endswith("): no report — no unit in their perimeter, only their own deals: in no group")
    assert "staff1 (Sophie Collaboratrice): no report — no unit in their perimeter, only their own deals: the function cap of Staff is none (setting function_caps)" in out


def test_dry_run_on_the_demo_lists_every_validator_with_their_units(tmp_path):
    """The issue's acceptance check: the demo's validators, each with the top unit(s) of their perimeter."""
    from prospects.api import open_firm

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, _out, err = in_process("--db", url, "--today", TODAY, "demo", "--size", "small")
    assert code == 0, err
    code, out, err = in_process("--db", url, "--today", TODAY, "report", "--subscriptions", "--dry-run")
    assert code == 0, err
    assert "Essai : rien n'est rendu ni envoyé." in out
    firm = open_firm(url, today=TODAY)
    people = firm.directory.collaborators
    validators = people[people["can_validate_offers"] & people["active"]]
    listed = {}
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+.*\((?:Cabinet|Région|Agence|Équipe), ([\w-]+)\)\s+pdf\s+fr\s+à envoyer$", line)
        if m:
            listed.setdefault(m.group(1), []).append(m.group(2))
    with_perimeter = 0
    for login in validators["login"]:
        view = firm.as_viewer(login)
        tops = sorted(u for u in view.viewer.perimeter if firm.directory.units.at[u, "parent_id"] not in view.viewer.perimeter)
        if tops:
            with_perimeter += 1
            assert sorted(listed.get(login, [])) == tops, login
        else:
            assert login not in listed and f"{login} (" in out  # listed as skipped, with the reason
    assert len(listed) == with_perimeter >= 10
    assert set(listed) <= set(validators["login"])  # nobody else
    # and no file was written, nothing logged
    assert not (tmp_path / "reports").exists()
    assert db.read_sends(firm.engine, 2026, firm.as_viewer(validators["login"].iloc[0]).period().as_of) == {}


def test_dry_run_with_send_checks_the_smtp_server_says_exactly_what_and_sends_nothing(fresh_url, tmp_path):
    """No TLS and no login configured: the dry run says so, never "TLS et authentification réussis" (20.13)."""
    firm_url = fresh_url
    config = tmp_path / "prospects.toml"
    with smtp_server() as (inbox, port):
        config.write_text(SUBSCRIBED + mail_section(port), "utf-8")
        code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "report",
                                    "--subscriptions", "--dry-run", "--send")
        assert code == 0, err
        [line] = [x for x in out.splitlines() if x.startswith("Serveur SMTP")]
        assert line == (f"Serveur SMTP 127.0.0.1:{port} : connexion réussie ; sans TLS (security = \"none\") ; "
                        "sans authentification (aucun identifiant configuré) ; expéditeur prospects@exemple.fr et "
                        "destinataire dir@exemple.fr acceptés ; aucun message envoyé.")
        assert "TLS et authentification" not in out
        assert inbox.take() == []
    closed = free_port()  # nobody listens there
    config.write_text(SUBSCRIBED + mail_section(closed), "utf-8")
    code, out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "report",
                                "--subscriptions", "--dry-run", "--send")
    assert code == 2 and f"SMTP server 127.0.0.1:{closed}: ConnectionRefusedError" in err


def test_send_refuses_a_missing_sender_and_unreachable_server_before_rendering(fresh_url, tmp_path):
    firm_url = fresh_url
    config = tmp_path / "prospects.toml"
    config.write_text(SUBSCRIBED + f'[mail]\nport = {free_port()}\n', "utf-8")
    code, _out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "report",
                                 "--subscriptions", "--send", "--out", str(tmp_path / "out"))
    assert code == 2 and "[mail] sender is not set" in err
    config.write_text(SUBSCRIBED + mail_section(free_port()), "utf-8")
    code, _out, err = in_process("--db", firm_url, "--today", TODAY, "--config", str(config), "report",
                                 "--subscriptions", "--send", "--out", str(tmp_path / "out"))
    assert code == 2 and "nothing rendered or sent" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags", [["--as", "dir"], ["--unit", "R1"], ["--format", "pdf"], ["--by", "agency"]])
def test_report_options_that_do_not_apply_to_subscriptions_are_refused(firm_url, flags):
    code, _out, err = in_process("--db", firm_url, "--today", TODAY, "report", "--subscriptions", *flags)
    assert code == 2 and "pas avec --subscriptions" in err


def test_send_without_subscriptions_and_report_without_as_are_usage_errors(firm_url):
    code, _out, err = in_process("--db", firm_url, "--today", TODAY, "report", "--send")
    assert code == 2 and "vont avec --subscriptions" in err
    code, _out, err = in_process("--db", firm_url, "--today", TODAY, "report")
    assert code == 2 and "report demande --as IDENTIFIANT" in err


def test_top_units_of_a_perimeter(firm_url):
    from prospects.api import open_firm

    firm = open_firm(firm_url, today=TODAY)
    assert subscriptions.top_units(firm.directory, firm.as_viewer("dir").viewer.perimeter) == ["F"]
    assert subscriptions.top_units(firm.directory, firm.as_viewer("part2").viewer.perimeter) == ["R2"]
    assert subscriptions.top_units(firm.directory, frozenset({"A1", "T1", "R2", "A2", "T2"})) == ["R2", "A1"]


def test_smtp_credentials_reach_the_cli_from_the_environment_only(tmp_path, monkeypatch):
    """`report --subscriptions --dry-run --send` logs in over STARTTLS with the environment's credentials."""
    certificate = make_certificate(tmp_path)
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), firm_with_addresses())
    ctx = server_context(certificate)
    with smtp_server(tls_context=ctx, require_starttls=True, authenticator=authenticator, auth_required=True,
                     auth_require_tls=True) as (inbox, port):
        config = tmp_path / "prospects.toml"
        config.write_text(SUBSCRIBED + f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\n'
                          f'sender = "prospects@exemple.fr"\nca_file = "{certificate[0]}"\n', "utf-8")
        argv = ["--db", url, "--today", TODAY, "--config", str(config), "report", "--subscriptions", "--dry-run", "--send"]
        monkeypatch.setenv("PROSPECTS_SMTP_USER", "relay-user")
        monkeypatch.setenv("PROSPECTS_SMTP_PASSWORD", "s3cret é")
        code, out, err = in_process(*argv)
        assert code == 0, err
        assert (f"127.0.0.1:{port} : connexion réussie ; TLS (STARTTLS) établi, certificat vérifié ; "
                "authentification réussie (relay-user) ; expéditeur prospects@exemple.fr et destinataire "
                "dir@exemple.fr acceptés ; aucun message envoyé.") in out
        monkeypatch.setenv("PROSPECTS_SMTP_PASSWORD", "wrong")
        code, out, err = in_process(*argv)
        assert code == 2 and "SMTP authentication failed: 535" in err and "s3cret" not in err + out
        assert inbox.take() == []


def _failing_notebook(folder: Path, unit: str) -> Path:
    """The real report notebook, plus a cell that raises for ``unit`` right after the parameters."""
    return report_notebook_with(folder, f'if unit == "{unit}":\n    raise RuntimeError("panne simulée pour {unit}")',
                                "failing-report.ipynb")


def test_without_send_mails_are_previewed_and_a_failed_render_does_not_stop_the_others(fresh_url, tmp_path, monkeypatch):
    from prospects import reports

    monkeypatch.setattr(reports, "NOTEBOOK", _failing_notebook(tmp_path, "R1"))
    config = tmp_path / "prospects.toml"
    config.write_text('[subscriptions]\ndefault = "none"\n'
                      '[[subscriptions.list]]\nlogin = "part1"\nunit = "R1"\nformats = ["html"]\n'
                      '[[subscriptions.list]]\nlogin = "man2"\nunit = "mine"\nformats = ["html"]\n', "utf-8")
    out = tmp_path / "reports"
    code, stdout, err = in_process("--db", fresh_url, "--today", TODAY, "--config", str(config), "report",
                                   "--subscriptions", "--out", str(out))
    assert code == 1, stdout + err
    line = next(x for x in stdout.splitlines() if x.startswith("part1 "))
    assert "échec: rendu en échec: RuntimeError: panne simulée pour R1" in line
    eml = out / "subscriptions" / "2026" / "2026-11-29" / subscriptions.recipient_folder("man2") / "message.eml"
    assert f"aperçu {eml}" in stdout
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "man2@exemple.fr"
    assert [p.get_filename() for p in msg.iter_attachments()] == ["mes-affaires.html"]
    assert not (out / "subscriptions" / "2026" / "2026-11-29" / subscriptions.recipient_folder("part1") / "message.eml").exists()
    assert "0 envoyé(s), 0 déjà envoyé(s), 1 aperçu(s), 1 échec(s)" in stdout
    assert db.read_sends(db.make_engine(fresh_url), 2026, dt.date(2026, 11, 29)) == {}  # a preview is not a send


# ---------------------------------------------------------------------------
# the schedule: deploy/ (systemd service + timer, cron line)

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_schedule_files_run_the_same_command_every_monday_at_seven(tmp_path):
    import shlex

    service = (DEPLOY / "prospects-subscriptions.service").read_text("utf-8")
    timer = (DEPLOY / "prospects-subscriptions.timer").read_text("utf-8")
    cron = (DEPLOY / "prospects-subscriptions.cron").read_text("utf-8")
    assert re.search(r"^OnCalendar=Mon \*-\*-\* 07:00:00$", timer, re.M) and "Persistent=true" in timer
    assert "Unit=prospects-subscriptions.service" in timer and "Type=oneshot" in service
    assert re.search(r"^RestartPreventExitStatus=2 3$", service, re.M)
    exec_args = shlex.split(re.search(r"^ExecStart=(.+)$", service, re.M).group(1))
    entry = next(line for line in cron.splitlines() if line and not line.startswith("#") and not re.match(r"^\w+=", line))
    minute, hour, dom, month, dow, user, command = entry.split(None, 6)
    assert (minute, hour, dom, month, dow, user) == ("0", "7,8,9", "*", "*", "1", "prospects")  # Monday 07:00, two retries
    cron_args = shlex.split(command.split("&&", 1)[1].split(">>", 1)[0])
    assert exec_args[0].endswith("/.venv/bin/prospects") and cron_args[0] == ".venv/bin/prospects"
    assert exec_args[1:] == cron_args[1:]
    parsed = cli.build_parser().parse_args(exec_args[1:])
    assert (parsed.command, parsed.subscriptions, parsed.send, parsed.dry_run, parsed.force) == ("report", True, True, False, False)
    assert "PROSPECTS_SMTP_PASSWORD" in service and "PROSPECTS_SMTP_PASSWORD" in cron
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found: the unit files were checked by reading only")
    # systemd's own check of both units, with the executable pointed at this environment's command
    (tmp_path / "prospects-subscriptions.service").write_text(
        service.replace(exec_args[0], str(Path(sys.executable).parent / "prospects")), "utf-8")
    (tmp_path / "prospects-subscriptions.timer").write_text(timer, "utf-8")
    proc = subprocess.run([analyze, "verify", str(tmp_path / "prospects-subscriptions.service"),
                           str(tmp_path / "prospects-subscriptions.timer")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    proc = subprocess.run([analyze, "calendar", "--iterations", "2", "Mon *-*-* 07:00:00"], capture_output=True, text=True)
    assert proc.returncode == 0 and re.search(r"Next elapse: Mon \d{4}-\d\d-\d\d 07:00:00", proc.stdout), proc.stdout


def test_a_second_run_in_the_same_folder_is_refused(fresh_url, tmp_path):
    """Two runs rendering into one folder would replace each other's files: the second is refused.

    (That no mail goes twice, whatever the folders, is the claims' work: see
    test_two_runs_at_once_with_different_folders_send_each_mail_once.)
    """
    import fcntl

    config = tmp_path / "prospects.toml"
    config.write_text('[subscriptions]\ndefault = "none"\n[[subscriptions.list]]\nlogin = "man2"\nunit = "mine"\n'
                      'formats = ["html"]\n', "utf-8")
    base = tmp_path / "out" / "subscriptions"
    base.mkdir(parents=True)
    with open(base / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first run
        code, out, err = in_process("--db", fresh_url, "--today", TODAY, "--config", str(config), "report",
                                    "--subscriptions", "--out", str(tmp_path / "out"))
    assert code == 2 and f"un autre `report --subscriptions` utilise {base}" in err
    assert not (base / "2026").exists()


# ---------------------------------------------------------------------------
# one recipient's report never reaches another (issue 20.1), ids never become paths (20.9)


def _one_slug_logins() -> tuple[str, str]:
    """A login with a space, and another spelled as the folder name the first one used to get."""
    import hashlib

    first = "jean dupont"
    return first, f"jean-dupont-{hashlib.sha1(first.encode()).hexdigest()[:8]}"


def firm_with_one_slug_logins() -> dict:
    """Cabinet Exemple plus two staff members whose logins gave one folder; the first is on the confidential D6."""
    import pandas as pd

    frames = firm_with_addresses()
    first, second = _one_slug_logins()
    people = frames["collaborators"]
    extra = pd.DataFrame([
        {**people.iloc[5].to_dict(), "id": "C90", "login": first, "full_name": "Jean Dupont", "email": "jd1@exemple.fr"},
        {**people.iloc[5].to_dict(), "id": "C91", "login": second, "full_name": "Jean Dupond", "email": "jd2@exemple.fr"},
    ])
    frames["collaborators"] = pd.concat([people, extra], ignore_index=True)
    deals = frames["deals"]
    deals.loc[deals["id"] == "D6", "client_manager_id"] = "C90"
    return frames


def listed(*entries: tuple[str, str]) -> str:
    """``[subscriptions]`` with no default, and one HTML subscription per ``(login, unit)``."""
    items = "".join(f'[[subscriptions.list]]\nlogin = "{login}"\nunit = "{unit}"\nformats = ["html"]\n'
                    for login, unit in entries)
    return '[subscriptions]\ndefault = "none"\n' + items


def test_two_logins_of_one_slug_each_get_the_report_rendered_as_them(tmp_path):
    """Before: both rendered into one folder, the second overwrote the first and one preview was lost."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), firm_with_one_slug_logins())
    first, second = _one_slug_logins()
    config = tmp_path / "prospects.toml"
    config.write_text(listed((first, "mine"), (second, "mine")), "utf-8")
    out = tmp_path / "reports"
    code, stdout, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "report",
                                   "--subscriptions", "--out", str(out), "--jobs", "2")
    assert code == 0, stdout + err
    previews = sorted((out / "subscriptions" / "2026" / "2026-11-29").glob("*/message.eml"))
    assert len(previews) == 2 and len({p.parent.name.casefold() for p in previews}) == 2
    seen = {}
    for eml in previews:
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        address = msg["To"].addresses[0].addr_spec
        page = attachments(msg)["mes-affaires.html"]
        seen[address] = page
        assert f"aperçu {eml}" in stdout
    assert set(seen) == {"jd1@exemple.fr", "jd2@exemple.fr"}
    assert "(jean dupont, " in seen["jd1@exemple.fr"] and "Zeta" in seen["jd1@exemple.fr"]
    assert f"({second}, " in seen["jd2@exemple.fr"] and "Zeta" not in seen["jd2@exemple.fr"]
    with smtp_server() as (inbox, port):
        config.write_text(listed((first, "mine"), (second, "mine")) + mail_section(port), "utf-8")
        code, stdout, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "report",
                                       "--subscriptions", "--send", "--out", str(out))
        assert code == 0, stdout + err
        got = by_recipient(inbox.take())
    assert sorted(got) == ["jd1@exemple.fr", "jd2@exemple.fr"]
    assert "Zeta" in attachments(got["jd1@exemple.fr"][2])["mes-affaires.html"]
    assert "Zeta" not in attachments(got["jd2@exemple.fr"][2])["mes-affaires.html"]


def test_recipient_folders_are_distinct_whatever_the_disk(tmp_path):
    """Logins differing only by case, or one spelled as another's slug: distinct folders, even case-folded."""
    first, second = _one_slug_logins()
    logins = [first, second, "Part1", "part1", "PART1", "../x", "a/b", ".", "..", "é" * 300, "e" * 300]
    names = [subscriptions.recipient_folder(login) for login in logins]
    assert len({n.casefold() for n in names}) == len(logins)
    for name in names:
        assert name == name.lower() and not name.startswith(".") and len(name.encode()) <= 100
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name), name


def _notebook_rendering_as(folder: Path, login: str, instead: str) -> Path:
    """The real report notebook, plus a cell that renders ``login``'s reports as ``instead``."""
    return report_notebook_with(folder, f'if viewer == "{login}":\n    viewer = "{instead}"', "other-viewer-report.ipynb")


def test_a_file_not_rendered_as_its_recipient_is_never_attached(fresh_url, tmp_path, monkeypatch):
    """The identity the report was rendered with is recorded with the file and checked before attaching."""
    from prospects import reports

    monkeypatch.setattr(reports, "NOTEBOOK", _notebook_rendering_as(tmp_path, "man2", "part2"))
    config = tmp_path / "prospects.toml"
    body_ = ('[subscriptions]\ndefault = "none"\n'
             '[[subscriptions.list]]\nlogin = "man2"\nunit = "mine"\nformats = ["html"]\n'
             '[[subscriptions.list]]\nlogin = "staff1"\nunit = "mine"\nformats = ["html"]\n')
    with smtp_server() as (inbox, port):
        config.write_text(body_ + mail_section(port), "utf-8")
        code, stdout, err = in_process("--db", fresh_url, "--today", TODAY, "--config", str(config), "report",
                                       "--subscriptions", "--send", "--out", str(tmp_path / "out"))
        got = by_recipient(inbox.take())
    assert code == 1, stdout + err
    assert sorted(got) == ["staff1@exemple.fr"]  # man2 got nothing rendered as part2
    line = next(x for x in stdout.splitlines() if x.startswith("man2 "))
    assert "échec" in line and "rendu avec les droits de part2, pas de man2" in line
    assert "1 envoyé(s), 0 déjà envoyé(s), 0 aperçu(s), 1 échec(s)" in stdout
    assert db.read_sends(db.make_engine(fresh_url), 2026, dt.date(2026, 11, 29)).keys() == {
        ("staff1", "")}


def firm_with_hostile_unit_ids() -> dict:
    """Cabinet Exemple where Lille's agency is ``../../evil`` and its team ``a/b``."""
    return with_unit_ids(firm_with_addresses(), {"A2": "../../evil", "T2": "a/b"})


HOSTILE_UNITS = listed(("part2", "../../evil"), ("part2", "a/b"), ("dir", "R1"), ("part1", "R1"))


def test_unit_ids_never_become_paths_and_one_failing_recipient_does_not_stop_the_others(tmp_path):
    """Before: the ids reached a temporary folder's name unescaped, the run stopped (exit 2) and nobody got a mail."""
    import tempfile

    url = f"sqlite:///{tmp_path / 'db' / 'firm.db'}"
    (tmp_path / "db").mkdir()
    db.replace_all(db.make_engine(url), firm_with_hostile_unit_ids())
    work = tmp_path / "work"
    out = work / "deep" / "out"
    config = tmp_path / "prospects.toml"
    temp_before = set(os.listdir(tempfile.gettempdir()))
    # dir's folder cannot be made (a file stands there): dir fails with the reason, the others are sent
    blocked = out / "subscriptions" / "2026" / "2026-11-29" / subscriptions.recipient_folder("dir")
    blocked.parent.mkdir(parents=True)
    blocked.write_text("in the way", "utf-8")
    with smtp_server() as (inbox, port):
        config.write_text(HOSTILE_UNITS + mail_section(port), "utf-8")
        code, stdout, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "report",
                                       "--subscriptions", "--send", "--out", str(out))
        got = by_recipient(inbox.take())
    assert code == 1, stdout + err
    assert sorted(got) == ["part1@exemple.fr", "part2@exemple.fr"]
    files = attachments(got["part2@exemple.fr"][2])
    assert len(files) == 2 and all("/" not in name and not name.startswith(".") for name in files)
    assert any("Lille" in page for page in files.values())
    line = next(x for x in stdout.splitlines() if x.startswith("dir "))
    assert "échec" in line and "R1" in line and str(blocked.name) in line
    assert "Traceback" not in err
    # nothing outside --out: not beside it, not in the temporary folder
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if "out" not in p.relative_to(work).parts) \
        == ["deep"]
    assert not [n for n in set(os.listdir(tempfile.gettempdir())) - temp_before if "evil" in n or n.startswith("b-")]
    written = [p for p in out.rglob("*") if p.is_file()]
    assert all(out in p.parents for p in written) and not any(".." in p.relative_to(out).parts for p in written)


# ---------------------------------------------------------------------------
# the SMTP check says what it checked, and finds a server that wants a login before rendering (20.13)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_server_requiring_a_login_is_found_before_anything_is_rendered(fresh_url, tmp_path):
    """Before: every report was rendered, then every mail refused (530), exit 1."""
    config = tmp_path / "prospects.toml"
    out = tmp_path / "out"
    with smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False) as (inbox, port):
        config.write_text(SUBSCRIBED + mail_section(port), "utf-8")
        for extra in (["--dry-run"], ["--out", str(out)]):
            code, stdout, err = in_process("--db", fresh_url, "--today", TODAY, "--config", str(config), "report",
                                           "--subscriptions", "--send", *extra)
            assert code == 2, stdout + err
            [line] = err.strip().splitlines()
            assert f"SMTP server 127.0.0.1:{port}" in line and "530" in line and "PROSPECTS_SMTP_USER" in line
            assert "Traceback" not in err
        assert "nothing rendered or sent" in err and not out.exists()
        assert inbox.take() == []


# ---------------------------------------------------------------------------
# one sender per database and period (20.7), a send log that cannot be written (20.8)


TWO_RECIPIENTS = listed(("man2", "mine"), ("part1", "R1"))


class SlowInbox:
    """Delays each DATA a little, so that two runs' sendings overlap."""

    def __init__(self, inbox, seconds: float = 0.5) -> None:
        self.inbox, self.seconds = inbox, seconds

    async def handle_RCPT(self, *args):
        return await self.inbox.handle_RCPT(*args)

    async def handle_DATA(self, *args):
        import asyncio

        await asyncio.sleep(self.seconds)
        return await self.inbox.handle_DATA(*args)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_runs_at_once_with_different_folders_send_each_mail_once(backend, tmp_path, request):
    """Two `report --subscriptions --send` at the same time (another --out: no common lock) on one database."""
    url = f"sqlite:///{tmp_path / 'firm.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    db.replace_all(db.make_engine(url), firm_with_addresses())
    with smtp_server(wrap=SlowInbox) as (inbox, port):
        config = tmp_path / "prospects.toml"
        config.write_text(TWO_RECIPIENTS + mail_section(port), "utf-8")
        argv = [sys.executable, "-m", "prospects.cli", "--db", url, "--today", TODAY, "--config", str(config), "report",
                "--subscriptions", "--send"]
        procs = [subprocess.Popen([*argv, "--out", str(tmp_path / name)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for name in ("out-a", "out-b")]
        results = [p.communicate(timeout=900) for p in procs]
        mails = inbox.take()
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, out + err
        assert "Traceback" not in err
    got = by_recipient(mails)  # fails on a second mail to anyone
    assert sorted(got) == ["man2@exemple.fr", "part1@exemple.fr"]
    for login in ("man2", "part1"):
        lines = [line for out, _ in results for line in out.splitlines() if line.startswith(f"{login} ")]
        assert len(lines) == 2 and sum(line.endswith(" envoyé") for line in lines) == 1, lines
    sent = db.read_sends(db.make_engine(url), 2026, dt.date(2026, 11, 29))
    assert sorted(sent) == [("man2", ""), ("part1", "R1")]


def test_a_send_log_that_cannot_be_written_is_that_recipients_failure_and_never_a_second_copy(
        fresh_url, tmp_path, monkeypatch):
    """Before: the run stopped (exit 2) after man2's mail, part1 got nothing; the rerun sent man2 a second copy."""
    config = tmp_path / "prospects.toml"
    out = tmp_path / "out"
    real = db.record_sends

    def failing(engine, rows):
        if any(row["login"] == "man2" for row in rows):
            raise db.DatabaseError("cannot write the database: disk I/O error")
        return real(engine, rows)

    with smtp_server() as (inbox, port):
        config.write_text(TWO_RECIPIENTS + mail_section(port), "utf-8")
        argv = ["--db", fresh_url, "--today", TODAY, "--config", str(config), "report", "--subscriptions", "--send",
                "--out", str(out)]
        monkeypatch.setattr(db, "record_sends", failing)
        code, stdout, err = in_process(*argv)
        first = by_recipient(inbox.take())
        monkeypatch.setattr(db, "record_sends", real)
        again_code, again, again_err = in_process(*argv)
        second = inbox.take()
    assert code == 1, stdout + err
    assert sorted(first) == ["man2@exemple.fr", "part1@exemple.fr"]
    line = next(x for x in stdout.splitlines() if x.startswith("man2 "))
    assert "échec" in line and "accepté par le serveur" in line and "disk I/O error" in line
    assert "Traceback" not in err
    assert again_code == 0, again + again_err
    assert second == []  # never a second copy: man2's claim stands
    line = next(x for x in again.splitlines() if x.startswith("man2 "))
    assert "non renvoyé" in line and "--force" in line
    assert "déjà envoyé le " in next(x for x in again.splitlines() if x.startswith("part1 "))


class DropsAfterData:
    """Takes the message, then drops the connection before saying so: the sender cannot know."""

    def __init__(self, inbox, victim: str) -> None:
        self.inbox, self.victim = inbox, victim

    async def handle_RCPT(self, *args):
        return await self.inbox.handle_RCPT(*args)

    async def handle_DATA(self, server, session, envelope):
        await self.inbox.handle_DATA(server, session, envelope)
        if self.victim in envelope.rcpt_tos:
            server.transport.close()
            return "421 closing"  # never reaches the client
        return "250 Message accepted for delivery"


def test_a_mail_the_server_may_have_taken_is_never_sent_again_by_itself(fresh_url, tmp_path):
    with smtp_server(wrap=lambda inbox: DropsAfterData(inbox, "man2@exemple.fr")) as (inbox, port):
        config = tmp_path / "prospects.toml"
        config.write_text(TWO_RECIPIENTS + mail_section(port), "utf-8")
        argv = ["--db", fresh_url, "--today", TODAY, "--config", str(config), "report", "--subscriptions", "--send",
                "--out", str(tmp_path / "out")]
        code, stdout, err = in_process(*argv)
        first = by_recipient(inbox.take())
        again_code, again, _ = in_process(*argv)
        second = inbox.take()
        forced_code, forced, _ = in_process(*argv, "--force")
        third = by_recipient(inbox.take())
    assert code == 1, stdout + err
    assert sorted(first) == ["man2@exemple.fr", "part1@exemple.fr"]  # man2's reached the server, unknown to us
    line = next(x for x in stdout.splitlines() if x.startswith("man2 "))
    assert "peut-être reçu" in line and "--force" in line
    assert again_code == 0 and second == []
    assert "non renvoyé" in next(x for x in again.splitlines() if x.startswith("man2 "))
    assert "1 réservé(s) par un autre envoi" in again
    assert forced_code == 1 and sorted(third) == ["man2@exemple.fr", "part1@exemple.fr"]  # --force: on purpose


# ---------------------------------------------------------------------------
# the firm's currency and the extract's date (issue 21, points 6 and 10)


def test_old_data_still_goes_out_and_the_mail_says_so_in_the_firms_currency(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.replace_all(db.make_engine(url), firm_with_addresses(), info={"source": "import crm.toml", "export_date": "2026-11-20"})
    config = tmp_path / "prospects.toml"
    config.write_text('currency = "CHF"\nstale_after_days = 5\n[subscriptions]\ndefault = "none"\n'
                      '[[subscriptions.list]]\nlogin = "part1"\nunit = "R1"\nformats = ["html"]\n', "utf-8")
    out = tmp_path / "reports"
    code, stdout, err = in_process("--db", url, "--today", TODAY, "--config", str(config), "report",
                                   "--subscriptions", "--out", str(out))
    assert code == 0, stdout + err
    eml = out / "subscriptions" / "2026" / "2026-11-29" / subscriptions.recipient_folder("part1") / "message.eml"
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = body(msg)
    assert "⚠ Données anciennes : extraites il y a 9 jours (au-delà de 5 jours, elles sont signalées)." in text
    assert "Données extraites le 20/11/2026." in text
    assert "Budget signé : 18 500 CHF (N-1 : 4 000 CHF)" in text and "€" not in text
    assert "Données anciennes : extraites il y a 9 jours" in body(msg, "html")
    [page] = attachments(msg).values()
    report = flat(html.unescape(page.decode("utf-8") if isinstance(page, bytes) else page))
    assert "Données extraites le</dt><dd>20/11/2026" in report and 'class="pr-stale"' in report
    assert "18 500 CHF" in report and "€" not in report.split("<style>")[0] + report.split("</style>")[-1]
