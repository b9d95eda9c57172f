"""Errors per target, never pooled in mixed units; MAPE skipped near zero (issue 12)."""
import warnings

import numpy as np
import pytest

import windwidgets as ww
from windwidgets.errors import WindwidgetsError
from windwidgets.forecast.metrics import mape, naive_scale


@pytest.fixture(scope="module")
def two_units():
    """Wind speed in m/s and a turbine's power in kW, 0 kW in calms (below 3 m/s)."""
    wind = ww.datasets.wind(days=20)
    speed = wind["speed"].to_numpy(np.float64)
    wind["power"] = np.clip(2.0 * (speed - 3.0) ** 3, 0.0, 2000.0)  # kW
    run = ww.train(wind, target=["speed", "power"], window=12, hidden_size=8, num_layers=1, epochs=1,
                   batch_size=32, live=False)
    return wind, run


def test_metrics_come_per_target_in_each_ones_units(two_units):
    wind, run = two_units
    with pytest.warns(UserWarning, match=r"MAPE is skipped \(NaN\) for 'power' \(\d+ of \d+ true values lie near zero"):
        evaluation = run.evaluate(steps=6, stride=3)
    assert set(evaluation) == {"smape", "mase"}  # pooled in scaled units only
    table = evaluation.table
    assert table.index.names == ["target", "method"]
    assert list(table.index.get_level_values("target").unique()) == ["speed", "power"]
    assert np.isnan(table.loc[("power", "model"), "mape"]) and np.isfinite(table.loc[("speed", "model"), "mape"])
    bt = evaluation.backtest
    for j, name in enumerate(["speed", "power"]):
        errors = np.abs(bt.predictions["model"][..., j] - bt.truth[..., j])
        assert evaluation.by_target.loc[name, "mae"] == pytest.approx(errors.mean())
        train = wind[name].to_numpy(np.float64)[: run.n_train, None]
        scale = naive_scale(train, 24)[0]
        assert evaluation.by_target.loc[name, "mase"] == pytest.approx(errors.mean() / scale)
    assert evaluation["mase"] == pytest.approx(evaluation.by_target["mase"].mean())
    assert "MASE (pooled, scaled)" in repr(bt)


def test_by_lead_asks_for_a_target_when_units_differ(two_units):
    _, run = two_units
    bt = run.backtest(steps=6, stride=3)
    with pytest.raises(WindwidgetsError, match=r"`metric` 'mae' is in each target's own units.*target='speed'"):
        bt.by_lead("mae")
    power = bt.by_lead("mae", target="power")
    assert list(power.index) == list(range(1, 7))
    np.testing.assert_allclose(power["model"].iloc[0],
                               np.abs(bt.predictions["model"][:, 0, 1] - bt.truth[:, 0, 1]).mean())
    pooled = bt.by_lead("mase")
    alone = [bt.by_lead("mase", target=name)["model"] for name in ("speed", "power")]
    np.testing.assert_allclose(pooled["model"], (alone[0] + alone[1]) / 2)
    with pytest.raises(WindwidgetsError, match=r"`target` \('pwr'\) is not one of the targets"):
        bt.by_lead("mase", target="pwr")


def test_one_target_keeps_its_plain_table(small_wind, tiny_settings):
    run = ww.train(small_wind, target="speed", **tiny_settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # wind speed never comes near zero: no MAPE warning
        evaluation = run.evaluate(steps=4, stride=4)
    assert set(evaluation) == {"mae", "rmse", "mape", "smape", "mase"}
    assert list(evaluation.table.index) == ["model", "naive", "seasonal_naive"]
    assert list(evaluation.by_target.index) == ["speed"]


def test_mape_is_skipped_near_zero_and_kept_elsewhere():
    truth = np.array([10.0, 20.0, 0.05, 30.0])
    with pytest.warns(UserWarning, match=r"MAPE is skipped \(NaN\) for 'power' \(1 of 4 true values lie near zero"):
        assert np.isnan(mape(truth, truth + 1.0, "power"))
    assert mape(np.array([10.0, 20.0]), np.array([11.0, 18.0])) == pytest.approx(10.0)


def test_each_targets_scale_survives_save_and_load(two_units, tmp_path):
    _, run = two_units
    loaded = ww.load(run.save(tmp_path / "two.pt"), device=run.device)
    np.testing.assert_allclose(loaded.mase_scale, run.mase_scale)
    assert loaded.mase_scale.shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert loaded.evaluate(steps=3, stride=6) == run.evaluate(steps=3, stride=6)
