"""Run files written by an earlier version load and forecast exactly as they did then
(tests/files/make_files.py wrote them: a single series with a covariate, a panel of two
turbines, an ensemble of two, and convlstm grids)."""
from pathlib import Path

import pandas as pd
import pytest
import torch

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


def damage(source, tmp_path, change) -> Path:
    payload = torch.load(source, weights_only=True)
    change(payload)
    path = tmp_path / "damaged.pt"
    torch.save(payload, path)
    return path


@pytest.mark.parametrize("change, message", [
    (lambda p: p["scaler"]["scale"].fill_(float("nan")), r"its scaler's 'scale' is not 2 finite numbers"),
    (lambda p: p["config"]["data"].update(window=0), r"`window` \(0\) must be a whole number of at least 1"),
    (lambda p: p["config"]["data"].update(bounds={"speed": (5, 0)}), r"`bounds` gives 'speed' a lower limit \(5\)"),
    (lambda p: p.update(history=[{"epoch": 1}]), r"its 'history' is not a list of epochs"),
    (lambda p: p.update(n_train=10_000), r"its 'n_train' \(10000\) does not fit its"),
])
def test_a_damaged_file_is_refused_with_its_name_and_the_part(tmp_path, change, message):
    path = damage(FILES / "single.pt", tmp_path, change)
    with pytest.raises(ww.WindwidgetsError, match=rf"'{path}': .*{message}"):
        ww.load(path)


def test_a_panel_file_without_its_series_is_refused(tmp_path):
    path = damage(FILES / "panel.pt", tmp_path, lambda p: p.pop("panel"))
    with pytest.raises(ww.WindwidgetsError, match=r"trained on a panel \(series='turbine'\) but its 'panel' part"):
        ww.load(path)
    path = damage(FILES / "panel.pt", tmp_path, lambda p: p["panel"][1].update(id="T1"))
    with pytest.raises(ww.WindwidgetsError, match=r"names a series more than once"):
        ww.load(path)


def test_series_ids_a_file_cannot_hold_are_refused_at_save(tmp_path):
    wind = ww.datasets.wind(days=6)[["speed"]].rename_axis("stamp").reset_index()
    table = pd.concat([wind.assign(site=pd.Timestamp("2020-01-01")), wind.assign(site=pd.Timestamp("2021-01-01"))])
    run = ww.train(table, series="site", time="stamp", window=6, hidden_size=4, epochs=1, live=False)
    with pytest.raises(ww.WindwidgetsError, match=r"series id '2020-01-01T00:00:00[.0-9]*' \(datetime64\) "
                                                  r"cannot be kept in a run file.*astype\(str\)"):
        run.save(tmp_path / "sites.pt")
