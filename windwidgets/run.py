"""Run: a trained (or training) model with its data, history, forecasts, plots and file."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .config import RunConfig
from .data import Layout, Scaler
from .fit import BaseRun
from .data.inputs import checked_context
from .data.series import SeriesState
from .forecast.forecaster import Forecaster
from .forecast.rollout import infer_freq

FORMAT = "windwidgets.run/1"


class Run(BaseRun):
    """The result of :func:`windwidgets.train`: model, data, history, and what to do with them.

    A fit that runs in the background (the notebook's live view) returns its Run at once;
    ``wait()`` blocks until it ends, ``stop()`` asks it to end after the current batch, and
    the methods that need the final weights (forecast, evaluate, save) wait by themselves.
    """

    FORMAT = FORMAT

    def __init__(self, config: RunConfig, model: torch.nn.Module, device: torch.device,
                 series: SeriesState, layout: Layout, scaler: Scaler, history: list | None = None,
                 trainer=None):
        super().__init__(config, model, device, scaler, history, trainer)
        self.forecaster = Forecaster(model, scaler, layout, config, device, series)

    # The series lives in the Forecaster's SeriesState, the forecasting state in the Forecaster;
    # a Run shows them.
    frame = property(lambda self: self.forecaster.series.frame,
                     lambda self, frame: setattr(self.forecaster.series, "frame", frame))
    offset = property(lambda self: self.forecaster.series.offset,
                      lambda self, offset: setattr(self.forecaster.series, "offset", offset))
    layout = property(lambda self: self.forecaster.layout)
    n_train = property(lambda self: self.forecaster.series.n_train)
    mase_scale = property(lambda self: self.forecaster.series.mase_scale)
    _stream = property(lambda self: self.forecaster._stream)

    def _states(self) -> list:
        return [self.forecaster.series]

    def __copy__(self) -> "Run":
        """A shallow copy with its own forecasting state: updating one leaves the other."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.forecaster = copy.copy(self.forecaster)
        return twin

    def _preview(self):
        from .forecast.preview import live_preview

        return live_preview(self)

    # -- results ---------------------------------------------------------------------------
    def forecast(self, steps: int, future=None, start=None, context=None, interval=None,
                 keep_state: bool = False) -> pd.DataFrame:
        """Roll the model forward ``steps`` steps; a DataFrame in original units.

        Parameters
        ----------
        steps : how many steps to predict; any number, whatever the model's horizon: a
            horizon-``h`` model predicts a block of ``h`` rows per forward pass and feeds
            its predictions back, block after block.
        future : DataFrame of the known-future covariates for the forecast rows (matched by
            timestamp when it has them, else by order). Needed by a model trained with
            ``future_covariates``, except from a ``start`` whose rows the data holds.
        start : a label or position of the data to forecast from (the row there is the first
            predicted), to compare with what happened; default: after the last row.
        context : a new series (DataFrame with the model's input columns) to forecast on
            from its end: its last ``window`` rows warm the model up, as they would the same
            rows of the run's data. A model trained with ``stateful=True`` accepts a shorter
            context, down to a single row (one-to-many generation).
        interval : a coverage level such as 0.9: adds ``<target>_lower`` and
            ``<target>_upper`` columns, conformal bands from the errors of the model's own
            rolled forecasts on the validation part, by lead time (see
            :mod:`windwidgets.forecast.intervals`); the level is kept in the frame's
            ``attrs["interval"]``, where :meth:`plot_forecast` finds it. It stays conformal
            with ``loss="quantile"``: calibrated at every lead, where the learned levels are not.
        keep_state : follow a live series: the model's state after the series is kept, and
            later calls (and :meth:`update` with new rows) move it on without re-reading
            history. Starts at the end of the data, or of ``context`` when one is given.

        Returns a DataFrame indexed by the forecast timestamps (or positions), one column
        per target. Past-only covariates are forecast along the way but not returned. A
        model trained with ``loss="quantile"`` adds ``<target>_q<level>`` columns (its levels,
        ``attrs["quantiles"]``) for its first block of ``horizon`` rows, NaN after it, where
        it reads its own fed-back medians (see :mod:`windwidgets.forecast.quantiles`); the
        target's column is the median.
        """
        self._fitted()
        return self.forecaster.forecast(steps, future, start, context, interval, keep_state)

    def update(self, new_rows) -> "Run":
        """Feed new observations, as a live feed brings them, cell after cell.

        ``new_rows`` (a DataFrame with the model's input columns) must continue the series:
        timestamps one step on from its last row. They join the run's data (or the context
        a ``keep_state`` stream follows) and, when a stream is kept, move its state over the
        new rows alone. Checked before anything changes.
        """
        self._fitted()
        self.forecaster.update(new_rows)
        return self

    def reset_state(self) -> "Run":
        """Drop the state kept by ``forecast(keep_state=True)``; the data stays as it is."""
        self.forecaster.reset_state()
        return self

    def backtest(self, steps: int | None = None, stride: int | None = None, interval=None):
        """Rolling-origin forecasts over the validation part: a :class:`~windwidgets.forecast.Backtest`.

        Every ``stride`` rows of the validation part, a forecast of ``steps`` rows (default:
        the horizon; stride default: ``steps``) is made from the ``window`` rows before it,
        exactly as :meth:`forecast` with ``start`` would, never seeing a row after its
        origin (but the known-future covariates of its own rows). The naive and
        seasonal-naive forecasts from the same origins come along. ``.frame`` is the tidy
        table, ``.metrics()`` and ``.by_lead()`` the errors; with ``interval`` each origin's
        band is calibrated on the forecasts finished before it and ``.coverage`` reports how
        often the truth fell inside.
        """
        self._fitted()
        return self.forecaster.backtest(steps, stride, interval)

    def evaluate(self, steps: int | None = None, stride: int = 1) -> dict:
        """Errors on the validation part, in original units, next to the baselines.

        A forecast of ``steps`` rows (default: the horizon) from every ``stride``-th row of
        the validation part, from the true window before it (a backtest). Returns a dict of
        the model's MAE, RMSE, MAPE and sMAPE (percent) and MASE (MAE over the in-sample MAE
        of the seasonal-naive forecast: below 1 beats it); its ``table`` attribute holds the
        same metrics for the naive and seasonal-naive forecasts from the same origins.
        MAPE is NaN, with a warning, where the truth comes near zero.

        With several targets, in units that differ, nothing is pooled in original units: the
        dict holds sMAPE and MASE averaged over the targets (scaled units), ``table`` a row
        per target and method, and ``by_target`` the model's errors per target.
        """
        self._fitted()
        return self.forecaster.evaluate(steps, stride)

    # -- pictures --------------------------------------------------------------------------
    def plot_forecast(self, forecast: pd.DataFrame | None = None, steps: int | None = None,
                      start=None, last: int | None = None, future=None, context=None,
                      interval=None):
        """History, the truth where it is known, a forecast and its band, as a Figure.

        Pass a ``forecast`` DataFrame, or ``steps`` (and ``start``, ``future``, ``context``,
        ``interval``, as for :meth:`forecast`) to make one; ``last`` rows of history are
        drawn (default: three times the forecast's length). The history is the ``context``
        when one is given, else the run's data.
        """
        from .views.plots import forecast_columns, forecast_figure, span_text

        if forecast is None:
            forecast = self.forecast(steps or 4 * self.config.data.window, future=future,
                                     start=start, context=context, interval=interval)
        frame = self.frame if context is None else checked_context(
            self.forecaster._regularised(context), self.layout, 1, self.config.data.window, self.config.data.time,
            self.forecaster.calendar, self.config.data.time_unit)
        first = forecast.index[0]
        origin = frame.index.get_loc(first) if first in frame.index else len(frame)
        last = last or 3 * len(forecast)
        history = frame.iloc[max(0, origin - last) : origin]
        truth = frame.iloc[origin : origin + len(forecast)]
        targets = ", ".join(str(c) for c in forecast_columns(forecast))
        title = f"{self.config.model.model} forecast of {targets}, {span_text(len(forecast), forecast.index)} ahead"
        return forecast_figure(history, forecast, truth if len(truth) else None, title=title)

    def plot_errors(self, backtest=None, steps: int | None = None, stride: int | None = None,
                    metric: str = "mae", target=None):
        """Error by lead time (how far ahead) of the model and the baselines, as a Figure.

        Pass a ``backtest`` (from :meth:`backtest`), or ``steps`` and ``stride`` to run one;
        a backtest with an interval adds its empirical coverage by lead. With several
        targets pass ``target`` for a metric in original units (see ``Backtest.by_lead``).
        """
        from .views.plots import lead_error_figure, lead_text

        if backtest is None:
            backtest = self.backtest(steps, stride)
        return lead_error_figure(backtest.by_lead(metric, target), metric, backtest.level,
                                 title=f"{self.config.model.model}: {metric.upper()} by lead time",
                                 xlabel=lead_text(self.frame.index))

    # -- files -----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write one file (weights, config, scaler, the data the forecasts start from,
        history, versions) atomically: a crash mid-save leaves an older file intact."""
        return self._write(path, layout={k: list(v) for k, v in vars(self.layout).items()},
                           **self._data_state())

    def _data_state(self) -> dict:
        """The rows a file keeps (those the forecasts and the seasonal naive start from)."""
        kept = self.forecaster.series.kept(self.config.data.window)
        return {
            "frame": _frame_state(kept.frame),
            "n_train": kept.n_train,
            "offset": kept.offset,
            "mase_scale": [float(v) for v in np.atleast_1d(kept.mase_scale)],
        }

    # -- display ---------------------------------------------------------------------------
    def _description(self) -> list[tuple[str, str]]:
        c = self.config
        return [
            ("model", f"{c.model.model} ({c.model.size})"),
            ("targets", ", ".join(self.layout.targets)),
            ("window / horizon", f"{c.data.window} / {c.data.horizon}"),
            ("device", str(self.device)),
        ]


def _frame_state(frame: pd.DataFrame) -> dict:
    index = frame.index
    columns = [c.item() if isinstance(c, np.generic) else c for c in frame.columns]  # plain ints and strs
    state = {"values": torch.tensor(frame.to_numpy(dtype=np.float64)), "columns": columns,
             "name": index.name if isinstance(index.name, str) else None}
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freqstr if index.freq is not None else infer_freq(index)
        state.update(kind="datetime", index=torch.tensor(index.asi8), unit=index.unit,
                     freq=freq, tz=str(index.tz) if index.tz else None)
    else:
        state.update(kind="positions", index=torch.tensor(np.asarray(index, dtype=np.int64)))
    return state


def frame_from_state(state: dict) -> pd.DataFrame:
    if state["kind"] == "datetime":
        index = pd.DatetimeIndex(state["index"].numpy().astype(f"datetime64[{state['unit']}]"),
                                 name=state["name"])
        if state["tz"]:
            index = index.tz_localize("UTC").tz_convert(state["tz"])
        if state["freq"]:
            index.freq = state["freq"]
    else:
        index = pd.Index(state["index"].numpy(), name=state["name"])
    return pd.DataFrame(state["values"].numpy(), index=index, columns=state["columns"])
