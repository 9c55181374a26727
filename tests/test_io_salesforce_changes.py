"""Salesforce OpportunityHistory keeps amount, close date, probability and forecast category history."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

import salesflow as sf
import salesflow.metrics as m
from salesflow.io import read_salesforce_history

from .test_io_salesforce import pipeline, text

HEAD = ["OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount", "CurrencyIsoCode",
        "Probability", "CloseDate", "ForecastCategoryName"]  # fmt: skip


def row(day: int, stage: str, amount: str, close: str, prob: str = "10", fc: str = "Pipeline",
        *, opp: str = "006A", user: str = "005ann") -> list[str]:  # fmt: skip
    return [opp, user, f"2024-01-{day:02d}T10:00:00.000Z", stage, amount, "USD", prob, close, fc]


def at(day: int) -> datetime:
    return datetime(2024, 1, day, 10, tzinfo=UTC)


# An opportunity pushed twice, raised once, cut once, then won; as Salesforce saves it.
ROWS = [
    row(2, "Prospecting", "1000", "2024-02-15"),
    row(5, "Prospecting", "1000", "2024-03-15", user="005bob"),  # pushed a month
    row(9, "Qualification", "1500", "2024-03-15", "20"),  # raised, probability 20
    row(15, "Qualification", "1500", "2024-04-30", "20", "Commit"),  # pushed, to commit
    row(20, "Proposal/Price Quote", "1200", "2024-04-30", "75", "Commit"),  # cut
    row(25, "Closed Won", "1200", "2024-01-25", "100", "Closed"),  # won early
]


@pytest.fixture(scope="module")
def deal() -> sf.Deal:
    result = read_salesforce_history(io.StringIO(text([HEAD, *ROWS])), pipeline())
    return result[0]


class TestHistory:
    def test_stage_history_still_collapses(self, deal: sf.Deal) -> None:
        """Six saves make four stage entries, as before."""
        assert [c.stage for c in deal.history] == [
            "Prospecting",
            "Qualification",
            "Proposal/Price Quote",
            "Closed Won",
        ]

    def test_final_fields(self, deal: sf.Deal) -> None:
        """The latest row gives the value, the close date and the forecast category."""
        assert deal.value == sf.Money("1200", "USD")
        assert deal.expected_close == date(2024, 1, 25)
        assert deal.forecast_category == "Closed"

    def test_every_change_is_recorded_at_its_save(self, deal: sf.Deal) -> None:
        """Each field that differs from the save before is one FieldChange at the later save."""
        got = [(c.field, c.old, c.new, c.at.day) for c in deal.changes]
        usd = lambda a: sf.Money(a, "USD")  # noqa: E731
        assert got == [
            ("probability", None, 0.1, 2),  # the first save's, so as_of knows them
            ("forecast_category", None, "Pipeline", 2),
            ("expected_close", date(2024, 2, 15), date(2024, 3, 15), 5),
            ("value", usd("1000"), usd("1500"), 9),
            ("probability", 0.1, 0.2, 9),
            ("expected_close", date(2024, 3, 15), date(2024, 4, 30), 15),
            ("forecast_category", "Pipeline", "Commit", 15),
            ("value", usd("1500"), usd("1200"), 20),
            ("probability", 0.2, 0.75, 20),
            ("expected_close", date(2024, 4, 30), date(2024, 1, 25), 25),
            ("probability", 0.75, 1.0, 25),
            ("forecast_category", "Commit", "Closed", 25),
        ]
        assert deal.changes[2].actor == "005bob"

    def test_as_of_reproduces_the_fields(self, deal: sf.Deal) -> None:
        """On 10 January the deal was worth 1500, due 15 March, in Pipeline."""
        then = deal.as_of(at(10))
        assert then is not None
        assert (then.value, then.expected_close, then.forecast_category) == (
            sf.Money("1500", "USD"),
            date(2024, 3, 15),
            "Pipeline",
        )

    def test_slippage_and_waterfall(self, deal: sf.Deal) -> None:
        """Two pushes (29 + 46 days); in January the value rose 500 and fell 300: net up 200."""
        slip = m.slippage([deal])
        assert isinstance(slip, m.Slippage)
        assert (slip.deals[0].pushes, slip.deals[0].days_pushed) == (2, 29 + 46)
        w = m.pipeline_changes([deal], at(3), at(3) + timedelta(days=28))
        assert isinstance(w, m.Waterfall)
        assert (w["pushed_out"].count, w["value_up"].amount) == (1, sf.Money("200", "USD"))
        assert w["value_down"].count == 0
        assert w["won"].amount == sf.Money("1200", "USD")

    def test_a_bad_close_date_is_a_load_error(self) -> None:
        """CloseDate must be an ISO date; the error names the column."""
        rows = [row(2, "Prospecting", "1000", "15/02/2024")]
        with pytest.raises(sf.LoadError, match="CloseDate"):
            read_salesforce_history(io.StringIO(text([HEAD, *rows])), pipeline())

    def test_a_bad_probability_is_a_load_error(self) -> None:
        """Probability is a percentage 0-100."""
        rows = [row(2, "Prospecting", "1000", "2024-02-15", "150")]
        with pytest.raises(sf.LoadError, match="Probability"):
            read_salesforce_history(io.StringIO(text([HEAD, *rows])), pipeline())
