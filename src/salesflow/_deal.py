"""Deals and their stage-change history."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from ._checks import aware, optional_text, text
from ._deal_info import NO_INFO, DealInfo, EventMeta, Metas, non_negative
from ._field_change import FieldChange, check_changes, check_field_value, rewind
from ._money import Money
from ._rules import earlier
from ._stage import Stage
from ._stage_change import StageChange
from ._touchpoint import Touchpoint
from .exceptions import TransitionError

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = [
    "UNSET",
    "Deal",
    "StageChange",
    "assemble",
    "info_of",
    "metas_of",
    "open_deal",
    "prefix",
    "value_as_of",
]

_new = object.__new__
_set = object.__setattr__


class Unset(enum.Enum):
    """The type of :data:`UNSET`: "leave this field as it is" (``None`` clears a field)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: The default of :meth:`Deal.update`'s fields: not given, so not changed.
UNSET = Unset.UNSET


@attrs.frozen(init=False, repr=False)
class Deal:
    """An opportunity moving through a pipeline, with its full timestamped history.

    Deals are immutable: every move returns a new ``Deal``. Create one with
    :meth:`Pipeline.open_deal`, :meth:`Lead.convert`, :meth:`Deal.from_history`
    or :meth:`Deal.from_dict`; the constructor is not public.

    The history is the truth: the current stage, when the deal was created,
    when it closed and why it was lost are all read from it.

    A move copies the history (an immutable tuple), so it takes time in
    proportion to the history's length, and *n* moves one after another take
    time quadratic in *n*: negligible for the tens of events a real deal has,
    seconds for tens of thousands. Build a long recorded history at once with
    :meth:`from_history`, which checks it in linear time.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import salesflow as sf
        >>> pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        >>> day = lambda d: datetime(2026, 1, d, tzinfo=timezone.utc)
        >>> deal = pipeline.open_deal("D-1", at=day(5), value=sf.Money(5000, "USD"))
        >>> deal = deal.advance(at=day(9)).advance(at=day(12))
        >>> deal.stage.key
        'Proposal'
        >>> deal.win(at=day(20)).is_won
        True
    """

    id: str
    pipeline: Pipeline
    _stages: tuple[str, ...]
    _times: tuple[datetime, ...]
    _meta: Metas
    _info: DealInfo = attrs.field(repr=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        msg = (
            "Deal() is not called directly; use pipeline.open_deal(...), lead.convert(...), "
            "Deal.from_history(...) or Deal.from_dict(...)."
        )
        raise TypeError(msg)

    # ---------------------------------------------------------- construction

    @classmethod
    def from_history(
        cls,
        pipeline: Pipeline,
        id: str,
        history: Iterable[StageChange],
        *,
        value: Money | None = None,
        owner: str | None = None,
        source: str | None = None,
        touchpoints: Iterable[Touchpoint] = (),
        attributes: Mapping[str, Any] | None = None,
        lead_id: str | None = None,
        lead_created_at: datetime | None = None,
        expected_close: date | None = None,
        changes: Iterable[FieldChange] = (),
        guards: bool = False,
    ) -> Deal:
        """Build a deal from a recorded history (a database, a CRM export), checking it.

        The history must be in time order (equal times keep their order) and
        follow the pipeline's structural rules; guards are replayed only with
        ``guards=True``.

        *changes* are the recorded field changes, in time order, none before
        the deal's creation. They must chain (each change's ``old`` is the
        ``new`` of the change of that field before it) and end at the deal's
        *value*, *expected_close* and *owner*.

        Raises:
            ValueError: The history is empty, or *changes* are out of order or
                do not chain.
            MoneyError: *value* is negative.
            UnknownStageError: An event names a stage the pipeline lacks.
            TransitionError: An event breaks a rule (see :meth:`Pipeline.check`).
        """
        events = tuple(history)
        text("Deal id", id)
        non_negative(value)
        if not events:
            msg = f"Deal {id!r} needs at least one stage change in its history."
            raise ValueError(msg)
        for event in events:
            if not isinstance(event, StageChange):
                msg = f"Deal history must hold StageChange values, got {event!r}."
                raise TypeError(msg)
        stages = tuple(pipeline.key(e.stage) for e in events)
        times = tuple(e.at for e in events)
        metas = tuple(
            None
            if e.actor is None and e.reason is None and e.note is None
            else EventMeta(e.actor, e.reason, e.note)
            for e in events
        )
        info = DealInfo(
            value=value,
            owner=owner,
            source=source,
            touchpoints=touchpoints,
            attributes=attributes,
            lead_id=lead_id,
            lead_created_at=lead_created_at,
            expected_close=expected_close,
            changes=check_changes(
                id,
                changes,
                times[0],
                {"value": value, "expected_close": expected_close, "owner": owner},
            ),
        )
        deal = assemble(
            pipeline, id, stages, times, metas if any(m is not None for m in metas) else None, info
        )
        pipeline.check(deal, guards=guards)
        return deal

    # ------------------------------------------------------------ fields

    @property
    def value(self) -> Money | None:
        """The deal's amount, or ``None`` if not set."""
        return self._info.value

    @property
    def owner(self) -> str | None:
        """Who owns the deal (a sales rep), if recorded."""
        return self._info.owner

    @property
    def expected_close(self) -> date | None:
        """The date the deal is expected to close on, or ``None`` if not set.

        A date, not an instant: compared with a timestamp, the timestamp's
        own calendar date (in its zone) is used.
        """
        return self._info.expected_close

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        """Every recorded field change (value, expected close, owner, …), oldest first."""
        return self._info.changes

    @property
    def forecast_category(self) -> str | None:
        """The forecast category of the deal's last ``forecast_category`` change, if any."""
        for change in reversed(self._info.changes):
            if change.field == "forecast_category":
                return change.new  # type: ignore[no-any-return]
        return None

    @property
    def source(self) -> str | None:
        """Where the deal came from (lead source, channel), if recorded."""
        return self._info.source

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """Contacts logged on the deal (and on its lead), in time order."""
        return self._info.touchpoints

    @property
    def attributes(self) -> Mapping[str, Any]:
        """Free-form extra fields (read-only mapping)."""
        return self._info.attributes

    @property
    def lead_id(self) -> str | None:
        """The id of the lead this deal was converted from, if any."""
        return self._info.lead_id

    @property
    def lead_created_at(self) -> datetime | None:
        """When the deal's lead was created, if it came from a lead."""
        return self._info.lead_created_at

    @property
    def history(self) -> tuple[StageChange, ...]:
        """Every stage change, oldest first; the first is the stage the deal opened in."""
        meta = self._meta or (None,) * len(self._stages)
        return tuple(
            StageChange(s, t)
            if m is None
            else StageChange(s, t, actor=m.actor, reason=m.reason, note=m.note)
            for s, t, m in zip(self._stages, self._times, meta, strict=True)
        )

    @property
    def stage_keys(self) -> tuple[str, ...]:
        """The keys of the stages entered, oldest first (cheaper than :attr:`history`)."""
        return self._stages

    @property
    def stage_times(self) -> tuple[datetime, ...]:
        """When each stage in :attr:`stage_keys` was entered."""
        return self._times

    @property
    def stage(self) -> Stage:
        """The stage the deal is in now."""
        return self.pipeline._by_key[self._stages[-1]]

    @property
    def created_at(self) -> datetime:
        """When the deal was opened: the time of its first stage change."""
        return self._times[0]

    @property
    def entered_at(self) -> datetime:
        """When the deal entered its current stage."""
        return self._times[-1]

    @property
    def updated_at(self) -> datetime:
        """The time of the deal's last stage change."""
        return self._times[-1]

    @property
    def is_open(self) -> bool:
        """True while the deal is in an open stage."""
        return self.stage.is_open

    @property
    def is_won(self) -> bool:
        """True when the deal is in a won stage."""
        return self.stage.is_won

    @property
    def is_lost(self) -> bool:
        """True when the deal is in a lost stage."""
        return self.stage.is_lost

    @property
    def closed_at(self) -> datetime | None:
        """When the deal entered its current won or lost stage; ``None`` while open."""
        return None if self.stage.is_open else self._times[-1]

    @property
    def lost_reason(self) -> str | None:
        """The reason given when the deal was lost; ``None`` unless it is lost now."""
        if not self.stage.is_lost or self._meta is None:
            return None
        last = self._meta[-1]
        return None if last is None else last.reason

    def age(self, as_of: datetime) -> timedelta:
        """Time from creation to *as_of* (or to closing, if it closed before), in UTC."""
        aware("as_of", as_of)
        end = self.closed_at
        end = as_of if end is None or earlier(as_of, end) else end
        return end.astimezone(UTC) - self._times[0].astimezone(UTC)

    # ---------------------------------------------------------- transitions

    def _move(
        self,
        target: str,
        at: datetime,
        actor: str | None,
        reason: str | None,
        note: str | None,
        *,
        reopen: bool = False,
    ) -> Deal:
        pipeline = self.pipeline
        fixed = type(at) is datetime and type(at.tzinfo) is timezone
        if not fixed:
            aware("at", at)  # naive, or a wall time its zone skips
        stages = self._stages
        times = self._times
        if (
            reopen
            or (stages[-1], target) not in pipeline._free
            or pipeline.guards
            or (at < times[-1] if fixed else earlier(at, times[-1]))
            or self._info.changes
        ):
            stage = pipeline._by_key[target]
            reasons = pipeline._reasons(self, stage, at, reopen=reopen)
            if reasons:
                raise pipeline._refuse(self, stage, reasons, verb="reopen" if reopen else "move")
        if actor is None and reason is None and note is None:
            meta = self._meta
            if meta is not None:
                meta = (*meta, None)
        else:
            optional_text("actor", actor)
            optional_text("reason", reason)
            optional_text("note", note)
            meta = (*(self._meta or (None,) * len(stages)), EventMeta(actor, reason, note))
        return assemble(pipeline, self.id, (*stages, target), (*times, at), meta, self._info)

    def advance(self, *, at: datetime, actor: str | None = None, note: str | None = None) -> Deal:
        """Move to the next open stage; from the last open stage, win the deal.

        Raises:
            TransitionError: The deal is closed, or a guard or the time order refuses.
        """
        pipeline = self.pipeline
        stages = self._stages
        nxt = pipeline._next.get(stages[-1])
        if nxt is None:
            self._refuse_closed("advance", at)
        times = self._times
        # The hot path, inlined: a step to the next stage is always structurally
        # allowed, so only the time, the guards and the metadata need a look.
        # A fixed offset (UTC included) always exists and compares by instant;
        # zones with DST take _move, which checks both.
        if (
            type(at) is datetime
            and type(at.tzinfo) is timezone
            and at >= times[-1]
            and not pipeline.guards
            and self._meta is None
            and not self._info.changes
            and actor is None
            and note is None
        ):
            return assemble(pipeline, self.id, (*stages, nxt), (*times, at), None, self._info)
        return self._move(nxt, at, actor, None, note)

    def move_to(
        self,
        target: Stage | str,
        *,
        at: datetime,
        actor: str | None = None,
        note: str | None = None,
        reason: str | None = None,
    ) -> Deal:
        """Move to *target* if the pipeline's rules allow it.

        Raises:
            UnknownStageError: *target* is not in the pipeline.
            TransitionError: A rule refuses the move; ``.reasons`` lists every
                reason and ``.allowed`` the stages that are allowed.
        """
        return self._move(self.pipeline.key(target), at, actor, reason, note)

    def win(
        self,
        *,
        at: datetime,
        stage: Stage | str | None = None,
        actor: str | None = None,
        note: str | None = None,
        value: Money | Unset | None = UNSET,
    ) -> Deal:
        """Close the deal as won (in the first won stage unless *stage* names another).

        Winning is allowed from any open stage; it is not a skip. *value*, if
        given, is the final amount: it is recorded as a field change at *at*,
        just before the win (so guards see it).

        Raises:
            TransitionError: The deal is already closed, *stage* is not a won
                stage, or a guard refuses.
        """
        pipeline = self.pipeline
        target = pipeline.won_stages[0] if stage is None else pipeline.stage(stage)
        if not target.is_won:
            self._refuse_kind(target, "won", at)
        deal = self if value is UNSET else self.update(at=at, value=value, actor=actor)
        return deal._move(target.key, at, actor, None, note)

    def lose(
        self,
        *,
        at: datetime,
        reason: str | None = None,
        stage: Stage | str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> Deal:
        """Close the deal as lost, with an optional reason.

        Raises:
            TransitionError: The deal is already closed, the pipeline has no
                lost stage, *stage* is not a lost stage, or a rule refuses.
        """
        pipeline = self.pipeline
        if stage is None:
            if not pipeline.lost_stages:
                self._refuse_kind(None, "lost", at)
            target = pipeline.lost_stages[0]
        else:
            target = pipeline.stage(stage)
        if not target.is_lost:
            self._refuse_kind(target, "lost", at)
        return self._move(target.key, at, actor, reason, note)

    def reopen(
        self,
        *,
        at: datetime,
        to: Stage | str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> Deal:
        """Reopen a closed deal, by default in the open stage it closed from.

        Raises:
            TransitionError: The deal is open, the pipeline forbids reopening,
                or *to* is not an open stage.
        """
        if to is not None:
            target = self.pipeline.key(to)
        else:
            target = next(
                (s for s in reversed(self._stages) if self.pipeline._by_key[s].is_open),
                self._stages[0],
            )
        return self._move(target, at, actor, None, note, reopen=True)

    def _refuse_closed(self, verb: str, at: datetime) -> NoReturn:
        source = self._stages[-1]
        msg = f"Cannot {verb} deal {self.id!r}: it is closed in {source!r}; use reopen() first."
        raise TransitionError(msg, deal_id=self.id, source=source, target=source, reasons=[msg])

    def _refuse_kind(self, target: Stage | None, kind: str, at: datetime) -> NoReturn:
        source = self._stages[-1]
        choices = [s.key for s in self.pipeline.stages if s.outcome.value == kind]
        if target is None:
            msg = f"Cannot close deal {self.id!r} as {kind}: pipeline {self.pipeline.name!r} has no {kind} stage."
        else:
            msg = f"Cannot close deal {self.id!r} as {kind} in {target.key!r}: it is not a {kind} stage."
        raise TransitionError(
            msg,
            deal_id=self.id,
            source=source,
            target="" if target is None else target.key,
            reasons=[msg],
            allowed=choices,
        )

    # ---------------------------------------------------------- other edits

    def log(self, touchpoint: Touchpoint) -> Deal:
        """Record a contact with the deal. Touchpoints stay in time order."""
        if not isinstance(touchpoint, Touchpoint):
            msg = f"Deal.log() takes a Touchpoint, got {touchpoint!r}."
            raise TypeError(msg)
        info = attrs.evolve(self._info, touchpoints=(*self._info.touchpoints, touchpoint))
        return assemble(self.pipeline, self.id, self._stages, self._times, self._meta, info)

    def update(
        self,
        *,
        at: datetime,
        value: Money | Unset | None = UNSET,
        expected_close: date | Unset | None = UNSET,
        owner: str | Unset | None = UNSET,
        forecast_category: str | Unset | None = UNSET,
        note: str | None = None,
        actor: str | None = None,
    ) -> Deal:
        """Change some of the deal's fields at *at*, recording each change.

        One :class:`FieldChange` is recorded per field whose value changes; a
        field left out (or given its current value) records nothing, so an
        update that changes nothing returns the deal itself. ``None`` clears
        a field.

        Only an open deal is updated: a change after the close would rewrite
        what was won or lost, and the movement metrics read changes as what
        happened to open pipeline. A closed deal's record is corrected with
        :meth:`replace`, which records nothing. Like a move, an update may not
        come before the deal's last event (stage change or field change).

        Examples:
            >>> from datetime import date, datetime, timezone
            >>> import salesflow as sf
            >>> pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
            >>> day = lambda d: datetime(2026, 3, d, tzinfo=timezone.utc)
            >>> deal = pipeline.open_deal("D-1", at=day(1), expected_close=date(2026, 3, 31))
            >>> deal = deal.update(at=day(20), expected_close=date(2026, 4, 30))
            >>> [(c.field, c.old.isoformat(), c.new.isoformat()) for c in deal.changes]
            [('expected_close', '2026-03-31', '2026-04-30')]
            >>> deal.as_of(day(10)).expected_close
            datetime.date(2026, 3, 31)

        Raises:
            TransitionError: The deal is closed, or *at* is before its last event.
            MoneyError: A negative *value*.
            TypeError, ValueError: A field of the wrong type, or a naive *at*.
        """
        aware("at", at)
        optional_text("actor", actor)
        optional_text("note", note)
        if not self.stage.is_open:
            self._refuse_closed("update", at)
        last = self._times[-1]
        if self._info.changes and earlier(last, self._info.changes[-1].at):
            last = self._info.changes[-1].at
        if earlier(at, last):
            source = self._stages[-1]
            msg = (
                f"Cannot update deal {self.id!r} at {at.isoformat()}: it is before the deal's "
                f"last event at {last.isoformat()}."
            )
            raise TransitionError(msg, deal_id=self.id, source=source, target=source, reasons=[msg])
        info = self._info
        given: dict[str, Any] = {}
        if value is not UNSET:
            given["value"] = non_negative(value)
        if expected_close is not UNSET:
            given["expected_close"] = check_field_value("expected_close", expected_close)
        if owner is not UNSET:
            given["owner"] = optional_text("owner", owner)
        current = {"value": info.value, "expected_close": info.expected_close, "owner": info.owner}
        if forecast_category is not UNSET:
            current["forecast_category"] = self.forecast_category
            given["forecast_category"] = optional_text("forecast_category", forecast_category)
        new = tuple(
            FieldChange(field, current[field], v, at, actor=actor, note=note)
            for field, v in given.items()
            if v != current[field]
        )
        if not new:
            return self
        state = {k: v for k, v in given.items() if k != "forecast_category"}
        info = attrs.evolve(info, changes=(*info.changes, *new), **state)
        return assemble(self.pipeline, self.id, self._stages, self._times, self._meta, info)

    def replace(self, **changes: Any) -> Deal:
        """A copy with other values for some of the fields a move does not change.

        The fields are ``value``, ``expected_close``, ``owner``, ``source``,
        ``attributes`` and ``touchpoints``; the history changes only through
        moves. Nothing is recorded: this corrects the record (a typo, a
        closed deal's final amount), where :meth:`update` records what
        happened to an open deal. The recorded field changes, if any, are
        kept as they are.

        Raises:
            TypeError: An unknown field, or a value of the wrong type.
            MoneyError: A negative ``value``.
        """
        allowed = {"value", "expected_close", "owner", "source", "attributes", "touchpoints"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            msg = f"Deal.replace() cannot change {', '.join(unknown)}; it changes {', '.join(sorted(allowed))}."
            raise TypeError(msg)
        if "value" in changes:
            non_negative(changes["value"])
        info = attrs.evolve(self._info, **changes)
        return assemble(self.pipeline, self.id, self._stages, self._times, self._meta, info)

    def as_of(self, at: datetime) -> Deal | None:
        """The deal as it was at *at*, or ``None`` if it did not exist yet.

        Stage changes, field changes and touchpoints after *at* are dropped,
        and the value, expected close date and owner are those it had at *at*.
        """
        aware("at", at)
        times = self._times
        n = len(times)
        while n and earlier(at, times[n - 1]):
            n -= 1
        if n == 0:
            return None
        info = self._info
        changes = info.changes
        late = bool(changes) and earlier(at, changes[-1].at)
        if n == len(times) and not late and not any(earlier(at, t.at) for t in self.touchpoints):
            return self
        if any(earlier(at, t.at) for t in info.touchpoints):
            kept = [t for t in info.touchpoints if not earlier(at, t.at)]
            info = attrs.evolve(info, touchpoints=kept)
        if late:
            k, before = rewind(changes, at)
            info = attrs.evolve(info, changes=changes[:k], **before)
        meta = None if self._meta is None else self._meta[:n]
        return assemble(self.pipeline, self.id, self._stages[:n], times[:n], meta, info)

    # ---------------------------------------------------------- records

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict with a schema version; the pipeline is named, not copied.

        Timestamps are ISO 8601 strings that keep their UTC offset. A timestamp
        in a ``zoneinfo`` zone also carries the zone's key, as RFC 9557 writes
        it (``"2026-11-01T01:30:00-05:00[America/New_York]"``), and is read back
        in that zone. The offset alone would not do: Python never finds a wall
        time in a repeated DST hour (``fold=1``) equal to the same instant in
        another zone, so a deal opened in that hour would not compare equal to
        itself after a round trip. The offset fixes the instant; the zone only
        says how to show it.

        Examples:
            >>> from datetime import datetime
            >>> from zoneinfo import ZoneInfo
            >>> import salesflow as sf
            >>> pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
            >>> at = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
            >>> record = pipeline.open_deal("D-1", at=at).to_dict()
            >>> record["history"]
            [{'stage': 'Lead', 'at': '2026-11-01T01:30:00-05:00[America/New_York]'}]
            >>> sf.Deal.from_dict(record, pipeline).created_at == at
            True
        """
        from ._serde import deal_to_dict

        return deal_to_dict(self)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], pipeline: Pipeline, *, guards: bool = False
    ) -> Deal:
        """Rebuild a deal from :meth:`to_dict` output, checking its history.

        Every field is read strictly: ``5`` is not an owner and ``"5"`` is
        not a number. Timestamps without an offset are refused.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where, e.g.
                ``$.history[2].at``.
            UnknownStageError: An event names a stage the pipeline lacks.
            TransitionError: The history breaks the pipeline's rules.
        """
        from ._serde import deal_from_dict

        return deal_from_dict(data, pipeline, guards=guards)

    def __repr__(self) -> str:
        value = "" if self.value is None else f", value={self.value}"
        return (
            f"<Deal {self.id!r} in {self._stages[-1]!r} ({self.pipeline.name}){value}, "
            f"{len(self._stages)} stage changes>"
        )

    def _repr_html_(self) -> str:
        from ._render import deal_html

        return deal_html(self)


# ------------------------------------------------------------ the model's interface
#
# The functions below are how the rest of the package builds and reads deals.
# No module outside the model touches a Deal's private fields.


def assemble(
    pipeline: Pipeline,
    id: str,
    stages: tuple[str, ...],
    times: tuple[datetime, ...],
    metas: Metas,
    info: DealInfo,
) -> Deal:
    """Put a :class:`Deal` together from checked parts: the one place a deal is made.

    This is the trusted constructor: it checks nothing. The caller vouches
    that *id* is a non-empty string, *stages* are keys of *pipeline*, *times*
    are aware and as long as *stages*, *metas* (if not ``None``) is as long
    too, and the history obeys the pipeline's rules (or calls
    :meth:`Pipeline.check` on the result). Loaders reach it through the
    intake builder in :mod:`salesflow.io`; everything else uses
    :meth:`Pipeline.open_deal`, the deal's moves or :meth:`Deal.from_history`.
    """
    deal = _new(Deal)
    _set(deal, "id", id)
    _set(deal, "pipeline", pipeline)
    _set(deal, "_stages", stages)
    _set(deal, "_times", times)
    _set(deal, "_meta", metas)
    _set(deal, "_info", info)
    return deal


def prefix(deal: Deal, n: int) -> Deal:
    """*deal* as it was after its first *n* stage changes (``n >= 1``)."""
    metas = deal._meta
    return assemble(
        deal.pipeline,
        deal.id,
        deal._stages[:n],
        deal._times[:n],
        None if metas is None else metas[:n],
        deal._info,
    )


def info_of(deal: Deal) -> DealInfo:
    """The deal's :class:`DealInfo` record (shared with its other versions)."""
    return deal._info


def value_as_of(deal: Deal, at: datetime | None) -> Money | None:
    """The deal's value at *at* (its current value when *at* is ``None``); cheap when unchanged."""
    changes = deal._info.changes
    if at is None or not changes or not earlier(at, changes[-1].at):
        return deal._info.value
    value: Money | None = rewind(changes, at)[1].get("value", deal._info.value)
    return value


def metas_of(deal: Deal) -> Metas:
    """Per stage change, its :class:`EventMeta` or ``None``; ``None`` when no event has any."""
    return deal._meta


def open_deal(
    pipeline: Pipeline,
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
    touchpoints: Iterable[Touchpoint] = (),
    lead_id: str | None = None,
    lead_created_at: datetime | None = None,
    expected_close: date | None = None,
) -> Deal:
    """Open a deal, checking every field: :meth:`Pipeline.open_deal` and :meth:`Lead.convert`.

    A negative *value* is refused (``MoneyError``), as the loaders refuse it.
    """
    if type(id) is not str or not id.strip():
        text("Deal id", id)
    if type(at) is not datetime or type(at.tzinfo) is not timezone:
        aware("at", at)  # naive, or a wall time its zone skips
    start = pipeline.table.open_stages[0] if stage is None else pipeline.stage(stage)
    if not start.is_open:
        msg = f"Cannot open deal {id!r} in {start.key!r}: deals open in an open stage."
        raise TransitionError(
            msg,
            deal_id=id,
            source=None,
            target=start.key,
            reasons=[msg],
            allowed=[s.key for s in pipeline.open_stages],
        )
    if (
        value is None
        and owner is None
        and source is None
        and not touchpoints
        and attributes is None
        and lead_id is None
        and lead_created_at is None
        and expected_close is None
    ):
        info = NO_INFO  # deals with nothing but a history share one record
    else:
        info = DealInfo(
            value=non_negative(value),
            owner=owner,
            source=source,
            touchpoints=touchpoints,
            attributes=attributes,
            lead_id=lead_id,
            lead_created_at=lead_created_at,
            expected_close=expected_close,
        )
    metas = (
        None
        if actor is None and note is None
        else (EventMeta(optional_text("actor", actor), None, optional_text("note", note)),)
    )
    return assemble(pipeline, id, (start.key,), (at,), metas, info)
