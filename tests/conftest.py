"""Shared fixtures for the domain-model tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings

import salesflow as sf

#: ``--hypothesis-profile=fuzz``: many examples for ``tests/fuzz`` (see tests/fuzz/generators.py);
#: SALESFLOW_FUZZ_EXAMPLES sets how many, to fit a time budget.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("SALESFLOW_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: The everyday profile: the default number of examples, but no per-example deadline and no
#: "generation is slow" check, which fail by the clock on a busy two-core machine rather than
#: by anything the code does. A profile given on the command line is left alone
#: (``get_current_profile_name`` needs Hypothesis 6.139, the test extra's floor).
settings.register_profile("salesflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
if settings.get_current_profile_name() == "default":
    settings.load_profile("salesflow")

#: Midnight UTC on 1 January 2026, the first day of every test calendar.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

Day = Callable[..., datetime]


def _day(n: int, hour: int = 0, minute: int = 0) -> datetime:
    return EPOCH + timedelta(days=n - 1, hours=hour, minutes=minute)


@pytest.fixture
def utc_day() -> Day:
    """``utc_day(n, hour=0, minute=0)``: an aware UTC datetime on day *n* of 2026 (day 1 = 1 January)."""
    return _day


@pytest.fixture
def b2b() -> sf.Pipeline:
    """The seed B2B pipeline: seven open stages, then Closed won / Closed lost."""
    return sf.templates.b2b()


@pytest.fixture
def sales() -> sf.Pipeline:
    """A small linear pipeline: Lead, Demo, Proposal, then Closed won / Closed lost."""
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


@pytest.fixture
def open_deal(b2b: sf.Pipeline) -> sf.Deal:
    """Deal 'D-1' opened in the B2B pipeline's first stage on day 1, worth 5,000 USD."""
    return b2b.open_deal("D-1", at=_day(1), value=sf.Money(5000, "USD"), owner="ann")
