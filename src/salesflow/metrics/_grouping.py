"""Breakdowns: the fields ``by=`` may name, and grouping deals by one or several.

A field name is resolved once, to a small function of the deal (a closure per
field), so grouping calls one function per deal and checks nothing per deal.
The check that a name means something ("no deal has a field 'region'") runs
once, after grouping, and only looks at the deals when every key was ``None``.
Deals are read only through their public fields and ``deal.pipeline.table``.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime

import attrs

from .._deal import Deal, field_as_of, value_as_of
from .._warn import warn
from ..exceptions import UnknownFieldError

__all__ = ["FIELDS", "By", "Groups", "group", "key_of"]

Key = Callable[[Deal], Hashable]

By = str | Callable[[Deal], Hashable] | tuple[str | Callable[[Deal], Hashable], ...]
"""What to group deals by: a field name, a function of the deal, or a tuple of them.

A tuple (``by=("owner", "product")``) groups by every combination and gives
tuple keys. The built-in field names are:

* ``"owner"``, ``"source"``, ``"lead_id"``;
* ``"currency"``: the currency of the deal's value;
* ``"pipeline"``: the pipeline's name;
* ``"stage"``: the key of the stage the deal is in at the cut-off (``as_of``);
* ``"outcome"``: ``"open"``, ``"won"`` or ``"lost"`` at the cut-off;
* ``"lost_reason"``: the reason given when it was lost (``None`` unless the
  deal is lost at the cut-off);
* ``"created_month"`` (``"2026-03"``), ``"created_quarter"`` (``"2026Q1"``),
  ``"created_year"`` (``2026``, an ``int``);
* ``"closed_month"``, ``"closed_quarter"``, ``"closed_year"``: when the deal
  won or lost; ``None`` while it is open at the cut-off.

Months, quarters and years are taken in UTC. A built-in name is always
accepted, even when every value is ``None``, and wins over an attribute of the
same name (use ``lambda d: d.attributes.get("stage")`` for that one). Any
other string is a key of ``deal.attributes``: deals without it are grouped
under ``None`` and counted in :attr:`Breakdown.missing`; a key that no deal
has raises :class:`~salesflow.UnknownFieldError`. A function of the deal is
called once per deal and its result is the key.
"""


def _seen(deal: Deal, as_of: datetime | None) -> int:
    """How many of the deal's stage changes happened by *as_of* (0: not yet created)."""
    times = deal.stage_times
    if as_of is None or times[-1] <= as_of:
        return len(times)
    return bisect_right(times, as_of)


def _owner(as_of: datetime | None) -> Key:
    if as_of is None:
        return lambda d: d.owner
    return lambda d: field_as_of(d, "owner", as_of)  # the owner then (a recorded change)


def _source(as_of: datetime | None) -> Key:
    return lambda d: d.source


def _currency(as_of: datetime | None) -> Key:
    def currency(deal: Deal) -> Hashable:
        value = deal.value if as_of is None else value_as_of(deal, as_of)
        return None if value is None else value.currency

    return currency


def _pipeline(as_of: datetime | None) -> Key:
    return lambda d: d.pipeline.name


def _lead_id(as_of: datetime | None) -> Key:
    return lambda d: d.lead_id


def _stage(as_of: datetime | None) -> Key:
    def stage(deal: Deal) -> Hashable:
        n = _seen(deal, as_of)
        return deal.stage_keys[n - 1] if n else None

    return stage


def _outcome(as_of: datetime | None) -> Key:
    def outcome(deal: Deal) -> Hashable:
        n = _seen(deal, as_of)
        if not n:
            return None
        return deal.pipeline.table.by_key[deal.stage_keys[n - 1]].outcome.value

    return outcome


def _lost_reason(as_of: datetime | None) -> Key:
    def lost_reason(deal: Deal) -> Hashable:
        n = _seen(deal, as_of)
        if n == len(deal.stage_keys):
            return deal.lost_reason
        if not n or not deal.pipeline.table.by_key[deal.stage_keys[n - 1]].is_lost:
            return None
        return deal.history[n - 1].reason  # lost then, reopened since: rare

    return lost_reason


def _month(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def _quarter(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year:04d}Q{(at.month - 1) // 3 + 1}"


def _year(at: datetime) -> int:
    return at.astimezone(UTC).year


def _created(period: Callable[[datetime], Hashable]) -> Callable[[datetime | None], Key]:
    def make(as_of: datetime | None) -> Key:
        return lambda d: period(d.created_at)

    return make


def _closed(period: Callable[[datetime], Hashable]) -> Callable[[datetime | None], Key]:
    def make(as_of: datetime | None) -> Key:
        def closed(deal: Deal) -> Hashable:
            n = _seen(deal, as_of)
            if not n:
                return None
            if n == len(deal.stage_keys):
                at = deal.closed_at
                return None if at is None else period(at)
            if deal.pipeline.table.by_key[deal.stage_keys[n - 1]].is_open:
                return None
            return period(deal.stage_times[n - 1])

        return closed

    return make


#: The built-in fields: name -> a maker of the key function at a cut-off.
FIELDS: dict[str, Callable[[datetime | None], Key]] = {
    "owner": _owner,
    "source": _source,
    "currency": _currency,
    "stage": _stage,
    "pipeline": _pipeline,
    "lost_reason": _lost_reason,
    "outcome": _outcome,
    "lead_id": _lead_id,
    "created_month": _created(_month),
    "created_quarter": _created(_quarter),
    "created_year": _created(_year),
    "closed_month": _closed(_month),
    "closed_quarter": _closed(_quarter),
    "closed_year": _closed(_year),
}


def _attribute(name: str) -> Key:
    return lambda d: d.attributes.get(name)


def _parts(by: By) -> tuple[str | Key, ...]:
    if isinstance(by, tuple | list):
        if not by:
            msg = (
                "by must name at least one field; pass a field name, a function or a tuple of them."
            )
            raise ValueError(msg)
        parts = tuple(by)
    else:
        parts = (by,)
    for part in parts:
        if not (isinstance(part, str) or callable(part)):
            msg = f"by must be a field name, a function of the deal or a tuple of them, got {by!r}."
            raise TypeError(msg)
    return parts


def _one(part: str | Key, as_of: datetime | None) -> Key:
    if not isinstance(part, str):
        return part
    make = FIELDS.get(part)
    return _attribute(part) if make is None else make(as_of)


def key_of(by: By, as_of: datetime | None = None) -> Key:
    """A function giving the breakdown key of a deal (a tuple for several fields).

    Args:
        by: A field name, a function of the deal, or a tuple of them (see :data:`By`).
        as_of: The cut-off for the fields that depend on it (``stage``,
            ``outcome``, ``lost_reason``, ``closed_*``); ``None``: the whole history.

    Returns:
        A function of one deal.

    Raises:
        TypeError: *by* is none of the above.
        ValueError: *by* is an empty tuple.

    Examples:
        >>> import salesflow as sf
        >>> from datetime import datetime, timezone
        >>> p = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
        >>> deal = p.open_deal("D-1", at=datetime(2026, 2, 3, tzinfo=timezone.utc), owner="Ann")
        >>> key_of(("owner", "created_quarter"))(deal)
        ('Ann', '2026Q1')
    """
    keys = tuple(_one(part, as_of) for part in _parts(by))
    if len(keys) == 1:
        return keys[0]
    if len(keys) == 2:
        first, second = keys
        return lambda d: (first(d), second(d))
    return lambda d: tuple(key(d) for key in keys)


def _name(part: str | Key) -> str:
    return part if isinstance(part, str) else getattr(part, "__name__", "key")


def _order(key: Hashable) -> tuple[bool, str]:
    return (key is None, str(key))


def _order_tuple(key: Hashable) -> tuple[tuple[bool, str], ...]:
    return tuple(_order(part) for part in (key if isinstance(key, tuple) else (key,)))


@attrs.frozen
class Groups:
    """Deals grouped by a ``by=``: groups in key order (None last), and what is missing.

    Attributes:
        fields: The name of each grouping field (a function's ``__name__``).
        groups: Key -> the deals with that key, keys sorted as text, ``None`` last
            (per position, for tuple keys).
        missing: How many deals lack an attribute named in *by* (``None`` or
            absent) and are grouped under ``None`` for it.
    """

    fields: tuple[str, ...]
    groups: dict[Hashable, list[Deal]]
    missing: int


def _unknown(name: str, deals: Sequence[Deal]) -> UnknownFieldError:
    known = set(FIELDS)
    for deal in deals:
        known.update(deal.attributes)
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if not close:
        folded = {k.casefold(): k for k in known}
        close = difflib.get_close_matches(name.casefold(), sorted(folded), n=1)
        close = [folded[c] for c in close]
    return UnknownFieldError(name, known=sorted(known), suggestion=close[0] if close else None)


def group(deals: Iterable[Deal], by: By, as_of: datetime | None = None) -> Groups:
    """Group *deals* by *by*, checking that every attribute named is one some deal has.

    Args:
        deals: The deals to group.
        by: A field name, a function of the deal, or a tuple of them (see :data:`By`).
        as_of: The cut-off for the fields that depend on it.

    Returns:
        The :class:`Groups`.

    Raises:
        UnknownFieldError: *by* names an attribute that no deal has (checked only
            when there is at least one deal).

    Examples:
        >>> import salesflow as sf
        >>> from datetime import datetime, timezone
        >>> p = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
        >>> at = datetime(2026, 2, 3, tzinfo=timezone.utc)
        >>> deals = [
        ...     p.open_deal("D-1", at=at, owner="Ann", attributes={"product": "GTX"}),
        ...     p.open_deal("D-2", at=at, owner="Bob"),
        ... ]
        >>> g = group(deals, ("owner", "product"))
        >>> [(k, len(v)) for k, v in g.groups.items()], g.missing
        ([(('Ann', 'GTX'), 1), (('Bob', None), 1)], 1)
    """
    parts = _parts(by)
    key = key_of(parts if len(parts) > 1 else parts[0], as_of)
    groups: dict[Hashable, list[Deal]] = {}
    for deal in deals:
        groups.setdefault(key(deal), []).append(deal)
    several = len(parts) > 1
    ordered = {k: groups[k] for k in sorted(groups, key=_order_tuple if several else _order)}
    attributes = [
        (i, part) for i, part in enumerate(parts) if isinstance(part, str) and part not in FIELDS
    ]
    missing = 0
    if attributes:

        def lacks(k: Hashable, i: int) -> bool:
            return (k[i] if several and isinstance(k, tuple) else k) is None

        missing = sum(
            len(members)
            for k, members in ordered.items()
            if any(lacks(k, i) for i, _ in attributes)
        )
        everyone = [deal for members in ordered.values() for deal in members]
        for i, name in attributes:
            if (
                everyone
                and all(lacks(k, i) for k in ordered)
                and not any(name in deal.attributes for deal in everyone)
            ):
                raise _unknown(name, everyone)
    if by == "lost_reason" and list(ordered) == [None]:
        _no_reasons(ordered[None], as_of)
    return Groups(tuple(_name(part) for part in parts), ordered, missing)


def _no_reasons(deals: list[Deal], as_of: datetime | None) -> None:
    """Warn when deals are lost but none has a reason: one ``None`` group says nothing."""
    outcome = _outcome(as_of)
    lost = sum(1 for deal in deals if outcome(deal) == "lost")
    if lost:
        warn(
            f"by='lost_reason': none of the {lost} lost deal(s) has a lost reason, so every deal "
            "is in the None group; record reasons (deal.lose(reason=...), a reason column) "
            "or see metrics.loss_reasons."
        )
