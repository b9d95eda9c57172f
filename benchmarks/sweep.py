"""Ray sweeps on this machine: trials per minute with 1 and 2 trials at a time, and what a
Ray trial costs over a plain ``ww.train`` of the same settings.

    ../.venv/bin/python sweep.py          # needs windwidgets[ray]; about two minutes on 2 cores
"""
import time

import windwidgets as ww
from common import table
from windwidgets.scale import RaySession

SPACE = {"model": ["lstm", "gru"], "lr": [1e-3, 1e-2]}  # a 4-trial grid
SETTINGS = dict(target="y", window=8, hidden_size=8, num_layers=1, epochs=2, live=False)


def main() -> None:
    data = ww.datasets.sine(n=400)
    start = time.perf_counter()
    for model in SPACE["model"]:
        for lr in SPACE["lr"]:
            ww.train(data, model=model, lr=lr, **SETTINGS)
    plain = time.perf_counter() - start
    rows = []
    for cpus in (1, 2):
        start = time.perf_counter()
        session = RaySession(num_cpus=cpus).__enter__()
        ray_start = time.perf_counter() - start
        try:
            start = time.perf_counter()
            ww.sweep(data, SPACE, **SETTINGS)
            seconds = time.perf_counter() - start
        finally:
            session.__exit__(None, None, None)
        rows.append({"trials at a time": cpus, "Ray start s": ray_start, "4 trials s": seconds,
                     "trials/min": 4 * 60 / seconds, "overhead per trial s": (seconds - plain) / 4})
    print(table(rows))
    print(f"the same 4 fits with ww.train: {plain:.2f}s")


if __name__ == "__main__":
    main()
