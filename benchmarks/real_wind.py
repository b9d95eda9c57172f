"""Day- and two-day-ahead forecast quality on wind, against the classical baselines.

Two hourly series of 8,760 rows: real wind at Sand Point (``ww.datasets.tmy_wind()``) and the
synthetic station (``ww.datasets.wind()``). On each, the first 80% fit (the last 20% of those
validate and pick the best epoch), then 30 forecast origins spread over the held-out rest each
forecast the next 48 hours from the data before them; the table scores the first 24 and all
48. Every method forecasts from the same origins:

- persistence and seasonal naive (yesterday's day, repeated);
- statsforecast's AutoARIMA, AutoETS and MSTL (season 24), fitted once on the fitting rows and
  run forward over the data before each origin;
- ``ww.train`` settings side by side, each over ``--seeds`` seeds: the mean MAE, its ratio to
  AutoARIMA's (below 1 beats it), the worst seed's ratio and the spread (the largest distance
  of a seed's MAE from their mean, as a share of the mean).

``fit s`` is the fitting time, ``forecast s`` the time of the 30 forecasts (for ww, the mean
over seeds).

    pip install statsforecast   # or: pip install -e '.[bench]'
    .venv/bin/python benchmarks/real_wind.py [--seeds 3] [--epochs 10] [--data tmy_wind] [--quick]

``--quick`` (or a machine without statsforecast) leaves the statsforecast models out: the
ratios are then to seasonal naive's MAE.
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

import windwidgets as ww
from common import table

ORIGINS, STEPS, SEASON = 30, (24, 48), 24
DIRECTION = ["direction_sin", "direction_cos"]

SETTINGS = {  # name -> ww.train settings beyond the common ones
    "lstm (defaults)": {},
    "lstm, best epoch by one step": {"forecast_steps": 1},
    "lstm, patience 4": {"patience": 4},
    "lstm, patience 4, lr_factor 1": {"patience": 4, "lr_factor": 1},  # the patience alone, as before lr_factor
    "lstm, patience 4, min_delta 0.01": {"patience": 4, "min_delta": 0.01},
    "lstm, horizon 24": {"horizon": 24},
    "lstm, sequence mode": {"mode": "sequence"},
    "lstm, loss mae": {"loss": "mae"},
    "lstm 32 x 1, loss mae": {"hidden_size": 32, "num_layers": 1, "loss": "mae"},
    "lstm 32 x 1, loss mae, 20 epochs": {"hidden_size": 32, "num_layers": 1, "loss": "mae", "epochs": 20},
    "lstm 32 x 1, loss mae, 20 epochs, ensemble 3": {"hidden_size": 32, "num_layers": 1, "loss": "mae", "epochs": 20,
                                                      "ensemble": 3},
    "lstm + direction (sin, cos)": {"covariates": DIRECTION},
    "lstm + temperature": {"covariates": ["temperature"]},
    "lstm + calendar": {"calendar": True},
}


def with_direction(data: pd.DataFrame) -> pd.DataFrame:
    """Direction in degrees as its sine and cosine: 359 and 1 degrees are neighbours."""
    radians = np.deg2rad(data["direction"].to_numpy(np.float64))
    return data.assign(direction_sin=np.sin(radians), direction_cos=np.cos(radians))


def classical(speed: np.ndarray, n_fit: int, origins: np.ndarray, quick: bool = False) -> dict:
    """name -> (forecasts (origins, steps), fit seconds, forecast seconds); with ``quick`` (or
    without statsforecast) the naive methods alone."""
    steps = max(STEPS)
    out = {"persistence": (np.repeat(speed[origins - 1][:, None], steps, axis=1), 0.0, 0.0),
           "seasonal naive": (np.stack([np.resize(speed[o - SEASON : o], steps) for o in origins]), 0.0, 0.0)}
    try:
        from statsforecast.models import MSTL, AutoARIMA, AutoETS
    except ImportError:
        quick = True
    if quick:
        return out
    # approximation: the model search by conditional sums of squares, as R's auto.arima does by
    # default for a series this long; the exact likelihood search took over 10 minutes here
    models = {"AutoARIMA": AutoARIMA(season_length=SEASON, approximation=True),
              "AutoETS": AutoETS(season_length=SEASON), "MSTL": MSTL(season_length=SEASON)}
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():  # the search's own convergence notes, one per candidate
            warnings.simplefilter("ignore", UserWarning)
            model.fit(speed[:n_fit])
        fitted = time.perf_counter()
        forecasts = np.stack([model.forward(y=speed[:o], h=steps)["mean"] for o in origins])
        out[name] = (forecasts, fitted - start, time.perf_counter() - fitted)
    return out


def windwidgets_forecasts(data: pd.DataFrame, n_fit: int, origins: np.ndarray, settings: dict, seed: int,
                          epochs: int) -> tuple:
    """A model trained on the first ``n_fit`` rows forecasting from each origin of the rest,
    with its fit and forecast seconds."""
    start = time.perf_counter()
    run = ww.train(data.iloc[:n_fit], **{"target": "speed", "model": "lstm", "window": 48, "epochs": epochs,
                                         "seed": seed, "live": False, **settings})  # a setting's epochs win
    fitted = time.perf_counter()
    columns = ["speed", *settings.get("covariates", [])]
    forecasts = np.stack([run.forecast(max(STEPS), context=data[columns].iloc[:o])["speed"].to_numpy()
                          for o in origins])
    return forecasts, fitted - start, time.perf_counter() - fitted


def score(data: pd.DataFrame, name: str, settings: list, seeds: int, epochs: int, quick: bool = False) -> list:
    """The table's rows for one series."""
    speed = data["speed"].to_numpy(np.float64)
    n_fit = int(len(data) * 0.8)
    origins = np.linspace(n_fit, len(data) - max(STEPS), ORIGINS).astype(int)
    truth = np.stack([speed[o : o + max(STEPS)] for o in origins])  # (origins, steps)
    runs = {method: [result] for method, result in classical(speed, n_fit, origins, quick).items()}
    reference = "AutoARIMA" if "AutoARIMA" in runs else "seasonal naive"  # what the ratios divide by
    for method in settings:
        for seed in range(seeds):
            runs.setdefault(method, []).append(
                windwidgets_forecasts(data, n_fit, origins, SETTINGS[method], seed, epochs))
            print(f"{name}, {method}, seed {seed}: fit {runs[method][-1][1]:.0f} s", flush=True)

    def mae(forecasts, steps):
        return float(np.abs(forecasts[:, :steps] - truth[:, :steps]).mean())

    arima = {steps: mae(runs[reference][0][0], steps) for steps in STEPS}
    rows = []
    for method, results in runs.items():
        row = {"series": name, "method": method}
        for steps in STEPS:
            maes = np.array([mae(f, steps) for f, _, _ in results])
            row[f"MAE {steps}"], row[f"/ {reference} {steps}"] = maes.mean(), maes.mean() / arima[steps]
            if steps == STEPS[0]:
                worst, spread = maes.max() / arima[steps], np.abs(maes - maes.mean()).max() / maes.mean()
        row["worst seed"] = worst if len(results) > 1 else ""
        row["spread %"] = 100 * spread if len(results) > 1 else ""
        row["fit s"] = float(np.mean([r[1] for r in results]))
        row["forecast s"] = float(np.mean([r[2] for r in results]))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data", default="tmy_wind;wind", help="series to score, separated by semicolons")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    parser.add_argument("--only", default=None, help="names of SETTINGS to run, separated by semicolons")
    parser.add_argument("--quick", action="store_true",
                        help="skip statsforecast's models (also without statsforecast): ratios to seasonal naive")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    chosen = args.only.split(";") if args.only else list(SETTINGS)
    rows = []
    for name in args.data.split(";"):
        data = with_direction(getattr(ww.datasets, name)())
        rows += score(data, name, chosen, args.seeds, args.epochs, args.quick)
    print(f"first 80% of 8,760 hourly rows to fit, {ORIGINS} origins x {max(STEPS)} h after them; "
          f"{args.epochs} epochs, {args.seeds} seeds; torch threads {torch.get_num_threads()}")
    print(table(rows))


if __name__ == "__main__":
    main()
