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
        # a UTF-16 file is named as such (issue 20, point 17: it was advised cp1252)
        ("utf-16", "utf-8", 'opps.csv: the file is UTF-16 (it starts with a UTF-16 byte-order mark), not utf-8 (mapping key sources.opps.encoding); set encoding = "utf-16"'),
        ("utf-16", "cp1252", 'opps.csv: the file is UTF-16 (it starts with a UTF-16 byte-order mark), not cp1252 (mapping key sources.opps.encoding); set encoding = "utf-16"'),
        ("utf-16-le", "utf-8", 'opps.csv: the file looks like UTF-16 little-endian (every other byte is NUL), not utf-8 (mapping key sources.opps.encoding); set encoding = "utf-16-le"'),
        ("utf-16-be", "latin-1", 'opps.csv: the file looks like UTF-16 big-endian (every other byte is NUL), not latin-1 (mapping key sources.opps.encoding); set encoding = "utf-16-be"'),
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


# ---------------------------------------------------------------------------
# spreadsheets read cell by cell, within limits (issue 20, point 10)

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XLSX_MAPPING = MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "export.xlsx"')


def raw_workbook(path, sheet_data: str, *, dimension: str | None = None, shared: list[str] | None = None,
                 prologue: str = "") -> None:
    """A minimal .xlsx written by hand: one sheet 'Affaires' whose <sheetData> is ``sheet_data``
    (and a <dimension>, shared strings, a DOCTYPE prologue as given)."""
    import zipfile

    types = "".join([
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        if shared is not None else "",
        "</Types>",
    ])
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="{_DOC}"><sheets>'
            '<sheet name="Affaires" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = "".join([
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">',
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>' if shared is not None else "",
        "</Relationships>",
    ])
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<worksheet {_NS}>{dim}<sheetData>{sheet_data}</sheetData></worksheet>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", book_rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>{items}</sst>')


def xml_row(number: int, values, first_column: int = 1) -> str:
    """One <row> of inline strings from ``first_column`` on."""
    from openpyxl.utils import get_column_letter

    cells = "".join(
        f'<c r="{get_column_letter(first_column + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def export_rows() -> str:
    """The header and the five rows of the sales example, as sheet rows 1 to 6."""
    return "".join(xml_row(i, line.split(";")) for i, line in enumerate([HEADER, *ROWS], start=1))


def _timed_read(tmp_path, **workbook):
    """read_source on a hand-made workbook: (source, rejected rows, seconds, peak traced MB)."""
    import time
    import tracemalloc

    raw_workbook(tmp_path / "export.xlsx", **workbook)
    spec = im.read_mapping(setup(tmp_path, mapping=XLSX_MAPPING)).sources["opps"]
    tracemalloc.start()
    start = time.monotonic()
    try:
        source, bad = im.read_source(spec)
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return source, bad, seconds, peak


@pytest.mark.parametrize(("far", "rows", "rejected"), [
    ("XFD1048576", 5, [[1_048_576, "the row has cells beyond the 11 columns of the header"]]),
    ("XFD3", 4, [[3, "the row has cells beyond the 11 columns of the header"]]),
    ("A1048576", 6, []),
])
def test_a_cell_far_away_costs_only_itself(tmp_path, far, rows, rejected):
    """The sheet says it spans A1:XFD1048576 and holds one cell far away: only the cells
    present are read (it took minutes and 455 MB when the sheet was read as a rectangle)."""
    from openpyxl.utils.cell import coordinate_from_string

    number = coordinate_from_string(far)[1]
    far_cell = f'<c r="{far}" t="inlineStr"><is><t>x</t></is></c>'
    sheet = [xml_row(i, line.split(";")) for i, line in enumerate([HEADER, *ROWS], start=1)]
    if number <= len(sheet):
        sheet[number - 1] = sheet[number - 1].removesuffix("</row>") + far_cell + "</row>"
    else:
        sheet.append(f'<row r="{number}">{far_cell}</row>')
    data = "".join(sheet)
    source, bad, seconds, peak = _timed_read(tmp_path, sheet_data=data, dimension="A1:XFD1048576")
    assert source.n == rows and bad[["row", "reason"]].values.tolist() == rejected
    assert seconds < 10 and peak < 50, (seconds, peak)


XLSX_LIMITS = {
    "column-beyond-excel": (lambda: {"sheet_data": export_rows() + xml_row(7, ["x"], 16_385)},
                            "cell XFE7 lies beyond Excel's last column (XFD)"),
    "row-beyond-excel": (lambda: {"sheet_data": export_rows() + xml_row(1_048_577, ["x"])},
                         "row 1,048,577 lies beyond Excel's last row (1,048,576)"),
    "header-too-wide": (lambda: {"sheet_data": xml_row(1, [f"C{i}" for i in range(5_001)])},
                        "the header has 5,001 columns, more than the 5,000 a source may have"),
    "too-many-cells": (lambda: {"sheet_data": export_rows() + "".join(xml_row(r, ["D", "x"]) for r in range(7, 200))},
                       "more than 400 cells (a source sheet holds at most 400)"),
    "too-many-shared-strings": (lambda: {"sheet_data": export_rows(), "shared": [f"s{i}" for i in range(101)]},
                                "101 shared strings, more than the 100 a workbook may hold"),
    "entity-expansion": (lambda: {"sheet_data": export_rows().replace("Tenue Alpha", "&b;"),
                                  "prologue": '<!DOCTYPE worksheet [<!ENTITY a "' + "a" * 1000 + '">'
                                              '<!ENTITY b "' + "&a;" * 1000 + '">]>'},
                         "not an Excel workbook"),
}


@pytest.mark.parametrize("case", XLSX_LIMITS)
def test_a_workbook_past_the_limits_is_refused_quickly(tmp_path, monkeypatch, case):
    from prospects.importing import sources

    if case == "too-many-cells":
        monkeypatch.setattr(sources, "MAX_CELLS", 400)
    monkeypatch.setattr(sources, "MAX_SHARED_STRINGS", 100)
    workbook, message = XLSX_LIMITS[case]
    with pytest.raises(im.MappingError) as caught:
        _timed_read(tmp_path, **workbook())
    assert message in str(caught.value) and str(caught.value).startswith(f"{tmp_path / 'export.xlsx'}"), caught.value


def _lying_zip(path, member: str, real: bytes, declared: int) -> None:
    """A zip whose ``member`` inflates to ``real`` but declares ``declared`` bytes (both headers)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, real)
    data = bytearray(path.read_bytes())
    name = member.encode()
    local = data.index(b"PK\x03\x04" + data[4:4])  # first local header
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", data, local + 22, declared)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_by_what_it_declares_and_what_it_inflates(tmp_path):
    """200 MB of XML in 200 KB: declared, it is refused before a byte is inflated; hidden
    behind a small declared size, inflating stops at that size."""
    spec = im.read_mapping(setup(tmp_path, mapping=XLSX_MAPPING)).sources["opps"]
    raw_workbook(tmp_path / "export.xlsx", sheet_data=export_rows())
    bomb = b" " * 200_000_000
    honest = tmp_path / "honest.xlsx"
    honest.write_bytes((tmp_path / "export.xlsx").read_bytes())
    import zipfile

    with zipfile.ZipFile(honest, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.xml", bomb)
    with pytest.raises(im.MappingError, match=r"honest.xlsx: the workbook unpacks to 200.0 MB, more than the import limit"):
        im.read_source(spec, honest)
    lying = tmp_path / "lying.xlsx"
    raw_workbook(lying, sheet_data=export_rows())
    _lying_zip(lying, "xl/worksheets/sheet2.xml", bomb, 1_000)
    import tracemalloc

    tracemalloc.start()
    try:
        source, _ = im.read_source(spec, lying)  # the extra member is never inflated
        assert source.n == 5
        assert tracemalloc.get_traced_memory()[1] < 50e6
    finally:
        tracemalloc.stop()


def test_a_zip_directory_past_its_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    from prospects.importing import sources

    monkeypatch.setattr(sources, "MAX_ZIP_DIRECTORY_BYTES", 100)
    spec = im.read_mapping(setup(tmp_path, mapping=XLSX_MAPPING)).sources["opps"]
    raw_workbook(tmp_path / "export.xlsx", sheet_data=export_rows())
    with pytest.raises(im.MappingError, match=r"export.xlsx: its zip directory holds [\d,]+ bytes, more than the 100 a workbook may have"):
        im.read_source(spec)


def test_an_excel_source_must_be_a_regular_file(tmp_path):
    spec = im.read_mapping(setup(tmp_path, mapping=XLSX_MAPPING)).sources["opps"]
    os.mkfifo(tmp_path / "export.xlsx")
    with pytest.raises(im.MappingError, match=r"export.xlsx: not a file but a device or a pipe \(mapping key sources.opps.file\)"):
        im.read_source(spec)


# ---------------------------------------------------------------------------
# encodings told, control characters escaped, widths and templates bounded (issue 20, point 17)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_reads_when_told(tmp_path, encoding):
    mapping = MAPPING.replace('delimiter = ";"', f'delimiter = ";"\nencoding = "{encoding}"')
    result = im.prepare(setup(tmp_path, ROWS, mapping, encoding=encoding))
    assert result.rejected == 0 and column(result, "deals", "name")["D4"] == "Social Delta"


def test_control_characters_in_a_source_are_escaped_in_every_message(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, header=HEADER.replace("Client", "Cli\x00ent\x1b[2J"), rows=[ROWS[0].replace("Gagné", "Ga\x00gné")])
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "\x00" not in err and "\x1b" not in err and err.count("\n") == 1
    assert "'Cli\\x00ent\\x1b[2J'" in err
    setup(tmp_path, rows=[ROWS[0].replace("Gagné", "Ga\x00gné\x1b[31m")])
    for check in ([], ["--check"]):
        code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, *check)
        assert code == 1, err
        assert "\x00" not in out and "\x1b" not in out and "'Ga\\x00gné\\x1b[31m'" in out


def test_a_header_of_200000_columns_is_refused_quickly(tmp_path):
    import time

    header = HEADER + ";" + ";".join(f"X{i}" for i in range(200_000))
    path = setup(tmp_path, header=header, rows=[r + ";" * 200_000 for r in ROWS])
    start = time.monotonic()
    with pytest.raises(im.MappingError, match=r"opps.csv: the header has 200,011 columns, more than the 5,000 a source may have"):
        im.prepare(path)
    assert time.monotonic() - start < 10


def test_a_template_naming_50000_columns_is_refused_when_the_mapping_is_read(tmp_path):
    import time

    template = "{Client}" * 50_000
    path = setup(tmp_path, mapping=MAPPING.replace('name = "Affaire"', f'name = {{ template = "{template}" }}'))
    start = time.monotonic()
    with pytest.raises(im.MappingError, match=r"tables.deals.columns.name.template: names 50,000 columns; a template names at most 100"):
        im.read_mapping(path)
    assert time.monotonic() - start < 10
