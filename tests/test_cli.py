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
