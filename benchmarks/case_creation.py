"""Cases: how fast deals are created, and how much memory a deal with its history takes.

*creation* times opening deals in Prospecting (ids made beforehand, one
shared timestamp): ``pipeline.open_deal`` for salesflow, ``add_model`` on one
shared ``transitions`` Machine, a ``Machine`` per deal, a
``python-statemachine`` instance, and the baseline's constructor.

*memory* builds deals with an eight-entry history (opened, then advanced seven
times to Closed won) under ``tracemalloc`` and reports the bytes still held
per deal. Everything the deals keep is counted alike for every
implementation: the id strings, the eight ``datetime`` objects per deal
(made inside the measured block), the list holding the deals, and a shared
machine amortised over its deals.

Slow peers run on fewer deals (:data:`CAPS`), reported in the ``n`` column.
``add_model`` checks ``model not in machine.models`` (a list), so creating
deals on a shared ``transitions`` machine slows down as it fills: its rate
here, at 10,000 deals, is its best case.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from datetime import UTC, datetime, timedelta

from _config import Config, log
from _harness import SALESFLOW, Row, measure, traced_bytes
from _machines import (
    ADVANCES,
    BaselineDeal,
    StatemachineDeal,
    TransitionsDeal,
    machine_per_deal,
    new_transitions_deal,
    open_salesflow,
    shared_machine,
)

CREATION = "creation"
MEMORY = "memory"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

SHARED = "transitions (shared Machine)"
PER_DEAL = "transitions (Machine per deal)"
PSM = "python-statemachine"
BASELINE = "plain Python (dict + list)"
#: The most deals each slow peer is created or measured with.
CAPS = {SHARED: 10_000, PER_DEAL: 2_000, PSM: 2_000}


def _ids(n: int) -> list[str]:
    return [f"D{i:07d}" for i in range(n)]


# ------------------------------------------------------------------ creation


def _creation_row(config: Config, name: str, n: int, run: Callable[[list[str]], Sized]) -> Row:
    ids = _ids(n)

    def check(deals: Sized) -> None:
        if len(deals) != n:
            msg = f"{name}: created {len(deals):,} deals, not {n:,}"
            raise AssertionError(msg)

    seconds = measure(lambda _: run(ids), repeat=config.repeat, check=check)
    row = Row(CREATION, name, n, n, "deal", CREATION, seconds)
    row.note = f"{1 / row.per_item:,.0f} deals/s"
    return row


def creation(config: Config) -> list[Row]:
    """Deals created per second, per implementation."""
    log(f"creation: {config.deals:,} deals (peers capped at {CAPS})")

    def with_shared_machine(ids: list[str]) -> list[TransitionsDeal]:
        machine = shared_machine()
        return [new_transitions_deal(machine, i, START) for i in ids]

    return [
        _creation_row(
            config, SALESFLOW, config.deals, lambda ids: [open_salesflow(i, START) for i in ids]
        ),
        _creation_row(
            config, BASELINE, config.deals, lambda ids: [BaselineDeal(i, START) for i in ids]
        ),
        _creation_row(config, SHARED, config.cap(CAPS[SHARED]), with_shared_machine),
        _creation_row(
            config,
            PER_DEAL,
            config.cap(CAPS[PER_DEAL]),
            lambda ids: [machine_per_deal(TransitionsDeal(i, START)) for i in ids],
        ),
        _creation_row(
            config,
            PSM,
            config.cap(CAPS[PSM]),
            lambda ids: [StatemachineDeal(i, START) for i in ids],
        ),
    ]


# ------------------------------------------------------------------ memory


def _history_times(i: int) -> list[datetime]:
    """Eight new datetime objects: deal *i*'s opening and its seven moves."""
    opened = START + timedelta(minutes=i)
    return [opened + timedelta(days=3 * k) for k in range(ADVANCES + 1)]


def _salesflow(n: int) -> object:
    deals = []
    for i in range(n):
        first, *moves = _history_times(i)
        deal = open_salesflow(f"D{i:07d}", first)
        for at in moves:
            deal = deal.advance(at=at)
        deals.append(deal)
    return deals


def _baseline(n: int) -> object:
    deals = []
    for i in range(n):
        first, *moves = _history_times(i)
        deal = BaselineDeal(f"D{i:07d}", first)
        for at in moves:
            deal.advance(at)
        deals.append(deal)
    return deals


def _shared(n: int) -> object:
    machine = shared_machine()
    deals = []
    for i in range(n):
        first, *moves = _history_times(i)
        deal = new_transitions_deal(machine, f"D{i:07d}", first)
        for at in moves:
            deal.advance(at)  # type: ignore[attr-defined]
        deals.append(deal)
    return machine, deals


def _per_deal(n: int) -> object:
    deals = []
    for i in range(n):
        first, *moves = _history_times(i)
        deal = TransitionsDeal(f"D{i:07d}", first)
        machine = machine_per_deal(deal)
        for at in moves:
            deal.advance(at)  # type: ignore[attr-defined]
        deals.append((deal, machine))
    return deals


def _statemachine(n: int) -> object:
    deals = []
    for i in range(n):
        first, *moves = _history_times(i)
        deal = StatemachineDeal(f"D{i:07d}", first)
        for at in moves:
            deal.advance(at=at)
        deals.append(deal)
    return deals


def memory(config: Config) -> list[Row]:
    """Bytes per deal with an eight-entry history, per implementation."""
    log(f"memory: {config.deals:,} deals (peers capped at {CAPS})")
    builds: list[tuple[str, int, Callable[[int], object]]] = [
        (SALESFLOW, config.deals, _salesflow),
        (BASELINE, config.deals, _baseline),
        (SHARED, config.cap(CAPS[SHARED]), _shared),
        (PER_DEAL, config.cap(CAPS[PER_DEAL]), _per_deal),
        (PSM, config.cap(CAPS[PSM]), _statemachine),
    ]
    return [
        Row(MEMORY, name, n, n, "deal", MEMORY, bytes=traced_bytes(lambda b=build, k=n: b(k)))
        for name, n, build in builds
    ]


def run(config: Config) -> list[Row]:
    """Both cases."""
    return creation(config) + memory(config)
