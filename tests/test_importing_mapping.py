"""The mapping file (prospects.importing.mapping): every mistake is refused with the key
at fault, before anything is read."""

from __future__ import annotations

import pytest

from prospects import importing as im

from .hostile import make_hostile
from .importing_cases import (
    MAPPING,
    setup,
)


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
        (('delimiter = ";"', 'delimiter = ";"\nencoding = "utf-32"'), "sources.opps.encoding: expected utf-8, utf-8-sig, cp1252, latin-1, utf-16, utf-16-le or utf-16-be"),
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


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # only_if names what exists, with values it can hold
        (('only_if = { status = "abandoned" }', 'only_if = { status = "abandonned" }'), "only_if.status: 'abandonned' is not a value of deals.status (open, abandoned)"),
        (('only_if = { status = "abandoned" }', 'only_if = { "documents.statut" = "signed" }'), "not a column of documents"),
        (('only_if = { status = "abandoned" }', 'only_if = { "offres.status" = "signed" }'), "'offres' is not a table of the contract; a source column is written {Column}"),
        (('only_if = { status = "abandoned" }', 'only_if = { status = [] }'), "an empty list is never true"),
        (('only_if = { status = "abandoned" }', 'only_if = { group_id = "G1" }'), "deals.group_id is not mapped here"),
        (('only_if = { status = "abandoned" }', 'only_if = { "documents.decided_on" = "2026-01-01" }'), "documents.decided_on is itself conditional"),
        (('only_if = { status = ["signed", "refused", "cancelled"] }', 'only_if = { abandoned_on = "2026-01-01" }'), "not a column of documents"),
        # a lines entry accepts only what works (a typo is refused, never ignored)
        (('amount = "Montant"', 'amount = "Montant"\namont = "Montant"'), "tables.document_lines.lines[1].amont: unknown key"),
        (('amount = "Montant"', 'amount = { column = "Montant", only_if = { bill = "recurring" } }'), "lines[1].amount.only_if.bill: not a column of document_lines"),
        (('amount = "Montant"', 'amount = "Montant"\nonly_if = { "deals.kind" = "prospects" }'), "'prospects' is not a value of deals.kind"),
        # the export date
        (('created_on = "Créée le"\nabandoned_on', 'created_on = { column = "Créée le", default = { export_date = true } }\nabandoned_on'), "uses the export date: give --export-date YYYY-MM-DD"),
        (('date = "dd/mm/yyyy"', 'date = "dd/mm/yyyy"\nexport_date = "29/11/2026"'), "defaults.export_date: expected a date YYYY-MM-DD or \"today\""),
        (('created_on = "Créée le"\nabandoned_on', 'created_on = { export_date = "yes" }\nabandoned_on'), "tables.deals.columns.created_on.export_date: expected true (the export date) or a number of days after it"),
        (('prospect_name = "Client"', 'prospect_name = { export_date = true }'), "uses the export date"),
        (('kind = { value = "prospect" }', 'kind = { export_date = true }'), "the export date fits a date column, not deals.kind"),
        # keys that would do nothing are refused
        (('[org]', '[people]\nroles = { associe_id = "partner" }\n\n[org]'), "people.roles.associe_id: not a column naming people"),
        (('file = "opps.csv"\ndelimiter = ";"', 'file = "opps.xlsx"\ndelimiter = ";"'), "sources.opps.delimiter: only for CSV files"),
        (('file = "opps.csv"\ndelimiter = ";"', 'file = "opps.csv"\nsheet = "Export"\nencoding = "cp1252"'), "sources.opps.encoding: only for CSV files"),
        # slugs and distinct rows
        (('created_on = "Créée le"\nabandoned_on', 'created_on = { column = "Créée le", slug = true }\nabandoned_on'), "created_on.slug: deals.created_on is not a text column"),
        (('[tables.deals]\nsource = "opps"', '[tables.deals]\nsource = "opps"\ndistinct = { lookup = "opps", match = "Réf", key = "Réf", value = "Réf" }'), "distinct takes columns or templates"),
        (('[tables.deals]\nsource = "opps"', '[tables.deals]\nsource = "opps"\nfrom = { source = "opps" }'), "tables.deals.from: expected [[tables.deals.from]] tables"),
        (('[tables.documents]', '[[tables.deals.from]]\nsource = "opps"\ncolumns = { id = "Réf" }\n\n[tables.documents]'), "tables.deals.from[1].columns.name: missing: deals.name is required"),
    ],
)
def test_new_constructs_are_checked_with_the_key_at_fault(tmp_path, change, message):
    old, new = change
    assert old in MAPPING
    with pytest.raises(im.MappingError) as caught:
        im.read_mapping(setup(tmp_path, mapping=MAPPING.replace(old, new, 1)))
    assert message in str(caught.value)


@pytest.mark.parametrize("fmt", ["%Q", "%", "%d/%m", "%H:%M", "%Y%m%d%"])
def test_a_strptime_date_format_must_read_back_a_date(tmp_path, fmt):
    with pytest.raises(im.MappingError, match=r"defaults\.date: '.*' is not a date format: a strptime format must read back a day, a month and a year"):
        im.read_mapping(setup(tmp_path, mapping=MAPPING.replace('date = "dd/mm/yyyy"', f'date = "{fmt}"')))
    assert im.read_mapping(setup(tmp_path, mapping=MAPPING.replace('date = "dd/mm/yyyy"', 'date = ["%d.%m.%Y", "%Y%m%d"]')))


@pytest.mark.parametrize("fmt", ["jj/mm/aaaa", "m/d", "mm/dd/yyyy/mm", "d/m/yyyy hh", "mm/dd/yyyy 14:00", "mmm d yyyy"])
def test_a_date_format_that_reads_no_date_says_what_is_accepted(tmp_path, fmt):
    with pytest.raises(im.MappingError) as caught:
        im.read_mapping(setup(tmp_path, mapping=MAPPING.replace('date = "dd/mm/yyyy"', f'date = "{fmt}"')))
    message = str(caught.value)
    assert f"defaults.date: '{fmt}' is not a date format" in message
    for accepted in ('"m/d/yyyy"', '"dd/mm/yyyy"', "hh:mm", '"iso"', '"excel"', "%"):
        assert accepted in message, message
    assert "\n" not in message


def test_value_specs_nest_a_bounded_depth(tmp_path):
    spec = '"Associé"'
    for _ in range(13):
        spec = f'{{ lookup = "opps", match = {spec}, key = "Associé", value = "Associé" }}'
    with pytest.raises(im.MappingError, match=r"value specs nest more than 12 levels deep"):
        im.read_mapping(setup(tmp_path, mapping=MAPPING.replace('prospect_name = "Client"', f"prospect_name = {spec}")))
    deep = "x = " + "{ a = " * 5000 + "1" + " }" * 5000
    with pytest.raises(im.MappingError, match="tables nest too deeply to be a mapping"):
        im.read_mapping(setup(tmp_path, mapping=deep))


def test_the_export_date_comes_from_the_command_line_else_the_mapping(tmp_path):
    mapping = MAPPING.replace('created_on = "Créée le"\nabandoned_on', 'created_on = { column = "Créée le", default = { export_date = true } }\nabandoned_on')
    path = setup(tmp_path, mapping=mapping.replace('date = "dd/mm/yyyy"', 'date = "dd/mm/yyyy"\nexport_date = 2026-11-29'))
    assert im.read_mapping(path).export_date.isoformat() == "2026-11-29"
    assert im.read_mapping(path, export_date="2026-12-31").export_date_from == "--export-date"
    spec = im.read_mapping(path, export_date="2026-12-31").tables["deals"].columns["created_on"]
    assert spec.default.value == "2026-12-31" and spec.default.export_days == 0
    import datetime as dt

    today = im.read_mapping(path, export_date="today", today=dt.date(2027, 1, 5))
    assert today.export_date == dt.date(2027, 1, 5) and today.export_date_from == "--export-date = today"
    with pytest.raises(im.MappingError, match="--export-date: expected a date YYYY-MM-DD"):
        im.read_mapping(path, export_date="demain")


def test_a_mapping_that_is_a_device_or_huge_is_refused(tmp_path):

    with pytest.raises(im.MappingError, match="not a mapping file"):
        im.read_mapping("/dev/zero")
    with pytest.raises(im.MappingError, match="not a mapping file"):
        im.read_mapping(tmp_path)
    with pytest.raises(im.MappingError, match=r"pipe.toml: not a mapping file but a device or a pipe$"):
        im.read_mapping(make_hostile(tmp_path / "pipe.toml", "pipe"))
    with pytest.raises(im.MappingError, match=r"huge.toml: 50,000.0 MB, more than the 5.0 MB a mapping file may hold$"):
        im.read_mapping(make_hostile(tmp_path / "huge.toml", "sparse"))


def test_a_mapping_that_is_not_utf8_says_which_byte_on_which_line(tmp_path):
    """The same words as a settings file or a source (files.read_toml, files.undecodable)."""
    path = tmp_path / "m.toml"
    path.write_bytes(b'[org]\nname = "caf\xe9"\n')
    with pytest.raises(im.MappingError, match=r"m\.toml: not UTF-8 text \(byte 0xe9 on line 2\)"):
        im.read_mapping(path)
