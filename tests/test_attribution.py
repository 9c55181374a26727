"""Tests for multi-touch attribution in salesflow.metrics._attribution."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesflow as sf
from salesflow import CurrencyMismatchError, Money, Touchpoint
from salesflow._deal import assemble, info_of
from salesflow.metrics._attribution import (
    NO_TOUCHPOINT,
    NOT_SET,
    Attribution,
    attribution,
    attribution_shares,
)

WON = datetime(2026, 3, 1, tzinfo=UTC)
MODELS = ["first", "last", "linear", "time_decay", "position", "w_shaped"]

# REFERENCE.md, "Time-decay attribution": half-life 7 days, a 12,000 conversion.
DECAY_DAYS = [38, 33, 26, 8, 0]
DECAY_SHARES = [0.014600, 0.023953, 0.047906, 0.284754, 0.628787]
TWELVE_THOUSAND = Money(12_000, "USD")
DECAY_ROUNDED = ["175.20", "287.44", "574.88", "3417.04", "7545.45"]


def before(days: float) -> datetime:
    return WON - timedelta(days=days)


def won_deal(
    touches: Sequence[tuple[float, str]],
    value: Money | None = TWELVE_THOUSAND,
    *,
    deal_id: str = "D-1",
    created: float = 60,
    won: datetime = WON,
) -> sf.Deal:
    """A B2B deal opened *created* days before *won*, touched (days before WON, channel), won."""
    deal = sf.templates.b2b().open_deal(deal_id, at=won - timedelta(days=created), value=value)
    for days, channel in touches:
        deal = deal.log(Touchpoint(before(days), channel))
    return deal.win(at=won)


def shares(days: Sequence[float], model: str, **options: object) -> list[float]:
    return attribution_shares([before(d) for d in days], WON, model=model, **options)  # type: ignore[arg-type]


class TestAttributionShares:
    def test_time_decay_reference_vector(self) -> None:
        """Half-life 7 days, touches 38/33/26/8/0 days out reproduce REFERENCE.md to 6 decimals."""
        assert [round(s, 6) for s in shares(DECAY_DAYS, "time_decay")] == DECAY_SHARES

    def test_one_half_life_halves_the_weight(self) -> None:
        """A touch one half-life older weighs half: shares 1/3 and 2/3."""
        result = shares([3, 0], "time_decay", half_life=timedelta(days=3))
        assert result == pytest.approx([1 / 3, 2 / 3], abs=1e-15)

    def test_time_decay_is_relative_to_the_conversion_gaps(self) -> None:
        """Very old journeys keep their shares; no weight underflows to zero."""
        result = shares([100_007, 100_000], "time_decay")
        assert result == pytest.approx([1 / 3, 2 / 3], abs=1e-15)

    @pytest.mark.parametrize(
        ("n", "expected"),
        [
            (1, [1.0]),
            (2, [0.5, 0.5]),
            (3, [0.4, 0.2, 0.4]),
            (5, [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4]),
        ],
    )
    def test_position_reference_vectors(self, n: int, expected: list[float]) -> None:
        """40/20/40: REFERENCE.md gives [1.0], [0.5, 0.5] and [0.4, 0.0667 x 3, 0.4]."""
        assert shares(list(range(n, 0, -1)), "position") == pytest.approx(expected, abs=1e-15)

    def test_position_n5_to_four_decimals(self) -> None:
        """The n = 5 middle share is 0.0667 when rounded as in REFERENCE.md."""
        assert [round(s, 4) for s in shares([5, 4, 3, 2, 1], "position")] == [
            0.4,
            0.0667,
            0.0667,
            0.0667,
            0.4,
        ]

    @pytest.mark.parametrize(
        ("model", "expected"),
        [("first", [1.0, 0, 0, 0]), ("last", [0, 0, 0, 1.0]), ("linear", [0.25] * 4)],
    )
    def test_simple_models(self, model: str, expected: list[float]) -> None:
        """First and last give all to one end; linear gives 1/n each."""
        assert shares([9, 6, 3, 0], model) == expected

    def test_shares_follow_the_given_order(self) -> None:
        """Shares are returned in input order even when times are not sorted."""
        assert shares([0, 9, 3], "first") == [0.0, 1.0, 0.0]
        assert shares([0, 9, 3], "position") == pytest.approx([0.4, 0.4, 0.2])

    def test_w_shaped_three_distinct_milestones(self) -> None:
        """30 % to first, lead-creation and opportunity-creation touches; 10 % split over the rest."""
        milestones = (before(25), before(15))  # after the 2nd touch, after the 4th
        result = shares([30, 28, 20, 16, 5], "w_shaped", milestones=milestones)
        assert result == pytest.approx([0.3, 0.3, 0.05, 0.3, 0.05])

    def test_w_shaped_coinciding_milestones_merge(self) -> None:
        """When the first touch also created the lead it gets 30 % + 30 %."""
        milestones = (before(29), before(15))
        result = shares([30, 20, 16, 5], "w_shaped", milestones=milestones)
        assert result == pytest.approx([0.6, 0.05, 0.3, 0.05])

    def test_w_shaped_all_milestones_on_one_touch(self) -> None:
        """Three coinciding milestones give 90 % to that touch."""
        milestones = (before(29), before(29))
        result = shares([30, 20, 10], "w_shaped", milestones=milestones)
        assert result == pytest.approx([0.9, 0.05, 0.05])

    def test_w_shaped_milestone_without_touch(self) -> None:
        """A lead created before any touch has no touch to credit: 45 / 45 / 10."""
        milestones = (before(40), before(15))
        result = shares([30, 20, 16, 5], "w_shaped", milestones=milestones)
        assert result == pytest.approx([0.45, 0.05, 0.45, 0.05])

    def test_w_shaped_without_other_touches(self) -> None:
        """With every touch a milestone, the 10 % follows the milestones: a third each."""
        milestones = (before(15), before(5))
        result = shares([30, 20, 10], "w_shaped", milestones=milestones)
        assert result == pytest.approx([1 / 3, 1 / 3, 1 / 3])

    def test_w_shaped_two_touches_with_merged_milestone(self) -> None:
        """First = lead touch and a separate opportunity touch, nothing else: 2/3 and 1/3."""
        milestones = (before(29), before(15))
        assert shares([30, 20], "w_shaped", milestones=milestones) == pytest.approx([2 / 3, 1 / 3])

    def test_w_shaped_single_touch(self) -> None:
        """A one-touch journey gets everything whatever the milestones."""
        assert shares([3], "w_shaped", milestones=(before(9), before(1))) == [1.0]

    def test_w_shaped_needs_milestones(self) -> None:
        """W-shaped without milestones raises ValueError."""
        with pytest.raises(ValueError, match="needs milestones"):
            shares([3, 2], "w_shaped")

    def test_no_touches_is_refused(self) -> None:
        """An empty journey has no shares: ValueError."""
        with pytest.raises(ValueError, match="at least one touch"):
            shares([], "linear")

    def test_touch_after_conversion_is_refused(self) -> None:
        """A touch after the conversion raises ValueError."""
        with pytest.raises(ValueError, match="after the conversion"):
            shares([3, -1], "linear")

    def test_unknown_model_is_refused(self) -> None:
        """An unknown model name raises ValueError listing the models."""
        with pytest.raises(ValueError, match=r"model must be one of .*'w_shaped', got 'u_shaped'"):
            shares([3], "u_shaped")

    @pytest.mark.parametrize(
        ("half_life", "error"),
        [(timedelta(0), ValueError), (timedelta(days=-1), ValueError), (7, TypeError)],
    )
    def test_bad_half_life(self, half_life: object, error: type[Exception]) -> None:
        """The half-life must be a positive timedelta."""
        with pytest.raises(error, match="half_life must be"):
            shares([3], "time_decay", half_life=half_life)

    def test_naive_time_is_refused(self) -> None:
        """Naive datetimes raise ValueError."""
        with pytest.raises(ValueError, match="timezone-aware"):
            attribution_shares([datetime(2026, 1, 1)], WON, model="first")

    @settings(max_examples=200)
    @given(
        model=st.sampled_from(MODELS),
        offsets=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
        lead=st.integers(min_value=0, max_value=10**7),
        opportunity=st.integers(min_value=0, max_value=10**7),
    )
    def test_shares_are_a_distribution(
        self, model: str, offsets: list[int], lead: int, opportunity: int
    ) -> None:
        """For any journey and model, shares lie in [0, 1] and sum to 1."""
        times = [WON - timedelta(seconds=s) for s in offsets]
        milestones = (WON - timedelta(seconds=lead), WON - timedelta(seconds=opportunity))
        result = attribution_shares(times, WON, model=model, milestones=milestones)  # type: ignore[arg-type]
        assert len(result) == len(times)
        assert all(0.0 <= s <= 1.0 for s in result)
        assert math.fsum(result) == pytest.approx(1.0, abs=1e-12)


class TestAttribution:
    def test_time_decay_reference_credits(self) -> None:
        """The REFERENCE.md credits, with the surplus cent removed so they sum to exactly 12,000."""
        deal = won_deal([(d, f"c{i}") for i, d in enumerate(DECAY_DAYS)])
        result = attribution([deal], model="time_decay")
        credits = [result[f"c{i}"].amount for i in range(5)]
        reference = [Decimal(x) for x in DECAY_ROUNDED]
        assert sum(reference) == Decimal("12000.01")  # rounding each to the nearest cent overshoots
        assert sum(credits) == Decimal(12_000)
        assert credits == [Decimal("175.19"), *reference[1:]]
        assert all(abs(c - r) <= Decimal("0.01") for c, r in zip(credits, reference, strict=True))

    def test_first_touch_default(self) -> None:
        """By default the first touch gets the whole value."""
        deal = won_deal([(10, "event"), (5, "email"), (1, "call")])
        result = attribution([deal])
        assert result.model == "first"
        assert result["event"] == Money(12_000, "USD")
        assert result["email"] == result["call"] == Money(0, "USD")

    def test_last_touch(self) -> None:
        """Last-touch credits the last touch at or before the win."""
        deal = won_deal([(10, "event"), (5, "email"), (0, "call")])
        assert attribution([deal], model="last")["call"] == Money(12_000, "USD")

    def test_linear_splits_evenly_and_sums_exactly(self) -> None:
        """100 over three touches: 33.34 + 33.33 + 33.33, the extra cent to the first touched."""
        deal = won_deal([(3, "a"), (2, "b"), (1, "c")], Money(100, "USD"))
        result = attribution([deal], model="linear")
        assert [result[k] for k in "abc"] == [
            Money("33.34", "USD"),
            Money("33.33", "USD"),
            Money("33.33", "USD"),
        ]

    def test_touches_of_one_key_are_pooled(self) -> None:
        """Two emails and an ad under linear: emails 2/3, ad 1/3 of 1,000."""
        deal = won_deal([(3, "email"), (2, "ad"), (1, "email")], Money(1000, "USD"))
        result = attribution([deal], model="linear")
        assert dict(result) == {"email": Money("666.67", "USD"), "ad": Money("333.33", "USD")}

    def test_value_exponent_sets_the_unit(self) -> None:
        """A value with three decimals is split in thousandths and still sums exactly."""
        deal = won_deal([(3, "a"), (2, "b"), (1, "c")], Money("100.005", "USD"))
        result = attribution([deal], model="linear")
        assert [result[k].amount for k in "abc"] == [
            Decimal("33.335"),
            Decimal("33.335"),
            Decimal("33.335"),
        ]

    def test_negative_value_is_split_exactly(self) -> None:
        """A negative value (a clawback) is split like a positive one, signs kept."""
        deal = won_deal([(3, "a"), (2, "b"), (1, "c")], Money(100, "USD"))
        # The model refuses negative deal values; a loader with allow_negative=True builds them.
        info = attrs.evolve(info_of(deal), value=Money(-100, "USD"))
        deal = assemble(deal.pipeline, deal.id, deal.stage_keys, deal.stage_times, None, info)
        result = attribution([deal], model="linear")
        assert [result[k].amount for k in "abc"] == [
            Decimal("-33.34"),
            Decimal("-33.33"),
            Decimal("-33.33"),
        ]

    def test_position_credits(self) -> None:
        """40/20/40 over five touches of 15,000: 6,000, three times 1,000, 6,000."""
        deal = won_deal([(5, "a"), (4, "b"), (3, "c"), (2, "d"), (1, "e")], Money(15_000, "USD"))
        result = attribution([deal], model="position")
        assert [result[k].amount for k in "abcde"] == [6000, 1000, 1000, 1000, 6000]

    def test_w_shaped_from_a_lead(self) -> None:
        """Lead touches then deal touches: first, lead-creation and opportunity touches get 30 % each."""
        lead = sf.Lead("L-1", created_at=before(25))
        lead = lead.log(Touchpoint(before(30), "ad")).log(Touchpoint(before(26), "webinar"))
        lead = lead.log(Touchpoint(before(20), "email")).log(Touchpoint(before(16), "call"))
        deal = lead.convert(sf.templates.b2b(), at=before(15), value=Money(10_000, "USD"))
        deal = deal.log(Touchpoint(before(5), "demo")).win(at=WON)
        result = attribution([deal], model="w_shaped")
        assert dict(result) == {
            "ad": Money(3000, "USD"),
            "call": Money(3000, "USD"),
            "webinar": Money(3000, "USD"),
            "demo": Money(500, "USD"),
            "email": Money(500, "USD"),
        }

    def test_w_shaped_without_a_lead_uses_deal_creation(self) -> None:
        """Without a lead, lead and opportunity creation coincide: that touch gets 60 %."""
        deal = won_deal([(30, "ad"), (20, "email"), (10, "call"), (5, "demo")], created=15)
        result = attribution([deal], model="w_shaped")
        assert [result[k].amount for k in ("ad", "email", "call", "demo")] == [3600, 7200, 600, 600]

    def test_only_won_deals_count(self) -> None:
        """Open and lost deals are not conversions."""
        pipeline = sf.templates.b2b()
        still_open = pipeline.open_deal("O", at=before(9), value=Money(500, "USD"))
        lost = pipeline.open_deal("L", at=before(9), value=Money(700, "USD")).lose(at=WON)
        won = won_deal([(3, "call")], Money(100, "USD"))
        result = attribution([still_open.log(Touchpoint(before(2), "ad")), lost, won])
        assert (result.conversions, result.total) == (1, Money(100, "USD"))
        assert dict(result) == {"call": Money(100, "USD")}

    def test_won_deal_without_value_is_counted_not_credited(self) -> None:
        """A won deal with no value shows in unvalued and credits nothing."""
        result = attribution([won_deal([(3, "call")], None), won_deal([(2, "ad")], deal_id="D-2")])
        assert (result.conversions, result.unvalued) == (1, 1)
        assert list(result) == ["ad"]

    def test_touches_after_the_win_are_ignored(self) -> None:
        """A touch logged after the win earns nothing."""
        deal = won_deal([(3, "call")]).log(Touchpoint(WON + timedelta(days=1), "survey"))
        result = attribution([deal], model="last")
        assert dict(result) == {"call": Money(12_000, "USD")}

    def test_deal_without_touches_goes_to_its_own_bucket(self) -> None:
        """A won deal with no touch before the win is credited to '(no touchpoint)'."""
        result = attribution([won_deal([]), won_deal([(1, "ad")], Money(1, "USD"), deal_id="D-2")])
        assert result[NO_TOUCHPOINT] == Money(12_000, "USD")
        assert result.total == Money(12_001, "USD")

    def test_missing_key_value_is_not_set(self) -> None:
        """Grouping by campaign puts touches without one under '(not set)'."""
        deal = sf.templates.b2b().open_deal("D", at=before(9), value=Money(90, "USD"))
        deal = deal.log(Touchpoint(before(3), "ad", campaign="spring")).log(
            Touchpoint(before(2), "call")
        )
        result = attribution([deal.win(at=WON)], model="linear", key="campaign")
        assert dict(result) == {"spring": Money(45, "USD"), NOT_SET: Money(45, "USD")}
        assert result.key == "campaign"

    def test_key_function(self) -> None:
        """A function of the touchpoint can define the key."""

        def kind(touch: Touchpoint) -> str:
            return "paid" if touch.channel == "ad" else "organic"

        deal = won_deal([(3, "ad"), (2, "web"), (1, "email")], Money(300, "USD"))
        result = attribution([deal], model="linear", key=kind)
        assert dict(result) == {"organic": Money(200, "USD"), "paid": Money(100, "USD")}
        assert result.key == "kind"

    def test_unknown_key_field_is_refused(self) -> None:
        """A key that is not a text field of Touchpoint raises ValueError."""
        with pytest.raises(ValueError, match="key must be one of 'channel'"):
            attribution([], key="cost")

    def test_key_function_must_return_text(self) -> None:
        """A key function returning a non-string raises TypeError."""
        with pytest.raises(TypeError, match="must return a str or None, got 3"):
            attribution([won_deal([(1, "ad")])], key=lambda t: 3)  # type: ignore[arg-type,return-value]

    def test_mixed_currencies_are_refused(self) -> None:
        """Won deals in two currencies raise CurrencyMismatchError."""
        deals = [won_deal([(1, "ad")]), won_deal([(1, "ad")], Money(5, "EUR"), deal_id="D-2")]
        with pytest.raises(CurrencyMismatchError, match="one currency at a time") as info:
            attribution(deals)
        assert info.value.currencies == ("USD", "EUR")

    def test_as_of_ignores_later_wins_and_touches(self) -> None:
        """A deal won after the cut-off is not a conversion yet."""
        early = won_deal([(3, "ad")], Money(10, "USD"), won=WON - timedelta(days=2))
        late = won_deal([(3, "call")], Money(20, "USD"), deal_id="D-2")
        result = attribution([early, late], as_of=WON - timedelta(days=1))
        assert dict(result) == {"ad": Money(10, "USD")}

    def test_between_selects_wins_by_close_date(self) -> None:
        """Only wins with start <= closed_at < end count."""
        early = won_deal([(30, "ad")], Money(10, "USD"), won=WON - timedelta(days=20))
        late = won_deal([(3, "call")], Money(20, "USD"), deal_id="D-2")
        result = attribution([early, late], between=(WON - timedelta(days=5), WON + timedelta(1)))
        assert dict(result) == {"call": Money(20, "USD")}

    def test_no_conversions(self) -> None:
        """No won deals: an empty result whose total is None, not 0."""
        result = attribution([])
        assert (len(result), result.conversions, result.total) == (0, 0, None)

    def test_result_is_a_readable_mapping(self) -> None:
        """The result maps keys to Money, largest first, and renders as text, HTML and JSON."""
        deal = won_deal([(d, f"c{i}") for i, d in enumerate(DECAY_DAYS)])
        result = attribution([deal], model="time_decay")
        assert isinstance(result, Attribution)
        assert list(result) == ["c4", "c3", "c2", "c1", "c0"]
        assert result.half_life == timedelta(days=7)
        assert "time_decay" in repr(result)
        assert "<table" in result._repr_html_()
        data = json.loads(json.dumps(result.to_dict()))
        assert data["credits"]["c0"] == {"amount": "175.19", "currency": "USD"}
        assert data["half_life_days"] == 7.0
        assert hash(result) == hash(attribution([deal], model="time_decay"))

    @settings(max_examples=150, deadline=None)
    @given(
        model=st.sampled_from(MODELS),
        journeys=st.lists(
            st.tuples(
                st.decimals(min_value=0, max_value=10**7, places=3),
                st.lists(
                    st.tuples(
                        st.integers(min_value=0, max_value=59 * 24 * 60),
                        st.sampled_from(["ad", "email", "call", "web"]),
                    ),
                    max_size=8,
                ),
            ),
            min_size=1,
            max_size=5,
        ),
    )
    def test_credits_sum_exactly_to_won_value(
        self, model: str, journeys: list[tuple[Decimal, list[tuple[int, str]]]]
    ) -> None:
        """Whatever the touches and values, credits add up to the won value to the last digit."""
        deals = [
            won_deal([(m / 1440, ch) for m, ch in touches], Money(value, "USD"), deal_id=f"D-{i}")
            for i, (value, touches) in enumerate(journeys)
        ]
        result = attribution(deals, model=model)  # type: ignore[arg-type]
        won = sum((value for value, _ in journeys), Decimal(0))
        assert result.total == Money(won, "USD")
        assert sum((credit.amount for credit in result.values()), Decimal(0)) == won
        assert all(credit.amount >= 0 for credit in result.values())
        assert attribution(deals[::-1], model=model) == result  # type: ignore[arg-type]
