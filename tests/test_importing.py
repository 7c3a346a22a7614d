"""Importing CRM exports through a mapping (docs/import.md): every mapping feature, every
kind of bad input, the reconciliation, and the shipped example against hand-computed figures."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from prospects import db
from prospects import importing as im
from prospects.api import open_firm
from prospects.cli import main
from prospects.importing.values import parse_money

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# A "one row per opportunity" export and its mapping: the base most tests change a bit.
HEADER = "Réf;Affaire;Client;Région;Agence;Associé;Manager;Statut;Créée le;Décidée le;Montant"
ROWS = [
    "D1;Tenue Alpha;Alpha SAS;Nord;Lille;Jean Dupont;Paul Roux;Gagné;10/01/2026;20/02/2026;1 000,00 €",
    "D2;Audit Beta;Beta SA;Nord;Lille;Marie Curie;Paul Roux;En cours;15/01/2026;;2 500 €",
    "D3;Conseil Gamma;Gamma;Sud;Nice;jean  DUPONT;;À qualifier;01/02/2026;;",
    "D4;Social Delta;Delta;Sud;Nice;Marie Curie;Paul Roux;Perdu;01/03/2026;15/04/2026;800 €",
    "D5;Juridique Eps;Eps;Nord;;Jean Dupont;;Abandonné;01/03/2026;20/03/2026;",
]
MAPPING = """
[defaults]
date = "dd/mm/yyyy"

[sources.opps]
file = "opps.csv"
delimiter = ";"

[org]
firm = "Cabinet Test"

[maps.statut]
"En cours" = "in_progress"
"Gagné" = "signed"
"Perdu" = ["refused", "abandoned"]
"À qualifier" = "no document"
"Abandonné" = "abandoned"

[tables.deals]
source = "opps"
[tables.deals.columns]
id = "Réf"
name = "Affaire"
kind = { value = "prospect" }
prospect_name = "Client"
unit_id = { unit = { region = "Région", agency = "Agence" } }
partner_id = { person = "Associé" }
manager_id = { person = "Manager" }
status = { column = "Statut", map = "statut" }
created_on = "Créée le"
abandoned_on = { column = "Décidée le", only_if = { status = "abandoned" } }

[tables.documents]
source = "opps"
[tables.documents.columns]
id = "Réf"
deal_id = "Réf"
doc_type = { value = "Proposition" }
status = { column = "Statut", map = "statut" }
created_on = "Créée le"
decided_on = { column = "Décidée le", only_if = { status = ["signed", "refused", "cancelled"] } }
signatory_id = { person = "Associé" }

[tables.document_lines]
[[tables.document_lines.lines]]
amount = "Montant"
billing = { value = "recurring" }
mission = { value = "Mission" }
"""


# ---------------------------------------------------------------------------
# helpers


def setup(tmp_path: Path, rows=ROWS, mapping: str = MAPPING, *, header: str = HEADER, encoding: str = "utf-8", name: str = "opps.csv") -> Path:
    """Write the export and the mapping; returns the mapping's path."""
    (tmp_path / name).write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    path = tmp_path / "mapping.toml"
    path.write_text(mapping, "utf-8")
    return path


def frames(result: im.ImportResult) -> dict[str, pd.DataFrame]:
    return dict(result.validated.frames)


def column(result: im.ImportResult, table: str, col: str, key: str = "id") -> dict:
    f = result.validated.frames[table]
    return dict(zip(f[key], f[col], strict=True))


def rejects(result: im.ImportResult, **where) -> pd.DataFrame:
    r = result.rejects
    for k, v in where.items():
        r = r[r[k] == v]
    return r


def assert_reconciled(result: im.ImportResult) -> None:
    for name, c in result.source_counts.items():
        assert c.read == c.imported + c.rejected, name
    for table, c in result.counts.items():
        assert c.read == c.loaded + c.rejected, table
    rejected_rows = result.rejects.groupby("source")["row"].nunique().to_dict()
    for name, c in result.source_counts.items():
        assert c.rejected == rejected_rows.get(name, 0), name


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------
# the shipped example: a messy export imported and checked against figures by hand


@pytest.fixture
def example(tmp_path) -> Path:
    """A private copy of examples/ (the import writes its rejects next to the mapping)."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.rejects.csv", "__pycache__"))
    return folder / "crm_mapping.toml"


def test_the_generator_reproduces_the_committed_example_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_messy_export", EXAMPLES / "make_messy_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.main(tmp_path):
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), path.name
    raw = (EXAMPLES / "crm_affaires_2026.csv").read_bytes()
    assert b"\r\n" in raw and b"\x80" in raw  # CRLF, and '€' as cp1252 writes it
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "29/11/2026" in text and "1\u00a0234,50 €" in text and ";" in text.splitlines()[2]
    assert openpyxl.load_workbook(EXAMPLES / "crm_export_2025.xlsx").sheetnames == ["Affaires", "Équipe"]


def test_example_import_gives_the_figures_computed_by_hand(capsys, db_url, example):
    code, out, err = run(capsys, "--db", db_url, "import", "--mapping", example)
    assert code == 1, err  # two broken rows
    assert "affaires_2026        14 =       12 +        2" in out
    assert "affaires_2025         5 =        5 +        0" in out
    assert "deals                 19 =       17 +        2" in out
    rejects_path = example.with_name("crm_mapping.rejects.csv")
    assert f"reasons in {rejects_path.resolve()}" in out
    got = pd.read_csv(rejects_path, encoding="utf-8-sig", dtype=str)
    assert list(got.columns) == list(im.SOURCE_REJECT_COLUMNS)
    assert set(got["row"]) == {"15", "16"}  # lines of the CSV file
    first = got.iloc[0].to_dict()
    assert first["file"].endswith("crm_affaires_2026.csv") and first["column"] == "status"
    assert first["value"] == "Gelé" and first["source_column"] == "Statut"
    assert "Date création '31/02/2026' is not a date" in " ".join(got["reason"])

    engine = db.make_engine(db_url)
    assert db.read_extract_info(engine)["rows_rejected"] == "6"
    firm = open_firm(db_url, today="2026-11-29")
    figs = firm.as_viewer("cmartin").figures(unit="FIRM")  # the director, whole firm
    ind = figs.indicators
    # Prospect deals kept: A-2601..05, 07..10, 13, 14 (2026, CSV) and 2501..2505 (2025, Excel);
    # A-2606 is an existing client's deal, A-2611 (status "Gelé") and A-2612 (31/02/2026) rejected.
    # In progress at 29/11/2026: A-2602 12 500, A-2608 9 800 + 2 000, A-2613 1 800,50 + 300,
    # 2502 8 400 (sent in 2025, still open).
    assert ind["offers_in_progress"] == 4
    assert ind["potential_fees"] == {"recurring": 3_250_050, "one_off": 230_000, "total": 3_480_050}
    # Signed in 2026: A-2601 (10/02) 4 800 + 1 200, A-2607 (20/07) 6.000,00 EUR + 1 234,50,
    # A-2609 (29/11, the as-of day itself) 1 500, 2503 (15/01/2026, an Excel date) 5 200 + 0.
    assert ind["signed_offers"] == 4 and ind["converted_prospects"] == 4
    assert ind["signed_budget"] == {"recurring": 1_750_000, "one_off": 243_450, "total": 1_993_450}
    # Refused in 2026: A-2603 ("Perdu": refused and abandoned, 3 600) and A-2614 ("Refusée", 7 200).
    assert ind["refused_offers"] == 2
    # Abandoned in 2026: A-2603 (30/04) and A-2604 (02/04, "Abandonné" before any offer).
    assert ind["abandoned_prospects"] == 2
    # Open without an offer in progress: A-2605 ("À qualifier"), A-2610 (offer cancelled),
    # A-2614 (offer refused, deal kept), 2505 ("À qualifier" since 2025).
    assert ind["prospects_without_document"] == 4
    assert ind["win_rate"]["by_count"] == pytest.approx(4 / 6)
    assert ind["win_rate"]["by_value"] == pytest.approx(1_993_450 / (1_993_450 + 360_000 + 720_000))
    # Days from sending to signature: 21, 45, 58 and 51 (2503: 25/11/2025 → 15/01/2026).
    assert ind["median_days_to_sign"] == 48.0
    monthly = figs.monthly.set_index("month")
    won = monthly.loc[monthly["won_prospects"] > 0]
    assert won["won_prospects"].to_dict() == {"2026-01": 1, "2026-02": 1, "2026-07": 1, "2026-11": 1}
    assert won["total"].to_dict() == {"2026-01": 520_000, "2026-02": 600_000, "2026-07": 723_450, "2026-11": 150_000}
    # N-1 at 29/11/2025: 2501 signed 10/04/2025 (3000 + 450.5 as Excel numbers, decided on a
    # bare serial date), 2504 refused and abandoned 30/08/2025, 2502 and 2503 in progress,
    # 2505 without document.
    prev = figs.previous.indicators
    assert prev["signed_budget"] == {"recurring": 300_000, "one_off": 45_050, "total": 345_050}
    assert (prev["signed_offers"], prev["refused_offers"], prev["abandoned_prospects"]) == (1, 1, 1)
    assert prev["offers_in_progress"] == 2 and prev["potential_fees"]["total"] == 1_360_000
    assert prev["prospects_without_document"] == 1 and prev["median_days_to_sign"] == 36.0
    # The Lyon region (deals placed by the office of their owner, looked up in the team sheet):
    # A-2603, A-2605, A-2608, 2502, 2505.
    ara = firm.as_viewer("cmartin").figures(unit="R-auvergne-rhone-alpes").indicators
    assert ara["offers_in_progress"] == 2 and ara["potential_fees"]["total"] == 2_020_000
    assert (ara["refused_offers"], ara["abandoned_prospects"], ara["prospects_without_document"]) == (1, 1, 2)
    # a partner sees his region through the group, a manager is capped at his agency
    assert firm.as_viewer("jdupont").figures(unit="R-ile-de-france").indicators["signed_offers"] == 4
    paris = firm.as_viewer("pbernard").figures(unit="A-ile-de-france.paris").indicators
    assert paris["signed_offers"] == 4 and paris["refused_offers"] == 1


def test_example_org_people_and_entities(example):
    result = im.prepare(example)
    assert_reconciled(result)
    units = result.validated.frames["org_units"].set_index("id")
    assert units.loc["T-ile-de-france.paris.audit", "parent_id"] == "A-ile-de-france.paris"
    assert units.loc["A-ile-de-france.versailles", "name"] == "Versailles"
    people = result.validated.frames["collaborators"].set_index("login")
    assert people.loc["sleroy", "function"] == "partner"  # "associée", lower case
    assert bool(people.loc["sleroy", "can_validate_offers"]) and not bool(people.loc["jpetit", "can_validate_offers"])
    assert not bool(people.loc["agirard", "active"])
    assert people.loc["cmartin", "unit_id"] == "A-ile-de-france.paris"  # no team
    assert people.loc["lmoreau", "entity_id"] is None
    assert set(result.validated.frames["entities"]["id"]) == {"E-martin-associes-sas", "E-martin-audit-lyon-sarl"}
    deals = result.validated.frames["deals"].set_index("id")
    assert deals.loc["A-2604", "unit_id"] == "A-ile-de-france.versailles"  # owner without a team
    assert deals.loc["2501", "created_on"] == pd.Timestamp("2025-03-01")  # a numeric id, a date cell
    assert deals.loc["A-2606", "kind"] == "client"
    assert deals.loc["A-2614", "prospect_name"] == "Menuiserie Dupont; Fils"
    docs = result.validated.frames["documents"].set_index("id")
    assert docs.loc["DOC-2501", "decided_on"] == pd.Timestamp("2025-04-10")  # a bare Excel serial
    assert docs.loc["DOC-A-2613", "created_on"] == pd.Timestamp("2026-11-10")  # not sent: creation date
    assert "DOC-A-2605" not in docs.index and "DOC-A-2604" not in docs.index
    lines = result.validated.frames["document_lines"]
    assert lines.loc[lines["document_id"] == "DOC-2503", "amount_cents"].tolist() == [520_000]  # 0 € → no line
    assert lines.loc[lines["document_id"] == "DOC-2501", "amount_cents"].tolist() == [300_000, 45_050]


def test_example_check_is_a_dry_run_that_shows_everything(capsys, sqlite_url, example):
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", example, "--check")
    assert code == 1, err
    assert "dry run" in out
    assert "affaires_2026: " in out and "(cp1252, delimiter ';', header on row 3): 14 rows" in out
    assert "Table deals: one row per row of affaires_2026 and affaires_2025 → 19 rows" in out
    assert "status               ← column 'Statut', map statut" in out
    assert "A-2601" in out and "T-ile-de-france.paris.audit" in out  # sample rows
    assert "unmapped    deals.status ← Statut: 'Gelé' (1 row)" in out
    assert "bad date    deals.created_on ← Date création: '31/02/2026' (1 row)" in out
    assert "What loading would do" in out
    assert not example.with_name("crm_mapping.rejects.csv").exists()
    assert not db.has_schema(db.make_engine(sqlite_url))


# ---------------------------------------------------------------------------
# mapping features


def test_one_row_per_opportunity_becomes_deals_documents_and_lines(tmp_path):
    result = im.prepare(setup(tmp_path))
    assert result.exit_code == 0 and result.rejected == 0
    assert_reconciled(result)
    f = frames(result)
    assert f["org_units"]["id"].tolist() == ["FIRM", "R-nord", "A-nord.lille", "R-sud", "A-sud.nice"]
    assert column(result, "deals", "unit_id") == {
        "D1": "A-nord.lille", "D2": "A-nord.lille", "D3": "A-sud.nice", "D4": "A-sud.nice", "D5": "R-nord",
    }
    assert column(result, "deals", "status") == {"D1": "open", "D2": "open", "D3": "open", "D4": "abandoned", "D5": "abandoned"}
    assert column(result, "deals", "abandoned_on")["D4"] == pd.Timestamp("2026-04-15")
    assert column(result, "documents", "status") == {"D1": "signed", "D2": "in_progress", "D4": "refused"}  # D3, D5: none
    assert pd.isna(column(result, "documents", "decided_on")["D2"])
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000, "D2": 250_000, "D4": 80_000}


def test_constants_defaults_coalesced_columns_and_templates(tmp_path):
    rows = [r + ";" + extra for r, extra in zip(ROWS, ["Tenue;{x}", ";", "Conseil;", "Social;Note", ";"], strict=True)]
    mapping = MAPPING.replace(
        'doc_type = { value = "Proposition" }',
        'doc_type = { column = "Type", default = "Proposition commerciale" }\n'
        'title = { template = "{Affaire} – {Client} {{{Note}}}" }\n'
        'template = { column = ["Note", "Type"] }',
    )
    result = im.prepare(setup(tmp_path, rows, mapping, header=HEADER + ";Type;Note"))
    assert result.rejected == 0
    assert column(result, "documents", "doc_type") == {"D1": "Tenue", "D2": "Proposition commerciale", "D4": "Social"}
    assert column(result, "documents", "template") == {"D1": "{x}", "D2": None, "D4": "Note"}
    assert column(result, "documents", "title") == {"D1": "Tenue Alpha – Alpha SAS {{x}}", "D2": "Audit Beta – Beta SA {}", "D4": "Social Delta – Delta {Note}"}
    assert set(column(result, "deals", "kind").values()) == {"prospect"}


def test_a_template_of_empty_fields_is_empty(tmp_path):
    mapping = MAPPING.replace('prospect_name = "Client"', 'prospect_name = { template = "{Client} {Manager}" }')
    rows = [*ROWS[:4], "D5;Juridique Eps;;Nord;;Jean Dupont;;Abandonné;01/03/2026;20/03/2026;"]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert column(result, "deals", "prospect_name")["D1"] == "Alpha SAS Paul Roux"
    assert rejects(result, table="deals", column="prospect_name")["reason"].tolist() == ["prospect_name is required but empty"]
    assert rejects(result, table="deals")["row"].tolist() == [6]


def test_lookup_in_another_source_by_key(tmp_path):
    (tmp_path / "people.csv").write_text("Nom complet,Bureau,Code\nJEAN dupont ,Lille,C1\nMarie Curie,Nice,C2\nPaul Roux,Lille,C3\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.people]\nfile = "people.csv"\n\n[lookups.who]\nsource = "people"\nkey = "Nom complet"\nvalue = "Code"\n\n[org]')
    mapping = mapping.replace('partner_id = { person = "Associé" }', 'partner_id = { lookup = "who", match = "Associé" }\nclient_manager_id = { lookup = "people", match = "Manager", key = "Nom complet", value = "Code", on_miss = "empty" }')
    mapping = mapping.replace('manager_id = { person = "Manager" }\n', "")
    mapping = mapping.replace('signatory_id = { person = "Associé" }', 'signatory_id = { lookup = "who", match = "Associé" }')
    mapping += '\n[tables.collaborators]\nsource = "people"\n[tables.collaborators.columns]\nid = "Code"\nlogin = "Code"\nfull_name = "Nom complet"\nfunction = { value = "partner" }\nunit_id = { unit = { agency = "Bureau" } }\ncan_validate_offers = { value = true }\n'
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "deals", "partner_id") == {"D1": "C1", "D2": "C2", "D3": "C1", "D4": "C2", "D5": "C1"}  # case, spaces
    assert column(result, "deals", "client_manager_id")["D1"] == "C3"
    assert column(result, "collaborators", "unit_id") == {"C1": "A-nord.lille", "C2": "A-sud.nice", "C3": "A-nord.lille"}  # agency by name


def test_value_maps_otherwise_keep_unmapped_and_lists(tmp_path):
    mapping = MAPPING.replace('kind = { value = "prospect" }', 'kind = { column = "Client", map = { "Alpha SAS" = "client" }, otherwise = "prospect" }')
    mapping = mapping.replace('name = "Affaire"', 'name = { column = "Affaire", map = { "tenue ALPHA" = "Tenue comptable Alpha" }, keep_unmapped = true }')
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert column(result, "deals", "kind") == {"D1": "client", "D2": "prospect", "D3": "prospect", "D4": "prospect", "D5": "prospect"}
    assert column(result, "deals", "name")["D1"] == "Tenue comptable Alpha" and column(result, "deals", "name")["D2"] == "Audit Beta"


def test_status_map_keys_ignore_case_and_spaces(tmp_path):
    rows = [ROWS[0].replace("Gagné", " GAGNÉ "), ROWS[1].replace("En cours", "en  cours")]
    result = im.prepare(setup(tmp_path, rows))
    assert column(result, "documents", "status") == {"D1": "signed", "D2": "in_progress"}


@pytest.mark.parametrize(
    ("formats", "text", "expected"),
    [
        ('"dd/mm/yyyy"', "29/11/2026", "2026-11-29"),
        ('"dd/mm/yyyy"', "1/2/2026", "2026-02-01"),
        ('"dd/mm/yyyy"', "29/11/2026 14:35", "2026-11-29"),
        ('"dd/mm/yyyy"', "2026-11-29", "2026-11-29"),  # ISO always
        ('"dd/mm/yyyy"', "2026-11-29T08:00:00", "2026-11-29"),
        ('"dd.mm.yy"', "29.11.26", "2026-11-29"),
        ('"mm/dd/yyyy"', "11/29/2026", "2026-11-29"),
        ('["dd/mm/yyyy", "excel"]', "46355", "2026-11-29"),
        ('["dd/mm/yyyy", "excel"]', "46355,5", "2026-11-29"),
        ('"%Y%m%d"', "20261129", "2026-11-29"),
    ],
)
def test_date_formats(tmp_path, formats, text, expected):
    mapping = MAPPING.replace('date = "dd/mm/yyyy"', f"date = {formats}")
    result = im.prepare(setup(tmp_path, [ROWS[1].replace("15/01/2026", text)], mapping))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "deals", "created_on")["D2"] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1 234,50 €", "123450"),
        ("1\u00a0234,50\u00a0€", "123450"),
        ("1\u202f234,5 EUR", "123450"),
        ("1.234.567,89", "123456789"),
        ("€ 12", "1200"),
        ("0,07", "7"),
        ("12,", "1200"),
        ("1 234,500", "123450"),
        ("100 000 000 000,00", "10000000000000"),  # the bound of DATA.md, exactly
        ("-15,00 €", "-1500"),
        ("0", "0"),
    ],
)
def test_amounts_are_parsed_exactly_to_cents(text, cents):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert reason.isna().all(), reason.iloc[0]
    assert got.iloc[0] == cents


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1 234,567", "more than 2 decimals"),
        ("12,3,4", "not an amount"),
        ("1.23,00", "not an amount"),
        ("douze", "not an amount"),
        ("12 $", "not an amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text, why):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert got.isna().all() and why in reason.iloc[0]


def test_decimal_point_sources_and_amounts_in_cents(tmp_path):
    mapping = MAPPING.replace('delimiter = ";"', 'delimiter = ";"\ndecimal = "."').replace('amount = "Montant"', 'amount = { column = "Montant", money = "cents" }')
    rows = [ROWS[0].replace("1 000,00 €", "150"), ROWS[1].replace("2 500 €", "1,234")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 150, "D2": 1234}
    got, _ = parse_money(pd.Series(["1,234.50 €", "1'000.5"], dtype="str"), ".", ("€",), "euros")
    assert got.tolist() == ["123450", "100050"]


def test_org_ids_are_stable_and_hash_ids_are_an_option(tmp_path):
    first = frames(im.prepare(setup(tmp_path)))["org_units"]
    shuffled = [ROWS[3], ROWS[1], ROWS[0], ROWS[2], ROWS[4]]
    second = frames(im.prepare(setup(tmp_path, shuffled)))["org_units"]
    assert set(first["id"]) == set(second["id"])
    hashed = frames(im.prepare(setup(tmp_path, mapping=MAPPING.replace('firm = "Cabinet Test"', 'firm = "Cabinet Test"\nids = "hash"'))))["org_units"]
    again = frames(im.prepare(setup(tmp_path, shuffled, MAPPING.replace('firm = "Cabinet Test"', 'firm = "Cabinet Test"\nids = "hash"'))))["org_units"]
    assert set(hashed["id"]) == set(again["id"])
    assert all(i == "FIRM" or (i[:2] in ("R-", "A-") and len(i) == 12) for i in hashed["id"])


def test_org_names_differing_by_case_and_accents_are_one_unit(tmp_path):
    rows = [ROWS[0].replace("Nord;Lille", "Île-de-France;Paris"), ROWS[1].replace("Nord;Lille", "ILE DE FRANCE;paris")]
    result = im.prepare(setup(tmp_path, rows))
    units = frames(result)["org_units"]
    assert units["id"].tolist() == ["FIRM", "R-ile-de-france", "A-ile-de-france.paris"]
    assert units["name"].tolist()[1:] == ["Île-de-France", "Paris"]  # as first written


def test_an_org_level_given_without_the_level_above_is_rejected(tmp_path):
    result = im.prepare(setup(tmp_path, [*ROWS[:4], ROWS[4].replace(";Nord;;", ";;Roubaix;")]))
    bad = rejects(result, table="deals")
    assert bad["column"].tolist() == ["unit_id"] and bad["row"].tolist() == [6]
    assert "agency 'Roubaix' is given without its region (Région is empty)" in bad["reason"].iloc[0]
    assert bad["source_column"].iloc[0] == "Région, Agence"
    assert "D5" not in set(frames(result)["documents"]["deal_id"])


def test_an_agency_named_alone_must_be_in_the_tree(tmp_path):
    mapping = MAPPING.replace('[tables.deals]', '[sources.bureaux]\nfile = "bureaux.csv"\n\n[tables.deals]')
    mapping += '\n[tables.entities]\nsource = "bureaux"\ncolumns = { id = "Bureau", name = { unit = { agency = "Bureau" } } }\n'
    with pytest.raises(im.MappingError, match="'unit' makes org unit ids"):
        im.read_mapping(setup(tmp_path, mapping=mapping))
    mapping = MAPPING.replace('manager_id = { person = "Manager" }', "")
    mapping = mapping.replace('unit_id = { unit = { region = "Région", agency = "Agence" } }', 'unit_id = { unit = { agency = "Agence" } }')
    mapping = mapping.replace('[tables.deals]', '[sources.bureaux]\nfile = "bureaux.csv"\n\n[tables.entities]\nsource = "bureaux"\ncolumns = { id = "Code", name = "Bureau" }\n\n[tables.deals]')
    mapping = mapping.replace('[tables.document_lines]', '[tables.group_units]\nsource = "bureaux"\ncolumns = { group_id = { value = "G" }, unit_id = { unit = { region = "Région", agency = "Bureau" } } }\n\n[tables.groups]\nrows = [{ id = "G", name = "Tous" }]\n\n[tables.document_lines]')
    (tmp_path / "bureaux.csv").write_text("Code,Région,Bureau\nB1,Nord,Lille\nB2,Sud,Nice\nB3,Est,Nice\n", "utf-8")
    rows = [*ROWS[:4], ROWS[4], ROWS[1].replace("D2;", "D6;").replace("Lille", "Roubaix")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    bad = rejects(result, table="deals")
    assert dict(zip(bad["row"], bad["reason"], strict=True)) == {
        4: "agency 'Nice' is in several places of the organisation tree: name its region too",
        5: "agency 'Nice' is in several places of the organisation tree: name its region too",
        6: "unit_id is required but empty",  # no agency given
        7: "agency 'Roubaix' is not in the organisation tree",
    }
    assert column(result, "deals", "unit_id") == {"D1": "A-nord.lille", "D2": "A-nord.lille"}


def test_collaborators_from_names_with_function_and_rights_by_rule(tmp_path):
    result = im.prepare(setup(tmp_path))
    people = frames(result)["collaborators"].set_index("id")
    assert people.index.tolist() == ["jean.dupont", "marie.curie", "paul.roux"]
    assert people["login"].tolist() == ["jean.dupont", "marie.curie", "paul.roux"]
    assert people.loc["jean.dupont", "full_name"] == "Jean Dupont"  # 'jean  DUPONT' is the same person
    assert people["function"].to_dict() == {"jean.dupont": "partner", "marie.curie": "partner", "paul.roux": "manager"}
    assert people["can_validate_offers"].all() and people["active"].all()
    # home unit: the unit of most of their deals (Jean: Lille, Nice, Nord → first seen)
    assert people["unit_id"].to_dict() == {"jean.dupont": "A-nord.lille", "marie.curie": "A-nord.lille", "paul.roux": "A-nord.lille"}


def test_collaborators_from_names_with_rules_and_a_side_table(tmp_path):
    (tmp_path / "fonctions.csv").write_text("Nom,Fonction,Droit\nPaul Roux,Collaborateur,non\nMarie Curie,Directrice,oui\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.fonctions]\nfile = "fonctions.csv"\n\n[org]')
    mapping += (
        '\n[people]\nroles = { manager_id = "staff" }\nvalidators = ["partner"]\n'
        '[people.columns]\nfunction = { lookup = "fonctions", match = "name", key = "Nom", value = "Fonction", on_miss = "empty", map = { Directrice = "director", Collaborateur = "staff" } }\n'
        'can_validate_offers = { lookup = "fonctions", match = "name", key = "Nom", value = "Droit", on_miss = "empty" }\n'
    )
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0, result.rejects.to_string()
    people = frames(result)["collaborators"].set_index("id")
    assert people["function"].to_dict() == {"jean.dupont": "partner", "marie.curie": "director", "paul.roux": "staff"}
    assert people["can_validate_offers"].to_dict() == {"jean.dupont": True, "marie.curie": True, "paul.roux": False}


def test_lines_billing_by_column_or_by_rule_and_zero_amounts(tmp_path):
    header = "Réf;Affaire;Client;Région;Agence;Associé;Manager;Statut;Créée le;Décidée le;Montant;Nature;Mission;Frais"
    rows = [
        ROWS[0] + ";Récurrent;Tenue comptable;0,00",
        ROWS[1] + ";ponctuel;Audit;150",
        ROWS[3] + ";;Création;",
    ]
    mapping = MAPPING.replace(
        '[[tables.document_lines.lines]]\namount = "Montant"\nbilling = { value = "recurring" }\nmission = { value = "Mission" }',
        '[[tables.document_lines.lines]]\namount = "Montant"\nbilling = { column = "Nature", map = { "Récurrent" = "recurring", "Ponctuel" = "one_off" }, default = "one_off" }\nmission = "Mission"\n'
        '[[tables.document_lines.lines]]\namount = "Frais"\nbilling = { column = "Mission", map = { "Tenue comptable" = "recurring" }, otherwise = "one_off" }\nmission = { value = "Frais" }\nkeep_zero = true\n',
    )
    result = im.prepare(setup(tmp_path, rows, mapping, header=header))
    assert result.rejected == 0, result.rejects.to_string()
    lines = frames(result)["document_lines"]
    assert lines[["document_id", "line_no", "mission", "billing", "amount_cents"]].values.tolist() == [
        ["D1", 1, "Tenue comptable", "recurring", 100_000],
        ["D1", 2, "Frais", "recurring", 0],  # keep_zero
        ["D2", 1, "Audit", "one_off", 250_000],
        ["D2", 2, "Frais", "one_off", 15_000],
        ["D4", 1, "Création", "one_off", 80_000],  # billing by default
    ]


def test_an_amount_on_a_row_without_document_is_rejected_not_dropped(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[2].replace(";;À qualifier", ";;À qualifier").removesuffix(";") + ";300 €"]))
    bad = rejects(result, table="document_lines")
    assert bad["row"].tolist() == [3] and bad["column"].tolist() == ["amount_cents"]
    assert bad["reason"].iloc[0] == "Montant '300 €' is given but Statut 'À qualifier' means no document: the amount is not imported"
    assert column(result, "deals", "status")["D3"] == "open"  # the deal itself is imported
    assert result.source_counts["opps"] == im.SourceCount(2, 1, 1, 1)  # partly imported
    assert_reconciled(result)


def test_literal_rows_and_several_sources_for_one_table(tmp_path):
    (tmp_path / "more.csv").write_text(HEADER.replace(";", ",") + "\nD9,Tenue Omega,Omega,Nord,Lille,Jean Dupont,,En cours,01/06/2026,,\"1 000,00 €\"\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.more]\nfile = "more.csv"\n\n[org]')
    for table in ("deals", "documents"):
        mapping = mapping.replace(f'[tables.{table}]\nsource = "opps"', f'[tables.{table}]\nsource = ["opps", "more"]')
    mapping += '\n[tables.groups]\nrows = [{ id = "G1", name = "Direction" }, { id = "G2", name = "Nord" }]\n[tables.group_units]\nrows = [{ group_id = "G2", unit_id = "R-nord" }]\n'
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0
    assert column(result, "groups", "name") == {"G1": "Direction", "G2": "Nord"}
    assert frames(result)["group_units"].values.tolist() == [["G2", "R-nord"]]
    assert column(result, "document_lines", "amount_cents", "document_id")["D9"] == 100_000
    assert result.source_counts["more"] == im.SourceCount(1, 1, 0, 0)


def test_excel_sources_with_header_row_typed_cells_and_extra_cells(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(["Affaires au 29/11/2026"])
    ws.append([])
    ws.append(HEADER.split(";"))
    import datetime as dt

    ws.append([101, "Tenue Alpha", "Alpha", "Nord", "Lille", "Jean Dupont", None, "Gagné", dt.datetime(2026, 1, 10), 46073, 1234.5])
    ws.append([102, "Audit Beta", "Beta", "Nord", "Lille", "Jean Dupont", None, "En cours", "15/01/2026", None, "2 500 €"])
    ws.append([None] * 11)
    ws.append([103, "Conseil", "Gamma", "Nord", "Lille", "Jean Dupont", None, "En cours", "15/01/2026", None, 10, "stray"])
    wb.save(tmp_path / "export.xlsx")
    mapping = MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "export.xlsx"\nsheet = "Export"\nheader_row = 3')
    mapping = mapping.replace('date = "dd/mm/yyyy"', 'date = ["dd/mm/yyyy", "excel"]')
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert column(result, "deals", "created_on") == {"101": pd.Timestamp("2026-01-10"), "102": pd.Timestamp("2026-01-15")}
    assert column(result, "documents", "decided_on")["101"] == pd.Timestamp("2026-02-20")
    assert column(result, "document_lines", "amount_cents", "document_id") == {"101": 123_450, "102": 250_000}
    assert rejects(result, source="opps")[["row", "reason"]].values.tolist() == [[7, "the row has cells beyond the 11 columns of the header"]]
    assert result.source_counts["opps"] == im.SourceCount(3, 2, 1, 0)


# ---------------------------------------------------------------------------
# bad input


def test_unknown_status_rejects_the_row_and_is_listed_with_counts(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("En cours", "Gelé"), ROWS[3].replace("Perdu", "gelé")]
    result = im.prepare(setup(tmp_path, rows))
    assert result.exit_code == 1
    bad = rejects(result, table="deals")
    assert bad[["row", "column", "value"]].values.tolist() == [[3, "status", "Gelé"], [4, "status", "gelé"]]
    assert bad["reason"].iloc[0] == "Statut 'Gelé' is not in map statut"
    assert set(rejects(result, table="document_lines")["reason"]) == {"parent rejected: documents D2", "parent rejected: documents D4"}
    issues = [(i.kind, i.target, i.value, i.rows) for i in result.issues()]
    assert ("unmapped", "deals.status", "Gelé", 1) in issues and ("unmapped", "deals.status", "gelé", 1) in issues
    assert result.source_counts["opps"] == im.SourceCount(3, 1, 2, 0)
    assert_reconciled(result)


def test_enum_without_map_must_hold_contract_values(tmp_path):
    mapping = MAPPING.replace('kind = { value = "prospect" }', 'kind = "Client"')
    result = im.prepare(setup(tmp_path, [ROWS[0]], mapping))
    assert rejects(result, table="deals")["reason"].tolist() == ["Client 'Alpha SAS' is not one of prospect, client: add a map"]


def test_bad_date_rejects_the_deal_and_what_hangs_from_it(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1].replace("15/01/2026", "31/02/2026")]))
    r = rejects(result, row=3)
    assert r[["table", "column"]].values.tolist() == [
        ["deals", "created_on"], ["documents", "deal_id"], ["documents", "created_on"], ["document_lines", "document_id"],
    ]
    assert r["reason"].tolist()[1:] == [
        "parent rejected: deals D2", "Créée le '31/02/2026' is not a date (dd/mm/yyyy)", "parent rejected: documents D2",
    ]
    assert r["reason"].iloc[0] == "Créée le '31/02/2026' is not a date (dd/mm/yyyy)"
    assert r["file"].iloc[0] == str(tmp_path / "opps.csv")
    assert result.counts["deals"].loaded == 1


def test_bad_amount_rejects_the_line_only(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0].replace("1 000,00 €", "1 000,005 €"), ROWS[1]]))
    bad = rejects(result)
    assert bad[["row", "table", "column", "value"]].values.tolist() == [[2, "document_lines", "amount_cents", "1 000,005 €"]]
    assert bad["reason"].iloc[0] == "Montant '1 000,005 €' has more than 2 decimals (not whole cents)"
    assert set(frames(result)["documents"]["id"]) == {"D1", "D2"}
    assert result.source_counts["opps"] == im.SourceCount(2, 1, 1, 1)


def test_lookup_miss_and_ambiguous_lookup_are_rejected(tmp_path):
    (tmp_path / "people.csv").write_text("Nom,Code\nJean Dupont,C1\nMarie Curie,C2\nmarie curie,C9\nPaul Roux,C3\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.people]\nfile = "people.csv"\n\n[org]')
    mapping = mapping.replace('abandoned_on = {', 'abandon_reason = { lookup = "people", match = "Associé", key = "Nom", value = "Code" }\nabandoned_on = {')
    rows = [ROWS[0], ROWS[1], ROWS[3].replace("Marie Curie", "Zoé Inconnue")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    bad = rejects(result, table="deals")
    assert bad[["row", "column", "value"]].values.tolist() == [[3, "abandon_reason", "Marie Curie"], [4, "abandon_reason", "Zoé Inconnue"]]
    assert bad["source_column"].tolist() == ["Associé → people"] * 2
    assert column(result, "deals", "abandon_reason") == {"D1": "C1"}
    assert bad["reason"].tolist() == [
        "Associé 'Marie Curie' matches several rows of people with different values (rows 3, 4)",
        "Associé 'Zoé Inconnue' not found in people (Nom)",
    ]
    assert [(i.kind, i.value, i.rows) for i in result.issues()] == [("ambiguous", "Marie Curie", 1), ("not found", "Zoé Inconnue", 1)]


def test_duplicate_ids_reject_every_copy_naming_the_source_rows(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1].replace("D2;", "D1;"), ROWS[3]]))
    bad = rejects(result, table="deals")
    assert bad["row"].tolist() == [2, 3]
    opps = tmp_path / "opps.csv"
    assert bad["reason"].iloc[0] == f"id 'D1' is used by 2 rows ({opps} row 2, {opps} row 3); ids must be unique"
    assert result.counts["deals"] == (3, 1, 2)
    assert_reconciled(result)


def test_a_line_with_too_many_fields_is_rejected_and_counted(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1] + ";extra", ROWS[3]]))
    bad = rejects(result)
    assert bad[["row", "reason"]].values.tolist() == [[3, "the line has 12 fields but the header has 11"]]
    assert result.source_counts["opps"] == im.SourceCount(3, 2, 1, 0)


def test_quoted_line_breaks_blank_lines_and_a_title_keep_file_line_numbers(tmp_path):
    text = "Export du 29/11/2026\n\n" + HEADER + "\n" + ROWS[0].replace("Tenue Alpha", '"Tenue\nAlpha"') + "\n\n;;;;\n" + ROWS[1].replace("15/01/2026", "bad") + "\n"
    (tmp_path / "opps.csv").write_text(text, "utf-8")
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING.replace('delimiter = ";"', 'delimiter = ";"\nheader_row = 3'), "utf-8")
    result = im.prepare(path)
    assert column(result, "deals", "name")["D1"] == "Tenue\nAlpha"
    assert rejects(result, table="deals")["row"].tolist() == [8]
    assert result.source_counts["opps"].read == 2


@pytest.mark.parametrize(
    ("written", "declared", "message"),
    [
        ("cp1252", "utf-8", "opps.csv: not UTF-8 text (byte 0xe9 on line 1) (mapping key sources.opps.encoding); it reads as cp1252"),
        ("utf-8", "cp1252", "opps.csv: the file is UTF-8, not cp1252 ('Réf;Affaire;Client;Région;Agence;Associé;Manager;Statut;Créée' would read as"),
        ("cp1252", "latin-1", "is a control character in latin-1 (in cp1252: '€') (mapping key sources.opps.encoding)"),
    ],
)
def test_wrong_encoding_is_unusable(capsys, sqlite_url, tmp_path, written, declared, message):
    mapping = MAPPING.replace('delimiter = ";"', f'delimiter = ";"\nencoding = "{declared}"')
    path = setup(tmp_path, mapping=mapping, encoding=written)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and out == ""
    assert err.startswith("prospects: unusable import, nothing loaded: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_every_encoding_reads(tmp_path, encoding):
    rows = [r.replace(" €", " EUR") for r in ROWS] if encoding == "latin-1" else ROWS
    mapping = MAPPING.replace('delimiter = ";"', f'delimiter = ";"\nencoding = "{encoding}"')
    result = im.prepare(setup(tmp_path, rows, mapping, encoding=encoding))
    assert result.rejected == 0 and column(result, "deals", "name")["D4"] == "Social Delta"
    assert column(result, "collaborators", "full_name")["marie.curie"] == "Marie Curie"


@pytest.mark.parametrize("delimiter", [",", "\t", "tab"])
def test_delimiters(tmp_path, delimiter):
    sep = "," if delimiter == "," else "\t"
    rows = [r.replace(";", sep).replace("1 000,00 €", '"1 000,00 €"') if sep == "," else r.replace(";", sep) for r in ROWS]
    mapping = MAPPING.replace('delimiter = ";"', f'delimiter = "{delimiter}"'.replace("\t", "\\t"))
    result = im.prepare(setup(tmp_path, rows, mapping, header=HEADER.replace(";", sep)))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "document_lines", "amount_cents", "document_id")["D1"] == 100_000


def test_missing_column_is_unusable_with_file_column_and_key(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, header=HEADER.replace("Créée le", "Date"))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2
    assert f"{tmp_path / 'opps.csv'}: no column 'Créée le' (mapping key tables.deals.columns.created_on); columns found: 'Réf', " in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[org]", "[org\n"), "not valid TOML"),
        (('name = "Affaire"', 'nom = "Affaire"'), "tables.deals.columns.nom: not a column of deals"),
        (('name = "Affaire"', 'name = { colum = "Affaire" }'), "tables.deals.columns.name: give exactly one of column, value"),
        (('"Gagné" = "signed"', '"Gagné" = "won"'), "maps.statut.\"Gagné\": 'won' is not a status"),
        (('kind = { value = "prospect" }', 'kind = { value = "prospect", map = { A = "lead" } }'), "'lead' is not a value of deals.kind"),
        (('created_on = "Créée le"\nabandoned_on', 'abandoned_on'), "tables.deals.columns.created_on: missing: deals.created_on is required"),
        (('source = "opps"\n[tables.deals.columns]', 'source = "opportunites"\n[tables.deals.columns]'), "tables.deals.source: 'opportunites' is not a source"),
        (('date = "dd/mm/yyyy"', 'date = "jj/mm/aaaa"'), "defaults.date: 'jj/mm/aaaa' is not a date format"),
        (('delimiter = ";"', 'delimiter = ":"'), "sources.opps.delimiter: expected"),
        (('delimiter = ";"', 'delimiter = ";"\nencoding = "utf-16"'), "sources.opps.encoding: expected utf-8, utf-8-sig, cp1252 or latin-1"),
        (('[org]\nfirm = "Cabinet Test"', ""), "builds org units from names: add an [org] section"),
        (('only_if = { status = "abandoned" }', 'only_if = { statut = "abandoned" }'), "only_if.statut: not a column of deals"),
        (('prospect_name = "Client"', 'prospect_name = { template = "{Client" }'), "braces must hold a column name"),
        (('partner_id = { person = "Associé" }', 'partner_id = { unit = { region = "Région" } }'), "'unit' makes org unit ids: it fits a column referencing org_units, not deals.partner_id"),
        (('manager_id = { person = "Manager" }', 'manager_id = { lookup = "people", match = "Manager" }'), "'people' is not a [lookups] entry or a source"),
    ],
)
def test_bad_mapping_is_unusable_with_the_key_at_fault(tmp_path, change, message):
    old, new = change
    assert old in MAPPING
    with pytest.raises(im.MappingError) as caught:
        im.prepare(setup(tmp_path, mapping=MAPPING.replace(old, new)))
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "mapping.toml"))


def test_missing_file_missing_sheet_and_bad_workbook_are_unusable(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"', 'file = "absent.csv"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "absent.csv: no such file (mapping key sources.opps.file)" in err
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.save(tmp_path / "x.xlsx")
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"', 'file = "x.xlsx"\nsheet = "Affaires"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "x.xlsx: no sheet 'Affaires' (sheets: Feuil1) (mapping key sources.opps.sheet)" in err
    (tmp_path / "y.xlsx").write_text("not a workbook", "utf-8")
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"', 'file = "y.xlsx"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "y.xlsx: not an Excel workbook" in err
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", tmp_path / "nope.toml")
    assert code == 2 and "nope.toml: no such mapping file" in err


# ---------------------------------------------------------------------------
# command line: sources, rejects file, atomicity


def test_sources_on_the_command_line(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path)
    other = tmp_path / "november"
    other.mkdir()
    (other / "export_nov.csv").write_text("\n".join([HEADER, ROWS[0]]) + "\n", "utf-8")
    assert im.source_files(im.read_mapping(path), [other / "export_nov.csv"]) == {"opps": other / "export_nov.csv"}
    assert im.source_files(im.read_mapping(path), [f"opps={other / 'export_nov.csv'}"]) == {"opps": other / "export_nov.csv"}
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, other / "export_nov.csv")
    assert code == 0, err
    assert db.table_counts(db.make_engine(sqlite_url))["deals"] == 1
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, tmp_path / "book.xlsx")
    assert code == 2 and "cannot tell which source" in err and "write NAME=" in err


def test_rejects_file_next_to_the_mapping_or_given_and_stale_one_removed(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, [ROWS[0], ROWS[1].replace("En cours", "Gelé")])
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    default = tmp_path / "mapping.rejects.csv"
    assert code == 1 and default.exists() and f"reasons in {default}" in out
    assert "1 source rows rejected (3 target rows)" in out
    chosen = tmp_path / "out" / "r.csv"
    chosen.parent.mkdir()
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--rejects", chosen)
    assert code == 1 and chosen.exists()
    setup(tmp_path)
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 0 and "No row rejected." in out and not default.exists()


def test_an_unusable_import_leaves_the_database_as_it_was(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path)
    assert run(capsys, "--db", sqlite_url, "import", "--mapping", path)[0] == 0
    before = db.read_all(db.make_engine(sqlite_url))
    setup(tmp_path, header=HEADER.replace("Client", "Société"))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "no column 'Client'" in err
    after = db.read_all(db.make_engine(sqlite_url))
    for table, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[table])


def test_import_replaces_the_previous_content_atomically(db_url, tmp_path):
    engine = db.make_engine(db_url)
    im.import_crm(engine, setup(tmp_path))
    assert db.table_counts(engine)["deals"] == 5
    im.import_crm(engine, setup(tmp_path, [ROWS[0]]))
    assert db.table_counts(engine)["deals"] == 1
    with engine.connect() as conn:
        info = dict(conn.execute(sa.text("select key, value from extract_info")).all())
    assert info["source"].startswith("import ") and info["rows_rejected"] == "0"


def test_docs_show_the_example_mapping_verbatim():
    doc = (ROOT / "docs" / "import.md").read_text("utf-8")
    block = doc.split("The mapping, `examples/crm_mapping.toml`:\n\n```toml\n", 1)[1].split("\n```", 1)[0]
    assert block + "\n" == (EXAMPLES / "crm_mapping.toml").read_text("utf-8")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("6.000,00 EUR", "600000"), ("€ 12", "1200"), ("1.5", None), ("12 $", None)],
)
def test_amount_table_of_the_docs(text, cents):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert (got.iloc[0] if cents else reason.notna().iloc[0]) == (cents or True)


def test_an_export_with_one_row_per_line_merges_its_documents(tmp_path):
    (tmp_path / "deals.csv").write_text("ref,nom,unite,cree\nD1,Alpha,A1,2026-01-10\nD2,Beta,A9,2026-01-11\n", "utf-8")
    (tmp_path / "units.csv").write_text("code,libellé,niveau,parent\nF,Cabinet,Cabinet,\nR1,Nord,Région,F\nA1,Lille,Agence,R1\nA9,Orphelin,Agence,R7\n", "utf-8")
    lines = [
        "offre,affaire,statut,mission,nature,montant",
        'O1,D1,signé,Tenue,R,"1 000,00"',  # O1: two lines, rows that agree → one document
        "O1,D1,signé,Conseil,P,200",
        "O2,D2,signé,Tenue,R,50",  # O2: its deal is rejected (unit under a missing parent)
        "O2,D2,signé,Social,R,60",
        "O3,D1,signé,Tenue,R,10",  # O3: rows disagree on the status
        "O3,D1,perdu,Tenue,R,20",
    ]
    (tmp_path / "lignes.csv").write_text("\n".join(lines) + "\n", "utf-8")
    mapping = """
[defaults]
date = "iso"
[sources.units]
file = "units.csv"
[sources.deals]
file = "deals.csv"
[sources.lignes]
file = "lignes.csv"
[tables.org_units]
source = "units"
columns = { id = "code", name = "libellé", kind = { column = "niveau", map = { Cabinet = "firm", "Région" = "region", Agence = "agency" } }, parent_id = "parent" }
[tables.deals]
source = "deals"
columns = { id = "ref", name = "nom", kind = { value = "prospect" }, prospect_name = "nom", unit_id = "unite", status = { value = "open" }, created_on = "cree" }
[tables.documents]
source = "lignes"
merge = true
columns = { id = "offre", deal_id = "affaire", doc_type = { value = "Offre" }, status = { column = "statut", map = { "signé" = "signed", perdu = "refused" } }, created_on = { value = "2026-02-01" }, decided_on = { value = "2026-03-01" } }
[tables.document_lines]
source = "lignes"
columns = { document_id = "offre", mission = "mission", billing = { column = "nature", map = { R = "recurring", P = "one_off" } }, amount_cents = "montant" }
"""
    path = tmp_path / "mapping.toml"
    path.write_text(mapping, "utf-8")
    result = im.prepare(path)
    assert_reconciled(result)
    assert frames(result)["documents"]["id"].tolist() == ["O1"]
    assert frames(result)["document_lines"][["document_id", "line_no", "amount_cents"]].values.tolist() == [["O1", 1, 100_000], ["O1", 2, 20_000]]
    reasons = rejects(result, source="lignes").groupby("row")["reason"].apply(list).to_dict()
    assert reasons[4] == ["parent rejected: deals D2", "parent rejected: documents O2"]
    assert reasons[5] == [f"merged into {tmp_path / 'lignes.csv'} row 4, which is rejected", "parent rejected: documents O2"]
    assert any("they differ in status" in r for r in reasons[6])
    assert result.source_counts["lignes"] == im.SourceCount(6, 2, 4, 0)
    lines[6] = "O3,D1,signé,Tenue,R,10"  # O3 rows now agree; the O2 rows too, but their deal is rejected
    lines[3:5] = ["O2,D2,signé,Tenue,R,50", "O2,D2,signé,Tenue,R,50"]
    (tmp_path / "lignes.csv").write_text("\n".join(lines) + "\n", "utf-8")
    path.write_text(mapping.replace('[tables.document_lines]\nsource = "lignes"', '[tables.document_lines]\nsource = "deals"').replace('document_id = "offre"', 'document_id = { value = "O1" }').replace('mission = "mission"', 'mission = "nom"').replace('billing = { column = "nature", map = { R = "recurring", P = "one_off" } }', 'billing = { value = "one_off" }').replace('amount_cents = "montant"', 'amount_cents = { value = "1" }'), "utf-8")
    result = im.prepare(path)
    assert_reconciled(result)
    assert set(frames(result)["documents"]["id"]) == {"O1", "O3"}
    r5 = rejects(result, source="lignes", row=5)
    assert r5["reason"].tolist() == [f"merged into {tmp_path / 'lignes.csv'} row 4, which is rejected"]
