"""The backtests of a panel's series together: per series, and pooled over the series."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import WindwidgetsError
from .backtest import Backtest, Evaluation, metrics_html, model_rows


class PanelBacktest:
    """One :class:`Backtest` per series of a panel (``by_series``), read together.

    ``frame`` is the long table of every series with the id in its first column;
    ``metrics()`` has a row per series (first index level, named after the id column);
    ``pooled()`` the same metrics over the forecasts of all series together. A target has
    the same units in every series, so MAE and RMSE pool over series; MASE is the mean of
    the series' own MASE weighted by their forecasts (each series keeps its own scale).
    """

    def __init__(self, by_series: dict, name: str):
        self.by_series, self.name = by_series, name
        first = next(iter(by_series.values()))
        self.targets, self.level, self.steps = first.targets, first.level, first.steps

    @property
    def frame(self) -> pd.DataFrame:
        frames = []
        for key, backtest in self.by_series.items():
            frame = backtest.frame.copy()
            frame.insert(0, self.name, key)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def metrics(self) -> pd.DataFrame:
        """The metrics of each series (see :meth:`Backtest.metrics`), the id as first level."""
        tables = {key: backtest.metrics() for key, backtest in self.by_series.items()}
        return pd.concat(tables, names=[self.name])

    def pooled(self) -> pd.DataFrame:
        """The metrics over every series' forecasts together, shaped as one series' ``metrics()``."""
        backtests = list(self.by_series.values())
        joined = Backtest(np.concatenate([b.truth for b in backtests]),
                          {m: np.concatenate([b.predictions[m] for b in backtests])
                           for m in backtests[0].predictions},
                          np.concatenate([b.origins for b in backtests]), backtests[0].index, self.targets,
                          np.full(len(self.targets), np.nan), self.level,
                          None if self.level is None else np.concatenate([b.lower for b in backtests]),
                          None if self.level is None else np.concatenate([b.upper for b in backtests]),
                          same_units=backtests[0].same_units)
        table = joined.metrics()
        with warnings.catch_warnings():  # the MAPE warnings were given for the joined forecasts
            warnings.simplefilter("ignore", UserWarning)
            weights = [len(b.origins) for b in backtests]
            table["mase"] = sum(w * b.metrics()["mase"] for w, b in zip(weights, backtests)) / sum(weights)
        return table

    def by_lead(self, metric: str = "mae", target=None, series=None) -> pd.DataFrame:
        """``metric`` by lead time for one ``series``, or averaged over the series."""
        if series is not None:
            return self._one(series).by_lead(metric, target)
        tables = [backtest.by_lead(metric, target) for backtest in self.by_series.values()]
        return sum(tables) / len(tables)

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
        pooled = backtest.pooled()
        if pooled.index.nlevels == 1:
            values = pooled.loc["model"]
        else:  # several targets: only the scaled errors pool over them
            values = pooled[["smape", "mase"]].groupby(level="method", sort=False).mean().loc["model"]
        super().__init__(values.to_dict(), table=backtest.metrics(), backtest=backtest)
        self.pooled = pooled

    @property
    def by_target(self) -> pd.DataFrame:
        return model_rows(self.pooled, self.backtest.targets)
