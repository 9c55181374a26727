"""Case: a stage-event CSV loaded into memory.

The generated deals are written once with ``write_events_csv`` (one row per
stage change, value, currency, owner, source and lost reason on each row).
Then the same file is read by:

* ``salesflow.io.read_events_csv``: rows grouped into deals, timestamps and
  amounts parsed, every history replayed against the pipeline's rules, into
  ``Deal`` objects;
* ``pandas.read_csv`` with its defaults (timestamps stay text), the reference
  of the issue's target;
* ``pandas.read_csv(parse_dates=["at"])``, which also parses the timestamps;
* DuckDB's ``read_csv`` into a native table.

The first (warm-up) run of each reader is checked before any run is timed:
the loaded deals must equal the generated ones, and every reader must see
every row.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from _config import Config, generated, log
from _harness import SALESFLOW, Row, measure, time_once
from _machines import PIPELINE

from salesflow.io import LoadResult, read_events_csv, write_events_csv

NAME = "loading"
PANDAS = "pandas.read_csv"
PANDAS_DATES = "pandas.read_csv (parse_dates)"
DUCKDB = "DuckDB read_csv (native table)"


def _duckdb_rows(path: Path) -> int:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE events AS SELECT * FROM read_csv(?)", [str(path)])
        found = con.execute("SELECT count(*) FROM events").fetchone()
    return int(found[0]) if found else 0


def run(config: Config) -> list[Row]:
    """Write the CSV once, check every reader, then time them."""
    n = config.load_size
    group = f"{NAME} {n:,}"
    deals = generated(n)
    with tempfile.TemporaryDirectory(prefix="salesflow-bench-") as tmp:
        path = Path(tmp) / "events.csv"
        log(f"loading: writing {n:,} deals' events to {path}")
        seconds, written = time_once(lambda: write_events_csv(deals, path))
        size = path.stat().st_size
        rows = [
            Row(
                NAME,
                "data: write_events_csv",
                n,
                n,
                "deal",
                group,
                [seconds],
                role="info",
                note=f"{written:,} rows, {size / 1e6:,.0f} MB",
            )
        ]

        def same_deals(loaded: LoadResult) -> None:
            if loaded.deals != tuple(deals) or loaded.rows_read != written:
                msg = "read_events_csv did not give back the deals that were written"
                raise AssertionError(msg)

        def every_row(name: str) -> Callable[[object], None]:
            def check(table: object) -> None:
                count = table if isinstance(table, int) else len(table)
                if count != written:
                    msg = f"{name} read {count:,} rows, not {written:,}"
                    raise AssertionError(msg)

            return check

        timed: list[tuple[str, Callable[[object], object], Callable[[Any], None]]] = [
            (SALESFLOW, lambda _: read_events_csv(path, PIPELINE), same_deals),
            (PANDAS, lambda _: pd.read_csv(path), every_row(PANDAS)),
            (
                PANDAS_DATES,
                lambda _: pd.read_csv(path, parse_dates=["at"]),
                every_row(PANDAS_DATES),
            ),
            (DUCKDB, lambda _: _duckdb_rows(path), every_row(DUCKDB)),
        ]
        for name, read, check in timed:
            log(f"loading: {name} (its first run is checked, then timed runs)")
            seconds = measure(read, repeat=config.repeat, check=check)
            rows.append(Row(NAME, name, n, n, "deal", group, seconds))
    return rows
