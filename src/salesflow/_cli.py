"""The ``salesflow`` command line: ``demo``, ``inspect FILE`` and ``report FILE``.

This module parses arguments and runs the commands; the flags' meaning for
the loaders lives in ``_cli_load``, the ``--by`` table in ``_cli_table``, the
look at an unknown file in ``_cli_inspect`` and the rephrasing of library
messages into flags in ``_cli_messages``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import io
from ._cli_load import FORMATS, STDIN, TEMPLATES, UsageError, load, parse_time, pipeline_of, zone_of
from ._cli_messages import for_cli
from ._cli_table import comparison, lead_comparison
from ._optional import require
from .exceptions import SalesflowError
from .metrics import Breakdown, Rate, Report, lead_conversion, report

__all__ = ["main"]


def _write_png(result: Report, target: Path) -> None:
    from . import plot

    # A bare Figure, not pyplot: no global state, nothing to close.
    figure = require("matplotlib.figure", "salesflow[plot]", "--png").Figure(figsize=(8, 5))
    plot.funnel(result.funnel, ax=figure.subplots())
    figure.savefig(target, dpi=120, bbox_inches="tight")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse what cannot be written before any work is done."""
    for flag, target in (("--json", args.json), ("--png", args.png)):
        if target is not None and target.is_dir():
            raise UsageError(f"{flag} {target} is a directory; name a file to write")
    if args.png is None:
        return
    if getattr(args, "by", None):
        raise UsageError("--png draws one funnel; leave out --by")
    require("matplotlib.figure", "salesflow[plot]", "--png")


def _write_json(data: object, target: Path) -> None:
    """Write *data* as JSON to ``--json``'s file; a failed write is one line, not a traceback."""
    try:
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --json {target}: {exc.strerror or exc}") from None


def _emit(result: Report, args: argparse.Namespace) -> None:
    sys.stdout.write(result.to_text())
    if args.json is not None:
        _write_json(result.to_dict(), args.json)
    if args.png is not None:
        _write_png(result, args.png)


def _demo(args: argparse.Namespace) -> int:
    from .datasets import synthetic

    _check_outputs(args)
    deals = synthetic(args.deals, seed=args.seed)
    result = report(deals)
    sys.stdout.write(
        f"A generated sample of {args.deals} deals (seed {args.seed}) on the B2B template.\n\n"
    )
    _emit(result, args)
    return 0


def _by(args: argparse.Namespace) -> str | tuple[str, ...] | None:
    """``--by a --by b`` or ``--by a,b`` as a field name or a tuple of them."""
    fields = [f.strip() for text in args.by or () for f in text.split(",") if f.strip()]
    if not fields:
        return None
    return fields[0] if len(fields) == 1 else tuple(fields)


def _leads(
    loaded: io.LoadResult, args: argparse.Namespace, by: str | tuple[str, ...] | None
) -> None:
    """The lead conversion of ``--format leads``, before the report of the won deals."""
    if not isinstance(loaded, io.ConversionResult):
        return
    as_of = parse_time(args.as_of, zone_of(args), "--as-of") if args.as_of else None
    total = lead_conversion(loaded.leads, as_of=as_of)
    assert isinstance(total, Rate)
    sys.stdout.write(f"Lead conversion: {total.format()}\n")
    if isinstance(by, str):
        groups = lead_conversion(loaded.leads, as_of=as_of, by=by)
        assert isinstance(groups, Breakdown)
        sys.stdout.write(lead_comparison(groups, total))
    sys.stdout.write("\nThe won deals (the conversions file):\n\n")


def _report(args: argparse.Namespace) -> int:
    _check_outputs(args)
    by = _by(args)
    as_of = parse_time(args.as_of, zone_of(args), "--as-of") if args.as_of else None
    pipeline = pipeline_of(args)
    loaded = load(args, pipeline)
    if sys.stderr.isatty():
        sys.stderr.write("\r")
    if loaded.rows_read == 0:
        name = "standard input" if str(args.file) == STDIN else str(args.file)
        raise UsageError(f"{name} has no data rows, only a header; there is nothing to report")
    if loaded.rejects:
        sys.stderr.write(f"{loaded.summary()}\n")
        for error in loaded.rejects[:20]:
            sys.stderr.write(f"  {for_cli(str(error))}\n")
        if len(loaded.rejects) > 20:
            sys.stderr.write(f"  ... and {len(loaded.rejects) - 20} more\n")
    _leads(loaded, args, by)
    if by is None:
        _emit(report(loaded, pipeline=pipeline, as_of=as_of), args)
        return 0
    groups: Breakdown[Report] = report(loaded, pipeline=pipeline, as_of=as_of, by=by)
    total = report(loaded, pipeline=pipeline, as_of=as_of)
    sys.stdout.write(comparison(groups, total))
    if args.json is not None:
        data: dict[str, Any] = {"all": total.to_dict(), "groups": groups.to_dict()}
        _write_json(data, args.json)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from ._cli_inspect import inspect_file

    sys.stdout.write(inspect_file(args.file, encoding=args.encoding, conversions=args.conversions))
    return 0


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _outputs(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--json", type=Path, metavar="OUT", help="also write the report as JSON to OUT"
    )
    sub.add_argument(
        "--png",
        type=Path,
        metavar="OUT",
        help="also draw the funnel to OUT (needs salesflow[plot])",
    )


def _pipeline_flags(rep: argparse.ArgumentParser) -> None:
    group = rep.add_argument_group(
        "pipeline (one of --stages, --pipeline, --template, --salesforce-stages)"
    )
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--stages",
        metavar="'A,B,…'",
        help="the open stages in order, comma-separated: a linear pipeline (with --won, --lost)",
    )
    source.add_argument(
        "--pipeline",
        type=Path,
        metavar="JSON",
        help="a pipeline definition (JSON from Pipeline.to_dict())",
    )
    source.add_argument(
        "--template", choices=sorted(TEMPLATES), help="a built-in pipeline (default b2b)"
    )
    source.add_argument(
        "--salesforce-stages",
        type=Path,
        metavar="CSV",
        help="a Salesforce OpportunityStage export to build the pipeline from",
    )
    group.add_argument("--won", metavar="STAGE", help="--stages: the won stage (default Won)")
    group.add_argument(
        "--lost", metavar="STAGE", help="--stages: the lost stage (default Lost; '' for none)"
    )
    group.add_argument("--name", help="--stages: the pipeline's name (default: the file's name)")


def _reading_flags(rep: argparse.ArgumentParser) -> None:
    group = rep.add_argument_group("reading the file")
    group.add_argument(
        "--format", choices=FORMATS, default="events", help="the file's shape (default events)"
    )
    group.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a field to your column (FIELD= ignores a field); repeatable",
    )
    group.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="LABEL=STAGE",
        help="map a stage label of the file to a stage of the pipeline; repeatable",
    )
    group.add_argument(
        "--stage-date",
        action="append",
        default=[],
        metavar="STAGE=COLUMN",
        help="deals: the column with the date each deal entered STAGE; repeatable",
    )
    group.add_argument(
        "--attribute",
        action="append",
        default=[],
        metavar="COLUMN[=NAME]",
        help="copy a column into the deals' (leads') attributes, e.g. for --by; repeatable",
    )
    group.add_argument("--encoding", help="the file's encoding, e.g. cp1252 (default UTF-8)")
    group.add_argument(
        "--delimiter", help="the separator: , ; tab | (default: detected from the header)"
    )
    group.add_argument(
        "--decimal", choices=(".", ","), help="the decimal mark of amounts (default .)"
    )
    group.add_argument(
        "--timezone",
        help="zone of dates without an offset, e.g. UTC or Europe/Paris (and of --as-of)",
    )
    group.add_argument(
        "--timestamp-format",
        help="strptime format of the dates, e.g. '%%d/%%m/%%Y' (default ISO 8601)",
    )
    group.add_argument(
        "--currency", help="currency of the amounts when the file has no currency column"
    )
    group.add_argument(
        "--undated",
        metavar="latest|error|DATE",
        help="deals: place rows with no date at the file's latest date, or at DATE (default error)",
    )
    group.add_argument(
        "--allow-negative", action="store_true", help="accept negative deal values (refunds)"
    )
    group.add_argument(
        "--case-insensitive", action="store_true", help="match stage labels ignoring case"
    )
    group.add_argument(
        "--conflicts",
        choices=("error", "latest"),
        help="events: when a deal's rows disagree on its value, owner or source (default error)",
    )
    group.add_argument(
        "--conversions", type=Path, metavar="FILE", help="leads: the won deals' table"
    )
    group.add_argument(
        "--early",
        choices=("error", "clamp"),
        help="leads: a deal that opens before its lead was created (default error)",
    )
    group.add_argument("--shape", choices=("ui", "api"), help="hubspot: the export's column names")
    group.add_argument("--pipeline-label", help="hubspot: the pipeline to read, by its label")
    group.add_argument("--pipeline-id", help="hubspot: the pipeline to read, by its id")
    group.add_argument(
        "--other-pipelines", choices=("reject", "skip"), help="hubspot: deals of other pipelines"
    )
    group.add_argument("--deleted", choices=("reject", "skip"), help="salesforce: deleted rows")
    group.add_argument(
        "--collect", action="store_true", help="report bad rows on stderr instead of stopping"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesflow",
        description="Model sales pipelines and funnels, and measure them honestly.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="print the full report on a generated sample")
    demo.add_argument(
        "--deals", type=_count, default=5000, help="how many deals to generate (default 5000)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _outputs(demo)
    demo.set_defaults(run=_demo)
    look = commands.add_parser(
        "inspect", help="describe an unknown export and suggest the report command that loads it"
    )
    look.add_argument("file", type=Path, help="the CSV file")
    look.add_argument("--encoding", help="the file's encoding (default: UTF-8, else a guess)")
    look.add_argument(
        "--conversions",
        type=Path,
        metavar="FILE",
        help="a lead table's won deals: suggest the --format leads command that loads both",
    )
    look.set_defaults(run=_inspect)
    rep = commands.add_parser("report", help="print the full report for a CRM export")
    rep.add_argument("file", type=Path, help="the CSV file ('-' reads standard input)")
    rep.add_argument(
        "--as-of",
        metavar="WHEN",
        help="cut-off: a date (2017-12-31, midnight), or a date-time with an offset, or without "
        "one in --timezone (default: the latest event)",
    )
    rep.add_argument(
        "--by",
        action="append",
        metavar="FIELD",
        help="one table row per value of FIELD (owner, source, an --attribute …); "
        "several: --by a --by b or --by a,b",
    )
    _pipeline_flags(rep)
    _reading_flags(rep)
    _outputs(rep)
    rep.set_defaults(run=_report)
    from ._cli_movement import add_movement_commands

    add_movement_commands(commands, _pipeline_flags, _reading_flags)
    return parser


def _run(args: argparse.Namespace) -> int:
    """Run the command; then show its warnings as ``salesflow: warning:`` lines.

    Warnings that differ only in their numbers (one per ``--by`` group) are
    shown once, the last of them (the total's), with how many were alike.
    """
    alike: dict[str, list[str]] = {}

    def keep(message: Warning | str, *_: object, **__: object) -> None:
        text = for_cli(str(message))
        alike.setdefault(re.sub(r"\d[\d,.]*", "#", text), []).append(text)

    # An application may decide how warnings show; the library never does.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = keep
            code: int = args.run(args)
    finally:
        for texts in alike.values():
            more = f" (and {len(texts) - 1} more like it, one per group)" if len(texts) > 1 else ""
            sys.stderr.write(f"salesflow: warning: {texts[-1]}{more}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `salesflow demo | head`): stop quietly, as
        # the Python docs recommend, instead of a traceback on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (UsageError, SalesflowError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"salesflow: error: {for_cli(str(exc))}\n")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
