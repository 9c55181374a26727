"""Tests for salesflow.Lead: status flow, touchpoints and conversion to a deal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs
import pytest

import salesflow as sf
from salesflow import Lead, LeadStatus, Money, StatusChange, Touchpoint, TransitionError

Day = Callable[..., datetime]


@pytest.fixture
def lead(utc_day: Day) -> Lead:
    """Lead 'L-7', created on day 1 from a webinar, owned by ann, with one email."""
    return Lead(
        "L-7",
        created_at=utc_day(1),
        source="webinar",
        owner="ann",
        touchpoints=[Touchpoint(utc_day(1, hour=9), "email", direction="inbound")],
    )


class TestStatusFlow:
    def test_new_lead(self, lead: Lead, utc_day: Day) -> None:
        """A lead starts NEW with one status change at its creation."""
        assert lead.status is LeadStatus.NEW
        assert lead.history == (StatusChange(LeadStatus.NEW, utc_day(1)),)
        assert not lead.is_converted
        assert lead.converted_at is None

    def test_contact_then_qualify(self, lead: Lead, utc_day: Day) -> None:
        """contact() then qualify() record CONTACTED then QUALIFIED."""
        worked = lead.contact(at=utc_day(2)).qualify(at=utc_day(3))
        assert worked.status is LeadStatus.QUALIFIED
        assert [c.status for c in worked.history] == [
            LeadStatus.NEW,
            LeadStatus.CONTACTED,
            LeadStatus.QUALIFIED,
        ]
        assert [c.at for c in worked.history] == [utc_day(1), utc_day(2), utc_day(3)]

    def test_qualify_without_contact(self, lead: Lead, utc_day: Day) -> None:
        """A new lead may be qualified directly."""
        assert lead.qualify(at=utc_day(2)).status is LeadStatus.QUALIFIED

    def test_disqualify_records_reason(self, lead: Lead, utc_day: Day) -> None:
        """disqualify() records DISQUALIFIED with the reason."""
        lost = lead.contact(at=utc_day(2)).disqualify(at=utc_day(3), reason="student")
        assert lost.status is LeadStatus.DISQUALIFIED
        assert lost.history[-1] == StatusChange("disqualified", utc_day(3), reason="student")

    def test_disqualified_lead_can_be_contacted_again(self, lead: Lead, utc_day: Day) -> None:
        """A disqualified lead may be worked again."""
        again = lead.disqualify(at=utc_day(2)).contact(at=utc_day(30))
        assert again.status is LeadStatus.CONTACTED

    def test_qualified_lead_cannot_go_back_to_contacted(self, lead: Lead, utc_day: Day) -> None:
        """contact() on a qualified lead is refused, listing what is allowed."""
        qualified = lead.qualify(at=utc_day(2))
        with pytest.raises(TransitionError, match="qualified lead cannot become contacted") as info:
            qualified.contact(at=utc_day(3))
        assert info.value.deal_id == "L-7"
        assert info.value.source == "qualified"
        assert info.value.target == "contacted"
        assert info.value.allowed == ("converted", "disqualified")

    def test_contact_twice_refused(self, lead: Lead, utc_day: Day) -> None:
        """A contacted lead cannot be contacted again (log a touchpoint instead)."""
        with pytest.raises(TransitionError):
            lead.contact(at=utc_day(2)).contact(at=utc_day(3))

    def test_converted_is_terminal(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """A converted lead cannot change status again."""
        converted = lead.mark_converted(lead.convert(b2b, at=utc_day(2)))
        for move in (converted.contact, converted.qualify, converted.disqualify):
            with pytest.raises(TransitionError, match="converted lead cannot become"):
                move(at=utc_day(3))

    def test_time_order(self, lead: Lead, utc_day: Day) -> None:
        """A status change dated before the last one is refused."""
        contacted = lead.contact(at=utc_day(5))
        with pytest.raises(TransitionError, match="before its last status change"):
            contacted.qualify(at=utc_day(4))

    def test_equal_times_allowed(self, lead: Lead, utc_day: Day) -> None:
        """Status changes at the same instant are allowed."""
        assert lead.contact(at=utc_day(1)).qualify(at=utc_day(1)).status is LeadStatus.QUALIFIED

    def test_illegal_move_and_time_give_both_reasons(self, lead: Lead, utc_day: Day) -> None:
        """A refused status change lists every reason."""
        qualified = lead.qualify(at=utc_day(5))
        with pytest.raises(TransitionError) as info:
            qualified.contact(at=utc_day(4))
        assert len(info.value.reasons) == 2

    def test_naive_time_refused(self, lead: Lead) -> None:
        """A naive time raises ValueError about the timezone."""
        with pytest.raises(ValueError, match="timezone"):
            lead.contact(at=datetime(2026, 1, 2))

    def test_status_moves_return_new_leads(self, lead: Lead, utc_day: Day) -> None:
        """A status change returns a new lead and leaves the old one NEW."""
        lead.contact(at=utc_day(2))
        assert lead.status is LeadStatus.NEW


class TestConstruction:
    def test_naive_created_at_refused(self) -> None:
        """A naive created_at raises ValueError."""
        with pytest.raises(ValueError, match="Lead created_at must be timezone-aware"):
            Lead("L", created_at=datetime(2026, 1, 1))

    def test_blank_id_refused(self, utc_day: Day) -> None:
        """A blank id raises ValueError."""
        with pytest.raises(ValueError, match="Lead id"):
            Lead(" ", created_at=utc_day(1))

    def test_recorded_history(self, utc_day: Day) -> None:
        """A recorded legal history is kept as given."""
        history = [StatusChange("new", utc_day(1)), StatusChange("qualified", utc_day(2))]
        lead = Lead("L", created_at=utc_day(1), history=history)
        assert lead.status is LeadStatus.QUALIFIED
        assert lead.history == tuple(history)

    def test_recorded_illegal_history_refused(self, utc_day: Day) -> None:
        """A recorded history with an illegal step is refused."""
        history = [StatusChange("new", utc_day(1)), StatusChange("qualified", utc_day(2))]
        history.append(StatusChange("new", utc_day(3)))
        with pytest.raises(TransitionError):
            Lead("L", created_at=utc_day(1), history=history)

    def test_history_before_creation_refused(self, utc_day: Day) -> None:
        """A recorded history that starts before created_at is refused."""
        with pytest.raises(ValueError, match="before it was created"):
            Lead("L", created_at=utc_day(2), history=[StatusChange("new", utc_day(1))])

    def test_unknown_status_refused(self, utc_day: Day) -> None:
        """An unknown status string raises ValueError listing the statuses."""
        with pytest.raises(ValueError, match="'new', 'contacted'"):
            StatusChange("hot", utc_day(1))

    def test_frozen(self, lead: Lead) -> None:
        """A lead cannot be changed in place."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            lead.source = "ad"  # type: ignore[misc]

    def test_equal_and_hashable(self, utc_day: Day) -> None:
        """Leads built alike are equal and hash alike."""
        one = Lead("L", created_at=utc_day(1), source="ad").contact(at=utc_day(2))
        two = Lead("L", created_at=utc_day(1), source="ad").contact(at=utc_day(2))
        assert one == two
        assert hash(one) == hash(two)


class TestTouchpoints:
    def test_log_keeps_time_order(self, lead: Lead, utc_day: Day) -> None:
        """Touchpoints logged out of order are kept in time order."""
        late = Touchpoint(utc_day(4), "call")
        early = Touchpoint(utc_day(2), "ad")
        logged = lead.log(late).log(early)
        assert [t.channel for t in logged.touchpoints] == ["email", "ad", "call"]

    def test_log_refuses_other_values(self, lead: Lead) -> None:
        """log() takes Touchpoint values only."""
        with pytest.raises(TypeError, match="Touchpoint"):
            lead.log({"channel": "call"})  # type: ignore[arg-type]


class TestConvert:
    def test_deal_remembers_its_lead(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """The deal records lead_id, lead_created_at, source, owner and touchpoints."""
        qualified = lead.contact(at=utc_day(2)).qualify(at=utc_day(3))
        deal = qualified.convert(b2b, at=utc_day(4), value=Money(900, "EUR"))
        assert deal.id == "L-7"
        assert deal.lead_id == "L-7"
        assert deal.lead_created_at == utc_day(1)
        assert deal.created_at == utc_day(4)
        assert deal.source == "webinar"
        assert deal.owner == "ann"
        assert deal.value == Money(900, "EUR")
        assert deal.touchpoints == lead.touchpoints
        assert deal.stage.key == "Prospecting"

    def test_overrides(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """deal_id, owner, source, stage and attributes override the lead's."""
        deal = lead.convert(
            b2b,
            at=utc_day(2),
            deal_id="D-100",
            owner="bob",
            source="referral",
            stage="Initial contact",
            attributes={"tier": "gold"},
        )
        assert (deal.id, deal.owner, deal.source) == ("D-100", "bob", "referral")
        assert deal.stage.key == "Initial contact"
        assert deal.attributes == {"tier": "gold"}
        assert deal.lead_id == "L-7"

    def test_lead_is_unchanged(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """convert() leaves the lead's status alone."""
        lead.convert(b2b, at=utc_day(2))
        assert lead.status is LeadStatus.NEW

    def test_converted_deal_passes_check(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """A converted deal moves and replays like any other."""
        deal = lead.convert(b2b, at=utc_day(2)).advance(at=utc_day(3)).win(at=utc_day(4))
        assert b2b.check(deal) is None

    def test_disqualified_lead_refused(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """Converting a disqualified lead raises TransitionError."""
        dead = lead.disqualify(at=utc_day(2), reason="no budget")
        with pytest.raises(TransitionError, match="disqualified lead cannot become converted"):
            dead.convert(b2b, at=utc_day(3))

    def test_converted_lead_refused(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """A lead already marked converted cannot be converted again."""
        converted = lead.mark_converted(lead.convert(b2b, at=utc_day(2)))
        with pytest.raises(TransitionError):
            converted.convert(b2b, at=utc_day(3))

    def test_before_last_status_change_refused(
        self, lead: Lead, b2b: sf.Pipeline, utc_day: Day
    ) -> None:
        """A conversion dated before the lead's last status change is refused."""
        qualified = lead.qualify(at=utc_day(5))
        with pytest.raises(TransitionError, match="before its last status change"):
            qualified.convert(b2b, at=utc_day(4))

    def test_naive_time_refused(self, lead: Lead, b2b: sf.Pipeline) -> None:
        """A naive conversion time raises ValueError."""
        with pytest.raises(ValueError, match="timezone"):
            lead.convert(b2b, at=datetime(2026, 1, 5))


class TestMarkConverted:
    def test_records_the_deal(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """mark_converted() adds a CONVERTED change at the deal's creation, naming the deal."""
        deal = lead.convert(b2b, at=utc_day(6), deal_id="D-1")
        converted = lead.mark_converted(deal)
        assert converted.status is LeadStatus.CONVERTED
        assert converted.is_converted
        assert converted.converted_at == utc_day(6)
        assert converted.history[-1] == StatusChange("converted", utc_day(6), deal_id="D-1")

    def test_deal_of_another_lead_refused(self, lead: Lead, b2b: sf.Pipeline, utc_day: Day) -> None:
        """mark_converted() with a deal from another lead raises ValueError."""
        other = b2b.open_deal("D-2", at=utc_day(2))
        with pytest.raises(ValueError, match="was not converted from lead 'L-7'"):
            lead.mark_converted(other)
