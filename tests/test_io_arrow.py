"""The events loader's Arrow lane builds the same deals as the pure-Python lanes, on the same files."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesflow as sf
import salesflow.io._arrow as arrow_module
import salesflow.io._events as events_module
from salesflow.datasets import synthetic
from salesflow.exceptions import MissingDependencyError
from salesflow.io import LoadResult, read_events_csv
from tests.test_io_bulk import shuffled, text_of

pytest.importorskip("pyarrow")

#: Hypothesis reuses the test's tmp_path; every example writes its own file name.
FILES = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def lanes(path: Path, pipeline: sf.Pipeline, **options: object) -> dict[str, LoadResult]:
    """*path* read three ways: the Arrow lane (if it takes it), the column-wise lane, the exact lane."""
    found = {"arrow": read_events_csv(path, pipeline, **options)}  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events_module, "arrow_deals", lambda *args, **kwargs: None)
        found["bulk"] = read_events_csv(path, pipeline, **options)  # type: ignore[arg-type]
        patch.setattr(events_module, "bulk_deals", lambda *args: None)
        found["exact"] = read_events_csv(path, pipeline, **options)  # type: ignore[arg-type]
    return found


def summary(result: LoadResult) -> tuple[object, ...]:
    """Everything a load gives, with each timestamp's UTC offset (equal datetimes may differ in it)."""
    return (
        [
            (
                d.id,
                d.history,
                [c.at.utcoffset() for c in d.history],
                d.value,
                d.owner,
                d.source,
                d.pipeline,
            )
            for d in result
        ],
        result.rows_read,
        result.rows_rejected,
        [str(e) for e in result.rejects],
    )


def assert_same(path: Path, pipeline: sf.Pipeline, **options: object) -> LoadResult:
    """The three lanes agree on *path*; the Arrow lane's result."""
    found = lanes(path, pipeline, **options)
    assert summary(found["arrow"]) == summary(found["bulk"]) == summary(found["exact"])
    return found["arrow"]


def write(tmp_path: Path, text: str, *, name: str = "events.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def shifted(text: str, seed: int) -> str:
    """Each row's timestamp moved to another UTC offset: the same instant, written differently."""
    rng = random.Random(seed)
    head, *rows = text.splitlines()
    out = []
    for row in rows:
        cells = row.split(",")
        offset = timezone(timedelta(minutes=rng.choice([-480, -210, 0, 60, 330, 600])))
        cells[2] = datetime.fromisoformat(cells[2]).astimezone(offset).isoformat()
        out.append(",".join(cells))
    return "\n".join([head, *out]) + "\n"


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each load's Arrow lane gave the deals (``True``) or handed over (``False``)."""
    calls: list[bool] = []
    real = events_module.arrow_deals

    def spy(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(events_module, "arrow_deals", spy)
    return calls


class TestLanesAgree:
    @FILES
    @given(n=st.integers(1, 40), seed=st.integers(0, 10_000), shuffle=st.booleans())
    def test_generated_files(self, tmp_path: Path, n: int, seed: int, shuffle: bool) -> None:
        """Any generated event log, in file order or shuffled, loads the same every way."""
        deals = synthetic(n, seed=seed)
        text = text_of(deals)
        path = write(tmp_path, shuffled(text, seed) if shuffle else text, name=f"g{n}-{seed}.csv")
        result = assert_same(path, deals[0].pipeline)
        assert sorted(d.id for d in result) == sorted(d.id for d in deals)

    @FILES
    @given(seed=st.integers(0, 10_000), shuffle=st.booleans())
    def test_offsets_are_kept(self, tmp_path: Path, seed: int, shuffle: bool) -> None:
        """Timestamps written with other UTC offsets keep them, row by row, in every lane."""
        deals = synthetic(15, seed=seed)
        text = shifted(text_of(deals), seed)
        path = write(tmp_path, shuffled(text, seed) if shuffle else text, name=f"o{seed}.csv")
        result = assert_same(path, deals[0].pipeline)
        offsets = {c.at.utcoffset() for d in result for c in d.history}
        assert len(result) == 15
        assert offsets - {timedelta(0)}

    def test_a_zoneinfo_file(self, tmp_path: Path) -> None:
        """Deals whose times were in Europe/Paris read back with +01:00 and +02:00 either way."""
        start = datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/Paris"))
        deals = synthetic(40, seed=5, start=start)
        result = assert_same(write(tmp_path, text_of(deals)), deals[0].pipeline)
        offsets = {c.at.utcoffset() for d in result for c in d.history}
        assert offsets == {timedelta(hours=1), timedelta(hours=2)}

    @FILES
    @given(seed=st.integers(0, 10_000), drop=st.integers(0, 5), latest=st.booleans())
    def test_damaged_files(self, tmp_path: Path, seed: int, drop: int, latest: bool) -> None:
        """Emptied values, changed owners, bad stages and ids give the same deals and rejects."""
        deals = synthetic(20, seed=seed)
        head, *rows = text_of(deals).splitlines()
        rng = random.Random(seed)
        for _ in range(drop):
            i = rng.randrange(len(rows))
            cells = rows[i].split(",")
            what = rng.choice(["value", "owner", "stage", "id", "at", "blank"])
            if what == "value":
                cells[3] = "" if rng.random() < 0.5 else "12.5"
            elif what == "owner":
                cells[5] = "" if rng.random() < 0.5 else "Someone else"
            elif what == "stage":
                cells[1] = "Nowhere"
            elif what == "id":
                cells[0] = ""
            elif what == "at":
                cells[2] = "2025-13-01T00:00:00+00:00"
            else:
                cells[2] = "2024-01-01T00:00:00+00:00"  # out of order: sorted, or refused
            rows[i] = ",".join(cells)
        path = write(tmp_path, "\n".join([head, *rows]) + "\n", name=f"d{seed}-{drop}.csv")
        options = {"errors": "collect", "conflicts": "latest" if latest else "error"}
        result = assert_same(path, deals[0].pipeline, **options)
        assert result.rows_read == len(rows)

    @pytest.mark.parametrize(
        "edit",
        [
            pytest.param(lambda t: t.replace("USD", " USD "), id="padded cells"),
            pytest.param(lambda t: t.replace("\nD000002", "\n\nD000002"), id="blank line"),
            pytest.param(lambda t: t.replace("\nD000002", "\n   \nD000002"), id="blank-ish line"),
            pytest.param(
                lambda t: t.replace(",referral,", ',"referral\nweb",'), id="quoted newline"
            ),
            pytest.param(lambda t: t.replace(",,,\n", ',"a, b",,\n', 3), id="quoted delimiter"),
            pytest.param(lambda t: t.replace(",,,\n", ",,\n", 1), id="ragged row"),
            pytest.param(lambda t: "\ufeff" + t, id="byte order mark"),
            pytest.param(lambda t: t.replace(",USD,", ",,"), id="no currency"),
            pytest.param(lambda t: t.replace(",Avery,", ",'=Avery,"), id="escaped cell"),
            pytest.param(lambda t: t.replace("D000003", " D000002"), id="ids equal once stripped"),
            pytest.param(lambda t: t.replace(",,,\n", ",,a note,\n"), id="notes"),
        ],
    )
    def test_edited_files(self, tmp_path: Path, edit: object) -> None:
        """Hand-edited files (blank lines, quotes, padding, escapes …) load the same every way."""
        deals = synthetic(12, seed=8)
        text = edit(text_of(deals))  # type: ignore[operator]
        assert_same(write(tmp_path, text), deals[0].pipeline, errors="collect")

    def test_options(self, tmp_path: Path) -> None:
        """A semicolon file in cp1252 with naive day-first times loads the same every way."""
        deals = synthetic(30, seed=3)
        head, *rows = text_of(deals).splitlines()
        out = [head.replace(",", ";")]
        for row in rows:
            cells = row.split(",")
            at = datetime.fromisoformat(cells[2]).astimezone(UTC)
            cells[2] = at.strftime("%d/%m/%Y %H:%M:%S")
            cells[3] = cells[3].replace(".", ",")
            cells[5] = cells[5] + "é"
            out.append(";".join(cells))
        path = write(tmp_path, "\n".join(out) + "\n", encoding="cp1252")
        options = {
            "encoding": "cp1252",
            "timestamp_format": "%d/%m/%Y %H:%M:%S",
            "timezone": "UTC",
            "decimal": ",",
        }
        result = assert_same(path, deals[0].pipeline, **options)
        assert len(result) == 30
        assert all(d.owner and d.owner.endswith("é") for d in result if d.owner)


class TestHardenedInputs:
    """Issue 10's inputs: every lane gives the same deals, or the same LoadError."""

    def test_line_breaks_in_cells(self, tmp_path: Path) -> None:
        """Notes and owners holding a bare CR, a LF or a formula after one round-trip in every lane."""
        deals = synthetic(12, seed=9)
        edited = [
            d.replace(owner="a\r=1+1")
            if i % 3 == 0
            else d.replace(owner="b\n@x")
            if i % 3 == 1
            else d
            for i, d in enumerate(deals)
        ]
        result = assert_same(write(tmp_path, text_of(edited)), deals[0].pipeline)
        assert [d.owner for d in result] == [d.owner for d in edited]

    def test_ragged_row_with_a_readable_id(self, tmp_path: Path) -> None:
        """A ragged row leaves out its whole deal, the same in every lane."""
        deals = synthetic(10, seed=6)
        head, *rows = text_of(deals).splitlines()
        rows[3] += ",extra"
        bad = rows[3].split(",")[0]
        result = assert_same(
            write(tmp_path, "\n".join([head, *rows]) + "\n"), deals[0].pipeline, errors="collect"
        )
        assert bad not in {d.id for d in result}
        assert len(result) == 9

    def _errors(self, path: Path, pipeline: sf.Pipeline) -> set[str]:
        found = set()
        with pytest.MonkeyPatch.context() as patch:
            for name in ("", "arrow_deals", "bulk_deals"):
                if name:
                    patch.setattr(events_module, name, lambda *args, **kwargs: None)
                with pytest.raises(sf.LoadError) as info:
                    read_events_csv(path, pipeline, errors="collect")
                found.add(str(info.value))
        return found

    def test_a_cell_over_the_limit(self, tmp_path: Path) -> None:
        """A cell over 131,072 characters, read or not, is one LoadError in every lane."""
        deals = synthetic(10, seed=6)
        head, *rows = text_of(deals).splitlines()
        rows[5] = rows[5] + "x" * 131_073  # the last (note) cell
        path = write(tmp_path, "\n".join([head, *rows]) + "\n")
        (message,) = self._errors(path, deals[0].pipeline)
        assert "line 7" in message

    def test_a_repeated_column(self, tmp_path: Path) -> None:
        """A repeated column the loader reads is one LoadError in every lane."""
        deals = synthetic(5, seed=6)
        head, *rows = text_of(deals).splitlines()
        path = write(tmp_path, "\n".join([head + ",owner", *(r + ",x" for r in rows)]) + "\n")
        (message,) = self._errors(path, deals[0].pipeline)
        assert "twice" in message


class TestLaneChoice:
    def test_taken_on_a_clean_file(self, tmp_path: Path, taken: list[bool]) -> None:
        """A clean generated file is read by the Arrow lane (so the comparisons above test it)."""
        deals = synthetic(50, seed=4)
        result = read_events_csv(write(tmp_path, text_of(deals)), deals[0].pipeline)
        assert taken == [True]
        assert list(result) == [d.replace(touchpoints=()) for d in deals]

    def test_taken_on_shifted_shuffled_files(self, tmp_path: Path, taken: list[bool]) -> None:
        """Shuffled rows with other UTC offsets are still the Arrow lane's."""
        deals = synthetic(50, seed=6)
        read_events_csv(write(tmp_path, shuffled(shifted(text_of(deals), 1), 2)), deals[0].pipeline)
        assert taken == [True]

    def test_handed_over_on_a_bad_stage(self, tmp_path: Path, taken: list[bool]) -> None:
        """A file the exact lane must word is handed over, and the error names the line."""
        deals = synthetic(5, seed=4)
        text = text_of(deals).replace("Prospecting", "Prospekting", 1)
        with pytest.raises(sf.LoadError, match="Prospekting") as caught:
            read_events_csv(write(tmp_path, text), deals[0].pipeline)
        assert taken == [False]
        assert caught.value.line == 2

    def test_streams_skip_it(self, tmp_path: Path, taken: list[bool]) -> None:
        """An open file is read by the Python lanes."""
        deals = synthetic(5, seed=4)
        with write(tmp_path, text_of(deals)).open(encoding="utf-8", newline="") as handle:
            result = read_events_csv(handle, deals[0].pipeline)
        assert taken == []
        assert len(result) == 5

    def test_without_pyarrow(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without pyarrow the lane steps aside silently and the Python lanes load the file."""

        def missing(package: str, extra: str, feature: str) -> object:
            raise MissingDependencyError("no", package=package, extra=extra)

        monkeypatch.setattr(arrow_module, "require", missing)
        deals = synthetic(5, seed=4)
        path = write(tmp_path, text_of(deals))
        assert (
            arrow_module.arrow_deals(
                path,
                encoding="utf-8",
                delimiter=",",
                width=10,
                pos={"deal_id": 0},
                config=None,  # type: ignore[arg-type]
            )
            is None
        )
        assert len(read_events_csv(path, deals[0].pipeline)) == 5

    def test_progress_once(self, tmp_path: Path) -> None:
        """The Arrow lane reports progress once, with every row."""
        deals = synthetic(30, seed=4)
        path = write(tmp_path, text_of(deals))
        seen: list[int] = []
        result = read_events_csv(path, deals[0].pipeline, progress=seen.append)
        assert seen == [result.rows_read]

    def test_header_only(self, tmp_path: Path, taken: list[bool]) -> None:
        """A file with a header and no rows gives no deals."""
        path = write(tmp_path, "deal_id,stage,at\n")
        with pytest.warns(sf.EmptySourceWarning, match="no data rows"):
            result = read_events_csv(path, sf.templates.b2b())
        assert (len(result), result.rows_read, taken) == (0, 0, [True])
