"""Forecast categories, the rollup per owner and quota attainment, by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow.io import read_salesforce_history

from .test_io_salesforce import pipeline, text
from .test_io_salesforce_changes import HEAD, ROWS

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
START, END, AS_OF = T0 + 10 * DAY, T0 + 40 * DAY, T0 + 20 * DAY


def usd(amount: int) -> sf.Money:
    return sf.Money(amount, "USD")


@pytest.fixture
def deals() -> list[sf.Deal]:
    """Ann and Bob's deals around the period [day 11, day 41), seen on day 21."""
    p = sf.Pipeline.linear("S", ["Lead", "Demo"])
    inside = (START + 5 * DAY).date()
    return [
        p.open_deal("W0", at=T0, value=usd(50), owner="Ann").win(at=T0 + 5 * DAY),
        p.open_deal("W1", at=T0, value=usd(100), owner="Ann").win(at=T0 + 15 * DAY),
        p.open_deal("C1", at=T0, value=usd(200), owner="Ann", expected_close=inside)
        .advance(at=T0 + 2 * DAY)
        .update(at=T0 + 3 * DAY, forecast_category="Commit"),
        p.open_deal("B1", at=T0, value=usd(300), owner="Ann").update(
            at=T0 + DAY, forecast_category="Best Case"
        ),
        p.open_deal(
            "P1", at=T0, value=usd(400), owner="Ann", expected_close=(END + 5 * DAY).date()
        ),
        p.open_deal("O1", at=T0, value=usd(500), owner="Ann").update(
            at=T0 + DAY, forecast_category="Omitted"
        ),
        p.open_deal("W2", at=T0, value=usd(1000), owner="Bob").win(at=T0 + 18 * DAY),
        p.open_deal("L1", at=T0, value=usd(700), owner="Bob").lose(at=T0 + 12 * DAY),
        # Won after the cut-off: not closed as of day 21, an open Pipeline deal then.
        p.open_deal("W3", at=T0, value=usd(60), owner="Bob").win(at=T0 + 30 * DAY),
    ]


class TestCategories:
    def test_category_of(self, deals: list[sf.Deal]) -> None:
        """Won is Closed, lost Omitted; an override wins over the stage default, else Pipeline."""
        by_id = {d.id: d for d in deals}
        assert m.category_of(by_id["W1"]) == "Closed"
        assert m.category_of(by_id["L1"]) == "Omitted"
        assert m.category_of(by_id["B1"]) == "Best Case"
        assert m.category_of(by_id["P1"]) == "Pipeline"
        assert m.category_of(by_id["P1"], {"Lead": "Best Case"}) == "Best Case"
        assert m.category_of(by_id["C1"], {"Demo": "Pipeline"}) == "Commit"


class TestRollup:
    def test_sums_by_hand(self, deals: list[sf.Deal]) -> None:
        """Per owner: closed in the period, commit and best case expected in it; totals add up."""
        r = m.forecast_rollup(deals, START, END, as_of=AS_OF, n=200)
        ann, bob, total = r["Ann"], r["Bob"], r.total
        assert (ann.closed, ann.commit, ann.best_case, ann.pipeline) == (
            usd(100),
            usd(200),
            usd(300),
            usd(0),
        )
        assert ann.omitted == 1
        assert (ann.commit_total, ann.best_case_total) == (usd(300), usd(600))
        assert (bob.closed, bob.pipeline) == (usd(1000), usd(60))
        assert (total.closed, total.commit, total.best_case, total.pipeline) == (
            usd(1100),
            usd(200),
            usd(300),
            usd(60),
        )
        assert [row.key for row in r.rows] == ["Ann", "Bob", "total"]

    def test_expected_adds_the_forecast_to_what_is_closed(self, deals: list[sf.Deal]) -> None:
        """expected = closed + the group's simulated mean; the interval shifts the same way."""
        r = m.forecast_rollup(deals, START, END, as_of=AS_OF, n=200)
        for row in r.rows:
            assert row.forecast is not None
            mean = row.forecast.mean
            assert mean is not None
            assert row.expected == row.closed + mean  # type: ignore[operator]
            low, high = row.forecast.interval(0.8)  # type: ignore[misc]
            assert row.interval(0.8) == (row.closed + low, row.closed + high)  # type: ignore[operator]

    def test_stage_defaults_and_records(self, deals: list[sf.Deal]) -> None:
        """categories= sets an open stage's default; records carry the cumulative sums."""
        r = m.forecast_rollup(
            deals, START, END, as_of=AS_OF, n=50, categories={"Lead": "Best Case"}
        )
        assert r["Bob"].best_case == usd(60)
        record = r.to_dict()["rows"][0]
        assert record["key"] == "Ann"
        assert record["best_case"] == "600"
        assert "Rollup" in repr(r)
        assert "<table>" in r._repr_html_()
        with pytest.raises(ValueError, match="categories"):
            m.forecast_rollup(deals, START, END, categories={"Lead": "Maybe"})

    def test_frame(self, deals: list[sf.Deal]) -> None:
        """to_frame(): one row per group and the total, exact amounts."""
        pytest.importorskip("pandas")
        frame = m.forecast_rollup(deals, START, END, as_of=AS_OF, n=50).to_frame()
        assert list(frame["key"]) == ["Ann", "Bob", "total"]
        assert list(frame["closed"]) == [Decimal(100), Decimal(1000), Decimal(1100)]


class TestAttainment:
    def test_by_hand(self, deals: list[sf.Deal]) -> None:
        """Won over quota per owner; a quota without deals has 0 won; the total sums both."""
        quotas = {"Ann": usd(1000), "Bob": usd(800), "Cat": usd(500)}
        a = m.attainment(deals, quotas, START, END, as_of=AS_OF, n=200)
        assert [r.key for r in a.rows] == ["Ann", "Bob", "Cat", "total"]
        assert a["Ann"].attainment == 0.1
        assert a["Bob"].attainment == 1.25
        assert a["Cat"].won == usd(0)
        assert a["Cat"].attainment == 0.0
        assert a.total.quota == usd(2300)
        assert a.total.won == usd(1100)
        assert a.total.attainment == pytest.approx(1100 / 2300)

    def test_projected_uses_the_forecast(self, deals: list[sf.Deal]) -> None:
        """projected = (won + forecast mean) / quota; the interval with the forecast's bounds."""
        a = m.attainment(deals, {"Ann": usd(1000)}, START, END, as_of=AS_OF, n=200)
        ann = a["Ann"]
        assert ann.forecast is not None
        mean = ann.forecast.mean
        assert mean is not None
        assert ann.projected == pytest.approx(float((Decimal(100) + mean.amount) / 1000))
        low, high = ann.forecast.interval(0.8)  # type: ignore[misc]
        assert ann.interval(0.8) == pytest.approx(
            (float((100 + low.amount) / 1000), float((100 + high.amount) / 1000))
        )
        assert a["Bob"].attainment is None
        assert "Attainment" in repr(a)
        assert a.to_dict()["rows"][0]["attainment"] == 0.1

    def test_quotas_are_money(self, deals: list[sf.Deal]) -> None:
        """A quota that is a plain number is refused."""
        with pytest.raises(TypeError, match="Money"):
            m.attainment(deals, {"Ann": 1000}, START, END)  # type: ignore[dict-item]


@pytest.fixture
def saved() -> sf.Deal:
    """An opportunity as Salesforce's OpportunityHistory saved it (tests/test_io_salesforce_changes)."""
    return read_salesforce_history(io.StringIO(text([HEAD, *ROWS])), pipeline())[0]


class TestFromSalesforce:
    """Categories, close dates and probabilities as Salesforce's OpportunityHistory saved them."""

    def test_category_as_it_was(self, saved: sf.Deal) -> None:
        """Pipeline until the 15th, Commit after, Closed once won."""
        day = lambda d: datetime(2024, 1, d, 12, tzinfo=UTC)  # noqa: E731
        assert m.category_of(saved.as_of(day(10))) == "Pipeline"  # type: ignore[arg-type]
        assert m.category_of(saved.as_of(day(16))) == "Commit"  # type: ignore[arg-type]
        assert m.category_of(saved) == "Closed"

    def test_baseline_uses_the_saved_probability_and_close_date(self, saved: sf.Deal) -> None:
        """On the 10th: 20 % (the saved Probability), closing on 15 March, so in March only."""
        cut = datetime(2024, 1, 10, 12, tzinfo=UTC)
        march = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
        april = datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
        kwargs = {"as_of": cut, "method": "stage_probability", "n": 10}
        assert m.forecast([saved], *march, **kwargs).p_close(saved.id) == 0.2  # type: ignore[arg-type]
        assert m.forecast([saved], *april, **kwargs).p_close(saved.id) == 0.0  # type: ignore[arg-type]
