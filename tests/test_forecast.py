"""Forecasting beyond one step: blocks, covariates, contexts, streams, backtests, intervals."""
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import windwidgets as ww
from windwidgets.errors import DataError, WindwidgetsError
from windwidgets.forecast.baselines import naive, seasonal_naive
from windwidgets.forecast.intervals import half_widths
from windwidgets.forecast.rollout import future_index



@pytest.fixture(scope="module")
def wind_run():
    """Half a year of hourly wind, a GRU predicting the next day in one block."""
    wind = ww.datasets.wind(days=180)
    return ww.train(wind, target="speed", model="gru", window=48, horizon=24, hidden_size=32,
                    num_layers=1, epochs=5, lr=5e-3, batch_size=32, live=False)


@pytest.fixture(scope="module")
def feed():
    """Twenty days of wind: the first 400 hours train, the rest arrives as a live feed."""
    return ww.datasets.wind(days=20)


def small_run(data, **settings):
    base = dict(target="speed", model="gru", window=24, hidden_size=8, num_layers=1, epochs=1,
                batch_size=32, live=False)
    return ww.train(data, **{**base, **settings})


def test_wind_model_beats_the_baselines_from_every_origin(wind_run):
    evaluation = wind_run.evaluate()
    assert set(evaluation) == {"mae", "rmse", "mape", "smape", "mase"}
    table = evaluation.table
    assert list(table.index) == ["model", "naive", "seasonal_naive"]
    # measured MAE 1.22 against 1.60 (seasonal naive) and 1.69 (naive), m/s, 24 steps ahead
    assert table.loc["model", "mae"] < 0.85 * table.loc["seasonal_naive", "mae"]
    assert table.loc["model", "mae"] < 0.85 * table.loc["naive", "mae"]
    by_lead = evaluation.backtest.by_lead("rmse")
    assert list(by_lead.index) == list(range(1, 25))
    ratio = by_lead["model"] / by_lead["seasonal_naive"]  # measured 0.39 at lead 1 to 0.95 at 24
    assert (ratio.iloc[:12] < 0.9).all() and ratio.iloc[0] < 0.55
    assert by_lead["model"].iloc[-1] > 1.5 * by_lead["model"].iloc[0]  # error grows with the lead
    assert "seasonal_naive" in evaluation._repr_html_() and "mae" in repr(evaluation)


def test_backtest_is_tidy_and_each_row_is_a_forecast_from_its_origin(wind_run):
    backtest = wind_run.backtest(48, stride=24)
    frame = backtest.frame
    assert list(frame.columns) == ["origin", "time", "lead", "target", "truth", "model", "naive",
                                   "seasonal_naive"]
    origins = len(backtest.origins)
    assert len(frame) == origins * 48 and frame["lead"].between(1, 48).all()
    first = frame[frame["origin"] == frame["origin"].iloc[0]]
    assert (first["time"] - first["origin"] == pd.to_timedelta(first["lead"], unit="h")).all()
    start = first["time"].iloc[0]
    assert start == wind_run.frame.index[wind_run.n_train]  # the first origin opens the validation part
    # the batched rollout of two blocks equals a forecast from that origin
    alone = wind_run.forecast(48, start=start)
    np.testing.assert_allclose(first["model"].to_numpy(), alone["speed"].to_numpy(), atol=1e-4)
    np.testing.assert_allclose(first["truth"].to_numpy(), wind_run.frame["speed"].loc[alone.index].to_numpy())
    assert first["naive"].nunique() == 1  # the last value held
    metrics = backtest.metrics()
    assert metrics.loc["model", "mae"] < metrics.loc["seasonal_naive", "mae"]
    assert repr(backtest).startswith(f"Backtest({origins} origins x 48 steps")


def test_a_backtest_origin_never_sees_data_after_it(feed):
    data = feed.iloc[:480]
    run = small_run(data, covariates=["pressure"], future_covariates=["temperature"], horizon=6)
    steps, cut = 12, 430
    before = run.backtest(steps, stride=5)
    changed = data.astype(np.float64)
    rng = np.random.default_rng(1)
    changed.loc[changed.index[cut:], ["speed", "pressure"]] += rng.normal(0, 5, (480 - cut, 2))
    # known-future covariates are known ahead by definition: changed only after the forecast rows
    changed.loc[changed.index[cut + steps :], "temperature"] += 10.0
    run.frame = changed[list(run.layout.inputs)]
    after = run.backtest(steps, stride=5)
    seen = before.origins <= cut  # origins whose forecasts start at or before the change
    assert seen.sum() >= 4 and (~seen).sum() >= 2
    for name in ("model", "naive", "seasonal_naive"):
        np.testing.assert_array_equal(after.predictions[name][seen], before.predictions[name][seen])
    assert not np.allclose(after.predictions["model"][~seen], before.predictions["model"][~seen])


def rolled_over(run, rows, steps, future):
    """A forecast of ``steps`` after ``rows`` that reads all of them first (the warm-up)."""
    labels = future_index(rows.index, steps)
    forecaster = run.forecaster
    known = forecaster._future_of(future, labels, None, 0)
    predicted = forecaster._rollout(rows[list(run.layout.inputs)], known, len(rows), steps, len(rows))
    return forecaster._frame_of(predicted, labels, None)


def same(a: pd.DataFrame, b: pd.DataFrame, run, atol: float = 0.0) -> None:
    """Equal on the CPU (within ``atol``); on a GPU, which sums in another order for another
    length of input, equal to float32's rounding."""
    cuda = run.device.type == "cuda"
    pd.testing.assert_frame_equal(a, b, check_exact=not (cuda or atol), rtol=1e-4 if cuda else 0, atol=atol)


@pytest.mark.parametrize("model, future, horizon, mode", [
    ("gru", ["temperature"], 3, "sequence"),  # known-future covariates: the state lags by a block
    ("lstm", None, 1, "window"),  # re-reads its last window for every forecast
    ("rnn", None, 2, "stateful"),
])
def test_a_stream_gives_the_numbers_of_one_rollout_over_the_joined_data(feed, model, future, horizon, mode):
    train, live = feed.iloc[:400], feed.iloc[400:]
    run = small_run(train, model=model, covariates=["pressure"], future_covariates=future,
                    horizon=horizon, mode=mode)
    window = run.config.data.window
    ahead = (lambda rows: rows[future]) if future else (lambda rows: None)
    first = run.forecast(6, keep_state=True, future=ahead(live.iloc[:6]))
    same(first, run.forecast(6, future=ahead(live.iloc[:6])), run)
    run.update(live.iloc[:5]).update(live.iloc[5:17])
    streamed = run.forecast(6, keep_state=True, future=ahead(live.iloc[17:23]))
    assert streamed.index[0] == live.index[17]
    assert len(run._stream.frame) <= window + 2 * horizon  # history is not kept, let alone re-read
    joined = feed.iloc[400 - window : 417]  # every row the stream has read
    if mode == "window":
        once = run.forecast(6, context=joined, future=ahead(live.iloc[17:23]))
    else:  # the state carried over every row read
        once = rolled_over(run, joined, 6, ahead(live.iloc[17:23]))
    same(streamed, once, run, atol=1e-5)
    assert run.frame.index[-1] == live.index[16]  # the updates joined the run's data
    run.reset_state()
    assert run._stream is None
    fresh = run.forecast(6, keep_state=True, future=ahead(live.iloc[17:23]))
    same(fresh, run.forecast(6, future=ahead(live.iloc[17:23])), run)


def test_bad_updates_are_refused_and_nothing_is_lost(feed):
    train, live = feed.iloc[:400], feed.iloc[400:]
    run = small_run(train, covariates=["pressure"])
    before = run.forecast(5, keep_state=True)
    rows = len(run.frame)
    with pytest.raises(DataError, match=r"`new_rows` must continue the data, which ends at "
                                        r"2024-01-17 15:00:00 with steps of 0 days 01:00:00: 3 rows "
                                        r"from 2024-01-17 16:00:00 .* they start at 2024-01-17 18:00:00"):
        run.update(live.iloc[2:5])
    with pytest.raises(DataError, match=r"`new_rows` lack column\(s\) pressure"):
        run.update(live[["speed"]].iloc[:3])
    broken = live.iloc[:3].copy()
    broken.iloc[1, 0] = np.nan
    with pytest.raises(DataError, match=r"`new_rows`: column\(s\) speed hold NaN"):
        run.update(broken)
    assert len(run.frame) == rows
    pd.testing.assert_frame_equal(run.forecast(5, keep_state=True), before)
    with pytest.raises(WindwidgetsError, match=r"`keep_state=True` follows the series from its latest row"):
        run.forecast(5, keep_state=True, start=100)


def test_future_covariates_are_checked_by_timestamp(feed):
    run = small_run(feed.iloc[:400], future_covariates=["temperature", "pressure"], horizon=4)
    ahead = feed.iloc[400:430]
    forecast = run.forecast(10, future=ahead)
    assert forecast.index.equals(ahead.index[:10])
    # a longer frame that starts earlier is matched by timestamp
    pd.testing.assert_frame_equal(run.forecast(10, future=feed.iloc[390:430]), forecast)
    with pytest.raises(DataError, match=r"`future` must hold columns temperature, pressure for 10 "
                                        r"rows from 2024-01-17 16:00:00; it has 30 rows and lacks pressure"):
        run.forecast(10, future=ahead[["temperature"]])
    with pytest.raises(DataError, match=r"it has 3 rows"):
        run.forecast(10, future=ahead.iloc[:3])
    with pytest.raises(DataError, match=r"`future` has a gap: 2024-01-17 20:00:00 is followed by "
                                        r"2024-01-17 22:00:00"):
        run.forecast(10, future=ahead.drop(ahead.index[5]))
    with pytest.raises(DataError, match=r"`future` is at steps of 0 days 00:30:00, the data at steps "
                                        r"of 0 days 01:00:00; resample it"):
        run.forecast(10, future=ahead.set_axis(pd.date_range(ahead.index[0], periods=30, freq="30min")))
    with pytest.raises(DataError, match=r"`future` runs from 2024-01-18 00:00:00 .* but the forecast "
                                        r"starts at 2024-01-17 16:00:00"):
        run.forecast(10, future=ahead.iloc[8:])
    with pytest.raises(DataError, match=r"`future` must cover 10 rows from 2024-01-17 16:00:00 .* it "
                                        r"gives 6 rows"):
        run.forecast(10, future=feed.iloc[380:406])
    holed = ahead.copy()
    holed.iloc[2, 2] = np.nan
    with pytest.raises(DataError, match=r"`future` holds NaN or inf in column\(s\) temperature"):
        run.forecast(10, future=holed)
    with pytest.raises(DataError, match=r"takes future covariates \(temperature, pressure\); pass future="):
        run.forecast(10)
    # from the past, the data's own covariates are the known future
    past = run.forecast(10, start=300)
    pd.testing.assert_frame_equal(past, run.forecast(10, start=300, future=feed.iloc[300:320]))
    # the last block (rows 8-11 at horizon 4) reads the covariates past the 10th row too, so a
    # forecast does not depend on how many steps were asked for
    pd.testing.assert_frame_equal(run.forecast(9, future=ahead), forecast.iloc[:9])
    pd.testing.assert_frame_equal(run.forecast(9, start=300), past.iloc[:9])
    pd.testing.assert_frame_equal(run.forecast(10, future=ahead), forecast)  # nothing was lost


def test_contexts_start_a_trained_model_on_a_new_series(feed):
    run = small_run(feed.iloc[:400], covariates=["pressure"], horizon=2)
    other = ww.datasets.wind(days=10, seed=3, start="2025-06-01")[["speed", "pressure"]]
    forecast = run.forecast(30, context=other)
    assert forecast.index[0] == other.index[-1] + pd.Timedelta(hours=1) and len(forecast) == 30
    assert forecast["speed"].between(0, 30).all()
    # a context of exactly one window is the same forecast as from that point of the data
    pd.testing.assert_frame_equal(run.forecast(8, context=run.frame.iloc[276:300]), run.forecast(8, start=300))
    with pytest.raises(DataError, match=r"`context` has 10 rows; this model reads windows of 24 rows, "
                                        r"so pass at least 24 rows"):
        run.forecast(5, context=other.iloc[:10])
    holed = other.copy()
    holed.iloc[50, 1] = np.nan
    with pytest.raises(DataError, match=r"`context`: column\(s\) pressure hold NaN or inf values"):
        run.forecast(5, context=holed)
    with pytest.raises(DataError, match=r"`context` lacks column\(s\) pressure"):
        run.forecast(5, context=other[["speed"]])
    with pytest.raises(WindwidgetsError, match=r"pass either `start` .* or `context`"):
        run.forecast(5, context=other, start=30)
    pd.testing.assert_frame_equal(run.forecast(30, context=other), forecast)  # nothing was lost


def test_any_number_of_steps_with_any_horizon():
    sine = ww.datasets.sine(n=600, noise=0.02)
    run = ww.train(sine, model="lstm", window=20, horizon=5, hidden_size=16, num_layers=1,
                   epochs=4, lr=1e-2, batch_size=32, live=False)
    for steps in (1, 4, 5, 12, 100):
        assert len(run.forecast(steps)) == steps
    long = run.forecast(100)
    pd.testing.assert_frame_equal(run.forecast(5), long.iloc[:5])
    pd.testing.assert_frame_equal(run.forecast(12), long.iloc[:12])
    truth = np.sin(2 * np.pi * np.arange(600, 700) / 50)
    assert np.abs(long["y"].to_numpy() - truth).mean() < 0.3  # measured 0.12 over 20 blocks


def test_one_to_many_from_a_single_observation():
    """The tutorial's generation: an Elman RNN (hidden 16) primed with one observation, then
    fed its own predictions. The cosine rides along as a past-only covariate, forecast with
    the sine, so one row fixes the phase."""
    t = np.arange(1200)
    wave = pd.DataFrame({"y": np.sin(2 * np.pi * t / 50), "cos": np.cos(2 * np.pi * t / 50)})
    run = ww.train(wave.iloc[:1000], target="y", covariates=["cos"], model="rnn", hidden_size=16,
                   num_layers=1, window=1, epochs=5, batch_size=16, lr=5e-3, live=False)
    for k in (1012, 1025, 1037):
        generated = run.forecast(150, context=wave.iloc[[k]])
        error = np.abs(generated["y"].to_numpy() - wave["y"].to_numpy()[k + 1 : k + 151])
        assert error.mean() < 0.1 and error.max() < 0.25  # measured 0.04 and 0.10


def test_one_row_context_needs_a_statefully_trained_model():
    sine = ww.datasets.sine(n=800)
    stateful = ww.train(sine, model="rnn", window=25, hidden_size=8, num_layers=1, epochs=1,
                        batch_size=8, stateful=True, live=False)
    assert len(stateful.forecast(20, context=sine.iloc[[12]])) == 20
    windowed = ww.train(sine, model="rnn", window=25, hidden_size=8, num_layers=1, epochs=1, live=False)
    with pytest.raises(DataError, match=r"`context` has 1 rows; .* \(a model trained with "
                                        r"stateful=True can start from one row\)"):
        windowed.forecast(20, context=sine.iloc[[12]])


def test_intervals_widen_with_the_lead_and_cover_what_they_claim(wind_run):
    forecast = wind_run.forecast(48, interval=0.9)
    assert list(forecast.columns) == ["speed", "speed_lower", "speed_upper"]
    assert (forecast["speed_lower"] < forecast["speed"]).all()
    assert (forecast["speed"] < forecast["speed_upper"]).all()
    width = (forecast["speed_upper"] - forecast["speed_lower"]).to_numpy()
    assert width[-12:].mean() > 1.5 * width[:3].mean()  # measured 2.4x
    backtest = wind_run.backtest(24, stride=3, interval=0.9)
    # each origin calibrated on forecasts finished before it: measured coverage 0.88
    assert 0.8 < backtest.coverage < 0.97
    assert backtest.frame["lower"].isna().sum() > 0  # the first origins had nothing to calibrate on
    assert "coverage" in backtest.by_lead() and "coverage" in backtest.metrics()
    with pytest.raises(WindwidgetsError, match=r"`interval` \(1.5\) must be a coverage level strictly "
                                               r"between 0 and 1"):
        wind_run.forecast(5, interval=1.5)
    with pytest.raises(WindwidgetsError, match=r"`interval` \(0.9999\) needs at least 9999 validation "
                                               r"forecasts to calibrate on"):
        wind_run.forecast(5, interval=0.9999)
    rows = len(wind_run.frame) - wind_run.n_train
    with pytest.raises(WindwidgetsError, match=rf"the validation part has {rows} rows, too few for "
                                               rf"`steps` \(2000\)"):
        wind_run.forecast(2000, interval=0.9)
    assert len(wind_run.forecast(2000)) == 2000  # without an interval any length works


def test_forecast_and_error_plots(wind_run):
    figure = wind_run.plot_forecast(steps=48, start=wind_run.n_train + 100, interval=0.8)
    assert isinstance(figure, Figure)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["history", "truth", "forecast", "80% interval"]  # the level from the frame's attrs
    assert figure.axes[0].get_title() == "gru forecast of speed, 48 hours ahead"
    figure.canvas.draw()
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    assert all(re.fullmatch(r"\d\d [A-Z][a-z]{2}|\d\d:\d\d", t) for t in ticks), ticks  # "14 Mar", no year corner
    errors = wind_run.plot_errors(wind_run.backtest(24, stride=6, interval=0.9), metric="rmse")
    assert isinstance(errors, Figure) and len(errors.axes) == 2
    assert [line.get_label() for line in errors.axes[0].get_lines()] == ["model", "persistence (naive)", "seasonal naive"]
    assert errors.axes[1].get_title() == "90% interval coverage by lead time"
    assert errors.axes[1].get_xlabel() == "lead (hours ahead)"
    low, high = errors.axes[1].get_ylim()
    assert 0 < low < 0.9 < high <= 1.02  # zoomed to the coverage, the nominal level in view
    with pytest.raises(WindwidgetsError, match=r"`metric` \('r2'\) is not one of"):
        wind_run.plot_errors(metric="r2")


def test_baselines_and_interval_widths_by_hand():
    values = np.arange(10, dtype=float)[:, None]  # (rows, 1)
    origins = np.array([4, 6])
    np.testing.assert_array_equal(naive(values, origins, 3)[:, :, 0], [[3, 3, 3], [5, 5, 5]])
    np.testing.assert_array_equal(seasonal_naive(values, origins, 5, season=2)[:, :, 0],
                                  [[2, 3, 2, 3, 2], [4, 5, 4, 5, 4]])
    errors = np.arange(1, 20, dtype=float)[:, None, None]  # 19 errors, one lead, one column
    assert half_widths(errors, 0.9)[0, 0] == 18.0  # the ceil((19 + 1) * 0.9) = 18th smallest
    assert half_widths(errors, 0.5)[0, 0] == 10.0


def test_forecast_modules_import_no_front_end():
    code = ("import sys, windwidgets.forecast.forecaster, windwidgets.forecast.backtest, "
            "windwidgets.forecast.stream, windwidgets.data.reactor;"
            "print(sorted(m for m in ('ipywidgets', 'IPython', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
