"""A simulated continuous stirred-tank reactor: 13 auxiliary measurements and a key quality."""
from __future__ import annotations

import numpy as np
import pandas as pd

AUXILIARIES = (
    "feed_flow", "feed_temp", "feed_density", "coolant_temp_in", "coolant_flow",
    "jacket_temp", "coolant_temp_out", "reactor_temp", "reactor_pressure", "reactor_level",
    "outlet_flow", "agitator_power", "recycle_flow",
)


def reactor(n: int = 10_000, seed: int = 0, start: str = "2024-03-04") -> pd.DataFrame:
    """A chemical reactor sampled once a minute: 13 auxiliary variables and the quality ``key``.

    The plant, in deviation units (0 is the nominal operating point), one step a minute:

    - *Operators* move the feed-flow and reactor-temperature set-points in steps at random
      times (every 15 to 20 hours on average); nothing in the past announces a step, so only
      a model told the future auxiliaries can see one coming.
    - *Feed tank*: refilled about every 170 minutes, so feed temperature, composition and
      flow follow a slightly irregular cycle that the whole plant passes on.
    - *Weather*: feed and coolant temperatures follow the day (a daily cycle) plus slow drifts.
    - *Feed composition* drifts slowly and is not measured; a noisy density meter hints at it.
    - *Temperature loop*: a PI controller moves the coolant flow; the jacket lags the coolant
      and the reactor lags the jacket, so the loop rings a little after each disturbance.
    - *Level loop*: a proportional controller sets the outlet flow from the level.
    - *Feed flow* swings fast around its set-point (pump and upstream pressure, a few
      minutes' memory): unpredictable from the past, known to a model told the future
      auxiliaries.
    - *Quality*: the key variable responds to reactor temperature, feed flow (residence time)
      and feed composition through a first-order lag (about 8 minutes), with a mild
      temperature-flow interaction, and is read by an analyser with a 3-minute dead time and
      measurement noise.

    Every auxiliary is read with its own measurement noise and reported in plausible units
    (flows in m3/h, temperatures in degC, pressure in bar, level in %, power in kW, density in
    kg/m3); ``key`` is the product concentration in mol/L.

    Returns a DataFrame of ``n`` rows with a minute DatetimeIndex: the 13 auxiliaries
    (``AUXILIARIES``) then ``key``. Deterministic for a ``seed``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    day = np.sin(2 * np.pi * (t / 1440 - 0.375))  # warmest mid-afternoon

    flow_setpoint = _steps(n, mean_hold=2400, levels=rng.normal(0, 0.7, n), rng=rng)
    temp_setpoint = _steps(n, mean_hold=2400, levels=rng.choice([-0.8, -0.3, 0.3, 0.8], n), rng=rng)
    # the feed tank is refilled about every three hours: a slightly irregular cycle
    phase = 2 * np.pi * np.cumsum(1 / 170 + _ar(n, 300, 0.0008, rng))
    tank = np.sin(phase) + 0.35 * np.sin(2 * phase + 0.6)
    feed_temp = 0.8 * day + 0.9 * tank + _ar(n, 120, 0.4, rng)
    coolant_in = 0.9 * day + _ar(n, 50, 0.4, rng)
    composition = 0.7 * tank + _ar(n, 400, 0.7, rng)  # unmeasured
    gas = _ar(n, 30, 1.0, rng)

    flow = np.zeros(n)
    temp = np.zeros(n)
    jacket = np.zeros(n)
    level = np.zeros(n)
    outlet = np.zeros(n)
    cooling = np.zeros(n)
    quality = np.zeros(n)
    integral = 0.0
    flow_noise = _ar(n, 4, 0.4, rng)  # pump and upstream pressure swings
    for i in range(1, n):
        flow[i] = flow[i - 1] + (flow_setpoint[i] + 0.4 * tank[i] - flow[i - 1]) / 5
        error = temp_setpoint[i - 1] - temp[i - 1]
        integral += error / 40
        cooling[i] = float(np.clip(-(1.6 * error + integral), -4, 4))
        jacket[i] = jacket[i - 1] + (coolant_in[i] - 1.2 * cooling[i] + 0.3 * temp[i - 1] - jacket[i - 1]) / 8
        heat = 0.3 * feed_temp[i] + 0.4 * flow[i] + 0.5 * composition[i]
        temp[i] = temp[i - 1] + (heat + 0.9 * jacket[i] - temp[i - 1]) / 12
        outlet[i] = 0.8 * flow[i] + 1.2 * level[i - 1]
        level[i] = level[i - 1] + (flow[i] + flow_noise[i] - outlet[i]) / 40
        feed = flow[i] + flow_noise[i]
        drive = 1.2 * temp[i] - 0.8 * feed + 0.6 * composition[i] + 0.25 * temp[i] * feed
        quality[i] = quality[i - 1] + (drive - quality[i - 1]) / 8
    delay = 3
    key = np.concatenate([np.full(delay, quality[0]), quality[:-delay]])

    def noisy(values, sigma):
        return values + rng.normal(0, sigma, n)

    recycle = np.zeros(n)
    for i in range(1, n):
        recycle[i] = recycle[i - 1] + (outlet[i] - recycle[i - 1]) / 15
    columns = {
        "feed_flow": 12.0 + 1.5 * noisy(flow + flow_noise, 0.1),
        "feed_temp": 30.0 + 2.0 * noisy(feed_temp, 0.1),
        "feed_density": 820.0 + 4.0 * noisy(composition, 0.8),
        "coolant_temp_in": 18.0 + 2.5 * noisy(coolant_in, 0.1),
        "coolant_flow": 40.0 + 5.0 * noisy(cooling, 0.1),
        "jacket_temp": 60.0 + 3.0 * noisy(jacket, 0.1),
        "coolant_temp_out": 35.0 + 2.0 * noisy(0.6 * jacket + 0.4 * coolant_in, 0.1),
        "reactor_temp": 85.0 + 2.5 * noisy(temp, 0.08),
        "reactor_pressure": 4.0 + 0.15 * noisy(0.7 * temp + 0.3 * level + 0.2 * gas, 0.15),
        "reactor_level": 60.0 + 5.0 * noisy(level, 0.1),
        "outlet_flow": 12.0 + 1.5 * noisy(outlet, 0.1),
        "agitator_power": 7.5 + 0.4 * noisy(0.5 * level - 0.3 * temp, 0.2),
        "recycle_flow": 3.0 + 0.5 * noisy(recycle + 0.3 * gas, 0.1),
        "key": 2.0 + 0.2 * noisy(key, 0.04),
    }
    index = pd.date_range(start, periods=n, freq="min", name="time")
    return pd.DataFrame({name: values.astype(np.float32) for name, values in columns.items()}, index=index)


def _steps(n: int, mean_hold: float, levels: np.ndarray, rng) -> np.ndarray:
    """Piecewise-constant set-points: a new level from ``levels`` after exponential holds."""
    out = np.empty(n)
    i, k = 0, 0
    while i < n:
        hold = max(30, int(rng.exponential(mean_hold)))
        out[i : i + hold] = levels[k % len(levels)]
        i, k = i + hold, k + 1
    return out


def _ar(n: int, time_constant: float, sigma: float, rng) -> np.ndarray:
    """An AR(1) process with correlation time ``time_constant`` steps and std ``sigma``."""
    phi = np.exp(-1 / time_constant)
    shocks = rng.standard_normal(n) * np.sqrt(1 - phi**2) * sigma
    x = np.empty(n)
    x[0] = sigma * rng.standard_normal()
    for i in range(1, n):
        x[i] = phi * x[i - 1] + shocks[i]
    return x
