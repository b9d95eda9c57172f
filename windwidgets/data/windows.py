"""Sliding windows as strided views over one tensor of the series.

A window is never copied until its batch is gathered, so memory grows with the number of
rows, not rows x window. Batches are gathered by index on the device that holds the series.
"""
from __future__ import annotations

import math

import torch


def sliding(values: torch.Tensor, length: int, start: int = 0, count: int | None = None) -> torch.Tensor:
    """View ``values`` (rows, features) as (count, length, features) windows from ``start``.

    Window ``i`` is ``values[start + i : start + i + length]``; no data is copied.
    """
    rows, features = values.shape
    if count is None:
        count = rows - start - length + 1
    row_stride, column_stride = values.stride()
    return values.as_strided(  # (count, length, features)
        (count, length, features),
        (row_stride, row_stride, column_stride),
        values.storage_offset() + start * row_stride,
    )


class Windows:
    """Many-to-one training pairs: ``window`` input rows, then ``horizon`` target rows.

    Parameters
    ----------
    inputs : (rows, input features) tensor, scaled.
    outputs : (rows, output features) tensor, scaled: the columns the model predicts.
    window, horizon : input length and steps predicted per forward pass.
    n_train : rows of the training part; windows whose targets straddle it are dropped.
    """

    def __init__(self, inputs, outputs, window: int, horizon: int, n_train: int):
        count = inputs.shape[0] - window - horizon + 1
        self.x = sliding(inputs, window, 0, count)  # (count, window, inputs)
        self.y = sliding(outputs, horizon, window, count)  # (count, horizon, outputs)
        device = inputs.device
        self.train_index = torch.arange(0, n_train - window - horizon + 1, device=device)
        self.val_index = torch.arange(n_train - window, count, device=device)

    @property
    def shape(self) -> tuple[int, int]:
        """(window, horizon)."""
        return self.x.shape[1], self.y.shape[1]

    def batch(self, index: torch.Tensor):
        """Gather the windows at ``index``: x (batch, window, inputs), y (batch, horizon, outputs)."""
        return self.x[index], self.y[index]

    def batches(self, index: torch.Tensor, batch_size: int, generator: torch.Generator | None = None):
        """The batches over ``index``, shuffled when a generator is given (a sized iterable)."""
        return Batches(self, index, batch_size, generator)


class Batches:
    """Batches of windows over ``index``; shuffled as iteration starts, so each pass draws
    a new order from ``generator``."""

    def __init__(self, windows: Windows, index: torch.Tensor, batch_size: int,
                 generator: torch.Generator | None = None):
        self.windows, self.index, self.batch_size, self.generator = windows, index, batch_size, generator

    def __len__(self) -> int:
        return math.ceil(len(self.index) / self.batch_size)

    def __iter__(self):
        index = self.index
        if self.generator is not None:
            index = index[torch.randperm(len(index), generator=self.generator).to(index.device)]
        for first in range(0, len(index), self.batch_size):
            yield self.windows.batch(index[first : first + self.batch_size])


class Streams:
    """Consecutive chunks for stateful training (truncated backpropagation through time).

    The training rows are cut into ``batch_size`` contiguous streams (fewer when the series
    is too short to give each stream ``MIN_CHUNKS`` chunks); step ``k`` feeds chunk ``k`` of
    every stream, so the hidden state left by one step is the right start for the next.
    Every time step is scored against the ``horizon`` rows that follow it.
    """

    MIN_CHUNKS = 8

    def __init__(self, inputs, outputs, window: int, horizon: int, n_train: int, batch_size: int):
        rows = n_train - horizon  # the last inputs whose targets stay inside the train part
        streams = max(1, min(batch_size, rows // (window * self.MIN_CHUNKS)))
        self.length = rows // streams  # rows per stream
        self.chunks = self.length // window
        self.window = window
        self.x = sliding(inputs, window)  # (rows - window + 1, window, inputs)
        self.y = sliding(outputs, horizon, 1)  # (rows - horizon, horizon, outputs): after each row
        self.starts = torch.arange(streams, device=inputs.device) * self.length  # (streams,)

    def __len__(self) -> int:
        return self.chunks

    def __iter__(self):
        for k in range(self.chunks):
            index = self.starts + k * self.window  # (streams,)
            steps = index[:, None] + torch.arange(self.window, device=index.device)  # (streams, window)
            yield self.x[index], self.y[steps]  # (streams, window, in), (streams, window, horizon, out)


class Chunks:
    """Chunks for sequence training: the model reads ``window - 1`` rows of warm-up, then is
    scored at each of the next ``chunk`` steps.

    Step ``t`` of a chunk is scored against the ``horizon`` rows after it from the
    ``window``-th row on, so every score comes after at least ``window`` rows read from a
    zero state, as a forecast's warm-up reads them. Each forward pass learns from ``chunk``
    targets instead of one. ``x`` also holds ``free + horizon`` rows after the chunk when
    ``free`` > 0: the rows the trainer lets the model run through on its own predictions,
    block by block (``free`` is a multiple of ``horizon``), and their truth.

    Parameters
    ----------
    rows : (first, end) the rows chunks may read; on a short stretch the free part, then
        the chunk, are shortened to fit.
    generator : draws ``steps`` batches of ``batch_size`` chunks from random offsets (an
        epoch of training); without one, the chunks start every ``chunk`` rows, each batch
        once (validation).
    """

    def __init__(self, inputs, outputs, window: int, horizon: int, chunk: int, rows: tuple,
                 batch_size: int, steps: int = 0, generator: torch.Generator | None = None, free: int = 0):
        first, end = rows
        room = end - first - window + 1  # rows for the scored steps and the rows after them
        free = min(math.ceil(free / horizon) * horizon, max(0, (room - chunk - horizon) // horizon * horizon))
        chunk = min(chunk, room - horizon)
        tail = free + horizon if free else 0
        self.length = window - 1 + chunk  # rows read with the true inputs
        self.window, self.chunk, self.horizon, self.free = window, chunk, horizon, free
        self.start = first
        self.count = end - first - self.length - max(tail, horizon) + 1  # first rows that fit, at least 1
        if generator is None:
            steps = math.ceil(math.ceil(self.count / chunk) / batch_size)
        self.inputs, self.outputs = inputs, outputs
        self.x = sliding(inputs, self.length + tail)  # (rows - length - tail + 1, length + tail, inputs)
        self.batch_size, self.generator, self.steps = batch_size, generator, steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        device = self.inputs.device
        lead = torch.arange(self.horizon, device=device)
        scored = torch.arange(self.window - 1, self.length, device=device)  # (chunk,) row of each score
        every = torch.arange(self.start, self.start + self.count, self.chunk, device=device)
        for k in range(self.steps):
            if self.generator is None:
                first = every[k * self.batch_size : (k + 1) * self.batch_size]  # (batch,)
            else:
                first = self.start + torch.randint(0, self.count, (self.batch_size,), generator=self.generator)
                first = first.to(device)  # (batch,)
            rows = first[:, None, None] + scored[None, :, None] + 1 + lead  # (batch, chunk, horizon)
            yield self.x[first], self.outputs[rows]  # (batch, length + tail, in), (batch, chunk, horizon, out)
