"""The report written in DuckDB SQL, over an ``events`` table.

:func:`load` copies the pandas event log (see :mod:`report_pandas`) into a
native DuckDB table ``events(deal_id, seq, stage, at, value)`` next to a small
``stages(key, rank, probability)`` table; that copy is timed separately.
:func:`numbers` runs the queries: one pass of window functions over each
deal's events (ordered by ``seq``) materialised as a temporary table, then one
query per metric. DuckDB uses every core it is given.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pandas as pd
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

_LAST_OPEN = max(RANK[k] for k in OPEN_KEYS)
_WON = RANK[WON_KEYS[0]]

# Wilson score interval, clamped to [0, 1] and exact at k = 0 and k = n (as salesflow's).
_MACROS = f"""
CREATE OR REPLACE MACRO wilson_centre(k, n) AS
    (k / n + {Z95}^2 / (2 * n)) / (1 + {Z95}^2 / n);
CREATE OR REPLACE MACRO wilson_half(k, n) AS
    {Z95} * sqrt((k / n) * (1 - k / n) / n + {Z95}^2 / (4 * n * n)) / (1 + {Z95}^2 / n);
CREATE OR REPLACE MACRO wilson_low(k, n) AS
    CASE WHEN n = 0 THEN NULL WHEN k = 0 THEN 0.0 ELSE greatest(0.0, wilson_centre(k, n) - wilson_half(k, n)) END;
CREATE OR REPLACE MACRO wilson_high(k, n) AS
    CASE WHEN n = 0 THEN NULL WHEN k = n THEN 1.0 ELSE least(1.0, wilson_centre(k, n) + wilson_half(k, n)) END;
"""

# One row per event, with what the metrics need from the rest of its deal.
_EVENTS = """
CREATE OR REPLACE TEMP TABLE w AS
SELECT
    e.deal_id, e.seq, e.stage, s.rank, s.probability, e.value,
    epoch_us(e."at") AS at_us,
    coalesce(max(s.rank) OVER later, -1) AS best_after,
    lead(epoch_us(e."at")) OVER ordered AS next_us,
    last_value(s.rank) OVER whole AS final_rank,
    max(s.rank) OVER whole AS top,
    first_value(epoch_us(e."at")) OVER whole AS created_us
FROM events e JOIN stages s ON s.key = e.stage
WINDOW
    ordered AS (PARTITION BY e.deal_id ORDER BY e.seq),
    later AS (ordered ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
    whole AS (ordered ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
"""

# Funnel, reached mode: the first entry of each stage per deal.
_FUNNEL = f"""
WITH firsts AS (
    SELECT stage, any_value(rank) AS rank, any_value(final_rank) AS final_rank,
           arg_min(best_after, seq) AS best_after
    FROM w WHERE rank >= 0
    GROUP BY deal_id, stage
), counts AS (
    SELECT stage,
        count(*) AS entered,
        count(*) FILTER (rank <= {_LAST_OPEN} AND best_after > rank) AS advanced,
        count(*) FILTER (rank <= {_LAST_OPEN} AND best_after <= rank AND final_rank < 0) AS lost,
        count(*) FILTER (
            rank <= {_LAST_OPEN} AND best_after <= rank AND final_rank BETWEEN 0 AND {_LAST_OPEN}
        ) AS still_open
    FROM firsts GROUP BY stage
)
SELECT s.key, coalesce(c.entered, 0), coalesce(c.advanced, 0), coalesce(c.lost, 0),
    coalesce(c.still_open, 0),
    CASE WHEN s.rank = {_WON} THEN coalesce(c.entered, 0)
         ELSE (SELECT count(*) FROM w WHERE next_us IS NULL AND top >= s.rank) END AS reached,
    wilson_low(c.advanced, c.entered), wilson_high(c.advanced, c.entered)
FROM stages s LEFT JOIN counts c ON c.stage = s.key
WHERE s.rank >= 0
"""

# Kaplan-Meier per open stage; open spells are censored at the latest event.
_TIME_IN_STAGE = f"""
WITH spells AS (
    SELECT stage, coalesce(next_us, (SELECT max(at_us) FROM w)) - at_us AS duration,
           next_us IS NOT NULL AS ended
    FROM w WHERE rank BETWEEN 0 AND {_LAST_OPEN}
), counts AS (
    SELECT stage, duration, count(*) FILTER (ended) AS d, count(*) AS m
    FROM spells GROUP BY stage, duration
), at_risk AS (
    SELECT *, sum(m) OVER (
        PARTITION BY stage ORDER BY duration DESC ROWS UNBOUNDED PRECEDING
    ) AS n
    FROM counts
), curve AS (
    SELECT *, product((n - d) / n) OVER (
        PARTITION BY stage ORDER BY duration ROWS UNBOUNDED PRECEDING
    ) AS survival
    FROM at_risk
), steps AS (
    SELECT *,
        lag(survival, 1, 1.0) OVER (PARTITION BY stage ORDER BY duration) AS before,
        lag(duration, 1, 0) OVER (PARTITION BY stage ORDER BY duration) AS since
    FROM curve
)
SELECT stage, sum(m), sum(m) - sum(d),
    min(duration) FILTER (survival <= 0.5 + 1e-12),
    sum(before * (duration - since))
FROM steps GROUP BY stage
"""

# Per deal (its last event): outcome, value, cycle; then the headline numbers.
_HEADLINES = f"""
WITH deals AS (SELECT * FROM w WHERE next_us IS NULL)
SELECT
    count(*) AS deals,
    count(*) FILTER (final_rank = {_WON}) AS won,
    count(*) FILTER (final_rank < 0) AS lost,
    count(*) FILTER (final_rank BETWEEN 0 AND {_LAST_OPEN}) AS open,
    sum(round(value * 100)::BIGINT) FILTER (final_rank = {_WON}) AS won_cents,
    sum(round(value * 100)::BIGINT) FILTER (final_rank BETWEEN 0 AND {_LAST_OPEN}) AS open_cents,
    sum(value * probability) FILTER (final_rank BETWEEN 0 AND {_LAST_OPEN}) AS weighted,
    avg(at_us - created_us) FILTER (final_rank = {_WON}) AS cycle_mean,
    median(at_us - created_us) FILTER (final_rank = {_WON}) AS cycle_median,
    wilson_low(won, won + lost), wilson_high(won, won + lost)
FROM deals
"""


def load(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the event log as a native ``events`` table."""
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(
        "CREATE TABLE events AS "
        'SELECT deal_id, seq, stage::VARCHAR AS stage, "at", value FROM frame'
    )
    con.unregister("frame")
    stages = pd.DataFrame(
        {
            "key": list(RANK),
            "rank": list(RANK.values()),
            "probability": [float(PROBABILITY.get(k, "nan")) for k in RANK],
        }
    )
    con.register("stage_frame", stages)
    con.execute("CREATE TABLE stages AS SELECT * FROM stage_frame")
    con.unregister("stage_frame")
    con.execute(_MACROS)
    return con


def _interval(low: float | None, high: float | None) -> tuple[float, float] | None:
    return None if low is None or high is None else (float(low), float(high))


def numbers(con: duckdb.DuckDBPyConnection) -> ReportNumbers:
    """Every number of the standard report, by SQL over ``events``."""
    con.execute(_EVENTS)
    funnel_rows = {row[0]: row[1:] for row in con.execute(_FUNNEL).fetchall()}
    funnel = {
        key: FunnelCounts(
            *(int(x) for x in funnel_rows[key][:5]),
            interval=_interval(*funnel_rows[key][5:]) if key in OPEN_KEYS else None,
        )
        for key in FUNNEL_KEYS
    }
    km = {
        stage: Duration(int(n), int(censored), None if median is None else float(median), mean)
        for stage, n, censored, median, mean in con.execute(_TIME_IN_STAGE).fetchall()
    }
    empty = Duration(0, 0, None, None)
    (
        deals,
        won,
        lost,
        still_open,
        won_cents,
        open_cents,
        weighted,
        cycle_mean,
        cycle_median,
        win_low,
        win_high,
    ) = con.execute(_HEADLINES).fetchone()  # type: ignore[misc]
    con.execute("DROP TABLE w")
    average = cents(Decimal(won_cents) / won / 100) if won else None
    velocity = None
    if won and cycle_mean:
        rate = won / (won + lost)
        velocity = still_open * rate * (won_cents / 100 / won) / (cycle_mean / US_PER_DAY)
    return ReportNumbers(
        deals=deals,
        funnel=funnel,
        time_in_stage={key: km.get(key, empty) for key in OPEN_KEYS},
        won=won,
        lost=lost,
        win_interval=_interval(win_low, win_high) if won + lost else None,
        opportunities=still_open,
        average_won=average,
        pipeline_value=Decimal(open_cents or 0) / 100,
        weighted_pipeline=Decimal(repr(weighted or 0.0)),
        cycle=Duration(won, still_open, cycle_median, cycle_mean),
        velocity=velocity,
    )
