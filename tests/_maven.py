"""The Maven CRM snapshot, loaded as the how-to loads it (skipped when the data is absent)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import salesflow as sf
from salesflow.io import read_deals_csv

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm-sales-opportunities"


def maven_deals() -> sf.io.LoadResult:
    """The 8,800 opportunities of ``sales_pipeline.csv`` (see docs/how-to/analyse-a-crm-export.md)."""
    if not MAVEN.is_dir():
        pytest.skip("../shared/data (Maven CRM dataset) is not beside this clone")
    return _load()


@functools.cache
def _load() -> sf.io.LoadResult:
    # Loaded once per test session: the result is immutable, and loading takes a second or two.
    pipeline = sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")
    return read_deals_csv(
        MAVEN / "sales_pipeline.csv",
        pipeline,
        columns={
            "deal_id": "opportunity_id",
            "stage": "deal_stage",
            "engaged_at": "engage_date",
            "closed_at": "close_date",
            "value": "close_value",
            "owner": "sales_agent",
        },
        undated="latest",
        extra_columns=("product", "account"),
        currency="USD",
        timezone="UTC",
    )
