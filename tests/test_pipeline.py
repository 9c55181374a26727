"""Tests for salesflow.Pipeline: validation, lookups, rules, check(), templates, records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

import salesflow as sf
from salesflow import (
    InvalidPipelineError,
    Outcome,
    Pipeline,
    Stage,
    StageChange,
    TransitionError,
    UnknownStageError,
)

Day = Callable[..., datetime]

WON = Stage("won", outcome=Outcome.WON)
LOST = Stage("lost", outcome=Outcome.LOST)

B2B_OPEN = [
    "Prospecting",
    "Lead generation",
    "Initial contact",
    "Needs assessment",
    "Solution presentation",
    "Proposal",
    "Negotiation",
]


def keys(stages: tuple[Stage, ...]) -> list[str]:
    return [s.key for s in stages]


class TestValidation:
    def test_valid_pipeline_keeps_stage_order(self) -> None:
        """Stages keep the order given, strings becoming open stages."""
        pipeline = Pipeline("p", ["a", Stage("b"), WON, LOST])
        assert keys(pipeline.stages) == ["a", "b", "won", "lost"]
        assert keys(pipeline.open_stages) == ["a", "b"]
        assert keys(pipeline.won_stages) == ["won"]
        assert keys(pipeline.lost_stages) == ["lost"]

    def test_no_stages(self) -> None:
        """An empty pipeline is refused."""
        with pytest.raises(InvalidPipelineError, match="no stages"):
            Pipeline("p", [])

    def test_no_open_stage(self) -> None:
        """A pipeline without an open stage names all its stages."""
        with pytest.raises(InvalidPipelineError, match="no open stage") as info:
            Pipeline("p", [WON, LOST])
        assert info.value.stages == ("won", "lost")

    def test_no_won_stage(self) -> None:
        """A pipeline without a won stage is refused, naming its stages."""
        with pytest.raises(InvalidPipelineError, match="no won stage") as info:
            Pipeline("p", ["a", LOST])
        assert info.value.stages == ("a", "lost")

    def test_duplicate_keys(self) -> None:
        """Duplicate keys are refused and named."""
        with pytest.raises(InvalidPipelineError, match="duplicate stage keys: 'a'") as info:
            Pipeline("p", ["a", "b", Stage("a", "Again"), WON])
        assert info.value.stages == ("a",)

    def test_duplicate_names(self) -> None:
        """Two stages with one display name are refused; .stages holds their keys."""
        with pytest.raises(InvalidPipelineError, match="duplicate stage names: 'Demo'") as info:
            Pipeline("p", [Stage("a", "Demo"), Stage("b", "Demo"), WON])
        assert info.value.stages == ("a", "b")

    def test_name_that_is_another_key(self) -> None:
        """A name equal to another stage's key is refused as ambiguous."""
        with pytest.raises(InvalidPipelineError, match="ambiguous") as info:
            Pipeline("p", [Stage("a", "Start"), Stage("b", "a"), WON])
        assert info.value.stages == ("b",)

    def test_is_a_value_error(self) -> None:
        """InvalidPipelineError is caught by except ValueError."""
        with pytest.raises(ValueError, match="no won stage"):
            Pipeline("p", ["a"])

    def test_lose_from_naming_a_terminal_stage(self) -> None:
        """lose_from may only name open stages; the offending one is named."""
        with pytest.raises(InvalidPipelineError, match="not open stages") as info:
            Pipeline("p", ["a", "b", WON, LOST], lose_from=["a", "won"])
        assert info.value.stages == ("won",)

    def test_lose_from_naming_an_unknown_stage(self) -> None:
        """lose_from naming a stage the pipeline lacks is refused, with what follows from it."""
        with pytest.raises(InvalidPipelineError) as info:
            Pipeline("p", ["a", WON, LOST], lose_from=["zzz"])
        # No open stage may lose, so the lost stage is unreachable too: both are reported.
        assert info.value.rules == ("lose_from", "reachable")
        assert info.value.stages == ("zzz", "lost")

    def test_empty_lose_from_leaves_lost_unreachable(self) -> None:
        """With lose_from=() a lost stage cannot be reached, and is named."""
        with pytest.raises(InvalidPipelineError, match=r"lose_from is empty.*'lost'") as info:
            Pipeline("p", ["a", "b", WON, LOST], lose_from=())
        assert info.value.stages == ("lost",)

    def test_empty_lose_from_without_lost_stage_is_fine(self) -> None:
        """lose_from=() is valid when there is no lost stage to reach."""
        pipeline = Pipeline("p", ["a", WON], lose_from=())
        assert pipeline.lost_stages == ()

    def test_lose_from_single_key(self) -> None:
        """A single key for lose_from is taken as a one-stage list."""
        pipeline = Pipeline("p", ["a", "b", WON, LOST], lose_from="b")
        assert pipeline.lose_from == ("b",)

    def test_guard_for_unknown_stage(self) -> None:
        """A built-in guard naming an unknown stage makes the pipeline invalid."""
        guard = sf.RequireTouchpoint("Nowhere", "demo")
        with pytest.raises(InvalidPipelineError, match="unknown stage") as info:
            Pipeline("p", ["a", WON], guards=[guard])
        assert info.value.stages == ("Nowhere",)

    def test_guard_must_be_callable(self) -> None:
        """A guard that is not callable raises TypeError."""
        with pytest.raises(TypeError, match="callables"):
            Pipeline("p", ["a", WON], guards=["demo"])  # type: ignore[list-item]

    def test_single_string_for_stages(self) -> None:
        """A single string is not a list of stages."""
        with pytest.raises(TypeError, match="single value"):
            Pipeline("p", "abc")

    def test_blank_name(self) -> None:
        """A pipeline needs a name."""
        with pytest.raises(ValueError, match="Pipeline name"):
            Pipeline(" ", ["a", WON])

    def test_several_won_and_lost_stages(self) -> None:
        """Several won and lost stages are allowed."""
        pipeline = Pipeline(
            "p",
            ["a", "b", WON, Stage("won2", outcome="won"), LOST, Stage("lost2", outcome="lost")],
        )
        assert keys(pipeline.won_stages) == ["won", "won2"]
        assert keys(pipeline.lost_stages) == ["lost", "lost2"]


class TestLinear:
    def test_stages(self) -> None:
        """linear() appends Closed won and Closed lost to the open stages."""
        pipeline = Pipeline.linear("Sales", ["Lead", "Demo"])
        assert keys(pipeline.stages) == ["Lead", "Demo", "Closed won", "Closed lost"]
        assert pipeline.stage("Closed won").is_won
        assert pipeline.stage("Closed lost").is_lost

    def test_custom_terminal_stages(self) -> None:
        """won= and lost= rename the terminal stages; lost=None leaves it out."""
        pipeline = Pipeline.linear("Sales", ["Lead"], won="Signed", lost=None)
        assert keys(pipeline.stages) == ["Lead", "Signed"]

    def test_stage_objects(self) -> None:
        """Stage objects may be mixed with keys."""
        pipeline = Pipeline.linear("Sales", [Stage("lead", "Lead"), "Demo"], won=WON, lost=LOST)
        assert pipeline.stage("lead").name == "Lead"
        assert keys(pipeline.stages) == ["lead", "Demo", "won", "lost"]

    def test_probabilities(self) -> None:
        """probabilities= sets one probability per open stage."""
        pipeline = Pipeline.linear("Sales", ["a", "b"], probabilities=[0.25, 0.5])
        assert [s.probability for s in pipeline.stages] == [0.25, 0.5, 1.0, 0.0]

    @pytest.mark.parametrize("probabilities", [[0.5], [0.1, 0.2, 0.3]])
    def test_probabilities_length_mismatch(self, probabilities: list[float]) -> None:
        """A probability list that does not match the open stages raises ValueError."""
        with pytest.raises(ValueError, match="one per open stage"):
            Pipeline.linear("Sales", ["a", "b"], probabilities=probabilities)

    def test_probability_out_of_range(self) -> None:
        """A probability above 1 in linear() raises ValueError."""
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            Pipeline.linear("Sales", ["a"], probabilities=[1.5])

    def test_rules(self) -> None:
        """Rule keywords are passed on to the pipeline."""
        pipeline = Pipeline.linear(
            "Sales", ["a", "b"], allow_skip=True, allow_backward=False, allow_reopen=False
        )
        assert pipeline.allow_skip
        assert not pipeline.allow_backward
        assert not pipeline.allow_reopen

    def test_defaults(self) -> None:
        """By default: no skips, backward moves and reopening allowed, no guards."""
        pipeline = Pipeline.linear("Sales", ["a"])
        assert not pipeline.allow_skip
        assert pipeline.allow_backward
        assert pipeline.allow_reopen
        assert pipeline.lose_from is None
        assert pipeline.guards == ()


class TestLookup:
    def test_by_key(self, b2b: Pipeline) -> None:
        """stage() finds a stage by key."""
        assert b2b.stage("Proposal") == Stage("Proposal", probability=0.6)

    def test_by_name(self) -> None:
        """stage() falls back to the display name."""
        pipeline = sf.templates.hubspot_default()
        assert pipeline.stage("Contract sent").key == "contractsent"

    def test_by_stage_object(self, b2b: Pipeline) -> None:
        """stage() accepts the pipeline's own Stage object."""
        stage = b2b.stages[3]
        assert b2b.stage(stage) is stage

    def test_foreign_stage_object(self, b2b: Pipeline) -> None:
        """A Stage with a known key but other fields is not this pipeline's."""
        with pytest.raises(UnknownStageError):
            b2b.stage(Stage("Proposal", probability=0.99))

    def test_unknown_key(self, sales: Pipeline) -> None:
        """An unknown key raises UnknownStageError listing the known keys."""
        with pytest.raises(UnknownStageError) as info:
            sales.stage("Nope")
        assert str(info.value) == (
            "Pipeline 'Sales' has no stage 'Nope'; known stages are "
            "'Lead', 'Demo', 'Proposal', 'Closed won', 'Closed lost'."
        )
        assert info.value.stage == "Nope"
        assert info.value.pipeline == "Sales"
        assert info.value.known == ("Lead", "Demo", "Proposal", "Closed won", "Closed lost")

    def test_unknown_is_a_key_error(self, sales: Pipeline) -> None:
        """UnknownStageError is caught by except KeyError."""
        with pytest.raises(KeyError):
            sales.stage("Nope")

    def test_contains(self, b2b: Pipeline) -> None:
        """`in` accepts keys, names and the pipeline's Stage objects."""
        assert "Proposal" in b2b
        assert b2b.stages[0] in b2b
        assert "Nope" not in b2b
        assert Stage("Proposal") not in b2b

    def test_rank_and_next_stage(self, sales: Pipeline) -> None:
        """Open stages rank 0, 1, …; won ranks after them; lost has no rank."""
        assert [sales.rank(k) for k in sales.keys] == [0, 1, 2, 3, None]
        assert sales.next_stage("Demo") == sales.stage("Proposal")
        assert sales.next_stage("Proposal") == sales.stage("Closed won")
        assert sales.next_stage("Closed won") is None

    def test_probability(self, b2b: Pipeline) -> None:
        """probability() reads the stage's probability."""
        assert b2b.probability("Negotiation") == 0.8

    def test_repr(self, sales: Pipeline) -> None:
        """The repr names the pipeline and its stage keys."""
        assert repr(sales) == (
            "Pipeline('Sales', ['Lead', 'Demo', 'Proposal', 'Closed won', 'Closed lost'])"
        )


class TestRules:
    def test_next_stage_allowed(self, b2b: Pipeline, utc_day: Day) -> None:
        """Moving to the next open stage is allowed."""
        deal = b2b.open_deal("D", at=utc_day(1))
        assert deal.move_to("Lead generation", at=utc_day(2)).stage.key == "Lead generation"

    def test_skip_refused_by_default(self, b2b: Pipeline, utc_day: Day) -> None:
        """Skipping an open stage is refused, naming the skipped stages."""
        deal = b2b.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError) as info:
            deal.move_to("Needs assessment", at=utc_day(2))
        assert info.value.reasons == (
            "it would skip 'Lead generation', 'Initial contact'; the pipeline does not allow skips",
        )

    def test_skip_allowed(self, utc_day: Day) -> None:
        """With allow_skip=True, moving forward past stages is allowed."""
        pipeline = sf.templates.b2b(allow_skip=True)
        deal = pipeline.open_deal("D", at=utc_day(1)).move_to("Negotiation", at=utc_day(2))
        assert deal.stage.key == "Negotiation"

    def test_backward_allowed_by_default(self, b2b: Pipeline, utc_day: Day) -> None:
        """Moving back to an earlier open stage is allowed by default."""
        deal = b2b.open_deal("D", at=utc_day(1), stage="Proposal")
        assert deal.move_to("Prospecting", at=utc_day(2)).stage.key == "Prospecting"

    def test_backward_refused(self, utc_day: Day) -> None:
        """With allow_backward=False, moving back is refused."""
        pipeline = sf.templates.b2b(allow_backward=False)
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Proposal")
        with pytest.raises(TransitionError) as info:
            deal.move_to("Needs assessment", at=utc_day(2))
        assert info.value.reasons == ("the pipeline does not allow moving back",)

    def test_moving_to_the_current_stage_is_refused(self, b2b: Pipeline, utc_day: Day) -> None:
        """A move to the stage the deal is in is refused."""
        deal = b2b.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError, match="already in 'Prospecting'"):
            deal.move_to("Prospecting", at=utc_day(2))

    @pytest.mark.parametrize("start", B2B_OPEN)
    def test_lose_from_any_open_stage(self, b2b: Pipeline, utc_day: Day, start: str) -> None:
        """A deal may be lost from every open stage."""
        deal = b2b.open_deal("D", at=utc_day(1), stage=start)
        assert deal.move_to("Closed lost", at=utc_day(2)).is_lost

    @pytest.mark.parametrize("start", B2B_OPEN)
    def test_win_from_any_open_stage(self, b2b: Pipeline, utc_day: Day, start: str) -> None:
        """Winning is allowed from every open stage: closing is not a skip."""
        deal = b2b.open_deal("D", at=utc_day(1), stage=start)
        assert deal.move_to("Closed won", at=utc_day(2)).is_won

    def test_lose_from_restriction(self, utc_day: Day) -> None:
        """With lose_from, losing from any other open stage is refused."""
        pipeline = Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"], lose_from=["Proposal"])
        lead = pipeline.open_deal("D", at=utc_day(1))
        with pytest.raises(TransitionError) as info:
            lead.lose(at=utc_day(2))
        assert info.value.reasons == ("the pipeline does not allow losing a deal from 'Lead'",)
        proposal = pipeline.open_deal("E", at=utc_day(1), stage="Proposal")
        assert proposal.lose(at=utc_day(2)).is_lost

    @pytest.mark.parametrize("target", ["Prospecting", "Negotiation", "Closed lost"])
    def test_terminal_stage_left_only_by_reopen(
        self, b2b: Pipeline, utc_day: Day, target: str
    ) -> None:
        """A won deal cannot move anywhere; the error says to use reopen()."""
        won = b2b.open_deal("D", at=utc_day(1)).win(at=utc_day(2))
        with pytest.raises(TransitionError) as info:
            won.move_to(target, at=utc_day(3))
        assert info.value.reasons == ("'Closed won' is a terminal stage; use reopen() first",)
        reopened = won.reopen(at=utc_day(3))
        assert reopened.is_open

    def test_reopen_refused_when_not_allowed(self, utc_day: Day) -> None:
        """With allow_reopen=False, reopen() is refused."""
        pipeline = sf.templates.b2b(allow_reopen=False)
        lost = pipeline.open_deal("D", at=utc_day(1)).lose(at=utc_day(2))
        with pytest.raises(TransitionError) as info:
            lost.reopen(at=utc_day(3))
        assert info.value.reasons == ("the pipeline does not allow reopening closed deals",)


class TestCanMove:
    def test_allowed(self, open_deal: sf.Deal) -> None:
        """An allowed move gives a truthy verdict with no reasons."""
        verdict = open_deal.pipeline.can_move(open_deal, "Lead generation")
        assert verdict
        assert verdict.allowed
        assert verdict.reasons == ()
        assert (verdict.source, verdict.target) == ("Prospecting", "Lead generation")

    def test_refused_lists_all_reasons(self, open_deal: sf.Deal, utc_day: Day) -> None:
        """A skip dated before the last change gives a falsy verdict with both reasons."""
        verdict = open_deal.pipeline.can_move(open_deal, "Initial contact", at=utc_day(0, hour=12))
        assert not verdict
        assert not verdict.allowed
        assert verdict.reasons == (
            "it would skip 'Lead generation'; the pipeline does not allow skips",
            "2025-12-31T12:00:00+00:00 is before the deal's last stage change "
            "at 2026-01-01T00:00:00+00:00",
        )

    def test_includes_guard_reasons(self, utc_day: Day) -> None:
        """Guard refusals are listed with the structural ones."""
        pipeline = sf.templates.b2b(guards=[lambda deal, target, at: "no budget"])
        deal = pipeline.open_deal("D", at=utc_day(1))
        verdict = pipeline.can_move(deal, "Initial contact")
        assert len(verdict.reasons) == 2
        assert verdict.reasons[1] == "no budget"

    def test_does_not_raise(self, open_deal: sf.Deal) -> None:
        """can_move answers for a closed deal without raising."""
        won = open_deal.win(at=open_deal.created_at)
        assert not won.pipeline.can_move(won, "Proposal")

    def test_unknown_target(self, open_deal: sf.Deal) -> None:
        """An unknown target raises UnknownStageError."""
        with pytest.raises(UnknownStageError):
            open_deal.pipeline.can_move(open_deal, "Nope")

    def test_naive_at(self, open_deal: sf.Deal) -> None:
        """A naive at= raises ValueError about the timezone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            open_deal.pipeline.can_move(open_deal, "Lead generation", at=datetime(2026, 2, 1))


class TestAllowedTargets:
    def test_first_stage(self, open_deal: sf.Deal) -> None:
        """From the first stage: the next one, won and lost."""
        targets = open_deal.pipeline.allowed_targets(open_deal)
        assert keys(targets) == ["Lead generation", "Closed won", "Closed lost"]

    def test_middle_stage(self, b2b: Pipeline, utc_day: Day) -> None:
        """From a middle stage: earlier stages, the next one, won and lost, in order."""
        deal = b2b.open_deal("D", at=utc_day(1), stage="Needs assessment")
        assert keys(b2b.allowed_targets(deal)) == [
            "Prospecting",
            "Lead generation",
            "Initial contact",
            "Solution presentation",
            "Closed won",
            "Closed lost",
        ]

    def test_without_backward(self, utc_day: Day) -> None:
        """Without backward moves, only forward targets remain."""
        pipeline = sf.templates.b2b(allow_backward=False)
        deal = pipeline.open_deal("D", at=utc_day(1), stage="Needs assessment")
        assert keys(pipeline.allowed_targets(deal)) == [
            "Solution presentation",
            "Closed won",
            "Closed lost",
        ]

    def test_closed_deal_has_none(self, open_deal: sf.Deal, utc_day: Day) -> None:
        """A closed deal has no move_to targets (only reopen)."""
        lost = open_deal.lose(at=utc_day(2))
        assert lost.pipeline.allowed_targets(lost) == ()


class TestTransitionError:
    def test_message_and_attributes(self, open_deal: sf.Deal, utc_day: Day) -> None:
        """The error is one line naming deal, stages, reasons and allowed targets."""
        with pytest.raises(TransitionError) as info:
            open_deal.move_to("Initial contact", at=utc_day(2))
        error = info.value
        assert str(error) == (
            "Cannot move deal 'D-1' from 'Prospecting' to 'Initial contact': "
            "it would skip 'Lead generation'; the pipeline does not allow skips; "
            "it may move to 'Lead generation', 'Closed won', 'Closed lost'."
        )
        assert error.deal_id == "D-1"
        assert error.source == "Prospecting"
        assert error.target == "Initial contact"
        assert error.reasons == (
            "it would skip 'Lead generation'; the pipeline does not allow skips",
        )
        assert error.allowed == ("Lead generation", "Closed won", "Closed lost")

    def test_every_reason_is_in_the_message(self, utc_day: Day) -> None:
        """With several refusals, every reason appears, joined by semicolons."""
        pipeline = sf.templates.b2b(guards=[lambda deal, target, at: "legal has not signed off"])
        deal = pipeline.open_deal("D", at=utc_day(2))
        with pytest.raises(TransitionError) as info:
            deal.move_to("Proposal", at=utc_day(1))
        assert len(info.value.reasons) == 3
        assert "\n" not in str(info.value)
        assert str(info.value).count(";") >= 2
        for reason in info.value.reasons:
            assert reason in str(info.value)

    def test_is_a_value_error(self, open_deal: sf.Deal, utc_day: Day) -> None:
        """TransitionError is caught by except ValueError."""
        with pytest.raises(ValueError, match="Cannot move"):
            open_deal.move_to("Proposal", at=utc_day(2))


class TestCheck:
    def test_passes_for_deals_built_by_moves(self, b2b: Pipeline, utc_day: Day) -> None:
        """A deal built through the public moves passes check()."""
        deal = b2b.open_deal("D", at=utc_day(1)).advance(at=utc_day(2)).advance(at=utc_day(3))
        deal = deal.move_to("Prospecting", at=utc_day(4)).lose(at=utc_day(5), reason="price")
        deal = deal.reopen(at=utc_day(6)).win(at=utc_day(7))
        assert b2b.check(deal) is None
        assert b2b.check(deal, guards=True) is None

    def test_from_history_accepts_a_legal_history(self, b2b: Pipeline, utc_day: Day) -> None:
        """from_history rebuilds a legal history, including a reopen."""
        history = [
            StageChange("Prospecting", utc_day(1)),
            StageChange("Closed lost", utc_day(2), reason="no budget"),
            StageChange("Prospecting", utc_day(3)),
            StageChange("Lead generation", utc_day(3)),
        ]
        deal = sf.Deal.from_history(b2b, "H", history)
        assert deal.history == tuple(history)

    def test_from_history_refuses_a_skip(self, b2b: Pipeline, utc_day: Day) -> None:
        """A recorded skip raises TransitionError at the offending event."""
        history = [
            StageChange("Prospecting", utc_day(1)),
            StageChange("Lead generation", utc_day(2)),
            StageChange("Proposal", utc_day(3)),
        ]
        with pytest.raises(TransitionError, match="replay event 2") as info:
            sf.Deal.from_history(b2b, "H", history)
        assert info.value.source == "Lead generation"
        assert info.value.target == "Proposal"

    def test_from_history_refuses_time_travel(self, b2b: Pipeline, utc_day: Day) -> None:
        """A history out of time order is refused with exactly one reason."""
        history = [
            StageChange("Prospecting", utc_day(2)),
            StageChange("Lead generation", utc_day(1)),
        ]
        with pytest.raises(TransitionError, match="before the deal's last stage change") as info:
            sf.Deal.from_history(b2b, "H", history)
        assert len(info.value.reasons) == 1

    def test_from_history_refuses_leaving_a_terminal_stage(
        self, b2b: Pipeline, utc_day: Day
    ) -> None:
        """Leaving a won stage for a lost one is refused on replay."""
        history = [
            StageChange("Prospecting", utc_day(1)),
            StageChange("Closed won", utc_day(2)),
            StageChange("Closed lost", utc_day(3)),
        ]
        with pytest.raises(TransitionError, match="terminal stage"):
            sf.Deal.from_history(b2b, "H", history)

    def test_from_history_refuses_reopen_when_forbidden(self, utc_day: Day) -> None:
        """A reopen event is refused on replay when the pipeline forbids reopening."""
        pipeline = sf.templates.b2b(allow_reopen=False)
        history = [
            StageChange("Prospecting", utc_day(1)),
            StageChange("Closed lost", utc_day(2)),
            StageChange("Prospecting", utc_day(3)),
        ]
        with pytest.raises(TransitionError, match="does not allow reopening"):
            sf.Deal.from_history(pipeline, "H", history)

    def test_from_history_refuses_a_terminal_start(self, b2b: Pipeline, utc_day: Day) -> None:
        """A history that starts in a terminal stage is refused."""
        with pytest.raises(TransitionError, match="not an open stage"):
            sf.Deal.from_history(b2b, "H", [StageChange("Closed won", utc_day(1))])

    def test_from_history_refuses_an_unknown_stage(self, b2b: Pipeline, utc_day: Day) -> None:
        """A history naming an unknown stage raises UnknownStageError."""
        with pytest.raises(UnknownStageError):
            sf.Deal.from_history(b2b, "H", [StageChange("Limbo", utc_day(1))])

    def test_from_history_refuses_an_empty_history(self, b2b: Pipeline) -> None:
        """An empty history raises ValueError."""
        with pytest.raises(ValueError, match="at least one stage change"):
            sf.Deal.from_history(b2b, "H", [])

    def test_guards_are_replayed_only_when_asked(self, utc_day: Day) -> None:
        """check() ignores guards; check(guards=True) re-asks them."""
        pipeline = sf.templates.b2b(guards=[sf.RequireValue("Lead generation")])
        history = [
            StageChange("Prospecting", utc_day(1)),
            StageChange("Lead generation", utc_day(2)),
        ]
        deal = sf.Deal.from_history(pipeline, "H", history)
        pipeline.check(deal)
        with pytest.raises(TransitionError, match="needs a deal value"):
            pipeline.check(deal, guards=True)
        with pytest.raises(TransitionError, match="needs a deal value"):
            sf.Deal.from_history(pipeline, "H", history, guards=True)

    def test_guarded_replay_of_time_travel_gives_one_reason(
        self, b2b: Pipeline, utc_day: Day
    ) -> None:
        """With guards=True, an out-of-order event is still reported once."""
        history = [
            StageChange("Prospecting", utc_day(2)),
            StageChange("Lead generation", utc_day(1)),
        ]
        with pytest.raises(TransitionError) as info:
            sf.Deal.from_history(b2b, "H", history, guards=True)
        assert len(info.value.reasons) == 1

    def test_deal_of_another_pipeline(self, open_deal: sf.Deal, sales: Pipeline) -> None:
        """Checking a deal against a pipeline it does not belong to is refused."""
        with pytest.raises(TransitionError, match="belongs to pipeline 'B2B sales'"):
            sales.check(open_deal)

    def test_equal_pipeline_is_accepted(self, open_deal: sf.Deal) -> None:
        """An equal pipeline (built the same way) may check the deal."""
        sf.templates.b2b().check(open_deal.advance(at=open_deal.created_at))


class TestTemplates:
    def test_b2b(self) -> None:
        """The B2B template has the seed's seven open stages, then won and lost."""
        pipeline = sf.templates.b2b()
        assert [s.name for s in pipeline.stages] == [*B2B_OPEN, "Closed won", "Closed lost"]
        assert keys(pipeline.open_stages) == B2B_OPEN

    def test_investor(self) -> None:
        """The investor template has its six open stages, then won and lost."""
        pipeline = sf.templates.investor()
        assert [s.name for s in pipeline.stages] == [
            "Prospecting",
            "Qualification",
            "Initial contact",
            "Needs assessment",
            "Solution presentation",
            "Negotiation",
            "Closed won",
            "Closed lost",
        ]

    def test_hubspot_default(self) -> None:
        """HubSpot's template has its stage labels and default probabilities."""
        pipeline = sf.templates.hubspot_default()
        assert [s.name for s in pipeline.stages] == [
            "Appointment scheduled",
            "Qualified to buy",
            "Presentation scheduled",
            "Decision maker bought-in",
            "Contract sent",
            "Closed won",
            "Closed lost",
        ]
        assert [s.probability for s in pipeline.stages] == [0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 0.0]
        assert [s.outcome for s in pipeline.stages][-2:] == [Outcome.WON, Outcome.LOST]

    def test_templates_take_rules(self) -> None:
        """Rule keywords are passed through templates."""
        assert sf.templates.investor(allow_skip=True).allow_skip
        assert not sf.templates.hubspot_default(allow_reopen=False).allow_reopen

    def test_probabilities_rise_through_open_stages(self) -> None:
        """In every template, open-stage probabilities never fall along the pipeline."""
        for make in (sf.templates.b2b, sf.templates.investor, sf.templates.hubspot_default):
            probs = [s.probability for s in make().open_stages]
            assert all(p is not None for p in probs)
            assert probs == sorted(probs)  # type: ignore[type-var]


class TestValue:
    def test_equal_and_hashable(self) -> None:
        """Pipelines built the same way are equal and hash alike."""
        assert sf.templates.b2b() == sf.templates.b2b()
        assert hash(sf.templates.b2b()) == hash(sf.templates.b2b())
        assert len({sf.templates.b2b(), sf.templates.b2b(), sf.templates.investor()}) == 2

    def test_rules_make_pipelines_unequal(self) -> None:
        """A different rule makes a different pipeline."""
        assert sf.templates.b2b() != sf.templates.b2b(allow_skip=True)

    def test_frozen(self, b2b: Pipeline) -> None:
        """A pipeline cannot be changed in place."""
        import attrs

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            b2b.allow_skip = True  # type: ignore[misc]


def no_fridays(deal: sf.Deal, target: Stage, at: datetime) -> str | None:
    return "no deals move on Fridays" if at.weekday() == 4 else None


class TestRecords:
    def test_round_trip(self) -> None:
        """from_dict(to_dict()) rebuilds an equal pipeline."""
        pipeline = Pipeline(
            "Custom",
            [
                Stage("a", "Alpha", probability=0.1),
                Stage("b", rotting_after=__import__("datetime").timedelta(days=10)),
                Stage("won", "Won", outcome="won"),
                Stage("lost", outcome="lost", probability=0.05),
            ],
            allow_skip=True,
            allow_backward=False,
            allow_reopen=False,
            lose_from=["b"],
            guards=[
                sf.RequireTouchpoint("b", "demo", within=__import__("datetime").timedelta(days=30)),
                sf.RequireValue("won"),
            ],
        )
        assert Pipeline.from_dict(pipeline.to_dict()) == pipeline

    def test_templates_round_trip(self) -> None:
        """Every template survives to_dict / from_dict."""
        for make in (sf.templates.b2b, sf.templates.investor, sf.templates.hubspot_default):
            assert Pipeline.from_dict(make().to_dict()) == make()

    def test_to_dict_has_a_schema_version(self, sales: Pipeline) -> None:
        """The record carries schema version 1 and the pipeline's name."""
        data = sales.to_dict()
        assert data["schema"] == 1
        assert data["name"] == "Sales"

    def test_plain_callable_guard_does_not_serialise(self) -> None:
        """A plain-function guard makes to_dict raise NotSerializableError saying why."""
        pipeline = sf.templates.b2b(guards=[no_fridays])
        with pytest.raises(sf.NotSerializableError, match="plain callable") as info:
            pipeline.to_dict()
        assert "does not serialise" in str(info.value)
        assert isinstance(info.value, TypeError)

    def test_from_dict_readds_plain_guards(self) -> None:
        """from_dict(data, guards=[fn]) gives the pipeline with the function guard back."""
        data = sf.templates.b2b().to_dict()
        rebuilt = Pipeline.from_dict(data, guards=[no_fridays])
        assert rebuilt == sf.templates.b2b(guards=[no_fridays])
        assert rebuilt.guards == (no_fridays,)

    def test_from_dict_adds_plain_guards_after_builtin_ones(self) -> None:
        """Extra guards come after the serialised built-in ones."""
        data = sf.templates.b2b(guards=[sf.RequireValue("Proposal")]).to_dict()
        rebuilt = Pipeline.from_dict(data, guards=[no_fridays])
        assert rebuilt.guards == (sf.RequireValue("Proposal"), no_fridays)
