"""The documentation stands alone: every link resolves inside the repository, and the
command reference names every command and option the program has."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from prospects.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
#: ``[text](target)`` and ``![alt](target)``, not inside inline code.
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: The contract files of the project's specification, which a clone does not have.
OUTSIDE_NAMES = re.compile(r"(?<![\w/.-])(ACCESS|CLI|DATA|METRICS)\.md\b|shared/spec")


def markdown_files() -> list[Path]:
    """Every Markdown file git tracks (README, docs/, reports/, deploy/…)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"], cwd=ROOT, capture_output=True, text=True, check=False)
    files = [ROOT / f for f in out.stdout.split()] if out.returncode == 0 and out.stdout.strip() else []
    if not files:  # not a git checkout (an unpacked archive): the Markdown files on disk
        files = [p for p in ROOT.rglob("*.md") if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)]
    return sorted(files)


def _without_code(text: str) -> str:
    """The text with fenced code blocks and inline code removed (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.strip().lower()
    text = re.sub(r"[`*_]|<[^>]+>", "", text)
    text = "".join(ch for ch in text if ch in " -" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (with GitHub's -1, -2 for repeats)."""
    seen: dict[str, int] = {}
    out = set()
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in LINK.findall(_without_code(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = path if not file_part else (path.parent / unquote(file_part)).resolve()
        where = f"{path.relative_to(ROOT)}: ({target})"
        if ROOT not in (dest, *dest.parents):
            problems.append(f"{where} points outside the repository")
        elif not dest.exists():
            problems.append(f"{where} does not exist")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    return problems


def test_there_are_docs_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    assert {"README.md", "docs/data.md", "docs/access.md", "docs/cli.md", "docs/metrics.md"} <= names


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves_inside_the_repository(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_sends_the_reader_to_a_contract_a_clone_does_not_have(path):
    found = [m.group(0) for m in OUTSIDE_NAMES.finditer(path.read_text(encoding="utf-8"))]
    assert found == [], f"{path.relative_to(ROOT)} names {found}: point at docs/ instead"


def test_the_link_checker_catches_what_it_should(tmp_path, monkeypatch):
    """The checker itself: a missing file, an escape from the repository, an unknown anchor."""
    page = ROOT / "docs" / "data.md"
    text = "[a](missing.md) [b](../../outside.md) [c](access.md#no-such-heading) [d](access.md) `[e](x.md)`"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: text if self == page else Path.read_bytes(self).decode())
    problems = broken_links(page)
    assert len(problems) == 3, problems
    assert any("does not exist" in p for p in problems)
    assert any("outside the repository" in p for p in problems)
    assert any("no heading #no-such-heading" in p for p in problems)


def test_slugs_follow_github():
    assert slug("The figure store: `store`") == "the-figure-store-store"
    assert slug("Capacity: many people at once") == "capacity-many-people-at-once"
    assert slug("Mes affaires: what everyone sees") == "mes-affaires-what-everyone-sees"
    assert slug("Où est l'été ?") == "où-est-lété-"


def test_the_command_reference_names_every_command_and_option():
    parser = build_parser()
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for name, command in sub.choices.items():
        if f"### `{name}" not in text:
            missing.append(f"command {name}")
        for action in command._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag not in text:
                    missing.append(f"{name} {flag}")
    assert missing == []
