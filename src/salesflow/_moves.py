"""The move table: what a pipeline's stages and rules say about every move.

A :class:`~salesflow.Pipeline` builds one :class:`MoveTable` when it is
created and shares it with everything that reads deals in bulk. The table is
the model's interface to the rest of the package: metrics, loaders and
renderers look stages up here (``pipeline.table``) instead of reaching into
the pipeline's private fields, and the pipeline's own rules read the same
table, so both sides agree on what each move is.

Building the table never fails: a pipeline that breaks a rule (no won stage,
duplicate keys) still gets a table, so that every broken rule can be found
and reported at once by :mod:`salesflow._rules`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from ._stage import Outcome, Stage

__all__ = ["MoveKind", "MoveTable", "build_table"]


class MoveKind(enum.Enum):
    """What a move from one stage to another is, before any rule is applied.

    Whether a kind is allowed depends on the pipeline's options:
    ``NEXT``, ``WIN`` and ``LOSE`` always are; ``SKIP`` with ``allow_skip``;
    ``BACK`` with ``allow_backward``; ``SAME``, ``TERMINAL`` and
    ``LOSE_BLOCKED`` never are (leaving a terminal stage takes a reopen).
    """

    NEXT = "next"
    """To the open stage right after the source (or from the last open stage to a won one)."""
    SKIP = "skip"
    """Forward past at least one open stage."""
    BACK = "back"
    """To an earlier open stage."""
    SAME = "same"
    """To the stage the deal is already in."""
    WIN = "win"
    """From an open stage to a won stage."""
    LOSE = "lose"
    """From an open stage, listed in ``lose_from``, to a lost stage."""
    TERMINAL = "terminal"
    """From a won or lost stage to any other stage (only a reopen may leave it)."""
    LOSE_BLOCKED = "lose_blocked"
    """From an open stage not listed in ``lose_from`` to a lost stage."""

    def __repr__(self) -> str:
        return f"MoveKind.{self.name}"


_ALWAYS = frozenset({MoveKind.NEXT, MoveKind.WIN, MoveKind.LOSE})


@attrs.frozen(repr=False)
class MoveTable:
    """Lookups derived once from a pipeline's stages and rules.

    Read it through :attr:`Pipeline.table <salesflow.Pipeline.table>`. The
    mappings are typed read-only; they are plain dicts because metrics look
    them up once per event, and must not be changed.

    Attributes:
        by_key: Stage key -> stage.
        by_name: Stage display name -> stage.
        open_stages: The open stages, in order.
        won_stages: The won stages, in order.
        lost_stages: The lost stages, in order.
        open_keys: The keys of the open stages.
        rank: Stage key -> place in the progression: 0, 1, … for open stages,
            one past the last open stage for won stages, ``None`` for lost
            stages (losing is never progress).
        next: Open stage key -> the key :meth:`Deal.advance` moves to (the
            first won stage after the last open stage).
        kinds: ``(source key, target key)`` -> :class:`MoveKind`.
        free: The moves the structural rules allow without a reopen.

    Two tables are equal when every lookup is; the mappings are left out of the hash.
    """

    by_key: Mapping[str, Stage] = attrs.field(hash=False)
    by_name: Mapping[str, Stage] = attrs.field(hash=False)
    open_stages: tuple[Stage, ...]
    won_stages: tuple[Stage, ...]
    lost_stages: tuple[Stage, ...]
    open_keys: frozenset[str]
    rank: Mapping[str, int | None] = attrs.field(hash=False)
    next: Mapping[str, str] = attrs.field(hash=False)
    kinds: Mapping[tuple[str, str], MoveKind] = attrs.field(hash=False)
    free: frozenset[tuple[str, str]]

    def skipped(self, source: str, target: str) -> list[str]:
        """The open stages strictly between *source* and *target*, in order."""
        low, high = self.rank[source] or 0, self.rank[target] or 0
        return [k for k, r in self.rank.items() if r is not None and low < r < high]

    def __repr__(self) -> str:
        return f"<MoveTable of {len(self.by_key)} stages, {len(self.free)} free moves>"


def classify(
    source: Stage, target: Stage, rank: Mapping[str, int | None], lose_from: set[str]
) -> MoveKind:
    """The kind of the move from *source* to *target*."""
    if source.key == target.key:
        return MoveKind.SAME
    if source.is_terminal:
        return MoveKind.TERMINAL
    if target.is_won:
        return MoveKind.WIN
    if target.is_lost:
        return MoveKind.LOSE if source.key in lose_from else MoveKind.LOSE_BLOCKED
    step = rank[target.key] - rank[source.key]  # type: ignore[operator]
    return MoveKind.NEXT if step == 1 else MoveKind.SKIP if step > 1 else MoveKind.BACK


def build_table(
    stages: Iterable[Stage],
    *,
    allow_skip: bool,
    allow_backward: bool,
    lose_from: Iterable[str] | None,
) -> MoveTable:
    """Derive the move table; tolerant of broken definitions (see the module doc)."""
    stages = tuple(stages)
    by_outcome = tuple(
        tuple(s for s in stages if s.outcome is o)
        for o in (Outcome.OPEN, Outcome.WON, Outcome.LOST)
    )
    open_keys = [s.key for s in by_outcome[0]]
    won_keys = [s.key for s in by_outcome[1]]
    rank: dict[str, int | None] = {k: i for i, k in enumerate(open_keys)}
    rank.update((k, len(open_keys)) for k in won_keys)
    rank.update((s.key, None) for s in by_outcome[2])
    # Without a won stage the last open stage has no next stage; _rules reports it.
    nxt = dict(zip(open_keys, [*open_keys[1:], *won_keys[:1]], strict=False))
    losable = set(open_keys if lose_from is None else lose_from)
    kinds = {
        (src.key, dst.key): classify(src, dst, rank, losable) for src in stages for dst in stages
    }
    allowed = set(_ALWAYS)
    if allow_skip:
        allowed.add(MoveKind.SKIP)
    if allow_backward:
        allowed.add(MoveKind.BACK)
    return MoveTable(
        by_key={s.key: s for s in stages},
        by_name={s.name: s for s in stages},
        open_stages=by_outcome[0],
        won_stages=by_outcome[1],
        lost_stages=by_outcome[2],
        open_keys=frozenset(open_keys),
        rank=rank,
        next=nxt,
        kinds=kinds,
        free=frozenset(pair for pair, kind in kinds.items() if kind in allowed),
    )
