"""The ``salesflow`` command line: ``salesflow demo`` and ``salesflow report FILE``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from . import io, templates
from ._optional import require
from ._pipeline import Pipeline
from .exceptions import SalesflowError
from .metrics import Report, report

#: ``--format`` -> the loader that reads it; a new loader is one line here.
LOADERS: dict[str, Callable[..., io.LoadResult]] = {
    "events": io.read_events_csv,
    "deals": io.read_deals_csv,
    "hubspot": io.read_hubspot_deals,
    "salesforce": io.read_salesforce_history,
}
FORMATS = tuple(LOADERS)
TEMPLATES: dict[str, Callable[[], Pipeline]] = {
    "b2b": templates.b2b,
    "investor": templates.investor,
    "hubspot": templates.hubspot_default,
}


class UsageError(Exception):
    """A problem with the command's input, reported in one line with exit code 2."""


def _progress() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(rows: int) -> None:
        sys.stderr.write(f"\rread {rows:,} rows")
        sys.stderr.flush()

    return show


def _pipeline(args: argparse.Namespace) -> Pipeline:
    if args.pipeline is not None:
        try:
            data = json.loads(Path(args.pipeline).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(
                f"cannot read the pipeline file {args.pipeline}: {exc.strerror or exc}"
            ) from None
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{args.pipeline}, line {exc.lineno}: not valid JSON ({exc.msg})"
            ) from None
        return Pipeline.from_dict(data)
    if args.stages is not None:
        return io.salesforce_pipeline(args.stages)
    name = args.template or ("hubspot" if args.format == "hubspot" else "b2b")
    return TEMPLATES[name]()


def _columns(pairs: Sequence[str]) -> dict[str, str | None]:
    columns: dict[str, str | None] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field:
            raise UsageError(
                f"--column takes FIELD=COLUMN (or FIELD= to ignore a field), got {pair!r}"
            )
        columns[field.strip()] = column.strip() or None
    return columns


def _pairs(pairs: Sequence[str], option: str, shape: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        left, sep, right = pair.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(f"{option} takes {shape}, got {pair!r}")
        mapping[left.strip()] = right.strip()
    return mapping


def _load(args: argparse.Namespace, pipeline: Pipeline) -> io.LoadResult:
    options: dict[str, Any] = {
        "timezone": args.timezone,
        "errors": "collect" if args.collect else "raise",
        "progress": _progress(),
    }
    if args.column:
        options["columns"] = _columns(args.column)
    if args.timestamp_format:
        options["timestamp_format"] = args.timestamp_format
    if args.currency:
        options["currency"] = args.currency
    if args.stage:
        options["stage_map"] = _pairs(args.stage, "--stage", "LABEL=STAGE")
    if args.undated is not None:
        if args.format != "deals":
            raise UsageError("--undated applies to --format deals only")
        options["undated"] = args.undated
    return LOADERS[args.format](args.file, pipeline, **options)


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--as-of takes an ISO 8601 timestamp with an offset, got {text!r}"
        ) from None
    if at.tzinfo is None:
        raise UsageError(f"--as-of {text!r} has no time zone; add one, e.g. {text}+00:00")
    return at


def _write_png(result: Report, target: Path) -> None:
    from . import plot

    # A bare Figure, not pyplot: no global state, nothing to close.
    figure = require("matplotlib.figure", "salesflow[plot]", "--png").Figure(figsize=(8, 5))
    plot.funnel(result.funnel, ax=figure.subplots())
    figure.savefig(target, dpi=120, bbox_inches="tight")


def _emit(result: Report | Any, args: argparse.Namespace) -> None:
    if isinstance(result, Report):
        sys.stdout.write(result.to_text())
        data: Any = result.to_dict()
    else:  # a Breakdown of reports
        data = {}
        for key, part in result.items():
            sys.stdout.write(f"=== {args.by} = {key}\n{part.to_text()}\n")
            data[str(key)] = part.to_dict()
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if args.png is not None:
        if not isinstance(result, Report):
            raise UsageError("--png draws one funnel; leave out --by")
        _write_png(result, args.png)


def _demo(args: argparse.Namespace) -> int:
    from .datasets import synthetic

    deals = synthetic(args.deals, seed=args.seed)
    result = report(deals)
    sys.stdout.write(
        f"A generated sample of {args.deals} deals (seed {args.seed}) on the B2B template.\n\n"
    )
    _emit(result, args)
    return 0


def _report(args: argparse.Namespace) -> int:
    pipeline = _pipeline(args)
    loaded = _load(args, pipeline)
    if sys.stderr.isatty():
        sys.stderr.write("\r")
    if loaded.rejects:
        sys.stderr.write(f"{loaded.summary()}\n")
        for error in loaded.rejects[:20]:
            sys.stderr.write(f"  {error}\n")
        if len(loaded.rejects) > 20:
            sys.stderr.write(f"  ... and {len(loaded.rejects) - 20} more\n")
    result = report(loaded, pipeline=pipeline, as_of=_as_of(args.as_of), by=args.by)
    _emit(result, args)
    return 0


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


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
    rep = commands.add_parser("report", help="print the full report for a CRM export")
    rep.add_argument("file", type=Path, help="the CSV file")
    rep.add_argument(
        "--format", choices=FORMATS, default="events", help="the file's shape (default events)"
    )
    source = rep.add_mutually_exclusive_group()
    source.add_argument(
        "--pipeline", type=Path, help="a pipeline definition (JSON from Pipeline.to_dict())"
    )
    source.add_argument("--template", choices=sorted(TEMPLATES), help="a built-in pipeline")
    source.add_argument(
        "--stages", type=Path, help="Salesforce OpportunityStage CSV to build the pipeline from"
    )
    rep.add_argument("--as-of", help="cut-off, ISO 8601 with an offset (default: the latest event)")
    rep.add_argument("--by", help="one report per value of this field (owner, source, currency, …)")
    rep.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a field to your column",
    )
    rep.add_argument(
        "--timezone", help="zone of timestamps without an offset, e.g. UTC or Europe/Paris"
    )
    rep.add_argument(
        "--timestamp-format", help="strptime format of the timestamps (default ISO 8601)"
    )
    rep.add_argument("--currency", help="currency of the amounts when the file has none")
    rep.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="LABEL=STAGE",
        help="map a stage label of the file to a stage",
    )
    rep.add_argument(
        "--undated",
        choices=("error", "latest"),
        help="deals format: place rows without dates at the latest date",
    )
    rep.add_argument(
        "--collect", action="store_true", help="report bad rows on stderr instead of stopping"
    )
    for sub in (demo, rep):
        sub.add_argument(
            "--json", type=Path, metavar="OUT", help="also write the report as JSON to OUT"
        )
        sub.add_argument(
            "--png",
            type=Path,
            metavar="OUT",
            help="also draw the funnel to OUT (needs salesflow[plot])",
        )
    demo.set_defaults(run=_demo, by=None)
    rep.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `salesflow demo | head`): stop quietly, as
        # the Python docs recommend, instead of a traceback on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (UsageError, SalesflowError, ValueError, ImportError) as exc:
        sys.stderr.write(f"salesflow: error: {exc}\n")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
