"""What a sweep's trial costs beyond its own fit, once Ray is up.

Eight small trials (lstm and gru, two learning rates, hidden 4 and 8; window 8, 2 epochs on
``sine(n=400)``), one at a time, against the same eight ``ww.train`` fits run here. Ray is
started once (its start is timed apart) and kept between sweeps (``keep_ray=True``): the
first sweep also starts the worker and imports torch and windwidgets in it; the next ones
find it ready. The overhead per trial is (the sweep's wall time - the sum of the trials' own
fit times) / 8; next to it, (the sweep's wall time - the eight fits here) / 8.

    .venv/bin/python benchmarks/sweep_overhead.py [--sweeps 3] [--num-cpus 2]   # needs windwidgets[ray]
"""
import argparse
import time

import windwidgets as ww
from common import table
from windwidgets.scale import RaySession

SPACE = {"model": ["lstm", "gru"], "lr": [1e-3, 1e-2], "hidden_size": [4, 8]}  # an 8-trial grid
SETTINGS = dict(target="y", window=8, num_layers=1, epochs=2, live=False)


def fits_here(data) -> tuple:
    """(wall seconds, the sum of the fits' own seconds) of the grid's fits with ``ww.train``."""
    start, own = time.perf_counter(), 0.0
    for model in SPACE["model"]:
        for lr in SPACE["lr"]:
            for hidden_size in SPACE["hidden_size"]:
                own += ww.train(data, model=model, lr=lr, hidden_size=hidden_size, **SETTINGS).progress.seconds
    return time.perf_counter() - start, own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweeps", type=int, default=3, help="sweeps in a row on the same Ray")
    parser.add_argument("--num-cpus", type=int, default=2)
    args = parser.parse_args()
    data = ww.datasets.sine(n=400)
    fits_here(data)  # a warm-up: imports and first calls, as the worker's first sweep pays them
    here, here_own = fits_here(data)
    start = time.perf_counter()
    session = RaySession(num_cpus=args.num_cpus, keep=True).__enter__()
    ray_start = time.perf_counter() - start
    rows = []
    try:
        for number in range(1, args.sweeps + 1):
            start = time.perf_counter()
            result = ww.sweep(data, SPACE, concurrent_trials=1, keep_ray=True, **SETTINGS)
            wall = time.perf_counter() - start
            own = sum(row["seconds"] for record in result.records.values() for row in record["history"])
            trials = len(result.records)
            rows.append({"sweep": number, "trials": trials, "wall s": wall, "trials' fits s": own,
                         "overhead per trial s": (wall - own) / trials,
                         "vs ww.train here, per trial s": (wall - here) / trials})
    finally:
        session.keep = False
        session.__exit__(None, None, None)
    print(f"Ray start (num_cpus={args.num_cpus}): {ray_start:.1f} s; the 8 fits with ww.train here: {here:.2f} s "
          f"wall, {here_own:.2f} s in the fits")
    print(table(rows))


if __name__ == "__main__":
    main()
