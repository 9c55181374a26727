"""The forecast contract of issue 15: names and call shapes that callers rely on."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from salesflow import metrics as m

P = inspect.Parameter
POS, KW, REQUIRED = P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY, P.empty

CONTRACT: list[tuple[Callable[..., Any], list[tuple[str, Any, object]]]] = [
    (
        m.forecast,
        [
            ("deals", POS, REQUIRED),
            ("start", POS, REQUIRED),
            ("end", POS, REQUIRED),
            ("as_of", KW, None),
            ("method", KW, "markov"),
            ("n", KW, 10_000),
            ("seed", KW, 0),
            ("include_new", KW, False),
            ("by", KW, None),
        ],
    ),
    (
        m.backtest,
        [
            ("deals", POS, REQUIRED),
            ("cutoffs", POS, REQUIRED),
            ("horizon", KW, REQUIRED),
            ("method", KW, "markov"),
            ("n", KW, 2_000),
            ("seed", KW, 0),
        ],
    ),
    (m.calibration, [("deals", POS, REQUIRED), ("as_of", KW, None)]),
    (
        m.forecast_rollup,
        [
            ("deals", POS, REQUIRED),
            ("start", POS, REQUIRED),
            ("end", POS, REQUIRED),
            ("by", KW, "owner"),
        ],
    ),
    (
        m.attainment,
        [
            ("deals", POS, REQUIRED),
            ("quotas", POS, REQUIRED),
            ("start", POS, REQUIRED),
            ("end", POS, REQUIRED),
            ("by", KW, "owner"),
        ],
    ),
]


@pytest.mark.parametrize(("func", "expected"), CONTRACT, ids=lambda x: getattr(x, "__name__", ""))
def test_signature(func: Callable[..., Any], expected: list[tuple[str, Any, object]]) -> None:
    """The contract's parameters are there in order; anything added is keyword-only with a default."""
    params = list(inspect.signature(func).parameters.values())
    assert [(p.name, p.kind, p.default) for p in params if p.kind is POS] == [
        e for e in expected if e[1] is POS
    ]
    by_name = {p.name: p for p in params}
    for name, kind, default in expected:
        assert by_name[name].kind is kind
        assert by_name[name].default == default
    named = {e[0] for e in expected}
    for param in params:
        if param.name not in named:
            assert param.kind is KW
            assert param.default is not REQUIRED


def test_forecast_members() -> None:
    """Forecast answers mean, percentile, interval, p_close and expected_count."""
    for name in ("mean", "percentile", "interval", "p_close", "expected_count", "median"):
        assert hasattr(m.Forecast, name)
    assert inspect.signature(m.Forecast.interval).parameters["level"].default == 0.8
