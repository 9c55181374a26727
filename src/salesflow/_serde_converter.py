"""The cattrs converter behind every record, with strict hooks.

cattrs on its own is lenient: it turns ``5`` into ``"5"`` for a ``str`` field,
``"0.5"`` into ``0.5`` for a ``float`` and any iterable into a list. A record
reader must not guess, so every hook here accepts only the JSON type the
writer produces and raises ``TypeError`` / ``ValueError`` otherwise; cattrs
adds where (``$.history[2].at``) and ``_serde.structure`` turns the lot into
one ``SchemaError``. Domain classes are read through their own converters and
checks (``Money``'s amount, ``Stage``'s probability …), field by field, so a
bad value is reported at its field rather than at the object that holds it.

Timestamps are written as ISO 8601 with their UTC offset; a timestamp in a
``zoneinfo`` zone also carries the zone's key in brackets, as RFC 9557 does
(``2026-11-01T01:30:00-05:00[America/New_York]``), so that it comes back in
the same zone and compares equal (see ``Deal.to_dict``).
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_origin
from zoneinfo import ZoneInfo

import cattrs
from cattrs.cols import is_mapping, is_sequence, list_structure_factory, mapping_structure_factory
from cattrs.errors import AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._checks import aware, text
from ._field_change import FIELDS, FieldChange, check_field_value
from ._guards import RequireTouchpoint, RequireValue
from ._lead import Lead, LeadStatus, StatusChange, _status
from ._money import Money, _currency, _to_decimal
from ._records import BuiltinGuard, DealRecord, PipelineRecord, StageKey
from ._stage import Outcome, Stage, _name, _outcome, _probability
from ._stage_change import StageChange
from ._touchpoint import Touchpoint, _direction

Hook = Callable[[Any, Any], Any]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZONED = re.compile(r"(?P<stamp>[^\[]+)\[(?P<zone>[^\]]+)\]")
_GUARDS: dict[str, type[RequireTouchpoint | RequireValue]] = {
    "require_touchpoint": RequireTouchpoint,
    "require_value": RequireValue,
}

# ------------------------------------------------------------ scalar hooks


def _str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {value!r}"
        raise TypeError(msg)
    return value


def _bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {value!r}"
        raise TypeError(msg)
    return value


def _int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number, got {value!r}"
        raise TypeError(msg)
    return value


def _float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"expected a number, got {value!r}"
        raise TypeError(msg)
    return float(value)


def _text(field: str) -> Hook:
    """A hook for a non-blank string, named *field* in its messages."""
    return lambda value, _: text(field, value)


def _call(convert: Callable[[Any], Any]) -> Hook:
    """A hook that applies a domain converter (which does its own checks)."""
    return lambda value, _: convert(value)


def unstructure_datetime(value: datetime) -> str:
    """ISO 8601 with the offset, plus ``[zone key]`` for a ``zoneinfo`` zone."""
    zone = value.tzinfo
    if isinstance(zone, ZoneInfo) and zone.key is not None:
        return f"{value.isoformat()}[{zone.key}]"
    return value.isoformat()


def _datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return aware("datetime", value)
    if not isinstance(value, str):
        msg = f"expected an ISO 8601 timestamp string, got {value!r}"
        raise TypeError(msg)
    zoned = _ZONED.fullmatch(value)
    stamp = value if zoned is None else zoned["stamp"]
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        msg = f"{value!r} is not an ISO 8601 timestamp"
        raise ValueError(msg) from None
    if parsed.tzinfo is None:
        msg = f"{value!r} has no UTC offset; write one, e.g. {stamp + '+00:00'!r} for UTC"
        raise ValueError(msg)
    if zoned is None:
        return parsed
    try:
        zone = ZoneInfo(zoned["zone"])
    except (KeyError, ValueError, OSError):
        msg = f"{value!r} names a time zone this system does not know, {zoned['zone']!r}"
        raise ValueError(msg) from None
    try:
        # The offset fixes the instant; the zone gives its wall time (and fold).
        return parsed.astimezone(zone)
    except OverflowError:
        msg = f"{value!r} is out of the range of datetime in its time zone"
        raise ValueError(msg) from None


def _date(value: Any, _: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        msg = f"expected an ISO 8601 date string such as '2026-06-30', got {reprlib.repr(value)}"
        raise (TypeError if not isinstance(value, str) else ValueError)(msg)
    try:
        return date.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not a date"
        raise ValueError(msg) from None


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value, str)


def _field_change_factory(_: Any, conv: cattrs.Converter) -> Hook:
    known = {"field", "old", "new", "at", "actor", "note"}

    def change_value(field: str | None, raw: Any) -> Any:
        if raw is None or field is None:
            return raw
        if field == "value":
            parsed: Any = conv.structure(raw, Money)
        elif field == "expected_close":
            parsed = _date(raw, date)
        elif field == "probability":
            parsed = _float(raw, float)
        else:
            parsed = _str(raw, str)
        return check_field_value(field, parsed)

    def structure_change(value: Any, __: Any) -> FieldChange:
        if not isinstance(value, Mapping):
            msg = f"expected an object (a mapping), got {reprlib.repr(value)}"
            raise TypeError(msg)
        errors: list[Exception] = []

        def part(name: str, read: Callable[[], Any]) -> Any:
            try:
                return read()
            except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
                exc.add_note(
                    AttributeValidationNote(f"Structuring field change @ {name}", name, Any)
                )
                errors.append(exc)
                return None

        def field_name() -> str:
            name: str = _text("FieldChange field")(value["field"], str)
            if name not in FIELDS:
                msg = f"a field change records one of {', '.join(FIELDS)}, got {name!r}"
                raise ValueError(msg)
            return name

        extra = set(value) - known
        if extra:
            errors.append(ForbiddenExtraKeysError("", FieldChange, extra))
        field = part("field", field_name)
        old = part("old", lambda: change_value(field, value["old"]))
        new = part("new", lambda: change_value(field, value["new"]))
        at = part("at", lambda: _datetime(value["at"], datetime))
        actor = part("actor", lambda: _optional_str(value.get("actor")))
        note = part("note", lambda: _optional_str(value.get("note")))
        if not errors:
            change = part("new", lambda: FieldChange(field, old, new, at, actor=actor, note=note))
        if errors:
            raise ClassValidationError("While structuring a field change", errors, FieldChange)
        return change  # type: ignore[no-any-return]

    return structure_change


def _amount(value: Any, _: Any) -> Decimal:
    if isinstance(value, float):
        msg = (
            f"Money amount must be a decimal string, got the float {value!r}; write {str(value)!r}"
        )
        raise TypeError(msg)
    return _to_decimal(value)


def _seconds(value: Any, _: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"expected a number of seconds, got {value!r}"
        raise TypeError(msg)
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError):
        msg = f"expected a number of seconds, got {value!r}, which is out of range"
        raise ValueError(msg) from None


def _rotting_seconds(value: Any, t: Any) -> timedelta | None:
    if value is None:
        return None
    seconds = _seconds(value, t)
    if seconds <= timedelta(0):
        msg = f"Stage rotting_after must be a positive number of seconds, got {value!r}"
        raise ValueError(msg)
    return seconds


# ------------------------------------------------------- container hooks


def _sequence_factory(cl: Any, conv: cattrs.Converter) -> Hook:
    items = list_structure_factory(cl, conv)
    as_tuple = get_origin(cl) is tuple or cl is tuple

    def structure_sequence(value: Any, t: Any) -> Any:
        if not isinstance(value, list | tuple):
            msg = f"expected a list, got {reprlib.repr(value)}"
            raise TypeError(msg)
        result = items(value, t)
        return tuple(result) if as_tuple else result

    return structure_sequence


def _mapping_factory(cl: Any, conv: cattrs.Converter) -> Hook:
    entries = mapping_structure_factory(cl, conv)

    def structure_mapping(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            msg = f"expected an object (a mapping), got {reprlib.repr(value)}"
            raise TypeError(msg)
        return entries(value, t)

    return structure_mapping


# ---------------------------------------------------------- class hooks

# Fields whose domain check runs in the constructor (a validator, a converter
# or a default that the type alone does not express) get a hook of their own,
# so that their errors carry the field's path.
_FIELD_HOOKS: dict[type, dict[str, Hook]] = {
    Money: {"amount": _amount, "currency": _call(_currency)},
    Stage: {
        "key": _text("Stage key"),
        "name": _call(_name),
        "probability": _call(_probability),
        "rotting_after": _rotting_seconds,
    },
    Touchpoint: {"channel": _text("Touchpoint channel"), "direction": _call(_direction)},
    StageChange: {"stage": _text("StageChange stage")},
    StatusChange: {},
    Lead: {"id": _text("Lead id")},
    RequireTouchpoint: {
        "stage": _text("RequireTouchpoint stage"),
        "channel": _text("RequireTouchpoint channel"),
    },
    RequireValue: {"stage": _text("RequireValue stage")},
    PipelineRecord: {"name": _text("Pipeline name")},
    DealRecord: {"id": _text("Deal id")},
}


def _class_factory(cl: Any, conv: cattrs.Converter) -> Hook:
    overrides: dict[str, Any] = {
        name: override(struct_hook=hook) for name, hook in _FIELD_HOOKS[cl].items()
    }
    fields = make_dict_structure_fn(cl, conv, _cattrs_forbid_extra_keys=True, **overrides)

    def structure_class(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            msg = f"expected an object (a mapping), got {reprlib.repr(value)}"
            raise TypeError(msg)
        return fields(value, cl)

    return structure_class


def _guard_factory(_: Any, conv: cattrs.Converter) -> Hook:
    def structure_guard(value: Any, __: Any) -> RequireTouchpoint | RequireValue:
        if not isinstance(value, Mapping):
            msg = f"expected a guard object such as {{'type': 'require_value', 'stage': ...}}, got {reprlib.repr(value)}"
            raise TypeError(msg)
        kind = value.get("type")
        cls = _GUARDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problem: Exception
            if "type" not in value:
                problem = KeyError("type")
            else:
                msg = (
                    f"unknown guard type {kind!r}; the built-in guards are 'require_touchpoint' "
                    "and 'require_value', and plain functions are passed to "
                    "Pipeline.from_dict(data, guards=[...]) instead"
                )
                problem = ValueError(msg)
            problem.add_note(AttributeValidationNote("Structuring guard @ type", "type", str))
            raise ClassValidationError("While structuring a guard", [problem], RequireValue)
        return conv.structure({k: v for k, v in value.items() if k != "type"}, cls)

    return structure_guard


# ------------------------------------------------------------ converter


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(float, _float)
    conv.register_structure_hook(StageKey, _text("lose_from stage"))
    conv.register_structure_hook(datetime, _datetime)
    conv.register_structure_hook(date, _date)
    conv.register_structure_hook_factory(lambda t: t is FieldChange, _field_change_factory)
    conv.register_unstructure_hook(datetime, unstructure_datetime)
    conv.register_structure_hook(timedelta, _seconds)
    conv.register_unstructure_hook(timedelta, lambda d: d.total_seconds())
    conv.register_structure_hook(Outcome, _call(_outcome))
    conv.register_structure_hook(LeadStatus, _call(_status))
    conv.register_unstructure_hook(Money, Money.to_dict)
    conv.register_structure_hook_factory(is_sequence, _sequence_factory)
    conv.register_structure_hook_factory(is_mapping, _mapping_factory)
    conv.register_structure_hook_factory(lambda t: t in _FIELD_HOOKS, _class_factory)
    conv.register_structure_hook_factory(lambda t: t == BuiltinGuard, _guard_factory)
    for cls in (Touchpoint, StageChange, StatusChange):
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True)
        )
    conv.register_unstructure_hook(
        Stage,
        make_dict_unstructure_fn(
            Stage, conv, _cattrs_omit_if_default=True, key=override(omit_if_default=False)
        ),
    )
    return conv


converter = _make_converter()
