"""Static covariates: one value per series of a panel, as columns of the long table or as a
table by id, read by the model on every row of its series (issue 23)."""
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import windwidgets as ww
from windwidgets.errors import ConfigError, DataError
from windwidgets.train.depth import DepthWarning

SETTINGS = dict(target="y", series="id", time="t", window=4, hidden_size=8, num_layers=1, epochs=15, lr=1e-2,
                live=False, seed=0)
QUICK = dict(SETTINGS, epochs=2)


def levels_panel(n: int = 12, rows: int = 300, seed: int = 0, phi: float = 0.9) -> pd.DataFrame:
    """Series that each return to their own level (the static ``level``), from -4 to 4:
    y[t] = level + phi (y[t-1] - level) + noise. A four-row window says little of the level,
    which is where a forecast a day ahead goes."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, level in enumerate(np.linspace(-4, 4, n)):
        y = np.empty(rows)
        y[0] = level + 3 * rng.normal()
        for t in range(1, rows):
            y[t] = level + phi * (y[t - 1] - level) + rng.normal()
        parts.append(pd.DataFrame({"id": f"S{i:02d}", "t": pd.date_range("2024", periods=rows, freq="h"),
                                   "y": y, "level": level, "size": 10.0 + i % 3}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def data():
    return levels_panel()


@pytest.fixture(scope="module")
def table(data):
    return data.groupby("id")[["level"]].first()


@pytest.fixture(scope="module")
def run(data):
    return quiet(ww.train, data, static_covariates=["level"], **SETTINGS)


def quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MAPE near zero
        return call(*args, **kwargs)


def test_a_static_level_forecasts_the_series_better(data, run):
    """The global model told each series' level forecasts a day ahead clearly better than
    the same model without it (benchmarks/statics.py, 8 data seeds: 0.82 to 0.89 of its MAE)."""
    without = quiet(ww.train, data, **SETTINGS)
    with_level = quiet(run.evaluate, steps=24)["mae"]
    blind = quiet(without.evaluate, steps=24)["mae"]
    assert with_level < 0.93 * blind, (with_level, blind)


def test_the_statics_are_constant_input_columns_scaled_over_the_series(run, data):
    assert run.layout.statics == ("level",) and run.layout.inputs == ("y", "level")
    for key in run.series:
        frame = run.member(key).frame
        assert frame["level"].nunique() == 1
        assert frame["level"].iloc[0] == data.loc[data["id"] == key, "level"].iloc[0]
    levels = np.linspace(-4, 4, 12)  # each series counts once, however long it is
    assert run.scaler.shift[-1].item() == pytest.approx(levels.mean(), abs=1e-6)
    assert run.scaler.scale[-1].item() == pytest.approx(levels.std(), rel=1e-5)


def test_a_table_by_id_is_the_same_as_the_columns(data, table):
    """The same statics given as a table (indexed by id, or with the id column) train the same model."""
    columns = quiet(ww.train, data, static_covariates=["level"], **QUICK)
    indexed = quiet(ww.train, data.drop(columns="level"), static_covariates=table, **QUICK)
    with_ids = quiet(ww.train, data.drop(columns="level"), static_covariates=table.reset_index(), **QUICK)
    expected = columns.forecast(6)
    pd.testing.assert_frame_equal(indexed.forecast(6), expected)
    pd.testing.assert_frame_equal(with_ids.forecast(6), expected)
    assert indexed.config.data.static_covariates["level"]["S03"] == pytest.approx(table.loc["S03", "level"])


@pytest.mark.parametrize("change, settings, message", [
    (lambda d: d.assign(level=np.where((d["id"] == "S02") & (d["t"] > "2024-01-05"), 9.0, d["level"])),
     dict(static_covariates=["level"]),
     r"`static_covariates` column 'level' varies within series 'S02' \(id\): it holds -2\.5.* and 9\.0; a static "
     r"covariate holds one value per series\. Pass a column that changes in time as covariates"),
    (lambda d: d, dict(static_covariates=["levels"]),
     r"`static_covariates` names column 'levels', which is not in the data \(did you mean 'level'\?\)"),
    (lambda d: d.assign(kind=np.where(d["id"] < "S05", "onshore", "offshore")), dict(static_covariates=["kind"]),
     r"column 'kind' is not numeric \(dtype .*, e\.g\. 'onshore'\); the models read numbers: one-hot it first, "
     r"e\.g\. df = pd\.get_dummies\(df, columns=\['kind'\], dtype=float\)"),
    (lambda d: d, dict(static_covariates=["level"], series=None),
     r"`static_covariates` \(\['level'\]\) hold one value per series of a panel, but `series` is None"),
    (lambda d: d, dict(static_covariates=["level"], normalize="window"),
     r"`normalize='window'` takes each window's own mean off every input column.*would reach the model as zeros"),
    (lambda d: d, dict(static_covariates=["y"]),
     r"column\(s\) y appear in more than one of target, covariates, future_covariates and static_covariates"),
])
def test_statics_that_cannot_be_are_refused(data, change, settings, message):
    with pytest.raises(ww.WindwidgetsError, match=message):
        ww.train(change(data), **{**QUICK, **settings})


def test_a_table_must_name_every_series_once(data, table):
    with pytest.raises(DataError, match=r"the `static_covariates` table has no row for 2 series of the data "
                                        r"\('S10', 'S11'\); add a row for each series"):
        ww.train(data.drop(columns="level"), static_covariates=table.iloc[:10], **QUICK)
    with pytest.raises(ConfigError, match=r"table has more than one row for series 'S00'; it takes one row per series"):
        ww.train(data, static_covariates=pd.concat([table, table.iloc[:1]]), **QUICK)
    with pytest.raises(DataError, match=r"the data has column\(s\) 'level', which the `static_covariates` table "
                                        r"gives too; give each static covariate in one place"):
        ww.train(data, static_covariates=table, **QUICK)
    with pytest.raises(ConfigError, match=r"table column 'level' holds NaN or inf \(at 'S01'\); give every series"):
        ww.train(data, static_covariates=table.assign(level=table["level"].where(table.index != "S01")), **QUICK)


def test_a_static_the_same_in_every_series_is_warned_of(data):
    with pytest.warns(UserWarning, match=r"column\(s\) 'same' hold one value in every series, so they tell the "
                                         r"series apart not at all"):
        ww.train(data.assign(same=1.0), static_covariates=["level", "same"], **QUICK)


def test_save_and_load_keep_them(run, tmp_path, data, table):
    loaded = ww.load(run.save(tmp_path / "statics.pt"))
    assert loaded.layout.statics == ("level",)
    pd.testing.assert_frame_equal(loaded.forecast(12), run.forecast(12))
    by_table = quiet(ww.train, data.drop(columns="level"), static_covariates=table, **QUICK)
    again = ww.load(by_table.save(tmp_path / "table.pt"))
    assert dict(again.config.data.static_covariates["level"]) == dict(by_table.config.data.static_covariates["level"])
    pd.testing.assert_frame_equal(again.forecast(6), by_table.forecast(6))


def test_a_new_series_brings_its_statics(run, data):
    """A new series' statics come from its context rows: the same rows and level as a known
    series give that series' forecast; another level another forecast."""
    rows = data[data["id"] == "S03"].iloc[-40:]
    known = run.forecast(12, series="S03", context=rows)
    new = run.forecast(12, series="T9", context=rows.drop(columns="id"))
    np.testing.assert_allclose(new["y"], known["y"])
    higher = run.forecast(12, series="T9", context=rows.drop(columns="id").assign(level=2.0))
    assert (higher["y"].iloc[-6:] > new["y"].iloc[-6:] + 0.5).all()
    with pytest.raises(DataError, match=r"series 'T9' is new to the model, which reads the static covariate\(s\) "
                                        r"'level': add them to its `context` rows"):
        run.forecast(12, series="T9", context=rows.drop(columns=["id", "level"]))
    with pytest.raises(DataError, match=r"`context` of series 'S03' gives the static covariate 'level' the value\(s\) "
                                        r"3\.0; the model knows it as -1\.8"):
        run.forecast(12, series="S03", context=rows.assign(level=3.0))
    with pytest.warns(DepthWarning, match=r"the static covariates of new series 'T9': .* level \(\d+\)"):
        run.forecast(12, series="T9", context=rows.drop(columns="id").assign(level=40.0))


def test_a_new_series_finds_its_statics_in_the_table(data, table):
    extra = pd.concat([table, pd.DataFrame({"level": [2.0]}, index=pd.Index(["T9"], name="id"))])
    run = quiet(ww.train, data.drop(columns="level"), static_covariates=extra, **QUICK)
    rows = data[data["id"] == "S03"].iloc[-40:].drop(columns=["id", "level"])
    from_table = run.forecast(12, series="T9", context=rows)
    from_rows = run.forecast(12, series="T8", context=rows.assign(level=2.0))
    np.testing.assert_allclose(from_table["y"], from_rows["y"])
    with pytest.raises(DataError, match=r"series 'T7' is new to the model.*, or train with a static_covariates table "
                                        r"that has a row for it"):
        run.forecast(12, series="T7", context=rows)
    figure = run.plot_forecast(steps=6, context=rows, series="S03")  # a known series' statics are its own
    assert "S03" in figure.axes[0].get_title()
    plt.close(figure)


def test_each_series_own_scaler_shares_the_statics_scaling(data):
    """With series_scaling="series" a series' own scaler would see its static as a constant
    (and make it zero): the statics are scaled over the series all the same."""
    run = quiet(ww.train, data, static_covariates=["level"], series_scaling="series", **QUICK)
    statics = np.array([[run.members[key][1].shift[-1].item(), run.members[key][1].scale[-1].item()]
                        for key in run.series])  # (series, 2): each one's shift and scale of the level
    np.testing.assert_allclose(statics, [[0.0, np.linspace(-4, 4, 12).std()]] * 12, atol=1e-5)
    assert len({run.members[key][1].shift[0].item() for key in run.series}) == 12  # the rows' own scaling stays


def test_update_backtest_and_stream_go_on_with_statics(data, table):
    """New rows need not repeat the statics (a table's runs have none in the rows); backtests
    and a member's live stream read them as forecasts do."""
    head = data[data.groupby("id").cumcount() < 280]
    run = quiet(ww.train, head.drop(columns="level"), static_covariates=table, **QUICK)
    tail = data[data.groupby("id").cumcount() >= 280].drop(columns="level")
    member = run.member("S01")
    stream = member.forecast(4, keep_state=True)
    np.testing.assert_allclose(stream["y"], member.forecast(4)["y"], rtol=1e-5)
    run.update(tail)
    assert len(run.member("S01").frame) > 280 and run.member("S01").frame["level"].nunique() == 1
    backtest = quiet(run.backtest, steps=6, series=["S00", "S05"])
    assert np.isfinite(quiet(backtest.metrics)["mae"]).all()
    assert np.isfinite(quiet(run.evaluate, steps=6)["mae"])
    with pytest.raises(ww.WindwidgetsError, match=r"series 'S02': `new_rows` of series 'S02' gives the static "
                                                  r"covariate 'level'"):
        run.update(tail[tail["id"] == "S02"].iloc[:2].assign(level=7.0))


def test_the_magic_option(data):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns["panel_with_statics"] = data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            shell.run_line_magic("windtrain", "--data panel_with_statics --target y --series id --time t --window 4 "
                                              "--hidden-size 8 --num-layers 1 --epochs 1 --live false "
                                              "--static-covariates level,size --out magic_run")
        assert shell.user_ns["magic_run"].layout.statics == ("level", "size")
    finally:
        shell.run_line_magic("unload_ext", "windwidgets")
