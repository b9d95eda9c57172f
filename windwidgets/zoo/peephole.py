"""FC-LSTM: an LSTM whose gates also read the cell state (peephole connections)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .registry import STACK, ModelSpec, register, settings



class PeepholeFunction(torch.autograd.Function):
    r"""One peephole LSTM layer over a whole sequence, with a hand-written backward pass.

    The input projections of every step are one matrix product before the loop, and the
    gradients of the weights are one matrix product after it; inside the loops each step
    costs a handful of tensor operations and no autograd bookkeeping. That is what makes it
    fast enough on the CPU, where a cell written step by step with autograd pays a graph
    node per operation (see ``benchmarks/zoo.py``).

    Inputs, time first: ``x`` (time, batch, input), ``h0`` and ``c0`` (batch, hidden),
    ``w_ih`` (4 hidden, input), ``w_hh`` (4 hidden, hidden), ``bias`` (4 hidden) or None,
    ``peephole`` (3, hidden): the weights from the cell state to the gates i, f and o.
    Gates are stacked in the order i, f, g, o, as in torch's LSTM.

    Returns ``(out, h_T, c_T)``: out (time, batch, hidden), h_T and c_T (batch, hidden).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, bias, peephole):
        steps, batch, _ = x.shape
        hidden = h0.shape[1]
        flat = x.reshape(steps * batch, -1)  # (time * batch, input)
        if bias is None:
            projected = torch.mm(flat, w_ih.t())  # (time * batch, 4 hidden)
        else:
            projected = torch.addmm(bias, flat, w_ih.t())  # (time * batch, 4 hidden)
        projected = projected.view(steps, batch, 4, hidden)  # (time, batch, gate, hidden)
        gates = x.new_empty(steps, batch, 4, hidden)  # after their nonlinearities
        hs = x.new_empty(steps + 1, batch, hidden)  # hs[t + 1] is h_t; hs[0] the start
        cs = x.new_empty(steps + 1, batch, hidden)
        hs[0], cs[0] = h0, c0
        w_hh_t = w_hh.t()
        peep_if = peephole[:2].unsqueeze(0)  # (1, 2, hidden)
        peep_o = peephole[2]  # (hidden,)
        # Per-step views made once: slicing in the loop costs as much as the arithmetic.
        h_at, c_at = hs.unbind(0), cs.unbind(0)  # (batch, hidden) each
        c_if_at = cs.unsqueeze(2).unbind(0)  # (batch, 1, hidden) each
        pre_at = projected.view(steps, batch, 4 * hidden).unbind(0)  # (batch, 4 hidden) each
        if_at, i_at, f_at, g_at, o_at = (gates[:, :, :2].unbind(0), *(gates[:, :, k].unbind(0) for k in range(4)))
        for t in range(steps):
            z = torch.addmm(pre_at[t], h_at[t], w_hh_t).view(batch, 4, hidden)  # (batch, gates, hidden)
            torch.sigmoid(torch.addcmul(z[:, :2], c_if_at[t], peep_if), out=if_at[t])
            torch.tanh(z[:, 2], out=g_at[t])
            c = torch.addcmul(f_at[t] * c_at[t], i_at[t], g_at[t], out=c_at[t + 1])
            torch.sigmoid(torch.addcmul(z[:, 3], c, peep_o), out=o_at[t])
            torch.mul(o_at[t], torch.tanh(c), out=h_at[t + 1])
        ctx.save_for_backward(x, w_ih, w_hh, peephole, gates, hs, cs)
        ctx.has_bias = bias is not None
        return hs[1:], hs[steps], cs[steps]

    @staticmethod
    def backward(ctx, d_out, d_h_last, d_c_last):
        x, w_ih, w_hh, peephole, gates, hs, cs = ctx.saved_tensors
        steps, batch, hidden = d_out.shape
        i, f, g, o = gates.unbind(2)  # (time, batch, hidden) each
        tanh_c = torch.tanh(cs[1:])  # (time, batch, hidden)
        p_i, p_f, p_o = peephole
        # Every factor that does not depend on the incoming gradient, for all steps at once,
        # so that a step backwards costs five operations.
        do_from_h = tanh_c * o * (1 - o)  # d o_pre / d h
        dc_from_h = o * (1 - tanh_c * tanh_c) + do_from_h * p_o  # through h = o tanh(c) and o's peephole
        dgates_from_c = torch.stack(  # (time, batch, 3, hidden): d i_pre, d f_pre, d g_pre per dc
            [g * i * (1 - i), cs[:-1] * f * (1 - f), i * (1 - g * g)], dim=2)
        dc_carry = f + dgates_from_c[:, :, 0] * p_i + dgates_from_c[:, :, 1] * p_f  # d c_{t-1} per d c_t
        d_pre = x.new_empty(steps, batch, 4, hidden)  # gradients of the pre-activations
        d_pre_at, d_o_at = d_pre.view(steps, batch, -1).unbind(0), d_pre[:, :, 3].unbind(0)
        d_ifg_at = d_pre[:, :, :3].unbind(0)
        dc_from_h_at, do_from_h_at, from_c_at, carry_at, d_out_at = (
            v.unbind(0) for v in (dc_from_h, do_from_h, dgates_from_c, dc_carry, d_out))
        dh = d_out[steps - 1] + d_h_last
        dc = d_c_last
        for t in range(steps - 1, -1, -1):
            dc = torch.addcmul(dc, dh, dc_from_h_at[t])
            torch.mul(dh, do_from_h_at[t], out=d_o_at[t])
            torch.mul(from_c_at[t], dc.unsqueeze(1), out=d_ifg_at[t])
            dc = dc * carry_at[t]
            if t > 0:
                dh = torch.addmm(d_out_at[t - 1], d_pre_at[t], w_hh)  # (batch, hidden)
            else:
                dh = torch.mm(d_pre_at[t], w_hh)  # (batch, hidden)
        flat = d_pre.view(steps * batch, 4 * hidden)  # (time * batch, 4 hidden)
        needs = ctx.needs_input_grad
        dx = torch.mm(flat, w_ih).view_as(x) if needs[0] else None  # (time, batch, input)
        dw_ih = torch.mm(flat.t(), x.reshape(steps * batch, -1))  # (4 hidden, input)
        dw_hh = torch.mm(flat.t(), hs[:-1].reshape(steps * batch, hidden))  # (4 hidden, hidden)
        dbias = flat.sum(0) if ctx.has_bias else None
        d_peephole = torch.stack([
            (d_pre[:, :, 0] * cs[:-1]).sum((0, 1)),
            (d_pre[:, :, 1] * cs[:-1]).sum((0, 1)),
            (d_pre[:, :, 3] * cs[1:]).sum((0, 1)),
        ])  # (3, hidden)
        return dx, dh, dc, dw_ih, dw_hh, dbias, d_peephole


class PeepholeLSTM(nn.Module):
    r"""Stacked peephole LSTM layers, batch first, with torch's ``nn.LSTM`` interface.

    For each layer and step :math:`t` (Gers and Schmidhuber, 2000; the FC-LSTM of Shi et
    al., 2015):

    .. math::
        i_t = \sigma(W_{xi} x_t + W_{hi} h_{t-1} + w_{ci} \odot c_{t-1} + b_i) \\
        f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + w_{cf} \odot c_{t-1} + b_f) \\
        c_t = f_t \odot c_{t-1} + i_t \odot \tanh(W_{xc} x_t + W_{hc} h_{t-1} + b_c) \\
        o_t = \sigma(W_{xo} x_t + W_{ho} h_{t-1} + w_{co} \odot c_t + b_o) \\
        h_t = o_t \odot \tanh(c_t)

    Args:
        input_size, hidden_size: features in and of the hidden state.
        num_layers: stacked layers. Default 1.
        bias: bias terms. Default True.
        dropout: dropout on the outputs of every layer but the last. Default 0.
        bidirectional: a second stack reads the sequence backwards. Default False.

    Inputs: ``x`` (batch, time, input_size); ``state`` None or ``(h, c)``, each
    (num_layers * directions, batch, hidden_size).
    Outputs: ``out`` (batch, time, directions * hidden_size) and ``(h, c)`` like ``state``.

    Example::

        >>> layer = PeepholeLSTM(input_size=3, hidden_size=16, num_layers=2)
        >>> out, (h, c) = layer(torch.randn(8, 48, 3))
        >>> out.shape, c.shape
        (torch.Size([8, 48, 16]), torch.Size([2, 8, 16]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.dropout = bias, dropout
        self.directions = 2 if bidirectional else 1
        self.layers = nn.ParameterList()  # per layer and direction: w_ih, w_hh, peephole(, bias)
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.directions
            for _ in range(self.directions):
                shapes = [(4 * hidden_size, width), (4 * hidden_size, hidden_size), (3, hidden_size)]
                shapes += [(4 * hidden_size,)] if bias else []
                for shape in shapes:
                    self.layers.append(nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def weights(self, layer: int, direction: int):
        """w_ih, w_hh, bias (or None), peephole of one layer and direction."""
        per = 4 if self.bias else 3
        first = (layer * self.directions + direction) * per
        w_ih, w_hh, peephole = self.layers[first], self.layers[first + 1], self.layers[first + 2]
        return w_ih, w_hh, (self.layers[first + 3] if self.bias else None), peephole

    def forward(self, x: torch.Tensor, state=None):
        batch = x.shape[0]
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state  # (layers * directions, batch, hidden) each
        out = x.transpose(0, 1).contiguous()  # (time, batch, features)
        hs, cs = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                out = nn.functional.dropout(out, self.dropout, training=True)
            outs = []
            for direction in range(self.directions):
                k = layer * self.directions + direction
                w_ih, w_hh, bias, peephole = self.weights(layer, direction)
                seq = out if direction == 0 else out.flip(0)  # (time, batch, features)
                y, h, c = PeepholeFunction.apply(seq, h0[k], c0[k], w_ih, w_hh, bias, peephole)
                outs.append(y if direction == 0 else y.flip(0))  # (time, batch, hidden)
                hs.append(h)
                cs.append(c)
            out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)  # (time, batch, d * hidden)
        return out.transpose(0, 1), (torch.stack(hs), torch.stack(cs))  # (batch, time, d * hidden)


class PeepholeForecaster(nn.Module):
    r"""FC-LSTM forecaster: stacked peephole LSTM layers read by a linear head at the last step.

    The recurrence is :class:`PeepholeLSTM`'s: an LSTM whose input and forget gates also see
    :math:`c_{t-1}` and whose output gate sees :math:`c_t`; then
    :math:`\hat y = W_o h_T + b_o`, reshaped to ``(horizon, output_size)``.

    Args:
        spec: the data's shapes (input_size, output_size, horizon).
        hidden_size: features of the hidden state. Default 64.
        num_layers: stacked layers. Default 2.
        bias: bias terms in the layers. Default True.
        dropout: dropout between stacked layers. Default 0.
        bidirectional: read the window both ways; a rollout then re-reads the window each
            block. Default False.

    Inputs: ``x`` (batch, time, input_size), optional ``state`` ``(h, c)``.
    Outputs: ``(y, state)``; ``y`` is (batch, horizon, output_size), or
    (batch, time, horizon, output_size) with ``every_step=True``.

    Notes:
        The layer runs a hand-written backward pass (:class:`PeepholeFunction`); it stays
        about 2x torch's fused ``nn.LSTM`` per epoch on the CPU (target 1.5x), and this is
        why. Each step of each layer is about ten small tensor operations dispatched one by
        one (forward) and five (backward), where ``nn.LSTM`` runs the whole window in one
        fused kernel; with batch 64 and hidden 64 an operation costs 5 to 10 us of dispatch
        beside 2 to 3 us of arithmetic. Measured in CPU time (torch 2.13, one thread, 2
        layers, hidden 64, window 48, batch 64): a forward pass without gradients 11.5 ms
        against 3.4 ms (3.4x), forward and backward 33 ms against 15 to 19 ms (1.7x to 2.2x).
        So the epochs of ``ww.train`` take 2.0x (training and validation) to 2.4x (with the
        day-ahead forecasts that score each epoch, all forward passes):
        ``benchmarks/train_speed.py --epochs 2 --days 60 --threads 1``. Tried and not kept:
        the gates laid out gate-major so that every operation reads contiguous blocks (no
        faster: 33.9 against 32.0 ms); ``torch.jit.script`` of the forward loop (25% less
        time for that loop, 3.5 against 4.6 ms a layer, but TorchScript is deprecated in
        torch 2.13 and warns on use); ``torch.compile`` of one step (16 s to compile, about
        45 us a call, no faster than the eager operations it fuses). The input projection of
        the whole window is already one matrix product outside the loop, and the four gate
        products of a step one ``addmm``.

    Example::

        >>> model = PeepholeForecaster(ModelSpec(3, 1, 2, 48), hidden_size=16)
        >>> y, (h, c) = model(torch.randn(8, 48, 3))
        >>> y.shape, h.shape
        (torch.Size([8, 2, 1]), torch.Size([2, 8, 16]))
    """

    def __init__(self, spec: ModelSpec, hidden_size: int = 64, num_layers: int = 2, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        self.rnn = PeepholeLSTM(spec.input_size, hidden_size, num_layers, bias=bias,
                                dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * self.rnn.directions, spec.horizon * spec.output_size)
        self.shape = (spec.horizon, spec.output_size)
        self.carries_state = not bidirectional
        self.modes = ("window", "sequence", "stateful") if self.carries_state else ("window",)

    def forward(self, x: torch.Tensor, state=None, every_step: bool = False):
        out, state = self.rnn(x, state)  # (batch, time, hidden * directions)
        if not every_step:
            out = out[:, -1]  # (batch, hidden * directions)
        y = self.head(out)  # (..., horizon * outputs)
        return y.unflatten(-1, self.shape), state  # (..., horizon, outputs)


def build(spec: ModelSpec, config) -> PeepholeForecaster:
    """FC-LSTM: an LSTM with peephole connections from the cell state to its gates"""
    return PeepholeForecaster(spec, **settings(config))


register("peephole_lstm", build, knobs=STACK, options=())
