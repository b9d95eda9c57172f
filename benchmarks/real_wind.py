"""Day-ahead forecast quality on real wind, against the classical baselines.

Real hourly wind at Sand Point (``ww.datasets.tmy_wind()``, 8,760 rows): the first 80% train
(the last 20% of those validate and pick the best epoch), then 30 forecast origins spread over
the held-out rest, each forecasting the next 24 hours from the data before it. Every method
forecasts from the same origins:

- persistence and seasonal naive (yesterday's day);
- statsforecast's AutoARIMA and AutoETS (season 24), fitted once on the training rows and run
  forward over the data before each origin;
- ww.train settings side by side, over ``--seeds`` seeds (the spread says how much the result
  depends on luck).

The table gives each method's mean absolute error (m/s) over the 30 x 24 forecasts and its
ratio to AutoARIMA's; below 1 beats it.

    pip install statsforecast   # or: pip install -e '.[bench]'
    .venv/bin/python benchmarks/real_wind.py [--seeds 3] [--epochs 10]
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

import windwidgets as ww
from common import table

ORIGINS, STEPS, SEASON = 30, 24, 24

SETTINGS = {  # name -> ww.train settings beyond the common ones
    "lstm (defaults)": {},
    "lstm, best epoch by one step": {"forecast_steps": 1},
    "lstm, horizon 24": {"horizon": 24},
    "lstm, horizon 24 + temperature": {"horizon": 24, "covariates": ["temperature"]},
    "lstm, sequence mode": {"mode": "sequence"},
}


def origins_of(rows: int, first: int) -> np.ndarray:
    return np.linspace(first, rows - STEPS, ORIGINS).astype(int)


def classical(speed: np.ndarray, n_fit: int, origins: np.ndarray) -> dict:
    """Forecasts (origins, steps) of the classical methods, and their fitting seconds."""
    from statsforecast.models import AutoARIMA, AutoETS

    out = {"persistence": np.repeat(speed[origins - 1][:, None], STEPS, axis=1),
           "seasonal naive": np.stack([speed[o - SEASON : o - SEASON + STEPS] for o in origins])}
    # approximation: the model search by conditional sums of squares, as R's auto.arima does by
    # default for a series this long; the exact likelihood search took over 10 minutes here
    arima = AutoARIMA(season_length=SEASON, approximation=True)
    for name, model in (("AutoARIMA", arima), ("AutoETS", AutoETS(season_length=SEASON))):
        start = time.perf_counter()
        with warnings.catch_warnings():  # the search's own convergence notes, one per candidate
            warnings.simplefilter("ignore", UserWarning)
            model.fit(speed[:n_fit])
        out[name] = np.stack([model.forward(y=speed[:o], h=STEPS)["mean"] for o in origins])
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def windwidgets_forecasts(data: pd.DataFrame, n_fit: int, origins: np.ndarray, settings: dict, seed: int,
                          epochs: int) -> np.ndarray:
    """A model trained on the first ``n_fit`` rows, forecasting from each origin of the rest."""
    run = ww.train(data.iloc[:n_fit], target="speed", model="lstm", window=48, epochs=epochs, seed=seed,
                   live=False, **settings)
    columns = ["speed", *settings.get("covariates", [])]
    return np.stack([run.forecast(STEPS, context=data[columns].iloc[:o])["speed"].to_numpy() for o in origins])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    parser.add_argument("--only", default=None, help="names of SETTINGS to run, separated by semicolons")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = ww.datasets.tmy_wind()
    speed = data["speed"].to_numpy(np.float64)
    n_fit = int(len(data) * 0.8)
    origins = origins_of(len(data), n_fit)
    truth = np.stack([speed[o : o + STEPS] for o in origins])  # (origins, steps)
    maes = {name: [np.abs(f - truth).mean()] for name, f in classical(speed, n_fit, origins).items()}
    chosen = args.only.split(";") if args.only else list(SETTINGS)
    for name in chosen:
        for seed in range(args.seeds):
            start = time.perf_counter()
            forecast = windwidgets_forecasts(data, n_fit, origins, SETTINGS[name], seed, args.epochs)
            maes.setdefault(name, []).append(np.abs(forecast - truth).mean())
            print(f"{name}, seed {seed}: MAE {maes[name][-1]:.3f} in {time.perf_counter() - start:.0f} s", flush=True)
    arima = maes["AutoARIMA"][0]
    rows = [{"method": name, "MAE": float(np.mean(v)), "/ AutoARIMA": float(np.mean(v)) / arima,
             "seeds": len(v), "min": float(np.min(v)), "max": float(np.max(v))} for name, v in maes.items()]
    print(f"tmy_wind: {len(data)} hourly rows, {n_fit} to fit, {ORIGINS} origins x {STEPS} h after them; "
          f"{args.epochs} epochs; torch threads {torch.get_num_threads()}")
    print(table(rows))


if __name__ == "__main__":
    main()
