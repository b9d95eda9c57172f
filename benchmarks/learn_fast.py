"""Time to accuracy and rollout quality of each training mode, against a plain window loop.

The plain loop is written here, as a person would: 48 -> 1 windows of wind speed, a 2-layer
LSTM (hidden 64), Adam at 1e-3, batches of 64, 5 epochs. Its best validation MAE (one step
ahead, m/s) sets the target: 1.02x that. Then each mode of ``ww.train`` trains the same model
on the same data, and the table gives, side by side:

- ``s to target``: training seconds until the one-step validation MAE, measured every
  ``EVERY`` batches and at each epoch's end for every contestant (the time spent measuring
  it is left out), reaches the target; ``speed-up`` is the plain loop's time over it;
- ``best MAE``: the best one-step validation MAE measured;
- ``MAE 1 / 24 / 500``: the mean absolute error of rolled forecasts of 1, 24 and 500 steps
  from origins over the validation part (each model rolls out the way it learned), next to
  seasonal naive's from the same origins;
- for ``--forecast``: a 2,000-step forecast against a bare torch loop doing the same
  algorithm (re-feeding the window, or one cell step per step).

    .venv/bin/python benchmarks/learn_fast.py [--days 840] [--epochs 6] [--seeds 1] [--threads 2]
"""
import argparse
import math
import time

import numpy as np
import torch
from torch import nn

import windwidgets as ww
from windwidgets.data.windows import sliding
from windwidgets.forecast.backtest import rolled_forecasts
from windwidgets.forecast.baselines import seasonal_naive
from windwidgets.forecast.rollout import carries
from windwidgets.train import Event
from common import table, timed

WINDOW, HIDDEN, LAYERS = 48, 64, 2
LEADS = (1, 24, 500)
EVERY = 25  # batches between measurements of the validation MAE


class PlainModel(nn.Module):
    """The hand-written forecaster: an LSTM read by a linear head at the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, HIDDEN, LAYERS, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)  # (batch, time, hidden)
        return self.head(out[:, -1])[:, None], state  # (batch, 1, 1)


def plain_steps(scaled: torch.Tensor, n_train: int, epochs: int, seed: int):
    """The tutorial's loop, set up: (model, x_all, y_all, steps), ``steps`` running it one
    optimizer step at a time and yielding (batch of the epoch, whether it is the epoch's last),
    so that each benchmark measures between steps as it counts time."""
    torch.manual_seed(seed)
    x_all = sliding(scaled[:, None], WINDOW)[:-1]  # (windows, window, 1)
    y_all = scaled[WINDOW:][:, None, None]  # (windows, 1, 1)
    model = PlainModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)

    def steps():
        for _ in range(epochs):
            model.train()
            order = torch.randperm(n_train - WINDOW, generator=generator)
            for batch, first in enumerate(range(0, len(order), 64), 1):
                index = order[first : first + 64]
                loss = nn.functional.mse_loss(model(x_all[index])[0], y_all[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                yield batch, first + 64 >= len(order)

    return model, x_all, y_all, steps()


def plain_loop(scaled: torch.Tensor, n_train: int, epochs: int, seed: int, scale: float):
    """The tutorial's loop; (training seconds, one-step validation MAE) as it goes."""
    model, x_all, y_all, steps = plain_steps(scaled, n_train, epochs, seed)
    curve, seconds, start = [], 0.0, time.perf_counter()
    for batch, last in steps:
        if batch % EVERY == 0 or last:
            seconds += time.perf_counter() - start
            curve.append((seconds, one_step_mae(model, x_all, y_all, n_train, scale)))
            start = time.perf_counter()
    return model, curve


def one_step_mae(model, x_all, y_all, n_train: int, scale: float) -> float:
    """Mean absolute error (m/s) of the next row from each validation window, read from a
    zero state as every mode's rollout reads its warm-up."""
    training = model.training
    model.eval()
    errors = [(model(x_all[first : first + 1024])[0] - y_all[first : first + 1024]).abs().sum()
              for first in range(n_train - WINDOW, len(x_all), 1024)]
    model.train(training)
    return float(sum(errors)) / (len(x_all) - n_train + WINDOW) * scale


def train_mode(wind, settings: dict, x_all, y_all, n_train: int, scale: float):
    """Train through the library; (training seconds, one-step validation MAE) as it goes."""
    run = ww.prepare(wind, **settings)
    curve, measuring = [], [0.0]

    def measure(event, progress):
        if event is Event.EPOCH_END or (event is Event.BATCH_END and progress.batch % EVERY == 0):
            start = time.perf_counter()
            curve.append((progress.seconds - measuring[0],
                          one_step_mae(run.model, x_all, y_all, n_train, scale)))
            measuring[0] += time.perf_counter() - start

    run.trainer.events.subscribe(measure)
    run.fit()
    return run, curve


def rolled_mae(model, encoded, n_train: int, carry: bool, scaler, observed: np.ndarray, season: int):
    """MAE of rolled forecasts of each length in LEADS (origins every 24 rows of the
    validation part), and seasonal naive's from the same origins."""
    out = {}
    for steps in LEADS:
        stride = 24 if steps < 100 else 120
        origins = np.arange(n_train, len(observed) - steps + 1, stride)
        predicted = rolled_forecasts(model, encoded, origins, steps, WINDOW, 1, 1, carry)
        values = scaler(predicted)[..., 0]  # (origins, steps)
        truth = observed[origins[:, None] + np.arange(steps)]
        naive = seasonal_naive(observed[:, None], origins, steps, season)[..., 0]
        out[steps] = (np.abs(values - truth).mean(), np.abs(naive - truth).mean())
    return out


def bare_forecast(model: nn.Module, context: torch.Tensor, steps: int, carry: bool) -> torch.Tensor:
    """A 2,000-step forecast written by hand: re-feed the window, or one LSTM step per step."""
    with torch.no_grad():
        rows = list(context[:, None])  # (1,) each
        if not carry:
            for _ in range(steps):
                y, _ = model(torch.stack(rows[-WINDOW:])[None])  # (1, 1, 1)
                rows.append(y[0, 0])
            return torch.stack(rows[WINDOW:])
        y, state = model.rnn(torch.stack(rows)[None])  # the warm-up, once
        y = model.head(y[:, -1])
        out = [y[0]]
        for _ in range(steps - 1):
            h, state = model.rnn(y[:, None], state)  # one step
            y = model.head(h[:, -1])
            out.append(y[0])
        return torch.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=840)
    parser.add_argument("--epochs", type=int, default=6, help="epochs of each mode")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    parser.add_argument("--modes", default="window,sequence,stateful",
                        help="modes to run, each with optional settings: sequence:free_steps=0")
    parser.add_argument("--forecast", action="store_true", help="also time a 2,000-step forecast")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    wind = ww.datasets.wind(days=args.days)[["speed"]]
    observed = wind["speed"].to_numpy(np.float64)
    n_train = int(round(len(wind) * 0.8))
    mean, scale = observed[:n_train].mean(), observed[:n_train].std()
    scaled = torch.tensor((observed - mean) / scale, dtype=torch.float32)
    x_all, y_all = sliding(scaled[:, None], WINDOW)[:-1], scaled[WINDOW:][:, None, None]
    unscale = lambda values: values.numpy() * scale + mean  # noqa: E731
    rows, spread = [], {}
    for seed in range(args.seeds):
        plain, curve = plain_loop(scaled, n_train, 5, seed, scale)
        best = min(mae for _, mae in curve)
        target = 1.02 * best
        plain_time = next(s for s, mae in curve if mae <= target)
        results = [("plain loop", plain, curve, False, None)]
        for how in args.modes.split(","):
            mode, *extra = how.split(":")  # e.g. sequence:free_steps=0
            settings = dict(target="speed", model="lstm", window=WINDOW, hidden_size=HIDDEN,
                            num_layers=LAYERS, epochs=args.epochs, lr=1e-3, mode=mode, seed=seed,
                            live=False, **{k: int(v) for k, v in (e.split("=") for e in extra)})
            run, mode_curve = train_mode(wind, settings, x_all, y_all, n_train, scale)
            results.append((f"ww {how}", run.model, mode_curve, carries(mode), run))
        for name, model, model_curve, carry, run in results:
            reached = next((s for s, mae in model_curve if mae <= target), math.nan)
            errors = rolled_mae(model, scaled[:, None], n_train, carry, unscale, observed, 24)
            spread.setdefault(name, []).append(errors[24][0])
            epochs = 5 if run is None else len(run.history)
            row = {"seed": seed, "how": name, "epochs": epochs, "s/epoch": model_curve[-1][0] / epochs,
                   "s to target": reached, "speed-up": plain_time / reached,
                   "best MAE": min(mae for _, mae in model_curve)}
            for steps in LEADS:
                row[f"MAE {steps}"] = errors[steps][0]
            row["MAE 500 / snaive"] = errors[500][0] / errors[500][1]
            rows.append(row)
        print(f"seed {seed}: plain loop best one-step MAE {best:.4f} m/s, target {target:.4f}, "
              f"reached by the plain loop after {plain_time:.1f} s", flush=True)
    print(f"rows: {len(wind)} ({n_train} train), window {WINDOW}, lstm {HIDDEN} x {LAYERS}, "
          f"torch threads: {torch.get_num_threads()}; seasonal naive MAE 1 / 24 / 500: "
          + " / ".join(f"{errors[s][1]:.3f}" for s in LEADS))
    print(table(rows))
    if args.seeds > 1:
        print(table([{"how": name, "24-step MAE min": min(v), "max": max(v), "spread": max(v) - min(v)}
                     for name, v in spread.items()]))
    if args.forecast:
        forecast_table(results, scaled)


def forecast_table(results, scaled: torch.Tensor) -> None:
    """run.forecast(2000) against the bare loop of the same algorithm, same weights."""
    out = []
    for name, model, _, carry, run in results:
        if run is None:
            continue
        bare = timed(lambda: bare_forecast(model, scaled[-WINDOW:], 2000, carry), 3)
        ours = timed(lambda: run.forecast(2000), 3)
        out.append({"how": name, "bare loop s": bare, "run.forecast s": ours, "ratio": ours / bare})
    print(table(out))


if __name__ == "__main__":
    main()
