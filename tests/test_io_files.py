"""Files as people have them: encodings, separators, decimal commas, odd labels."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow.exceptions import LoadError
from salesflow.io import read_deals_csv, read_events_csv
from salesflow.io._cells import RowProblem, parse_amount
from salesflow.io._common import guess_encoding, sniff_delimiter

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAVEN = DATA / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
HEAD = "deal_id,stage,at,value,currency,owner"


@pytest.fixture
def b2b() -> sf.Pipeline:
    return sf.templates.b2b()


def events(*rows: str, head: str = HEAD, sep: str = ",") -> io.StringIO:
    return io.StringIO("\n".join([head.replace(",", sep), *rows]) + "\n")


class TestEncoding:
    def test_windows_1251_file_names_line_and_encoding(
        self, b2b: sf.Pipeline, tmp_path: Path
    ) -> None:
        """A cp1251 file read as UTF-8 fails at its first Cyrillic line, suggesting cp1251."""
        path = tmp_path / "deals.csv"
        rows = [
            HEAD,
            "A,Prospecting,2026-01-05,100,RUB,Anna",
            "B,Prospecting,2026-01-06,200,RUB,Иван Петров",
        ]
        path.write_bytes("\n".join(rows).encode("cp1251") + b"\n")
        with pytest.raises(LoadError, match="encoding='cp1251'") as info:
            read_events_csv(path, b2b, timezone="UTC")
        assert (info.value.file, info.value.line) == (str(path), 3)
        assert "--encoding cp1251" in str(info.value)
        deals = read_events_csv(path, b2b, timezone="UTC", encoding="cp1251")
        assert deals[1].owner == "Иван Петров"

    def test_latin_text_suggests_cp1252(self) -> None:
        """Western European bytes that are not UTF-8 are guessed as cp1252, a UTF-16 BOM as utf-16."""
        assert guess_encoding("Señor Müller, café".encode("cp1252")) == "cp1252"
        assert guess_encoding("deal_id".encode("utf-16")) == "utf-16"

    def test_a_bom_is_fine(self, b2b: sf.Pipeline, tmp_path: Path) -> None:
        """UTF-8 with a byte-order mark reads like UTF-8 without one."""
        path = tmp_path / "bom.csv"
        path.write_text(f"{HEAD}\nA,Prospecting,2026-01-05,,,\n", encoding="utf-8-sig")
        assert read_events_csv(path, b2b, timezone="UTC")[0].id == "A"


class TestSeparator:
    @pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
    def test_sniffed_from_the_header(self, b2b: sf.Pipeline, sep: str) -> None:
        """The default delimiter=None reads comma, semicolon, tab and pipe files alike."""
        row = sep.join(["A", "Prospecting", "2026-01-05", "100", "EUR", "ana"])
        deal = read_events_csv(events(row, sep=sep), b2b, timezone="UTC")[0]
        assert (deal.id, deal.value, deal.owner) == ("A", sf.Money(100, "EUR"), "ana")

    def test_wrong_separator_is_named(self, b2b: sf.Pipeline) -> None:
        """An explicit ',' on a semicolon file says which separator the header uses."""
        text = events("A;Prospecting;2026-01-05;100;EUR;ana", sep=";")
        with pytest.raises(LoadError, match="not separated by ',' but by ';'") as info:
            read_events_csv(text, b2b, timezone="UTC", delimiter=",")
        assert info.value.line == 1
        assert "missing column" not in str(info.value)

    def test_sniff_prefers_comma_on_a_tie(self) -> None:
        """A one-column header gives ','; otherwise the separator that splits most."""
        assert sniff_delimiter("deal_id\n") == ","
        assert sniff_delimiter("a;b,c;d\n") == ";"


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "decimal", "expected"),
        [
            ("1234.5", ".", "1234.5"),
            ("1,234.50", ".", "1234.50"),
            ("1'234.50", ".", "1234.50"),
            ("1.234,50", ",", "1234.50"),
            ("1 234,50", ",", "1234.50"),
            ("1\u00a0234\u00a0567,5", ",", "1234567.5"),
            ("-0,5", ",", "-0.5"),
        ],
    )
    def test_written_forms(self, text: str, decimal: str, expected: str) -> None:
        """Decimal marks and grouped thousands read exactly."""
        amount = parse_amount(text, "value", decimal=decimal)
        assert amount == Decimal(expected)
        assert str(amount) == expected

    @pytest.mark.parametrize(
        ("text", "decimal"),
        [("1,5", "."), ("1.2.3", "."), ("1,23,456", "."), ("12.345.6", ","), ("\uff11\uff12", ".")],
    )
    def test_ambiguous_forms_are_refused(self, text: str, decimal: str) -> None:
        """A number that does not fit the decimal mark is refused, never guessed."""
        with pytest.raises(RowProblem, match="decimal mark"):
            parse_amount(text, "value", decimal=decimal)

    def test_hint_names_the_other_mark(self) -> None:
        """The refusal suggests decimal=',' when that reading would work."""
        with pytest.raises(RowProblem, match="pass decimal=','"):
            parse_amount("12,5", "value", decimal=".")

    @given(
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
        st.sampled_from([".", " ", "\u00a0", "'"]),
    )
    def test_european_round_trip(self, amount: Decimal, sep: str) -> None:
        """Any amount written with a decimal comma and grouped thousands reads back exactly."""
        whole, frac = f"{amount:.2f}".split(".")
        grouped = f"{int(whole):,}".replace(",", sep)
        assert parse_amount(f"{grouped},{frac}", "v", decimal=",") == amount

    def test_negative_values_refused_unless_allowed(self, b2b: sf.Pipeline) -> None:
        """A negative deal value is a LoadError; allow_negative=True accepts it."""
        text = "A,Prospecting,2026-01-05,-1054,USD,ana"
        with pytest.raises(LoadError, match="cannot be negative") as info:
            read_events_csv(events(text), b2b, timezone="UTC")
        assert (info.value.column, info.value.value) == ("value", "-1054")
        deal = read_events_csv(events(text), b2b, timezone="UTC", allow_negative=True)[0]
        assert deal.value == sf.Money(-1054, "USD")


class TestDates:
    def test_date_only_with_a_zone(self, b2b: sf.Pipeline) -> None:
        """A date without a time is midnight in the given zone."""
        deal = read_events_csv(events("A,Prospecting,2026-01-05,,,"), b2b, timezone="Europe/Paris")[
            0
        ]
        assert deal.created_at.isoformat() == "2026-01-05T00:00:00+01:00"

    def test_unparsable_date_names_the_option(self, b2b: sf.Pipeline) -> None:
        """A date in another format says what is expected and which option reads it."""
        with pytest.raises(LoadError, match="timestamp_format") as info:
            read_events_csv(events("A,Prospecting,05/01/2026,,,"), b2b, timezone="UTC")
        assert "ISO 8601" in info.value.reason
        with pytest.raises(LoadError, match="does not match timestamp_format '%d/%m/%Y'"):
            read_events_csv(
                events("A,Prospecting,2026-01-05,,,"),
                b2b,
                timezone="UTC",
                timestamp_format="%d/%m/%Y",
            )


class TestStageLabels:
    def test_unknown_label_suggests_the_closest(self, b2b: sf.Pipeline) -> None:
        """A misspelt stage lists the stages and suggests the nearest one."""
        with pytest.raises(LoadError, match="did you mean 'Initial contact'") as info:
            read_events_csv(events("A,Intial contact,2026-01-05,,,"), b2b, timezone="UTC")
        assert "'Prospecting'" in info.value.reason
        assert "case_insensitive=True" in info.value.reason

    def test_case_insensitive_on_request(self, b2b: sf.Pipeline) -> None:
        """case_insensitive=True matches keys and names ignoring case."""
        text = events("A,PROSPECTING,2026-01-05,,,", "A,lead GENERATION,2026-01-06,,,")
        with pytest.raises(LoadError, match="no such stage"):
            read_events_csv(text, b2b, timezone="UTC")
        text.seek(0)
        deal = read_events_csv(text, b2b, timezone="UTC", case_insensitive=True)[0]
        assert deal.stage_keys == ("Prospecting", "Lead generation")


class TestDealFields:
    def test_disagreement_names_both_lines(self, b2b: sf.Pipeline) -> None:
        """Rows of one deal that disagree on its owner are refused, naming both lines."""
        rows = ("A,Prospecting,2026-01-05,100,USD,ana", "A,Lead generation,2026-01-06,100,USD,bo")
        with pytest.raises(LoadError, match=r"owner is .* on line 2 but") as info:
            read_events_csv(events(*rows), b2b, timezone="UTC")
        assert info.value.line == 3

    @pytest.mark.parametrize(
        ("second", "new"),
        [("120,USD", sf.Money(120, "USD")), ("100,EUR", sf.Money(100, "EUR"))],
    )
    def test_a_value_that_differs_is_a_recorded_change(
        self, b2b: sf.Pipeline, second: str, new: sf.Money
    ) -> None:
        """Rows that disagree on the value (amount or currency) record its change (issue 14)."""
        rows = (
            "A,Prospecting,2026-01-05,100,USD,ana",
            f"A,Lead generation,2026-01-06,{second},ana",
        )
        deal = read_events_csv(events(*rows), b2b, timezone="UTC")[0]
        assert deal.value == new
        assert [(c.field, c.old, c.new) for c in deal.changes] == [
            ("value", sf.Money(100, "USD"), new)
        ]

    def test_collect_leaves_the_deal_out_whole(self, b2b: sf.Pipeline) -> None:
        """With errors='collect' the disagreeing deal is left out and every row counted."""
        rows = (
            "A,Prospecting,2026-01-05,100,USD,ana",
            "A,Lead generation,2026-01-06,100,USD,cy",
            "B,Prospecting,2026-01-05,5,USD,bo",
        )
        result = read_events_csv(events(*rows), b2b, timezone="UTC", errors="collect")
        assert [d.id for d in result] == ["B"]
        assert (result.rows_read, result.rows_rejected, len(result.rejects)) == (3, 2, 1)

    def test_empty_cells_are_not_disagreement(self, b2b: sf.Pipeline) -> None:
        """A row that leaves the value empty keeps the deal's value."""
        rows = ("A,Prospecting,2026-01-05,100,USD,ana", "A,Lead generation,2026-01-06,,,")
        deal = read_events_csv(events(*rows), b2b, timezone="UTC")[0]
        assert (deal.value, deal.owner) == (sf.Money(100, "USD"), "ana")


@pytest.mark.skipif(not MAVEN.exists(), reason=f"the Maven dataset is not at {MAVEN}")
class TestMavenAsExcelSavesIt:
    def test_semicolons_decimal_commas_and_cp1252(self, tmp_path: Path) -> None:
        """Maven saved as Excel's 'CSV (semicolon)' with decimal commas loads to the same win rate."""
        with MAVEN.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        path = tmp_path / "maven-excel.csv"
        with path.open("w", newline="", encoding="cp1252") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(rows[0])
            for row in rows[1:]:
                value = row[-1]
                row[-1] = f"{int(value):,}".replace(",", ".") + ",00" if value else ""
                writer.writerow(row)
        pipeline = sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")
        columns: dict[str, str | None] = {
            "deal_id": "opportunity_id",
            "stage": "deal_stage",
            "engaged_at": "engage_date",
            "closed_at": "close_date",
            "value": "close_value",
            "owner": "sales_agent",
            "created_at": None,
        }
        options = {"columns": columns, "currency": "USD", "timezone": "UTC", "undated": "latest"}
        deals = read_deals_csv(path, pipeline, decimal=",", encoding="cp1252", **options)  # type: ignore[arg-type]
        rate = sf.metrics.win_rate(deals)
        assert (rate.numerator, rate.denominator) == (4238, 6711)
        original = read_deals_csv(MAVEN, pipeline, **options)  # type: ignore[arg-type]
        assert [d.value for d in deals] == [d.value for d in original]


class TestTrustedAmounts:
    @given(
        st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
        st.sampled_from([".", ","]),
    )
    def test_fast_path_equals_the_checked_path(self, amount: Decimal, decimal: str) -> None:
        """Plain digits read through the validated-currency shortcut equal Money built the long way."""
        from salesflow.io._cells import Amounts, parse_money

        text = f"{amount:f}" if decimal == "." else str(int(amount))
        amounts = Amounts(decimal)
        first = amounts.money(text, "v", "EUR")  # checks the currency
        second = amounts.money(text, "v", "EUR")  # takes the shortcut
        expected = parse_money(text, "v", "EUR", decimal=decimal)
        assert first == second == expected
        assert str(second.amount) == str(expected.amount)

    def test_shortcut_never_skips_a_refusal(self) -> None:
        """Negative, grouped or comma-decimal text still goes through the checks."""
        from salesflow.io._cells import Amounts

        amounts = Amounts(",")
        amounts.money("10", "v", "EUR")
        with pytest.raises(RowProblem, match="decimal mark"):
            amounts.money("12.5", "v", "EUR")
        with pytest.raises(RowProblem, match="negative"):
            amounts.money("-5", "v", "EUR")
        assert amounts.money("1.234,5", "v", "EUR").amount == Decimal("1234.5")
