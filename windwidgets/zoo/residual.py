"""Wrappers around any built forecaster: keep what the simple models have, and read each
window in its own level and scale.

- :class:`Residual` (``residual=True``): the forecast is the last known value, plus a
  linear map of the window's last rows (an ARX model), plus the wrapped model's correction,
  the last gated by a weight that starts at zero. Before training it is persistence; the
  linear path has what ridge on lagged inputs has; the recurrent one learns what is left.
- :class:`WindowNorm` (``normalize="window"``): reversible instance normalisation (Kim et
  al., 2022, "RevIN"): each window less its mean, over its standard deviation, per column;
  the model forecasts in those units and the target's mean and deviation are put back on the
  output. A level or scale the training rows never showed (a drifting instrument, a new
  operating point) then reaches the model as the shapes it learned.

Both learn on windows only: a carried state would straddle windows of different levels.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

LAGS = 11  # rows the linear path reads: the last row and the 10 before it, as the ridge anchor does
FLOOR = 1e-2  # added to each window's variance (scaled units): a flat window is not blown up


class Residual(nn.Module):
    r"""The last value, a linear map of the last rows, and a gated correction.

    .. math:: \hat y_{T+h} = y_T + W\,\mathrm{vec}(x_{T-L+1..T}) + b + g \odot f(x)_h

    with :math:`y_T` the predicted columns of the window's last row, :math:`L` = min(11,
    window) rows of every input, :math:`f` the wrapped model and :math:`g` a weight per
    output. :math:`W`, :math:`b` and :math:`g` start at zero, so the untrained model is
    persistence and the known-ahead inputs enter first through the linear path.

    Args:
        model: a built forecaster (window contract).
        spec: the data's shapes (input_size, output_size, horizon, window).

    Inputs: ``x`` (batch, window, input_size); the keywords the wrapped model takes in training.
    Outputs: ``(y, None)``, ``y`` of shape (batch, horizon, output_size).

    Example::

        >>> from windwidgets.config import ModelConfig
        >>> from windwidgets.zoo import ModelSpec, build
        >>> spec = ModelSpec(input_size=3, output_size=1, horizon=2, window=8)
        >>> model = Residual(build("lstm", spec, ModelConfig(hidden_size=8)), spec)
        >>> x = torch.randn(4, 8, 3)
        >>> torch.equal(model(x)[0], x[:, -1:, :1].expand(4, 2, 1))  # persistence, untrained
        True
    """

    modes = ("window",)
    carries_state = False

    def __init__(self, model: nn.Module, spec):
        super().__init__()
        self.model = model
        self.outputs, self.lags = spec.output_size, min(LAGS, spec.window)
        self.shape = (spec.horizon, spec.output_size)
        self.linear = nn.Linear(spec.input_size * self.lags, spec.horizon * spec.output_size)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.gate = nn.Parameter(torch.zeros(spec.output_size))
        self.uses_targets = bool(getattr(model, "uses_targets", False))

    def forward(self, x: torch.Tensor, state=None, **teaching):
        correction, _ = self.model(x, **teaching)  # (batch, horizon, outputs)
        last = x[:, -1:, : self.outputs]  # (batch, 1, outputs)
        linear = self.linear(x[:, -self.lags :].flatten(1)).unflatten(-1, self.shape)  # (batch, horizon, outputs)
        return last + linear + self.gate * correction, None


class WindowNorm(nn.Module):
    r"""Reversible instance normalisation of each window, per column.

    .. math:: \tilde x = (x - \mu) / \sigma, \quad \hat y = \sigma_y\, f(\tilde x) + \mu_y

    with :math:`\mu, \sigma^2` each window's mean and variance (plus 0.01, in scaled units) over
    its rows, and :math:`\mu_y, \sigma_y` those of the predicted columns.

    Args:
        model: a built forecaster (window contract).
        spec: the data's shapes.

    Inputs: ``x`` (batch, window, input_size); in training the wrapped model's keywords (a
    ``target`` is normalised with its window's statistics).
    Outputs: ``(y, None)``, ``y`` of shape (batch, horizon, output_size).

    Example::

        >>> from windwidgets.config import ModelConfig
        >>> from windwidgets.zoo import ModelSpec, build
        >>> spec = ModelSpec(input_size=3, output_size=1, horizon=2, window=8)
        >>> model = WindowNorm(build("gru", spec, ModelConfig(hidden_size=8)), spec).eval()
        >>> x = torch.randn(4, 8, 3)
        >>> torch.allclose(model(x + 100)[0], model(x)[0] + 100, atol=1e-3)  # a level shift passes through
        True
    """

    modes = ("window",)
    carries_state = False

    def __init__(self, model: nn.Module, spec):
        super().__init__()
        self.model, self.outputs = model, spec.output_size
        self.uses_targets = bool(getattr(model, "uses_targets", False))

    def forward(self, x: torch.Tensor, state=None, **teaching):
        mean = x.mean(dim=1, keepdim=True)  # (batch, 1, inputs)
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + FLOOR)  # (batch, 1, inputs)
        mean_y, std_y = mean[..., : self.outputs], std[..., : self.outputs]  # (batch, 1, outputs)
        if teaching.get("target") is not None:
            teaching["target"] = (teaching["target"] - mean_y) / std_y  # (batch, horizon, outputs)
        y, _ = self.model((x - mean) / std, **teaching)  # (batch, horizon, outputs)
        return y * std_y + mean_y, None


def wrapped(model: nn.Module, spec, config) -> nn.Module:
    """``model`` inside the wrappers the run's ``config`` asks for (``residual``,
    ``normalize``): the residual inside, so its last value is read in the window's own units."""
    residual, normalize = config.model.residual, config.model.normalize
    if not residual and normalize is None:
        return model
    given = "residual=True" if residual else f"normalize={normalize!r}"
    if spec.extra.get("grid") or spec.extra.get("task", "forecast") != "forecast":
        raise ConfigError(f"`{given}` wraps forecasters of a table's rows; it does not apply to "
                          f"{'grids' if spec.extra.get('grid') else 'classifiers'}: leave it out")
    mode = "stateful" if config.train.stateful else config.train.mode
    if mode not in ("auto", "window"):
        raise ConfigError(f"`{given}` reads each window by itself, so the model learns on windows; "
                          f"mode={mode!r} would carry a state across them: leave `mode` out or pass mode='window'")
    if residual:
        model = Residual(model, spec)
    if normalize == "window":
        model = WindowNorm(model, spec)
    return model
