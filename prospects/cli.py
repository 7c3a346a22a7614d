"""The ``prospects`` command line (shared/spec/CLI.md).

Each sub-command is a thin handler: parse, resolve settings, call one package function,
print. Exit codes: 0 ok, 1 partial (rows rejected, a unit failed), 2 unusable input or
bad usage, 3 refused (unknown viewer, filter outside the perimeter).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, EXIT_REFUSED = 0, 1, 2, 3


def _global_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("global options")
    g.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: env PROSPECTS_DB, else sqlite:///data/prospects.db in the project folder)")
    g.add_argument("--config", metavar="FILE", help="settings file (default: prospects.toml if present)")
    g.add_argument("--today", metavar="YYYY-MM-DD", help="the date taken as today (default: env PROSPECTS_TODAY, else the system date)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="prospects",
        description="Prospects dashboard of a professional-services firm: data, figures, dashboard and reports.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"prospects {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", parents=[common], help="create the schema and fill it with a seeded demo firm")
    p.add_argument("--size", choices=("small", "medium", "large"), default="small", help="small ≈ 2,000 documents (default), medium ≈ 50,000, large ≈ 1,000,000")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42): the same seed gives the same firm")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("load", parents=[common], help="load a canonical CSV extract (DATA.md), atomically")
    p.add_argument("folder", metavar="DIR", type=Path, help="folder holding one <table>.csv per table")
    p.set_defaults(handler=_cmd_load)

    p = sub.add_parser("export", parents=[common], help="write the canonical CSV extract of the database")
    p.add_argument("folder", metavar="DIR", type=Path, help="folder to write <table>.csv into (created if missing)")
    p.set_defaults(handler=_cmd_export)

    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(db=args.db, config=args.config, today=args.today)


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from . import demo

    return demo.run_demo_command(settings, size=args.size, seed=args.seed)


def _cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from . import loading

    return loading.run_load_command(settings, args.folder)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from . import loading

    return loading.run_export_command(settings, args.folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"prospects: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    from .db import DatabaseError

    try:
        return args.handler(args, settings)
    except DatabaseError as exc:
        print(f"prospects: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("prospects: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
