"""Every model of the zoo against the contract the rest of the library relies on."""
import pytest
import torch

import windwidgets as ww
from windwidgets.config import MODES, ModelConfig
from windwidgets.zoo import ModelSpec, build, entry


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "peephole_lstm", "convlstm", "cnn_lstm", "seq2seq"])
def test_each_model_keeps_the_contract_of_its_declared_modes(name):
    grid = (1, 5, 6) if name == "convlstm" else None
    spec = ModelSpec(input_size=1 if grid else 3, output_size=1 if grid else 2, horizon=2, window=8,
                     extra={"grid": grid} if grid else {})
    model = build(name, spec, ModelConfig(model=name, hidden_size=6, num_layers=2)).eval()
    assert model.modes and set(model.modes) <= set(MODES)
    assert "forecast" in entry(name).tasks
    x = torch.randn(4, 8, *grid) if grid else torch.randn(4, 8, 3)  # (batch, window, inputs)
    y, state = model(x)
    assert y.shape == ((4, 2, *grid) if grid else (4, 2, 2))  # (batch, horizon, outputs)
    if {"sequence", "stateful"} & set(model.modes):  # reads its own carried state, scored every step
        every, _ = model(x, every_step=True)
        assert every.shape[:3] == (4, 8, 2)  # (batch, time, horizon, ...)
        with torch.no_grad():  # one call over 8 rows == 5 rows, then 3 more from the state left
            whole, _ = model(x)
            _, first = model(x[:, :5])
            rest, _ = model(x[:, 5:], first)
        torch.testing.assert_close(whole, rest, atol=1e-5, rtol=1e-5)
    two_way = build(name, spec, ModelConfig(model=name, hidden_size=6, num_layers=1, bidirectional=True))
    assert two_way.modes == ("window",)  # a backward pass would read the future


def test_a_users_module_learns_on_windows_and_may_declare_more():
    class Plain(torch.nn.Module):
        def __init__(self, spec):
            super().__init__()
            self.linear = torch.nn.Linear(spec.window * spec.input_size, spec.horizon * spec.output_size)

        def forward(self, x):
            return self.linear(x.flatten(1))

    class Claims(Plain):
        modes = ("teleport",)

    ww.zoo.register("plain_contract", lambda spec, config: Plain(spec))
    ww.zoo.register("claims_contract", lambda spec, config: Claims(spec))
    try:
        assert build("plain_contract", ModelSpec(2, 1, 1, 4), ModelConfig()).modes == ("window",)
        with pytest.raises(ww.errors.ModelError, match=r"model 'claims_contract' declares modes=\('teleport',\); "
                                                       r"use a tuple of window, sequence, stateful"):
            build("claims_contract", ModelSpec(2, 1, 1, 4), ModelConfig())
    finally:
        ww.zoo.registry._REGISTRY.pop("plain_contract")
        ww.zoo.registry._REGISTRY.pop("claims_contract")
