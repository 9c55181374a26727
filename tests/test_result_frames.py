"""Result frames: one missing-value convention (pd.NA), float amounts unless exact, wide reports."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow.datasets import synthetic

pd = pytest.importorskip("pandas")

Day = Callable[..., datetime]


def assert_one_missing_marker(df: object) -> None:
    """Every missing cell is pd.NA: no None, no float NaN, in any column."""
    assert isinstance(df, pd.DataFrame)
    for name in df.columns:
        for value in df[name].tolist():
            assert value is not None, name
            assert not (isinstance(value, float) and math.isnan(value)), name


class TestConvention:
    def test_report_long(self) -> None:
        """The long report has nullable dtypes and only pd.NA where a value is undefined."""
        df = sf.report(synthetic(300, seed=4)).to_frame()
        assert_one_missing_marker(df)
        assert str(df["amount"].dtype) == "Float64"
        assert str(df["n"].dtype) == "Int64"
        assert str(df["metric"].dtype) == "string"
        assert df["stage"].isna().any()  # the pipeline-wide rows have no stage

    def test_breakdown_and_funnel(self) -> None:
        """A breakdown's and a funnel's frames follow it too."""
        deals = synthetic(300, seed=4)
        assert_one_missing_marker(m.win_rate(deals, by="owner").to_frame())
        assert_one_missing_marker(m.funnel(deals).to_frame())
        assert_one_missing_marker(m.sales_cycle(deals, by="source").to_frame())

    def test_amounts_float_by_default_exact_on_request(
        self, sales: sf.Pipeline, utc_day: Day
    ) -> None:
        """0.10 + 0.20 of open pipeline: a float by default, exactly Decimal('0.30') with exact=True."""
        deals = [
            sales.open_deal("a", at=utc_day(1), value=sf.Money("0.10", "USD")),
            sales.open_deal("b", at=utc_day(1), value=sf.Money("0.20", "USD")),
        ]
        rep = sf.report(deals)
        rows = rep.to_frame().set_index("metric")
        assert rows.loc["pipeline_value", "amount"] == pytest.approx(0.3)
        exact = rep.to_frame(exact=True).set_index("metric")
        assert exact.loc["pipeline_value", "amount"] == Decimal("0.30")
        assert exact.loc["average_deal_size", "amount"] is pd.NA  # nothing won


class TestWide:
    def test_one_row_per_step(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """wide=True: one row per funnel step with its counts and time in stage."""
        won = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(3)).win(at=utc_day(4))
        lost = sales.open_deal("b", at=utc_day(1)).lose(at=utc_day(2))
        with pytest.warns(sf.SalesflowWarning, match="without a value"):
            df = sf.report([won, lost]).to_frame(wide=True)
        funnel = m.funnel([won, lost])
        assert df["stage"].tolist() == [r.stage.key for r in funnel.rows]
        assert df["entered"].tolist() == [r.entered for r in funnel.rows]
        lead = df.set_index("stage").loc["Lead"]
        # Two spells in Lead, both ended: 2 days (advanced) and 1 day (lost). Kaplan-Meier
        # falls to 1/2 at 1 day, and its median is the first time it is at or below 1/2.
        assert lead["time_in_stage_n"] == 2
        assert lead["time_in_stage_open"] == 0
        assert lead["time_in_stage_median_days"] == pytest.approx(1.0)
        won_row = df.set_index("stage").loc["Closed won"]
        assert won_row["time_in_stage_n"] is pd.NA
        assert_one_missing_marker(df)

    def test_maven_amounts_are_readable(self) -> None:
        """On the Maven file the velocity is a float, not a 28-digit Decimal."""
        from ._maven import maven_deals

        deals = maven_deals()
        with pytest.warns(sf.SalesflowWarning):
            df = m.report(deals).to_frame().set_index("metric")
        velocity = df.loc["sales_velocity", "amount"]
        assert isinstance(velocity, float)
        assert velocity == pytest.approx(60146.85, abs=0.01)  # the how-to's published figure
