"""Plain-dict (JSON-safe) records of the domain objects, with a schema version.

cattrs does the structuring, so errors come with a path into the data
(``$.history[2].at``); this module adds the hooks for the types JSON lacks
(``Decimal`` amounts as strings, aware datetimes as ISO 8601, durations as
seconds) and the version check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._checks import aware
from ._deal import Deal, StageChange, _Info
from ._guards import guard_from_dict
from ._lead import Lead, LeadStatus, StatusChange
from ._money import Money
from ._stage import Outcome, Stage
from ._touchpoint import Touchpoint
from .exceptions import NotSerializableError, SchemaError

if TYPE_CHECKING:
    from ._pipeline import Pipeline

SCHEMA_VERSION = 1

T = TypeVar("T")


def _parse_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return aware("datetime", value)
    if not isinstance(value, str):
        msg = f"expected an ISO 8601 timestamp string, got {value!r}"
        raise TypeError(msg)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not an ISO 8601 timestamp"
        raise ValueError(msg) from None
    return aware("datetime", parsed)


def _parse_seconds(value: Any, _: type) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"expected a number of seconds, got {value!r}"
        raise TypeError(msg)
    return timedelta(seconds=value)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, _parse_datetime)
    conv.register_unstructure_hook(timedelta, lambda d: d.total_seconds())
    conv.register_structure_hook(timedelta, _parse_seconds)
    conv.register_unstructure_hook(Money, Money.to_dict)
    conv.register_structure_hook(Money, lambda d, _: Money(d["amount"], d["currency"]))
    conv.register_structure_hook(Outcome, lambda v, _: Outcome(v))
    conv.register_structure_hook(LeadStatus, lambda v, _: LeadStatus(v))
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


def _format(exc: BaseException, _: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s) {sorted(exc.extra_fields)!r}"
    return str(exc).rstrip(".")


def _structure(data: Any, cls: type[T], path: str) -> T:
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        problems = cattrs.transform_error(exc, path=path, format_exception=_format)
        msg = f"Cannot read {cls.__name__}: {'; '.join(problems)}."
        raise SchemaError(msg, path=problems[0].rpartition(" @ ")[2] if problems else path) from exc
    except (TypeError, ValueError, KeyError) as exc:
        msg = f"Cannot read {cls.__name__} at {path}: {_format(exc, cls)}."
        raise SchemaError(msg, path=path, value=data) from exc


def _check_header(data: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        msg = f"A {kind} record must be a mapping, got {type(data).__name__}."
        raise SchemaError(msg, value=data)
    version = data.get("schema", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        msg = (
            f"This {kind} record has schema version {version!r}; this salesflow reads "
            f"version {SCHEMA_VERSION}. Upgrade salesflow to read newer records."
        )
        raise SchemaError(msg, path="$.schema", value=version)
    return data


def _get(data: Mapping[str, Any], key: str, kind: str, default: Any = ...) -> Any:
    if key in data:
        return data[key]
    if default is ...:
        msg = f"A {kind} record needs the field {key!r}."
        raise SchemaError(msg, path=f"$.{key}")
    return default


def _json_safe(value: Any, path: str) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, datetime | Money | timedelta):
        return converter.unstructure(value)
    msg = f"Cannot write {value!r} at {path}: attribute values must be JSON types (str, number, bool, None, list, dict)."
    raise NotSerializableError(msg)


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
        "stages": [converter.unstructure(s, Stage) for s in pipeline.stages],
        "allow_skip": pipeline.allow_skip,
        "allow_backward": pipeline.allow_backward,
        "allow_reopen": pipeline.allow_reopen,
        "lose_from": None if pipeline.lose_from is None else list(pipeline.lose_from),
        "guards": guards,
    }


def pipeline_from_dict(data: Any, *, extra_guards: tuple[Any, ...] = ()) -> Pipeline:
    from ._pipeline import Pipeline

    data = _check_header(data, "pipeline")
    raw_stages = _get(data, "stages", "pipeline")
    if not isinstance(raw_stages, list):
        msg = f"A pipeline record's stages must be a list, got {raw_stages!r}."
        raise SchemaError(msg, path="$.stages", value=raw_stages)
    stages = [_structure(s, Stage, f"$.stages[{i}]") for i, s in enumerate(raw_stages)]
    guards = []
    for i, g in enumerate(_get(data, "guards", "pipeline", [])):
        try:
            guards.append(guard_from_dict(g))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, SchemaError):
                raise
            msg = f"Cannot read guard {i} of the pipeline record: {exc}."
            raise SchemaError(msg, path=f"$.guards[{i}]", value=g) from exc
    known = {
        "schema",
        "name",
        "stages",
        "allow_skip",
        "allow_backward",
        "allow_reopen",
        "lose_from",
        "guards",
    }
    extra = sorted(set(data) - known)
    if extra:
        msg = f"A pipeline record has unknown fields {extra!r}."
        raise SchemaError(msg, path=f"$.{extra[0]}")
    rules = {}
    for rule, default in (("allow_skip", False), ("allow_backward", True), ("allow_reopen", True)):
        flag = data.get(rule, default)
        if not isinstance(flag, bool):
            msg = f"A pipeline record's {rule} must be true or false, got {flag!r}."
            raise SchemaError(msg, path=f"$.{rule}", value=flag)
        rules[rule] = flag
    return Pipeline(
        _get(data, "name", "pipeline"),
        stages,
        lose_from=data.get("lose_from"),
        guards=[*guards, *extra_guards],
        **rules,
    )


# ---------------------------------------------------------------------- deal


def deal_to_dict(deal: Deal) -> dict[str, Any]:
    info = deal._info
    return {
        "schema": SCHEMA_VERSION,
        "id": deal.id,
        "pipeline": deal.pipeline.name,
        "value": None if info.value is None else info.value.to_dict(),
        "owner": info.owner,
        "source": info.source,
        "history": [converter.unstructure(c, StageChange) for c in deal.history],
        "touchpoints": [converter.unstructure(t, Touchpoint) for t in info.touchpoints],
        "attributes": _json_safe(dict(info.attributes), "$.attributes"),
        "lead_id": info.lead_id,
        "lead_created_at": None
        if info.lead_created_at is None
        else info.lead_created_at.isoformat(),
    }


_DEAL_FIELDS = frozenset(
    (
        "schema",
        "id",
        "pipeline",
        "value",
        "owner",
        "source",
        "history",
        "touchpoints",
        "attributes",
        "lead_id",
        "lead_created_at",
    )
)


def deal_from_dict(data: Any, pipeline: Pipeline, *, guards: bool = False) -> Deal:
    data = _check_header(data, "deal")
    extra = sorted(set(data) - _DEAL_FIELDS)
    if extra:
        msg = f"A deal record has unknown fields {extra!r}."
        raise SchemaError(msg, path=f"$.{extra[0]}")
    name = data.get("pipeline", pipeline.name)
    if name != pipeline.name:
        msg = f"This deal record belongs to pipeline {name!r}, not {pipeline.name!r}."
        raise SchemaError(msg, path="$.pipeline", value=name)
    history = _structure(_get(data, "history", "deal"), list[StageChange], "$.history")
    touchpoints = _structure(data.get("touchpoints", []), list[Touchpoint], "$.touchpoints")
    value = data.get("value")
    lead_created_at = data.get("lead_created_at")
    try:
        info = _Info(
            None if value is None else _structure(value, Money, "$.value"),
            data.get("owner"),
            data.get("source"),
            touchpoints,
            data.get("attributes"),
            data.get("lead_id"),
            None
            if lead_created_at is None
            else _structure(lead_created_at, datetime, "$.lead_created_at"),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SchemaError):
            raise
        raise SchemaError(f"Cannot read deal record: {exc}", path="$") from exc
    return Deal.from_history(
        pipeline,
        _get(data, "id", "deal"),
        history,
        value=info.value,
        owner=info.owner,
        source=info.source,
        touchpoints=info.touchpoints,
        attributes=info.attributes,
        lead_id=info.lead_id,
        lead_created_at=info.lead_created_at,
        guards=guards,
    )


# ---------------------------------------------------------------------- lead


def lead_to_dict(lead: Lead) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "id": lead.id,
        "created_at": lead.created_at.isoformat(),
        "source": lead.source,
        "owner": lead.owner,
        "history": [converter.unstructure(c, StatusChange) for c in lead.history],
        "touchpoints": [converter.unstructure(t, Touchpoint) for t in lead.touchpoints],
        "attributes": _json_safe(dict(lead.attributes), "$.attributes"),
    }


def lead_from_dict(data: Any) -> Lead:
    data = _check_header(data, "lead")
    body = {k: v for k, v in data.items() if k != "schema"}
    return _structure(body, Lead, "$")
