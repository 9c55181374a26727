"""Deal size, pipeline value, weighted pipeline, coverage, velocity, touchpoints."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import SMALL, T0, sample_deals

DAY = timedelta(days=1)
P = sf.Pipeline.linear("P", ["A", "B"], probabilities=[0.25, 0.5])


def usd(amount: int | str) -> sf.Money:
    return sf.Money(amount, "USD")


def book() -> list[sf.Deal]:
    """Two won (100, 300), one lost (50), two open (A: 1000, B: 2000)."""
    return [
        P.open_deal("w1", at=T0, value=usd(100)).win(at=T0 + 2 * DAY),
        P.open_deal("w2", at=T0, value=usd(300)).win(at=T0 + 4 * DAY),
        P.open_deal("l1", at=T0, value=usd(50)).lose(at=T0 + DAY),
        P.open_deal("o1", at=T0, value=usd(1000)),
        P.open_deal("o2", at=T0, value=usd(2000)).advance(at=T0 + DAY),
    ]


class TestAverageDealSize:
    def test_won_mean_and_median(self) -> None:
        """Won deals average 200; closed deals (with the lost 50) 150."""
        assert m.average_deal_size(book()) == usd(200)
        assert m.average_deal_size(book(), status="closed") == usd(150)
        assert m.average_deal_size(book(), status="open", statistic="median") == usd(1500)

    def test_exact_decimal(self) -> None:
        """The mean is exact Decimal arithmetic: (0.10 + 0.20) / 2 == 0.15."""
        deals = [
            P.open_deal(str(i), at=T0, value=usd(v)).win(at=T0)
            for i, v in enumerate(["0.10", "0.20"])
        ]
        assert m.average_deal_size(deals) == usd("0.15")

    def test_undefined_is_none(self) -> None:
        """No won deal: None, not zero."""
        assert m.average_deal_size([P.open_deal("a", at=T0, value=usd(5))]) is None

    def test_missing_values_warn(self) -> None:
        """A won deal without a value is left out with a SalesflowWarning."""
        deals = [
            P.open_deal("a", at=T0).win(at=T0),
            P.open_deal("b", at=T0, value=usd(10)).win(at=T0),
        ]
        with pytest.warns(sf.SalesflowWarning, match="without a value"):
            assert m.average_deal_size(deals) == usd(10)

    def test_mixed_currencies(self) -> None:
        """Mixed currencies raise; by='currency' gives one result each."""
        deals = [
            P.open_deal("a", at=T0, value=usd(10)).win(at=T0),
            P.open_deal("b", at=T0, value=sf.Money(20, "EUR")).win(at=T0),
        ]
        with pytest.raises(sf.CurrencyMismatchError):
            m.average_deal_size(deals)
        assert m.average_deal_size(deals, by="currency") == {
            "EUR": sf.Money(20, "EUR"),
            "USD": usd(10),
        }


class TestPipeline:
    def test_open_value_and_weighted(self) -> None:
        """Open pipeline 3000; weighted 1000 × 0.25 + 2000 × 0.5 = 1250."""
        assert m.pipeline_value(book()) == usd(3000)
        assert m.weighted_pipeline(book()) == usd(1250)

    def test_custom_probabilities(self) -> None:
        """A mapping overrides the stage probabilities, stage by stage."""
        assert m.weighted_pipeline(book(), probabilities={"B": 0.1}) == usd(450)

    def test_missing_probability(self) -> None:
        """A stage without a probability is an error that names it."""
        with pytest.raises(ValueError, match="'A'"):
            m.weighted_pipeline([SMALL.open_deal("x", at=T0, value=usd(1))])

    def test_empty_pipeline_is_zero_not_none(self) -> None:
        """With no open deal the pipeline is worth zero in the deals' currency."""
        closed = book()[:3]
        assert m.pipeline_value(closed) == usd(0)
        assert m.pipeline_value([]) is None
        assert m.pipeline_value([], currency="EUR") == sf.Money(0, "EUR")

    def test_as_of(self) -> None:
        """At T0 every deal was open."""
        assert m.pipeline_value(book(), as_of=T0) == usd(3450)

    def test_coverage(self) -> None:
        """Coverage 3000 / 1500 = 2; remaining quota 1500 - 400 won gives 3000 / 1100."""
        assert m.pipeline_coverage(book(), usd(1500)) == 2.0
        assert m.pipeline_coverage(book(), usd(1500), basis="remaining") == pytest.approx(
            3000 / 1100
        )
        assert m.pipeline_coverage(book(), usd(0)) is None
        assert m.pipeline_coverage(book(), usd(300), basis="remaining") is None

    @given(sample_deals())
    def test_weighted_never_above_value(self, sample: list[sf.Deal]) -> None:
        """The weighted pipeline is never above the pipeline value."""
        valued = [d.replace(value=usd(1000 + i)) for i, d in enumerate(sample)]
        probs = {"A": 0.2, "B": 0.5, "C": 0.9}
        weighted = m.weighted_pipeline(valued, probabilities=probs, currency="USD")
        total = m.pipeline_value(valued, currency="USD")
        assert weighted is not None
        assert total is not None
        assert weighted <= total


class TestVelocity:
    def test_formula(self) -> None:
        """V = 2 open × 2/3 × 200 / 3 days = 88.88… USD per day."""
        v = m.sales_velocity(book())
        assert v.opportunities == 2
        assert (v.win_rate.numerator, v.win_rate.denominator) == (2, 3)
        assert v.average_deal_size == usd(200)
        assert v.cycle.mean == 3 * DAY
        assert v.value is not None
        assert abs(v.value.amount - Decimal(800) / Decimal(9)) < Decimal("1e-20")

    def test_shorter_cycle_raises_velocity_by_a_quarter(self) -> None:
        """Cutting the cycle by 20 % raises V by 25 % (REFERENCE.md)."""
        slow = [
            P.open_deal("w", at=T0, value=usd(100)).win(at=T0 + 10 * DAY),
            P.open_deal("o", at=T0),
        ]
        fast = [
            P.open_deal("w", at=T0, value=usd(100)).win(at=T0 + 8 * DAY),
            P.open_deal("o", at=T0),
        ]
        v_slow, v_fast = m.sales_velocity(slow).value, m.sales_velocity(fast).value
        assert v_slow is not None
        assert v_fast is not None
        assert v_fast.amount / v_slow.amount == Decimal("1.25")

    def test_undefined_component(self) -> None:
        """No closed deal: the value is None and the components say why."""
        v = m.sales_velocity([P.open_deal("o", at=T0, value=usd(1))])
        assert v.value is None
        assert v.win_rate.value is None
        assert v.opportunities == 1


class TestTouchpointsPerConversion:
    def test_counts_touches_up_to_the_win(self) -> None:
        """Touches at or before the win count; later ones and unwon deals do not."""
        touch = sf.Touchpoint
        won = (
            P.open_deal("w", at=T0)
            .log(touch(T0, "email"))
            .log(touch(T0 + DAY, "call"))
            .log(touch(T0 + 5 * DAY, "email"))
            .win(at=T0 + 2 * DAY)
        )
        won2 = P.open_deal("v", at=T0).log(touch(T0, "demo")).win(at=T0)
        lost = P.open_deal("l", at=T0).log(touch(T0, "email")).lose(at=T0)
        summary = m.touchpoints_per_conversion([won, won2, lost])
        assert (summary.n, summary.mean, summary.median) == (2, 1.5, 1.5)
        assert m.touchpoints_per_conversion([won], channel="email").mean == 1

    def test_leads_and_undefined(self) -> None:
        """Converted leads count at their conversion; with nothing converted the mean is None."""
        lead = sf.Lead("L", created_at=T0).log(sf.Touchpoint(T0, "ad"))
        deal = lead.convert(P, at=T0 + DAY)
        assert m.touchpoints_per_conversion([lead]).mean is None
        assert m.touchpoints_per_conversion([lead.mark_converted(deal)]).mean == 1
