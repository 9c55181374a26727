"""pipeline_changes: the movement waterfall between two dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesflow as sf
import salesflow.metrics as m

from .strategies import deals

USD = "USD"

# Random deals are slow to draw on a busy machine; the health check would fail them.
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day(d: int, month: int = 3) -> datetime:
    return datetime(2026, month, d, tzinfo=UTC)


def usd(amount: int) -> sf.Money:
    return sf.Money(amount, USD)


@pytest.fixture(scope="module")
def pipeline() -> sf.Pipeline:
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


@pytest.fixture(scope="module")
def sample(pipeline: sf.Pipeline) -> list[sf.Deal]:
    """Six deals around the window [10 March, 20 March), each doing one or two things."""
    a = pipeline.open_deal("A", at=day(1), value=usd(100), expected_close=date(2026, 3, 15))
    a = a.advance(at=day(12)).update(at=day(14), expected_close=date(2026, 4, 5))
    b = pipeline.open_deal("B", at=day(5), value=usd(200))
    b = b.update(at=day(11), value=usd(250)).win(at=day(15))
    c = pipeline.open_deal("C", at=day(12), value=usd(300)).lose(at=day(18), reason="price")
    d = pipeline.open_deal("D", at=day(2), value=usd(50), stage="Demo").lose(at=day(8))
    d = d.reopen(at=day(16)).move_to("Lead", at=day(17))
    e = pipeline.open_deal("E", at=day(25), value=usd(999))
    f = pipeline.open_deal("F", at=day(1), value=usd(400), expected_close=date(2026, 3, 30))
    f = f.update(at=day(19), value=usd(300), expected_close=date(2026, 3, 25))
    return [a, b, c, d, e, f]


# Computed by hand from the fixture's story (see its docstring and the tests below).
EXPECTED = {
    "open_at_start": (3, 700),  # A 100, B 200, F 400 (D was lost on 8 March)
    "created": (1, 300),  # C
    "advanced": (1, 100),  # A
    "regressed": (1, 50),  # D, back to Lead after its reopen
    "value_up": (1, 50),  # B 200 -> 250
    "value_down": (1, 100),  # F 400 -> 300
    "pulled_in": (1, 300),  # F, 30 -> 25 March, at its new value
    "pushed_out": (1, 100),  # A, 15 March -> 5 April
    "won": (1, 250),  # B at its raised value
    "lost": (1, 300),  # C
    "reopened": (1, 50),  # D
    "open_at_end": (3, 450),  # A 100, D 50, F 300
}


class TestHandComputed:
    def test_every_bucket(self, sample: list[sf.Deal]) -> None:
        """Each bucket's count and amount match the hand count."""
        waterfall = m.pipeline_changes(sample, day(10), day(20))
        assert isinstance(waterfall, m.Waterfall)
        got = {n: (waterfall[n].count, waterfall[n].amount) for n in m.Waterfall.names}
        assert got == {n: (c, usd(a)) for n, (c, a) in EXPECTED.items()}

    def test_names_are_in_the_contract_order(self) -> None:
        """Waterfall.names lists the buckets in the issue's order."""
        assert m.Waterfall.names == tuple(EXPECTED)

    def test_deals_per_bucket(self, sample: list[sf.Deal]) -> None:
        """deals(name) gives the deals in a bucket; spaces are accepted in the name."""
        waterfall = m.pipeline_changes(sample, day(10), day(20))
        assert isinstance(waterfall, m.Waterfall)
        assert [d.id for d in waterfall.deals("pushed out")] == ["A"]
        assert [d.id for d in waterfall.deals("open_at_end")] == ["A", "D", "F"]
        assert [d.id for d in waterfall.deals("pushed_out_of_window")] == ["A"]
        with pytest.raises(KeyError, match="no bucket 'slipped'"):
            waterfall.deals("slipped")

    def test_pushed_within_the_window_is_not_out_of_it(self, pipeline: sf.Pipeline) -> None:
        """A push from 12 to 15 March, inside [10, 20 March), is pushed out but not out of the window."""
        deal = pipeline.open_deal("P", at=day(1), expected_close=date(2026, 3, 12))
        deal = deal.update(at=day(11), expected_close=date(2026, 3, 15))
        waterfall = m.pipeline_changes([deal], day(10), day(20))
        assert isinstance(waterfall, m.Waterfall)
        assert waterfall["pushed_out"].count == 1
        assert waterfall["pushed_out_of_window"].count == 0
        assert waterfall["pushed_out"].amount is None  # no deal has a value

    def test_a_window_ending_at_midnight_excludes_that_day(self) -> None:
        """closes_before: a day is in the window when it begins before the window's end."""
        from salesflow.metrics._movement import closes_before

        assert closes_before(date(2026, 3, 19), day(20))
        assert not closes_before(date(2026, 3, 20), day(20))
        assert closes_before(date(2026, 3, 20), day(20) + timedelta(hours=12))

    def test_by_gives_one_waterfall_per_group(self, sample: list[sf.Deal]) -> None:
        """by= splits the deals; the groups' counts add up to the whole."""
        whole = m.pipeline_changes(sample, day(10), day(20))
        split = m.pipeline_changes(sample, day(10), day(20), by=lambda d: d.id in {"A", "B"})
        assert isinstance(whole, m.Waterfall)
        assert isinstance(split, m.Breakdown)
        for name in m.Waterfall.names:
            assert sum(w[name].count for w in split.values()) == whole[name].count
        assert split[True]["open_at_start"].count == 2

    def test_to_frame(self, sample: list[sf.Deal]) -> None:
        """to_frame has one row per bucket (the extra bucket last)."""
        pytest.importorskip("pandas")
        waterfall = m.pipeline_changes(sample, day(10), day(20))
        assert isinstance(waterfall, m.Waterfall)
        frame = waterfall.to_frame()
        assert list(frame["bucket"]) == [*m.Waterfall.names, "pushed_out_of_window"]
        assert list(frame["count"])[:3] == [3, 1, 1]
        assert "open at start" in waterfall._repr_html_()

    def test_mixed_currencies_are_refused(self, pipeline: sf.Pipeline) -> None:
        """Amounts are never summed across currencies."""
        one = pipeline.open_deal("U", at=day(11), value=usd(1))
        two = pipeline.open_deal("E", at=day(11), value=sf.Money(1, "EUR"))
        with pytest.raises(sf.CurrencyMismatchError):
            m.pipeline_changes([one, two], day(10), day(20))

    def test_end_before_start_is_refused(self, sample: list[sf.Deal]) -> None:
        """The window must not end before it starts."""
        with pytest.raises(ValueError, match="before it starts"):
            m.pipeline_changes(sample, day(20), day(10))


def _amount(waterfall: m.Waterfall, name: str) -> Decimal:
    amount = waterfall[name].amount
    return Decimal(0) if amount is None else amount.amount


@st.composite
def windows(draw: st.DrawFn, deal: sf.Deal) -> tuple[datetime, datetime]:
    """A window whose bounds are often exactly at one of the deal's events."""
    times = [t.astimezone(UTC) for t in deal.stage_times] + [c.at for c in deal.changes]
    near = st.sampled_from(times).flatmap(
        lambda t: st.sampled_from([t, t - timedelta(microseconds=1), t + timedelta(days=1)])
    )
    a, b = draw(near), draw(near | st.just(max(times) + timedelta(days=30)))
    return (a, b) if a <= b else (b, a)


class TestIdentity:
    @PROPERTY
    @given(deals(max_moves=8, updates=True), st.data())
    def test_identity_holds_in_count_and_amount(self, deal: sf.Deal, data: st.DataObject) -> None:
        """open_at_end = open_at_start + created + reopened - won - lost (+ value up - down)."""
        start, end = data.draw(windows(deal))
        w = m.pipeline_changes([deal], start, end)
        assert isinstance(w, m.Waterfall)
        entered = w["open_at_start"].count + w["created"].count + w["reopened"].count
        assert entered - w["won"].count - w["lost"].count == w["open_at_end"].count
        plus = sum(_amount(w, n) for n in ("open_at_start", "created", "reopened", "value_up"))
        minus = sum(_amount(w, n) for n in ("won", "lost", "value_down"))
        assert plus - minus == _amount(w, "open_at_end")

    @PROPERTY
    @given(deals(max_moves=8, updates=True), st.data())
    def test_ends_agree_with_as_of(self, deal: sf.Deal, data: st.DataObject) -> None:
        """open_at_start/end are the deal's state just before start/end, by deal.as_of."""
        start, end = data.draw(windows(deal))
        w = m.pipeline_changes([deal], start, end)
        assert isinstance(w, m.Waterfall)
        for name, at in (("open_at_start", start), ("open_at_end", end)):
            before = deal.as_of(at - timedelta(microseconds=1))
            is_open = before is not None and before.is_open
            assert w[name].count == int(is_open)
            value = before.value if before is not None and is_open else None
            assert _amount(w, name) == (Decimal(0) if value is None else value.amount)

    @PROPERTY
    @given(st.lists(deals(max_moves=5, updates=True), min_size=2, max_size=4), st.data())
    def test_merge_is_exact(self, many: list[sf.Deal], data: st.DataObject) -> None:
        """Two accumulators merged give the counts of one accumulator over all deals."""
        start = data.draw(st.sampled_from([d.created_at for d in many]))
        end = start + data.draw(st.timedeltas(timedelta(0), timedelta(days=60)))
        cut = data.draw(st.integers(0, len(many)))
        whole, left, right = (m.WaterfallAccumulator(start, end) for _ in range(3))
        for i, deal in enumerate(many):
            for acc in (whole, left if i < cut else right):
                try:
                    acc.add(deal)
                except sf.CurrencyMismatchError:
                    return  # random deals in several currencies
        merged = left.merge(right).result()
        assert {n: merged[n].count for n in merged} == {n: whole.result()[n].count for n in merged}
