"""Breakdowns (``by=``): field names, unknown fields, missing counts, several keys."""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from salesflow._cli import main
from salesflow.metrics._grouping import FIELDS, group, key_of

PIPELINE = sf.Pipeline.linear("Sales", ["Lead", "Demo"])


def day(n: int, hour: int = 0) -> datetime:
    """Day *n* of March 2026, UTC."""
    return datetime(2026, 3, n, hour, tzinfo=UTC)


@pytest.fixture
def trio() -> list[sf.Deal]:
    """Won (Ann, GTX, EUR), lost on 31 March for 'price' (Bob, MG), open (Ann, no product)."""
    won = (
        PIPELINE.open_deal(
            "A",
            at=day(1),
            owner="Ann",
            source="web",
            value=sf.Money(10, "EUR"),
            attributes={"product": "GTX", "region_name": "EU"},
        )
        .advance(at=day(2))
        .win(at=day(5))
    )
    lost = PIPELINE.open_deal("B", at=day(3), owner="Bob", attributes={"product": "MG"}).lose(
        at=day(31, 23), reason="price"
    )
    still_open = PIPELINE.open_deal("C", at=day(4), owner="Ann")
    return [won, lost, still_open]


def keys(deals: list[sf.Deal], by: Any, as_of: datetime | None = None) -> dict[str, Hashable]:
    """Deal id -> its key."""
    key = key_of(by, as_of)
    return {deal.id: key(deal) for deal in deals}


class TestUnknownField:
    def test_unknown_field_raises_with_suggestion(self, trio: list[sf.Deal]) -> None:
        """A field no deal has raises UnknownFieldError naming the known fields and the closest."""
        with pytest.raises(sf.UnknownFieldError) as info:
            m.win_rate(trio, by="region")
        error = info.value
        assert error.field == "region"
        assert error.suggestion == "region_name"
        assert error.known == tuple(sorted({*FIELDS, "product", "region_name"}))
        text = str(error)
        assert text.startswith("No deal has a field 'region'; the deals have 'closed_month'")
        assert text.endswith("did you mean 'region_name'?")

    def test_is_a_key_error_and_a_salesflow_error(self, trio: list[sf.Deal]) -> None:
        """UnknownFieldError is caught by except KeyError and except SalesflowError, unquoted."""
        with pytest.raises(KeyError) as info:
            m.funnel(trio, by="colour")
        assert isinstance(info.value, sf.SalesflowError)
        assert not str(info.value).startswith(("'", '"'))
        assert info.value.suggestion is None  # type: ignore[attr-defined]
        assert "or a function of the deal" in str(info.value)

    def test_case_is_forgiven_in_the_suggestion(self, trio: list[sf.Deal]) -> None:
        """A name in the wrong case suggests the right spelling."""
        with pytest.raises(sf.UnknownFieldError, match="did you mean 'product'"):
            m.win_rate(trio, by="PRODUCT")

    def test_unknown_field_in_a_tuple(self, trio: list[sf.Deal]) -> None:
        """Each attribute in a tuple is checked."""
        with pytest.raises(sf.UnknownFieldError, match="'prodcut'"):
            m.win_rate(trio, by=("owner", "prodcut"))

    def test_no_deals_no_error(self) -> None:
        """With no deals nothing can be checked: the breakdown is empty."""
        assert m.win_rate([], by="region") == {}

    def test_builtin_field_with_only_none_is_valid(self, trio: list[sf.Deal]) -> None:
        """A built-in field is valid even when every deal's value is None."""
        result = m.win_rate(trio, by="lead_id")
        assert list(result) == [None]
        assert result.missing == 0

    def test_attribute_set_to_none_counts_as_present(self, trio: list[sf.Deal]) -> None:
        """An attribute held with the value None is a field the deals have."""
        deal = PIPELINE.open_deal("N", at=day(1), attributes={"tier": None})
        result = m.win_rate([*trio, deal], by="tier")
        assert list(result) == [None]
        assert result.missing == 4

    def test_bad_by(self, trio: list[sf.Deal]) -> None:
        """A by that is neither a name, a function nor a tuple is a TypeError; () a ValueError."""
        with pytest.raises(TypeError, match="by must be"):
            m.win_rate(trio, by=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least one field"):
            m.win_rate(trio, by=())

    def test_cli_unknown_by_is_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`salesflow report --by region` on a file without it exits 2 with the suggestion."""
        from salesflow.datasets import synthetic
        from salesflow.io import write_events_csv

        path = tmp_path / "events.csv"
        write_events_csv(synthetic(30, seed=3), path)
        assert main(["report", str(path), "--by", "ownr"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "did you mean 'owner'?" in err


class TestMissing:
    def test_partial_field_reports_missing(self, trio: list[sf.Deal]) -> None:
        """Deals without the attribute are grouped under None and counted."""
        result = m.win_rate(trio, by="product")
        assert list(result) == ["GTX", "MG", None]
        assert result.missing == 1
        assert result[None].denominator == 0  # the open deal
        assert repr(result).endswith("; missing=1)")
        assert result.to_dict()["missing"] == 1

    def test_builtin_fields_report_no_missing(self, trio: list[sf.Deal]) -> None:
        """None from a built-in field (an open deal's close month) is not 'missing'."""
        result = m.win_rate(trio, by="closed_month")
        assert None in result
        assert result.missing == 0
        assert "missing" not in repr(result)

    def test_still_equal_to_a_dict(self, trio: list[sf.Deal]) -> None:
        """A breakdown with missing deals still equals the plain dict of its results."""
        result = m.average_deal_size(trio, by="product")
        assert result == {"GTX": sf.Money(10, "EUR"), "MG": None, None: None}


class TestSeveralKeys:
    def test_tuple_keys(self, trio: list[sf.Deal]) -> None:
        """by=("owner", "product") groups by both, with tuple keys, None last per position."""
        result = m.win_rate(trio, by=("owner", "product"))
        assert list(result) == [("Ann", "GTX"), ("Ann", None), ("Bob", "MG")]
        assert result.by == "owner, product"
        assert result.fields == ("owner", "product")
        assert result.missing == 1

    def test_single_field_keeps_plain_keys(self, trio: list[sf.Deal]) -> None:
        """One field (or a one-tuple) gives plain keys and by as the name."""
        result = m.win_rate(trio, by=("owner",))
        assert list(result) == ["Ann", "Bob"]
        assert result.by == "owner"
        assert result.fields == ("owner",)

    def test_functions_mix_with_names(self, trio: list[sf.Deal]) -> None:
        """A tuple may mix names and functions; a function's name labels it."""

        def big(deal: sf.Deal) -> bool:
            return deal.value is not None

        result = m.win_rate(trio, by=(big, "outcome"))
        assert result.by == "big, outcome"
        assert set(result) == {(True, "won"), (False, "lost"), (False, "open")}

    def test_to_dict_joins_keys(self, trio: list[sf.Deal]) -> None:
        """to_dict keeps its keys and gives tuple keys as 'a, b'."""
        data = m.win_rate(trio, by=("owner", "product")).to_dict()
        assert data["by"] == "owner, product"
        assert data["fields"] == ["owner", "product"]
        assert list(data["results"]) == ["Ann, GTX", "Ann, None", "Bob, MG"]
        assert list(m.win_rate(trio, by="owner").to_dict()) == [
            "metric",
            "by",
            "fields",
            "missing",
            "results",
        ]

    def test_frame_has_one_column_per_key(self, trio: list[sf.Deal]) -> None:
        """to_frame gives a column per grouping field, before the result's columns."""
        pytest.importorskip("pandas")
        frame = m.win_rate(trio, by=("owner", "product")).to_frame()
        assert list(frame.columns[:3]) == ["owner", "product", "numerator"]
        assert list(frame["owner"]) == ["Ann", "Ann", "Bob"]
        assert frame["product"].isna().tolist() == [False, True, False]
        assert list(frame["denominator"]) == [1, 0, 1]

    def test_frame_with_repeated_names(self, trio: list[sf.Deal]) -> None:
        """Two functions with one name get distinct columns."""
        pytest.importorskip("pandas")
        frame = m.win_rate(trio, by=(lambda d: d.owner, lambda d: d.source)).to_frame()
        assert list(frame.columns[:2]) == ["<lambda>", "<lambda>_2"]

    def test_empty_frame_has_the_key_columns(self) -> None:
        """An empty breakdown's frame still has one column per field."""
        pytest.importorskip("pandas")
        assert list(m.win_rate([], by=("owner", "source")).to_frame().columns) == [
            "owner",
            "source",
        ]

    def test_report_by_several_keys(self, trio: list[sf.Deal]) -> None:
        """salesflow.report accepts several keys too."""
        with pytest.warns(sf.SalesflowWarning):
            result = sf.report(trio, by=("owner", "product"))
        assert list(result) == [("Ann", "GTX"), ("Ann", None), ("Bob", "MG")]


class TestBuiltinFields:
    def test_plain_fields(self, trio: list[sf.Deal]) -> None:
        """owner, source, currency and pipeline read the deal's fields."""
        assert keys(trio, "owner") == {"A": "Ann", "B": "Bob", "C": "Ann"}
        assert keys(trio, "source") == {"A": "web", "B": None, "C": None}
        assert keys(trio, "currency") == {"A": "EUR", "B": None, "C": None}
        assert keys(trio, "pipeline") == {"A": "Sales", "B": "Sales", "C": "Sales"}

    def test_stage_and_outcome_at_the_cut_off(self, trio: list[sf.Deal]) -> None:
        """stage and outcome are taken at the cut-off; None before the deal exists."""
        assert keys(trio, "stage") == {"A": "Closed won", "B": "Closed lost", "C": "Lead"}
        assert keys(trio, "outcome") == {"A": "won", "B": "lost", "C": "open"}
        assert keys(trio, "stage", day(2)) == {"A": "Demo", "B": None, "C": None}
        assert keys(trio, "outcome", day(31)) == {"A": "won", "B": "open", "C": "open"}

    def test_lost_reason(self, trio: list[sf.Deal]) -> None:
        """lost_reason is the reason while lost at the cut-off, else None."""
        assert keys(trio, "lost_reason") == {"A": None, "B": "price", "C": None}
        assert keys(trio, "lost_reason", day(31)) == {"A": None, "B": None, "C": None}

    def test_lost_reason_of_a_deal_reopened_later(self) -> None:
        """A deal lost at the cut-off and reopened after it keeps the reason it had then."""
        deal = PIPELINE.open_deal("R", at=day(1)).lose(at=day(2), reason="timing").reopen(at=day(9))
        assert keys([deal], "lost_reason", day(5)) == {"R": "timing"}
        assert keys([deal], "lost_reason") == {"R": None}
        assert keys([deal], "closed_month", day(5)) == {"R": "2026-03"}
        assert keys([deal], "closed_month") == {"R": None}

    def test_lead_id(self) -> None:
        """lead_id is the id of the lead a deal was converted from."""
        lead = sf.Lead("L-7", created_at=day(1))
        deal = lead.convert(PIPELINE, at=day(2))
        assert keys([deal], "lead_id") == {deal.id: "L-7"}

    def test_created_periods(self, trio: list[sf.Deal]) -> None:
        """created_month, created_quarter and created_year come from the creation time."""
        assert set(keys(trio, "created_month").values()) == {"2026-03"}
        assert set(keys(trio, "created_quarter").values()) == {"2026Q1"}
        assert set(keys(trio, "created_year").values()) == {2026}

    def test_closed_periods(self, trio: list[sf.Deal]) -> None:
        """closed_* come from the close, None while open at the cut-off."""
        assert keys(trio, "closed_month") == {"A": "2026-03", "B": "2026-03", "C": None}
        assert keys(trio, "closed_quarter") == {"A": "2026Q1", "B": "2026Q1", "C": None}
        assert keys(trio, "closed_year") == {"A": 2026, "B": 2026, "C": None}
        assert keys(trio, "closed_month", day(31)) == {"A": "2026-03", "B": None, "C": None}

    def test_periods_are_in_utc(self) -> None:
        """An evening in New York on 31 March is April (Q2) in UTC."""
        evening = datetime(2026, 3, 31, 21, tzinfo=timezone(timedelta(hours=-5)))
        deal = PIPELINE.open_deal("U", at=evening).win(at=datetime(2026, 12, 31, 20, tzinfo=UTC))
        assert key_of(("created_month", "created_quarter", "closed_year"))(deal) == (
            "2026-04",
            "2026Q2",
            2026,
        )

    def test_builtin_wins_over_an_attribute(self) -> None:
        """A built-in name reads the field, not an attribute of the same name."""
        deal = PIPELINE.open_deal("S", at=day(1), attributes={"stage": "custom"})
        assert keys([deal], "stage") == {"S": "Lead"}

    def test_every_builtin_field_is_accepted(self, trio: list[sf.Deal]) -> None:
        """Every built-in name gives a breakdown covering every deal."""
        for name in FIELDS:
            result = m.funnel(trio, by=name)
            assert result.by == name
            assert result.missing == 0


ATTRIBUTE_VALUES = st.sampled_from(["x", "y", None])
T0 = datetime(2025, 11, 20, tzinfo=UTC)


@st.composite
def grouped_deals(draw: st.DrawFn) -> list[sf.Deal]:
    """Deals with an owner and sometimes attributes a and b, some won or lost."""
    out = []
    for i in range(draw(st.integers(0, 20))):
        attributes = {}
        for name in ("a", "b"):
            if draw(st.booleans()):
                attributes[name] = draw(ATTRIBUTE_VALUES)
        at = T0 + timedelta(days=draw(st.integers(0, 90)))
        deal = PIPELINE.open_deal(
            f"d{i}",
            at=at,
            owner=draw(st.sampled_from(["Ann", "Bob", None])),
            attributes=attributes,
        )
        end = draw(st.sampled_from(["open", "won", "lost"]))
        at += timedelta(days=draw(st.integers(0, 60)))
        if end == "won":
            deal = deal.win(at=at)
        elif end == "lost":
            deal = deal.lose(at=at, reason=draw(st.sampled_from(["price", None])))
        out.append(deal)
    return out


BYS = st.sampled_from(
    ["owner", "outcome", "closed_quarter", "created_month", "stage", "lost_reason"]
)


class TestInvariants:
    @given(grouped_deals(), BYS, st.none() | st.just(T0 + timedelta(days=60)))
    def test_groups_partition_the_deals(
        self, deals: list[sf.Deal], by: str, as_of: datetime | None
    ) -> None:
        """The groups' win-rate denominators and numerators add up to the ungrouped ones."""
        whole = m.win_rate(deals, as_of=as_of)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.SalesflowWarning)  # lost deals without reasons
            parts = m.win_rate(deals, by=by, as_of=as_of).values()
        assert sum(rate.denominator for rate in parts) == whole.denominator
        assert sum(rate.numerator for rate in parts) == whole.numerator

    @given(grouped_deals())
    def test_pairs_refine_singles(self, deals: list[sf.Deal]) -> None:
        """Grouping by (a, b) splits each group of a: members and counts agree."""
        if not any("a" in deal.attributes for deal in deals) or not any(
            "b" in deal.attributes for deal in deals
        ):
            return
        singles = group(deals, "a").groups
        pairs: dict[tuple[Hashable, Hashable], list[sf.Deal]] = {
            (k[0], k[1]): members
            for k, members in group(deals, ("a", "b")).groups.items()
            if isinstance(k, tuple)
        }
        assert sum(map(len, pairs.values())) == len(deals)
        for (first, _), members in pairs.items():
            assert {d.id for d in members} <= {d.id for d in singles[first]}
        for first, members in singles.items():
            assert sum(len(ms) for k, ms in pairs.items() if k[0] == first) == len(members)
        whole = m.win_rate(deals, by="a")
        fine = m.win_rate(deals, by=("a", "b"))
        for first, rate in whole.items():
            split = [
                r.denominator for k, r in fine.items() if isinstance(k, tuple) and k[0] == first
            ]
            assert sum(split) == rate.denominator

    @given(grouped_deals())
    def test_missing_counts_deals_without_the_attribute(self, deals: list[sf.Deal]) -> None:
        """missing is the number of deals whose attribute is absent or None."""
        if not deals:
            assert group(deals, "a").missing == 0
            return
        if not any("a" in deal.attributes for deal in deals):
            with pytest.raises(sf.UnknownFieldError):
                group(deals, "a")
            return
        expected = sum(deal.attributes.get("a") is None for deal in deals)
        assert group(deals, "a").missing == expected
        assert group(deals, ("owner", "a")).missing == expected

    @given(grouped_deals(), st.randoms(use_true_random=False))
    def test_order_does_not_matter(self, deals: list[sf.Deal], random: Any) -> None:
        """Shuffling the deals changes neither the keys' order nor the results."""
        shuffled = list(deals)
        random.shuffle(shuffled)
        by = ("owner", "outcome")
        first = m.win_rate(deals, by=by)
        second = m.win_rate(shuffled, by=by)
        assert list(first) == list(second)
        assert first == second
