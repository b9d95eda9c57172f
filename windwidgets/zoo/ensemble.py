"""An ensemble: several copies of a model, from different starting weights, whose forecast is
their mean.

The copies learn side by side, each from its own error: in training the module returns
every member's prediction, stacked along the batch, and :class:`MemberLoss` scores each
against the same targets; the gradient a member gets comes from its own prediction alone,
as if it trained by itself on the same batches (Adam keeps its statistics per weight, and
the trainer clips each member's gradient alone). In evaluation (validation, forecasts) it
returns the members' mean, so the epoch kept, the intervals and every forecast are those of
the mean. Members learn on windows only: a carried state would be one per member.
"""
from __future__ import annotations

import torch
from torch import nn


class Mean(nn.Module):
    r"""The mean of ``members``' forecasts.

    .. math:: \hat y = \frac{1}{k} \sum_{i=1}^{k} f_i(x)

    Args:
        members: k forecasters of the same shapes, built from different seeds.

    Inputs: ``x`` (batch, window, inputs), ``state`` (ignored: window mode), and the
    keywords a member takes in training (``target``, ``fraction_done``).

    Outputs: in training (batch * k, horizon, outputs), member after member; in evaluation
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
        predictions = [member(x, **teaching)[0] for member in self.members]  # k x (batch, horizon, outputs)
        if self.training:
            return torch.cat(predictions), None  # (k * batch, horizon, outputs)
        return torch.stack(predictions).mean(dim=0), None  # (batch, horizon, outputs)


class MemberLoss(nn.Module):
    """``loss`` of each member's prediction against the targets, averaged over the members:
    a prediction of k times the targets' batch is the members' (training); one of the
    targets' batch is the mean's (validation)."""

    def __init__(self, loss: nn.Module, members: int):
        super().__init__()
        self.loss, self.members = loss, members

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if prediction.shape[0] == self.members * target.shape[0]:
            target = target.repeat(self.members, *([1] * (target.dim() - 1)))  # (k * batch, ...)
        return self.loss(prediction, target)
