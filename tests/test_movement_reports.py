"""slippage, stale_deals, loss_reasons, pipeline_created and cohort_conversion, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import salesflow as sf
import salesflow.metrics as m

USD = "USD"


def day(d: int, month: int = 3) -> datetime:
    return datetime(2026, month, d, tzinfo=UTC)


def usd(amount: int) -> sf.Money:
    return sf.Money(amount, USD)


@pytest.fixture(scope="module")
def linear() -> sf.Pipeline:
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


class TestSlippage:
    @pytest.fixture
    def deals(self, linear: sf.Pipeline) -> list[sf.Deal]:
        x = linear.open_deal("X", at=day(1), value=usd(100), expected_close=date(2026, 3, 15))
        x = x.update(at=day(10), expected_close=date(2026, 4, 5))  # +21 days, out of March
        x = x.update(at=day(20), expected_close=date(2026, 4, 20))  # +15 days, within April
        x = x.update(at=day(25), expected_close=date(2026, 4, 10))  # pulled in: not a push
        y = linear.open_deal("Y", at=day(1), expected_close=date(2026, 3, 31))
        z = linear.open_deal("Z", at=day(1))
        return [x, y, z]

    def test_hand_counted(self, deals: list[sf.Deal]) -> None:
        """X pushed twice (36 days), Y never, Z has no date and is left out."""
        result = m.slippage(deals)
        assert isinstance(result, m.Slippage)
        assert [(d.deal.id, d.pushes, d.days_pushed) for d in result.deals] == [
            ("X", 2, 36),
            ("Y", 0, 0),
        ]
        assert (result.ever_pushed.numerator, result.ever_pushed.denominator) == (1, 2)
        assert result.mean_pushes == 1.0
        assert dict(result.pushed_out_of) == {"2026-03": usd(100)}

    def test_between_counts_only_pushes_in_the_window(self, deals: list[sf.Deal]) -> None:
        """Only the 20 March push falls in [15 March, 1 April)."""
        result = m.slippage(deals, between=(day(15), day(1, 4)))
        assert isinstance(result, m.Slippage)
        first = result.deals[0]
        assert (first.deal.id, first.pushes, first.days_pushed) == ("X", 1, 15)
        assert dict(result.pushed_out_of) == {}

    def test_no_dated_deal_is_undefined(self, linear: sf.Pipeline) -> None:
        """No deal with an expected close: the share and the mean are undefined (None)."""
        result = m.slippage([linear.open_deal("Z", at=day(1))])
        assert isinstance(result, m.Slippage)
        assert result.ever_pushed.value is None
        assert result.mean_pushes is None


class TestStaleDeals:
    @pytest.fixture
    def deals(self) -> list[sf.Deal]:
        pipeline = sf.Pipeline.linear(
            "Rot",
            [
                sf.Stage("Lead", rotting_after=timedelta(days=10)),
                sf.Stage("Demo", rotting_after=timedelta(days=5)),
                "Proposal",
            ],
        )
        s1 = pipeline.open_deal("S1", at=day(1), value=usd(500))
        s2 = pipeline.open_deal("S2", at=day(1), value=usd(800)).advance(at=day(20))
        s2 = s2.log(sf.Touchpoint(day(28), "call"))
        s3 = pipeline.open_deal("S3", at=day(25), value=usd(1000))
        s4 = pipeline.open_deal("S4", at=day(1), value=usd(9000)).advance(at=day(2))
        s4 = s4.advance(at=day(2))
        s5 = pipeline.open_deal("S5", at=day(1))
        s6 = pipeline.open_deal("S6", at=day(1), value=usd(7000)).win(at=day(5))
        s7 = pipeline.open_deal("S7", at=day(1), value=usd(50)).update(at=day(28), owner="bo")
        return [s1, s2, s3, s4, s5, s6, s7]

    def test_stage_rule(self, deals: list[sf.Deal]) -> None:
        """Time in stage over the limit, most value first, no value last."""
        found = m.stale_deals(deals, as_of=day(30))
        assert [(s.deal.id, s.days_over) for s in found] == [
            ("S2", 5),  # Demo since 20 March: 10 days, limit 5
            ("S1", 19),  # Lead since 1 March: 29 days, limit 10
            ("S7", 19),
            ("S5", 19),
        ]
        assert found[0].idle == timedelta(days=2)
        assert found[2].owner == "bo"

    def test_activity_rule(self, deals: list[sf.Deal]) -> None:
        """Idle time over the limit: a recent call or update keeps a deal fresh."""
        found = m.stale_deals(deals, as_of=day(30), rule="activity")
        assert [s.deal.id for s in found] == ["S1", "S5"]

    def test_default_cutoff_is_the_latest_change(self, deals: list[sf.Deal]) -> None:
        """Without as_of, the cut-off is the latest stage or field change (28 March)."""
        found = m.stale_deals(deals)
        assert [(s.deal.id, s.days_over) for s in found][:2] == [("S2", 3), ("S1", 17)]

    def test_frame(self, deals: list[sf.Deal]) -> None:
        """to_frame has one row per stale deal."""
        pytest.importorskip("pandas")
        frame = m.stale_deals(deals, as_of=day(30)).to_frame()
        assert list(frame["deal_id"]) == ["S2", "S1", "S7", "S5"]
        assert "stale deals (4)" in m.stale_deals(deals, as_of=day(30))._repr_html_()


class TestLossReasons:
    @pytest.fixture
    def deals(self, linear: sf.Pipeline) -> list[sf.Deal]:
        made = []
        for i, (owner, reason) in enumerate(
            [("ana", "price"), ("ana", "price"), ("bo", "price"), ("bo", "timing"), ("ana", None)]
        ):
            deal = linear.open_deal(f"L{i}", at=day(1), owner=owner)
            made.append(deal.lose(at=day(10 + i), reason=reason))
        made.append(linear.open_deal("W", at=day(1), owner="ana").win(at=day(9)))
        made.append(linear.open_deal("O", at=day(1), owner="bo"))
        return made

    def test_shares_with_intervals(self, deals: list[sf.Deal]) -> None:
        """price 3/5, timing 1/5, and no reason 1/5 as its own row; Wilson intervals."""
        shares = m.loss_reasons(deals)
        assert list(shares) == ["price", "timing", None]
        assert [(r.numerator, r.denominator) for r in shares.values()] == [(3, 5), (1, 5), (1, 5)]
        assert shares["price"].interval == m.wilson_interval(3, 5)

    def test_by_owner(self, deals: list[sf.Deal]) -> None:
        """by='owner': keys (owner, reason), each share within the owner's lost deals."""
        shares = m.loss_reasons(deals, by="owner")
        got = {k: (r.numerator, r.denominator) for k, r in shares.items()}
        assert got == {
            ("ana", "price"): (2, 3),
            ("ana", None): (1, 3),
            ("bo", "price"): (1, 2),
            ("bo", "timing"): (1, 2),
        }
        assert shares.fields == ("owner", "lost_reason")

    def test_between(self, deals: list[sf.Deal]) -> None:
        """Only deals lost in [12, 20 March): L2, L3, L4."""
        shares = m.loss_reasons(deals, between=(day(12), day(20)))
        assert {k: r.numerator for k, r in shares.items()} == {"price": 1, "timing": 1, None: 1}


class TestPipelineCreated:
    @pytest.fixture
    def deals(self, linear: sf.Pipeline) -> list[sf.Deal]:
        late = datetime(2026, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=-4)))
        return [
            linear.open_deal("A", at=day(1), value=usd(100), source="web"),
            linear.open_deal("B", at=day(15), value=usd(200), source="ads").update(
                at=day(20), value=usd(900)
            ),
            linear.open_deal("C", at=day(2, 4), source="web"),
            linear.open_deal("D", at=late, value=usd(50), source="web"),
        ]

    def test_per_month_in_utc(self, deals: list[sf.Deal]) -> None:
        """D (23:30 on 31 March at UTC-4) is April in UTC; B counts its value at creation."""
        created = m.pipeline_created(deals)
        assert isinstance(created, m.Created)
        assert dict(created.counts) == {"2026-03": 2, "2026-04": 2}
        assert dict(created.amounts) == {"2026-03": usd(300), "2026-04": usd(50)}
        assert created.no_value == 1

    def test_per_month_in_a_zone(self, deals: list[sf.Deal]) -> None:
        """In New York's calendar D is a March deal, and A (midnight UTC on 1 March) a February one."""
        created = m.pipeline_created(deals, zone=ZoneInfo("America/New_York"))
        assert isinstance(created, m.Created)
        assert dict(created.counts) == {"2026-02": 1, "2026-03": 2, "2026-04": 1}

    def test_weeks_quarters_and_by(self, deals: list[sf.Deal]) -> None:
        """ISO weeks and quarters; by='source' splits."""
        weeks = m.pipeline_created(deals, every="week")
        assert isinstance(weeks, m.Created)
        assert list(weeks.counts) == ["2026-W09", "2026-W11", "2026-W14"]
        quarters = m.pipeline_created(deals, every="quarter")
        assert isinstance(quarters, m.Created)
        assert dict(quarters.counts) == {"2026Q1": 2, "2026Q2": 2}
        split = m.pipeline_created(deals, by="source")
        assert isinstance(split, m.Breakdown)
        assert dict(split["web"].counts) == {"2026-03": 1, "2026-04": 2}

    def test_unknown_period_is_refused(self, deals: list[sf.Deal]) -> None:
        """every= names a calendar period."""
        with pytest.raises(ValueError, match="every must be"):
            m.pipeline_created(deals, every="fortnight")  # type: ignore[arg-type]


class TestCohortConversion:
    @pytest.fixture
    def deals(self, linear: sf.Pipeline) -> list[sf.Deal]:
        jan = datetime(2026, 1, 1, tzinfo=UTC)
        return [
            linear.open_deal("W1", at=jan).win(at=jan + timedelta(days=10)),
            linear.open_deal("W2", at=jan)
            .advance(at=jan + timedelta(days=3))
            .win(at=jan + timedelta(days=45)),
            linear.open_deal("L1", at=jan).lose(at=jan + timedelta(days=20)),
            linear.open_deal("O1", at=jan),
            linear.open_deal("O2", at=jan + timedelta(days=30)),
            linear.open_deal("F1", at=datetime(2026, 2, 10, tzinfo=UTC)).win(
                at=datetime(2026, 2, 20, tzinfo=UTC)
            ),
        ]

    def test_hand_computed_cumulative_incidence(self, deals: list[sf.Deal]) -> None:
        """January: won at 10 and 45 days, lost at 20, censored at 30 and 60.

        By hand (Aalen-Johansen): F(30) = 1/5 = 0.2; at 45 days two deals are
        at risk and S(45-) = 4/5 * 3/4 = 0.6, so F(60) = 0.2 + 0.6 / 2 = 0.5
        (the naive 2 won / 5 would be 0.4). No January deal is followed to 90
        days and O1 was censored at 60, so that cell is undefined. February's
        only deal won at 10 days: every age is known.
        """
        table = m.cohort_conversion(
            deals, ages=(30, 60, 90), as_of=datetime(2026, 3, 2, tzinfo=UTC)
        )
        assert table.sizes["2026-01"] == 5
        low, mid, high = table.shares["2026-01"]
        assert low == pytest.approx(0.2)
        assert mid == pytest.approx(0.5)
        assert high is None
        assert table.at_risk["2026-01"] == (3, 1, 0)
        assert table.shares["2026-02"] == (1.0, 1.0, 1.0)

    def test_reaching_a_stage(self, deals: list[sf.Deal]) -> None:
        """stage='Demo': W2 reached Demo on day 3 and W1, F1 by winning; lost L1 never did."""
        table = m.cohort_conversion(
            deals, ages=(5,), stage="Demo", as_of=datetime(2026, 3, 2, tzinfo=UTC)
        )
        assert table.target == "Demo"
        assert table.shares["2026-01"] == (pytest.approx(1 / 5),)

    def test_bad_age_is_refused(self, deals: list[sf.Deal]) -> None:
        """Ages are positive whole days."""
        with pytest.raises(ValueError, match="ages must be"):
            m.cohort_conversion(deals, ages=(0,))

    def test_frame(self, deals: list[sf.Deal]) -> None:
        """A long frame: one row per cohort and age."""
        pytest.importorskip("pandas")
        table = m.cohort_conversion(deals, ages=(30, 60), as_of=datetime(2026, 3, 2, tzinfo=UTC))
        frame = table.to_frame()
        assert list(frame["cohort"]) == ["2026-01", "2026-01", "2026-02", "2026-02"]
        assert "at risk" in table._repr_html_()
