"""Salesforce exports: OpportunityHistory collapsing and OpportunityStage pipelines."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

import salesflow as sf
from salesflow.exceptions import InvalidPipelineError, LoadError
from salesflow.io._common import LoadResult
from salesflow.io._salesforce import (
    SALESFORCE_HISTORY_COLUMNS,
    read_salesforce_history,
    salesforce_pipeline,
)

HEAD = ["Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount",
        "CurrencyIsoCode", "Probability", "CloseDate", "IsDeleted"]  # fmt: skip
OPP = "0065g00000AbCdEAAV"
OTHER = "0065g00000XyZwQAAV"
STAGE_HEAD = ["Id", "ApiName", "MasterLabel", "IsActive", "IsClosed", "IsWon",
              "DefaultProbability", "SortOrder"]  # fmt: skip
STAGE_ROWS = [
    ["01J5g000001", "Closed Won", "Closed Won", "true", "true", "true", "100", "6"],
    ["01J5g000002", "Prospecting", "Prospecting", "true", "false", "false", "10", "1"],
    ["01J5g000003", "Qualification", "Qualification", "true", "false", "false", "20", "2"],
    ["01J5g000004", "Needs Analysis", "Needs Analysis", "false", "false", "false", "20", "3"],
    ["01J5g000005", "Proposal/Price Quote", "Proposal/Price Quote", "true", "false", "false", "75", "4"],
    ["01J5g000006", "Closed Lost", "Closed Lost", "true", "true", "false", "0", "7"],
]  # fmt: skip


def text(rows: list[list[str]]) -> str:
    """The CSV text of *rows*."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant in January 2024 (day 32 is 1 February)."""
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=hour, minutes=minute)


def pipeline(**rules: Any) -> sf.Pipeline:
    """The standard Salesforce stages, built from the CSV fixture."""
    return salesforce_pipeline(io.StringIO(text([STAGE_HEAD, *STAGE_ROWS])), **rules)


def load(rows: list[list[str]], pipe: sf.Pipeline | None = None, **kw: Any) -> LoadResult:
    """Read OpportunityHistory *rows* (after the standard header)."""
    return read_salesforce_history(io.StringIO(text([HEAD, *rows])), pipe or pipeline(), **kw)


def save(
    row_id: str,
    day: int,
    stage: str,
    amount: str = "1000",
    currency: str = "USD",
    *,
    opp: str = OPP,
    user: str = "0055g00000Ann01",
    deleted: str = "false",
) -> list[str]:
    """One OpportunityHistory row as Data Loader writes it."""
    return [row_id, opp, user, f"2024-01-{day:02d}T10:00:00.000Z", stage, amount, currency,
            "10", "2024-03-31", deleted]  # fmt: skip


FIVE_SAVES = [
    save("0085g001", 2, "Prospecting", "1000", user="0055g00000Ann01"),
    save("0085g002", 3, "Prospecting", "1200", user="0055g00000Ann01"),
    save("0085g003", 5, "Qualification", "1200", user="0055g00000Bob02"),
    save("0085g004", 8, "Qualification", "1500", "EUR", user="0055g00000Bob02"),
    save("0085g005", 12, "Closed Won", "1500", "EUR", user="0055g00000Cat03"),
]


class TestCollapse:
    def test_five_saves_make_three_stage_entries(self) -> None:
        """Consecutive saves in the same stage collapse into the first one's entry."""
        deal = load(FIVE_SAVES)[0]
        assert [(c.stage, c.at) for c in deal.history] == [
            ("Prospecting", at(2, 10)),
            ("Qualification", at(5, 10)),
            ("Closed Won", at(12, 10)),
        ]

    def test_the_user_who_saved_the_stage_is_the_actor(self) -> None:
        """CreatedById of the row that entered a stage is the change's actor."""
        deal = load(FIVE_SAVES)[0]
        assert [c.actor for c in deal.history] == [
            "0055g00000Ann01",
            "0055g00000Bob02",
            "0055g00000Cat03",
        ]

    def test_rows_in_any_order(self) -> None:
        """Rows are sorted by CreatedDate before collapsing."""
        shuffled = [FIVE_SAVES[i] for i in (4, 1, 3, 0, 2)]
        assert [c.stage for c in load(shuffled)[0].history] == [
            "Prospecting",
            "Qualification",
            "Closed Won",
        ]

    def test_a_stage_entered_again_is_kept(self) -> None:
        """Only consecutive equal stages collapse: a move back and forth stays three entries."""
        rows = [
            save("1", 2, "Prospecting"),
            save("2", 3, "Qualification"),
            save("3", 4, "Prospecting"),
        ]
        assert [c.stage for c in load(rows)[0].history] == [
            "Prospecting",
            "Qualification",
            "Prospecting",
        ]

    def test_deals_keep_the_order_of_first_appearance(self) -> None:
        """Each opportunity becomes one deal, in file order."""
        rows = [save("1", 2, "Prospecting", opp=OTHER), *FIVE_SAVES]
        result = load(rows)
        assert [d.id for d in result] == [OTHER, OPP]
        assert (result.rows_read, result.built, result.rows_rejected) == (6, 2, 0)

    def test_labels_and_stage_map(self) -> None:
        """A stage cell may hold the label in another case, or go through stage_map."""
        rows = [save("1", 2, "prospecting"), save("2", 3, "Qualified")]
        deal = load(rows, stage_map={"Qualified": "Qualification"})[0]
        assert [c.stage for c in deal.history] == ["Prospecting", "Qualification"]

    def test_progress_is_reported_every_10000_rows(self) -> None:
        """progress= is called with the running row count."""
        rows = [save(str(i), 2, "Prospecting", opp=f"006{i:015d}") for i in range(10_000)]
        calls: list[int] = []
        assert len(load(rows, progress=calls.append)) == 10_000
        assert calls == [10_000]

    def test_default_columns_are_api_names(self) -> None:
        """The default map reads the API names Data Loader writes."""
        assert SALESFORCE_HISTORY_COLUMNS["deal_id"] == "OpportunityId"
        assert SALESFORCE_HISTORY_COLUMNS["at"] == "CreatedDate"


class TestValue:
    def test_value_is_the_latest_amount_in_its_currency(self) -> None:
        """The latest row's Amount and CurrencyIsoCode make the value."""
        assert load(FIVE_SAVES)[0].value == sf.Money("1500", "EUR")

    def test_latest_by_time_not_by_file_order(self) -> None:
        """The latest row is found by CreatedDate even when it comes first in the file."""
        rows = [save("2", 9, "Qualification", "700"), save("1", 2, "Prospecting", "300")]
        assert load(rows)[0].value == sf.Money("700", "USD")

    def test_cleared_amount_means_no_value(self) -> None:
        """An empty Amount in the latest row leaves the deal without a value."""
        rows = [save("1", 2, "Prospecting", "300"), save("2", 3, "Qualification", "", "")]
        assert load(rows)[0].value is None

    def test_currency_argument_for_single_currency_orgs(self) -> None:
        """currency= supplies the currency when CurrencyIsoCode is empty."""
        rows = [save("1", 2, "Prospecting", "250.75", "")]
        assert load(rows, currency="GBP")[0].value == sf.Money("250.75", "GBP")

    def test_rest_style_offsets_are_read(self) -> None:
        """'+0000' offsets, as the REST API writes them, are accepted."""
        row = save("1", 2, "Prospecting")
        row[3] = "2024-01-02T10:00:00.000+0000"
        assert load([row])[0].history[0].at == at(2, 10)


class TestDeleted:
    ROWS: ClassVar[list[list[str]]] = [save("1", 2, "Prospecting"), save("2", 3, "Qualification", deleted="true"),
            save("3", 2, "Prospecting", opp=OTHER)]  # fmt: skip

    def test_deleted_rows_are_rejects(self) -> None:
        """A deleted row is a reject that leaves its opportunity out, with file/line/column/value."""
        result = load(self.ROWS, errors="collect")
        assert [d.id for d in result] == [OTHER]
        assert (result.rows_read, result.rows_rejected) == (3, 2)
        error = result.rejects[0]
        assert (error.file, error.line, error.column, error.value) == (
            "<stream>",
            3,
            "IsDeleted",
            "true",
        )
        assert "deleted='skip'" in error.reason

    def test_deleted_rows_can_be_skipped(self) -> None:
        """deleted='skip' drops only the deleted rows."""
        result = load(self.ROWS, deleted="skip")
        assert [[c.stage for c in d.history] for d in result] == [["Prospecting"], ["Prospecting"]]
        assert result.rows_rejected == 0

    def test_deleted_row_raises_by_default(self) -> None:
        """With errors='raise', the first deleted row stops the load."""
        with pytest.raises(LoadError, match="deleted"):
            load(self.ROWS)


class TestErrors:
    @pytest.mark.parametrize(
        ("index", "value", "column", "reason"),
        [
            (1, "", "OpportunityId", "opportunity id is empty"),
            (4, "", "StageName", "stage is empty"),
            (4, "Negotiation/Review", "StageName", "no such stage"),
            (3, "", "CreatedDate", "timestamp is empty"),
            (3, "15/01/2024", "CreatedDate", "ISO 8601"),
            (3, "2024-01-15 10:23:45", "CreatedDate", "no time zone"),
            (5, "1.500,00", "Amount", "pass decimal=','"),
            (9, "yes", "IsDeleted", "checkbox"),
        ],
    )  # fmt: skip
    def test_bad_cell(self, index: int, value: str, column: str, reason: str) -> None:
        """Each bad cell raises a LoadError naming file, line, column and value."""
        bad = save("9", 4, "Qualification")
        bad[index] = value
        with pytest.raises(LoadError) as info:
            load([save("1", 2, "Prospecting"), bad])
        error = info.value
        assert (error.file, error.line, error.column, error.value) == ("<stream>", 3, column, value)
        assert reason in error.reason

    def test_amount_without_currency(self) -> None:
        """An amount with no currency anywhere is refused."""
        with pytest.raises(LoadError, match="CurrencyIsoCode") as info:
            load([save("1", 2, "Prospecting", "100", "")])
        assert (info.value.line, info.value.column, info.value.value) == (2, "Amount", "100")

    def test_wrong_number_of_cells(self) -> None:
        """A short row is refused with its line."""
        with pytest.raises(LoadError, match="expected 10 cells, got 3") as info:
            load([save("1", 2, "Prospecting"), ["x", OPP, "y"]])
        assert info.value.line == 3

    def test_history_refused_by_the_rules(self) -> None:
        """A skip the pipeline forbids names the line and stage of the offending row."""
        rows = [save("1", 2, "Prospecting"), save("2", 3, "Proposal/Price Quote")]
        with pytest.raises(LoadError, match="skip") as info:
            load(rows, pipeline(allow_skip=False))
        error = info.value
        assert (error.line, error.column, error.value) == (3, "StageName", "Proposal/Price Quote")

    def test_collect_counts_every_row_of_a_bad_opportunity(self) -> None:
        """errors='collect' leaves out a bad opportunity's earlier and later rows too."""
        bad = save("2", 3, "Qualification")
        bad[3] = "not a date"
        rows = [
            save("1", 2, "Prospecting"),
            bad,
            save("3", 4, "Closed Won"),
            save("4", 2, "Prospecting", opp=OTHER),
        ]
        result = load(rows, errors="collect")
        assert [d.id for d in result] == [OTHER]
        assert (result.rows_read, result.built, result.rows_rejected, len(result.rejects)) == (
            4,
            1,
            3,
            1,
        )

    def test_collect_refused_history(self) -> None:
        """A history the rules refuse is one reject; all its rows count as rejected."""
        rows = [save("1", 2, "Prospecting"), save("2", 3, "Proposal/Price Quote")]
        result = load(rows, pipeline(allow_skip=False), errors="collect")
        assert (result.built, result.rows_rejected, result.rejects[0].line) == (0, 2, 3)

    def test_missing_column(self) -> None:
        """A header without StageName is an error at line 1."""
        source = io.StringIO(
            text([["OpportunityId", "CreatedDate"], [OPP, "2024-01-02T10:00:00Z"]])
        )
        with pytest.raises(LoadError, match="'StageName'") as info:
            read_salesforce_history(source, pipeline())
        assert info.value.line == 1

    def test_bad_options(self) -> None:
        """Unknown option values are a ValueError."""
        with pytest.raises(ValueError, match="deleted"):
            load(FIVE_SAVES, deleted="keep")
        with pytest.raises(ValueError, match="Unknown column"):
            load(FIVE_SAVES, columns={"opportunity": "Id"})

    def test_a_path_names_the_file(self, tmp_path: Path) -> None:
        """Reading from a path puts the path in the LoadError."""
        path = tmp_path / "OpportunityHistory.csv"
        path.write_text(text([HEAD, save("1", 2, "Nope")]), encoding="utf-8")
        with pytest.raises(LoadError) as info:
            read_salesforce_history(path, pipeline())
        assert (info.value.file, info.value.line) == (str(path), 2)


class TestSalesforcePipeline:
    def test_stages_from_csv(self) -> None:
        """SortOrder orders the stages, inactive ones are left out, percentages become fractions."""
        p = pipeline()
        assert p.name == "Salesforce"
        assert [(s.key, s.outcome, s.probability) for s in p.stages] == [
            ("Prospecting", sf.Outcome.OPEN, 0.1),
            ("Qualification", sf.Outcome.OPEN, 0.2),
            ("Proposal/Price Quote", sf.Outcome.OPEN, 0.75),
            ("Closed Won", sf.Outcome.WON, 1.0),
            ("Closed Lost", sf.Outcome.LOST, 0.0),
        ]

    def test_inactive_stages_on_request(self) -> None:
        """include_inactive=True keeps inactive stages in their place."""
        keys = [s.key for s in pipeline(include_inactive=True).stages]
        assert keys[:4] == [
            "Prospecting",
            "Qualification",
            "Needs Analysis",
            "Proposal/Price Quote",
        ]

    def test_rules_default_to_skips_allowed(self) -> None:
        """Skips are allowed by default and can be forbidden."""
        assert pipeline().allow_skip is True
        assert pipeline(allow_skip=False).allow_skip is False

    def test_records_from_a_query(self) -> None:
        """Mappings with booleans and numbers (SOQL records) are accepted; MasterLabel names the stage."""
        records = [
            {"attributes": {"type": "OpportunityStage"}, "ApiName": "Discovery", "MasterLabel": "Discovery call",
             "IsActive": True, "IsClosed": False, "IsWon": False, "DefaultProbability": 15.0, "SortOrder": 1},
            {"ApiName": "Won", "MasterLabel": "Won", "IsActive": True, "IsClosed": True, "IsWon": True,
             "DefaultProbability": 100.0, "SortOrder": 2},
        ]  # fmt: skip
        p = salesforce_pipeline(records, name="Enterprise")
        assert [(s.key, s.name, s.outcome, s.probability) for s in p.stages] == [
            ("Discovery", "Discovery call", sf.Outcome.OPEN, 0.15),
            ("Won", "Won", sf.Outcome.WON, 1.0),
        ]
        assert p.name == "Enterprise"

    def test_master_label_without_api_name(self) -> None:
        """Without ApiName, MasterLabel is the key."""
        rows = [{"MasterLabel": "Open", "IsClosed": "false", "IsWon": "false"},
                {"MasterLabel": "Won", "IsClosed": "true", "IsWon": "true"}]  # fmt: skip
        assert pipeline_keys(rows) == ["Open", "Won"]

    @pytest.mark.parametrize(
        ("change", "column", "value", "reason"),
        [
            ({"DefaultProbability": "150"}, "DefaultProbability", "150", "percentage"),
            ({"DefaultProbability": "ten"}, "DefaultProbability", "ten", "percentage"),
            ({"IsClosed": "false"}, "IsClosed", "false", "IsWon is true"),
            ({"IsWon": "maybe"}, "IsWon", "maybe", "checkbox"),
            ({"SortOrder": "2.5"}, "SortOrder", "2.5", "whole number"),
            ({"ApiName": "", "MasterLabel": ""}, "ApiName", "", "no ApiName"),
        ],
    )  # fmt: skip
    def test_bad_row(self, change: dict[str, str], column: str, value: str, reason: str) -> None:
        """A bad stage row raises a LoadError naming the file, line, column and value."""
        rows = [dict(zip(STAGE_HEAD, r, strict=True)) for r in STAGE_ROWS]
        rows[0].update(change)
        with pytest.raises(LoadError) as info:
            salesforce_pipeline(io.StringIO(text([STAGE_HEAD, *[list(r.values()) for r in rows]])))
        error = info.value
        assert (error.file, error.line, error.column, error.value) == ("<stream>", 2, column, value)
        assert reason in error.reason

    def test_bad_record_names_its_position(self) -> None:
        """For mappings, the error names '<rows>' and the record's 1-based position."""
        rows = [{"ApiName": "Open", "IsClosed": False, "IsWon": False},
                {"ApiName": "Won", "IsClosed": True}]  # fmt: skip
        with pytest.raises(LoadError, match="no IsWon") as info:
            salesforce_pipeline(rows)
        assert (info.value.file, info.value.line, info.value.column) == ("<rows>", 2, "IsWon")

    def test_missing_checkbox_column(self) -> None:
        """A CSV without IsWon is refused at the header."""
        with pytest.raises(LoadError, match="'IsWon'") as info:
            salesforce_pipeline(io.StringIO("ApiName,IsClosed\nOpen,false\n"))
        assert info.value.line == 1

    def test_no_won_stage_is_an_invalid_pipeline(self) -> None:
        """Definitions without a won stage fail pipeline validation."""
        with pytest.raises(InvalidPipelineError):
            salesforce_pipeline([{"ApiName": "Open", "IsClosed": False, "IsWon": False}])


def pipeline_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The stage keys of the pipeline built from *rows*."""
    return [s.key for s in salesforce_pipeline(rows).stages]
