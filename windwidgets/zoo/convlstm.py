"""ConvLSTM: an LSTM over sequences of grids, convolutions in place of matrix products."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError, check_whole
from .registry import STACK, ModelSpec, register, settings



class ConvLSTMCell(nn.Module):
    """One ConvLSTM step: a single convolution over [x, h] gives the four gates.

    Inputs: ``x`` (batch, in_channels, rows, columns); ``h`` and ``c`` (batch, hidden_size,
    rows, columns). Outputs: the new ``h`` and ``c``, shaped like the inputs ``h`` and ``c``.
    """

    def __init__(self, in_channels: int, hidden_size: int, kernel_size: int, bias: bool):
        super().__init__()
        self.hidden_size = hidden_size
        self.conv = nn.Conv2d(in_channels + hidden_size, 4 * hidden_size, kernel_size,
                              padding="same", bias=bias)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        z = self.conv(torch.cat([x, h], dim=1))  # (batch, 4 hidden, rows, columns)
        i, f, g, o = z.chunk(4, dim=1)  # (batch, hidden, rows, columns) each
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class ConvLSTM(nn.Module):
    r"""Stacked ConvLSTM layers (Shi et al., 2015, without the peepholes), batch first.

    For each layer and step, with :math:`*` a convolution whose padding keeps the grid size:

    .. math::
        [i, f, g, o]_t = W * [X_t, H_{t-1}] + b, \quad
        C_t = \sigma(f_t) \odot C_{t-1} + \sigma(i_t) \odot \tanh(g_t), \quad
        H_t = \sigma(o_t) \odot \tanh(C_t)

    Args:
        in_channels: channels of each input grid.
        hidden_size: channels of the hidden state.
        num_layers: stacked layers. Default 1.
        kernel_size: side of the square convolution kernel (odd). Default 3.
        bias: bias terms in the gate convolutions. Default True.
        dropout: dropout between stacked layers. Default 0.
        bidirectional: a second stack reads the sequence backwards. Default False.

    Inputs: ``x`` (batch, time, channels, rows, columns); ``state`` None or ``(h, c)``, each
    (num_layers * directions, batch, hidden_size, rows, columns): pass back the state a call
    returned to continue the sequence where it stopped.
    Outputs: ``out`` (batch, time, directions * hidden_size, rows, columns) and ``(h, c)``.

    Example::

        >>> layer = ConvLSTM(in_channels=1, hidden_size=4, num_layers=2)
        >>> out, (h, c) = layer(torch.randn(2, 5, 1, 8, 8))
        >>> out.shape, h.shape
        (torch.Size([2, 5, 4, 8, 8]), torch.Size([2, 2, 4, 8, 8]))
    """

    def __init__(self, in_channels: int, hidden_size: int, num_layers: int = 1, kernel_size: int = 3,
                 bias: bool = True, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden_size, num_layers, dropout
        self.directions = 2 if bidirectional else 1
        self.cells = nn.ModuleList(
            ConvLSTMCell(in_channels if layer == 0 else hidden_size * self.directions, hidden_size,
                         kernel_size, bias)
            for layer in range(num_layers) for _ in range(self.directions)
        )

    def forward(self, x: torch.Tensor, state=None):
        batch, steps, _, rows, columns = x.shape
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.directions, batch, self.hidden_size, rows, columns)
            state = (zeros, zeros)
        h0, c0 = state  # (layers * directions, batch, hidden, rows, columns) each
        out, hs, cs = x, [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                out = nn.functional.dropout(out, self.dropout, training=True)
            outs = []
            for direction in range(self.directions):
                k = layer * self.directions + direction
                h, c, seq = h0[k], c0[k], []
                order = range(steps) if direction == 0 else range(steps - 1, -1, -1)
                for t in order:
                    h, c = self.cells[k](out[:, t], h, c)  # (batch, hidden, rows, columns) each
                    seq.append(h)
                outs.append(torch.stack(seq if direction == 0 else seq[::-1], dim=1))  # (batch, time, hidden, rows, columns)
                hs.append(h)
                cs.append(c)
            out = torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]  # (batch, time, d * hidden, rows, columns)
        return out, (torch.stack(hs), torch.stack(cs))


class ConvLSTMForecaster(nn.Module):
    r"""Forecasts grids: stacked ConvLSTM layers, then a 1x1 convolution of the last hidden
    grid to ``horizon`` grids.

    The recurrence is :class:`ConvLSTM`'s; then :math:`\hat Y = W_o * H_T + b_o`, with
    ``horizon * channels`` output channels. The hidden state is returned and accepted, so a
    rollout reads the window once and then feeds one new block at a time.

    Args:
        spec: the data's shapes; ``spec.extra["grid"]`` is (channels, rows, columns).
        hidden_size: channels of the hidden state. Default 64 (16 is plenty for small grids).
        num_layers: stacked layers. Default 2.
        bias: bias terms in the convolutions. Default True.
        dropout: dropout between stacked layers. Default 0.
        bidirectional: read the window both ways; a rollout then re-reads it. Default False.
        kernel_size: the cells each convolution sees along a side; padding keeps the grid
            size. Default 3.

    Inputs: ``x`` (batch, time, channels * rows * columns), rows of flattened grids as the
    data layer stores them, or (batch, time, channels, rows, columns); optional ``state``.
    Outputs: ``(y, state)``: ``y`` (batch, horizon, channels * rows * columns), or
    (batch, horizon, channels, rows, columns) for a 5-D input; (batch, time, horizon, ...)
    with ``every_step=True``.

    Example::

        >>> model = ConvLSTMForecaster(ModelSpec(256, 256, 1, 8, {"grid": (1, 16, 16)}), hidden_size=8)
        >>> y, state = model(torch.randn(4, 8, 1, 16, 16))
        >>> y.shape, state[0].shape
        (torch.Size([4, 1, 1, 16, 16]), torch.Size([2, 4, 8, 16, 16]))
    """

    def __init__(self, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, kernel_size: int = 3):
        super().__init__()
        grid = tuple(spec.extra.get("grid", ()))
        if len(grid) != 3:
            raise ModelError("convlstm reads sequences of grids: pass data as an array (time, channels, "
                             "rows, columns) or (time, rows, columns), e.g. ww.datasets.grid()")
        kernel_size = check_whole("kernel_size", kernel_size, error=ModelError, prefix="convlstm option",
                                  hint=", e.g. options={'kernel_size': 3}")
        self.grid, self.horizon = grid, spec.horizon
        self.rnn = ConvLSTM(grid[0], hidden_size, num_layers, kernel_size, bias,
                            dropout if num_layers > 1 else 0.0, bidirectional)
        self.head = nn.Conv2d(hidden_size * self.rnn.directions, spec.horizon * grid[0], 1)
        self.carries_state = not bidirectional
        self.modes = ("window", "stateful") if self.carries_state else ("window",)

    def forward(self, x: torch.Tensor, state=None, every_step: bool = False):
        grids = x.dim() == 5
        if not grids:
            x = x.unflatten(2, self.grid)  # (batch, time, channels, rows, columns)
        out, state = self.rnn(x, state)  # (batch, time, hidden * directions, rows, columns)
        if not every_step:
            out = out[:, -1:]  # (batch, 1, hidden * directions, rows, columns)
        y = self.head(out.flatten(0, 1))  # (batch * time, horizon * channels, rows, columns)
        y = y.unflatten(1, (self.horizon, self.grid[0])).unflatten(0, out.shape[:2])  # (batch, time, horizon, channels, rows, columns)
        if not every_step:
            y = y[:, 0]  # (batch, horizon, channels, rows, columns)
        return (y if grids else y.flatten(-3)), state  # (..., horizon, channels * rows * columns)


def build(spec: ModelSpec, config) -> ConvLSTMForecaster:
    """ConvLSTM: convolutions in the gates, for sequences of grids (option: kernel_size)"""
    return ConvLSTMForecaster(spec, **settings(config))


register("convlstm", build, knobs=STACK, options=("kernel_size",), tasks=("forecast",), reads=("grids",))
