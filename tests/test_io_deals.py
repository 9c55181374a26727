"""The deal snapshot loader: rebuilt histories, undated rows, options, errors and the Maven data."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.exceptions import LoadError
from salesflow.io._common import LoadResult
from salesflow.io._deals import UNDATED_NOTE, read_deals_csv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAVEN = DATA / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
MAVEN_COLUMNS: dict[str, str | None] = {
    "deal_id": "opportunity_id",
    "stage": "deal_stage",
    "engaged_at": "engage_date",
    "closed_at": "close_date",
    "value": "close_value",
    "owner": "sales_agent",
    "created_at": None,
}
HEAD = "deal_id,stage,created_at,engaged_at,closed_at,value,currency,owner,lost_reason"


def day(n: int) -> datetime:
    """Midnight UTC on day *n* of January 2026."""
    return datetime(2026, 1, n, tzinfo=UTC)


def csv_text(*rows: str, head: str = HEAD) -> io.StringIO:
    """An in-memory snapshot table: the header, then *rows*."""
    return io.StringIO("\n".join([head, *rows]) + "\n")


@pytest.fixture
def maven() -> sf.Pipeline:
    """The Maven pipeline: Prospecting, Engaging, then Won / Lost."""
    return sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")


def load(pipeline: sf.Pipeline, *rows: str, head: str = HEAD, **options: object) -> LoadResult:
    """Read *rows* under *head*, in UTC unless told otherwise."""
    options.setdefault("timezone", "UTC")
    return read_deals_csv(csv_text(*rows, head=head), pipeline, **options)  # type: ignore[arg-type]


class TestHistory:
    def test_created_engaged_won(self, maven: sf.Pipeline) -> None:
        """created, engaged and closed dates give a three-event history ending in the win."""
        deal = load(maven, "A,Won,2026-01-01,2026-01-03,2026-01-09,500,USD,ann,")[0]
        assert deal.stage_keys == ("Prospecting", "Engaging", "Won")
        assert deal.stage_times == (day(1), day(3), day(9))
        assert (deal.value, deal.owner, deal.closed_at) == (sf.Money(500, "USD"), "ann", day(9))

    def test_same_as_public_constructor(self, maven: sf.Pipeline) -> None:
        """A loaded deal equals the one Deal.from_history builds from the same facts."""
        head = (
            "deal_id,stage,created_at,engaged_at,closed_at,value,currency,owner,lost_reason,product"
        )
        row = "A,Lost,2026-01-01,2026-01-03,2026-01-09,0,USD,ann,price,GTX"
        deal = load(maven, row, head=head, extra_columns=("product",), timezone=UTC)[0]
        history = [
            sf.StageChange("Prospecting", day(1)),
            sf.StageChange("Engaging", day(3)),
            sf.StageChange("Lost", day(9), reason="price"),
        ]
        expected = sf.Deal.from_history(
            maven,
            "A",
            history,
            value=sf.Money(0, "USD"),
            owner="ann",
            attributes={"product": "GTX"},
        )
        assert deal == expected
        assert hash(deal) == hash(expected)
        assert deal.to_dict() == expected.to_dict()

    def test_without_created_opens_at_earliest_date(self, maven: sf.Pipeline) -> None:
        """Without a creation date the deal opens in the stage entered first: Prospecting is not in it."""
        deal = load(maven, "A,Lost,,2026-01-03,2026-01-09,0,USD,,price")[0]
        assert deal.stage_keys == ("Engaging", "Lost")
        assert deal.created_at == day(3)
        assert deal.lost_reason == "price"

    def test_open_deal_ends_in_current_stage(self, maven: sf.Pipeline) -> None:
        """An open deal's history ends at its current stage."""
        deal = load(maven, "A,Engaging,2026-01-01,2026-01-04,,,,,")[0]
        assert deal.stage_keys == ("Prospecting", "Engaging")
        assert deal.is_open
        assert deal.closed_at is None

    def test_undated_current_stage_opens_there(self, sales: sf.Pipeline) -> None:
        """An open deal whose row dates no stage opens in its current stage at creation."""
        deal = load(sales, "A,Proposal,2026-01-02,,,,,,")[0]
        assert deal.stage_keys == ("Proposal",)
        assert deal.created_at == day(2)

    def test_closed_from_creation_only(self, sales: sf.Pipeline) -> None:
        """A closed deal with only created and closed dates opens in the first open stage."""
        deal = load(sales, "A,Closed won,2026-01-02,,2026-01-20,,,,")[0]
        assert deal.stage_keys == ("Lead", "Closed won")
        assert deal.stage_times == (day(2), day(20))

    def test_closed_with_close_date_only(self, sales: sf.Pipeline) -> None:
        """A closed deal with only a close date opens and closes at that date."""
        deal = load(sales, "A,Closed won,,,2026-01-20,,,,", columns={"engaged_at": None})[0]
        assert deal.stage_keys == ("Lead", "Closed won")
        assert deal.stage_times == (day(20), day(20))

    def test_lost_reason_only_on_lost_deals(self, maven: sf.Pipeline) -> None:
        """A lost reason on a won row is not used."""
        deal = load(maven, "A,Won,,2026-01-03,2026-01-09,5,USD,,price")[0]
        assert deal.lost_reason is None
        assert all(change.reason is None for change in deal.history)

    def test_close_date_of_open_deal_is_not_used(self, maven: sf.Pipeline) -> None:
        """An open deal's close date (often an expected one) leaves its history alone."""
        deal = load(maven, "A,Engaging,,2026-01-03,2026-03-01,,,,")[0]
        assert deal.stage_keys == ("Engaging",)

    def test_stage_dates(self, b2b: sf.Pipeline) -> None:
        """stage_dates columns add one event per recorded stage, in time order."""
        head = "id,stage,created,qualified,demo,closed"
        text = csv_text("A,Closed won,2026-01-01,2026-01-03,2026-01-05,2026-01-09", head=head)
        keys = [s.key for s in b2b.open_stages]
        deal = read_deals_csv(
            text,
            b2b,
            columns={"deal_id": "id", "created_at": "created", "closed_at": "closed"},
            stage_dates={keys[1]: "qualified", keys[2]: "demo"},
            timezone="UTC",
        )[0]
        assert deal.stage_keys == (keys[0], keys[1], keys[2], "Closed won")
        assert deal.stage_times == (day(1), day(3), day(5), day(9))

    def test_stage_date_of_the_closed_stage(self, sales: sf.Pipeline) -> None:
        """The date column of the current closed stage serves as the close date."""
        text = csv_text("A,Closed won,2026-01-01,2026-01-08", head="deal_id,stage,created_at,won")
        deal = read_deals_csv(text, sales, stage_dates={"Closed won": "won"}, timezone="UTC")[0]
        assert deal.stage_times == (day(1), day(8))

    def test_generated_histories_round_trip(self) -> None:
        """Deals that only move forward are rebuilt exactly from one date column per stage."""
        deals = [d for d in synthetic(300, seed=5, backward=0.0) if d.closed_at is not None]
        pipeline = deals[0].pipeline
        keys = [s.key for s in pipeline.open_stages]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["deal_id", "stage", "created_at", "closed_at", "lost_reason", *keys[1:]])
        for deal in deals:
            entered = dict(zip(deal.stage_keys, deal.stage_times, strict=True))
            dates = [entered[k].isoformat() if k in entered else "" for k in keys[1:]]
            closed = deal.closed_at.isoformat() if deal.closed_at else ""
            writer.writerow(
                [
                    deal.id,
                    deal.stage.key,
                    deal.created_at.isoformat(),
                    closed,
                    deal.lost_reason or "",
                    *dates,
                ]
            )
        buffer.seek(0)
        result = read_deals_csv(buffer, pipeline, stage_dates={k: k for k in keys[1:]})
        assert len(result) == len(deals) > 100
        for got, want in zip(result, deals, strict=True):
            assert (got.id, got.stage_keys, got.stage_times, got.lost_reason) == (
                want.id,
                want.stage_keys,
                want.stage_times,
                want.lost_reason,
            )


class TestUndated:
    ROW = "A,Prospecting,,,,,,,"

    def test_error_by_default(self, maven: sf.Pipeline) -> None:
        """A row with no date at all is refused unless undated= says what to do."""
        with pytest.raises(LoadError, match="undated=") as info:
            load(maven, self.ROW)
        assert info.value.line == 2

    def test_given_datetime(self, maven: sf.Pipeline) -> None:
        """undated=<datetime> opens such a deal in its current stage then, with a note."""
        deal = load(maven, self.ROW, undated=day(31))[0]
        assert (deal.stage_keys, deal.created_at) == (("Prospecting",), day(31))
        assert deal.history[0].note == UNDATED_NOTE

    def test_latest_date_in_file(self, maven: sf.Pipeline) -> None:
        """undated='latest' uses the latest date of the whole file, even one on a later row."""
        result = load(
            maven, self.ROW, "B,Won,,2026-01-03,2026-01-12,5,USD,,", "C,Engaging,,2026-01-07,,,,,",
            undated="latest",
        )  # fmt: skip
        assert [d.id for d in result] == ["A", "B", "C"]
        assert result[0].created_at == day(12)
        assert result[0].history[0].note == UNDATED_NOTE
        assert result[1].history[0].note is None

    def test_latest_without_any_date(self, maven: sf.Pipeline) -> None:
        """undated='latest' in a file with no date at all is an error, not an invention."""
        with pytest.raises(LoadError, match="at least one date"):
            load(maven, self.ROW, undated="latest")

    def test_naive_datetime_refused(self, maven: sf.Pipeline) -> None:
        """undated= must be timezone-aware."""
        with pytest.raises(ValueError, match="aware"):
            load(maven, self.ROW, undated=datetime(2026, 1, 1))

    def test_unknown_option(self, maven: sf.Pipeline) -> None:
        """undated= other than 'error', 'latest' or a datetime is a ValueError."""
        with pytest.raises(ValueError, match="undated must be"):
            load(maven, self.ROW, undated="now")


class TestOptions:
    def test_stage_map(self, sales: sf.Pipeline) -> None:
        """stage_map translates the file's labels into pipeline stages."""
        deal = load(sales, "A,Won,2026-01-01,,2026-01-05,,,,", stage_map={"Won": "Closed won"})[0]
        assert deal.is_won

    def test_stage_map_to_unknown_stage(self, sales: sf.Pipeline) -> None:
        """A stage_map target the pipeline lacks is refused before reading."""
        with pytest.raises(sf.UnknownStageError):
            load(sales, stage_map={"Won": "Victory"})

    def test_extra_columns(self, maven: sf.Pipeline) -> None:
        """extra_columns copies cells into attributes, empty ones as None."""
        head = "deal_id,stage,engaged_at,product,account"
        text = csv_text("A,Engaging,2026-01-02,GTXPro,", head=head)
        deal = read_deals_csv(text, maven, extra_columns=("product", "account"), timezone="UTC")[0]
        assert dict(deal.attributes) == {"product": "GTXPro", "account": None}

    def test_extra_columns_mapping(self, maven: sf.Pipeline) -> None:
        """A mapping for extra_columns names the attributes."""
        text = csv_text(
            "A,Engaging,2026-01-02,GTXPro", head="deal_id,stage,engaged_at,Product Name"
        )
        deal = read_deals_csv(
            text, maven, extra_columns={"product": "Product Name"}, timezone="UTC"
        )[0]
        assert dict(deal.attributes) == {"product": "GTXPro"}

    def test_extra_columns_string_refused(self, maven: sf.Pipeline) -> None:
        """A bare string for extra_columns is a TypeError, not one column per letter."""
        with pytest.raises(TypeError, match="sequence"):
            load(maven, extra_columns="product")

    def test_currency_column_and_option(self, maven: sf.Pipeline) -> None:
        """The currency column wins; currency= fills in when the cell is empty."""
        result = load(
            maven, "A,Won,,2026-01-02,2026-01-04,10,EUR,,", "B,Won,,2026-01-02,2026-01-04,7,,,",
            currency="USD",
        )  # fmt: skip
        assert [d.value for d in result] == [sf.Money(10, "EUR"), sf.Money(7, "USD")]

    def test_timestamp_format(self, maven: sf.Pipeline) -> None:
        """timestamp_format reads every date column; timezone places naive dates."""
        deal = load(
            maven, "A,Won,01/01/2026,03/01/2026,09/01/2026,,,,",
            timestamp_format="%d/%m/%Y", timezone="America/New_York",
        )[0]  # fmt: skip
        assert deal.created_at.astimezone(UTC) == datetime(2026, 1, 1, 5, tzinfo=UTC)

    def test_formula_escape_undone(self, maven: sf.Pipeline) -> None:
        """A quote guarding a formula-like owner is removed."""
        assert load(maven, "A,Engaging,,2026-01-02,,,,'=cmd(),")[0].owner == "=cmd()"

    def test_default_columns_may_be_absent(self, maven: sf.Pipeline) -> None:
        """Optional default columns the file lacks are ignored."""
        deal = load(maven, "A,Engaging,2026-01-02", head="deal_id,stage,created_at")[0]
        assert (deal.value, deal.owner, deal.source) == (None, None, None)

    def test_absent_fields_with_repeated_header(self, maven: sf.Pipeline) -> None:
        """Absent fields read as empty even when a column name repeats in the header."""
        head = "deal_id,stage,engaged_at,note,note"
        deal = load(maven, "A,Engaging,2026-01-02,x,y", head=head)[0]
        assert (deal.owner, deal.value, deal.source) == (None, None, None)

    def test_named_columns_must_exist(self, maven: sf.Pipeline) -> None:
        """An optional column you name that is not in the header is a LoadError at line 1."""
        with pytest.raises(LoadError, match="'agent'") as info:
            load(maven, head="deal_id,stage", columns={"owner": "agent"})
        assert info.value.line == 1

    def test_engaged_needs_two_open_stages(self) -> None:
        """engaged_at in a pipeline with one open stage is a ValueError."""
        single = sf.Pipeline.linear("One", ["Open"])
        with pytest.raises(ValueError, match="two open stages"):
            load(single)

    def test_engaged_and_stage_dates_clash(self, maven: sf.Pipeline) -> None:
        """engaged_at and a stage_dates entry for the same stage is a ValueError."""
        with pytest.raises(ValueError, match="keep one"):
            load(maven, stage_dates={"Engaging": "engaged_at"})

    def test_progress(self, maven: sf.Pipeline) -> None:
        """progress is called every 10,000 rows."""
        calls: list[int] = []
        rows = [f"D{i},Engaging,,2026-01-02,,,,," for i in range(20_000)]
        result = load(maven, *rows, progress=calls.append)
        assert (calls, result.built) == ([10_000, 20_000], 20_000)


class TestErrors:
    def test_closed_without_close_date(self, maven: sf.Pipeline) -> None:
        """A won deal needs a close date."""
        with pytest.raises(LoadError, match="won deal needs a close date") as info:
            load(maven, "A,Won,,2026-01-02,,,,,")
        assert info.value.column == "closed_at"

    def test_unknown_stage(self, maven: sf.Pipeline) -> None:
        """A stage label the pipeline lacks is refused with a hint at stage_map."""
        with pytest.raises(LoadError, match="stage_map") as info:
            load(maven, "A,Negotiation,,2026-01-02,,,,,")
        assert (info.value.column, info.value.value) == ("stage", "Negotiation")

    def test_entered_before_created(self, maven: sf.Pipeline) -> None:
        """A stage entered before the deal was created is a contradiction."""
        with pytest.raises(LoadError, match="before it was created"):
            load(maven, "A,Engaging,2026-01-05,2026-01-02,,,,,")

    def test_close_before_engaged(self, maven: sf.Pipeline) -> None:
        """A close date before the last stage entry breaks the time order."""
        with pytest.raises(LoadError, match="before the deal's last stage change"):
            load(maven, "A,Won,,2026-01-05,2026-01-02,,,,")

    def test_later_stage_dated(self, maven: sf.Pipeline) -> None:
        """An open deal with a date for a later stage than its own cannot be placed."""
        with pytest.raises(LoadError, match="moved back"):
            load(maven, "A,Prospecting,2026-01-01,2026-01-02,,,,,")

    def test_current_stage_undated_after_dated_stages(self, b2b: sf.Pipeline) -> None:
        """An open current stage with no date, after dated earlier stages, is refused."""
        keys = [s.key for s in b2b.open_stages]
        text = csv_text(f"A,{keys[3]},2026-01-01,2026-01-02", head="deal_id,stage,created_at,q")
        with pytest.raises(LoadError, match="no date for its current stage"):
            read_deals_csv(text, b2b, stage_dates={keys[1]: "q"}, timezone="UTC")

    def test_skip_forbidden_by_pipeline(self, b2b: sf.Pipeline) -> None:
        """A rebuilt history that skips stages is refused with the pipeline's reason."""
        keys = [s.key for s in b2b.open_stages]
        text = csv_text(f"A,{keys[3]},2026-01-01,2026-01-02", head="deal_id,stage,created_at,d")
        with pytest.raises(LoadError, match="skip"):
            read_deals_csv(text, b2b, stage_dates={keys[3]: "d"}, timezone="UTC")

    def test_date_for_other_closed_stage(self, sales: sf.Pipeline) -> None:
        """An open deal with a date for a closed stage (a reopened deal) is refused."""
        text = csv_text("A,Lead,2026-01-01,2026-01-05", head="deal_id,stage,created_at,lost")
        with pytest.raises(LoadError, match="reopened"):
            read_deals_csv(text, sales, stage_dates={"Closed lost": "lost"}, timezone="UTC")

    def test_close_dates_disagree(self, sales: sf.Pipeline) -> None:
        """closed_at and the closed stage's own date must agree."""
        text = csv_text("A,Closed won,2026-01-09,2026-01-08", head="deal_id,stage,closed_at,won")
        with pytest.raises(LoadError, match="disagrees"):
            read_deals_csv(text, sales, stage_dates={"Closed won": "won"}, timezone="UTC")

    def test_duplicate_deal_id(self, maven: sf.Pipeline) -> None:
        """A second row for a deal is rejected naming the first line; the deal is left out whole."""
        result = load(
            maven, "A,Engaging,,2026-01-02,,,,,", "A,Engaging,,2026-01-03,,,,,", errors="collect"
        )
        assert list(result) == []
        assert (result.rows_read, result.rows_rejected) == (2, 2)
        assert "line 2" in result.rejects[0].reason

    def test_value_without_currency(self, maven: sf.Pipeline) -> None:
        """A value without any currency is refused."""
        with pytest.raises(LoadError, match="currency"):
            load(maven, "A,Won,,2026-01-02,2026-01-04,10,,,")

    def test_bad_amount(self, maven: sf.Pipeline) -> None:
        """A value that is not a decimal number is refused."""
        with pytest.raises(LoadError, match="decimal") as info:
            load(maven, "A,Won,,2026-01-02,2026-01-04,ten,USD,,")
        assert info.value.value == "ten"

    def test_naive_date_without_timezone(self, maven: sf.Pipeline) -> None:
        """Dates without a zone need timezone=."""
        with pytest.raises(LoadError, match="time zone"):
            read_deals_csv(csv_text("A,Engaging,,2026-01-02,,,,,"), maven)

    def test_ragged_row(self, maven: sf.Pipeline) -> None:
        """A row with the wrong number of cells is refused."""
        with pytest.raises(LoadError, match="expected 9 cells"):
            load(maven, "A,Engaging")

    def test_empty_file(self, maven: sf.Pipeline) -> None:
        """An empty file is a LoadError at line 1."""
        with pytest.raises(LoadError, match="empty"):
            read_deals_csv(io.StringIO(""), maven)

    def test_collect_counts(self, maven: sf.Pipeline) -> None:
        """errors='collect' keeps the good rows and counts the rest."""
        result = load(
            maven,
            "A,Engaging,,2026-01-02,,,,,",
            "B,Won,,2026-01-02,,,,,",
            "",
            "C,Pitch,,2026-01-02,,,,,",
            "D,Lost,,2026-01-02,2026-01-03,0,USD,,",
            errors="collect",
        )
        assert [d.id for d in result] == ["A", "D"]
        assert (result.rows_read, result.rows_rejected, result.built) == (4, 2, 2)
        assert [e.line for e in result.rejects] == [3, 5]


def maven_rows() -> list[dict[str, str]]:
    """The Maven pipeline rows, read with the csv module."""
    with MAVEN.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.skipif(not MAVEN.exists(), reason=f"the Maven dataset is not at {MAVEN}")
class TestMavenData:
    def load(self, maven: sf.Pipeline, **options: object) -> LoadResult:
        """The Maven pipeline file read with the documented columns."""
        return read_deals_csv(
            MAVEN,
            maven,
            columns=MAVEN_COLUMNS,
            currency="USD",
            timezone="UTC",
            **options,  # type: ignore[arg-type]
        )

    def test_all_rows_become_deals(self, maven: sf.Pipeline) -> None:
        """With undated='latest' the 8,800 rows give 8,800 deals in the README's stage counts."""
        result = self.load(maven, undated="latest", extra_columns=("product", "account"))
        assert (result.rows_read, result.built, result.rows_rejected) == (8_800, 8_800, 0)
        counts = Counter(d.stage.key for d in result)
        assert counts == {"Won": 4_238, "Lost": 2_473, "Engaging": 1_589, "Prospecting": 500}

    def test_undated_prospecting_rows(self, maven: sf.Pipeline) -> None:
        """The 500 Prospecting rows have no date; they open at the file's last date, with a note."""
        rows = maven_rows()
        latest = max(r[c] for r in rows for c in ("engage_date", "close_date") if r[c])
        result = self.load(maven, undated="latest")
        undated = [d for d in result if d.history[0].note == UNDATED_NOTE]
        assert len(undated) == 500
        assert {d.stage.key for d in undated} == {"Prospecting"}
        assert {d.created_at.date().isoformat() for d in undated} == {latest}

    def test_default_refuses_undated_rows(self, maven: sf.Pipeline) -> None:
        """By default the first undated row stops the load at its line."""
        first = next(i for i, r in enumerate(maven_rows()) if not r["engage_date"])
        with pytest.raises(LoadError, match="undated=") as info:
            self.load(maven)
        assert info.value.line == first + 2

    def test_collect_reports_undated_rows(self, maven: sf.Pipeline) -> None:
        """Collecting, the 500 undated rows are rejects and the other 8,300 are deals."""
        result = self.load(maven, errors="collect")
        assert (result.built, result.rows_rejected, len(result.rejects)) == (8_300, 500, 500)

    def test_dates_values_and_attributes(self, maven: sf.Pipeline) -> None:
        """Engage and close dates, won revenue and product labels match a csv-module reading."""
        rows = maven_rows()
        result = self.load(maven, undated="latest", extra_columns=("product", "account"))
        by_id = {d.id: d for d in result}
        engaged = [r for r in rows if r["engage_date"]]
        assert all(
            by_id[r["opportunity_id"]].created_at.date().isoformat() == r["engage_date"]
            for r in engaged
        )
        won = [r for r in rows if r["deal_stage"] == "Won"]
        values = [by_id[r["opportunity_id"]].value for r in won]
        assert sf.Money.total(v for v in values if v is not None) == sf.Money(
            sum(Decimal(r["close_value"]) for r in won), "USD"
        )
        assert None not in values
        products = Counter(d.attributes["product"] for d in result)
        assert products == Counter(r["product"] for r in rows)
        no_account = sum(1 for d in result if d.attributes["account"] is None)
        assert no_account == sum(1 for r in rows if not r["account"]) == 1_425

    def test_closed_deals_close_on_close_date(self, maven: sf.Pipeline) -> None:
        """Every closed deal closes on its close_date, after its engage_date."""
        rows = {r["opportunity_id"]: r for r in maven_rows()}
        result = self.load(maven, undated="latest")
        closed = [d for d in result if not d.is_open]
        assert len(closed) == 4_238 + 2_473
        assert all(
            d.closed_at is not None
            and d.closed_at.date().isoformat() == rows[d.id]["close_date"]
            and d.stage_keys == ("Engaging", d.stage.key)
            for d in closed
        )
