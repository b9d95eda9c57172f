"""Real wind: Sand Point's typical year, read offline from the file pvlib ships (issue 12)."""
import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.errors import ConfigError


def test_tmy_wind_is_a_real_regular_hourly_year():
    wind = ww.datasets.tmy_wind()
    assert list(wind.columns) == ["speed", "direction", "temperature", "dew_point", "humidity", "pressure"]
    assert isinstance(wind.index, pd.DatetimeIndex) and wind.index.name == "time" and len(wind) == 8760
    assert (np.diff(wind.index.asi8) == np.diff(wind.index.asi8)[0]).all()  # hourly, no gaps
    assert wind.index[0] == pd.Timestamp("2023-01-01 01:00")
    # the first hours of the file: 2.1, 0.0 and 3.1 m/s; 4.0 degrees C
    np.testing.assert_allclose(wind["speed"].iloc[:3], [2.1, 0.0, 3.1], rtol=1e-6)
    assert wind["temperature"].iloc[0] == pytest.approx(4.0)
    assert 4.5 < wind["speed"].mean() < 5.5 and wind["speed"].max() < 30
    assert ww.datasets.tmy_wind(year=2021).index[0] == pd.Timestamp("2021-01-01 01:00")
    with pytest.raises(ConfigError, match=r"`year` \(2024\) must be a year that is not a leap year"):
        ww.datasets.tmy_wind(year=2024)


def test_a_model_trains_on_the_real_wind_briefly():
    wind = ww.datasets.tmy_wind().iloc[:24 * 40]  # forty days of January and February
    run = ww.train(wind, target="speed", covariates=["temperature"], window=24, hidden_size=8,
                   num_layers=1, epochs=2, batch_size=32, live=False)
    assert run.history["val_loss"].notna().all()
    forecast = run.forecast(6)
    assert forecast.index[0] == wind.index[-1] + pd.Timedelta("1h")
    assert np.isfinite(forecast["speed"]).all()
    evaluation = run.evaluate(steps=6, stride=6)
    assert evaluation["mase"] < 1.5  # measured 0.87 after two epochs (seasonal naive: 1.11)
