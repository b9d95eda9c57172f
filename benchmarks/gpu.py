"""Training on CUDA against the CPU, and a file saved on the GPU loaded on the CPU.

For lstm and gru (hidden 64 x 2, window 48, wind speed with temperature and pressure), in
each training mode: seconds per epoch on CUDA and on the CPU, then a 500-step forecast on
CUDA, a save, a load on the CPU and the same forecast there; the table gives the largest
difference. The series lives on the device and batches are gathered there; the one host
sync per batch is the loss read that catches a NaN before the step. Under 5 minutes.

    .venv/bin/python benchmarks/gpu.py [--days 365] [--epochs 3]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import windwidgets as ww
from common import table


def fit(data, device: str, model: str, mode: str, epochs: int):
    start = time.perf_counter()
    run = ww.train(data, target="speed", covariates=["temperature", "pressure"], model=model, mode=mode,
                   window=48, hidden_size=64, num_layers=2, epochs=epochs, device=device, live=False)
    if run.device.type == "cuda":
        torch.cuda.synchronize()
    return run, (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: this benchmark needs one (the test suite does not)")
    data = ww.datasets.wind(days=args.days)
    for device in ("cuda", "cpu"):  # the CUDA context, cuDNN and the thread pools start outside the timings
        for model, mode in (("lstm", "window"), ("gru", "sequence")):
            fit(data.iloc[:500], device, model, mode, 1)
    rows = []
    for model in ("lstm", "gru"):
        for mode in ("window", "sequence"):
            gpu, gpu_seconds = fit(data, "cuda", model, mode, args.epochs)
            _, cpu_seconds = fit(data, "cpu", model, mode, 1)
            before = gpu.forecast(500)
            with tempfile.TemporaryDirectory() as folder:
                path = gpu.save(Path(folder) / "run.pt")
                after = ww.load(path, device="cpu").forecast(500)
            rows.append({"model": model, "mode": mode, "cuda s/epoch": gpu_seconds,
                         "cpu s/epoch": cpu_seconds, "speed-up": cpu_seconds / gpu_seconds,
                         "best val loss": float(gpu.history["val_loss"].min()),
                         "cuda vs cpu forecast max diff": float(np.abs(before - after).to_numpy().max())})
    print(f"device: {torch.cuda.get_device_name()}, rows: {len(data)}, torch {torch.__version__}, "
          f"cpu threads: {torch.get_num_threads()}")
    print(table(rows))


if __name__ == "__main__":
    main()
