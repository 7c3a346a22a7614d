"""``python -m tests.serve_plain ARGS…``: ``prospects ARGS…`` without the page's preload list.

What the page loads by itself, script after script (tests/page_assets.py records it): the
same command, settings and hardening as ``prospects serve``; only the list is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prospects import cli
from prospects.serving import assets


def main() -> int:
    assets.PRELOAD = Path("/nonexistent/preload.json")
    return cli.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
