"""Built-in data, generated offline and deterministic for a seed."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import check_whole
from .reactor import reactor  # noqa: F401 (ww.datasets.reactor)


def sine(n: int = 2000, period: float = 50.0, noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """The classic sine wave of the free-running generation tutorial.

    Returns a DataFrame with one column ``y`` = sin(2 pi t / period) (+ Gaussian noise of
    standard deviation ``noise``) over a RangeIndex of ``n`` steps.
    """
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period)
    if noise:
        y = y + np.random.default_rng(seed).normal(0.0, noise, n)
    return pd.DataFrame({"y": y.astype(np.float32)})


def wind(days: int = 365, seed: int = 0, start: str = "2024-01-01", stations: int | None = None) -> pd.DataFrame:
    """A synthetic hourly weather station: ``speed``, ``direction``, ``temperature``, ``pressure``.

    With ``stations=4`` a panel instead: a long table of four stations (seeds ``seed`` to
    ``seed + 3``), columns ``station`` ("S1" ...), ``time``, then the four above, one row per
    station and hour, for ``ww.train(..., series="station", time="time")``.

    The generator, step by step:

    - *Weather systems*: a slow AR(1) process (correlation time about 3 days) stands for the
      passing highs and lows. Pressure (hPa) falls as it rises; so does the mean wind.
    - *Daily cycle*: surface wind peaks mid-afternoon, when the boundary layer mixes, and
      calms at night; temperature follows the same clock two hours behind the sun.
    - *Gusts*: a fast AR(1) process (correlation about 2 hours) with heavy-tailed (Student t,
      4 degrees of freedom) innovations, so gusts come in short bursts.
    - Speed (m/s) is a softplus of the sum, positive and right-skewed like a Weibull sample.
      Direction (degrees) drifts as a random walk, veering as systems pass.

    Returns an hourly DataFrame with a DatetimeIndex of ``days * 24`` rows.
    """
    if stations is not None:
        stations = check_whole("stations", stations, error=ValueError, hint=", or None")
        return pd.concat([wind(days, seed + i, start).reset_index().assign(station=f"S{i + 1}")
                          for i in range(stations)], ignore_index=True)[
            ["station", "time", "speed", "direction", "temperature", "pressure"]]
    rng = np.random.default_rng(seed)
    hours = days * 24
    t = np.arange(hours)
    weather = _ar1(hours, phi=np.exp(-1 / 72), sigma=1.0, rng=rng)  # unit variance
    gusts = _ar1(hours, phi=np.exp(-1 / 2), sigma=1.0, rng=rng, shocks=rng.standard_t(4, hours))
    hour_of_day = t % 24
    daily = np.cos(2 * np.pi * (hour_of_day - 15) / 24)  # peaks at 15:00
    seasonal = np.cos(2 * np.pi * (t / 24 - 200) / 365.25)  # warm around mid-July

    drive = 1.6 + 1.1 * weather + 0.8 * daily + 0.35 * gusts
    speed = 2.5 * np.log1p(np.exp(drive))
    pressure = 1013 - 9 * weather + rng.normal(0, 0.4, hours)
    temperature = 11 + 9 * seasonal + 4 * np.cos(2 * np.pi * (hour_of_day - 17) / 24) - 1.5 * weather
    temperature = temperature + rng.normal(0, 0.5, hours)
    direction = (240 + np.cumsum(rng.normal(0, 4, hours)) + 25 * weather) % 360

    index = pd.date_range(start, periods=hours, freq="h", name="time")
    return pd.DataFrame(
        {
            "speed": speed.astype(np.float32),
            "direction": direction.astype(np.float32),
            "temperature": temperature.astype(np.float32),
            "pressure": pressure.astype(np.float32),
        },
        index=index,
    )


def _ar1(n: int, phi: float, sigma: float, rng, shocks=None) -> np.ndarray:
    """x[t] = phi x[t-1] + sqrt(1 - phi^2) sigma e[t], started in its stationary law."""
    shocks = rng.standard_normal(n) if shocks is None else shocks / np.std(shocks)
    gain = np.sqrt(1 - phi**2) * sigma
    x = np.empty(n)
    x[0] = sigma * shocks[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + gain * shocks[i]
    return x


from .digits import digits  # noqa: E402,F401  (scikit-learn's digits, for task="classify")
from .grids import grid  # noqa: E402,F401  (moving blobs, for model="convlstm")
from .tmy import tmy_wind  # noqa: E402,F401  (real hourly wind at Sand Point, from pvlib's TMY3 file)
from .plant import plant  # noqa: E402,F401  (real 5-minute process data, from bibmon's shipped file)
