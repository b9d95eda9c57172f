"""Seconds per epoch of ww.train against a plain hand-written PyTorch loop.

Same data (wind speed, window 48), same model (2-layer LSTM, hidden 64), same batches
(gathered by index from one windowed tensor), Adam and MSE, a validation pass after each
epoch; the hand loop is the tightest reasonable one, not a DataLoader over a Dataset.
ww.train's time includes its data checks, scaling and model build. Target: ratio <= 1.05 on CPU.

    .venv/bin/python benchmarks/train_speed.py [--epochs 3] [--device cpu] [--threads 1]

A second table times the peephole LSTM (windwidgets.zoo.peephole) against the fused
nn.LSTM in ww.train, with and without the rolled forecasts that score each epoch.
"""
import argparse

import torch
from torch import nn

import windwidgets as ww
from windwidgets.data.windows import sliding
from common import table, timed


def hand_loop(series: torch.Tensor, n_train: int, window: int, epochs: int, clip: float | None,
              device: torch.device) -> None:
    torch.manual_seed(0)
    series = series.to(device)
    x_all = sliding(series[:, None], window)[:-1]  # (windows, window, 1)
    y_all = series[window:][:, None, None]  # (windows, 1, 1)
    val = slice(n_train - window, None)
    lstm = nn.LSTM(1, 64, 2, batch_first=True).to(device)
    head = nn.Linear(64, 1).to(device)
    parameters = list(lstm.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        lstm.train()
        order = torch.randperm(n_train - window, generator=generator).to(device)
        for first in range(0, len(order), 64):
            index = order[first : first + 64]
            x, y = x_all[index], y_all[index]
            out, _ = lstm(x)  # (batch, window, 64)
            loss = nn.functional.mse_loss(head(out[:, -1])[:, None], y)
            optimizer.zero_grad()
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(parameters, clip)
            optimizer.step()
            loss.item()
        lstm.eval()
        with torch.no_grad():
            for first in range(val.start, len(x_all), 256):
                out, _ = lstm(x_all[first : first + 256])  # (batch, window, 64)
                nn.functional.mse_loss(head(out[:, -1])[:, None], y_all[first : first + 256]).item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = ww.api.resolve_device(args.device)
    wind = ww.datasets.wind(days=args.days)[["speed"]]
    speed = torch.tensor(wind["speed"].to_numpy())
    scaled = (speed - speed[: int(len(speed) * 0.8)].mean()) / speed[: int(len(speed) * 0.8)].std()
    n_train = int(round(len(wind) * 0.8))
    settings = dict(target="speed", window=48, hidden_size=64, num_layers=2, batch_size=64, mode="window",
                    epochs=args.epochs, live=False, device=args.device)
    rows = []
    for clip in (None, 1.0):
        hand = timed(lambda: hand_loop(scaled.float(), n_train, 48, args.epochs, clip, device), args.repeats)
        ours = timed(lambda: ww.train(wind, clip_grad=clip, **settings), args.repeats)
        rows.append({"clip_grad": str(clip), "hand loop s/epoch": hand / args.epochs,
                     "ww.train s/epoch": ours / args.epochs, "ratio": ours / hand})
    print(f"device: {device}, rows: {len(wind)}, windows per epoch: {n_train - 48}, "
          f"torch threads: {torch.get_num_threads()}")
    print(table(rows))
    print("\nPeephole LSTM against the fused nn.LSTM (ww.train, the same settings; target <= 1.5x):")
    print(table(peephole_rows(wind, settings, args.repeats)))


def peephole_rows(wind, settings: dict, repeats: int) -> list:
    """Seconds per epoch of each model as ``ww.train`` runs it (which also scores rolled
    day-ahead forecasts of the validation part after each epoch, all forward passes), and
    with that scoring left out (``forecast_steps=1``): the training batches and one
    validation pass."""
    rows = []
    for scoring, extra in (("with day-ahead scoring", {}), ("training + validation only", {"forecast_steps": 1})):
        seconds = {model: timed(lambda: ww.train(wind, model=model, **settings, **extra), repeats) / settings["epochs"]
                   for model in ("lstm", "peephole_lstm")}
        rows.append({"epoch": scoring, "lstm s/epoch": seconds["lstm"],
                     "peephole_lstm s/epoch": seconds["peephole_lstm"],
                     "ratio": seconds["peephole_lstm"] / seconds["lstm"]})
    return rows


if __name__ == "__main__":
    main()
