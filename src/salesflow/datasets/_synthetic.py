"""A seeded generator of realistic deals."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from .._checks import aware
from .._deal import Deal, assemble
from .._deal_info import DealInfo, EventMeta
from .._field_change import FieldChange
from .._money import Money
from .._pipeline import Pipeline
from .._touchpoint import Touchpoint
from ..templates import b2b

__all__ = ["synthetic"]

OWNERS = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan")
SOURCES = ("inbound", "outbound", "referral", "partner", "event")
CHANNELS = ("email", "call", "meeting", "demo", "event", "web", "ad")
LOST_REASONS = ("budget", "no decision", "competitor", "timing", "no fit")


def synthetic(
    n_deals: int,
    *,
    pipeline: Pipeline | None = None,
    seed: int = 0,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    days: int = 365,
    currency: str = "USD",
    median_value: Decimal | int = 12_000,
    advance: float | Sequence[float] = (0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55),
    backward: float = 0.04,
    median_days_in_stage: float = 6.0,
    touchpoints: bool = True,
    movement: bool = False,
) -> list[Deal]:
    """Generate *n_deals* deals, the same ones for the same seed.

    Deals are created evenly over *days* from *start*. In each open stage a
    deal waits a lognormal time (median *median_days_in_stage*), then advances
    with the stage's *advance* probability, sometimes moves back one stage
    (*backward*), and is otherwise lost with a reason. A deal whose next move
    would fall after the end of the period stays open there, so the sample has
    the open, censored deals that real data has. Values are lognormal around
    *median_value*; owners, sources and touchpoints are drawn from small lists.

    With *movement*, each deal also gets an expected close date (about two
    median cycles after creation) and, while it is open, a few recorded
    changes (:attr:`Deal.changes`): close dates pushed out (most often) or
    pulled in, and amounts raised or cut. They come from a random stream of
    their own, so the stages, values and touchpoints are those of the same
    seed without *movement*.

    Args:
        n_deals: How many deals.
        pipeline: The pipeline (default :func:`salesflow.templates.b2b`).
        seed: The random seed.
        start: When the period starts (timezone-aware).
        days: Length of the period.
        currency: Currency of the values.
        median_value: Median deal value.
        advance: Probability of advancing from each open stage (one number
            for all, or one per open stage).
        backward: Probability of a backward move (when the pipeline allows it).
        median_days_in_stage: Median time in a stage, in days.
        touchpoints: Whether to add touchpoints.
        movement: Whether to add expected close dates and their changes.

    Returns:
        The deals, ordered by creation.

    Examples:
        >>> from salesflow.datasets import synthetic
        >>> deals = synthetic(100, seed=7)
        >>> len(deals), deals[0].id
        (100, 'D000001')
        >>> synthetic(100, seed=7) == deals
        True
    """
    if isinstance(n_deals, bool) or not isinstance(n_deals, int) or n_deals < 0:
        msg = f"n_deals must be a non-negative int, got {n_deals!r}."
        raise ValueError(msg)
    aware("start", start)
    pipeline = b2b() if pipeline is None else pipeline
    open_keys = [s.key for s in pipeline.open_stages]
    won = pipeline.won_stages[0].key
    lost = pipeline.lost_stages[0].key if pipeline.lost_stages else None
    probs = (
        [float(advance)] * len(open_keys)
        if isinstance(advance, int | float)
        else [float(p) for p in advance]
    )
    if len(probs) != len(open_keys):
        msg = f"advance needs one probability per open stage ({len(open_keys)}), got {len(probs)}."
        raise ValueError(msg)
    rng = random.Random(seed)
    end = start + timedelta(days=days)
    mu = math.log(median_days_in_stage * 86_400)
    value_mu = math.log(float(median_value))
    width = len(str(n_deals))
    deals = []
    step = days * 86_400 / max(n_deals, 1)
    # A stream of its own (seeded by text, which is stable across runs), so
    # that movement=True leaves every other draw of the seed as it was.
    moves = random.Random(f"movement-{seed}")
    for i in range(n_deals):
        created = start + timedelta(seconds=round(i * step + rng.random() * step))
        at = created
        stages = [open_keys[0]]
        times = [created]
        meta: list[EventMeta | None] = [None]
        index = 0
        while True:
            at = at + timedelta(seconds=round(rng.lognormvariate(mu, 0.8)))
            if at > end:
                break
            roll = rng.random()
            if roll < probs[index]:
                index += 1
                stages.append(won if index == len(open_keys) else open_keys[index])
            elif pipeline.allow_backward and index > 0 and roll < probs[index] + backward:
                index -= 1
                stages.append(open_keys[index])
            elif lost is not None:
                stages.append(lost)
                times.append(at)
                meta.append(EventMeta(None, rng.choice(LOST_REASONS), None))
                break
            else:
                continue
            times.append(at)
            meta.append(None)
            if index == len(open_keys):
                break
        value = Money(
            Decimal(round(rng.lognormvariate(value_mu, 0.9), 2)).quantize(Decimal("0.01")), currency
        )
        touches: tuple[Touchpoint, ...] = ()
        if touchpoints:
            span = max((times[-1] - created).total_seconds(), 1.0)
            touches = tuple(
                sorted(
                    (
                        Touchpoint(
                            created + timedelta(seconds=round(rng.uniform(-7 * 86_400, span))),
                            rng.choice(CHANNELS),
                        )
                        for _ in range(rng.randint(1, 6))
                    ),
                    key=lambda t: t.at,
                )
            )
        owner, source = rng.choice(OWNERS), rng.choice(SOURCES)
        value, close, changes = (
            _movement(
                moves,
                created,
                end if pipeline.table.by_key[stages[-1]].is_open else times[-1],
                value,
                median_days_in_stage,
            )
            if movement
            else (value, None, ())
        )
        info = DealInfo(
            value=value,
            owner=owner,
            source=source,
            touchpoints=touches,
            expected_close=close,
            changes=changes,
        )
        has_meta = any(m is not None for m in meta)
        deal_id = f"D{i + 1:0{max(width, 6)}d}"
        deals.append(
            assemble(
                pipeline,
                deal_id,
                tuple(stages),
                tuple(times),
                tuple(meta) if has_meta else None,
                info,
            )
        )
    return deals


def _movement(
    rng: random.Random, created: datetime, until: datetime, value: Money, median_days: float
) -> tuple[Money, date, tuple[FieldChange, ...]]:
    """A first expected close date and the changes made while the deal was open until *until*.

    Returns the final value, the final expected close date and the changes.
    """
    close = (created + timedelta(days=round(rng.uniform(4, 12) * median_days))).date()
    span = (until - created).total_seconds()
    changes: list[FieldChange] = []
    if span <= 0:
        return value, close, ()
    count = min(rng.choice((0, 0, 1, 1, 2, 3)), 3)
    for offset in sorted(rng.uniform(0, span) for _ in range(count)):
        at = created + timedelta(seconds=round(offset))
        if at >= until:
            continue
        roll = rng.random()
        if roll < 0.55:  # pushed out: the most common change in a CRM
            new_close = max(close, at.date()) + timedelta(days=rng.choice((7, 14, 30, 45, 60)))
            changes.append(FieldChange("expected_close", close, new_close, at))
            close = new_close
        elif roll < 0.7:  # pulled in
            new_close = max(at.date(), close - timedelta(days=rng.choice((7, 14, 21))))
            if new_close != close:
                changes.append(FieldChange("expected_close", close, new_close, at))
                close = new_close
        else:  # the amount is revised
            factor = Decimal(str(round(rng.uniform(0.6, 1.5), 2)))
            new_value = Money((value.amount * factor).quantize(Decimal("0.01")), value.currency)
            if new_value != value:
                changes.append(FieldChange("value", value, new_value, at))
                value = new_value
    return value, close, tuple(changes)
