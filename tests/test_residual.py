"""Models that keep what the simple ones have (residual=True) and read each window in its own
level (normalize="window"): issue 23."""
import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import ModelConfig, RunConfig
from windwidgets.data.reactor import AUXILIARIES
from windwidgets.errors import ConfigError
from windwidgets.tasks.forecast import build_model
from windwidgets.data import Layout
from windwidgets.zoo.residual import Residual, WindowNorm

TINY = dict(hidden_size=8, num_layers=1, epochs=3, window=16, live=False)


def layout(future: int = 2) -> Layout:
    return Layout(("y",), (), tuple(f"u{i}" for i in range(future)))


def test_untrained_residual_model_is_persistence_whatever_it_wraps():
    for model in ("lstm", "gru", "cnn_lstm", "seq2seq"):
        config = RunConfig.from_kwargs(model=model, residual=True, horizon=3, window=12, hidden_size=8)
        built = build_model(config, layout()).eval()
        assert isinstance(built, Residual) and built.modes == ("window",)
        x = torch.randn(5, 12, 3)  # (batch, window, inputs)
        y, state = built(x)
        assert state is None and y.shape == (5, 3, 1)
        assert torch.equal(y, x[:, -1:, :1].expand(5, 3, 1)), model


def test_window_norm_passes_a_shift_and_a_scale_of_the_window_through():
    config = RunConfig.from_kwargs(normalize="window", horizon=2, window=10, hidden_size=8)
    model = build_model(config, layout()).eval()
    assert isinstance(model, WindowNorm)
    x = torch.randn(4, 10, 3)
    y = model(x)[0]
    shift = torch.tensor([5.0, -3.0, 40.0])  # a level the training rows never showed, per column
    assert torch.allclose(model(x + shift)[0], y + 5.0, atol=1e-4)
    # where the variance floor (0.01) is small next to the window's spread, a scale passes through too
    assert torch.allclose(model(1000 * x)[0] / 10, model(100 * x)[0], rtol=1e-3, atol=1e-2)


def test_residual_and_norm_stack_with_an_ensemble_and_reload_to_the_same_numbers(tmp_path):
    data = ww.datasets.reactor(n=800)
    run = ww.train(data, target="key", future_covariates=["reactor_temp", "feed_flow"], residual=True,
                   normalize="window", ensemble=2, **TINY)
    start = data.index[700]
    forecast = run.forecast(5, start=start)
    again = ww.load(run.save(tmp_path / "run.pt"))
    pd.testing.assert_frame_equal(again.forecast(5, start=start), forecast)
    assert again.config.model.residual and again.config.model.normalize == "window"


def test_residual_soft_sensor_is_no_worse_than_persistence_one_step_ahead():
    """By construction it starts as persistence; a short fit on the reactor keeps it at or
    below persistence one row ahead, where the plain model with the inputs is far behind."""
    data = ww.datasets.reactor(n=2000)
    settings = dict(target="key", future_covariates=list(AUXILIARIES), hidden_size=16, num_layers=1,
                    epochs=4, window=24, live=False)
    residual = ww.train(data, residual=True, **settings).evaluate(steps=1).table
    plain = ww.train(data, **settings).evaluate(steps=1).table
    # measured MAE: residual 0.0098, persistence 0.0114, plain 0.0613
    assert residual.loc["model", "mae"] <= residual.loc["naive", "mae"]
    assert residual.loc["model", "mae"] < 0.5 * plain.loc["model", "mae"]


def test_residual_and_norm_refuse_what_they_cannot_wrap():
    with pytest.raises(ConfigError, match=r"`residual=True` reads each window by itself.*mode='sequence'"):
        build_model(RunConfig.from_kwargs(residual=True, mode="sequence"), layout())
    with pytest.raises(ConfigError, match=r"`normalize='window'` reads each window by itself.*mode='stateful'"):
        build_model(RunConfig.from_kwargs(normalize="window", stateful=True), layout())
    with pytest.raises(ConfigError, match=r"`normalize` \('windows'\) is not one of 'window', None"):
        RunConfig.from_kwargs(normalize="windows")
    with pytest.raises(ConfigError, match=r"`residual` \(1\) must be True or False"):
        RunConfig.from_kwargs(residual=1)
    grids = ww.datasets.grid(n=40, size=8)
    with pytest.raises(ConfigError, match=r"`residual=True` wraps forecasters of a table's rows; it does not "
                                          r"apply to grids"):
        ww.train(grids, model="convlstm", residual=True, window=6, epochs=1, live=False)
