"""The losses a forecaster learns by (``loss=``): a point loss, or the pinball loss of
quantiles (``loss="quantile"``)."""
from __future__ import annotations

import torch
from torch import nn

from ..config_rules import levels_of

# config.loss -> the loss of a point forecast; a quantile model's point forecast is its median,
# which the absolute error scores (rolled validation forecasts, see tasks.forecast)
LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss, "quantile": nn.L1Loss}


class Pinball(nn.Module):
    r"""The pinball (quantile) loss, averaged over the levels, the steps and the outputs.

    .. math:: L = \frac{1}{|Q|} \sum_{\tau \in Q} \max\big(\tau (y - \hat q_\tau), (\tau - 1)(y - \hat q_\tau)\big)

    Its minimum over :math:`\hat q_\tau` is the :math:`\tau`-quantile of :math:`y`; at
    :math:`\tau = 0.5` it is half the absolute error.

    Args:
        levels: the quantile levels, sorted, 0.5 among them.

    Inputs: ``prediction`` (..., outputs, levels), ``truth`` (..., outputs).
    Outputs: a scalar.

    Example::

        >>> loss = Pinball((0.1, 0.5, 0.9))
        >>> float(loss(torch.zeros(1, 1, 3), torch.ones(1, 1)))  # (0.1 + 0.5 + 0.9) / 3
        0.5
    """

    def __init__(self, levels: tuple):
        super().__init__()
        self.levels, self.median = torch.tensor(levels), tuple(levels).index(0.5)

    def forward(self, prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        levels = self.levels.to(prediction)
        error = truth.unsqueeze(-1) - prediction  # (..., outputs, levels)
        return torch.maximum(levels * error, (levels - 1) * error).mean()

    def point(self, prediction: torch.Tensor) -> torch.Tensor:
        """The median of ``prediction`` (..., outputs, levels): what a rollout feeds back."""
        return prediction[..., self.median]  # (..., outputs)


def training_loss(config) -> nn.Module:
    """The loss module of the training settings ``config`` (a :class:`~windwidgets.config.TrainConfig`)."""
    levels = levels_of(config)
    return LOSSES[config.loss]() if levels is None else Pinball(levels)
