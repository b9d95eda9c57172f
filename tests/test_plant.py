"""Real process data: the plant file bibmon ships, read offline (issue 23)."""
import importlib.util

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.data import plant as plant_module

needs_bibmon = pytest.mark.skipif(importlib.util.find_spec("bibmon") is None,
                                  reason="ww.datasets.plant() reads the file the bibmon package ships: "
                                         "pip install 'windwidgets[plant]'")


@needs_bibmon
def test_plant_is_the_real_five_minute_file_with_its_words_missing():
    with pytest.warns(UserWarning, match=r"498 cells of the file are no number \('Bad', 'Inp OutRange', "
                                         r"'Scan Timeout'\).*tag2 156, tag34 14, tag36 1, tag70 326, tag72 1"):
        data = ww.datasets.plant()
    assert data.shape == (3169, 108) and list(data.columns) == [f"tag{i}" for i in range(108)]
    assert isinstance(data.index, pd.DatetimeIndex) and data.index.name == "time"
    assert data.index[0] == pd.Timestamp("2017-12-24") and data.index[-1] == pd.Timestamp("2018-01-04")
    assert (data.index[1:] - data.index[:-1] == pd.Timedelta("5min")).all()  # no gaps
    assert data.isna().sum()[["tag2", "tag70"]].tolist() == [156, 326]
    assert data["tag2"].iloc[1] == pytest.approx(-0.047)  # the first row's tag2 held 'Inp OutRange'
    assert np.isnan(data["tag2"].iloc[0])
    # the target of the soft sensor follows its neighbour tag102 closely
    assert data["tag100"].corr(data["tag102"]) > 0.8


@needs_bibmon
@pytest.mark.filterwarnings("ignore:ww.datasets.plant")
def test_a_soft_sensor_trains_on_the_plant_briefly():
    data = ww.datasets.plant().iloc[:600]
    run = ww.train(data, target="tag100", future_covariates=["tag101", "tag102", "tag103"], window=12,
                   hidden_size=8, num_layers=1, epochs=2, live=False)
    assert np.isfinite(run.evaluate(steps=5, stride=5)["mae"])


def test_plant_without_bibmon_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(plant_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"bibmon is not installed.*pip install 'windwidgets\[plant\]'"):
        ww.datasets.plant()
