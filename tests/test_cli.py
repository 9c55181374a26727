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
        """--by owner prints one report per owner and --json writes them all."""
        target = tmp_path / "by-owner.json"
        assert main(["report", str(events_file), "--by", "owner", "--json", str(target)]) == 0
        data = json.loads(target.read_text(encoding="utf-8"))
        assert sum(part["deals"] for part in data.values()) == 120
        assert capsys.readouterr().out.count("=== owner = ") == len(data)

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
    with pytest.warns(sf.SalesflowWarning, match="without a value"):
        assert main(argv) == 0
    assert "(4238/6711" in capsys.readouterr().out
