"""Grid forecasting with the convlstm: forecasts come back as grids."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..run import Run


class GridForecast:
    """A forecast of grids.

    Attributes
    ----------
    grids : float array (steps, channels, rows, columns), original units.
    frame : DataFrame of the same values, one flattened grid per row (columns
        ``"channel:row:column"``), indexed by the forecast's steps (timestamps or positions).
    index : the forecast's steps.
    """

    def __init__(self, frame: pd.DataFrame, shape: tuple):
        self.frame, self.shape = frame, tuple(shape)

    @property
    def grids(self) -> np.ndarray:
        return self.frame.to_numpy().reshape(len(self.frame), *self.shape)  # (steps, channels, rows, columns)

    @property
    def index(self) -> pd.Index:
        return self.frame.index

    def __len__(self) -> int:
        return len(self.frame)

    def __array__(self, dtype=None, copy=None):
        return self.grids if dtype is None else self.grids.astype(dtype)

    def __repr__(self) -> str:
        channels, rows, columns = self.shape
        return (f"GridForecast({len(self)} steps of {rows} x {columns} grids, {channels} channel(s), "
                f"from {self.index[0]})")

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"


class GridRun(Run):
    """A convlstm fit on grids. Like :class:`~windwidgets.Run`, except that ``forecast``
    returns a :class:`GridForecast`, ``evaluate`` adds the persistence baseline and
    ``plot_forecast`` draws grids."""

    def forecast(self, steps: int, *args, **kwargs) -> GridForecast:
        """Roll the grids forward ``steps`` steps (arguments as :meth:`Run.forecast`)."""
        return GridForecast(super().forecast(steps, *args, **kwargs), self.layout.grid)

    def evaluate(self) -> dict:
        """Run's errors over every cell of the validation part, plus ``persistence_mae``: the
        MAE of repeating each window's last grid over the horizon (the model should beat it)."""
        metrics = super().evaluate()
        values = self.frame.to_numpy(dtype=np.float64)  # (rows, cells)
        horizon = self.config.data.horizon
        starts = np.arange(self.n_train, len(values) - horizon + 1)  # first predicted row of each window
        truth = np.stack([values[s : s + horizon] for s in starts])  # (windows, horizon, cells)
        metrics["persistence_mae"] = float(np.mean(np.abs(truth - values[starts - 1][:, None])))
        return metrics

    def plot_forecast(self, forecast: GridForecast | None = None, steps: int | None = None, start=None,
                      last: int | None = None):
        """The forecast grids, over the true grids where they are known, as a Figure."""
        from ..views.plots import grid_figure

        if forecast is None:
            forecast = self.forecast(steps or 6, start=start)
        origin = self._position(forecast.index[0]) if forecast.index[0] in self.frame.index else len(self.frame)
        truth = self.frame.iloc[origin : origin + len(forecast)].to_numpy()
        truth = truth.reshape(len(truth), *self.layout.grid) if len(truth) else None  # (steps, channels, rows, columns)
        return grid_figure(forecast.grids, truth, list(map(str, forecast.index)),
                           title=f"{self.config.model.model} forecast, {len(forecast)} steps")

