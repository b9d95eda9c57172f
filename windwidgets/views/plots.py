"""Static matplotlib figures. Figures are built without pyplot, so none is left open."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from ..fit import best_by


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
    ax.set(xlabel="epoch", ylabel=ylabel, title="Training loss")
    ax.grid(alpha=0.3)
    return fig


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, truth: pd.DataFrame | None = None,
                    title: str = "Forecast") -> Figure:
    """One panel per forecast column: recent history, the truth where known, the forecast."""
    columns = [c for c in forecast.columns if not str(c).endswith(("_lower", "_upper"))]
    fig = Figure(figsize=(9, 2.6 * len(columns) + 0.6), layout="constrained")
    axes = fig.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]
    for ax, column in zip(axes, columns):
        ax.plot(history.index, history[column], color="0.35", linewidth=1, label="history")
        if truth is not None and column in truth:
            ax.plot(truth.index, truth[column], color="tab:green", linewidth=1, label="truth")
        ax.plot(forecast.index, forecast[column], color="tab:orange", linewidth=1.5, label="forecast")
        if f"{column}_lower" in forecast:
            ax.fill_between(forecast.index, forecast[f"{column}_lower"], forecast[f"{column}_upper"],
                            color="tab:orange", alpha=0.2, linewidth=0, label="interval")
        ax.axvline(forecast.index[0], color="0.7", linestyle=":")
        ax.set_ylabel(str(column))
        ax.grid(alpha=0.3)
    if isinstance(forecast.index, pd.DatetimeIndex):  # "Jan 01" under a month's days, not 2024-12-312025-01-01
        locator = AutoDateLocator()
        axes[-1].xaxis.set_major_locator(locator)
        axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
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
                      title: str = "Error by lead time") -> Figure:
    """``metric`` by lead for the model and the baselines; a coverage panel with an interval.

    ``by_lead`` is :meth:`windwidgets.forecast.Backtest.by_lead`: index lead, columns model,
    naive, seasonal_naive and, with an interval, coverage.
    """
    panels = 2 if "coverage" in by_lead else 1
    fig = Figure(figsize=(8, 2.2 + 1.8 * panels), layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    styles = {"model": dict(color="tab:orange", linewidth=2),
              "naive": dict(color="0.45", linestyle="--"),
              "seasonal_naive": dict(color="tab:blue", linestyle=":")}
    for name, style in styles.items():
        axes[0].plot(by_lead.index, by_lead[name], marker="." if len(by_lead) < 40 else None,
                     label=name.replace("_", " "), **style)
    axes[0].set(ylabel=metric.upper(), title=title)
    axes[0].legend(frameon=False)
    if panels == 2:
        axes[1].plot(by_lead.index, by_lead["coverage"], color="tab:orange", label="coverage")
        if level is not None:
            axes[1].axhline(level, color="0.5", linestyle=":", label=f"target {level:g}")
        axes[1].set(ylabel="coverage", ylim=(0, 1.02))
        axes[1].legend(frameon=False)
    axes[-1].set_xlabel("lead (steps ahead)")
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig
