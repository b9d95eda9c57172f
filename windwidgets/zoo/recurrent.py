"""Elman RNN, LSTM and GRU forecasters on torch's fused recurrent layers."""
from __future__ import annotations

import torch
from torch import nn

from .registry import STACK, ModelSpec, register, settings



class RecurrentForecaster(nn.Module):
    r"""A stack of recurrent layers read by a linear head at the last step.

    The recurrence is torch's, for each layer and step :math:`t`:

    - ``rnn``:  :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`, :math:`\phi`
      tanh or relu;
    - ``lstm``: gates :math:`i, f, g, o` from :math:`x_t, h_{t-1}`;
      :math:`c_t = f \odot c_{t-1} + i \odot g`, :math:`h_t = o \odot \tanh(c_t)`;
    - ``gru``: gates :math:`r, z`; :math:`n_t = \tanh(W_{in} x_t + r \odot (W_{hn} h_{t-1}))`,
      :math:`h_t = (1 - z) \odot n_t + z \odot h_{t-1}`;

    then :math:`\hat y = W_o h_T + b_o`, reshaped to ``(horizon, output_size)``.

    Args:
        cell: "rnn", "lstm" or "gru".
        spec: the data's shapes (input_size, output_size, horizon).
        hidden_size: features of the hidden state. Default 64.
        num_layers: stacked layers. Default 2.
        nonlinearity: "tanh" or "relu" (``rnn`` only). Default "tanh".
        bias: bias terms in the layers. Default True.
        dropout: dropout between stacked layers. Default 0.
        bidirectional: read the window both ways. A two-way model cannot carry its state
            forward, so a rollout re-reads the window each block. Default False.

    Inputs: ``x`` of shape (batch, time, input_size), optional ``state`` (as torch's layer).
    Outputs: ``(y, state)``; ``y`` is (batch, horizon, output_size), or
    (batch, time, horizon, output_size) with ``every_step=True``.

    Example::

        >>> model = RecurrentForecaster("gru", ModelSpec(3, 1, 1, 48), hidden_size=16)
        >>> y, state = model(torch.randn(8, 48, 3))
        >>> y.shape
        torch.Size([8, 1, 1])
    """

    # The preferred mode first (benchmarks/learn_fast.py): the gated cells learn best, and
    # fastest per epoch, on windows; the Elman RNN's window-trained rollouts drift (the
    # tutorial's sine decays), so it learns on sequences with a free-running part.
    MODES = {"rnn": ("sequence", "window", "stateful"), "lstm": ("window", "sequence", "stateful"),
             "gru": ("window", "sequence", "stateful")}

    def __init__(self, cell: str, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2,
                 nonlinearity: str = "tanh", bias: bool = True, dropout: float = 0.0,
                 bidirectional: bool = False):
        super().__init__()
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = layer(spec.input_size, hidden_size, num_layers, bias=bias, batch_first=True,
                         dropout=dropout if num_layers > 1 else 0.0,
                         bidirectional=bidirectional, **extra)
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(hidden_size * directions, spec.horizon * spec.output_size)
        self.shape = (spec.horizon, spec.output_size)
        self.carries_state = not bidirectional
        self.modes = self.MODES[cell] if self.carries_state else ("window",)

    def forward(self, x: torch.Tensor, state=None, every_step: bool = False):
        if x.shape[1] == 1 and state is not None and not every_step and self.carries_state and not (
                self.training and self.rnn.dropout):  # the cells skip the dropout between layers
            return self._step(x, state)
        out, state = self.rnn(x, state)  # (batch, time, hidden * directions)
        if not every_step:
            out = out[:, -1]  # (batch, hidden * directions)
        y = self.head(out)  # (..., horizon * outputs)
        return y.unflatten(-1, self.shape), state  # (..., horizon, outputs)


    def _step(self, x: torch.Tensor, state):
        """One time step through torch's cell kernels: a rollout's inner loop (and the
        free-running part of sequence training), where the fused layer's per-call set-up
        would cost more than the step itself."""
        rnn, lstm = self.rnn, isinstance(self.rnn, nn.LSTM)
        cell = CELLS[rnn.mode]
        h, c = state if lstm else (state, None)  # (layers, batch, hidden) each
        out, hs, cs = x[:, 0], [], []  # (batch, inputs)
        for layer, weights in enumerate(rnn.all_weights):  # [w_ih, w_hh(, b_ih, b_hh)] per layer
            if lstm:
                out, c_layer = cell(out, (h[layer], c[layer]), *weights)  # (batch, hidden) each
                cs.append(c_layer)
            else:
                out = cell(out, h[layer], *weights)  # (batch, hidden)
            hs.append(out)
        y = self.head(out).unflatten(-1, self.shape)  # (batch, horizon, outputs)
        h = torch.stack(hs)  # (layers, batch, hidden)
        return y, ((h, torch.stack(cs)) if lstm else h)


CELLS = {"LSTM": torch.lstm_cell, "GRU": torch.gru_cell, "RNN_TANH": torch.rnn_tanh_cell,
         "RNN_RELU": torch.rnn_relu_cell}


for cell, summary, knobs in (("rnn", "Elman RNN (tanh or relu), torch's fused nn.RNN", STACK + ("nonlinearity",)),
                             ("lstm", "LSTM, torch's fused nn.LSTM", STACK),
                             ("gru", "GRU, torch's fused nn.GRU", STACK)):
    register(cell, lambda spec, config, cell=cell, knobs=knobs: RecurrentForecaster(cell, spec, **settings(config, knobs)),
             summary, knobs=knobs, options=())
