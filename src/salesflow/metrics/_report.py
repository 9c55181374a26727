"""The standard report: every headline metric of a set of deals, in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

import attrs

from .._deal import Deal
from .._frames import metric_frame, money_row, result_floats, result_ints
from .._money import Money
from .._optional import pandas
from .._pipeline import Pipeline
from .._table import EventTable
from .._time import DAY, EPOCH
from .._warn import collecting
from ._accumulator import DealAccumulator
from ._common import (
    Breakdown,
    By,
    Window,
    breakdown,
    check_window,
    common_pipeline,
    cut,
    deals_of,
    in_window,
)
from ._conversion import WinRateAccumulator
from ._funnel import Funnel, FunnelAccumulator
from ._rate import Rate, rate_row
from ._summary import DurationSummary, duration_rows
from ._timing import SalesCycleAccumulator, TimeInStageAccumulator
from ._value import ValueAccumulator, stage_weights
from ._velocity import Velocity, velocity_rows, velocity_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Report", "report"]


@attrs.frozen(repr=False)
class Report:
    """The standard set of metrics for one pipeline at one cut-off.

    Attributes:
        pipeline: The pipeline measured.
        as_of: The cut-off used (the latest stage change when not given).
        deals: Deals that existed by the cut-off.
        funnel: :func:`salesflow.metrics.funnel` (reached mode).
        time_in_stage: Kaplan-Meier time in each open stage.
        win_rate: Count-based win rate of deals closed by the cut-off.
        average_deal_size: Mean value of won deals.
        sales_cycle: Days from creation to win, of won deals.
        velocity: Sales velocity and its components.
        pipeline_value: Value of the deals open at the cut-off.
        weighted_pipeline: Value × stage probability of the open deals
            (``None`` when a stage has no probability).
        warnings: The warnings raised while computing the report, as
            sentences; they are still issued as warnings, and the notebook
            view shows them as short notes under its heading.
    """

    pipeline: Pipeline
    as_of: datetime | None
    deals: int
    funnel: Funnel
    time_in_stage: dict[str, DurationSummary] = attrs.field(hash=False)
    win_rate: Rate
    average_deal_size: Money | None
    sales_cycle: DurationSummary
    velocity: Velocity
    pipeline_value: Money | None
    weighted_pipeline: Money | None
    warnings: tuple[str, ...] = attrs.field(default=(), kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every metric."""

        def money(m: Money | None) -> dict[str, str] | None:
            return None if m is None else m.to_dict()

        return {
            "pipeline": self.pipeline.name,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "deals": self.deals,
            "funnel": self.funnel.to_dict(),
            "time_in_stage": {k: v.to_dict() for k, v in self.time_in_stage.items()},
            "win_rate": self.win_rate.to_dict(),
            "average_deal_size": money(self.average_deal_size),
            "sales_cycle": self.sales_cycle.to_dict(),
            "velocity": self.velocity.to_dict(),
            "pipeline_value": money(self.pipeline_value),
            "weighted_pipeline": money(self.weighted_pipeline),
        }

    def _headlines(self) -> list[tuple[str, str]]:
        def money(m: Money | None) -> str:
            return "n/a" if m is None else str(m.quantize(2))

        return [
            ("Win rate", self.win_rate.format()),
            ("Average deal size (won)", money(self.average_deal_size)),
            ("Sales cycle (won)", _with_interval(self.sales_cycle)),
            ("Sales velocity", self.velocity.format()),
            ("Open pipeline", money(self.pipeline_value)),
            ("Weighted pipeline", money(self.weighted_pipeline)),
        ]

    def to_text(self) -> str:
        """The report as plain text for a terminal."""
        when = "n/a" if self.as_of is None else self.as_of.isoformat()
        lines = [f"salesflow report: {self.pipeline.name}, {self.deals} deals, as of {when}", ""]
        lines += [
            "Funnel (reached; step and cumulative conversion, 95% Wilson intervals)",
            self.funnel.to_text(),
            "",
        ]
        lines.append("Time in stage (Kaplan-Meier, open spells censored at the cut-off)")
        for key, summary in self.time_in_stage.items():
            lines.append(f"  {self.pipeline.stage(key).name[:28]:<30}{_with_interval(summary)}")
        lines.append("")
        width = max(len(name) for name, _ in self._headlines()) + 2
        lines += [f"{name:<{width}}{value}" for name, value in self._headlines()]
        lines += ["", _NO_INTERVAL]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text().rstrip("\n")

    def __repr__(self) -> str:
        return f"<Report {self.pipeline.name!r}: {self.deals} deals, win rate {self.win_rate.format()}>"

    def _repr_html_(self) -> str:
        from ._show import report_sheet

        return report_sheet(self).html()

    def to_frame(self, *, exact: bool = False, wide: bool = False) -> pd.DataFrame:
        """The report as a pandas DataFrame; an undefined value is ``pd.NA``.

        Args:
            exact: Amounts as exact ``Decimal`` objects instead of floats.
            wide: One row per funnel step (the shape to paste into a
                spreadsheet): the funnel's columns, then the time in stage
                (``time_in_stage_n``, ``…_open``, ``…_median_days``,
                ``…_mean_days``; ``pd.NA`` for won steps). Default: the long
                table, one row per metric and stage (metric, stage, value,
                unit, amount, currency, counts, interval).
        """
        pd = pandas("Report.to_frame()")
        if wide:
            return self._wide(pd)
        rows: list[dict[str, Any]] = [
            {"metric": "deals", "value": self.deals, "unit": "deals", "n": self.deals},
            *velocity_rows(self.velocity),
            money_row("pipeline_value", self.pipeline_value),
            money_row("weighted_pipeline", self.weighted_pipeline),
        ]
        for row in self.funnel.rows:
            key = row.stage.key
            if row.conversion is not None:
                rows.append(rate_row("stage_conversion", row.conversion, key))
            rows.append(rate_row("cumulative_conversion", row.cumulative, key))
        for key, summary in self.time_in_stage.items():
            rows.extend(duration_rows("time_in_stage", summary, key)[:2])
        return metric_frame(pd, rows, exact=exact)

    def _wide(self, pd: Any) -> pd.DataFrame:
        frame = self.funnel.to_frame()
        summaries = [self.time_in_stage.get(key) for key in frame["stage"]]

        def days_of(values: list[timedelta | None]) -> list[float | None]:
            return [None if v is None else v / DAY for v in values]

        frame["time_in_stage_n"] = result_ints(pd, [None if s is None else s.n for s in summaries])
        frame["time_in_stage_open"] = result_ints(
            pd, [None if s is None else s.censored for s in summaries]
        )
        frame["time_in_stage_median_days"] = result_floats(
            pd, days_of([None if s is None else s.median for s in summaries])
        )
        frame["time_in_stage_mean_days"] = result_floats(
            pd, days_of([None if s is None else s.mean for s in summaries])
        )
        return frame


#: Why some lines of the text report have no interval.
_NO_INTERVAL = (
    "Without intervals: the pipeline values are sums of what is open, not estimates; "
    "the average deal size has a bootstrap interval in metrics.average_deal_size_interval "
    "(left out of this one-pass report for its cost); velocity has none yet."
)


def _with_interval(summary: DurationSummary) -> str:
    """A duration summary's line, with its interval when it has a median."""
    if summary.median is None:
        return f"{summary.format()}; no interval (no median)"
    return f"{summary.format()}; {summary.interval_text()}"


@attrs.define
class ReportAccumulator(DealAccumulator):
    """Every accumulator of the report, fed once per deal; mergeable like its parts."""

    pipeline: Pipeline
    as_of: datetime | None = None
    between: Window | None = None
    weights: dict[str, Decimal] | None = None
    deals: int = 0
    opportunities: int = 0
    funnel: FunnelAccumulator = attrs.field(init=False)
    stages: TimeInStageAccumulator = attrs.field(init=False)
    wins: WinRateAccumulator = attrs.field(init=False)
    won: ValueAccumulator = attrs.field(init=False)
    open: ValueAccumulator = attrs.field(init=False)
    cycles: SalesCycleAccumulator = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.funnel = FunnelAccumulator(self.pipeline, "reached", self.as_of, self.between)
        self.stages = TimeInStageAccumulator(self.pipeline, "spell", self.as_of, self.between)
        self.wins = WinRateAccumulator("count", self.as_of, self.between)
        self.won = ValueAccumulator("won", self.as_of, self.between)
        self.open = ValueAccumulator("open", self.as_of, self.between, self.weights)
        self.cycles = SalesCycleAccumulator("won", "deal", self.as_of, self.between)

    def _parts(self) -> tuple[Any, ...]:
        return (self.funnel, self.stages, self.wins, self.won, self.open, self.cycles)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Feed *deal*, whose history up to the cut-off is *stages* at *times*, to every metric."""
        self.deals += 1
        # Like the open pipeline, opportunities are placed by creation date.
        if deal.pipeline.table.by_key[stages[-1]].is_open and in_window(times[0], self.between):
            self.opportunities += 1
        for part in self._parts():
            part.add_seen(deal, stages, times)

    def merge(self, other: ReportAccumulator) -> ReportAccumulator:
        """A new accumulator holding both parts."""
        merged = ReportAccumulator(self.pipeline, self.as_of, self.between, self.weights)
        merged.deals = self.deals + other.deals
        merged.opportunities = self.opportunities + other.opportunities
        merged.funnel, merged.stages, merged.wins, merged.won, merged.open, merged.cycles = (
            mine.merge(theirs) for mine, theirs in zip(self._parts(), other._parts(), strict=True)
        )
        return merged

    def result(self) -> Report:
        """The report, with the warnings raised while computing it collected on it."""
        with collecting() as caught:
            found = self._result()
        notes = tuple(dict.fromkeys(caught))
        return attrs.evolve(found, warnings=notes) if notes else found

    def _result(self) -> Report:
        # The default cut-off is the latest event seen in every merged part;
        # the time-in-stage part sees every deal, so it knows it.
        latest = self.stages.latest
        self.cycles.latest = latest
        as_of = self.as_of
        if as_of is None and latest is not None:
            as_of = EPOCH + timedelta(microseconds=latest)
        rate = self.wins.result()
        size = self.won.mean()
        cycle = self.cycles.result()
        velocity = Velocity(
            velocity_value(self.opportunities, rate, size, cycle),
            self.opportunities,
            rate,
            size,
            cycle,
        )
        currency = self.open.currency or self.won.currency
        return Report(
            pipeline=self.pipeline,
            as_of=as_of,
            deals=self.deals,
            funnel=self.funnel.result(),
            time_in_stage=self.stages.result("km"),
            win_rate=rate,
            average_deal_size=size,
            sales_cycle=cycle,
            velocity=velocity,
            pipeline_value=self.open.sum(currency),
            weighted_pipeline=None
            if self.weights is None
            else self.open.sum(currency, weighted=True),
        )


@overload
def report(
    deals: Iterable[Deal] | EventTable,
    *,
    as_of: datetime | None = ...,
    pipeline: Pipeline | None = ...,
    between: Window | None = ...,
    by: None = ...,
) -> Report: ...
@overload
def report(
    deals: Iterable[Deal] | EventTable,
    *,
    as_of: datetime | None = ...,
    pipeline: Pipeline | None = ...,
    between: Window | None = ...,
    by: By,
) -> Breakdown[Report]: ...
def report(
    deals: Iterable[Deal] | EventTable,
    *,
    as_of: datetime | None = None,
    pipeline: Pipeline | None = None,
    between: Window | None = None,
    by: By | None = None,
) -> Report | Breakdown[Report]:
    """Compute the standard report in one pass over *deals*.

    The funnel (reached mode, with Wilson intervals), Kaplan-Meier time in
    each stage, win rate, average won deal size, sales cycle of won deals,
    sales velocity, open and weighted pipeline: the definitions are those of
    the functions in :mod:`salesflow.metrics`, with their defaults.

    Args:
        deals: The deals, all in one pipeline and one currency.
        as_of: Cut-off; default the latest stage change in the data.
        pipeline: The pipeline; default the deals' own (needed when there are no deals).
        between: ``(start, end)``, applied per metric as in the functions
            (creation for the funnel and time in stage, close for closed-deal
            metrics).
        by: One report per group (``"owner"``, ``"source"``, ``"currency"``,
            an attribute name or a function), as a :class:`Breakdown`.

    Raises:
        ValueError: Deals in several pipelines, or no deals and no pipeline.
        CurrencyMismatchError: Deal values in several currencies; report on
            each currency's deals separately.

    Examples:
        >>> import salesflow as sf
        >>> from salesflow.datasets import synthetic
        >>> rep = sf.report(synthetic(500, seed=1))
        >>> rep.deals, rep.funnel.total
        (500, 500)
    """
    if isinstance(deals, EventTable):
        from ._table_report import table_report

        if pipeline is not None and pipeline != deals.pipeline:
            msg = (
                f"The table's deals are in pipeline {deals.pipeline.name!r}, not {pipeline.name!r}."
            )
            raise ValueError(msg)
        return table_report(deals, as_of=as_of, between=between, by=by)
    as_of, between = check_window(as_of, between)
    deals = list(deals_of(deals, "report"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "report() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    weights: dict[str, Decimal] | None
    try:
        weights = stage_weights([found], "stage")
    except ValueError:
        weights = None  # some stage has no probability: no weighted pipeline

    def compute(group: Iterable[Deal]) -> Report:
        acc = ReportAccumulator(found, as_of, between, weights)
        for deal in group:
            acc.add(deal)
        return acc.result()

    if by is not None:
        if as_of is None:
            # One cut-off for every group: the latest event in all the data.
            ends = [c[1][-1] for d in deals if (c := cut(d, None)) is not None]
            as_of = max(ends, default=None)
        return breakdown("report", deals, by, compute, as_of)
    return compute(deals)
