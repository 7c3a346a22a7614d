"""The mapping file (prospects.importing.mapping): every mistake is refused with the key
at fault, before anything is read."""

from __future__ import annotations

import pytest

from prospects import importing as im

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
