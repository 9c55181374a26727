"""The ``salesflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from . import templates
from ._money import Money


def _demo(args: argparse.Namespace) -> int:
    pipeline = templates.b2b()
    out = sys.stdout
    out.write(pipeline.to_markdown())
    out.write("\n")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    deal = pipeline.open_deal("DEMO-1", at=start, value=Money("24000", "USD"), owner="demo")
    when = start
    while deal.is_open:
        when += timedelta(days=4)
        deal = deal.advance(at=when)
    out.write(f"One deal walked through the pipeline: {deal!r}\n")
    for change in deal.history:
        out.write(f"  {change.at:%Y-%m-%d}  {change.stage}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="salesflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="print a report on a generated sample")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `salesflow demo | head`): stop quietly, as
        # the Python docs recommend, instead of a traceback on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
