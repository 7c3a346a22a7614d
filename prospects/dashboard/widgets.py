"""The dashboard's building blocks: shared layout models, boxes, HTML blocks, clickable blocks, the stylesheet.

Every widget model is a message from the kernel through the server to the browser: widgets
that are never restyled share one layout and one style model (:class:`Shared`), and CSS
classes are given at creation (one message, not one per class).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from typing import Any

import ipywidgets as w
from ipywidgets.widgets.widget_string import HTMLStyle

MINE = "__mine__"  # the "Mes affaires" choice of the Organisation filter
ALL = ""  # "Toutes les agences" / "Toutes les équipes" / the drill-down's own order


def esc(value: Any) -> str:
    """Text escaped for HTML (attributes included); ``None`` is empty."""
    return html.escape("" if value is None else str(value), quote=True)


def slug(text: str) -> str:
    """A CSS-class-safe form of an ageing bucket (``>180`` → ``180plus``)."""
    if text.startswith(">"):
        return text[1:] + "plus"
    return re.sub(r"[^0-9A-Za-z_-]", "", text)


@cache
def stylesheet() -> str:
    """The dashboard's stylesheet (``dashboard.css``, shipped with the package) as a ``<style>`` element."""
    return "<style>\n" + files(__package__).joinpath("dashboard.css").read_text(encoding="utf-8") + "</style>\n"


class Shared:
    """Models shared by the widgets that never change theirs (one model each, not one per widget),
    and the flag that keeps callbacks quiet while code sets the controls."""

    def __init__(self) -> None:
        self.layout = w.Layout()
        self.auto = w.Layout(width="auto")
        self.html = HTMLStyle()
        self.button = w.ButtonStyle()
        self.syncing = False

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Set controls from code without their callbacks running (see ``Dashboard._guard``)."""
        before, self.syncing = self.syncing, True
        try:
            yield
        finally:
            self.syncing = before


def boxed(children: list[w.Widget], *classes: str, vertical: bool = False, shared: Shared | None = None,
          **layout: Any) -> w.Box:
    """An HBox (or VBox) with its CSS classes; a layout of its own only when given one."""
    cls = w.VBox if vertical else w.HBox
    if layout:
        return cls(children, layout=w.Layout(**layout), _dom_classes=classes)
    if shared is not None:
        return cls(children, layout=shared.layout, _dom_classes=classes)
    return cls(children, _dom_classes=classes)


def html_block(value: str = "", *classes: str, shared: Shared | None = None) -> w.HTML:
    """An HTML widget with its CSS classes from the start (one message to the page, not one per class)."""
    if shared is not None:
        return w.HTML(value, layout=shared.layout, style=shared.html, _dom_classes=classes)
    return w.HTML(value, _dom_classes=classes)


class Clickable:
    """A rich HTML block made clickable by a button laid over it.

    The block is what the eye reads (hidden from assistive technologies); the button, which
    is transparent but shows the keyboard focus, carries the accessible name (the figure, its
    value and its change against N-1: :meth:`show`) and the definition as its tooltip.
    """

    def __init__(self, css: tuple[str, ...], name: str, tooltip: str, on_click: Callable[[], None],
                 shared: Shared):
        self.html = html_block(shared=shared)
        self.button = w.Button(description=name, tooltip=tooltip, layout=shared.layout, style=shared.button,
                               _dom_classes=("pr-hit",))
        self.button.on_click(lambda _b: on_click())
        self.box = w.Box([self.html, self.button], layout=shared.layout, _dom_classes=css)

    def show(self, block: str, name: str) -> None:
        """What the block shows (HTML, hidden from screen readers) and what the button says."""
        self.html.value = f'<div aria-hidden="true">{block}</div>'
        self.button.description = name

    def click(self) -> None:
        """Simulate a click (tests, keyboard shortcuts)."""
        self.button.click()


def bridge(css: str, on_click: Callable[[], None], shared: Shared) -> w.Button:
    """A button never shown (``pr-bridge``) that the page's script clicks for an element drawn
    in HTML (a bar of the chart, a column header): which widget was clicked is all the
    browser says; what it opens is decided here."""
    button = w.Button(layout=shared.layout, style=shared.button, _dom_classes=("pr-bridge", css))
    button.on_click(lambda _b: on_click())
    return button
