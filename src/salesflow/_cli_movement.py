"""The movement commands: ``salesflow changes FILE --from D --to D`` and ``salesflow stale FILE``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ._cli_load import UsageError, load, parse_time, pipeline_of, zone_of
from ._cli_messages import for_cli
from .io import LoadResult
from .metrics import Breakdown, Waterfall, pipeline_changes, stale_deals

__all__ = ["add_movement_commands"]

Flags = Callable[[argparse.ArgumentParser], None]


def _loaded(args: argparse.Namespace) -> LoadResult:
    pipeline = pipeline_of(args)
    loaded = load(args, pipeline)
    if sys.stderr.isatty():
        sys.stderr.write("\r")
    if loaded.rejects:
        sys.stderr.write(f"{loaded.summary()}\n")
        for error in loaded.rejects[:20]:
            sys.stderr.write(f"  {for_cli(str(error))}\n")
    return loaded


def waterfall_text(waterfall: Waterfall) -> str:
    """The waterfall as a text table: bucket, count, amount."""
    lines = [f"Pipeline changes from {waterfall.start.isoformat()} to {waterfall.end.isoformat()}"]
    lines.append(f"{'bucket':22} {'count':>7} {'amount':>20}")
    lines.append("-" * 51)
    for name in (*waterfall.names, "pushed_out_of_window"):
        bucket = waterfall[name]
        amount = "" if bucket.amount is None else str(bucket.amount)
        lines.append(f"{name.replace('_', ' '):22} {bucket.count:>7} {amount:>20}")
    return "\n".join(lines) + "\n"


def _changes(args: argparse.Namespace) -> int:
    zone = zone_of(args)
    start = parse_time(args.start, zone, "--from")
    end = parse_time(args.end, zone, "--to")
    if end < start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    loaded = _loaded(args)
    by = args.by
    result = pipeline_changes(loaded, start, end, by=by)
    if isinstance(result, Breakdown):
        for key, waterfall in result.items():
            sys.stdout.write(f"{by} = {key}\n{waterfall_text(waterfall)}\n")
        data = result.to_dict()
    else:
        sys.stdout.write(waterfall_text(result))
        data = result.to_dict()
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


def _stale(args: argparse.Namespace) -> int:
    as_of = parse_time(args.as_of, zone_of(args), "--as-of") if args.as_of else None
    loaded = _loaded(args)
    found = stale_deals(loaded, as_of=as_of, rule=args.rule)
    if not found:
        stages = loaded.deals[0].pipeline.stages if loaded.deals else ()
        rotting = any(s.rotting_after is not None for s in stages)
        hint = "" if rotting else " (no stage has a rotting_after; give one in --pipeline)"
        sys.stdout.write(f"No stale deals{hint}.\n")
        return 0
    sys.stdout.write(f"{len(found)} stale deals, most value at risk first\n")
    sys.stdout.write(f"{'deal':16} {'stage':24} {'owner':14} {'value':>18} {'days over':>9}\n")
    for s in found:
        value = "" if s.value is None else str(s.value)
        sys.stdout.write(
            f"{s.deal.id:16} {s.stage:24} {s.owner or '':14} {value:>18} {s.days_over:>9}\n"
        )
    return 0


def add_movement_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    pipeline_flags: Flags,
    reading_flags: Flags,
) -> None:
    """Add ``changes`` and ``stale`` to the command line's subcommands."""
    changes = commands.add_parser(
        "changes", help="what moved in the pipeline between two dates (the waterfall)"
    )
    changes.add_argument("file", type=Path, help="the CSV file ('-' reads standard input)")
    changes.add_argument("--from", dest="start", required=True, metavar="WHEN", help="window start")
    changes.add_argument(
        "--to", dest="end", required=True, metavar="WHEN", help="window end (excluded)"
    )
    changes.add_argument("--by", metavar="FIELD", help="one waterfall per value of FIELD")
    changes.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    pipeline_flags(changes)
    reading_flags(changes)
    changes.set_defaults(run=_changes)
    stale = commands.add_parser(
        "stale", help="open deals in a stage longer than its rotting_after, most value first"
    )
    stale.add_argument("file", type=Path, help="the CSV file ('-' reads standard input)")
    stale.add_argument("--as-of", metavar="WHEN", help="cut-off (default: the latest change)")
    stale.add_argument(
        "--rule",
        choices=("stage", "activity"),
        default="stage",
        help="stage: time in stage (default); activity: time since the last activity",
    )
    pipeline_flags(stale)
    reading_flags(stale)
    stale.set_defaults(run=_stale)
