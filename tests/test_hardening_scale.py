"""Issue 10, finding 6: no quadratic path on large inputs, or a documented limit.

Each path made linear has a doubling test: twice the input may take at most
2.5 times as long (see :func:`_doubling_ratio`, which keeps a busy
machine from making it flake). The pipeline's stage count is bounded instead, with a clear error.
"""

from __future__ import annotations

import gc
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import salesflow as sf
from salesflow.io import read_events_csv

START = datetime(2026, 1, 5, tzinfo=UTC)


def _best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(5):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def _doubling_ratio(make: Callable[[int], Callable[[], object]], size: int) -> float:
    """How much longer twice the input takes: about 2 when linear, 4 when quadratic.

    The collector is paused while timing, and the lowest of three measurements
    is returned, so that a busy machine cannot push a linear path over 2.5.
    """
    small, large = make(size), make(2 * size)
    small()  # warm up caches and imports
    ratios = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            ratios.append(_best(large) / _best(small))
            if ratios[-1] < 2.5:
                break
    finally:
        if enabled:
            gc.enable()
    return min(ratios)


def _history(n: int) -> list[sf.StageChange]:
    """*n* events back and forth between two open stages, with a lose and a reopen midway."""
    events = []
    for i in range(n):
        stage = "Prospecting" if i % 2 == 0 else "Lead generation"
        if i == n // 2:
            events.append(sf.StageChange("Closed lost", START + timedelta(minutes=i)))
            continue
        events.append(sf.StageChange(stage, START + timedelta(minutes=i)))
    return events


class TestReplayIsLinear:
    def test_check_with_a_reopen_is_linear(self) -> None:
        """Replaying a history that leaves the fast path (a reopen) takes time linear in its length."""
        pipeline = sf.templates.b2b()

        def make(n: int) -> Callable[[], object]:
            events = _history(n)
            return lambda: sf.Deal.from_history(pipeline, "D", events)

        deal = make(1_000)()
        assert isinstance(deal, sf.Deal)
        assert "Closed lost" in deal.stage_keys
        assert _doubling_ratio(make, 4_000) < 2.5

    def test_events_loader_with_a_reopen_is_linear(self) -> None:
        """One deal of many rows with a lose/reopen loads in time linear in its rows."""
        pipeline = sf.templates.b2b()

        def make(n: int) -> Callable[[], object]:
            lines = ["deal_id,stage,at"]
            lines += [f"D,{e.stage},{e.at.isoformat()}" for e in _history(n)]
            text = "\n".join(lines) + "\n"
            return lambda: read_events_csv(io.StringIO(text), pipeline)

        (deal,) = make(1_000)()  # type: ignore[misc]
        assert len(deal.stage_keys) == 1_000
        assert _doubling_ratio(make, 4_000) < 2.5

    def test_appending_to_a_store_one_event_at_a_time_is_linear(self) -> None:
        """SQLiteStore.append_changes costs the same per event however long the stored history."""
        from salesflow._deal import prefix

        pipeline = sf.templates.b2b()
        full = sf.Deal.from_history(pipeline, "D", _history(4_000))

        def make(n: int) -> Callable[[], object]:
            versions = [prefix(full, k) for k in range(1, n + 1)]

            def run() -> object:
                with sf.io.SQLiteStore(":memory:") as store:
                    store.create_schema()
                    for version in versions:
                        store.append_changes(version)
                    return store.load_deal("D")

            return run

        assert make(300)() == prefix(full, 300)
        assert _doubling_ratio(make, 1_000) < 2.5

    def test_refused_event_is_still_reported_with_its_index(self) -> None:
        """The linear replay names the first illegal event, as before."""
        pipeline = sf.templates.b2b()
        events = _history(100)
        events[70] = sf.StageChange("Negotiation", events[70].at)  # a skip
        with pytest.raises(sf.TransitionError, match="skip") as info:
            sf.Deal.from_history(pipeline, "D", events)
        assert info.value.event == 70

    def test_guards_are_asked_against_each_prefix(self) -> None:
        """With guards=True, each guard still sees the deal as it was before the event."""
        seen: list[int] = []

        def guard(deal: sf.Deal, target: sf.Stage, at: datetime) -> str | None:
            seen.append(len(deal.stage_keys))
            return None

        pipeline = sf.Pipeline.linear("S", ["A", "B", "C"], guards=[guard])
        history = [sf.StageChange(k, START + timedelta(days=i)) for i, k in enumerate("ABC")]
        deal = sf.Deal.from_history(pipeline, "D", history)
        seen.clear()
        pipeline.check(deal, guards=True)
        assert seen == [1, 2]


class TestStageLimit:
    def test_pipeline_at_the_limit_builds(self) -> None:
        """A pipeline of MAX_STAGES stages is accepted."""
        from salesflow._rules import MAX_STAGES

        pipeline = sf.Pipeline.linear("Big", [f"S{i}" for i in range(MAX_STAGES - 2)])
        assert len(pipeline.stages) == MAX_STAGES

    def test_pipeline_over_the_limit_is_refused_before_building(self) -> None:
        """3,000 stages raise InvalidPipelineError at once, naming the limit, instead of taking 20 s."""
        began = time.perf_counter()
        with pytest.raises(sf.InvalidPipelineError, match="more than the 250") as info:
            sf.Pipeline.linear("Huge", [f"S{i}" for i in range(3_000)])
        assert time.perf_counter() - began < 1.0
        assert info.value.rules == ("max_stages",)

    def test_pipeline_from_dict_over_the_limit_is_refused(self) -> None:
        """The limit holds through Pipeline.from_dict as well."""
        small = sf.Pipeline.linear("Big", ["S0"]).to_dict()
        opening = small["stages"][0]
        extra = [{**opening, "key": f"S{i}", "name": f"S{i}"} for i in range(1, 300)]
        record = {**small, "stages": [opening, *extra, *small["stages"][1:]]}
        with pytest.raises(sf.InvalidPipelineError, match="more than the 250"):
            sf.Pipeline.from_dict(record)
