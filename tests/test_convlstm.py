import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

import windwidgets as ww
from windwidgets.config import ModelConfig
from windwidgets.data.grids import flatten_grids, grid_columns
from windwidgets.errors import DataError, ModelError
from windwidgets.zoo import ModelSpec, build

GRID = {"grid": (2, 5, 6)}



def test_the_state_carries_between_calls():
    """Reading a sequence in two calls, the second given the first's state, is reading it once."""
    torch.manual_seed(0)
    model = build("convlstm", ModelSpec(60, 60, 1, 8, GRID), ModelConfig(hidden_size=4, num_layers=2)).eval()
    x = torch.randn(3, 9, 2, 5, 6)
    whole, (h, c) = model(x)
    _, state = model(x[:, :5])
    continued, (h2, c2) = model(x[:, 5:], state)
    assert whole.shape == (3, 1, 2, 5, 6) and h.shape == (2, 3, 4, 5, 6)
    assert torch.allclose(whole, continued, atol=1e-6) and torch.allclose(c, c2, atol=1e-6)
    flat, _ = model(x.flatten(2))  # rows of flattened grids, as the data layer stores them
    assert torch.allclose(flat, whole.flatten(2))


def test_shapes_kernel_and_bidirectional():
    spec = ModelSpec(60, 60, 3, 8, GRID)
    model = build("convlstm", spec, ModelConfig(hidden_size=4, num_layers=1, options={"kernel_size": 5}))
    assert model.rnn.cells[0].conv.kernel_size == (5, 5) and model.carries_state
    every, _ = model(torch.randn(2, 7, 60), every_step=True)
    assert every.shape == (2, 7, 3, 60)
    two_way = build("convlstm", spec, ModelConfig(hidden_size=4, num_layers=2, bidirectional=True))
    y, (h, _) = two_way(torch.randn(2, 7, 2, 5, 6))
    assert y.shape == (2, 3, 2, 5, 6) and h.shape == (4, 2, 4, 5, 6) and not two_way.carries_state


def test_learns_a_moving_blob_better_than_persistence():
    grids = ww.datasets.grid(n=250, size=12)
    run = ww.train(grids, model="convlstm", hidden_size=8, num_layers=1, window=6, epochs=4,
                   batch_size=16, lr=2e-2, live=False)
    metrics = run.evaluate()
    persistence = metrics.table.loc["naive", "mae"]  # the last grid again
    assert metrics["mae"] < 0.75 * persistence  # measured 0.020 against 0.041
    errors = []
    for origin in range(205, 245, 8):  # three-step rollouts from five origins in the validation part
        truth = grids[origin : origin + 3]
        errors.append((np.abs(run.forecast(3, start=origin).grids - truth).mean(),
                       np.abs(grids[origin - 1][None] - truth).mean()))
    model_error, persistence_error = np.mean(errors, axis=0)
    assert model_error < 0.8 * persistence_error  # measured 0.045 against 0.077
    assert isinstance(run.plot_forecast(steps=4, start=220), Figure)
    banded = run.forecast(3, interval=0.9)
    assert banded.lower.shape == banded.grids.shape == (3, 1, 12, 12) and (banded.lower <= banded.upper).all()


def test_every_grid_format_gives_the_same_fit():
    grids = ww.datasets.grid(n=60, size=6, seed=3)  # (time, 1, rows, columns)
    settings = dict(model="convlstm", hidden_size=3, num_layers=1, window=4, epochs=1, live=False)
    frame = flatten_grids(grids)
    multi = frame.copy()
    multi.columns = pd.MultiIndex.from_tuples([tuple(int(p) for p in c.split(":"))[1:] for c in frame.columns])
    shuffled = frame[frame.columns[::-1]]  # column order does not matter, names do
    runs = [ww.train(data, **settings) for data in (grids, grids[:, 0], frame, multi, shuffled)]
    for run in runs[1:]:
        pd.testing.assert_frame_equal(run.history.drop(columns="seconds"), runs[0].history.drop(columns="seconds"))
    assert runs[0].layout.grid == (1, 6, 6) and list(runs[0].frame.columns) == grid_columns((1, 6, 6))
    scaler = runs[0].scaler
    assert torch.all(scaler.shift == scaler.shift[0]) and torch.all(scaler.scale == scaler.scale[0])
    forecast = runs[0].forecast(2)
    assert forecast.grids.shape == (2, 1, 6, 6) and np.asarray(forecast).shape == (2, 1, 6, 6)
    assert repr(forecast) == "GridForecast(2 steps of 6 x 6 grids, 1 channel(s), from 60)"


def test_grid_errors_say_what_to_pass():
    grids = ww.datasets.grid(n=40, size=4)
    settings = dict(model="convlstm", hidden_size=2, num_layers=1, window=4, epochs=1, live=False)
    with pytest.raises(DataError, match=r"reads a DataFrame of flattened grids, one column per cell named "
                                        r"'channel:row:column'.*column\(s\) 'speed', 'direction'"):
        ww.train(ww.datasets.wind(days=3), **settings)
    with pytest.raises(DataError, match=r"`target` \('0:0:0'\) does not apply to grids: .*; leave `target` out"):
        ww.train(grids, target="0:0:0", **settings)
    with pytest.raises(DataError, match=r"do not cover a full 4 x 4 grid of 1 channel\(s\) exactly once"):
        ww.train(flatten_grids(grids).iloc[:, :-1], **settings)
    with pytest.raises(DataError, match=r"an array of shape \(40, 1, 4, 4, 1\); model='convlstm' reads grids"):
        ww.train(grids[..., None], **settings)
    with pytest.raises(DataError, match=r"grids of shape \(time, rows, columns\) go to model='convlstm'"):
        ww.train(grids, model="lstm", live=False)
    with pytest.raises(ModelError, match="convlstm reads sequences of grids"):
        build("convlstm", ModelSpec(3, 3, 1, 4), ModelConfig())
