"""The ``prospects`` command line (docs/cli.md).

Each sub-command is a thin handler: parse, resolve settings, call one package function,
print. Exit codes: 0 ok, 1 partial (rows rejected, a unit failed), 2 unusable input or
bad usage (a database that cannot be opened, a file that cannot be written included), 3
refused (unknown viewer, filter outside the perimeter), 141 when the output's reader
went away (``| head``; nothing printed). Every failure is one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, Settings, load_settings
from .i18n import Said

EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, EXIT_REFUSED = 0, 1, 2, 3


class UsageError(Said, ValueError):
    """A viewer's command used wrongly (a ``--as-of`` that is no date…): one sentence of the
    catalog, said in the settings' language (exit 2)."""
#: The reader of the output went away (``prospects … | head``): like a command killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141


def _global_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("global options")
    g.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="SQLAlchemy URL (default: env PROSPECTS_DB, else sqlite:///data/prospects.db in the project folder)")
    g.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="settings file (default: prospects.toml if present)")
    g.add_argument("--today", metavar="YYYY-MM-DD", default=argparse.SUPPRESS, help="the date taken as today (default: env PROSPECTS_TODAY, else the system date)")
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
    p.add_argument("--replace-firm-data", action="store_true", help="replace a database that holds a firm's own data (loaded or imported) with the demo; without it, demo replaces only a demo or an empty database")
    p.add_argument("--allow-shrink", action="store_true", help="with --replace-firm-data: replace it even if more than half of a table's rows would go (refused otherwise)")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("load", parents=[common], help="load a canonical CSV extract (docs/data.md), atomically")
    p.add_argument("folder", metavar="DIR", type=Path, help="folder holding one <table>.csv per table")
    p.add_argument("--allow-shrink", action="store_true", help="load even if more than half of a table's rows would go (refused otherwise)")
    p.set_defaults(handler=_cmd_load)

    p = sub.add_parser("export", parents=[common], help="write the canonical CSV extract of the database")
    p.add_argument("folder", metavar="DIR", type=Path, help="folder to write <table>.csv into (created if missing)")
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser("import", parents=[common], help="import CRM exports (CSV or Excel) through a mapping file (docs/import.md), atomically")
    p.add_argument("--mapping", metavar="MAPPING.toml", type=Path, required=True, help="the mapping file: sources, tables, value maps (docs/import.md)")
    p.add_argument("--check", action="store_true", help="dry run: show what maps from where, sample rows, every value that cannot be mapped; load nothing")
    p.add_argument("--rejects", metavar="FILE", type=Path, help="where to write the rejected rows (default: MAPPING.rejects.csv next to the mapping)")
    p.add_argument("--allow-shrink", action="store_true", help="import even if more than half of a table's rows would go (refused otherwise)")
    p.add_argument("--export-date", metavar="YYYY-MM-DD", help="the date of the export, for the mapping's { export_date = true } (default: the mapping's [defaults] export_date; 'today')")
    p.add_argument("sources", metavar="SOURCE", nargs="*", help="files to read instead of the mapping's: NAME=PATH, or a PATH replacing the file of the same name (default: the files named in the mapping)")
    p.add_argument("--from-folder", metavar="DIR", type=Path, help="the nightly import: the newest complete export (a file, or a folder of files) dropped in DIR, then moved to DIR/imported/; nothing new: exit 0, one line")
    p.add_argument("--keep", metavar="N", type=int, help="with --from-folder: exports kept in DIR/imported/ (and skipped/, failed/) (default: 7)")
    p.add_argument("--settle", metavar="SECONDS", type=float, help="with --from-folder: an export is complete once unchanged this long (default: 120)")
    p.add_argument("--done-marker", action="store_true", help="with --from-folder: an export is complete only once NAME.done stands beside it, whatever its age")
    p.set_defaults(handler=_cmd_import)

    p = sub.add_parser("store", parents=[common], help="check the figure store of the database in full (every file's checksum, row counts against the database), build it when missing, stale or damaged (load, import and demo write it)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--rebuild", action="store_true", help="rebuild it from the database whatever state it is in (without checking it first)")
    mode.add_argument("--check", action="store_true", help="only check: exit 1 and one line if it is missing, stale or damaged, build nothing")
    p.set_defaults(handler=_cmd_store)

    p = sub.add_parser("serve", parents=[common], help="serve the Voilà dashboard (hardened; 127.0.0.1 by default)")
    p.add_argument("--auth", choices=("local", "header", "hub"), default="local",
                   help="where the viewer comes from: local = one fixed viewer (--user), loopback only (default); "
                        "header = a header set by an authenticating reverse proxy (docs/deployment.md); "
                        "hub = the JupyterHub user of this single-user server")
    p.add_argument("--user", metavar="LOGIN", help="the viewer with --auth local (default on a demo database: its regional partner)")
    p.add_argument("--header-name", default="X-Forwarded-User", metavar="NAME", help="--auth header: the header carrying the login (default X-Forwarded-User)")
    p.add_argument("--trusted-proxy", action="append", metavar="ADDR", help="--auth header: address or network of the proxy allowed to set it (repeatable; default 127.0.0.1 and ::1)")
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--locale", choices=("fr", "en"), help="language of the dashboard (default: the settings' locale, fr)")
    p.add_argument("--cull-idle-timeout", type=int, default=3600, metavar="S", help="shut down a viewer's kernel idle for S seconds (default 3600; 0: never)")
    p.add_argument("--cell-timeout", type=int, default=120, metavar="S", help="limit for any notebook cell at page load (default 120 s)")
    p.add_argument("--pool-size", type=int, metavar="N", help="warm kernels kept ready for the next pages (default: [serve] pool_size, else one per core, at most 4; 0: none)")
    p.add_argument("--opening-limit", type=int, metavar="N", help="pages whose notebook runs at once, the others wait in order (default: [serve] opening_limit, else two per core)")
    p.add_argument("--kernels-per-login", type=int, metavar="N", help="kernels one login may hold; a new page closes the oldest (default: [serve] kernels_per_login, else 3; 0: no cap)")
    p.add_argument("--connect-timeout", type=int, metavar="S", help="a served page whose websocket has not connected after S seconds loses its kernel (default: [serve] connect_timeout, else 60)")
    p.set_defaults(handler=_cmd_serve)

    def add_view_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", metavar="LOGIN", required=True, help="the viewer (collaborators.login)")
        fy = p.add_mutually_exclusive_group()
        fy.add_argument("--fiscal-year", type=int, metavar="Y", help="fiscal year (labelled by the year it ends; default: current)")
        fy.add_argument("--previous", action="store_true", help="the previous fiscal year (N-1)")
        p.add_argument("--as-of", metavar="DATE", help="as-of date inside the fiscal year (default: today, or the FY's last day)")
        p.add_argument("--unit", metavar="ID", help="an org unit of the viewer's perimeter (region, agency or team), or perimeter, firm or mine")
        p.add_argument("--collaborator", metavar="LOGIN", help="a collaborator of the viewer's perimeter")

    p = sub.add_parser("indicators", parents=[common], help="the indicator table and the chart data for a viewer")
    add_view_options(p)
    p.add_argument("--json", action="store_true", help="print the JSON document of docs/cli.md")
    p.set_defaults(handler=_cmd_indicators)

    p = sub.add_parser("drilldown", parents=[common], help="the rows behind one cell or one bar")
    add_view_options(p)
    p.add_argument("--indicator", required=True, metavar="CODE", help="cell code (e.g. signed_budget, prospects_without_document, won_prospects)")
    p.add_argument("--month", metavar="YYYY-MM", help="one bar of the chart (won_prospects, signed_offers, signed_budget)")
    p.add_argument("--by", choices=("deal", "document"), default="deal", help="view: par affaire (deal, default) or par document")
    p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table", help="output format (default: table)")
    p.add_argument("--output", metavar="FILE", type=Path, help="write to FILE instead of standard output (required for xlsx)")
    p.set_defaults(handler=_cmd_drilldown)

    p = sub.add_parser("report", parents=[common], help="papermill snapshots, one per unit (HTML and A4 PDF), plus an index page; or the subscriptions, each as its recipient")
    p.add_argument("--as", dest="login", metavar="LOGIN", help="render as this viewer (collaborators.login); docs/access.md applies (required without --subscriptions)")
    p.add_argument("--by", choices=("region", "agency"), default="region", help="one report per unit of this kind in the viewer's perimeter (default: region)")
    p.add_argument("--unit", metavar="ID", nargs="+", action="extend", help="these org units instead (region, agency or team of the perimeter)")
    p.add_argument("--fiscal-year", type=int, metavar="Y", help="fiscal year (labelled by the year it ends; default: current)")
    p.add_argument("--as-of", metavar="DATE", help="as-of date inside the fiscal year (default: today, or the FY's last day)")
    p.add_argument("--format", metavar="html,pdf", help="comma-separated formats (default: html,pdf; with --subscriptions each subscription's formats)")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: reports/ in the project folder); files go to DIR/<fiscal year>/")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="render N units in parallel processes (default: 1)")
    add_subscription_options(p)
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser(
        "subscriptions", parents=[common],
        help="list who would receive which report ([subscriptions] in prospects.toml); exit 3 naming any refused subscription",
        description="List the report subscriptions: recipient, address, unit, formats, language and where each comes from "
                    "(the default for validators or a [[subscriptions.list]] entry), then the validators who get nothing "
                    "and why. Exit 3, naming each, for a subscription to a unit outside its recipient's perimeter, a unit "
                    "asked by someone without the right to validate offers, an unknown or inactive login, or a recipient "
                    "without an e-mail address. Send them with `prospects report --subscriptions --send` "
                    "(docs/deployment.md, \"Report subscriptions\").",
    )
    p.set_defaults(handler=_cmd_subscriptions)

    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(db=getattr(args, "db", None), config=getattr(args, "config", None), today=getattr(args, "today", None))


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from . import demo

    if args.seed < 0:
        print(f"prospects: --seed {args.seed}: expected a whole number, 0 or more", file=sys.stderr)
        return EXIT_UNUSABLE
    return demo.run_demo_command(settings, size=args.size, seed=args.seed, allow_shrink=args.allow_shrink,
                                 replace_firm_data=args.replace_firm_data)


def _cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from . import loading

    return loading.run_load_command(settings, args.folder, allow_shrink=args.allow_shrink)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from . import loading

    return loading.run_export_command(settings, args.folder)


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from . import importing

    if args.from_folder is None:
        given = [flag for flag, on in (("--keep", args.keep is not None), ("--settle", args.settle is not None), ("--done-marker", args.done_marker)) if on]
        if given:
            print(f"prospects: {', '.join(given)}: only with --from-folder DIR", file=sys.stderr)
            return EXIT_UNUSABLE
        return importing.run_import_command(
            settings, args.mapping, args.sources, check=args.check, rejects=args.rejects, allow_shrink=args.allow_shrink,
            export_date=args.export_date,
        )
    if args.sources:
        print("prospects: give SOURCE files or --from-folder DIR, not both", file=sys.stderr)
        return EXIT_UNUSABLE
    from .importing import drop

    return importing.run_from_folder(
        settings, args.mapping, args.from_folder, check=args.check, rejects=args.rejects, allow_shrink=args.allow_shrink,
        export_date=args.export_date, keep=drop.DEFAULT_KEEP if args.keep is None else args.keep,
        settle=drop.DEFAULT_SETTLE if args.settle is None else args.settle, done_marker=args.done_marker,
    )


def _cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from . import db, store

    engine = db.make_engine(settings.db_url)
    folder = store.store_folder(settings)
    snap, problem = (None, None) if args.rebuild else store.inspect(settings, engine)
    verified = f"checksums of the {len(store.FILES)} files verified, row counts match the database"
    if args.check:
        if snap is not None:
            print(store.describe(snap))
            print(verified)
            print("up to date with the database")
            return EXIT_OK
        print(f"prospects: the figure store in {folder} is {problem}: run `prospects store`", file=sys.stderr)
        return EXIT_PARTIAL
    if snap is not None and not args.rebuild:
        print(store.describe(snap))
        print(verified)
        print("up to date with the database")
        return EXIT_OK
    if problem:
        print(f"prospects: the figure store in {folder} is {problem}: building it", file=sys.stderr)
    start = time.monotonic()
    snap = store.rebuild(settings, engine, progress=store.stderr_progress)
    print(store.describe(snap))
    print(f"built in {time.monotonic() - start:.1f} s")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from .serving import command

    if args.locale:
        settings = settings.with_(locale=args.locale)
    options = command.ServeOptions(
        auth=args.auth, user=args.user, ip=args.ip, port=args.port, open_browser=not args.no_browser,
        cull_idle_timeout=args.cull_idle_timeout, cell_timeout=args.cell_timeout, header_name=args.header_name,
        trusted_proxies=tuple(args.trusted_proxy or ("127.0.0.1", "::1")),
        pool_size=settings.serve.pool_size if args.pool_size is None else args.pool_size,
        opening_limit=settings.serve.opening_limit if args.opening_limit is None else args.opening_limit,
        kernels_per_login=settings.serve.kernels_per_login if args.kernels_per_login is None else args.kernels_per_login,
        connect_timeout=settings.serve.connect_timeout if args.connect_timeout is None else args.connect_timeout,
    )
    today_explicit = getattr(args, "today", None) is not None or bool(os.environ.get("PROSPECTS_TODAY"))
    return command.run_serve_command(settings, options, today_explicit=today_explicit)


def _check_date(option: str, value: str | None) -> None:
    """Refuse a ``--as-of`` that is not a ``YYYY-MM-DD`` date (:class:`UsageError`)."""
    import datetime as dt

    from .i18n import shown

    if value is None:
        return
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError("cli.date", option=option, value=shown(value)) from None


def _view(settings: Settings, args: argparse.Namespace):
    """Open the database, become the viewer and resolve the period (refusals raise)."""
    from .api import open_firm

    _check_date("--as-of", args.as_of)
    firm = open_firm(settings=settings)
    view = firm.as_viewer(args.user)
    period = view.period(args.fiscal_year, previous=args.previous, as_of=args.as_of)
    return firm, view, period


def _cmd_indicators(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from . import i18n
    from .exports import figures_json
    from .tables import ageing_table, beside_table, indicator_table, monthly_table

    firm, view, period = _view(settings, args)
    figs = view.figures(unit=args.unit, collaborator=args.collaborator, period=period)
    if args.json:
        doc = figures_json(figs, viewer=view.viewer.login, unit=args.unit, collaborator=args.collaborator)
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return EXIT_OK
    loc = settings.locale
    lab = lambda k: i18n.label(k, loc)  # noqa: E731
    fn = i18n.FUNCTION_LABELS[loc][view.viewer.function]
    print(f"{lab('menu')} — {view.viewer.full_name} ({fn})")
    print(
        f"{lab('fiscal_year')} {period.fiscal_year}{i18n.colon(loc)}{i18n.date(period.start, loc)} → {i18n.date(period.end, loc)}, "
        f"{lab('as_of')} {i18n.date(period.as_of, loc)} — {lab('scope')}{i18n.colon(loc)}"
        f"{figs.scope.label}"
    )
    fresh = firm.freshness()
    said, warning = fresh.text(loc), fresh.warning(loc)
    print(said[:1].upper() + said[1:] + (f" — {warning}" if warning else ""))
    prev_head = f"{lab('previous')} ({i18n.date(figs.previous.period.as_of, loc)})"
    print()
    print(_text_table(lab("table"), indicator_table(figs, loc), prev_head))
    print(_text_table("", beside_table(figs, loc), prev_head))
    print()
    print(lab("ageing"))
    for r in ageing_table(figs, loc).to_dict("records"):
        print(f"  {r['bucket']:<16} {r['offers']:>8}  {r['total']:>16}")
    print()
    print(lab("chart"))
    head = f"  {lab('month'):<12}{lab('won_prospects'):>18}{lab('recurring'):>16}{lab('one_off'):>16}{lab('total'):>16}"
    print(head)
    for r in monthly_table(figs, loc).to_dict("records"):
        print(f"  {r['month']:<12}{r['won_prospects']:>18}{r['recurring']:>16}{r['one_off']:>16}{r['total']:>16}")
    return EXIT_OK


def _text_table(title: str, rows, prev_head: str, width: int = 38) -> str:
    lines = [f"{title:<{width}}{'':>16}  {prev_head}"] if title else []
    for r in rows.to_dict("records"):
        lines.append(f"{r['label']:<{width}}{r['value']:>16}  {r['previous']:>16}")
    return "\n".join(lines)


def _cmd_drilldown(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from . import drilldown as dd
    from . import exports, files, i18n

    if args.format == "xlsx" and args.output is None:
        raise UsageError("cli.xlsx_output")
    if args.output is not None:
        problem = files.option_target_problem("--output", args.output)
        if problem:
            return _fail(problem, EXIT_UNUSABLE)
    _, view, period = _view(settings, args)
    try:
        frame = view.drilldown(
            args.indicator, by=args.by, month=args.month, unit=args.unit, collaborator=args.collaborator,
            period=period, lines=args.by == "document" and args.format != "table",
        )
    except (dd.DrilldownError, ValueError) as exc:
        return _fail(exc, EXIT_UNUSABLE, settings.locale)
    loc = settings.locale
    words = dd.footer_words(args.indicator, month=args.month, locale=loc)
    if args.format == "xlsx":  # --output is given (checked above)
        about = exports.about_rows(args.indicator, args.by, month=args.month, period=period,
                                   scope=frame.attrs["scope"].label, locale=loc, currency=settings.currency)
        data = exports.xlsx_bytes(frame, args.by, loc, currency=settings.currency, about=about)
    else:
        if args.format == "json":
            doc = {"indicator": args.indicator, "by": args.by, "currency": settings.currency,
                   "rows": exports.records(frame, args.by, settings.currency)}
            if args.month:
                doc["month"] = args.month
            doc["amounts"] = words
            text = json.dumps(doc, ensure_ascii=False, indent=2)
        elif args.format == "csv":
            text = exports.to_csv(frame, args.by, loc, currency=settings.currency)
        else:
            text = _drill_text(frame, args, loc, settings.currency, words)
        if args.output is None:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            return EXIT_OK
        data = text.encode("utf-8-sig" if args.format == "csv" else "utf-8")
    try:
        files.write_atomically(args.output, data)
    except files.FileRefused as exc:
        return _fail(f"--output {exc}", EXIT_UNUSABLE)
    print(f"{len(frame)} {i18n.label('rows', loc)} → {args.output}", file=sys.stderr)
    return EXIT_OK


def _drill_text(frame, args: argparse.Namespace, loc: str, currency: str, words: str) -> str:
    """The ``--format table`` drill-down: the rows as on screen, then the footer and what its amounts are."""
    import pandas as pd

    from . import drilldown as dd
    from . import i18n
    from .tables import drill_table

    shown = drill_table(frame, args.by, loc, currency)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
        text = shown.to_string(index=False) if len(shown) else dd.empty_words(args.indicator, args.by, locale=loc)
    t = dd.totals(frame, args.by)
    count = i18n.counted(t["documents"], "document", loc)
    if args.by == "deal":
        count = f"{i18n.counted(t['rows'], 'deal', loc)} · {count}"
    money = ", ".join(f"{i18n.label(m, loc)} {i18n.money(t[m], loc, currency)}" for m in dd.MONEY_COLUMNS)
    return f"{text}\n\n{count} — {money}\n{i18n.DRILL_WORDS[loc]['amounts']}{i18n.colon(loc)}{words}"


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from . import reports

    if args.subscriptions or args.send or args.dry_run or args.force:
        return _cmd_report_subscriptions(args, settings)
    loc = settings.locale
    if not args.login:
        raise UsageError("cli.report_as")
    args.format = args.format or "html,pdf"
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or any(f not in reports.FORMATS for f in formats):
        from .i18n import shown

        raise UsageError("cli.formats", formats=shown(args.format))
    if args.jobs < 1:
        raise UsageError("cli.jobs")
    _check_date("--as-of", args.as_of)
    try:
        return reports.run_command(
            settings, args.login, by=args.by, units=args.unit, fiscal_year=args.fiscal_year, as_of=args.as_of,
            formats=formats, out=args.out, jobs=args.jobs, config=getattr(args, "config", None),
            notebook=reports.NOTEBOOK,
        )
    except (reports.ChromiumMissing, reports.NothingToRender, FileNotFoundError) as exc:
        return _fail(exc, EXIT_UNUSABLE, loc)


# ---------------------------------------------------------------------------
# report subscriptions (issue 15)


def add_subscription_options(p: argparse.ArgumentParser) -> None:
    """``report --subscriptions [--send] [--dry-run] [--force]``."""
    g = p.add_argument_group("subscriptions ([subscriptions] and [mail] in prospects.toml; docs/deployment.md)")
    g.add_argument("--subscriptions", action="store_true", help="render every subscription as its recipient (not --as), one folder per recipient under --out/subscriptions/<FY>/<as-of>/, and write each mail as message.eml")
    g.add_argument("--send", action="store_true", help="with --subscriptions: send one mail per recipient through [mail] (SMTP), each claimed in the database just before (no mail is ever sent twice, whatever runs at once) and logged once accepted")
    g.add_argument("--dry-run", action="store_true", help="with --subscriptions: render and send nothing; list who would receive what and what the send log and the claims skip; with --send, also check the SMTP server (connection, TLS and login as configured, sender and first recipient accepted) and say what was checked")
    g.add_argument("--force", action="store_true", help="with --subscriptions: resend what the send log says was already sent for this period, and what another run claimed without confirming it")


def _cmd_report_subscriptions(args: argparse.Namespace, settings: Settings) -> int:
    from . import reports, subscriptions

    loc = settings.locale
    if not args.subscriptions:
        raise UsageError("cli.with_subscriptions")
    clashes = [flag for flag, given in (("--as", args.login), ("--unit", args.unit), ("--format", args.format),
                                        ("--by", args.by != "region")) if given]
    if clashes:
        raise UsageError("cli.not_with_subscriptions", options=", ".join(clashes))
    if args.jobs < 1:
        raise UsageError("cli.jobs")
    _check_date("--as-of", args.as_of)
    try:
        return subscriptions.run_command(
            settings, send=args.send, dry_run=args.dry_run, force=args.force, jobs=args.jobs,
            fiscal_year=args.fiscal_year, as_of=args.as_of, out=args.out, config=getattr(args, "config", None),
            notebook=reports.NOTEBOOK,
        )
    except (reports.ChromiumMissing, FileNotFoundError) as exc:
        return _fail(exc, EXIT_UNUSABLE, loc)


def _cmd_subscriptions(args: argparse.Namespace, settings: Settings) -> int:
    from . import subscriptions

    return subscriptions.list_command(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        return _fail(exc, EXIT_UNUSABLE)
    import sqlalchemy as sa

    from .db import DatabaseError, one_line, shown_url
    from .fiscal import PeriodError
    from .scoping import AccessDenied
    from .store import StoreError

    try:
        code = args.handler(args, settings)
        sys.stdout.flush()  # inside the try: a reader gone away shows here, not at exit
        return code
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except AccessDenied as exc:
        return _fail(exc, EXIT_REFUSED, settings.locale)
    except (UsageError, PeriodError, ConfigError, DatabaseError, StoreError) as exc:
        return _fail(exc, EXIT_UNUSABLE, settings.locale)
    except sa.exc.SQLAlchemyError as exc:
        return _fail(f"the database {shown_url(settings.db_url)} failed: {one_line(exc)}", EXIT_UNUSABLE)
    except OSError as exc:  # a file or folder that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", EXIT_UNUSABLE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def _fail(message: object, code: int, locale: str = "fr") -> int:
    """One line on stderr (line breaks in the message folded, control characters escaped), and the
    exit code. An error of the catalog (:class:`~prospects.i18n.Said`) is said in ``locale``, the
    settings' language."""
    import contextlib

    from .i18n import message_line

    said = message.say(locale) if isinstance(message, Said) else message
    with contextlib.suppress(BrokenPipeError):  # stderr closed too
        print(f"prospects: {message_line(said)}", file=sys.stderr)
    return code


def _drop_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush finds no broken pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor (tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
