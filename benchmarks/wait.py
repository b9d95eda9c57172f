"""The wait for a good model: how long ``ww.train`` keeps a person waiting, against a plain loop.

The plain loop is the tutorial's: 48 -> 1 windows of wind speed, a 2-layer LSTM (hidden 64),
Adam at 1e-3, batches of 64, 5 epochs, a validation pass at the end of each. Its best one-step
validation MAE (measured every 25 batches and at each epoch's end, the measuring left out of
its time) sets the target, 1.02x that; its time is its 5 epochs with their validation passes.

Then a person's fit, ``ww.train(wind, target="speed", window=48, epochs=60, patience=4)`` (the
model's size is the default, 64 x 2), runs until it stops by itself. The wait ratio is its
wall time (the whole call: data, model, fit) over the plain loop's; it counts only where the
model it returns is within the target. The table also gives each contestant's time to the
target (at an epoch's end, for the fit: what it could have stopped at) and the day-ahead MAE
of rolled forecasts from validation origins (every 24 rows).

Everything runs on one torch thread, on ``ww.datasets.wind(days=420, seed=3)``.

    .venv/bin/python benchmarks/wait.py [--seeds 1] [--set lr=3e-3 --set patience=2] [--epochs-shown]
"""
import argparse
import math
import time

import numpy as np
import torch

import windwidgets as ww
from windwidgets.data.windows import sliding
from windwidgets.forecast.backtest import rolled_forecasts
from windwidgets.train import Event
from common import table
from learn_fast import EVERY, WINDOW, one_step_mae, plain_steps

PLAIN_EPOCHS = 5
SETTINGS = dict(target="speed", model="lstm", window=WINDOW, epochs=60, patience=4, live=False)


def plain_loop(scaled: torch.Tensor, n_train: int, seed: int, scale: float):
    """The tutorial's loop: (model, wall seconds of its epochs and their validation passes,
    the best one-step validation MAE it reached, seconds to each measurement)."""
    model, x_all, y_all, steps = plain_steps(scaled, n_train, PLAIN_EPOCHS, seed)
    curve, measuring, start, cpu = [], 0.0, time.perf_counter(), time.process_time()
    for batch, last in steps:
        if batch % EVERY == 0:  # the finer curve that sets the target, its time left out
            began, cpu_began = time.perf_counter(), time.process_time()
            mae = one_step_mae(model, x_all, y_all, n_train, scale)
            measuring += time.perf_counter() - began
            cpu += time.process_time() - cpu_began
            curve.append((time.perf_counter() - start - measuring, mae))
        if last:  # the epoch's end: its validation pass counts, as the fit's own does
            curve.append((time.perf_counter() - start - measuring, one_step_mae(model, x_all, y_all, n_train, scale)))
    wall, cpu = time.perf_counter() - start - measuring, time.process_time() - cpu  # the epoch-end passes count
    return model, (wall, cpu), curve


def person_fit(wind, settings: dict, x_all, y_all, n_train: int, scale: float, target: float):
    """``ww.train`` as a person calls it: (run, wall seconds, seconds to the target at an epoch's
    end, one-step MAE per epoch), the measuring left out of the times."""
    maes, measuring, reached = [], [0.0, 0.0], [math.nan]
    start, cpu = time.perf_counter(), time.process_time()
    run = ww.prepare(wind, **settings)

    def measure(event, progress):
        if event is Event.EPOCH_END:
            began, cpu_began = time.perf_counter(), time.process_time()
            maes.append(one_step_mae(run.model, x_all, y_all, n_train, scale))
            measuring[0] += time.perf_counter() - began
            measuring[1] += time.process_time() - cpu_began
            if maes[-1] <= target and math.isnan(reached[0]):
                reached[0] = time.perf_counter() - start - measuring[0]

    run.trainer.events.subscribe(measure)
    run.fit()
    return run, (time.perf_counter() - start - measuring[0], time.process_time() - cpu - measuring[1]), reached[0], maes


def day_ahead_mae(model, scaled: torch.Tensor, n_train: int, observed: np.ndarray, mean: float, scale: float,
                  carry: bool) -> float:
    """MAE (m/s) of rolled 24-step forecasts from origins every 24 rows of the validation part."""
    origins = np.arange(n_train, len(observed) - 24 + 1, 24)
    predicted = rolled_forecasts(model, scaled[:, None], origins, 24, WINDOW, 1, 1, carry)
    values = predicted.numpy()[..., 0] * scale + mean  # (origins, steps)
    return float(np.abs(values - observed[origins[:, None] + np.arange(24)]).mean())


def parse(pairs: list) -> dict:
    """``["lr=3e-3", "patience=2"]`` -> {"lr": 0.003, "patience": 2}."""
    out = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        for kind in (int, float):
            try:
                out[name] = kind(value)
                break
            except ValueError:
                continue
        else:
            out[name] = None if value == "None" else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="a ww.train setting for the fit, name=value")
    parser.add_argument("--epochs-shown", action="store_true", help="print each fit's history")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wind = ww.datasets.wind(days=420, seed=3)[["speed"]]
    observed = wind["speed"].to_numpy(np.float64)
    n_train = int(round(len(wind) * 0.8))
    mean, scale = observed[:n_train].mean(), observed[:n_train].std()
    scaled = torch.tensor((observed - mean) / scale, dtype=torch.float32)
    x_all, y_all = sliding(scaled[:, None], WINDOW)[:-1], scaled[WINDOW:][:, None, None]
    settings = {**SETTINGS, **parse(args.set)}
    rows = []
    for seed in range(args.seeds):
        plain, (plain_seconds, plain_cpu), curve = plain_loop(scaled, n_train, seed, scale)
        best = min(mae for _, mae in curve)
        target = 1.02 * best
        run, (seconds, cpu), reached, maes = person_fit(wind, {**settings, "seed": seed}, x_all, y_all, n_train, scale,
                                                 target)
        kept = one_step_mae(run.model, x_all, y_all, n_train, scale)
        carry = run.config.train.mode != "window"
        rows.append({"seed": seed, "plain s": plain_seconds, "plain best MAE": best,
                     "plain to target s": next(s for s, mae in curve if mae <= target),
                     "ww epochs": len(run.history), "kept": run.progress.best_epoch, "ww s": seconds,
                     "ww to target s": reached, "kept MAE": kept, "within 2%": kept <= target,
                     "wait ratio": seconds / plain_seconds, "CPU ratio": cpu / plain_cpu,
                     "plain 24h MAE": day_ahead_mae(plain, scaled, n_train, observed, mean, scale, False),
                     "ww 24h MAE": day_ahead_mae(run.model, scaled, n_train, observed, mean, scale, carry)})
        if args.epochs_shown:
            history = run.history.assign(one_step_mae=maes)
            print(history.drop(columns=[c for c in ("grad_norm",) if c in history]).to_string(index=False))
    print(f"ww.datasets.wind(days=420, seed=3): {len(wind)} rows ({n_train} train), lstm 64 x 2, window {WINDOW}, "
          f"one torch thread; ww settings: {settings}")
    print(table(rows))


if __name__ == "__main__":
    main()
