"""Importing CRM exports end to end (docs/import.md): the shipped examples imported and
checked against figures computed by hand, and the docs kept equal to them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from prospects import db
from prospects import importing as im
from prospects.api import open_firm

from .importing_cases import (
    DOC,
    EXAMPLES,
    ROOT,
    assert_reconciled,
    doc_blocks,
    run,
)


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


@pytest.mark.parametrize("name", ["crm_mapping.toml", "sales_mapping.toml", "dynamics_mapping.toml"])
def test_docs_show_the_example_mappings_verbatim(name):
    doc = DOC.read_text("utf-8")
    block = doc.split(f"The mapping, `examples/{name}`:\n\n```toml\n", 1)[1].split("\n```", 1)[0]
    assert block + "\n" == (EXAMPLES / name).read_text("utf-8")


def test_docs_excerpts_are_those_of_the_shipped_mappings():
    excerpts = doc_blocks("excerpt")
    assert len(excerpts) >= 7
    for path, text in excerpts:
        assert text in (ROOT / path).read_text("utf-8"), f"docs/import.md shows an excerpt of {path} that is not in it:\n{text}"


def test_docs_examples_are_run_by_the_tests():
    tests = "".join(p.read_text("utf-8") for p in (ROOT / "tests").glob("test_importing*.py"))
    names = [name for name, _ in doc_blocks("example")]
    assert len(names) >= 3
    for name in names:
        assert f'doc_example("{name}")' in tests, f"no test runs the example {name} of docs/import.md"


# ---------------------------------------------------------------------------
# the sales pipeline: opportunities, a team sheet agent → manager → office, a price list


@pytest.fixture
def sales(example) -> Path:
    return example.with_name("sales_mapping.toml")


def test_sales_example_import_gives_the_figures_computed_by_hand(capsys, db_url, sales):
    code, out, err = run(capsys, "--db", db_url, "--today", "2026-11-29", "import", "--mapping", sales)
    assert code == 1, err  # P-003's product is spelt "GTXPro" in the export, "GTX Pro" in the price list
    assert "pipeline        15 =       14 +        1" in out and "(1 partly imported)" in out
    assert "document_lines        10 =        9 +        1" in out
    assert "not found   document_lines.amount_cents ← product → prices: 'GTXPro' (1 row)" in out
    # Noah Perrin left: not in the team sheet; his deal stays, at the firm, and he is listed
    assert "not found   deals.unit_id ← sales_agent → teams: 'Noah Perrin' (1 row)" in out
    got = pd.read_csv(sales.with_name("sales_mapping.rejects.csv"), encoding="utf-8-sig", dtype=str)
    assert got[["row", "table", "column", "value"]].values.tolist() == [["4", "document_lines", "amount_cents", "GTXPro"]]

    firm = open_firm(db_url, today="2026-11-29")
    figs = firm.as_viewer("director").figures(unit="FIRM")
    ind = figs.indicators
    # Signed in 2026 (close value, one-off): P-001 4 500 (20/02), P-004 5 100 (10/04), P-009
    # 3 400 (30/06), P-005 25 000 (01/07, confidential: the director is in its group),
    # P-011 600 (01/09, Noah's). P-014 was signed on 15/12/2025.
    assert ind["signed_offers"] == 5 and ind["converted_prospects"] == 5
    assert ind["signed_budget"] == {"recurring": 0, "one_off": 3_860_000, "total": 3_860_000}
    # In progress: the list price of the product: P-002 MG Special 55, P-008 GTX Pro 4 821,
    # P-015 GTK 500 26 768 (since 2025), P-003 (its only line rejected: 0).
    assert ind["offers_in_progress"] == 4
    assert ind["potential_fees"] == {"recurring": 0, "one_off": 3_164_400, "total": 3_164_400}
    # Lost: P-006 (15/03) and P-013 (10/01, engaged in 2025): refused and abandoned.
    assert (ind["refused_offers"], ind["abandoned_prospects"]) == (2, 2)
    # Prospecting, created on the export date (29/11/2026): P-007, P-010, P-012.
    assert ind["prospects_without_document"] == 3
    assert ind["win_rate"] == {"by_count": pytest.approx(5 / 7), "by_value": 1.0}
    # Engaged → closed, days: 39, 38, 57, 20, 31.
    assert ind["median_days_to_sign"] == 38.0
    won = figs.monthly.set_index("month")
    assert won.loc[won["won_prospects"] > 0, "total"].to_dict() == {"2026-02": 450_000, "2026-04": 510_000, "2026-06": 340_000, "2026-07": 2_500_000, "2026-09": 60_000}
    # N-1 at 29/11/2025: P-014 (4 800, engaged 01/10/2025) and P-013 (engaged 20/11/2025, lost: no amount).
    prev = figs.previous.indicators
    assert prev["offers_in_progress"] == 2 and prev["potential_fees"]["total"] == 480_000
    assert prev["signed_offers"] == 0 and prev["prospects_without_document"] == 0
    # a manager sees the team named after them, through the group of their office
    ada = firm.as_viewer("ada.moreau").figures(unit="A-central.team-ada-moreau").indicators
    assert (ada["signed_offers"], ada["signed_budget"]["total"], ada["offers_in_progress"], ada["potential_fees"]["total"]) == (2, 960_000, 2, 5_500)
    assert ada["prospects_without_document"] == 1  # P-012, its account not given


def test_sales_example_directory_groups_and_dates(sales):
    result = im.prepare(sales, today=dt.date(2026, 11, 29))
    assert_reconciled(result)
    f = result.validated.frames
    people = f["collaborators"].set_index("id")
    assert people.index.tolist() == [
        "lea.martin", "tom.garnier", "ines.robert", "yann.colin", "emma.faure",  # agents (team sheet rows)
        "ada.moreau", "hugo.lambert", "nina.berger",  # managers (distinct manager names)
        "director",  # a literal row
        "noah.perrin",  # named by the export only: made from his name
    ]
    assert people.loc["ada.moreau", ["function", "unit_id", "can_validate_offers"]].tolist() == ["manager", "A-central.team-ada-moreau", True]
    assert people.loc["lea.martin", "email"] == "lea.martin@example.com" and people.loc["yann.colin", "email"] is None
    assert people.loc["noah.perrin", ["function", "unit_id"]].tolist() == ["staff", "FIRM"]
    assert f["groups"]["id"].tolist() == ["G-Central", "G-East", "G-ALL", "G-CONF"]
    assert f["group_units"].values.tolist() == [["G-Central", "R-central"], ["G-East", "R-east"], ["G-ALL", "FIRM"], ["G-CONF", "FIRM"]]
    assert f["group_members"].values.tolist() == [["G-Central", "ada.moreau"], ["G-Central", "hugo.lambert"], ["G-East", "nina.berger"], ["G-ALL", "director"], ["G-CONF", "director"]]
    deals = f["deals"].set_index("id")
    assert deals["group_id"].dropna().to_dict() == {"P-005": "G-CONF", "P-015": "G-CONF"}
    assert deals.loc["P-007", "created_on"] == pd.Timestamp("2026-11-29")  # the export date
    assert deals.loc["P-012", "prospect_name"] == "(account not given)"
    assert deals.loc["P-011", ["unit_id", "manager_id", "client_manager_id"]].tolist() == ["FIRM", None, "noah.perrin"]
    assert deals.loc["P-008", ["unit_id", "manager_id"]].tolist() == ["A-east.team-nina-berger", "nina.berger"]
    lines = f["document_lines"].set_index("document_id")
    assert lines.loc["P-008", "amount_cents"] == 482_100 and lines.loc["P-004", "amount_cents"] == 510_000  # GTXPro won: its close value
    assert "P-010" not in lines.index and "P-006" not in lines.index  # prospecting (no document), lost at 0
    later = im.prepare(sales, export_date="2026-12-31")
    assert later.validated.frames["deals"].set_index("id").loc["P-007", "created_on"] == pd.Timestamp("2026-12-31")


def test_import_warns_by_name_about_validators_above_their_cap_and_look_alike_logins(capsys, sqlite_url, example):
    """docs/access.md (issue 13): the same warnings as `load`, from validate_tables' notes."""
    path = example.with_name("crm_export_2025.xlsx")
    book = openpyxl.load_workbook(path)
    team = book["Équipe"]
    team.append(["E08", "RÉGION", "Rémi", "rregion", "Manager", "Île-de-France", None, None, "Martin & Associés SAS", "Oui", "Oui"])
    team.append(["E09", "DUPONT", "Jeanne", "JDupont", "Associée", "Île-de-France", "Paris", "Audit", "Martin & Associés SAS", "Non", "Oui"])
    book.save(path)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", example)
    assert code == 1, err  # the example's two broken rows
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    assert "note: collaborator E08 'rregion' (Rémi RÉGION): manager capped at agency level but home unit " in "\n".join(notes)
    assert any("is a region, above it: no perimeter" in n and "E08" in n for n in notes)
    assert any("E02 'jdupont' and E09 'JDupont': logins differ only by surrounding spaces or case" in n for n in notes)


# ---------------------------------------------------------------------------
# a Dynamics-style export: no ids, US dates, the outcome over two columns, dollars (issue 21)


@pytest.fixture
def dynamics(example) -> Path:
    return example.with_name("dynamics_mapping.toml")


def test_the_dynamics_generator_reproduces_the_committed_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_dynamics_export", EXAMPLES / "make_dynamics_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.main(tmp_path):
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), path.name
    text = (EXAMPLES / "dynamics_opportunities.csv").read_text("utf-8-sig")
    header = text.splitlines()[0]
    assert "Topic" in header and not any(word in header.lower() for word in ("id", "guid", "number"))  # no id column
    assert "3/2/2026 4:15 PM" in text and '"$14,500.00"' in text and "Advisory â€“ Transactions" in text and "PayrollÂ\u00a0Services" in text


def test_dynamics_example_import_gives_the_directors_figures_computed_by_hand(capsys, db_url, dynamics):
    code, out, err = run(capsys, "--db", db_url, "--today", "2026-11-29", "import", "--mapping", dynamics)
    assert code == 1, err  # "Fabrikam payroll" was typed 31/12/2026: no date in M/D/YYYY
    assert "opportunities        18 =       17 +        1" in out
    assert "bad date    deals.created_on ← Created On: '31/12/2026' (1 row)" in out
    # Robert Fox left: his three opportunities stay, he is made from his name with a login in the directory's convention
    assert "not found   deals.manager_id ← Owner → users: 'Robert Fox' (3 rows)" in out
    assert "note: logins of the 1 person made from names follow the directory's convention first.last@contoso.com" in out
    assert "no perimeter" not in out  # the side sheet gives every validator theirs

    firm = open_firm(db_url, today="2026-11-29")
    figs = firm.as_viewer("olivia.grant@contoso.com").figures(unit="contoso.advisory")  # the managing director
    ind = figs.indicators
    # In progress at 29/11/2026 (Open at Propose or Close; the estimated revenue): Tailspin payroll
    # outsourcing 6,400.00 (recurring: "PayrollÂ Services" is payroll), Northwind tax compliance 7,200.00
    # (recurring), Litware M&A support 45,000.00 (one-off, "Advisory â€“ Transactions"), Fabrikam
    # transaction advisory 18,000.00 (one-off, proposed in 2025, still open).
    assert ind["offers_in_progress"] == 4
    assert ind["potential_fees"] == {"recurring": 1_360_000, "one_off": 6_300_000, "total": 7_660_000}
    # Won in 2026 (the actual revenue): Litware payroll 01/20 9,600 (Robert Fox's), Northwind annual audit
    # 03/02 14,500, Fabrikam tax compliance 04/15 8,250, Wide World payroll 05/28 3,150, Blue Yonder
    # transaction advisory 08/25 19,500 (one-off; its account is not in the accounts view), Alpine Ski
    # House tax 09/10 5,500 (closed at 11:05 AM: the time is ignored).
    assert ind["signed_offers"] == 6 and ind["converted_prospects"] == 6
    assert ind["signed_budget"] == {"recurring": 4_100_000, "one_off": 1_950_000, "total": 6_050_000}
    # Lost after a proposal: refused and abandoned — Wide World due diligence (05/20, 22,000) and Fabrikam
    # due diligence (no close date: modified 07/08, 12,000).
    assert ind["refused_offers"] == 2
    # Abandoned in 2026: those two, and lost before any proposal: Coho Winery tax review (no close
    # date: 02/20) and Tailspin café franchise review (04/04).
    assert ind["abandoned_prospects"] == 4
    # Open without a proposal (Qualify, Develop): Alpine Ski House advisory, Coho Winery audit.
    assert ind["prospects_without_document"] == 2
    assert ind["win_rate"] == {"by_count": 0.75, "by_value": pytest.approx(6_050_000 / (6_050_000 + 2_200_000 + 1_200_000))}
    # Days from creation (no sent date in the export) to close: 78, 49, 71, 57, 55, 87 → median (57 + 71) / 2.
    assert ind["median_days_to_sign"] == 64.0
    monthly = figs.monthly.set_index("month")
    won = monthly.loc[monthly["won_prospects"] > 0]
    assert won["total"].to_dict() == {"2026-01": 960_000, "2026-03": 1_450_000, "2026-04": 825_000, "2026-05": 315_000,
                                      "2026-08": 1_950_000, "2026-09": 550_000}
    # N-1 at 29/11/2025: Northwind annual audit 2025 signed 03/15/2025 (14,000; 64 days); Litware payroll
    # (created 11/3/2025, 9,600) and Fabrikam transaction advisory (11/5/2025, 18,000) in progress.
    prev = figs.previous.indicators
    assert prev["signed_budget"] == {"recurring": 1_400_000, "one_off": 0, "total": 1_400_000}
    assert prev["offers_in_progress"] == 2 and prev["potential_fees"] == {"recurring": 960_000, "one_off": 1_800_000, "total": 2_760_000}
    assert (prev["refused_offers"], prev["abandoned_prospects"], prev["prospects_without_document"], prev["median_days_to_sign"]) == (0, 0, 0, 64.0)

    # Henry Walsh, partner, East: New York (Northwind), Boston (Fabrikam), NY Tax (Alpine Ski House), and
    # the Tailspin payroll outsourcing — Tailspin has no territory, its owner Lucas Reed none either: his
    # manager Liam Chen's, New York.
    east = firm.as_viewer("henry.walsh@contoso.com").figures(unit="east").indicators
    assert (east["signed_offers"], east["signed_budget"]["total"]) == (3, 2_825_000)
    assert (east["offers_in_progress"], east["potential_fees"]["total"]) == (3, 3_160_000)
    assert (east["refused_offers"], east["abandoned_prospects"], east["prospects_without_document"]) == (1, 1, 1)
    # the side sheet narrows Liam Chen (senior manager, New York) to NY Audit; Lucas Reed sees his own deal
    assert firm.as_viewer("liam.chen@contoso.com").viewer.perimeter == {"ny.audit"}
    assert firm.as_viewer("lucas.reed@contoso.com").figures().indicators["offers_in_progress"] == 1


def test_dynamics_example_ids_units_people_and_products(dynamics):
    result = im.prepare(dynamics)
    assert_reconciled(result)
    f = result.validated.frames
    units = f["org_units"].set_index("id")
    assert units["kind"].to_dict() == {"contoso.advisory": "firm", "east": "region", "west": "region", "new.york": "agency",
                                       "boston": "agency", "san.francisco": "agency", "ny.audit": "team", "ny.tax": "team"}
    deals = f["deals"].set_index("name")
    assert deals["id"].str.fullmatch(r"[0-9a-f]{12}").all() and deals["id"].is_unique
    assert deals.loc["Tailspin payroll outsourcing", "unit_id"] == "new.york"  # account, owner: none; the owner's manager's
    assert deals.loc["Litware payroll", ["unit_id", "client_manager_id", "manager_id"]].tolist() == ["contoso.advisory", "robert.fox", None]
    assert deals.loc["Blue Yonder transaction advisory", "unit_id"] == "san.francisco"  # no account row: the owner's
    assert deals.loc["Northwind tax compliance", "client_manager_id"] == "emma.brooks@contoso.com"  # " Emma  Brooks "
    assert deals.loc["Alpine Ski House advisory", "manager_id"] == "henry.walsh@contoso.com"  # "liam chen"'s manager
    assert deals.loc["Coho Winery tax review", ["status", "abandoned_on", "abandon_reason"]].tolist() == ["abandoned", pd.Timestamp("2026-02-20"), "Canceled"]
    people = f["collaborators"].set_index("id")
    assert people.loc["lucas.reed@contoso.com", "unit_id"] == "new.york"  # no territory: his manager's
    assert people.loc["robert.fox", ["login", "function", "can_validate_offers", "email"]].tolist() == ["robert.fox@contoso.com", "staff", False, None]
    assert not people.loc["ethan.ward@contoso.com", "active"]
    lines = f["document_lines"]
    assert sorted(set(lines["mission"])) == ["Advisory – Transactions", "Annual Audit", "Due Diligence", "Payroll Services", "Tax Compliance"]
    # the same export again, reordered: the same ids (a hash of topic, account and creation date)
    again = im.prepare(dynamics)
    assert again.validated.frames["deals"]["id"].tolist() == f["deals"]["id"].tolist()


def test_without_the_side_sheet_the_dynamics_management_is_told_it_sees_only_its_own_deals(capsys, sqlite_url, dynamics):
    """The issue's story: no groups mapped, the director saw his own deals only and `--unit <firm>` was refused without why."""
    text = dynamics.read_text("utf-8")
    text = text.split("[tables.groups]")[0] + "[tables.deals]" + text.split("[tables.deals]", 1)[1]
    dynamics.write_text(text.replace('[sources.perimeters]\nfile = "dynamics_perimeters.csv"  # kept by the firm: the export has no groups\n', ""), "utf-8")
    code, out, err = run(capsys, "--db", sqlite_url, "--today", "2026-11-29", "import", "--mapping", dynamics, "--check")
    assert code == 1, err
    named = [line for line in out.splitlines() if "validates offers but is in no group: no perimeter, only their own deals" in line]
    assert [n.split("'")[1] for n in named] == ["ava.patel@contoso.com", "henry.walsh@contoso.com", "liam.chen@contoso.com",
                                                "maya.ortiz@contoso.com", "noah.kim@contoso.com", "olivia.grant@contoso.com"]
    assert run(capsys, "--db", sqlite_url, "--today", "2026-11-29", "import", "--mapping", dynamics)[0] == 1
    code, out, err = run(capsys, "--db", sqlite_url, "--today", "2026-11-29", "indicators", "--user", "olivia.grant@contoso.com",
                         "--unit", "contoso.advisory")
    assert code == 3 and err.strip() == ("prospects: Accès refusé : l'unité « contoso.advisory » est hors de votre périmètre, "
                                         "qui est vide : vous n'êtes membre d'aucun groupe")
