"""Data in and out: CSV loaders and writers for deals and events.

Loaders use the standard library's ``csv`` module; column names, timestamp
formats and the time zone of naive timestamps are arguments, never guesses.
A bad row raises a :class:`~salesflow.LoadError` naming the file, line,
column and value, or with ``errors="collect"`` is returned among the rejects:
no row is dropped silently.
"""

from __future__ import annotations

from ._common import LoadResult
from ._events import EVENT_COLUMNS, read_events_csv, write_events_csv
from ._frame import from_frame, events_frame, to_frame
from ._hubspot import HUBSPOT_API_COLUMNS, HUBSPOT_UI_COLUMNS, hubspot_pipeline, read_hubspot_deals
from ._salesforce import SALESFORCE_HISTORY_COLUMNS, read_salesforce_history, salesforce_pipeline
from ._sqlite import NotStoredError, SQLiteStore, StoreConflictError

__all__ = [
    "EVENT_COLUMNS",
    "HUBSPOT_API_COLUMNS",
    "HUBSPOT_UI_COLUMNS",
    "LoadResult",
    "NotStoredError",
    "SALESFORCE_HISTORY_COLUMNS",
    "SQLiteStore",
    "StoreConflictError",
    "events_frame",
    "from_frame",
    "hubspot_pipeline",
    "read_events_csv",
    "read_hubspot_deals",
    "read_salesforce_history",
    "salesforce_pipeline",
    "to_frame",
    "write_events_csv",
]
