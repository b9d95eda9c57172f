"""Static matplotlib figures. Figures are built without pyplot, so none is left open."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def loss_figure(history: pd.DataFrame, log: bool = True) -> Figure:
    """Train and validation loss by epoch, the best epoch marked."""
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    if len(history):
        ax.plot(history["epoch"], history["train_loss"], marker=".", label="train")
        ax.plot(history["epoch"], history["val_loss"], marker=".", label="validation")
        best = history.loc[history["val_loss"].idxmin()]
        ax.axvline(best["epoch"], color="0.6", linestyle=":", label=f"best (epoch {int(best['epoch'])})")
        ax.legend(frameon=False)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss (MSE, scaled units)", title="Training loss")
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
    axes[0].legend(frameon=False, ncol=4, loc="upper left")
    axes[0].set_title(title)
    return fig
