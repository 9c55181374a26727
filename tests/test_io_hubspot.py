"""HubSpot deal exports: UI and API shapes, history rebuilding, the pipeline builder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

import salesflow as sf
from salesflow import templates
from salesflow.exceptions import LoadError, SchemaError
from salesflow.io._common import LoadResult
from salesflow.io._hubspot import (
    HUBSPOT_API_COLUMNS,
    HUBSPOT_UI_COLUMNS,
    hubspot_pipeline,
    read_hubspot_deals,
)

UI_HEAD = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Pipeline",
    "Amount",
    "Currency",
    "Close Date",
    "Create Date",
    "Deal owner",
    'Date entered "Appointment Scheduled (Sales Pipeline)"',
    'Date entered "Qualified To Buy (Sales Pipeline)"',
    'Date entered "Contract Sent (Sales Pipeline)"',
    'Date entered "Closed Won (Sales Pipeline)"',
    'Date entered "Closed Lost (Sales Pipeline)"',
    'Date exited "Appointment Scheduled (Sales Pipeline)"',
]
API_HEAD = [
    "hs_object_id",
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "deal_currency_code",
    "createdate",
    "closedate",
    "hubspot_owner_id",
    "hs_analytics_source",
    "closed_lost_reason",
    "hs_v2_date_entered_appointmentscheduled",
    "hs_v2_date_entered_qualifiedtobuy",
    "hs_v2_date_entered_closedwon",
    "hs_v2_date_entered_closedlost",
    "hs_v2_date_entered_current_stage",
]


def text(rows: list[list[str]]) -> str:
    """The CSV text of *rows*, quoted as HubSpot quotes its headers."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def at(day: int, hour: int = 0, minute: int = 0, ms: int = 0) -> datetime:
    """An aware UTC instant in January 2024 (day 32 is 1 February)."""
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        days=day - 1, hours=hour, minutes=minute, milliseconds=ms
    )


def history(deal: sf.Deal) -> list[tuple[str, datetime]]:
    """The deal's history as (stage key, time) pairs."""
    return [(c.stage, c.at) for c in deal.history]


def load(rows: list[list[str]], pipeline: sf.Pipeline | None = None, **kw: Any) -> LoadResult:
    """Read *rows* with the skip-tolerant HubSpot default pipeline unless told otherwise."""
    pipe = pipeline or templates.hubspot_default(allow_skip=True)
    return read_hubspot_deals(io.StringIO(text(rows)), pipe, **kw)


WON_ROW = [
    "9001", "Acme renewal", "Closed Won", "Sales Pipeline", "1500.50", "USD",
    "2024-02-01T00:00:00Z", "2024-01-15T10:23:45.123Z", "Ann Lee",
    "2024-01-15T10:23:45.123Z", "2024-01-20T09:00:00Z", "", "2024-02-01T12:00:00Z", "",
    "2024-01-20T09:00:00Z",
]  # fmt: skip


class TestShape:
    def test_ui_header_is_detected(self) -> None:
        """A header with 'Deal Stage' and Date entered columns is read as a UI export."""
        result = load([UI_HEAD, WON_ROW])
        assert [d.id for d in result] == ["9001"]

    def test_api_header_is_detected(self) -> None:
        """A header with 'dealstage' and hs_v2 columns is read as an API export."""
        row = ["77", "Beta", "qualifiedtobuy", "default", "", "", "", "", "", "", "",
               "2024-01-02T08:00:00Z", "2024-01-05T08:00:00Z", "", "", ""]  # fmt: skip
        result = load([API_HEAD, row])
        assert history(result[0]) == [
            ("appointmentscheduled", at(2, 8)),
            ("qualifiedtobuy", at(5, 8)),
        ]

    def test_header_with_both_kinds_of_name_asks_for_shape(self) -> None:
        """A header mixing labels and internal names is refused with a hint to pass shape=."""
        with pytest.raises(LoadError, match="shape='ui' or shape='api'") as info:
            load([["Record ID", "dealstage"], ["1", "closedwon"]])
        assert (info.value.file, info.value.line) == ("<stream>", 1)

    def test_header_with_neither_asks_for_shape(self) -> None:
        """A header HubSpot never writes is refused rather than guessed."""
        with pytest.raises(LoadError, match="pass shape="):
            load([["id", "stage"], ["1", "closedwon"]])

    def test_shape_argument_wins_over_detection(self) -> None:
        """shape='api' with a column map reads a custom header."""
        head = ["id", "stage", "hs_date_entered_appointmentscheduled"]
        result = load([head, ["5", "appointmentscheduled", "2024-01-03T00:00:00Z"]],
                      shape="api", columns={"deal_id": "id", "stage": "stage"})  # fmt: skip
        assert history(result[0]) == [("appointmentscheduled", at(3))]

    def test_default_column_maps_name_the_documented_columns(self) -> None:
        """The default maps use HubSpot's labels and internal names."""
        assert HUBSPOT_UI_COLUMNS["deal_id"] == "Record ID"
        assert HUBSPOT_UI_COLUMNS["stage"] == "Deal Stage"
        assert HUBSPOT_API_COLUMNS["stage"] == "dealstage"
        assert HUBSPOT_API_COLUMNS["currency"] == "deal_currency_code"


class TestUiExport:
    def test_history_is_rebuilt_from_entry_dates(self) -> None:
        """Stages with an entry date, sorted by it, make the history; the exited column is ignored."""
        deal = load([UI_HEAD, WON_ROW])[0]
        assert history(deal) == [
            ("appointmentscheduled", at(15, 10, 23, 45_123)),
            ("qualifiedtobuy", at(20, 9)),
            ("closedwon", at(32, 12)),
        ]
        assert deal.stage.key == "closedwon"

    def test_fields_are_copied(self) -> None:
        """Amount and currency make the value; owner and deal name are kept."""
        deal = load([UI_HEAD, WON_ROW])[0]
        assert deal.value == sf.Money("1500.50", "USD")
        assert deal.owner == "Ann Lee"
        assert deal.attributes["name"] == "Acme renewal"

    def test_stage_labels_match_names_in_another_case(self) -> None:
        """'Closed Won' (HubSpot's label) finds the template's 'Closed won' stage."""
        deal = load([UI_HEAD, WON_ROW])[0]
        assert deal.stage.name == "Closed won"

    def test_stage_cell_may_hold_the_key(self) -> None:
        """A stage cell holding the internal id is matched to the key."""
        row = WON_ROW.copy()
        row[2] = "closedwon"
        assert load([UI_HEAD, row])[0].stage.key == "closedwon"

    def test_legacy_columns_are_read_when_v2_is_empty(self) -> None:
        """Single-quoted (legacy) labels fill in stages whose v2 cell is empty."""
        head = [*UI_HEAD, "Date entered 'Contract Sent (Sales Pipeline)'"]
        deal = load([head, [*WON_ROW, "2024-01-25T00:00:00Z"]])[0]
        assert ("contractsent", at(25)) in history(deal)

    def test_v2_wins_when_both_generations_disagree(self) -> None:
        """With a v2 and a legacy date for the same stage, the v2 date is used."""
        head = [*UI_HEAD, "Date entered 'Qualified To Buy (Sales Pipeline)'"]
        deal = load([head, [*WON_ROW, "2024-01-18T00:00:00Z"]])[0]
        assert ("qualifiedtobuy", at(20, 9)) in history(deal)
        assert ("qualifiedtobuy", at(18)) not in history(deal)

    def test_a_path_names_the_file_in_errors(self, tmp_path: Path) -> None:
        """Reading from a path reports that path in a LoadError."""
        path = tmp_path / "deals.csv"
        bad = WON_ROW.copy()
        bad[10] = "yesterday"
        path.write_text(text([UI_HEAD, bad]), encoding="utf-8")
        with pytest.raises(LoadError) as info:
            read_hubspot_deals(path, templates.hubspot_default(allow_skip=True))
        assert info.value.file == str(path)


class TestApiExport:
    def test_v2_history_with_source_and_lost_reason(self) -> None:
        """v2 columns give the history; the lost reason lands on the lost event."""
        row = ["81", "Gamma", "closedlost", "default", "900", "EUR", "2024-01-03T09:00:00Z",
               "2024-01-09T00:00:00Z", "314", "ORGANIC_SEARCH", "Went with a competitor",
               "2024-01-03T09:00:00Z", "", "", "2024-01-09T16:30:00Z", "2024-01-09T16:30:00Z"]  # fmt: skip
        deal = load([API_HEAD, row])[0]
        assert history(deal) == [("appointmentscheduled", at(3, 9)), ("closedlost", at(9, 16, 30))]
        assert deal.history[-1].reason == "Went with a competitor"
        assert deal.source == "ORGANIC_SEARCH"
        assert deal.owner == "314"
        assert deal.value == sf.Money("900", "EUR")

    def test_forecast_category_is_recorded(self) -> None:
        """hs_manual_forecast_category becomes the deal's forecast category (issue 15)."""
        head = ["hs_object_id", "dealstage", "hs_v2_date_entered_appointmentscheduled",
                "hs_manual_forecast_category"]  # fmt: skip
        rows = [["1", "appointmentscheduled", "2024-01-02T00:00:00Z", "Commit"],
                ["2", "appointmentscheduled", "2024-01-02T00:00:00Z", ""]]  # fmt: skip
        first, second = load([head, *rows])
        assert (first.forecast_category, second.forecast_category) == ("Commit", None)
        assert [(c.field, c.old, c.new, c.at) for c in first.changes] == [
            ("forecast_category", None, "Commit", at(2))
        ]
        assert sf.metrics.category_of(first) == "Commit"
        assert sf.metrics.category_of(second) == "Pipeline"

    def test_legacy_properties_are_read(self) -> None:
        """hs_date_entered_<id> columns (the legacy generation) are accepted alone."""
        head = ["hs_object_id", "dealstage", "hs_date_entered_appointmentscheduled",
                "hs_date_entered_contractsent"]  # fmt: skip
        deal = load([head, ["3", "contractsent", "2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z"]])[
            0
        ]
        assert history(deal) == [("appointmentscheduled", at(2)), ("contractsent", at(4))]

    def test_v2_wins_over_legacy(self) -> None:
        """When hs_v2_ and hs_ dates disagree for a stage, the v2 one is used."""
        head = ["hs_object_id", "dealstage", "hs_date_entered_qualifiedtobuy",
                "hs_v2_date_entered_qualifiedtobuy"]  # fmt: skip
        deal = load(
            [head, ["3", "qualifiedtobuy", "2024-01-02T00:00:00Z", "2024-01-06T00:00:00Z"]]
        )[0]
        assert history(deal) == [("qualifiedtobuy", at(6))]

    def test_columns_of_unknown_stage_ids_are_ignored(self) -> None:
        """Entry columns of another pipeline's numeric stage ids do not disturb the deal."""
        head = ["hs_object_id", "dealstage", "hs_v2_date_entered_appointmentscheduled",
                "hs_v2_date_entered_12000581"]  # fmt: skip
        deal = load(
            [head, ["3", "appointmentscheduled", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]]
        )[0]
        assert history(deal) == [("appointmentscheduled", at(2))]

    def test_epoch_milliseconds_are_read(self) -> None:
        """All-digit timestamps from the v1 API are epoch milliseconds, UTC."""
        head = ["hs_object_id", "dealstage", "hs_date_entered_appointmentscheduled",
                "hs_date_entered_qualifiedtobuy"]  # fmt: skip
        # 1705314225123 ms = 2024-01-15T10:23:45.123Z; 1705741200000 ms = 2024-01-20T09:00:00Z.
        deal = load([head, ["3", "qualifiedtobuy", "1705314225123", "1705741200000"]])[0]
        assert history(deal) == [
            ("appointmentscheduled", at(15, 10, 23, 45_123)),
            ("qualifiedtobuy", at(20, 9)),
        ]

    def test_custom_stage_ids_through_stage_map(self) -> None:
        """stage_map maps a numeric custom stage id to a key of the pipeline."""
        head = ["hs_object_id", "dealstage", "hs_v2_date_entered_appointmentscheduled",
                "hs_v2_date_entered_12000581"]  # fmt: skip
        deal = load([head, ["3", "12000581", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]],
                    stage_map={"12000581": "contractsent"})[0]  # fmt: skip
        assert history(deal) == [("appointmentscheduled", at(2)), ("contractsent", at(3))]


class TestTimestamps:
    HEAD: ClassVar[list[str]] = [
        "hs_object_id",
        "dealstage",
        "hs_v2_date_entered_appointmentscheduled",
    ]

    def test_naive_timestamp_needs_a_zone(self) -> None:
        """A timestamp without an offset is an error naming the column and value."""
        with pytest.raises(LoadError, match="no time zone") as info:
            load([self.HEAD, ["3", "appointmentscheduled", "2024-01-02 09:30"]])
        error = info.value
        assert (error.line, error.column, error.value) == (
            2,
            "hs_v2_date_entered_appointmentscheduled",
            "2024-01-02 09:30",
        )

    def test_naive_timestamp_with_timezone(self) -> None:
        """timezone= places naive timestamps in that zone."""
        deal = load(
            [self.HEAD, ["3", "appointmentscheduled", "2024-01-02 09:30"]], timezone="Europe/Paris"
        )[0]
        assert history(deal) == [("appointmentscheduled", at(2, 8, 30))]

    def test_timestamp_format(self) -> None:
        """timestamp_format= reads a locale date with the zone given."""
        deal = load([self.HEAD, ["3", "appointmentscheduled", "01/02/2024 09:30"]],
                    timestamp_format="%m/%d/%Y %H:%M", timezone=UTC)[0]  # fmt: skip
        assert history(deal) == [("appointmentscheduled", at(2, 9, 30))]

    def test_short_digit_strings_are_not_epoch(self) -> None:
        """An 8-digit value is read as an ISO basic date, not as milliseconds."""
        deal = load([self.HEAD, ["3", "appointmentscheduled", "20240102"]], timezone="UTC")[0]
        assert history(deal) == [("appointmentscheduled", at(2))]


class TestReading:
    HEAD: ClassVar[list[str]] = [
        "hs_object_id",
        "dealstage",
        "hs_v2_date_entered_appointmentscheduled",
    ]

    def test_blank_lines_are_not_rows(self) -> None:
        """Blank lines are skipped and not counted as rows read."""
        source = io.StringIO(
            text([self.HEAD]) + "\n1,appointmentscheduled,2024-01-02T00:00:00Z\n\n"
        )
        result = read_hubspot_deals(source, templates.hubspot_default())
        assert (result.rows_read, result.built) == (1, 1)

    def test_progress_is_reported_every_10000_rows(self) -> None:
        """progress= is called with the running row count."""
        rows = [[str(i), "appointmentscheduled", "2024-01-02T00:00:00Z"] for i in range(10_001)]
        calls: list[int] = []
        result = load([self.HEAD, *rows], progress=calls.append)
        assert calls == [10_000]
        assert result.built == 10_001


class TestMixedPipelines:
    HEAD: ClassVar[list[str]] = ["Record ID", "Deal Stage", "Pipeline",
            'Date entered "Appointment Scheduled (Sales Pipeline)"',
            'Date entered "Order received (Renewals)"', 'Date entered "Renewed (Renewals)"']  # fmt: skip
    ROWS: ClassVar[list[list[str]]] = [
        ["1", "Appointment Scheduled", "Sales Pipeline", "2024-01-02T00:00:00Z", "", ""],
        ["2", "Order received", "Renewals", "", "2024-01-03T00:00:00Z", ""],
    ]

    def test_rows_of_other_pipelines_are_rejects(self) -> None:
        """A row of another pipeline is a reject that says which pipeline it is in."""
        result = load([self.HEAD, *self.ROWS], errors="collect")
        assert [d.id for d in result] == ["1"]
        assert (result.rows_read, result.rows_rejected) == (2, 1)
        error = result.rejects[0]
        assert (error.line, error.column, error.value) == (3, "Pipeline", "Renewals")
        assert "other_pipelines='skip'" in error.reason

    def test_rows_of_other_pipelines_can_be_skipped(self) -> None:
        """other_pipelines='skip' leaves them out without a reject."""
        result = load([self.HEAD, *self.ROWS], other_pipelines="skip")
        assert [d.id for d in result] == ["1"]
        assert (result.rows_read, result.rows_rejected, result.rejects) == (2, 0, ())

    def test_pipeline_label_selects_the_columns(self) -> None:
        """pipeline_label picks the other pipeline's Date entered columns and rows."""
        renewals = sf.Pipeline.linear("Renewals", ["Order received"], won="Renewed", lost=None)
        result = load(
            [self.HEAD, *self.ROWS], renewals, pipeline_label="Renewals", other_pipelines="skip"
        )
        assert [(d.id, history(d)) for d in result] == [("2", [("Order received", at(3))])]

    def test_unknown_pipeline_label_lists_the_labels_found(self) -> None:
        """A pipeline with no columns in the export is a header error naming the labels present."""
        with pytest.raises(LoadError, match="Renewals") as info:
            load([self.HEAD, *self.ROWS], sf.Pipeline.linear("Sales", ["Appointment Scheduled"]))
        assert info.value.line == 1

    def test_api_rows_are_checked_against_pipeline_id(self) -> None:
        """pipeline_id makes rows with another 'pipeline' value rejects."""
        head = ["hs_object_id", "dealstage", "pipeline", "hs_v2_date_entered_appointmentscheduled"]
        rows = [["1", "appointmentscheduled", "default", "2024-01-02T00:00:00Z"],
                ["2", "appointmentscheduled", "8812345", "2024-01-02T00:00:00Z"]]  # fmt: skip
        result = load([head, *rows], pipeline_id="default", errors="collect")
        assert [d.id for d in result] == ["1"]
        assert (result.rejects[0].column, result.rejects[0].value) == ("pipeline", "8812345")

    def test_skip_with_an_api_export_needs_pipeline_id(self) -> None:
        """other_pipelines='skip' without pipeline_id is refused for an API export."""
        head = ["hs_object_id", "dealstage", "hs_v2_date_entered_appointmentscheduled"]
        with pytest.raises(ValueError, match="pipeline_id"):
            load(
                [head, ["1", "appointmentscheduled", "2024-01-02T00:00:00Z"]],
                other_pipelines="skip",
            )


class TestCurrentStage:
    HEAD: ClassVar[list[str]] = ["hs_object_id", "dealstage", "createdate", "closedate",
            "hs_v2_date_entered_appointmentscheduled", "hs_v2_date_entered_qualifiedtobuy",
            "hs_v2_date_entered_closedwon"]  # fmt: skip

    def test_missing_date_of_open_stage_uses_latest_known(self) -> None:
        """An open current stage without a date is entered at the latest known entry time."""
        row = ["1", "qualifiedtobuy", "2024-01-01T00:00:00Z", "", "2024-01-02T00:00:00Z", "", ""]
        assert history(load([self.HEAD, row])[0]) == [
            ("appointmentscheduled", at(2)),
            ("qualifiedtobuy", at(2)),
        ]

    def test_missing_date_of_closed_stage_uses_close_date(self) -> None:
        """A won deal without a won date is won at its close date."""
        row = ["1", "closedwon", "", "2024-01-09T00:00:00Z", "2024-01-02T00:00:00Z", "", ""]
        assert history(load([self.HEAD, row])[0]) == [
            ("appointmentscheduled", at(2)),
            ("closedwon", at(9)),
        ]

    def test_close_date_before_last_entry_is_raised_to_it(self) -> None:
        """A close date earlier than the last entry gives way to the entry time."""
        row = [
            "1",
            "closedwon",
            "",
            "2024-01-05T00:00:00Z",
            "2024-01-02T00:00:00Z",
            "2024-01-07T00:00:00Z",
            "",
        ]
        assert history(load([self.HEAD, row])[0])[-1] == ("closedwon", at(7))

    def test_current_stage_dated_before_another_is_re_entered_last(self) -> None:
        """When the current stage's date is not the latest, it is entered again at the end."""
        row = [
            "1",
            "appointmentscheduled",
            "",
            "",
            "2024-01-02T00:00:00Z",
            "2024-01-04T00:00:00Z",
            "",
        ]
        assert history(load([self.HEAD, row])[0]) == [
            ("appointmentscheduled", at(2)),
            ("qualifiedtobuy", at(4)),
            ("appointmentscheduled", at(4)),
        ]

    def test_no_entry_dates_uses_create_date(self) -> None:
        """A deal with no stage-entry dates starts in its stage at the create date."""
        row = ["1", "appointmentscheduled", "2024-01-03T00:00:00Z", "", "", "", ""]
        assert history(load([self.HEAD, row])[0]) == [("appointmentscheduled", at(3))]

    def test_equal_times_put_the_current_stage_last(self) -> None:
        """Two stages entered at the same instant keep the current one last."""
        row = ["1", "qualifiedtobuy", "", "", "2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z", ""]
        assert history(load([self.HEAD, row])[0]) == [
            ("appointmentscheduled", at(2)),
            ("qualifiedtobuy", at(2)),
        ]

    def test_no_date_at_all_is_an_error(self) -> None:
        """Without entry, close or create dates the row is refused, naming the stage cell."""
        row = ["1", "qualifiedtobuy", "", "", "", "", ""]
        with pytest.raises(LoadError, match="no date for the current stage") as info:
            load([self.HEAD, row])
        assert (info.value.line, info.value.column, info.value.value) == (
            2,
            "dealstage",
            "qualifiedtobuy",
        )


class TestErrors:
    HEAD: ClassVar[list[str]] = ["hs_object_id", "dealstage", "amount", "deal_currency_code",
            "hs_v2_date_entered_appointmentscheduled", "hs_v2_date_entered_contractsent"]  # fmt: skip
    GOOD: ClassVar[list[str]] = ["1", "appointmentscheduled", "", "", "2024-01-02T00:00:00Z", ""]

    def error(self, row: list[str], **kw: Any) -> LoadError:
        """The LoadError raised for *row* after one good row."""
        with pytest.raises(LoadError) as info:
            load([self.HEAD, self.GOOD, row], **kw)
        assert info.value.file == "<stream>"
        return info.value

    @pytest.mark.parametrize(
        ("row", "column", "value", "reason"),
        [
            (["", "appointmentscheduled", "", "", "2024-01-02T00:00:00Z", ""], "hs_object_id", "", "deal id is empty"),
            (["2", "", "", "", "2024-01-02T00:00:00Z", ""], "dealstage", "", "stage is empty"),
            (["2", "negotiation", "", "", "2024-01-02T00:00:00Z", ""], "dealstage", "negotiation", "no such stage"),
            (["2", "appointmentscheduled", "", "", "2024-13-02", ""], "hs_v2_date_entered_appointmentscheduled", "2024-13-02", "ISO 8601"),
            (["2", "appointmentscheduled", "1,5", "USD", "2024-01-02T00:00:00Z", ""], "amount", "1,5", "decimal mark"),
            (["2", "appointmentscheduled", "1500", "", "2024-01-02T00:00:00Z", ""], "amount", "1500", "needs a currency"),
            (["2", "appointmentscheduled", "1500", "usd", "2024-01-02T00:00:00Z", ""], "amount", "usd", "ISO 4217"),
        ],
    )  # fmt: skip
    def test_bad_cell(self, row: list[str], column: str, value: str, reason: str) -> None:
        """Each bad cell raises a LoadError with file, line, column and value."""
        error = self.error(row)
        assert (error.line, error.column, error.value) == (3, column, value)
        assert reason in error.reason

    def test_repeated_id(self) -> None:
        """A repeated deal id names the first line."""
        error = self.error(self.GOOD)
        assert (error.line, error.column, error.value) == (3, "hs_object_id", "1")
        assert "first on line 2" in error.reason

    def test_repeated_id_leaves_both_rows_out_when_collecting(self) -> None:
        """With errors='collect', both rows of a repeated id are rejected."""
        result = load([self.HEAD, self.GOOD, self.GOOD], errors="collect")
        assert (result.built, result.rows_read, result.rows_rejected, len(result.rejects)) == (
            0,
            2,
            2,
            1,
        )

    def test_wrong_number_of_cells(self) -> None:
        """A short row is refused with its line."""
        error = self.error(["2", "appointmentscheduled"])
        assert (error.line, error.column) == (3, None)
        assert "expected 6 cells, got 2" in error.reason

    def test_history_refused_by_the_rules(self) -> None:
        """A skip that the pipeline forbids names the entry column and date of the offending stage."""
        row = ["2", "contractsent", "", "", "2024-01-02T00:00:00Z", "2024-01-05T00:00:00Z"]
        with pytest.raises(LoadError, match="skip") as info:
            load([self.HEAD, row], templates.hubspot_default())
        error = info.value
        assert (error.line, error.column, error.value) == (
            2,
            "hs_v2_date_entered_contractsent",
            "2024-01-05T00:00:00Z",
        )

    def test_collect_keeps_good_rows(self) -> None:
        """errors='collect' returns the good deals, the counts and one reject per bad row."""
        bad = ["2", "negotiation", "", "", "2024-01-02T00:00:00Z", ""]
        result = load([self.HEAD, self.GOOD, bad], errors="collect")
        assert [d.id for d in result] == ["1"]
        assert (result.rows_read, result.built, result.rows_rejected) == (2, 1, 1)
        assert result.rejects[0].to_dict()["value"] == "negotiation"

    def test_missing_required_column(self) -> None:
        """A header without the stage column is an error at line 1."""
        with pytest.raises(LoadError, match="'dealstage'") as info:
            load([["hs_object_id", "hs_v2_date_entered_closedwon"], ["1", "2024-01-02T00:00:00Z"]])
        assert info.value.line == 1

    def test_no_stage_columns(self) -> None:
        """An export without entry-date columns for the pipeline is refused."""
        with pytest.raises(LoadError, match="no hs_v2_date_entered_<id> column"):
            load([["hs_object_id", "dealstage"], ["1", "closedwon"]])

    def test_unknown_stage_label_in_header(self) -> None:
        """A Date entered column whose label matches no stage names the column."""
        head = ["Record ID", "Deal Stage", 'Date entered "Negotiation (Sales Pipeline)"']
        with pytest.raises(LoadError, match="stage_map") as info:
            load([head, ["1", "Negotiation", "2024-01-02T00:00:00Z"]])
        assert (info.value.line, info.value.column, info.value.value) == (1, head[2], "Negotiation")

    def test_epoch_out_of_range(self) -> None:
        """An absurd epoch-milliseconds value is refused, not wrapped around."""
        row = ["2", "appointmentscheduled", "", "", "99999999999999999999", ""]
        error = self.error(row)
        assert (error.column, error.value) == ("hs_v2_date_entered_appointmentscheduled", row[4])
        assert "out of range" in error.reason

    def test_two_columns_for_one_stage(self) -> None:
        """Two v2 columns that name the same stage are a header error."""
        head = ["Record ID", "Deal Stage", 'Date entered "Closed Won (Sales Pipeline)"',
                'Date entered "closed won (Sales Pipeline)"']  # fmt: skip
        with pytest.raises(LoadError, match="two columns") as info:
            load([head, ["1", "Closed Won", "", ""]])
        assert (info.value.line, info.value.column) == (1, head[3])

    def test_empty_file(self) -> None:
        """An empty file is refused."""
        with pytest.raises(LoadError, match="empty"):
            read_hubspot_deals(io.StringIO(""), templates.hubspot_default())

    @pytest.mark.parametrize(
        "options",
        [{"shape": "csv"}, {"other_pipelines": "drop"}, {"errors": "ignore"},
         {"columns": {"deal": "id"}}, {"pipeline_id": "default"}],
    )  # fmt: skip
    def test_bad_options(self, options: dict[str, Any]) -> None:
        """Unknown option values are a ValueError before any row is read."""
        with pytest.raises(ValueError, match=r"\S"):
            load([UI_HEAD, WON_ROW], **options)

    def test_stage_map_to_unknown_stage(self) -> None:
        """A stage_map target the pipeline lacks is an UnknownStageError before any row is read."""
        with pytest.raises(sf.UnknownStageError, match="nowhere"):
            load([UI_HEAD, WON_ROW], stage_map={"x": "nowhere"})


STAGES = [
    {"id": "closedlost", "label": "Closed Lost", "displayOrder": 3,
     "metadata": {"probability": "0.0", "isClosed": "true"}},
    {"id": "appointmentscheduled", "label": "Appointment Scheduled", "displayOrder": 0,
     "metadata": {"probability": "0.2", "isClosed": "false"}},
    {"id": "qualifiedtobuy", "label": "Qualified To Buy", "displayOrder": 1,
     "metadata": {"probability": "0.4", "isClosed": "false"}},
    {"id": "closedwon", "label": "Closed Won", "displayOrder": 2,
     "metadata": {"probability": "1.0", "isClosed": "true"}},
]  # fmt: skip


class TestHubspotPipeline:
    def test_stages_are_ordered_and_classified(self) -> None:
        """displayOrder orders the stages; closed stages at 1.0 are won, at 0.0 lost."""
        p = hubspot_pipeline({"label": "Sales Pipeline", "stages": STAGES})
        assert p.name == "Sales Pipeline"
        assert [(s.key, s.name, s.outcome, s.probability) for s in p.stages] == [
            ("appointmentscheduled", "Appointment Scheduled", sf.Outcome.OPEN, 0.2),
            ("qualifiedtobuy", "Qualified To Buy", sf.Outcome.OPEN, 0.4),
            ("closedwon", "Closed Won", sf.Outcome.WON, 1.0),
            ("closedlost", "Closed Lost", sf.Outcome.LOST, 0.0),
        ]

    def test_skips_are_allowed_by_default(self) -> None:
        """The built pipeline allows skips unless told otherwise."""
        assert hubspot_pipeline({"label": "S", "stages": STAGES}).allow_skip is True
        assert (
            hubspot_pipeline({"label": "S", "stages": STAGES}, allow_skip=False).allow_skip is False
        )

    def test_won_and_lost_override(self) -> None:
        """won=/lost= decide closed stages whose probability is neither 0 nor 1."""
        stages = [*STAGES, {"id": "1234", "label": "Churned", "displayOrder": 4,
                            "metadata": {"probability": "0.1", "isClosed": "true"}}]  # fmt: skip
        with pytest.raises(SchemaError) as info:
            hubspot_pipeline({"label": "S", "stages": stages})
        assert info.value.path == "$.stages[4].metadata.probability"
        p = hubspot_pipeline({"label": "S", "stages": stages}, lost=["Churned"])
        assert p.stage("1234").outcome is sf.Outcome.LOST

    def test_results_wrapper_and_label(self) -> None:
        """The whole API response is accepted; label= picks a pipeline by label or id."""
        other = {"id": "8812345", "label": "Renewals", "stages": STAGES[1:]}
        data = {"results": [{"id": "default", "label": "Sales Pipeline", "stages": STAGES}, other]}
        assert hubspot_pipeline(data, label="8812345").name == "Renewals"
        with pytest.raises(ValueError, match="Renewals"):
            hubspot_pipeline(data)

    def test_archived_stages_are_left_out(self) -> None:
        """Archived stages are dropped unless include_archived=True."""
        stages = [*STAGES, {"id": "old", "label": "Old", "displayOrder": 9, "archived": True,
                            "metadata": {"probability": "0.5", "isClosed": "false"}}]  # fmt: skip
        assert "old" not in hubspot_pipeline({"label": "S", "stages": stages})
        assert "old" in hubspot_pipeline({"label": "S", "stages": stages}, include_archived=True)

    @pytest.mark.parametrize(
        ("change", "path"),
        [
            ({"metadata": {"probability": "20", "isClosed": "false"}}, "$.stages[1].metadata.probability"),
            ({"metadata": {"probability": "0.2", "isClosed": "maybe"}}, "$.stages[1].metadata.isClosed"),
            ({"displayOrder": "first"}, "$.stages[1].displayOrder"),
            ({"id": ""}, "$.stages[1].id"),
        ],
    )  # fmt: skip
    def test_malformed_stage(self, change: dict[str, Any], path: str) -> None:
        """Malformed JSON raises a SchemaError whose path points at the field."""
        stages = [STAGES[0], {**STAGES[1], **change}, *STAGES[2:]]
        with pytest.raises(SchemaError) as info:
            hubspot_pipeline({"label": "S", "stages": stages})
        assert info.value.path == path

    def test_stage_in_both_won_and_lost(self) -> None:
        """A stage named in both won= and lost= is a ValueError."""
        with pytest.raises(ValueError, match="both"):
            hubspot_pipeline(
                {"label": "S", "stages": STAGES}, won=["closedwon"], lost=["closedwon"]
            )

    @pytest.mark.parametrize(
        ("data", "path"),
        [
            ({"results": {}}, "$.results"),
            ({"stages": STAGES}, "$.label"),
            ({"label": "S"}, "$.stages"),
        ],
    )
    def test_malformed_pipeline(self, data: dict[str, Any], path: str) -> None:
        """A malformed response or pipeline object names the path at fault."""
        with pytest.raises(SchemaError) as info:
            hubspot_pipeline(data)
        assert info.value.path == path

    def test_unknown_won_stage(self) -> None:
        """A won= name that is no stage is a ValueError."""
        with pytest.raises(ValueError, match="'nope'"):
            hubspot_pipeline({"label": "S", "stages": STAGES}, won=["nope"])

    def test_loads_deals_with_the_built_pipeline(self) -> None:
        """The built pipeline reads an API export keyed by stage ids."""
        p = hubspot_pipeline({"label": "Sales Pipeline", "stages": STAGES})
        head = [
            "hs_object_id",
            "dealstage",
            "hs_v2_date_entered_appointmentscheduled",
            "hs_v2_date_entered_closedwon",
        ]
        deal = load([head, ["1", "closedwon", "2024-01-02T00:00:00Z", "2024-01-08T00:00:00Z"]], p)[
            0
        ]
        assert deal.is_won
        assert history(deal) == [("appointmentscheduled", at(2)), ("closedwon", at(8))]
