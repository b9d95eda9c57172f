"""Seconds per epoch of every zoo model at the same hidden size, and the peephole LSTM
against torch's fused LSTM.

Table models train on the wind data (speed from its own history and three covariates,
window 48, horizon 1; seq2seq with horizon 6 and the covariates known ahead); convlstm on
ww.datasets.grid() (16 x 16 moving blobs, window 12). Every model: hidden 64, 2 layers,
batch 64, Adam; a fit's time includes its validation pass. Target for peephole_lstm: at most
2x the seconds per epoch of lstm on the CPU.

    .venv/bin/python benchmarks/zoo.py [--epochs 2] [--days 60] [--hidden 64] [--device cpu]
        [--threads N] [--repeats 2] [--models lstm,peephole_lstm]

On a machine shared with other work, time with more repeats (the fastest is kept).
"""
import argparse

import torch

import windwidgets as ww
from common import table, timed


def seconds_per_epoch(data, epochs: int, repeats: int, **settings) -> float:
    return timed(lambda: ww.train(data, epochs=epochs, live=False, **settings), repeats) / epochs


def layer_step(layer, x: torch.Tensor) -> float:
    """Seconds for one forward and backward pass of a recurrent layer alone."""
    def step():
        out, _ = layer(x)  # (batch, time, hidden)
        out[:, -1].sum().backward()
    step()
    return timed(step, 5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--models", default=None, help="comma-separated subset; lstm is always timed")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    wind = ww.datasets.wind(days=args.days)
    common = dict(hidden_size=args.hidden, num_layers=2, batch_size=64, mode="window", device=args.device)
    table_settings = dict(target="speed", covariates=["temperature", "pressure", "direction"], window=48, **common)
    runs = {
        "rnn": (wind, table_settings), "lstm": (wind, table_settings), "gru": (wind, table_settings),
        "peephole_lstm": (wind, table_settings), "cnn_lstm": (wind, table_settings),
        "seq2seq": (wind, dict(target="speed", future_covariates=["temperature", "pressure", "direction"],
                               window=48, horizon=6, **common)),
        "convlstm": (ww.datasets.grid(n=600, size=16), dict(window=12, **common)),
    }
    if args.models:
        keep = set(args.models.split(",")) | {"lstm"}
        runs = {name: run for name, run in runs.items() if name in keep}
    rows = []
    for name, (data, settings) in runs.items():
        seconds = seconds_per_epoch(data, args.epochs, args.repeats, model=name, **settings)
        rows.append({"model": name, "data": "grid 16x16" if name == "convlstm" else "wind",
                     "s/epoch": seconds})
    lstm = next(r["s/epoch"] for r in rows if r["model"] == "lstm")
    for row in rows:
        row["vs lstm"] = row["s/epoch"] / lstm if row["data"] == "wind" else float("nan")
    print(f"device: {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"wind rows: {len(wind)}, hidden {args.hidden} x 2 layers, {args.epochs} epochs")
    print(table(rows))

    from windwidgets.zoo.peephole import PeepholeLSTM

    torch.manual_seed(0)
    x = torch.randn(64, 48, 4, device=args.device)
    fused = layer_step(torch.nn.LSTM(4, args.hidden, 2, batch_first=True).to(args.device), x)
    ours = layer_step(PeepholeLSTM(4, args.hidden, 2).to(args.device), x)
    peephole = next((r["s/epoch"] for r in rows if r["model"] == "peephole_lstm"), float("nan"))
    print(f"\npeephole_lstm / lstm, seconds per epoch of ww.train: {peephole / lstm:.2f}x (target <= 2x)")
    print(f"PeepholeLSTM / nn.LSTM, one forward+backward of the layers (batch 64, window 48): "
          f"{ours * 1e3:.1f} ms / {fused * 1e3:.1f} ms = {ours / fused:.2f}x")


if __name__ == "__main__":
    main()
