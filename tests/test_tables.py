"""The one table style: header facts, numbers in right-aligned columns, ranked breakdowns."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from salesflow._table_render import Bar, Col, Sheet, Table, count, money, pct

from ._maven import maven_deals

Day = Callable[..., datetime]

CELL = re.compile(r"<td style=\"text-align: (left|right);[^\"]*\">([^<]*)</td>")


def cells(fragment: str) -> list[tuple[str, str]]:
    """``(alignment, text)`` of every plain table cell, in order."""
    return CELL.findall(fragment)


def rows(fragment: str) -> list[list[str]]:
    """The text of the body cells, one list per row."""
    body = fragment.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def number(text: str) -> float:
    """A formatted number back as a float (``'8,800'`` -> 8800.0, ``'63.2%'`` -> 0.632)."""
    if text.endswith("%"):
        return float(text[:-1].replace(",", "")) / 100
    return float(text.replace(",", ""))


class TestFormats:
    @given(st.integers(min_value=0, max_value=10**12))
    def test_count_round_trips(self, n: int) -> None:
        """A count keeps every digit, grouped in threes."""
        text = count(n)
        assert int(text.replace(",", "")) == n
        assert all(len(group) == 3 for group in text.split(",")[1:])

    def test_money_to_the_cent_with_separators(self) -> None:
        """An amount shows two places and thousands separators; the currency goes to the heading."""
        assert money(sf.Money(Decimal("60146.84930188594"), "USD")) == "60,146.85"
        assert money(None) == "–"

    def test_pct_missing(self) -> None:
        """An undefined rate shows a dash, never 0 %."""
        assert pct(None) == "–"
        assert pct(0.0) == "0.0%"

    def test_numbers_right_text_left(self) -> None:
        """Numeric columns are right-aligned and text columns left-aligned, in HTML and text."""
        sheet = Sheet("T", (), [Table([Col("name", numeric=False), Col("n")], [["a", "1,000"]])])
        assert cells(sheet.html()) == [("left", "a"), ("right", "1,000")]
        lines = sheet.text().splitlines()
        assert lines[-1] == "a     1,000"

    def test_bar_is_svg_with_its_points(self) -> None:
        """An interval bar draws its line from low to high and a dot at the value on the shared scale."""
        sheet = Sheet("T", (), [Table([Col("bar")], [[Bar(0.5, 0.25, 0.75, 0.0, 1.0, 0.6)]])])
        fragment = sheet.html()
        assert 'x1="31.0" x2="89.0"' in fragment  # 2 + 116 * 0.25 and 2 + 116 * 0.75
        assert 'cx="60.0"' in fragment
        assert 'x1="71.6" x2="71.6"' in fragment  # the reference at 0.6


class TestRateAndFunnel:
    def test_funnel_rows_hold_its_numbers(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Each funnel row shows the entered, advanced, lost and open counts of the result."""
        won = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(2)).win(at=utc_day(3))
        lost = sales.open_deal("b", at=utc_day(1)).lose(at=utc_day(2))
        funnel = m.funnel([won, lost])
        shown = rows(funnel._repr_html_())
        assert len(shown) == len(funnel.rows)
        for row, result in zip(shown, funnel.rows, strict=True):
            assert row[0] == result.stage.name
            assert [int(x) for x in row[1:5]] == [
                result.entered,
                result.advanced,
                result.lost,
                result.still_open,
            ]

    def test_funnel_header_names_mode_and_interval(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """The header says the pipeline, the deal count, the mode and the interval method."""
        fragment = m.funnel([sales.open_deal("a", at=utc_day(1))])._repr_html_()
        assert "reached" in fragment
        assert "Wilson" in fragment
        assert "95%" in fragment


class TestReport:
    def test_header_has_as_of_and_notes(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """The report's header gives the cut-off; its warnings are notes, not tracebacks."""
        deal = sales.open_deal("a", at=utc_day(1))  # open and without a value: a warning
        with pytest.warns(sf.SalesflowWarning):
            rep = sf.report([deal])
        assert rep.warnings == (
            "1 open deal(s) without a value are left out of the pipeline value.",
        )
        fragment = rep._repr_html_()
        assert f"as of <b>{utc_day(1).date().isoformat()}</b>" in fragment
        assert "Note: 1 open deal(s) without a value" in fragment
        assert "Traceback" not in fragment
        assert "site-packages" not in fragment
        assert ".py" not in fragment

    def test_no_warning_no_note(self) -> None:
        """A report without a warning has an empty tuple and no note."""
        from salesflow.datasets import synthetic

        rep = sf.report([d for d in synthetic(100, seed=3) if d.value is not None])
        assert rep.warnings == ()
        assert "Note:" not in rep._repr_html_()

    def test_maven_numbers_in_columns(self) -> None:
        """On the Maven file: 8,800 deals in the header; win rate 63.2% of 6,711 in its own cells."""
        deals = maven_deals()
        with pytest.warns(sf.SalesflowWarning, match="2089 open deal"):
            rep = m.report(deals)
        fragment = rep._repr_html_()
        assert "deals <b>8,800</b>" in fragment
        assert "as of <b>2017-12-31</b>" in fragment
        headline = rows(fragment)[0]
        # The how-to's published figures: 4,238 won of 6,711 closed, 95% CI 62.0-64.3%.
        assert headline[1:6] == ["63.2%", "", "6,711", "62.0%", "64.3%"]
        assert "2089 open deal(s) without a value" in " ".join(rep.warnings)


class TestBreakdown:
    def test_ranked_by_n(self) -> None:
        """By default the groups are ranked by n, largest first, and every row has a bar."""
        from salesflow.datasets import synthetic

        rates = m.win_rate(synthetic(600, seed=5), by="owner")
        shown = rows(rates._repr_html_())
        ns = [int(r[1].replace(",", "")) for r in shown]
        assert ns == sorted(ns, reverse=True)
        assert sorted(r[0] for r in shown) == sorted(str(k) for k in rates)
        assert rates._repr_html_().count("<svg") == len(rates)
        for row in shown:
            key = row[0]
            assert number(row[3]) == pytest.approx(rates[key].value, abs=0.0005)

    def test_sort_value_and_key(self) -> None:
        """sort("value") ranks by rate, highest first; sort("key") alphabetically; head and top cut."""
        from salesflow.datasets import synthetic

        rates = m.win_rate(synthetic(600, seed=5), by="owner")
        by_value = rates.sort("value")
        values = [r.value for r in by_value.values()]
        assert values == sorted(values, reverse=True)
        assert list(rates.sort("key")) == sorted(rates)
        assert list(rates.top(3)) == list(by_value)[:3]
        assert len(rates.head(2)) == 2
        assert rates.head(2) == {k: rates[k] for k in list(rates.sort("n"))[:2]}
        with pytest.raises(ValueError, match="sort must be"):
            rates.sort("size")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="k must be"):
            rates.head(-1)

    def test_str_is_a_table(self) -> None:
        """Printing a breakdown shows a table with the overall rate, not a one-line blob."""
        from salesflow.datasets import synthetic

        rates = m.win_rate(synthetic(300, seed=2), by="owner")
        text = str(rates)
        assert text.startswith("Win rate by owner")
        total = sum(r.numerator for r in rates.values()), sum(r.denominator for r in rates.values())
        assert f"overall {total[0] / total[1]:.1%} of {total[1]:,}" in text
        assert len(text.splitlines()) == 5 + len(rates)  # title, facts, blank, heading, rule

    def test_maven_by_owner(self) -> None:
        """Maven by owner: 30 rows, Darcel Schlecht (553 closed) first."""
        rates = m.win_rate(maven_deals(), by="owner")
        shown = rows(rates._repr_html_())
        assert len(shown) == 30
        assert shown[0][:3] == ["Darcel Schlecht", "553", "349"]


class TestLoadResultAndPipeline:
    def test_load_result_html(self) -> None:
        """A load result shows its source and its counts in the header."""
        fragment = maven_deals()._repr_html_()
        assert "rows read <b>8,800</b>" in fragment
        assert "deals built <b>8,800</b>" in fragment
        assert "sales_pipeline.csv" in fragment

    def test_load_result_rejects_table(self, tmp_path: object) -> None:
        """Collected problems are listed as a table of line, column, value and reason."""
        from pathlib import Path

        assert isinstance(tmp_path, Path)
        path = tmp_path / "deals.csv"
        path.write_text(
            "id,stage,created\n1,Lead,2025-01-01T00:00:00Z\n2,Nowhere,2025-01-01T00:00:00Z\n",
            encoding="utf-8",
        )
        pipeline = sf.Pipeline.linear("P", ["Lead", "Demo"])
        result = sf.io.read_deals_csv(
            path,
            pipeline,
            columns={"deal_id": "id", "stage": "stage", "created_at": "created"},
            errors="collect",
        )
        fragment = result._repr_html_()
        assert "rows rejected <b>1</b>" in fragment
        problem = rows(fragment)[0]
        assert problem[0] == "3"
        assert "Nowhere" in problem[2]

    def test_pipeline_stages_table(self, b2b: sf.Pipeline) -> None:
        """A pipeline renders one row per stage with outcome and probability, and its diagram."""
        fragment = b2b._repr_html_()
        shown = rows(fragment)
        assert [r[2] for r in shown] == [s.name for s in b2b.stages]
        assert [r[3] for r in shown] == [s.outcome.value for s in b2b.stages]
        won = next(r for r in shown if r[3] == "won")
        assert won[4] == "100%"
        assert 'class="mermaid"' in fragment
        assert str(b2b).splitlines()[0] == f"Pipeline {b2b.name}: {len(b2b.stages)} stages"

    def test_pipeline_guards_column(self) -> None:
        """A declarative guard is named on the stage it guards."""
        pipeline = sf.Pipeline.linear(
            "P", ["Lead", "Demo"], guards=[sf.RequireTouchpoint("Demo", channel="call")]
        )
        shown = rows(pipeline._repr_html_())
        assert shown[1][6] == "needs a call touchpoint"
        assert shown[0][6] == ""


def test_head_keeps_the_whole_for_the_overall() -> None:
    """head(k) shows k groups, but the group count and overall rate are the whole breakdown's."""
    from salesflow.datasets import synthetic

    rates = m.win_rate(synthetic(600, seed=5), by="owner")
    won = sum(r.numerator for r in rates.values())
    closed = sum(r.denominator for r in rates.values())
    text = str(rates.head(2))
    assert f"groups {len(rates)}" in text
    assert "shown 2" in text
    assert f"overall {won / closed:.1%} of {closed:,}" in text
    assert str(rates.head(2).head(1)).count(f"of {closed:,}") == 1


def test_funnel_note_where_deals_were_never_recorded(sales: sf.Pipeline, utc_day: Day) -> None:
    """A deal opened at Demo reached Lead's bar but not Lead: the funnel says whose conversion it is."""
    at_demo = sales.open_deal("a", at=utc_day(1), stage="Demo")
    at_lead = sales.open_deal("b", at=utc_day(1))
    fragment = m.funnel([at_demo, at_lead])._repr_html_()
    assert (
        "Note: 1 of the 2 deals that reached Lead or later were never recorded in it; "
        "its step conversion covers the 1 that were."
    ) in fragment
