"""What a Run does with its trained model: forecasts, streams, backtests and evaluations.

These functions read a :class:`~windwidgets.Run`'s parts (``model``, ``frame``, ``layout``,
``scaler``, ``config``, ``n_train``, ``mase_scale``, ``device``) and keep the two pieces of
state a Run carries between calls: ``_stream`` (a :class:`Stream`, or None) and
``_calibration`` (interval errors by number of steps). The Run's methods only call them.

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

import numpy as np
import pandas as pd
import torch

from ..data.prepare import encode
from ..errors import DataError, WindwidgetsError
from .backtest import Backtest, Evaluation, rolled_forecasts, validation_origins
from .baselines import baselines
from .bounds import clip
from .inputs import checked_context, checked_rows, future_values  # noqa: F401 (Run uses checked_context)
from .intervals import check_level, half_widths, rolling_half_widths
from .rollout import as_array, carries, future_index, rollout, season_of
from .stream import Stream

CALIBRATION_ORIGINS = 1000  # at most this many validation forecasts calibrate an interval
MAX_STEPS = 1_000_000  # longer forecasts run for hours and fill the memory with their rows


def forecast(run, steps, future=None, start=None, context=None, interval=None,
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
    if keep_state:
        if start is not None:
            raise WindwidgetsError(
                f"`keep_state=True` follows the series from its latest row; `start` ({start!r}) "
                "cannot be used with it. Leave `start` out, or set keep_state=False"
            )
        stream = run._stream if context is None and run._stream is not None else _new_stream(run, context)
        labels = future_index(stream.index, steps)
        known = _future_of(run, future, labels, None, 0)
        predicted = stream.forecast(steps, known)  # (steps, outputs)
        run._stream = stream
    else:
        frame, origin, warmup = _origin(run, start, context)
        labels = future_index(frame.index[:origin], steps)
        known = _future_of(run, future, labels, frame, origin)
        predicted = _rollout(run, frame.iloc[:origin], known, origin, steps, warmup)
    return _frame_of(run, predicted, labels, level)


def update(run, new_rows) -> None:
    """See :meth:`windwidgets.Run.update`."""
    stream = run._stream
    if stream is not None and not stream.follows_data:
        stream.append(checked_rows(new_rows, run.layout, stream.index, run.config.data.time))
        return
    rows = checked_rows(new_rows, run.layout, run.frame.index, run.config.data.time)
    if stream is not None:
        stream.append(rows)
    run.frame = pd.concat([run.frame, rows])
    run._calibration.clear()


def backtest(run, steps=None, stride=None, interval=None) -> Backtest:
    """See :meth:`windwidgets.Run.backtest`."""
    steps = run.config.data.horizon if steps is None else steps
    _check_steps(steps)
    stride = steps if stride is None else stride
    _check_steps(stride, "stride")
    level = check_level(interval)
    result = _backtest(run, steps, stride)
    if level is not None:
        errors = np.abs(result.predictions["model"] - result.truth)  # (origins, steps, targets)
        widths = rolling_half_widths(errors, result.origins, steps, level)
        result.level = level
        result.lower = _clipped(run, result.predictions["model"] - widths)
        result.upper = _clipped(run, result.predictions["model"] + widths)
    return result


def evaluate(run, steps=None, stride: int = 1) -> Evaluation:
    """See :meth:`windwidgets.Run.evaluate`."""
    result = backtest(run, steps, stride)
    table = result.metrics()
    values = table.loc["model"] if result.pooled_units else result.pooled().loc["model"]
    return Evaluation(values.to_dict(), table=table, backtest=result)


# -- forecasts ---------------------------------------------------------------------------------
def _check_steps(steps, name: str = "steps") -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise WindwidgetsError(f"`{name}` ({steps!r}) must be a whole number of at least 1")
    if steps > MAX_STEPS:
        raise WindwidgetsError(f"`{name}` ({steps:,}) is more than one call forecasts (at most "
                               f"{MAX_STEPS:,} rows); ask for fewer")


def _carry(run) -> bool:
    return carries(run.config.train.mode)


def _least_context(run) -> int:
    """A model trained statefully learned from a zero state and any history; others from
    at least ``window`` rows."""
    return 1 if run.config.train.mode == "stateful" else run.config.data.window


def _origin(run, start, context):
    """The frame to forecast from, the first predicted position and the warm-up length."""
    window = run.config.data.window
    if context is not None:
        frame = checked_context(context, run.layout, _least_context(run), window, run.config.data.time)
        return frame, len(frame), min(window, len(frame))
    origin, least = run._position(start), _least_context(run)
    if origin < least:
        raise DataError(
            f"`start` ({start!r}) leaves {origin} rows before it; the model needs a window "
            f"of {least} rows, so start at position {least + (run.offset or 0)} or later"
        )
    return run.frame, origin, min(window, origin)


def _new_stream(run, context) -> Stream:
    d = run.config.data
    if context is None:
        frame, follows = run.frame.iloc[-d.window :], True
    else:
        frame, follows = checked_context(context, run.layout, _least_context(run), d.window, d.time), False
        frame = frame.iloc[-d.window :]
    return Stream(run.model, frame, run.scaler, run.layout, d.window, d.horizon, run.device, follows,
                  _carry(run))


def _future_of(run, future, labels: pd.Index, frame, origin: int):
    """The known-future covariates of the forecast rows, or None.

    A block model reads the covariates of its whole last block, also the rows past
    ``steps`` when ``steps`` is not a multiple of ``horizon``: those come from ``future`` or
    the data where they hold them, else the last given row is repeated. Returns
    (steps + horizon - 1, future covariates).
    """
    names = run.layout.future_covariates
    if not names:
        if future is not None:
            raise DataError(
                "this model takes no future covariates, so `future` is not used; leave it out, "
                "or train with future_covariates=[...] to use known-ahead inputs"
            )
        return None
    steps, extra = len(labels), run.config.data.horizon - 1
    if future is None and frame is not None and origin + steps <= len(frame):
        future = frame.iloc[origin : origin + steps + extra]  # what happened: forecasting the past
    time = run.config.data.time
    values = future_values(future, names, labels, time)  # (steps, future covariates)
    if not extra:
        return values
    try:
        return future_values(future, names, labels.append(future_index(labels, extra)), time)
    except DataError:  # the rows past `steps` are not known
        return np.concatenate([values, np.repeat(values[-1:], extra, axis=0)])


def _rollout(run, known: pd.DataFrame, future: np.ndarray | None, origin: int, steps: int,
             warmup: int) -> torch.Tensor:
    """Scaled predictions (steps, outputs) after the rows ``known``."""
    layout, d = run.layout, run.config.data
    rows = np.zeros((steps if future is None else len(future), len(layout.inputs)))  # (rows, inputs)
    if future is not None:
        rows[:, len(layout.outputs):] = future  # the predicted columns are never read
    raw = np.concatenate([known.to_numpy(dtype=np.float64), rows])  # (origin + rows, inputs)
    encoded = _encoded(run, raw)
    run.model.eval()
    return rollout(run.model, encoded, origin, steps, d.window, d.horizon, len(layout.outputs), _carry(run),
                   warmup)


def _encoded(run, raw: np.ndarray) -> torch.Tensor:
    values = torch.tensor(raw, dtype=torch.float32)  # (rows, inputs)
    return encode(values, run.scaler, run.layout, run.config.data.horizon).to(run.device)


def _frame_of(run, predicted: torch.Tensor, labels: pd.Index, level: float | None) -> pd.DataFrame:
    """Original units, one column per target, plus ``<target>_lower``/``_upper`` bounds."""
    outputs, targets = len(run.layout.outputs), list(run.layout.targets)
    values = as_array(run.scaler.inverse(predicted, slice(0, outputs)))[:, : len(targets)]  # (steps, targets)
    values = _clipped(run, values)
    if level is None:
        return pd.DataFrame(values, index=labels, columns=targets)
    widths = half_widths(_calibration(run, len(labels)), level)  # (steps, targets)
    lower, upper = _clipped(run, values - widths), _clipped(run, values + widths)
    columns = {name: values[:, j] for j, name in enumerate(targets)}
    for j, name in enumerate(targets):
        columns[f"{name}_lower"] = lower[:, j]
        columns[f"{name}_upper"] = upper[:, j]
    return pd.DataFrame(columns, index=labels)


def _clipped(run, values: np.ndarray) -> np.ndarray:
    """``values`` (..., targets) clipped to the targets' physical bounds (``bounds=``)."""
    return clip(values, run.config.data.bounds, run.layout.targets)


def _calibration(run, steps: int) -> np.ndarray:
    """Absolute errors (origins, steps, targets) of rolled validation forecasts of ``steps``."""
    if steps not in run._calibration:
        rows = len(run.frame) - run.n_train
        if rows < steps:
            raise WindwidgetsError(
                f"`interval` is calibrated on validation forecasts as long as the forecast; the "
                f"validation part has {rows} rows, too few for `steps` ({steps}). Ask for at most "
                f"{rows} steps with an interval, or train with a larger val_fraction"
            )
        stride = max(1, (rows - steps + 1) // CALIBRATION_ORIGINS)
        result = _backtest(run, steps, stride)
        run._calibration[steps] = np.abs(result.predictions["model"] - result.truth)
    return run._calibration[steps]


# -- backtests -------------------------------------------------------------------------------
def _backtest(run, steps: int, stride: int) -> Backtest:
    d, layout = run.config.data, run.layout
    rows = len(run.frame)
    origins = validation_origins(run.n_train, rows, steps, stride)
    if not len(origins):
        raise DataError(
            f"`steps` ({steps}) is longer than the validation part ({rows - run.n_train} rows); "
            f"ask for at most {rows - run.n_train} steps, or train with a larger val_fraction"
        )
    outputs, targets = len(layout.outputs), len(layout.targets)
    encoded = _encoded(run, run.frame.to_numpy(dtype=np.float64))  # (rows, inputs)
    run.model.eval()
    predicted = rolled_forecasts(run.model, encoded, origins, steps, d.window, d.horizon, outputs,
                                 _carry(run))
    values = as_array(run.scaler.inverse(predicted, slice(0, outputs)))[..., :targets]  # (origins, steps, targets)
    values = _clipped(run, values)
    observed = run.frame[list(layout.targets)].to_numpy(dtype=np.float64)  # (rows, targets)
    truth = observed[origins[:, None] + np.arange(steps)[None, :]]  # (origins, steps, targets)
    season = d.season or season_of(run.frame.index)
    predictions = {"model": values, **baselines(observed, origins, steps, season)}
    return Backtest(truth, predictions, origins, run.frame.index, layout.targets, run.mase_scale,
                    same_units=bool(layout.grid))
