"""Case: the columnar lane (``EventTable``) vs the suite's pandas implementation.

For each size, the generated deals become an ``EventTable`` and an events
DataFrame (both conversions shown as ``data:`` rows). Then, in the same run:

* ``columnar report N``: ``salesflow.report(table)`` with every number read
  (``salesflow``) vs the suite's vectorised pandas report on the frame; the
  first run of pandas must agree with salesflow's on every number.
* ``columnar memory N``: bytes per deal of the table (tracemalloc: the NumPy
  columns; the pyarrow ids are added from ``table.nbytes``, since Arrow's
  allocator is not traced) vs the pandas frame's ``memory_usage(deep=True)``.

At the loading size, the events CSV is written once and read by
``read_events_table`` (checked: the table's deals are the generated ones)
vs ``pandas.read_csv``; and end to end, CSV to every number of the report,
salesflow (``read_events_table`` then ``report``) vs pandas (``read_csv``,
the columns typed as the pandas report wants them, then its report), checked
to agree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import report_pandas
import report_salesflow
from _config import Config, generated, log
from _harness import SALESFLOW, Row, measure, time_once, traced_bytes
from _machines import KEYS, PIPELINE
from report_common import ReportNumbers, check_agreement

import salesflow as sf
from salesflow.io import read_events_table, write_events_csv

NAME = "columnar"
PANDAS = "pandas (vectorised)"
READ_CSV = "pandas.read_csv"
PANDAS_E2E = "pandas: read_csv + report"


def pandas_frame_from_csv(path: Path) -> pd.DataFrame:
    """The CSV as the pandas report's frame: ids, positions, stage categories, UTC times, values."""
    frame = pd.read_csv(path, usecols=["deal_id", "stage", "at", "value"], dtype={"deal_id": "str"})
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame["stage"] = pd.Categorical(frame["stage"].map(_KEY_OF), categories=list(KEYS))
    frame["seq"] = frame.groupby("deal_id", sort=False).cumcount().astype(np.int32)
    return frame[["deal_id", "seq", "stage", "at", "value"]]


_KEY_OF = {stage.name: stage.key for stage in PIPELINE.stages} | {
    stage.key: stage.key for stage in PIPELINE.stages
}


def _one_size(config: Config, n: int) -> list[Row]:
    report_group = f"{NAME} report {n:,}"
    deals = generated(n)
    seconds, table = time_once(lambda: sf.EventTable.from_deals(deals))
    rows = [
        Row(
            NAME,
            "data: deals -> EventTable",
            n,
            n,
            "deal",
            report_group,
            [seconds],
            role="info",
            note=f"{table.events:,} stage changes",
        )
    ]
    seconds, frame = time_once(lambda: report_pandas.events_frame(deals))
    rows.append(
        Row(
            NAME,
            "data: deals -> events DataFrame",
            n,
            n,
            "deal",
            report_group,
            [seconds],
            role="info",
        )
    )
    reference: list[ReportNumbers] = []
    log(f"columnar {n:,}: salesflow report(table), then pandas (checked against it)")
    seconds = measure(
        lambda _: report_salesflow.numbers(table),  # type: ignore[arg-type]
        repeat=config.repeat,
        check=reference.append,
    )
    rows.append(Row(NAME, SALESFLOW, n, n, "deal", report_group, seconds))
    seconds = measure(
        lambda _: report_pandas.numbers(frame),
        repeat=config.repeat,
        check=lambda found: check_agreement(reference[0], found, PANDAS),
    )
    rows.append(Row(NAME, PANDAS, n, n, "deal", report_group, seconds))

    memory_group = f"{NAME} memory {n:,}"
    ids = int(table.ids.nbytes)
    traced = traced_bytes(lambda: sf.EventTable.from_deals(deals)) + ids
    rows.append(
        Row(
            NAME,
            SALESFLOW,
            n,
            n,
            "deal",
            memory_group,
            bytes=traced,
            note=f"columns {table.nbytes / n:,.0f} B/deal (ids {ids / n:,.0f})",
        )
    )
    rows.append(
        Row(
            NAME,
            "pandas events DataFrame",
            n,
            n,
            "deal",
            memory_group,
            bytes=int(frame.memory_usage(deep=True).sum()),
        )
    )
    return rows


def _loading(config: Config) -> list[Row]:
    n = config.load_size
    deals = generated(n)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="salesflow-bench-") as tmp:
        path = Path(tmp) / "events.csv"
        log(f"columnar: writing {n:,} deals' events to {path}")
        written = write_events_csv(deals, path)

        def same_deals(found: Any) -> None:
            if len(found) != n or found.events != written or found.to_deals() != deals:
                msg = "read_events_table did not give back the deals that were written"
                raise AssertionError(msg)

        def every_row(found: pd.DataFrame) -> None:
            if len(found) != written:
                msg = f"pandas.read_csv read {len(found):,} rows, not {written:,}"
                raise AssertionError(msg)

        group = f"{NAME} loading {n:,}"
        log(f"columnar loading {n:,}: read_events_table, pandas.read_csv")
        seconds = measure(
            lambda _: read_events_table(path, PIPELINE), repeat=config.repeat, check=same_deals
        )
        rows.append(Row(NAME, SALESFLOW, n, n, "deal", group, seconds))
        seconds = measure(lambda _: pd.read_csv(path), repeat=config.repeat, check=every_row)
        rows.append(Row(NAME, READ_CSV, n, n, "deal", group, seconds))

        group = f"{NAME} end-to-end {n:,}"
        reference: list[ReportNumbers] = []
        log(f"columnar end to end {n:,}: CSV -> report, salesflow then pandas (checked)")
        seconds = measure(
            lambda _: report_salesflow.numbers(read_events_table(path, PIPELINE)),  # type: ignore[arg-type]
            repeat=config.repeat,
            check=reference.append,
        )
        rows.append(Row(NAME, SALESFLOW, n, n, "deal", group, seconds))
        seconds = measure(
            lambda _: report_pandas.numbers(pandas_frame_from_csv(path)),
            repeat=config.repeat,
            check=lambda found: check_agreement(reference[0], found, PANDAS_E2E),
        )
        rows.append(Row(NAME, PANDAS_E2E, n, n, "deal", group, seconds))
    return rows


def run(config: Config) -> list[Row]:
    """Every size in ``config.sizes``, smallest first, then the loading size."""
    rows = []
    for n in sorted(config.sizes):
        rows += _one_size(config, n)
    return rows + _loading(config)
