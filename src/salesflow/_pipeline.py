"""The pipeline: an immutable, validated state machine shared by its deals.

The model is this module and :mod:`salesflow._deal`: the rules live in the
pipeline and the deal asks it. They share three private lookups, on purpose
and nowhere else: a deal reads ``pipeline._by_key``, ``_next`` and ``_free``
(aliases of :attr:`Pipeline.table`'s fields) on its hot paths, and the
pipeline builds deals only through :mod:`salesflow._deal`'s functions
(:func:`~salesflow._deal.assemble`, :func:`~salesflow._deal.prefix`,
:func:`~salesflow._deal.open_deal`). Every other module reads the public
:attr:`Pipeline.table` and the deal's public fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ._checks import aware, is_text, text
from ._deal import Deal, open_deal, prefix
from ._guards import refuse_answer
from ._money import Money
from ._moves import MoveTable, build_table
from ._rules import (
    check_size,
    earlier,
    move_reasons,
    reopen_reasons,
    time_order_reason,
    validate,
)
from ._stage import Outcome, Stage
from .exceptions import TransitionError, UnknownStageError

if TYPE_CHECKING:
    from .typing import Guard

__all__ = ["Pipeline", "Verdict"]


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
        table: The :class:`~salesflow.MoveTable` derived from the stages and
            rules: lookups by key, ranks, next stages and the kind of every
            move. Read-only; it is how metrics and loaders read the pipeline.

    Raises:
        InvalidPipelineError: No open or no won stage, duplicate keys or
            names, a stage that cannot be reached or left, ``lose_from``
            naming a stage that is not open, or a guard naming an unknown
            stage. Every broken rule is reported at once: ``.problems`` has
            one sentence per rule and ``.stages`` names the offending stages.

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

    # Derived once, never compared. The table is the interface other modules
    # read; the private aliases keep the model's own hot paths one lookup away.
    table: MoveTable = attrs.field(init=False, eq=False, repr=False)
    _by_key: dict[str, Stage] = attrs.field(init=False, eq=False, repr=False)
    _next: dict[str, str] = attrs.field(init=False, eq=False, repr=False)
    _free: frozenset[tuple[str, str]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_size(self.name, len(self.stages))
        table = build_table(
            self.stages,
            allow_skip=self.allow_skip,
            allow_backward=self.allow_backward,
            lose_from=self.lose_from,
        )
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "_by_key", table.by_key)
        object.__setattr__(self, "_next", table.next)
        object.__setattr__(self, "_free", table.free)
        validate(self)

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
        return self.table.open_stages

    @property
    def won_stages(self) -> tuple[Stage, ...]:
        """The won stages, in order."""
        return self.table.won_stages

    @property
    def lost_stages(self) -> tuple[Stage, ...]:
        """The lost stages, in order."""
        return self.table.lost_stages

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
            found = self._by_key.get(ref) or self.table.by_name.get(ref)
            if found is not None:
                return found
        raise UnknownStageError(ref, pipeline=self.name, known=self.keys)

    def key(self, ref: Stage | str) -> str:
        """The key of the stage *ref* names: a key, a display name, or a ``Stage``.

        Raises:
            UnknownStageError: No stage has that key or name.

        Examples:
            >>> from salesflow import Pipeline
            >>> Pipeline.linear("Sales", ["Lead", "Demo"]).key("Closed won")
            'Closed won'
        """
        if type(ref) is str and ref in self._by_key:
            return ref
        return self.stage(ref).key

    def __contains__(self, ref: object) -> bool:
        if isinstance(ref, Stage):
            return self._by_key.get(ref.key) == ref
        return ref in self._by_key or ref in self.table.by_name

    def rank(self, ref: Stage | str) -> int | None:
        """A stage's place in the progression.

        0, 1, … for open stages in order; one past the last open stage for
        every won stage; ``None`` for lost stages, which are not progress.
        """
        return self.table.rank[self.key(ref)]

    def next_stage(self, ref: Stage | str) -> Stage | None:
        """The stage that :meth:`Deal.advance` moves to from *ref* (``None`` from a terminal one)."""
        key = self._next.get(self.key(ref))
        return None if key is None else self._by_key[key]

    def probability(self, ref: Stage | str) -> float | None:
        """The stage's default win probability (fraction), or ``None`` if unknown."""
        return self.stage(ref).probability

    # ------------------------------------------------------------- the rules

    def _reasons(
        self,
        deal: Deal,
        target: Stage,
        at: datetime | None,
        *,
        reopen: bool = False,
        guards: bool = True,
    ) -> list[str]:
        last = deal.stage_times[-1]
        if at is None:
            at = last
        reasons = self._rule_reasons(deal.stage_keys[-1], last, target, at, reopen=reopen)
        changes = deal.changes
        if changes and earlier(at, changes[-1].at):
            reasons.append(
                f"{at.isoformat()} is before the deal's last field change at "
                f"{changes[-1].at.isoformat()}"
            )
        if guards:
            for guard in self.guards:
                why = guard(deal, target, at)
                if why is not None and type(why) is not str:
                    refuse_answer(guard, why)
                if why:
                    reasons.append(why)
        return reasons

    def _rule_reasons(
        self, source: str, last: datetime, target: Stage, at: datetime, *, reopen: bool
    ) -> list[str]:
        # The structural rules only: they need the last event, not the deal.
        if reopen:
            reasons = reopen_reasons(self.table, source, target, allow_reopen=self.allow_reopen)
        else:
            reasons = move_reasons(self.table, source, target.key)
        late = time_order_reason(at, last)
        if late:
            reasons.append(late)
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
        source = deal.stage_keys[-1]
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
        # Same-zone times compare by wall clock in Python: a wall-clock "earlier"
        # falls back to the full replay, and for a zone with DST a wall-clock
        # "not earlier" is confirmed by instant (see _rules.earlier).
        free = self._free
        for i in range(1, len(stages)):
            at, last = times[i], times[i - 1]
            if (
                (stages[i - 1], stages[i]) not in free
                or at < last
                or (
                    at.tzinfo is last.tzinfo
                    and type(at.tzinfo) is not timezone
                    and earlier(at, last)
                )
            ):
                return False
        return True

    def check(self, deal: Deal, *, guards: bool = False) -> None:
        """Replay *deal*'s history against the rules; raise at the first illegal event.

        Structural rules (order, skips, backward moves, reopening, time order)
        are always replayed, in time linear in the history's length. Guards
        are re-asked only with ``guards=True``, against the deal as it was
        before each event, since a guard may depend on data outside the deal;
        that builds the deal's prefix for each event, so a replay with guards
        takes time quadratic in the history's length (a few thousand events
        take well under a second).

        Times are compared as instants: a history in one DST zone may go
        from ``01:45`` (first pass through the repeated hour) to ``01:15``
        (``fold=1``, the second pass, half an hour later).

        Raises:
            TransitionError: An event breaks a rule; ``.reasons`` says which.
        """
        stages, times = deal.stage_keys, deal.stage_times
        if deal.pipeline is not self and deal.pipeline != self:
            msg = f"Deal {deal.id!r} belongs to pipeline {deal.pipeline.name!r}, not {self.name!r}."
            raise TransitionError(
                msg, deal_id=deal.id, source=None, target=stages[0], reasons=[msg]
            )
        if not guards and self._replays_cleanly(stages, times):
            return
        first = self._by_key.get(stages[0])
        if first is None or not first.is_open:
            msg = f"Deal {deal.id!r} starts in {stages[0]!r}, which is not an open stage."
            raise TransitionError(
                msg, deal_id=deal.id, source=None, target=stages[0], reasons=[msg], event=0
            )
        by_key = self._by_key
        for i in range(1, len(stages)):
            source, target = stages[i - 1], by_key[stages[i]]
            reopen = by_key[source].is_terminal and target.is_open
            reasons = self._rule_reasons(source, times[i - 1], target, times[i], reopen=reopen)
            before = None
            if guards and self.guards:
                before = prefix(deal, i)
                for guard in self.guards:
                    why = guard(before, target, times[i])
                    if why is not None and type(why) is not str:
                        refuse_answer(guard, why)
                    if why:
                        reasons.append(why)
            if reasons:
                if before is None:
                    before = prefix(deal, i)
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
        expected_close: date | None = None,
    ) -> Deal:
        """Open a new deal in this pipeline.

        The starting stage (the first open stage unless *stage* names another)
        is recorded as the first event of the deal's history. *expected_close*
        is the date the deal is expected to close on; change it later with
        :meth:`Deal.update`, which records the change.

        Raises:
            UnknownStageError: *stage* is not in this pipeline.
            TransitionError: *stage* is not an open stage.
            TypeError, ValueError: A field has the wrong type, or *at* is naive.
        """
        return open_deal(
            self,
            id,
            at=at,
            value=value,
            owner=owner,
            source=source,
            stage=stage,
            attributes=attributes,
            actor=actor,
            note=note,
            expected_close=expected_close,
        )

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
