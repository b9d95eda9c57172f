"""One pipeline for every kind of data: a series is a panel of one, settings mean the same on
both, and new rows and contexts get the run's own regularising and filling."""
import re

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.errors import WindwidgetsError

TINY = dict(window=12, hidden_size=4, num_layers=1, epochs=2, live=False)


def farm(turbines=("T1",), days=10, hole=True) -> pd.DataFrame:
    """A long table: a text-free time column, an id column, a hole in the speed of each turbine."""
    wind = ww.datasets.wind(days=days)[["speed", "temperature"]]
    parts = []
    for i, key in enumerate(turbines):
        part = wind.copy()
        part["speed"] = part["speed"] * (1 + 0.2 * i)
        if hole:
            part.iloc[30 + i : 33 + i, 0] = np.nan
        parts.append(part.rename_axis("stamp").reset_index().assign(turbine=key))
    return pd.concat(parts, ignore_index=True)


SETTINGS = dict(target="speed", covariates="temperature", time="stamp", fill="interpolate", calendar=True,
                bounds={"speed": (0, None)}, forecast_steps=12, **TINY)


def test_a_panel_of_one_series_is_that_series_trained_alone(tmp_path):
    table = farm()
    alone = ww.train(table.drop(columns="turbine"), **SETTINGS)
    panel = ww.train(table, series="turbine", **SETTINGS)
    pd.testing.assert_frame_equal(alone.history.drop(columns="seconds"), panel.history.drop(columns="seconds"))
    assert "val_forecast" in panel.history  # forecast_steps picks the epoch on a panel too
    np.testing.assert_array_equal(alone.forecast(24)["speed"], panel.forecast(24)["speed"])
    np.testing.assert_array_equal(alone.backtest(6, 6).frame["model"], panel.backtest(6, 6).frame["model"])
    kept, member = alone._data_state(), panel.member("T1")._data_state()
    assert kept["n_train"] == member["n_train"] and kept["mase_scale"] == member["mase_scale"]
    assert np.array_equal(kept["frame"]["values"], member["frame"]["values"])
    loaded = ww.load(panel.save(tmp_path / "panel.pt"))
    np.testing.assert_array_equal(loaded.forecast(24)["speed"], panel.forecast(24)["speed"])


def test_a_panel_scores_forecasts_of_every_series_to_keep_its_epoch():
    run = ww.train(farm(("T1", "T2", "T3")), series="turbine", target="speed", time="stamp", fill="ffill", **TINY)
    assert run.config.train.forecast_steps == 24 and "val_forecast" in run.history
    assert run.progress.best_epoch == run.history.loc[run.history["val_forecast"].idxmin(), "epoch"]


def test_the_same_rows_in_any_order_give_the_same_model():
    table = farm(("T1", "T2"), hole=False)
    settings = dict(series="turbine", target="speed", time="stamp", **TINY)
    first = ww.train(table, **settings)
    shuffled = ww.train(table.sample(frac=1.0, random_state=3), **settings)
    pd.testing.assert_frame_equal(first.history.drop(columns="seconds"), shuffled.history.drop(columns="seconds"))
    assert first.series == shuffled.series == ["T1", "T2"]


def test_new_rows_get_the_runs_fill():
    table = farm(hole=False)
    run = ww.train(table.iloc[:-10].drop(columns="turbine"), target="speed", time="stamp", freq="1h",
                   fill="interpolate", **TINY)
    new = table.iloc[-10:].drop(columns="turbine")
    new.iloc[3, new.columns.get_loc("speed")] = np.nan  # a missing value
    new = new.drop(index=new.index[6])  # and a missing row
    run.update(new)
    assert len(run.frame) == len(table) and run.frame["speed"].notna().all()
    truth = table["speed"].iloc[-10:].to_numpy()
    filled = run.frame["speed"].iloc[-10:].to_numpy()
    assert filled[3] == pytest.approx((truth[2] + truth[4]) / 2) and filled[6] == pytest.approx((truth[5] + truth[7]) / 2)
    plain = ww.train(table.iloc[:-10].drop(columns="turbine"), target="speed", time="stamp", **TINY)
    with pytest.raises(WindwidgetsError, match=r"hold NaN or inf values"):
        plain.update(new)  # without fill= a hole is refused, as it was in training


def test_a_panel_update_that_fails_for_one_series_changes_none():
    table = farm(("a", "b"), hole=False)
    run = ww.train(table.groupby("turbine").head(200), series="turbine", target="speed", time="stamp", **TINY)
    rows = table.groupby("turbine").nth(list(range(200, 210)))
    broken = rows.drop(index=rows[rows["turbine"] == "b"].index[4])  # a hole in b only
    before = {key: len(run.member(key).frame) for key in run.series}
    with pytest.raises(WindwidgetsError, match=r"series 'b': .*no series was updated"):
        run.update(broken)
    assert {key: len(run.member(key).frame) for key in run.series} == before
    run.update(rows)  # the corrected rows go in
    assert {key: len(run.member(key).frame) for key in run.series} == {key: n + 10 for key, n in before.items()}


def test_panel_forecasts_with_contexts_shared_futures_and_new_series():
    table = farm(("T1", "T2"), hole=False)
    run = ww.train(table, series="turbine", target="speed", future_covariates="temperature", time="stamp", **TINY)
    future = table[table["turbine"] == "T1"].iloc[-24:].drop(columns="turbine")
    future["stamp"] = future["stamp"] + pd.Timedelta(days=1)  # the hours after the data, shared by both
    shared = run.forecast(6, future=future)
    assert list(pd.unique(shared["turbine"])) == ["T1", "T2"] and len(shared) == 12
    rows = table[table["turbine"] == "T2"].drop(columns="turbine")
    with pytest.raises(WindwidgetsError, match=r"`context` has no 'turbine' column, so it cannot say which series"):
        run.forecast(6, context=rows)
    newcomer = run.forecast(6, context=rows, series="T9", future=future)  # a turbine the model never saw
    alone = run.forecast(6, context=rows, series="T2", future=future)
    np.testing.assert_array_equal(newcomer["speed"], alone["speed"])  # the same rows: the same forecast
    with pytest.raises(WindwidgetsError, match=r"`series` \(\[\]\) names no series"):
        run.forecast(6, series=[])


def test_bounds_are_checked_against_the_training_data():
    wind = ww.datasets.wind(days=8)[["speed"]]
    settings = dict(target="speed", **TINY)
    with pytest.raises(WindwidgetsError, match=r"`bounds` gives 'speed' the limits \(None, -1\), but none of its "
                                               r"\d+ training values lie within them"):
        ww.train(wind, bounds={"speed": (None, -1)}, **settings)
    low = float(np.quantile(wind["speed"], 0.1))
    with pytest.warns(UserWarning, match=r"\d+ of \d+ training values of 'speed' lie outside `bounds` \(\d.*, None\)"):
        ww.train(wind, bounds={"speed": (low, None)}, **settings)


def test_panel_arguments_that_are_not_ids_and_columns_the_calendar_would_overwrite():
    table = farm(("T1", "T2"), hole=False)
    run = ww.train(table, series="turbine", target="speed", time="stamp", **TINY)
    with pytest.raises(WindwidgetsError, match=r"`series` \(\['T1'\]\) must be one id here, such as 'T1'"):
        run.member(["T1"])
    with pytest.raises(WindwidgetsError, match=r"series 'T1': `steps` \(500\) is longer than the validation part"):
        run.backtest(500)
    with pytest.raises(WindwidgetsError, match=r"`calendar=True` makes the column\(s\) hour_sin, which the data "
                                               r"already has"):
        ww.train(table.assign(hour_sin=0.0), series="turbine", target="speed", time="stamp", calendar=True, **TINY)


def farm_export(path) -> None:
    """Three turbines, 10-minute rows over the autumn clock change, as a SCADA export writes
    them: text times whose UTC offset changes, a lost half hour, a missing value, a row sent
    twice, the rows in no order (the README's "Real data as it comes")."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-10-24", "2024-10-30", freq="10min", tz="Europe/Berlin")
    text = times.strftime("%Y-%m-%d %H:%M:%S") + times.strftime("%z").str[:3] + ":" + times.strftime("%z").str[3:]
    rows = []
    for k, turbine in enumerate(["T1", "T2", "T3"]):
        speed = 7 + 2 * np.sin(np.arange(len(times)) * 2 * np.pi / 144 + k) + rng.normal(0, 0.5, len(times))
        part = pd.DataFrame({"turbine": turbine, "timestamp": text, "speed": speed.round(2),
                             "power": (np.clip(speed, 3, 12) ** 3 * 1.1).round(1)})
        part = part.drop(index=part.index[200 + 30 * k : 203 + 30 * k])
        part.loc[part.index[400], "speed"] = np.nan
        rows.append(pd.concat([part, part.iloc[[500]]]))
    pd.concat(rows).sample(frac=1.0, random_state=1).to_csv(path, index=False)


def test_a_farm_export_walks_from_the_csv_to_forecasts_per_turbine(tmp_path):
    farm_export(tmp_path / "farm.csv")
    scada = pd.read_csv(tmp_path / "farm.csv")
    assert scada["timestamp"].str.contains(r"\+02:00").any() and scada["timestamp"].str.contains(r"\+01:00").any()
    with pytest.raises(WindwidgetsError, match=r"holds times as text, and repeats them .* Pass time='timestamp'"):
        ww.train(scada, target="speed", live=False)
    with pytest.warns(UserWarning, match=r"several UTC offsets"), \
            pytest.raises(WindwidgetsError, match=r"pass series='<the column naming each series>'"):
        ww.train(scada, target="speed", time="timestamp", live=False)
    with pytest.warns(UserWarning) as said:
        run = ww.train(scada, target="speed", covariates="power", series="turbine", time="timestamp",
                       freq="10min", fill="interpolate", window=36, hidden_size=8, num_layers=1, epochs=1,
                       live=False)
    report = " ".join(str(w.message) for w in said)
    for turbine in ("T1", "T2", "T3"):  # what was merged and made up, per turbine
        assert re.search(rf"series '{turbine}': fill='interpolate' made up values: 'speed' 4 of \d+ rows "
                         r"\(longest hole 3 rows, 30min", report)
        assert f"series '{turbine}': freq='10min' averaged 2 rows into 1" in report
    assert run.series == ["T1", "T2", "T3"] and str(run.member("T1").frame.index.tz) == "UTC"
    forecast = run.forecast(6, series="T2")
    assert len(forecast) == 6 and forecast.index[0] == pd.Timestamp("2024-10-29 23:10", tz="UTC")
    table = run.evaluate(steps=6, stride=6).table
    assert set(table.index.get_level_values("turbine")) == {"T1", "T2", "T3"}


def test_a_prepared_run_is_refused_where_it_needs_trained_weights_and_its_config_stays_as_trained():
    run = ww.prepare(ww.datasets.sine(n=300), window=8, hidden_size=4, num_layers=1, epochs=1, live=False,
                     bounds={"y": (-2, 2)})
    with pytest.raises(WindwidgetsError, match=r"this Run is prepared but not fitted.*call run.fit\(\) first"):
        run.forecast(3)
    run.fit()
    assert len(run.forecast(3)) == 3
    with pytest.raises(WindwidgetsError, match=r"a Run's config is frozen"):
        run.config.data.bounds["y"] = (0, 1)
    with pytest.raises(WindwidgetsError, match=r"`window` \(-3\) must be a whole number"):
        run.config.replace(window=-3)
    with pytest.raises(WindwidgetsError, match=r"unknown setting 'windo' \(did you mean 'window'\?\)"):
        run.config.replace(windo=3)


def test_new_rows_inside_the_last_averaged_step_are_refused_not_dropped():
    stamps = pd.date_range("2024-01-01", periods=600, freq="10min")
    data = pd.DataFrame({"y": np.sin(np.arange(600) / 20)}, index=stamps)
    run = ww.train(data.iloc[:-10], target="y", freq="1h", **TINY)  # its last hour holds two of six rows
    new = data.iloc[-10:]
    with pytest.raises(WindwidgetsError, match=r"`new_rows`: 4 row\(s\) fall in the last step the run already "
                                               r"holds \(2024-01-05 02:00:00, freq='1h'\).* from 2024-01-05 03:00:00"):
        run.update(new)
    run.update(new[new.index >= "2024-01-05 03:00"])
    assert run.frame.index[-1] == pd.Timestamp("2024-01-05 03:00")


def test_numeric_times_with_a_fill_read_new_rows_and_contexts_once():
    stamps = pd.date_range("2024-01-01", periods=300, freq="h")
    seconds = (stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    table = pd.DataFrame({"t": seconds, "y": np.sin(np.arange(300) / 5)})
    run = ww.train(table.iloc[:-5], target="y", time="t", time_unit="s", fill="interpolate", **TINY)
    run.update(table.iloc[-5:])
    assert run.frame.index[-1] == stamps[-1]
    assert len(run.forecast(2, context=table.iloc[-50:])) == 2


def test_a_panel_without_times_numbers_each_series_from_zero():
    y = np.sin(np.arange(240) / 5)
    table = pd.DataFrame({"id": np.tile(["a", "b"], 120), "y": y})  # interleaved, no time column
    run = ww.train(table, target="y", series="id", **TINY)
    assert all(run.member(key).frame.index[0] == 0 for key in run.series)
    forecast = run.forecast(1, start=100)
    assert list(forecast.index) == [100, 100]  # the same row of each series
    with pytest.raises(WindwidgetsError, match=r"series 'new' is new to the model: `interval` is calibrated"):
        run.forecast(3, series="new", context=table[table["id"] == "a"].drop(columns="id"), interval=0.8)
