"""Tests for salesflow.Deal and salesflow.StageChange."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType

import attrs
import pytest

import salesflow as sf
from salesflow import Deal, Money, Pipeline, StageChange, Touchpoint, TransitionError

Day = Callable[..., datetime]

B2B_KEYS = [
    "Prospecting",
    "Lead generation",
    "Initial contact",
    "Needs assessment",
    "Solution presentation",
    "Proposal",
    "Negotiation",
]


class TestStageChange:
    def test_fields(self, utc_day: Day) -> None:
        """A stage change records stage, time and optional actor, reason and note."""
        change = StageChange("Demo", utc_day(3), actor="ann", reason="r", note="n")
        assert (change.stage, change.at) == ("Demo", utc_day(3))
        assert (change.actor, change.reason, change.note) == ("ann", "r", "n")

    def test_stage_object_is_stored_as_key(self, utc_day: Day) -> None:
        """A Stage given as the stage is stored as its key."""
        assert StageChange(sf.Stage("demo", "Demo"), utc_day(1)).stage == "demo"

    def test_naive_time_refused(self) -> None:
        """A naive time raises ValueError mentioning the timezone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            StageChange("Demo", datetime(2026, 1, 1))

    def test_optional_fields_must_be_text(self, utc_day: Day) -> None:
        """A non-string actor raises TypeError naming the field."""
        with pytest.raises(TypeError, match="StageChange actor"):
            StageChange("Demo", utc_day(1), actor=7)  # type: ignore[arg-type]


class TestOpenDeal:
    def test_records_first_stage_change(self, b2b: Pipeline, utc_day: Day) -> None:
        """open_deal records the first open stage as the first StageChange."""
        deal = b2b.open_deal("D-9", at=utc_day(4))
        assert deal.history == (StageChange("Prospecting", utc_day(4)),)
        assert deal.stage == b2b.stage("Prospecting")
        assert deal.created_at == utc_day(4)
        assert deal.id == "D-9"
        assert deal.pipeline is b2b

    def test_opens_in_the_given_stage(self, b2b: Pipeline, utc_day: Day) -> None:
        """stage= opens the deal in another open stage."""
        deal = b2b.open_deal("D", at=utc_day(1), stage="Proposal")
        assert deal.history == (StageChange("Proposal", utc_day(1)),)

    def test_stage_object(self, b2b: Pipeline, utc_day: Day) -> None:
        """stage= accepts the pipeline's Stage object."""
        deal = b2b.open_deal("D", at=utc_day(1), stage=b2b.stages[2])
        assert deal.stage.key == "Initial contact"

    @pytest.mark.parametrize("stage", ["Closed won", "Closed lost"])
    def test_terminal_start_refused(self, b2b: Pipeline, utc_day: Day, stage: str) -> None:
        """A deal cannot open in a terminal stage; the open stages are offered."""
        with pytest.raises(TransitionError, match="open in an open stage") as info:
            b2b.open_deal("D", at=utc_day(1), stage=stage)
        assert info.value.source is None
        assert info.value.target == stage
        assert info.value.allowed == tuple(B2B_KEYS)

    def test_unknown_start(self, b2b: Pipeline, utc_day: Day) -> None:
        """An unknown stage= raises UnknownStageError."""
        with pytest.raises(sf.UnknownStageError):
            b2b.open_deal("D", at=utc_day(1), stage="Limbo")

    def test_fields(self, b2b: Pipeline, utc_day: Day) -> None:
        """value, owner, source and attributes are kept."""
        deal = b2b.open_deal(
            "D",
            at=utc_day(1),
            value=Money(900, "EUR"),
            owner="ann",
            source="webinar",
            attributes={"region": "EMEA"},
        )
        assert deal.value == Money(900, "EUR")
        assert deal.owner == "ann"
        assert deal.source == "webinar"
        assert deal.attributes == {"region": "EMEA"}
        assert deal.touchpoints == ()
        assert deal.lead_id is None

    def test_attributes_are_read_only_copies(self, b2b: Pipeline, utc_day: Day) -> None:
        """attributes is a read-only copy: changing the given dict does not change the deal."""
        given = {"region": "EMEA"}
        deal = b2b.open_deal("D", at=utc_day(1), attributes=given)
        given["region"] = "APAC"
        assert deal.attributes["region"] == "EMEA"
        with pytest.raises(TypeError):
            deal.attributes["region"] = "APAC"  # type: ignore[index]

    def test_defaults(self, b2b: Pipeline, utc_day: Day) -> None:
        """Without extra fields a deal has no value, owner, source or attributes."""
        deal = b2b.open_deal("D", at=utc_day(1))
        assert (deal.value, deal.owner, deal.source) == (None, None, None)
        assert dict(deal.attributes) == {}

    def test_naive_datetime_refused(self, b2b: Pipeline) -> None:
        """A naive datetime raises ValueError saying to attach a timezone."""
        with pytest.raises(ValueError, match=r"timezone-aware.*naive") as info:
            b2b.open_deal("D", at=datetime(2026, 1, 1))
        assert "tzinfo" in str(info.value)

    @pytest.mark.parametrize("at", ["2026-01-01T00:00:00+00:00", date(2026, 1, 1), 1767225600])
    def test_non_datetime_refused(self, b2b: Pipeline, at: object) -> None:
        """A string, date or number for at= raises TypeError."""
        with pytest.raises(TypeError, match="timezone-aware datetime"):
            b2b.open_deal("D", at=at)  # type: ignore[arg-type]

    def test_float_value_refused(self, b2b: Pipeline, utc_day: Day) -> None:
        """A value that is not Money raises TypeError with an example."""
        with pytest.raises(TypeError, match=r"Money\('1200', 'USD'\)"):
            b2b.open_deal("D", at=utc_day(1), value=1200.0)  # type: ignore[arg-type]

    def test_blank_id_refused(self, b2b: Pipeline, utc_day: Day) -> None:
        """A blank deal id raises ValueError."""
        with pytest.raises(ValueError, match="Deal id"):
            b2b.open_deal("", at=utc_day(1))

    def test_actor_and_note_on_the_first_change(self, b2b: Pipeline, utc_day: Day) -> None:
        """actor= and note= are recorded on the opening StageChange."""
        deal = b2b.open_deal("D", at=utc_day(1), actor="bob", note="from the fair")
        assert deal.history[0] == StageChange(
            "Prospecting", utc_day(1), actor="bob", note="from the fair"
        )


class TestConstruction:
    def test_direct_construction_refused(self) -> None:
        """Deal() raises TypeError pointing to open_deal."""
        with pytest.raises(TypeError, match=r"pipeline\.open_deal"):
            Deal()

    def test_frozen(self, open_deal: Deal) -> None:
        """Setting any attribute raises FrozenInstanceError."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            open_deal.id = "D-2"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            open_deal.owner = "bob"  # type: ignore[misc]

    def test_moves_return_new_deals(self, open_deal: Deal, utc_day: Day) -> None:
        """A move returns a new deal and leaves the old one as it was."""
        moved = open_deal.advance(at=utc_day(2))
        assert moved is not open_deal
        assert open_deal.stage.key == "Prospecting"
        assert len(open_deal.history) == 1
        assert moved.stage.key == "Lead generation"

    def test_equal_deals(self, b2b: Pipeline, utc_day: Day) -> None:
        """Deals with the same id, pipeline and history are equal and hash alike."""
        one = b2b.open_deal("D", at=utc_day(1), value=Money(5, "USD")).advance(at=utc_day(2))
        two = b2b.open_deal("D", at=utc_day(1), value=Money(5, "USD")).advance(at=utc_day(2))
        assert one == two
        assert hash(one) == hash(two)
        assert len({one, two}) == 1

    def test_unequal_deals(self, b2b: Pipeline, utc_day: Day) -> None:
        """A different time, value or stage makes a different deal."""
        base = b2b.open_deal("D", at=utc_day(1))
        assert base != b2b.open_deal("D", at=utc_day(2))
        assert base != b2b.open_deal("E", at=utc_day(1))
        assert base != base.replace(value=Money(1, "USD"))
        assert base != base.advance(at=utc_day(1))

    def test_hashable_with_unhashable_attributes(self, b2b: Pipeline, utc_day: Day) -> None:
        """A deal whose attributes hold a list is still hashable."""
        deal = b2b.open_deal("D", at=utc_day(1), attributes={"tags": ["a", "b"]})
        assert hash(deal) == hash(b2b.open_deal("D", at=utc_day(1), attributes={"tags": ["a"]}))

    def test_repr(self, open_deal: Deal) -> None:
        """The repr names id, stage, pipeline, value and the number of changes."""
        assert repr(open_deal) == (
            "<Deal 'D-1' in 'Prospecting' (B2B sales), value=5,000 USD, 1 stage changes>"
        )


class TestAdvance:
    def test_walks_every_stage_then_wins(self, open_deal: Deal, utc_day: Day) -> None:
        """advance() visits each open stage in order; from the last one it wins."""
        deal = open_deal
        for n in range(2, 9):
            deal = deal.advance(at=utc_day(n))
        assert deal.stage_keys == (*B2B_KEYS, "Closed won")
        assert deal.is_won
        assert deal.closed_at == utc_day(8)

    def test_advance_on_a_closed_deal(self, open_deal: Deal, utc_day: Day) -> None:
        """advance() on a closed deal says to reopen first."""
        lost = open_deal.lose(at=utc_day(2))
        with pytest.raises(TransitionError, match=r"closed in 'Closed lost'; use reopen\(\)"):
            lost.advance(at=utc_day(3))

    def test_actor_and_note(self, open_deal: Deal, utc_day: Day) -> None:
        """actor= and note= are recorded on the new StageChange."""
        deal = open_deal.advance(at=utc_day(2), actor="ann", note="called back")
        assert deal.history[-1] == StageChange(
            "Lead generation", utc_day(2), actor="ann", note="called back"
        )
        assert deal.history[0] == StageChange("Prospecting", utc_day(1))


class TestMoveTo:
    def test_by_key_and_by_stage(self, open_deal: Deal, utc_day: Day) -> None:
        """move_to() accepts a key or a Stage."""
        pipeline = open_deal.pipeline
        assert open_deal.move_to("Lead generation", at=utc_day(2)).stage.key == "Lead generation"
        assert open_deal.move_to(pipeline.stages[1], at=utc_day(2)).stage.key == "Lead generation"

    def test_reason_is_recorded(self, open_deal: Deal, utc_day: Day) -> None:
        """reason= is recorded on the StageChange."""
        deal = open_deal.move_to("Lead generation", at=utc_day(2), reason="inbound reply")
        assert deal.history[-1].reason == "inbound reply"

    def test_unknown_target(self, open_deal: Deal, utc_day: Day) -> None:
        """An unknown target raises UnknownStageError."""
        with pytest.raises(sf.UnknownStageError):
            open_deal.move_to("Limbo", at=utc_day(2))

    def test_dated_before_last_event_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """A move dated before the deal's last event is refused."""
        deal = open_deal.advance(at=utc_day(5))
        with pytest.raises(TransitionError, match="before the deal's last stage change"):
            deal.advance(at=utc_day(4, hour=23))

    def test_equal_timestamps_allowed(self, open_deal: Deal) -> None:
        """Several moves at the same instant are allowed and keep their order."""
        at = open_deal.created_at
        deal = open_deal.advance(at=at).advance(at=at).win(at=at)
        assert deal.stage_keys == (
            "Prospecting",
            "Lead generation",
            "Initial contact",
            "Closed won",
        )
        assert deal.stage_times == (at,) * 4

    def test_time_order_is_by_instant_not_by_zone(self, open_deal: Deal) -> None:
        """A later instant written in an earlier-looking zone is still later."""
        tokyo = timezone(timedelta(hours=9))
        # 08:00 in Tokyo on 1 January is 23:00 UTC on 31 December: before the deal opened.
        with pytest.raises(TransitionError):
            open_deal.advance(at=datetime(2026, 1, 1, 8, tzinfo=tokyo))
        moved = open_deal.advance(at=datetime(2026, 1, 1, 10, tzinfo=tokyo))
        assert moved.stage.key == "Lead generation"

    def test_naive_datetime_refused(self, open_deal: Deal) -> None:
        """A naive datetime for a move raises ValueError about the timezone."""
        with pytest.raises(ValueError, match="timezone"):
            open_deal.advance(at=datetime(2026, 2, 1))

    def test_non_datetime_refused(self, open_deal: Deal) -> None:
        """A string for a move's time raises TypeError."""
        with pytest.raises(TypeError, match="datetime"):
            open_deal.advance(at="2026-02-01")  # type: ignore[arg-type]

    def test_non_text_actor_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """A non-string actor raises TypeError."""
        with pytest.raises(TypeError, match="actor"):
            open_deal.advance(at=utc_day(2), actor=42)  # type: ignore[arg-type]


class TestWinLoseReopen:
    def test_win(self, open_deal: Deal, utc_day: Day) -> None:
        """win() closes the deal in the first won stage."""
        won = open_deal.advance(at=utc_day(2)).win(at=utc_day(3))
        assert won.stage.key == "Closed won"
        assert (won.is_won, won.is_lost, won.is_open) == (True, False, False)
        assert won.closed_at == utc_day(3)
        assert won.lost_reason is None

    def test_win_in_a_named_stage(self, utc_day: Day) -> None:
        """win(stage=) picks one of several won stages."""
        pipeline = Pipeline(
            "p",
            ["a", sf.Stage("signed", outcome="won"), sf.Stage("paid", outcome="won")],
        )
        deal = pipeline.open_deal("D", at=utc_day(1)).win(at=utc_day(2), stage="paid")
        assert deal.stage.key == "paid"

    def test_win_in_a_stage_that_is_not_won(self, open_deal: Deal, utc_day: Day) -> None:
        """win(stage=) naming a non-won stage is refused, offering the won stages."""
        with pytest.raises(TransitionError, match="not a won stage") as info:
            open_deal.win(at=utc_day(2), stage="Closed lost")
        assert info.value.allowed == ("Closed won",)

    def test_win_twice_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """A won deal cannot be won again."""
        won = open_deal.win(at=utc_day(2))
        with pytest.raises(TransitionError):
            won.win(at=utc_day(3))

    def test_lose(self, open_deal: Deal, utc_day: Day) -> None:
        """lose() closes the deal as lost and records the reason."""
        lost = open_deal.lose(at=utc_day(2), reason="no budget", actor="ann")
        assert lost.stage.key == "Closed lost"
        assert (lost.is_won, lost.is_lost, lost.is_open) == (False, True, False)
        assert lost.lost_reason == "no budget"
        assert lost.closed_at == utc_day(2)
        assert lost.history[-1] == StageChange(
            "Closed lost", utc_day(2), actor="ann", reason="no budget"
        )

    def test_lose_without_reason(self, open_deal: Deal, utc_day: Day) -> None:
        """A deal lost without a reason has lost_reason None."""
        assert open_deal.lose(at=utc_day(2)).lost_reason is None

    def test_lose_without_a_lost_stage(self, utc_day: Day) -> None:
        """lose() in a pipeline with no lost stage is refused."""
        pipeline = Pipeline.linear("p", ["a"], lost=None)
        with pytest.raises(TransitionError, match="has no lost stage"):
            pipeline.open_deal("D", at=utc_day(1)).lose(at=utc_day(2))

    def test_lose_in_a_stage_that_is_not_lost(self, open_deal: Deal, utc_day: Day) -> None:
        """lose(stage=) naming a non-lost stage is refused."""
        with pytest.raises(TransitionError, match="not a lost stage"):
            open_deal.lose(at=utc_day(2), stage="Proposal")

    def test_lose_a_won_deal_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """A won deal cannot be lost without reopening it first."""
        won = open_deal.win(at=utc_day(2))
        with pytest.raises(TransitionError, match="terminal stage"):
            won.lose(at=utc_day(3))

    def test_reopen_returns_to_the_stage_it_closed_from(
        self, open_deal: Deal, utc_day: Day
    ) -> None:
        """reopen() with no target returns to the open stage the deal closed from."""
        deal = open_deal.advance(at=utc_day(2)).advance(at=utc_day(3))
        reopened = deal.lose(at=utc_day(4), reason="timing").reopen(at=utc_day(5))
        assert reopened.stage.key == "Initial contact"
        assert reopened.is_open
        assert reopened.closed_at is None
        assert reopened.lost_reason is None
        assert reopened.stage_keys[-2:] == ("Closed lost", "Initial contact")

    def test_reopen_to_a_named_stage(self, open_deal: Deal, utc_day: Day) -> None:
        """reopen(to=) returns to the named open stage."""
        won = open_deal.advance(at=utc_day(2)).win(at=utc_day(3))
        assert won.reopen(at=utc_day(4), to="Negotiation").stage.key == "Negotiation"

    def test_reopen_to_a_terminal_stage_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """reopen(to=) naming a terminal stage is refused."""
        won = open_deal.win(at=utc_day(2))
        with pytest.raises(TransitionError, match="'Closed lost' is not an open stage"):
            won.reopen(at=utc_day(3), to="Closed lost")

    def test_reopen_an_open_deal_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """reopen() on an open deal is refused."""
        with pytest.raises(TransitionError, match="reopen"):
            open_deal.reopen(at=utc_day(2))

    def test_reopen_dated_before_closing_refused(self, open_deal: Deal, utc_day: Day) -> None:
        """reopen() dated before the close is refused."""
        lost = open_deal.lose(at=utc_day(5))
        with pytest.raises(TransitionError, match="before the deal's last stage change"):
            lost.reopen(at=utc_day(4))

    def test_reopen_twice(self, open_deal: Deal, utc_day: Day) -> None:
        """A deal may close and reopen repeatedly, returning each time where it closed."""
        deal = open_deal.advance(at=utc_day(2)).win(at=utc_day(3)).reopen(at=utc_day(4))
        deal = deal.advance(at=utc_day(5)).lose(at=utc_day(6)).reopen(at=utc_day(7))
        assert deal.stage.key == "Initial contact"
        assert deal.pipeline.check(deal) is None


class TestTimes:
    def test_created_entered_updated(self, open_deal: Deal, utc_day: Day) -> None:
        """created_at is the first change; entered_at and updated_at are the last."""
        deal = open_deal.advance(at=utc_day(3)).advance(at=utc_day(6))
        assert deal.created_at == utc_day(1)
        assert deal.entered_at == utc_day(6)
        assert deal.updated_at == utc_day(6)
        assert deal.closed_at is None

    def test_age_of_an_open_deal(self, open_deal: Deal, utc_day: Day) -> None:
        """age(as_of) of an open deal runs to as_of."""
        assert open_deal.age(utc_day(11)) == timedelta(days=10)

    def test_age_of_a_closed_deal_stops_at_closing(self, open_deal: Deal, utc_day: Day) -> None:
        """age(as_of) of a closed deal stops when it closed."""
        assert open_deal.win(at=utc_day(4)).age(utc_day(30)) == timedelta(days=3)


class TestTouchpoints:
    def test_log_keeps_time_order(self, open_deal: Deal, utc_day: Day) -> None:
        """Touchpoints logged out of order are kept in time order."""
        call = Touchpoint(utc_day(5), "call")
        email = Touchpoint(utc_day(2), "email")
        meeting = Touchpoint(utc_day(9), "meeting")
        deal = open_deal.log(call).log(meeting).log(email)
        assert deal.touchpoints == (email, call, meeting)

    def test_log_does_not_change_the_history(self, open_deal: Deal, utc_day: Day) -> None:
        """log() leaves the stage history alone."""
        deal = open_deal.log(Touchpoint(utc_day(2), "email"))
        assert deal.history == open_deal.history
        assert open_deal.touchpoints == ()

    def test_log_refuses_other_values(self, open_deal: Deal) -> None:
        """log() takes Touchpoint values only."""
        with pytest.raises(TypeError, match="Touchpoint"):
            open_deal.log("email")  # type: ignore[arg-type]

    def test_touchpoints_survive_moves(self, open_deal: Deal, utc_day: Day) -> None:
        """Touchpoints stay with the deal as it moves."""
        touch = Touchpoint(utc_day(2), "demo")
        assert open_deal.log(touch).advance(at=utc_day(3)).touchpoints == (touch,)


class TestReplace:
    def test_replace_fields(self, open_deal: Deal) -> None:
        """replace() changes value, owner, source and attributes, keeping the history."""
        deal = open_deal.replace(
            value=Money(7, "EUR"), owner="bob", source="referral", attributes={"tier": 1}
        )
        assert deal.value == Money(7, "EUR")
        assert deal.owner == "bob"
        assert deal.source == "referral"
        assert deal.attributes == MappingProxyType({"tier": 1})
        assert deal.history == open_deal.history
        assert open_deal.owner == "ann"

    def test_replace_touchpoints_sorts_them(self, open_deal: Deal, utc_day: Day) -> None:
        """replace(touchpoints=) stores them in time order."""
        late, early = Touchpoint(utc_day(3), "call"), Touchpoint(utc_day(2), "email")
        assert open_deal.replace(touchpoints=[late, early]).touchpoints == (early, late)

    def test_replace_history_refused(self, open_deal: Deal) -> None:
        """replace() cannot change the history or the stage."""
        with pytest.raises(TypeError, match="cannot change stage"):
            open_deal.replace(stage="Proposal")

    def test_replace_validates(self, open_deal: Deal) -> None:
        """replace() checks the new values' types."""
        with pytest.raises(TypeError, match="Money"):
            open_deal.replace(value=12)


class TestAsOf:
    def test_before_creation(self, open_deal: Deal, utc_day: Day) -> None:
        """as_of() before the deal existed is None."""
        assert open_deal.as_of(utc_day(0)) is None

    def test_drops_later_changes_and_touchpoints(self, open_deal: Deal, utc_day: Day) -> None:
        """as_of() keeps the changes and touchpoints up to the time, inclusive."""
        early, late = Touchpoint(utc_day(2), "email"), Touchpoint(utc_day(6), "call")
        deal = open_deal.log(early).log(late)
        deal = deal.advance(at=utc_day(3)).advance(at=utc_day(5)).win(at=utc_day(7))
        past = deal.as_of(utc_day(5))
        assert past is not None
        assert past.stage_keys == ("Prospecting", "Lead generation", "Initial contact")
        assert past.touchpoints == (early,)
        assert past.is_open
        assert past.value == open_deal.value

    def test_after_everything_is_unchanged(self, open_deal: Deal, utc_day: Day) -> None:
        """as_of() after the last event gives the same deal."""
        deal = open_deal.advance(at=utc_day(2))
        assert deal.as_of(utc_day(100)) == deal

    def test_keeps_metadata(self, open_deal: Deal, utc_day: Day) -> None:
        """as_of() keeps the actor, reason and note of the kept changes."""
        deal = open_deal.lose(at=utc_day(2), reason="price").reopen(at=utc_day(3))
        past = deal.as_of(utc_day(2))
        assert past is not None
        assert past.lost_reason == "price"

    def test_naive_time_refused(self, open_deal: Deal) -> None:
        """as_of() with a naive time raises ValueError."""
        with pytest.raises(ValueError, match="timezone"):
            open_deal.as_of(datetime(2026, 3, 1))


class TestTouchpoint:
    def test_fields(self, utc_day: Day) -> None:
        """A touchpoint keeps its time, channel and keyword-only details."""
        touch = Touchpoint(
            utc_day(2),
            "ad",
            direction="inbound",
            campaign="spring",
            cost=Money("1.20", "EUR"),
            note="clicked",
        )
        assert (touch.at, touch.channel, touch.direction) == (utc_day(2), "ad", "inbound")
        assert (touch.campaign, touch.cost, touch.note) == (
            "spring",
            Money("1.20", "EUR"),
            "clicked",
        )

    def test_direction_must_be_inbound_or_outbound(self, utc_day: Day) -> None:
        """Any other direction raises ValueError naming the two words."""
        with pytest.raises(ValueError, match="'inbound', 'outbound' or None"):
            Touchpoint(utc_day(1), "call", direction="sideways")

    def test_cost_must_be_money(self, utc_day: Day) -> None:
        """A bare number for the cost raises TypeError."""
        with pytest.raises(TypeError, match="Touchpoint cost must be Money"):
            Touchpoint(utc_day(1), "ad", cost=3)  # type: ignore[arg-type]

    def test_blank_channel_refused(self, utc_day: Day) -> None:
        """A blank channel raises ValueError."""
        with pytest.raises(ValueError, match="Touchpoint channel"):
            Touchpoint(utc_day(1), "  ")

    def test_naive_time_refused(self) -> None:
        """A naive time raises ValueError about the timezone."""
        with pytest.raises(ValueError, match="Touchpoint at must be timezone-aware"):
            Touchpoint(datetime(2026, 1, 1), "call")
