"""``python -m tests.serve_notebook NOTEBOOK ARGS…``: ``prospects ARGS…`` serving NOTEBOOK instead of the dashboard's.

For the tests of the page itself (a deliberately slow cell, a kernel that dies): the same
command, settings and hardening as ``prospects serve``; only the notebook differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prospects import cli
from prospects.serving import app


def main() -> int:
    notebook = Path(sys.argv[1]).resolve()
    app.dashboard_notebook = lambda settings=None: notebook
    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
