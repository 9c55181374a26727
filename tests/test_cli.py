"""The command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from salesflow._cli import main


class TestDemo:
    def test_prints_pipeline_and_a_walked_deal(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`salesflow demo` prints the B2B pipeline and a deal walked to Closed won."""
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        assert "| 7 | Negotiation |" in out
        assert "Closed won" in out.splitlines()[-1]

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
