"""Expected close dates and recorded field changes: update, changes, as_of, records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

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


@pytest.fixture
def pipeline() -> sf.Pipeline:
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


@pytest.fixture
def deal(pipeline: sf.Pipeline) -> sf.Deal:
    return pipeline.open_deal(
        "D-1", at=day(1), value=sf.Money(1000, USD), owner="ana", expected_close=date(2026, 3, 31)
    )


class TestExpectedClose:
    def test_open_deal_sets_it(self, deal: sf.Deal) -> None:
        """open_deal(expected_close=...) is read back as deal.expected_close."""
        assert deal.expected_close == date(2026, 3, 31)
        assert deal.changes == ()

    def test_default_is_none(self, pipeline: sf.Pipeline) -> None:
        """A deal opened without one has none (not a made-up date)."""
        assert pipeline.open_deal("D-2", at=day(1)).expected_close is None

    def test_a_timestamp_is_refused(self, pipeline: sf.Pipeline) -> None:
        """A datetime is not a date: a deal closes on a day, not at an instant."""
        with pytest.raises(TypeError, match="expected_close must be a date"):
            pipeline.open_deal("D-2", at=day(1), expected_close=day(9))  # type: ignore[arg-type]

    def test_lead_convert_carries_it(self, pipeline: sf.Pipeline) -> None:
        """Lead.convert passes expected_close to the deal."""
        lead = sf.Lead("L-1", created_at=day(1))
        deal = lead.convert(pipeline, at=day(2), expected_close=date(2026, 4, 30))
        assert deal.expected_close == date(2026, 4, 30)

    def test_replace_changes_it_without_recording(self, deal: sf.Deal) -> None:
        """replace() corrects the record and records no change."""
        fixed = deal.replace(expected_close=date(2026, 5, 1))
        assert fixed.expected_close == date(2026, 5, 1)
        assert fixed.changes == ()


class TestUpdate:
    def test_records_one_change_per_changed_field(self, deal: sf.Deal) -> None:
        """Value and owner change, expected close is given unchanged: two changes."""
        updated = deal.update(
            at=day(10),
            value=sf.Money(1500, USD),
            expected_close=date(2026, 3, 31),
            owner="bo",
            actor="mgr",
            note="upsell",
        )
        assert updated.value == sf.Money(1500, USD)
        assert updated.owner == "bo"
        assert updated.changes == (
            sf.FieldChange(
                "value",
                sf.Money(1000, USD),
                sf.Money(1500, USD),
                day(10),
                actor="mgr",
                note="upsell",
            ),
            sf.FieldChange("owner", "ana", "bo", day(10), actor="mgr", note="upsell"),
        )

    def test_no_op_records_nothing(self, deal: sf.Deal) -> None:
        """An update that changes nothing returns the deal itself."""
        assert deal.update(at=day(10), value=sf.Money(1000, USD), owner="ana") is deal
        assert deal.update(at=day(10)) is deal

    def test_none_clears_a_field(self, deal: sf.Deal) -> None:
        """None is a value: it clears the field, and the change is recorded."""
        updated = deal.update(at=day(10), expected_close=None)
        assert updated.expected_close is None
        assert updated.changes[0].old == date(2026, 3, 31)
        assert updated.changes[0].new is None

    def test_refuses_a_time_before_the_last_stage_change(self, deal: sf.Deal) -> None:
        """Like a move, an update may not come before the deal's last event."""
        moved = deal.advance(at=day(10))
        with pytest.raises(sf.TransitionError, match="before the deal's last event"):
            moved.update(at=day(9), owner="bo")

    def test_refuses_a_time_before_the_last_field_change(self, deal: sf.Deal) -> None:
        """The last field change counts as an event too."""
        updated = deal.update(at=day(10), owner="bo")
        with pytest.raises(sf.TransitionError, match="before the deal's last event"):
            updated.update(at=day(9), owner="cy")

    def test_a_move_before_the_last_field_change_is_refused(self, deal: sf.Deal) -> None:
        """A stage change may not come before a recorded field change either."""
        updated = deal.update(at=day(10), owner="bo")
        with pytest.raises(sf.TransitionError, match="before the deal's last field change"):
            updated.advance(at=day(9))
        assert updated.advance(at=day(10)).stage.key == "Demo"

    def test_closed_deal_is_refused(self, deal: sf.Deal) -> None:
        """Only open deals are updated; a closed deal is corrected with replace()."""
        won = deal.win(at=day(10))
        with pytest.raises(sf.TransitionError, match="closed"):
            won.update(at=day(11), value=sf.Money(900, USD))
        assert won.replace(value=sf.Money(900, USD)).changes == ()

    def test_negative_value_is_refused(self, deal: sf.Deal) -> None:
        """A negative amount is a MoneyError, as everywhere."""
        with pytest.raises(sf.MoneyError):
            deal.update(at=day(10), value=sf.Money(-1, USD))

    def test_naive_time_is_refused(self, deal: sf.Deal) -> None:
        """A naive update time is refused."""
        with pytest.raises(ValueError, match="timezone-aware"):
            deal.update(at=datetime(2026, 3, 10), owner="bo")

    def test_win_may_set_the_final_value(self, deal: sf.Deal) -> None:
        """win(value=...) records the value change at the win, then wins."""
        won = deal.win(at=day(20), value=sf.Money(1200, USD))
        assert won.is_won
        assert won.value == sf.Money(1200, USD)
        assert [(c.field, c.at) for c in won.changes] == [("value", day(20))]
        assert won.as_of(day(19)).value == sf.Money(1000, USD)  # type: ignore[union-attr]

    def test_forecast_category_is_recorded(self, deal: sf.Deal) -> None:
        """forecast_category is a recorded field (no deal field of its own but the latest)."""
        updated = deal.update(at=day(5), forecast_category="Pipeline").update(
            at=day(8), forecast_category="Commit"
        )
        assert updated.forecast_category == "Commit"
        assert updated.as_of(day(6)).forecast_category == "Pipeline"  # type: ignore[union-attr]
        assert updated.changes[1].old == "Pipeline"


class TestAsOf:
    def test_reproduces_value_close_and_owner(self, deal: sf.Deal) -> None:
        """as_of(t) shows the fields as they were at t, hand-checked at three times."""
        later = deal.update(at=day(10), value=sf.Money(2000, USD), owner="bo").update(
            at=day(20), expected_close=date(2026, 4, 30)
        )
        at5, at10, at25 = (later.as_of(day(d)) for d in (5, 10, 25))
        assert at5 is not None
        assert at10 is not None
        assert (at5.value, at5.owner, at5.expected_close, at5.changes) == (
            sf.Money(1000, USD),
            "ana",
            date(2026, 3, 31),
            (),
        )
        assert (at10.value, at10.owner, at10.expected_close) == (
            sf.Money(2000, USD),
            "bo",
            date(2026, 3, 31),
        )
        assert len(at10.changes) == 2
        assert at25 is later

    @PROPERTY
    @given(deals(max_moves=6, updates=True), st.data())
    def test_cut_equals_replay(self, deal: sf.Deal, data: st.DataObject) -> None:
        """The fields at t equal the last recorded 'new' at or before t (or the first 'old')."""
        if not deal.changes:
            return
        t = data.draw(st.sampled_from([c.at for c in deal.changes]))
        t = t + data.draw(st.sampled_from([timedelta(0), timedelta(microseconds=-1)]))
        cut = deal.as_of(t)
        if cut is None:
            return
        for field in ("value", "expected_close", "owner"):
            mine = [c for c in deal.changes if c.field == field]
            seen = [c for c in mine if c.at <= t]
            expected = seen[-1].new if seen else (mine[0].old if mine else getattr(deal, field))
            assert getattr(cut, field) == expected
        assert all(c.at <= t for c in cut.changes)

    @PROPERTY
    @given(deals(max_moves=6, updates=True))
    def test_changes_chain_and_end_at_the_fields(self, deal: sf.Deal) -> None:
        """Each change's old is the previous new of its field; the last new is the field."""
        last: dict[str, Any] = {}
        for change in deal.changes:
            if change.field in last:
                assert change.old == last[change.field]
            assert change.old != change.new
            last[change.field] = change.new
        for field, value in last.items():
            assert getattr(deal, field) == value


class TestRecords:
    @PROPERTY
    @given(deals(max_moves=6, updates=True))
    def test_round_trip_through_json(self, deal: sf.Deal) -> None:
        """expected_close and changes survive to_dict -> JSON -> from_dict."""
        record = json.loads(json.dumps(deal.to_dict()))
        back = sf.Deal.from_dict(record, deal.pipeline)
        assert back == deal
        assert back.changes == deal.changes
        assert back.expected_close == deal.expected_close

    def test_a_version_1_record_is_still_read(self, pipeline: sf.Pipeline) -> None:
        """A record written before expected_close existed (schema 1) reads as a deal without them."""
        record = {
            "schema": 1,
            "id": "D-9",
            "pipeline": "Sales",
            "value": {"amount": "250.00", "currency": "USD"},
            "owner": "ana",
            "source": None,
            "history": [{"stage": "Lead", "at": "2026-03-01T09:00:00+00:00"}],
            "touchpoints": [],
            "attributes": {},
            "lead_id": None,
            "lead_created_at": None,
        }
        deal = sf.Deal.from_dict(record, pipeline)
        assert (deal.expected_close, deal.changes) == (None, ())
        assert deal.value == sf.Money("250.00", USD)

    def test_changes_that_do_not_chain_are_refused(self, deal: sf.Deal) -> None:
        """A record whose last value change disagrees with its value names $.changes."""
        record = deal.update(at=day(5), value=sf.Money(10, USD)).to_dict()
        record["value"] = {"amount": "11", "currency": USD}
        with pytest.raises(sf.SchemaError, match=r"\$\.changes"):
            sf.Deal.from_dict(record, deal.pipeline)

    def test_a_bad_change_value_names_its_path(self, deal: sf.Deal) -> None:
        """A malformed expected close date in a change is refused at its path."""
        record = deal.update(at=day(5), expected_close=date(2026, 4, 1)).to_dict()
        record["changes"][0]["new"] = "April"
        with pytest.raises(sf.SchemaError, match=r"\$\.changes\[0\]\.new"):
            sf.Deal.from_dict(record, deal.pipeline)

    def test_field_change_record_round_trips(self) -> None:
        """FieldChange.to_dict / from_dict, by hand."""
        change = sf.FieldChange("probability", 0.2, 0.6, day(3), actor="ana")
        assert change.to_dict() == {
            "field": "probability",
            "old": 0.2,
            "new": 0.6,
            "at": "2026-03-03T00:00:00+00:00",
            "actor": "ana",
        }
        assert sf.FieldChange.from_dict(change.to_dict()) == change

    def test_from_history_checks_the_chain(self, pipeline: sf.Pipeline) -> None:
        """Deal.from_history refuses changes that do not end at the deal's fields."""
        history = [sf.StageChange("Lead", day(1))]
        change = sf.FieldChange("owner", "ana", "bo", day(2))
        deal = sf.Deal.from_history(pipeline, "D-3", history, owner="bo", changes=[change])
        assert deal.changes == (change,)
        with pytest.raises(ValueError, match="last owner change"):
            sf.Deal.from_history(pipeline, "D-3", history, owner="cy", changes=[change])
        early = sf.FieldChange("owner", "ana", "bo", day(1) - timedelta(days=1))
        with pytest.raises(ValueError, match="before its creation"):
            sf.Deal.from_history(pipeline, "D-3", history, owner="bo", changes=[early])


class TestFieldChange:
    def test_no_change_is_refused(self) -> None:
        """A FieldChange whose old equals its new records nothing; it is refused."""
        with pytest.raises(ValueError, match="records a change"):
            sf.FieldChange("owner", "ana", "ana", day(1))

    def test_unknown_field_is_refused(self) -> None:
        """Only the known fields are recorded."""
        with pytest.raises(ValueError, match="field must be one of"):
            sf.FieldChange("colour", "red", "blue", day(1))

    def test_probability_range(self) -> None:
        """Probabilities are fractions 0-1 (loaders convert percents)."""
        with pytest.raises(ValueError, match="from 0 to 1"):
            sf.FieldChange("probability", 0.5, 50, day(1))


class TestMetricsAsOf:
    def test_value_metrics_use_the_value_as_of(self, deal: sf.Deal) -> None:
        """pipeline_value and amount win rate as of a past date use the value then."""
        updated = deal.update(at=day(10), value=sf.Money(3000, USD))
        won = updated.win(at=day(20), value=sf.Money(3500, USD))
        assert m.pipeline_value([updated], as_of=day(5)) == sf.Money(1000, USD)
        assert m.pipeline_value([updated], as_of=day(15)) == sf.Money(3000, USD)
        assert m.pipeline_value([updated]) == sf.Money(3000, USD)
        assert m.average_deal_size([won], as_of=day(25)) == sf.Money(3500, USD)
        assert m.win_rate([won], basis="amount").numerator == 3500
        # The value as of 19 March was 3000, won on the 20th at 3500: the cut is before the win.
        assert m.pipeline_value([won], as_of=day(19)) == sf.Money(3000, USD)
