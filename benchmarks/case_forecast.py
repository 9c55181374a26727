"""Case: the revenue forecast, 10,000 simulations of the deals open at the end.

``synthetic(config.deals)`` (100,000 deals in the full run) leaves about a
tenth of its deals open at its latest event; ``metrics.forecast`` forecasts
the next 90 days from there. Rows:

* ``forecast (numpy)``: the whole call (fitting the tables on every deal's
  history, then the simulations), 10,000 simulations (500 in a quick run);
* ``forecast (pure Python)``: the same call with ``engine="python"`` and 100
  simulations (its cost grows with simulations x open deals);
* ``forecast fit only``: the same call with ``n=1``, to separate the fit on
  the history from the simulation.

The warm-up checks that both engines give the same forecast for the same
seed at 100 simulations. Items are simulated deals (simulations x open deals).
"""

from __future__ import annotations

from datetime import timedelta

from _config import Config, generated, log
from _harness import Row, measure

from salesflow import metrics as m

NAME = "forecast"


def run(config: Config) -> list[Row]:
    """Time the forecast of the open deals at the end of the generated period."""
    deals = generated(config.deals)
    as_of = max(d.stage_times[-1] for d in deals)
    end = as_of + timedelta(days=90)
    sims = 500 if config.quick else 10_000
    group = f"{NAME} {config.deals:,}"

    def call(n: int, engine: str) -> m.Forecast:
        return m.forecast(deals, as_of, end, as_of=as_of, n=n, engine=engine)  # type: ignore[arg-type]

    log("forecast: checking that both engines agree at 100 simulations")
    small = call(100, "numpy")
    if call(100, "python") != small:
        msg = "forecast(engine='python') and forecast(engine='numpy') disagree"
        raise AssertionError(msg)
    opened = small.open_deals
    rows = []
    for name, n, engine in (
        ("forecast fit only (n=1)", 1, "numpy"),
        (f"forecast (numpy, {sims:,} simulations)", sims, "numpy"),
        ("forecast (pure Python, 100 simulations)", 100, "python"),
    ):
        log(f"forecast: {name} on {opened:,} open deals")
        seconds = measure(lambda _, n=n, engine=engine: call(n, engine), repeat=config.repeat)
        rows.append(
            Row(
                NAME,
                name,
                config.deals,
                n * opened,
                "simulated deal",
                group,
                seconds,
                role="info",
                note=f"{opened:,} open deals",
            )
        )
    return rows
