"""The report written in pandas (with NumPy), vectorised over an events DataFrame.

The input is an event log as a pandas user holds it: one row per stage
change, in time order within each deal (as ``write_events_csv`` writes it),
with the columns ``deal_id`` (str), ``seq`` (the event's position in its
deal), ``stage`` (categorical over the pipeline's stage keys), ``at``
(``datetime64[us, UTC]``) and ``value`` (float, repeated on every row).
:func:`events_frame` builds it from salesflow deals; that conversion is timed
separately from the metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from _machines import KEYS
from report_common import (
    FUNNEL_KEYS,
    OPEN_KEYS,
    PROBABILITY,
    RANK,
    US_PER_DAY,
    WON_KEYS,
    Z95,
    Duration,
    FunnelCounts,
    ReportNumbers,
    cents,
)

if TYPE_CHECKING:
    from salesflow import Deal

#: Rank of each stage category code (the categories are the stage keys in order).
RANK_BY_CODE = np.array([RANK[k] for k in KEYS], dtype=np.int8)
PROBABILITY_BY_CODE = np.array([float(PROBABILITY.get(k, "nan")) for k in KEYS])
_LAST_OPEN = max(RANK[k] for k in OPEN_KEYS)
_WON_RANK = RANK[WON_KEYS[0]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def events_frame(deals: Sequence[Deal]) -> pd.DataFrame:
    """The event log of *deals* as a DataFrame (see the module docstring)."""
    deal_ids: list[str] = []
    seqs: list[int] = []
    stages: list[str] = []
    stamps: list[int] = []
    values: list[float] = []
    for deal in deals:
        n = len(deal.stage_keys)
        value = np.nan if deal.value is None else float(deal.value.amount)
        deal_ids += [deal.id] * n
        seqs += range(n)
        stages += deal.stage_keys
        # Whole microseconds since the epoch, exactly.
        stamps += [(t - _EPOCH) // _US for t in deal.stage_times]
        values += [value] * n
    return pd.DataFrame(
        {
            "deal_id": pd.array(deal_ids, dtype="str"),
            "seq": np.array(seqs, dtype=np.int32),
            "stage": pd.Categorical(stages, categories=list(KEYS)),
            "at": pd.to_datetime(np.array(stamps, dtype=np.int64), unit="us", utc=True),
            "value": np.array(values),
        }
    )


def _wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, clamped to [0, 1], exact at k = 0 and k = n (as salesflow's)."""
    z2 = Z95 * Z95
    with np.errstate(divide="ignore", invalid="ignore"):  # n = 0 has no interval
        p = k / n
        denominator = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denominator
        half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def _kaplan_meier(code: np.ndarray, duration: np.ndarray, ended: np.ndarray) -> dict[int, Duration]:
    """Per stage code: Kaplan-Meier median and restricted mean of the spells."""
    spells = pd.DataFrame({"stage": code, "duration": duration, "ended": ended})
    counts = spells.groupby(["stage", "duration"], sort=True)["ended"].agg(["sum", "size"])
    d = counts["sum"].to_numpy(dtype=np.float64)
    size = counts["size"].to_numpy()
    stage = counts.index.get_level_values("stage").to_numpy()
    time = counts.index.get_level_values("duration").to_numpy(dtype=np.float64)
    by_stage = pd.Series(size).groupby(stage)
    # At risk just before each time: the stage's spells minus those that ended or were censored earlier.
    at_risk = (by_stage.transform("sum") - by_stage.cumsum() + size).to_numpy(dtype=np.float64)
    survival = pd.Series((at_risk - d) / at_risk).groupby(stage).cumprod().to_numpy()
    first = np.r_[True, stage[1:] != stage[:-1]]
    previous_s = np.where(first, 1.0, np.r_[1.0, survival[:-1]])
    previous_t = np.where(first, 0.0, np.r_[0.0, time[:-1]])
    area = pd.Series(previous_s * (time - previous_t)).groupby(stage).sum()
    below = survival <= 0.5 + 1e-12
    median = pd.Series(time[below]).groupby(stage[below]).first()
    totals = spells.groupby("stage")["ended"].agg(["size", "sum"])
    return {
        int(s): Duration(
            int(totals.at[s, "size"]),
            int(totals.at[s, "size"] - totals.at[s, "sum"]),
            float(median[s]) if s in median.index else None,
            float(area[s]),
        )
        for s in totals.index
    }


def numbers(events: pd.DataFrame) -> ReportNumbers:
    """Every number of the standard report, from the event log."""
    deal, _ = pd.factorize(events["deal_id"])
    code = events["stage"].cat.codes.to_numpy()
    rank = RANK_BY_CODE[code]
    at = events["at"].to_numpy(dtype="datetime64[us]").view(np.int64)
    frame = pd.DataFrame({"deal": deal, "rank": rank, "at": at})
    by_deal = frame.groupby("deal", sort=False)

    # Per deal (indexed by deal code): final stage, highest rank, creation, last change, value.
    is_last = (by_deal.cumcount(ascending=False) == 0).to_numpy()
    last = np.empty(int(deal.max()) + 1 if len(deal) else 0, dtype=np.int64)
    last[deal[is_last]] = np.flatnonzero(is_last)
    final_rank = rank[last]
    final_code = code[last]
    top = by_deal["rank"].max().to_numpy()
    created = by_deal["at"].min().to_numpy()
    closed = at[last]
    value = events["value"].to_numpy()[last]
    final_rank_of_row = final_rank[deal]

    # Funnel (reached): after the first entry of k, did the deal reach a higher rank?
    # The highest rank from each event to the deal's end, then from the next event on.
    suffix = frame.iloc[::-1].groupby("deal", sort=False)["rank"].cummax().to_numpy()[::-1]
    best_after = pd.Series(suffix).groupby(deal).shift(-1, fill_value=-1).to_numpy()
    first = ~pd.Series(deal.astype(np.int64) * 16 + code).duplicated().to_numpy()
    counted = first & (rank >= 0)
    is_open = (rank >= 0) & (rank <= _LAST_OPEN)
    steps = counted & is_open
    advanced = steps & (best_after > rank)
    rest = steps & ~advanced
    n_codes = len(KEYS)
    entered_n = np.bincount(code[counted], minlength=n_codes)
    advanced_n = np.bincount(code[advanced], minlength=n_codes)
    lost_n = np.bincount(code[rest & (final_rank_of_row < 0)], minlength=n_codes)
    open_final = (final_rank_of_row >= 0) & (final_rank_of_row <= _LAST_OPEN)
    still_open_n = np.bincount(code[rest & open_final], minlength=n_codes)
    reached_n = {k: int((top >= RANK[k]).sum()) for k in OPEN_KEYS}
    reached_n |= {k: int(entered_n[KEYS.index(k)]) for k in WON_KEYS}
    low, high = _wilson(advanced_n.astype(np.float64), entered_n.astype(np.float64))
    funnel = {
        key: FunnelCounts(
            int(entered_n[c]),
            int(advanced_n[c]),
            int(lost_n[c]),
            int(still_open_n[c]),
            reached_n[key],
            (float(low[c]), float(high[c])) if key in OPEN_KEYS and entered_n[c] else None,
        )
        for key in FUNNEL_KEYS
        for c in [KEYS.index(key)]
    }

    # Time in stage: spells in open stages, open ones censored at the latest event.
    next_at = by_deal["at"].shift(-1, fill_value=-1).to_numpy()
    ended = next_at >= 0
    duration = np.where(ended, next_at, at.max()) - at
    km = _kaplan_meier(code[is_open], duration[is_open], ended[is_open])
    empty = Duration(0, 0, None, None)
    time_in_stage = {key: km.get(KEYS.index(key), empty) for key in OPEN_KEYS}

    # Win rate, deal size, cycle, velocity, open and weighted pipeline.
    won = final_rank == _WON_RANK
    lost = final_rank < 0
    still_open = ~won & ~lost
    n_won, n_lost, n_open = int(won.sum()), int(lost.sum()), int(still_open.sum())
    win_low, win_high = _wilson(np.float64(n_won), np.float64(n_won + n_lost))
    won_cents = np.rint(value[won] * 100).astype(np.int64)
    average = cents(Decimal(int(won_cents.sum())) / n_won / 100) if n_won else None
    open_cents = int(np.rint(value[still_open] * 100).astype(np.int64).sum())
    weighted = float((value[still_open] * PROBABILITY_BY_CODE[final_code[still_open]]).sum())
    cycle_us = (closed - created)[won]
    cycle_mean = float(cycle_us.mean()) if n_won else None
    # salesflow's completed-cycle summary counts the open deals as censored.
    cycle = Duration(n_won, n_open, float(np.median(cycle_us)) if n_won else None, cycle_mean)
    velocity = None
    if average is not None and cycle_mean and n_won + n_lost:
        rate = n_won / (n_won + n_lost)
        velocity = n_open * rate * float(won_cents.sum() / 100 / n_won) / (cycle_mean / US_PER_DAY)
    return ReportNumbers(
        deals=len(last),
        funnel=funnel,
        time_in_stage=time_in_stage,
        won=n_won,
        lost=n_lost,
        win_interval=(float(win_low), float(win_high)) if n_won + n_lost else None,
        opportunities=n_open,
        average_won=average,
        pipeline_value=Decimal(open_cents) / 100,
        weighted_pipeline=Decimal(repr(weighted)),
        cycle=cycle,
        velocity=velocity,
    )
