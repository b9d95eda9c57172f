import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import DataConfig
from windwidgets.data import prepare, read_frame
from windwidgets.data.scaling import Scaler
from windwidgets.data.windows import Streams, sliding
from windwidgets.errors import DataError


def test_reads_series_arrays_and_files(tmp_path, frame):
    assert list(read_frame(pd.Series([1.0, 2.0], name="speed")).columns) == ["speed"]
    assert list(read_frame(np.zeros(5)).columns) == ["y"]
    assert list(read_frame(np.zeros((5, 2))).columns) == ["y0", "y1"]
    frame.to_csv(tmp_path / "f.csv")
    from_csv = read_frame(tmp_path / "f.csv")
    assert isinstance(from_csv.index, pd.DatetimeIndex) and list(from_csv.columns) == ["a", "b", "c"]
    frame.to_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(read_frame(str(tmp_path / "f.parquet")), frame, check_freq=False)
    with pytest.raises(DataError, match="does not exist"):
        read_frame(tmp_path / "missing.csv")
    with pytest.raises(DataError, match=r"array of shape \(2, 3, 4\)"):
        read_frame(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("change, settings, message", [
    (None, dict(target="speed"), r"`target` names column 'speed', which is not in the data"),
    (None, dict(target="aa"), r"did you mean 'a'\?"),
    (None, dict(target="a", covariates="a"), r"column\(s\) a appear in more than one"),
    ("text", dict(target="a"), r"column\(s\) a are not numeric"),
    ("nan", dict(target="a", covariates="b"), r"column\(s\) b hold NaN or inf values \(1 rows, first at 2025-01-01 05:00:00\)"),
    ("unsorted", dict(target="a"), r"the index is not sorted in time .*sort_index"),
    ("duplicated", dict(target="a"), r"the index has duplicated labels"),
    (None, dict(target="a", window=170), r"`window` \+ `horizon` \(170 \+ 1\) is longer than the training part of the series \(160 of 200 rows"),
    (None, dict(target="a", window=10, horizon=30, val_fraction=0.1), r"the validation part \(20 rows\) is shorter than `horizon` \(30\)"),
])
def test_bad_data_is_refused_before_training(frame, change, settings, message):
    if change == "text":
        frame["a"] = frame["a"].astype(str)
    elif change == "nan":
        frame.iloc[5, 1] = np.nan
    elif change == "unsorted":  # timestamps are put in order; positions say nothing of time
        frame = frame.reset_index(drop=True).iloc[[0, 2, 1] + list(range(3, 200))]
    elif change == "duplicated":
        frame.index = frame.index[:1].append(frame.index[:-1])
    with pytest.raises(DataError, match=message):
        ww.train(frame, **{"live": False, "window": 24, **settings})


def test_indexes_and_column_labels_of_every_kind(tmp_path):
    settings = dict(window=12, hidden_size=4, epochs=1, live=False)
    numbered = ww.train(pd.DataFrame(np.random.default_rng(0).random((200, 3))), target=0, **settings)
    assert numbered.layout.targets == (0,)
    loaded = ww.load(numbered.save(tmp_path / "numbered.pt"), device=numbered.device)
    assert loaded.evaluate() == numbered.evaluate() and list(loaded.forecast(2).columns) == [0]
    wind = ww.datasets.wind(days=10)
    text = wind.set_axis(wind.index.strftime("%Y-%m-%d %H:%M"))
    periods = wind.set_axis(wind.index.to_period("h"))
    for frame in (text, periods):
        run = ww.train(frame, target="speed", **settings)
        assert ww.load(run.save(tmp_path / "run.pt")).forecast(2).index.equals(run.forecast(2).index)
        assert run.forecast(1).index[0] == pd.Timestamp("2024-01-11")
    with pytest.raises(DataError, match=r"the index holds values that are not timestamps: 'r0' at row 0 \(240 such values\).*"
                                        r"df.reset_index\(drop=True\)"):
        ww.train(wind.set_axis([f"r{i}" for i in range(len(wind))]), target="speed", **settings)
    ww.datasets.sine(300).to_csv(tmp_path / "sine.csv")  # the row numbers are written too
    assert ww.train(tmp_path / "sine.csv", **settings).layout.targets == ("y",)


def test_scaler_sees_the_training_rows_only(frame):
    frame.iloc[160:, 0] += 1000.0  # a shift in the validation part alone
    data = prepare(frame, DataConfig(target="a", window=10), torch.device("cpu"))
    assert data.n_train == 160
    train = torch.tensor(frame["a"].to_numpy()[:160], dtype=torch.float32)
    assert torch.allclose(data.scaler.shift[0], train.mean(), atol=1e-5)
    assert data.inputs[:160, 0].abs().max() < 5 < data.inputs[160:, 0].min()


def test_robust_scaling_is_not_stretched_by_a_shutdown(frame):
    frame.iloc[:20, 0] = -500.0  # a plant off for the first 20 training rows
    data = prepare(frame, DataConfig(target="a", window=10, scaler="robust"), torch.device("cpu"))
    running = frame["a"].to_numpy()[20:160]
    assert data.scaler.kind == "robust" and data.n_train == 160
    train = frame["a"].to_numpy()[:160]
    assert np.isclose(float(data.scaler.shift[0]), np.median(train), atol=1e-4)
    assert float(data.scaler.scale[0]) < 3 * running.std()  # the standard one is about 160 times it
    standard = prepare(frame, DataConfig(target="a", window=10), torch.device("cpu"))
    assert float(standard.scaler.scale[0]) > 30 * running.std()


def test_windows_are_views_of_the_series(frame):
    data = prepare(frame, DataConfig(target="a", covariates="b", future_covariates="c", window=10, horizon=3),
                   torch.device("cpu"))
    windows = data.windows
    assert windows.x.untyped_storage().data_ptr() == data.inputs.untyped_storage().data_ptr()
    x, y = windows.batch(torch.tensor([0, 7]))
    assert x.shape == (2, 10, 3) and y.shape == (2, 3, 2)  # outputs: target a and covariate b
    assert torch.equal(x[1], data.inputs[7:17])
    assert torch.equal(y[1], data.inputs[17:20, :2])
    # the future covariate leads by the horizon: row t holds c of row t + 3
    c = data.scaler.transform(torch.tensor(frame.to_numpy(dtype=np.float32)))[:, 2]
    assert torch.allclose(data.inputs[:-3, 2], c[3:])
    # train windows end before the split, validation targets start after it
    last_train = int(windows.train_index[-1])
    assert last_train + 10 + 3 == data.n_train
    assert int(windows.val_index[0]) + 10 == data.n_train


def test_sliding_copies_nothing():
    values = torch.arange(24.0).reshape(12, 2)
    view = sliding(values, 4, start=2)
    assert view.shape == (7, 4, 2) and torch.equal(view[3], values[5:9])
    values[5, 0] = -1.0
    assert view[3, 0, 0] == -1.0


def test_streams_are_consecutive_chunks():
    values = torch.arange(200.0)[:, None]  # (rows, 1)
    streams = Streams(values, values, window=5, horizon=1, n_train=200, batch_size=4)
    batches = list(streams)
    assert len(batches) == streams.chunks and streams.chunks >= 8
    (x0, y0), (x1, _) = batches[0], batches[1]
    assert torch.equal(x1[:, 0, 0], x0[:, -1, 0] + 1)  # chunk k+1 starts where chunk k ended
    assert torch.equal(y0[:, :, 0, 0], x0[:, :, 0] + 1)  # every step scored on the next row


def test_datasets_are_deterministic_and_plausible():
    wind = ww.datasets.wind(days=30)
    assert wind.equals(ww.datasets.wind(days=30)) and not wind.equals(ww.datasets.wind(days=30, seed=1))
    assert list(wind.columns) == ["speed", "direction", "temperature", "pressure"]
    assert isinstance(wind.index, pd.DatetimeIndex) and wind.index.freqstr == "h" and len(wind) == 720
    assert (wind["speed"] > 0).all() and wind["speed"].skew() > 0  # positive and right-skewed
    by_hour = wind["speed"].groupby(wind.index.hour).mean()
    assert 12 <= by_hour.idxmax() <= 18  # afternoon peak of the daily cycle
    assert wind["pressure"].corr(wind["speed"]) < -0.3  # lows bring wind
    sine = ww.datasets.sine(n=100, period=20)
    assert list(sine.columns) == ["y"] and abs(sine["y"].iloc[5] - 1.0) < 1e-6


def test_robust_scaling_of_a_column_mostly_at_one_value_falls_back_to_its_deviation():
    values = torch.zeros(100, 1, dtype=torch.float64)
    values[::10] = 40.0  # a valve shut nine rows in ten: its middle half is one value
    scaler = Scaler("robust").fit(values)
    assert float(scaler.shift[0]) == 0.0 and np.isclose(float(scaler.scale[0]), 12.0)  # the deviation, not 1
