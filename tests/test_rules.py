"""The pipeline's named rules and its move table, each tested on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import InvalidPipelineError, MoveKind, MoveTable, Pipeline, Stage
from salesflow import _rules as rules

WON = Stage("won", outcome="won")
LOST = Stage("lost", outcome="lost")


def day(d: int) -> datetime:
    return datetime(2026, 1, d, tzinfo=UTC)


def unchecked(stages: list[Stage | str], **options: Any) -> Pipeline:
    """A pipeline built without validation, so that one rule can be run on it alone."""
    with mock.patch("salesflow._pipeline.validate"):
        return Pipeline("p", stages, **options)


class TestEachRuleAlone:
    """Each _check_<rule> finds its own problem and nothing else's."""

    def test_has_stages(self) -> None:
        """An empty pipeline breaks has_stages, and no other check speaks up."""
        pipeline = unchecked([])
        assert [p.rule for p in rules._check_has_stages(pipeline)] == ["has_stages"]
        others = [r for r in rules.RULES if r is not rules._check_has_stages]
        assert [p for r in others for p in r(pipeline)] == []

    def test_unique_keys(self) -> None:
        """Two stages with one key are named once."""
        found = rules._check_unique_keys(unchecked(["a", "b", Stage("a", "Again"), WON]))
        assert [(p.rule, p.stages) for p in found] == [("unique_keys", ("a",))]

    def test_unique_names(self) -> None:
        """Two stages with one name are named by their keys."""
        found = rules._check_unique_names(unchecked([Stage("a", "Demo"), Stage("b", "Demo"), WON]))
        assert [(p.rule, p.stages) for p in found] == [("unique_names", ("a", "b"))]

    def test_unambiguous_names(self) -> None:
        """A name that is another stage's key is ambiguous."""
        found = rules._check_unambiguous_names(unchecked([Stage("a", "S"), Stage("b", "a"), WON]))
        assert [(p.rule, p.stages) for p in found] == [("unambiguous_names", ("b",))]

    def test_has_open(self) -> None:
        """Without an open stage, has_open names every stage."""
        found = rules._check_has_open(unchecked([WON, LOST]))
        assert [(p.rule, p.stages) for p in found] == [("has_open", ("won", "lost"))]

    def test_has_won(self) -> None:
        """Without a won stage, has_won names every stage."""
        found = rules._check_has_won(unchecked(["a", LOST]))
        assert [(p.rule, p.stages) for p in found] == [("has_won", ("a", "lost"))]

    def test_lose_from(self) -> None:
        """lose_from naming a won or unknown stage is a problem; open stages are fine."""
        found = rules._check_lose_from(unchecked(["a", WON, LOST], lose_from=["a", "won", "x"]))
        assert [(p.rule, p.stages) for p in found] == [("lose_from", ("won", "x"))]
        assert rules._check_lose_from(unchecked(["a", WON, LOST], lose_from=["a"])) == []

    def test_reachable(self) -> None:
        """A lost stage no open stage may lose into is unreachable."""
        found = rules._check_reachable(unchecked(["a", WON, LOST], lose_from=()))
        assert [(p.rule, p.stages) for p in found] == [("reachable", ("lost",))]
        assert "lose_from is empty" in found[0].message

    def test_no_trap(self) -> None:
        """An open stage with no allowed way out to a terminal stage is a trap."""
        pipeline = unchecked(["a", "b", WON, LOST])
        # Remove every move out of "b" from the table: "b" becomes a trap.
        free = frozenset(pair for pair in pipeline.table.free if pair[0] != "b")
        trapped = attrs.evolve(pipeline.table, free=free)
        object.__setattr__(pipeline, "table", trapped)
        found = rules._check_no_trap(pipeline)
        assert [(p.rule, p.stages) for p in found] == [("no_trap", ("b",))]

    def test_no_trap_holds_for_built_pipelines(self) -> None:
        """Every pipeline the constructor accepts has no trap (next moves are always allowed)."""
        pipeline = Pipeline("p", ["a", "b", "c", WON, LOST], allow_backward=False, lose_from="a")
        assert rules._check_no_trap(pipeline) == []

    def test_guards(self) -> None:
        """A built-in guard for an unknown stage is reported with that stage."""
        guard = sf.RequireTouchpoint("Nowhere", "demo")
        found = rules._check_guards(unchecked(["a", WON], guards=[guard]))
        assert [(p.rule, p.stages) for p in found] == [("guards", ("Nowhere",))]


class TestAllProblemsAtOnce:
    def test_every_broken_rule_is_reported(self) -> None:
        """Duplicate keys, duplicate names and no won stage come in one error."""
        with pytest.raises(InvalidPipelineError) as info:
            Pipeline("p", [Stage("a", "Same"), Stage("a", "Other"), Stage("b", "Same")])
        error = info.value
        assert error.rules == ("unique_keys", "unique_names", "has_won")
        assert len(error.problems) == 3
        assert "breaks 3 rules" in str(error)
        for problem in error.problems:
            assert problem in str(error)

    def test_one_problem_keeps_its_own_sentence(self) -> None:
        """A single broken rule is reported in its own words."""
        with pytest.raises(InvalidPipelineError) as info:
            Pipeline("p", ["a", LOST])
        assert str(info.value) == info.value.problems[0]
        assert info.value.rules == ("has_won",)

    def test_stages_are_the_union_in_order(self) -> None:
        """.stages lists each offending stage once, in the order the rules found them."""
        with pytest.raises(InvalidPipelineError) as info:
            Pipeline("p", ["a", Stage("a", "A2"), WON, LOST], lose_from=["won"])
        assert info.value.rules == ("unique_keys", "lose_from", "reachable")
        assert info.value.stages == ("a", "won", "lost")


class TestMoveTable:
    def test_kinds_of_a_linear_pipeline(self) -> None:
        """Every move of a small pipeline has the kind its stages imply."""
        table = Pipeline("p", ["a", "b", "c", WON, LOST], lose_from=["a", "b"]).table
        assert isinstance(table, MoveTable)
        assert table.kinds["a", "b"] is MoveKind.NEXT
        assert table.kinds["a", "c"] is MoveKind.SKIP
        assert table.kinds["c", "a"] is MoveKind.BACK
        assert table.kinds["a", "a"] is MoveKind.SAME
        assert table.kinds["a", "won"] is MoveKind.WIN
        assert table.kinds["a", "lost"] is MoveKind.LOSE
        assert table.kinds["c", "lost"] is MoveKind.LOSE_BLOCKED
        assert table.kinds["won", "a"] is MoveKind.TERMINAL
        assert table.next == {"a": "b", "b": "c", "c": "won"}
        assert table.rank == {"a": 0, "b": 1, "c": 2, "won": 3, "lost": None}
        assert table.skipped("a", "c") == ["b"]

    @given(
        n=st.integers(1, 6),
        skip=st.booleans(),
        backward=st.booleans(),
    )
    def test_free_moves_follow_the_options(self, n: int, skip: bool, backward: bool) -> None:
        """A move is free exactly when its kind is always allowed or allowed by an option."""
        keys = [f"s{i}" for i in range(n)]
        table = Pipeline("p", [*keys, WON, LOST], allow_skip=skip, allow_backward=backward).table
        allowed = {MoveKind.NEXT, MoveKind.WIN, MoveKind.LOSE}
        allowed |= {MoveKind.SKIP} if skip else set()
        allowed |= {MoveKind.BACK} if backward else set()
        assert table.free == {pair for pair, kind in table.kinds.items() if kind in allowed}


class TestOneWording:
    def test_time_order_reads_the_same_live_and_replayed(self) -> None:
        """can_move() and check() word a stage change back in time identically."""
        pipeline = Pipeline.linear("Sales", ["Lead", "Demo"])
        deal = pipeline.open_deal("D-1", at=day(5))
        live = pipeline.can_move(deal, "Demo", at=day(2)).reasons
        history = [sf.StageChange("Lead", day(5)), sf.StageChange("Demo", day(2))]
        with pytest.raises(sf.TransitionError) as info:
            sf.Deal.from_history(pipeline, "D-1", history)
        assert live == info.value.reasons
        assert live == (rules.time_order_reason(day(2), day(5)),)

    def test_skip_reads_the_same_live_and_replayed(self) -> None:
        """A skip is refused with one sentence whether moved live or replayed."""
        pipeline = Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        deal = pipeline.open_deal("D-1", at=day(5))
        live = pipeline.can_move(deal, "Proposal", at=day(6)).reasons
        history = [sf.StageChange("Lead", day(5)), sf.StageChange("Proposal", day(6))]
        with pytest.raises(sf.TransitionError) as info:
            sf.Deal.from_history(pipeline, "D-1", history)
        assert live == info.value.reasons
        assert live == tuple(rules.move_reasons(pipeline.table, "Lead", "Proposal"))
