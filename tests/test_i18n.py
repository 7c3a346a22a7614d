"""French and English formats, and the catalog of sentences on every path a viewer meets."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

import prospects
from prospects import db, drilldown, figures, i18n, scoping
from prospects.api import ArgumentError
from prospects.cli import main
from prospects.fiscal import PeriodError, period_for
from prospects.reports import NothingToRender
from prospects.sample import sample_firm

N = i18n.NNBSP


def test_money_french_and_english():
    assert i18n.money(1_234_500, "fr", "EUR") == f"12{N}345{N}€"
    assert i18n.money(0, "fr", "EUR") == f"0{N}€"
    assert i18n.money(99, "fr", "EUR") == f"1{N}€"  # whole euros, half up
    assert i18n.money(123_456_789, "fr", "EUR", decimals=True) == f"1{N}234{N}567,89{N}€"
    assert i18n.money(1_234_500, "en", "EUR") == "€12,345"
    assert i18n.money(-50_000, "fr", "EUR") == f"-500{N}€"
    assert i18n.money(-50_000, "en", "EUR") == "-€500"
    assert i18n.money(-40, "fr", "EUR") == f"0{N}€"  # no "-0"
    assert i18n.money(None, "fr", "EUR") == "—"


@pytest.mark.parametrize(
    ("currency", "fr", "en", "fr_decimals", "en_decimals"),
    [
        ("EUR", f"12{N}345{N}€", "€12,345", f"12{N}345,50{N}€", "€12,345.50"),
        ("USD", f"12{N}345{N}$US", "$12,345", f"12{N}345,50{N}$US", "$12,345.50"),
        ("CHF", f"12{N}345{N}CHF", "CHF\u00a012,345", f"12{N}345,50{N}CHF", "CHF\u00a012,345.50"),
        ("GBP", f"12{N}345{N}£GB", "£12,345", f"12{N}345,50{N}£GB", "£12,345.50"),
    ],
)
def test_money_in_the_firms_currency_follows_cldr(currency, fr, en, fr_decimals, en_decimals):
    assert i18n.money(1_234_549, "fr", currency) == fr  # 12,345.49 → whole units, half up
    assert i18n.money(1_234_549, "en", currency) == en
    assert i18n.money(1_234_550, "fr", currency, decimals=True) == fr_decimals
    assert i18n.money(1_234_550, "en", currency, decimals=True) == en_decimals
    assert i18n.minor_digits(currency) == 2 and i18n.major(1_234_550, currency) == Decimal("12345.50")


def test_yen_have_no_minor_unit_so_the_cents_columns_hold_yen():
    assert i18n.minor_digits("JPY") == 0
    assert i18n.money(12_345, "fr", "JPY") == f"12{N}345{N}JPY"  # CLDR's French symbol for the yen
    assert i18n.money(12_345, "en", "JPY") == "¥12,345"
    assert i18n.money(12_345, "en", "JPY", decimals=True) == "¥12,345"  # no decimals to show
    assert i18n.major(12_345, "JPY") == Decimal(12_345) and i18n.major_json(12_345, "JPY") == 12345.0
    assert i18n.excel_money_format("en", "JPY") == '"¥"#,##0'


def test_excel_formats_and_column_labels_carry_the_currency():
    assert i18n.excel_money_format("fr", "EUR") == f'#,##0.00"{N}€"'
    assert i18n.excel_money_format("en", "USD") == '"$"#,##0.00'
    assert i18n.excel_money_format("en", "CHF") == '"CHF\u00a0"#,##0.00'
    assert i18n.column_labels("fr", "USD")["total"] == "Total ($US)"
    assert i18n.column_labels("en", "CHF")["recurring"] == "Recurring (CHF)"
    assert i18n.column_labels("en", "JPY")["one_off"] == "One-off (¥)"


@pytest.mark.parametrize("bad", ["XYZ", "EURO", "eu", "", 978, None, "€", "ÉUR"])
def test_an_unknown_currency_code_is_refused_in_one_line(bad):
    with pytest.raises(i18n.CurrencyError, match="is not an ISO 4217 currency code") as err:
        i18n.check_currency(bad)
    assert "\n" not in str(err.value)
    assert i18n.check_currency(" chf ") == "CHF"


def test_the_extracts_date_and_the_stale_warning():
    assert i18n.data_date(dt.datetime(2026, 12, 3, 2, 10)) == "données du 03/12/2026 à 02:10"
    assert i18n.data_date(dt.datetime(2026, 12, 3, 2, 10), "en") == "data of 2026-12-03 at 02:10"
    assert i18n.data_date(dt.date(2026, 12, 3)) == "données du 03/12/2026"
    assert i18n.data_date(None, "en") == "date of the data unknown"
    assert i18n.stale_warning(5, 3) == "Données anciennes : extraites il y a 5 jours (au-delà de 3 jours, elles sont signalées)"
    assert i18n.stale_warning(5, 3, "en").startswith("Old data: extracted 5 days ago")


def test_dates_and_months():
    assert i18n.date(dt.date(2026, 11, 29)) == "29/11/2026"
    assert i18n.date(dt.date(2026, 11, 29), "en") == "2026-11-29"
    assert i18n.month("2026-01") == "janv. 2026"
    assert i18n.month("2026-08") == "août 2026"
    assert i18n.month("2026-01", "en") == "Jan 2026"
    assert i18n.date(None) == ""


def test_json_amounts_are_exact_from_minor_units():
    assert i18n.major_json(1_234_501, "EUR") == 12345.01
    assert i18n.major_json(10, "USD") == 0.1
    assert str(i18n.major(1, "EUR")) == "0.01"
    assert i18n.major_json(1_234_501, "JPY") == 1234501.0


def test_labels_exist_in_both_locales():
    assert set(i18n.LABELS["fr"]) == set(i18n.LABELS["en"])
    assert set(i18n.COLUMN_LABELS["fr"]) == set(i18n.COLUMN_LABELS["en"])
    for key in ("menu", "chart", "table", "fiscal_year", "organisation", "collaborators", "by_deal", "by_document"):
        assert i18n.label(key)
    assert i18n.label("menu") == "Suivi Business › Prospects"


def test_percent_and_days():
    assert i18n.percent(0.8) == f"80{N}%"
    assert i18n.percent(None) == "—"
    assert i18n.days(41.0) == "41 jours"
    assert i18n.days(20.5) == "20,5 jours"

# ==========================================================================================
# Every sentence a viewer meets, in the viewer's language (issue 19 point 7, issue 23 point 4).
#
# The catalog (LABELS, Said) is driven here through every viewer-facing error path, in French
# (the default) and in English: the command line (indicators, drilldown, report,
# report --subscriptions, subscriptions) and the Python API (str() of its exceptions, and of the
# pure functions' exceptions once said in a locale). Each sentence must be in ONE language: no
# telltale word of the other language, accents right, codes shown as their labels; a few are
# checked word for word.

TODAY = "2026-11-29"

#: Words that give a sentence away as the other language (whole words, any case).
TELLTALE = {
    "fr": ("the", "is", "are", "denied", "unknown", "outside", "after", "today", "fiscal", "year", "expected",
           "needs", "not", "no", "your", "their", "starts", "month", "with", "which", "covers", "must", "give",
           "access", "perimeter", "reports", "empty", "member", "group", "indicators", "cannot"),
    "en": ("le", "la", "les", "est", "refusé", "accès", "inconnu", "inconnue", "hors", "après", "aujourd", "exercice",
           "attendu", "mois", "votre", "vos", "aucun", "aucune", "périmètre", "dans", "pas", "des", "rapports",
           "région", "agence", "demande", "vide", "membre", "arrêté", "indicateur", "indicateurs", "doit", "avec"),
}
#: Codes a viewer reads only as their label (« région », not "region").
RAW_CODES = ("region", "agency", "team", "firm", "partner", "manager", "director", "staff")


def _words(text: str) -> set[str]:
    # option names (--by agency), quoted codes and identifiers are not words of a sentence
    text = re.sub(r"--[a-z-]+( [a-z]+\b)?", " ", text)
    text = re.sub(r"\([^()]*→[^()]*\)", " ", text)  # a settings entry: (login → unit)
    text = re.sub(r"\S*/\S*", " ", text)  # paths (docs/access.md)
    text = re.sub(r"\b[A-Za-z_]+=\S+", " ", text)
    text = re.sub(r"\S*[_\d]\S*", " ", text)  # indicator codes (signed_budget), logins (staff1), dates
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def assert_in_language(text: str, locale: str) -> None:
    """``text`` (one line) has no telltale word of the other language."""
    assert text.strip(), "no sentence at all"
    assert len(text.strip().splitlines()) == 1, text
    wrong = sorted(_words(text) & set(TELLTALE[locale]))
    assert not wrong, f"{locale} sentence with words of the other language {wrong}: {text!r}"


def assert_french_codes_as_labels(text: str) -> None:
    wrong = sorted(_words(text) & set(RAW_CODES))
    assert not wrong, f"raw codes {wrong} in a French sentence: {text!r}"


@pytest.fixture(scope="module")
def url(sample_url):
    return sample_url


@pytest.fixture(scope="module")
def mail_url(tmp_path_factory):
    """Cabinet Exemple with an e-mail address for everyone (subscriptions need them)."""
    frames = sample_firm()
    frames["collaborators"]["email"] = [f"{login}@exemple.fr" for login in frames["collaborators"]["login"]]
    url = f"sqlite:///{tmp_path_factory.mktemp('messages') / 'mail.db'}"
    db.replace_all(db.make_engine(url), frames)
    return url


@pytest.fixture(params=["fr", "en"])
def locale(request, monkeypatch):
    monkeypatch.setenv("PROSPECTS_LOCALE", request.param)
    return request.param


def run(capsys, url, *args):
    code = main(["--db", url, "--today", TODAY, *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the command line ------------------------------------------------------------------------

#: (arguments, exit code): every refusal and bad input of a viewer's command.
CLI_ERRORS = {
    "unknown user": (["indicators", "--user", "nobody"], 3),
    "inactive user": (["indicators", "--user", "gone"], 3),
    "unit outside the perimeter": (["indicators", "--user", "part1", "--unit", "R2"], 3),
    "unit outside an empty perimeter": (["indicators", "--user", "man1", "--unit", "T1"], 3),
    "no right to filter": (["indicators", "--user", "staff1", "--unit", "T1"], 3),
    "collaborator outside the perimeter": (["indicators", "--user", "part1", "--collaborator", "part2"], 3),
    "future fiscal year": (["indicators", "--user", "dir", "--fiscal-year", "2030"], 2),
    "as-of after today": (["indicators", "--user", "dir", "--as-of", "2026-12-15"], 2),
    "as-of outside the fiscal year": (["indicators", "--user", "dir", "--as-of", "2025-05-01"], 2),
    "as-of not a date": (["indicators", "--user", "dir", "--as-of", "2026-13-45"], 2),
    "bad month": (["drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget", "--month", "2027-03"], 2),
    "month of an indicator without bars": (["drilldown", "--user", "dir", "--indicator", "potential_fees", "--month", "2026-03"], 2),
    "unknown indicator": (["drilldown", "--user", "dir", "--indicator", "nope"], 2),
    "drill-down outside the perimeter": (["drilldown", "--user", "part2", "--unit", "R1", "--indicator", "signed_budget"], 3),
    "xlsx without a file": (["drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx"], 2),
    "report without a viewer": (["report"], 2),
    "report with no unit in the perimeter": (["report", "--as", "man1"], 3),
    "report by agency, no unit in the perimeter": (["report", "--as", "staff1", "--by", "agency"], 3),
    "report of a unit outside the perimeter": (["report", "--as", "part1", "--unit", "R2"], 3),
    "report of a future fiscal year": (["report", "--as", "dir", "--fiscal-year", "2030"], 2),
    "report with a bad format": (["report", "--as", "dir", "--format", "doc"], 2),
    "report with no job": (["report", "--as", "dir", "--jobs", "0"], 2),
    "subscriptions' options alone": (["report", "--send"], 2),
    "subscriptions and --as": (["report", "--subscriptions", "--as", "dir"], 2),
}


@pytest.mark.parametrize("case", list(CLI_ERRORS))
def test_every_refusal_of_a_viewers_command_is_one_line_in_the_settings_language(capsys, url, locale, case, tmp_path):
    args, expected = CLI_ERRORS[case]
    if args[0] == "report":
        args = [*args, "--out", str(tmp_path)]
    code, out, err = run(capsys, url, *args)
    assert code == expected, err
    assert out == ""
    assert err.startswith("prospects: ")
    assert_in_language(err, locale)
    if locale == "fr":
        assert_french_codes_as_labels(err)
    assert list(tmp_path.iterdir()) == []  # refused before any work


#: Word for word, in both languages.
EXACT = {
    ("indicators", "--user", "nobody"): {
        "fr": "prospects: Accès refusé : identifiant inconnu « nobody »",
        "en": "prospects: Access denied: unknown login 'nobody'",
    },
    ("indicators", "--user", "part1", "--unit", "R2"): {
        "fr": "prospects: Accès refusé : l'unité « R2 » est hors de votre périmètre, qui couvre : Île-de-France ; "
              "vouliez-vous dire R1 (Île-de-France) ?",
        "en": "prospects: Access denied: unit 'R2' is outside your perimeter, which covers: Île-de-France; "
              "did you mean R1 (Île-de-France)?",
    },
    ("indicators", "--user", "man1", "--unit", "T1"): {
        "fr": "prospects: Accès refusé : l'unité « T1 » est hors de votre périmètre, qui est vide : "
              "vous n'êtes membre d'aucun groupe",
        "en": "prospects: Access denied: unit 'T1' is outside your perimeter, which is empty: you are a member of no group",
    },
    ("indicators", "--user", "dir", "--fiscal-year", "2030"): {
        "fr": "prospects: l'exercice 2030 commence le 01/01/2030, après aujourd'hui (29/11/2026)",
        "en": "prospects: fiscal year 2030 starts on 2030-01-01, after today (2026-11-29)",
    },
    ("indicators", "--user", "dir", "--as-of", "2026-12-15"): {
        "fr": "prospects: la date d'arrêté 15/12/2026 est après aujourd'hui (29/11/2026)",
        "en": "prospects: as-of date 2026-12-15 is after today (2026-11-29)",
    },
    ("drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget", "--month", "2027-03"): {
        "fr": "prospects: le mois 2027-03 n'est pas dans l'exercice 2026 jusqu'au 29/11/2026 (2026-01 … 2026-11)",
        "en": "prospects: month 2027-03 is not in fiscal year 2026 up to 2026-11-29 (2026-01 … 2026-11)",
    },
    ("report", "--as", "man1"): {
        "fr": "prospects: Accès refusé : « man1 » n'a aucune unité dans son périmètre (rapports par région impossibles)",
        "en": "prospects: Access denied: 'man1' has no unit in their perimeter (no reports by region)",
    },
    ("report", "--as", "staff1", "--by", "agency"): {
        "fr": "prospects: Accès refusé : « staff1 » n'a aucune unité dans son périmètre (rapports par agence impossibles)",
        "en": "prospects: Access denied: 'staff1' has no unit in their perimeter (no reports by agency)",
    },
}


@pytest.mark.parametrize("args", list(EXACT), ids=" ".join)
def test_some_refusals_word_for_word(capsys, url, locale, args, tmp_path):
    extra = ["--out", str(tmp_path)] if args[0] == "report" else []
    _, _, err = run(capsys, url, *args, *extra)
    assert err.strip() == EXACT[args][locale]


def test_a_report_with_no_unit_of_the_kind_says_so_in_the_settings_language(capsys, url, locale, tmp_path):
    config = tmp_path / "prospects.toml"
    config.write_text('[function_caps]\npartner = "agency"\n', encoding="utf-8")  # part1: Paris and its team only
    code, out, err = run(capsys, url, "--config", str(config), "report", "--as", "part1", "--out", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert err.strip() == {
        "fr": "prospects: aucune région dans le périmètre de part1 : essayez --by agency ou --unit ID",
        "en": "prospects: no region in the perimeter of part1: try --by agency or --unit ID",
    }[locale]
    assert not (tmp_path / "out").exists()


def test_subscriptions_refused_say_why_in_the_settings_language(capsys, mail_url, locale, tmp_path):
    config = tmp_path / "prospects.toml"
    config.write_text(
        '[subscriptions]\nexclude = ["ghost"]\n'
        '[[subscriptions.list]]\nlogin = "part1"\nunit = "R2"\n'
        '[[subscriptions.list]]\nlogin = "staff1"\nunit = "perimeter"\n'
        '[[subscriptions.list]]\nlogin = "nobody"\nunit = "mine"\n'
        '[[subscriptions.list]]\nlogin = "man2"\nunit = "T1"\n',
        encoding="utf-8",
    )
    for args in (["subscriptions"], ["report", "--subscriptions", "--dry-run", "--out", str(tmp_path / "out")]):
        code, out, err = run(capsys, mail_url, "--config", str(config), *args)
        assert code == 3
        lines = err.strip().splitlines()
        assert len(lines) == 6  # five problems, then what to do
        for line in lines:
            assert_in_language(line, locale)
        if locale == "fr":
            assert "l'unité « R2 » est hors du périmètre de part1" in err
            assert "identifiant inconnu « ghost »" in err
        else:
            assert "unit 'R2' is outside the perimeter of part1" in err
            assert "unknown login 'ghost'" in err
        if args[0] == "subscriptions":  # the list comes before its problems
            assert_in_language(out.strip().splitlines()[-1], locale)
            assert {"fr": "rapport(s) pour", "en": "report(s) for"}[locale] in out
        else:  # refused before any work
            assert out == "" and not (tmp_path / "out").exists()


def test_the_subscriptions_table_speaks_the_settings_language(capsys, mail_url, locale):
    code, out, _ = run(capsys, mail_url, "subscriptions")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ({"fr": ["identifiant", "nom", "adresse", "unité", "formats", "langue", "origine"],
                       "en": ["login", "name", "address", "unit", "formats", "language", "from"]}[locale])
    last = out.strip().splitlines()[-1]
    assert_in_language(last, locale)


# -- the Python API ------------------------------------------------------------------------------


@pytest.fixture
def firm(url, locale):
    return prospects.open_firm(url, today=TODAY)


def _api_errors(firm):
    """Every viewer-facing error of the API, as (name, callable)."""
    dirv = firm.as_viewer("dir")
    part1 = firm.as_viewer("part1")
    man1 = firm.as_viewer("man1")
    return {
        "unknown login": lambda: firm.as_viewer("nobody"),
        "inactive login": lambda: firm.as_viewer("gone"),
        "unit outside": lambda: part1.figures(unit="R2"),
        "unit outside an empty perimeter": lambda: man1.figures(unit="T1"),
        "collaborator outside": lambda: part1.figures(collaborator="part2"),
        "future fiscal year": lambda: dirv.period(2030),
        "as-of after today": lambda: dirv.period(as_of="2026-12-15"),
        "as-of outside": lambda: dirv.figures(as_of="2025-05-01"),
        "bad month": lambda: dirv.drilldown("signed_budget", unit="F", month="2027-03"),
        "unknown indicator": lambda: dirv.drilldown("nope"),
        "unknown bucket": lambda: dirv.drilldown("offers_in_progress", bucket="90+"),
        "unknown view": lambda: dirv.drilldown("signed_budget", by="line"),
        "unknown metric": lambda: dirv.metrics("nope"),
    }


@pytest.mark.parametrize("case", ["unknown login", "inactive login", "unit outside", "unit outside an empty perimeter",
                                  "collaborator outside", "future fiscal year", "as-of after today", "as-of outside",
                                  "bad month", "unknown indicator", "unknown bucket", "unknown view", "unknown metric"])
def test_the_apis_errors_are_in_the_sessions_language(firm, locale, case):
    with pytest.raises((scoping.AccessDenied, PeriodError, ArgumentError, ValueError)) as caught:
        _api_errors(firm)[case]()
    assert_in_language(str(caught.value), locale)
    if locale == "fr":
        assert_french_codes_as_labels(str(caught.value))


def test_the_apis_period_error_word_for_word(firm, locale):
    with pytest.raises(PeriodError) as caught:
        firm.as_viewer("dir").period(2030)
    assert str(caught.value) == {
        "fr": "l'exercice 2030 commence le 01/01/2030, après aujourd'hui (29/11/2026)",
        "en": "fiscal year 2030 starts on 2030-01-01, after today (2026-11-29)",
    }[locale]


def test_the_apis_refusal_outside_an_empty_perimeter_says_why_in_english_too(firm, locale):
    with pytest.raises(scoping.AccessDenied) as caught:
        firm.as_viewer("man1").figures(unit="T1")
    assert str(caught.value).startswith({
        "fr": "Accès refusé : l'unité « T1 » est hors de votre périmètre, qui est vide : vous n'êtes membre d'aucun groupe",
        "en": "Access denied: unit 'T1' is outside your perimeter, which is empty: you are a member of no group",
    }[locale])


# -- the pure functions' errors: a key and values, said where the locale is known ------------------


def _pure_errors(firm):
    """The exceptions of the pure functions (no locale of their own)."""
    view = firm.as_viewer("dir")
    ds, directory = view._rows(), firm.directory
    period = view.period()
    sel = figures.selections(ds, view._mask(ds, "F"), period)
    part1 = scoping.resolve_viewer(directory, "part1")
    man1 = scoping.resolve_viewer(directory, "man1")
    return {
        "future": lambda: period_for(dt.date(2026, 11, 29), fiscal_year=2030),
        "as-of outside": lambda: period_for(dt.date(2026, 11, 29), as_of=dt.date(2025, 5, 1)),
        "both": lambda: period_for(dt.date(2026, 11, 29), fiscal_year=2024, previous=True),
        "unknown login": lambda: scoping.resolve_viewer(directory, "nobody"),
        "outside": lambda: scoping.check_filters(part1, directory, scoping.Filters(unit="R2")),
        "outside, empty": lambda: scoping.check_filters(man1, directory, scoping.Filters(collaborator="part2")),
        "month": lambda: figures.month_selection(ds, sel, "signed_budget", "2027-03"),
        "month cells": lambda: figures.month_selection(ds, sel, "potential_fees", "2026-03"),
        "bucket": lambda: figures.ageing_bucket_mask(ds, sel, "90+"),
        "indicator": lambda: drilldown.cell(ds, sel, "nope"),
        "view": lambda: drilldown.rows_of(ds, sel, "signed_budget", by="line"),
        "footer": lambda: drilldown.footer_words("nope"),
    }


def test_the_pure_functions_errors_carry_a_key_and_are_said_in_either_language(url):
    firm = prospects.open_firm(url, today=TODAY)
    for name, call in _pure_errors(firm).items():
        with pytest.raises(i18n.Said) as caught:
            call()
        exc = caught.value
        assert exc.phrase is not None and exc.phrase.key in i18n.LABELS["fr"], name
        assert str(exc) == exc.say("fr"), name  # French unless said otherwise
        for loc in ("fr", "en"):
            assert_in_language(exc.say(loc), loc)
        assert str(exc.in_locale("en")) == exc.say("en"), name


def test_a_refusal_names_levels_and_functions_by_their_labels():
    directory_viewer = scoping.Viewer("m", "C9", "Max", "manager", "F", True, no_perimeter="home_above_cap", cap="agency")

    class _Dir:  # outside_perimeter reads no directory for an empty perimeter
        pass

    exc = scoping.outside_perimeter(directory_viewer, _Dir(), i18n.Phrase.of("access.the_unit", unit="X"))
    assert exc.say("fr") == ("Accès refusé : l'unité « X » est hors de votre périmètre, qui est vide : "
                             "votre fonction (Manager) s'arrête à une agence et votre unité de rattachement est au-dessus")
    assert exc.say("en") == ("Access denied: unit 'X' is outside your perimeter, which is empty: "
                             "your function (Manager) stops at an agency and your home unit is above it")
    nothing = NothingToRender("report.nothing", kind=i18n.Term(i18n.LEVEL_LABELS, "agency"), login="m")
    assert str(nothing) == "aucune agence dans le périmètre de m : essayez --by agency ou --unit ID"


def test_every_sentence_of_the_catalog_has_the_same_placeholders_in_both_languages():
    import string

    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    assert set(i18n.LABELS["fr"]) == set(i18n.LABELS["en"])
    for key, fr in i18n.LABELS["fr"].items():
        assert names(fr) == names(i18n.LABELS["en"][key]), key


def test_the_figures_and_the_drilldown_speak_the_settings_language(capsys, url, locale):
    code, out, _ = run(capsys, url, "indicators", "--user", "part1", "--unit", "R1")
    assert code == 0
    head = out.splitlines()[:2]
    assert head[1].startswith({"fr": "Exercice 2026\u00a0: 01/01/2026 → 31/12/2026, au 29/11/2026 — Périmètre\u00a0: ",
                               "en": "Fiscal year 2026: 2026-01-01 → 2026-12-31, as of 2026-11-29 — Scope: "}[locale])
    for line in head:
        assert_in_language(line, locale)
    code, out, _ = run(capsys, url, "drilldown", "--user", "part1", "--unit", "R1", "--indicator", "signed_budget")
    assert code == 0
    for line in out.strip().splitlines()[-2:]:  # the footer: counts, amounts and what they are
        assert_in_language(line, locale)
