"""Report subscriptions: every recipient gets the reports of their own perimeter, rendered as them.

Who gets what (:func:`resolve`) comes from ``[subscriptions]`` in ``prospects.toml``
(:mod:`prospects.config`) checked against the data under docs/access.md:

* ``default = "validators"`` (the default): every active collaborator with the right to
  validate offers, unless listed in ``exclude``, gets the report of the top unit of their
  perimeter (one per top unit when the perimeter is several subtrees); a validator whose
  perimeter is empty is listed as skipped, with why (in no group, groups covering no unit,
  a function cap). ``"none"``: only the list.
* each ``[[subscriptions.list]]`` entry adds a subscription: ``unit`` is a unit id,
  ``"perimeter"`` (the top unit(s) of the recipient's perimeter) or ``"mine"`` ("Mes
  affaires", for anyone); ``formats`` (``["pdf"]`` by default, ``"html"`` too) and
  ``language`` (the settings' locale by default). An entry for the same login and unit
  as a default subscription replaces it.

Refused, and named (``prospects subscriptions`` exits 3, nothing is rendered or sent):
an unknown or inactive login, a unit unknown or outside its recipient's perimeter, a
unit asked by someone without the right to filter (non-validator), a recipient without a
plain e-mail address (``collaborators.email``), a duplicate entry, an unknown login in
``exclude``.

Sending (:func:`run_command`, ``prospects report --subscriptions``): each subscription
not yet sent for the period is rendered by the report machinery of :mod:`prospects.reports`
(the notebook, papermill, Chromium) with the recipient as the viewer and the unit as the
filter — never as a service account — then each recipient gets one mail
(:mod:`prospects.mail`) with all their reports — only files recorded as rendered as them
(:func:`prospects.reports.rendered_bytes`), from a folder of their own
(:func:`recipient_folder`). Failures are listed with their reason and do not stop the
others.

One sender per database and period: just before the SMTP call, the recipient's reports
are claimed in the database (``subscription_claims``, :func:`prospects.db.claim_sends`, one
transaction, a primary key): a run that finds them claimed by another — a second run with
another ``--out``, a manual run while the timer runs, another machine — leaves them to it.
What was sent is logged (``subscription_sends``), so a rerun for the same period skips it
unless ``force``. The claim stays once the server took the mail, even if the log then
cannot be written or the session broke mid-message (the server may have it): never a second
copy but with ``force``; a definite refusal gives the claim back, for the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import db, i18n, mail, reports
from .config import ConfigError, Settings, SubscriptionEntry, parse_date
from .fiscal import Period, period_for
from .freshness import freshness
from .scoping import AccessDenied, Directory, Filters, Viewer, check_filters, resolve_viewer

#: Labels of the command's output.
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "heading": "Abonnements aux rapports — exercice {fy}, arrêté au {as_of}",
        "dry_run": "Essai : rien n'est rendu ni envoyé.",
        "pending": "à envoyer",
        "already": "déjà envoyé le {when}",
        "sent": "envoyé",
        "preview": "aperçu {path}",
        "failed": "échec",
        "render_failed": "rendu en échec",
        "totals": "{sent} envoyé(s), {already} déjà envoyé(s), {previews} aperçu(s), {failed} échec(s)",
        "none": "Aucun abonnement.",
        "skipped": "sans rapport",
        "no_perimeter": "aucune unité dans son périmètre, ses seules affaires : {why}",
        "cap_none": "la limite de la fonction {function} est « aucune » (réglage function_caps)",
        "home_above_cap": "son unité de rattachement est au-dessus de la limite de sa fonction ({function} : {level})",
        "no_group": "membre d'aucun groupe",
        "groups_without_units": "ses groupes ne couvrent aucune unité",
        "outside_cap": "ses groupes ne couvrent rien dans la limite de sa fonction ({function} : {level})",
        "claimed": "non renvoyé : réservé le {when} par un autre envoi ({by}), sans confirmation d'envoi ; "
                   "s'il n'a pas abouti, --force le renvoie",
        "claimed_now": "non envoyé : un autre envoi vient de le réserver",
        "claimed_total": ", {n} réservé(s) par un autre envoi",
        "claim_failed": "non envoyé : la réservation dans la base a échoué ({reason})",
        "maybe_sent": "le serveur l'a peut-être reçu : non renvoyé automatiquement (--force pour le renvoyer)",
        "not_released": "et la réservation n'a pas pu être rendue ({reason}) : --force pour le renvoyer",
        "log_failed": "accepté par le serveur, mais le journal d'envoi n'a pas pu être écrit ({reason}) ; "
                      "la réservation dans la base empêche tout second envoi",
        "not_viewer": "{file} rendu avec les droits de {found}, pas de {expected} : non joint",
        "not_unit": "{file} rendu pour l'unité {found}, pas {expected} : non joint",
        "not_missing": "{file} : aucune trace de l'identité avec laquelle il a été rendu : non joint",
        "not_changed": "{file} modifié depuis son rendu : non joint",
    },
    "en": {
        "heading": "Report subscriptions — fiscal year {fy}, as of {as_of}",
        "dry_run": "Dry run: nothing is rendered or sent.",
        "pending": "to send",
        "already": "already sent on {when}",
        "sent": "sent",
        "preview": "preview {path}",
        "failed": "failed",
        "render_failed": "rendering failed",
        "totals": "{sent} sent, {already} already sent, {previews} preview(s), {failed} failed",
        "none": "No subscription.",
        "skipped": "no report",
        "no_perimeter": "no unit in their perimeter, only their own deals: {why}",
        "cap_none": "the function cap of {function} is none (setting function_caps)",
        "home_above_cap": "their home unit is above their function's cap ({function}: {level})",
        "no_group": "in no group",
        "groups_without_units": "their groups cover no unit",
        "outside_cap": "their groups cover nothing within their function's cap ({function}: {level})",
        "claimed": "not sent again: claimed on {when} by another run ({by}), never confirmed sent; "
                   "if it did not get through, --force sends it",
        "claimed_now": "not sent: another run has just claimed it",
        "claimed_total": ", {n} claimed by another run",
        "claim_failed": "not sent: claiming it in the database failed ({reason})",
        "maybe_sent": "the server may have received it: not sent again automatically (--force resends)",
        "not_released": "and its claim could not be given back ({reason}): --force resends",
        "log_failed": "accepted by the server, but the send log could not be written ({reason}); "
                      "its claim in the database keeps it from being sent twice",
        "not_viewer": "{file} rendered as {found}, not {expected}: not attached",
        "not_unit": "{file} rendered for unit {found}, not {expected}: not attached",
        "not_missing": "{file}: no record of who it was rendered as: not attached",
        "not_changed": "{file} changed since it was rendered: not attached",
    },
}


@dataclass(frozen=True)
class Subscription:
    """One report for one recipient: checked, allowed, ready to render."""

    login: str
    full_name: str
    email: str
    unit: str | None  # None: "Mes affaires"
    unit_name: str
    unit_kind: str | None
    formats: tuple[str, ...]
    language: str
    origin: str  # "default" or "list #N"

    @property
    def key(self) -> tuple[str, str]:
        """``(login, unit)`` as in the send log (``""`` for "Mes affaires")."""
        return (self.login, self.unit or "")

    def scope(self, locale: str | None = None) -> str:
        """``Île-de-France (Région, R1)``, or "Mes affaires"."""
        loc = locale or self.language
        if self.unit is None:
            return i18n.label("mine", loc)
        return f"{self.unit_name} ({reports.kind_label(self.unit_kind or '', loc)}, {self.unit})"


@dataclass(frozen=True)
class Skipped:
    """A default recipient who gets nothing, and why (not an error)."""

    login: str
    full_name: str
    reason: str


@dataclass
class Resolution:
    """Who gets what, who is skipped, and every problem of the settings (refused)."""

    subscriptions: list[Subscription] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def recipients(self) -> list[tuple[str, list[Subscription]]]:
        """The subscriptions grouped by recipient, in order of first appearance."""
        out: dict[str, list[Subscription]] = {}
        for sub in self.subscriptions:
            out.setdefault(sub.login, []).append(sub)
        return list(out.items())


def why_no_perimeter(viewer: Viewer, locale: str) -> str:
    """Why a validator's perimeter is empty (:func:`prospects.scoping.empty_perimeters`), in words."""
    text = TEXT[locale]
    level = reports.kind_label(viewer.cap, locale) if viewer.cap else ""
    function = i18n.FUNCTION_LABELS[locale].get(viewer.function, viewer.function)
    return text.get(viewer.no_perimeter, "").format(function=function, level=level)


def top_units(directory: Directory, perimeter: frozenset[str]) -> list[str]:
    """The units of a perimeter whose parent is outside it (the tops of its subtrees), by level then name."""
    units = directory.units
    tops = [u for u in perimeter if units.at[u, "parent_id"] not in perimeter]
    return sorted(tops, key=lambda u: (int(units.at[u, "depth"]), reports.slugify(str(units.at[u, "name"])), u))


def resolve(directory: Directory, settings: Settings) -> Resolution:
    """Check ``[subscriptions]`` against the data (docs/access.md) and list who gets what."""
    conf = settings.subscriptions
    caps = settings.function_caps
    people = directory.collaborators
    res = Resolution()
    chosen: dict[tuple[str, str], Subscription] = {}
    units = directory.units

    def make(viewer: Viewer, unit: str | None, formats: tuple[str, ...], language: str | None, origin: str) -> Subscription:
        return Subscription(
            login=viewer.login, full_name=viewer.full_name, email=str(people.at[viewer.collaborator_id, "email"]),
            unit=unit, unit_name=str(units.at[unit, "name"]) if unit else i18n.label("mine", language or settings.locale),
            unit_kind=str(units.at[unit, "kind"]) if unit else None, formats=formats,
            language=language or settings.locale, origin=origin,
        )

    loc = settings.locale

    def say(key: str, **values: object) -> str:
        return i18n.sentence(key, loc, **values)

    def address_problem(viewer: Viewer) -> str | None:
        email = people.at[viewer.collaborator_id, "email"]
        if email is None or (isinstance(email, float)) or not str(email).strip():
            return say("subs.no_address", login=viewer.login, name=viewer.full_name)
        if not mail.is_plain_address(str(email)):
            return say("subs.bad_address", login=viewer.login, name=viewer.full_name, email=i18n.shown(email, 120))
        return None

    for login in conf.exclude:
        if directory.login_to_id(login) is None:
            res.problems.append(say("subs.exclude_unknown", login=i18n.shown(login)))
    excluded = set(conf.exclude)

    if conf.default == "validators":
        active_validators = people[people["can_validate_offers"].astype(bool) & people["active"].astype(bool)]
        for login in sorted(active_validators["login"]):
            if login in excluded:
                continue
            viewer = resolve_viewer(directory, login, caps)
            tops = top_units(directory, viewer.perimeter)
            if not tops:
                why = why_no_perimeter(viewer, settings.locale)
                res.skipped.append(Skipped(login, viewer.full_name, TEXT[settings.locale]["no_perimeter"].format(why=why)))
                continue
            problem = address_problem(viewer)
            if problem:
                res.problems.append(say("subs.default_problem", problem=problem))
                continue
            for unit in tops:
                chosen[(login, unit)] = make(viewer, unit, ("pdf",), None, "default")

    listed: set[tuple[str, str]] = set()
    for entry in conf.entries:
        where = f"[[subscriptions.list]] #{entry.position} ({entry.login} → {entry.unit})"
        problem, subs = _entry(directory, settings, entry, make, address_problem)
        if problem:
            res.problems.append(f"{where}{i18n.colon(loc)}{problem}")
            continue
        for sub in subs:
            if sub.key in listed:
                res.problems.append(f"{where}{i18n.colon(loc)}" + say("subs.twice", login=sub.login, unit=sub.unit or "mine"))
                continue
            listed.add(sub.key)
            chosen[sub.key] = sub  # replaces a default subscription to the same unit

    res.subscriptions = sorted(chosen.values(), key=lambda s: (
        s.login, -1 if s.unit is None else int(units.at[s.unit, "depth"]), reports.slugify(s.unit_name), s.unit or ""))
    return res


def _entry(directory, settings, entry: SubscriptionEntry, make, address_problem) -> tuple[str | None, list[Subscription]]:
    """One list entry: its subscriptions, or the reason it is refused (in the settings' language)."""
    loc = settings.locale

    def say(key: str, **values: object) -> str:
        return i18n.sentence(key, loc, **values)

    login = i18n.shown(entry.login)
    try:
        viewer = resolve_viewer(directory, entry.login, settings.function_caps)
    except AccessDenied:
        cid = directory.login_to_id(entry.login)
        if cid is None:
            return say("subs.unknown_login", login=login), []
        return say("subs.inactive", login=login), []
    problem = address_problem(viewer)
    if problem:
        return problem, []
    origin = f"list #{entry.position}"
    if entry.unit == "mine":
        return None, [make(viewer, None, entry.formats, entry.language, origin)]
    if entry.unit == "perimeter":
        tops = top_units(directory, viewer.perimeter) if viewer.can_validate_offers else []
        if not tops:
            why = say("subs.not_validator") if not viewer.can_validate_offers else why_no_perimeter(viewer, loc)
            return say("subs.no_perimeter", login=login, why=why), []
        return None, [make(viewer, u, entry.formats, entry.language, origin) for u in tops]
    if entry.unit not in directory.units.index:
        return say("subs.unknown_unit", unit=i18n.shown(entry.unit)), []
    if not viewer.can_validate_offers:
        return say("subs.no_filters", login=login), []
    try:
        check_filters(viewer, directory, Filters(unit=entry.unit))
    except AccessDenied:
        return say("subs.unit_outside", unit=i18n.shown(entry.unit), login=login), []
    return None, [make(viewer, entry.unit, entry.formats, entry.language, origin)]


# ---------------------------------------------------------------------------
# prospects subscriptions


def _origin(origin: str, locale: str) -> str:
    """Where a subscription comes from, in ``locale``: the default, or an entry of the list."""
    if origin == "default":
        return i18n.label("subs.from_default", locale)
    return i18n.sentence("subs.from_list", locale, n=origin.removeprefix("list #"))


def _header(columns: list[str], locale: str) -> list[str]:
    """The table's column names in ``locale`` (``subs.col.*``)."""
    return [i18n.label(f"subs.col.{c}", locale) for c in columns]


def _table(rows: list[list[str]], header: list[str]) -> str:
    """A plain text table; cells (names typed by people) are folded onto one line, control characters out."""
    rows = [[mail.one_line(c, 120) for c in r] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


def _open(settings: Settings):
    from .api import open_firm

    return open_firm(settings=settings)


def _print_problems(problems: Sequence[str], locale: str) -> None:
    for p in problems:
        print(f"prospects: subscriptions{i18n.colon(locale)}{mail.one_line(p, 500)}", file=sys.stderr)
    print("prospects: " + i18n.sentence("subs.problems", locale, n=len(problems)), file=sys.stderr)


def list_command(settings: Settings) -> int:
    """``prospects subscriptions``: who would receive what; 3 when a subscription is refused."""
    firm = _open(settings)
    res = resolve(firm.directory, settings)
    firm.engine.dispose()
    loc = settings.locale
    rows = [[s.login, s.full_name, s.email, s.scope(loc), ",".join(s.formats), s.language, _origin(s.origin, loc)]
            for s in res.subscriptions]
    if rows:
        print(_table(rows, _header(["login", "name", "address", "unit", "formats", "language", "from"], loc)))
    else:
        print(TEXT[loc]["none"])
    for sk in res.skipped:
        print(mail.one_line(f"{sk.login} ({sk.full_name}){i18n.colon(loc)}{TEXT[loc]['skipped']} — {sk.reason}", 300))
    print(i18n.sentence("subs.count", loc, reports=len(res.subscriptions), recipients=len(res.recipients()),
                        default=settings.subscriptions.default))
    if res.problems:
        _print_problems(res.problems, loc)
        return 3
    return 0


# ---------------------------------------------------------------------------
# prospects report --subscriptions


#: The stem of a "Mes affaires" report in a recipient's folder (unit stems never take it).
MINE_STEM = "mes-affaires"


def recipient_folder(login: str) -> str:
    """The folder of one recipient's reports and preview: distinct for every login by construction.

    :func:`prospects.reports.path_name` of the exact login (slug and hash, lowercase):
    never a lossy slug alone, so ``jean dupont`` and ``jean-dupont…``, or ``Part1`` and
    ``part1`` on a case-insensitive disk, never share a folder.
    """
    return reports.path_name(login)


def _stems(subs: Sequence[Subscription]) -> dict[tuple[str, str], str]:
    """The file stem of each subscription, distinct within each recipient's folder."""
    out: dict[tuple[str, str], str] = {}
    by_login: dict[str, list[Subscription]] = {}
    for sub in subs:
        by_login.setdefault(sub.login, []).append(sub)
    for own in by_login.values():
        stems = reports.unit_stems([(s.unit, s.unit_name) for s in own if s.unit], reserved=[MINE_STEM])
        out.update({s.key: stems[s.unit] if s.unit else MINE_STEM for s in own})
    return out


def _job(sub: Subscription, stem: str, period: Period, settings: Settings, folder: Path, notebook: Path,
         chromium: str | None, config: str | Path | None) -> reports.UnitJob:
    """The rendering of one subscription, as its recipient (the notebook's ``viewer``)."""
    loc = sub.language
    cfg = config if config is not None else settings.config_file
    params = {
        "viewer": sub.login,  # rendered as the recipient: docs/access.md applies to them
        "unit": sub.unit,
        "fiscal_year": period.fiscal_year,
        "as_of": period.as_of.isoformat(),
        "today": settings.today.isoformat(),
        "db_url": settings.db_url,
        "locale": loc,
        "config": str(cfg) if cfg is not None else None,
    }
    return reports.UnitJob(
        unit=sub.unit or "", name=sub.unit_name, kind=sub.unit_kind or "",
        html_path=folder / recipient_folder(sub.login) / f"{stem}.html",
        pdf_path=folder / recipient_folder(sub.login) / f"{stem}.pdf" if "pdf" in sub.formats else None,
        parameters=params, notebook=notebook, cwd=Path.cwd(), chromium=chromium,
        title=f"{reports.text('title', loc)} — {sub.unit_name} — {i18n.label('fiscal_year', loc)} {period.fiscal_year}",
        locale=loc,
    )


def _section(sub: Subscription, period: Period, result: reports.UnitResult) -> mail.Section:
    """One report of a recipient's mail, its files read once and only if rendered as them (else NotRenderedAs)."""
    paths = []
    if "pdf" in sub.formats and result.pdf is not None:
        paths.append(result.pdf)
    if "html" in sub.formats and result.html is not None:
        paths.append(result.html)
    files = [mail.Attachment(p.name, reports.rendered_bytes(p, viewer=sub.login, unit=sub.unit)) for p in paths]
    return mail.Section(
        scope=sub.scope(), unit_name=sub.unit_name, fiscal_year=period.fiscal_year, start=period.start,
        as_of=period.as_of, headline=result.headline or {}, previous=result.previous,
        previous_as_of=parse_date(result.previous_as_of) if result.previous_as_of else None,
        attachments=tuple(files),
    )


@dataclass(frozen=True)
class SendLog:
    """What the database says of one period's mails: sent (the send log) and claimed (being, or maybe, sent)."""

    sent: dict[tuple[str, str], dict[str, str]]
    claims: dict[tuple[str, str], dict[str, str]]

    @classmethod
    def read(cls, engine, period: Period) -> SendLog:
        return cls(db.read_sends(engine, period.fiscal_year, period.as_of),
                   db.read_claims(engine, period.fiscal_year, period.as_of))

    def due(self, subs: Sequence[Subscription], force: bool) -> list[Subscription]:
        """What to render and send: neither sent nor claimed by another run (everything with ``force``)."""
        return [s for s in subs if force or (s.key not in self.sent and s.key not in self.claims)]

    def state(self, key: tuple[str, str], locale: str) -> str | None:
        """``déjà envoyé le …``, ``non renvoyé : … réservé …``, or ``None`` (nothing recorded)."""
        t = TEXT[locale]
        if key in self.sent:
            return t["already"].format(when=self.sent[key]["sent_at"])
        if key in self.claims:
            claim = self.claims[key]
            return t["claimed"].format(when=claim["claimed_at"], by=mail.one_line(claim["claimed_by"], 120))
        return None


@dataclass
class Outcome:
    """What became of one recipient."""

    login: str
    address: str
    units: list[str]
    status: str  # "sent", "preview", "already", "claimed" (by another run, not confirmed sent), "failed"
    reason: str | None = None
    detail: str | None = None


def run_command(
    settings: Settings,
    *,
    send: bool = False,
    dry_run: bool = False,
    force: bool = False,
    jobs: int = 1,
    fiscal_year: int | None = None,
    as_of: str | None = None,
    out: Path | str | None = None,
    config: str | Path | None = None,
    notebook: Path | None = None,
    progress: bool = True,
) -> int:
    """``prospects report --subscriptions [--send] [--dry-run] [--force]``.

    Refusals (a subscription problem) exit 3 before any work; unusable settings (mail,
    Chromium, period) raise for exit 2; 0 when every due report was rendered (and sent),
    1 when some rendering or sending failed (each listed with its reason).
    """
    loc = settings.locale
    t = TEXT[loc]
    firm = _open(settings)
    res = resolve(firm.directory, settings)
    if res.problems:
        firm.engine.dispose()
        _print_problems(res.problems, loc)
        return 3
    period = period_for(settings.today, start_month=settings.fiscal_year_start_month, fiscal_year=fiscal_year,
                        as_of=parse_date(as_of, "--as-of") if as_of is not None else None)
    log = SendLog.read(firm.engine, period)
    info = firm.extract_info
    mailer = mail.Mailer(settings.mail) if send else None  # checks the mail settings first (ConfigError)
    due = log.due(res.subscriptions, force)
    nb_path = Path(notebook) if notebook is not None else reports.default_notebook()
    if not nb_path.is_file():
        raise FileNotFoundError(f"report notebook not found: {nb_path}")
    chromium = reports.chromium_path(settings.chromium) if any("pdf" in s.formats for s in due) else None

    print(t["heading"].format(fy=period.fiscal_year, as_of=i18n.date(period.as_of, loc)))
    if dry_run:
        print(t["dry_run"])
        rows = []
        for s in res.subscriptions:
            state = (log.state(s.key, loc) if not force else None) or t["pending"]
            rows.append([s.login, s.full_name, s.email, s.scope(loc), ",".join(s.formats), s.language, state])
        print(_table(rows, _header(["login", "name", "address", "unit", "formats", "language", "status"], loc))
              if rows else t["none"])
        for sk in res.skipped:
            print(mail.one_line(f"{sk.login} ({sk.full_name}){i18n.colon(loc)}{t['skipped']} — {sk.reason}", 300))
        firm.engine.dispose()
        if mailer is not None:
            try:
                checked = mailer.check(due[0].email if due else None)
            except mail.MailError as exc:
                print(f"prospects: {exc}", file=sys.stderr)
                return 2
            print(mail.checked_sentence(checked, loc))
        return 0

    if mailer is not None and due:  # a server out of reach, or wanting a login, is known before an hour of rendering
        try:
            mailer.check(due[0].email)
        except mail.MailError as exc:
            firm.engine.dispose()
            print(f"prospects: {exc}: nothing rendered or sent", file=sys.stderr)
            return 2
    base = (Path(out) if out is not None else settings.project_dir / "reports") / "subscriptions"
    folder = base / str(period.fiscal_year) / period.as_of.isoformat()
    firm.engine.dispose()
    with _single_run(base) as alone:
        if not alone:
            print("prospects: " + i18n.sentence("subs.locked", loc, folder=base, lock=base / ".lock"), file=sys.stderr)
            return 2
        # read the log again under the lock: a run that ended meanwhile may have sent some
        log = SendLog.read(firm.engine, period)
        due = log.due(res.subscriptions, force)
        return _render_and_send(settings, res, due, log, period, folder, mailer, info, firm, jobs=jobs,
                                notebook=nb_path, chromium=chromium, config=config, progress=progress, force=force)


@contextlib.contextmanager
def _single_run(base: Path):
    """Whether this is the only run using the folder ``base`` (an exclusive lock, released on exit, even on a crash).

    Two runs rendering into one folder would replace each other's files while the other
    checks and attaches them: the second is refused instead. (That no mail goes twice is
    the claims' work, in the database, whatever the folders: :func:`prospects.db.claim_sends`.)
    """
    from .locking import only_run

    base.mkdir(parents=True, exist_ok=True)
    with only_run(base / ".lock") as alone:
        yield alone


def _render_and_send(settings: Settings, res: Resolution, due: list[Subscription], log: SendLog, period: Period,
                     folder: Path, mailer: mail.Mailer | None, info: dict[str, str], firm, *, jobs: int,
                     notebook: Path, chromium: str | None, config, progress: bool, force: bool = False) -> int:
    """Render what is due as each recipient, then one mail per recipient (or a preview); the summary.

    Each mail is claimed in the database just before the SMTP call (:func:`prospects.db.claim_sends`):
    a recipient another run has claimed meanwhile is left to it. The claim is kept once the
    server accepted the mail — even when the send log then cannot be written, so that mail
    is never sent again — and given back after a definite refusal only.
    """
    loc = settings.locale
    t = TEXT[loc]
    nb_path = notebook
    stems = _stems(due)
    unit_jobs = [_job(s, stems[s.key], period, settings, folder, nb_path, chromium, config) for s in due]
    started = time.perf_counter()
    results = reports.render_many(unit_jobs, workers=max(1, jobs), progress=progress, desc=i18n.label("subs.progress", loc),
                                  unit=i18n.label("report.unit", loc))
    rendered = dict(zip([s.key for s in due], results, strict=True))
    render_seconds = time.perf_counter() - started
    run_id, me = uuid.uuid4().hex, f"{socket.gethostname()} pid {os.getpid()}"

    fresh = freshness(info, settings.today, settings.stale_after_days)
    outcomes: list[Outcome] = []
    try:
        for login, subs in res.recipients():
            first = subs[0]
            todo = [s for s in subs if s.key in rendered]
            for s in subs:
                if s.key not in rendered:  # sent, or claimed by another run
                    status = "already" if s.key in log.sent else "claimed"
                    outcomes.append(Outcome(login, first.email, [s.unit or "mine"], status, detail=log.state(s.key, loc)))
            if not todo:
                continue
            sections: list[tuple[Subscription, mail.Section]] = []
            for s in todo:
                if not rendered[s.key].ok:
                    outcomes.append(Outcome(login, first.email, [s.unit or "mine"], "failed",
                                            reason=f"{t['render_failed']}: {rendered[s.key].error}"))
                    continue
                try:  # a recipient is only ever sent the files rendered as them
                    sections.append((s, _section(s, period, rendered[s.key])))
                except reports.NotRenderedAs as exc:
                    outcomes.append(Outcome(login, first.email, [s.unit or "mine"], "failed",
                                            reason=_not_rendered_as(exc, loc)))
            if not sections:
                continue
            ok = [s for s, _ in sections]
            msg = mail.compose(
                sender=mailer.sender if mailer is not None else _preview_sender(settings),
                to_name=first.full_name, to_address=first.email,
                sections=[section for _, section in sections], locale=first.language, currency=settings.currency,
                freshness=fresh,
            )
            units = [s.unit or "mine" for s in ok]
            if mailer is None:
                path = folder / recipient_folder(login) / "message.eml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(bytes(msg))
                outcomes.append(Outcome(login, first.email, units, "preview", detail=t["preview"].format(path=path)))
                continue
            outcomes.append(_send_one(mailer, msg, first.email, login, ok, units, log, period, firm, run_id, me,
                                      force, loc))
    finally:
        if mailer is not None:
            mailer.close()
        firm.engine.dispose()

    for line in summary_lines(outcomes, loc):
        print(line)
    print(i18n.sentence("subs.rendered", loc, n=len(due), seconds=i18n.decimal(render_seconds, loc)) if due
          else i18n.sentence("subs.none_due", loc))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _send_one(mailer: mail.Mailer, msg, address: str, login: str, ok: list[Subscription], units: list[str],
              log: SendLog, period: Period, firm, run_id: str, me: str, force: bool, loc: str) -> Outcome:
    """Claim one recipient's mail, send it, log it: what became of it (never raises for one recipient's trouble)."""
    t = TEXT[loc]
    keys = [s.key for s in ok]
    fy, as_of = period.fiscal_year, period.as_of
    take_over = {k: log.claims[k]["run_id"] for k in keys if force and k in log.claims}
    try:
        won = db.claim_sends(firm.engine, keys, fy, as_of, run_id=run_id, claimed_by=me, take_over=take_over)
    except db.DatabaseError as exc:
        return Outcome(login, address, units, "failed", reason=t["claim_failed"].format(reason=exc))
    if not won:  # another run claimed it since this one started: it sends it
        try:
            now = SendLog(db.read_sends(firm.engine, fy, as_of), db.read_claims(firm.engine, fy, as_of))
        except db.DatabaseError:
            now = log
        detail = now.state(keys[0], loc) or t["claimed_now"]
        return Outcome(login, address, units, "already" if keys[0] in now.sent else "claimed", detail=detail)
    try:
        mailer.send(msg, address)
    except mail.MailError as exc:
        if exc.maybe_sent:  # the server may have it: the claim stays, a rerun never sends a second copy
            return Outcome(login, address, units, "failed", reason=f"{exc} — {t['maybe_sent']}")
        try:
            db.release_claims(firm.engine, keys, fy, as_of, run_id=run_id)  # refused: a rerun may send it
        except db.DatabaseError as release:
            return Outcome(login, address, units, "failed", reason=f"{exc} — {t['not_released'].format(reason=release)}")
        return Outcome(login, address, units, "failed", reason=str(exc))
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = [{"login": s.login, "unit": s.unit or "", "fiscal_year": fy, "as_of": as_of, "email": s.email,
             "sent_at": stamp, "message_id": str(msg["Message-ID"])} for s in ok]
    try:
        db.record_sends(firm.engine, rows)  # at once: a crash later never resends this one (nor would the claim)
    except db.DatabaseError as exc:
        return Outcome(login, address, units, "failed", reason=t["log_failed"].format(reason=exc))
    return Outcome(login, address, units, "sent")


def _not_rendered_as(exc: reports.NotRenderedAs, locale: str) -> str:
    """Why a file was not attached, in the run's language."""
    return TEXT[locale][f"not_{exc.reason}"].format(file=exc.path.name, found=exc.found, expected=exc.expected)


def _preview_sender(settings: Settings):
    """The sender of a preview (``[mail] sender`` if set, else a placeholder)."""
    try:
        return mail.sender_address(settings.mail.sender)
    except ConfigError:
        return mail.sender_address("prospects@localhost.localdomain")


def summary_lines(outcomes: Sequence[Outcome], locale: str = "fr") -> list[str]:
    """One line per recipient and outcome, then the totals."""
    t = TEXT[locale]
    width = max((len(o.login) for o in outcomes), default=5)
    lines = []
    for o in outcomes:
        state = {"sent": t["sent"], "preview": o.detail, "already": o.detail, "claimed": o.detail,
                 "failed": f"{t['failed']}: {o.reason}"}[o.status]
        lines.append(mail.one_line(f"{o.login:<{width}}  {o.address}  {', '.join(o.units)}  {state}", 600))
    count = {k: sum(o.status == k for o in outcomes) for k in ("sent", "already", "preview", "failed", "claimed")}
    totals = t["totals"].format(sent=count["sent"], already=count["already"], previews=count["preview"],
                                failed=count["failed"])
    if count["claimed"]:
        totals += t["claimed_total"].format(n=count["claimed"])
    lines.append(totals)
    return lines
