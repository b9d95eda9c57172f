"""An ensemble: several copies of a model, from different starting weights, whose forecast is
their mean.

The copies learn side by side as if each were fitted apart: in training each batch holds one
share per member, each member drawing its own order of the windows
(:class:`~windwidgets.data.windows.SideBySide`); a member reads only its share, and the
loss, the mean over all shares, gives it a k-th of its own error's gradient and nothing of
the others'. The trainer gives each member its whole gradient back, clips it by itself and
lets each keep the epoch of its own best validation forecasts: a member steps exactly as a
lone fit from the same first weights and order of windows (tests/test_ensemble.py). In evaluation the module returns the
members' mean: the history's validation figures, the intervals and every forecast are those
of the mean. Members learn on windows only: a carried state would be one per member.
"""
from __future__ import annotations

import torch
from torch import nn


class Mean(nn.Module):
    r"""The mean of ``members``' forecasts.

    .. math:: \hat y = \frac{1}{k} \sum_{i=1}^{k} f_i(x)

    Args:
        members: k forecasters of the same shapes, built from different seeds.

    Inputs: ``x`` (batch, window, inputs), in training (k * batch, window, inputs), one share
    per member; ``state`` (ignored: window mode); the keywords a member takes in training
    (``target``, shared out as ``x`` is, and ``fraction_done``); ``quantiles=True`` for the
    mean of each level of quantile members (sorted, as each member's are).

    Outputs: in training (k * batch, horizon, outputs), member after member; in evaluation
    (batch, horizon, outputs), their mean; and None for the state.

    Example::

        >>> from windwidgets.config import ModelConfig
        >>> from windwidgets.zoo import ModelSpec, build
        >>> spec = ModelSpec(input_size=3, output_size=2, horizon=4, window=8)
        >>> mean = Mean([build("lstm", spec, ModelConfig(hidden_size=8)) for _ in range(3)]).eval()
        >>> mean(torch.randn(5, 8, 3))[0].shape  # (batch, horizon, outputs)
        torch.Size([5, 4, 2])
    """

    modes = ("window",)

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.uses_targets = members[0].uses_targets

    def forward(self, x: torch.Tensor, state=None, **teaching):
        if not self.training:
            # k x (batch, horizon, outputs[, levels])
            predictions = [member(x, **teaching)[0] for member in self.members]
            return torch.stack(predictions).mean(dim=0), None  # (batch, horizon, outputs[, levels])
        k = len(self.members)  # x (k * batch, window, inputs): member i reads the i-th share
        target = teaching.pop("target", None)
        shares = target.chunk(k) if target is not None else [None] * k
        predictions = [member(part, **teaching, **({} if share is None else {"target": share}))[0]
                       for member, part, share in zip(self.members, x.chunk(k), shares)]
        return torch.cat(predictions), None  # (k * batch, horizon, outputs), member after member
