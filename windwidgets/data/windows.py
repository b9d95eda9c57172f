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
    segments : for a panel, ((start, rows, n_train), ...) of each series stacked in
        ``inputs``: windows are taken within each series only, never across two, and each
        series is split at its own ``n_train``. None: one series of all the rows.
    """

    def __init__(self, inputs, outputs, window: int, horizon: int, n_train: int, segments=None):
        count = inputs.shape[0] - window - horizon + 1
        self.x = sliding(inputs, window, 0, count)  # (count, window, inputs)
        self.y = sliding(outputs, horizon, window, count)  # (count, horizon, outputs)
        device = inputs.device
        segments = segments or ((0, inputs.shape[0], n_train),)
        self.train_index = torch.cat([torch.arange(start, start + max(0, n - window - horizon + 1), device=device)
                                      for start, _, n in segments])
        # a series with no validation rows (every row trains, as a refit's) has no validation windows
        self.val_index = torch.cat([torch.arange(start + n - window, max(start + n - window,
                                                                          start + rows - window - horizon + 1),
                                                 device=device) for start, rows, n in segments])

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


class SideBySide:
    """Several shuffled passes over the same windows at once, an ensemble member's each: a
    batch is theirs concatenated, (passes * batch, ...), pass after pass."""

    def __init__(self, passes: list[Batches]):
        self.passes = passes

    def __len__(self) -> int:
        return len(self.passes[0])

    def __iter__(self):
        for parts in zip(*self.passes):
            yield torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])


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
    rows : (first, end) the rows chunks may read, or a list of such ranges (the series of a
        panel: a chunk stays within one); on a short stretch the free part, then the chunk,
        are shortened to fit the shortest.
    generator : draws ``steps`` batches of ``batch_size`` chunks from random offsets (an
        epoch of training); without one, the chunks start every ``chunk`` rows, each batch
        once (validation).
    """

    def __init__(self, inputs, outputs, window: int, horizon: int, chunk: int, rows: tuple,
                 batch_size: int, steps: int = 0, generator: torch.Generator | None = None, free: int = 0):
        ranges = [rows] if isinstance(rows, tuple) else list(rows)
        room = min(end - first for first, end in ranges) - window + 1  # rows for the scored steps and after
        free = min(math.ceil(free / horizon) * horizon, max(0, (room - chunk - horizon) // horizon * horizon))
        chunk = min(chunk, room - horizon)
        tail = free + horizon if free else 0
        self.length = window - 1 + chunk  # rows read with the true inputs
        self.window, self.chunk, self.horizon, self.free = window, chunk, horizon, free
        # each range's first row and how many first rows fit in it (at least 1 in the shortest)
        self.starts = torch.tensor([first for first, _ in ranges])  # (ranges,)
        self.counts = torch.tensor([max(0, end - first - self.length - max(tail, horizon) + 1)
                                    for first, end in ranges])
        self.count = int(self.counts.sum())  # first rows that fit, over all ranges
        if generator is None:
            steps = math.ceil(len(self._every()) / batch_size)
        self.inputs, self.outputs = inputs, outputs
        self.x = sliding(inputs, self.length + tail)  # (rows - length - tail + 1, length + tail, inputs)
        self.batch_size, self.generator, self.steps = batch_size, generator, steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        device = self.inputs.device
        lead = torch.arange(self.horizon, device=device)
        scored = torch.arange(self.window - 1, self.length, device=device)  # (chunk,) row of each score
        every = self._every().to(device) if self.generator is None else None
        for k in range(self.steps):
            if every is not None:
                first = every[k * self.batch_size : (k + 1) * self.batch_size]  # (batch,)
            else:
                pick = torch.randint(0, self.count, (self.batch_size,), generator=self.generator)
                first = self._row(pick).to(device)  # (batch,)
            rows = first[:, None, None] + scored[None, :, None] + 1 + lead  # (batch, chunk, horizon)
            yield self.x[first], self.outputs[rows]  # (batch, length + tail, in), (batch, chunk, horizon, out)

    def first_rows(self) -> torch.Tensor:
        """Every row a training chunk may start at, over all ranges."""
        return self._row(torch.arange(self.count))

    def _row(self, pick: torch.Tensor) -> torch.Tensor:
        """The first rows of the chunks numbered ``pick`` (0 .. count - 1), range after range."""
        ends = torch.cumsum(self.counts, 0)  # (ranges,)
        which = torch.searchsorted(ends, pick, right=True)  # (batch,) the range of each
        return self.starts[which] + pick - (ends[which] - self.counts[which])

    def _every(self) -> torch.Tensor:
        """Validation: first rows every ``chunk`` rows within each range."""
        return torch.cat([torch.arange(int(start), int(start + count), self.chunk)
                          for start, count in zip(self.starts, self.counts) if count > 0])


def member_orders(generator: torch.Generator, count: int) -> list:
    """The orders of the windows of an ensemble's ``count`` members, one generator each, seeded
    from ``generator`` (the fit's seed)."""
    return [torch.Generator().manual_seed(int(seed)) for seed in torch.randint(2**62, (count,), generator=generator)]
