"""A feed-forward forecaster over the window's last rows: the soft sensor's model."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError, check_whole
from .registry import ModelSpec, register, settings

CLAMP = 5.0  # scaled units: an input further out than this from its training mean reads as this far


class DenseForecaster(nn.Module):
    r"""A multilayer perceptron on the last ``lags`` rows of the window, flattened.

    .. math:: u = \mathrm{clamp}(\mathrm{vec}(x_{T-L+1..T}), -c, c), \quad
              h^{(k)} = \mathrm{GELU}(W_k h^{(k-1)} + b_k), \quad \hat y = W_o h^{(K)} + b_o

    with :math:`h^{(0)} = u`, :math:`K` = ``num_layers`` and :math:`c` = 5 scaled units.

    A soft sensor's quality answers to the process variables of the same few minutes, which
    the window's last rows hold (known-ahead inputs lead by ``horizon`` rows), far more than to
    a long memory. A direct map from those rows learns that with fewer weights than a
    recurrent stack, and it has no state to drift. The clamp keeps an instrument that drifts
    far out of its training range (a failing transmitter, a new operating point) from driving
    the output to any value: past 5 training standard deviations the input reads as 5, much
    as a tree's last split reads everything beyond it. This is the dense encoder of TiDE (Das
    et al., 2023) without its decoder.

    Args:
        spec: the data's shapes (input_size, output_size, horizon, window).
        hidden_size: units of each hidden layer. Default 64.
        num_layers: hidden layers. Default 2.
        dropout: dropout after each hidden layer. Default 0.
        bias: bias terms. Default True.
        lags: rows of the window read, the last one and those before it. Default 12, at most
            the window.

    Inputs: ``x`` (batch, time, input_size); ``state`` is accepted and ignored.
    Outputs: ``(y, None)``, ``y`` of shape (batch, horizon, output_size).

    Example::

        >>> model = DenseForecaster(ModelSpec(13, 1, 5, 50), hidden_size=16, lags=4)
        >>> model(torch.randn(8, 50, 13))[0].shape
        torch.Size([8, 5, 1])
    """

    carries_state = False
    modes = ("window",)
    clamps = CLAMP  # reads its inputs in scaled units: scaler=None would clip them in their own units

    def __init__(self, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 bias: bool = True, lags: int = 12):
        super().__init__()
        lags = check_whole("lags", lags, error=ModelError, prefix="mlp option", hint="; pass it as options={'lags': 12}")
        self.lags = min(lags, spec.window)
        layers, width = [], spec.input_size * self.lags
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size, bias=bias), nn.GELU(), nn.Dropout(dropout)]
            width = hidden_size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, spec.horizon * spec.output_size, bias=bias)
        self.shape = (spec.horizon, spec.output_size)

    def forward(self, x: torch.Tensor, state=None):
        rows = x[:, -self.lags :].clamp(-CLAMP, CLAMP).flatten(1)  # (batch, lags * inputs)
        y = self.head(self.body(rows))  # (batch, horizon * outputs)
        return y.unflatten(-1, self.shape), None  # (batch, horizon, outputs)


KNOBS = ("hidden_size", "num_layers", "dropout", "bias")


def build(spec: ModelSpec, config) -> DenseForecaster:
    """a feed-forward network on the window's last rows (soft sensors: inputs known ahead; option: lags)"""
    return DenseForecaster(spec, **settings(config, KNOBS))


register("mlp", build, knobs=KNOBS, options=("lags",), tasks=("forecast",))
