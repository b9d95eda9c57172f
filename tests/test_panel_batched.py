"""A panel's backtests and forecasts roll every series in one batch: the same numbers as each
series rolled on its own (issue 25)."""
import warnings

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.forecast.backtest import METHODS
from windwidgets.forecast.panel import PanelBacktest, PanelEvaluation, backtests

SETTINGS = dict(target="speed", covariates=["pressure"], future_covariates=["temperature"], series="station",
                time="time", window=12, horizon=3, hidden_size=8, num_layers=1, epochs=1, batch_size=32,
                live=False)
# The batch of a rollout differs (every series together, against one series alone), and a batch
# of one is a matrix-vector product where a batch of many is a matrix product: their sums run
# in another order. Backtests came out bit-identical on the CPU; forecasts within one float32
# ulp (2.4e-7 on values near 4).
CLOSE = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def stations():
    """Five stations of different lengths (6 to 10 days)."""
    data = ww.datasets.wind(days=10, stations=5)
    days = data["station"].map({"S1": 10, "S2": 6, "S3": 8, "S4": 7, "S5": 9})
    return data[(data.groupby("station").cumcount() < days * 24).to_numpy()].reset_index(drop=True)


def trained(data, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MAPE near calm hours
        return ww.train(data, **{**SETTINGS, **settings})


@pytest.fixture(scope="module", params=["window", "sequence"])
def run(request, stations):
    """Each series scaled on its own, so that a series encoded with another's scaler would show."""
    return trained(stations, mode=request.param, series_scaling="series")


def assert_same_backtest(batched, alone):
    np.testing.assert_array_equal(batched.origins, alone.origins)
    np.testing.assert_array_equal(batched.truth, alone.truth)
    for method in METHODS:
        np.testing.assert_allclose(batched.predictions[method], alone.predictions[method], **CLOSE)
    for bound in ("lower", "upper"):
        if getattr(alone, bound) is None:
            assert getattr(batched, bound) is None
        else:
            np.testing.assert_allclose(getattr(batched, bound), getattr(alone, bound), **CLOSE)
    np.testing.assert_array_equal(batched.scale, alone.scale)
    assert batched.level == alone.level and batched.index.equals(alone.index)


@pytest.mark.parametrize("steps, stride, interval", [(5, 2, None), (3, 1, 0.8), (None, None, None)])
def test_a_panel_backtest_equals_each_series_backtested_alone(run, steps, stride, interval):
    batched = run.backtest(steps, stride, interval)
    assert list(batched.by_series) == run.series
    for key in run.series:
        alone = run.member(key).forecaster.backtest(steps, stride, interval)
        assert_same_backtest(batched.by_series[key], alone)
    assert batched.by_series["S1"].predictions["model"].shape[1] == (steps or 3)


def test_its_metrics_and_evaluation_equal_those_of_the_series_alone(run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        batched = run.evaluate(steps=4, stride=3)
        alone = PanelEvaluation(PanelBacktest({key: run.member(key).forecaster.backtest(4, 3)
                                               for key in run.series}, "station"))
    pd.testing.assert_frame_equal(batched.table, alone.table, rtol=1e-5)
    pd.testing.assert_frame_equal(batched.pooled, alone.pooled, rtol=1e-5)
    assert batched.keys() == alone.keys()
    for key in run.series:  # each series' rows are its own backtest's metrics, untouched by the pooling
        own = run.member(key).forecaster.backtest(4, 3).metrics()
        np.testing.assert_allclose(batched.table.loc[key].loc["speed"].to_numpy(), own.to_numpy(), rtol=1e-5)
    for name in batched:
        assert batched[name] == pytest.approx(alone[name], rel=1e-5, nan_ok=True)


def test_small_chunks_give_the_same_forecasts(run):
    """Chunks that cut through a series' origins change nothing."""
    forecasters = {key: run.member(key).forecaster for key in run.series}
    origins = {key: f._origins(4, 1) for key, f in forecasters.items()}
    whole, chunked = backtests(forecasters, origins, 4), backtests(forecasters, origins, 4, chunk=7)
    for key in run.series:
        np.testing.assert_allclose(chunked[key].predictions["model"], whole[key].predictions["model"], **CLOSE)


def shared_future(run, steps):
    """Temperatures for the rows after every series' end, with the id column."""
    rows = []
    for key in run.series:
        frame = run.member(key).frame
        times = pd.date_range(frame.index[-1], periods=steps + 1, freq="h")[1:]
        rows.append(pd.DataFrame({"station": key, "time": times,
                                  "temperature": np.linspace(-3.0, 4.0, steps) + len(frame) / 100}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("steps", [1, 7])
def test_a_panel_forecast_equals_each_series_forecast_alone(run, steps):
    future = shared_future(run, steps + 2)  # rows past `steps` too: the last block reads them
    batched = run.forecast(steps, future=future)
    assert list(batched["station"].unique()) == run.series
    for key in run.series:
        mine = future[future["station"] == key].drop(columns="station")
        alone = run.member(key).forecast(steps, future=mine)
        rows = batched[batched["station"] == key].drop(columns="station")
        assert rows.index.equals(alone.index)
        np.testing.assert_allclose(rows.to_numpy(), alone.to_numpy(), **CLOSE)


def test_forecasts_from_inside_the_data_with_an_interval_roll_the_same(run):
    start = pd.Timestamp("2024-01-05 07:00")  # covariates read from the data, each series' own
    alone = {}
    for key in ("S5", "S2", "S3"):  # each calibrated on its own, then the calibrations dropped
        alone[key] = run.member(key).forecast(8, start=start, interval=0.9)
        run.member(key).forecaster._calibration.clear()
    batched = run.forecast(8, start=start, interval=0.9, series=["S5", "S2", "S3"])  # calibrated together
    assert list(batched["station"].unique()) == ["S5", "S2", "S3"]
    for key in ("S5", "S2", "S3"):
        assert 8 in run.member(key).forecaster._calibration
        rows = batched[batched["station"] == key].drop(columns="station")
        assert list(rows.columns) == list(alone[key].columns)
        np.testing.assert_allclose(rows.to_numpy(), alone[key].to_numpy(), **CLOSE)


def test_a_series_that_cannot_be_backtested_is_named(stations):
    run = trained(stations, epochs=1)
    with pytest.raises(ww.WindwidgetsError, match=r"series 'S2': `steps` \(40\) is longer than the validation "
                                                  r"part \(29 rows\)"):
        run.backtest(40)
    future = shared_future(run, 4)
    with pytest.raises(ww.WindwidgetsError, match=r"series 'S4': `future` has no rows for series 'S4'"):
        run.forecast(2, future=future[future["station"] != "S4"])


@pytest.mark.parametrize("ids", [np.array([3, 1, 2]), np.array(["b", "a", "c"], dtype=object),
                                 np.array([2, "a", 1.5], dtype=object)])
def test_one_pass_split_by_id_equals_a_mask_per_id(ids):
    """The rows of each id, in the order they come, whatever order the ids come in, numbered
    from 0 (the table's row numbers are not a series' positions); ids of mixed kinds keep the
    order they come in."""
    from windwidgets.data.prepare import _series

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": ids[rng.integers(0, 3, 40)], "value": np.arange(40.0)})
    split = _series(table, "id")
    expected = list(pd.unique(table["id"]))
    try:
        expected = sorted(expected)
    except TypeError:
        pass
    assert list(split) == expected
    for key, part in split.items():
        pd.testing.assert_frame_equal(part, table[(table["id"] == key).to_numpy()].drop(columns="id")
                                      .reset_index(drop=True))
