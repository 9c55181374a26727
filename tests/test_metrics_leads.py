"""Lead conversion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def unmarked() -> list[sf.Lead]:
    """The same six leads as loaded without their conversions: none marked converted."""
    return [sf.Lead(lead.id, created_at=lead.created_at, source=lead.source) for lead in leads()]


def deals_of_leads() -> list[sf.Deal]:
    """The three deals the converted leads became, as a deals table would give them."""
    found = []
    for lead in unmarked():
        after = {"a1": 10, "a2": 50, "e1": 5}.get(lead.id)
        if after is not None:
            found.append(lead.convert(P, at=lead.created_at + after * DAY))
    return found


class TestConversionsFromDeals:
    def test_deals_mark_their_leads(self) -> None:
        """Unmarked leads with their deals passed give the rate of marked leads: 3/6."""
        rate = m.lead_conversion(unmarked(), deals_of_leads())
        assert (rate.numerator, rate.denominator) == (3, 6)

    @given(data=st.data())
    def test_deals_and_marks_agree(self, data: st.DataObject) -> None:
        """For any options, deals passed give the same rate as leads marked from those deals."""
        within = data.draw(st.sampled_from([None, 30 * DAY, 60 * DAY]))
        as_of = data.draw(st.sampled_from([None, T0 + 20 * DAY, T0 + 95 * DAY]))
        by = data.draw(st.sampled_from([None, "source"]))
        marked = m.lead_conversion(leads(), within=within, as_of=as_of, by=by)
        linked = m.lead_conversion(
            unmarked(), deals=deals_of_leads(), within=within, as_of=as_of, by=by
        )
        assert linked == marked

    def test_the_first_deal_of_a_lead_counts(self) -> None:
        """A lead with two deals converted when the first opened."""
        lead = sf.Lead("x", created_at=T0)
        late, early = lead.convert(P, at=T0 + 40 * DAY), lead.convert(P, at=T0 + 5 * DAY)
        rate = m.lead_conversion([lead], [late, early], within=30 * DAY, as_of=T0 + 60 * DAY)
        assert (rate.numerator, rate.denominator) == (1, 1)

    def test_a_one_shot_iterator_of_deals(self) -> None:
        """Deals may come from a generator."""
        rate = m.lead_conversion(unmarked(), (d for d in deals_of_leads()))
        assert rate.numerator == 3


class TestWrongKind:
    def test_leads_loaded_without_conversions_warn(self) -> None:
        """Leads of which none converted, and no deals, warn with the call that loads conversions."""
        with pytest.warns(
            sf.SalesflowWarning,
            match=r"^None of the 6 leads is marked converted and no deals were passed, so the lead "
            r"conversion is 0; load the conversions with salesflow\.io\.read_conversions_csv\(path, "
            r"leads, pipeline\) and measure its \.leads, or pass the deals: "
            r"lead_conversion\(leads, deals=deals\)\.$",
        ):
            rate = m.lead_conversion(unmarked())
        assert (rate.numerator, rate.denominator) == (0, 6)

    def test_deals_of_other_leads_warn(self) -> None:
        """Deals passed, none naming one of the leads, warn too: the link is missing."""
        stranger = sf.Lead("z", created_at=T0).convert(P, at=T0 + DAY)
        with pytest.warns(
            sf.SalesflowWarning,
            match="none of the 1 deals passed has one of their ids as its lead_id",
        ):
            m.lead_conversion(unmarked(), [stranger])

    def test_one_converted_lead_is_enough(self) -> None:
        """A single converted lead is a real 1-of-n rate: no warning (pytest turns one into an error)."""
        rate = m.lead_conversion([*unmarked(), converted("c1", "ad", 0, 3)])
        assert rate.numerator == 1

    def test_no_leads_does_not_warn(self) -> None:
        """No leads is an undefined rate, not a missing link."""
        assert m.lead_conversion([], []).value is None

    def test_deals_as_leads_are_refused(self) -> None:
        """Deals passed as leads raise TypeError pointing at the metrics for deals and at deals=."""
        with pytest.raises(
            TypeError, match=r"takes Lead values.*lead_conversion\(leads, deals=deals\)"
        ):
            m.lead_conversion(deals_of_leads())

    def test_leads_as_deals_are_refused(self) -> None:
        """Leads passed as deals= raise the deal metrics' TypeError."""
        with pytest.raises(
            TypeError, match=r"^lead_conversion\(\) takes deals, got a Lead \('a1'\)"
        ):
            m.lead_conversion(unmarked(), unmarked())
