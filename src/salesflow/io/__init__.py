"""Data in and out: CSV loaders and writers for deals and events.

Loaders use the standard library's ``csv`` module; column names, timestamp
formats and the time zone of naive timestamps are arguments, never guesses.
A bad row raises a :class:`~salesflow.LoadError` naming the file, line,
column and value, or with ``errors="collect"`` is returned among the rejects:
no row is dropped silently.
"""

from __future__ import annotations

from ._common import LoadResult
from ._deals import DEAL_COLUMNS, UNDATED_NOTE, read_deals_csv
from ._events import EVENT_COLUMNS, read_events_csv, write_events_csv
from ._frame import events_frame, from_frame, to_frame
from ._hubspot import HUBSPOT_API_COLUMNS, HUBSPOT_UI_COLUMNS, hubspot_pipeline, read_hubspot_deals
from ._jsonl import read_deals_jsonl, write_deals_jsonl
from ._leads import (
    CONVERSION_COLUMNS,
    LEAD_COLUMNS,
    ConversionResult,
    LeadLoadResult,
    read_conversions_csv,
    read_leads_csv,
)
from ._salesforce import SALESFORCE_HISTORY_COLUMNS, read_salesforce_history, salesforce_pipeline
from ._sqlite import NotStoredError, SQLiteStore, StoreConflictError
from ._table_lane import read_events_table

__all__ = [
    "CONVERSION_COLUMNS",
    "DEAL_COLUMNS",
    "EVENT_COLUMNS",
    "HUBSPOT_API_COLUMNS",
    "HUBSPOT_UI_COLUMNS",
    "LEAD_COLUMNS",
    "SALESFORCE_HISTORY_COLUMNS",
    "UNDATED_NOTE",
    "ConversionResult",
    "LeadLoadResult",
    "LoadResult",
    "NotStoredError",
    "SQLiteStore",
    "StoreConflictError",
    "events_frame",
    "from_frame",
    "hubspot_pipeline",
    "read_conversions_csv",
    "read_deals_csv",
    "read_deals_jsonl",
    "read_events_csv",
    "read_events_table",
    "read_hubspot_deals",
    "read_leads_csv",
    "read_salesforce_history",
    "salesforce_pipeline",
    "to_frame",
    "write_deals_jsonl",
    "write_events_csv",
]
