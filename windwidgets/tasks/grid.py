"""Grid forecasting with the convlstm: forecasts come back as grids."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..data.grids import grid_columns
from ..run import Run


class GridForecast:
    """A forecast of grids.

    Attributes
    ----------
    grids : float array (steps, channels, rows, columns), original units.
    lower, upper : the same shape, the band of a forecast made with ``interval``; else None.
    frame : DataFrame of the same values, one flattened grid per row (columns
        ``"channel:row:column"``, and ``"channel:row:column_lower"``/``_upper`` with an
        interval), indexed by the forecast's steps (timestamps or positions).
    index : the forecast's steps.
    """

    def __init__(self, frame: pd.DataFrame, shape: tuple):
        self.frame, self.shape = frame, tuple(shape)

    def _grids(self, suffix: str = "") -> np.ndarray | None:
        columns = [f"{name}{suffix}" for name in grid_columns(self.shape)]
        if columns[0] not in self.frame:
            return None
        return self.frame[columns].to_numpy().reshape(len(self.frame), *self.shape)  # (steps, channels, rows, columns)

    @property
    def grids(self) -> np.ndarray:
        return self._grids()

    @property
    def lower(self) -> np.ndarray | None:
        return self._grids("_lower")

    @property
    def upper(self) -> np.ndarray | None:
        return self._grids("_upper")

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
    returns a :class:`GridForecast` and ``plot_forecast`` draws grids. ``evaluate`` and
    ``backtest`` score every cell; their ``naive`` baseline (the last grid again) is the
    persistence forecast the model should beat."""

    def forecast(self, steps: int, *args, **kwargs) -> GridForecast:
        """Roll the grids forward ``steps`` steps (arguments as :meth:`Run.forecast`)."""
        return GridForecast(super().forecast(steps, *args, **kwargs), self.layout.grid)

    def plot_forecast(self, forecast: GridForecast | None = None, steps: int | None = None, start=None,
                      last: int | None = None, future=None, context=None, interval=None):
        """The forecast grids, over the true grids where they are known, as a Figure.

        The arguments are those of :meth:`Run.plot_forecast`; ``last`` is not used (a grid
        has no history line)."""
        from ..views.plots import grid_figure

        if forecast is None:
            forecast = self.forecast(steps or 6, start=start, future=future, context=context,
                                     interval=interval)
        origin = self.forecaster.series.position(forecast.index[0]) if forecast.index[0] in self.frame.index else len(self.frame)
        truth = self.frame.iloc[origin : origin + len(forecast)].to_numpy()
        truth = truth.reshape(len(truth), *self.layout.grid) if len(truth) else None  # (steps, channels, rows, columns)
        return grid_figure(forecast.grids, truth, list(map(str, forecast.index)),
                           title=f"{self.config.model.model} forecast, {len(forecast)} steps")

