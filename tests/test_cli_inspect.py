"""`salesflow inspect`: what an unknown export holds, and a report command that loads it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from salesflow._cli import main
from salesflow._cli_inspect import Column, profile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAVEN = DATA / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
OLIST = DATA / "olist-marketing-funnel"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside this clone")


def suggested(out: str) -> list[str]:
    """The argv of the suggested command in inspect's output (without the program name)."""
    line = next(line for line in out.splitlines() if line.startswith("  salesflow "))
    return shlex.split(line)[1:]


def inspect(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """inspect's output for ARGV (exit code 0 checked)."""
    assert main(["inspect", *argv]) == 0
    return capsys.readouterr().out


class TestColumnTypes:
    @pytest.mark.parametrize(
        ("values", "kind"),
        [
            (["1", "-2", ""], "integer"),
            (["1", "2.5"], "decimal"),
            (["1,5", "2,25"], "decimal"),
            (["2024-01-02", ""], "date"),
            (["2024-01-02 10:00:00", "2024-01-02"], "datetime"),
            (["2024-01-02T10:00:00+01:00"], "datetime with offset"),
            (["31/01/2024", "01/02/2024"], "date"),
            (["Won", "12"], "text"),
            (["", ""], "empty"),
        ],
    )
    def test_kind(self, values: list[str], kind: str) -> None:
        """Each column gets one type that every non-empty cell fits."""
        column = Column("c")
        for value in values:
            column.add(value)
        assert column.kind == kind

    def test_decimal_comma_and_day_first(self) -> None:
        """A decimal comma and a day-first date are recognised as such."""
        amounts, dates = Column("amount"), Column("closed")
        for value in ("1.234,50", "12,5"):
            amounts.add(value)
        for value in ("31/01/2024", "13/02/2024"):
            dates.add(value)
        assert amounts.decimal_mark == ","
        assert dates.format == "%d/%m/%Y"


@needs_data
class TestMaven:
    def test_describes_the_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Encoding, separator, typed columns, date formats and the stage labels with counts."""
        out = inspect(capsys, str(MAVEN))
        assert "8,800 rows, 8 columns" in out
        assert "encoding   utf-8 (ASCII only)" in out
        assert "separator  , (comma)" in out
        assert "engage_date: YYYY-MM-DD; no offset" in out
        for line in ("close_value     integer  2,089", "engage_date     date       500"):
            assert line in out
        for label, count in (("Won", "4,238"), ("Lost", "2,473"), ("Prospecting", "500")):
            assert any(row.split() == [label, count] for row in out.splitlines())
        assert "--currency USD is an assumption" in out

    def test_the_suggested_command_gives_the_win_rate(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The suggested command runs and gives the Maven win rate, 63.2% (4238/6711)."""
        argv = suggested(inspect(capsys, str(MAVEN)))
        assert argv[:4] == ["report", str(MAVEN), "--format", "deals"]
        text = " ".join(argv)
        for flags in (
            "--column deal_id=opportunity_id --column stage=deal_stage",
            "--stage-date Engaging=engage_date",
            "--stages Prospecting,Engaging --won Won --lost Lost --undated latest",
            "--timezone UTC --currency USD --attribute product --attribute account",
        ):
            assert flags in text
        assert main(argv) == 0
        assert "Win rate                 63.2% (4238/6711" in capsys.readouterr().out
        assert main([*argv, "--by", "product"]) == 0
        assert "GTX Basic" in capsys.readouterr().out


@needs_data
class TestOlist:
    def test_lead_table_with_its_conversions(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The lead table with --conversions gives a leads command that runs: 10.5% (842/8000)."""
        leads = OLIST / "olist_marketing_qualified_leads_dataset.csv"
        won = OLIST / "olist_closed_deals_dataset.csv"
        out = inspect(capsys, str(leads), "--conversions", str(won))
        assert "Looks like a lead table" in out
        argv = suggested(out)
        assert {"--format", "leads", "--early", "clamp", "--column", "won_at=won_date"} <= set(argv)
        assert main(argv) == 0
        assert "Lead conversion: 10.5% (842/8000" in capsys.readouterr().out

    def test_lead_table_alone(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Alone, the lead table's command says where the conversions file goes."""
        out = inspect(capsys, str(OLIST / "olist_marketing_qualified_leads_dataset.csv"))
        assert "--conversions CONVERSIONS.csv" in out
        assert "source=origin" in out

    def test_conversions_alone(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The won-deals file alone is recognised and sends the user to inspect the lead table."""
        out = inspect(capsys, str(OLIST / "olist_closed_deals_dataset.csv"))
        assert "a conversions file" in out
        assert suggested(out)[:2] == ["inspect", "LEADS.csv"]


class TestSmallFiles:
    def test_semicolons_cp1252_and_decimal_comma(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An Excel 'CSV (semicolon)' export in Windows-1252 with decimal commas loads as suggested."""
        text = (
            "Deal ID;Deal Stage;Created;Close Date;Amount;Owner;Région\n"
            "D1;Qualifié;2024-01-02;;1.234,50;José;Nord\n"
            "D2;Won;2024-01-03;2024-02-01;99,90;Zoé;Sud\n"
            "D3;Lost;2024-01-04;2024-02-11;10,00;José;Nord\n"
        )
        path = tmp_path / "export.csv"
        path.write_bytes(text.encode("cp1252"))
        out = inspect(capsys, str(path))
        assert "encoding   cp1252" in out
        assert "separator  ';' (semicolon)" in out
        assert "Amount      decimal" in out
        argv = suggested(out)
        for flag in (["--encoding", "cp1252"], ["--decimal", ","], ["--stages", "Qualifié"]):
            assert " ".join(flag) in " ".join(argv)
        assert "Région=région" in argv
        assert main(argv) == 0
        assert "Win rate                 50.0% (1/2" in capsys.readouterr().out
        assert main([*argv, "--by", "région"]) == 0
        assert "Nord" in capsys.readouterr().out

    def test_event_log(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Several rows per deal id make an event log; open stages are ordered by time."""
        from salesflow.datasets import synthetic
        from salesflow.io import write_events_csv

        path = tmp_path / "events.csv"
        deals = synthetic(200, seed=5)
        write_events_csv(deals, path)
        out = inspect(capsys, str(path))
        assert "Looks like an event log" in out
        argv = suggested(out)
        stages = argv[argv.index("--stages") + 1].split(",")
        assert stages == [s.key for s in deals[0].pipeline.open_stages if s.key in stages]
        assert main(argv) == 0
        assert "200 deals" in capsys.readouterr().out

    def test_profile_reads_every_row(self, tmp_path: Path) -> None:
        """The profile keeps the rows and their count."""
        path = tmp_path / "x.csv"
        path.write_text("a|b\n1|x\n2|\n", encoding="utf-8")
        found = profile(path)
        assert found.delimiter == "|"
        assert len(found.rows) == 2
        assert found.column("b") is not None

    def test_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A missing file is one line on stderr and exit code 2."""
        assert main(["inspect", str(tmp_path / "nope.csv")]) == 2
        assert "nope.csv: no such file" in capsys.readouterr().err
