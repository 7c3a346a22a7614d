"""The data contract (docs/data.md): nine tables, their columns, enums and rules.

This module is the single description of the data. It gives

* :data:`TABLES`: for each table, its columns with type, requiredness, enum values
  and references (what the loader checks, in order of dependency);
* :data:`metadata`: the same tables as SQLAlchemy Core metadata, created identically
  on SQLite and PostgreSQL by :mod:`prospects.db`.

Amounts are integer euro cents; dates are calendar dates; ids are non-empty strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

UNIT_KINDS = ("firm", "region", "agency", "team")

#: The largest amount of a line (docs/data.md): 100 billion euros; beyond is rejected as too large.
MAX_AMOUNT_CENTS = 10_000_000_000_000
#: The largest total of a document (the sum of its lines): 10 trillion euros, 100 lines at
#: the line bound. Sums of many documents may still pass int64: see :mod:`prospects.cents`.
MAX_DOCUMENT_CENTS = 1_000_000_000_000_000
#: The longest id or login, and the longest other text (docs/data.md; they must fit an index).
MAX_ID_CHARS = 200
MAX_TEXT_CHARS = 2_000
#: ``collaborators.email`` (docs/data.md): a plain ``name@domain`` address — one ``@``, a dot in
#: the domain, no display name, space, separator, bracket, quote or control character. The
#: loader, the import and the mailer check addresses with this one pattern.
PLAIN_ADDRESS = r"[^@\s<>,;\"'()\[\]\\\x00-\x1f\x7f]+@[^@\s<>,;\"'()\[\]\\\x00-\x1f\x7f]+\.[^@\s<>,;\"'()\[\]\\.\x00-\x1f\x7f]+"
FUNCTIONS = ("partner", "director", "manager", "staff")
DEAL_KINDS = ("prospect", "client")
DEAL_STATUSES = ("open", "abandoned")
DOC_STATUSES = ("in_progress", "signed", "refused", "cancelled")
BILLINGS = ("recurring", "one_off")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``type`` is one of ``id``, ``text``, ``enum``, ``date``, ``bool``, ``int``.
    ``ref`` names the table whose ``id`` this column must match (when not null).
    """

    name: str
    type: str
    required: bool = True
    values: tuple[str, ...] = ()
    ref: str | None = None
    unique: bool = False


@dataclass(frozen=True)
class Table:
    """One table of the contract: columns and its key (unique per table)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def max_chars(column: Column) -> int | None:
    """The longest value a text or id column accepts (ids and logins: 200, other text: 2,000)."""
    if column.type == "id" or column.name == "login":
        return MAX_ID_CHARS
    return MAX_TEXT_CHARS if column.type == "text" else None


def _id(name: str = "id") -> Column:
    return Column(name, "id", unique=True)


def _ref(name: str, table: str, required: bool = False) -> Column:
    return Column(name, "id", required=required, ref=table)


#: The nine tables, in order of dependency (parents first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "org_units",
            (
                _id(),
                Column("name", "text"),
                Column("kind", "enum", values=UNIT_KINDS),
                _ref("parent_id", "org_units"),
            ),
            ("id",),
        ),
        Table("entities", (_id(), Column("name", "text")), ("id",)),
        Table(
            "collaborators",
            (
                _id(),
                Column("login", "text", unique=True),
                Column("full_name", "text"),
                Column("function", "enum", values=FUNCTIONS),
                _ref("unit_id", "org_units", required=True),
                _ref("entity_id", "entities"),
                Column("can_validate_offers", "bool"),
                Column("active", "bool"),
                Column("email", "text", required=False),
            ),
            ("id",),
        ),
        Table("groups", (_id(), Column("name", "text")), ("id",)),
        Table(
            "group_units",
            (_ref("group_id", "groups", True), _ref("unit_id", "org_units", True)),
            ("group_id", "unit_id"),
        ),
        Table(
            "group_members",
            (_ref("group_id", "groups", True), _ref("collaborator_id", "collaborators", True)),
            ("group_id", "collaborator_id"),
        ),
        Table(
            "deals",
            (
                _id(),
                Column("name", "text"),
                Column("kind", "enum", values=DEAL_KINDS),
                Column("prospect_name", "text"),
                _ref("unit_id", "org_units", required=True),
                _ref("partner_id", "collaborators"),
                _ref("manager_id", "collaborators"),
                _ref("client_manager_id", "collaborators"),
                _ref("group_id", "groups"),
                Column("status", "enum", values=DEAL_STATUSES),
                Column("created_on", "date"),
                Column("abandoned_on", "date", required=False),
                Column("abandon_reason", "text", required=False),
            ),
            ("id",),
        ),
        Table(
            "documents",
            (
                _id(),
                _ref("deal_id", "deals", required=True),
                Column("doc_type", "text"),
                Column("template", "text", required=False),
                Column("title", "text", required=False),
                Column("status", "enum", values=DOC_STATUSES),
                Column("created_on", "date"),
                Column("sent_on", "date", required=False),
                Column("decided_on", "date", required=False),
                _ref("signatory_id", "collaborators"),
                _ref("entity_id", "entities"),
            ),
            ("id",),
        ),
        Table(
            "document_lines",
            (
                _ref("document_id", "documents", required=True),
                Column("line_no", "int"),
                Column("mission", "text"),
                Column("billing", "enum", values=BILLINGS),
                Column("amount_cents", "int"),
            ),
            ("document_id", "line_no"),
        ),
    )
}

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

# ---------------------------------------------------------------------------
# SQLAlchemy metadata, derived from TABLES so the two never drift.

metadata = sa.MetaData()

_SQL_TYPES = {
    "id": lambda: sa.String(200),
    "text": lambda: sa.Text(),
    "date": lambda: sa.Date(),
    "bool": lambda: sa.Boolean(create_constraint=False),
    "int": lambda: sa.BigInteger(),
}

_INDEXED = {
    "org_units": ("parent_id",),
    "collaborators": ("unit_id",),
    "deals": ("unit_id", "partner_id", "manager_id", "client_manager_id"),
    "documents": ("deal_id",),
    "document_lines": ("document_id",),
}


def _sql_table(spec: Table) -> sa.Table:
    cols = []
    for c in spec.columns:
        if c.type == "enum":
            sql_type: sa.types.TypeEngine = sa.String(40)
        else:
            sql_type = _SQL_TYPES[c.type]()
        cols.append(
            sa.Column(
                c.name,
                sql_type,
                nullable=not c.required,
                primary_key=c.name in spec.key,
                unique=c.unique and c.name not in spec.key,
                index=c.name in _INDEXED.get(spec.name, ()),
            )
        )
    checks = [
        sa.CheckConstraint(
            f"{c.name} IN ({', '.join(repr(v) for v in c.values)})", name=f"ck_{spec.name}_{c.name}"
        )
        for c in spec.columns
        if c.type == "enum"
    ]
    if spec.name == "document_lines":
        checks.append(sa.CheckConstraint(f"amount_cents >= 0 AND amount_cents <= {MAX_AMOUNT_CENTS}", name="ck_lines_amount"))
        checks.append(sa.CheckConstraint("line_no >= 1", name="ck_lines_line_no"))
    return sa.Table(spec.name, metadata, *cols, *checks)


SQL_TABLES: dict[str, sa.Table] = {name: _sql_table(spec) for name, spec in TABLES.items()}

#: Bookkeeping beside the nine tables: when and from where the data was loaded.
extract_info = sa.Table(
    "extract_info",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

#: Bookkeeping beside the nine tables: the report-subscription mails sent, one row per
#: recipient, unit and period (``unit`` is ``""`` for "Mes affaires"). A load replaces the
#: nine tables and ``extract_info`` only, never this log, so a rerun for the same period
#: can skip what was sent (issue 15).
subscription_sends = sa.Table(
    "subscription_sends",
    metadata,
    sa.Column("login", sa.String(200), primary_key=True),
    sa.Column("unit", sa.String(200), primary_key=True),
    sa.Column("fiscal_year", sa.Integer(), primary_key=True),
    sa.Column("as_of", sa.Date(), primary_key=True),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column("sent_at", sa.Text(), nullable=False),  # ISO timestamp, UTC
    sa.Column("message_id", sa.Text(), nullable=False),
)

#: Bookkeeping beside the nine tables: who is sending which subscription mail. A run takes
#: a row per recipient's report and period in one transaction just before the SMTP call
#: (the primary key makes a second taker fail), keeps it once the mail is accepted (the
#: send log records it), and gives it back only after a definite refusal: two runs, two
#: machines or a timer and a manual run never send one mail twice (issue 20.7).
subscription_claims = sa.Table(
    "subscription_claims",
    metadata,
    sa.Column("login", sa.String(200), primary_key=True),
    sa.Column("unit", sa.String(200), primary_key=True),
    sa.Column("fiscal_year", sa.Integer(), primary_key=True),
    sa.Column("as_of", sa.Date(), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("claimed_at", sa.Text(), nullable=False),  # ISO timestamp, UTC
    sa.Column("claimed_by", sa.Text(), nullable=False),  # host and process of the run
)
