"""Write a bench's section of docs/performance.md, between its own markers.

Each bench owns the text between ``<!-- bench/NAME:start -->`` and
``<!-- bench/NAME:end -->``; the rest of the file is left as it is. A section not
there yet is appended at the end.
"""

from __future__ import annotations

from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of bench ``name`` (e.g. ``"figures.py"``)."""
    return f"<!-- bench/{name}:start -->", f"<!-- bench/{name}:end -->"


def write_section(name: str, text: str, path: Path = PERFORMANCE) -> None:
    """Replace bench ``name``'s section of ``path`` by ``text`` (markers added around it)."""
    start, end = markers(name)
    body = text.strip("\n")
    if body.startswith(start):
        body = body[len(start):].strip("\n")
    if body.endswith(end):
        body = body[: -len(end)].strip("\n")
    block = f"{start}\n{body}\n{end}"
    current = path.read_text(encoding="utf-8")
    if start in current and end in current:
        head, rest = current.split(start, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")
