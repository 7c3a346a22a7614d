"""Write the Dynamics-style export of the import example (deterministic, no randomness).

    python examples/make_dynamics_export.py [OUTPUT_DIR]     (default: this folder)

Made up by the project (no third-party data) in the shape of what a Dynamics 365 user
exports from the Opportunities, Users, Accounts and Territories views — with the mess of
a real one:

* ``dynamics_opportunities.csv``: UTF-8 with a BOM, one row per opportunity and **no id
  column**; US dates ``M/D/YYYY``, some with a time (``3/2/2026 4:15 PM``); the outcome
  over two columns — ``Status`` (Open, Won, Lost) and ``Sales Stage`` (Qualify, Develop,
  Propose, Close) — with the loss reason in ``Status Reason``; amounts in US dollars
  (``"$14,500.00"``); owners by full name, stray spaces and case included; three
  opportunities owned by Robert Fox, who left and is missing from the directory; lost
  opportunities without a close date (only ``Modified On``); product names garbled by a
  round trip through Windows-1252 (``Advisory â€“ Transactions``, ``PayrollÂ Services``);
  accounts without a territory, one account missing from the accounts view; one row
  typed with a European date (``31/12/2026``), which is no date in ``M/D/YYYY``;
* ``dynamics_users.csv``: the directory, by e-mail, with a manager chain (``Manager``: a
  full name), titles in words, a territory (one user has none: their manager's applies)
  and a status (one user disabled);
* ``dynamics_accounts.csv``: each account's territory (opportunities are placed through
  their account);
* ``dynamics_territories.csv``: the territory tree — a name and its parent's name, no
  level;
* ``dynamics_perimeters.csv``: the side sheet the firm keeps — which territory each of its
  validators answers for (the export holds no groups).

``examples/dynamics_mapping.toml`` maps them; ``tests/test_importing.py`` imports them and
checks the director's figures, computed by hand in its comments. Running this script again
gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NBSP = "\u00a0"


def garbled(text: str) -> str:
    """What a UTF-8 text becomes when read as Windows-1252 and written back as UTF-8."""
    return text.encode("utf-8").decode("cp1252", errors="replace")


OPPORTUNITIES_HEADER = [
    "Topic", "Potential Customer", "Owner", "Status", "Sales Stage", "Status Reason", "Product",
    "Est. Revenue", "Actual Revenue", "Created On", "Est. Close Date", "Actual Close Date", "Modified On", "Currency",
]
ADVISORY = "Advisory – Transactions"
PAYROLL = f"Payroll{NBSP}Services"
OPPORTUNITIES = [
    ["Northwind annual audit 2026", "Northwind Traders", "Emma Brooks", "Won", "Close", "Won", "Annual Audit",
     "$15,000.00", "$14,500.00", "1/12/2026", "3/31/2026", "3/2/2026", "3/2/2026 4:15 PM"],
    ["Fabrikam tax compliance", "Fabrikam Inc", "Ava Patel", "Won", "Close", "Won", "Tax Compliance",
     "$8,000.00", "$8,250.00", "2/3/2026 9:30 AM", "4/30/2026", "4/15/2026", "4/15/2026"],
    ["Tailspin payroll outsourcing", "Tailspin Toys", "Lucas Reed", "Open", "Propose", "In Progress", garbled(PAYROLL),
     "$6,400.00", "", "9/1/2026", "12/15/2026", "", "10/2/2026"],
    ["Wide World due diligence", "Wide World Importers", "Noah Kim", "Lost", "Close", "Out-Sold", "Due Diligence",
     "$22,000.00", "", "2/10/2026", "5/1/2026", "5/20/2026", "5/20/2026"],
    ["Alpine Ski House advisory", "Alpine Ski House", "liam chen", "Open", "Qualify", "In Progress", ADVISORY,
     "$30,000.00", "", "10/20/2026", "2/28/2027", "", "11/2/2026"],
    ["Coho Winery tax review", "Coho Winery", "Maya Ortiz", "Lost", "Qualify", "Canceled", "Tax Compliance",
     "$5,000.00", "", "1/5/2026", "3/1/2026", "", "2/20/2026"],
    ["Litware payroll", "Litware Inc", "Robert Fox", "Won", "Propose", "Won", PAYROLL,
     "$9,000.00", "$9,600.00", "11/3/2025", "1/15/2026", "1/20/2026", "1/20/2026"],
    ["Litware M&A support", "Litware Inc", "Robert Fox", "Open", "Close", "In Progress", garbled(ADVISORY),
     "$45,000.00", "", "6/1/2026", "12/31/2026", "", "11/20/2026"],
    ["Northwind tax compliance", "Northwind Traders", " Emma  Brooks ", "Open", "Propose", "In Progress", "Tax Compliance",
     "$7,200.00", "", "10/5/2026 2:45 PM", "1/31/2027", "", "10/30/2026"],
    ["Fabrikam due diligence", "Fabrikam Inc", "Ethan Ward", "Lost", "Propose", "No Response", "Due Diligence",
     "$12,000.00", "", "3/3/2026", "6/30/2026", "", "7/8/2026"],
    ["Wide World payroll", "Wide World Importers", "Sofia Diaz", "Won", "Close", "Won", garbled(PAYROLL),
     "$3,000.00", "$3,150.00", "4/1/2026", "6/1/2026", "5/28/2026", "5/28/2026"],
    ["Tailspin café franchise review", "Tailspin Toys", "Robert Fox", "Lost", "Develop", "Canceled", "Due Diligence",
     "$4,000.00", "", "2/2/2026", "", "", "4/4/2026"],
    ["Northwind annual audit 2025", "Northwind Traders", "Emma Brooks", "Won", "Close", "Won", "Annual Audit",
     "$14,000.00", "$14,000.00", "1/10/2025", "3/31/2025", "3/15/2025", "3/15/2025"],
    ["Fabrikam transaction advisory", "Fabrikam Inc", "Ava Patel", "Open", "Propose", "In Progress", ADVISORY,
     "$18,000.00", "", "11/5/2025", "1/31/2026", "", "11/10/2025"],
    ["Alpine Ski House tax", "Alpine Ski House", "Henry Walsh", "Won", "Close", "Won", "Tax Compliance",
     "$5,500.00", "$5,500.00", "6/15/2026", "9/30/2026", "9/10/2026 11:05 AM", "9/10/2026"],
    ["Coho Winery audit", "Coho Winery", "Maya Ortiz", "Open", "Develop", "In Progress", "Annual Audit",
     "$11,000.00", "", "11/10/2026", "3/31/2027", "", "11/10/2026"],
    ["Blue Yonder transaction advisory", "Blue Yonder Airlines", "Noah Kim", "Won", "Close", "Won", ADVISORY,
     "$20,000.00", "$19,500.00", "7/1/2026", "9/1/2026", "8/25/2026", "8/25/2026"],
    ["Fabrikam payroll", "Fabrikam Inc", "Ava Patel", "Open", "Propose", "In Progress", PAYROLL,
     "$2,500.00", "", "31/12/2026", "2/28/2027", "", "11/25/2026"],
]

USERS = [
    ["Full Name", "Primary Email", "Title", "Manager", "Territory", "Status"],
    ["Olivia Grant", "olivia.grant@contoso.com", "Managing Director", "", "Contoso Advisory", "Enabled"],
    ["Henry Walsh", "henry.walsh@contoso.com", "Partner", "Olivia Grant", "East", "Enabled"],
    ["Maya Ortiz", "maya.ortiz@contoso.com", "Partner", "Olivia Grant", "West", "Enabled"],
    ["Liam Chen", "liam.chen@contoso.com", "Senior Manager", "Henry Walsh", "New York", "Enabled"],
    ["Ava Patel", "ava.patel@contoso.com", "Manager", "Henry Walsh", "Boston", "Enabled"],
    ["Noah Kim", "noah.kim@contoso.com", "Manager", "Maya Ortiz", "San Francisco", "Enabled"],
    ["Emma Brooks", "emma.brooks@contoso.com", "Consultant", "Liam Chen", "NY Audit", "Enabled"],
    ["Lucas Reed", "lucas.reed@contoso.com", "Consultant", "Liam Chen", "", "Enabled"],
    ["Sofia Diaz", "sofia.diaz@contoso.com", "Consultant", "Noah Kim", "San Francisco", "Enabled"],
    ["Ethan Ward", "ethan.ward@contoso.com", "Consultant", "Ava Patel", "Boston", "Disabled"],
]

ACCOUNTS = [
    ["Account Name", "Territory", "Industry"],
    ["Northwind Traders", "New York", "Retail"],
    ["Fabrikam Inc", "Boston", "Manufacturing"],
    ["Tailspin Toys", "", "Retail"],
    ["Wide World Importers", "San Francisco", "Logistics"],
    ["Alpine Ski House", "NY Tax", "Leisure"],
    ["Coho Winery", "West", "Food & Beverage"],
    ["Litware Inc", "", "Software"],
]

TERRITORIES = [
    ["Territory Name", "Parent Territory", "Manager"],
    ["Contoso Advisory", "", "Olivia Grant"],
    ["East", "Contoso Advisory", "Henry Walsh"],
    ["West", "Contoso Advisory", "Maya Ortiz"],
    ["New York", "East", "Liam Chen"],
    ["Boston", "East", "Ava Patel"],
    ["San Francisco", "West", "Noah Kim"],
    ["NY Audit", "New York", ""],
    ["NY Tax", "New York", ""],
]

PERIMETERS = [
    ["User", "Territory"],
    ["olivia.grant@contoso.com", "Contoso Advisory"],
    ["henry.walsh@contoso.com", "East"],
    ["maya.ortiz@contoso.com", "West"],
    ["liam.chen@contoso.com", "NY Audit"],
    ["ava.patel@contoso.com", "Boston"],
    ["noah.kim@contoso.com", "San Francisco"],
]


def _csv(rows: list[list[str]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return ("\ufeff" if bom else "").encode("utf-8") + out.getvalue().encode("utf-8")


def main(folder: Path = HERE) -> list[Path]:
    """Write the five files into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "dynamics_opportunities.csv": _csv([OPPORTUNITIES_HEADER, *[[*r, "US Dollar"] for r in OPPORTUNITIES]], bom=True),
        "dynamics_users.csv": _csv(USERS, bom=True),
        "dynamics_accounts.csv": _csv(ACCOUNTS, bom=True),
        "dynamics_territories.csv": _csv(TERRITORIES, bom=True),
        "dynamics_perimeters.csv": _csv(PERIMETERS),
    }
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written)
