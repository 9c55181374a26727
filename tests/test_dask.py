"""salesflow.dask.report on a real local cluster: the single-machine report, or a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import salesflow as sf
from salesflow.datasets import synthetic

pytest.importorskip("numpy", reason="the columnar lane needs salesflow[fast]")
pytest.importorskip("pyarrow", reason="the columnar lane needs salesflow[fast]")
dd = pytest.importorskip("dask.dataframe", reason="needs salesflow[dask]")
distributed = pytest.importorskip("distributed", reason="needs salesflow[dask]")

import salesflow.dask as sf_dask  # noqa: E402 - after the skips: it needs dask

DEALS = synthetic(1500, seed=11)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes, as a real cluster has (pickling included)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def by_deal(npartitions: int) -> Any:
    """The events, one row per stage change, partitioned by deal id (the id is the index)."""
    frame = sf.io.events_frame(DEALS).drop(columns=["seq", "outcome", "exited_at"])
    frame = frame.set_index("deal_id").sort_index()
    return dd.from_pandas(frame, npartitions=npartitions, sort=True)


@pytest.mark.usefixtures("client")
class TestOnACluster:
    def test_the_single_machine_report(self) -> None:
        events = by_deal(5)
        assert events.npartitions >= 4
        rep = sf_dask.report(events, DEALS[0].pipeline, split_every=2)
        want = sf.report(DEALS)
        assert rep == want
        assert rep.to_dict() == want.to_dict()

    def test_as_of_and_by(self) -> None:
        cut = DEALS[0].created_at + (DEALS[-1].created_at - DEALS[0].created_at) / 2
        events = by_deal(4)
        got = sf_dask.report(events, DEALS[0].pipeline, as_of=cut, by="owner")
        assert got == sf.report(DEALS, as_of=cut, by="owner")
        assert list(got) == list(sf.report(DEALS, as_of=cut, by="owner"))

    def test_a_split_deal_is_an_error(self) -> None:
        frame = sf.io.events_frame(DEALS[:200]).drop(columns=["seq", "outcome", "exited_at"])
        frame = frame.sort_values("at").reset_index(drop=True)  # a deal's rows far apart
        events = dd.from_pandas(frame, npartitions=4)
        with pytest.raises(sf_dask.SplitDealError, match=r"set_index\('deal_id'\)"):
            sf_dask.report(events, DEALS[0].pipeline)

    def test_a_bad_row_is_the_load_error(self) -> None:
        frame = sf.io.events_frame(DEALS[:100]).drop(columns=["seq", "outcome", "exited_at"])
        frame.loc[5, "stage"] = "Nowhere"
        events = dd.from_pandas(frame.set_index("deal_id").sort_index(), npartitions=2, sort=True)
        with pytest.raises(sf.LoadError, match="Nowhere"):
            sf_dask.report(events, DEALS[0].pipeline)


class TestPartsAnywhere:
    """partial_report and combine: the shape Spark's applyInPandas uses, here with pandas."""

    def test_buckets_of_deals(self) -> None:
        import zlib

        frame = sf.io.events_frame(DEALS[:400]).drop(columns=["seq", "outcome", "exited_at"])
        bucket = frame["deal_id"].map(lambda d: zlib.crc32(d.encode()) % 3)
        pipeline = DEALS[0].pipeline
        parts = [sf_dask.partial_report(g, pipeline) for _, g in frame.groupby(bucket)]
        assert len(parts) == 3
        assert sf_dask.combine(parts, pipeline) == sf.report(DEALS[:400])
        with pytest.raises(sf_dask.SplitDealError):
            sf_dask.combine([parts[0], parts[0]], pipeline)

    def test_on_spark(self) -> None:
        """The how-to's Spark recipe on a local Spark session."""
        pyspark_sql = pytest.importorskip(
            "pyspark.sql", reason="pyspark is not installed (the Spark recipe is optional)"
        )
        import shutil

        if shutil.which("java") is None:
            pytest.skip("no Java runtime: Spark needs one")
        spark = pyspark_sql.SparkSession.builder.master("local[2]").getOrCreate()
        pipeline = DEALS[0].pipeline
        frame = sf.io.events_frame(DEALS[:300]).drop(columns=["seq", "outcome", "exited_at"])
        frame = frame.astype({"at": str, "value": str})
        events = spark.createDataFrame(frame.astype(object).where(frame.notna(), None))

        def part(pdf: Any) -> Any:
            import pandas as pd

            pdf = pdf.astype({"value": object})
            return pd.DataFrame({"state": [sf_dask.partial_report(pdf, pipeline)]})

        bucketed = events.withColumn("bucket", pyspark_sql.functions.crc32("deal_id") % 4)
        states = bucketed.groupBy("bucket").applyInPandas(
            lambda pdf: part(pdf.drop(columns=["bucket"])), schema="state binary"
        )
        parts = [bytes(row.state) for row in states.collect()]
        assert sf_dask.combine(parts, pipeline) == sf.report(DEALS[:300])
