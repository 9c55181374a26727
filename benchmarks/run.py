"""Run the salesflow benchmark suite and print one table.

Usage::

    python benchmarks/run.py                      # the full run (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick              # a smoke run for CI (under a minute)
    python benchmarks/run.py --cases report --sizes 10000,100000 --repeat 3
    python benchmarks/run.py --json out.json --markdown out.md
    python benchmarks/run.py --from-json out.json --markdown out.md   # re-render a saved run

Cases: ``transitions`` (live deals moved through the pipeline), ``creation``
(deals created per second, and bytes per deal), ``report`` (the standard
report vs pandas and DuckDB SQL), ``loading`` (a stage-event CSV),
``forecast`` (10,000 simulations of the deals open at the end),
``columnar`` (the ``EventTable`` lane vs pandas). ``dask``
(``salesflow.dask.report`` on a local cluster, per core, vs one process) runs
only when named, e.g. ``--cases dask --dask-deals 200000``: it starts two
worker processes and takes minutes at its default 10,000,000 deals. Every
number is the median of several runs; peers are compared with salesflow
within the same run. The suite checks that the implementations agree, never
how fast they are.

The peers come from the ``benchmarks`` extra:
``pip install -e ".[benchmarks]"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

# The case modules sit next to this file; make them importable however it is run.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import case_columnar
import case_creation
import case_dask
import case_forecast
import case_loading
import case_report
import case_transitions
from _config import Config, forget, log
from _harness import (
    HEADERS,
    Row,
    machine_line,
    markdown_table,
    ratio_lines,
    ratio_rows,
    table_cells,
    text_table,
)
from _targets import verdicts

CASES = {
    "transitions": case_transitions.run,
    "creation": case_creation.run,
    "report": case_report.run,
    "loading": case_loading.run,
    "forecast": case_forecast.run,
    "columnar": case_columnar.run,
    "dask": case_dask.run,
}
#: Cases run only when named in ``--cases``: ``dask`` starts a local cluster of
#: two worker processes and takes minutes at its default 10,000,000 deals.
OPT_IN = {"dask"}
#: The cases of a run without ``--cases``.
DEFAULT_CASES = tuple(name for name in CASES if name not in OPT_IN)
FULL = {"deals": 100_000, "sizes": (10_000, 100_000, 1_000_000), "repeat": 5}
QUICK = {"deals": 1_000, "sizes": (1_000, 5_000), "repeat": 3}
#: The opt-in dask case (``--cases dask``), in a full or a quick run alike.
DASK = {"deals": 10_000_000, "partitions": 32}
#: The numeric columns of the results table (right-aligned).
NUMBERS = {2, 3, 4, 5}
TARGET_HEADERS = ["case", "target", "measured", "status"]
RATIO_HEADERS = ["compared in", "salesflow vs", "salesflow is (per item, same run)"]
#: In a quick run, slow peers (python-statemachine, a Machine per deal) use this many deals.
QUICK_SLOW_CAP = 300


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())
    except ValueError:
        msg = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not values or any(v <= 0 for v in values):
        msg = f"expected positive integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return values


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"expected a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _cases(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        msg = f"unknown case(s) {unknown!r}; choose from {', '.join(CASES)}"
        raise argparse.ArgumentTypeError(msg)
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Benchmark salesflow against transitions, python-statemachine, pandas and DuckDB.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run for CI (< 60 s)"
    )
    parser.add_argument(
        "--cases",
        type=_cases,
        default=DEFAULT_CASES,
        help=f"comma-separated: {','.join(CASES)} (default all but {','.join(sorted(OPT_IN))})",
    )
    parser.add_argument(
        "--sizes",
        type=_ints,
        help="deal counts for the report case (default 10000,100000,1000000; quick 1000,5000)",
    )
    parser.add_argument(
        "--deals",
        type=_positive,
        help="live deals for transitions, creation and memory (default 100000; quick 1000)",
    )
    parser.add_argument(
        "--load-size",
        type=_positive,
        help="deals in the loading case's CSV (default: the largest of --sizes)",
    )
    parser.add_argument(
        "--dask-deals",
        type=_positive,
        help="deals in the dask case (default 10000000; a local cluster, minutes)",
    )
    parser.add_argument(
        "--dask-partitions",
        type=_positive,
        help="Parquet files / Dask partitions in the dask case (default 32)",
    )
    parser.add_argument(
        "--repeat", type=_positive, help="timed runs per measurement (default 5; quick 3)"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="IN",
        help="measure nothing: show (and --markdown) the results saved by --json",
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="OUT", help="also write the tables as Markdown"
    )
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    """The run's settings: the defaults of the full or quick run, overridden by options."""
    base = QUICK if args.quick else FULL
    sizes = tuple(sorted(args.sizes or base["sizes"]))
    return Config(
        deals=args.deals or base["deals"],
        sizes=sizes,
        load_size=args.load_size or sizes[-1],
        repeat=args.repeat or base["repeat"],
        quick=args.quick,
        slow_cap=QUICK_SLOW_CAP if args.quick else None,
        dask_deals=args.dask_deals or DASK["deals"],
        dask_partitions=args.dask_partitions or DASK["partitions"],
    )


def render_text(rows: list[Row], machine: str, command: str, elapsed: float) -> str:
    """Everything a terminal shows: machine, table, ratios, targets."""
    body = [table_cells(r) for r in rows]
    targets = [v.cells() for v in verdicts(rows)]
    parts = [
        f"machine: {machine}",
        f"command: {command}  ({elapsed:.0f} s)",
        "",
        text_table(HEADERS, body, right=NUMBERS),
        "",
        "ratios (per item, same run):",
        *(f"  {line}" for line in ratio_lines(rows)),
        "",
        text_table(TARGET_HEADERS, targets, right=set()),
    ]
    return "\n".join(parts) + "\n"


def render_markdown(rows: list[Row], machine: str, command: str, elapsed: float) -> str:
    """The same as Markdown, for ``docs/explanation/performance.md``."""
    body = [table_cells(r) for r in rows]
    targets = [v.cells() for v in verdicts(rows)]
    parts = [
        f"Machine: {machine}.",
        "",
        f"Command: `{command}` ({elapsed / 60:.0f} minutes).",
        "",
        markdown_table(HEADERS, body, right=NUMBERS),
        "",
        markdown_table(RATIO_HEADERS, ratio_rows(rows), right={2}),
        "",
        markdown_table(TARGET_HEADERS, targets, right=set()),
    ]
    return "\n".join(parts) + "\n"


def measure_all(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    """Run the chosen cases; return the results as a JSON-safe dict."""
    config = config_from(args)
    command = shlex.join(["python", "benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    machine = machine_line()
    log(f"machine: {machine}")
    log(f"settings: {config}")
    start = time.perf_counter()
    rows: list[Row] = []
    for name in args.cases:
        rows += CASES[name](config)
    forget()
    return {
        "machine": machine,
        "command": command,
        "seconds": time.perf_counter() - start,
        "config": dataclasses.asdict(config),
        "rows": [r.to_dict() for r in rows],
        "ratios": ratio_lines(rows),
        "targets": [dataclasses.asdict(v) for v in verdicts(rows)],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen cases (or read a saved run) and report them."""
    args = parse_args(argv)
    if args.from_json:
        data = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        data = measure_all(args, argv)
    rows = [Row.from_dict(r) for r in data["rows"]]
    shown = (rows, data["machine"], data["command"], data["seconds"])
    print(render_text(*shown), end="")
    if args.markdown:
        args.markdown.write_text(render_markdown(*shown), encoding="utf-8")
    if args.json and not args.from_json:
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
