"""The ``money`` accessor of pandas frames: a prospects frame's amounts, in the firm's currency.

Every amount of the package is exact integer cents; converting them is the analyst's last
step, in one place (:func:`prospects.cents.major`, with the firm's currency, setting ``currency``).
Imported with :mod:`prospects.api`, which hands the frames out: the accessor is registered
under the name ``money`` only (pandas' extension mechanism), nothing else of pandas changes.
"""

from __future__ import annotations

import pandas as pd

from . import cents, i18n

#: The components of a metrics table whose values are cents.
MONEY_COMPONENTS = ("recurring", "one_off", "total")

#: Columns of a prospects frame that hold amounts in cents.
MONEY_COLUMNS = ("recurring", "one_off", "total", "amount_cents")


@pd.api.extensions.register_dataframe_accessor("money")
class Money:
    """``frame.money``: the amounts of a prospects frame, in the firm's currency (euros by default).

    Every amount of the package is exact integer cents (``recurring``, ``one_off``,
    ``total``, ``amount_cents`` columns; the ``value`` of the rows of a metrics table whose
    component is ``recurring``, ``one_off`` or ``total``). ``frame.money.euros()`` is a copy
    with those amounts in units of the firm's currency — the one its ``attrs["scope"]`` names
    (the setting ``currency``): divided by 100 for EUR, USD or CHF, unchanged for JPY, whose
    cents are whole yen (float64, exact to the cent for any amount below 2**53 cents);
    ``frame.money.columns`` names them.

    >>> me.documents(unit="R-IDF").money.euros()["total"].sum()
    >>> me.metrics("signed_budget", by="region").money.euros()
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @property
    def columns(self) -> list[str]:
        """The columns holding cents (``value`` only for a metrics table's amount rows)."""
        frame = self._frame
        if {"component", "value"} <= set(frame.columns):
            return ["value"]
        return [c for c in frame.columns if c in MONEY_COLUMNS]

    def euros(self) -> pd.DataFrame:
        """A copy with every amount in euros (see the class docstring)."""
        frame = self._frame
        if frame.attrs.get("amounts") == "euros":
            return frame.copy()
        out = frame.copy()
        scope = frame.attrs.get("scope")
        per_major = 10 ** i18n.minor_digits(getattr(scope, "currency", i18n.DEFAULT_CURRENCY))
        if {"component", "value"} <= set(frame.columns):
            rows = frame["component"].isin(MONEY_COMPONENTS).to_numpy(dtype=bool)
            values = out["value"].to_numpy(copy=True)
            values[rows] = cents.major(values[rows], per_major)
            out["value"] = values
        else:
            for c in self.columns:
                out[c] = cents.major(frame[c].to_numpy(), per_major)
        out.attrs["amounts"] = "euros"
        return out
