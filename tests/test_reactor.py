"""The soft-sensor tasks on the simulated reactor (ww.datasets.reactor)."""
import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.data.reactor import AUXILIARIES


@pytest.fixture(scope="module")
def reactor():
    return ww.datasets.reactor()


def test_reactor_data_is_seeded_and_shaped(reactor):
    assert reactor.shape == (10_000, 14)
    assert list(reactor.columns) == list(AUXILIARIES) + ["key"] and len(AUXILIARIES) == 13
    assert isinstance(reactor.index, pd.DatetimeIndex) and reactor.index.freqstr == "min"
    assert np.isfinite(reactor.to_numpy()).all()
    pd.testing.assert_frame_equal(ww.datasets.reactor(), reactor)  # deterministic for a seed
    assert not np.allclose(ww.datasets.reactor(n=500, seed=1)["key"], reactor["key"].iloc[:500])
    # the key follows the reactor temperature with a lag, as a quality does
    key, temperature = reactor["key"], reactor["reactor_temp"]
    lagged = [key.corr(temperature.shift(lag)) for lag in (0, 10)]
    assert lagged[1] > lagged[0] > 0.3


def test_soft_sensor_with_known_future_auxiliaries(reactor):
    """Task (a): the key, 10 minutes at a time, from its history and the auxiliaries, told
    the auxiliaries' future values. Without them the model does no better than naive."""
    data = reactor.iloc[:3000]
    settings = dict(target="key", model="gru", window=30, horizon=10, hidden_size=32,
                    num_layers=1, epochs=20, lr=5e-3, batch_size=32, live=False)
    informed = ww.train(data, future_covariates=list(AUXILIARIES), **settings).evaluate().table
    alone = ww.train(data, **{**settings, "epochs": 8}).evaluate().table
    # measured MAE 0.0140 (informed), 0.0303 (history alone), 0.0314 (naive), 0.20 (seasonal)
    assert informed.loc["model", "mae"] < 0.65 * informed.loc["naive", "mae"]
    assert informed.loc["model", "mae"] < 0.2 * informed.loc["seasonal_naive", "mae"]
    assert informed.loc["model", "mae"] < 0.65 * alone.loc["model", "mae"]
    assert alone.loc["model", "mae"] > 0.85 * alone.loc["naive", "mae"]  # history alone is naive-like


def test_thirteen_auxiliaries_fifty_steps_in_fifty_out(reactor):
    """Task (b): a steady process, the 13 auxiliaries forecast from their own history."""
    data = reactor[list(AUXILIARIES)]
    run = ww.train(data, model="gru", window=50, horizon=50, hidden_size=32, num_layers=1,
                   epochs=2, lr=3e-3, batch_size=32, live=False)
    evaluation = run.evaluate(stride=5)
    # the 13 columns have their own units, so they pool in scaled units only (MASE)
    pooled = evaluation.backtest.pooled()
    # measured MASE 0.53 against 0.65 (naive) and 0.94 (seasonal naive), mean of the 13
    assert pooled.loc["model", "mase"] < 0.9 * pooled.loc["naive", "mase"]
    assert pooled.loc["model", "mase"] < 0.7 * pooled.loc["seasonal_naive", "mase"]
    assert evaluation["mase"] == pooled.loc["model", "mase"]
    by_lead = evaluation.backtest.by_lead("mase")
    assert by_lead.loc[50, "model"] < 0.8 * by_lead.loc[50, "naive"]  # measured 0.73
    forecast = run.forecast(120)  # three blocks of 50, rolled
    assert list(forecast.columns) == list(AUXILIARIES) and len(forecast) == 120
    assert forecast.index[0] == data.index[-1] + pd.Timedelta(minutes=1)
    spread = data.iloc[8000:].std()
    inside = (forecast - data.iloc[8000:].mean()).abs() < 4 * spread
    assert inside.all().all()  # the rolled blocks stay in the range of the data
