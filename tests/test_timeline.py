"""Real logs: a time column, gaps, repeated timestamps, missing values (issue 12)."""
import warnings

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.data.timeline import regular, regularised, with_time
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


# -- issue 22: fills that make up data, repeats that are series, freq pandas cannot use ---------
def hourly(rows: int = 200, columns=("speed", "power")) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({c: rng.normal(size=rows) for c in columns},
                        index=pd.date_range("2024-01-01", periods=rows, freq="h"))


def test_rows_after_a_columns_last_value_are_dropped_not_held_and_said():
    data = hourly()
    data.iloc[-60:, 1] = np.nan  # the power meter stops 60 rows before the end
    data.iloc[:2, 0] = np.nan
    for fill in ("ffill", "interpolate"):
        with pytest.warns(UserWarning, match=r"the first 2 rows are dropped: column\(s\) begin after the data "
                                             r"\('speed' at 2024-01-01 02:00:00\).*the last 60 rows are dropped: "
                                             r"column\(s\) end before the data \('power' at 2024-01-06 19:00:00\)"):
            kept = regular(data, ["speed", "power"], fill=fill)
        assert kept.index[0] == data.index[2] and kept.index[-1] == data.index[-61]
        assert kept.notna().all().all()
    run = ww.train(data, target="speed", covariates=["power"], fill="ffill", window=12, hidden_size=4,
                   num_layers=1, epochs=1, batch_size=32, live=False)
    assert len(run.frame) == 138  # the validation part holds no made-up power


def test_what_was_made_up_is_reported_per_column_with_the_longest_hole_as_time():
    data = hourly()
    data.iloc[[10, 11, 12, 13, 14], 0] = np.nan
    data.iloc[[40], 0] = np.nan
    data.iloc[[70, 71], 1] = np.nan
    frame, done = regularised(data, ["speed", "power"], fill="interpolate")
    assert done.made_up == {"speed": 6, "power": 2} and done.longest["speed"].rows == 5
    assert str(done.longest["speed"]) == "5 rows, 5h, from 2024-01-01 10:00:00"
    assert frame.notna().all().all() and len(frame) == 200
    with pytest.warns(UserWarning, match=r"^series 'T1': fill='interpolate' made up values: 'speed' 6 of 200 rows "
                                         r"\(longest hole 5 rows, 5h, from 2024-01-01 10:00:00\); 'power' 2 of 200 rows"):
        done.warn("series 'T1': ")


def test_holes_longer_than_fill_limit_are_refused_with_their_place_and_length():
    data = hourly()
    data.iloc[10:15, 0] = np.nan
    for limit, shown in ((3, r"fill_limit=3,"), ("3h", r"fill_limit='3h' \(3 rows\),")):
        with pytest.raises(DataError, match=rf"column 'speed' has a hole of 5 rows, 5h, from 2024-01-01 10:00:00, "
                                            rf"longer than {shown} so fill='ffill' would make up too much; raise fill_limit"):
            regular(data, ["speed"], fill="ffill", fill_limit=limit)
    assert regular(data, ["speed"], fill="ffill", fill_limit="5h")["speed"].notna().all()
    with pytest.raises(DataError, match=r"`fill_limit` \('3h'\) is a duration, but the data's rows are positions"):
        regular(data.reset_index(drop=True), ["speed"], fill="ffill", fill_limit="3h")
    for settings, message in ((dict(fill_limit="soon", fill="ffill"), r"`fill_limit` \('soon'\) is not a positive duration"),
                              (dict(fill_limit=0, fill="ffill"), r"`fill_limit` \(0\) must be a whole number of at least 1"),
                              (dict(fill_limit=3), r"`fill_limit` \(3\) limits the holes `fill` fills, but fill is None")):
        with pytest.raises(ConfigError, match=message):
            ww.train(data, **settings)


def test_a_grid_mostly_made_up_is_refused():
    data = hourly()
    with pytest.raises(DataError, match=r"`freq` \('1min'\) is finer than the data \(its rows come every 1h\): "
                                        r"11,741 of 11,941 rows would be made up"):
        ww.train(data, target="speed", freq="1min", fill="interpolate", live=False)
    data.iloc[1::3, 0] = np.nan
    data.iloc[2::3, 0] = np.nan
    with pytest.raises(DataError, match=r"132 of 199 rows would be made up by fill='ffill' \(columns 'speed'\)"):
        regular(data, ["speed"], fill="ffill")


def test_freq_says_how_many_rows_it_merged():
    fine = hourly(rows=36).set_axis(pd.date_range("2024-01-01", periods=36, freq="10min"))
    with pytest.warns(UserWarning, match=r"freq='1h' averaged 36 rows into 6 \(up to 6 in one row\)"):
        assert len(regular(fine, ["speed"], freq="1h")) == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, done = regularised(fine, ["speed"], freq="1h")  # the report alone warns nothing
    assert (done.merged, done.merged_into, done.rows_in, done.rows) == (36, 6, 36, 6)


def test_a_column_without_values_and_a_step_pandas_cannot_use_name_the_cause():
    data = hourly().assign(power=np.nan)
    with pytest.raises(DataError, match=r"column\(s\) 'power' hold no value at all \(every one of 200 rows is NaN\)"):
        ww.train(data, fill="interpolate", live=False)
    for freq, words in (("0h", "zero"), ("-1h", "negative")):
        with pytest.raises(ConfigError, match=rf"`freq` \('{freq}'\) is a step of {words} length; pass a positive one"):
            ww.train(data, freq=freq, live=False)


def long_table(ids=("T1", "T2", "T3", "T4"), rows: int = 48) -> pd.DataFrame:
    """A farm's export: every turbine's rows at the same times, stacked (turbine id in a column)."""
    hours = pd.date_range("2024-01-01", periods=rows, freq="h")
    rng = np.random.default_rng(4)
    return pd.concat([pd.DataFrame({"turbine": name, "speed": rng.gamma(2.0, 3.0, rows)}, index=hours)
                      for name in ids]).sort_index(kind="stable")


@pytest.mark.parametrize("freq", [None, "1h"])
def test_repeats_that_look_like_series_are_refused_naming_series_not_freq(freq):
    with pytest.raises(DataError, match=r"the index repeats timestamps as a long table of several series does: "
                                        r"144 repeated timestamp\(s\).*column 'turbine' holds a different value at "
                                        r"each repeat; pass series='turbine'"):
        ww.train(long_table(), target="speed", freq=freq, live=False)
    numbered = long_table().assign(turbine=lambda df: df["turbine"].str[1:].astype(int))  # ids as whole numbers
    with pytest.raises(DataError, match=r"pass series='turbine'"):
        ww.train(numbered, target="speed", freq=freq, live=False)
    without_ids = long_table().drop(columns="turbine")
    with pytest.raises(DataError, match=r"144 of 192 rows repeat a time, up to 4 times; pass "
                                        r"series='<the column naming each series>'"):
        ww.train(without_ids, freq=freq, live=False)


def test_text_times_left_in_a_long_table_are_refused_naming_time_and_series():
    table = long_table().rename_axis("stamp").reset_index()
    table["stamp"] = table["stamp"].dt.strftime("%Y-%m-%d %H:%M")
    with pytest.raises(DataError, match=r"`data` column 'stamp' holds times as text, and repeats them \(144 rows\).*"
                                        r"Pass time='stamp' and series='turbine'"):
        ww.train(table, target="speed", live=False)
    one = table[table["turbine"] == "T1"].drop(columns="turbine")
    with pytest.warns(UserWarning, match=r"column 'stamp' holds times as text, but without time='stamp' the rows "
                                         r"are read as positions"):
        with_time(one)


def test_ids_that_pandas_would_read_as_times_are_not_taken_for_text_times():
    table = long_table(ids=("T1", "May", "2024", "now"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert with_time(table.reset_index(drop=True)).columns.tolist() == ["turbine", "speed"]


def test_a_freq_coarser_than_the_data_names_the_rows_it_leaves():
    data = hourly(rows=240)
    with pytest.raises(DataError, match=r"`freq` \('MS'\) averages the data's 240 rows \(from 2024-01-01 00:00:00 to "
                                        r"2024-01-10 23:00:00\) into 1 row; pass a finer freq"):
        ww.train(data, freq="MS", live=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _, done = regularised(data, ["speed"], freq="1D")
    assert done.shrunk() == " (freq='1D' averaged the 240 rows given into 10)"
    assert regularised(data, ["speed"])[1].shrunk() == ""


def test_a_fill_across_rows_out_of_time_order_is_refused_before_it_draws():
    data = hourly()
    data.iloc[5, 0] = np.nan
    shuffled = data.iloc[np.random.default_rng(0).permutation(len(data))]
    with pytest.raises(DataError, match=r"the index is not sorted in time \(out of order near position \d+, label "
                                        r".*\); sort it with df.sort_index\(\)"):
        regular(shuffled, ["speed"], fill="interpolate")


def test_a_clock_change_with_a_text_column_that_differs_is_still_a_clock_change():
    local = pd.date_range("2024-10-26 22:00", periods=100, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    data = pd.DataFrame({"speed": np.arange(100.0), "status": ["ok", "check"] * 50}, index=local.tz_localize(None))
    with pytest.raises(DataError, match=r"1 repeated timestamp\(s\) \(first: 2024-10-27 02:00:00\), as a clock change"):
        regular(data, ["speed"])
    with pytest.warns(UserWarning, match=r"freq='1h' averaged 2 rows into 1"):
        assert len(regular(data, ["speed"], freq="1h")) == 99


def test_fill_without_freq_puts_rows_on_their_own_plain_step_and_says_so():
    wind = ww.datasets.wind(days=10)[["speed"]]
    gappy = wind.drop(index=wind.index[[20, 21, 50]])
    with pytest.warns(UserWarning, match=r"fill='interpolate' without freq: the rows keep one step with 3 rows "
                                         r"missing, so they were put on its grid \(freq='h'"):
        run = ww.train(gappy, target="speed", fill="interpolate", window=12, hidden_size=4, epochs=1, live=False)
    assert run.frame.index.equals(wind.index)
    uneven = gappy.set_axis(gappy.index[:-1].append(pd.DatetimeIndex([gappy.index[-1] + pd.Timedelta("7min")])))
    with pytest.raises(ww.DataError, match=r"the index is irregular"):  # off its step: nothing plain to infer
        ww.train(uneven, target="speed", fill="interpolate", window=12, hidden_size=4, epochs=1, live=False)
