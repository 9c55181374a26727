"""Tests for salesflow.Stage and salesflow.Outcome."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from salesflow import Outcome, Stage


class TestOutcome:
    def test_values(self) -> None:
        """The three outcomes have the lower-case values used in records."""
        assert [o.value for o in Outcome] == ["open", "won", "lost"]

    def test_repr(self) -> None:
        """An outcome reprs as the name it is spelt with in code."""
        assert repr(Outcome.WON) == "Outcome.WON"


class TestDefaults:
    def test_name_defaults_to_key(self) -> None:
        """Without a name, the stage is displayed by its key."""
        stage = Stage("proposal")
        assert stage.name == "proposal"
        assert str(stage) == "proposal"

    def test_explicit_name(self) -> None:
        """A given name is kept and used by str()."""
        stage = Stage("proposal", "Proposal sent")
        assert stage.name == "Proposal sent"
        assert str(stage) == "Proposal sent"

    def test_open_by_default_with_unknown_probability(self) -> None:
        """A stage is open unless told otherwise, with no probability."""
        stage = Stage("demo")
        assert stage.outcome is Outcome.OPEN
        assert stage.probability is None
        assert stage.is_open
        assert not stage.is_terminal

    def test_won_stage_defaults_to_probability_one(self) -> None:
        """A won stage defaults to probability 1."""
        stage = Stage("won", outcome=Outcome.WON)
        assert stage.probability == 1.0
        assert stage.is_won
        assert stage.is_terminal
        assert not stage.is_open

    def test_lost_stage_defaults_to_probability_zero(self) -> None:
        """A lost stage defaults to probability 0."""
        stage = Stage("lost", outcome=Outcome.LOST)
        assert stage.probability == 0.0
        assert stage.is_lost
        assert stage.is_terminal
        assert not stage.is_won

    def test_rotting_after_defaults_to_none(self) -> None:
        """A stage never rots unless told to."""
        assert Stage("demo").rotting_after is None


class TestValidation:
    @pytest.mark.parametrize("outcome", ["open", "won", "lost"])
    def test_outcome_from_string(self, outcome: str) -> None:
        """The outcome may be given as its string value."""
        assert Stage("s", outcome=outcome).outcome is Outcome(outcome)

    def test_unknown_outcome_string(self) -> None:
        """An unknown outcome string raises ValueError listing the choices."""
        with pytest.raises(ValueError, match=r"'open', 'won', 'lost', got 'pending'"):
            Stage("s", outcome="pending")

    @pytest.mark.parametrize("probability", [0, 0.0, 0.35, 1, Decimal("0.5")])
    def test_probability_in_range(self, probability: float | Decimal) -> None:
        """Probabilities in [0, 1] are stored as floats."""
        stage = Stage("s", probability=probability)
        assert stage.probability == float(probability)
        assert type(stage.probability) is float

    @pytest.mark.parametrize("probability", [-0.01, 1.01, 60, float("nan"), float("inf")])
    def test_probability_out_of_range(self, probability: float) -> None:
        """A probability outside [0, 1] (or NaN) raises ValueError."""
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            Stage("s", probability=probability)

    def test_percentage_hint(self) -> None:
        """A percentage-looking probability gets a hint to divide by 100."""
        with pytest.raises(ValueError, match="divide percentages by 100"):
            Stage("s", probability=40)

    @pytest.mark.parametrize("probability", [True, "0.5"])
    def test_probability_of_wrong_type(self, probability: object) -> None:
        """A bool or string probability raises TypeError."""
        with pytest.raises(TypeError, match="probability"):
            Stage("s", probability=probability)

    def test_explicit_probability_on_won_stage_is_kept(self) -> None:
        """An explicit probability overrides the outcome's default."""
        assert Stage("won", outcome="won", probability=0.9).probability == 0.9

    def test_rotting_after(self) -> None:
        """A positive timedelta is kept as rotting_after."""
        assert Stage("s", rotting_after=timedelta(days=14)).rotting_after == timedelta(days=14)

    @pytest.mark.parametrize("rotting", [timedelta(0), timedelta(days=-1)])
    def test_rotting_after_must_be_positive(self, rotting: timedelta) -> None:
        """A zero or negative rotting_after raises ValueError."""
        with pytest.raises(ValueError, match="rotting_after must be positive"):
            Stage("s", rotting_after=rotting)

    def test_rotting_after_must_be_a_timedelta(self) -> None:
        """A number of days is refused: rotting_after must be a timedelta."""
        with pytest.raises(TypeError, match="timedelta"):
            Stage("s", rotting_after=14)

    @pytest.mark.parametrize("key", ["", "   "])
    def test_blank_key(self, key: str) -> None:
        """An empty or blank key raises ValueError naming the field."""
        with pytest.raises(ValueError, match="Stage key"):
            Stage(key)

    def test_non_string_key(self) -> None:
        """A key that is not a string raises TypeError."""
        with pytest.raises(TypeError, match="Stage key"):
            Stage(7)  # type: ignore[arg-type]

    def test_non_string_name(self) -> None:
        """A name that is not a string raises TypeError."""
        with pytest.raises(TypeError, match="Stage name"):
            Stage("s", 7)  # type: ignore[arg-type]


class TestValue:
    def test_frozen(self) -> None:
        """A stage cannot be changed in place."""
        stage = Stage("s")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            stage.key = "t"  # type: ignore[misc]

    def test_equal_and_hashable(self) -> None:
        """Stages built alike are equal and hash alike."""
        assert Stage("s", "S", probability=0.5) == Stage("s", "S", probability=0.5)
        assert hash(Stage("s", "S")) == hash(Stage("s", "S"))
        assert Stage("s", probability=0.5) != Stage("s", probability=0.6)

    def test_evolve_keeps_the_name(self) -> None:
        """attrs.evolve on a stage with a defaulted name keeps it equal to the key."""
        assert attrs.evolve(Stage("s"), probability=0.2) == Stage("s", "s", probability=0.2)


class TestRepr:
    def test_repr_minimal(self) -> None:
        """A plain open stage reprs as just its key."""
        assert repr(Stage("demo")) == "Stage('demo')"

    def test_repr_with_name_and_probability(self) -> None:
        """A name and probability appear in the repr."""
        assert (
            repr(Stage("proposal", "Proposal", probability=0.6))
            == "Stage('proposal', name='Proposal', probability=0.6)"
        )

    def test_repr_of_terminal_stages_omits_default_probability(self) -> None:
        """Won and lost stages show their outcome; the default probability is left out."""
        assert repr(Stage("won", outcome="won")) == "Stage('won', outcome=Outcome.WON)"
        assert (
            repr(Stage("lost", outcome="lost", probability=0.1))
            == "Stage('lost', outcome=Outcome.LOST, probability=0.1)"
        )

    def test_repr_with_rotting(self) -> None:
        """rotting_after appears in the repr."""
        assert (
            repr(Stage("s", rotting_after=timedelta(days=3)))
            == "Stage('s', rotting_after=datetime.timedelta(days=3))"
        )

    def test_repr_round_trips(self) -> None:
        """eval(repr(stage)) rebuilds an equal stage."""
        import datetime

        stage = Stage("k", "Name", outcome="lost", probability=0.2, rotting_after=timedelta(1))
        namespace = {"Stage": Stage, "Outcome": Outcome, "datetime": datetime}
        assert eval(repr(stage), namespace) == stage
