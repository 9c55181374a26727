"""The command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from salesflow._cli import main


class TestDemo:
    def test_prints_the_full_report(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`salesflow demo` prints the funnel, time in stage and the headline metrics."""
        assert main(["demo", "--deals", "300"]) == 0
        out = capsys.readouterr().out
        for part in (
            "Funnel",
            "Negotiation",
            "Kaplan-Meier",
            "Win rate",
            "Sales velocity",
            "Weighted pipeline",
        ):
            assert part in out
        assert "300 deals" in out

    def test_json_output(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--json writes the report as JSON beside the text."""
        target = tmp_path / "report.json"
        assert main(["demo", "--deals", "50", "--json", str(target)]) == 0
        assert json.loads(target.read_text(encoding="utf-8"))["deals"] == 50

    def test_bad_size_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--deals 0 exits 2 with a one-line message."""
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--deals", "0"])
        assert exit_info.value.code == 2
        assert "at least 1" in capsys.readouterr().err

    def test_python_dash_m(self) -> None:
        """`python -m salesflow demo` works as the script does."""
        done = subprocess.run(
            [sys.executable, "-m", "salesflow", "demo"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0
        assert "B2B sales" in done.stdout

    def test_unknown_command_exits_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown command is a usage error: exit code 2 and a message on stderr."""
        with pytest.raises(SystemExit) as exit_info:
            main(["nope"])
        assert exit_info.value.code == 2
        assert "invalid choice" in capsys.readouterr().err


class TestReportCommand:
    @pytest.fixture
    def events_file(self, tmp_path: Path) -> Path:
        """An events CSV of 120 generated deals."""
        from salesflow.datasets import synthetic
        from salesflow.io import write_events_csv

        path = tmp_path / "events.csv"
        write_events_csv(synthetic(120, seed=8), path)
        return path

    def test_report_of_an_events_file(
        self, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`salesflow report FILE` prints the report of the file's deals."""
        assert main(["report", str(events_file)]) == 0
        out = capsys.readouterr().out
        assert "120 deals" in out
        assert "Win rate" in out

    def test_by_and_json(
        self, events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--by owner prints one table and --json writes every group's report and the total."""
        target = tmp_path / "by-owner.json"
        assert main(["report", str(events_file), "--by", "owner", "--json", str(target)]) == 0
        data = json.loads(target.read_text(encoding="utf-8"))
        groups = data["groups"]["results"]
        assert sum(part["deals"] for part in groups.values()) == data["all"]["deals"] == 120
        out = capsys.readouterr().out
        assert "=== owner" not in out
        assert all(owner in out for owner in groups)

    def test_missing_file_is_one_line_and_exit_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A missing file gives exit code 2 and one line on stderr."""
        assert main(["report", str(tmp_path / "nope.csv")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "nope.csv" in err

    def test_bad_row_stops_or_is_collected(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad row stops the command (exit 2), or with --collect is listed on stderr."""
        path = tmp_path / "bad.csv"
        path.write_text("deal_id,stage,at\nA,Nope,2024-01-01T00:00:00Z\n", encoding="utf-8")
        assert main(["report", str(path)]) == 2
        assert "line 2, column 'stage'" in capsys.readouterr().err
        assert main(["report", str(path), "--collect"]) == 0
        assert "rejected 1 rows" in capsys.readouterr().err

    def test_as_of_needs_an_offset(
        self, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A naive --as-of is refused with a hint."""
        assert main(["report", str(events_file), "--as-of", "2025-06-01T00:00:00"]) == 2
        assert "time zone" in capsys.readouterr().err
        assert main(["report", str(events_file), "--as-of", "2025-06-01T00:00:00+00:00"]) == 0


MAVEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm-sales-opportunities"


@pytest.mark.skipif(
    not MAVEN.is_dir(), reason="../shared/data (Maven CRM dataset) is not beside this clone"
)
def test_report_on_the_maven_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The deals format with column and stage options reads the Maven export: win rate 4238/6711."""
    import salesflow as sf

    pipeline = tmp_path / "maven.json"
    maven = sf.Pipeline.linear(
        "Maven", ["Prospecting", "Engaging"], won="Closed won", lost="Closed lost"
    )
    pipeline.write_text(json.dumps(maven.to_dict()), encoding="utf-8")
    columns = [
        "deal_id=opportunity_id",
        "stage=deal_stage",
        "engaged_at=engage_date",
        "closed_at=close_date",
    ]
    columns += ["value=close_value", "owner=sales_agent", "created_at="]
    argv = [
        "report",
        str(MAVEN / "sales_pipeline.csv"),
        "--format",
        "deals",
        "--pipeline",
        str(pipeline),
    ]
    argv += [arg for column in columns for arg in ("--column", column)]
    argv += ["--stage", "Won=Closed won", "--stage", "Lost=Closed lost", "--undated", "latest"]
    argv += ["--currency", "USD", "--timezone", "UTC"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "(4238/6711" in captured.out
    assert "salesflow: warning: 2089 open deal(s) without a value" in captured.err


# --- every loader option has a flag ------------------------------------------------------

import re  # noqa: E402
import shlex  # noqa: E402
from decimal import Decimal  # noqa: E402

import salesflow as sf  # noqa: E402
from salesflow import metrics as m  # noqa: E402
from salesflow._cli import _parser  # noqa: E402
from salesflow._cli_load import load, pipeline_of  # noqa: E402
from salesflow._cli_messages import for_cli  # noqa: E402


def loaded(*argv: str) -> sf.io.LoadResult:
    """What `salesflow report ARGV` loads: the parsed flags through the real loader."""
    args = _parser().parse_args(["report", *argv])
    return load(args, pipeline_of(args))


def write(tmp_path: Path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> str:
    """*text* written to *name* under *tmp_path*; its path as a string."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


EVENTS = "deal_id,stage,at,value\nA,Qualified,2024-01-01,100\nA,Won,2024-02-01,100\nB,Qualified,2024-01-05,50\n"
INLINE = ["--stages", "Qualified,Proposal", "--won", "Won", "--lost", "Lost"]


class TestLoaderFlags:
    def test_inline_pipeline(self, tmp_path: Path) -> None:
        """--stages, --won and --lost build a linear pipeline named after the file (or --name)."""
        path = write(tmp_path, EVENTS, "crm.csv")
        deals = loaded(path, *INLINE, "--currency", "USD", "--timezone", "UTC")
        pipeline = deals[0].pipeline
        assert [s.key for s in pipeline.stages] == ["Qualified", "Proposal", "Won", "Lost"]
        assert pipeline.name == "crm"
        named = loaded(path, *INLINE, "--name", "Sales", "--currency", "USD", "--timezone", "UTC")
        assert named[0].pipeline.name == "Sales"
        no_lost = loaded(
            path, "--stages", "Qualified", "--lost", "", "--currency", "USD", "--timezone", "UTC"
        )
        assert [s.key for s in no_lost[0].pipeline.stages] == ["Qualified", "Won"]

    def test_won_without_stages_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--won without --stages is refused: it would be ignored."""
        assert main(["report", write(tmp_path, EVENTS), "--won", "Won"]) == 2
        assert "give --stages too" in capsys.readouterr().err

    def test_salesforce_stages(self, tmp_path: Path) -> None:
        """--salesforce-stages (the old --stages) builds the pipeline from an OpportunityStage CSV."""
        stages = write(
            tmp_path,
            "ApiName,MasterLabel,IsActive,IsClosed,IsWon,DefaultProbability,SortOrder\n"
            "Prospecting,Prospecting,true,false,false,10,1\n"
            "Closed Won,Closed Won,true,true,true,100,2\nClosed Lost,Closed Lost,true,true,false,0,3\n",
            "stages.csv",
        )
        history = write(
            tmp_path,
            "OpportunityId,CreatedDate,StageName,Amount,CurrencyIsoCode\n"
            "O1,2024-01-01T00:00:00Z,Prospecting,10,EUR\nO1,2024-01-09T00:00:00Z,Closed Won,10,EUR\n",
        )
        deals = loaded(history, "--format", "salesforce", "--salesforce-stages", stages)
        assert deals[0].stage_keys == ("Prospecting", "Closed Won")

    @pytest.mark.parametrize(
        ("spelling", "separator"),
        [("tab", "\t"), ("\\t", "\t"), (";", ";"), (",", ","), ("|", "|"), ("semicolon", ";")],
    )
    def test_delimiter(self, tmp_path: Path, spelling: str, separator: str) -> None:
        """--delimiter takes tab, \\t, ;, , and | (and their names)."""
        path = write(tmp_path, EVENTS.replace(",", separator))
        deals = loaded(
            path, *INLINE, "--delimiter", spelling, "--currency", "USD", "--timezone", "UTC"
        )
        assert [d.id for d in deals] == ["A", "B"]

    def test_bad_delimiter(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown --delimiter is a usage error listing the choices."""
        assert main(["report", write(tmp_path, EVENTS), "--delimiter", "#"]) == 2
        assert "--delimiter takes one of" in capsys.readouterr().err

    def test_encoding_decimal_and_semicolons(self, tmp_path: Path) -> None:
        """--encoding cp1252 and --decimal , read an Excel 'CSV (semicolon)' export exactly."""
        text = "deal_id;stage;at;value;owner\nA;Qualified;2024-01-01;1.234,50;José\n"
        path = write(tmp_path, text, encoding="cp1252")
        deal = loaded(
            path,
            *INLINE,
            "--encoding",
            "cp1252",
            "--decimal",
            ",",
            "--currency",
            "EUR",
            "--timezone",
            "UTC",
        )[0]
        assert deal.value == sf.Money(Decimal("1234.50"), "EUR")
        assert deal.owner == "José"

    def test_allow_negative(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A negative value is refused with a hint naming --allow-negative, and read with it."""
        path = write(tmp_path, "deal_id,stage,at,value\nA,Qualified,2024-01-01,-10\n")
        common = [*INLINE, "--currency", "USD", "--timezone", "UTC"]
        assert main(["report", path, *common]) == 2
        err = capsys.readouterr().err
        assert "pass --allow-negative" in err
        assert "allow_negative=" not in err
        assert loaded(path, *common, "--allow-negative")[0].value == sf.Money(-10, "USD")

    def test_case_insensitive(self, tmp_path: Path) -> None:
        """--case-insensitive matches 'won' to the stage Won."""
        path = write(tmp_path, EVENTS.replace("Won", "won").replace("Qualified", "QUALIFIED"))
        deals = loaded(
            path, *INLINE, "--case-insensitive", "--currency", "USD", "--timezone", "UTC"
        )
        assert deals[0].stage_keys == ("Qualified", "Won")

    def test_stage_map(self, tmp_path: Path) -> None:
        """--stage LABEL=STAGE maps a file's label to a stage."""
        path = write(tmp_path, "deal_id,stage,closed_at\nA,Closed-Won,2024-02-01\n")
        common = ["--format", "deals", *INLINE, "--timezone", "UTC"]
        assert loaded(path, *common, "--stage", "Closed-Won=Won")[0].is_won

    def test_conflicts_latest(self, tmp_path: Path) -> None:
        """--conflicts latest reads disagreeing rows as a history: the latest value is kept."""
        path = write(tmp_path, EVENTS.replace("2024-02-01,100", "2024-02-01,120"))
        deals = loaded(
            path, *INLINE, "--conflicts", "latest", "--currency", "USD", "--timezone", "UTC"
        )
        assert deals[0].value == sf.Money(120, "USD")

    def test_timestamp_format(self, tmp_path: Path) -> None:
        """--timestamp-format reads day-first dates."""
        path = write(tmp_path, "deal_id,stage,at\nA,Qualified,31/01/2024\n")
        deal = loaded(
            path, *INLINE, "--timestamp-format", "%d/%m/%Y", "--timezone", "Europe/Paris"
        )[0]
        assert deal.created_at.isoformat() == "2024-01-31T00:00:00+01:00"

    def test_snapshot_flags(self, tmp_path: Path) -> None:
        """--stage-date, --attribute COLUMN[=NAME] and --undated DATE reach the deals loader."""
        text = (
            "id,stage,proposal_on,closed,amount,product,Deal Type\n"
            "A,Won,2024-01-05,2024-02-01,900,GTX,new\n"
            "B,Qualified,,,,MG,renewal\n"
        )
        path = write(tmp_path, text)
        deals = loaded(
            path, "--format", "deals", *INLINE,
            "--column", "deal_id=id", "--column", "closed_at=closed", "--column", "value=amount",
            "--stage-date", "Proposal=proposal_on", "--attribute", "product",
            "--attribute", "Deal Type=deal_type", "--undated", "2024-03-01",
            "--currency", "USD", "--timezone", "UTC",
        )  # fmt: skip
        won, undated = deals
        assert won.stage_keys == ("Proposal", "Won")
        assert won.attributes == {"product": "GTX", "deal_type": "new"}
        assert undated.created_at.isoformat() == "2024-03-01T00:00:00+00:00"

    def test_leads_and_conversions(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--format leads reads the leads and --conversions; --early clamp moves an early win."""
        leads = write(
            tmp_path,
            "lead_id,created_at,source\nL1,2024-01-10,ads\nL2,2024-01-03,seo\n",
            "leads.csv",
        )
        won = write(tmp_path, "lead_id,won_at\nL1,2024-01-05T10:00:00\n", "won.csv")
        argv = ["report", leads, "--format", "leads", "--conversions", won, "--timezone", "UTC"]
        assert main(argv) == 2
        assert "pass --early clamp" in capsys.readouterr().err
        assert main([*argv, "--early", "clamp", "--by", "source"]) == 0
        out = capsys.readouterr().out
        assert "Lead conversion: 50.0% (1/2" in out
        assert re.search(r"ads\s+1\s+100.0% \(1/1", out)
        result = loaded(
            leads,
            "--format",
            "leads",
            "--conversions",
            won,
            "--timezone",
            "UTC",
            "--early",
            "clamp",
        )
        assert [d.closed_at.isoformat() for d in result] == ["2024-01-10T00:00:00+00:00"]

    def test_leads_need_conversions(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--format leads without --conversions says what is missing."""
        leads = write(tmp_path, "lead_id,created_at\nL1,2024-01-10\n")
        assert main(["report", leads, "--format", "leads", "--timezone", "UTC"]) == 2
        assert "needs --conversions FILE" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("flag", "fmt"),
        [
            (["--stage-date", "Won=at"], "deals"),
            (["--conflicts", "latest"], "events"),
            (["--early", "clamp"], "leads"),
            (["--deleted", "skip"], "salesforce"),
            (["--shape", "ui"], "hubspot"),
        ],
    )
    def test_a_flag_of_another_format_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str], fmt: str
    ) -> None:
        """A flag the chosen format's loader does not take is an error naming its format, never ignored."""
        other = "events" if fmt != "events" else "deals"
        assert main(["report", write(tmp_path, EVENTS), "--format", other, *flag]) == 2
        assert (
            f"{flag[0]} does not apply to --format {other}; it is for --format {fmt}"
            in capsys.readouterr().err
        )


# --- errors suggest flags, not Python arguments -------------------------------------------


class TestMessages:
    @pytest.mark.parametrize(
        ("library", "cli"),
        [
            ("if ',' is its decimal mark pass decimal=','", "if ',' is its decimal mark pass --decimal ,"),
            ("(map yours with columns={...})", "(map yours with --column FIELD=COLUMN)"),
            ("map the file's labels with stage_map={...}, or match case-insensitively with case_insensitive=True",
             "map the file's labels with --stage LABEL=STAGE, or match case-insensitively with --case-insensitive"),
            ("map it with stage_map={label: stage key}", "map it with --stage LABEL=STAGE"),
            ("the timestamp has no time zone; pass timezone='UTC' (or the zone it is in)",
             "the timestamp has no time zone; pass --timezone UTC (or the zone it is in)"),
            ("pass undated='latest' or a datetime", "pass --undated latest or a datetime"),
            ("map that stage's date column with stage_dates={...}", "map that stage's date column with --stage-date STAGE=COLUMN"),
            ("engaged_at and stage_dates both give the date", "engaged_at and --stage-date both give the date"),
            ("pass allow_negative=True if the file's negatives are real", "pass --allow-negative if the file's negatives are real"),
            ("(pass conflicts='latest' if the rows are a history", "(pass --conflicts latest if the rows are a history"),
            ("it looks like cp1251: pass encoding='cp1251' (on the command line, --encoding cp1251)",
             "it looks like cp1251: pass --encoding cp1251"),
            ("for another format pass timestamp_format, e.g. timestamp_format='%d/%m/%Y'",
             "for another format pass --timestamp-format, e.g. --timestamp-format %d/%m/%Y"),
            ("does not match timestamp_format '%Y'", "does not match --timestamp-format '%Y'"),
            ("pass delimiter=';' or delimiter=None to detect it", "pass --delimiter ';' or leave out --delimiter to detect it"),
            ("pass delimiter='\\t' or delimiter=None", "pass --delimiter tab or no --delimiter"),
            ("add a currency column or pass currency='USD'", "add a currency column or pass --currency USD"),
            ("pass early='clamp' to move it there", "pass --early clamp to move it there"),
            ("pass shape='ui' or shape='api'", "pass --shape ui or --shape api"),
            ("pass other_pipelines='skip' to leave", "pass --other-pipelines skip to leave"),
            ("pass deleted='skip' to leave", "pass --deleted skip to leave"),
            ("a value needs a currency", "a value needs a currency"),
            ("column 'stage_dates['Engaging']'", "column '--stage-date Engaging=…'"),
            ("; pass one of them, or a function of the deal.",
             "; pass one of them to --by, or load a column as a field with --attribute COLUMN."),
        ],
    )  # fmt: skip
    def test_translation_table(self, library: str, cli: str) -> None:
        """Each Python argument in a library message becomes the flag that sets it."""
        assert for_cli(library) == cli

    @pytest.mark.parametrize(
        ("text", "argv", "expected"),
        [
            ("deal_id,stage,at,value\nA,Qualified,2024-01-01,\"1,5\"\n", [], "pass --decimal ,"),
            ("id,stage,at\nA,Qualified,2024-01-01\n", [], "(map yours with --column FIELD=COLUMN)"),
            ("deal_id,stage,at\nA,qualifed,2024-01-01\n", [], "--stage LABEL=STAGE, or match case-insensitively with --case-insensitive"),
            ("deal_id,stage,at\nA,Qualified,2024-01-01\n", ["--delimiter", ";"], "pass --delimiter , or leave out --delimiter"),
            ("deal_id,stage,at,value\nA,Qualified,2024-01-01,5\n", ["--timezone", "UTC"], "pass --currency USD"),
        ],
    )  # fmt: skip
    def test_errors_from_the_command_line_name_flags(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        text: str,
        argv: list[str],
        expected: str,
    ) -> None:
        """A load error shown by the command line suggests flags, not Python arguments."""
        path = write(tmp_path, text)
        extra = [] if "--timezone" in argv else ["--timezone", "UTC", "--currency", "USD"]
        assert main(["report", path, *INLINE, *argv, *extra]) == 2
        err = capsys.readouterr().err
        assert expected in err
        assert not re.search(r"\b[a-z_]+=(\{|'|True)", err.replace("FIELD=COLUMN", ""))

    def test_naive_dates_suggest_timezone(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Dates without an offset suggest --timezone UTC."""
        assert main(["report", write(tmp_path, EVENTS), *INLINE, "--currency", "USD"]) == 2
        assert "pass --timezone UTC" in capsys.readouterr().err

    def test_undated_snapshot_suggests_undated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A snapshot row with no date suggests --undated latest."""
        path = write(tmp_path, "deal_id,stage\nA,Qualified\n")
        assert main(["report", path, "--format", "deals", *INLINE]) == 2
        assert "pass --undated latest" in capsys.readouterr().err

    def test_cp1251_suggests_encoding_once(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A Windows-1251 file suggests --encoding cp1251, once."""
        path = write(tmp_path, "deal_id,stage,at\nD1,Квалификация,2024-01-01\n", encoding="cp1251")
        assert main(["report", path, *INLINE, "--timezone", "UTC"]) == 2
        err = capsys.readouterr().err
        assert err.count("--encoding cp1251") == 1
        assert "encoding=" not in err

    def test_unknown_by_field_suggests_attribute(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--by a field no deal has points at --attribute."""
        path = write(tmp_path, EVENTS)
        assert (
            main(
                [
                    "report",
                    path,
                    *INLINE,
                    "--currency",
                    "USD",
                    "--timezone",
                    "UTC",
                    "--by",
                    "region",
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert "No deal has a field 'region'" in err
        assert "--attribute COLUMN" in err


# --- --by: one comparison table -----------------------------------------------------------


class TestByTable:
    @pytest.fixture
    def deals_file(self, tmp_path: Path) -> tuple[Path, sf.io.LoadResult]:
        """An events CSV of 400 generated deals, and the deals loaded from it."""
        from salesflow.datasets import synthetic
        from salesflow.io import read_events_csv, write_events_csv

        path = tmp_path / "events.csv"
        write_events_csv(synthetic(400, seed=3), path)
        return path, read_events_csv(path, sf.templates.b2b())

    @staticmethod
    def rows(out: str) -> list[str]:
        lines = out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("--"))
        return lines[start + 1 : lines.index("", start)]

    def test_one_row_per_group_largest_first(
        self, deals_file: tuple[Path, sf.io.LoadResult], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--by owner prints one table: a row per owner, most deals first, win rates as win_rate(by=)."""
        path, deals = deals_file
        assert main(["report", str(path), "--by", "owner"]) == 0
        rows = self.rows(capsys.readouterr().out)
        rates = m.win_rate(deals, by="owner")
        counts = {owner: sum(d.owner == owner for d in deals) for owner in rates}
        owners = [row.split()[0] for row in rows[:-1]]
        assert owners == sorted(counts, key=lambda o: (-counts[o], str(o)))
        for row, owner in zip(rows, owners, strict=False):
            assert re.match(rf"{owner}\s+{counts[owner]:,}\s", row)
            assert rates[owner].format() in row
        assert rows[-1].startswith("(all)")
        assert m.win_rate(deals).format() in rows[-1]

    def test_several_fields(
        self, deals_file: tuple[Path, sf.io.LoadResult], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--by owner --by source and --by owner,source give the same table, one column per field."""
        path, deals = deals_file
        assert main(["report", str(path), "--by", "owner", "--by", "source"]) == 0
        first = capsys.readouterr().out
        assert main(["report", str(path), "--by", "owner,source"]) == 0
        assert capsys.readouterr().out == first
        head = first.splitlines()[2].split()
        assert head[:3] == ["owner", "source", "deals"]
        rates = m.win_rate(deals, by=("owner", "source"))
        assert len(self.rows(first)) == len(rates) + 1

    def test_png_with_by_is_refused(
        self,
        deals_file: tuple[Path, sf.io.LoadResult],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--png draws one funnel, so it is refused with --by."""
        path, _ = deals_file
        assert main(["report", str(path), "--by", "owner", "--png", str(tmp_path / "f.png")]) == 2
        assert "leave out --by" in capsys.readouterr().err


# --- --as-of ------------------------------------------------------------------------------


class TestAsOf:
    @pytest.mark.parametrize(
        ("argv", "shown"),
        [
            (["--as-of", "2024-01-20"], "as of 2024-01-20T00:00:00+00:00"),
            (["--as-of", "2024-01-20T12:00:00+02:00"], "as of 2024-01-20T12:00:00+02:00"),
            (["--as-of", "2024-01-20T12:00:00", "--timezone", "Europe/Paris"], "as of 2024-01-20T12:00:00+01:00"),
            (["--as-of", "2024-01-20", "--timezone", "UTC"], "as of 2024-01-20T00:00:00+00:00"),
        ],
    )  # fmt: skip
    def test_forms(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], shown: str
    ) -> None:
        """A date, a date-time with an offset, or one without read in --timezone."""
        path = write(
            tmp_path,
            EVENTS.replace("2024-01-01", "2024-01-01T00:00:00Z")
            .replace("2024-02-01", "2024-02-01T00:00:00Z")
            .replace("2024-01-05", "2024-01-05T00:00:00Z"),
        )
        if "--timezone" not in argv and "+" not in argv[1]:
            # A bare date and no --timezone: refused, and the example in the message works.
            assert main(["report", path, *INLINE, "--currency", "USD", *argv]) == 2
            err = capsys.readouterr().err
            assert "add --timezone UTC" in err
            example = shlex.split(err.rsplit("write the offset: ", 1)[1])
            assert main(["report", path, *INLINE, "--currency", "USD", *example]) == 0
            assert shown in capsys.readouterr().out
            return
        assert main(["report", path, *INLINE, "--currency", "USD", *argv]) == 0
        out = capsys.readouterr().out
        assert shown in out
        # The cut-off is applied: deal A is not yet won on 2024-01-20.
        assert "n/a (0/0)" in out

    def test_not_a_date(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Something that is not a date says which forms are accepted."""
        assert main(["report", write(tmp_path, EVENTS), "--as-of", "yesterday"]) == 2
        assert "--as-of takes a date (2017-12-31)" in capsys.readouterr().err


# --- --png --------------------------------------------------------------------------------


def test_png_without_matplotlib_stops_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--png without matplotlib exits 2 naming the extra, before the (missing) file is read."""
    import importlib

    real = importlib.import_module

    def no_matplotlib(name: str, package: str | None = None) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    target = tmp_path / "funnel.png"
    assert main(["report", str(tmp_path / "missing.csv"), "--png", str(target)]) == 2
    err = capsys.readouterr().err
    assert "salesflow[plot]" in err
    assert "missing.csv" not in err
    assert main(["demo", "--deals", "10", "--png", str(target)]) == 2
    assert capsys.readouterr().out == ""


# --- the documented commands run ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
DOC_PAGES = [
    ROOT / "docs" / "reference" / "cli.md",
    ROOT / "docs" / "how-to" / "load-your-crm-export.md",
]
_BLOCK = re.compile(r"```console\n(.*?)```(?:\s*```text\n(.*?)```)?", re.DOTALL)


def documented() -> list[tuple[str, str, str]]:
    """(page, command, the output shown after it) for every `$ salesflow …` block of the CLI docs."""
    found = []
    for page in DOC_PAGES:
        for block, shown in _BLOCK.findall(page.read_text(encoding="utf-8")):
            command = block.replace("\\\n", " ").strip()
            assert command.startswith("$ salesflow "), command
            found.append((page.name, command.removeprefix("$ "), shown))
    return found


@pytest.mark.skipif(not MAVEN.is_dir(), reason="../shared/data is not beside this clone")
@pytest.mark.parametrize(("page", "command", "shown"), documented())
def test_documented_command_runs(
    page: str,
    command: str,
    shown: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command of the command-line docs runs from the repository root and prints what the page shows."""
    monkeypatch.chdir(ROOT)
    assert main(shlex.split(command)[1:]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    for line in shown.splitlines():
        if line.strip() and line.strip() != "...":
            assert line.rstrip() in printed, f"{page}: {line!r} is not printed by {command!r}"


def test_the_docs_show_commands() -> None:
    """The pages hold the Maven and Olist examples (so the test above checks something)."""
    commands = [command for _, command, _ in documented()]
    assert sum("sales_pipeline.csv" in c for c in commands) >= 4
    assert any("--format leads" in c for c in commands)
