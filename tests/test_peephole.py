import pytest
import torch

from windwidgets.config import ModelConfig
from windwidgets.zoo import ModelSpec, build
from windwidgets.zoo.peephole import PeepholeFunction, PeepholeLSTM


def reference_cell(x, h, c, w_ih, w_hh, bias, peephole):
    """The FC-LSTM equations, one step at a time, differentiated by autograd."""
    w_xi, w_xf, w_xc, w_xo = w_ih.chunk(4)
    w_hi, w_hf, w_hc, w_ho = w_hh.chunk(4)
    b_i, b_f, b_c, b_o = bias.chunk(4)
    w_ci, w_cf, w_co = peephole
    outputs = []
    for x_t in x:  # x: (time, batch, input)
        i = torch.sigmoid(x_t @ w_xi.T + h @ w_hi.T + w_ci * c + b_i)
        f = torch.sigmoid(x_t @ w_xf.T + h @ w_hf.T + w_cf * c + b_f)
        c = f * c + i * torch.tanh(x_t @ w_xc.T + h @ w_hc.T + b_c)
        o = torch.sigmoid(x_t @ w_xo.T + h @ w_ho.T + w_co * c + b_o)
        h = o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), h, c


def random_layer(steps=6, batch=3, inputs=2, hidden=4, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(steps, batch, inputs), (batch, hidden), (batch, hidden), (4 * hidden, inputs),
              (4 * hidden, hidden), (4 * hidden,), (3, hidden)]
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]


def test_the_cell_matches_the_equations_values_and_gradients():
    args = random_layer()
    fast = PeepholeFunction.apply(*args)
    slow = reference_cell(*args)
    for a, b in zip(fast, slow):
        assert torch.allclose(a, b, atol=1e-12)
    weights = torch.randn(3)
    loss_fast = sum(w * (o ** 2).sum() for w, o in zip(weights, fast))
    grads_fast = torch.autograd.grad(loss_fast, args)
    loss_slow = sum(w * (o ** 2).sum() for w, o in zip(weights, slow))
    grads_slow = torch.autograd.grad(loss_slow, args)
    for name, a, b in zip(["x", "h0", "c0", "w_ih", "w_hh", "bias", "peephole"], grads_fast, grads_slow):
        assert torch.allclose(a, b, atol=1e-10), name


def test_the_backward_pass_passes_gradcheck():
    assert torch.autograd.gradcheck(PeepholeFunction.apply, random_layer(steps=4, batch=2, hidden=3))
    no_bias = random_layer(steps=3, batch=2, hidden=3)
    no_bias[5] = None
    assert torch.autograd.gradcheck(PeepholeFunction.apply, no_bias)


def test_the_peepholes_matter():
    """With the peephole weights at zero the cell is torch's LSTM; with them it is not."""
    torch.manual_seed(0)
    ours = PeepholeLSTM(3, 5, num_layers=2)
    lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    with torch.no_grad():
        for layer in range(2):
            w_ih, w_hh, bias, peephole = ours.weights(layer, 0)
            getattr(lstm, f"weight_ih_l{layer}").copy_(w_ih)
            getattr(lstm, f"weight_hh_l{layer}").copy_(w_hh)
            getattr(lstm, f"bias_ih_l{layer}").copy_(bias)
            getattr(lstm, f"bias_hh_l{layer}").zero_()
            peephole.zero_()
    x = torch.randn(4, 7, 3)
    (out, (_, c)), (expected, (_, c2)) = ours(x), lstm(x)
    assert torch.allclose(out, expected, atol=1e-6) and torch.allclose(c, c2, atol=1e-6)
    with torch.no_grad():
        ours.weights(1, 0)[3].fill_(0.5)
    assert not torch.allclose(ours(x)[0], expected, atol=1e-3)


def test_bidirectional_stack_against_the_reference():
    torch.manual_seed(1)
    layer = PeepholeLSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    out, (h, c) = layer(x)
    assert out.shape == (2, 5, 6) and h.shape == (4, 2, 3)
    zeros = torch.zeros(2, 3, dtype=torch.float64)
    seq = x.transpose(0, 1)
    for k in range(2):
        outs = []
        for direction in range(2):
            w_ih, w_hh, bias, peephole = layer.weights(k, direction)
            inp = seq if direction == 0 else seq.flip(0)
            y, h_k, c_k = reference_cell(inp, zeros, zeros, w_ih, w_hh, bias, peephole)
            outs.append(y if direction == 0 else y.flip(0))
            assert torch.allclose(h[2 * k + direction], h_k) and torch.allclose(c[2 * k + direction], c_k)
        seq = torch.cat(outs, dim=2)
    assert torch.allclose(out, seq.transpose(0, 1))


def test_the_forecaster_carries_state_one_step_at_a_time():
    spec = ModelSpec(input_size=2, output_size=1, horizon=1, window=8)
    model = build("peephole_lstm", spec, ModelConfig(hidden_size=6, num_layers=2))
    x = torch.randn(3, 9, 2)
    whole, _ = model(x)
    _, state = model(x[:, :8])
    with torch.no_grad():
        step, _ = model(x[:, 8:], state)
    assert torch.allclose(whole, step, atol=1e-6) and model.carries_state
    every, _ = model(x, every_step=True)
    assert every.shape == (3, 9, 1, 1)
    two_way = build("peephole_lstm", spec, ModelConfig(hidden_size=6, bidirectional=True))
    assert not two_way.carries_state and two_way(x)[0].shape == (3, 1, 1)


@pytest.mark.parametrize("bias", [True, False])
def test_knobs_reach_the_layer(bias):
    spec = ModelSpec(input_size=3, output_size=2, horizon=4, window=10)
    model = build("peephole_lstm", spec, ModelConfig(hidden_size=5, num_layers=3, dropout=0.2, bias=bias))
    assert (model.rnn.num_layers, model.rnn.hidden_size, model.rnn.dropout, model.rnn.bias) == (3, 5, 0.2, bias)
    assert model(torch.randn(2, 10, 3))[0].shape == (2, 4, 2)
