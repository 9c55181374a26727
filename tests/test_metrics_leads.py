"""Lead conversion."""

from __future__ import annotations

from datetime import timedelta

import pytest

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import T0

DAY = timedelta(days=1)
P = sf.Pipeline.linear("P", ["A"])


def converted(lead_id: str, source: str, created: int, after: int) -> sf.Lead:
    """A lead created on day *created* and converted *after* days later."""
    lead = sf.Lead(lead_id, created_at=T0 + created * DAY, source=source)
    deal = lead.convert(P, at=T0 + (created + after) * DAY)
    return lead.mark_converted(deal)


def leads() -> list[sf.Lead]:
    """Four leads from ads (two converted, after 10 and 50 days) and two from events."""
    return [
        converted("a1", "ad", 0, 10),
        converted("a2", "ad", 0, 50),
        sf.Lead("a3", created_at=T0, source="ad"),
        sf.Lead("a4", created_at=T0 + 90 * DAY, source="ad"),
        converted("e1", "event", 0, 5),
        sf.Lead("e2", created_at=T0 + 80 * DAY, source="event"),
    ]


class TestLeadConversion:
    def test_overall(self) -> None:
        """Three of six leads converted."""
        rate = m.lead_conversion(leads())
        assert (rate.numerator, rate.denominator) == (3, 6)

    def test_by_source(self) -> None:
        """by='source': ads 2/4, events 1/2."""
        result = m.lead_conversion(leads(), by="source")
        assert (result["ad"].numerator, result["ad"].denominator) == (2, 4)
        assert (result["event"].numerator, result["event"].denominator) == (1, 2)

    def test_window_censors_young_leads(self) -> None:
        """Within 30 days: a1 and e1 converted, a2 too late, a3 failed; a4 and e2 are too young to judge."""
        rate = m.lead_conversion(leads(), within=30 * DAY)
        assert (rate.numerator, rate.denominator) == (2, 4)

    def test_young_converters_are_left_out_too(self) -> None:
        """A lead inside its window is left out even if it already converted."""
        young = converted("y1", "ad", 85, 2)
        rate = m.lead_conversion([*leads(), young], within=30 * DAY)
        assert (rate.numerator, rate.denominator) == (2, 4)

    def test_as_of(self) -> None:
        """At day 20 only a1 and e1 had converted, of the four leads created by then."""
        rate = m.lead_conversion(leads(), as_of=T0 + 20 * DAY)
        assert (rate.numerator, rate.denominator) == (2, 4)

    def test_empty_is_undefined(self) -> None:
        """No leads: the rate is None."""
        assert m.lead_conversion([]).value is None

    def test_bad_window(self) -> None:
        """A non-positive window is refused."""
        with pytest.raises(ValueError, match="within"):
            m.lead_conversion(leads(), within=timedelta(0))
