"""Rollout of 10,000 steps carrying the hidden state, against re-feeding the window each step.

Both use the same trained one-step model (2-layer LSTM, hidden 64, window 48) and the same
rollout code; only the mode that decides the rollout differs. This measures speed only: a
window-trained model must re-read its window and a sequence-trained one may carry its state,
so for a given model only one of the two forecasts is right. Target: carrying >= 20x faster.

    .venv/bin/python benchmarks/rollout.py [--steps 10000] [--window 48]
"""
import argparse

import torch

import windwidgets as ww
from common import table, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    wind = ww.datasets.wind(days=30)
    rows = []
    for model in ("lstm", "gru", "rnn"):
        run = ww.train(wind, target="speed", model=model, window=args.window, hidden_size=64,
                       num_layers=2, epochs=1, mode="sequence", live=False, device=args.device)
        carried = timed(lambda: run.forecast(args.steps), repeats=2)
        run.config.train.mode = "window"
        reread = timed(lambda: run.forecast(args.steps), repeats=1)
        run.config.train.mode = "sequence"
        rows.append({"model": model, "steps": args.steps, "carry state s": carried,
                     "re-feed window s": reread, "speed-up": reread / carried,
                     "us/step carried": 1e6 * carried / args.steps})
    print(f"device: {run.device}, window: {args.window}, torch threads: {torch.get_num_threads()}")
    print(table(rows))


if __name__ == "__main__":
    main()
