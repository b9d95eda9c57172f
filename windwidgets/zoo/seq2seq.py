"""Encoder-decoder (sequence to sequence) for N-to-M forecasting."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError
from .registry import STACK, ModelSpec, register, settings



class Seq2SeqForecaster(nn.Module):
    r"""An LSTM encoder reads the window; an LSTM decoder writes the ``horizon`` steps one
    at a time, each from its own previous output and the known-future covariates of its step.

    .. math::
        (h_0, c_0) = \mathrm{Encoder}(x_1 \dots x_N), \qquad
        s_k = \mathrm{Decoder}(s_{k-1}, [\hat y_{k-1}, u_k]), \qquad \hat y_k = W_o s_k + b_o

    for :math:`k = 1 \dots M` (``horizon``), with :math:`\hat y_0` the last observed values and
    :math:`u_k` the future covariates of step :math:`k`. The data layer leads future
    covariates by ``horizon`` rows, so :math:`u_k` sits in row :math:`N - M + k` of the window.

    In training (``uses_targets``) the trainer hands the targets and the share of the fit
    done; the previous true value replaces :math:`\hat y_{k-1}` for each sample with
    probability ``ratio`` (teacher forcing), and the ratio decays linearly from
    ``teacher_forcing`` to 0 at ``free_running_from`` of the fit (scheduled sampling,
    Bengio et al. 2015), so that the model learns to run on its own predictions. Validation
    and forecasts always run free.

    The returned state is the encoder's, so a rollout can feed it the block just predicted
    and decode the next (``carries_state``), except with a bidirectional encoder.

    Args:
        spec: the data's shapes (input_size, output_size, horizon, window).
        hidden_size: features of both hidden states. Default 64.
        num_layers: stacked layers in the encoder and in the decoder. Default 2.
        bias: bias terms. Default True.
        dropout: dropout between stacked layers. Default 0.
        bidirectional: the encoder reads the window both ways; a linear bridge maps its two
            states to the decoder's start. Default False.
        teacher_forcing: the ratio at the start of training. Default 1.0.
        free_running_from: share of the fit after which the decoder always runs free. Default 0.7.

    Inputs: ``x`` (batch, time, input_size), optional encoder ``state`` ``(h, c)``; in training
    also ``target`` (batch, horizon, output_size) and ``fraction_done`` (0 to 1).
    Outputs: ``(y, state)``, ``y`` of shape (batch, horizon, output_size).

    Example::

        >>> model = Seq2SeqForecaster(ModelSpec(14, 1, 10, 50), hidden_size=16)  # 13 future covariates
        >>> y, state = model(torch.randn(8, 50, 14))
        >>> y.shape
        torch.Size([8, 10, 1])
    """

    uses_targets = True

    def __init__(self, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, teacher_forcing: float = 1.0,
                 free_running_from: float = 0.7):
        super().__init__()
        for name, value in (("teacher_forcing", teacher_forcing), ("free_running_from", free_running_from)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ModelError(f"seq2seq option `{name}` ({value!r}) must be a number, such as 0.5")
        if not 0.0 <= float(teacher_forcing) <= 1.0:
            raise ModelError(f"seq2seq option `teacher_forcing` ({teacher_forcing!r}) is a probability; "
                             "use a value from 0 (always free-running) to 1")
        if not 0.0 < float(free_running_from) <= 1.0:
            raise ModelError(f"seq2seq option `free_running_from` ({free_running_from!r}) is a share "
                             "of the fit; use a value in (0, 1], e.g. 0.7")
        self.outputs, self.horizon = spec.output_size, spec.horizon
        self.future = spec.input_size - spec.output_size  # known-ahead covariates per step
        self.teacher_forcing, self.free_running_from = float(teacher_forcing), float(free_running_from)
        dropout = dropout if num_layers > 1 else 0.0
        self.encoder = nn.LSTM(spec.input_size, hidden_size, num_layers, bias=bias, batch_first=True,
                               dropout=dropout, bidirectional=bidirectional)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size) if bidirectional else None
        # Cells, not a fused layer: the decoder takes one step per call, where the fused
        # layer's set-up (oneDNN on the CPU) costs far more than the step.
        self.decoder = nn.ModuleList(nn.LSTMCell(spec.input_size if layer == 0 else hidden_size,
                                                 hidden_size, bias=bias) for layer in range(num_layers))
        self.dropout = dropout
        self.head = nn.Linear(hidden_size, spec.output_size)
        self.carries_state = not bidirectional
        self.modes = ("window",)  # one block decoded from the end of a window: never scored every step

    def ratio(self, fraction_done: float) -> float:
        """The teacher-forcing ratio after ``fraction_done`` of the fit."""
        return self.teacher_forcing * max(0.0, 1.0 - fraction_done / self.free_running_from)

    def forward(self, x: torch.Tensor, state=None, target: torch.Tensor | None = None,
                fraction_done: float = 1.0, every_step: bool = False):
        if every_step:
            raise ModelError("seq2seq decodes one block from the end of the window and cannot be "
                             "scored at every step; use stateful=False")
        if self.future and x.shape[1] < self.horizon:
            raise ModelError(f"seq2seq reads the future covariates of its {self.horizon} predicted "
                             f"steps from the last rows of its input, which has only {x.shape[1]}; "
                             f"use a window of at least {self.horizon}")
        _, state = self.encoder(x, state)  # (layers * directions, batch, hidden) each
        h, c = (list(s.unbind(0)) for s in self._bridge(state))  # per layer: (batch, hidden)
        ratio = self.ratio(fraction_done) if (self.training and target is not None) else 0.0
        previous = x[:, -1, : self.outputs]  # (batch, outputs): the last observed values
        covariates = x[:, x.shape[1] - self.horizon :, self.outputs :]  # (batch, horizon, future)
        steps = []
        for k in range(self.horizon):
            out = torch.cat([previous, covariates[:, k]], dim=1)  # (batch, inputs)
            for layer, cell in enumerate(self.decoder):
                if layer and self.dropout and self.training:
                    out = nn.functional.dropout(out, self.dropout, training=True)
                h[layer], c[layer] = cell(out, (h[layer], c[layer]))  # (batch, hidden) each
                out = h[layer]
            y = self.head(out)  # (batch, outputs)
            steps.append(y)
            previous = y
            if ratio > 0.0:
                teach = torch.rand(y.shape[0], 1, device=y.device) < ratio  # (batch, 1)
                previous = torch.where(teach, target[:, k], y)
        return torch.stack(steps, dim=1), state  # (batch, horizon, outputs)

    def _bridge(self, state):
        if self.bridge is None:
            return state
        h, c = state  # (layers * 2, batch, hidden) each
        both = [s.unflatten(0, (-1, 2)).transpose(1, 2).flatten(2) for s in (h, c)]  # (layers, batch, 2 hidden)
        return tuple(torch.tanh(self.bridge(s)).contiguous() for s in both)  # (layers, batch, hidden)


def build(spec: ModelSpec, config) -> Seq2SeqForecaster:
    """Encoder-decoder for N-to-M forecasting, teacher forcing decaying to free-running (options: teacher_forcing, free_running_from)"""
    return Seq2SeqForecaster(spec, **settings(config))


register("seq2seq", build, knobs=STACK, options=("teacher_forcing", "free_running_from"),
         tasks=("forecast",))
