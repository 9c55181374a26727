"""Regression tests for the model's findings of the hardening campaign (issue 10).

Each class is one finding: 4 (Money's range at the boundary), 8 (Money's
arithmetic), 11 (smaller crashes in the model), 12 (pickling and deep copies)
and 13 (inconsistencies a new user met).
"""

from __future__ import annotations

import copy
import io
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal, DecimalException
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesflow as sf
from salesflow.exceptions import LoadError, MoneyError, SalesflowError
from salesflow.io import read_events_csv
from tests.strategies import (
    SMALL,
    amounts,
    currencies,
    deals,
    leads,
    money,
    pipelines,
    sample_deals,
    stage_changes,
    stages,
    touchpoints,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
HEAD = "deal_id,stage,at,value,currency,owner"


def events(*rows: str) -> io.StringIO:
    return io.StringIO("\n".join([HEAD, *rows]) + "\n")


# ------------------------------------------------------------------ finding 8


class TestFinding8:
    """Money's arithmetic: a MoneyError where decimal used to overflow or round silently."""

    def test_finding8_overflowing_product_is_a_money_error(self) -> None:
        """Money('9e20') * 10 and * 1e999999999 raise MoneyError, not decimal.Overflow."""
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money("9e20", "USD") * 10
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money("9e20", "USD") * Decimal("1e999999999")
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money(1, "USD") / Decimal("1e-999999999")

    def test_finding8_quantize_to_many_places_works(self) -> None:
        """Money(23013).quantize(28) gives the amount back, where it raised InvalidOperation."""
        assert sf.Money(23013, "USD").quantize(28) == sf.Money(23013, "USD")
        with pytest.raises(MoneyError, match="places"):
            sf.Money(1, "USD").quantize(41)
        with pytest.raises(MoneyError, match="significant digits"):
            sf.Money("12345678901234567890", "USD").quantize(20)

    def test_finding8_addition_beyond_the_precision_is_refused_not_rounded(self) -> None:
        """A sum that needs 35 significant digits raises MoneyError instead of rounding."""
        big = sf.Money("12345678901234567890.12345678901234", "USD")
        with pytest.raises(MoneyError, match="35 significant digits"):
            big + sf.Money("0.000000000000001", "USD")
        with pytest.raises(MoneyError, match="35 significant digits"):
            sf.Money.total([big, sf.Money("0.000000000000001", "USD")])
        # The example is refused where it is made: it is above the range.
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money("123456789012345678901234567890.12", "USD")

    def test_finding8_money_error_is_a_value_error(self) -> None:
        """MoneyError is a SalesflowError and a ValueError, and says which part is wrong."""
        with pytest.raises(MoneyError) as info:
            sf.Money("1e30", "USD")
        assert isinstance(info.value, SalesflowError)
        assert isinstance(info.value, ValueError)
        assert (info.value.field, info.value.value) == ("amount", "1e30")

    @given(
        amounts(),
        currencies(),
        st.integers() | st.decimals(allow_nan=False, allow_infinity=False),
    )
    @settings(max_examples=300)
    def test_finding8_scaling_never_leaks_a_decimal_error(
        self, amount: Decimal, currency: str, factor: int | Decimal
    ) -> None:
        """Any amount times or over any finite factor is Money, MoneyError or ZeroDivisionError."""
        base = sf.Money(amount, currency)
        for operation in (lambda: base * factor, lambda: base / factor):
            try:
                result = operation()
            except (MoneyError, ZeroDivisionError):
                continue
            except DecimalException as exc:  # pragma: no cover - the regression
                pytest.fail(f"leaked {exc!r}")
            assert isinstance(result, sf.Money)
            assert result.amount.adjusted() < 21 or not result.amount

    @given(money(st.just("EUR")), money(st.just("EUR")))
    def test_finding8_addition_is_exact(self, a: sf.Money, b: sf.Money) -> None:
        """Sums and differences of amounts in range are exact, digit for digit."""
        assert (a + b).amount - a.amount == b.amount
        assert (a - b).amount + b.amount == a.amount


# ------------------------------------------------------------------ finding 4


class TestFinding4:
    """Money's documented range is enforced where an amount is made, so loaders reject it."""

    def test_finding4_huge_exponent_is_refused(self) -> None:
        """Money('1e999999999') raises MoneyError instead of crashing report() later."""
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money("1e999999999", "USD")

    def test_finding4_hundred_thousand_digits_are_refused(self) -> None:
        """A 100,000-digit amount, as a str or an int, raises a short MoneyError."""
        with pytest.raises(MoneyError, match="out of range") as info:
            sf.Money("9" * 100_000, "USD")
        assert len(str(info.value)) < 300
        with pytest.raises(MoneyError, match="out of range"):
            sf.Money(10**100_000, "USD")
        with pytest.raises(MoneyError, match="decimal places"):
            sf.Money("0." + "1" * 100_000, "USD")

    @pytest.mark.parametrize("amount", ["1" + "0" * 30, "9" * 100_000, "0." + "1" * 50])
    def test_finding4_loader_reports_an_amount_out_of_range(self, amount: str) -> None:
        """An amount beyond the range is a LoadError naming the value column."""
        pipeline = sf.templates.b2b()
        # The first row teaches the loader that USD is fine: the fast path must check too.
        rows = (
            "A,Prospecting,2026-01-05,100,USD,ana",
            f"B,Prospecting,2026-01-05,{amount},USD,ana",
        )
        with pytest.raises(LoadError) as info:
            read_events_csv(events(*rows), pipeline, timezone="UTC")
        assert info.value.column == "value"
        assert info.value.line == 3

    def test_finding4_record_out_of_range_is_a_schema_error(self) -> None:
        """Money.from_dict of an amount out of range raises SchemaError at $.amount."""
        with pytest.raises(sf.SchemaError) as info:
            sf.Money.from_dict({"amount": "1e999999999", "currency": "USD"})
        assert info.value.path == "$.amount"


# ------------------------------------------------------------------ finding 11


class TestFinding11:
    """Smaller crashes in the model become clear errors."""

    @pytest.mark.parametrize(
        ("field", "make"),
        [
            ("Deal id", lambda p: p.open_deal("A\ud800", at=T0)),
            ("DealInfo owner", lambda p: p.open_deal("A", at=T0, owner="x\udc00")),
            ("note", lambda p: p.open_deal("A", at=T0).advance(at=T0, note="\ud83d")),
            ("Deal attribute name", lambda p: p.open_deal("A", at=T0, attributes={"\udfff": 1})),
        ],
    )
    def test_finding11_lone_surrogates_are_refused_where_text_enters(
        self, field: str, make: Any
    ) -> None:
        """Text no file can hold (a lone UTF-16 surrogate) is refused when the deal is made."""
        with pytest.raises(ValueError, match="lone surrogate") as info:
            make(sf.templates.b2b())
        assert str(info.value).startswith(field)

    def test_finding11_lone_surrogate_in_an_attribute_value_fails_to_save_clearly(
        self, tmp_path: Any
    ) -> None:
        """Attribute values are free-form; saving one with a surrogate is a salesflow error."""
        pipeline = sf.templates.b2b()
        deal = pipeline.open_deal("A", at=T0, attributes={"k": ["v\udc00"]})
        with sf.io.SQLiteStore(tmp_path / "store.db") as store:
            store.create_schema()
            store.save_pipeline(pipeline)
            with pytest.raises(sf.NotSerializableError, match="lone surrogate"):
                store.save_deal(deal)
            assert store.load_deals() == []  # nothing half-written
        with pytest.raises(sf.SchemaError, match=r"\$\.attributes\.k\[0\]"):
            sf.io.write_deals_jsonl([deal], io.StringIO())

    def test_finding11_valid_non_ascii_text_is_kept(self) -> None:
        """The check costs ASCII nothing and leaves real Unicode alone."""
        deal = sf.templates.b2b().open_deal("Zoë-1", at=T0, owner="Łukasz", attributes={"é": "ü"})
        back = sf.Deal.from_dict(deal.to_dict(), deal.pipeline)
        assert (back.id, back.owner, dict(back.attributes)) == ("Zoë-1", "Łukasz", {"é": "ü"})

    def test_finding11_guard_returning_true_says_what_a_guard_returns(self) -> None:
        """A guard answering True raises a TypeError naming the guard and the answer."""

        def approve(deal: sf.Deal, target: sf.Stage, at: datetime) -> Any:
            return True

        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"], guards=[approve])
        deal = pipeline.open_deal("D-1", at=T0)
        with pytest.raises(
            TypeError, match=r"Guard <function .*approve.* returned True; a guard must return None"
        ):
            deal.advance(at=T0)

    def test_finding11_endless_touchpoint_window_is_refused(self) -> None:
        """RequireTouchpoint(within=999999999 days) is refused when it is built."""
        with pytest.raises(ValueError, match="within must be from 0 to 36525 days"):
            sf.RequireTouchpoint("Demo", "call", within=timedelta(days=999_999_999))
        with pytest.raises(ValueError, match="within"):
            sf.RequireTouchpoint("Demo", "call", within=timedelta(days=-1))
        assert sf.RequireTouchpoint("Demo", "call", within=timedelta(days=36_525)).within

    def test_finding11_huge_schema_version_is_a_schema_error(self) -> None:
        """Lead.from_dict({'schema': 10**5000}) raises SchemaError, not the int digit limit's ValueError."""
        with pytest.raises(
            sf.SchemaError, match="schema version an int of about 5000 digits"
        ) as info:
            sf.Lead.from_dict({"schema": 10**5000})
        assert info.value.path == "$.schema"

    def test_finding11_deeply_nested_attributes_name_their_path(self) -> None:
        """Attributes nested 1,000 deep raise SchemaError with the path, not RecursionError."""
        nested: Any = "leaf"
        for _ in range(1_000):
            nested = [nested]
        deal = sf.templates.b2b().open_deal("D-1", at=T0, attributes={"deep": nested})
        with pytest.raises(sf.SchemaError, match="nest at most 100") as info:
            deal.to_dict()
        assert info.value.path.startswith("$.attributes.deep[0][0]")
        lead = sf.Lead("L-1", created_at=T0, attributes={"deep": nested})
        with pytest.raises(sf.SchemaError):
            lead.to_dict()


# ------------------------------------------------------------------ finding 12


def _round_trips(value: object) -> None:
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
    assert copy.copy(value) == value


def _ids_and_stages(deal: sf.Deal) -> tuple[str, str, sf.Deal]:
    return deal.id, deal.stage.key, deal


class TestFinding12:
    """Every public value type pickles and deep-copies to an equal value."""

    @given(deals())
    @settings(max_examples=60)
    def test_finding12_deals_pickle_and_deep_copy(self, deal: sf.Deal) -> None:
        """A deal with any fields, attributes and guards survives pickle and deepcopy."""
        _round_trips(deal)
        assert pickle.loads(pickle.dumps(deal)).attributes == deal.attributes

    @given(leads())
    @settings(max_examples=40)
    def test_finding12_leads_pickle_and_deep_copy(self, lead: sf.Lead) -> None:
        """A lead with attributes (a read-only mapping) survives pickle and deepcopy."""
        _round_trips(lead)

    @given(st.one_of(pipelines(), money(), stages(), touchpoints(), stage_changes()))
    @settings(max_examples=60)
    def test_finding12_small_values_pickle_and_deep_copy(self, value: object) -> None:
        """Pipelines (with built-in guards), Money, Stage, Touchpoint and StageChange round-trip."""
        _round_trips(value)

    @given(sample_deals(max_size=10))
    @settings(max_examples=20)
    def test_finding12_results_pickle_and_deep_copy(self, sample: list[sf.Deal]) -> None:
        """Rates, funnels and reports computed from deals round-trip too."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.SalesflowWarning)
            result = sf.report(sample, as_of=T0 + timedelta(days=60), pipeline=SMALL)
            funnel = sf.metrics.funnel(sample, pipeline=SMALL)
        _round_trips(sf.metrics.win_rate(sample))
        _round_trips(funnel)
        _round_trips(result)

    def test_finding12_every_result_type_round_trips(self) -> None:
        """Each metric's result, a pipeline's move table and a load result round-trip."""
        sample = list(sf.datasets.synthetic(60, seed=3))
        pipeline = sample[0].pipeline
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.SalesflowWarning)
            results: list[object] = [
                sf.metrics.time_in_stage(sample),
                sf.metrics.sales_cycle(sample),
                sf.metrics.sales_velocity(sample),
                sf.metrics.win_probability(sample),
                sf.metrics.expected_time_to_close(sample),
                sf.metrics.touchpoints_per_conversion(sample),
                sf.metrics.attribution(sample),
                sf.metrics.win_rate(sample, by="owner"),
                pipeline.table,
            ]
        buffer = io.StringIO()
        sf.io.write_events_csv(sample, buffer)
        buffer.seek(0)
        results.append(sf.io.read_events_csv(buffer, pipeline))
        for result in results:
            _round_trips(result)
        attribution = results[6]
        assert isinstance(attribution, sf.metrics.Attribution)
        assert len(attribution) > 0  # a non-empty mapping went through

    def test_finding12_move_tables_compare_by_content(self) -> None:
        """Tables of equal pipelines are equal (and hash alike); other rules give another table."""
        table = sf.templates.b2b().table
        assert sf.templates.b2b().table == table
        assert hash(sf.templates.b2b().table) == hash(table)
        assert sf.templates.b2b(allow_skip=True).table != table

    def test_finding12_deals_cross_a_process_pool(self) -> None:
        """Deals go to worker processes and come back equal (ProcessPoolExecutor pickles them)."""
        pipeline = sf.templates.b2b()
        sent = [
            pipeline.open_deal(
                f"D-{i}", at=T0, value=sf.Money(100 * i, "EUR"), attributes={"region": ["EU", i]}
            ).advance(at=T0 + timedelta(days=i))
            for i in range(4)
        ]
        with ProcessPoolExecutor(max_workers=2) as pool:
            back = list(pool.map(_ids_and_stages, sent))
        assert [(i, s) for i, s, _ in back] == [(d.id, d.stage.key) for d in sent]
        assert [d for _, _, d in back] == sent


# ------------------------------------------------------------------ finding 13


class TestFinding13:
    """A negative deal value, an unknown currency and a leaked name are refused or gone."""

    def test_finding13_negative_deal_value_is_refused(self) -> None:
        """open_deal, convert, replace and from_history refuse a negative value, pointing at Money."""
        pipeline = sf.templates.b2b()
        minus = sf.Money(-5, "EUR")
        with pytest.raises(MoneyError, match=r"Deal value cannot be negative.*separate Money"):
            pipeline.open_deal("D-1", at=T0, value=minus)
        with pytest.raises(MoneyError, match="cannot be negative"):
            sf.Lead("L-1", created_at=T0).convert(pipeline, at=T0, value=minus)
        with pytest.raises(MoneyError, match="cannot be negative"):
            pipeline.open_deal("D-1", at=T0).replace(value=minus)
        with pytest.raises(MoneyError, match="cannot be negative"):
            sf.Deal.from_history(pipeline, "D-1", [sf.StageChange("Prospecting", T0)], value=minus)
        assert pipeline.open_deal("D-1", at=T0, value=sf.Money(0, "EUR")).value == sf.Money(
            0, "EUR"
        )

    def test_finding13_negative_value_in_a_record_is_a_schema_error(self) -> None:
        """Deal.from_dict of a negative value raises SchemaError at $.value."""
        pipeline = sf.templates.b2b()
        record = pipeline.open_deal("D-1", at=T0, value=sf.Money(5, "EUR")).to_dict()
        record["value"]["amount"] = "-5"
        with pytest.raises(sf.SchemaError) as info:
            sf.Deal.from_dict(record, pipeline)
        assert info.value.path == "$.value"

    def test_finding13_unknown_currency_is_refused_unless_registered(self) -> None:
        """'XYZ' is not ISO 4217: refused, with a hint at register_currency; a registered code works."""
        with pytest.raises(
            MoneyError, match=r"'XYZ' is not an ISO 4217 code.*register_currency"
        ) as info:
            sf.Money(1, "XYZ")
        assert (info.value.field, info.value.value) == ("currency", "XYZ")
        assert sf.Money(1, "XAU").currency == "XAU"
        sf.Money.register_currency("QQQ")
        assert sf.Money("0.5", "QQQ").currency == "QQQ"
        with pytest.raises(MoneyError, match="three upper-case letters"):
            sf.Money.register_currency("qq")

    def test_finding13_annotations_does_not_leak(self) -> None:
        """salesflow's public names are __all__ plus its public submodules, nothing else."""
        assert not hasattr(sf, "annotations")
        public = {name for name in dir(sf) if not name.startswith("_")}
        # Submodules imported on demand (salesflow.dask only once a caller imports it).
        assert public - set(sf.__all__) <= {"exceptions", "typing", "dask"}
        assert set(sf.__all__) <= public


class TestFinding13NegativeValues:
    """One rule for negative deal values: refused unless the caller opts in, at every entry."""

    CSV = "deal_id,stage,at,value,currency\nX,Prospecting,2026-01-01T00:00:00+00:00,-5,EUR\n"

    def _credit(self) -> sf.Deal:
        (deal,) = read_events_csv(io.StringIO(self.CSV), sf.templates.b2b(), allow_negative=True)
        return deal

    def test_opted_in_deal_round_trips_through_every_format(self, tmp_path: Any) -> None:
        """A deal loaded with allow_negative=True comes back equal from dict, JSON Lines, SQLite, CSV."""
        deal = self._credit()
        pipeline = deal.pipeline
        assert deal.value == sf.Money("-5", "EUR")
        assert sf.Deal.from_dict(deal.to_dict(), pipeline, allow_negative=True) == deal
        lines = io.StringIO()
        sf.io.write_deals_jsonl([deal], lines)
        lines.seek(0)
        assert list(sf.io.read_deals_jsonl(lines, pipeline, allow_negative=True)) == [deal]
        with sf.io.SQLiteStore(tmp_path / "store.db") as store:
            store.create_schema()
            store.save_deal(deal)
            assert store.load_deals() == [deal]  # the store reads back what it saved
        rows = io.StringIO()
        sf.io.write_events_csv([deal], rows)
        rows.seek(0)
        assert list(read_events_csv(rows, pipeline, allow_negative=True)) == [deal]

    def test_without_the_option_every_entry_refuses_and_says_how(self) -> None:
        """from_dict, JSON Lines and from_history refuse a negative value, naming the option."""
        deal = self._credit()
        pipeline = deal.pipeline
        with pytest.raises(sf.SchemaError, match="allow_negative=True"):
            sf.Deal.from_dict(deal.to_dict(), pipeline)
        lines = io.StringIO()
        sf.io.write_deals_jsonl([deal], lines)
        lines.seek(0)
        with pytest.raises(LoadError, match="allow_negative=True") as info:
            sf.io.read_deals_jsonl(lines, pipeline)
        assert info.value.column == "$.value"
        with pytest.raises(MoneyError, match="cannot be negative"):
            sf.Deal.from_history(pipeline, "X", deal.history, value=deal.value)
        back = sf.Deal.from_history(
            pipeline, "X", deal.history, value=deal.value, allow_negative=True
        )
        assert back == deal
