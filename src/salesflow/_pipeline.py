"""The pipeline: an immutable, validated state machine shared by its deals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ._checks import aware, is_text, text
from ._deal import Deal
from ._money import Money
from ._stage import Outcome, Stage
from .exceptions import InvalidPipelineError, TransitionError, UnknownStageError

if TYPE_CHECKING:
    from .typing import Guard

__all__ = ["Pipeline", "Verdict"]

# Moves between two stages, classified once when the pipeline is built.
_NEXT, _SKIP, _BACK, _SAME, _WIN, _LOSE, _TERMINAL, _LOSE_BLOCKED = range(8)


@attrs.frozen
class Verdict:
    """The answer to "may this deal move there?": truthy when it may.

    Attributes:
        source: The key of the deal's current stage.
        target: The key of the stage asked about.
        reasons: Why the move is refused; empty when it is allowed.
    """

    source: str
    target: str
    reasons: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when the move is allowed."""
        return not self.reasons

    def __bool__(self) -> bool:
        return not self.reasons


def _to_stages(value: Iterable[Stage | str]) -> tuple[Stage, ...]:
    if isinstance(value, str | Stage):
        msg = f"Pipeline stages must be a sequence of Stage or str, got the single value {value!r}."
        raise TypeError(msg)
    return tuple(s if isinstance(s, Stage) else Stage(s) for s in value)


def _to_guards(value: Iterable[Guard]) -> tuple[Guard, ...]:
    guards = tuple(value)
    for guard in guards:
        if not callable(guard):
            msg = f"Pipeline guards must be callables (deal, target, at) -> str | None, got {guard!r}."
            raise TypeError(msg)
    return guards


def _to_keys(value: Iterable[Stage | str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | Stage):
        value = [value]
    return tuple(s.key if isinstance(s, Stage) else text("lose_from stage", s) for s in value)


@attrs.frozen(repr=False, cache_hash=True)
class Pipeline:
    """An ordered set of stages and the rules for moving deals between them.

    A pipeline is built once, validated, and shared by every deal in it. Open
    stages are worked through in the order given; won and lost stages are
    terminal. A deal may be lost from any open stage (unless ``lose_from``
    says otherwise) and won from any open stage: closing is never a skip.

    Attributes:
        name: The pipeline's name.
        stages: The stages, in order; a string stands for an open stage with
            that key.
        allow_skip: Allow moving forward past open stages.
        allow_backward: Allow moving back to an earlier open stage.
        allow_reopen: Allow :meth:`Deal.reopen` to leave a terminal stage.
        lose_from: The open stages from which a deal may be lost; ``None``
            (the default) means all of them.
        guards: Callables ``(deal, target, at) -> str | None`` asked before
            every move; see :class:`salesflow.typing.Guard`.

    Raises:
        InvalidPipelineError: No open or no won stage, duplicate keys or
            names, a stage that cannot be reached, or a guard naming an
            unknown stage. ``.stages`` names the offending stages.

    Examples:
        >>> from salesflow import Pipeline
        >>> p = Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        >>> [s.key for s in p.stages]
        ['Lead', 'Demo', 'Proposal', 'Closed won', 'Closed lost']
        >>> p.stage("Demo").is_open
        True
    """

    name: str = attrs.field(validator=is_text)
    stages: tuple[Stage, ...] = attrs.field(converter=_to_stages)
    allow_skip: bool = attrs.field(default=False, kw_only=True)
    allow_backward: bool = attrs.field(default=True, kw_only=True)
    allow_reopen: bool = attrs.field(default=True, kw_only=True)
    lose_from: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_to_keys)
    guards: tuple[Guard, ...] = attrs.field(default=(), kw_only=True, converter=_to_guards)

    # Derived once, never compared: lookups by key, ranks, and the move table.
    _by_key: dict[str, Stage] = attrs.field(init=False, eq=False, repr=False)
    _by_outcome: tuple[tuple[Stage, ...], ...] = attrs.field(init=False, eq=False, repr=False)
    _open_keys: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _by_name: dict[str, Stage] = attrs.field(init=False, eq=False, repr=False)
    _rank: dict[str, int | None] = attrs.field(init=False, eq=False, repr=False)
    _next: dict[str, str] = attrs.field(init=False, eq=False, repr=False)
    _moves: dict[tuple[str, str], int] = attrs.field(init=False, eq=False, repr=False)
    _free: frozenset[tuple[str, str]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._validate_stages()
        set_ = object.__setattr__
        open_keys = [s.key for s in self.stages if s.is_open]
        won_keys = [s.key for s in self.stages if s.is_won]
        rank: dict[str, int | None] = {k: i for i, k in enumerate(open_keys)}
        rank.update((k, len(open_keys)) for k in won_keys)
        rank.update((s.key, None) for s in self.stages if s.is_lost)
        nxt = dict(zip(open_keys, [*open_keys[1:], won_keys[0]], strict=True))
        set_(self, "_by_key", {s.key: s for s in self.stages})
        set_(
            self,
            "_by_outcome",
            tuple(
                tuple(s for s in self.stages if s.outcome is o)
                for o in (Outcome.OPEN, Outcome.WON, Outcome.LOST)
            ),
        )
        set_(self, "_by_name", {s.name: s for s in self.stages})
        set_(self, "_rank", rank)
        set_(self, "_open_keys", frozenset(open_keys))
        set_(self, "_next", nxt)
        lose_from = set(open_keys if self.lose_from is None else self.lose_from)
        moves: dict[tuple[str, str], int] = {}
        for src in self.stages:
            for dst in self.stages:
                moves[src.key, dst.key] = self._classify(src, dst, rank, lose_from)
        set_(self, "_moves", moves)
        allowed = {_NEXT, _WIN, _LOSE}
        allowed |= {_SKIP} if self.allow_skip else set()
        allowed |= {_BACK} if self.allow_backward else set()
        set_(self, "_free", frozenset(pair for pair, kind in moves.items() if kind in allowed))
        self._validate_graph(open_keys, lose_from)
        for guard in self.guards:
            check = getattr(guard, "check_pipeline", None)
            if check is not None:
                try:
                    check(self)
                except UnknownStageError as exc:
                    msg = f"Pipeline {self.name!r} has a guard {guard!r} for an unknown stage."
                    raise InvalidPipelineError(msg, stages=(str(exc.stage),)) from exc

    @staticmethod
    def _classify(
        src: Stage, dst: Stage, rank: Mapping[str, int | None], lose_from: set[str]
    ) -> int:
        if src.key == dst.key:
            return _SAME
        if src.is_terminal:
            return _TERMINAL
        if dst.is_won:
            return _WIN
        if dst.is_lost:
            return _LOSE if src.key in lose_from else _LOSE_BLOCKED
        step = rank[dst.key] - rank[src.key]  # type: ignore[operator]
        return _NEXT if step == 1 else _SKIP if step > 1 else _BACK

    def _validate_stages(self) -> None:
        name = self.name
        if not self.stages:
            msg = f"Pipeline {name!r} has no stages; give at least one open and one won stage."
            raise InvalidPipelineError(msg)
        for attr in ("key", "name"):
            values = [getattr(s, attr) for s in self.stages]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                msg = (
                    f"Pipeline {name!r} has duplicate stage {attr}s: {', '.join(map(repr, dupes))}."
                )
                # .stages holds keys: for duplicate names, the keys of the stages sharing them.
                offending = (
                    dupes if attr == "key" else [s.key for s in self.stages if s.name in dupes]
                )
                raise InvalidPipelineError(msg, stages=offending)
        keys = {s.key for s in self.stages}
        clash = [s.key for s in self.stages if s.name in keys and s.name != s.key]
        if clash:
            msg = (
                f"Pipeline {name!r} has stages whose name is another stage's key: "
                f"{', '.join(map(repr, clash))}; lookups by name would be ambiguous."
            )
            raise InvalidPipelineError(msg, stages=clash)
        if not any(s.is_open for s in self.stages):
            msg = f"Pipeline {name!r} has no open stage; deals need somewhere to start."
            raise InvalidPipelineError(msg, stages=[s.key for s in self.stages])
        if not any(s.is_won for s in self.stages):
            msg = f"Pipeline {name!r} has no won stage; add a Stage(..., outcome='won')."
            raise InvalidPipelineError(msg, stages=[s.key for s in self.stages])
        if self.lose_from is not None:
            bad = [k for k in self.lose_from if k not in keys or not self._stage_by_key(k).is_open]
            if bad:
                msg = f"Pipeline {name!r} lose_from names stages that are not open stages: {bad!r}."
                raise InvalidPipelineError(msg, stages=bad)

    def _stage_by_key(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)

    def _validate_graph(self, open_keys: list[str], lose_from: set[str]) -> None:
        # Deals may open in any open stage, so reachability starts from all of them.
        edges: dict[str, set[str]] = {s.key: set() for s in self.stages}
        for src, dst in self._free:
            edges[src].add(dst)
        seen = set(open_keys)
        todo = list(open_keys)
        while todo:
            for dst in edges[todo.pop()] - seen:
                seen.add(dst)
                todo.append(dst)
        unreachable = [s.key for s in self.stages if s.key not in seen]
        if unreachable:
            why = " (lose_from is empty)" if not lose_from else ""
            msg = (
                f"Pipeline {self.name!r} has stages no deal can reach{why}: "
                f"{', '.join(map(repr, unreachable))}."
            )
            raise InvalidPipelineError(msg, stages=unreachable)

    # ----------------------------------------------------------------- lookups

    @classmethod
    def linear(
        cls,
        name: str,
        open_stages: Sequence[Stage | str],
        *,
        won: Stage | str = "Closed won",
        lost: Stage | str | None = "Closed lost",
        probabilities: Sequence[float | Decimal | None] | None = None,
        allow_skip: bool = False,
        allow_backward: bool = True,
        allow_reopen: bool = True,
        lose_from: Iterable[Stage | str] | None = None,
        guards: Iterable[Guard] = (),
    ) -> Pipeline:
        """Build a pipeline of open stages in order, then one won and one lost stage.

        Args:
            name: The pipeline's name.
            open_stages: The open stages in order, as keys or ``Stage`` objects.
            won: The won stage (a key or a ``Stage``).
            lost: The lost stage, or ``None`` for a pipeline with no lost stage.
            probabilities: One win probability per open stage (fractions in
                [0, 1]); overrides the probabilities of the given stages.
            allow_skip: As for :class:`Pipeline`.
            allow_backward: As for :class:`Pipeline`.
            allow_reopen: As for :class:`Pipeline`.
            lose_from: As for :class:`Pipeline`.
            guards: As for :class:`Pipeline`.

        Raises:
            ValueError: *probabilities* does not have one entry per open stage.
            InvalidPipelineError: The stages break a pipeline rule.
        """
        stages = [s if isinstance(s, Stage) else Stage(s) for s in open_stages]
        if probabilities is not None:
            probs = list(probabilities)
            if len(probs) != len(stages):
                msg = (
                    f"Pipeline.linear() got {len(probs)} probabilities for "
                    f"{len(stages)} open stages; give one per open stage."
                )
                raise ValueError(msg)
            stages = [attrs.evolve(s, probability=p) for s, p in zip(stages, probs, strict=True)]
        stages.append(won if isinstance(won, Stage) else Stage(won, outcome=Outcome.WON))
        if lost is not None:
            stages.append(lost if isinstance(lost, Stage) else Stage(lost, outcome=Outcome.LOST))
        return cls(
            name,
            stages,
            allow_skip=allow_skip,
            allow_backward=allow_backward,
            allow_reopen=allow_reopen,
            lose_from=lose_from,
            guards=guards,
        )

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages, in order."""
        return self._by_outcome[0]

    @property
    def won_stages(self) -> tuple[Stage, ...]:
        """The won stages, in order."""
        return self._by_outcome[1]

    @property
    def lost_stages(self) -> tuple[Stage, ...]:
        """The lost stages, in order."""
        return self._by_outcome[2]

    @property
    def keys(self) -> tuple[str, ...]:
        """The stage keys, in order."""
        return tuple(self._by_key)

    def stage(self, ref: Stage | str) -> Stage:
        """The stage with this key (or, failing that, this display name).

        Raises:
            UnknownStageError: No stage has that key or name, or a ``Stage``
                object that is not this pipeline's was given.
        """
        if isinstance(ref, Stage):
            found = self._by_key.get(ref.key)
            if found == ref:
                return found
        else:
            found = self._by_key.get(ref) or self._by_name.get(ref)
            if found is not None:
                return found
        raise UnknownStageError(ref, pipeline=self.name, known=self.keys)

    def _key(self, ref: Stage | str) -> str:
        if type(ref) is str and ref in self._by_key:
            return ref
        return self.stage(ref).key

    def __contains__(self, ref: object) -> bool:
        if isinstance(ref, Stage):
            return self._by_key.get(ref.key) == ref
        return ref in self._by_key or ref in self._by_name

    def rank(self, ref: Stage | str) -> int | None:
        """A stage's place in the progression: 0, 1, … for open stages in order;
        one past the last open stage for every won stage; ``None`` for lost
        stages, which are not progress."""
        return self._rank[self._key(ref)]

    def next_stage(self, ref: Stage | str) -> Stage | None:
        """The stage that :meth:`Deal.advance` moves to from *ref* (``None`` from
        a terminal stage)."""
        key = self._next.get(self._key(ref))
        return None if key is None else self._by_key[key]

    def probability(self, ref: Stage | str) -> float | None:
        """The stage's default win probability (fraction), or ``None`` if unknown."""
        return self.stage(ref).probability

    # ------------------------------------------------------------- the rules

    def _structural(self, source: str, target: str) -> list[str]:
        kind = self._moves[source, target]
        if (source, target) in self._free:
            return []
        if kind == _SAME:
            return [f"it is already in {target!r}"]
        if kind == _TERMINAL:
            return [f"{source!r} is a terminal stage; use reopen() first"]
        if kind == _SKIP:
            # Both are open stages, so both ranks are ints.
            low, high = self._rank[source] or 0, self._rank[target] or 0
            skipped = [k for k, r in self._rank.items() if r is not None and low < r < high]
            return [
                f"it would skip {', '.join(map(repr, skipped))}; the pipeline does not allow skips"
            ]
        if kind == _BACK:
            return ["the pipeline does not allow moving back"]
        return [f"the pipeline does not allow losing a deal from {source!r}"]

    def _reasons(
        self, deal: Deal, target: Stage, at: datetime | None, *, reopen: bool = False
    ) -> list[str]:
        source = deal._stages[-1]
        if reopen:
            reasons = self._reopen_reasons(source, target)
        else:
            reasons = self._structural(source, target.key)
        last = deal._times[-1]
        if at is None:
            at = last
        elif at < last:
            reasons.append(
                f"{at.isoformat()} is before the deal's last stage change at {last.isoformat()}"
            )
        for guard in self.guards:
            why = guard(deal, target, at)
            if why:
                reasons.append(why)
        return reasons

    def _reopen_reasons(self, source: str, target: Stage) -> list[str]:
        reasons = []
        if not self._by_key[source].is_terminal:
            reasons.append(f"it is still open in {source!r}; reopen() applies to closed deals")
        elif not self.allow_reopen:
            reasons.append("the pipeline does not allow reopening closed deals")
        if not target.is_open:
            reasons.append(f"{target.key!r} is not an open stage")
        return reasons

    def can_move(self, deal: Deal, target: Stage | str, *, at: datetime | None = None) -> Verdict:
        """Whether *deal* may move to *target* now (or at *at*), and if not, why.

        Guards are asked with *at*, or with the deal's last stage change time
        when *at* is not given. Never raises for a refused move.

        Raises:
            UnknownStageError: *target* is not a stage of this pipeline.
        """
        stage = self.stage(target)
        if at is not None:
            aware("at", at)
        return Verdict(deal.stage.key, stage.key, tuple(self._reasons(deal, stage, at)))

    def allowed_targets(self, deal: Deal) -> tuple[Stage, ...]:
        """The stages *deal* may move to with :meth:`Deal.move_to`, in pipeline order.

        A closed deal has none: it leaves a terminal stage only by reopening.
        """
        return tuple(s for s in self.stages if not self._reasons(deal, s, None))

    def _refuse(
        self, deal: Deal, target: Stage, reasons: list[str], verb: str = "move"
    ) -> TransitionError:
        source = deal._stages[-1]
        allowed = [s.key for s in self.allowed_targets(deal)]
        # One sentence, as every salesflow error: the reasons, then the way out.
        options = f"; it may move to {', '.join(map(repr, allowed))}" if allowed else ""
        msg = (
            f"Cannot {verb} deal {deal.id!r} from {source!r} to {target.key!r}: "
            f"{'; '.join(reasons)}{options}."
        )
        return TransitionError(
            msg, deal_id=deal.id, source=source, target=target.key, reasons=reasons, allowed=allowed
        )

    def _replays_cleanly(self, stages: tuple[str, ...], times: tuple[datetime, ...]) -> bool:
        # The common case, checked cheaply: an open first stage, every move in
        # the allowed set (reopening is not in it) and times in order. Anything
        # else takes the full replay, which also finds the reasons.
        first = self._by_key.get(stages[0])
        if first is None or not first.is_open:
            return False
        free = self._free
        for i in range(1, len(stages)):
            if (stages[i - 1], stages[i]) not in free or times[i] < times[i - 1]:
                return False
        return True

    def check(self, deal: Deal, *, guards: bool = False) -> None:
        """Replay *deal*'s history against the rules; raise at the first illegal event.

        Structural rules (order, skips, backward moves, reopening, time order)
        are always replayed. Guards are re-asked only with ``guards=True``,
        against the deal as it was before each event, since a guard may depend
        on data outside the deal.

        Raises:
            TransitionError: An event breaks a rule; ``.reasons`` says which.
        """
        if deal.pipeline is not self and deal.pipeline != self:
            msg = f"Deal {deal.id!r} belongs to pipeline {deal.pipeline.name!r}, not {self.name!r}."
            raise TransitionError(
                msg, deal_id=deal.id, source=None, target=deal._stages[0], reasons=[msg]
            )
        stages, times = deal._stages, deal._times
        if not guards and self._replays_cleanly(stages, times):
            return
        first = self._by_key.get(deal._stages[0])
        if first is None or not first.is_open:
            msg = f"Deal {deal.id!r} starts in {deal._stages[0]!r}, which is not an open stage."
            raise TransitionError(
                msg, deal_id=deal.id, source=None, target=deal._stages[0], reasons=[msg], event=0
            )
        for i in range(1, len(deal._stages)):
            before = Deal._make(
                self,
                deal,
                deal._stages[:i],
                deal._times[:i],
                None if deal._meta is None else deal._meta[:i],
            )
            target = self._by_key[deal._stages[i]]
            at = deal._times[i]
            reopen = before.stage.is_terminal and target.is_open
            if guards:
                # _reasons() also checks the time order.
                reasons = self._reasons(before, target, at, reopen=reopen)
            else:
                if reopen:
                    reasons = self._reopen_reasons(before._stages[-1], target)
                else:
                    reasons = self._structural(before._stages[-1], target.key)
                if at < before._times[-1]:
                    reasons.append(
                        f"{at.isoformat()} is before the previous stage change at {before._times[-1].isoformat()}"
                    )
            if reasons:
                error = self._refuse(before, target, reasons, verb=f"replay event {i} of")
                error.event = i
                raise error

    # ------------------------------------------------------------ deals

    def open_deal(
        self,
        id: str,
        *,
        at: datetime,
        value: Money | None = None,
        owner: str | None = None,
        source: str | None = None,
        stage: Stage | str | None = None,
        attributes: Mapping[str, Any] | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> Deal:
        """Open a new deal in this pipeline.

        The starting stage (the first open stage unless *stage* names another)
        is recorded as the first event of the deal's history.

        Raises:
            UnknownStageError: *stage* is not in this pipeline.
            TransitionError: *stage* is not an open stage.
            TypeError, ValueError: A field has the wrong type, or *at* is naive.
        """
        return Deal._open(self, id, at, value, owner, source, stage, attributes, actor, note)

    # ------------------------------------------------------------ rendering

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, [{', '.join(repr(s.key) for s in self.stages)}])"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the definition, with a schema version.

        Raises:
            NotSerializableError: A guard is a plain callable, which cannot be
                written down; use a built-in guard or rebuild the pipeline in code.
        """
        from ._serde import pipeline_to_dict

        return pipeline_to_dict(self)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, guards: Iterable[Callable[..., Any]] = ()
    ) -> Pipeline:
        """Rebuild a pipeline from :meth:`to_dict` output.

        Args:
            data: The dict.
            guards: Extra guards (plain callables) to add to the serialised ones.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where.
            InvalidPipelineError: The definition breaks a pipeline rule.
        """
        from ._serde import pipeline_from_dict

        return pipeline_from_dict(data, extra_guards=tuple(guards))

    def to_mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the stages and the moves the rules allow."""
        from ._render import to_mermaid

        return to_mermaid(self)

    def to_markdown(self) -> str:
        """A Markdown table: stage, outcome, probability, next stage, rotting."""
        from ._render import to_markdown

        return to_markdown(self)
