"""Hardening of the command line and of opening files (issue 10, findings 7, 11 and 13)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import salesflow as sf
from salesflow._cli import main
from salesflow.io._common import MAX_LINE, resolve_zone

EVENTS = (
    "deal_id,stage,at,value,currency\n"
    "D-1,Prospecting,2024-01-02T10:00:00+00:00,1000,EUR\n"
    "D-1,Lead generation,2024-01-05T10:00:00+00:00,1000,EUR\n"
    "D-2,Prospecting,2024-01-03T10:00:00+00:00,500,EUR\n"
)


class _StdinBytes(io.BytesIO):
    name = "<stdin>"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(_StdinBytes(data), encoding="utf-8"))


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


class _Endless(io.TextIOBase):
    """A text stream of NUL characters without end, counting what it served."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        n = 65_536 if size is None or size < 0 else size
        self.served += n
        return "\0" * n

    def readline(self, size: int | None = -1) -> str:
        return self.read(65_536 if size is None or size < 0 else size)


class TestJsonOutput:
    def test_a_directory_is_one_line_exit_2(
        self, tmp_path: Path, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json naming a directory exits 2 with one line that names the flag, before any work."""
        assert main(["report", str(events_file), "--json", str(tmp_path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1
        assert "--json" in captured.err
        assert "is a directory" in captured.err

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_a_full_device_is_one_line_exit_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A --json write that fails (no space left) exits 2 with one line, not a traceback."""
        assert main(["demo", "--deals", "20", "--json", "/dev/full"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("salesflow: error: cannot write --json /dev/full")
        assert err.count("\n") == 1

    def test_by_table_json_failure_is_one_line(
        self, tmp_path: Path, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The --by table's --json write fails the same way as the plain report's."""
        target = tmp_path / "missing" / "out.json"
        assert main(["report", str(events_file), "--by", "owner", "--json", str(target)]) == 2
        assert "cannot write --json" in capsys.readouterr().err


class TestStandardInput:
    def test_dash_reads_events_from_stdin(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`salesflow report -` reads the events file from standard input."""
        _stdin(monkeypatch, EVENTS.encode())
        assert main(["report", "-"]) == 0
        assert "2 deals" in capsys.readouterr().out

    def test_dash_honours_encoding(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--encoding applies to standard input as it does to a file."""
        text = EVENTS.replace("D-2", "D-é")
        _stdin(monkeypatch, text.encode("cp1252"))
        assert main(["report", "-", "--encoding", "cp1252", "--json", os.devnull]) == 0
        assert "2 deals" in capsys.readouterr().out

    def test_dash_reads_deals_format(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every CSV format reads `-`: here --format deals."""
        text = "deal_id,stage,created_at,value,currency\nA,Prospecting,2024-01-02T00:00:00+00:00,10,EUR\n"
        _stdin(monkeypatch, text.encode())
        assert main(["report", "-", "--format", "deals"]) == 0
        assert "1 deal" in capsys.readouterr().out

    def test_dash_bad_row_names_stdin(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad row read from standard input is located in '<stdin>'."""
        _stdin(monkeypatch, (EVENTS + "D-3,Nowhere,2024-01-03T10:00:00+00:00,1,EUR\n").encode())
        assert main(["report", "-"]) == 2
        assert "<stdin>, line 5" in capsys.readouterr().err

    def test_dash_as_stages_pipeline_name(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--stages without --name names the pipeline 'stdin' when reading `-`."""
        _stdin(monkeypatch, EVENTS.encode())
        assert (
            main(["report", "-", "--stages", "Prospecting,Lead generation", "--won", "Closed won"])
            == 0
        )
        assert "stdin" in capsys.readouterr().out


class TestHeaderOnly:
    def test_header_only_file_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file with a header and no data rows is not a report of 0 deals: exit 2, one line."""
        path = tmp_path / "empty.csv"
        path.write_text("deal_id,stage,at\n", encoding="utf-8")
        assert main(["report", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "has no data rows" in captured.err
        assert captured.err.count("\n") == 1

    def test_blank_lines_are_not_rows(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Blank lines after the header do not count as data: still exit 2."""
        _stdin(monkeypatch, b"deal_id,stage,at\n\n\n")
        assert main(["report", "-"]) == 2
        assert "standard input has no data rows" in capsys.readouterr().err


class TestUnknownZone:
    def test_is_a_salesflow_error_and_a_value_error(self) -> None:
        """A zone typo raises UnknownZoneError, which is also a ValueError."""
        with pytest.raises(sf.UnknownZoneError) as info:
            resolve_zone("Europe/Pari")
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, sf.SalesflowError)
        assert info.value.zone == "Europe/Pari"
        assert info.value.suggestions[0] == "Europe/Paris"
        assert "did you mean 'Europe/Paris'" in str(info.value)

    def test_no_close_name(self) -> None:
        """A name like no zone says what a zone name looks like."""
        with pytest.raises(sf.UnknownZoneError) as info:
            resolve_zone("xyzzy-plugh-0000")
        assert info.value.suggestions == ()
        assert "'Europe/Paris'" in str(info.value)

    def test_loader_raises_it(self) -> None:
        """read_events_csv(timezone=...) raises the same error."""
        with pytest.raises(sf.UnknownZoneError):
            sf.io.read_events_csv(io.StringIO(EVENTS), sf.templates.b2b(), timezone="Europe/Pari")

    def test_cli_shows_one_line(
        self, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--timezone Europe/Pari exits 2 with one line suggesting Europe/Paris."""
        assert main(["report", str(events_file), "--timezone", "Europe/Pari"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "Europe/Paris" in err

    def test_cli_as_of_zone_typo(
        self, events_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--as-of with a mistyped --timezone is the same one line."""
        code = main(
            ["report", str(events_file), "--timezone", "Europe/Pari", "--as-of", "2024-02-01"]
        )
        assert code == 2
        assert "Europe/Paris" in capsys.readouterr().err


class TestEndlessInput:
    @pytest.mark.parametrize(
        "read",
        [
            lambda s, p: sf.io.read_events_csv(s, p),
            lambda s, p: sf.io.read_deals_csv(s, p),
            lambda s, p: sf.io.read_hubspot_deals(s, p, shape="api"),
            lambda s, p: sf.io.read_salesforce_history(s, p),
            lambda s, p: sf.io.read_leads_csv(s),
            lambda s, p: sf.io.read_deals_jsonl(s, p),
        ],
        ids=["events", "deals", "hubspot", "salesforce", "leads", "jsonl"],
    )
    def test_endless_line_stops_in_bounded_reading(self, read: object) -> None:
        """An endless stream without a line break is a LoadError after at most ~2 MAX_LINE characters."""
        stream = _Endless()
        with pytest.raises(sf.LoadError) as info:
            read(stream, sf.templates.b2b())  # type: ignore[operator]
        assert "longer than" in info.value.reason
        assert stream.served <= 3 * MAX_LINE

    def test_long_line_after_the_header_names_its_line(self) -> None:
        """A line over the limit is refused at its line number."""
        text = EVENTS + "x" * (MAX_LINE + 10) + "\n"
        with pytest.raises(sf.LoadError) as info:
            sf.io.read_deals_jsonl(io.StringIO(text), sf.templates.b2b(), errors="collect")
        assert info.value.line == 5

    def test_a_line_at_the_limit_is_read(self) -> None:
        """A line of exactly MAX_LINE characters is not refused for its length."""
        text = "x" * MAX_LINE + "\n"
        with pytest.raises(sf.LoadError) as info:
            sf.io.read_deals_jsonl(io.StringIO(text), sf.templates.b2b())
        assert "longer than" not in info.value.reason

    @pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
    def test_cli_on_dev_zero(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`salesflow report /dev/zero` stops with one line and exit 2."""
        assert main(["report", "/dev/zero"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "longer than" in err

    def test_cli_on_endless_stdin(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`salesflow report -` on an endless line stops too (the whole-file read is bounded per line)."""

        class Zeros(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
                buffer[:] = b"\0" * len(buffer)
                return len(buffer)

        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(Zeros())))
        assert main(["report", "-"]) == 2
        assert "longer than" in capsys.readouterr().err


def test_json_report_still_written(
    tmp_path: Path, events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A good --json target is still written (the checks refuse only what cannot be written)."""
    target = tmp_path / "r.json"
    assert main(["report", str(events_file), "--json", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["deals"] == 2
