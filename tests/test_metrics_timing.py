"""Time in stage and sales cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import SMALL, T0, sample_deals

ONE = sf.Pipeline.linear("One", ["X"])
DAY = timedelta(days=1)
# REFERENCE.md: durations in days, and whether the spell ended (1) or is open (0).
KM_DURATIONS = [2, 3, 3, 5, 8, 8, 9, 12, 15, 20]
KM_EXITED = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
CUTOFF = T0 + timedelta(days=20)


def km_deals() -> list[sf.Deal]:
    """One deal per REFERENCE spell, each entering X so that the cut-off gives its duration."""
    deals = []
    for i, (days, exited) in enumerate(zip(KM_DURATIONS, KM_EXITED, strict=True)):
        entered = CUTOFF - timedelta(days=days) if not exited else T0
        deal = ONE.open_deal(f"d{i}", at=entered)
        if exited:
            deal = deal.win(at=entered + timedelta(days=days))
        deals.append(deal)
    return deals


class TestTimeInStage:
    def test_reference_kaplan_meier(self) -> None:
        """KM time in stage reproduces REFERENCE.md: median 9 d, restricted mean 10.771429 d."""
        summary = m.time_in_stage(km_deals(), as_of=CUTOFF)["X"]
        assert (summary.n, summary.censored) == (10, 4)
        assert summary.median == timedelta(days=9)
        assert summary.mean is not None
        assert summary.mean / DAY == pytest.approx(10.771429, abs=5e-7)
        curve = summary.km
        assert curve is not None
        for days, expected in [
            (2, 0.9),
            (3, 0.8),
            (5, 0.685714),
            (8, 0.571429),
            (9, 0.428571),
            (15, 0.214286),
        ]:
            assert curve.survival(days * DAY / timedelta(microseconds=1)) == pytest.approx(
                expected, abs=5e-7
            )

    def test_completed_is_conditional_on_exit(self) -> None:
        """method='completed' averages ended spells only: REFERENCE's naive 7.0 days."""
        summary = m.time_in_stage(km_deals(), method="completed", as_of=CUTOFF)["X"]
        assert summary.n == 6
        assert summary.mean == 7 * DAY
        assert summary.censored == 4

    def test_current_ages_open_spells(self) -> None:
        """method='current' summarises the open spells' ages at the cut-off."""
        summary = m.time_in_stage(km_deals(), method="current", as_of=CUTOFF)["X"]
        assert summary.n == 4
        assert summary.mean == timedelta(days=(3 + 8 + 12 + 20) / 4)

    def test_default_cutoff_is_latest_event(self) -> None:
        """Without as_of the cut-off is the latest stage change, never the clock."""
        deals = [
            ONE.open_deal("a", at=T0),
            ONE.open_deal("b", at=T0 + 4 * DAY).win(at=T0 + 10 * DAY),
        ]
        summary = m.time_in_stage(deals, method="current")["X"]
        assert summary.median == 10 * DAY

    def test_per_deal_adds_re_entries(self) -> None:
        """per='deal' adds a deal's spells in a stage; per='spell' counts each stay."""
        deal = (
            SMALL.open_deal("r", at=T0)
            .advance(at=T0 + 2 * DAY)
            .move_to("A", at=T0 + 3 * DAY)
            .advance(at=T0 + 6 * DAY)
            .win(at=T0 + 7 * DAY)
        )
        per_spell = m.time_in_stage([deal], method="completed", per="spell")["A"]
        per_deal = m.time_in_stage([deal], method="completed", per="deal")["A"]
        assert (per_spell.n, per_spell.mean) == (2, timedelta(days=2.5))
        assert (per_deal.n, per_deal.mean) == (1, 5 * DAY)

    def test_durations_in_utc_across_dst(self) -> None:
        """A stay across a DST change lasts its elapsed time, not its wall-clock time."""
        halifax = ZoneInfo("America/Halifax")
        deal = ONE.open_deal("h", at=datetime(2000, 1, 1, tzinfo=halifax)).win(
            at=datetime(2000, 5, 1, tzinfo=halifax)
        )
        summary = m.time_in_stage([deal], method="completed")["X"]
        assert summary.mean == timedelta(days=120, hours=23)

    def test_unentered_stage_is_undefined(self) -> None:
        """A stage nobody entered has n == 0 and None values."""
        summary = m.time_in_stage([SMALL.open_deal("a", at=T0)], method="km")["C"]
        assert summary.n == 0
        assert summary.median is None
        assert summary.mean is None

    @given(sample_deals(), sample_deals())
    def test_merge_equals_union(self, a: list[sf.Deal], b: list[sf.Deal]) -> None:
        """Merged accumulators give the summaries of the union, with the cut-off taken across parts."""
        parts = []
        for sample in (a, b):
            acc = m.TimeInStageAccumulator(SMALL)
            for deal in sample:
                acc.add(deal)
            parts.append(acc)
        whole = m.TimeInStageAccumulator(SMALL)
        for deal in a + b:
            whole.add(deal)
        assert parts[0].merge(parts[1]).result() == whole.result()

    @given(sample_deals())
    def test_order_independent(self, sample: list[sf.Deal]) -> None:
        """The input order does not change the result."""
        assert m.time_in_stage(sample, pipeline=SMALL) == m.time_in_stage(
            sample[::-1], pipeline=SMALL
        )


class TestSalesCycle:
    def test_won_deals_only_by_default(self) -> None:
        """The default cycle is over won deals: 3 and 5 days here."""
        deals = [
            ONE.open_deal("a", at=T0).win(at=T0 + 3 * DAY),
            ONE.open_deal("b", at=T0).win(at=T0 + 5 * DAY),
            ONE.open_deal("c", at=T0).lose(at=T0 + 100 * DAY),
            ONE.open_deal("d", at=T0),
        ]
        cycle = m.sales_cycle(deals)
        assert (cycle.n, cycle.mean, cycle.median) == (2, 4 * DAY, 4 * DAY)
        closed = m.sales_cycle(deals, status="closed")
        assert closed.n == 3
        assert closed.percentile(1.0) == 100 * DAY

    def test_no_deals_is_undefined(self) -> None:
        """No closed deal: n == 0 and every value None."""
        cycle = m.sales_cycle([ONE.open_deal("a", at=T0)])
        assert cycle.n == 0
        assert cycle.mean is None
        assert cycle.percentile(0.9) is None

    def test_km_reproduces_reference(self) -> None:
        """method='km' censors open deals: the REFERENCE KM median of 9 days."""
        cycle = m.sales_cycle(km_deals(), status="closed", method="km", as_of=CUTOFF)
        assert cycle.median == 9 * DAY

    def test_km_refuses_won_only(self) -> None:
        """KM with lost deals censored would overstate; it is refused."""
        with pytest.raises(ValueError, match="status='closed'"):
            m.sales_cycle(km_deals(), method="km")

    def test_lead_start(self) -> None:
        """start='lead' measures from the lead's creation."""
        lead = sf.Lead("L", created_at=T0)
        deal = lead.convert(ONE, at=T0 + 10 * DAY).win(at=T0 + 12 * DAY)
        assert m.sales_cycle([deal]).mean == 2 * DAY
        assert m.sales_cycle([deal], start="lead").mean == 12 * DAY

    def test_percentile_takes_a_fraction(self) -> None:
        """percentile(q) takes a fraction; 50 is refused with a clear message."""
        cycle = m.sales_cycle([ONE.open_deal("a", at=T0).win(at=T0 + DAY)])
        with pytest.raises(ValueError, match="fraction"):
            cycle.percentile(50)

    def test_as_of_and_between(self) -> None:
        """as_of hides later closes; between keeps deals closed in the window."""
        deals = [
            ONE.open_deal("a", at=T0).win(at=T0 + 3 * DAY),
            ONE.open_deal("b", at=T0).win(at=T0 + 5 * DAY),
        ]
        assert m.sales_cycle(deals, as_of=T0 + 4 * DAY).n == 1
        assert m.sales_cycle(deals, between=(T0 + 4 * DAY, T0 + 6 * DAY)).mean == 5 * DAY


def test_timezone_of_input_does_not_matter() -> None:
    """The same instants in another zone give the same durations."""
    tokyo = ZoneInfo("Asia/Tokyo")
    utc = [ONE.open_deal("a", at=T0).win(at=T0 + 3 * DAY)]
    local = [ONE.open_deal("a", at=T0.astimezone(tokyo)).win(at=(T0 + 3 * DAY).astimezone(tokyo))]
    assert m.sales_cycle(utc) == m.sales_cycle(local)
    assert T0.tzinfo is UTC
