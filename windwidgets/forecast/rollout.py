"""Autoregressive rollout: predictions fed back as inputs, block after block."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from ..errors import DataError


CARRYING_MODES = ("sequence", "stateful")  # modes that teach a model to read its carried state


def carries(mode: str) -> bool:
    """Whether a model trained in ``mode`` rolls out by carrying its state on.

    A model trained on windows has only ever read ``window`` rows from a zero state: the
    state it would reach further on is one it never met, so it re-reads its last ``window``
    rows for every block. Sequence and stateful training score a model at every step of a
    carried state, so it reads a warm-up once and then one cell step per step.
    """
    return mode in CARRYING_MODES


class Levels(list):
    """Every level of a quantile model's rollouts (``loss="quantile"``), beside the median they
    feed back: the first block of each rollout, (batch, horizon, outputs, levels) scaled. Only
    the first: the blocks after it read the medians fed back as if they were known, so their
    spread would leave out the uncertainty of those (too narrow); ``interval=`` gives bands at
    every lead.

    ``median`` is the position of level 0.5 among the levels.
    """

    def __init__(self, median: int):
        super().__init__()
        self.median = median

    def around(self, model):
        """``model`` as one rollout calls it: every level asked for, the median given back."""
        first = []

        def call(x: torch.Tensor, state=None):
            y, state = model(x, state, quantiles=True)  # (batch, horizon, outputs, levels)
            if not first:
                first.append(y)
                self.append(y)
            return y[..., self.median], state  # (batch, horizon, outputs)
        return call


@torch.no_grad()
def rollout(model, encoded: torch.Tensor, start: int, steps: int, window: int, horizon: int,
            outputs: int, carry: bool, warmup: int | None = None, levels: Levels | None = None) -> torch.Tensor:
    """Predict rows ``start .. start + steps - 1`` of ``encoded`` from the rows before them.

    Parameters
    ----------
    encoded : (rows, inputs) scaled inputs (see :func:`windwidgets.data.encode`). Rows from
        ``start`` on need only their future-covariate columns; the predicted columns there are
        never read: they are cleared, then filled with the model's own predictions.
    start : the first row to predict.
    window, horizon : the model's input length and block length.
    outputs : how many leading columns the model predicts.
    carry : carry the state on (see :func:`carries`).
    warmup : rows before ``start`` read to warm the model up; default ``window``.
    levels : a quantile model's :class:`Levels`, which the first block's levels join.

    Returns (steps, outputs) scaled predictions.
    """
    warmup = window if warmup is None else warmup
    sequences = encoded[None, start - warmup : start + steps].clone()  # (1, warmup + steps, inputs)
    return roll(model, sequences, warmup, window, horizon, outputs, carry, levels=levels)[0]


@torch.no_grad()
def roll(model, sequences: torch.Tensor, warmup: int, window: int, horizon: int, outputs: int,
         carry: bool, state=None, levels: Levels | None = None) -> torch.Tensor:
    """Roll a batch of series forward at once: the core of forecasts, backtests and streams.

    Parameters
    ----------
    sequences : (batch, warmup + steps, inputs) scaled rows, written in place: ``warmup``
        known rows, then the rows to predict (only their future-covariate columns are read).
    warmup : known rows at the front of each sequence.
    carry : carry the state on (see :func:`carries`).
    state : the state before the first row (a stream's, when carrying), or None.
    levels : a quantile model's :class:`Levels`: the first block's every level joins it.

    Carrying, the model reads the warm-up once, then only each new block: a horizon-1
    rollout costs one cell step per step. Otherwise it re-reads the last ``window`` rows,
    from a zero state, for every block, as it learned. The predicted columns of the future rows are zeroed first, so no
    value from after the origin can reach a prediction.

    Returns (batch, steps, outputs) scaled predictions, a view of ``sequences``.
    """
    end = sequences.shape[1]
    if levels is not None:
        model = levels.around(model)
    sequences[:, warmup:, :outputs] = 0.0
    if not carry:
        t = warmup
        while t < end:
            y, _ = model(sequences[:, t - window : t])  # (batch, horizon, outputs)
            t = _put(sequences, y, t, end, outputs)
        return sequences[:, warmup:, :outputs]
    y, state = model(sequences[:, :warmup], state)  # the warm-up, read once
    t = _put(sequences, y, warmup, end, outputs)
    with _short_sequence_kernels(sequences.device):
        while t < end:
            y, state = model(sequences[:, t - horizon : t], state)  # only the new block
            t = _put(sequences, y, t, end, outputs)
    return sequences[:, warmup:, :outputs]


def _put(sequences: torch.Tensor, y: torch.Tensor, t: int, end: int, outputs: int) -> int:
    """Write the predicted block ``y`` (batch, horizon, outputs) at row ``t``; the next row."""
    n = min(y.shape[1], end - t)
    sequences[:, t : t + n, :outputs] = y[:, :n]
    return t + n


class _short_sequence_kernels:
    """oneDNN's recurrent kernels pay a set-up cost per call that dwarfs a one-block input on
    the CPU (about 120 us against 50 us for torch's own kernel per step of a 2-layer LSTM,
    hidden 64); long windows are faster with it, so it is off for the stepping loop alone."""

    def __init__(self, device: torch.device):
        self.cpu = device.type == "cpu"

    def __enter__(self):
        self.enabled = torch.backends.mkldnn.enabled
        if self.cpu:
            torch.backends.mkldnn.enabled = False

    def __exit__(self, *exc):
        torch.backends.mkldnn.enabled = self.enabled


def future_index(index: pd.Index, steps: int) -> pd.Index:
    """The labels of the ``steps`` rows after ``index``: timestamps when it has a frequency,
    else the positions that follow."""
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        freq = index.freq or infer_freq(index[-3:])
        if freq is None:
            freq = index[-1] - index[-2]
        try:
            return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            raise DataError(f"`steps` ({steps:,}) of {freq} after {index[-1]} run past the last time "
                            f"pandas can hold ({pd.Timestamp.max}); ask for fewer steps") from None
    if pd.api.types.is_integer_dtype(index) and len(index):
        step = int(index[-1] - index[-2]) if len(index) > 1 else 1
        return pd.RangeIndex(int(index[-1]) + step, int(index[-1]) + step * (steps + 1), step,
                             name=index.name)
    return pd.RangeIndex(len(index), len(index) + steps)


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    """The frequency string of ``index`` (at least 3 labels), or None when it has none."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():  # pandas 3 warns that the return type will change
        warnings.simplefilter("ignore", DeprecationWarning)
        freq = pd.infer_freq(index)
    return getattr(freq, "freqstr", freq)


def as_array(values: torch.Tensor) -> np.ndarray:
    return values.detach().cpu().numpy().astype(np.float64)
