"""Charts: funnel, time in stage and sales cycle, rendered headless to PNG."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # in the tests only: the library never touches the backend
plt = pytest.importorskip("matplotlib.pyplot")
Axes = pytest.importorskip("matplotlib.axes").Axes

import salesflow as sf  # noqa: E402
from salesflow import metrics as m  # noqa: E402
from salesflow import plot  # noqa: E402
from salesflow.datasets import synthetic  # noqa: E402

Day = Callable[..., datetime]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
B2B_STEPS = 8  # seven open stages and Closed won
B2B_OPEN = 7


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Close every figure a test opened, so that pyplot does not keep them."""
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def deals() -> list[sf.Deal]:
    """A generated B2B sample with won, lost and open deals."""
    return synthetic(400, seed=11)


def render(ax: Axes, path: Path) -> bytes:
    """Save the Axes' figure as PNG and return the file's bytes."""
    ax.figure.savefig(path)
    return path.read_bytes()


def texts(ax: Axes) -> list[str]:
    """Every text drawn in the Axes (labels on bars and annotations)."""
    return [t.get_text() for t in ax.texts]


class TestFunnel:
    def test_renders_png(self, deals: list[sf.Deal], tmp_path: Path) -> None:
        """The funnel saves as a PNG file."""
        ax = plot.funnel(deals)
        data = render(ax, tmp_path / "funnel.png")
        assert data[:8] == PNG_MAGIC
        assert len(data) > 1000

    def test_one_bar_per_step(self, deals: list[sf.Deal]) -> None:
        """There is one bar per funnel step, labelled with the stage names top to bottom."""
        ax = plot.funnel(deals)
        assert isinstance(ax, Axes)
        assert len(ax.patches) == B2B_STEPS
        names = [label.get_text() for label in ax.get_yticklabels()]
        assert names[0] == "Prospecting"
        assert names[-1] == "Closed won"

    def test_bars_start_at_zero_and_are_sized_by_reach(
        self, sales: sf.Pipeline, utc_day: Day
    ) -> None:
        """Bar lengths are the deals that reached each step; every bar starts at zero."""
        won = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(2)).win(at=utc_day(3))
        lost = sales.open_deal("b", at=utc_day(1)).advance(at=utc_day(2)).lose(at=utc_day(3))
        ax = plot.funnel([won, lost, sales.open_deal("c", at=utc_day(1))])
        widths = [bar.get_width() for bar in ax.patches]
        assert widths == [3, 2, 1, 1]  # the deal won from Demo counts as past Proposal
        assert {bar.get_x() for bar in ax.patches} == {0.0}

    def test_labels(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Bars carry the count and share of all; arrows the ratio of the bars, with its interval."""
        won = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(2)).win(at=utc_day(3))
        lost = sales.open_deal("b", at=utc_day(1)).advance(at=utc_day(2)).lose(at=utc_day(3))
        labels = texts(plot.funnel([won, lost, sales.open_deal("c", at=utc_day(1))]))
        assert "3 deals · 100%" in labels
        assert "2 deals · 67%" in labels
        assert "1 deal · 33%" in labels
        # Wilson 95% for 2/3 is 20.8%-93.9% and for 1/2 9.5%-90.5% (REFERENCE.md's formula).
        assert "↓ 67% went on  (21%–94%)" in labels  # Lead: 2 of the 3 reached Demo or later
        assert "↓ 50% went on  (9%–91%)" in labels  # Demo: 1 of 2 reached Proposal or later
        assert "↓ 100% went on  (21%–100%)" in labels  # Proposal: the win from Demo is past it
        # Proposal was skipped by the win: its own step conversion is unknown, not 0%.
        (note,) = [t for t in labels if t.startswith("Bars and arrows")]
        assert "1 of the 1 that reached Proposal or later were never recorded in it" in note

    def test_accepts_a_funnel_and_a_report(self, deals: list[sf.Deal]) -> None:
        """A Funnel or a Report draws the same bars as the deals."""
        expected = [bar.get_width() for bar in plot.funnel(deals).patches]
        for data in (m.funnel(deals), sf.report(deals)):
            ax = plot.funnel(data)
            assert [bar.get_width() for bar in ax.patches] == expected

    def test_reuses_the_given_axes(self, deals: list[sf.Deal]) -> None:
        """An ax= passed in is drawn on and returned; no figure is created."""
        _, (left, right) = plt.subplots(1, 2)
        before = plt.get_fignums()
        assert plot.funnel(deals, ax=right) is right
        assert plt.get_fignums() == before
        assert len(right.patches) == B2B_STEPS
        assert len(left.patches) == 0

    def test_mode_conflict(self, deals: list[sf.Deal]) -> None:
        """Asking a reached-mode funnel for direct mode is refused."""
        with pytest.raises(ValueError, match="mode"):
            plot.funnel(m.funnel(deals), mode="direct")

    def test_direct_mode_from_deals(self, deals: list[sf.Deal]) -> None:
        """mode= computes the funnel in that mode, named in the title."""
        ax = plot.funnel(deals, mode="direct")
        assert "direct" in ax.get_title(loc="left")

    def test_leaves_global_state_alone(self, deals: list[sf.Deal]) -> None:
        """Drawing changes neither the backend nor any rcParam."""
        before = dict(matplotlib.rcParams)
        backend = matplotlib.get_backend()
        plot.funnel(deals)
        plot.time_in_stage(deals)
        plot.cycle(deals)
        assert matplotlib.get_backend() == backend
        assert dict(matplotlib.rcParams) == before


class TestTimeInStage:
    def test_renders_png(self, deals: list[sf.Deal], tmp_path: Path) -> None:
        """The curves save as a PNG file."""
        data = render(plot.time_in_stage(deals), tmp_path / "stages.png")
        assert data[:8] == PNG_MAGIC

    def test_one_curve_per_stage(self, deals: list[sf.Deal]) -> None:
        """Each open stage is one step line, named in the legend, from (0, 1) to its curve's end."""
        ax = plot.time_in_stage(deals)
        assert isinstance(ax, Axes)
        lines = ax.get_lines()
        assert len(lines) == B2B_OPEN
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_texts()[0].get_text().startswith("Prospecting (n=")
        x, y = lines[0].get_data()
        assert (x[0], y[0]) == (0.0, 1.0)
        assert all(a >= b for a, b in itertools.pairwise(y))

    def test_from_the_summaries(self, deals: list[sf.Deal]) -> None:
        """The dict of metrics.time_in_stage(method='km') draws the same curves, labelled by key."""
        summaries = m.time_in_stage(deals, method="km")
        ax = plot.time_in_stage(summaries)
        assert len(ax.get_lines()) == B2B_OPEN
        curve = summaries["Prospecting"].km
        assert curve is not None
        x, y = ax.get_lines()[0].get_data()
        assert list(y[1:]) == list(curve.survival_values)
        assert x[1] == curve.times[0] / 86_400_000_000

    def test_days_on_the_x_axis(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """Spells of 2 and 4 days put the curve's steps at x = 2 and 4."""
        a = sales.open_deal("a", at=utc_day(1)).advance(at=utc_day(3))
        b = sales.open_deal("b", at=utc_day(1)).advance(at=utc_day(5))
        ax = plot.time_in_stage([a, b], stages=["Lead"])
        (line,) = ax.get_lines()
        x, y = line.get_data()
        assert list(x) == [0.0, 2.0, 4.0]
        assert list(y) == [1.0, 0.5, 0.0]

    def test_chosen_stages(self, deals: list[sf.Deal]) -> None:
        """stages= picks the curves, in that order."""
        ax = plot.time_in_stage(deals, stages=["Proposal", "Prospecting"])
        legend = ax.get_legend()
        assert legend is not None
        names = [t.get_text().split(" (")[0] for t in legend.get_texts()]
        assert names == ["Proposal", "Prospecting"]

    def test_unknown_stage(self, deals: list[sf.Deal]) -> None:
        """A stage without a curve (a won stage) is refused with the known stages."""
        with pytest.raises(ValueError, match="Closed won"):
            plot.time_in_stage(deals, stages=["Closed won"])

    def test_needs_kaplan_meier(self, deals: list[sf.Deal]) -> None:
        """Summaries that are not Kaplan-Meier ones are refused."""
        summaries = m.time_in_stage(deals, method="completed")
        with pytest.raises(ValueError, match="method='km'"):
            plot.time_in_stage(summaries)

    def test_reuses_the_given_axes(self, deals: list[sf.Deal]) -> None:
        """An ax= passed in is drawn on and returned."""
        _, ax = plt.subplots()
        assert plot.time_in_stage(deals, ax=ax) is ax


class TestCycle:
    def test_renders_png(self, deals: list[sf.Deal], tmp_path: Path) -> None:
        """The histogram saves as a PNG file."""
        data = render(plot.cycle(deals), tmp_path / "cycle.png")
        assert data[:8] == PNG_MAGIC

    def test_bars_count_the_won_deals(self, deals: list[sf.Deal]) -> None:
        """The bars add up to the won deals, in the number of bins asked for."""
        won = sum(d.is_won for d in deals)
        ax = plot.cycle(deals, bins=12)
        assert isinstance(ax, Axes)
        assert len(ax.patches) == 12
        assert sum(bar.get_height() for bar in ax.patches) == won

    def test_days_and_median(self) -> None:
        """Cycles of 1, 2 and 6 days fill the bins by day; the median line is at 2 days."""
        summary = m.DurationSummary.from_durations([timedelta(days=d) for d in (1, 2, 6)])
        ax = plot.cycle(summary, bins=[0, 3, 6.5])
        assert [bar.get_height() for bar in ax.patches] == [2, 1]
        medians = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert [line.get_xdata()[0] for line in medians] == [2.0]

    def test_accepts_a_report(self, deals: list[sf.Deal]) -> None:
        """A report draws its sales cycle."""
        ax = plot.cycle(sf.report(deals), bins=10)
        assert sum(bar.get_height() for bar in ax.patches) == sum(d.is_won for d in deals)

    def test_nothing_to_draw(self, sales: sf.Pipeline, utc_day: Day) -> None:
        """No closed deal gives empty axes that say so."""
        ax = plot.cycle([sales.open_deal("a", at=utc_day(1))])
        assert len(ax.patches) == 0
        assert any("nothing to draw" in t for t in texts(ax))

    def test_reuses_the_given_axes(self, deals: list[sf.Deal]) -> None:
        """An ax= passed in is drawn on and returned."""
        _, ax = plt.subplots()
        assert plot.cycle(deals, ax=ax) is ax


class TestWithoutMatplotlib:
    @pytest.mark.parametrize("draw", [plot.funnel, plot.time_in_stage, plot.cycle])
    def test_names_the_extra(
        self, draw: Any, deals: list[sf.Deal], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without matplotlib each function raises an ImportError naming salesflow[plot]."""
        for name in [n for n in sys.modules if n.split(".")[0] == "matplotlib"]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        with pytest.raises(ImportError, match=r"salesflow\[plot\]") as info:
            draw(deals)
        assert isinstance(info.value, sf.SalesflowError)


class TestForecast:
    def test_histogram_interval_and_lines(self, tmp_path: Path) -> None:
        """The bars count every simulation; the band spans the 80 % interval."""
        deals = synthetic(300, seed=1, touchpoints=False)
        cut = datetime(2025, 9, 1, tzinfo=UTC)
        result = m.forecast(deals, cut, cut + timedelta(days=60), as_of=cut, n=300)
        ax = plot.forecast(result, bins=12)
        assert sum(p.get_height() for p in ax.patches[:12]) == 300
        interval = result.interval(0.8)
        assert interval is not None
        band = ax.patches[12]
        left, width = band.get_x(), band.get_width()  # type: ignore[attr-defined]
        assert left == pytest.approx(float(interval[0].amount))
        assert left + width == pytest.approx(float(interval[1].amount))
        ax.figure.savefig(tmp_path / "forecast.png")
        assert (tmp_path / "forecast.png").read_bytes().startswith(PNG_MAGIC)


class TestBacktest:
    def test_a_band_per_level_and_a_dot_per_cutoff(self) -> None:
        """Three bands per cut-off (50/80/95 %) and one actual dot each."""
        deals = synthetic(300, seed=1, touchpoints=False)
        cutoffs = [datetime(2025, month, 1, tzinfo=UTC) for month in (7, 9)]
        result = m.backtest(deals, cutoffs, horizon=timedelta(days=30), n=200)
        ax = plot.backtest(result)
        assert len(ax.patches) == 3 * len(cutoffs)
        (dots,) = [line for line in ax.get_lines() if line.get_label() == "actual"]
        ys = list(dots.get_ydata())
        assert ys == [float(r.actual.amount) for r in result.rows]  # type: ignore[union-attr]
        assert "coverage" in ax.get_title(loc="left")
