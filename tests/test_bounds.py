"""Physical bounds clip forecasts and interval bands (issue 12)."""
import numpy as np
import pytest

import windwidgets as ww
from windwidgets.errors import ConfigError


@pytest.fixture(scope="module")
def power():
    """Hourly wind and a turbine's power (kW), at 0 kW through every calm."""
    wind = ww.datasets.wind(days=20)
    wind["power"] = np.clip(2.0 * (wind["speed"].to_numpy(np.float64) - 3.0) ** 3, 0.0, 2000.0)
    return wind


def fit(data, **settings):
    return ww.train(data, target="power", covariates=["speed"], window=12, hidden_size=8, num_layers=1,
                    epochs=1, batch_size=32, live=False, **settings)


def test_bounds_clip_forecasts_and_bands_and_nothing_else(power, tmp_path):
    free, bound = fit(power), fit(power, bounds={"power": (0, None)})
    start = power.index[-100]
    loose = free.forecast(48, start=start, interval=0.9)
    clipped = bound.forecast(48, start=start, interval=0.9)
    assert (loose["power_lower"] < 0).any()  # the band reaches below 0 kW without bounds
    assert (clipped[["power", "power_lower", "power_upper"]] >= 0).all().all()
    # the same model (same seed), so clipping is the only difference
    np.testing.assert_allclose(clipped["power"], loose["power"].clip(lower=0), rtol=1e-6)
    np.testing.assert_allclose(clipped["power_upper"], loose["power_upper"].clip(lower=0), rtol=1e-6)
    backtest = bound.backtest(steps=12, stride=12, interval=0.8)
    assert (backtest.predictions["model"] >= 0).all()
    assert (np.nan_to_num(backtest.lower) >= 0).all()
    assert bound.config.data.bounds == {"power": (0, None)}
    loaded = ww.load(bound.save(tmp_path / "bound.pt"), device=bound.device)
    np.testing.assert_allclose(loaded.forecast(48, start=start)["power"], clipped["power"], rtol=1e-6)


def test_an_upper_bound_clips_from_above(power):
    run = fit(power, bounds={"power": [None, 100.0]})
    assert run.forecast(24, start=power.index[-60])["power"].max() <= 100.0


@pytest.mark.parametrize("bounds, message", [
    ({"pwr": (0, None)}, r"`bounds` names 'pwr', which is not a target \(did you mean 'power'\?\); .*targets: power"),
    ({"power": (10, 0)}, r"`bounds` gives 'power' a lower limit \(10\) that is not below its upper limit \(0\)"),
    ({"power": 0}, r"`bounds` gives 'power' the limits 0; give a pair \(lower, upper\) of numbers"),
    ({"power": ("0", None)}, r"`bounds` gives 'power' the limits \('0', None\)"),
    ([0, None], r"`bounds` \(\[0, None\]\) must be a dict from target name to \(lower, upper\)"),
])
def test_bad_bounds_are_refused_with_the_value_and_the_fix(power, bounds, message):
    with pytest.raises(ConfigError, match=message):
        fit(power.iloc[:300], bounds=bounds)
