"""Writes the run files (and their forecasts) that tests/test_files.py loads: files saved by an
earlier version must load and forecast the same. Run once, with the version whose files they
are (these came from the version before the one data pipeline): python tests/files/make_files.py
"""
from pathlib import Path

import numpy as np
import pandas as pd

import windwidgets as ww

HERE = Path(__file__).parent
TINY = dict(hidden_size=8, num_layers=1, window=12, epochs=2, batch_size=32, live=False)


def panel() -> pd.DataFrame:
    wind = ww.datasets.wind(days=12)
    parts = []
    for key, shift in (("T1", 0.0), ("T2", 1.5)):
        part = wind[["speed", "temperature"]].copy()
        part["speed"] += shift
        part["turbine"] = key
        parts.append(part.rename_axis("time").reset_index())
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    wind = ww.datasets.wind(days=12)
    runs = {
        "single": ww.train(wind, target="speed", covariates="temperature", **TINY),
        "panel": ww.train(panel(), target="speed", covariates="temperature", series="turbine", time="time",
                          **TINY),
        "ensemble": ww.train(wind, target="speed", ensemble=2, **TINY),
        "grid": ww.train(ww.datasets.grid(n=120, size=6), model="convlstm", window=6, epochs=1, hidden_size=4,
                         live=False),
    }
    for name, run in runs.items():
        run.save(HERE / f"{name}.pt")
        forecast = run.forecast(6)
        frame = forecast.frame if hasattr(forecast, "frame") else forecast
        frame.to_csv(HERE / f"{name}_forecast.csv")


if __name__ == "__main__":
    main()
