"""Forecast categories rolled up per owner, and quota attainment.

The CRM forecast is a rep's call: each open deal sits in a forecast category
(Salesforce's names: ``Pipeline``, ``Best Case``, ``Commit``, ``Omitted``,
``Closed``), and a manager reads the sums per rep. :func:`forecast_rollup`
puts those sums next to the simulated forecast of the same deals;
:func:`attainment` sets what was won against a quota, with the forecast's
interval for what is still open.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._checks import aware
from .._deal import Deal
from .._frames import build, decimal_series, float_series, text_series
from .._money import Money
from .._optional import pandas
from .._pipeline import Pipeline
from ..exceptions import CurrencyMismatchError
from ._common import common_pipeline, deals_of
from ._forecast import Engine, Forecast, forecast, latest_event, period_days
from ._grouping import By, group

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CATEGORIES",
    "Attainment",
    "AttainmentRow",
    "Rollup",
    "RollupRow",
    "attainment",
    "category_of",
    "forecast_rollup",
]

CATEGORIES = ("Pipeline", "Best Case", "Commit", "Omitted", "Closed")
"""The forecast categories, as Salesforce names them."""


def category_of(deal: Deal, defaults: Mapping[str, str] | None = None) -> str:
    """The deal's forecast category.

    A won deal is ``Closed`` and a lost one ``Omitted``. An open deal has its
    last recorded ``forecast_category`` change (a rep's override, see
    :meth:`salesflow.Deal.update`), else its stage's default from *defaults*
    (``{stage key: category}``), else ``Pipeline``.
    """
    stage = deal.stage
    if stage.is_won:
        return "Closed"
    if stage.is_lost:
        return "Omitted"
    override = deal.forecast_category
    if override is not None:
        return override
    if defaults is not None and stage.key in defaults:
        return defaults[stage.key]
    return "Pipeline"


def _sum(values: Iterable[Money | None], currency: str | None) -> Money | None:
    if currency is None:
        return None
    return Money.total([v for v in values if v is not None], currency=currency)


@attrs.frozen
class RollupRow:
    """One group of a :class:`Rollup`.

    Attributes:
        key: The group's key (an owner …), or ``"total"``.
        closed: Value won in the period up to the cut-off.
        commit: Open deals in ``Commit`` expected to close in the period.
        best_case: Open deals in ``Best Case`` expected to close in the period.
        pipeline: Open deals in ``Pipeline`` expected to close in the period.
        omitted: How many open deals are ``Omitted`` (not counted).
        forecast: The simulated forecast of the group's open deals (``None``
            when it has none).
    """

    key: Hashable
    closed: Money | None
    commit: Money | None
    best_case: Money | None
    pipeline: Money | None
    omitted: int
    forecast: Forecast | None

    @property
    def commit_total(self) -> Money | None:
        """The CRM's commit forecast: closed + commit."""
        return _sum((self.closed, self.commit), _currency(self.closed))

    @property
    def best_case_total(self) -> Money | None:
        """The CRM's best-case forecast: closed + commit + best case."""
        return _sum((self.closed, self.commit, self.best_case), _currency(self.closed))

    @property
    def expected(self) -> Money | None:
        """Closed plus the simulated forecast's mean."""
        mean = None if self.forecast is None else self.forecast.mean
        return _sum((self.closed, mean), _currency(self.closed))

    def interval(self, level: float = 0.8) -> tuple[Money, Money] | None:
        """Closed plus the simulated forecast's interval at *level*."""
        if self.closed is None:
            return None
        interval = None if self.forecast is None else self.forecast.interval(level)
        if interval is None:
            return (self.closed, self.closed)
        return (self.closed + interval[0], self.closed + interval[1])


def _currency(money: Money | None) -> str | None:
    return None if money is None else money.currency


def _plain(value: object) -> Any:
    if isinstance(value, Money):
        return str(value.amount)
    return value if value is None or isinstance(value, int | float | str) else str(value)


@attrs.frozen(repr=False)
class Rollup:
    """Forecast categories per group, next to the simulated forecast.

    Attributes:
        start: Start of the period.
        end: End of the period (excluded).
        as_of: The cut-off.
        by: The grouping field's name.
        rows: One :class:`RollupRow` per group, then the total.
    """

    start: datetime
    end: datetime
    as_of: datetime
    by: str
    rows: tuple[RollupRow, ...]

    @property
    def total(self) -> RollupRow:
        """The row over all groups."""
        return self.rows[-1]

    def __getitem__(self, key: Hashable) -> RollupRow:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def _records(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows:
            interval = r.interval(0.8)
            out.append(
                {
                    "key": r.key,
                    "closed": r.closed,
                    "commit": r.commit_total,
                    "best_case": r.best_case_total,
                    "pipeline": r.pipeline,
                    "omitted": r.omitted,
                    "expected": r.expected,
                    "low_80": None if interval is None else interval[0],
                    "high_80": None if interval is None else interval[1],
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the period and one record per group (commit and best case cumulative)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "rows": [{k: _plain(v) for k, v in r.items()} for r in self._records()],
        }

    def __repr__(self) -> str:
        t = self.total
        return (
            f"Rollup(by {self.by}, {len(self.rows) - 1} groups; total closed={t.closed}, "
            f"commit={t.commit_total}, best case={t.best_case_total}, expected={t.expected})"
        )

    def _repr_html_(self) -> str:
        heads = ("key", "closed", "commit", "best_case", "expected", "low_80", "high_80")
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r[h]))}</td>" for h in heads) + "</tr>"
            for r in self._records()
        )
        head = "".join(f"<th>{h}</th>" for h in heads)
        return f"<table><caption>Forecast rollup by {html.escape(self.by)}</caption><tr>{head}</tr>{rows}</table>"

    def to_frame(self) -> pd.DataFrame:
        """One row per group: key, then the amounts (exact ``Decimal``) and currency."""
        pd = pandas("Rollup.to_frame()")
        records = self._records()
        money = ("closed", "commit", "best_case", "pipeline", "expected", "low_80", "high_80")
        columns = {"key": text_series(pd, [str(r["key"]) for r in records])}
        for name in money:
            columns[name] = decimal_series(
                pd, [None if r[name] is None else r[name].amount for r in records], "object"
            )
        columns["currency"] = text_series(pd, [_currency(r["closed"]) for r in records])
        return build(pd, columns)


@attrs.frozen(kw_only=True)
class _Period:
    """What the rollup and attainment share: the deals at the cut-off, grouped, and the forecast."""

    groups: dict[Hashable, list[Deal]]
    fields: tuple[str, ...]
    forecast: Forecast
    currency: str | None


def _period(
    deals: list[Deal],
    start: datetime,
    end: datetime,
    *,
    as_of: datetime | None,
    by: By,
    n: int,
    seed: int,
    pipeline: Pipeline | None,
    engine: Engine,
) -> tuple[datetime, _Period]:
    aware("start", start)
    aware("end", end)
    cut = as_of if as_of is not None else latest_event(deals) or start
    aware("as_of", cut)
    found = common_pipeline(deals, pipeline)
    result = forecast(
        deals, start, end, as_of=cut, n=n, seed=seed, by=by, pipeline=found, engine=engine
    )
    seen = [d for d in (deal.as_of(cut) for deal in deals) if d is not None]
    grouped = group(seen, by, cut)
    currencies = sorted({d.value.currency for d in seen if d.value is not None})
    if len(currencies) > 1:
        msg = f"The deals' values are in {currencies!r}; roll up one currency at a time."
        raise CurrencyMismatchError(msg, currencies=currencies)
    currency = currencies[0] if currencies else None
    return cut, _Period(
        groups=grouped.groups, fields=grouped.fields, forecast=result, currency=currency
    )


def _won_in(deal: Deal, start: datetime, end: datetime) -> bool:
    closed = deal.closed_at
    return deal.is_won and closed is not None and start <= closed < end


def forecast_rollup(
    deals: Iterable[Deal],
    start: datetime,
    end: datetime,
    *,
    by: By = "owner",
    as_of: datetime | None = None,
    categories: Mapping[str, str] | None = None,
    n: int = 10_000,
    seed: int = 0,
    pipeline: Pipeline | None = None,
    engine: Engine = "auto",
) -> Rollup:
    """Closed won, commit and best case per group for ``[start, end)``, next to the simulated forecast.

    Per group (of the deals as they were at *as_of*): ``closed`` = value of
    the deals won in the period by *as_of*; ``commit``, ``best_case`` and
    ``pipeline`` = value of the open deals in that forecast category
    (:func:`category_of`) whose expected close date falls on a day of the
    period, or that have none. The CRM's forecasts are cumulative:
    ``commit_total`` = closed + commit, ``best_case_total`` = closed + commit
    + best case. ``expected`` and ``interval`` add the simulated forecast of
    the group's open deals (:func:`forecast`, Markov) to what is closed. The
    last row is the total.

    Args:
        deals: The deals.
        start: Start of the period (aware).
        end: End of the period (excluded; aware).
        by: The grouping (as for every metric's ``by=``; default the owner).
        as_of: The cut-off (default: the latest stage or field change).
        categories: Default forecast category per open stage key (default
            ``Pipeline``).
        n: Simulations of the forecast.
        seed: Seed of the forecast.
        pipeline: The pipeline, when *deals* may be empty.
        engine: As for :func:`forecast`.

    Returns:
        A :class:`Rollup`.

    Raises:
        ValueError: A naive datetime or an unknown category in *categories*.
        CurrencyMismatchError: Values in several currencies.
    """
    deals = list(deals_of(deals, "forecast_rollup"))
    for stage_key, name in (categories or {}).items():
        if name not in CATEGORIES:
            msg = f"categories[{stage_key!r}] must be one of {list(CATEGORIES)!r}, got {name!r}."
            raise ValueError(msg)
    cut, period = _period(
        deals, start, end, as_of=as_of, by=by, n=n, seed=seed, pipeline=pipeline, engine=engine
    )
    first, after = period_days(start, end)
    cur = period.currency
    parts = period.forecast.by
    rows = []
    totals: dict[str, list[Money | None]] = {}
    omitted_total = 0
    for key, members in period.groups.items():
        sums: dict[str, list[Money | None]] = {
            "closed": [],
            "Commit": [],
            "Best Case": [],
            "Pipeline": [],
        }
        omitted = 0
        for deal in members:
            if deal.is_open:
                close = deal.expected_close
                if close is not None and not first <= close < after:
                    continue
                name = category_of(deal, categories)
                if name == "Omitted":
                    omitted += 1
                elif name in sums:
                    sums[name].append(deal.value)
            elif _won_in(deal, start, end):
                sums["closed"].append(deal.value)
        for name, values in sums.items():
            totals.setdefault(name, []).extend(values)
        omitted_total += omitted
        group_forecast = None if parts is None else parts.get(key)
        rows.append(
            RollupRow(
                key,
                _sum(sums["closed"], cur),
                _sum(sums["Commit"], cur),
                _sum(sums["Best Case"], cur),
                _sum(sums["Pipeline"], cur),
                omitted,
                group_forecast,
            )
        )
    rows.append(
        RollupRow(
            "total",
            _sum(totals.get("closed", []), cur),
            _sum(totals.get("Commit", []), cur),
            _sum(totals.get("Best Case", []), cur),
            _sum(totals.get("Pipeline", []), cur),
            omitted_total,
            attrs.evolve(period.forecast, by=None),
        )
    )
    return Rollup(start, end, cut, ", ".join(period.fields), tuple(rows))


@attrs.frozen
class AttainmentRow:
    """One group's quota attainment.

    Attributes:
        key: The group's key, or ``"total"``.
        quota: The quota (``None`` when none was given for the key).
        won: Value won in the period by the cut-off.
        forecast: The simulated forecast of the group's open deals.
    """

    key: Hashable
    quota: Money | None
    won: Money | None
    forecast: Forecast | None

    def _ratio(self, amount: Money | None) -> float | None:
        if self.quota is None or amount is None or not self.quota.amount:
            return None
        return float(amount.ratio(self.quota))

    @property
    def attainment(self) -> float | None:
        """The share of the quota won: won / quota (``None`` without a quota or with a zero one)."""
        return self._ratio(self.won)

    @property
    def projected(self) -> float | None:
        """Attainment if the forecast holds: (won + forecast mean) / quota."""
        mean = None if self.forecast is None else self.forecast.mean
        return self._ratio(self.won if mean is None or self.won is None else self.won + mean)

    def interval(self, level: float = 0.8) -> tuple[float, float] | None:
        """(won + the forecast's interval at *level*) / quota."""
        bounds = None if self.forecast is None else self.forecast.interval(level)
        if self.won is None:
            return None
        if bounds is None:
            ratio = self._ratio(self.won)
            return None if ratio is None else (ratio, ratio)
        low, high = self._ratio(self.won + bounds[0]), self._ratio(self.won + bounds[1])
        return None if low is None or high is None else (low, high)


@attrs.frozen(repr=False)
class Attainment:
    """Quota attainment per group and in total.

    Attributes:
        start: Start of the period.
        end: End of the period (excluded).
        as_of: The cut-off.
        rows: One :class:`AttainmentRow` per key (groups and quota keys), then the total.
    """

    start: datetime
    end: datetime
    as_of: datetime
    rows: tuple[AttainmentRow, ...]

    @property
    def total(self) -> AttainmentRow:
        """The row over all groups."""
        return self.rows[-1]

    def __getitem__(self, key: Hashable) -> AttainmentRow:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, one record per row."""
        records = []
        for r in self.rows:
            interval = r.interval(0.8)
            records.append(
                {
                    "key": _plain(r.key),
                    "quota": _plain(r.quota),
                    "won": _plain(r.won),
                    "attainment": r.attainment,
                    "projected": r.projected,
                    "low_80": None if interval is None else interval[0],
                    "high_80": None if interval is None else interval[1],
                }
            )
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "rows": records,
        }

    def __repr__(self) -> str:
        t = self.total
        shown = "n/a" if t.attainment is None else f"{t.attainment:.0%}"
        projected = "n/a" if t.projected is None else f"{t.projected:.0%}"
        return f"Attainment(total won={t.won} of {t.quota}: {shown}, projected {projected})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(r['key']))}</td><td>{r['quota']}</td><td>{r['won']}</td>"
            f"<td>{r['attainment']}</td><td>{r['projected']}</td></tr>"
            for r in self.to_dict()["rows"]
        )
        return (
            "<table><caption>Quota attainment</caption><tr><th>key</th><th>quota</th>"
            f"<th>won</th><th>attainment</th><th>projected</th></tr>{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per key: key, quota, won (exact), attainment, projected, low_80, high_80."""
        pd = pandas("Attainment.to_frame()")
        records = self.to_dict()["rows"]

        def amounts(name: str) -> Any:
            return decimal_series(
                pd, [None if r[name] is None else Decimal(r[name]) for r in records], "object"
            )

        return build(
            pd,
            {
                "key": text_series(pd, [str(r["key"]) for r in records]),
                "quota": amounts("quota"),
                "won": amounts("won"),
                **{
                    name: float_series(pd, [r[name] for r in records])
                    for name in ("attainment", "projected", "low_80", "high_80")
                },
            },
        )


def attainment(
    deals: Iterable[Deal],
    quotas: Mapping[Any, Money],
    start: datetime,
    end: datetime,
    *,
    by: By = "owner",
    as_of: datetime | None = None,
    n: int = 10_000,
    seed: int = 0,
    pipeline: Pipeline | None = None,
    engine: Engine = "auto",
) -> Attainment:
    """Won value against quota per group and in total, with the forecast for what is open.

    ``attainment`` = won / quota, where won is the value of the deals won in
    ``[start, end)`` by *as_of*; ``projected`` = (won + forecast mean) /
    quota and ``interval(level)`` the same with the forecast's interval: the
    attainment if the forecast holds (:func:`forecast` of the group's open
    deals). The total's quota is the sum of the quotas.

    Args:
        deals: The deals.
        quotas: Quota per group key (``{"Avery": Money(250_000, "USD"), …}``).
        start: Start of the period (aware).
        end: End of the period (excluded; aware).
        by: The grouping (default the owner).
        as_of: The cut-off (default: the latest stage or field change).
        n: Simulations of the forecast.
        seed: Seed of the forecast.
        pipeline: The pipeline, when *deals* may be empty.
        engine: As for :func:`forecast`.

    Returns:
        An :class:`Attainment`; a key with no quota has ``attainment is None``.

    Raises:
        TypeError: A quota that is not ``Money``.
        CurrencyMismatchError: Quotas or values in several currencies.
    """
    deals = list(deals_of(deals, "attainment"))
    for key, quota in quotas.items():
        if not isinstance(quota, Money):
            msg = f"quotas[{key!r}] must be Money, got {quota!r}."
            raise TypeError(msg)
    cut, period = _period(
        deals, start, end, as_of=as_of, by=by, n=n, seed=seed, pipeline=pipeline, engine=engine
    )
    cur = period.currency or next((q.currency for q in quotas.values()), None)
    parts = period.forecast.by
    keys = list(period.groups) + [k for k in quotas if k not in period.groups]
    rows = []
    for key in keys:
        won = _sum((d.value for d in period.groups.get(key, []) if _won_in(d, start, end)), cur)
        rows.append(
            AttainmentRow(key, quotas.get(key), won, None if parts is None else parts.get(key))
        )
    total_quota = Money.total(quotas.values()) if quotas else None
    total_won = _sum((r.won for r in rows), cur)
    rows.append(
        AttainmentRow("total", total_quota, total_won, attrs.evolve(period.forecast, by=None))
    )
    return Attainment(start, end, cut, tuple(rows))
