"""A trained model over its series: forecasts, streams, backtests and evaluations.

How the known and unknown parts of the future are handled:

- *Known-future covariates* are model inputs only. A forecast takes them from ``future=``;
  a forecast from a ``start`` inside the data takes the realised ones from the data when
  ``future`` is not given.
- *Past-only covariates* are among the model's outputs, so a rollout forecasts them with
  the targets and feeds them back: a forecast of any length never asks for a value nobody
  can know yet. Only the targets are returned.
- *Warm-up*: every forecast reads the ``window`` rows before its first predicted row from a
  zero state, as the model learned: from the run's data (``start``), a ``context`` or a
  backtest's origin alike, so the three agree. Then the model's training mode decides (see
  :func:`~windwidgets.forecast.rollout.carries`): a window-trained model re-reads its last
  ``window`` rows for every block; a sequence- or stateful-trained one carries its state on.
  A model trained statefully may start from fewer rows (one-to-many generation).
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from ..data.calendar import calendar_of
from ..data.inputs import checked_context, checked_rows, future_values
from ..data.prepare import encode
from ..data.statics import ahead_rows
from ..data.series import SeriesState, regularised
from ..errors import DataError, WindwidgetsError, check_whole, warn
from .backtest import Backtest, Evaluation, rolled_forecasts, validation_origins
from .baselines import baselines
from .bounds import clip
from ..train.depth import DepthWarning, outside, outside_message, training_range
from .intervals import check_level, half_widths, rolling_half_widths
from .quantiles import levels_for, unscaled, with_quantiles
from .rollout import as_array, carries, future_index, rollout
from .stream import Stream

CALIBRATION_ORIGINS = 1000  # at most this many validation forecasts calibrate an interval
MAX_STEPS = 1_000_000  # longer forecasts run for hours and fill the memory with their rows


class Forecaster:
    """A trained model over its series: forecasts, streams, backtests and evaluations.

    It holds what forecasting needs (``model``, ``scaler``, ``layout``, ``config``,
    ``device``), the ``series`` it forecasts on (a :class:`~windwidgets.data.series.SeriesState`:
    its rows, training part, season and MASE scale) and the two pieces of state kept between
    calls: ``_stream`` (a :class:`Stream`, or None) and ``_calibration`` (interval errors by
    number of steps). It knows nothing of the Run that shows it.
    """

    def __init__(self, model, scaler, layout, config, device, series: SeriesState):
        self.model, self.scaler, self.layout, self.config, self.device = model, scaler, layout, config, device
        self.series = series
        self._stream = None  # a Stream while forecast(keep_state=True) follows a feed
        self._calibration: dict = {}  # interval errors by steps (see forecast.intervals)
        self.calendar = calendar_of(layout, config.data.calendar)  # features made from the timestamps

    def __copy__(self) -> "Forecaster":
        """A shallow copy with its own series: rows appended to one do not reach the other."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.series = copy.copy(self.series)
        return twin

    def reset_state(self) -> None:
        """Drop the state kept by ``forecast(keep_state=True)``; the data stays as it is."""
        self._stream = None

    def forecast(self, steps, future=None, start=None, context=None, interval=None,
                 keep_state: bool = False) -> pd.DataFrame:
        """See :meth:`windwidgets.Run.forecast`."""
        _check_steps(steps)
        level = check_level(interval)
        if not isinstance(keep_state, (bool, np.bool_)):
            raise WindwidgetsError(f"`keep_state` ({keep_state!r}) must be True or False")
        if start is not None and context is not None:
            raise WindwidgetsError(
                "pass either `start` (a row of the run's data) or `context` (a new series), not both"
            )
        kept = levels_for(self.config)  # a quantile model's first block, every level
        if keep_state:
            if start is not None:
                raise WindwidgetsError(
                    f"`keep_state=True` follows the series from its latest row; `start` ({start!r}) "
                    "cannot be used with it. Leave `start` out, or set keep_state=False"
                )
            stream = self._stream if context is None and self._stream is not None else self._new_stream(context)
            labels = future_index(stream.index, steps)
            known = self._future_of(future, labels, None, 0)
            predicted = stream.forecast(steps, known, kept)  # (steps, outputs)
            self._stream = stream
        else:
            labels, rows, warmup = self._planned(steps, future, start, context)
            predicted = self._rolled(rows, warmup, steps, kept)
        return self._frame_of(predicted, labels, level, kept)

    def update(self, new_rows) -> None:
        """See :meth:`windwidgets.Run.update`."""
        self.append(self.checked(new_rows))

    def checked(self, new_rows) -> pd.DataFrame:
        """``new_rows`` made into the rows :meth:`append` adds (regularised and filled as the
        run's data was, checked to continue what they follow); nothing changes yet."""
        d, stream = self.config.data, self._stream
        if stream is not None and not stream.follows_data:
            rows = regularised(new_rows, self.layout, d.time, d.freq, d.fill, self.calendar, after=stream.frame,
                               time_unit=d.time_unit, fill_limit=d.fill_limit)
            return checked_rows(rows, self.layout, stream.index, d.time, self.calendar, time_unit=d.time_unit)
        return self.series.checked(new_rows, self.layout, d.time, self.calendar, d.freq, d.fill, d.time_unit,
                                   d.fill_limit)

    def append(self, rows: pd.DataFrame) -> None:
        """Add rows that :meth:`checked` made: to the stream kept, and to the series when the
        stream follows it (the stream first: one that fails leaves the series as it was)."""
        stream = self._stream
        if stream is not None:
            stream.append(rows)
            if not stream.follows_data:
                return
        self.series.append(rows)
        self._calibration.clear()

    def backtest(self, steps=None, stride=None, interval=None) -> Backtest:
        """See :meth:`windwidgets.Run.backtest`."""
        steps, stride, level = self._backtest_settings(steps, stride, interval)
        return self._with_interval(self._backtest(steps, stride), level)

    def _backtest_settings(self, steps, stride, interval) -> tuple:
        """(steps, stride, level) of a backtest, each checked, with their defaults."""
        steps = self.config.data.horizon if steps is None else steps
        _check_steps(steps)
        stride = steps if stride is None else stride
        _check_steps(stride, "stride")
        return steps, stride, check_level(interval)

    def _with_interval(self, result: Backtest, level: float | None) -> Backtest:
        """``result`` with bounds at ``level`` from the errors of its earlier origins."""
        if level is not None:
            errors = np.abs(result.predictions["model"] - result.truth)  # (origins, steps, targets)
            widths = rolling_half_widths(errors, result.origins, result.steps, level)
            result.level = level
            result.lower = self._clipped(result.predictions["model"] - widths)
            result.upper = self._clipped(result.predictions["model"] + widths)
        return result

    def evaluate(self, steps=None, stride: int = 1) -> Evaluation:
        """See :meth:`windwidgets.Run.evaluate`."""
        result = self.backtest(steps, stride)
        table = result.metrics()
        values = table.loc["model"] if result.pooled_units else result.pooled().loc["model"]
        return Evaluation(values.to_dict(), table=table, backtest=result)

    # -- forecasts -----------------------------------------------------------------------------
    def _carry(self) -> bool:
        return carries(self.config.train.mode)

    def _least_context(self) -> int:
        """A model trained statefully learned from a zero state and any history; others from
        at least ``window`` rows."""
        return 1 if self.config.train.mode == "stateful" else self.config.data.window

    def _origin(self, start, context):
        """The frame to forecast from, the first predicted position and the warm-up length."""
        window = self.config.data.window
        if context is not None:
            frame = checked_context(self._regularised(context), self.layout, self._least_context(), window,
                                    self.config.data.time, self.calendar, self.config.data.time_unit)
            return frame, len(frame), min(window, len(frame))
        series = self.series
        origin, least = series.position(start), self._least_context()
        if origin < least:
            raise DataError(
                f"`start` ({start!r}) leaves {origin} rows before it; the model needs a window "
                f"of {least} rows, so start at position {least + (series.offset or 0)} or later"
            )
        return series.frame, origin, min(window, origin)

    def _new_stream(self, context) -> Stream:
        d = self.config.data
        if context is None:
            frame, follows = self.series.frame.iloc[-d.window :], True
        else:
            frame, follows = checked_context(self._regularised(context), self.layout, self._least_context(),
                                             d.window, d.time, self.calendar, d.time_unit), False
            frame = frame.iloc[-d.window :]
        return Stream(self.model, frame, self.scaler, self.layout, d.window, d.horizon, self.device, follows,
                      self._carry())

    def _regularised(self, context):
        """A context put on the run's time grid and filled as its data was (``freq``, ``fill``)."""
        d = self.config.data
        return regularised(context, self.layout, d.time, d.freq, d.fill, self.calendar, name="context",
                           time_unit=d.time_unit, fill_limit=d.fill_limit)

    def _future_of(self, future, labels: pd.Index, frame, origin: int):
        """The known-future covariates of the forecast rows, or None.

        A block model reads the covariates of its whole last block, also the rows past
        ``steps`` when ``steps`` is not a multiple of ``horizon``: those come from ``future`` or
        the data where they hold them, else the last given row is repeated. Returns
        (steps + horizon - 1, future covariates).
        """
        names = self.layout.future_covariates
        if not names:
            if future is not None:
                raise DataError(
                    "this model takes no future covariates, so `future` is not used; leave it out, "
                    "or train with future_covariates=[...] to use known-ahead inputs"
                )
            return None
        steps, extra = len(labels), self.config.data.horizon - 1
        if future is None and frame is not None and origin + steps <= len(frame):
            future = frame.iloc[origin : origin + steps + extra]  # what happened: forecasting the past
        time = self.config.data.time
        unit = self.config.data.time_unit
        values = future_values(future, names, labels, time, self.calendar, unit)  # (steps, future covariates)
        if not extra:
            return values
        try:
            return future_values(future, names, labels.append(future_index(labels, extra)), time,
                                 self.calendar, unit)
        except DataError:  # the rows past `steps` are not known
            return np.concatenate([values, np.repeat(values[-1:], extra, axis=0)])

    def _planned(self, steps: int, future, start, context) -> tuple:
        """(labels, encoded rows, warmup) of a forecast of ``steps`` rows: the labels of the
        forecast rows, and the (warmup + steps, inputs) rows :meth:`_rolled` rolls."""
        frame, origin, warmup = self._origin(start, context)
        labels = future_index(frame.index[:origin], steps)
        known = self._future_of(future, labels, frame, origin)
        self._depth(frame.iloc[origin - warmup : origin], "the rows this forecast reads")
        if known is not None:
            self._depth(pd.DataFrame(known, columns=list(self.layout.future_covariates)),
                        "the future covariates of this forecast")
        return labels, self._rollout_rows(frame.iloc[:origin], known, origin, steps, warmup), warmup

    def _rollout(self, known: pd.DataFrame, future: np.ndarray | None, origin: int, steps: int,
                 warmup: int) -> torch.Tensor:
        """Scaled predictions (steps, outputs) after the rows ``known``."""
        return self._rolled(self._rollout_rows(known, future, origin, steps, warmup), warmup, steps)

    def _rolled(self, rows: torch.Tensor, warmup: int, steps: int, levels=None) -> torch.Tensor:
        """Scaled predictions (steps, outputs) of the ``rows`` :meth:`_rollout_rows` made; a
        quantile model's first block, every level, joins ``levels`` (see :func:`levels_for`)."""
        d = self.config.data
        self.model.eval()
        return rollout(self.model, rows, warmup, steps, d.window, d.horizon, len(self.layout.outputs),
                       self._carry(), warmup, levels)

    def _rollout_rows(self, known: pd.DataFrame, future: np.ndarray | None, origin: int, steps: int,
                      warmup: int) -> torch.Tensor:
        """The (warmup + steps, inputs) encoded rows a forecast rolls: the last ``warmup`` of
        the ``origin`` rows ``known``, then the forecast rows with their future covariates
        (scaling is row by row and the covariates lead from later rows, so the rows before
        are never needed); a panel stacks those of its series and rolls them in one batch."""
        before = known.iloc[origin - warmup : origin].to_numpy(dtype=np.float64)  # (warmup, inputs)
        rows = ahead_rows(self.layout, steps if future is None else len(future), future, before[-1])  # (rows, inputs)
        raw = np.concatenate([before, rows])
        return self._encoded(raw)[: warmup + steps]  # (warmup + steps, inputs)

    def _encoded(self, raw: np.ndarray) -> torch.Tensor:
        values = torch.tensor(raw, dtype=torch.float32)  # (rows, inputs)
        return encode(values, self.scaler, self.layout, self.config.data.horizon).to(self.device)

    def _frame_of(self, predicted: torch.Tensor, labels: pd.Index, level: float | None, kept=None) -> pd.DataFrame:
        """Original units, one column per target, plus ``<target>_lower``/``_upper`` bounds and,
        from a quantile model's first block (``kept``), ``<target>_q<level>`` columns."""
        outputs, targets = len(self.layout.outputs), list(self.layout.targets)
        values = as_array(self.scaler.inverse(predicted, slice(0, outputs)))[:, : len(targets)]  # (steps, targets)
        values = self._clipped(values)
        frame = (pd.DataFrame(values, index=labels, columns=targets) if level is None else
                 self._banded(values, labels, level))
        if kept:
            quantiles = unscaled(kept, self.scaler, outputs, len(targets), len(labels), self._clipped)[0]
            frame = with_quantiles(frame, quantiles, targets, self.config.train.quantiles)  # (steps, targets, levels)
        return frame

    def _banded(self, values: np.ndarray, labels: pd.Index, level: float) -> pd.DataFrame:
        """The forecast ``values`` (steps, targets) with their conformal bounds at ``level``."""
        targets = list(self.layout.targets)
        widths = half_widths(self._calibrated(len(labels)), level)  # (steps, targets)
        lower, upper = self._clipped(values - widths), self._clipped(values + widths)
        columns = {name: values[:, j] for j, name in enumerate(targets)}
        for j, name in enumerate(targets):
            columns[f"{name}_lower"] = lower[:, j]
            columns[f"{name}_upper"] = upper[:, j]
        frame = pd.DataFrame(columns, index=labels)
        frame.attrs["interval"] = level  # the bands' level, for the figure's legend
        return frame

    def _clipped(self, values: np.ndarray) -> np.ndarray:
        """``values`` (..., targets) clipped to the targets' physical bounds (``bounds=``)."""
        return clip(values, self.config.data.bounds, self.layout.targets)

    def _calibrated(self, steps: int) -> np.ndarray:
        """Absolute errors (origins, steps, targets) of rolled validation forecasts of ``steps``."""
        if steps not in self._calibration:
            rows = len(self.series.frame) - self.series.n_train
            self._held_out(rows, "`interval` is calibrated on forecasts of rows it did not learn")
            if rows < steps:
                raise WindwidgetsError(
                    f"`interval` is calibrated on validation forecasts as long as the forecast; the "
                    f"validation part has {rows} rows, too few for `steps` ({steps}). Ask for at most "
                    f"{rows} steps with an interval, or train with a larger val_fraction"
                )
            self._calibrate(self._backtest(steps, self._calibration_stride(steps)))
        return self._calibration[steps]

    def _held_out(self, rows: int, why: str) -> None:
        """Refuse, saying why, where a refit has learned every row and none came since."""
        if not rows and self.config.train.refit:
            raise WindwidgetsError(f"this model learned every row it was given (refit=True) and {why}; pass later "
                                   "rows first with run.update(rows), or train without refit to score it on the "
                                   "validation rows")

    def _calibration_stride(self, steps: int) -> int:
        """The stride of the validation forecasts that calibrate an interval of ``steps``."""
        return max(1, (len(self.series.frame) - self.series.n_train - steps + 1) // CALIBRATION_ORIGINS)

    def _calibrate(self, result: Backtest) -> None:
        """Keep the absolute errors of ``result`` as the calibration of its number of steps."""
        self._calibration[result.steps] = np.abs(result.predictions["model"] - result.truth)

    # -- backtests -----------------------------------------------------------------------------
    def _backtest(self, steps: int, stride: int) -> Backtest:
        d, outputs = self.config.data, len(self.layout.outputs)
        origins = self._origins(steps, stride)
        encoded = self._encoded(self.series.frame.to_numpy(dtype=np.float64))  # (rows, inputs)
        self.model.eval()
        kept = levels_for(self.config)
        predicted = rolled_forecasts(self.model, encoded, origins, steps, d.window, d.horizon, outputs,
                                     self._carry(), levels=kept)
        return self._scored(predicted, origins, steps, kept)

    def _origins(self, steps: int, stride: int) -> np.ndarray:
        """The first predicted rows of a backtest's forecasts; refused when there are none."""
        rows, n_train = len(self.series.frame), self.series.n_train
        self._held_out(rows - n_train, "a backtest scores forecasts of rows it did not learn")
        origins = validation_origins(n_train, rows, steps, stride)
        if not len(origins):
            raise DataError(
                f"`steps` ({steps}) is longer than the validation part ({rows - n_train} rows); "
                f"ask for at most {rows - n_train} steps, or train with a larger val_fraction"
            )
        return origins

    def _scored(self, predicted: torch.Tensor, origins: np.ndarray, steps: int, kept=None) -> Backtest:
        """The Backtest of scaled forecasts ``predicted`` (origins, steps, outputs) from ``origins``;
        ``kept``: a quantile model's first blocks, every level, of those forecasts."""
        layout, series = self.layout, self.series
        outputs, targets = len(layout.outputs), len(layout.targets)
        values = as_array(self.scaler.inverse(predicted, slice(0, outputs)))[..., :targets]  # (origins, steps, targets)
        values = self._clipped(values)
        observed = series.columns(layout.targets)  # (rows, targets)
        truth = observed[origins[:, None] + np.arange(steps)[None, :]]  # (origins, steps, targets)
        predictions = {"model": values, **baselines(observed, origins, steps, series.season)}
        depth = self._depth(series.frame.iloc[max(0, origins[0] - self.config.data.window):], "the backtest's rows")
        quantiles = None
        if kept:
            # (origins, steps, targets, levels)
            every = unscaled(kept, self.scaler, outputs, targets, steps, self._clipped)
            quantiles = {level: every[..., k] for k, level in enumerate(self.config.train.quantiles)}
        return Backtest(truth, predictions, origins, series.frame.index, layout.targets, series.mase_scale,
                        same_units=bool(layout.grid), warnings=[depth] if depth else [], quantiles=quantiles)

    def _depth(self, rows: pd.DataFrame, where: str) -> str | None:
        """Warn, and say, when ``rows`` hold inputs far outside the training rows' range. Not
        for grids: a cell a pattern seldom visits has a tiny range of its own, and grids are
        scaled per channel, not per cell."""
        if self.layout.grid:
            return None
        # Not the statics: a series' own are one value, a new series' are checked over the series (PanelRun).
        series, inputs = self.series, [c for c in self.layout.inputs if c not in self.layout.statics]
        if getattr(self, "_range", (None,))[0] is not series.frame or self._range[1] != series.n_train:
            self._range = (series.frame, series.n_train,  # computed once per series, not per forecast
                           training_range(series.frame.iloc[: series.n_train][inputs].to_numpy(np.float64)))
        low, high, spread = self._range[2]
        kept = [inputs.index(c) for c in inputs if c in rows.columns]
        names = [inputs[j] for j in kept]
        message = outside_message(outside((low[kept], high[kept], spread[kept]), rows[names].to_numpy(np.float64),
                                          names), where)
        if message:
            warn(message, DepthWarning)
        return message


def _check_steps(steps, name: str = "steps") -> None:
    check_whole(name, steps, error=WindwidgetsError)
    if steps > MAX_STEPS:
        raise WindwidgetsError(f"`{name}` ({steps:,}) is more than one call forecasts (at most "
                               f"{MAX_STEPS:,} rows); ask for fewer")
