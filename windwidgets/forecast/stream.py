"""A model following a live series: its state is kept between calls and moved by new rows only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..data.frames import Layout
from ..data.prepare import encode
from ..data.scaling import Scaler
from ..data.statics import ahead_rows
from .rollout import roll


class Stream:
    """The state of a model after the rows it has read, advanced by each batch of new rows.

    Parameters
    ----------
    model : a forecaster.
    frame : the rows to start from, original units (the warm-up: the last ``window`` rows
        of a run's data or of a context).
    follows_data : True when the stream continues the run's own data (new rows join it).
    carry : carry the model's state (see :func:`~windwidgets.forecast.rollout.carries`):
        rows are read once into the state; otherwise the stream keeps the last ``window``
        rows and re-reads them for every forecast.

    The state lags the rows by ``lag`` rows: one row (the forecast needs a model output,
    which only a forward pass gives), or ``horizon`` rows with known-future covariates (each
    encoded row holds the covariates of ``horizon`` rows ahead, known only once the forecast
    is given them). A forecast copies the state, reads the lag rows and rolls on, so the
    stream's numbers equal one rollout warmed up over every row the stream has read.
    """

    def __init__(self, model, frame: pd.DataFrame, scaler: Scaler, layout: Layout, window: int,
                 horizon: int, device: torch.device, follows_data: bool, carry: bool):
        self.model, self.scaler, self.layout = model, scaler, layout
        self.window, self.horizon, self.device = window, horizon, device
        self.follows_data = follows_data
        self.carries_state = carry
        self.lag = horizon if layout.future_covariates else 1
        self.frame = frame.iloc[0:0]
        self.state, self.read = None, 0  # the model's state after rows [0, read) of frame
        self.append(frame)

    @property
    def index(self) -> pd.Index:
        return self.frame.index

    @torch.no_grad()
    def append(self, rows: pd.DataFrame) -> None:
        """Read new observed rows (checked, in the model's input columns) into the state.

        The state and rows change together, after the model has read the rows: a failure
        leaves the stream as it was.
        """
        frame = pd.concat([self.frame, rows]) if len(self.frame) else rows
        state, read = self.state, self.read
        if self.carries_state and len(frame) - self.lag > read:
            upto = len(frame) - self.lag
            encoded = self._encoded(frame.to_numpy(dtype=np.float64))  # (rows, inputs)
            self.model.eval()
            _, state = self.model(encoded[None, read:upto], state)  # (1, new rows, inputs) in
            read = upto
        self.frame, self.state, self.read = frame, state, read
        self._trim()

    def _trim(self) -> None:
        """Keep the rows a forecast can still need: one window, and the unread ones of a
        carried state."""
        unread = len(self.frame) - self.read if self.carries_state else 0
        keep = max(self.window, unread) + self.horizon
        drop = max(0, len(self.frame) - keep)
        if drop:
            self.frame = self.frame.iloc[drop:]
            self.read -= drop

    @torch.no_grad()
    def forecast(self, steps: int, future: np.ndarray | None, levels=None) -> torch.Tensor:
        """(steps, outputs) scaled predictions for the rows after the stream's last row.

        ``future`` holds the known-future covariates of those rows and of the ``horizon - 1``
        after them, (steps + horizon - 1, future), or None. ``levels``: a quantile model's
        :class:`~windwidgets.forecast.rollout.Levels`, which the first block's levels join.
        """
        known = self.frame.to_numpy(dtype=np.float64)  # (rows, inputs)
        rows = ahead_rows(self.layout, steps if future is None else len(future), future, known[-1])  # (rows, inputs)
        end = len(self.frame) + steps
        encoded = self._encoded(np.concatenate([known, rows]))[:end]
        outputs = len(self.layout.outputs)
        self.model.eval()
        if self.carries_state:
            sequences = encoded[None, self.read :].clone()  # (1, lag + steps, inputs)
            warmup = len(self.frame) - self.read
            return roll(self.model, sequences, warmup, self.window, self.horizon, outputs, True, self.state,
                        levels)[0]
        sequences = encoded[None, len(self.frame) - self.window :].clone()  # (1, window + steps, inputs)
        return roll(self.model, sequences, self.window, self.window, self.horizon, outputs, False, levels=levels)[0]

    def _encoded(self, values: np.ndarray) -> torch.Tensor:
        raw = torch.tensor(values, dtype=torch.float32)  # (rows, inputs)
        return encode(raw, self.scaler, self.layout, self.horizon).to(self.device)
