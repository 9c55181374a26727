"""Case: the full standard report on generated deals, vs pandas and DuckDB SQL.

For each size, ``synthetic(n, seed=0, touchpoints=False)`` is generated once;
the deals are converted to an events DataFrame (pandas' natural input) and
copied into a DuckDB table (DuckDB's). Those conversions are timed once and
shown as ``data:`` rows, with the memory each form takes; they are not part of
the compared timings, which cover the metric computation only, from data
already in memory in each tool's form. salesflow computes its Kaplan-Meier
summaries when they are read, so its timed run reads every number; a
``salesflow: report() alone`` row shows the pass without that reading.

salesflow runs first; the first (warm-up) run of pandas and of DuckDB must
agree with it on every number (see :mod:`report_common`) before any of their
runs is timed. A disagreement stops the run.
"""

from __future__ import annotations

from collections.abc import Callable

import report_duckdb
import report_pandas
import report_salesflow
from _config import Config, generated, log
from _harness import SALESFLOW, Row, measure, rss_bytes, time_once
from report_common import ReportNumbers, check_agreement

import salesflow as sf

NAME = "report"
PANDAS = "pandas (vectorised)"
DUCKDB = "DuckDB SQL"


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"


def _duckdb_bytes(con: object) -> int:
    rows = con.execute(  # type: ignore[attr-defined]
        "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
    ).fetchone()
    return int(rows[0] or 0)


def _one_size(config: Config, n: int) -> list[Row]:
    group = f"{NAME} {n:,}"
    before = rss_bytes()
    seconds, deals = time_once(lambda: generated(n))
    events = sum(len(d.stage_keys) for d in deals)
    rows = [
        Row(
            NAME,
            "data: synthetic() -> list of Deal",
            n,
            n,
            "deal",
            group,
            [seconds],
            role="info",
            note=f"{events:,} stage changes; RSS {(rss_bytes() - before) / 1e6:+,.0f} MB",
        )
    ]
    seconds, frame = time_once(lambda: report_pandas.events_frame(deals))
    size = _mb(frame.memory_usage(deep=True).sum())
    rows.append(
        Row(
            NAME,
            "data: deals -> events DataFrame",
            n,
            n,
            "deal",
            group,
            [seconds],
            role="info",
            note=size,
        )
    )
    seconds, con = time_once(lambda: report_duckdb.load(frame))
    rows.append(
        Row(
            NAME,
            "data: DataFrame -> DuckDB table",
            n,
            n,
            "deal",
            group,
            [seconds],
            role="info",
            note=_mb(_duckdb_bytes(con)),
        )
    )

    # salesflow's first run gives the reference; each peer's first run must agree with it.
    reference: list[ReportNumbers] = []

    def agrees(name: str) -> Callable[[ReportNumbers], None]:
        return lambda numbers: check_agreement(reference[0], numbers, name)

    timed: list[tuple[str, Callable[[object], ReportNumbers], Callable[[ReportNumbers], None]]] = [
        (SALESFLOW, lambda _: report_salesflow.numbers(deals), reference.append),
        (PANDAS, lambda _: report_pandas.numbers(frame), agrees(PANDAS)),
        (DUCKDB, lambda _: report_duckdb.numbers(con), agrees(DUCKDB)),
    ]
    for name, run, check in timed:
        log(f"report {n:,}: {name} (its first run is checked, then timed runs)")
        seconds = measure(run, repeat=config.repeat, check=check)
        rows.append(Row(NAME, name, n, n, "deal", group, seconds))
        if name == SALESFLOW:
            # Where salesflow's time goes: the one pass, without reading the lazy summaries.
            seconds = measure(lambda _: sf.report(deals), repeat=config.repeat)
            rows.append(
                Row(NAME, "salesflow: report() alone", n, n, "deal", group, seconds, role="info")
            )
    con.close()
    return rows


def run(config: Config) -> list[Row]:
    """Every size in ``config.sizes``, smallest first."""
    rows = []
    for n in sorted(config.sizes):
        rows += _one_size(config, n)
    return rows
