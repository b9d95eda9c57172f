"""Run files written by an earlier version load and forecast exactly as they did then
(tests/files/make_files.py wrote them: a single series with a covariate, a panel of two
turbines, an ensemble of two, and convlstm grids)."""
from pathlib import Path

import pandas as pd
import pytest

import windwidgets as ww

FILES = Path(__file__).parent / "files"


@pytest.mark.parametrize("name", ["single", "panel", "ensemble", "grid"])
def test_a_file_from_an_earlier_version_gives_the_forecast_it_gave_then(name):
    run = ww.load(FILES / f"{name}.pt")
    forecast = run.forecast(6)
    frame = forecast.frame if hasattr(forecast, "frame") else forecast
    then = pd.read_csv(FILES / f"{name}_forecast.csv", index_col=0)
    if isinstance(frame.index, pd.DatetimeIndex):
        then.index = pd.DatetimeIndex(then.index, name=frame.index.name)
    then.columns = frame.columns
    pd.testing.assert_frame_equal(frame, then, check_exact=True, check_freq=False, check_index_type=False)
