"""What every deal metric shares: the check that it was given deals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from salesflow.metrics._common import deals_of
from tests.conftest import EPOCH

P = sf.Pipeline.linear("Sales", ["Lead", "Demo"], probabilities=[0.2, 0.5])
USD = sf.Money(10, "USD")

#: Every metric that takes deals, called with its required arguments besides the deals.
METRICS: dict[str, Callable[[Any], object]] = {
    "report": lambda d: sf.report(d),
    "win_rate": lambda d: m.win_rate(d),
    "funnel": lambda d: m.funnel(d),
    "stage_conversion": lambda d: m.stage_conversion(d, "Lead", "Demo"),
    "average_deal_size": lambda d: m.average_deal_size(d),
    "pipeline_value": lambda d: m.pipeline_value(d),
    "weighted_pipeline": lambda d: m.weighted_pipeline(d),
    "pipeline_coverage": lambda d: m.pipeline_coverage(d, USD),
    "time_in_stage": lambda d: m.time_in_stage(d),
    "sales_cycle": lambda d: m.sales_cycle(d),
    "sales_velocity": lambda d: m.sales_velocity(d),
    "attribution": lambda d: m.attribution(d),
    "win_probability": lambda d: m.win_probability(d),
    "expected_time_to_close": lambda d: m.expected_time_to_close(d),
    "transition_counts": lambda d: m.transition_counts(d),
}


def lead(lead_id: str = "L1") -> sf.Lead:
    return sf.Lead(lead_id, created_at=EPOCH)


def deals() -> list[sf.Deal]:
    """A won, a lost and an open deal, all worth 10 USD."""
    day = timedelta(days=1)
    return [
        P.open_deal("a", at=EPOCH, value=USD).advance(at=EPOCH + day).win(at=EPOCH + 3 * day),
        P.open_deal("b", at=EPOCH, value=USD).lose(at=EPOCH + 2 * day),
        P.open_deal("c", at=EPOCH, value=USD),
    ]


class TestWrongKind:
    @pytest.mark.parametrize("name", sorted(METRICS))
    def test_leads_name_the_right_call(self, name: str) -> None:
        """Every deal metric given leads says which metric measures leads and how to convert them."""
        msg = (
            rf"^{name}\(\) takes deals, got a Lead \('L1'\); measure leads with "
            r"salesflow\.metrics\.lead_conversion\(leads, deals=deals\), or convert them with "
            r"lead\.convert\(pipeline, at=\.\.\.\)\.$"
        )
        with pytest.raises(TypeError, match=msg):
            METRICS[name]([lead()])

    @pytest.mark.parametrize("name", sorted(METRICS))
    def test_leads_from_a_generator(self, name: str) -> None:
        """A one-shot iterator of leads is caught the same way."""
        with pytest.raises(TypeError, match=rf"^{name}\(\) takes deals, got a Lead"):
            METRICS[name](lead(f"L{i}") for i in range(3))

    @pytest.mark.parametrize("name", sorted(METRICS))
    def test_deals_work_as_before(self, name: str) -> None:
        """The check lets lists and one-shot iterators of deals through, and the result is the same."""
        assert METRICS[name](iter(deals())) == METRICS[name](deals())

    def test_a_single_deal(self) -> None:
        """One deal instead of a list says to pass a list."""
        with pytest.raises(
            TypeError,
            match=r"^win_rate\(\) takes an iterable of deals, got a single Deal \('c'\); "
            r"pass a list: win_rate\(\[deal\]\)\.$",
        ):
            m.win_rate(deals()[2])  # type: ignore[arg-type]

    def test_a_file_name(self) -> None:
        """A path given as the deals says to load the file first."""
        with pytest.raises(
            TypeError,
            match=r"^report\(\) takes deals, got a str \('deals\.csv'\); load a file with "
            r"salesflow\.io\.read_events_csv\(path, pipeline\)",
        ):
            sf.report("deals.csv")

    def test_a_dict_of_deals(self) -> None:
        """A dict of deals says to pass its values."""
        by_id = {d.id: d for d in deals()}
        with pytest.raises(
            TypeError, match=r"got a dict of deals; pass its values: funnel\(mapping\.values\(\)\)"
        ):
            m.funnel(by_id)  # type: ignore[arg-type]

    def test_a_data_frame(self) -> None:
        """A DataFrame says to build deals from it with from_frame."""
        pd = pytest.importorskip("pandas")
        with pytest.raises(
            TypeError, match=r"got a DataFrame; build the deals with salesflow\.io\.from_frame"
        ):
            m.win_rate(pd.DataFrame({"deal_id": ["a"]}))

    @pytest.mark.parametrize(("value", "shown"), [(3, r"an int \(3\)"), (None, "None")])
    def test_not_iterable(self, value: object, shown: str) -> None:
        """Something that is not iterable at all names its type and value."""
        with pytest.raises(
            TypeError, match=rf"^sales_cycle\(\) takes an iterable of deals, got {shown}"
        ):
            m.sales_cycle(value)  # type: ignore[arg-type]

    def test_a_long_value_is_cut(self) -> None:
        """The value shown in the message is cut to 60 characters."""
        with pytest.raises(TypeError) as info:
            m.win_rate([list(range(100))])  # type: ignore[list-item]
        shown = str(info.value).split("(", 2)[2].split("); ")[0]
        assert len(shown) <= 60
        assert shown.endswith("...")


class TestDealsOf:
    @given(
        n=st.integers(min_value=0, max_value=5),
        kind=st.sampled_from(["list", "tuple", "iter", "gen"]),
    )
    def test_gives_back_every_deal_in_order(self, n: int, kind: str) -> None:
        """Whatever the container, the deals come back complete and in order."""
        given_deals = (deals() * 2)[:n]
        containers: dict[str, Callable[[], Iterable[sf.Deal]]] = {
            "list": lambda: list(given_deals),
            "tuple": lambda: tuple(given_deals),
            "iter": lambda: iter(given_deals),
            "gen": lambda: (d for d in given_deals),
        }
        assert list(deals_of(containers[kind](), "x")) == given_deals

    def test_a_sequence_comes_back_as_it_is(self) -> None:
        """A list is not copied or wrapped."""
        given_deals = deals()
        assert deals_of(given_deals, "x") is given_deals

    def test_a_reiterable_collection_comes_back_as_it_is(self) -> None:
        """A collection that is not an iterator (dict values) is returned as given, still whole."""
        values = {d.id: d for d in deals()}.values()
        assert deals_of(values, "x") is values
        assert len(list(values)) == 3
