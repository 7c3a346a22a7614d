"""Write the messy CRM export of the import example (deterministic, no randomness).

    python examples/make_messy_export.py [OUTPUT_DIR]     (default: this folder)

Two files, made up by the project (no third-party data), shaped like what French CRMs
export, with the usual mess:

* ``crm_affaires_2026.csv``: this year's opportunities, one row per opportunity,
  semicolon-separated, Windows-1252 (cp1252) with CRLF line ends, a title line and a
  blank line above the header, French dates (29/11/2026), amounts written by hand
  ("4 800,00 €" with a no-break space, "6.000,00 EUR", "12 500 €"), statuses in any
  case, names with stray spaces, a quoted field holding a semicolon, an empty line,
  and two broken rows (an unknown status "Gelé", a date "31/02/2026");
* ``crm_export_2025.xlsx``: sheet "Affaires" (last year's opportunities, same columns:
  real Excel dates, dates typed as text, a decision date stored as a bare Excel serial
  number, numeric ids and amounts) and sheet "Équipe" (the people: matricule, names
  in capitals, function in words, region / office / team, legal entity, rights).

``examples/crm_mapping.toml`` maps them; ``tests/test_importing.py`` imports them and
checks the figures computed by hand in its comments. Running this script again gives
byte-identical files (the workbook's timestamps are fixed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
CSV_NAME = "crm_affaires_2026.csv"
XLSX_NAME = "crm_export_2025.xlsx"
FIXED = dt.datetime(2026, 11, 29, 8, 0, 0)
NBSP = "\u00a0"

HEADER = [
    "N° affaire", "Affaire", "Client", "Type client", "Responsable", "Associé", "Manager",
    "Date création", "Statut", "Date envoi", "Date décision", "Honoraires récurrents",
    "Honoraires ponctuels", "Mission", "Type de document", "Modèle", "Motif abandon",
]

# This year's opportunities, as the CRM prints them (text).
ROWS_2026 = [
    ["A-2601", "Tenue comptable Boulangerie Moulin", "Boulangerie Moulin SARL", "Nouveau client", "Jean Dupont",
     "Jean Dupont", "Paul Bernard", "15/01/2026", "Gagné", "20/01/2026", "10/02/2026", f"4{NBSP}800,00{NBSP}€",
     "1 200,00 €", "Tenue comptable", "Proposition commerciale", "PC tenue v3", ""],
    ["A-2602", "Audit légal Transports Garnier", "Transports Garnier SA", "Nouveau client", "Paul Bernard",
     "Jean Dupont", "Paul Bernard", "03/02/2026", "En cours", "10/02/2026", "", "12 500 €",
     "", "Audit légal", "Lettre de mission", "LM audit v2", ""],
    ["A-2603", "Accompagnement social Clinique du Parc", "Clinique du Parc", "Prospect", "Sophie Leroy",
     "Sophie Leroy", "Luc Moreau", "10/03/2026", "Perdu", "15/03/2026", "30/04/2026", "3 600,00 €",
     "", "Social", "Proposition commerciale", "PC social v1", "Prix trop élevé"],
    ["A-2604", "Création de société Atelier Lumière", "Atelier Lumière SAS", "Nouveau client", "Julie Petit",
     "Anne Girard", "Julie Petit", "20/01/2026", "Abandonné", "", "02/04/2026", "",
     "", "", "", "", "Projet reporté"],
    ["A-2605", "Conseil Fromagerie Vauban", "Fromagerie Vauban", "Nouveau client", "  Luc Moreau ",
     "Sophie Leroy", "", "05/05/2026", "À qualifier", "", "", "",
     "", "", "", "", ""],
    ["A-2606", "Mission complémentaire Epsilon", "Epsilon SAS", "Client existant", "Jean Dupont",
     "Jean Dupont", "Paul Bernard", "15/01/2026", "Gagné", "16/01/2026", "01/03/2026", "2 000 €",
     "500 €", "Juridique", "Lettre de mission", "LM juridique v1", ""],
    ["A-2607", "Tenue comptable Garage Martinez", "Garage Martinez", "Nouveau client", "Paul Bernard",
     "Jean Dupont", "Paul Bernard", "01/06/2026", "gagnée", "05/06/2026", "20/07/2026", "6.000,00 EUR",
     f"1{NBSP}234,50 €", "Tenue comptable", "Proposition commerciale", "PC tenue v3", ""],
    ["A-2608", "Audit Coopérative du Rhône", "Coopérative du Rhône", "Nouveau client", "Sophie Leroy",
     "Sophie Leroy", "Luc Moreau", "12/09/2026", "Proposition envoyée", "20/09/2026", "", "9 800 €",
     "2 000 €", "Audit contractuel", "Proposition commerciale", "PC audit v2", ""],
    [],  # an empty line in the middle of the export
    ["A-2609", "Juridique Imprimerie du Nord", "Imprimerie du Nord", "nouveau client", "Jean Dupont",
     "Jean  Dupont", "", "01/10/2026", "GAGNÉ", "02/10/2026", "29/11/2026", "1 500 €",
     "", "Juridique", "Lettre de mission", "", ""],
    ["A-2610", "Social Pharmacie Centrale", "Pharmacie Centrale", "Nouveau client", "Julie Petit",
     "Anne Girard", "Julie Petit", "03/03/2026", "Annulé", "10/03/2026", "15/03/2026", "2 400 €",
     "", "Social", "Proposition commerciale", "PC social v1", ""],
    ["A-2611", "Tenue comptable Cave Saint-Jean", "Cave Saint-Jean", "Nouveau client", "Paul Bernard",
     "Jean Dupont", "Paul Bernard", "10/10/2026", "Gelé", "12/10/2026", "", "3 000 €",
     "", "Tenue comptable", "Proposition commerciale", "PC tenue v3", ""],
    ["A-2612", "Audit Laboratoire Bio", "Laboratoire Bio", "Nouveau client", "Sophie Leroy",
     "Sophie Leroy", "Luc Moreau", "31/02/2026", "En cours", "05/03/2026", "", "1 000 €",
     "", "Audit contractuel", "Proposition commerciale", "PC audit v2", ""],
    ["A-2613", "Tenue SCI Les Tilleuls", "SCI Les Tilleuls", "Nouveau client", "Jean Dupont",
     "Jean Dupont", "Paul Bernard", "10/11/2026", "En cours", "", "", "1 800,50 €",
     "300 €", "Tenue comptable", "", "", ""],
    ["A-2614", "Agencement Menuiserie Dupont; Fils", "Menuiserie Dupont; Fils", "Nouveau client", "Paul Bernard",
     "Jean Dupont", "Paul Bernard", "05/02/2026", "Refusée", "10/02/2026", "15/06/2026", "7 200 €",
     "", "Tenue comptable", "Proposition commerciale", "PC tenue v3", ""],
]

D = dt.datetime


def _serial(day: dt.date) -> int:
    """The Excel serial number of a date (what a cell shows without a date format)."""
    return (day - dt.date(1899, 12, 30)).days


# Last year's opportunities, as Excel holds them (typed cells).
ROWS_2025 = [
    [2501, "Tenue comptable Cabinet Médical Sud", "Cabinet Médical Sud", "Nouveau client", "Jean Dupont",
     "Jean Dupont", "Paul Bernard", D(2025, 3, 1), "Gagné", D(2025, 3, 5), _serial(dt.date(2025, 4, 10)),
     3000, 450.5, "Tenue comptable", "Proposition commerciale", "PC tenue v3", None],
    [2502, "Audit Transports Rapides", "Transports Rapides SAS", "Nouveau client", "Sophie Leroy",
     "Sophie Leroy", "Luc Moreau", "15/09/2025", "Proposition envoyée", "20/09/2025", None,
     "8 400,00 €", None, "Audit contractuel", "Proposition commerciale", "PC audit v2", None],
    [2503, "Tenue comptable Boucherie Lenoir", "Boucherie Lenoir", "Nouveau client", "Paul Bernard",
     "Jean Dupont", "Paul Bernard", D(2025, 11, 20), "Gagné", D(2025, 11, 25), D(2026, 1, 15),
     5200, 0, "Tenue comptable", "Lettre de mission", "LM tenue v3", None],
    [2504, "Conseil Hôtel du Lac", "Hôtel du Lac", "Nouveau client", "Julie Petit",
     "Anne Girard", "Julie Petit", D(2025, 6, 1), "Perdu", D(2025, 6, 10), D(2025, 8, 30),
     4000, None, "Conseil", "Proposition commerciale", "PC conseil v1", "Concurrent retenu"],
    [None] * 17,  # an empty row
    [2505, "Social Garage Central", "Garage Central", "Nouveau client", "Luc Moreau",
     "Sophie Leroy", "Luc Moreau", D(2025, 10, 1), "À qualifier", None, None,
     None, None, None, None, None, None],
]

TEAM_HEADER = ["Matricule", "Nom", "Prénom", "Identifiant", "Fonction", "Région", "Bureau", "Pôle",
               "Entité", "Valideur", "Actif"]
IDF, ARA = "Île-de-France", "Auvergne-Rhône-Alpes"
SAS, SARL = "Martin & Associés SAS", "Martin Audit Lyon SARL"
TEAM = [
    ["E01", "MARTIN", "Claire", "cmartin", "Directrice", IDF, "Paris", None, SAS, "Oui", "Oui"],
    ["E02", "DUPONT", "Jean", "jdupont", "Associé", IDF, "Paris", "Audit", SAS, "Oui", "Oui"],
    ["E03", "LEROY", "Sophie", "sleroy", "associée", ARA, "Lyon", "Social", SARL, "OUI", "Oui"],
    ["E04", "BERNARD", "Paul", "pbernard", "Manager", IDF, "Paris", "Expertise", SAS, "Oui", "Oui"],
    ["E05", "PETIT", "Julie", "jpetit", "Manager", IDF, "Versailles", None, SAS, "Non", "Oui"],
    ["E06", "MOREAU", "Luc", "lmoreau", "Collaborateur", ARA, "Lyon", "Social", None, "Non", "Oui"],
    ["E07", "GIRARD", "Anne", "agirard", "Associée", IDF, "Versailles", None, SAS, "Oui", "Non"],
]


def write_csv(path: Path) -> None:
    buffer = io.StringIO()
    buffer.write("Export CRM Exemple – Affaires 2026 – édité le 29/11/2026\r\n\r\n")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in ROWS_2026:
        writer.writerow(row or [""] * len(HEADER))
    path.write_bytes(buffer.getvalue().encode("cp1252"))


def write_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Affaires"
    ws.append(HEADER)
    for row in ROWS_2025:
        ws.append(row)
    for cell in ws["H"][1:] + ws["J"][1:]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "dd/mm/yyyy"
    team = wb.create_sheet("Équipe")
    team.append(TEAM_HEADER)
    for row in TEAM:
        team.append(row)
    wb.properties.creator = "prospects examples/make_messy_export.py"
    wb.properties.created = FIXED
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """The same workbook with fixed timestamps, so that the file is reproducible."""
    out = io.BytesIO()
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), body)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def main(folder: Path = HERE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / CSV_NAME, folder / XLSX_NAME]
    write_csv(paths[0])
    write_xlsx(paths[1])
    return paths


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
