"""The presentation charts: breakdown, trend, pipeline value, and what every chart promises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # in the tests only: the library never touches the backend
plt = pytest.importorskip("matplotlib.pyplot")

import salesflow as sf  # noqa: E402
from salesflow import metrics as m  # noqa: E402
from salesflow import plot  # noqa: E402
from salesflow.datasets import synthetic  # noqa: E402
from salesflow.metrics import KaplanMeier  # noqa: E402

from ._maven import maven_deals  # noqa: E402

Day = Callable[..., datetime]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Close every figure a test opened."""
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def maven() -> list[sf.Deal]:
    """The Maven CRM snapshot (skipped when ../shared/data is absent)."""
    return list(maven_deals())


def texts(ax: Any) -> list[str]:
    """Every text drawn in the Axes."""
    return [t.get_text() for t in ax.texts]


def title(ax: Any) -> str:
    """The chart's title (set on the left)."""
    text: str = ax.get_title(loc="left")
    return text


class TestBreakdown:
    def test_dots_whiskers_and_overall(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Dots sit at each rate, whiskers span its interval, the dashed line is the pooled rate."""
        deals = []
        # ann: 3 won of 4 closed; bob: 1 won of 4 closed; pooled 4 of 8.
        for i, (owner, won) in enumerate([("ann", 3), ("bob", 1)]):
            for j in range(4):
                deal = sales.open_deal(f"{owner}{j}", at=utc_day(1), owner=owner)
                deals.append(deal.win(at=utc_day(2 + i)) if j < won else deal.lose(at=utc_day(2)))
        rates = m.win_rate(deals, by="owner")
        ax = plot.breakdown(rates)
        lines = ax.get_lines()
        dots = [ln for ln in lines if ln.get_marker() == "o"]
        assert [float(d.get_xdata()[0]) for d in dots] == [0.75, 0.25]  # sorted, highest on top
        whiskers = [
            ln
            for ln in lines
            if ln.get_marker() in ("None", None, "")
            and len(ln.get_xdata()) == 2
            and ln.get_linestyle() == "-"
        ]
        assert [tuple(w.get_xdata()) for w in whiskers] == [
            rates["ann"].interval,
            rates["bob"].interval,
        ]
        (overall,) = [ln for ln in lines if ln.get_linestyle() == "--"]
        assert overall.get_xdata()[0] == 0.5
        assert [t.get_text() for t in ax.get_yticklabels()] == ["ann", "bob"]
        assert "75.0%  (3/4)" in texts(ax)
        assert title(ax) == "Win rate by owner"

    def test_sort_and_k(self) -> None:
        """sort="n" puts the most deals on top; k keeps the first k."""
        rates = m.win_rate(synthetic(500, seed=3), by="owner")
        ax = plot.breakdown(rates, sort="n", k=3)
        names = [t.get_text() for t in ax.get_yticklabels()]
        assert names == [str(k) for k in list(rates.sort("n"))[:3]]
        assert "first 3 of" in title(ax)

    def test_refuses_other_breakdowns(self) -> None:
        """A breakdown of durations is not a rate chart."""
        with pytest.raises(TypeError, match="Breakdown of rates"):
            plot.breakdown(m.sales_cycle(synthetic(50, seed=1), by="owner"))  # type: ignore[arg-type]

    def test_maven_png(self, maven: list[sf.Deal], tmp_path: Path) -> None:
        """Win rate by owner on the Maven file: 30 rows, the overall 63.2% (4,238/6,711) line."""
        ax = plot.breakdown(
            m.win_rate(maven, by="owner"), as_of=datetime.fromisoformat("2017-12-31T00:00:00+00:00")
        )
        assert len(ax.get_yticklabels()) == 30
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_texts()[0].get_text() == "overall 63.2% (4,238/6,711)"
        assert title(ax) == "Win rate by owner, as of 2017-12-31"
        ax.figure.savefig(tmp_path / "b.png")
        assert (tmp_path / "b.png").read_bytes()[:8] == PNG_MAGIC


class TestTrend:
    @pytest.fixture
    def months(self, sales: sf.Pipeline, utc_day: Day) -> list[sf.Deal]:
        """January: 2 created, 1 won, 1 lost; March: 1 won worth 30; February: nothing."""
        a = sales.open_deal("a", at=utc_day(2), value=sf.Money(10, "USD")).win(at=utc_day(5))
        b = sales.open_deal("b", at=utc_day(3), value=sf.Money(20, "USD")).lose(at=utc_day(6))
        c = sales.open_deal("c", at=utc_day(3), value=sf.Money(30, "USD")).win(at=utc_day(70))
        return [a, b, c]

    def test_created_bars(self, months: list[sf.Deal]) -> None:
        """Three deals created in January: one bar of 3."""
        ax = plot.trend(months, "created")
        assert [bar.get_height() for bar in ax.patches] == [3]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01"]

    def test_win_rate_has_a_gap_and_a_band(self, months: list[sf.Deal]) -> None:
        """Win rate by month closed: 1/2 in January, none in February (a gap), 1/1 in March."""
        ax = plot.trend(months, "win_rate")
        (line,) = ax.get_lines()
        assert list(line.get_xdata()) == [0, 2]  # February has no closed deal: no point
        assert list(line.get_ydata()) == [0.5, 1.0]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-02", "2026-03"]
        assert len(ax.collections) == 1  # the Wilson band
        assert "as of 2026-03-11" in title(ax)

    def test_value_won_counts_empty_months_as_zero(self, months: list[sf.Deal]) -> None:
        """Value won: 10 in January, 0 in February, 30 in March."""
        ax = plot.trend(months, "value_won")
        assert [bar.get_height() for bar in ax.patches] == [10.0, 0.0, 30.0]
        assert ax.get_ylabel() == "USD"

    def test_won_and_median_cycle(self, months: list[sf.Deal]) -> None:
        """Won per month 1, 0, 1; median cycle 3 days (a) and 67 days (c)."""
        assert [b.get_height() for b in plot.trend(months, "won").patches] == [1, 0, 1]
        (line,) = plot.trend(months, "median_cycle").get_lines()
        assert list(line.get_ydata()) == [3.0, 67.0]

    def test_quarters(self, months: list[sf.Deal]) -> None:
        """every="quarter": all three closed in 2026Q1."""
        ax = plot.trend(months, "won", every="quarter")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2026Q1"]
        assert [b.get_height() for b in ax.patches] == [2]

    def test_bad_options(self, months: list[sf.Deal]) -> None:
        """An unknown metric or period is refused by name."""
        with pytest.raises(ValueError, match="metric must be one of"):
            plot.trend(months, "revenue")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="every must be"):
            plot.trend(months, "won", every="week")  # type: ignore[arg-type]

    def test_maven_png(self, maven: list[sf.Deal], tmp_path: Path) -> None:
        """Maven win rate by month closed: ten months, March to December 2017."""
        ax = plot.trend(maven, "win_rate")
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert (labels[0], labels[-1], len(labels)) == ("2017-03", "2017-12", 10)
        ax.figure.savefig(tmp_path / "t.png")
        assert (tmp_path / "t.png").read_bytes()[:8] == PNG_MAGIC


class TestPipelineValue:
    def test_open_and_weighted_bars(self, b2b: sf.Pipeline, utc_day: Day) -> None:
        """Open value per open stage, and value × the stage's probability beside it."""
        a = b2b.open_deal("a", at=utc_day(1), value=sf.Money(100, "USD"))
        b = b2b.open_deal("b", at=utc_day(1), value=sf.Money(300, "USD"))
        c = b2b.open_deal("c", at=utc_day(1), value=sf.Money(50, "USD")).advance(at=utc_day(2))
        ax = plot.pipeline_value([a, b, c])
        stages = b2b.open_stages
        blue, orange = ax.containers
        opened = [bar.get_width() for bar in blue]
        assert opened[:2] == [400.0, 50.0]
        assert sum(opened) == 450.0
        p0, p1 = (float(s.probability or 0) for s in stages[:2])
        weighted = [bar.get_width() for bar in orange]
        assert weighted[:2] == pytest.approx([400 * p0, 50 * p1])
        names = [t.get_text() for t in ax.get_yticklabels()]
        assert names[:2] == [f"{stages[0].name} (2 open)", f"{stages[1].name} (1 open)"]
        assert title(ax) == "Open pipeline by stage, as of 2026-01-02"

    def test_without_values(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Open deals without a value: the chart says so (and the metric warns)."""
        with pytest.warns(sf.SalesflowWarning, match="without a value"):
            ax = plot.pipeline_value([sales.open_deal("a", at=utc_day(1))])
        assert "no open deal has a value" in texts(ax)


class TestTimeInStage:
    def test_maven_no_invisible_legend_entry(self, maven: list[sf.Deal]) -> None:
        """Prospecting has no ended spell: no curve and no legend entry, a note instead."""
        ax = plot.time_in_stage(maven)
        legend = ax.get_legend()
        assert legend is not None
        labels = [t.get_text() for t in legend.get_texts()]
        assert labels == ["Engaging (n=8,300, median 69.0 d)"]
        for handle in legend.legend_handles:
            assert handle is not None
            assert handle.get_visible()
        (line,) = ax.get_lines()
        assert len(line.get_xdata()) > 2  # a visible step line, not a point
        assert any("Prospecting (500 open, none ended yet)" in t for t in texts(ax))

    def test_maven_axis_stops_at_the_last_ended_spell(self, maven: list[sf.Deal]) -> None:
        """The x axis ends just after the last ended spell, not at the longest open one."""
        summaries = m.time_in_stage(maven, method="km")
        curve = summaries["Engaging"].km
        assert curve is not None
        last = (
            max(t for t, e in zip(curve.times, curve.event_counts, strict=True) if e)
            / 86_400_000_000
        )
        ax = plot.time_in_stage(summaries)
        assert ax.get_xlim()[1] == pytest.approx(last * 1.04)
        assert last * 1.04 < curve.times[-1] / 86_400_000_000

    def test_number_at_risk(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Under the axis, the spells at risk at each tick: 2 at 0 days, fewer after."""
        a = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(3))
        b = sales.open_deal("b", at=utc_day(1)).advance(at=utc_day(5))
        ax = plot.time_in_stage([a, b], stages=["Lead"])
        shown = texts(ax)
        assert "number at risk" in shown
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        # Spells of 2 and 4 days: at risk at t is how many lasted at least t.
        expected = [str(sum(1 for d in (2, 4) if d >= t)) for t in ticks]
        row = [t for t in shown if t.isdigit()]
        assert row == expected

    def test_bands_when_the_curve_has_intervals(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """With KaplanMeier.survival_interval (the statistics issue), each curve gets a band."""
        if not hasattr(KaplanMeier, "survival_interval"):
            pytest.skip(
                "KaplanMeier.survival_interval does not exist yet (the statistics issue adds it)"
            )
        deals = [
            sales.open_deal(str(i), at=utc_day(1)).advance(at=utc_day(2 + i)) for i in range(5)
        ]
        ax = plot.time_in_stage(deals, stages=["Lead"])
        assert len(ax.collections) == 1


class TestCycleAndFunnelOnMaven:
    def test_cycle_title_and_legend(self, maven: list[sf.Deal]) -> None:
        """The cycle chart names won deals and says how many open deals are not in the bars."""
        ax = plot.cycle(maven)
        assert title(ax) == "Sales cycle of won deals: days from creation to win, as of 2017-12-31"
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_title().get_text() == "2,089 deals still open are not in the bars"
        assert legend.get_texts()[0].get_text() == "won deals: 4,238"

    def test_funnel_never_says_zero(self, maven: list[sf.Deal], tmp_path: Path) -> None:
        """Maven funnel: 8,800 → 8,300 is 94% went on, never 0%, with a note on the snapshot."""
        ax = plot.funnel(maven, split=True)
        shown = texts(ax)
        arrows = [t for t in shown if t.startswith("↓")]
        assert arrows[0].startswith("↓ 94% went on")  # 8,300 / 8,800
        assert arrows[1].startswith("↓ 51% went on")  # 4,238 / 8,300
        assert any("8,300 of the 8,800 that reached Prospecting" in t for t in shown)
        assert title(ax) == "Pipeline funnel, as of 2017-12-31"
        # Split bars add up to the deals that reached each step.
        lengths: dict[float, float] = {}
        for bar in ax.patches:
            y = round(bar.get_y() + bar.get_height() / 2)
            lengths[y] = lengths.get(y, 0.0) + bar.get_width()
        assert [lengths[0], lengths[1], lengths[2]] == [8800, 8300, 4238]
        width, height = ax.figure.get_size_inches()
        assert (width, height) == (10.0, 5.625)  # a 16:9 slide
        ax.figure.savefig(tmp_path / "f.png")
        assert (tmp_path / "f.png").read_bytes()[:8] == PNG_MAGIC


def test_bands_follow_survival_interval(
    sales: sf.Pipeline, utc_day: Day, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The band is drawn from survival_interval(t) at each time of the curve (a stand-in method)."""

    def interval(self: KaplanMeier[Any], t: Any) -> tuple[float, float] | None:
        s = self.survival(t)
        return None if s is None else (max(0.0, s - 0.1), min(1.0, s + 0.1))

    monkeypatch.setattr(KaplanMeier, "survival_interval", interval, raising=False)
    deals = [sales.open_deal(str(i), at=utc_day(1)).advance(at=utc_day(2 + i)) for i in range(4)]
    ax = plot.time_in_stage(deals, stages=["Lead"])
    (band,) = ax.collections
    # Survival after 1, 2, 3 and 4 days: 3/4, 1/2, 1/4, 0; the band is 0.1 either side.
    ys = sorted({round(float(y), 6) for _, y in band.get_paths()[0].vertices})
    for s in (0.75, 0.5, 0.25):
        assert round(s - 0.1, 6) in ys
        assert round(s + 0.1, 6) in ys


def test_cli_png_draws_the_same_funnel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """salesflow demo --png draws plot.funnel of the report, titled with its cut-off."""
    from salesflow._cli import main

    drawn: list[Any] = []
    original = plot.funnel

    def spy(data: Any, **options: Any) -> Any:
        ax = original(data, **options)
        drawn.append((data, ax.get_title(loc="left")))
        return ax

    monkeypatch.setattr(plot, "funnel", spy)
    target = tmp_path / "funnel.png"
    assert main(["demo", "--deals", "60", "--png", str(target)]) == 0
    assert target.read_bytes()[:8] == PNG_MAGIC
    ((data, heading),) = drawn
    assert isinstance(data, sf.Report)
    assert data.as_of is not None
    assert heading == f"Pipeline funnel, as of {data.as_of.date().isoformat()}"
