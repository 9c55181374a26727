"""JSON Lines: one deal record per line."""

from __future__ import annotations

import contextlib
import json
import os
import reprlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, NoReturn

from .._deal import Deal
from .._pipeline import Pipeline
from ..exceptions import (
    LoadError,
    NotSerializableError,
    SchemaError,
    TransitionError,
    UnknownStageError,
)
from ._common import LoadResult, Source, check_errors, open_source

__all__ = ["read_deals_jsonl", "write_deals_jsonl"]

from ._common import PROGRESS_EVERY as _PROGRESS_EVERY


def write_deals_jsonl(deals: Iterable[Deal], target: str | os.PathLike[str] | IO[str]) -> int:
    """Write *deals* as JSON Lines: one :meth:`Deal.to_dict` record per line.

    Text is UTF-8 and written as is (no ``\\u`` escapes); ``NaN`` and
    infinities are refused, as JSON has none. A path is created or
    overwritten; an open file is written to and left open.

    Args:
        deals: The deals.
        target: A path or a text file open for writing.

    Returns:
        The number of lines (deals) written.

    Raises:
        NotSerializableError: A deal's attributes hold a value JSON cannot
            carry (the lines before it are already written).

    Examples:
        >>> import io
        >>> from salesflow.datasets import synthetic
        >>> from salesflow.io._jsonl import read_deals_jsonl, write_deals_jsonl
        >>> deals = synthetic(20, seed=1)
        >>> buffer = io.StringIO()
        >>> write_deals_jsonl(deals, buffer)
        20
        >>> _ = buffer.seek(0)
        >>> list(read_deals_jsonl(buffer, deals[0].pipeline)) == deals
        True
    """
    count = 0
    with contextlib.ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            handle: IO[str] = stack.enter_context(
                Path(target).open("w", encoding="utf-8", newline="")
            )
        else:
            handle = target
        write = handle.write
        for deal in deals:
            record = deal.to_dict()  # a SchemaError names what cannot be written
            try:
                line = json.dumps(record, ensure_ascii=False, allow_nan=False)
            except ValueError as exc:
                msg = f"Deal {deal.id!r} cannot be written as JSON: {exc}; replace NaN or infinite numbers in its attributes."
                raise NotSerializableError(msg) from None
            write(line)
            write("\n")
            count += 1
    return count


def _refuse_constant(name: str) -> NoReturn:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def _shown(value: Any) -> Any:
    """A value small enough to show in a message."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return reprlib.repr(value)


def _record(
    line: str, pipeline: Pipeline, file: str, number: int, *, allow_negative: bool = False
) -> Deal:
    """The deal on one line, or a ``LoadError`` that says what is wrong with it."""
    try:
        data = json.loads(line, parse_constant=_refuse_constant)
    except RecursionError:
        reason = "the record is nested too deeply to read (over about 1,000 levels)"
        raise LoadError(reason, file=file, line=number, column="$") from None
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} (character {exc.colno})"
        raise LoadError(reason, file=file, line=number, value=reprlib.repr(line.strip())) from None
    except ValueError as exc:
        raise LoadError(f"not valid JSON: {exc}", file=file, line=number) from None
    try:
        return Deal.from_dict(data, pipeline, allow_negative=allow_negative)
    except SchemaError as exc:
        reason = str(exc).rstrip(".")
        raise LoadError(
            reason, file=file, line=number, column=exc.path, value=_shown(exc.value)
        ) from None
    except TransitionError as exc:
        where = None if exc.event is None else f"$.history[{exc.event}]"
        reason = str(exc).rstrip(".")
        raise LoadError(reason, file=file, line=number, column=where, value=exc.target) from None
    except UnknownStageError as exc:
        reason = str(exc).rstrip(".")
        raise LoadError(
            reason, file=file, line=number, column="$.history", value=_shown(exc.stage)
        ) from None
    except (ValueError, TypeError) as exc:
        reason = f"not a valid deal record: {str(exc).rstrip('.')}"
        raise LoadError(reason, file=file, line=number) from None
    except RecursionError:
        reason = "not a valid deal record: it is nested too deeply (over about 1,000 levels)"
        raise LoadError(reason, file=file, line=number, column="$") from None


def read_deals_jsonl(
    source: Source,
    pipeline: Pipeline,
    *,
    errors: str = "raise",
    encoding: str = "utf-8-sig",
    progress: Callable[[int], None] | None = None,
    allow_negative: bool = False,
) -> LoadResult:
    """Read deals written by :func:`write_deals_jsonl`: one deal record per line.

    Each line is read with :meth:`Deal.from_dict`, so its schema version, its
    pipeline name and its history are checked against *pipeline*. Blank lines
    are skipped (they are not rows). A deal id on two lines is an error, and
    neither record is kept (as the CSV loaders leave out a repeated deal).

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the deals belong to.
        errors: ``"raise"`` stops at the first bad line with a
            :class:`~salesflow.LoadError` (file, line, the JSON path of the
            problem as the column, and the value); ``"collect"`` leaves bad
            lines out and returns their problems in ``result.rejects``.
        encoding: The file's encoding (a BOM is skipped).
        progress: Called with the number of lines read, every 10,000 lines.
        allow_negative: Accept negative deal values (refused by default, as
            by every loader; deals loaded with this option elsewhere read back
            with it).

    Returns:
        A :class:`LoadResult`: a sequence of the deals, with counts and rejects.

    Raises:
        LoadError: A bad line with ``errors="raise"``, or a file that cannot
            be opened.
    """
    mode = check_errors(errors)
    deals: list[Deal] = []
    rejects: list[LoadError] = []
    seen: dict[str, int] = {}
    dropped: set[str] = set()  # ids on two lines: neither record is trusted
    rows_read = rows_rejected = 0
    with open_source(source, encoding=encoding) as (handle, name):
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            rows_read += 1
            if progress is not None and rows_read % _PROGRESS_EVERY == 0:
                progress(rows_read)
            try:
                deal = _record(line, pipeline, name, number, allow_negative=allow_negative)
                if deal.id in seen:
                    dropped.add(deal.id)
                    reason = f"the deal id was already on line {seen[deal.id]}; one record per deal"
                    raise LoadError(reason, file=name, line=number, column="$.id", value=deal.id)
            except LoadError as error:
                if mode == "raise":
                    raise
                rejects.append(error)
                rows_rejected += 1
                continue
            seen[deal.id] = number
            deals.append(deal)
    if dropped:
        kept = [deal for deal in deals if deal.id not in dropped]
        rows_rejected += len(deals) - len(kept)
        deals = kept
    return LoadResult(tuple(deals), tuple(rejects), rows_read, rows_rejected, name)
