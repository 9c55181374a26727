"""Static checks of the accumulator protocol and the typed frames: type-checked, never run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias, TypeVar, assert_type

import salesflow as sf
from salesflow.metrics import (
    DurationSummary,
    Funnel,
    FunnelAccumulator,
    Rate,
    TimeInStageAccumulator,
    ValueAccumulator,
    Velocity,
    VelocityAccumulator,
    WinRateAccumulator,
)
from salesflow.typing import Accumulator

if TYPE_CHECKING:
    import pandas as pd

R = TypeVar("R")
#: pandas is an optional extra, so it is named for the type checker only.
Frame: TypeAlias = "pd.DataFrame"

pipeline = sf.templates.b2b()
deal = pipeline.open_deal("D-1", at=datetime(2026, 1, 1, tzinfo=UTC))


def total(parts: list[Accumulator[R]], deals: list[sf.Deal]) -> R:
    """Feed each part, merge them, and give the result: the protocol is all it needs."""
    for part in parts:
        for one in deals:
            part.add(one)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    return merged.result()


# Each metrics accumulator satisfies the protocol, with its result type.
wins: Accumulator[Rate] = WinRateAccumulator()
steps: Accumulator[Funnel] = FunnelAccumulator(pipeline)
stages: Accumulator[dict[str, DurationSummary]] = TimeInStageAccumulator(pipeline)
velocity: Accumulator[Velocity] = VelocityAccumulator()
assert_type(total([WinRateAccumulator(), WinRateAccumulator()], [deal]), Rate)
assert_type(total([FunnelAccumulator(pipeline)], [deal]), Funnel)
assert_type(wins.merge(wins), Accumulator[Rate])
# A value accumulator has sums and means, not one result: not an Accumulator.
values: Accumulator[object] = ValueAccumulator()  # type: ignore[assignment]
# The result type is checked: a win rate is not a funnel.
wrong: Accumulator[Funnel] = WinRateAccumulator()  # type: ignore[assignment]

# The report lives in salesflow.metrics; the top level re-exports the same objects.
assert_type(sf.metrics.report([deal]), sf.metrics.Report)
assert_type(sf.report([deal]), sf.Report)

# Results build typed frames.
assert_type(sf.metrics.win_rate([deal]).to_frame(), Frame)
assert_type(sf.metrics.funnel([deal]).to_frame(), Frame)
assert_type(sf.report([deal]).to_frame(), Frame)
assert_type(sf.metrics.win_rate([deal], by="owner").to_frame(), Frame)
