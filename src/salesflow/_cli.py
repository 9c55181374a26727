"""The ``salesflow`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._report import report


def _demo(args: argparse.Namespace) -> int:
    from .datasets import synthetic

    deals = synthetic(args.deals, seed=args.seed)
    result = report(deals)
    sys.stdout.write(
        f"A generated sample of {args.deals} deals (seed {args.seed}) on the B2B template.\n\n"
    )
    sys.stdout.write(result.to_text())
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
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
    demo.add_argument(
        "--json", type=Path, metavar="OUT", help="also write the report as JSON to OUT"
    )
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
