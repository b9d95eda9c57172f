"""The backtests of a panel's series together: per series, and pooled over the series."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from ..errors import WindwidgetsError
from .backtest import Backtest, Evaluation, metrics_html, model_rows, rolled_forecasts
from .metrics import warn_skipped
from .quantiles import levels_for
from .rollout import roll


class PanelBacktest:
    """One :class:`Backtest` per series of a panel (``by_series``), read together.

    ``frame`` is the long table of every series with the id in its first column;
    ``metrics()`` has a row per series, target and method (index levels: the id column's
    name, ``target``, ``method``, whatever the number of series and targets);
    ``pooled()`` the same metrics over the forecasts of all series together. A target has
    the same units in every series, so MAE and RMSE pool over series; MASE is the mean of
    the series' own MASE weighted by their forecasts (each series keeps its own scale).
    """

    def __init__(self, by_series: dict, name: str):
        self.by_series, self.name = by_series, name
        first = next(iter(by_series.values()))
        self.targets, self.level, self.steps = first.targets, first.level, first.steps
        self._tables = None  # id -> (its metrics table, the metrics it left NaN), made once

    def _series_tables(self) -> dict:
        """Each series' :meth:`Backtest.metrics` table and the metrics it left NaN: the table
        per series and the pooled MASE both read them, so thousands of series score once."""
        if self._tables is None:
            self._tables = {}
            for key, backtest in self.by_series.items():
                mine: list = []
                self._tables[key] = (backtest._metrics(mine), mine)
        return self._tables

    @property
    def frame(self) -> pd.DataFrame:
        frames = []
        for key, backtest in self.by_series.items():
            frame = backtest.frame.copy()
            frame.insert(0, self.name, key)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def metrics(self, target=None) -> pd.DataFrame:
        """The metrics of each series (see :meth:`Backtest.metrics`), always indexed by
        (series, target, method), whatever the number of series and targets; ``target`` (one
        name) keeps that target's rows, as :meth:`by_lead` takes it. A metric left NaN (MAPE
        near zero, MASE of a constant) is said in one warning naming the targets and series."""
        self._check_target(target)
        skipped: list = []
        table = self._metrics(skipped)
        if target is not None:
            table = table.xs(target, level="target", drop_level=False)
            skipped = [s for s in skipped if s.target == target]
        warn_skipped(skipped)
        return table

    def _metrics(self, skipped: list) -> pd.DataFrame:
        tables = {}
        for key, (table, mine) in self._series_tables().items():
            tables[key] = table
            skipped.extend(replace(s, series=key) for s in mine)
        joined = pd.concat(tables, names=[self.name])
        if joined.index.nlevels == 2:  # one target, or a grid's cells scored together: a target level between
            label = self.targets[0] if len(self.targets) == 1 else "all targets"
            joined.index = pd.MultiIndex.from_arrays(
                [joined.index.get_level_values(0), [label] * len(joined), joined.index.get_level_values(1)],
                names=[self.name, "target", "method"])
        return joined

    def pooled(self) -> pd.DataFrame:
        """The metrics over every series' forecasts together, shaped as one series' ``metrics()``.
        MASE is the series' own, weighted by their forecasts, over the series that have one."""
        skipped: list = []
        table = self._pooled(skipped)
        warn_skipped(skipped, self._left_out(skipped))
        return table

    def _pooled(self, skipped: list) -> pd.DataFrame:
        backtests = list(self.by_series.values())
        joined = Backtest(np.concatenate([b.truth for b in backtests]),
                          {m: np.concatenate([b.predictions[m] for b in backtests])
                           for m in backtests[0].predictions},
                          np.concatenate([b.origins for b in backtests]), backtests[0].index, self.targets,
                          np.full(len(self.targets), np.nan), self.level,
                          None if self.level is None else np.concatenate([b.lower for b in backtests]),
                          None if self.level is None else np.concatenate([b.upper for b in backtests]),
                          same_units=backtests[0].same_units)
        together: list = []
        table = joined._metrics(together)
        skipped.extend(s for s in together if s.metric == "mape")  # its MASE is the series', below
        mase, weights = 0.0, 0.0
        for key, (mine_table, mine) in self._series_tables().items():
            own = mine_table["mase"]
            skipped.extend(replace(s, series=key) for s in mine if s.metric == "mase")
            weight = len(self.by_series[key].origins) * own.notna()
            mase, weights = mase + weight * own.fillna(0.0), weights + weight
        table["mase"] = mase / weights.where(weights > 0)
        return table

    def _left_out(self, skipped: list) -> str:
        series = list(dict.fromkeys(s.series for s in skipped if s.metric == "mase"))
        return f"; the pooled MASE leaves out series {', '.join(map(repr, series))}" if series else ""

    def by_lead(self, metric: str = "mae", target=None, series=None) -> pd.DataFrame:
        """``metric`` by lead time for one ``series``, or averaged over the series."""
        if series is not None:
            return self._one(series).by_lead(metric, target)
        next(iter(self.by_series.values()))._check_lead(metric, target)  # the series share their targets
        skipped: list = []
        tables = []
        for key, backtest in self.by_series.items():
            mine: list = []
            tables.append(backtest._lead_table(metric, target, mine))
            skipped.extend(replace(s, series=key) for s in mine if s.metric == metric)
        warn_skipped(skipped)
        return sum(tables) / len(tables)

    def _check_target(self, target) -> None:
        if target is not None and target not in self.targets:
            raise WindwidgetsError(f"`target` ({target!r}) is not one of the targets: "
                                   f"{', '.join(map(repr, self.targets))}")

    @property
    def coverage(self) -> float | None:
        return None if self.level is None else float(np.nanmean([b.coverage for b in self.by_series.values()]))

    def _one(self, series) -> Backtest:
        if series not in self.by_series:
            raise WindwidgetsError(f"`series` ({series!r}) is not one of this backtest's series: "
                                   f"{', '.join(map(repr, self.by_series))}")
        return self.by_series[series]

    def __repr__(self) -> str:
        origins = sum(len(b.origins) for b in self.by_series.values())
        return f"PanelBacktest({len(self.by_series)} series, {origins} origins x {self.steps} steps)"

    def _repr_html_(self) -> str:
        return metrics_html(repr(self), self.metrics)


class PanelEvaluation(Evaluation):
    """The model's errors over all series (a dict, as for one series), with ``table`` per
    series (the id as first index level), ``pooled`` over the series, and ``by_target``
    the pooled errors of the model per target."""

    def __init__(self, backtest: PanelBacktest):
        skipped: list = []
        pooled, table = backtest._pooled(skipped), backtest._metrics(skipped)
        warn_skipped(skipped, backtest._left_out(skipped))  # once for the evaluation
        if pooled.index.nlevels == 1:
            values = pooled.loc["model"]
        else:  # several targets: only the scaled errors pool over them
            values = pooled[["smape", "mase"]].groupby(level="method", sort=False).mean().loc["model"]
        super().__init__(values.to_dict(), table=table, backtest=backtest)
        self.pooled = pooled

    @property
    def by_target(self) -> pd.DataFrame:
        return model_rows(self.pooled, self.backtest.targets)


CHUNK = 1024  # forecasts rolled in one batch: bounds the memory of a panel's rollout


def backtests(forecasters: dict, origins: dict, steps: int, chunk: int = CHUNK) -> dict:
    """Each series' :class:`Backtest` (without interval), from one rollout of every series' origins.

    Parameters
    ----------
    forecasters : id -> :class:`~windwidgets.forecast.forecaster.Forecaster`, one per
        series, sharing one model and its settings.
    origins : id -> (origins,) first predicted rows of that series' forecasts.

    Each series is encoded with its own scaler as its Forecaster encodes it, the encoded
    series are stacked and every origin is rolled by :func:`rolled_forecasts` in batches of
    ``chunk``; a forecast reads only the rows of its own series (its window starts at or
    after the series' first row, its last row is in the series). The predictions are split
    back and scored per series as :meth:`Forecaster.backtest` scores its own.
    """
    first = next(iter(forecasters.values()))
    d, outputs = first.config.data, len(first.layout.outputs)
    encoded = [f._encoded(f.series.frame.to_numpy(dtype=np.float64)) for f in forecasters.values()]
    starts = np.cumsum([0] + [len(rows) for rows in encoded])[:-1]
    every = np.concatenate([origins[key] + start for key, start in zip(forecasters, starts)])
    first.model.eval()
    kept = levels_for(first.config)  # a quantile model's first blocks, every level
    predicted = rolled_forecasts(first.model, torch.cat(encoded), every, steps, d.window, d.horizon, outputs,
                                 first._carry(), chunk, kept)  # (all origins, steps, outputs)
    sizes = [len(origins[key]) for key in forecasters]
    parts = torch.split(predicted, sizes)  # (origins, steps, outputs) each
    levels = torch.split(torch.cat(kept), sizes) if kept else [None] * len(sizes)  # (origins, horizon, outputs, levels)
    return {key: f._scored(part, origins[key], steps, None if mine is None else [mine])
            for (key, f), part, mine in zip(forecasters.items(), parts, levels)}


@torch.no_grad()
def forecasts(forecasters: dict, plans: dict, steps: int, chunk: int = CHUNK, levels: dict | None = None) -> dict:
    """Each series' scaled forecast (steps, outputs), every series rolled in batches of ``chunk``.

    ``plans`` maps each id to what :meth:`Forecaster._planned` made of it: (labels, encoded
    rows (warmup + steps, inputs), warmup). Series with the same warm-up (all of a panel's,
    unless some are shorter than a window) are stacked and rolled together as
    :meth:`Forecaster.forecast` rolls one. With ``levels`` (a dict) and a quantile model, each
    id's first block, every level, lands in it: [(1, horizon, outputs, levels)].
    """
    first = next(iter(forecasters.values()))
    d, outputs = first.config.data, len(first.layout.outputs)
    first.model.eval()
    predicted = {}
    for warmup in sorted({plan[2] for plan in plans.values()}):
        keys = [key for key, plan in plans.items() if plan[2] == warmup]
        for at in range(0, len(keys), chunk):
            block = keys[at : at + chunk]
            rows = torch.stack([plans[key][1] for key in block])  # (series, warmup + steps, inputs)
            kept = levels_for(first.config)
            out = roll(first.model, rows, warmup, d.window, d.horizon, outputs, first._carry(),
                       levels=kept)  # (series, steps, outputs)
            predicted.update(zip(block, out.unbind(0)))  # (steps, outputs) each
            if kept and levels is not None:
                # (1, horizon, outputs, levels) each
                levels.update((key, [q]) for key, q in zip(block, kept[0].split(1)))
    return {key: predicted[key] for key in plans}


def calibrate(forecasters: dict, steps: int) -> None:
    """Calibrate the intervals of ``steps``-row forecasts of every series that has none yet
    and a validation part that long, from one batched backtest, as each Forecaster would
    on its own (:meth:`Forecaster._calibrated`); the others are left to say why they cannot."""
    todo = {key: f for key, f in forecasters.items()
            if steps not in f._calibration and len(f.series.frame) - f.series.n_train >= steps}
    if todo:
        origins = {key: f._origins(steps, f._calibration_stride(steps)) for key, f in todo.items()}
        for key, result in backtests(todo, origins, steps).items():
            todo[key]._calibrate(result)
