"""Reading sources (prospects.importing.sources): CSV and Excel, encodings, delimiters,
line numbers, rows rejected while reading, files that cannot be sources."""

from __future__ import annotations

import os

import openpyxl
import pandas as pd
import pytest

from prospects import db
from prospects import importing as im

from .importing_cases import (
    HEADER,
    MAPPING,
    ROWS,
    column,
    rejects,
    run,
    setup,
)


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


def test_missing_file_missing_sheet_and_bad_workbook_are_unusable(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"', 'file = "absent.csv"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "absent.csv: no such file (mapping key sources.opps.file)" in err
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.save(tmp_path / "x.xlsx")
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "x.xlsx"\nsheet = "Affaires"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "x.xlsx: no sheet 'Affaires' (sheets: Feuil1) (mapping key sources.opps.sheet)" in err
    (tmp_path / "y.xlsx").write_text("not a workbook", "utf-8")
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "y.xlsx"'))
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "y.xlsx: not an Excel workbook" in err
    code, _, err = run(capsys, "--db", sqlite_url, "import", "--mapping", tmp_path / "nope.toml")
    assert code == 2 and "nope.toml: no such mapping file" in err


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


def test_a_source_must_be_a_regular_file_within_the_size_limit(tmp_path):
    path = setup(tmp_path)
    mapping = im.read_mapping(path)
    spec = mapping.sources["opps"]
    size = (tmp_path / "opps.csv").stat().st_size
    assert im.read_source(spec, tmp_path / "opps.csv", max_bytes=size)[0].n == 5
    with pytest.raises(im.MappingError, match=r"opps.csv: 0.0 MB, more than the import limit of 0.0 MB \(setting import_max_mb\)"):
        im.read_source(spec, tmp_path / "opps.csv", max_bytes=size - 1)
    with pytest.raises(im.MappingError, match=r"/dev/zero: not a file but a device or a pipe \(mapping key sources.opps.file\)"):
        im.read_source(spec, "/dev/zero")
    with pytest.raises(im.MappingError, match="not a file but a folder"):
        im.read_source(spec, tmp_path)
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(im.MappingError, match="not a file but a device or a pipe"):
        im.read_source(spec, tmp_path / "pipe.csv")


def test_an_excel_source_counts_its_unpacked_size(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(HEADER.split(";"))
    for row in ROWS * 200:
        wb.active.append(row.split(";"))
    wb.save(tmp_path / "export.xlsx")
    packed = (tmp_path / "export.xlsx").stat().st_size
    path = setup(tmp_path, mapping=MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "export.xlsx"'))
    spec = im.read_mapping(path).sources["opps"]
    with pytest.raises(im.MappingError, match=r"export.xlsx: the workbook unpacks to .* MB, more than the import limit"):
        im.read_source(spec, max_bytes=packed * 2)
    assert im.read_source(spec, max_bytes=packed * 20)[0].n == 1000
