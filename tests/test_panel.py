"""Panels: one global model across many series of a long table (issue 12)."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import DataConfig
from windwidgets.data import prepare
from windwidgets.data.windows import Chunks
from windwidgets.errors import ConfigError, DataError

SETTINGS = dict(target="speed", series="station", time="time", window=12, hidden_size=8, num_layers=1,
                epochs=2, batch_size=32, live=False)


@pytest.fixture(scope="module")
def panel():
    """Four stations of different lengths (8 to 14 days); S3 lost 4 hours and is filled."""
    data = ww.datasets.wind(days=14, stations=4)
    keep = data.groupby("station").cumcount() < data["station"].map({"S1": 14, "S2": 8, "S3": 11, "S4": 10}) * 24
    data = data[keep.to_numpy()]
    lost = (data["station"] == "S3") & data["time"].between("2024-01-05 03:00", "2024-01-05 06:00")
    return data[~lost.to_numpy()].reset_index(drop=True)


@pytest.fixture(scope="module")
def panel_run(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MAPE near calm hours
        return ww.train(panel, freq="1h", fill="interpolate", **SETTINGS)


def segment_of(row: int, segments) -> int:
    return next(k for k, (start, rows, _) in enumerate(segments) if start <= row < start + rows)


def test_windows_and_chunks_never_cross_from_one_series_to_the_next(panel):
    data = prepare(panel, DataConfig(target="speed", covariates=["pressure"], future_covariates=["temperature"],
                                     series="station", time="time", window=12, horizon=3, freq="1h",
                                     fill="interpolate"), torch.device("cpu"))
    segments = data.segments
    assert [rows for _, rows, _ in segments] == [14 * 24, 8 * 24, 11 * 24, 10 * 24]
    assert [n for _, _, n in segments] == [round(rows * 0.8) for _, rows, _ in segments]  # split in each
    span = 12 + 3  # a window and the horizon after it
    for index in (data.windows.train_index, data.windows.val_index):
        for first in index.tolist():
            assert segment_of(first, segments) == segment_of(first + span - 1, segments)
    for rows in (data.train_rows, data.val_rows):
        chunks = Chunks(data.inputs, data.outputs, 12, 3, 24, rows, 8, free=12)
        reach = chunks.length + chunks.free + chunks.horizon
        assert len(chunks.first_rows()) == chunks.count
        for first in chunks.first_rows().tolist() + chunks._every().tolist():
            assert segment_of(first, segments) == segment_of(first + reach - 1, segments)
    # the future covariates are led within a series: its last rows never hold the next one's
    for start, rows, _ in segments:
        assert (data.inputs[start + rows - 3 : start + rows, -1] == 0).all()


def test_one_model_forecasts_each_series_at_its_own_times(panel_run, panel):
    assert panel_run.series == ["S1", "S2", "S3", "S4"]
    forecast = panel_run.forecast(3)
    assert list(forecast.columns) == ["station", "speed"] and len(forecast) == 12
    for key, days in (("S1", 14), ("S2", 8), ("S3", 11), ("S4", 10)):
        rows = forecast[forecast["station"] == key]
        assert rows.index[0] == pd.Timestamp("2024-01-01") + pd.Timedelta(days=days)
    s3 = panel_run.member("S3").frame
    assert len(s3) == 11 * 24 and s3.index.is_unique  # the lost hours filled in
    two = panel_run.forecast(2, series=["S2", "S4"], interval=0.8)
    assert list(two["station"].unique()) == ["S2", "S4"] and "speed_upper" in two


def test_a_series_forecast_equals_the_same_model_on_that_series_alone(panel_run, panel):
    s2 = panel[panel["station"] == "S2"].drop(columns="station")
    from_panel = panel_run.forecast(6, series="S2")
    alone = panel_run.member("S1").forecast(6, context=s2)  # S2 handed to the model as a new series
    np.testing.assert_allclose(from_panel["speed"], alone["speed"], rtol=1e-5)
    assert from_panel.index.equals(alone.index)


def test_backtest_and_evaluate_per_series_and_pooled(panel_run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        evaluation = panel_run.evaluate(steps=4, stride=4)
    table = evaluation.table
    assert table.index.names == ["station", "target", "method"]
    assert list(table.index.get_level_values("station").unique()) == ["S1", "S2", "S3", "S4"]
    backtest = evaluation.backtest
    errors = [np.abs(b.predictions["model"] - b.truth) for b in backtest.by_series.values()]
    assert evaluation["mae"] == pytest.approx(np.concatenate(errors).mean())  # pooled over series
    weights = [len(b.origins) for b in backtest.by_series.values()]
    mase = [table.loc[(key, "speed", "model"), "mase"] for key in panel_run.series]
    assert evaluation["mase"] == pytest.approx(np.average(mase, weights=weights))
    frame = backtest.frame
    assert frame.columns[0] == "station" and set(frame["station"]) == {"S1", "S2", "S3", "S4"}
    one = panel_run.backtest(4, 4, series="S4")
    assert list(one.by_series) == ["S4"] and len(one.by_lead("mae")) == 4


def test_save_and_load_give_the_same_numbers(panel_run, tmp_path):
    loaded = ww.load(panel_run.save(tmp_path / "panel.pt"))
    assert loaded.series == panel_run.series
    pd.testing.assert_frame_equal(loaded.forecast(5), panel_run.forecast(5))


def test_panel_mistakes_name_the_series_and_the_fix(panel):
    with pytest.raises(DataError, match=r"`series` names column 'statoin', which is not in the data.*'station'"):
        ww.train(panel, **{**SETTINGS, "series": "statoin"})
    with pytest.raises(DataError, match=r"series 'S3' \(station\): the index is irregular"):
        ww.train(panel, **SETTINGS)
    with pytest.raises(ConfigError, match=r"mode 'stateful' .* a panel of 4 series \(series='station'\).*mode='sequence'"):
        ww.train(panel, mode="stateful", freq="1h", fill="ffill", **SETTINGS)
    with pytest.raises(ww.WindwidgetsError, match=r"`series` \('S9'\) is not one of the panel's series"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ww.train(panel, freq="1h", fill="ffill", **{**SETTINGS, "epochs": 1}).forecast(2, series="S9")


def test_new_rows_join_their_own_series(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        run = ww.train(panel, freq="1h", fill="ffill", **{**SETTINGS, "epochs": 1})
    later = ww.datasets.wind(days=9, stations=2).query("station == 'S2'").iloc[-24:]  # S2's ninth day
    run.update(later)
    assert len(run.member("S2").frame) == 9 * 24 and len(run.member("S1").frame) == 14 * 24
    assert run.forecast(1, series="S2").index[0] == pd.Timestamp("2024-01-10")
    run.update(ww.datasets.wind(days=15, stations=1).iloc[-24:])  # S1's fifteenth day
    assert len(run.member("S1").frame) == len(run.frame) == 15 * 24  # the panel's frame is the first series'
    with pytest.raises(ww.WindwidgetsError, match=r"`new_rows` of a panel must be a DataFrame with the id column 'station'"):
        run.update(later.drop(columns="station"))


def test_each_series_can_have_its_own_scaler(panel, tmp_path):
    data = panel.copy()
    big = (data["station"] == "S4").to_numpy()
    data.loc[big, "speed"] *= 100  # S4 in cm/s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        shared = ww.train(data, freq="1h", fill="ffill", **{**SETTINGS, "epochs": 1})
        own = ww.train(data, freq="1h", fill="ffill", series_scaling="series", **{**SETTINGS, "epochs": 1})
    assert shared.member("S4").scaler is shared.member("S1").scaler
    s4 = own.member("S4")
    train = s4.frame["speed"].to_numpy()[: s4.n_train]
    assert float(s4.scaler.shift[0]) == pytest.approx(train.mean(), rel=1e-5)
    assert float(own.member("S1").scaler.shift[0]) < 20 < float(s4.scaler.shift[0])
    loaded = ww.load(own.save(tmp_path / "own.pt"))
    pd.testing.assert_frame_equal(loaded.forecast(4), own.forecast(4))
    with pytest.raises(ConfigError, match=r"`series_scaling` \('each'\) is not one of 'global', 'series'"):
        ww.train(data, series_scaling="each", **SETTINGS)


def test_the_live_preview_shows_the_first_series(panel_run):
    from windwidgets.forecast.preview import live_preview

    preview = live_preview(panel_run, steps=24)()
    s1 = panel_run.member("S1")
    start = s1.frame.index[s1.n_train]
    np.testing.assert_allclose(preview["truth"], s1.frame["speed"].iloc[s1.n_train : s1.n_train + 24])
    np.testing.assert_allclose(preview["forecast"], panel_run.forecast(24, start=start, series="S1")["speed"],
                               rtol=1e-5)
