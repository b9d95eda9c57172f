"""Static matplotlib figures. Figures are built without pyplot, so none is left open."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from pandas.tseries.frequencies import to_offset

from ..train.events import best_by
from ..forecast.rollout import infer_freq

# The name of one step of a regular DatetimeIndex, by the pandas offset that makes it
UNITS = {"Milli": "millisecond", "Second": "second", "Minute": "minute", "Hour": "hour", "Day": "day",
         "BusinessDay": "business day", "Week": "week", "MonthBegin": "month", "MonthEnd": "month",
         "QuarterBegin": "quarter", "QuarterEnd": "quarter", "YearBegin": "year", "YearEnd": "year"}
# Tick labels by the locator's level (years, months, days, hours, minutes, seconds): month
# and day on a span of days, the date at midnight on a span of hours, and no offset text in
# the corner, which read as the date of every tick ("2025-Jan" under December's days).
DATE_FORMATS = ["%Y", "%b", "%d %b", "%H:%M", "%H:%M", "%S.%f"]
DATE_ZERO_FORMATS = ["", "%b %Y", "%d %b", "%d %b", "%H:%M", "%H:%M"]


def time_step(index) -> tuple[int, str] | None:
    """One step of ``index`` as (multiple, unit): (1, "hour"), (10, "minute"); None when the
    index is not a DatetimeIndex with a regular step that has a name."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    freq = index.freq or infer_freq(index)
    if freq is None:
        return None
    offset = to_offset(freq)
    unit = UNITS.get(type(offset).__name__)
    return None if unit is None else (offset.n, unit)


def span_text(steps: int, index) -> str:
    """``steps`` rows of ``index`` in its units: "72 hours", "72 steps of 10 minutes", "72 steps"."""
    step = time_step(index)
    if step is None:
        return f"{steps} step{'s' if steps != 1 else ''}"
    multiple, unit = step
    if multiple == 1:
        return f"{steps} {unit}{'s' if steps != 1 else ''}"
    return f"{steps} steps of {multiple} {unit}s"


def lead_text(index) -> str:
    """The lead-time axis label for a series indexed by ``index``: "lead (hours ahead)"."""
    step = time_step(index)
    if step is None:
        return "lead (steps ahead)"
    multiple, unit = step
    return f"lead ({unit}s ahead)" if multiple == 1 else f"lead (steps of {multiple} {unit}s ahead)"


def level_text(level: float | None) -> str:
    """An interval's coverage level as a percentage: "90%"; "" when it is not known."""
    return "" if level is None else f"{100 * level:g}%"


def loss_figure(history: pd.DataFrame, log: bool = True, ylabel: str = "loss (MSE, scaled units)") -> Figure:
    """Train and validation loss by epoch, the best epoch marked."""
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    if len(history):
        ax.plot(history["epoch"], history["train_loss"], marker=".", label="train")
        ax.plot(history["epoch"], history["val_loss"], marker=".", label="validation")
        best = history.loc[history[best_by(history)].idxmin()]
        ax.axvline(best["epoch"], color="0.6", linestyle=":", label=f"best (epoch {int(best['epoch'])})")
        ax.legend(frameon=False)
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    ax.set(xlabel="epoch", ylabel=ylabel, title="Training loss")
    ax.grid(alpha=0.3)
    return fig


def learned_levels(forecast: pd.DataFrame) -> dict:
    """A quantile model's columns of ``forecast`` (``power_q0.1``, see
    :mod:`windwidgets.forecast.quantiles`): target -> [(level, column), ...] by level."""
    found: dict = {}
    for column in forecast.columns:
        name, _, level = str(column).rpartition("_q")
        if name in forecast.columns and level.replace(".", "", 1).isdigit():
            found.setdefault(name, []).append((float(level), column))
    return {name: sorted(pairs) for name, pairs in found.items()}


def forecast_columns(forecast: pd.DataFrame) -> list:
    """The forecast's own columns: not its bounds, not a quantile model's levels."""
    learned = {column for pairs in learned_levels(forecast).values() for _, column in pairs}
    return [c for c in forecast.columns if not str(c).endswith(("_lower", "_upper")) and c not in learned]


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, truth: pd.DataFrame | None = None,
                    title: str = "Forecast", level: float | None = None) -> Figure:
    """One panel per forecast column: recent history, the truth where known, the forecast
    and its band, labelled with its ``level`` (default: ``forecast.attrs["interval"]``, which
    :meth:`windwidgets.Run.forecast` sets)."""
    level = forecast.attrs.get("interval") if level is None else level
    columns, learned = forecast_columns(forecast), learned_levels(forecast)
    fig = Figure(figsize=(9, 2.6 * len(columns) + 0.6), layout="constrained")
    axes = fig.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]
    for ax, column in zip(axes, columns):
        ax.plot(history.index, history[column], color="0.35", linewidth=1, label="history")
        if truth is not None and column in truth:
            ax.plot(truth.index, truth[column], color="tab:green", linewidth=1, label="truth")
        ax.plot(forecast.index, forecast[column], color="tab:orange", linewidth=1.5, label="forecast")
        if f"{column}_lower" in forecast:
            ax.fill_between(forecast.index, forecast[f"{column}_lower"], forecast[f"{column}_upper"],
                            color="tab:orange", alpha=0.2, linewidth=0,
                            label=f"{level_text(level)} interval".lstrip())
        if len(learned.get(column, ())) > 1:  # a quantile model's outer levels, where it gives them
            (low, lowest), (high, highest) = learned[column][0], learned[column][-1]
            ax.vlines(forecast.index, forecast[lowest], forecast[highest], color="tab:purple", alpha=0.5,
                      linewidth=3, label=f"learned q{low:g} to q{high:g}")  # a bar per row: one row shows too
        ax.axvline(forecast.index[0], color="0.7", linestyle=":")
        ax.set_ylabel(str(column))
        ax.grid(alpha=0.3)
    if isinstance(forecast.index, pd.DatetimeIndex):  # "31 Dec", "01 Jan", not 2024-12-312025-01-01
        locator = AutoDateLocator()
        axes[-1].xaxis.set_major_locator(locator)
        axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(
            locator, formats=DATE_FORMATS, zero_formats=DATE_ZERO_FORMATS, show_offset=False))
    axes[0].legend(frameon=False, ncol=4, loc="upper left")
    axes[0].set_title(title)
    return fig


def confusion_figure(matrix: pd.DataFrame, normalize: bool = False) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted), each cell labelled."""
    values = matrix.to_numpy(dtype=float)
    if normalize:
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.45 * len(matrix)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class" if normalize else "sequences")
    ticks = np.arange(len(matrix))
    ax.set_xticks(ticks, [str(c) for c in matrix.columns])
    ax.set_yticks(ticks, [str(c) for c in matrix.index])
    high = values.max() if values.size else 0
    for (row, column), value in np.ndenumerate(values):
        if value:
            ax.text(column, row, f"{value:.2f}" if normalize else f"{int(value)}", ha="center", va="center",
                    fontsize=8, color="white" if value > 0.6 * high else "black")
    accuracy = np.trace(matrix.to_numpy()) / max(matrix.to_numpy().sum(), 1)
    ax.set(xlabel="predicted class", ylabel="true class", title=f"Confusion matrix (accuracy {accuracy:.3f})")
    return fig


def grid_figure(forecast, truth=None, labels=None, title: str = "Forecast", channel: int = 0,
                panels: int = 6) -> Figure:
    """Forecast grids (steps, channels, rows, columns) in a row, the true grids beneath them
    when known; at most ``panels`` steps, evenly spaced, of one ``channel``."""
    steps = np.unique(np.linspace(0, len(forecast) - 1, min(panels, len(forecast))).round().astype(int))
    rows = [("forecast", forecast)] + ([("truth", truth)] if truth is not None else [])
    shown = [grids[steps[steps < len(grids)], channel] for _, grids in rows]
    low, high = min(g.min() for g in shown), max(g.max() for g in shown)
    fig = Figure(figsize=(1.7 * len(steps) + 1.0, 1.8 * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), len(steps), squeeze=False)
    for r, (name, grids) in enumerate(rows):
        for c, step in enumerate(steps):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if step < len(grids):
                image = ax.imshow(grids[step, channel], vmin=low, vmax=high, cmap="viridis")
            if r == 0:
                ax.set_title(labels[step] if labels is not None else f"step {step + 1}", fontsize=8)
            if c == 0:
                ax.set_ylabel(name)
    fig.colorbar(image, ax=axes, shrink=0.8)
    fig.suptitle(title)
    return fig


def lead_error_figure(by_lead: pd.DataFrame, metric: str = "mae", level: float | None = None,
                      title: str = "Error by lead time", xlabel: str = "lead (steps ahead)") -> Figure:
    """``metric`` by lead for the model and the baselines; a coverage panel with an interval.

    ``by_lead`` is :meth:`windwidgets.forecast.Backtest.by_lead`: index lead, columns model,
    naive, seasonal_naive and, with an interval, coverage. ``xlabel`` names the lead's unit
    (:func:`lead_text` makes one from the data's index: "lead (hours ahead)").
    """
    panels = 2 if "coverage" in by_lead else 1
    fig = Figure(figsize=(8, 2.2 + 1.8 * panels), layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    styles = {"model": dict(color="tab:orange", linewidth=2, label="model"),
              "naive": dict(color="0.45", linestyle="--", label="persistence (naive)"),
              "seasonal_naive": dict(color="tab:blue", linestyle=":", label="seasonal naive")}
    for name, style in styles.items():
        axes[0].plot(by_lead.index, by_lead[name], marker="." if len(by_lead) < 40 else None, **style)
    axes[0].set(ylabel=metric.upper(), title=title)
    axes[0].legend(frameon=False)
    if panels == 2:
        coverage_panel(axes[1], by_lead["coverage"], level)
    axes[-1].set_xlabel(xlabel)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))  # leads are whole steps
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def coverage_panel(ax, coverage: pd.Series, level: float | None) -> None:
    """The share of outcomes inside the interval by lead, beside the nominal ``level``,
    zoomed to them: coverage lives within a few points of the level."""
    ax.plot(coverage.index, coverage, color="tab:orange", marker="." if len(coverage) < 40 else None,
            label="observed")
    shown = coverage.dropna().to_list() + ([] if level is None else [level])
    if level is not None:
        ax.axhline(level, color="0.4", linestyle="--", linewidth=1, label=f"nominal {level_text(level)}")
    if shown:
        low, high = min(shown), max(shown)
        margin = max(0.15 * (high - low), 0.02)
        ax.set_ylim(max(low - margin, 0.0), min(high + margin, 1.02))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:.4g}%"))  # 92%, 89.5%
    ax.set(ylabel="coverage", title=f"{level_text(level)} interval coverage by lead time".lstrip())
    ax.legend(frameon=False, loc="best")
