"""The door from a metric function to its columnar version (imported lazily: no cycle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .._table import EventTable

__all__ = ["on_table"]

R = TypeVar("R")


def on_table(name: str, metric: Callable[..., R], table: EventTable, options: dict[str, Any]) -> R:
    """*metric* of an :class:`~salesflow.EventTable`, given the caller's *options* (``locals()``)."""
    from ._table_report import on_table as columnar

    options = {k: v for k, v in options.items() if k != "deals"}
    found: R = columnar(name, metric, table, options)
    return found
