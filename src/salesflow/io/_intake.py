"""The intake: the neutral form a loader reads its format into, and the one builder.

A loader's job is only to read its format: for each deal, its
:class:`~salesflow._deal_info.DealInfo` and its stage events, each an
:class:`Event` with the line of the file it came from. :func:`build_deal`
then does what every source needs the same way: it orders the events,
assembles the deal with the model's trusted constructor and replays the
pipeline's structural rules, raising :class:`Refused` with the index of the
offending event, which the loader turns into a :class:`~salesflow.LoadError`
at that event's line (:meth:`Refused.at`).

To write a loader of your own, produce ``Event`` lists and a ``DealInfo`` per
deal and call ``build_deal``: the checks, the wording of refusals and the
ordering rule (time, then file order) are then those of every other loader.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple

from .._deal import Deal, assemble
from .._deal_info import DealInfo, EventMeta, Metas
from .._pipeline import Pipeline
from .._rules import earlier
from ..exceptions import LoadError, TransitionError

__all__ = [
    "Event",
    "Refused",
    "StageLabels",
    "build_bulk",
    "build_columns",
    "build_deal",
    "ordered",
]


class Event(NamedTuple):
    """One stage change as a loader read it."""

    at: datetime
    """When the deal entered the stage (timezone-aware)."""
    line: int
    """The 1-based line of the file it came from (0 when there is no file)."""
    stage: str
    """The stage key, already mapped from the file's label."""
    meta: EventMeta | None = None
    """Who, why and a note, when the source records any."""


class Refused(Exception):
    """The pipeline's rules refuse a built history; the loader says where."""

    def __init__(self, deal_id: str, event: int, reasons: Sequence[str]) -> None:
        super().__init__(deal_id, event, reasons)
        self.deal_id = deal_id
        self.event = event
        self.reasons = tuple(reasons)

    @property
    def why(self) -> str:
        """Every reason, in one clause."""
        return "; ".join(self.reasons)

    def at(self, events: Sequence[Event], *, what: str = "deal") -> LoadError:
        """A :class:`LoadError` at the line of the offending event (the file is set later)."""
        bad = events[self.event]
        return LoadError(
            f"{what} {self.deal_id!r}: {self.why}", file="", line=bad.line, value=bad.stage
        )


def ordered(events: Iterable[Event], *, collapse: bool = False) -> list[Event]:
    """*events* in time order, equal times in file order.

    With *collapse*, a repeat of the stage just entered (a save that did not
    move the deal) is dropped.
    """
    events = sorted(events, key=lambda e: (e.at, e.line))
    if collapse:
        events = [e for i, e in enumerate(events) if i == 0 or e.stage != events[i - 1].stage]
    return events


def build_deal(
    pipeline: Pipeline,
    deal_id: str,
    events: Sequence[Event],
    info: DealInfo,
    *,
    check: bool = True,
) -> Deal:
    """The one builder: assemble a deal from ordered *events* and check its history.

    Args:
        pipeline: The pipeline whose stage keys the events carry.
        deal_id: The deal's id (non-empty; the loader has checked it).
        events: The stage events, already in order (see :func:`ordered`).
        info: The deal's other fields, checked by the loader.
        check: Replay the pipeline's rules. Only a single placement event
            (a snapshot deal put at the cut-off, possibly in a closed stage)
            is built without: it records where the deal is, not a move.

    Returns:
        The deal.

    Raises:
        Refused: The history breaks a structural rule of *pipeline*.
    """
    found = tuple(e.meta for e in events)
    metas = found if any(found) else None
    stages = tuple(e.stage for e in events)
    times = tuple(e.at for e in events)
    if not check:
        return assemble(pipeline, deal_id, stages, times, metas, info)
    return build_columns(pipeline, deal_id, stages, times, metas, info)


def build_columns(
    pipeline: Pipeline,
    deal_id: str,
    stages: tuple[str, ...],
    times: tuple[datetime, ...],
    metas: Metas,
    info: DealInfo,
) -> Deal:
    """:func:`build_deal` for a loader that holds its events as columns (already in order).

    Raises:
        Refused: The history breaks a structural rule of *pipeline*.
    """
    deal = assemble(pipeline, deal_id, stages, times, metas, info)
    try:
        pipeline.check(deal)
    except TransitionError as exc:
        raise Refused(deal_id, exc.event or 0, exc.reasons) from None
    return deal


def build_bulk(
    pipeline: Pipeline,
    deal_id: str,
    stages: tuple[str, ...],
    times: tuple[datetime, ...],
    metas: Metas,
    info: DealInfo,
    *,
    paths: dict[tuple[str, ...], bool],
) -> Deal:
    """:func:`build_columns` for bulk loads: each distinct stage path is judged once.

    A history replays cleanly when it opens in an open stage, every move is
    one the rules allow without a reopen, and its times never go back; the
    first two depend only on the stage path, which most deals share, so
    *paths* (one dict per load) remembers them. Anything else takes the full
    replay of :func:`build_columns`, which says why.

    Raises:
        Refused: The history breaks a structural rule of *pipeline*.
    """
    clean = paths.get(stages)
    if clean is None:
        table = pipeline.table
        free = table.free
        clean = stages[0] in table.open_keys and all(move in free for move in pairwise(stages))
        paths[stages] = clean
    # Time order by instant, as the pipeline judges it (a repeated DST hour included).
    if clean and not any(map(earlier, times[1:], times[:-1])):
        return assemble(pipeline, deal_id, stages, times, metas, info)
    return build_columns(pipeline, deal_id, stages, times, metas, info)


class StageLabels:
    """Text in a file -> stage key, the one stage-label mapping every loader uses.

    A ``stage_map`` entry, then the key or name, then (with *fold*) a
    case-insensitive match when exactly one stage fits (HubSpot labels say
    'Closed Won' where the template's name is 'Closed won'). The CRM loaders
    fold by default; the events and snapshot loaders on request
    (``case_insensitive=True``).
    """

    def __init__(
        self, pipeline: Pipeline, stage_map: Mapping[str, str] | None, *, fold: bool = True
    ) -> None:
        self.pipeline = pipeline
        folded: dict[str, set[str]] = {}
        if fold:
            for s in pipeline.stages:
                for text in (s.key, s.name):
                    folded.setdefault(text.casefold(), set()).add(s.key)
        self.fold = fold
        self._folded = {t: next(iter(keys)) for t, keys in folded.items() if len(keys) == 1}
        self._cache: dict[str, str | None] = {}
        for text, ref in (stage_map or {}).items():
            # A target the pipeline lacks raises UnknownStageError before any row is read.
            self._cache[text] = pipeline.key(ref)

    def __call__(self, text: str) -> str | None:
        """The stage key *text* names, or ``None``."""
        found = self._cache.get(text, "")
        if found != "":
            return found
        key = self.pipeline.key(text) if text in self.pipeline else None
        key = key or self._folded.get(text.casefold())
        if len(self._cache) < 10_000:
            self._cache[text] = key
        return key

    def unknown(self, text: str, *, mapping: str = "stage_map={...}") -> str:
        """Why *text* is not a stage: the pipeline's stages, the closest one, the way out."""
        table = self.pipeline.table
        keys = list(table.by_key)
        choices = {n.casefold(): n for n in table.by_name}
        choices.update((k.casefold(), k) for k in keys)
        close = difflib.get_close_matches(text.casefold(), list(choices), n=1, cutoff=0.6)
        hint = f"; did you mean {choices[close[0]]!r}?" if close else ""
        fold = "" if self.fold else ", or match case-insensitively with case_insensitive=True"
        return (
            f"pipeline {self.pipeline.name!r} has no such stage; its stages are "
            f"{', '.join(map(repr, keys))}{hint} (map the file's labels with {mapping}{fold})"
        )
