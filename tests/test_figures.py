"""Figures a teacher can project: nothing cut, text large enough, the same numbers everywhere.

Each check reads the matplotlib objects of a figure as drawn at its default
size (every text artist's size and its extent on the canvas) or the PNG file
written by :func:`model.plotting.save_figure`.
"""

from __future__ import annotations

import pytest

import model
from model.plotting import (
    key_events,
    plot_differences,
    plot_fans,
    plot_fit,
    plot_series,
    plot_trajectories,
    save_figure,
    use_agg,
)
from model.plotting.style import DPI, MIN_FONT

from .conftest import SCENARIOS

use_agg()


def _texts(fig) -> list:
    """Every visible, non-empty text of ``fig``, after drawing it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)  # a plain Figure (the page's charts)
    fig.canvas.draw()
    hidden = _ticks_not_drawn(fig)
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and _shown(t) and id(t) not in hidden
    ]


def _ticks_not_drawn(fig) -> set[int]:
    """Tick labels matplotlib keeps beyond the axis limits but does not draw."""
    from matplotlib.axes import Axes

    out = set()
    for ax in fig.findobj(Axes):  # those of subfigures too
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not lo - eps <= loc <= hi + eps:
                    out |= {id(tick.label1), id(tick.label2)}
    return out


def _shown(text) -> bool:
    """False for the texts of hidden axes (matplotlib keeps them, invisible by their parent)."""
    ax = text.axes
    return ax is None or ax.get_visible()


def _small(fig) -> list[tuple[str, float]]:
    return [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < MIN_FONT]


def _cut(fig) -> list[str]:
    """Texts that reach beyond the canvas (cut when shown at the figure's size) or are
    shortened with an ellipsis."""
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = []
    for t in _texts(fig):
        e = t.get_window_extent(renderer)
        outside = e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1
        if outside or "…" in t.get_text():
            out.append(t.get_text())
    return out


def _numbers(fig) -> set[tuple[str, float]]:
    """The numbered event markers: (number, date)."""
    from matplotlib.text import Annotation

    return {(a.get_text(), str(a.xy[0])[:10]) for a in fig.findobj(Annotation)}


@pytest.fixture(scope="module")
def run_figures(baseline_run):
    import matplotlib.pyplot as plt

    figs = {"trajectories": plot_trajectories(baseline_run), "fans": plot_fans(baseline_run)}
    yield figs
    for fig in figs.values():
        plt.close(fig)


def test_trajectories_and_fans_number_the_same_events_the_same_way(run_figures, baseline_run):
    traj, fans = _numbers(run_figures["trajectories"]), _numbers(run_figures["fans"])
    keys = key_events(baseline_run)
    assert len({n for n, _ in traj}) == len(keys) == 10
    assert traj == fans  # each number at the same date in both figures
    su24 = keys.index[keys["event"] == "su24-downing-2015"][0] + 1
    assert any(n == str(su24) for n, _ in traj)


@pytest.mark.parametrize("name", ["trajectories", "fans"])
def test_run_figures_show_full_titles_and_readable_text(run_figures, baseline_run, name):
    fig = run_figures[name]
    assert _small(fig) == []
    assert _cut(fig) == []
    shown = " ".join(t.get_text().replace("\n", " ") for t in _texts(fig))
    shown = " ".join(shown.split())
    for title in key_events(baseline_run)["title"]:
        assert title in shown, title  # the full title, wrapped perhaps, never shortened


def test_the_difference_plot_names_the_scenario_compared_with():
    import matplotlib.pyplot as plt

    from model.compare import compare

    scenarios = [
        model.load_scenario(SCENARIOS / f) for f in ("baseline.toml", "no-coup-attempt.toml")
    ]
    cmp = compare(scenarios, replicates=6)
    fig = plot_differences(cmp.differences)
    try:
        assert "Difference from baseline" in fig._suptitle.get_text()
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert labels == ["no-coup-attempt − baseline"]
        assert _small(fig) == [] and _cut(fig) == []
    finally:
        plt.close(fig)


def test_saved_figures_are_150_dpi_or_more_whatever_is_asked(tmp_path, baseline_run):
    from PIL import Image

    fig = plot_trajectories(baseline_run)
    width_in = fig.get_figwidth()
    save_figure(fig, tmp_path / "low.png", dpi=50)  # what the notebooks and CLI used to ask
    with Image.open(tmp_path / "low.png") as img:
        assert min(img.info["dpi"]) >= DPI - 0.5
        assert img.width >= 0.9 * width_in * DPI  # bbox_inches="tight" trims a little


@pytest.fixture(scope="module")
def calibration(baseline):
    from model import calibrate as cb

    return cb.calibrate(baseline, "scale.russian-sanctions-2015", max_evaluations=30)


def test_validation_figures_have_readable_text_and_are_saved_at_150_dpi(calibration, tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from model.plotting.validation import MAIN_SERIES

    ens = calibration.ensemble(8, seed=1)
    for name, fig in {
        "fit": plot_fit(calibration, ens, indicators=["trade", "security"]),
        "series": plot_series(calibration, ens, MAIN_SERIES[:4]),
    }.items():
        assert _small(fig) == [], name
        save_figure(fig, tmp_path / f"{name}.png", dpi=110)  # what `relsim calibrate` asks
        with Image.open(tmp_path / f"{name}.png") as img:
            assert min(img.info["dpi"]) >= DPI - 0.5
    plt.close("all")


def test_policy_figures_have_readable_text():
    import matplotlib.pyplot as plt

    from model.compare import compare_policies
    from model.plotting import plot_policy_grid, plot_tradeoff

    cmp = compare_policies(model.load_scenario(SCENARIOS / "stress.toml"), replicates=4, workers=1)
    grid = plot_policy_grid(cmp.results, since="2026-01-01")
    ax = plot_tradeoff(cmp.metrics)
    try:
        assert _small(grid) == [] and _cut(grid) == []
        assert _small(ax.figure) == []
    finally:
        plt.close("all")


def test_the_pages_charts_fit_beside_the_controls_with_readable_text():
    from model.classroom import Settings, compute
    from model.plotting.classroom import WIDTH, fan_figure, history_figure

    s = Settings(off=("su24-downing-2015",), policy="russia_pivot", replicates=20)
    fig, _ = fan_figure(compute(s), compute(s.reference()))
    assert fig.bbox.width == pytest.approx(WIDTH, abs=1) and WIDTH <= 900
    assert _small(fig) == [] and _cut(fig) == []
    for step in (0, 12):
        hist = history_figure(step)
        assert _small(hist) == [] and _cut(hist) == []


def test_the_analyses_write_their_figures_at_150_dpi_too(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from model.explore.points import write_tables

    fig, _ = plt.subplots()
    write_tables(tmp_path / "out", {}, {}, {"sweep.png": fig})
    plt.close(fig)
    with Image.open(tmp_path / "out" / "sweep.png") as img:
        assert min(img.info["dpi"]) >= DPI - 0.5


def test_event_numbers_close_together_are_put_at_different_heights():
    from model.plotting.style import stagger

    # 1 and 4 a few months apart read as "14" at one height
    xs = [2003.2, 2015.9, 2015.91, 2016.5, 2016.55, 2016.6, 2019.5, 2020.1]
    heights = stagger(xs, gap=1.0, rows=5)
    for i, (x, h) in enumerate(zip(xs, heights)):
        for x2, h2 in zip(xs[:i], heights[:i]):
            assert h != h2 or x - x2 >= 1.0, (x, x2)
    assert heights[0] == 0 and max(heights) < 5


def test_the_drivers_figure_has_readable_text():
    import matplotlib.pyplot as plt
    import pandas as pd

    from model.plotting.drivers import plot_drivers

    rows = [
        {
            "driver": d,
            "year": y,
            "source": "observed" if y < 2025 else "scenario",
            "q05": 50.0,
            "q25": 60.0,
            "q50": 70.0,
            "q75": 80.0,
            "q95": 90.0,
        }
        for d in ("oil_price", "price_index")
        for y in range(2020, 2031)
    ]
    fig = plot_drivers(pd.DataFrame(rows))
    try:
        assert _small(fig) == [] and _cut(fig) == []
    finally:
        plt.close(fig)


def test_no_waterfall_bar_is_cut_at_the_top(baseline):
    import matplotlib.pyplot as plt

    from model import explore as ex
    from model.plotting import plot_waterfall

    result = ex.attribute(
        baseline, "2020-06-01", ["s400-affair", "coup-attempt-2016"], replicates=2
    )
    fig = plot_waterfall(result)
    try:
        for ax in fig.axes:
            if not ax.get_visible() or not ax.patches:
                continue
            top = max(p.get_y() + max(p.get_height(), 0) for p in ax.patches)
            assert top < ax.get_ylim()[1], ax.get_title()
        assert _small(fig) == []
    finally:
        plt.close(fig)
