"""Warnings point at the user's line, and each distinct message shows once from it."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from datetime import timedelta

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow._warn import stacklevel, warn
from tests.conftest import EPOCH

P = sf.Pipeline.linear("Sales", ["Lead", "Demo"])


def deals() -> list[sf.Deal]:
    """A won deal without a value, a won deal worth 5 USD, an open deal without a value."""
    return [
        P.open_deal("a", at=EPOCH).win(at=EPOCH + timedelta(days=1)),
        P.open_deal("b", at=EPOCH, value=sf.Money(5, "USD")).win(at=EPOCH),
        P.open_deal("c", at=EPOCH),
    ]


def _line(below: int) -> int:
    """The number of the line *below* lines under the caller's line."""
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno + below


def _locations(call: Callable[[], object]) -> set[tuple[str, int]]:
    """Where the warnings of *call* (a user's function calling a metric) point."""
    with pytest.warns(sf.SalesflowWarning) as caught:
        call()
    return {(w.filename, w.lineno) for w in caught}


class TestLocation:
    def test_report_warns_at_the_users_line(self) -> None:
        """A warning raised deep inside report() names this file and the line of the call."""
        data = deals()
        line = _line(2)
        with pytest.warns(sf.SalesflowWarning, match="without a value") as caught:
            sf.report(data)
        assert {(w.filename, w.lineno) for w in caught} == {(__file__, line)}

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda: m.win_rate(deals(), basis="amount"), id="win_rate"),
            pytest.param(lambda: m.average_deal_size(deals(), by="owner"), id="breakdown"),
            pytest.param(lambda: m.pipeline_value(deals()), id="pipeline_value"),
            pytest.param(
                lambda: m.pipeline_coverage(deals(), sf.Money(10, "USD")), id="coverage_via_value"
            ),
            pytest.param(lambda: sf.report(deals(), by="owner"), id="report_breakdown"),
            pytest.param(
                lambda: m.lead_conversion([sf.Lead("L1", created_at=EPOCH)]), id="lead_conversion"
            ),
        ],
    )
    def test_every_depth_points_outside_the_package(self, call: Callable[[], object]) -> None:
        """Through one to four layers of salesflow, the warning names the user's lambda in this file."""
        code = getattr(call, "__code__", None)
        assert code is not None
        assert _locations(call) == {(__file__, code.co_firstlineno)}

    def test_an_accumulator_used_directly(self) -> None:
        """acc.result() called by the user warns at that call, as win_rate() does at its own."""
        acc = m.WinRateAccumulator("amount")
        for deal in deals():
            acc.add(deal)
        line = _line(2)
        with pytest.warns(sf.SalesflowWarning) as caught:
            acc.result()
        assert (caught[0].filename, caught[0].lineno) == (__file__, line)

    def test_warn_from_outside_names_its_caller(self) -> None:
        """The helper called from outside the package names the line that called it."""
        line = _line(2)
        with pytest.warns(sf.SalesflowWarning, match="^plain$") as caught:
            warn("plain")
        assert (caught[0].filename, caught[0].lineno) == (__file__, line)

    def test_stacklevel_outside_the_package_is_one(self) -> None:
        """From a frame outside salesflow, level 1 (the caller itself) is already outside."""
        assert stacklevel() == 1


class TestOncePerMessage:
    def test_two_messages_from_one_line_both_show(self) -> None:
        """Under the default filter, report()'s two different warnings from one line both show."""
        data = deals()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            sf.report(data)
        messages = sorted(str(w.message) for w in caught)
        assert messages == [
            "1 open deal(s) without a value are left out of the pipeline value.",
            "1 won deal(s) without a value are left out of the average deal size.",
        ]
        assert {w.filename for w in caught} == {__file__}

    def test_a_repeated_message_shows_once(self) -> None:
        """The same warnings from the same line in a loop show once each under the default filter."""
        data = deals()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(3):
                sf.report(data)
        assert len(caught) == 2

    def test_the_same_message_from_two_lines_shows_twice(self) -> None:
        """Each line of the user's code gets its own warning: the location is the user's."""
        data = deals()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            m.pipeline_value(data)
            m.pipeline_value(data)
        assert len(caught) == 2
        assert caught[0].lineno + 1 == caught[1].lineno
