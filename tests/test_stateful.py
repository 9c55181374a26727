"""Random deals driven through a random pipeline, every move checked against a reference model.

The model (``tests/strategies.py``) restates the contract's rules from the
pipeline's fields; it never asks ``can_move``, ``allowed_targets`` or
``check``, so the library and the model are compared, not the library with
itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

import salesflow as sf
from tests.strategies import (
    advance_target,
    expected_allowed,
    expected_refusals,
    guarded_channels,
    in_zone,
    money,
    open_keys,
    optional_texts,
    outcome,
    pipelines,
    reopen_default,
    steps,
    structural_refusals,
    utc_datetimes,
    zones,
)

# An index into pipeline.stages, taken modulo its length (pipelines have at most 12 stages).
STAGE_INDEX = st.integers(0, 11)
# ``None`` for the verb's default stage, else an index as above.
CHOICE = st.none() | STAGE_INDEX
BACK = st.timedeltas(timedelta(microseconds=1), timedelta(days=30))


def attempt(call: Callable[[], Any]) -> Any:
    """The result of *call*, or the exception it raised."""
    try:
        return call()
    except Exception as exc:  # any leak is the finding
        return exc


def assert_consistent(deal: sf.Deal) -> None:
    """Every invariant a deal built through the public API must keep."""
    pipeline = deal.pipeline
    history = deal.history
    assert history, "a deal always has its opening event"
    assert outcome(pipeline, history[0].stage) is sf.Outcome.OPEN
    # Time-ordered; equal timestamps are legal.
    assert all(not later.at < earlier.at for earlier, later in pairwise(history))
    # The current stage is the last event's.
    assert deal.stage.key == history[-1].stage
    assert deal.stage in pipeline.stages
    # A terminal stage is left only by a reopen, into an open stage, when allowed;
    # every other step obeys the structural rules.
    for earlier, later in pairwise(history):
        if outcome(pipeline, earlier.stage) is sf.Outcome.OPEN:
            assert not structural_refusals(pipeline, earlier.stage, later.stage)
        else:
            assert outcome(pipeline, later.stage) is sf.Outcome.OPEN
            assert pipeline.allow_reopen
    assert deal.created_at == history[0].at
    kind = deal.stage.outcome
    assert (deal.is_open, deal.is_won, deal.is_lost) == (
        kind is sf.Outcome.OPEN,
        kind is sf.Outcome.WON,
        kind is sf.Outcome.LOST,
    )
    if kind is sf.Outcome.OPEN:
        assert deal.closed_at is None
    else:
        assert deal.closed_at == history[-1].at
    if kind is not sf.Outcome.LOST:
        assert deal.lost_reason is None
    times = [t.at for t in deal.touchpoints]
    assert all(not later < earlier for earlier, later in pairwise(times))
    pipeline.check(deal)
    pipeline.check(deal, guards=True)
    assert tuple(s.key for s in pipeline.allowed_targets(deal)) == expected_allowed(deal)
    record = json.loads(json.dumps(deal.to_dict()))
    assert sf.Deal.from_dict(record, pipeline) == deal


class DealMachine(RuleBasedStateMachine):
    """Deals in one random pipeline, moved by every verb, legal or not, at advancing times."""

    deals = Bundle("deals")

    def __init__(self) -> None:
        super().__init__()
        self.pipeline = sf.Pipeline.linear("Placeholder", ["Only"])
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)
        self.opened = 0
        self.unchecked: list[sf.Deal] = []

    @initialize(pipeline=pipelines(), start=utc_datetimes())
    def choose_pipeline(self, pipeline: sf.Pipeline, start: datetime) -> None:
        self.pipeline = pipeline
        self.clock = start

    # ------------------------------------------------------------ helpers

    def _now(self, step: timedelta, zone: tzinfo) -> datetime:
        self.clock += step
        return in_zone(self.clock, zone)

    def _key(self, index: int) -> str:
        stages = self.pipeline.stages
        return stages[index % len(stages)].key

    def _refused(self, deal: sf.Deal, call: Callable[[], sf.Deal]) -> sf.TransitionError:
        before = deal.history
        with pytest.raises(sf.TransitionError) as info:
            call()
        err = info.value
        assert err.deal_id == deal.id
        assert err.reasons
        assert all(isinstance(reason, str) and reason for reason in err.reasons)
        assert isinstance(err.allowed, tuple)
        assert set(err.allowed) <= {s.key for s in self.pipeline.stages}
        assert deal.history == before, "a refused move must not change the deal"
        return err

    def _expect(
        self,
        deal: sf.Deal,
        call: Callable[[], sf.Deal],
        target: str,
        at: datetime,
        *,
        reopen: bool = False,
    ) -> Any:
        refusals = expected_refusals(deal, target, at, reopen=reopen)
        if refusals:
            err = self._refused(deal, call)
            assert len(err.reasons) == refusals, err.reasons
            assert (err.source, err.target) == (deal.stage.key, target)
            assert err.allowed == expected_allowed(deal)
            return multiple()
        moved = call()
        assert moved.id == deal.id
        assert moved.history[:-1] == deal.history
        assert (moved.history[-1].stage, moved.history[-1].at) == (target, at)
        assert moved.touchpoints == deal.touchpoints
        assert moved.value == deal.value
        self.unchecked.append(moved)
        return moved

    # -------------------------------------------------------------- rules

    @rule(
        target=deals, start=CHOICE, value=st.none() | money().map(abs), step=steps(), zone=zones()
    )
    def open_deal(
        self, start: int | None, value: sf.Money | None, step: timedelta, zone: tzinfo
    ) -> Any:
        at = self._now(step, zone)
        self.opened += 1
        deal_id = f"D-{self.opened}"
        key = None if start is None else self._key(start)

        def call() -> sf.Deal:
            return self.pipeline.open_deal(deal_id, at=at, value=value, stage=key)

        if key is not None and outcome(self.pipeline, key) is not sf.Outcome.OPEN:
            with pytest.raises(sf.TransitionError) as info:
                call()
            assert info.value.deal_id == deal_id
            assert info.value.reasons
            return multiple()
        deal = call()
        first = open_keys(self.pipeline)[0] if key is None else key
        assert deal.history == (sf.StageChange(first, at),)
        assert deal.value == value
        self.unchecked.append(deal)
        return deal

    @rule(target=deals, deal=deals, step=steps(), zone=zones())
    def advance(self, deal: sf.Deal, step: timedelta, zone: tzinfo) -> Any:
        at = self._now(step, zone)
        target = advance_target(self.pipeline, deal.stage.key)
        if target is None:
            self._refused(deal, lambda: deal.advance(at=at))
            return multiple()
        return self._expect(deal, lambda: deal.advance(at=at), target, at)

    @rule(target=deals, deal=deals, index=STAGE_INDEX, step=steps(), zone=zones())
    def move_to(self, deal: sf.Deal, index: int, step: timedelta, zone: tzinfo) -> Any:
        at = self._now(step, zone)
        target = self._key(index)
        verdict = self.pipeline.can_move(deal, target, at=at)
        assert len(verdict.reasons) == expected_refusals(deal, target, at)
        return self._expect(deal, lambda: deal.move_to(target, at=at), target, at)

    @rule(target=deals, deal=deals, choice=CHOICE, step=steps(), zone=zones())
    def win(self, deal: sf.Deal, choice: int | None, step: timedelta, zone: tzinfo) -> Any:
        at = self._now(step, zone)
        if choice is None:
            target = next(s.key for s in self.pipeline.stages if s.is_won)
            return self._expect(deal, lambda: deal.win(at=at), target, at)
        target = self._key(choice)
        if outcome(self.pipeline, target) is not sf.Outcome.WON:
            self._refused(deal, lambda: deal.win(at=at, stage=target))
            return multiple()
        return self._expect(deal, lambda: deal.win(at=at, stage=target), target, at)

    @rule(
        target=deals,
        deal=deals,
        choice=CHOICE,
        reason=optional_texts(),
        step=steps(),
        zone=zones(),
    )
    def lose(
        self, deal: sf.Deal, choice: int | None, reason: str | None, step: timedelta, zone: tzinfo
    ) -> Any:
        at = self._now(step, zone)
        lost = [s.key for s in self.pipeline.stages if s.is_lost]
        target = (lost[0] if lost else None) if choice is None else self._key(choice)
        stage = None if choice is None else target

        def call() -> sf.Deal:
            return deal.lose(at=at, reason=reason, stage=stage)

        if target is None or outcome(self.pipeline, target) is not sf.Outcome.LOST:
            self._refused(deal, call)
            return multiple()
        moved = self._expect(deal, call, target, at)
        if isinstance(moved, sf.Deal):
            assert moved.lost_reason == reason
        return moved

    @rule(target=deals, deal=deals, choice=CHOICE, step=steps(), zone=zones())
    def reopen(self, deal: sf.Deal, choice: int | None, step: timedelta, zone: tzinfo) -> Any:
        at = self._now(step, zone)
        target = reopen_default(deal) if choice is None else self._key(choice)
        to = None if choice is None else target
        return self._expect(deal, lambda: deal.reopen(at=at, to=to), target, at, reopen=True)

    @rule(
        target=deals,
        deal=deals,
        channel=guarded_channels(),
        back=st.timedeltas(timedelta(0), timedelta(days=10)),
        step=steps(),
        zone=zones(),
    )
    def log(
        self, deal: sf.Deal, channel: str, back: timedelta, step: timedelta, zone: tzinfo
    ) -> sf.Deal:
        self.clock += step
        touch = sf.Touchpoint(in_zone(self.clock - back, zone), channel)
        logged = deal.log(touch)
        assert len(logged.touchpoints) == len(deal.touchpoints) + 1
        assert logged.touchpoints.count(touch) == deal.touchpoints.count(touch) + 1
        assert logged.history == deal.history
        self.unchecked.append(logged)
        return logged

    @rule(deal=deals, index=STAGE_INDEX, back=BACK, zone=zones(), reopen=st.booleans())
    def move_before_last_event(
        self, deal: sf.Deal, index: int, back: timedelta, zone: tzinfo, reopen: bool
    ) -> None:
        at = in_zone(deal.history[-1].at.astimezone(UTC) - back, zone)
        target = self._key(index)
        assert expected_refusals(deal, target, at, reopen=reopen) >= 1
        if reopen:
            self._expect(deal, lambda: deal.reopen(at=at, to=target), target, at, reopen=True)
        else:
            self._expect(deal, lambda: deal.move_to(target, at=at), target, at)

    # --------------------------------------------------------- invariants

    @invariant()
    def new_deals_are_consistent(self) -> None:
        for deal in self.unchecked:
            assert_consistent(deal)
        self.unchecked.clear()


class TestDealProgression(DealMachine.TestCase):
    """Random deals driven through random pipelines keep every invariant."""

    settings = settings(
        max_examples=50,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


class TestModelAgreement:
    """Pinned cases where the library must agree with the reference model."""

    def test_touchpoint_window_is_measured_in_utc(self) -> None:
        """A touchpoint 24.5 real hours old does not satisfy a 24-hour window across a DST change."""
        berlin = ZoneInfo("Europe/Berlin")
        pipeline = sf.Pipeline.linear(
            "Sales",
            ["Lead", "Demo"],
            guards=[sf.RequireTouchpoint("Demo", "call", within=timedelta(hours=24))],
        )
        # Berlin leaves summer time at 03:00 on 25 October 2026.
        at = datetime(2026, 10, 25, 12, 0, tzinfo=berlin)
        touch = sf.Touchpoint(at.astimezone(UTC) - timedelta(hours=24, minutes=30), "call")
        deal = pipeline.open_deal("D-1", at=datetime(2026, 10, 1, tzinfo=UTC)).log(touch)
        assert expected_refusals(deal, "Demo", at) == 1
        assert not pipeline.can_move(deal, "Demo", at=at)
        assert not pipeline.can_move(deal, "Demo", at=at.astimezone(UTC))

    @pytest.mark.parametrize(
        "guard",
        [sf.RequireValue, lambda stage: sf.RequireTouchpoint(stage, "call")],
        ids=["RequireValue", "RequireTouchpoint"],
    )
    def test_guard_on_a_lost_stage_does_not_crash_moves(self, guard: Any) -> None:
        """A built-in guard naming a lost stage is refused when built, or leaves other moves working."""
        built = attempt(
            lambda: sf.Pipeline.linear("Sales", ["Lead", "Demo"], guards=[guard("Closed lost")])
        )
        if isinstance(built, sf.InvalidPipelineError):
            assert "Closed lost" in built.stages
            return
        assert isinstance(built, sf.Pipeline)
        deal = built.open_deal("D-1", at=datetime(2026, 1, 1, tzinfo=UTC))
        moved = attempt(lambda: deal.advance(at=datetime(2026, 1, 2, tzinfo=UTC)))
        assert isinstance(moved, sf.Deal), f"advance raised {moved!r}"
        assert moved.stage.key == "Demo"

    def test_reopen_without_target_returns_to_the_stage_closed_from(self) -> None:
        """reopen() lands in the open stage the deal was lost from, even after moving back first."""
        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        day = [datetime(2026, 1, d, tzinfo=UTC) for d in range(1, 8)]
        deal = (
            pipeline.open_deal("D-1", at=day[0])
            .advance(at=day[1])
            .advance(at=day[2])
            .move_to("Lead", at=day[3])
            .lose(at=day[4])
        )
        assert reopen_default(deal) == "Lead"
        assert deal.reopen(at=day[5]).stage.key == "Lead"
