"""Win rate, funnel and stage conversion."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import SMALL, T0
from tests.strategies import sample_deals as deals

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm-sales-opportunities"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def scenario() -> list[sf.Deal]:
    """Five deals whose funnel is worked out by hand in the tests below."""
    p = SMALL
    return [
        p.open_deal("1", at=day(0)).advance(at=day(1)).advance(at=day(2)).win(at=day(3)),
        p.open_deal("2", at=day(0)).advance(at=day(1)).lose(at=day(2)),
        p.open_deal("3", at=day(0)).move_to("C", at=day(1)),
        p.open_deal("4", at=day(0), stage="B"),
        p.open_deal("5", at=day(0)).advance(at=day(1)).move_to("A", at=day(2)).lose(at=day(3)),
    ]


class TestRate:
    def test_wilson_reference(self) -> None:
        """A count rate carries the Wilson interval of REFERENCE.md."""
        rate = m.Rate.of(3, 20)
        assert rate.value == pytest.approx(0.15)
        assert rate.interval == pytest.approx((0.052369, 0.360419), abs=5e-7)

    def test_jeffreys_on_request(self) -> None:
        """interval='jeffreys' gives the central Jeffreys interval of REFERENCE.md."""
        rate = m.Rate.of(1, 10, interval="jeffreys")
        assert rate.interval == pytest.approx((0.011012, 0.381315), abs=5e-7)

    def test_undefined_is_none(self) -> None:
        """0/0 has value None and no interval, never 0."""
        rate = m.Rate.of(0, 0)
        assert rate.value is None
        assert rate.interval is None

    def test_amounts_have_no_interval(self) -> None:
        """A rate of amounts has no binomial interval."""
        rate = m.Rate.of(Decimal("25.5"), Decimal(51))
        assert rate.value == 0.5
        assert rate.interval is None

    @pytest.mark.parametrize(("x", "n"), [(-1, 3), (4, 3)])
    def test_bad_counts(self, x: int, n: int) -> None:
        """Negative counts and x > n are errors."""
        with pytest.raises(ValueError, match="rate"):
            m.Rate.of(x, n)


class TestWinRate:
    def test_counts_closed_deals_only(self) -> None:
        """Open deals are not in the denominator: 1 won, 2 lost in the scenario."""
        rate = m.win_rate(scenario())
        assert (rate.numerator, rate.denominator) == (1, 3)

    def test_no_closed_deals(self) -> None:
        """With no closed deal the win rate is undefined (None)."""
        assert m.win_rate([SMALL.open_deal("x", at=T0)]).value is None
        assert m.win_rate([]).value is None

    def test_as_of_ignores_later_events(self) -> None:
        """At day 2.5 deal 1 is not yet won and deal 5 not yet lost."""
        rate = m.win_rate(scenario(), as_of=day(2.5))
        assert (rate.numerator, rate.denominator) == (0, 1)

    def test_between_filters_by_close(self) -> None:
        """between=(start, end) keeps deals closed in [start, end)."""
        rate = m.win_rate(scenario(), between=(day(3), day(4)))
        assert (rate.numerator, rate.denominator) == (1, 2)

    def test_amount_basis(self) -> None:
        """basis='amount' divides won value by closed value, with a bootstrap interval."""
        deals = [
            SMALL.open_deal("w", at=T0, value=sf.Money(300, "USD")).win(at=T0),
            SMALL.open_deal("l", at=T0, value=sf.Money(100, "USD")).lose(at=T0),
        ]
        rate = m.win_rate(deals, basis="amount")
        assert rate.value == 0.75
        # Resampling two deals gives ratio 0 (both lost, p = 1/4), 0.75 or 1
        # (both won, p = 1/4): of 1,000 resamples about 250 are 0 and 250 are
        # 1, far more than the 25 that the 2.5 % and 97.5 % quantiles need.
        assert rate.interval == (0.0, 1.0)
        assert rate.method == "percentile-bootstrap"

    def test_amount_basis_mixed_currencies(self) -> None:
        """Mixed currencies raise unless grouped by currency."""
        deals = [
            SMALL.open_deal("w", at=T0, value=sf.Money(300, "USD")).win(at=T0),
            SMALL.open_deal("l", at=T0, value=sf.Money(100, "EUR")).lose(at=T0),
        ]
        with pytest.raises(sf.CurrencyMismatchError):
            m.win_rate(deals, basis="amount")
        by_currency = m.win_rate(deals, basis="amount", by="currency")
        assert by_currency["USD"].value == 1.0
        assert by_currency["EUR"].value == 0.0

    def test_amount_basis_warns_on_missing_values(self) -> None:
        """Closed deals without a value are left out with a SalesflowWarning."""
        deals = [SMALL.open_deal("w", at=T0).win(at=T0)]
        with pytest.warns(sf.SalesflowWarning, match="without a value"):
            assert m.win_rate(deals, basis="amount").value is None

    def test_by_owner(self) -> None:
        """by='owner' gives one rate per owner, None-owner deals kept."""
        deals = [
            SMALL.open_deal("1", at=T0, owner="ana").win(at=T0),
            SMALL.open_deal("2", at=T0, owner="ana").lose(at=T0),
            SMALL.open_deal("3", at=T0).lose(at=T0),
        ]
        result = m.win_rate(deals, by="owner")
        assert result["ana"].value == 0.5
        assert result[None].value == 0.0
        assert list(result) == ["ana", None]

    @given(deals())
    def test_adding_a_won_deal_never_lowers(self, sample: list[sf.Deal]) -> None:
        """Adding a won deal never lowers the win rate."""
        before = m.win_rate(sample).value
        after = m.win_rate([*sample, SMALL.open_deal("new", at=T0).win(at=T0)]).value
        assert after is not None
        assert before is None or after >= before

    @given(deals())
    def test_merge_equals_union(self, sample: list[sf.Deal]) -> None:
        """Accumulating two parts and merging equals accumulating all."""
        half = len(sample) // 2
        a, b, whole = m.WinRateAccumulator(), m.WinRateAccumulator(), m.WinRateAccumulator()
        for deal in sample[:half]:
            a.add(deal)
        for deal in sample[half:]:
            b.add(deal)
        for deal in sample:
            whole.add(deal)
        assert a.merge(b).result() == whole.result()


class TestFunnel:
    def test_hand_worked_reached(self) -> None:
        """The scenario's reached-mode counts, worked out by hand."""
        f = m.funnel(scenario())
        rows = {r.stage.key: (r.entered, r.advanced, r.lost, r.still_open) for r in f}
        assert rows == {
            "A": (4, 4, 0, 0),
            "B": (4, 1, 2, 1),
            "C": (2, 1, 0, 1),
            "Closed won": (1, 0, 0, 0),
        }
        assert [(r.cumulative.numerator, r.cumulative.denominator) for r in f] == [
            (5, 5),
            (5, 5),
            (2, 5),
            (1, 5),
        ]
        assert f["Closed won"].conversion is None

    def test_direct_mode_does_not_count_skips(self) -> None:
        """In direct mode deal 3's skip from A to C is not a conversion from A."""
        f = m.funnel(scenario(), mode="direct")
        assert (f["A"].entered, f["A"].advanced, f["A"].still_open) == (4, 3, 1)

    def test_exclude_open(self) -> None:
        """exclude_open=True leaves deals still open out of the denominator."""
        row = m.funnel(scenario(), exclude_open=True)["B"]
        assert (row.conversion.numerator, row.conversion.denominator) == (1, 3)  # type: ignore[union-attr]

    def test_empty_needs_pipeline(self) -> None:
        """A funnel of no deals needs the pipeline; with it every rate is undefined."""
        with pytest.raises(ValueError, match="pipeline"):
            m.funnel([])
        f = m.funnel([], pipeline=SMALL)
        assert all(r.cumulative.value is None for r in f)

    def test_renders(self) -> None:
        """The funnel prints as a text table and as HTML."""
        f = m.funnel(scenario())
        assert "Closed won" in str(f)
        fragment = f._repr_html_()
        assert fragment.count("<table") == 1
        assert fragment.count("<tr>") == 1 + len(f.rows)  # a heading row, then one per step

    @given(deals())
    def test_invariants(self, sample: list[sf.Deal]) -> None:
        """Rates lie in [0, 1], intervals contain them, rows partition, cumulative is monotone."""
        f = m.funnel(sample, pipeline=SMALL)
        previous = 1.0
        for row in f:
            if row.conversion is not None:
                assert row.entered == row.advanced + row.lost + row.still_open
                if row.conversion.value is not None:
                    lo, hi = row.conversion.interval  # type: ignore[misc]
                    assert 0 <= lo <= row.conversion.value <= hi <= 1
            value = row.cumulative.value
            if value is not None and row.stage.is_open:
                assert value <= previous
                previous = value

    @given(deals())
    @settings(max_examples=50)
    def test_order_and_duplication(self, sample: list[sf.Deal]) -> None:
        """Reversing the input changes nothing; duplicating it keeps rates and narrows intervals."""
        f = m.funnel(sample, pipeline=SMALL)
        assert m.funnel(sample[::-1], pipeline=SMALL) == f
        doubled = m.funnel(sample + sample, pipeline=SMALL)
        for one, two in zip(f, doubled, strict=True):
            assert one.cumulative.value == two.cumulative.value
            if (
                one.cumulative.interval is not None
                and 0 < one.cumulative.numerator < one.cumulative.denominator
            ):
                assert two.cumulative.interval[1] - two.cumulative.interval[0] < (  # type: ignore[index]
                    one.cumulative.interval[1] - one.cumulative.interval[0]
                )

    @given(deals(), deals())
    @settings(max_examples=50)
    def test_merge_equals_union(self, a: list[sf.Deal], b: list[sf.Deal]) -> None:
        """Merging accumulators of two parts equals accumulating both, in either order."""
        parts = []
        for sample in (a, b):
            acc = m.FunnelAccumulator(SMALL)
            for deal in sample:
                acc.add(deal)
            parts.append(acc)
        whole = m.FunnelAccumulator(SMALL)
        for deal in a + b:
            whole.add(deal)
        assert (
            parts[0].merge(parts[1]).result() == whole.result() == parts[1].merge(parts[0]).result()
        )


class TestStageConversion:
    def test_hand_worked(self) -> None:
        """A -> C: deals 1 and 3 of the four that entered A reached C."""
        rate = m.stage_conversion(scenario(), "A", "C")
        assert (rate.numerator, rate.denominator) == (2, 4)

    def test_unknown_stage(self) -> None:
        """An unknown stage raises UnknownStageError."""
        with pytest.raises(sf.UnknownStageError):
            m.stage_conversion(scenario(), "A", "Nope")


@pytest.mark.skipif(
    not MAVEN.is_dir(), reason="../shared/data (Maven CRM dataset) is not beside this clone"
)
class TestMavenDataset:
    def test_win_rate_and_average_won_deal(self) -> None:
        """Win rate 4238/6711 and the average won deal on the Maven export, cross-checked with plain csv arithmetic."""
        pipeline = sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")
        with (MAVEN / "sales_pipeline.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        built = []
        for row in rows:
            engaged = row["engage_date"]
            start = datetime.fromisoformat(engaged or "2017-12-31").replace(tzinfo=UTC)
            value = sf.Money(row["close_value"], "USD") if row["close_value"] else None
            deal = pipeline.open_deal(
                row["opportunity_id"],
                at=start,
                stage="Engaging" if engaged else "Prospecting",
                value=value,
                owner=row["sales_agent"],
            )
            if row["deal_stage"] == "Won":
                deal = deal.win(at=datetime.fromisoformat(row["close_date"]).replace(tzinfo=UTC))
            elif row["deal_stage"] == "Lost":
                deal = deal.lose(at=datetime.fromisoformat(row["close_date"]).replace(tzinfo=UTC))
            built.append(deal)
        won = sum(r["deal_stage"] == "Won" for r in rows)
        lost = sum(r["deal_stage"] == "Lost" for r in rows)
        rate = m.win_rate(built)
        assert (rate.numerator, rate.denominator) == (won, won + lost) == (4238, 6711)
        won_values = [int(r["close_value"]) for r in rows if r["deal_stage"] == "Won"]
        total = sf.Money.total(d.value for d in built if d.is_won and d.value is not None)
        assert total.amount == sum(won_values)
        average = m.average_deal_size(built)
        assert average == sf.Money(Decimal(sum(won_values)) / Decimal(len(won_values)), "USD")
