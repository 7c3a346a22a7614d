"""The drill-down's downloads: every row as CSV and Excel (:mod:`prospects.exports`), as links
whose files travel inside the page (``data:`` URLs, nothing stored on the server), in the
order on screen (the current sort) with the columns as shown.

Up to :data:`EAGER_DOWNLOAD_ROWS` rows the files are made when the drill-down opens; above,
a button prepares them on demand. The last few are kept, per drill-down state.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import exports
from .labels import Words
from .widgets import esc, slug

if TYPE_CHECKING:
    import datetime as dt

    from ..drilldown import Rows
    from .drill import DrillState

#: Up to this many rows the CSV and Excel files are ready when the drill-down opens; above,
#: a button prepares them on demand (they travel to the browser inside the page).
EAGER_DOWNLOAD_ROWS = 1000
#: Sets of files kept (the last drill-downs opened).
KEPT = 4
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_stem(state: DrillState, as_of: dt.date) -> str:
    """``prospects_<indicator>[_<month>|_<bucket>]_<by>_<as-of date>``."""
    return "_".join(
        x for x in ("prospects", state.indicator, state.month, slug(state.bucket) if state.bucket else None,
                    state.by, as_of.isoformat()) if x
    )


class Downloads:
    """The download links of drill-down states, made once and kept (:data:`KEPT`)."""

    def __init__(self, words: Words, with_lines: Callable[[pd.DataFrame], pd.DataFrame]):
        self.words, self.with_lines = words, with_lines
        self._kept: OrderedDict[tuple, str] = OrderedDict()

    def clear(self) -> None:
        """Forget every file (the figures changed)."""
        self._kept.clear()

    @staticmethod
    def _key(state: DrillState) -> tuple:
        return (*state.key, state.sort, state.ascending)  # the files follow the sort on screen

    def ready(self, rows: Rows, state: DrillState, as_of: dt.date) -> str | None:
        """The links if made already or small enough to make now, else ``None`` (made on demand)."""
        links = self._kept.get(self._key(state))
        if links is None and len(rows) <= EAGER_DOWNLOAD_ROWS:
            links = self.links(rows, state, as_of)
        return links

    def links(self, rows: Rows, state: DrillState, as_of: dt.date) -> str:
        """The CSV and Excel links of every row of ``rows``."""
        cached = self._kept.get(self._key(state))
        if cached is not None:
            return cached
        # a download writes every row, in the order on screen
        made = self._make(rows.frame(), rows.order(state.column(rows), state.ascending), state, as_of)
        self._kept[self._key(state)] = made
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return made

    def _make(self, frame: pd.DataFrame, order: np.ndarray, state: DrillState, as_of: dt.date) -> str:
        loc, lab = self.words.locale, self.words.label
        if state.by == "document":
            frame = self.with_lines(frame)
        stem = file_stem(state, as_of)
        csv_text = exports.to_csv(frame, state.by, loc, currency=self.words.currency, order=order)
        csv_b64 = base64.b64encode(("\ufeff" + csv_text).encode("utf-8")).decode("ascii")
        about = exports.about_rows(state.indicator, state.by, month=state.month, bucket=state.bucket, locale=loc,
                                   currency=self.words.currency)
        xlsx_b64 = base64.b64encode(exports.xlsx_bytes(frame, state.by, loc, currency=self.words.currency, order=order, about=about)).decode("ascii")
        return (
            f'<a class="pr-download-csv" download="{stem}.csv" href="data:text/csv;charset=utf-8;base64,{csv_b64}">'
            f'<span aria-hidden="true">↓ </span>{esc(lab("download_csv"))}</a>'
            f'<a class="pr-download-xlsx" download="{stem}.xlsx" href="data:{XLSX_MIME};base64,{xlsx_b64}">'
            f'<span aria-hidden="true">↓ </span>{esc(lab("download_xlsx"))}</a>'
        )
