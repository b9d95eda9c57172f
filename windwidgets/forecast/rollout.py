"""Autoregressive rollout: predictions fed back as inputs, block after block."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch


@torch.no_grad()
def rollout(model, encoded: torch.Tensor, start: int, steps: int, window: int, horizon: int,
            outputs: int) -> torch.Tensor:
    """Predict rows ``start .. start + steps - 1`` of ``encoded`` from the rows before them.

    Parameters
    ----------
    encoded : (rows, inputs) scaled inputs (see :func:`windwidgets.data.encode`). Rows from
        ``start`` on need only their future-covariate columns; the predicted columns there are
        overwritten by the model's own predictions.
    start : the first row to predict; the ``window`` rows before it warm the model up.
    outputs : how many leading columns the model predicts.

    A model that carries its state reads the window once, then only each new block: a
    horizon-1 rollout costs one cell step per step. Other models re-read the last ``window``
    rows for every block.

    Returns (steps, outputs) scaled predictions.
    """
    sequence = encoded[: start + steps].clone()  # (start + steps, inputs)
    carries_state = getattr(model, "carries_state", False)
    x, state, t = sequence[start - window : start], None, start  # (window, inputs)
    while t < start + steps:
        y, state = model(x[None], state)  # (1, horizon, outputs)
        n = min(horizon, start + steps - t)
        sequence[t : t + n, :outputs] = y[0, :n]
        t += n
        if carries_state:
            x = sequence[t - horizon : t]  # (horizon, inputs): only the new block
        else:
            x, state = sequence[t - window : t], None  # (window, inputs)
    return sequence[start : start + steps, :outputs]


def future_index(index: pd.Index, steps: int) -> pd.Index:
    """The labels of the ``steps`` rows after ``index``: timestamps when it has a frequency,
    else the positions that follow."""
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        freq = index.freq or pd.infer_freq(index[-3:] if len(index) >= 3 else index)
        if freq is None:
            freq = index[-1] - index[-2]
        return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
    if pd.api.types.is_integer_dtype(index) and len(index):
        step = int(index[-1] - index[-2]) if len(index) > 1 else 1
        return pd.RangeIndex(int(index[-1]) + step, int(index[-1]) + step * (steps + 1), step,
                             name=index.name)
    return pd.RangeIndex(len(index), len(index) + steps)


def season_of(index: pd.Index) -> int:
    """The seasonal period implied by the index: a day of sub-daily steps, a week of days."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return 1
    step = index[1] - index[0]
    day = pd.Timedelta(days=1)
    if step < day and day % step == pd.Timedelta(0):
        return int(day / step)
    return 7 if step == day else 1


def as_array(values: torch.Tensor) -> np.ndarray:
    return values.detach().cpu().numpy().astype(np.float64)
