import pytest
import torch

import windwidgets as ww
from windwidgets.config import ModelConfig
from windwidgets.errors import ModelError
from windwidgets.zoo import ModelSpec, build


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_built_from_the_data_shapes(name):
    spec = ModelSpec(input_size=3, output_size=2, horizon=4, window=10)
    model = build(name, spec, ModelConfig(hidden_size=8, num_layers=2, dropout=0.1))
    y, state = model(torch.randn(5, 10, 3))
    assert y.shape == (5, 4, 2)
    y_all, _ = model(torch.randn(5, 10, 3), every_step=True)
    assert y_all.shape == (5, 10, 4, 2)
    assert model.rnn.input_size == 3 and model.rnn.num_layers == 2 and model.rnn.dropout == 0.1


def test_every_torch_rnn_knob_reaches_the_layer():
    spec = ModelSpec(input_size=2, output_size=1, horizon=1, window=6)
    config = ModelConfig(model="rnn", hidden_size=5, num_layers=3, nonlinearity="relu", bias=False,
                         bidirectional=True)
    model = build("rnn", spec, config)
    assert (model.rnn.nonlinearity, model.rnn.bias, model.rnn.bidirectional) == ("relu", False, True)
    assert model.head.in_features == 10 and not model.carries_state


def test_state_carries_one_step_at_a_time():
    spec = ModelSpec(input_size=1, output_size=1, horizon=1, window=8)
    model = build("lstm", spec, ModelConfig(hidden_size=6))
    x = torch.randn(1, 9, 1)
    whole, _ = model(x)
    _, state = model(x[:, :8])
    step, _ = model(x[:, 8:], state)
    assert torch.allclose(whole, step, atol=1e-6)


def test_names_and_unknown_names():
    assert {"rnn", "lstm", "gru"} <= set(ww.zoo.names())
    with pytest.raises(ModelError, match=r"unknown model 'lstn' \(did you mean 'lstm'\?\); available: "):
        ww.train(ww.datasets.sine(n=200), model="lstn", live=False)


def test_a_users_own_module_trains_like_a_built_in_one():
    class Linear(torch.nn.Module):
        def __init__(self, spec):
            super().__init__()
            self.linear = torch.nn.Linear(spec.window * spec.input_size, spec.horizon * spec.output_size)

        def forward(self, x):  # (batch, window, inputs)
            return self.linear(x.flatten(1))  # (batch, horizon * outputs)

    ww.zoo.register("linear_window", lambda spec, config: Linear(spec), summary="a linear map of the window")
    run = ww.train(ww.datasets.sine(n=400), model="linear_window", window=10, horizon=2, epochs=30,
                   lr=1e-2, live=False)
    assert "linear_window" in ww.zoo.names()
    assert run.history["val_loss"].iloc[-1] < 0.01  # a sine is linear in its recent past
    assert len(run.forecast(7)) == 7
    with pytest.raises(ModelError, match="pass a function builder"):
        ww.zoo.register("broken", "not callable")


@pytest.mark.parametrize("name, options", [("lstm", {}), ("gru", {}), ("rnn", {"nonlinearity": "relu", "bias": False})])
def test_the_one_step_path_matches_the_fused_layer(name, options):
    spec = ModelSpec(input_size=2, output_size=3, horizon=1, window=8)
    model = build(name, spec, ModelConfig(hidden_size=6, num_layers=3, **options)).eval()
    x = torch.randn(4, 9, 2)
    _, state = model(x[:, :8])
    fused, fused_state = model(x[:, 8:], state)  # gradients on: the fused layer
    with torch.no_grad():
        stepped, stepped_state = model(x[:, 8:], state)  # the cell kernels
    assert torch.allclose(fused, stepped, atol=1e-6)
    for a, b in zip(torch.utils._pytree.tree_leaves(fused_state), torch.utils._pytree.tree_leaves(stepped_state)):
        assert torch.allclose(a, b, atol=1e-6)
