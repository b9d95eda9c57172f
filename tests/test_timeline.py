"""Real logs: a time column, gaps, repeated timestamps, missing values (issue 12)."""
import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.data.timeline import regular, with_time
from windwidgets.errors import ConfigError, DataError

TINY = dict(target="speed", window=12, hidden_size=4, num_layers=1, epochs=1, batch_size=32, live=False)


@pytest.fixture
def log():
    """Ten days of hourly wind with the time as a column, as a SCADA export has it."""
    return ww.datasets.wind(days=10).reset_index()  # columns: time, speed, direction, ...


def test_a_time_column_becomes_the_index_and_forecasts_come_at_real_times(log):
    run = ww.train(log, time="time", **TINY)
    assert isinstance(run.frame.index, pd.DatetimeIndex)
    forecast = run.forecast(3)
    assert list(forecast.index) == list(pd.date_range("2024-01-11", periods=3, freq="h"))
    # a context and new rows that carry the same column are read the same way
    context = log.iloc[-30:]
    assert run.forecast(2, context=context).index[0] == pd.Timestamp("2024-01-11")
    text = log.assign(time=log["time"].dt.strftime("%Y-%m-%d %H:%M"))  # times as text parse too
    assert ww.train(text, time="time", **TINY).forecast(1).index[0] == pd.Timestamp("2024-01-11")


def test_a_single_datetime_column_is_picked_by_itself_with_a_warning(log):
    with pytest.warns(UserWarning, match=r"column 'time' holds timestamps and becomes the index.*time='time'") as caught:
        run = ww.train(log, **TINY)
    assert run.forecast(1).index[0] == pd.Timestamp("2024-01-11")
    assert caught[0].filename == __file__  # the person's own line, not one inside windwidgets


def test_a_time_column_that_is_missing_or_not_times_is_refused(log):
    with pytest.raises(DataError, match=r"`time` names column 'tme', which is not in the data.*did you mean 'time'"):
        ww.train(log, time="tme", **TINY)
    with pytest.raises(DataError, match=r"`time` column 'direction' holds values that are not timestamps"):
        with_time(log.assign(direction=["north"] * len(log)), "direction")
    with pytest.raises(ConfigError, match=r"`time` \(\['a', 'b'\]\) must be the name of one column"):
        ww.train(log, time=["a", "b"], **TINY)


def holes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with 5 hours lost after 2024-01-03 04:00 and 2 after 2024-01-05 10:00."""
    lost = pd.date_range("2024-01-03 05:00", periods=5, freq="h").append(
        pd.date_range("2024-01-05 11:00", periods=2, freq="h"))
    return frame.drop(lost)


def test_gaps_are_found_counted_and_refused_with_the_settings_that_fix_them():
    wind = holes(ww.datasets.wind(days=10))
    message = (r"the index is irregular: 2 gap\(s\) or uneven step\(s\) in time steps of 0 days 01:00:00 "
               r"\(the first after 2024-01-03 04:00:00, next row 2024-01-03 10:00:00; about 7 row\(s\) "
               r"missing in all\).*freq='h'.*fill='interpolate' or fill='ffill'")
    with pytest.raises(DataError, match=message):
        ww.train(wind, **TINY)
    with pytest.raises(DataError, match=r"column\(s\) speed hold NaN or inf values \(7 rows, first at "
                                        r"2024-01-03 05:00:00, .*\); pass fill='interpolate' or fill='ffill'"):
        ww.train(wind, freq="1h", **TINY)


def test_freq_and_fill_regularise_and_fill_the_holes():
    wind = ww.datasets.wind(days=10)
    gappy = holes(wind)
    filled = regular(gappy, ["speed"], freq="1h", fill="interpolate")
    assert filled.index.equals(wind.index)
    # a straight line across the five lost hours
    line = np.linspace(wind.loc["2024-01-03 04:00", "speed"], wind.loc["2024-01-03 10:00", "speed"], 7)
    np.testing.assert_allclose(filled.loc["2024-01-03 04:00":"2024-01-03 10:00", "speed"], line, rtol=1e-6)
    held = regular(gappy, ["speed"], freq="1h", fill="ffill")
    assert (held.loc["2024-01-05 11:00":"2024-01-05 12:00", "speed"] == wind.loc["2024-01-05 10:00", "speed"]).all()
    run = ww.train(gappy, freq="1h", fill="interpolate", **TINY)
    assert len(run.frame) == len(wind) and run.config.data.fill == "interpolate"
    # ten-minute rows averaged into hours
    fine = pd.DataFrame({"speed": np.arange(12.0)}, index=pd.date_range("2024-01-01", periods=12, freq="10min"))
    np.testing.assert_allclose(regular(fine, ["speed"], freq="1h")["speed"], [2.5, 8.5])


def test_leading_missing_values_are_dropped_not_filled_from_the_future(frame):
    frame.iloc[:3, 0] = np.nan
    frame.iloc[50, 0] = np.nan
    filled = regular(frame, ["a", "b"], fill="ffill")
    assert filled.index[0] == frame.index[3] and filled["a"].notna().all()
    assert filled.loc[frame.index[50], "a"] == frame.iloc[49, 0]


def test_repeated_timestamps_of_a_clock_change_are_named_and_averaged_with_freq():
    local = pd.date_range("2024-10-26 22:00", periods=400, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    wall = local.tz_localize(None)  # wall-clock times: 02:00 comes twice on 27 October
    data = pd.DataFrame({"speed": np.random.default_rng(0).gamma(2.0, 3.0, 400)}, index=wall)
    with pytest.raises(DataError, match=r"the index has duplicated labels: 1 repeated timestamp\(s\) \(first: "
                                        r"2024-10-27 02:00:00\), as a clock change.*freq="):
        ww.train(data, **TINY)
    run = ww.train(data, freq="1h", **TINY)
    assert run.frame.index.is_unique and len(run.frame) == 399


def test_bad_fill_and_freq_settings_name_the_value():
    with pytest.raises(ConfigError, match=r"`fill` \('linear'\) is not one of 'interpolate', 'ffill', None"):
        ww.train(ww.datasets.sine(300), fill="linear", live=False)
    with pytest.raises(ConfigError, match=r"`freq` \('hourly'\) is not a pandas frequency; pass one such as '1h'"):
        ww.train(ww.datasets.sine(300), freq="hourly", live=False)
    with pytest.raises(DataError, match=r"`freq` \('1h'\) regularises timestamps, but the data's index holds positions"):
        ww.train(ww.datasets.sine(300), freq="1h", live=False)


def test_the_magic_and_the_dashboard_offer_the_new_settings(log):
    from windwidgets.magics import config_options, parse_line, train_help

    values, _ = parse_line("--time time --freq 1h --fill interpolate --bounds speed=[0,inf],direction=[0,360]",
                           config_options(), "windtrain")
    assert values == {"time": "time", "freq": "1h", "fill": "interpolate",
                      "bounds": {"speed": [0, float("inf")], "direction": [0, 360]}}
    help_text = train_help()
    for flag in ("--time", "--freq", "--fill", "--bounds", "--series"):
        assert flag in help_text
    board = ww.Dashboard(log)
    board.controls["time"].value = "time"
    board.controls["fill"].value = "ffill"
    board.controls["bounds"].value = "{speed = [0, inf]}"
    settings = board.settings()
    assert settings["time"] == "time" and settings["fill"] == "ffill"
    assert settings["bounds"] == {"speed": [0, float("inf")]} and settings["freq"] is None
