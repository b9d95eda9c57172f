"""Times as real exports hold them: epoch numbers, offsets that change at daylight saving,
two zones, a bad string deep in the column, periods, a (series, time) MultiIndex (issue 22)."""
import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.config import RunConfig
from windwidgets.data.frames import read_frame
from windwidgets.data.timeline import with_time
from windwidgets.errors import ConfigError, DataError

TINY = dict(target="y", window=6, hidden_size=4, num_layers=1, epochs=1, batch_size=16, live=False)
START = 1704067200  # 2024-01-01 00:00 UTC in seconds since 1970


def epochs(scale: int = 1) -> pd.DataFrame:
    """Sixty hourly rows whose times are seconds (times ``scale``) since 1970, as IoT exports write them."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({"t": (START + 3600 * np.arange(60)) * scale, "y": rng.normal(size=60)})


def test_numbers_in_a_time_column_are_refused_without_a_unit_naming_time_unit():
    with pytest.raises(DataError, match=r"`time` column 't' holds numbers \(first: 1704067200\), not timestamps.*"
                                        r"pass time_unit='s' \(or 'ms', 'us', 'ns'\)"):
        ww.train(epochs(), time="t", **TINY)


@pytest.mark.parametrize("unit, scale", [("s", 1), ("ms", 1000), ("us", 10**6), ("ns", 10**9)])
def test_numbers_with_a_unit_become_naive_utc_times(unit, scale):
    hours = pd.date_range("2024-01-01", periods=60, freq="h", name="t")
    assert with_time(epochs(scale), "t", unit=unit).index.equals(hours)
    # a numeric index named by `time` is read the same way
    assert with_time(epochs(scale).set_index("t"), "t", unit=unit).index.equals(hours)


def test_a_unit_that_puts_the_times_in_1970_is_warned_of_and_a_unit_on_text_refused():
    with pytest.warns(UserWarning, match=r"read as milliseconds since 1970 \(time_unit='ms'\) runs from 1970-01-20"):
        with_time(epochs(), "t", unit="ms")
    text = epochs().assign(t=lambda df: pd.to_datetime(df["t"], unit="s").astype(str))
    with pytest.raises(DataError, match=r"`time_unit` \('s'\) reads numbers as times, but `time` column 't' holds"):
        with_time(text, "t", unit="s")


def test_time_unit_is_checked_as_a_setting():
    with pytest.raises(ConfigError, match=r"`time_unit` \('sec'\) is not one of 's', 'ms', 'us', 'ns', None"):
        RunConfig.from_kwargs(time="t", time_unit="sec")
    with pytest.raises(ConfigError, match=r"`time_unit` \('s'\) says what the numbers of a time column count, "
                                          r"but `time` names none; pass time="):
        RunConfig.from_kwargs(time_unit="s")
    assert RunConfig.from_kwargs(time="t", time_unit="ms").data.time_unit == "ms"


def across_the_autumn_change(periods: int = 60) -> pd.DataFrame:
    """Hourly rows whose text times carry the local offset: +02:00, then +01:00 after 03:00 on 27 October."""
    local = pd.date_range("2024-10-26 12:00", periods=periods, freq="h", tz="Europe/Berlin")
    rng = np.random.default_rng(1)
    return pd.DataFrame({"time": local.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2",
                                                                                      regex=True),
                         "y": rng.normal(size=periods)})


def test_offsets_that_change_at_daylight_saving_are_instants_forecast_in_utc():
    data = across_the_autumn_change()
    assert data["time"].str.endswith("+02:00").any() and data["time"].str.endswith("+01:00").any()
    with pytest.warns(UserWarning, match=r"`time` column 'time' holds times at several UTC offsets or zones "
                                         r"\(\+01:00, \+02:00\).*instants in UTC.*\.dt\.tz_convert"):
        run = ww.train(data, time="time", **TINY)
    expected = pd.date_range("2024-10-26 10:00", periods=60, freq="h", tz="UTC")
    assert run.frame.index.equals(expected.rename("time"))  # 02:00-03:00 twice in wall time, once as instants
    assert run.forecast(2).index[0] == expected[-1] + pd.Timedelta(hours=1)


def test_a_column_of_two_zones_is_kept_in_utc():
    stations = list(pd.date_range("2024-03-01", periods=30, freq="h", tz="Europe/Berlin")) + list(
        pd.date_range("2024-03-01 18:00", periods=30, freq="h", tz="America/New_York"))
    data = pd.DataFrame({"time": pd.Series(stations, dtype=object), "y": 1.0})
    with pytest.warns(UserWarning, match=r"America/New_York, Europe/Berlin"):
        index = with_time(data, "time").index
    assert str(index.tz) == "UTC" and index[30] == pd.Timestamp("2024-03-01 23:00", tz="UTC")


def test_one_bad_string_is_named_with_its_row_not_the_first_value():
    data = across_the_autumn_change().assign(time=lambda df: df["time"].str[:19])  # naive local text
    data.loc[50, "time"] = "2024-10-28 14:00:00 (est.)"
    with pytest.raises(DataError, match=r"`time` column 'time' holds values that are not timestamps: "
                                        r"'2024-10-28 14:00:00 \(est.\)' at row 50; fix or drop those rows"):
        ww.train(data, time="time", **TINY)


def test_a_period_column_is_read_as_the_start_of_each_period():
    data = pd.DataFrame({"month": pd.period_range("2020-01", periods=40, freq="M"), "y": np.arange(40.0)})
    run = ww.train(data, time="month", **TINY)
    assert run.frame.index[0] == pd.Timestamp("2020-01-01") and run.forecast(1).index[0] == pd.Timestamp("2023-05-01")


def test_a_series_time_multiindex_becomes_the_series_column_and_the_time_index():
    hours = pd.date_range("2024-01-01", periods=40, freq="h")
    rng = np.random.default_rng(2)
    long = pd.concat([pd.DataFrame({"turbine": name, "time": hours, "y": rng.normal(size=40)}) for name in "ab"])
    indexed = long.set_index(["turbine", "time"])
    frame = read_frame(indexed)
    assert list(frame.columns) == ["turbine", "y"] and frame.index.equals(pd.DatetimeIndex(list(hours) * 2, name="time"))
    with pytest.raises(DataError, match=r"pass series='turbine'"):
        ww.train(indexed, **TINY)
    run = ww.train(indexed, series="turbine", **TINY)
    assert run.series == ["a", "b"]
    with pytest.raises(DataError, match=r"the index's series level is unnamed; name it"):
        read_frame(indexed.rename_axis([None, "time"]))
    with pytest.raises(DataError, match=r"the index has 3 levels"):
        read_frame(long.assign(site=1).set_index(["site", "turbine", "time"]))


def test_new_rows_and_contexts_read_numeric_times_in_the_runs_unit():
    from windwidgets.data.frames import Layout
    from windwidgets.data.inputs import checked_context, checked_rows

    hours = pd.date_range("2024-01-01", periods=60, freq="h", name="t")
    later = epochs().iloc[:2].assign(t=lambda df: df["t"] + 60 * 3600)
    rows = checked_rows(later, Layout(("y",)), hours, "t", time_unit="s")
    assert rows.index.equals(pd.date_range("2024-01-03 12:00", periods=2, freq="h", name="t"))
    with pytest.raises(DataError, match=r"`time` column 't' of `new_rows` holds numbers .*time_unit='s'"):
        checked_rows(later, Layout(("y",)), hours, "t")
    context = checked_context(epochs(1000), Layout(("y",)), 6, 6, "t", time_unit="ms")
    assert context.index.equals(hours)


def test_a_csv_whose_leading_times_cross_the_autumn_change_is_read_in_utc(tmp_path):
    across_the_autumn_change().to_csv(tmp_path / "scada.csv", index=False)
    with pytest.warns(UserWarning, match=r"`data` file's column 'time' holds times at several UTC offsets"):
        frame = read_frame(tmp_path / "scada.csv")
    assert frame.index.equals(pd.date_range("2024-10-26 10:00", periods=60, freq="h", tz="UTC", name="time"))
    assert list(frame.columns) == ["y"]


def test_ids_that_pandas_reads_as_times_of_the_year_1_are_not_times(tmp_path):
    table = pd.DataFrame({"turbine": ["T1", "T2", "T3"] * 20, "y": np.arange(60.0)})
    table.to_csv(tmp_path / "farm.csv", index=False)
    assert list(read_frame(tmp_path / "farm.csv").columns) == ["turbine", "y"]  # left a column
    with pytest.raises(DataError, match=r"the index holds values that are not timestamps: 'T1' at row 0 reads as "
                                        r"0001-01-01 00:00:00, a time without a year"):
        read_frame(table.set_index("turbine"))
