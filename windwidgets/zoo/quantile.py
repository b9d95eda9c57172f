"""Quantile forecasters (``loss="quantile"``): one output per target and level, the median
the point forecast.

The model is built as any other, asked for ``targets x levels`` outputs (``spec.output_size``
times the number of levels: a builder sees a wider head and nothing else); :class:`Heads` lays
those out with the level in front, (levels, ..., outputs), so that the wrappers of
:mod:`windwidgets.zoo.residual`, which add and scale per output, act on every level alike;
:class:`Quantiles`, outermost, sorts the levels (so they never cross) and returns the median,
the one value a rollout feeds back, or every level when asked (``quantiles=True``: the
training loss, the forecasts' quantile columns).

Why sorting: the levels are learned by separate outputs, which may cross where data is thin;
sorting them at each point (the rearrangement of Chernozhukov, Fernandez-Val and Galichon,
2010) gives monotone quantiles that are never further from the true ones than the crossed
ones were, whatever the wrappers between the head and the output (a residual's gate may turn
a spread around). A model that feeds its own outputs back inside its forward pass (a decoder
taught with its targets, as seq2seq) would read levels where it expects values, so it is
refused.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..errors import ConfigError


class Heads(nn.Module):
    r"""A forecaster's ``outputs x levels`` values as (levels, ..., outputs).

    Args:
        model: a forecaster built with ``output_size = outputs * levels``.
        levels: the quantile levels, sorted.

    Inputs: as the wrapped model's (``x``, ``state``, ``every_step``...).
    Outputs: ``(y, state)``; ``y`` of shape (levels, batch, horizon, outputs), or
    (levels, batch, time, horizon, outputs) with ``every_step=True``.
    """

    def __init__(self, model: nn.Module, levels: tuple):
        super().__init__()
        self.model, self.count = model, len(levels)
        self.modes, self.uses_targets = model.modes, model.uses_targets
        self.carries_state = bool(getattr(model, "carries_state", False))

    def forward(self, x: torch.Tensor, state=None, **keywords):
        y, state = self.model(x, state, **keywords)  # (..., levels * outputs)
        return y.unflatten(-1, (self.count, -1)).movedim(-2, 0), state  # (levels, ..., outputs)


class Quantiles(nn.Module):
    r"""Sorted quantiles of a forecaster, its median as the forecast.

    .. math:: \hat q_{(1)} \le \dots \le \hat q_{(L)} = \mathrm{sort}(f(x)), \quad \hat y = \hat q_{0.5}

    Args:
        model: a forecaster whose output is (levels, ..., outputs) (:class:`Heads`, wrapped or not).
        levels: the quantile levels, sorted, 0.5 among them.

    Inputs: ``x`` (batch, time, inputs), ``state``; ``quantiles=True`` for every level; the
    keywords of the wrapped model.
    Outputs: ``(y, state)``; ``y`` (batch, horizon, outputs), the median, or with
    ``quantiles=True`` (batch, horizon, outputs, levels); a time axis after the batch's with
    ``every_step=True``.

    Example::

        >>> from windwidgets.config import ModelConfig
        >>> from windwidgets.zoo import ModelSpec, build
        >>> spec = ModelSpec(input_size=3, output_size=2 * 3, horizon=4, window=8)
        >>> model = Quantiles(Heads(build("gru", spec, ModelConfig(hidden_size=8)), (0.1, 0.5, 0.9)), (0.1, 0.5, 0.9))
        >>> x = torch.randn(5, 8, 3)
        >>> every = model(x, quantiles=True)[0]  # (batch, horizon, outputs, levels)
        >>> every.shape, bool((every.diff(dim=-1) >= 0).all()), torch.equal(every[..., 1], model(x)[0])
        (torch.Size([5, 4, 2, 3]), True, True)
    """

    def __init__(self, model: nn.Module, levels: tuple):
        super().__init__()
        self.model, self.levels = model, tuple(levels)
        self.median = self.levels.index(0.5)
        self.modes, self.uses_targets = model.modes, model.uses_targets
        self.carries_state = bool(getattr(model, "carries_state", False))

    def forward(self, x: torch.Tensor, state=None, quantiles: bool = False, **keywords):
        y, state = self.model(x, state, **keywords)  # (levels, ..., outputs)
        y = torch.sort(y, dim=0).values  # never crossing: the rearrangement
        return (y.movedim(0, -1) if quantiles else y[self.median]), state  # (..., outputs, levels) | (..., outputs)


def quantile_model(name: str, build, spec, levels: tuple, wrap) -> nn.Module:
    """The quantile forecaster of ``levels``: model ``name``, ``build(spec)``, asked for
    ``outputs x levels`` outputs, laid out by :class:`Heads`, inside ``wrap(model)`` (the run's
    residual and normalisation wrappers), inside :class:`Quantiles`."""
    given = f"`loss='quantile'` (quantiles={levels})"
    if spec.extra.get("grid"):
        raise ConfigError(f"{given} learns quantiles of a table's targets; it does not apply to grids (the "
                          "convlstm forecasts every cell): leave loss and quantiles out, and use interval= for bands")
    model = build(dataclasses.replace(spec, output_size=spec.output_size * len(levels)))
    if model.uses_targets:
        raise ConfigError(f"{given} gives the model one output per level, and model {name!r} feeds its own "
                          "outputs back into its decoder (it learns from the targets): pick a model that "
                          "forecasts a block at once (lstm, gru, rnn, peephole_lstm, cnn_lstm), or leave loss "
                          "and quantiles out")
    return Quantiles(wrap(Heads(model, levels)), levels)
