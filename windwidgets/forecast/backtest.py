"""Rolling-origin backtests: many forecasts, each from its own origin, batched into one rollout."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..data.windows import sliding
from ..errors import WindwidgetsError
from .metrics import coverage, point_metrics
from .rollout import roll

METHODS = ("model", "naive", "seasonal_naive")


@torch.no_grad()
def rolled_forecasts(model, encoded: torch.Tensor, origins: np.ndarray, steps: int, window: int,
                     horizon: int, outputs: int, carry: bool,
                     chunk: int = 1024) -> torch.Tensor:
    """Forecasts of ``steps`` rows from every origin at once: one forward pass per block for
    a whole chunk of origins instead of one per origin and block.

    Parameters
    ----------
    encoded : (rows, inputs) the scaled, encoded series (see :func:`windwidgets.data.encode`).
    origins : (origins,) first predicted row of each forecast; ``window <= origin`` and
        ``origin + steps <= rows``.

    Each origin gets its own copy of rows ``origin - window .. origin + steps - 1``; the
    predicted columns from the origin on are cleared before the rollout and the future
    covariates of rows after the last forecast row are cleared too, exactly as
    :meth:`windwidgets.Run.forecast` sees them, so nothing after an origin's forecast rows
    can reach it (and nothing after its origin but the known-future covariates).

    Returns (origins, steps, outputs) scaled predictions.
    """
    windows = sliding(encoded, window + steps)  # (rows - window - steps + 1, window + steps, inputs)
    starts = torch.as_tensor(origins - window, device=encoded.device)
    out = []
    for first in range(0, len(origins), chunk):
        sequences = windows[starts[first : first + chunk]].clone()  # (chunk, window + steps, inputs)
        sequences[:, sequences.shape[1] - horizon :, outputs:] = 0.0  # covariates past the end
        out.append(roll(model, sequences, window, window, horizon, outputs, carry).clone())
    return torch.cat(out)  # (origins, steps, outputs)


def validation_origins(n_train: int, rows: int, steps: int, stride: int) -> np.ndarray:
    """First predicted rows of forecasts that start in the validation part and end in the data."""
    return np.arange(n_train, rows - steps + 1, stride)


@dataclass
class Backtest:
    """Rolling-origin forecasts, their truths and the baselines from the same origins.

    Attributes
    ----------
    truth, predictions : (origins, steps, targets) arrays in original units; ``predictions``
        maps "model", "naive" and "seasonal_naive" to one array each.
    origins : (origins,) positions of each forecast's first row in the data.
    index : the data's row labels.
    targets : the target names.
    scale : the MASE denominator (in-sample seasonal-naive MAE of the training part).
    level, lower, upper : the interval level and bounds (origins, steps, targets), or None.
        Bounds of origins with too few earlier forecasts to calibrate on are NaN.
    """

    truth: np.ndarray
    predictions: dict
    origins: np.ndarray
    index: pd.Index
    targets: tuple
    scale: float
    level: float | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        return self.truth.shape[1]

    @property
    def frame(self) -> pd.DataFrame:
        """The tidy table: one row per origin, lead and target.

        Columns: ``origin`` (label of the last row the forecast saw), ``time`` (label of the
        forecast row), ``lead`` (1 = the first forecast row), ``target``, ``truth``, ``model``,
        ``naive``, ``seasonal_naive``, and ``lower``/``upper`` with an interval.
        ``run.forecast(steps, start=time at lead 1)`` reproduces the model's row.
        """
        if self._frame is None:
            count, steps, targets = self.truth.shape
            rows = self.origins[:, None] + np.arange(steps)[None, :]  # (origins, steps)
            columns = {
                "origin": np.repeat(np.asarray(self.index[self.origins - 1]), steps * targets),
                "time": np.repeat(np.asarray(self.index[rows.ravel()]), targets),
                "lead": np.tile(np.repeat(np.arange(1, steps + 1), targets), count),
                "target": pd.Categorical(np.tile(np.asarray(self.targets, dtype=object), count * steps),
                                         categories=list(self.targets)),
                "truth": self.truth.ravel(),
            }
            columns.update({name: self.predictions[name].ravel() for name in METHODS})
            if self.level is not None:
                columns.update(lower=self.lower.ravel(), upper=self.upper.ravel())
            self._frame = pd.DataFrame(columns)
        return self._frame

    def metrics(self) -> pd.DataFrame:
        """MAE, RMSE, MAPE, sMAPE and MASE of the model and of each baseline (rows), over
        every origin and lead; with an interval, the model's empirical coverage and mean width."""
        table = pd.DataFrame({name: point_metrics(self.truth, self.predictions[name], self.scale)
                              for name in METHODS}).T
        if self.level is not None:
            table["coverage"] = [coverage(self.truth, self.lower, self.upper), np.nan, np.nan]
            table["width"] = [float(np.nanmean(self.upper - self.lower)), np.nan, np.nan]
        table.index.name = "method"
        return table

    def by_lead(self, metric: str = "mae") -> pd.DataFrame:
        """``metric`` by lead time (rows 1 .. steps) for the model and each baseline; with an
        interval, the model's empirical coverage by lead too."""
        if metric not in ("mae", "rmse", "mape", "smape", "mase"):
            raise WindwidgetsError(
                f"`metric` ({metric!r}) is not one of 'mae', 'rmse', 'mape', 'smape', 'mase'"
            )
        table = pd.DataFrame(
            {name: [point_metrics(self.truth[:, k], self.predictions[name][:, k], self.scale)[metric]
                    for k in range(self.steps)] for name in METHODS},
            index=pd.RangeIndex(1, self.steps + 1, name="lead"),
        )
        if self.level is not None:
            table["coverage"] = [coverage(self.truth[:, k], self.lower[:, k], self.upper[:, k])
                                 for k in range(self.steps)]
        return table

    @property
    def coverage(self) -> float | None:
        """The share of truths inside the interval, over the origins that have one."""
        return None if self.level is None else coverage(self.truth, self.lower, self.upper)

    def _summary(self) -> str:
        mae = self.metrics()["mae"]
        text = (f"Backtest({len(self.origins)} origins x {self.steps} steps, MAE model {mae['model']:.4g}, "
                f"naive {mae['naive']:.4g}, seasonal naive {mae['seasonal_naive']:.4g}")
        if self.level is not None:
            text += f", coverage {self.coverage:.3f} of {self.level}"
        return text + ")"

    def __repr__(self) -> str:
        return self._summary()

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self._summary())}</p>" + self.metrics().to_html(float_format="{:.4g}".format)


class Evaluation(dict):
    """The model's errors (a dict: mae, rmse, mape, smape, mase), with the baselines beside.

    ``table`` holds the same metrics for the model and for the naive and seasonal-naive
    forecasts from the same origins (rows); ``backtest`` is the :class:`Backtest` behind them.
    """

    def __init__(self, values: dict, table: pd.DataFrame, backtest: Backtest):
        super().__init__(values)
        self.table, self.backtest = table, backtest

    def __repr__(self) -> str:
        return f"Evaluation({dict.__repr__(self)})\n{self.table.to_string(float_format='{:.4g}'.format)}"

    def _repr_html_(self) -> str:
        return self.table.to_html(float_format="{:.4g}".format)
