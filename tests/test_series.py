import copy

import numpy as np
import pandas as pd
import pytest

from windwidgets.data import Layout
from windwidgets.data.series import SeriesState, season_of
from windwidgets.errors import DataError

HOURS = pd.date_range("2024-01-01", periods=72, freq="h", name="time")
LAYOUT = Layout(targets=("a",), covariates=(), future_covariates=())


def hourly(offset=0) -> SeriesState:
    frame = pd.DataFrame({"a": np.arange(72.0)}, index=HOURS)
    return SeriesState(frame, n_train=48, mase_scale=[2.0], offset=offset)


def test_the_season_is_read_from_the_index_unless_given():
    assert (season_of(HOURS), season_of(pd.date_range("2024-01-01", periods=9, freq="D")),
            season_of(pd.RangeIndex(9))) == (24, 7, 1)
    assert hourly().season == 24
    assert SeriesState(hourly().frame, 48, [1.0], season=12).season == 12


def test_start_is_a_label_a_position_of_the_training_data_or_counted_from_the_end():
    series = hourly(offset=100)  # a saved run: the first 100 rows of its data are gone
    assert series.position(None) == 72
    assert series.position(HOURS[10]) == 10
    assert series.position(110) == 10 and series.position(-2) == 70
    with pytest.raises(DataError, match=r"`start` \(5\) is a position .* saved without its first 100 rows"):
        series.position(5)
    with pytest.raises(DataError, match=r"`start` \('2023-01-01'\) is not a label of the data"):
        series.position("2023-01-01")


def test_a_file_keeps_a_window_or_a_season_before_the_validation_part():
    kept = hourly(offset=7).kept(window=12)  # the season, 24 rows, is the longer
    assert (len(kept.frame), kept.n_train, kept.offset, kept.frame.index[0]) == (48, 24, 31, HOURS[24])
    assert kept.mase_scale.tolist() == [2.0]
    assert hourly(offset=None).kept(window=30).offset is None


def test_new_rows_are_checked_before_they_are_appended_and_copies_keep_their_own_rows():
    series = hourly()
    twin = copy.copy(series)
    later = pd.DataFrame({"a": [72.0, 73.0]}, index=pd.date_range(HOURS[-1], periods=3, freq="h")[1:])
    with pytest.raises(DataError, match=r"`new_rows` must continue the data"):
        series.checked(later.iloc[1:], LAYOUT)
    series.append(series.checked(later, LAYOUT))
    assert len(series.frame) == 74 and series.frame.index[-1] == later.index[-1]
    assert len(twin.frame) == 72
