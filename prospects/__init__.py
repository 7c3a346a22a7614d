"""prospects: the prospects dashboard of a professional-services firm.

The public surface, for notebooks and scripts::

    import prospects
    firm = prospects.open_firm("sqlite:///data/prospects.db")
    me = firm.as_viewer("mbrun")
    figs = me.figures(unit="R-IDF")
    table = me.metrics(["signed_budget", "win_rate"], by="agency", unit="perimeter", compare="N-1")
    rows = me.drilldown("signed_budget", by="document", unit="R-IDF")
    prospects.monthly_chart(figs.monthly, currency=figs.currency)

Names are imported on first use, so that ``prospects --help`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "open_firm": "api",
    "Firm": "api",
    "View": "api",
    "ArgumentError": "api",
    "Notice": "api",
    "Scope": "api",
    "monthly_chart": "charts",
    "Settings": "config",
    "load_settings": "config",
    "METRICS": "dictionary",
    "definition": "dictionary",
    "Figures": "figures",
    "Period": "fiscal",
    "PeriodError": "fiscal",
    "sample_firm": "sample",
    "AccessDenied": "scoping",
    "Filters": "scoping",
    "Viewer": "scoping",
}

__all__ = [
    "METRICS",
    "AccessDenied",
    "ArgumentError",
    "Figures",
    "Filters",
    "Firm",
    "Notice",
    "Period",
    "PeriodError",
    "Scope",
    "Settings",
    "View",
    "Viewer",
    "__version__",
    "definition",
    "load_settings",
    "monthly_chart",
    "open_firm",
    "sample_firm",
]

if TYPE_CHECKING:  # pragma: no cover
    from .api import ArgumentError, Firm, Notice, Scope, View, open_firm
    from .charts import monthly_chart
    from .config import Settings, load_settings
    from .dictionary import METRICS, definition
    from .figures import Figures
    from .fiscal import Period, PeriodError
    from .sample import sample_firm
    from .scoping import AccessDenied, Filters, Viewer


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'prospects' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
