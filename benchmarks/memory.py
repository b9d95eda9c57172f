"""Peak memory training on a 10,000,000-row series with window 168. Target: under 2 GB.

Each case runs in a fresh process and reports its peak resident memory (ru_maxrss). The
fit stops itself after a few hundred batches: the peak is reached once the data is
prepared and the first batches are gathered, and a full epoch would take hours on a CPU.
The baseline process only builds the same DataFrame, so the difference is what training adds.

    .venv/bin/python benchmarks/memory.py [--rows 10000000] [--window 168]
"""
import argparse
import json
import subprocess
import sys

from common import table

CASE = r"""
import json, resource, sys
import windwidgets as ww
rows, window, fit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "fit"
data = ww.datasets.sine(n=rows, noise=0.1)
if fit:
    from windwidgets.config import RunConfig
    from windwidgets.train import Event
    run = ww.prepare(data, window=window, hidden_size=32, num_layers=1,
                      epochs=1, batch_size=256, val_fraction=0.002, mode="window", live=False)
    run.trainer.events.subscribe(
        lambda event, p: run.stop() if event is Event.BATCH_END and p.batch >= 200 else None)
    run.fit()
    run.forecast(100)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mb": peak_mb}))
"""


def peak(rows: int, window: int, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", CASE, str(rows), str(window), mode],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_mb"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--window", type=int, default=168)
    args = parser.parse_args()
    base = peak(args.rows, args.window, "data")
    fitted = peak(args.rows, args.window, "fit")
    naive_gb = args.rows * args.window * 4 / 1e9  # every window copied, float32
    print(table([
        {"case": "DataFrame only", "peak MB": base},
        {"case": "ww.train (prepare + 200 batches + forecast)", "peak MB": fitted},
        {"case": "training adds", "peak MB": fitted - base},
        {"case": "copied windows would need", "peak MB": naive_gb * 1000},
    ]))
    print(f"rows: {args.rows:,}, window: {args.window}; target: peak under 2048 MB -> "
          f"{'met' if fitted < 2048 else 'NOT met'}")


if __name__ == "__main__":
    main()
