"""The small export most import tests start from, and helpers to run an import on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from prospects import importing as im
from prospects.cli import main

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


DOC = ROOT / "docs" / "import.md"


def doc_blocks(marker: str) -> list[tuple[str, str]]:
    """The ```toml blocks of docs/import.md right after ``<!-- marker: NAME -->``: (NAME, text)."""
    out = []
    for part in DOC.read_text("utf-8").split(f"<!-- {marker}: ")[1:]:
        name, rest = part.split(" -->\n", 1)
        assert rest.startswith("```toml\n"), f"<!-- {marker}: {name} --> must be followed by a ```toml block"
        out.append((name, rest.removeprefix("```toml\n").split("\n```", 1)[0] + "\n"))
    return out


def doc_example(name: str) -> str:
    """The mapping text docs/import.md shows as ``<!-- example: NAME -->``: tests run it as written."""
    found = [text for n, text in doc_blocks("example") if n == name]
    assert len(found) == 1, f"docs/import.md has {len(found)} examples named {name}"
    return found[0]
