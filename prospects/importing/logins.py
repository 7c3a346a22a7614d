"""Logins of the people made from names: the directory's convention, when it has one.

A person named by an export but missing from the directory gets a login. It should be
the login their identity provider will hand over, so it follows the convention most of
the directory's logins follow — ``first.last``, ``flast`` (initial and surname), … — and
stays an e-mail address at the directory's domain when most logins are e-mail addresses.
Without a directory, or when no convention fits most of its logins, the login is
``first.last`` (``jean.dupont``), and the import says so. A login already taken (by the
directory or by another person made from a name) gets a number: ``jdupont2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from .values import slugs

#: How a login is made from the words of a name (lower case, accents dropped), by name.
STYLES: dict[str, Callable[[list[str]], str]] = {
    "first.last": lambda w: ".".join(w),
    "flast": lambda w: w[0][:1] + "".join(w[1:]),
    "f.last": lambda w: w[0][:1] + "." + "".join(w[1:]),
    "firstlast": lambda w: "".join(w),
    "first_last": lambda w: "_".join(w),
    "first-last": lambda w: "-".join(w),
    "last.first": lambda w: ".".join(w[1:] + w[:1]),
    "lastf": lambda w: "".join(w[1:]) + w[0][:1],
}
DEFAULT_STYLE = "first.last"


@dataclass(frozen=True)
class Convention:
    """The logins of a directory: a style of the names, maybe at an e-mail domain."""

    style: str
    domain: str | None
    total: int  # the directory's logins
    fitting: int  # of them, those whose part before any @ the style makes from the name
    at_domain: int  # of them, those at the domain
    found: bool  # False: nothing fits most logins, the default style was taken

    @property
    def pattern(self) -> str:
        return self.style + (f"@{self.domain}" if self.domain else "")

    def why(self) -> str:
        """``of its 5 logins, 3 are flast`` — what the choice rests on."""
        if not self.found:
            tried = list(STYLES)
            return f"of its {self.total} logins, at most {self.fitting} is {', '.join(tried[:-1])} or {tried[-1]}"
        out = f"of its {self.total} logins, {self.fitting} are {self.style}"
        return out + (f", {self.at_domain} at {self.domain}" if self.domain else "")


def words(names: pd.Series) -> list[list[str]]:
    """The words of each name, as slugs make them (``Zoé Nouvelle-Vague`` → zoe, nouvelle, vague)."""
    return [s.split("-") for s in slugs(names.astype("str")).tolist()]


def infer(full_names: pd.Series, logins: pd.Series) -> Convention:
    """The convention most of the directory's logins follow (at least half of them)."""
    logins = logins.astype("str").str.strip().str.casefold()
    total = len(logins)
    local = logins.str.split("@").str[0]
    domains = logins[logins.str.contains("@", regex=False)].str.split("@").str[-1]
    top = domains.value_counts()
    domain = str(top.index[0]) if len(top) and 2 * int(top.iloc[0]) >= total > 0 else None
    names = words(full_names)
    fits = {style: sum(make(w) == lg for w, lg in zip(names, local, strict=True)) for style, make in STYLES.items()}
    style = max(fits, key=lambda k: fits[k])  # the first of the best, in the order of STYLES
    found = total > 0 and 2 * fits[style] >= total and fits[style] > 0
    return Convention(style if found else DEFAULT_STYLE, domain, total, fits[style], int(top.iloc[0]) if domain else 0, found)


def make_logins(names: pd.Series, convention: Convention | None, taken: Sequence[str]) -> tuple[list[str], list[str]]:
    """Logins for these names, and how each was made when it differs from the plain rule
    (``jdupont2 (jdupont is taken)``); ``taken`` are the directory's logins."""
    style = STYLES[convention.style if convention else DEFAULT_STYLE]
    domain = convention.domain if convention else None
    used = {t.strip().casefold() for t in taken}
    out, shown = [], []
    for w in words(names):
        base = style(w)
        login, n = base, 1
        while (login + (f"@{domain}" if domain else "")).casefold() in used:
            n += 1
            login = f"{base}{n}"
        full = login + (f"@{domain}" if domain else "")
        wanted = base + (f"@{domain}" if domain else "")
        used.add(full.casefold())
        out.append(full)
        shown.append(full if full == wanted else f"{full} ({wanted} is taken)")
    return out, shown
