"""Plain-dict (JSON-safe) records of the domain objects, with a schema version.

Reading goes through the strict cattrs converter of ``_serde_converter``;
:func:`structure` turns whatever it refuses into one ``SchemaError`` whose
``.path`` names the first bad spot (``$.history[2].at``). Records of pipelines
and deals are read into the plain shapes of ``_records`` first, then the real
object is built, so that the pipeline's rules (``InvalidPipelineError``) and a
deal's history (``TransitionError``) are checked by the code that owns them.

Examples:
    >>> from salesflow import Money
    >>> structure({"amount": "1.00", "currency": "USD", "rate": 2}, Money, "the money record")
    Traceback (most recent call last):
    ...
    salesflow.exceptions.SchemaError: Cannot read the money record at $.rate: unknown field 'rate'.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from ._deal import Deal, info_of
from ._field_change import FieldChange
from ._lead import Lead, StatusChange
from ._money import Money
from ._records import DealRecord, PipelineRecord
from ._serde_converter import converter, unstructure_datetime
from ._stage import Stage
from ._stage_change import StageChange
from ._touchpoint import Touchpoint
from .exceptions import MoneyError, NotSerializableError, SalesflowError, SchemaError

if TYPE_CHECKING:
    from ._pipeline import Pipeline

SCHEMA_VERSION = 1

#: Deal records are at version 2 (``expected_close`` and ``changes``); version 1 is still read.
DEAL_SCHEMA_VERSION = 2

T = TypeVar("T")

_MISSING: Any = object()

# ------------------------------------------------------------------ reading


class _Problem(NamedTuple):
    path: str
    value: Any
    message: str
    error: BaseException


def _child(value: Any, key: object) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, _MISSING)
    if isinstance(value, list | tuple) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return _MISSING


def _problems(exc: BaseException, path: str, value: Any) -> Iterator[_Problem]:
    """Every leaf error under *exc*, with its path and the value found there."""
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, attribute in with_notes:
            name = attribute.name
            yield from _problems(sub, f"{path}.{name}", _child(value, name))
        for sub in without:
            yield from _problems(sub, path, value)
    elif isinstance(exc, IterableValidationError):
        with_notes_i, without = exc.group_exceptions()
        for sub, item in with_notes_i:
            yield from _problems(sub, f"{path}[{item.index!r}]", _child(value, item.index))
        for sub in without:
            yield from _problems(sub, path, value)
    elif isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields, key=str):
            yield _Problem(f"{path}.{name}", _child(value, name), f"unknown field {name!r}", exc)
    elif type(exc) is KeyError:
        name = path.rpartition(".")[2]
        yield _Problem(path, _MISSING, f"the required field {name!r} is missing", exc)
    else:
        yield _Problem(path, value, str(exc).rstrip("."), exc)


def structure(data: Any, cls: type[T], what: str, path: str = "$") -> T:
    """*data* read as a *cls* by the strict converter.

    Args:
        data: The record, as ``json.load`` gives it.
        cls: The type to read.
        what: The record's name in messages, e.g. ``"the deal record"``.
        path: Where *data* sits in a larger record.

    Raises:
        SchemaError: The record is malformed. The message lists every problem;
            ``.path`` and ``.value`` are the first one's.
        SalesflowError: Another salesflow error raised by the object's own
            constructor (e.g. ``TransitionError`` for a lead's status history).
    """
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        problems = list(_problems(exc, path, data))
        for problem in problems:
            error = problem.error
            if isinstance(error, SalesflowError) and not isinstance(
                error, SchemaError | MoneyError
            ):
                raise error from None
        first = problems[0]
        msg = f"Cannot read {what} at {first.path}: {first.message}"
        msg += "".join(f"; also at {p.path}: {p.message}" for p in problems[1:]) + "."
        value = None if first.value is _MISSING else first.value
        raise SchemaError(msg, path=first.path, value=value) from exc


def _body(data: Any, kind: str, newest: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The fields of a pipeline, deal or lead record, once its schema version is checked.

    Versions 1 to *newest* are read: a newer version only adds optional fields.
    """
    if not isinstance(data, Mapping):
        msg = f"A {kind} record must be a mapping (a JSON object), got {reprlib.repr(data)}."
        raise SchemaError(msg, value=data)
    version = data.get("schema", newest)
    if isinstance(version, bool) or version not in range(1, newest + 1):
        # reprlib: a huge int cannot even be written out (the int digit limit).
        shown = (
            f"an int of about {int(version.bit_length() * 0.30103)} digits"
            if isinstance(version, int) and version.bit_length() > 64
            else reprlib.repr(version)
        )
        msg = (
            f"This {kind} record has schema version {shown}; this salesflow reads "
            f"version{'s 1 to ' if newest > 1 else ' '}{newest}. Upgrade salesflow to read newer records."
        )
        raise SchemaError(msg, path="$.schema", value=version)
    return {k: v for k, v in data.items() if k != "schema"}


# ------------------------------------------------------------------ writing


def to_record(obj: Stage | Touchpoint | StageChange | StatusChange) -> dict[str, Any]:
    """The JSON-safe dict of a small record (fields left at their default are omitted)."""
    record: dict[str, Any] = converter.unstructure(obj, type(obj))
    return record


#: How deeply attribute values may nest (lists and dicts) to be written down.
MAX_DEPTH = 100


def _json_safe(value: Any, path: str, depth: int = 0) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | Mapping) and depth >= MAX_DEPTH:
        msg = (
            f"Cannot write the value at {path}: attribute values may nest at most "
            f"{MAX_DEPTH} lists or dicts deep; flatten it first."
        )
        raise SchemaError(msg, path=path)
    if isinstance(value, list | tuple):
        return [_json_safe(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, datetime | Money | timedelta):
        return converter.unstructure(value)
    msg = f"Cannot write {value!r} at {path}: attribute values must be JSON types (str, number, bool, None, list, dict)."
    raise NotSerializableError(msg)


def field_value_to_json(value: Any) -> Any:
    """A field change's ``old`` or ``new`` as JSON: money as its record, a date as ISO 8601."""
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, date):
        return value.isoformat()
    return value


def field_change_to_dict(change: FieldChange) -> dict[str, Any]:
    record: dict[str, Any] = {
        "field": change.field,
        "old": field_value_to_json(change.old),
        "new": field_value_to_json(change.new),
        "at": unstructure_datetime(change.at),
    }
    if change.actor is not None:
        record["actor"] = change.actor
    if change.note is not None:
        record["note"] = change.note
    return record


def field_change_from_dict(data: Any) -> FieldChange:
    return structure(data, FieldChange, "the field change record")


def _optional_datetime(value: datetime | None) -> str | None:
    return None if value is None else unstructure_datetime(value)


# ------------------------------------------------------------------ pipeline


def pipeline_to_dict(pipeline: Pipeline) -> dict[str, Any]:
    guards = []
    for i, guard in enumerate(pipeline.guards):
        to_dict: Callable[[], dict[str, Any]] | None = getattr(guard, "to_dict", None)
        if to_dict is None:
            msg = (
                f"Pipeline {pipeline.name!r} cannot be written down: guard {i} ({guard!r}) is a "
                "plain callable, which does not serialise. Use a built-in guard, or pass the "
                "callable again to Pipeline.from_dict(data, guards=[...])."
            )
            raise NotSerializableError(msg)
        guards.append(to_dict())
    return {
        "schema": SCHEMA_VERSION,
        "name": pipeline.name,
        "stages": [to_record(s) for s in pipeline.stages],
        "allow_skip": pipeline.allow_skip,
        "allow_backward": pipeline.allow_backward,
        "allow_reopen": pipeline.allow_reopen,
        "lose_from": None if pipeline.lose_from is None else list(pipeline.lose_from),
        "guards": guards,
    }


def pipeline_from_dict(data: Any, *, extra_guards: tuple[Any, ...] = ()) -> Pipeline:
    from ._pipeline import Pipeline

    record = structure(_body(data, "pipeline"), PipelineRecord, "the pipeline record")
    return Pipeline(
        record.name,
        record.stages,
        allow_skip=record.allow_skip,
        allow_backward=record.allow_backward,
        allow_reopen=record.allow_reopen,
        lose_from=record.lose_from,
        guards=[*record.guards, *extra_guards],
    )


# ---------------------------------------------------------------------- deal


def deal_to_dict(deal: Deal) -> dict[str, Any]:
    info = info_of(deal)
    return {
        "schema": DEAL_SCHEMA_VERSION,
        "id": deal.id,
        "pipeline": deal.pipeline.name,
        "value": None if info.value is None else info.value.to_dict(),
        "owner": info.owner,
        "source": info.source,
        "history": [to_record(c) for c in deal.history],
        "touchpoints": [to_record(t) for t in info.touchpoints],
        "attributes": _json_safe(dict(info.attributes), "$.attributes"),
        "lead_id": info.lead_id,
        "lead_created_at": _optional_datetime(info.lead_created_at),
        "expected_close": None if info.expected_close is None else info.expected_close.isoformat(),
        "changes": [field_change_to_dict(c) for c in info.changes],
    }


def deal_from_dict(data: Any, pipeline: Pipeline, *, guards: bool = False) -> Deal:
    record = structure(_body(data, "deal", DEAL_SCHEMA_VERSION), DealRecord, "the deal record")
    if record.pipeline is not None and record.pipeline != pipeline.name:
        msg = (
            f"This deal record belongs to pipeline {record.pipeline!r}, not {pipeline.name!r}; "
            "read it with that pipeline."
        )
        raise SchemaError(msg, path="$.pipeline", value=record.pipeline)
    if record.value is not None and record.value.amount < 0:
        msg = f"Cannot read the deal record at $.value: a deal value cannot be negative, got {record.value!r}."
        raise SchemaError(msg, path="$.value", value=record.value.to_dict())
    if not record.history:
        msg = f"Cannot read the deal record at $.history: deal {record.id!r} needs at least one stage change, got []."
        raise SchemaError(msg, path="$.history", value=[])
    return Deal.from_history(
        pipeline,
        record.id,
        record.history,
        value=record.value,
        owner=record.owner,
        source=record.source,
        touchpoints=record.touchpoints,
        attributes=record.attributes,
        lead_id=record.lead_id,
        lead_created_at=record.lead_created_at,
        expected_close=record.expected_close,
        changes=_checked_changes(record),
        guards=guards,
    )


def _checked_changes(record: DealRecord) -> tuple[FieldChange, ...]:
    """The record's changes once they chain and end at its fields (else a ``SchemaError``)."""
    from ._field_change import check_changes

    if not record.changes:
        return ()
    current = {
        "value": record.value,
        "expected_close": record.expected_close,
        "owner": record.owner,
    }
    created = record.history[0].at
    try:
        return check_changes(record.id, record.changes, created, current)
    except ValueError as exc:
        msg = f"Cannot read the deal record at $.changes: {str(exc).rstrip('.')}."
        raise SchemaError(msg, path="$.changes", value=None) from None


# ---------------------------------------------------------------------- lead


def lead_to_dict(lead: Lead) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "id": lead.id,
        "created_at": unstructure_datetime(lead.created_at),
        "source": lead.source,
        "owner": lead.owner,
        "history": [to_record(c) for c in lead.history],
        "touchpoints": [to_record(t) for t in lead.touchpoints],
        "attributes": _json_safe(dict(lead.attributes), "$.attributes"),
    }


def lead_from_dict(data: Any) -> Lead:
    return structure(_body(data, "lead"), Lead, "the lead record")
