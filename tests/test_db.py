"""The schema is created identically on SQLite and PostgreSQL."""

import sqlalchemy as sa

from prospects import db
from prospects.schema import TABLE_ORDER, TABLES


def test_schema_created_on_both_backends(db_url):
    engine = db.make_engine(db_url)
    assert not db.has_schema(engine)
    db.create_schema(engine)
    assert db.has_schema(engine)
    inspector = sa.inspect(engine)
    for name in TABLE_ORDER:
        cols = [c["name"] for c in inspector.get_columns(name)]
        assert cols == list(TABLES[name].column_names)
    assert db.table_counts(engine) == dict.fromkeys(TABLE_ORDER, 0)


def test_amounts_are_integer_cents_and_checked(db_url):
    engine = db.make_engine(db_url)
    db.create_schema(engine)
    col = sa.inspect(engine).get_columns("document_lines")
    amount = next(c for c in col if c["name"] == "amount_cents")
    assert isinstance(amount["type"], sa.BigInteger | sa.Integer)
