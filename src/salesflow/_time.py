"""Time constants and the microsecond clock that metrics and stores count in.

Durations are computed as whole microseconds since the Unix epoch, in UTC: a
``datetime`` holds exactly microseconds, so the integers are exact, immune to
wall-clock (DST) arithmetic, and cheap to count and merge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["DAY", "EPOCH", "MICROSECOND", "micros", "stamp"]

#: The Unix epoch, 1970-01-01 00:00 UTC.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The finest step a ``datetime`` or ``timedelta`` can take.
MICROSECOND = timedelta(microseconds=1)
#: One day: the unit durations are reported in.
DAY = timedelta(days=1)


def stamp(at: datetime) -> int:
    """Microseconds since the epoch, in UTC (exact, and immune to DST wall-clock arithmetic)."""
    return (at - EPOCH) // MICROSECOND


def micros(delta: timedelta) -> int:
    """A timedelta as whole microseconds."""
    return delta // MICROSECOND
