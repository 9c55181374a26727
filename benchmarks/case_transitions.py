"""Case: live deals moved through the eight-stage pipeline, history recorded, rules checked.

Every deal is opened in Prospecting before the clock starts; a timed run then
advances all of them one stage, then all of them the next stage, seven times,
to Closed won (the deals are live together, as in a CRM). The seven
timestamps are made once and shared, so that what is timed is the state
machine, not ``datetime`` construction. The result of the first (warm-up) run
is checked before any run is timed: eight history entries with the right
stages and times for every deal, and a further ``advance`` refused.

Slow peers run on fewer deals (:data:`CAPS`); costs are compared per transition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from _config import Config, log
from _harness import SALESFLOW, Row, measure
from _machines import (
    ADVANCES,
    FLOW,
    BaselineDeal,
    StatemachineDeal,
    TransitionsDeal,
    machine_per_deal,
    new_transitions_deal,
    open_salesflow,
    reset_transitions_deal,
    shared_machine,
)
from statemachine.exceptions import TransitionNotAllowed
from transitions import Machine, MachineError

from salesflow import Deal, TransitionError

NAME = "transitions"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: When each of the seven moves happens (shared by every deal).
STEPS = tuple(START + timedelta(days=3 * k) for k in range(1, ADVANCES + 1))
EXPECTED = list(zip(FLOW, (START, *STEPS), strict=True))

SHARED = "transitions (shared Machine)"
PER_DEAL = "transitions (Machine per deal)"
PSM = "python-statemachine"
BASELINE = "plain Python (dict + list)"
#: The most deals each slow peer runs on. A Machine per deal costs tens of KB
#: and python-statemachine moves under 10,000 deals a second.
CAPS = {PER_DEAL: 10_000, PSM: 5_000}


def _ids(n: int) -> list[str]:
    return [f"D{i:07d}" for i in range(n)]


def _check(
    name: str,
    histories: list[list[tuple[str, datetime]]],
    refuse: Callable[[], object],
    errors: tuple[type[Exception], ...],
) -> None:
    """Every history is the expected one, and one more move is refused."""
    if not histories:
        msg = f"{name}: no deals were moved"
        raise AssertionError(msg)
    wrong = sum(1 for h in histories if h != EXPECTED)
    if wrong:
        msg = f"{name}: {wrong} of {len(histories)} deals have the wrong history"
        raise AssertionError(msg)
    try:
        refuse()
    except errors:
        return
    msg = f"{name}: advancing a closed deal was not refused"
    raise AssertionError(msg)


def _salesflow(config: Config) -> Row:
    n = config.deals
    opened = [open_salesflow(i, START) for i in _ids(n)]

    def run(deals: list[Deal]) -> list[Deal]:
        for at in STEPS:
            deals = [deal.advance(at=at) for deal in deals]
        return deals

    def check(result: list[Deal]) -> None:
        _check(
            SALESFLOW,
            [list(zip(d.stage_keys, d.stage_times, strict=True)) for d in result],
            lambda: result[0].advance(at=STEPS[-1]),
            (TransitionError,),
        )

    seconds = measure(run, repeat=config.repeat, setup=lambda: opened, check=check)
    return Row(NAME, SALESFLOW, n, n * ADVANCES, "transition", NAME, seconds)


def _mutable(
    config: Config,
    name: str,
    n: int,
    build: Callable[[list[str]], list[Any]],
    reset: Callable[[list[Any]], list[Any]] | None,
    advance: Callable[[Any, datetime], object],
    errors: tuple[type[Exception], ...],
) -> Row:
    """Time a peer whose deals change in place; *reset* (or a rebuild) restores them."""
    deals = build(_ids(n))

    def setup() -> list[Any]:
        return reset(deals) if reset is not None else build(_ids(n))

    def run(live: list[Any]) -> list[Any]:
        for at in STEPS:
            for deal in live:
                advance(deal, at)
        return live

    def check(result: list[Any]) -> None:
        _check(name, [d.history for d in result], lambda: advance(result[0], STEPS[-1]), errors)

    seconds = measure(run, repeat=config.repeat, setup=setup, check=check)
    return Row(NAME, name, n, n * ADVANCES, "transition", NAME, seconds)


def _shared(config: Config) -> Row:
    machine = shared_machine()

    def reset(deals: list[TransitionsDeal]) -> list[TransitionsDeal]:
        for deal in deals:
            reset_transitions_deal(machine, deal, START)
        return deals

    return _mutable(
        config,
        SHARED,
        config.deals,
        lambda ids: [new_transitions_deal(machine, i, START) for i in ids],
        reset,
        lambda deal, at: deal.advance(at),
        (MachineError,),
    )


def _baseline(config: Config) -> Row:
    def reset(deals: list[BaselineDeal]) -> list[BaselineDeal]:
        for deal in deals:
            deal.reset(START)
        return deals

    return _mutable(
        config,
        BASELINE,
        config.deals,
        lambda ids: [BaselineDeal(i, START) for i in ids],
        reset,
        BaselineDeal.advance,
        (KeyError,),
    )


def _per_deal(config: Config) -> Row:
    machines: dict[int, Machine] = {}

    def build(ids: list[str]) -> list[TransitionsDeal]:
        deals = [TransitionsDeal(i, START) for i in ids]
        machines.clear()
        machines.update((id(d), machine_per_deal(d)) for d in deals)
        return deals

    def reset(deals: list[TransitionsDeal]) -> list[TransitionsDeal]:
        for deal in deals:
            reset_transitions_deal(machines[id(deal)], deal, START)
        return deals

    return _mutable(
        config,
        PER_DEAL,
        config.cap(CAPS[PER_DEAL]),
        build,
        reset,
        lambda deal, at: deal.advance(at),
        (MachineError,),
    )


def _statemachine(config: Config) -> Row:
    # Its deals cannot be put back in Prospecting, so every run gets new ones.
    return _mutable(
        config,
        PSM,
        config.cap(CAPS[PSM]),
        lambda ids: [StatemachineDeal(i, START) for i in ids],
        None,
        lambda deal, at: deal.advance(at=at),
        (TransitionNotAllowed,),
    )


def run(config: Config) -> list[Row]:
    """Measure every implementation; return one row each."""
    rows = []
    for name, measure_one, n in (
        (SALESFLOW, _salesflow, config.deals),
        (BASELINE, _baseline, config.deals),
        (SHARED, _shared, config.deals),
        (PER_DEAL, _per_deal, config.cap(CAPS[PER_DEAL])),
        (PSM, _statemachine, config.cap(CAPS[PSM])),
    ):
        slow = " (add_model is quadratic: a slow set-up)" if name == SHARED else ""
        log(f"transitions: {name}, {n:,} deals{slow}")
        rows.append(measure_one(config))
    return rows
