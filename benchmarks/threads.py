"""CPU threads of a fit while other work shares the machine: ``threads="auto"`` against torch's
own count and against one thread.

A model of 13 outputs and a block of 50 (the reactor's auxiliaries, an LSTM of hidden 32:
over 10,000 weights, so "auto" reads the load average) trains for a few epochs with each
choice, in this process, one after another, while ``--busy`` processes spin on the CPU. The
table gives the seconds per epoch (the fastest of the epochs after the first) and the ratio to
one thread.

    .venv/bin/python benchmarks/threads.py [--busy 2] [--epochs 4]
"""
import argparse
import multiprocessing
import os
import time
import warnings

import torch

import windwidgets as ww
from common import table
from windwidgets.train.threads import fit_threads


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=2, help="processes spinning on the CPU meanwhile")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    reactor = ww.datasets.reactor(n=3000)
    aux = [c for c in reactor.columns if c != "key"]
    spinners = [multiprocessing.Process(target=spin, args=(600,), daemon=True) for _ in range(args.busy)]
    for process in spinners:
        process.start()
    time.sleep(65 if args.busy else 0)  # the load average reads the last minute
    rows = []
    try:
        for threads in (torch.get_num_threads(), "auto", 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = ww.train(reactor, target=aux, window=50, horizon=50, hidden_size=32, num_layers=1,
                               epochs=args.epochs, live=False, threads=threads)
            chosen = fit_threads(threads, run.model, torch.device("cpu")) or torch.get_num_threads()
            rows.append({"threads": str(threads), "ran on": chosen,
                         "s/epoch": float(run.history["seconds"].iloc[1:].min())})
    finally:
        for process in spinners:
            process.terminate()
    single = rows[-1]["s/epoch"]
    for row in rows:
        row["vs one thread"] = row["s/epoch"] / single
    print(f"{os.cpu_count()} CPUs, {args.busy} busy processes, load average {os.getloadavg()[0]:.1f}")
    print(table(rows))


if __name__ == "__main__":
    main()
