"""Case: ``salesflow.dask.report`` on a local cluster vs one process, per core.

Opt-in (``--cases dask``): it starts a ``distributed.LocalCluster`` of two
worker processes with one thread each, and the default size takes minutes.

1. ``config.dask_deals`` deals are generated on the cluster's workers, one
   task per partition (``synthetic`` with a distinct seed per partition and
   the partition's number in every deal id, so ids never repeat), each
   turned into an events DataFrame (``salesflow.io.events_frame``) and
   written as one Parquet file: every deal whole in one file. Shown as a
   ``data:`` row, not compared.
2. Agreement, before anything is timed: on the first two partitions,
   ``salesflow.dask.report`` (``dask.dataframe.read_parquet`` of the two
   files, on the cluster) must equal ``salesflow.report`` of the same deals
   in this process (``EventTable.from_frame`` of the two files).
3. Timed, in the same run: ``salesflow.dask.report`` of every file
   (``read_parquet`` is lazy, so the workers' reading is timed too), and in
   this process, on one partition: ``pandas.read_parquet`` +
   ``EventTable.from_frame`` + ``salesflow.report`` (the same work a worker
   does for one partition), and ``salesflow.report(table)`` alone. Both
   rows read every number of the report. The notes give deals per second
   and deals per second per core; the ratio compares per deal.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import report_salesflow
from _config import Config, log
from _harness import SALESFLOW, Row, measure, time_once
from _machines import PIPELINE

import salesflow as sf

NAME = "dask"
WORKERS = 2
#: The events frame's derived columns: ``from_frame`` does not need them.
DERIVED = ["seq", "outcome", "exited_at"]
ONE_PROCESS = "one process, 1 partition: read_parquet + from_frame + report"
TABLE_ONLY = "one process, 1 partition: report(EventTable)"


def _shares(n: int, parts: int) -> list[int]:
    """*n* deals in *parts* partitions, as even as can be."""
    parts = min(parts, n)
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def write_partition(index: int, n: int, folder: str) -> tuple[int, int]:
    """Generate partition *index* (*n* deals) and write it as Parquet; return (deals, events).

    Runs on a worker. The seed (1000 + *index*) and the deal ids' prefix come from *index*.
    """
    from salesflow.datasets import synthetic

    deals = synthetic(n, pipeline=PIPELINE, seed=1_000 + index, touchpoints=False)
    frame = sf.io.events_frame(deals).drop(columns=DERIVED)
    frame["deal_id"] = f"p{index:04d}-" + frame["deal_id"].astype(str)
    frame.to_parquet(Path(folder) / f"part-{index:04d}.parquet", index=False)
    return len(deals), len(frame)


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("part-*.parquet"))


def _read(files: list[str]) -> Any:
    import dask.dataframe as dd

    # One partition per file, each file whole deals: never split a file by row groups.
    return dd.read_parquet(files, split_row_groups=False)


def _table(files: list[str]) -> sf.EventTable:
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return sf.EventTable.from_frame(frame, PIPELINE)


def _rate(n: int, seconds: float, cores: int) -> str:
    return f"{n / seconds:,.0f} deals/s, {n / seconds / cores:,.0f} deals/s per core"


def run(config: Config) -> list[Row]:
    """Generate, check, then time the cluster's report and one process's."""
    import dask
    import distributed

    import salesflow.dask as sf_dask

    n = config.dask_deals
    shares = _shares(n, config.dask_partitions)
    group = f"{NAME} report {n:,}"
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="salesflow-bench-dask-") as tmp,
        distributed.LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        folder = Path(tmp)
        log(
            f"dask: generating {n:,} deals in {len(shares)} Parquet partitions on {WORKERS} workers"
        )
        tasks = [
            dask.delayed(write_partition)(i, share, str(folder)) for i, share in enumerate(shares)
        ]
        seconds, written = time_once(lambda: dask.compute(*tasks))
        events = sum(e for _, e in written)
        if sum(d for d, _ in written) != n:
            msg = f"generated {sum(d for d, _ in written):,} deals, not {n:,}"
            raise AssertionError(msg)
        files = _files(folder)
        size = sum(os.path.getsize(f) for f in files)
        rows.append(
            Row(
                NAME,
                "data: synthetic -> events Parquet (on the workers)",
                n,
                n,
                "deal",
                group,
                [seconds],
                role="info",
                note=f"{events:,} stage changes, {len(files)} files, {size / 2**20:,.0f} MiB",
            )
        )

        few = files[:2]
        log(f"dask: checking salesflow.dask.report == salesflow.report on {len(few)} partitions")
        want = sf.report(_table(few))
        got = sf_dask.report(_read(few), PIPELINE)
        if got != want or got.to_dict() != want.to_dict():
            msg = "salesflow.dask.report differs from salesflow.report on the same deals"
            raise AssertionError(msg)

        whole = _read(files)
        log(f"dask: salesflow.dask.report of {n:,} deals ({len(files)} partitions)")
        seconds = measure(
            lambda _: report_salesflow.read(sf_dask.report(whole, PIPELINE)),
            repeat=config.repeat,
        )
        rows.append(
            Row(
                NAME,
                SALESFLOW,
                n,
                n,
                "deal",
                group,
                seconds,
                note=f"salesflow.dask.report, {WORKERS} workers x 1 thread; "
                + _rate(n, statistics.median(seconds), WORKERS),
            )
        )
        rows += _one_process(config, files[0], shares[0], group)
    return rows


def _one_process(config: Config, path: str, n: int, group: str) -> list[Row]:
    """One partition's worth of deals in this process (the cluster's workers idle)."""
    log(f"dask: one process, one partition ({n:,} deals): read_parquet + from_frame + report")
    seconds = measure(
        lambda _: report_salesflow.read(sf.report(_table([path]))), repeat=config.repeat
    )
    rows = [
        Row(
            NAME,
            ONE_PROCESS,
            n,
            n,
            "deal",
            group,
            seconds,
            note=_rate(n, statistics.median(seconds), 1),
        )
    ]
    table = _table([path])
    log(f"dask: one process, one partition ({n:,} deals): report(EventTable)")
    seconds = measure(lambda _: report_salesflow.read(sf.report(table)), repeat=config.repeat)
    rows.append(
        Row(
            NAME,
            TABLE_ONLY,
            n,
            n,
            "deal",
            group,
            seconds,
            note=_rate(n, statistics.median(seconds), 1) + "; the table already in memory",
        )
    )
    return rows
