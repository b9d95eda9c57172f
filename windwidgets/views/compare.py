"""Comparing Runs: one row of numbers per Run, and one figure that overlays their forecasts
against the truth and their error by lead time. The dashboard's Compare tab shows these;
they only call the Run's public methods."""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import zoo
from ..config import field_docs
from ..errors import WindwidgetsError

COLUMNS = ("run", "model", "knobs", "val loss", "MAE", "MASE", "s/epoch", "epochs")
STYLE = ("<style>.windwidgets-compare-table th, .windwidgets-compare-table td "
         "{padding: 2px 12px; text-align: left}</style>")
ALWAYS_SHOWN = ("hidden_size", "num_layers")  # the size of a model, even at its defaults


def knobs(config) -> str:
    """The model's knobs and options that make it what it is: its size, and whatever else
    differs from the defaults (``dropout=0.1``, ``kernel_size=5``)."""
    docs, m = field_docs(), config.model
    names = zoo.entry(m.model).knobs if m.model in zoo.names() else ALWAYS_SHOWN
    shown = [f"{name}={getattr(m, name)}" for name in names
             if name in ALWAYS_SHOWN or getattr(m, name) != docs[name][0]]
    return " ".join(shown + [f"{k}={v}" for k, v in m.options.items()])


def summary(run, number: int) -> dict:
    """A row of the comparison: the model, its knobs, its best validation loss, its errors
    on the validation part (``run.evaluate()``), seconds per epoch and epochs trained."""
    history = run.history
    try:
        scores = run.evaluate()
    except WindwidgetsError:  # a fit that failed before its first epoch has nothing to score
        scores = {}
    return {"run": number, "model": run.config.model.model, "knobs": knobs(run.config),
            "val loss": float(history["val_loss"].min()) if len(history) else math.nan,
            "MAE": float(scores.get("mae", math.nan)), "MASE": float(scores.get("mase", math.nan)),
            "s/epoch": float(history["seconds"].mean()) if len(history) else math.nan,
            "epochs": len(history)}


def table_html(rows: list[dict], by: str = "val loss", descending: bool = False) -> str:
    """The rows as an HTML table sorted by the column ``by`` (NaN last)."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.sort_values(by, ascending=not descending, na_position="last", kind="stable")
    return STYLE + frame.to_html(index=False, classes="windwidgets-compare-table", border=0, na_rep="-",
                         float_format=lambda v: f"{v:.4g}")


def compare_figure(runs: dict, steps: int, series=None) -> Figure:
    """``runs`` (label -> Run): left, each Run's forecast of ``steps`` rows from the start of
    its validation part with the truth there; right, each Run's MAE by lead time over the
    validation part (MASE when a Run has several targets, whose units differ). A panel shows
    its series ``series`` (its first when it has no such series), named in the legend. A Run
    that learned every row (``refit=True``, no rows added since) is left out, and the title
    says so."""
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    forecasts, errors = figure.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
    truth_drawn, learned = set(), []
    for label, run in runs.items():
        if getattr(run, "members", None):  # a panel: one of its series, as a one-series Run
            key = series if series in run.members else run.series[0]
            run, label = run.member(key), f"{label}, {key}"
        target = run.layout.targets[0]
        n = min(steps, len(run.frame) - run.n_train)
        if n < 1:  # refit=True learned every row, and none came since: nothing to forecast unseen
            learned.append(label)
            continue
        forecast = run.forecast(n, start=run.n_train)
        if (target, run.n_train) not in truth_drawn:
            truth = run.frame[target].iloc[max(0, run.n_train - n) : run.n_train + n]
            forecasts.plot(_x(truth.index), truth.to_numpy(), color="black", linewidth=1, label=f"{target} (truth)")
            truth_drawn.add((target, run.n_train))
        forecasts.plot(_x(forecast.index), forecast[target].to_numpy(), linewidth=1.5, label=label)
        metric = "mae" if len(run.layout.targets) == 1 else "mase"
        by_lead = run.backtest(n, max(1, n // 8)).by_lead(metric)
        errors.plot(by_lead.index, by_lead["model"].to_numpy(), marker=".", label=f"{label} ({metric.upper()})")
    left_out = f"\nleft out, having learned every row (refit=True): {', '.join(learned)}" if learned else ""
    forecasts.set_title(f"forecasts from the start of the validation part, {steps} steps{left_out}")
    forecasts.legend(fontsize="small")
    errors.set_title("error by lead time")
    errors.set_xlabel("steps ahead")
    errors.legend(fontsize="small")
    return figure


def columns_figure(frame: pd.DataFrame, columns: list, n_train: int | None = None,
                   note: str = "choose a target", title: str = "") -> Figure:
    """A small stacked plot of ``columns`` (at most four), with the start of the validation
    part marked: what the data tab shows of the chosen columns (of one series, named in
    ``title``); ``note`` when none is drawn."""
    columns = list(columns)[:4]
    figure = Figure(figsize=(10, 0.45 + 0.9 * max(1, len(columns))), layout="constrained")
    axes = np.atleast_1d(figure.subplots(max(1, len(columns)), 1, sharex=True))
    step = max(1, len(frame) // 2000)  # a preview: every row is not needed to see the shape
    for ax, column in zip(axes, columns):
        series = frame[column].iloc[::step]
        ax.plot(_x(series.index), series.to_numpy(), linewidth=0.8)
        ax.set_ylabel(str(column), fontsize="small")
        if n_train is not None and 0 < n_train < len(frame):
            ax.axvline(_x(frame.index[[n_train]])[0], color="grey", linestyle="--", linewidth=0.8)
    if title:
        axes[0].set_title(title, fontsize="small", loc="left")
    if not columns:
        axes[0].text(0.5, 0.5, note, ha="center", va="center", transform=axes[0].transAxes)
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _x(index: pd.Index):
    return index.to_numpy() if isinstance(index, pd.DatetimeIndex) else np.asarray(index)
