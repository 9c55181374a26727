"""The command line on generated files and flags: it never raises, it exits 0 or 2."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow._cli import main

from .generators import budget, csv_text

_DIR = Path(tempfile.mkdtemp(prefix="salesflow-cli-fuzz-"))
B2B_STAGES = [s.key for s in sf.templates.b2b().stages]

_FLAGS = st.lists(
    st.sampled_from(
        [
            ["--collect"],
            ["--by", "owner"],
            ["--by", "source,owner"],
            ["--timezone", "UTC"],
            ["--timezone", "Europe/Pari"],
            ["--as-of", "2024-06-01"],
            ["--as-of", "2024-06-01T00:00:00+00:00"],
            ["--currency", "EUR"],
            ["--decimal", ","],
            ["--delimiter", ";"],
            ["--case-insensitive"],
            ["--allow-negative"],
            ["--conflicts", "latest"],
            ["--undated", "latest"],
            ["--stages", "Prospecting,Lead generation"],
            ["--column", "deal_id=id"],
            ["--stage", "won=Closed won"],
            ["--attribute", "note"],
            ["--json", str(_DIR / "out.json")],
            ["--json", str(_DIR)],
        ]
    ),
    max_size=4,
)


@budget()
@given(
    data=st.data(),
    fmt=st.sampled_from(["events", "deals"]),
    flags=_FLAGS,
    stdin=st.booleans(),
)
def test_report_exits_0_or_2(
    data: st.DataObject, fmt: str, flags: list[list[str]], stdin: bool
) -> None:
    """`salesflow report` on a generated file with generated flags returns 0 or 2, never raises."""
    columns = list(sf.io.EVENT_COLUMNS if fmt == "events" else sf.io.DEAL_COLUMNS)
    text, _ = data.draw(
        csv_text(columns, "deal_id", {"stage": B2B_STAGES}, unique_ids=fmt == "deals")
    )
    path = _DIR / "input.csv"
    path.write_text(text, encoding="utf-8", newline="")
    argv = ["report", "-" if stdin else str(path), "--format", fmt]
    for flag in flags:
        argv += flag
    out, err = io.StringIO(), io.StringIO()
    stream = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
    saved, sys.stdin = sys.stdin, stream
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        sys.stdin = saved
    assert code in (0, 2)
    if code == 2:
        assert err.getvalue().strip(), "exit 2 without a word"
        assert "Traceback" not in err.getvalue()
