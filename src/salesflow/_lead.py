"""Leads: prospects before they become deals."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._checks import aware, is_aware, is_optional_text, is_text
from ._deal_info import _attributes, _touchpoints, restore, state_of
from ._money import Money
from ._stage import Stage
from ._touchpoint import Touchpoint
from .exceptions import TransitionError

if TYPE_CHECKING:
    from ._deal import Deal
    from ._pipeline import Pipeline

__all__ = ["Lead", "LeadStatus", "StatusChange"]


class LeadStatus(enum.Enum):
    """Where a lead stands: new, contacted, qualified, disqualified or converted."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"

    def __repr__(self) -> str:
        return f"LeadStatus.{self.name}"


_S = LeadStatus
# A disqualified lead may be worked again; a converted one lives on as a deal.
_ALLOWED: dict[LeadStatus, frozenset[LeadStatus]] = {
    _S.NEW: frozenset({_S.CONTACTED, _S.QUALIFIED, _S.DISQUALIFIED, _S.CONVERTED}),
    _S.CONTACTED: frozenset({_S.QUALIFIED, _S.DISQUALIFIED, _S.CONVERTED}),
    _S.QUALIFIED: frozenset({_S.DISQUALIFIED, _S.CONVERTED}),
    _S.DISQUALIFIED: frozenset({_S.CONTACTED, _S.QUALIFIED}),
    _S.CONVERTED: frozenset(),
}


def _status(value: LeadStatus | str) -> LeadStatus:
    if isinstance(value, LeadStatus):
        return value
    try:
        return LeadStatus(value)
    except ValueError:
        names = ", ".join(repr(s.value) for s in LeadStatus)
        msg = f"Lead status must be one of {names}, got {value!r}."
        raise ValueError(msg) from None


@attrs.frozen
class StatusChange:
    """One event of a lead's status history.

    Attributes:
        status: The status entered.
        at: When (timezone-aware).
        reason: Why, e.g. a disqualification reason.
        deal_id: For ``CONVERTED``, the id of the deal the lead became.
    """

    status: LeadStatus = attrs.field(converter=_status)
    at: datetime = attrs.field(validator=is_aware)
    reason: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    deal_id: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)


def _history(value: Iterable[StatusChange]) -> tuple[StatusChange, ...]:
    return tuple(value)


@attrs.frozen
class Lead:
    """A prospect before it becomes a deal, with its status history and touchpoints.

    A lead starts ``NEW`` at ``created_at``; :meth:`contact`, :meth:`qualify`
    and :meth:`disqualify` move it on, and :meth:`convert` turns it into a
    :class:`Deal` that remembers the lead (its id, created time and
    touchpoints), so the whole lead → deal → won funnel can be measured.

    Attributes:
        id: The lead's identifier.
        created_at: When the lead was created (timezone-aware).
        source: Where it came from (a channel or campaign), if known.
        owner: Who works it, if assigned.
        touchpoints: Contacts already made.
        attributes: Free-form extra fields.
        history: A recorded status history (for leads loaded from a CRM); by
            default a single ``NEW`` event at ``created_at``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import salesflow as sf
        >>> day = lambda d: datetime(2026, 2, d, tzinfo=timezone.utc)
        >>> lead = sf.Lead("L-7", created_at=day(1), source="webinar")
        >>> lead = lead.contact(at=day(2)).qualify(at=day(4))
        >>> deal = lead.convert(sf.templates.b2b(), at=day(5), value=sf.Money(900, "EUR"))
        >>> deal.lead_id, deal.source, deal.created_at == day(5)
        ('L-7', 'webinar', True)
    """

    id: str = attrs.field(validator=is_text)
    created_at: datetime = attrs.field(kw_only=True, validator=is_aware)
    source: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    owner: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(
        default=(), kw_only=True, converter=_touchpoints
    )
    attributes: Mapping[str, Any] = attrs.field(
        default=None, kw_only=True, converter=_attributes, hash=False
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), kw_only=True, converter=_history)

    def __attrs_post_init__(self) -> None:
        if not self.history:
            object.__setattr__(self, "history", (StatusChange(LeadStatus.NEW, self.created_at),))
            return
        first = self.history[0]
        if first.at < self.created_at:
            msg = f"Lead {self.id!r} has a status change at {first.at.isoformat()} before it was created."
            raise ValueError(msg)
        for before, after in zip(self.history, self.history[1:], strict=False):
            self._check(before, after.status, after.at)

    def __reduce__(self) -> tuple[Any, ...]:
        # The attributes are a read-only mappingproxy, which pickle and deepcopy refuse.
        return restore, (Lead, state_of(self))

    def _check(self, last: StatusChange, status: LeadStatus, at: datetime) -> None:
        reasons = []
        if status not in _ALLOWED[last.status]:
            reasons.append(f"a {last.status.value} lead cannot become {status.value}")
        if at < last.at:
            reasons.append(
                f"{at.isoformat()} is before its last status change at {last.at.isoformat()}"
            )
        if reasons:
            msg = f"Cannot move lead {self.id!r} from {last.status.value!r} to {status.value!r}: {'; '.join(reasons)}."
            raise TransitionError(
                msg,
                deal_id=self.id,
                source=last.status.value,
                target=status.value,
                reasons=reasons,
                allowed=sorted(s.value for s in _ALLOWED[last.status]),
            )

    @property
    def status(self) -> LeadStatus:
        """The lead's current status."""
        return self.history[-1].status

    @property
    def is_converted(self) -> bool:
        """True once the lead has been marked converted."""
        return self.status is LeadStatus.CONVERTED

    def _to(
        self,
        status: LeadStatus,
        at: datetime,
        reason: str | None = None,
        deal_id: str | None = None,
    ) -> Lead:
        change = StatusChange(status, at, reason=reason, deal_id=deal_id)
        self._check(self.history[-1], status, change.at)
        return attrs.evolve(self, history=(*self.history, change))

    def contact(self, *, at: datetime) -> Lead:
        """Record first contact. Raises ``TransitionError`` if not allowed from the current status."""
        return self._to(LeadStatus.CONTACTED, at)

    def qualify(self, *, at: datetime) -> Lead:
        """Mark the lead qualified (worth a deal)."""
        return self._to(LeadStatus.QUALIFIED, at)

    def disqualify(self, *, at: datetime, reason: str | None = None) -> Lead:
        """Mark the lead disqualified, with an optional reason."""
        return self._to(LeadStatus.DISQUALIFIED, at, reason=reason)

    def log(self, touchpoint: Touchpoint) -> Lead:
        """Record a contact with the lead."""
        if not isinstance(touchpoint, Touchpoint):
            msg = f"Lead.log() takes a Touchpoint, got {touchpoint!r}."
            raise TypeError(msg)
        return attrs.evolve(self, touchpoints=(*self.touchpoints, touchpoint))

    def convert(
        self,
        pipeline: Pipeline,
        *,
        at: datetime,
        deal_id: str | None = None,
        value: Money | None = None,
        owner: str | None = None,
        source: str | None = None,
        stage: Stage | str | None = None,
        attributes: Mapping[str, Any] | None = None,
        expected_close: date | None = None,
    ) -> Deal:
        """Open a deal for this lead in *pipeline*.

        The deal records ``lead_id`` and ``lead_created_at``, starts with the
        lead's touchpoints, and keeps the lead's ``source`` and ``owner``
        unless others are given. The lead itself is unchanged (it is a value);
        :meth:`mark_converted` records the conversion on it.

        Args:
            pipeline: The pipeline to open the deal in.
            at: When the deal opens; not before the lead's last status change.
            deal_id: The deal's id; defaults to the lead's id.
            value: The deal's amount.
            owner: The deal's owner; defaults to the lead's.
            source: The deal's source; defaults to the lead's.
            stage: The open stage to start in; defaults to the first.
            attributes: Free-form extra fields of the deal.
            expected_close: The date the deal is expected to close on.

        Raises:
            TransitionError: The lead is disqualified or already converted, or
                *at* is before its last status change.
        """
        from ._deal import open_deal

        self._check(self.history[-1], LeadStatus.CONVERTED, aware("at", at))
        return open_deal(
            pipeline,
            self.id if deal_id is None else deal_id,
            at=at,
            value=value,
            owner=self.owner if owner is None else owner,
            source=self.source if source is None else source,
            stage=stage,
            attributes=attributes,
            touchpoints=self.touchpoints,
            lead_id=self.id,
            lead_created_at=self.created_at,
            expected_close=expected_close,
        )

    def mark_converted(self, deal: Deal) -> Lead:
        """This lead with a ``CONVERTED`` status change at *deal*'s creation."""
        if deal.lead_id != self.id:
            msg = f"Deal {deal.id!r} was not converted from lead {self.id!r} (its lead_id is {deal.lead_id!r})."
            raise ValueError(msg)
        return self._to(LeadStatus.CONVERTED, deal.created_at, deal_id=deal.id)

    @property
    def converted_at(self) -> datetime | None:
        """When the lead was marked converted, or ``None``."""
        last = self.history[-1]
        return last.at if last.status is LeadStatus.CONVERTED else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict with a schema version."""
        from ._serde import lead_to_dict

        return lead_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lead:
        """Rebuild a lead from :meth:`to_dict` output.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where.
        """
        from ._serde import lead_from_dict

        return lead_from_dict(data)
