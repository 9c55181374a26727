"""The eight-stage B2B pipeline written with each peer, plus a plain-Python baseline.

Every implementation holds the same thing per deal: an id, the current stage
and a history of ``(stage, at)`` entries, the first being the stage the deal
opened in. Each refuses a move its transition table does not allow:

* salesflow: ``Pipeline.open_deal`` and ``Deal.advance`` (immutable deals; the
  rules also check the time order and that ``at`` is timezone-aware);
* ``transitions``: ordered transitions on one shared ``Machine(model=None)``
  with ``add_model``, or one ``Machine`` per deal; history appended in an
  ``after_state_change`` callback;
* ``python-statemachine``: a ``StateMachine`` class with an ``advance`` event
  and an ``after_transition`` callback recording history;
* the baseline: ``next_stage[state]`` (a ``KeyError`` from a terminal stage)
  and a list append.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from statemachine import State, StateMachine
from transitions import Machine

from salesflow import Deal, Pipeline, templates

PIPELINE: Pipeline = templates.b2b()
#: The stage keys in pipeline order: seven open stages, Closed won, Closed lost.
KEYS: tuple[str, ...] = PIPELINE.keys
FLOW: tuple[str, ...] = KEYS[:8]  # Prospecting ... Negotiation, Closed won
FIRST = FLOW[0]
#: The moves of one deal's life: open, then advance seven times to Closed won.
ADVANCES = len(FLOW) - 1
NEXT_STAGE: dict[str, str] = dict(pairwise(FLOW))


# ------------------------------------------------------------------ salesflow


def open_salesflow(deal_id: str, at: datetime) -> Deal:
    """Open a salesflow deal in Prospecting."""
    return PIPELINE.open_deal(deal_id, at=at)


# ------------------------------------------------------------------ baseline


class BaselineDeal:
    """The least a deal can be: a slotted object, a dict lookup and a list."""

    __slots__ = ("history", "id", "state")

    def __init__(self, deal_id: str, at: datetime) -> None:
        self.id = deal_id
        self.state = FIRST
        self.history = [(FIRST, at)]

    def advance(self, at: datetime) -> None:
        """Move to the next stage (``KeyError`` from a terminal one) and record it."""
        self.state = nxt = NEXT_STAGE[self.state]
        self.history.append((nxt, at))

    def reset(self, at: datetime) -> None:
        """Back to Prospecting with a one-entry history."""
        self.state = FIRST
        self.history = [(FIRST, at)]


# ------------------------------------------------------------------ transitions


class TransitionsDeal:
    """A model for ``transitions``: the machine adds ``state`` and ``advance`` to it."""

    state: str

    def __init__(self, deal_id: str, at: datetime) -> None:
        self.id = deal_id
        self.history: list[tuple[str, datetime]] = [(FIRST, at)]

    def record(self, at: datetime) -> None:
        """``after_state_change`` callback: append the new stage and its time."""
        self.history.append((self.state, at))


def _machine(model: object) -> Machine:
    machine = Machine(
        model=model,
        states=list(KEYS),
        initial=FIRST,
        auto_transitions=False,
        after_state_change="record",
    )
    machine.add_ordered_transitions(list(FLOW), trigger="advance", loop=False)
    return machine


def shared_machine() -> Machine:
    """One ``Machine`` for every deal; deals join it with ``machine.add_model(deal)``."""
    return _machine(None)


def machine_per_deal(deal: TransitionsDeal) -> Machine:
    """A ``Machine`` of its own for *deal* (the pattern of the transitions README)."""
    return _machine(deal)


def new_transitions_deal(machine: Machine, deal_id: str, at: datetime) -> TransitionsDeal:
    """A deal added to the shared *machine*."""
    deal = TransitionsDeal(deal_id, at)
    machine.add_model(deal)
    return deal


def reset_transitions_deal(machine: Machine, deal: TransitionsDeal, at: datetime) -> None:
    """Back to Prospecting with a one-entry history."""
    machine.set_state(FIRST, model=deal)
    deal.history = [(FIRST, at)]


# ------------------------------------------------------------------ python-statemachine


class StatemachineDeal(StateMachine):
    """The pipeline as a ``python-statemachine`` class; each instance is one deal."""

    prospecting = State(KEYS[0], initial=True)
    lead_generation = State(KEYS[1])
    initial_contact = State(KEYS[2])
    needs_assessment = State(KEYS[3])
    solution_presentation = State(KEYS[4])
    proposal = State(KEYS[5])
    negotiation = State(KEYS[6])
    closed_won = State(KEYS[7], final=True)
    closed_lost = State(KEYS[8], final=True)

    advance = (
        prospecting.to(lead_generation)
        | lead_generation.to(initial_contact)
        | initial_contact.to(needs_assessment)
        | needs_assessment.to(solution_presentation)
        | solution_presentation.to(proposal)
        | proposal.to(negotiation)
        | negotiation.to(closed_won)
    )
    lose = (
        prospecting.to(closed_lost)
        | lead_generation.to(closed_lost)
        | initial_contact.to(closed_lost)
        | needs_assessment.to(closed_lost)
        | solution_presentation.to(closed_lost)
        | proposal.to(closed_lost)
        | negotiation.to(closed_lost)
    )

    def __init__(self, deal_id: str, at: datetime) -> None:
        self.id = deal_id
        self.history: list[tuple[str, datetime]] = [(FIRST, at)]
        super().__init__()

    def after_transition(self, target: State, at: datetime) -> None:
        """Record the stage entered (``at`` comes from ``deal.advance(at=...)``)."""
        self.history.append((target.name, at))
