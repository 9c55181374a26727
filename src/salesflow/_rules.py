"""The pipeline's rules: one named check per definition rule, one wording per move rule.

Definition rules (DESIGN §4) are checked when a :class:`~salesflow.Pipeline`
is built. Each is a ``_check_<rule>`` function of the pipeline that returns
the problems it finds, so each can be tested alone; :func:`validate` runs them
all and raises one :class:`~salesflow.InvalidPipelineError` that lists every
broken rule, as python-statemachine's factory does.

Move rules are worded here once, so that a live move (``can_move``,
``move_to``) and a replayed history (``check``) give the same sentence for
the same broken rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timezone
from typing import TYPE_CHECKING

import attrs

from ._moves import MoveKind, MoveTable
from ._stage import Stage
from .exceptions import InvalidPipelineError, UnknownStageError

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = [
    "MAX_STAGES",
    "Problem",
    "check_size",
    "earlier",
    "move_reasons",
    "reopen_reasons",
    "time_order_reason",
    "validate",
]


@attrs.frozen
class Problem:
    """One broken definition rule: which, in one sentence, and the stages at fault."""

    rule: str
    message: str
    stages: tuple[str, ...] = ()


def _keys(stages: tuple[Stage, ...]) -> tuple[str, ...]:
    return tuple(s.key for s in stages)


def _listed(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(map(repr, values))


# ------------------------------------------------------------ definition rules


def _check_has_stages(pipeline: Pipeline) -> list[Problem]:
    if pipeline.stages:
        return []
    msg = f"Pipeline {pipeline.name!r} has no stages; give at least one open and one won stage."
    return [Problem("has_stages", msg)]


def _check_unique_keys(pipeline: Pipeline) -> list[Problem]:
    keys = [s.key for s in pipeline.stages]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if not dupes:
        return []
    msg = f"Pipeline {pipeline.name!r} has duplicate stage keys: {_listed(dupes)}."
    return [Problem("unique_keys", msg, tuple(dupes))]


def _check_unique_names(pipeline: Pipeline) -> list[Problem]:
    names = [s.name for s in pipeline.stages]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if not dupes:
        return []
    msg = f"Pipeline {pipeline.name!r} has duplicate stage names: {_listed(dupes)}."
    # .stages holds keys: the keys of the stages sharing a name.
    return [Problem("unique_names", msg, tuple(s.key for s in pipeline.stages if s.name in dupes))]


def _check_unambiguous_names(pipeline: Pipeline) -> list[Problem]:
    keys = {s.key for s in pipeline.stages}
    clash = tuple(s.key for s in pipeline.stages if s.name in keys and s.name != s.key)
    if not clash:
        return []
    msg = (
        f"Pipeline {pipeline.name!r} has stages whose name is another stage's key: "
        f"{_listed(clash)}; lookups by name would be ambiguous."
    )
    return [Problem("unambiguous_names", msg, clash)]


def _check_has_open(pipeline: Pipeline) -> list[Problem]:
    if not pipeline.stages or pipeline.table.open_stages:
        return []
    msg = f"Pipeline {pipeline.name!r} has no open stage; deals need somewhere to start."
    return [Problem("has_open", msg, _keys(pipeline.stages))]


def _check_has_won(pipeline: Pipeline) -> list[Problem]:
    if not pipeline.stages or pipeline.table.won_stages:
        return []
    msg = f"Pipeline {pipeline.name!r} has no won stage; add a Stage(..., outcome='won')."
    return [Problem("has_won", msg, _keys(pipeline.stages))]


def _check_lose_from(pipeline: Pipeline) -> list[Problem]:
    if pipeline.lose_from is None:
        return []
    bad = [k for k in pipeline.lose_from if k not in pipeline.table.open_keys]
    if not bad:
        return []
    msg = f"Pipeline {pipeline.name!r} lose_from names stages that are not open stages: {bad!r}."
    return [Problem("lose_from", msg, tuple(bad))]


def _reachable(table: MoveTable, start: set[str], *, backward: bool = False) -> set[str]:
    # One walk over the allowed moves (reversed with *backward*): linear in the moves.
    edges: dict[str, set[str]] = {key: set() for key in table.by_key}
    for src, dst in table.free:
        if backward:
            edges[dst].add(src)
        else:
            edges[src].add(dst)
    seen = set(start)
    todo = list(start)
    while todo:
        for dst in edges[todo.pop()] - seen:
            seen.add(dst)
            todo.append(dst)
    return seen


def _check_reachable(pipeline: Pipeline) -> list[Problem]:
    # Deals may open in any open stage, so reachability starts from all of them.
    table = pipeline.table
    if not table.open_stages:
        return []  # _check_has_open says it
    seen = _reachable(table, set(table.open_keys))
    unreachable = tuple(s.key for s in pipeline.stages if s.key not in seen)
    if not unreachable:
        return []
    empty = pipeline.lose_from is not None and not pipeline.lose_from
    why = " (lose_from is empty)" if empty else ""
    msg = f"Pipeline {pipeline.name!r} has stages no deal can reach{why}: {_listed(unreachable)}."
    return [Problem("reachable", msg, unreachable)]


def _check_no_trap(pipeline: Pipeline) -> list[Problem]:
    # Every open stage must lead to a won or lost stage by allowed moves.
    table = pipeline.table
    if not table.won_stages:
        return []  # _check_has_won says it
    terminal = {s.key for s in (*table.won_stages, *table.lost_stages)}
    closing = _reachable(table, terminal, backward=True)  # the stages that lead to a close
    traps = tuple(s.key for s in table.open_stages if s.key not in closing)
    if not traps:
        return []
    msg = f"Pipeline {pipeline.name!r} has open stages from which no deal can close: {_listed(traps)}."
    return [Problem("no_trap", msg, traps)]


def _check_guards(pipeline: Pipeline) -> list[Problem]:
    problems = []
    for guard in pipeline.guards:
        check: Callable[[Pipeline], None] | None = getattr(guard, "check_pipeline", None)
        if check is None:
            continue
        try:
            check(pipeline)
        except UnknownStageError as exc:
            msg = f"Pipeline {pipeline.name!r} has a guard {guard!r} for an unknown stage."
            problems.append(Problem("guards", msg, (str(exc.stage),)))
    return problems


#: Every definition rule, in the order its problems are reported.
RULES: tuple[Callable[[Pipeline], list[Problem]], ...] = (
    _check_has_stages,
    _check_unique_keys,
    _check_unique_names,
    _check_unambiguous_names,
    _check_has_open,
    _check_has_won,
    _check_lose_from,
    _check_reachable,
    _check_no_trap,
    _check_guards,
)


def problems(pipeline: Pipeline) -> list[Problem]:
    """Every broken definition rule of *pipeline*, in :data:`RULES` order."""
    found = []
    for rule in RULES:
        found.extend(rule(pipeline))
    return found


def validate(pipeline: Pipeline) -> None:
    """Raise one :class:`InvalidPipelineError` listing every broken rule, if any."""
    found = problems(pipeline)
    if not found:
        return
    if len(found) == 1:
        msg = found[0].message
    else:
        listed = " ".join(f"({i}) {p.message}" for i, p in enumerate(found, 1))
        msg = f"Pipeline {pipeline.name!r} breaks {len(found)} rules: {listed}"
    stages = tuple(dict.fromkeys(s for p in found for s in p.stages))
    raise InvalidPipelineError(
        msg,
        stages=stages,
        problems=tuple(p.message for p in found),
        rules=tuple(p.rule for p in found),
    )


#: The most stages a pipeline may have. The move table holds a kind for every
#: pair of stages, so its size grows with the square of the stage count; real
#: pipelines have a few dozen stages (HubSpot allows 100 per pipeline).
MAX_STAGES = 250


def check_size(name: str, count: int) -> None:
    """Refuse a pipeline of more than :data:`MAX_STAGES` stages, before its table is built."""
    if count <= MAX_STAGES:
        return
    msg = (
        f"Pipeline {name!r} has {count} stages, more than the {MAX_STAGES} a pipeline may have; "
        "split it into several pipelines."
    )
    raise InvalidPipelineError(msg, stages=(), problems=(msg,), rules=("max_stages",))


# ------------------------------------------------------------------ move rules


def move_reasons(table: MoveTable, source: str, target: str) -> list[str]:
    """Why the structural rules refuse the move (empty when they allow it)."""
    if (source, target) in table.free:
        return []
    kind = table.kinds[source, target]
    if kind is MoveKind.SAME:
        return [f"it is already in {target!r}"]
    if kind is MoveKind.TERMINAL:
        return [f"{source!r} is a terminal stage; use reopen() first"]
    if kind is MoveKind.SKIP:
        return [
            f"it would skip {_listed(table.skipped(source, target))}; "
            "the pipeline does not allow skips"
        ]
    if kind is MoveKind.BACK:
        return ["the pipeline does not allow moving back"]
    return [f"the pipeline does not allow losing a deal from {source!r}"]


def reopen_reasons(
    table: MoveTable, source: str, target: Stage, *, allow_reopen: bool
) -> list[str]:
    """Why reopening from *source* into *target* is refused (empty when allowed)."""
    reasons = []
    if source in table.open_keys:
        reasons.append(f"it is still open in {source!r}; reopen() applies to closed deals")
    elif not allow_reopen:
        reasons.append("the pipeline does not allow reopening closed deals")
    if not target.is_open:
        reasons.append(f"{target.key!r} is not an open stage")
    return reasons


def earlier(a: datetime, b: datetime) -> bool:
    """True when aware *a* is an earlier instant than aware *b*.

    Python compares two datetimes with the same ``tzinfo`` object by wall
    time and ignores ``fold``, so in the hour that repeats when clocks go
    back, ``01:45`` (first pass) would count as later than ``01:30``
    (second pass, an hour later in fact). Those are compared in UTC; fixed
    offsets and different zones are already compared by instant.
    """
    zone = a.tzinfo
    if zone is not b.tzinfo or type(zone) is timezone:
        return a < b
    return a.astimezone(UTC) < b.astimezone(UTC)


def time_order_reason(at: datetime, last: datetime) -> str | None:
    """Why a stage change at *at* may not follow one at *last* (``None`` when it may).

    Times are compared as instants (see :func:`earlier`).
    """
    if not earlier(at, last):
        return None
    return f"{at.isoformat()} is before the deal's last stage change at {last.isoformat()}"
