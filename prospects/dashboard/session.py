"""The dashboard's entry points in a kernel: :func:`dashboard_from_settings` (what the notebook
displays) and :func:`warm_up` (what ``prospects serve``'s warm kernels run ahead of a viewer).

The viewer's login is an argument, injected into the notebook by ``prospects serve``
(Voilà's prelaunch hook); no widget and no part of the URL can change it.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import i18n
from ..scoping import AccessDenied
from .app import Dashboard, log
from .widgets import boxed, esc, stylesheet

if TYPE_CHECKING:
    from ..api import Firm


def _message_widget(title: str, text: str, css: str) -> w.Box:
    box = boxed(
        [w.HTML(stylesheet()), w.HTML(f'<div class="{css}"><div class="pr-denied-title">{esc(title)}</div><div>{esc(text)}</div></div>')],
        "pr-root", vertical=True,
    )
    return box


def _kernel_logging() -> None:
    """Log callback failures to the kernel process's real stderr (the server's log), never to the page."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s prospects.dashboard %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


#: The firm a warm kernel opened ahead of its viewer (:func:`warm_up`), taken once.
_WARM: dict[str, Any] = {}


def warm_up(config: str | None = None) -> None:
    """Get this kernel ready for a viewer not known yet (``prospects serve``'s warm pool).

    Imports the dashboard's modules and opens the firm with the server's settings, as
    :func:`dashboard_from_settings` does, and keeps it for that call. No viewer, no viewer
    data: the login arrives later, injected into the notebook by the server.
    """
    from ..api import open_firm
    from ..config import load_settings

    _kernel_logging()
    settings = load_settings(config=config)
    firm = open_firm(settings=settings)
    _WARM["firm"] = (settings, firm.extract_info, firm)


def _firm_for(settings: Any) -> Firm:
    """The firm opened by :func:`warm_up` if it is still the one ``settings`` open, else a new one."""
    from ..api import open_firm

    warm = _WARM.pop("firm", None)
    if warm is not None:
        warm_settings, info, firm = warm
        if warm_settings == settings and firm.extract_info == info:  # same settings and date, same load
            return firm
        log.info("warm firm not reused: the settings or the data changed since it was opened")
        firm.engine.dispose()
    return open_firm(settings=settings)


def dashboard_from_settings(login: str | None, *, config: str | None = None, locale: str | None = None) -> w.Box:
    """What the notebook displays: open the firm from the settings (environment, config file) and build.

    ``login`` is injected by the server (:mod:`prospects.serving`). Any failure to open the
    database shows a short message, never a traceback. In a warm kernel the firm was opened
    ahead (:func:`warm_up`) and is reused when the settings and the data are unchanged.
    """
    from ..config import load_settings

    _kernel_logging()
    loc = locale if locale in i18n.LABELS else "fr"
    try:
        settings = load_settings(config=config, locale=locale)
        loc = settings.locale
        firm = _firm_for(settings)
        return Dashboard(firm, login, settings.locale).widget
    except AccessDenied as exc:
        return _message_widget(i18n.label("access_denied", loc), exc.say(loc), "pr-denied pr-access-denied")
    except Exception:
        log.exception("the dashboard could not be built")
        return _message_widget(i18n.label("menu", loc), i18n.label("error", loc), "pr-denied pr-error")
