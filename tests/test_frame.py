"""pandas frames of deals, events and results; deals from frames; notebook HTML."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pd = pytest.importorskip("pandas")

import salesflow as sf  # noqa: E402
from salesflow import metrics as m  # noqa: E402
from salesflow.datasets import synthetic  # noqa: E402
from salesflow.io import (  # noqa: E402
    events_frame,
    from_frame,
    read_events_csv,
    to_frame,
    write_events_csv,
)

Day = Callable[..., datetime]

DEAL_COLUMNS = [
    "deal_id",
    "pipeline",
    "stage",
    "outcome",
    "is_open",
    "created_at",
    "closed_at",
    "value",
    "currency",
    "owner",
    "source",
    "lead_id",
    "lost_reason",
    "n_changes",
]
EVENT_COLUMNS = [
    "deal_id",
    "seq",
    "stage",
    "outcome",
    "at",
    "exited_at",
    "actor",
    "reason",
    "note",
    "value",
    "currency",
    "owner",
    "source",
]
UTC_US = "datetime64[us, UTC]"
PARIS = ZoneInfo("Europe/Paris")


def ts(text: str) -> Any:
    """A UTC pandas Timestamp from naive ISO text."""
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def trio(sales: sf.Pipeline, utc_day: Day) -> list[sf.Deal]:
    """Three deals in the Sales pipeline: won (ann, 0.10 USD), lost on price (bob, 0.20 USD), open in Paris time."""
    won = (
        sales.open_deal(
            "W", at=utc_day(1), value=sf.Money("0.10", "USD"), owner="ann", source="web"
        )
        .advance(at=utc_day(2), actor="ann")
        .advance(at=utc_day(4))
        .win(at=utc_day(7), note="signed")
    )
    lost = (
        sales.open_deal("L", at=utc_day(2), value=sf.Money("0.20", "USD"), owner="bob")
        .advance(at=utc_day(3))
        .lose(at=utc_day(5), reason="price")
    )
    still_open = sales.open_deal(
        "O",
        at=datetime(2026, 1, 3, 9, 30, tzinfo=PARIS),
        attributes={"segment": "smb", "stage": "odd name"},
    )
    return [won, lost, still_open]


def plain(deals: list[sf.Deal]) -> list[sf.Deal]:
    """The deals without touchpoints and attributes, which an event log does not carry."""
    return [d.replace(touchpoints=(), attributes={}) for d in deals]


def block_import(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``import name`` fail as if the package were not installed."""
    monkeypatch.setitem(sys.modules, name, None)


# ---------------------------------------------------------------- to_frame


class TestToFrame:
    def test_columns(self, trio: list[sf.Deal]) -> None:
        """The documented columns come first, then one attr_ column per attribute name."""
        df = to_frame(trio)
        assert list(df.columns) == [*DEAL_COLUMNS, "attr_segment", "attr_stage"]

    def test_without_attributes(self, trio: list[sf.Deal]) -> None:
        """attributes=False leaves the attr_ columns out."""
        assert list(to_frame(trio, attributes=False).columns) == DEAL_COLUMNS

    def test_one_row_per_deal(self, trio: list[sf.Deal]) -> None:
        """Each deal is one row, in input order, with its stage, outcome and details."""
        df = to_frame(trio)
        assert list(df["deal_id"]) == ["W", "L", "O"]
        assert list(df["stage"]) == ["Closed won", "Closed lost", "Lead"]
        assert list(df["outcome"]) == ["won", "lost", "open"]
        assert list(df["is_open"]) == [False, False, True]
        assert list(df["n_changes"]) == [4, 3, 1]
        assert list(df["pipeline"]) == ["Sales"] * 3
        assert df["owner"].tolist()[:2] == ["ann", "bob"]
        assert df["lost_reason"].tolist()[1] == "price"
        assert df["attr_segment"].tolist()[2] == "smb"

    def test_missing_values(self, trio: list[sf.Deal]) -> None:
        """Unset text is missing (NaN), an open deal's closed_at is NaT, a deal without value has None."""
        df = to_frame(trio)
        assert df["owner"].isna().tolist() == [False, False, True]
        assert df["lost_reason"].isna().tolist() == [True, False, True]
        assert df["closed_at"].isna().tolist() == [False, False, True]
        assert df["value"].tolist()[2] is None
        assert df["currency"].isna().tolist() == [False, False, True]

    def test_dtypes(self, trio: list[sf.Deal]) -> None:
        """Timestamps are UTC microseconds, amounts Decimal objects, flags bool, counts int64, text strings."""
        df = to_frame(trio)
        assert str(df["created_at"].dtype) == UTC_US
        assert str(df["closed_at"].dtype) == UTC_US
        assert df["value"].dtype == object
        assert str(df["is_open"].dtype) == "bool"
        assert str(df["n_changes"].dtype) == "int64"
        for column in ("deal_id", "pipeline", "stage", "outcome", "currency", "owner", "lead_id"):
            assert pd.api.types.is_string_dtype(df[column]), column

    def test_times_in_utc(self, trio: list[sf.Deal]) -> None:
        """Times from any zone are the same instants in UTC."""
        df = to_frame(trio)
        assert df["created_at"].tolist()[2] == ts("2026-01-03T08:30:00")
        assert df["closed_at"].tolist()[0] == ts("2026-01-07T00:00:00")

    def test_decimal_sum_is_exact(self, trio: list[sf.Deal]) -> None:
        """The default object column holds Decimals, so 0.10 + 0.20 sums to exactly 0.30."""
        df = to_frame(trio)
        assert df["value"].tolist()[:2] == [Decimal("0.10"), Decimal("0.20")]
        total = df.groupby("currency")["value"].sum()
        assert total["USD"] == Decimal("0.30")
        assert isinstance(total["USD"], Decimal)

    def test_float_mode(self, trio: list[sf.Deal]) -> None:
        """decimal='float' gives float64 with NaN for a missing value."""
        df = to_frame(trio, decimal="float")
        assert str(df["value"].dtype) == "float64"
        assert df["value"].tolist()[:2] == [0.1, 0.2]
        assert math.isnan(df["value"].tolist()[2])

    def test_arrow_mode_needs_pyarrow(
        self, trio: list[sf.Deal], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """decimal='arrow' without pyarrow raises an ImportError that names pyarrow."""
        block_import(monkeypatch, "pyarrow")
        with pytest.raises(ImportError, match="pyarrow") as info:
            to_frame(trio, decimal="arrow")
        assert isinstance(info.value, sf.SalesflowError)

    def test_arrow_mode(self, trio: list[sf.Deal]) -> None:
        """decimal='arrow' gives an Arrow decimal128(38, 2) column that sums exactly."""
        pa = pytest.importorskip("pyarrow")
        df = to_frame(trio, decimal="arrow")
        assert df["value"].dtype == pd.ArrowDtype(pa.decimal128(38, 2))
        assert df["value"].sum() == Decimal("0.30")

    def test_unknown_decimal_mode(self, trio: list[sf.Deal]) -> None:
        """An unknown decimal mode is refused, naming the choices."""
        with pytest.raises(ValueError, match="'object', 'float' or 'arrow'"):
            to_frame(trio, decimal="double")

    def test_no_deals(self) -> None:
        """No deals give an empty frame with the same columns and dtypes."""
        df = to_frame([])
        assert list(df.columns) == DEAL_COLUMNS
        assert len(df) == 0
        assert str(df["created_at"].dtype) == UTC_US
        assert str(df["n_changes"].dtype) == "int64"

    def test_load_result(self, sales: sf.Pipeline, tmp_path: Path, trio: list[sf.Deal]) -> None:
        """A LoadResult is a sequence of deals and frames like one."""
        path = tmp_path / "events.csv"
        write_events_csv(trio, path)
        df = to_frame(read_events_csv(path, sales))
        assert sorted(df["deal_id"]) == ["L", "O", "W"]

    def test_without_pandas(self, trio: list[sf.Deal], monkeypatch: pytest.MonkeyPatch) -> None:
        """Without pandas the error is an ImportError and a SalesflowError naming salesflow[pandas]."""
        block_import(monkeypatch, "pandas")
        with pytest.raises(ImportError, match=r"salesflow\[pandas\]") as info:
            to_frame(trio)
        assert isinstance(info.value, sf.SalesflowError)
        assert info.value.name == "pandas"


# ------------------------------------------------------------ events_frame


class TestEventsFrame:
    def test_columns_and_dtypes(self, trio: list[sf.Deal]) -> None:
        """The documented columns, with UTC timestamps, int64 seq and Decimal values."""
        df = events_frame(trio)
        assert list(df.columns) == EVENT_COLUMNS
        assert str(df["at"].dtype) == UTC_US
        assert str(df["exited_at"].dtype) == UTC_US
        assert str(df["seq"].dtype) == "int64"
        assert df["value"].dtype == object

    def test_one_row_per_change(self, trio: list[sf.Deal]) -> None:
        """Each stage change is a row, deal by deal, numbered from 0."""
        df = events_frame(trio)
        assert list(df["deal_id"]) == ["W"] * 4 + ["L"] * 3 + ["O"]
        assert list(df["seq"]) == [0, 1, 2, 3, 0, 1, 2, 0]
        assert list(df["stage"][:4]) == ["Lead", "Demo", "Proposal", "Closed won"]
        assert list(df["outcome"][4:7]) == ["open", "open", "lost"]

    def test_exited_at_is_the_next_change(self, trio: list[sf.Deal]) -> None:
        """exited_at is the next change's time, NaT for a deal's last change."""
        df = events_frame(trio)
        assert df["exited_at"].tolist()[:3] == [
            ts("2026-01-02T00:00:00"),
            ts("2026-01-04T00:00:00"),
            ts("2026-01-07T00:00:00"),
        ]
        ends = [False, False, False, True, False, False, True, True]
        assert df["exited_at"].isna().tolist() == ends

    def test_event_details(self, trio: list[sf.Deal]) -> None:
        """Actor, reason and note belong to their own change."""
        df = events_frame(trio)
        assert df["actor"].tolist()[1] == "ann"
        assert df["note"].tolist()[3] == "signed"
        assert df["reason"].tolist()[6] == "price"
        assert df["reason"].isna().sum() == 7

    def test_deal_fields_repeat(self, trio: list[sf.Deal]) -> None:
        """Value, currency, owner and source repeat on each row of a deal."""
        df = events_frame(trio)
        assert df["value"].tolist()[:4] == [Decimal("0.10")] * 4
        assert df["owner"].tolist()[4:7] == ["bob"] * 3

    def test_no_deals(self) -> None:
        """No deals give an empty frame with the columns."""
        df = events_frame([])
        assert list(df.columns) == EVENT_COLUMNS
        assert len(df) == 0


# -------------------------------------------------------------- from_frame


class TestFromFrame:
    def test_round_trip(self, trio: list[sf.Deal], sales: sf.Pipeline) -> None:
        """from_frame(events_frame(deals)) rebuilds equal deals."""
        result = from_frame(events_frame(trio), sales)
        assert list(result) == plain(trio)
        assert (result.rows_read, result.rows_rejected, result.rejects) == (8, 0, ())

    @pytest.mark.parametrize("decimal", ["float", "arrow"])
    def test_round_trip_other_amount_dtypes(
        self, trio: list[sf.Deal], sales: sf.Pipeline, decimal: str
    ) -> None:
        """Float and Arrow decimal amount columns read back as the same amounts."""
        if decimal == "arrow":
            pytest.importorskip("pyarrow")
        frame = events_frame(trio, decimal=decimal)
        assert list(from_frame(frame, sales)) == plain(trio)

    def test_round_trip_generated(self) -> None:
        """A generated sample with backward moves and lost reasons round-trips."""
        deals = plain(synthetic(300, seed=4))
        assert list(from_frame(events_frame(deals), sf.templates.b2b())) == deals

    def test_same_deals_as_the_csv_loader(self, tmp_path: Path) -> None:
        """A CSV read with pandas gives the deals read_events_csv gives, as text or typed."""
        deals = plain(synthetic(120, seed=7))
        path = tmp_path / "events.csv"
        write_events_csv(deals, path)
        expected = list(read_events_csv(path, sf.templates.b2b()))
        as_text = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(from_frame(as_text, sf.templates.b2b())) == expected
        typed = pd.read_csv(path, parse_dates=["at"])
        assert list(from_frame(typed, sf.templates.b2b())) == expected

    def test_rows_in_any_order(self, trio: list[sf.Deal], sales: sf.Pipeline) -> None:
        """Shuffled rows give the same deals."""
        shuffled = events_frame(trio).sample(frac=1, random_state=3)
        rebuilt = sorted(from_frame(shuffled, sales), key=lambda d: d.id)
        assert rebuilt == sorted(plain(trio), key=lambda d: d.id)

    def test_the_frame_is_not_modified(self, trio: list[sf.Deal], sales: sf.Pipeline) -> None:
        """The caller's frame is only read."""
        df = events_frame(trio)
        before = df.copy(deep=True)
        from_frame(df, sales)
        pd.testing.assert_frame_equal(df, before)

    def test_column_names(self, sales: sf.Pipeline) -> None:
        """Columns are named by keyword arguments, lifetimes-style."""
        df = pd.DataFrame(
            {
                "Opportunity": ["A", "A"],
                "Step": ["Lead", "Demo"],
                "When": ["2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"],
                "Amount": [Decimal("99.95"), None],
                "Rep": ["ann", None],
            }
        )
        (deal,) = from_frame(
            df,
            sales,
            deal_id="Opportunity",
            stage="Step",
            at="When",
            value="Amount",
            owner="Rep",
            default_currency="EUR",
        )
        assert deal.stage.key == "Demo"
        assert deal.value == sf.Money("99.95", "EUR")
        assert deal.owner == "ann"
        assert deal.created_at == datetime(2026, 1, 1, tzinfo=UTC)

    def test_naive_timestamps_need_a_zone(self, sales: sf.Pipeline) -> None:
        """Naive datetime64 cells are refused without timezone= and placed in it with one."""
        df = pd.DataFrame(
            {
                "deal_id": ["A", "A"],
                "stage": ["Lead", "Demo"],
                "at": pd.to_datetime(["2026-07-01 09:00", "2026-07-02 09:00"]),
            }
        )
        with pytest.raises(sf.LoadError, match="no time zone") as info:
            from_frame(df, sales)
        assert (info.value.file, info.value.line, info.value.column) == ("<DataFrame>", 0, "at")
        (deal,) = from_frame(df, sales, timezone="Europe/Paris")
        assert deal.created_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)

    def test_float_amounts(self, sales: sf.Pipeline) -> None:
        """A float amount is read as its shortest text: 0.1 is Decimal('0.1')."""
        df = pd.DataFrame(
            {
                "deal_id": ["A"],
                "stage": ["Lead"],
                "at": ["2026-01-01T00:00:00+00:00"],
                "value": [0.1],
                "currency": ["USD"],
            }
        )
        (deal,) = from_frame(df, sales)
        assert deal.value is not None
        assert deal.value.amount.as_tuple() == Decimal("0.1").as_tuple()

    def test_collect_errors(self, sales: sf.Pipeline) -> None:
        """errors='collect' keeps the good deals and reports each bad row by position."""
        df = pd.DataFrame(
            {
                "deal_id": ["A", "B", "B", "C"],
                "stage": ["Lead", "Lead", "Nope", "Lead"],
                "at": ["2026-01-01T00:00:00Z"] * 4,
            }
        )
        result = from_frame(df, sales, errors="collect")
        assert [d.id for d in result] == ["A", "C"]
        (error,) = result.rejects
        assert (error.line, error.column, error.value) == (2, "stage", "Nope")
        assert (result.rows_read, result.rows_rejected) == (4, 2)

    def test_raise_errors(self, sales: sf.Pipeline) -> None:
        """By default a bad row raises a LoadError naming the column and value."""
        df = pd.DataFrame({"deal_id": ["A"], "stage": ["Lead"], "at": ["yesterday"]})
        with pytest.raises(sf.LoadError, match=r"'at'.*'yesterday'"):
            from_frame(df, sales)

    def test_broken_history(self, sales: sf.Pipeline) -> None:
        """A history the pipeline refuses (a skip) is a LoadError."""
        df = pd.DataFrame(
            {
                "deal_id": ["A", "A"],
                "stage": ["Lead", "Proposal"],
                "at": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
            }
        )
        with pytest.raises(sf.LoadError, match="deal 'A'"):
            from_frame(df, sales)

    def test_missing_required_column(self, sales: sf.Pipeline) -> None:
        """A missing required column is named."""
        df = pd.DataFrame({"deal_id": ["A"], "stage": ["Lead"]})
        with pytest.raises(sf.LoadError, match=r"missing column.*'at'"):
            from_frame(df, sales)

    def test_missing_named_optional_column(self, sales: sf.Pipeline) -> None:
        """An optional column named explicitly must exist; one left at its default may be absent."""
        df = pd.DataFrame({"deal_id": ["A"], "stage": ["Lead"], "at": ["2026-01-01T00:00:00Z"]})
        assert len(from_frame(df, sales)) == 1
        with pytest.raises(sf.LoadError, match="'Amount'"):
            from_frame(df, sales, value="Amount")

    def test_nanoseconds_are_refused(self, sales: sf.Pipeline) -> None:
        """A timestamp with nanoseconds is refused rather than truncated."""
        df = pd.DataFrame(
            {
                "deal_id": ["A"],
                "stage": ["Lead"],
                "at": pd.to_datetime(["2026-01-01T00:00:00.000000001Z"]),
            }
        )
        with pytest.raises(sf.LoadError, match="nanoseconds"):
            from_frame(df, sales)

    def test_integer_ids_and_missing_cells(self, sales: sf.Pipeline) -> None:
        """Integer ids become text; NaN and None cells are empty."""
        df = pd.DataFrame(
            {
                "deal_id": [7, 7],
                "stage": ["Lead", "Demo"],
                "at": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
                "owner": [None, math.nan],
            }
        )
        (deal,) = from_frame(df, sales)
        assert deal.id == "7"
        assert deal.owner is None

    def test_without_pandas(self, sales: sf.Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without pandas, from_frame names the extra to install."""
        block_import(monkeypatch, "pandas")
        with pytest.raises(ImportError, match=r"salesflow\[pandas\]"):
            from_frame(object(), sales)


# ------------------------------------------------------- results to frames


@pytest.fixture
def small(sales: sf.Pipeline, utc_day: Day) -> list[sf.Deal]:
    """Lead->Demo->Proposal->won (ann, 100 USD), Lead->Demo->lost (bob, 50 USD), open in Lead (ann, 30 USD)."""
    won = (
        sales.open_deal("a", at=utc_day(1), value=sf.Money(100, "USD"), owner="ann")
        .advance(at=utc_day(2))
        .advance(at=utc_day(3))
        .win(at=utc_day(5))
    )
    lost = (
        sales.open_deal("b", at=utc_day(1), value=sf.Money(50, "USD"), owner="bob")
        .advance(at=utc_day(3))
        .lose(at=utc_day(4))
    )
    still = sales.open_deal("c", at=utc_day(2), value=sf.Money(30, "USD"), owner="ann")
    return [won, lost, still]


class TestRateFrame:
    def test_one_row(self) -> None:
        """A rate is one row with its counts, value and Wilson interval."""
        df = m.Rate.of(45, 180).to_frame()
        assert list(df.columns) == [
            "numerator",
            "denominator",
            "value",
            "ci_low",
            "ci_high",
            "confidence",
            "method",
        ]
        row = df.iloc[0]
        assert (row["numerator"], row["denominator"], row["value"]) == (45, 180, 0.25)
        assert row["ci_low"] == pytest.approx(0.192413, abs=1e-6)
        assert row["ci_high"] == pytest.approx(0.318035, abs=1e-6)
        assert row["method"] == "wilson"
        assert str(df["numerator"].dtype) == "Int64"
        assert str(df["value"].dtype) == "Float64"
        assert str(df["method"].dtype) == "string"

    def test_undefined(self) -> None:
        """A rate over nothing has a missing (pd.NA) value and bounds, not 0."""
        row = m.Rate.of(0, 0).to_frame().iloc[0]
        assert row["value"] is pd.NA
        assert row["ci_low"] is pd.NA

    def test_amounts(self) -> None:
        """An amount-based rate has float counts, Decimal ones with exact=True, and no interval."""
        rate = m.Rate.of(Decimal("10.5"), Decimal("21"))
        assert rate.to_frame(exact=True)["numerator"].tolist() == [Decimal("10.5")]
        df = rate.to_frame()
        assert df["numerator"].tolist() == [10.5]
        assert str(df["numerator"].dtype) == "Float64"
        assert df["value"].tolist() == [0.5]
        assert df["method"].isna().all()


class TestFunnelFrame:
    def test_one_row_per_step(self, small: list[sf.Deal]) -> None:
        """One row per open and won stage with counts that add up."""
        df = m.funnel(small).to_frame()
        assert list(df["stage"]) == ["Lead", "Demo", "Proposal", "Closed won"]
        assert list(df["entered"]) == [3, 2, 1, 1]
        assert list(df["advanced"]) == [2, 1, 1, 0]
        assert list(df["lost"]) == [0, 1, 0, 0]
        assert list(df["still_open"]) == [1, 0, 0, 0]
        assert list(df["reached"]) == [3, 2, 1, 1]
        assert list(df["total"]) == [3, 3, 3, 3]

    def test_conversions(self, small: list[sf.Deal]) -> None:
        """Step conversion is advanced / entered (NaN for won), cumulative is reached / total."""
        df = m.funnel(small).to_frame()
        assert df["conversion"].tolist()[:3] == pytest.approx([2 / 3, 1 / 2, 1.0])
        assert df["conversion"].tolist()[3] is pd.NA
        assert df["cumulative"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3, 1 / 3])
        assert (df["conversion_ci_low"] <= df["conversion"]).iloc[:3].all()
        assert (df["cumulative_ci_high"] >= df["cumulative"]).all()

    def test_columns(self, small: list[sf.Deal]) -> None:
        """The conversion_* and cumulative_* columns are there."""
        columns = list(m.funnel(small).to_frame().columns)
        for name in (
            "conversion",
            "conversion_ci_low",
            "conversion_ci_high",
            "cumulative",
            "cumulative_ci_low",
            "cumulative_ci_high",
        ):
            assert name in columns


class TestBreakdownFrame:
    def test_key_column_first(self, small: list[sf.Deal]) -> None:
        """The group key is the first column, one row per group."""
        df = m.win_rate(small, by="owner").to_frame()
        assert list(df.columns)[:3] == ["owner", "numerator", "denominator"]
        assert list(df["owner"]) == ["ann", "bob"]
        assert list(df["numerator"]) == [1, 0]
        assert list(df["denominator"]) == [1, 1]

    def test_none_key_kept(self, small: list[sf.Deal]) -> None:
        """Deals without a key are a group of their own, with a missing key."""
        df = m.win_rate(small, by="source").to_frame()
        assert len(df) == 1
        assert df["source"].isna().tolist() == [True]

    def test_multi_row_results(self, small: list[sf.Deal]) -> None:
        """A breakdown of funnels repeats the key on every step; a clashing name gets by_."""
        df = m.funnel(small, by="stage").to_frame()
        assert list(df.columns)[:2] == ["by_stage", "stage"]
        assert len(df) == 3 * 4  # three current stages, four steps each

    def test_money_results(self, small: list[sf.Deal]) -> None:
        """A breakdown of amounts has a float value and amount (exact with exact=True), and the currency."""
        sizes = m.average_deal_size(small, status="closed", by="owner")
        df = sizes.to_frame()
        assert list(df.columns) == ["owner", "value", "amount", "currency"]
        assert df["amount"].tolist() == [100.0, 50.0]
        assert sizes.to_frame(exact=True)["amount"].tolist() == [Decimal(100), Decimal(50)]
        assert df["value"].tolist() == [100.0, 50.0]

    def test_time_in_stage(self, small: list[sf.Deal]) -> None:
        """A breakdown of time in stage has one row per group and stage."""
        df = m.time_in_stage(small, by="owner").to_frame()
        assert list(df.columns)[:3] == ["owner", "stage", "method"]
        assert len(df) == 2 * 3


class TestSummaryFrames:
    def test_duration(self) -> None:
        """A duration summary is one row with n and mean/median/p90 in days."""
        summary = m.DurationSummary.from_durations([timedelta(days=d) for d in (1, 2, 3)])
        df = summary.to_frame()
        assert list(df.columns) == [
            "method",
            "n",
            "censored",
            "mean_days",
            "median_days",
            "p90_days",
            "mean_ci_low_days",
            "mean_ci_high_days",
            "median_ci_low_days",
            "median_ci_high_days",
        ]
        row = df.iloc[0]
        assert (row["n"], row["censored"], row["method"]) == (3, 0, "completed")
        # t-interval: 2 ± t(0.975, 2) · 1/√3 with t = 4.302653 (tables), low end clipped at 0.
        assert row["mean_ci_low_days"] == 0.0
        assert row["mean_ci_high_days"] == pytest.approx(2 + 4.302653 / math.sqrt(3), abs=1e-5)
        assert (row["mean_days"], row["median_days"]) == (2.0, 2.0)
        assert row["p90_days"] == pytest.approx(2.8)

    def test_empty_duration(self) -> None:
        """An empty summary has n 0 and NaN durations."""
        row = m.DurationSummary.from_durations([]).to_frame().iloc[0]
        assert row["n"] == 0
        assert row["median_days"] is pd.NA

    def test_counts(self) -> None:
        """A count summary is one row: n, total, mean, median, p90."""
        df = m.CountSummary({1: 1, 3: 1, 5: 2}).to_frame()
        assert list(df.columns) == ["n", "total", "mean", "median", "p90"]
        assert df.iloc[0].tolist() == [4, 14, 3.5, 4.0, 5.0]


class TestSurvivalFrames:
    def test_kaplan_meier(self) -> None:
        """A Kaplan-Meier curve is its timeline, one row per distinct time."""
        df = m.kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1]).to_frame()
        assert list(df.columns) == [
            "time",
            "at_risk",
            "events",
            "censored",
            "survival",
            "ci_low",
            "ci_high",
        ]
        assert df["time"].tolist() == [2.0, 3.0, 5.0]
        # No interval where S = 0 (Greenwood's variance is infinite there).
        assert math.isnan(df["ci_low"].iloc[2])
        assert df["ci_low"].iloc[0] < 0.75 < df["ci_high"].iloc[0]
        assert df["at_risk"].tolist() == [4, 3, 1]
        assert df["events"].tolist() == [1, 1, 1]
        assert df["censored"].tolist() == [0, 1, 0]
        assert df["survival"].tolist() == pytest.approx([0.75, 0.5, 0.0])

    def test_kaplan_meier_timedeltas(self) -> None:
        """Timedelta durations give a timedelta64 time column."""
        df = m.kaplan_meier([timedelta(days=1), timedelta(days=2)], [1, 1]).to_frame()
        assert str(df["time"].dtype) == "timedelta64[us]"
        assert df["time"].tolist()[1] == pd.Timedelta(days=2)

    def test_cumulative_incidence(self) -> None:
        """Cumulative incidence is one row per time and cause."""
        ci = m.cumulative_incidence([1, 2, 3, 3], ["won", "lost", None, "won"])
        df = ci.to_frame()
        assert list(df.columns) == [
            "time",
            "cause",
            "at_risk",
            "events",
            "censored",
            "survival",
            "incidence",
            "ci_low",
            "ci_high",
        ]
        assert df["cause"].tolist() == ["lost", "won"] * 3
        assert (df["ci_low"] <= df["incidence"]).all()
        assert (df["incidence"] <= df["ci_high"]).all()
        assert df["time"].tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
        assert df["incidence"].tolist() == pytest.approx([0, 0.25, 0.25, 0.25, 0.25, 0.5])
        assert df["survival"].tolist() == pytest.approx([0.75, 0.75, 0.5, 0.5, 0.25, 0.25])


class TestOtherFrames:
    def test_attribution(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Attribution is one row per key with the exact credit and its share."""
        deal = (
            sales.open_deal("a", at=utc_day(1), value=sf.Money("100.00", "USD"))
            .log(sf.Touchpoint(utc_day(1), "web"))
            .log(sf.Touchpoint(utc_day(2), "email"))
            .win(at=utc_day(3))
        )
        result = m.attribution([deal], model="linear")
        df = result.to_frame()
        assert list(df.columns) == ["model", "channel", "credit", "currency", "share"]
        assert sorted(df["channel"]) == ["email", "web"]
        assert df["credit"].tolist() == [50.0] * 2
        assert result.to_frame(exact=True)["credit"].tolist() == [Decimal("50.00")] * 2
        assert df["share"].tolist() == [0.5, 0.5]

    def test_velocity(self, small: list[sf.Deal]) -> None:
        """A velocity is a long table of its components."""
        df = m.sales_velocity(small).to_frame()
        assert df["metric"].tolist() == [
            "sales_velocity",
            "open_deals",
            "win_rate",
            "average_deal_size",
            "sales_cycle_mean",
            "sales_cycle_median",
            "sales_cycle_p90",
        ]
        rows = df.set_index("metric")
        assert rows.loc["open_deals", "value"] == 1.0
        assert (rows.loc["win_rate", "numerator"], rows.loc["win_rate", "denominator"]) == (1, 2)
        assert rows.loc["average_deal_size", "amount"] == 100.0
        assert rows.loc["sales_cycle_mean", "value"] == 4.0

    def test_report(self, small: list[sf.Deal]) -> None:
        """A report is a long table: one row per metric, and per stage for stage metrics."""
        df = sf.report(small).to_frame()
        assert list(df.columns) == [
            "metric",
            "stage",
            "value",
            "unit",
            "amount",
            "currency",
            "n",
            "censored",
            "numerator",
            "denominator",
            "ci_low",
            "ci_high",
        ]
        rows = df[df["stage"].isna()].set_index("metric")
        assert rows.loc["deals", "value"] == 3.0
        assert rows.loc["win_rate", "value"] == 0.5
        assert rows.loc["average_deal_size", "amount"] == 100.0
        assert rows.loc["average_deal_size", "currency"] == "USD"
        assert rows.loc["pipeline_value", "amount"] == 30.0
        exact = sf.report(small).to_frame(exact=True).set_index("metric")
        assert exact.loc["pipeline_value", "amount"] == Decimal(30)
        steps = df[df["metric"] == "stage_conversion"]
        assert steps["stage"].tolist() == ["Lead", "Demo", "Proposal"]
        assert steps["numerator"].tolist() == [2, 1, 1]
        assert steps["denominator"].tolist() == [3, 2, 1]
        medians = df[df["metric"] == "time_in_stage_median"]
        assert medians["stage"].tolist() == ["Lead", "Demo", "Proposal"]
        assert str(df["value"].dtype) == "Float64"


# ------------------------------------------------------------ notebook HTML


class _Checker(HTMLParser):
    """Records the tags of a fragment and fails on a misnested or unclosed one."""

    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        opened = self.stack.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> _Checker:
    """Parse an HTML fragment, asserting that its tags nest and close."""
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    assert checker.stack == [], f"unclosed {checker.stack}"
    return checker


EVIL = "<script>alert('x')</script> & co"


@pytest.fixture
def evil(utc_day: Day) -> list[sf.Deal]:
    """Deals whose pipeline, stage names, id, owner and lost reason hold HTML."""
    pipeline = sf.Pipeline.linear(EVIL, [sf.Stage("lead", EVIL), "Demo"])
    won = (
        pipeline.open_deal("<b>1</b>", at=utc_day(1), value=sf.Money(10, "USD"), owner=EVIL)
        .advance(at=utc_day(2))
        .win(at=utc_day(3))
    )
    lost = pipeline.open_deal("2", at=utc_day(1), owner="bob").lose(at=utc_day(4), reason=EVIL)
    return [won, lost]


class TestReprHtml:
    def assert_safe(self, fragment: str) -> _Checker:
        checker = parse(fragment)
        assert "script" not in checker.tags
        return checker

    def test_report(self, evil: list[sf.Deal]) -> None:
        """A report renders as well-formed HTML with names escaped."""
        fragment = sf.report(evil)._repr_html_()
        checker = self.assert_safe(fragment)
        assert EVIL in "".join(checker.text)
        assert checker.tags.count("table") == 3

    def test_funnel(self, evil: list[sf.Deal]) -> None:
        """A funnel renders one header row and one row per step, names escaped."""
        checker = self.assert_safe(m.funnel(evil)._repr_html_())
        assert checker.tags.count("tr") == 1 + 3
        assert "".join(checker.text).count(EVIL) == 2  # the pipeline and the stage

    def test_breakdown(self, evil: list[sf.Deal]) -> None:
        """A breakdown renders one row per group, keys escaped."""
        checker = self.assert_safe(m.win_rate(evil, by="owner")._repr_html_())
        assert checker.tags.count("tr") == 1 + 2
        assert EVIL in "".join(checker.text)

    def test_deal(self, evil: list[sf.Deal]) -> None:
        """A deal renders its history with the reason escaped."""
        checker = self.assert_safe(evil[1]._repr_html_())
        assert EVIL in "".join(checker.text)
        assert checker.tags.count("tr") == 1 + 2

    def test_rate_and_duration(self, evil: list[sf.Deal]) -> None:
        """A rate and a duration summary render a header and one row of numbers in cells."""
        rate = m.win_rate(evil)  # 1 won of 2 closed: Wilson 95% is 9.5%-90.5%
        fragment = rate._repr_html_()
        self.assert_safe(fragment)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", fragment)
        assert cells == ["50.0%", "1", "2", "9.5%", "90.5%"]
        assert "Wilson" in fragment
        cycle = m.sales_cycle(evil)  # one won deal, 2 days from creation to win
        fragment = cycle._repr_html_()
        self.assert_safe(fragment)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", fragment)
        assert cells[:3] == ["all", "1", "0"]  # the lost deal is neither a won cycle nor open
        assert cells[3] == "2.0"

    def test_attribution(self, evil: list[sf.Deal], utc_day: Day) -> None:
        """An attribution renders with channel names escaped."""
        deal = evil[0].replace(touchpoints=[sf.Touchpoint(utc_day(1), EVIL)])
        checker = self.assert_safe(m.attribution([deal])._repr_html_())
        assert EVIL in "".join(checker.text)
