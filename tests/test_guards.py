"""Tests for guards: the built-in RequireTouchpoint and RequireValue, and plain callables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

import salesflow as sf
from salesflow import (
    Money,
    Pipeline,
    RequireTouchpoint,
    RequireValue,
    Stage,
    Touchpoint,
    TransitionError,
)

Day = Callable[..., datetime]

DEMO_REASON = "entering 'Proposal' needs a 'demo' touchpoint (rule for 'Proposal' and later)"


def guarded(*guards: object, **rules: bool) -> Pipeline:
    return sf.templates.b2b(guards=guards, **rules)


class TestRequireTouchpoint:
    def test_blocks_entering_its_stage(self, utc_day: Day) -> None:
        """Advancing into the guarded stage without the touchpoint is refused."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        with pytest.raises(TransitionError) as info:
            deal.advance(at=utc_day(2))
        assert info.value.reasons == (DEMO_REASON,)

    def test_allows_with_the_touchpoint(self, utc_day: Day) -> None:
        """With a touchpoint of the channel before the move, it is allowed."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        deal = deal.log(Touchpoint(utc_day(2), "demo")).advance(at=utc_day(3))
        assert deal.stage.key == "Proposal"

    def test_other_channels_do_not_count(self, utc_day: Day) -> None:
        """A touchpoint of another channel does not satisfy the guard."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        with pytest.raises(TransitionError):
            deal.log(Touchpoint(utc_day(2), "call")).advance(at=utc_day(3))

    def test_touchpoint_after_the_move_does_not_count(self, utc_day: Day) -> None:
        """A touchpoint dated after the move does not satisfy the guard."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        deal = deal.log(Touchpoint(utc_day(5), "demo"))
        with pytest.raises(TransitionError):
            deal.advance(at=utc_day(4))
        assert deal.advance(at=utc_day(5)).stage.key == "Proposal"

    def test_blocks_later_stages(self, utc_day: Day) -> None:
        """Skipping past the guarded stage is blocked too."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"), allow_skip=True)
        deal = pipeline.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError, match="needs a 'demo' touchpoint"):
            deal.move_to("Negotiation", at=utc_day(2))

    def test_blocks_winning(self, utc_day: Day) -> None:
        """Winning from before the guarded stage is blocked."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1))
        with pytest.raises(
            TransitionError, match="entering 'Closed won' needs a 'demo' touchpoint"
        ):
            deal.win(at=utc_day(2))

    def test_does_not_block_earlier_stages(self, utc_day: Day) -> None:
        """Moving into a stage before the guarded one is allowed."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1)).advance(at=utc_day(2))
        assert deal.stage.key == "Lead generation"

    @pytest.mark.parametrize("start", ["Prospecting", "Negotiation"])
    def test_never_blocks_losing(self, utc_day: Day, start: str) -> None:
        """Losing a deal is never blocked by the guard."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage=start)
        assert deal.lose(at=utc_day(2), reason="budget").is_lost

    def test_within(self, utc_day: Day) -> None:
        """With within=, only a recent enough touchpoint counts."""
        guard = RequireTouchpoint("Proposal", "demo", within=timedelta(days=7))
        pipeline = guarded(guard)
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        deal = deal.log(Touchpoint(utc_day(2), "demo"))
        with pytest.raises(TransitionError) as info:
            deal.advance(at=utc_day(10))
        assert info.value.reasons == (
            "entering 'Proposal' needs a 'demo' touchpoint in the 7 days, 0:00:00 before "
            "the move (rule for 'Proposal' and later)",
        )
        assert deal.advance(at=utc_day(9)).stage.key == "Proposal"

    def test_allowed_targets_respect_the_guard(self, utc_day: Day) -> None:
        """allowed_targets() leaves out stages the guard refuses."""
        pipeline = guarded(RequireTouchpoint("Proposal", "demo"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        assert [s.key for s in pipeline.allowed_targets(deal)] == [
            "Prospecting",
            "Lead generation",
            "Initial contact",
            "Needs assessment",
            "Closed lost",
        ]

    def test_unknown_stage(self) -> None:
        """A guard for a stage the pipeline lacks makes the pipeline invalid."""
        with pytest.raises(sf.InvalidPipelineError) as info:
            guarded(RequireTouchpoint("Demo", "demo"))
        assert info.value.stages == ("Demo",)

    def test_blank_channel_refused(self) -> None:
        """A blank channel raises ValueError."""
        with pytest.raises(ValueError, match="RequireTouchpoint channel"):
            RequireTouchpoint("Proposal", "")

    def test_to_dict(self) -> None:
        """to_dict() writes a tagged record with within in seconds."""
        guard = RequireTouchpoint("Proposal", "demo", within=timedelta(hours=1))
        assert guard.to_dict() == {
            "type": "require_touchpoint",
            "stage": "Proposal",
            "channel": "demo",
            "within": 3600.0,
        }


class TestRequireValue:
    def test_blocks_without_value(self, utc_day: Day) -> None:
        """Entering the guarded stage without a value is refused."""
        pipeline = guarded(RequireValue("Proposal"))
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        with pytest.raises(TransitionError) as info:
            deal.advance(at=utc_day(2))
        assert info.value.reasons == (
            "entering 'Proposal' needs a deal value (rule for 'Proposal' and later)",
        )

    def test_allows_with_value(self, utc_day: Day) -> None:
        """With a value, the move is allowed."""
        pipeline = guarded(RequireValue("Proposal"))
        deal = pipeline.open_deal(
            "D", at=utc_day(1), stage="Solution presentation", value=Money(1, "USD")
        )
        assert deal.advance(at=utc_day(2)).stage.key == "Proposal"

    def test_blocks_winning_but_not_losing(self, utc_day: Day) -> None:
        """Winning without a value is refused; losing is not."""
        pipeline = guarded(RequireValue("Proposal"))
        deal = pipeline.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError):
            deal.win(at=utc_day(2))
        assert deal.lose(at=utc_day(2)).is_lost

    def test_to_dict(self) -> None:
        """to_dict() writes a tagged record."""
        assert RequireValue("Proposal").to_dict() == {"type": "require_value", "stage": "Proposal"}


class TestCallableGuards:
    def test_reason_appears_in_the_error(self, utc_day: Day) -> None:
        """A plain guard's reason is in .reasons and in the message."""

        def needs_approval(deal: sf.Deal, target: Stage, at: datetime) -> str | None:
            return "the discount needs approval" if target.key == "Proposal" else None

        pipeline = guarded(needs_approval)
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Solution presentation")
        with pytest.raises(TransitionError) as info:
            deal.advance(at=utc_day(2))
        assert info.value.reasons == ("the discount needs approval",)
        assert "the discount needs approval" in str(info.value)

    def test_reasons_of_every_guard_are_listed(self, utc_day: Day) -> None:
        """All guards are asked and every refusal is listed, in guard order."""
        pipeline = guarded(
            lambda deal, target, at: "first",
            lambda deal, target, at: None,
            lambda deal, target, at: "third",
        )
        deal = pipeline.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError) as info:
            deal.advance(at=utc_day(2))
        assert info.value.reasons == ("first", "third")

    def test_guard_sees_the_deal_before_the_move(self, utc_day: Day) -> None:
        """A guard gets the deal as it is before the move, the target and the move's time."""
        seen: list[tuple[str, int, str, datetime]] = []

        def spy(deal: sf.Deal, target: Stage, at: datetime) -> str | None:
            seen.append((deal.stage.key, len(deal.history), target.key, at))
            return None

        pipeline = guarded(spy)
        deal = pipeline.open_deal("D", at=utc_day(1)).advance(at=utc_day(2))
        assert deal.stage.key == "Lead generation"
        assert seen == [("Prospecting", 1, "Lead generation", utc_day(2))]

    def test_guards_asked_on_every_kind_of_move(self, utc_day: Day) -> None:
        """Guards are asked for advance, move_to, win, lose and reopen."""
        targets: list[str] = []

        def spy(deal: sf.Deal, target: Stage, at: datetime) -> str | None:
            targets.append(target.key)
            return None

        pipeline = guarded(spy)
        deal = pipeline.open_deal("D", at=utc_day(1)).advance(at=utc_day(2))
        deal = deal.move_to("Prospecting", at=utc_day(3)).lose(at=utc_day(4))
        deal = deal.reopen(at=utc_day(5)).win(at=utc_day(6))
        assert targets == [
            "Lead generation",
            "Prospecting",
            "Closed lost",
            "Prospecting",
            "Closed won",
        ]

    def test_empty_string_means_allowed(self, utc_day: Day) -> None:
        """A guard returning an empty string does not refuse."""
        pipeline = guarded(lambda deal, target, at: "")
        deal = pipeline.open_deal("D", at=utc_day(1)).advance(at=utc_day(2))
        assert deal.stage.key == "Lead generation"
