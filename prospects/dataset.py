"""A viewer's rows, loaded once and ready for vectorised figures.

:class:`Dataset` is immutable: the deals a viewer may see (prospect deals, read through
:func:`prospects.db.read_viewer_rows` with the viewer's visibility pushed into SQL)
and their documents with fees, plus integer day numbers as numpy arrays so that every
figure is a handful of vectorised comparisons. Filters never reload it: they are masks
over its deals (:func:`prospects.scoping.scope_mask`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from . import db
from .fiscal import Period
from .scoping import Directory, Viewer

NEVER = np.iinfo(np.int32).max  # day number of a date that is null ("never happened")
_EPOCH = np.datetime64("1970-01-01", "D")

DOC_STATUS = {"in_progress": 0, "signed": 1, "refused": 2, "cancelled": 3}


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return int((np.datetime64(day, "D") - _EPOCH).astype(np.int64))


def _days(series: pd.Series, null: int = NEVER) -> np.ndarray:
    values = series.to_numpy(dtype="datetime64[D]")
    out = (values - _EPOCH).astype(np.int64)
    out[np.isnat(values)] = null
    out = out.astype(np.int32)
    out.flags.writeable = False
    return out


def month_ordinal(days: np.ndarray) -> np.ndarray:
    """Month ordinal (year * 12 + month - 1) of day numbers; NEVER stays NEVER."""
    months = (_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64) + 1970 * 12
    out = np.where(days == NEVER, NEVER, months).astype(np.int32)
    out.flags.writeable = False
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """Deals and documents of one viewer, with day-number arrays for fast figures."""

    deals: pd.DataFrame  # one row per deal, position = deal index
    deal_display: pd.DataFrame  # deal columns of the drill-downs (names), same positions as deals
    documents: pd.DataFrame  # one row per document; ``deal_pos`` points into deals
    directory: Directory
    first_day: dt.date
    last_day: dt.date
    # deal arrays
    deal_created: np.ndarray
    deal_abandoned: np.ndarray  # NEVER unless status is abandoned
    deal_converted: np.ndarray  # earliest decided_on of the deal's signed documents, else NEVER
    deal_converted_month: np.ndarray  # month ordinal (year * 12 + month - 1) of the conversion
    # document arrays
    doc_deal: np.ndarray
    doc_status: np.ndarray  # codes of DOC_STATUS
    doc_created: np.ndarray
    doc_sent_or_created: np.ndarray
    doc_decided: np.ndarray  # NEVER when undecided
    doc_decided_month: np.ndarray  # month ordinal of decided_on
    doc_days_to_decide: np.ndarray  # decided_on - (sent_on, else created_on), in days
    doc_recurring: np.ndarray  # cents
    doc_one_off: np.ndarray  # cents

    @property
    def n_deals(self) -> int:
        return len(self.deals)

    @property
    def n_documents(self) -> int:
        return len(self.documents)

    def covers(self, period: Period) -> bool:
        """Whether the rows read are enough for figures of this period and its N-1."""
        return self.first_day <= period.previous().start and period.as_of <= self.last_day


def build_dataset(deals: pd.DataFrame, documents: pd.DataFrame, directory: Directory, first_day: dt.date, last_day: dt.date) -> Dataset:
    """Assemble a :class:`Dataset` from canonical deal and document frames (with fees)."""
    deals = deals.reset_index(drop=True)
    for col in ("kind", "unit_id", "partner_id", "manager_id", "client_manager_id", "group_id"):
        deals[col] = deals[col].astype("category")  # filters compare integer codes, not strings
    units = directory.units
    for level in ("firm", "region", "agency", "team"):
        deals[f"{level}_id"] = deals["unit_id"].map(units[level]).astype(object)
    pos = pd.Index(deals["id"]).get_indexer(documents["deal_id"])
    documents = documents[pos >= 0].reset_index(drop=True)
    documents["deal_pos"] = pos[pos >= 0].astype(np.int64)
    doc_deal = _frozen(documents["deal_pos"].to_numpy(dtype=np.int64))
    status = _frozen(documents["status"].map(DOC_STATUS).to_numpy(dtype=np.int8))
    created = _days(documents["created_on"])
    sent = _days(documents["sent_on"])
    sent_or_created = _frozen(np.where(sent == NEVER, created, sent).astype(np.int32))
    decided = _days(documents["decided_on"])
    converted = np.full(len(deals), NEVER, dtype=np.int32)
    signed = status == DOC_STATUS["signed"]
    np.minimum.at(converted, doc_deal[signed], decided[signed])
    abandoned = _days(deals["abandoned_on"]).copy()
    abandoned[deals["status"].to_numpy() != "abandoned"] = NEVER
    units, people, entities = directory.units["name"], directory.collaborators["full_name"], directory.entities["name"]

    def names(ids: pd.Series, table: pd.Series) -> np.ndarray:
        out = np.array(ids.map(table).to_numpy(dtype=object), dtype=object)
        out[pd.isna(out)] = None
        return pd.Series(out, dtype=object)

    deal_display = pd.DataFrame(
        {
            "deal_id": pd.Series(deals["id"].to_numpy(dtype=object), dtype=object),
            "deal": pd.Series(deals["name"].to_numpy(dtype=object), dtype=object),
            "prospect": pd.Series(deals["prospect_name"].to_numpy(dtype=object), dtype=object),
            "region": names(deals["region_id"], units),
            "agency": names(deals["agency_id"], units),
            "team": names(deals["team_id"], units),
            "partner": names(deals["partner_id"], people),
            "manager": names(deals["manager_id"], people),
            "client_manager": names(deals["client_manager_id"], people),
        }
    )
    documents["signatory"] = names(documents["signatory_id"], people)
    documents["signatory_entity"] = names(documents["entity_id"], entities)
    deals["converted_on"] = pd.Series(
        np.where(converted == NEVER, np.datetime64("NaT"), (_EPOCH + converted.astype("timedelta64[D]"))), dtype="datetime64[s]"
    )
    return Dataset(
        deals=deals,
        deal_display=deal_display,
        documents=documents,
        directory=directory,
        first_day=first_day,
        last_day=last_day,
        deal_created=_days(deals["created_on"]),
        deal_abandoned=_frozen(abandoned),
        deal_converted=_frozen(converted),
        deal_converted_month=month_ordinal(converted),
        doc_deal=doc_deal,
        doc_status=status,
        doc_created=created,
        doc_sent_or_created=sent_or_created,
        doc_decided=decided,
        doc_decided_month=month_ordinal(decided),
        doc_days_to_decide=_frozen((decided.astype(np.int64) - sent_or_created).astype(np.int32)),
        doc_recurring=_frozen(documents["recurring"].to_numpy(dtype=np.int64)),
        doc_one_off=_frozen(documents["one_off"].to_numpy(dtype=np.int64)),
    )


def load_dataset(
    engine: Engine,
    viewer: Viewer,
    directory: Directory,
    period: Period,
    *,
    within: str | None = None,
    mine_only: bool = False,
) -> Dataset:
    """Read a viewer's rows for a period and its N-1 (visibility pushed into SQL).

    ``within``: only the deals under that org unit (a report of one unit needs no more);
    ``mine_only``: only the deals on the viewer's team ("Mes affaires").
    """
    first_day = period.previous().start
    last_day = period.as_of
    subtree = directory.subtree(within) if within is not None else None
    pushdown = viewer.pushdown(subtree, mine_only=mine_only)
    deals, documents = db.read_viewer_rows(engine, pushdown, first_day=first_day, last_day=last_day)
    return build_dataset(deals, documents, directory, first_day, last_day)
