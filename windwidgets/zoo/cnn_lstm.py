"""CNN-LSTM: a 1-D convolutional encoder over the window's features, then an LSTM."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError, check_whole
from .registry import STACK, ModelSpec, register, settings



class CNNLSTMForecaster(nn.Module):
    r"""Convolutions along time mix many (noisy) input channels into a few features per
    step; an LSTM reads those, and a linear head reads its last step.

    For each convolution layer :math:`u^{(k)}_t = \mathrm{ReLU}(\sum_{j} W^{(k)}_j u^{(k-1)}_{t+j} + b^{(k)})`
    (padding keeps the window's length), :math:`u^{(0)} = x`; then the LSTM of torch over
    :math:`u^{(K)}` and :math:`\hat y = W_o h_T + b_o`, reshaped to ``(horizon, output_size)``.

    The convolution looks at neighbouring steps on both sides, all inside the past window,
    so the model maps a whole window to a block: a rollout re-reads the last ``window`` rows
    for each block (``carries_state = False``).

    Args:
        spec: the data's shapes (input_size, output_size, horizon).
        hidden_size: features of the LSTM's hidden state. Default 64.
        num_layers: stacked LSTM layers. Default 2.
        bias: bias terms in the LSTM. Default True.
        dropout: dropout between stacked LSTM layers. Default 0.
        bidirectional: the LSTM reads the encoded window both ways. Default False.
        channels: features out of each convolution. Default ``hidden_size``.
        kernel_size: steps each convolution sees. Default 3.
        conv_layers: stacked convolutions. Default 1.

    Inputs: ``x`` (batch, time, input_size); ``state`` is accepted and ignored.
    Outputs: ``(y, None)``, ``y`` of shape (batch, horizon, output_size).

    Example::

        >>> model = CNNLSTMForecaster(ModelSpec(13, 1, 5, 50), hidden_size=16, kernel_size=5)
        >>> model(torch.randn(8, 50, 13))[0].shape
        torch.Size([8, 5, 1])
    """

    carries_state = False
    modes = ("window",)

    def __init__(self, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, channels: int | None = None,
                 kernel_size: int = 3, conv_layers: int = 1):
        super().__init__()
        channels = hidden_size if channels is None else channels
        channels, kernel_size, conv_layers = (
            check_whole(name, value, error=ModelError, prefix="cnn_lstm option",
                        hint=f"; pass it as options={{{name!r}: 3}}")
            for name, value in (("channels", channels), ("kernel_size", kernel_size), ("conv_layers", conv_layers)))
        layers, width = [], spec.input_size
        for _ in range(conv_layers):
            layers += [nn.Conv1d(width, channels, kernel_size, padding="same"), nn.ReLU()]
            width = channels
        self.encoder = nn.Sequential(*layers)
        self.rnn = nn.LSTM(channels, hidden_size, num_layers, bias=bias, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), spec.horizon * spec.output_size)
        self.shape = (spec.horizon, spec.output_size)

    def forward(self, x: torch.Tensor, state=None):
        features = self.encoder(x.transpose(1, 2))  # (batch, channels, time)
        out, _ = self.rnn(features.transpose(1, 2))  # (batch, time, hidden * directions)
        y = self.head(out[:, -1])  # (batch, horizon * outputs)
        return y.unflatten(-1, self.shape), None  # (batch, horizon, outputs)


def build(spec: ModelSpec, config) -> CNNLSTMForecaster:
    """CNN-LSTM: 1-D convolutions over the window's features, then an LSTM (options: channels, kernel_size, conv_layers)"""
    return CNNLSTMForecaster(spec, **settings(config))


register("cnn_lstm", build, knobs=STACK, options=("channels", "kernel_size", "conv_layers"))
