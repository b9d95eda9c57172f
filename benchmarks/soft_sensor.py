"""Soft sensors: a quality forecast 1, 5, 20 and 60 rows ahead from inputs known ahead.

A soft sensor estimates a quality that a slow or sparse analyser measures, from the process
variables read online every few minutes. Here the quality's own past is known up to the
forecast's origin and the process variables are known for every forecast row (they are read
online, or set by the operators' plan), which is what ``future_covariates`` means.

The data, and what a process engineer would pick:

- ``reactor``: ``ww.datasets.reactor()``, one row a minute. Target ``key`` (the analyser's
  product concentration); known ahead: its 13 auxiliaries, every one of which is an online
  instrument on the same plant (flows, temperatures, pressure, level, power, density). None
  is left out: each carries part of the temperature, residence time or feed composition the
  quality answers to.
- ``plant``: ``ww.datasets.plant()``, real 5-minute tags. Target ``tag100`` (the target of
  bibmon's own soft-sensor example); known ahead: every other tag that varies on the fitting
  rows and misses under 1% of its cells. The 14 constant tags carry nothing and ``tag2`` and
  ``tag70`` are 5-10% status words (a failing instrument an engineer would not build on); the
  few other missing cells are carried forward from the last reading, as a historian does.
- ``plant5``: the same, with the 5 inputs most correlated with ``tag100`` on the fitting rows
  (``tag102``, ``tag103``, ``tag101``, ``tag105``, ``tag104``), the screening an engineer
  does before fitting a soft sensor. Of the 89 tags, dozens drift out of their fitting range
  in the later period (``tag62`` by thousands of training deviations); a tree ignores the
  ones it never split on, a neural network reads every input it is given. Every method,
  anchors included, gets the same 5.

Each series is split in time: the first 70% fit (windwidgets validates on the last 20% of
those, which picks its best epoch), the last 30% test. Every method forecasts from the same
origins of the test part (every ``--stride``-th row), from the data before each origin and the
inputs of the forecast rows:

- persistence: the last known value of the target;
- ridge and PLS on lagged inputs and targets: for lead L a direct model of the target at row
  r from the inputs at rows r, r-1, ..., r-10 and the target at the origin's rows o-1, ...,
  o-11 (their penalty or number of components chosen on the last 20% of the fitting rows);
- a gradient-boosted tree (scikit-learn's HistGradientBoostingRegressor) on the same features;
- statsforecast's AutoARIMA with the inputs as regressors (regression with ARIMA errors),
  fitted once on the fitting rows and run forward from each origin with the true inputs of
  the forecast rows; on the plant only the 10 inputs most correlated with the target on the
  fitting rows are its regressors (90 of them leave the search ill-posed and slow); its
  origins are every ``--arima-stride``-th origin of the others (it runs forward from each, a
  second or so on two cores), and its MAE is on those;
- windwidgets settings, each over ``--seeds`` seeds, trained with ``future_covariates`` (the
  epoch kept is the one whose rolled validation forecasts of 60 rows are best) and scored
  with ``run.backtest`` after ``run.update`` with the test rows, so it forecasts with the true
  future inputs.

The table: MAE at each lead; for windwidgets the mean over seeds, its ratio to the best
anchor at that lead (below 1 beats every anchor), the worst seed's ratio and the spread (the
largest distance of a seed's MAE from their mean, as a share of the mean) at lead 1 and 60.

    pip install -e '.[bench]'   # statsforecast, bibmon, scikit-learn
    .venv/bin/python benchmarks/soft_sensor.py [--quick] [--seeds 3] [--data reactor;plant]
"""
import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import windwidgets as ww
from common import table

LEADS = (1, 5, 20, 60)
LAGS = 10
FIT = 0.7

SMALL = {"hidden_size": 32, "num_layers": 1, "loss": "mae"}
SETTINGS = {  # name -> ww.train settings beyond the common ones
    "ww defaults": {},
    "ww 32 x 1, loss mae": SMALL,
    "ww residual, 32 x 1, loss mae": {"residual": True, **SMALL},
    "ww residual + window norm, 32 x 1, mae": {"residual": True, "normalize": "window", **SMALL},
    "ww mlp, loss mae": {"model": "mlp", "loss": "mae"},
    "ww 32 x 1, refit, loss mae": {"refit": True, **SMALL},
    "ww mlp, refit, loss mae": {"model": "mlp", "loss": "mae", "refit": True},
    "ww mlp, ensemble 3, refit, loss mae": {"model": "mlp", "loss": "mae", "refit": True, "ensemble": 3},
    "ww mlp, ensemble 5, refit, loss mae": {"model": "mlp", "loss": "mae", "refit": True, "ensemble": 5},
    "ww 32 x 1, ensemble 3, refit, loss mae": {"refit": True, "ensemble": 3, **SMALL},
}
COMMON = {"forecast_steps": max(LEADS)}  # the epoch kept forecasts best over the longest lead


def reactor_task(rows: int):
    from windwidgets.data.reactor import AUXILIARIES

    return ww.datasets.reactor(n=rows), "key", list(AUXILIARIES)


def plant_task(rows: int):
    with warnings.catch_warnings():  # the status words the loader counts; dropped or filled below
        warnings.simplefilter("ignore", UserWarning)
        data = ww.datasets.plant().iloc[:rows]
    n_fit = int(len(data) * FIT)
    fitting = data.iloc[:n_fit]
    inputs = [c for c in data.columns if c != "tag100" and fitting[c].std() > 0 and data[c].isna().mean() < 0.01]
    return data.ffill().bfill(), "tag100", inputs


def screened_task(rows: int, keep: int = 5):
    """The plant with the ``keep`` inputs most correlated with the target on the fitting rows."""
    data, target, inputs = plant_task(rows)
    fitting = data.iloc[: int(len(data) * FIT)]
    strongest = fitting[inputs].corrwith(fitting[target]).abs().nlargest(keep)
    return data, target, list(strongest.index)


TASKS = {"reactor": reactor_task, "plant": plant_task, "plant5": screened_task}


def lagged(values: np.ndarray, lags: int) -> np.ndarray:
    """(rows, columns) -> (rows, columns * (lags + 1)): each row with its ``lags`` rows before
    it (the first rows repeat the first row)."""
    padded = np.concatenate([np.repeat(values[:1], lags, axis=0), values])
    return np.concatenate([padded[lags - k : lags - k + len(values)] for k in range(lags + 1)], axis=1)


def features(y: np.ndarray, x: np.ndarray, lead: int) -> np.ndarray:
    """Row r: the inputs at r .. r-10 and the target at r-lead .. r-lead-10 (the origin is
    r - lead + 1). Rows before ``lead + LAGS`` are not complete and are not used."""
    ys = lagged(y[:, None], LAGS)  # (rows, LAGS + 1)
    shifted = np.concatenate([np.repeat(ys[:1], lead, axis=0), ys[:-lead]])  # row r holds y at r - lead ...
    return np.concatenate([lagged(x, LAGS), shifted], axis=1)


def regression_anchors(y: np.ndarray, x: np.ndarray, n_fit: int, origins: np.ndarray) -> dict:
    """name -> (origins, leads) forecasts of ridge, PLS and the tree, one direct model per lead."""
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    out = {"ridge on 0..10 lags": [], "PLS on 0..10 lags": [], "tree on 0..10 lags": []}
    for lead in LEADS:
        table_ = features(y, x, lead)
        first = lead + LAGS
        train = np.arange(first, n_fit)
        inner = train[: int(len(train) * 0.8)]
        held = train[len(inner):]
        scaler = StandardScaler().fit(table_[inner])
        rows = origins + lead - 1

        def chosen(make, options):
            errors = [np.abs(make(o).fit(scaler.transform(table_[inner]), y[inner]).predict(
                scaler.transform(table_[held])).ravel() - y[held]).mean() for o in options]
            best = options[int(np.argmin(errors))]
            final = StandardScaler().fit(table_[train])
            return make(best).fit(final.transform(table_[train]), y[train]).predict(
                final.transform(table_[rows])).ravel()

        out["ridge on 0..10 lags"].append(chosen(lambda a: Ridge(alpha=a), [0.1, 1.0, 10.0, 100.0, 1000.0]))
        out["PLS on 0..10 lags"].append(chosen(lambda c: PLSRegression(n_components=c, scale=False),
                                               [2, 5, 10, 20]))
        tree = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0)
        out["tree on 0..10 lags"].append(tree.fit(table_[train], y[train]).predict(table_[rows]))
    return {name: np.stack(columns, axis=1) for name, columns in out.items()}  # (origins, leads)


def arima_anchor(y: np.ndarray, x: np.ndarray, n_fit: int, origins: np.ndarray) -> np.ndarray | None:
    """(origins, leads) forecasts of AutoARIMA with regressors, or None without statsforecast."""
    try:
        from statsforecast.models import AutoARIMA
    except ImportError:
        print("statsforecast is not installed: AutoARIMA is left out (pip install statsforecast)")
        return None
    if x.shape[1] > 10:  # the 10 inputs most correlated with the target on the fitting rows
        correlation = np.abs([np.corrcoef(x[:n_fit, j], y[:n_fit])[0, 1] for j in range(x.shape[1])])
        x = x[:, np.argsort(-np.nan_to_num(correlation))[:10]]
    model = AutoARIMA(approximation=True)
    with warnings.catch_warnings():  # the search's own convergence notes, one per candidate
        warnings.simplefilter("ignore", UserWarning)
        model.fit(y[:n_fit], x[:n_fit])
        steps = max(LEADS)
        forecasts = np.stack([model.forward(y=y[:o], h=steps, X=x[:o], X_future=x[o : o + steps])["mean"]
                              for o in origins])  # (origins, steps)
    return forecasts[:, np.array(LEADS) - 1]


def windwidgets_anchor(data: pd.DataFrame, target: str, inputs: list, n_fit: int, origins: np.ndarray,
                       settings: dict, seed: int, epochs: int) -> tuple:
    """(origins, leads) forecasts of one setting and seed, and the fit's seconds."""
    start = time.perf_counter()
    frame = data[[target, *inputs]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # counted in the run's own warnings
        run = ww.train(frame.iloc[:n_fit], **{"target": target, "future_covariates": inputs, "epochs": epochs,
                                              "seed": seed, "live": False, **COMMON, **settings})
    seconds = time.perf_counter() - start
    run.update(frame.iloc[n_fit:])
    result = run.backtest(steps=max(LEADS), stride=1)
    position = {o: i for i, o in enumerate(result.origins)}
    chosen = np.array([position[o] for o in origins])
    return result.predictions["model"][chosen][:, np.array(LEADS) - 1, 0], seconds  # (origins, leads)


def score(name: str, rows: int, stride: int, arima_stride: int, chosen: list, seeds: int, epochs: int,
          cache: str | None) -> list:
    data, target, inputs = TASKS[name](rows)
    y = data[target].to_numpy(np.float64)
    x = data[inputs].to_numpy(np.float64)
    n_fit = int(len(data) * FIT)
    origins = np.arange(n_fit + LAGS, len(data) - max(LEADS) + 1, stride)
    truth = y[origins[:, None] + np.array(LEADS)[None, :] - 1]  # (origins, leads)
    key = Path(cache or ".") / f"soft_sensor_{name}_{len(data)}_{stride}_{arima_stride}.json"
    if cache and key.exists():  # the anchors do not change between runs of windwidgets settings
        mae = {method: np.array(values) for method, values in json.loads(key.read_text()).items()}
    else:
        mae = anchors(name, y, x, n_fit, origins, truth, arima_stride)
        if cache:
            key.write_text(json.dumps({method: values.tolist() for method, values in mae.items()}))
    best = np.min(np.stack(list(mae.values())), axis=0)  # (leads,)
    lines = [{"data": name, "method": method, **{f"MAE {lead}": float(v) for lead, v in zip(LEADS, values)}}
             for method, values in mae.items()]
    for method in chosen:
        maes, seconds = [], []
        for seed in range(seeds):
            forecasts, fit = windwidgets_anchor(data, target, inputs, n_fit, origins, SETTINGS[method], seed, epochs)
            maes.append(np.abs(forecasts - truth).mean(axis=0))
            seconds.append(fit)
            print(f"{name}, {method}, seed {seed}: fit {fit:.0f} s, MAE "
                  + " ".join(f"{v:.4g}" for v in maes[-1]), flush=True)
        lines.append(windwidgets_row(name, method, np.array(maes), best, float(np.mean(seconds))))
    return lines


def anchors(name: str, y: np.ndarray, x: np.ndarray, n_fit: int, origins: np.ndarray, truth: np.ndarray,
            arima_stride: int) -> dict:
    """method -> (leads,) MAE of every anchor."""
    mae = {"persistence": np.abs(y[origins - 1][:, None] - truth).mean(axis=0)}
    start = time.perf_counter()
    for method, forecasts in regression_anchors(y, x, n_fit, origins).items():
        mae[method] = np.abs(forecasts - truth).mean(axis=0)
    print(f"{name}: {len(y)} rows, {x.shape[1]} inputs, {len(origins)} origins; regressions "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    sampled = origins[::arima_stride]
    arima = arima_anchor(y, x, n_fit, sampled)
    if arima is not None:
        mae["AutoARIMA + inputs"] = np.abs(arima - truth[::arima_stride]).mean(axis=0)
        print(f"{name}: AutoARIMA {time.perf_counter() - start:.0f} s on {len(sampled)} origins", flush=True)
    return mae


def windwidgets_row(name: str, method: str, maes: np.ndarray, best: np.ndarray, seconds: float) -> dict:
    """The table's row for one setting: maes (seeds, leads)."""
    mean = maes.mean(axis=0)
    row = {"data": name, "method": method, **{f"MAE {lead}": float(v) for lead, v in zip(LEADS, mean)}}
    row.update({f"/best {lead}": float(v) for lead, v in zip(LEADS, mean / best)})
    worst = maes.max(axis=0) / best
    spread = np.abs(maes - mean).max(axis=0) / mean
    row["worst seed"] = f"{worst.max():.3g}"
    row["spread % (1, 60)"] = f"{100 * spread[0]:.1f}, {100 * spread[-1]:.1f}"
    row["fit s"] = seconds
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true",
                        help="4,000 reactor rows, 1 seed, 5 epochs, an origin every 5 rows")
    parser.add_argument("--seeds", type=int, default=None, help="default 3, with --quick 1")
    parser.add_argument("--epochs", type=int, default=None, help="default 20, with --quick 5")
    parser.add_argument("--data", default="reactor;plant;plant5", help="tasks to score, separated by semicolons")
    parser.add_argument("--only", default=None, help="names of SETTINGS to run, separated by semicolons")
    parser.add_argument("--stride", type=int, default=2, help="rows between forecast origins")
    parser.add_argument("--arima-stride", type=int, default=5, help="AutoARIMA forecasts from every n-th origin")
    parser.add_argument("--cache", default=None, help="a folder to keep the anchors' MAE in between runs")
    args = parser.parse_args()
    rows = {"reactor": 10_000, "plant": None, "plant5": None}
    if args.quick:
        args.stride, args.arima_stride, rows["reactor"] = 5, 10, 4000
    args.seeds = args.seeds or (1 if args.quick else 3)
    args.epochs = args.epochs or (5 if args.quick else 20)
    chosen = args.only.split(";") if args.only else list(SETTINGS)
    lines = []
    for name in args.data.split(";"):
        lines += score(name, rows[name], args.stride, args.arima_stride, chosen, args.seeds, args.epochs, args.cache)
    columns = {key for line in lines for key in line}
    print(table([{c: line.get(c, "") for c in sorted(columns, key=order)} for line in lines]))


def order(column: str) -> tuple:
    """The table's columns: names, MAEs, ratios, then the rest."""
    ranks = ("data", "method", "MAE", "/best", "worst", "spread", "fit")
    return next(i for i, r in enumerate(ranks) if column.startswith(r)), LEADS_ORDER.get(column, 0)


LEADS_ORDER = {f"{kind} {lead}": i for kind in ("MAE", "/best") for i, lead in enumerate(LEADS)}


if __name__ == "__main__":
    main()
